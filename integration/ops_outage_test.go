package integration

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/orchestrator"
	"github.com/sluicedata/sluice/internal/run"
)

// outageLength is how long the history database stays unreachable.
const outageLength = 30 * time.Second

// TestHistoryOutageLosesNothing gives the worker its history database
// through a TCP proxy, cuts the proxy for 30 s once the run's first task is
// recorded (the warehouse stays up), and restores it. The tasks carry on
// during the outage (their progress writes fail and are dropped), the run
// waits for its final history write, which lands once the database is back,
// and history then holds the run, every task and every attempt with its
// error.
func TestHistoryOutageLosesNothing(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, opsProject)
	direct, err := url.Parse(sb.historyURL)
	require.NoError(t, err)
	proxy := startProxy(t, direct.Host)
	proxied := *direct
	proxied.Host = proxy.addr
	sb.configure = func(c *orchestrator.Config) { c.DatabaseURL = proxied.String() }
	sb.startWorker()
	s := sb.openStore(t) // the test reads history directly
	ctx := context.Background()

	code, out := sb.sluice("run", "outage", "--date", "2026-11-04")
	require.Equal(t, 0, code, out)
	id := "sluice/outage/local/2026-11-04"
	waitFor(t, 30*time.Second, "the first task in history", func() bool {
		st, err := s.GetRun(ctx, id, "")
		return err == nil && st.Task("first") != nil && st.Task("first").State == dag.Success
	})
	proxy.cut()
	cutAt := time.Now()
	t.Logf("history database cut at %s", cutAt.Format(time.TimeOnly))

	// The tasks run on: the last one ends while history is unreachable.
	waitForTask(t, sb, id, "last", dag.Success)
	tasksDone := time.Now()
	require.Less(t, tasksDone.Sub(cutAt), outageLength-5*time.Second, "tasks did not wait for history")
	mid, err := s.GetRun(ctx, id, "")
	require.NoError(t, err)
	require.Equal(t, dag.StatusRunning, mid.Status, "nothing reached history during the outage")
	require.NotEqual(t, dag.Success, mid.Task("last").State)

	time.Sleep(time.Until(cutAt.Add(outageLength)))
	desc, err := sb.client.DescribeWorkflowExecution(ctx, id, "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.GetWorkflowExecutionInfo().GetStatus(),
		"the run waits for its final history write")
	proxy.restore()
	restoredAt := time.Now()
	t.Logf("history database back at %s", restoredAt.Format(time.TimeOnly))

	var result run.Status
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	require.NoError(t, sb.client.GetWorkflow(wctx, id, "").Get(wctx, &result))
	require.Equal(t, dag.StatusSuccess, result.Status)

	msg := "warehouse unavailable: ERROR: could not serialize access due to concurrent update (SQLSTATE 40001)"
	require.Equal(t, historyRows{
		Run: []string{"outage", "local", "MANUAL", "SUCCESS", "", ""},
		Tasks: [][]string{
			{"first", "sql", "SUCCESS", "1", "", "", "", "ran"},
			{"gate", "noop", "SUCCESS", "1", "", "", "", "ran"},
			{"flaky", "sql", "SUCCESS", "2", "", "", "", "ran"},
			{"branch", "noop", "SUCCESS", "1", "", "", "", "ran"},
			{"last", "sql", "SUCCESS", "1", "", "", "", "ran"},
		},
		Attempts: [][]string{
			{"branch", "1", "SUCCESS", "", ""},
			{"first", "1", "SUCCESS", "", ""},
			{"flaky", "1", "FAILED", "WarehouseUnavailable", msg},
			{"flaky", "2", "SUCCESS", "", ""},
			{"gate", "1", "SUCCESS", "", ""},
			{"last", "1", "SUCCESS", "", ""},
		},
		Errors: [][]string{{"flaky", "1", "WarehouseUnavailable", msg, ""}},
	}, dumpHistory(t, s, id))

	final, err := s.GetRun(ctx, id, "")
	require.NoError(t, err)
	require.True(t, final.Task("last").EndedAt.Before(restoredAt), "history has the times the tasks really ended")
	require.False(t, final.EndedAt.Before(final.Task("last").EndedAt))
	require.Equal(t, [][]any{{int64(2)}}, sb.query("SELECT count(*) FROM outage_attempts"), "flaky ran twice, during the outage")
}
