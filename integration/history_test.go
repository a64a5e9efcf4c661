package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/workflows"
)

// checkReplay fetches a finished run's history, replays it against the
// current workflow code (a nondeterminism error fails the test), and with
// SLUICE_UPDATE_HISTORIES=1 saves it under workflows/testdata/histories/ for
// the committed replay tests.
func checkReplay(t *testing.T, sb *sandbox, id, name string) {
	t.Helper()
	ctx := context.Background()
	iter := sb.client.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for iter.HasNext() {
		e, err := iter.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, e)
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.RunPipeline, workflow.RegisterOptions{Name: run.WorkflowName})
	r.RegisterWorkflowWithOptions(workflows.Backfill, workflow.RegisterOptions{Name: workflows.BackfillWorkflowName})
	require.NoError(t, r.ReplayWorkflowHistory(nil, &h), "replaying %s", id)

	if os.Getenv("SLUICE_UPDATE_HISTORIES") == "" {
		return
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(&h)
	require.NoError(t, err)
	path := filepath.Join("..", "workflows", "testdata", "histories", name+".json")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, b, 0o644))
	t.Logf("saved %s", path)
}
