package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
)

// TestReadmeSignalApproveRecipes runs olist_daily for a date, which starts
// olist_report through its after: trigger; then the README's recipes signal
// it (signal-with-start finds it running), approve it and read its result,
// exactly as written; then the cancel recipe stops a second report run.
func TestReadmeSignalApproveRecipes(t *testing.T) {
	t.Parallel()
	sb, _ := olistSandbox(t)
	sb.startWorker()
	code, out := sb.sluice("run", "olist_daily", "--date", "2026-11-22", "--param", "orders=1000", "--wait")
	require.Equal(t, 0, code, out)

	daily, err := sb.store.GetRun(context.Background(), "sluice/olist_daily/local/2026-11-22", "")
	require.NoError(t, err)
	require.Equal(t, dag.StatusSuccess, daily.Status)
	id := "sluice/olist_report/local/2026-11-22"
	waitForTask(t, sb, id, "rates_ready", dag.Running)
	st := status(t, sb, id)
	require.Equal(t, run.TriggerChained, st.Trigger, "olist_report was started by olist_daily's success")

	sb.runRecipe(t, "signal-with-start")
	waitForTask(t, sb, id, "publish_ok", dag.Running)
	require.Equal(t, "waiting for approval: publish the daily sales report?", status(t, sb, id).Task("publish_ok").Waiting)
	require.Equal(t, [][]any{{false}}, sb.query("SELECT published FROM report.daily_sales WHERE day = '2026-11-22'"))

	out = sb.runRecipe(t, "approve")
	require.Contains(t, out, "Result    map[decision:approve state:SUCCESS task:publish_ok]")
	require.Regexp(t, `Result\s+\{.*"status":"SUCCESS"`, out)
	require.Equal(t, [][]any{{true}}, sb.query("SELECT published FROM report.daily_sales WHERE day = '2026-11-22'"))
	st = status(t, sb, id)
	require.Equal(t, "ana@example.com", st.Task("publish_ok").Output["approved_by"])
	require.Equal(t, "daily sales for 2026-11-22 published, approved by ana@example.com", st.Task("announce").Output["message"])
	checkReplay(t, sb, id, "olist_report_signal_approve")
	checkReplay(t, sb, "sluice/olist_daily/local/2026-11-22", "olist_daily_success")

	// A second approval is refused with the reason.
	_, err = sb.temporal("workflow", "update", "execute", "--workflow-id", id, "--name", "approve",
		"--input", `{"task":"publish_ok","by":"bob@example.com"}`)
	require.Error(t, err, "the run has ended: updates are refused")

	// The cancel recipe: a report run for the next day, waiting for its rates.
	code, out = sb.sluice("run", "olist_report", "--date", "2026-11-23")
	require.Equal(t, 0, code, out)
	waitForTask(t, sb, "sluice/olist_report/local/2026-11-23", "rates_ready", dag.Running)
	sb.runRecipe(t, "signal")
	waitForTask(t, sb, "sluice/olist_report/local/2026-11-23", "publish_ok", dag.Running)
	require.Equal(t, "data-ready", status(t, sb, "sluice/olist_report/local/2026-11-23").Task("rates_ready").Output["signal"])
	sb.runRecipe(t, "cancel")
	code, out = sb.sluice("status", "sluice/olist_report/local/2026-11-23", "--wait")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "olist_report in local: CANCELED")
	require.Regexp(t, `rates_ready\s+wait_for\s+SUCCESS`, out)
	require.Regexp(t, `publish_ok\s+approval\s+CANCELED`, out, "the approval it was waiting for is canceled")
}

// TestApprovalRejectedOverTheWire checks the validator's reasons reach a
// caller through the real server.
func TestApprovalRejectedOverTheWire(t *testing.T) {
	t.Parallel()
	sb, _ := olistSandbox(t)
	sb.startWorker()
	code, out := sb.sluice("run", "olist_daily", "--date", "2026-11-24", "--param", "orders=500", "--wait")
	require.Equal(t, 0, code, out)
	id := "sluice/olist_report/local/2026-11-24"
	waitForTask(t, sb, id, "rates_ready", dag.Running)
	out, err := sb.temporal("workflow", "update", "execute", "--workflow-id", id, "--name", "approve",
		"--input", `{"task":"publish_ok","by":"ana@example.com"}`)
	require.Error(t, err)
	require.Contains(t, out, `is not waiting for approval yet (it is PENDING): approve it once its upstream tasks are done`)
	out, err = sb.temporal("workflow", "signal", "--workflow-id", id, "--name", "data-ready", "--input", `{"dataset":"fx_rates","date":"2026-11-24"}`)
	require.NoError(t, err, out)
	waitForTask(t, sb, id, "publish_ok", dag.Running)
	out, err = sb.temporal("workflow", "update", "execute", "--workflow-id", id, "--name", "approve",
		"--input", `{"task":"publish_ok","by":"bob@example.com","decision":"reject","comment":"totals look low"}`)
	require.NoError(t, err, out)
	code, out = sb.sluice("status", id, "--wait")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "publish_ok FAILED: ApprovalRejected: rejected by bob@example.com: totals look low")
}

func status(t *testing.T, sb *sandbox, id string) *run.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := sb.client.QueryWorkflow(ctx, id, "", run.QueryStatus)
	require.NoError(t, err)
	var st run.Status
	require.NoError(t, v.Get(&st))
	return &st
}
