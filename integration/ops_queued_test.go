package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/schedule"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/store"
)

// TestRunsShowsQueuedScheduleStarts triggers the queued pipeline's schedule
// (overlap buffer_one) twice: the first start runs, the second waits in the
// schedule's buffer with no workflow yet. sluice runs shows it as QUEUED,
// waiting for the first, and no QUEUED row before or once the buffer is
// gone. (When the first run ends, Temporal starts the buffered one once the
// schedule's watcher notices; on a busy dev server that took from 25 s to
// over 150 s, so the test does not wait for it.)
func TestRunsShowsQueuedScheduleStarts(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, opsProject)
	sb.startWorker()
	ctx := context.Background()
	s := sb.openStore(t)

	// The schedule as `sluice apply` makes it (sluice/<project>/<pipeline>/<env>).
	id := schedule.ID("ops", "queued", "local")
	h, err := sb.client.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      id,
		Spec:    client.ScheduleSpec{CronExpressions: []string{"0 0 1 1 *"}},
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE,
		Action: &client.ScheduleWorkflowAction{ID: id, Workflow: run.WorkflowName, TaskQueue: spec.QueueDefault,
			Args: []any{run.Input{Pipeline: "queued", Env: "local"}}},
	})
	require.NoError(t, err)

	running := func() []store.RunSummary {
		rs, err := s.ListRuns(ctx, store.RunFilter{Pipeline: "queued", Status: "RUNNING"})
		require.NoError(t, err)
		return rs
	}
	require.NoError(t, h.Trigger(ctx, client.ScheduleTriggerOptions{}))
	waitFor(t, 30*time.Second, "the first scheduled run in history", func() bool { return len(running()) == 1 })
	first := running()[0]
	require.Equal(t, "SCHEDULED", first.Trigger)
	require.True(t, strings.HasPrefix(first.WorkflowID, id+"-"), first.WorkflowID)

	// A run in progress and nothing buffered: nothing is QUEUED.
	code, out := sb.sluice("runs", "--status", "QUEUED", "-o", "json")
	require.Equal(t, 0, code, out)
	require.Equal(t, "[]\n", out)

	require.NoError(t, h.Trigger(ctx, client.ScheduleTriggerOptions{}))
	waitFor(t, 30*time.Second, "a QUEUED row", func() bool {
		code, out = sb.sluice("runs", "--pipeline", "queued")
		require.Equal(t, 0, code, out)
		return strings.Contains(out, "QUEUED")
	})
	require.Regexp(t, `\n-\s+queued\s+local\s+SCHEDULED\s+QUEUED\s+-\s+-\s+schedule sluice/ops/queued/local: 1 start waiting for `+first.WorkflowID+`\n`, out)
	require.Regexp(t, `\n\S+ \S+\s+queued\s+local\s+SCHEDULED\s+RUNNING\s+-\s+-\s+`+first.WorkflowID+`\n`, out)
	require.Equal(t, 1, strings.Count(out, "QUEUED"), out)

	code, out = sb.sluice("runs", "--status", "QUEUED", "-o", "json")
	require.Equal(t, 0, code, out)
	var rows []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	require.Equal(t, []map[string]any{{
		"workflow_id": "", "run_id": "", "pipeline": "queued", "env": "local", "trigger": "SCHEDULED", "status": "QUEUED",
		"started_at": nil, "schedule_id": id, "queued": 1.0, "waiting_for": []any{first.WorkflowID},
	}}, rows)

	// Deleting the schedule drops its buffer; then the first run can end.
	require.NoError(t, h.Delete(ctx))
	code, out = sb.sluice("runs", "--status", "QUEUED", "-o", "json")
	require.Equal(t, 0, code, out)
	require.Equal(t, "[]\n", out)
	require.NoError(t, sb.client.CancelWorkflow(ctx, first.WorkflowID, ""))
}
