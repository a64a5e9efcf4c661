package workflows

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/sluicedata/sluice/internal/run"
)

// TestReplayCommittedHistories replays every history recorded from real runs
// (integration tests with SLUICE_UPDATE_HISTORIES=1) against the current
// code. A change that would break running workflows fails here: put it
// behind workflow.GetVersion and record a new history next to the old ones.
func TestReplayCommittedHistories(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/histories/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no committed histories in testdata/histories")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(RunPipeline, workflow.RegisterOptions{Name: run.WorkflowName})
			r.RegisterWorkflowWithOptions(Backfill, workflow.RegisterOptions{Name: BackfillWorkflowName})
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
