package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/store"
)

func storeFilter(pipeline string) store.RunFilter {
	return store.RunFilter{Pipeline: pipeline, Limit: 50}
}

// TestRepairOlistRerunsOnlyWhatFailed breaks the CDC pipeline of a real
// olist_daily run (a view sits where its SCD2 table goes), fixes it, and
// repairs the run: only the CDC branch and the quality gate run again; data
// generation and the main pipeline are reused, nothing is loaded twice.
func TestRepairOlistRerunsOnlyWhatFailed(t *testing.T) {
	t.Parallel()
	sb, volume := olistSandbox(t)
	sb.startWorker()
	sb.query("CREATE SCHEMA silver")
	sb.query("CREATE VIEW silver.customers_history AS SELECT 1 AS blocker")

	id := "sluice/olist_daily/local/2026-11-05"
	code, out := sb.sluice("run", "olist_daily", "--date", "2026-11-05", "--param", "orders=2000", "--wait")
	require.Equal(t, 1, code, out)
	orig, err := sb.store.GetRun(context.Background(), id, "")
	require.NoError(t, err)
	require.Equal(t, dag.StatusFailed, orig.Status)
	require.Equal(t, dag.Success, orig.Task("generate_data").State)
	require.Equal(t, dag.Success, orig.Task("run_main_pipeline").State)
	require.Equal(t, dag.Failed, orig.Task("run_cdc_pipeline").State)
	require.Equal(t, "DLTUpdateFailed", orig.Task("run_cdc_pipeline").Error.Type)
	require.Len(t, orig.Task("run_cdc_pipeline").Attempts, 1, "a failed DLT update is not retried")
	require.Equal(t, dag.UpstreamFailed, orig.Task("quality_checks").State)
	mainLoaded := sb.query("SELECT max(loaded_at) FROM _sluice.ingested_files WHERE pipeline = 'olist_main'")

	sb.query("DROP VIEW silver.customers_history")
	code, out = sb.sluice("repair", id, "--wait")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "repairing "+id+" as "+id+"/repair-")

	repairs, err := sb.store.ListRuns(context.Background(), storeFilter("olist_daily"))
	require.NoError(t, err)
	var repairID string
	for _, r := range repairs {
		if strings.HasPrefix(r.WorkflowID, id+"/repair-") {
			repairID = r.WorkflowID
			require.Equal(t, "REPAIR", r.Trigger)
			require.Equal(t, id, r.RepairOf)
			require.Equal(t, dag.StatusSuccess, r.Status)
		}
	}
	require.NotEmpty(t, repairID)
	rep, err := sb.store.GetRun(context.Background(), repairID, "")
	require.NoError(t, err)
	require.Equal(t, run.TriggerRepair, rep.Trigger)
	require.Equal(t, id, rep.Task("generate_data").Reused)
	require.Equal(t, id, rep.Task("run_main_pipeline").Reused)
	require.Empty(t, rep.Task("run_cdc_pipeline").Reused)
	require.Equal(t, dag.Success, rep.Task("run_cdc_pipeline").State)
	require.Equal(t, dag.Success, rep.Task("quality_checks").State)
	require.Equal(t, orig.LogicalDate, rep.LogicalDate, "a repair is for the same logical date")
	require.Equal(t, mainLoaded, sb.query("SELECT max(loaded_at) FROM _sluice.ingested_files WHERE pipeline = 'olist_main'"),
		"the main pipeline did not run again")
	checkBronze(t, sb, volume)
	checkSCD2(t, sb, volume)

	checkReplay(t, sb, repairID, "olist_daily_repair")
	list, err := sb.temporal("workflow", "list", "-q", `SluiceTrigger="REPAIR" AND SluicePipeline="olist_daily"`)
	require.NoError(t, err, list)
	require.Contains(t, list, repairID)
	desc, err := sb.temporal("workflow", "describe", "--workflow-id", repairID)
	require.NoError(t, err, desc)
	require.Contains(t, desc, "REPAIR of "+id, "the Web UI shows the lineage")

	// A successful run has nothing to repair.
	code, out = sb.sluice("repair", repairID)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "succeeded: nothing to repair")
}
