package integration

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/databricks/databrickstest"
	"github.com/sluicedata/sluice/internal/orchestrator"
)

// The Databricks end-to-end tests run Sluice pipelines whose environment is
// engine: databricks against a fake workspace (databrickstest, a test double
// speaking the REST API with recorded response shapes), through the real
// dev server, Postgres history and a real worker.

const (
	dbxE2EToken  = "dapi-e2e-token"
	dbxMainID    = "0a1b2c3d-main"
	dbxCDCID     = "0a1b2c3d-cdc"
	dbxExportJob = int64(4242)
	dbxBatch     = "/Volumes/olist/landing/raw/olist/batch=0020261122"
	dbxProject   = "testdata/databricks"
)

// dbxSandbox is a sandbox on testdata/databricks whose dbx environment
// points at a fake workspace holding the two pipelines and the export job.
// The fake's SQL warehouse answers the quality checks as if the pipelines
// had loaded every committed batch.
func dbxSandbox(t *testing.T) (*sandbox, *databrickstest.Server) {
	t.Helper()
	srv := databrickstest.New(t, databrickstest.WithToken(dbxE2EToken), databrickstest.WithUnknownFields())
	srv.AddPipeline(dbxMainID, "olist_main_pipeline")
	srv.AddPipeline(dbxCDCID, "olist_cdc_pipeline")
	srv.AddJob(dbxExportJob, "nightly_export", "export")
	srv.HandleStatements(func(c databrickstest.StatementCall) (databrickstest.StatementScript, bool) {
		n := "0"
		switch {
		case c.Statement == "SELECT count(*) FROM `bronze`.`orders`":
			n = strconv.FormatInt(dbxCommitted(t, srv, "orders"), 10)
		case strings.HasPrefix(c.Statement, "SELECT count(*), coalesce"):
			return dbxCountRow("0", "0"), true
		}
		return dbxCountRow(n), true
	})
	sb := newSandbox(t, dbxProject)
	sb.extraEnv = map[string]string{
		"DBX_HOST": srv.URL, "DBX_TOKEN": dbxE2EToken,
		"SLUICE_DATABRICKS_POLL_INTERVAL": "100ms", "SLUICE_DATABRICKS_RETRY_TIMEOUT": "10s",
	}
	return sb, srv
}

func dbxCountRow(vals ...string) databrickstest.StatementScript {
	s := databrickstest.StatementScript{States: []string{"PENDING", "SUCCEEDED"}}
	row := make([]*string, len(vals))
	for i, v := range vals {
		s.Columns = append(s.Columns, databrickstest.Column{Name: "count(" + strconv.Itoa(i) + ")", Type: "LONG"})
		row[i] = databrickstest.Str(v)
	}
	s.Chunks = [][][]*string{{row}}
	return s
}

// startDBXWorker runs a worker in this process with the sandbox's
// Databricks settings and secrets (default: the token DBX_TOKEN) as files
// of its secrets folder.
func startDBXWorker(t *testing.T, sb *sandbox, secret ...string) {
	t.Helper()
	if len(secret) == 0 {
		secret = []string{"DBX_TOKEN", dbxE2EToken}
	}
	secrets := t.TempDir()
	for i := 0; i+1 < len(secret); i += 2 {
		require.NoError(t, os.WriteFile(filepath.Join(secrets, secret[i]), []byte(secret[i+1]+"\n"), 0o600))
	}
	cfg := orchestrator.ConfigFromEnv(sb.getenv)
	cfg.ProjectDir, cfg.ArtifactsDir, cfg.SecretsDir = sb.project, t.TempDir(), secrets
	cfg = cfg.WithDefaults()
	require.NoError(t, cfg.Validate())
	require.Equal(t, 100*time.Millisecond, cfg.Databricks.PollInterval)
	ctx, cancel := context.WithCancel(context.Background())
	deps, err := orchestrator.NewDependencies(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	deps.Getenv = func(k string) (string, bool) { v, ok := sb.env()[k]; return v, ok }
	sb.store = deps.Store
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := orchestrator.Run(ctx, sb.client, deps); err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait(); deps.Close() })
}

func dbxStates(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(map[string]any)["state"].(string))
	}
	return out
}

func TestDatabricksOlistDaily(t *testing.T) {
	t.Parallel()
	sb, srv := dbxSandbox(t)
	srv.ScriptUpdate(dbxMainID, dbxRunning(5, "COMPLETED")...)
	srv.ScriptUpdate(dbxCDCID, dbxRunning(5, "COMPLETED")...)
	// The workspace rate-limits the job name lookup once.
	srv.InjectFault(databrickstest.Fault{Method: http.MethodGet, Path: "/api/2.2/jobs/list", Status: http.StatusTooManyRequests, RetryAfter: "1"})
	startDBXWorker(t, sb)

	code, out := sb.sluice("run", "olist_daily", "--env", "dbx", "--date", "2026-11-22", "--param", "full_refresh=true", "--wait")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "olist_daily in dbx: SUCCESS")
	id := "sluice/olist_daily/dbx/2026-11-22"
	st, err := sb.store.GetRun(context.Background(), id, "")
	require.NoError(t, err)
	require.Equal(t, dag.StatusSuccess, st.Status)
	for _, tk := range st.Tasks {
		require.Len(t, tk.Attempts, 1, tk.Key)
	}

	// generate_data: the CSV files, then the marker, under the batch directory.
	var puts []string
	for _, r := range srv.RequestsTo(http.MethodPut, "/api/2.0/fs/files/*") {
		puts = append(puts, strings.TrimPrefix(r.Path, "/api/2.0/fs/files"+dbxBatch+"/"))
	}
	require.Equal(t, []string{
		"cdc_customers.csv", "cdc_products.csv", "cdc_sellers.csv",
		"olist_customers_dataset.csv", "olist_geolocation_dataset.csv", "olist_order_items_dataset.csv",
		"olist_order_payments_dataset.csv", "olist_order_reviews_dataset.csv", "olist_orders_dataset.csv",
		"olist_products_dataset.csv", "olist_sellers_dataset.csv", "product_category_name_translation.csv",
		"_SUCCESS",
	}, puts, "every file, then the marker last")
	gen := st.Task("generate_data").Output
	require.Equal(t, dbxBatch, gen["dir"])
	require.Equal(t, float64(200), gen["orders"])
	rows := gen["rows"].(map[string]any)
	require.Equal(t, float64(200), rows["orders"])
	require.Equal(t, rows, gen["totals"], "the first batch in the volume")

	// Both pipelines: one update each, with the task's refresh settings.
	require.Equal(t, []string{`{"cause":"API_CALL","full_refresh":true}`},
		srv.Bodies(t, http.MethodPost, "/api/2.0/pipelines/"+dbxMainID+"/updates"))
	require.Equal(t, []string{`{"cause":"API_CALL","full_refresh":false,"refresh_selection":["customers_history","products_history"]}`},
		srv.Bodies(t, http.MethodPost, "/api/2.0/pipelines/"+dbxCDCID+"/updates"))
	require.Len(t, srv.RequestsTo(http.MethodGet, "/api/2.0/pipelines"), 1, "olist_main_pipeline looked up by name once")
	mainUpdates := srv.Updates(dbxMainID)
	require.Len(t, mainUpdates, 1)
	main := st.Task("run_main_pipeline").Output
	require.Equal(t, dbxMainID, main["pipeline_id"])
	require.Equal(t, mainUpdates[0].ID, main["update_id"])
	require.Equal(t, srv.URL+"/#joblist/pipelines/"+dbxMainID+"/updates/"+mainUpdates[0].ID, main["url"])
	require.Equal(t, []string{"RUNNING", "COMPLETED"}, dbxStates(main["states"]), "the states seen, with durations")
	require.Equal(t, "databricks", main["engine"])
	// The two updates ran side by side: each started before the other ended.
	cdcUpdates := srv.Updates(dbxCDCID)
	require.Len(t, cdcUpdates, 1)
	mainPoll := "/api/2.0/pipelines/" + dbxMainID + "/updates/" + mainUpdates[0].ID
	cdcPoll := "/api/2.0/pipelines/" + dbxCDCID + "/updates/" + cdcUpdates[0].ID
	require.Less(t, dbxRequestIndex(t, srv, http.MethodPost, "/api/2.0/pipelines/"+dbxCDCID+"/updates", false),
		dbxRequestIndex(t, srv, http.MethodGet, mainPoll, true))
	require.Less(t, dbxRequestIndex(t, srv, http.MethodPost, "/api/2.0/pipelines/"+dbxMainID+"/updates", false),
		dbxRequestIndex(t, srv, http.MethodGet, cdcPoll, true))

	// quality_checks: one statement per check query, on the environment's
	// warehouse, catalog and schema, in Databricks SQL.
	var queries []string
	for _, s := range srv.Statements() {
		require.Equal(t, databrickstest.StatementCall{Statement: s.Call.Statement, WarehouseID: "wh-e2e", Catalog: "olist", Schema: "silver",
			WaitTimeout: "10s", OnWaitTimeout: "CONTINUE", Disposition: "INLINE", Format: "JSON_ARRAY"}, s.Call)
		queries = append(queries, s.Call.Statement)
	}
	require.Equal(t, []string{
		"SELECT count(*) FROM `bronze`.`orders`",
		"SELECT count(*) FROM `silver`.`orders` WHERE `order_id` IS NULL",
		"SELECT count(*), coalesce(sum(n_rows), 0) FROM (SELECT count(*) AS n_rows FROM `silver`.`orders` WHERE `order_id` IS NOT NULL GROUP BY `order_id` HAVING count(*) > 1) AS duplicates",
	}, queries)
	qc := st.Task("quality_checks").Output
	require.Equal(t, float64(3), qc["passed"])
	require.Equal(t, "row count 200 is within bounds (min 200, max 200)", qc["checks"].([]any)[0].(map[string]any)["message"])

	// export: run-now with the job parameters and a token derived from the
	// workflow, run and task.
	require.Len(t, srv.RequestsTo(http.MethodGet, "/api/2.2/jobs/list"), 2, "nightly_export looked up by name: 429, then success")
	runs := srv.Runs(dbxExportJob)
	require.Len(t, runs, 1)
	require.Equal(t, databricks.IdempotencyToken(id, st.RunID, "export"), runs[0].IdempotencyToken)
	require.Equal(t, map[string]string{"date": "2026-11-22", "orders": "200"}, runs[0].Parameters)
	export := st.Task("export").Output
	require.Equal(t, "SUCCESS", export["outcome"])
	require.Equal(t, float64(runs[0].ID), export["run_id"])

	// The same date again: the batch is committed, so nothing is uploaded.
	before := len(srv.RequestsTo(http.MethodPut, "*"))
	code, out = sb.sluice("run", "olist_daily", "--env", "dbx", "--date", "2026-11-22", "--only", "generate_data", "--wait")
	require.Equal(t, 0, code, out)
	require.Len(t, srv.RequestsTo(http.MethodPut, "*"), before)
	again, err := sb.store.GetRun(context.Background(), id, "")
	require.NoError(t, err)
	require.Equal(t, true, again.Task("generate_data").Output["already_written"])
	require.Equal(t, rows, again.Task("generate_data").Output["rows"])
}

// TestDatabricksExampleProd runs the example project's olist_daily in its
// prod environment, configured as the README says (host, OAuth M2M client id
// and secret, warehouse id from the worker's environment and secrets),
// against the fake workspace.
func TestDatabricksExampleProd(t *testing.T) {
	t.Parallel()
	srv := databrickstest.New(t, databrickstest.WithOAuthClient("sp-sluice-prod", "sp-secret-value"), databrickstest.WithUnknownFields())
	srv.AddPipeline("0a1b2c3d-main", "olist_main_pipeline")
	srv.AddPipeline("0a1b2c3d-cdc", "olist_cdc_pipeline")
	srv.HandleStatements(func(c databrickstest.StatementCall) (databrickstest.StatementScript, bool) {
		// Bronze holds every committed batch; every other check finds no
		// offending row.
		if table, ok := strings.CutPrefix(c.Statement, "SELECT count(*) FROM `bronze`.`"); ok && strings.HasSuffix(table, "`") {
			return dbxCountRow(strconv.FormatInt(dbxCommitted(t, srv, strings.TrimSuffix(table, "`")), 10)), true
		}
		if strings.HasPrefix(c.Statement, "SELECT count(*), coalesce") {
			return dbxCountRow("0", "0"), true
		}
		return dbxCountRow("0"), true
	})
	sb := newSandbox(t, "../examples/olist")
	sb.extraEnv = map[string]string{
		"DATABRICKS_HOST": srv.URL, "DATABRICKS_CLIENT_ID": "sp-sluice-prod", "DATABRICKS_WAREHOUSE_ID": "wh-prod",
		"SLUICE_DATABRICKS_POLL_INTERVAL": "100ms",
	}
	startDBXWorker(t, sb, "DATABRICKS_CLIENT_SECRET", "sp-secret-value")

	code, out := sb.sluice("run", "olist_daily", "--env", "prod", "--date", "2026-11-22", "--param", "orders=300", "--wait")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "olist_daily in prod: SUCCESS")
	st, err := sb.store.GetRun(context.Background(), "sluice/olist_daily/prod/2026-11-22", "")
	require.NoError(t, err)

	require.NotEmpty(t, srv.RequestsTo(http.MethodPost, "/oidc/v1/token"), "OAuth machine-to-machine")
	for _, r := range srv.RequestsTo("", "/api/*") {
		require.True(t, strings.HasPrefix(r.Header.Get("Authorization"), "Bearer oauth-token-"), "%s %s", r.Method, r.Path)
	}
	for _, id := range []string{"0a1b2c3d-main", "0a1b2c3d-cdc"} {
		require.Equal(t, []string{`{"cause":"API_CALL","full_refresh":false}`}, srv.Bodies(t, http.MethodPost, "/api/2.0/pipelines/"+id+"/updates"))
	}
	_, ok := srv.File("/Volumes/olist/landing/raw/olist/batch=0020261122/_SUCCESS")
	require.True(t, ok)
	stmts := srv.Statements()
	require.NotEmpty(t, stmts)
	for _, s := range stmts {
		require.Equal(t, "wh-prod", s.Call.WarehouseID, s.Call.Statement)
		require.Equal(t, "olist", s.Call.Catalog, "the catalog comes from params.catalog")
	}
	qc := st.Task("quality_checks").Output
	require.Equal(t, float64(0), qc["failed"])
	require.Equal(t, float64(0), qc["errored"])
	require.Equal(t, float64(len(qc["checks"].([]any))), qc["passed"])
	require.Contains(t, qc["checks"].([]any)[0].(map[string]any)["message"], "row count 300 is within bounds (min 300, max 300)")
}

// dbxCommitted sums the rows of table over every committed batch in the
// fake volume.
func dbxCommitted(t *testing.T, srv *databrickstest.Server, table string) int64 {
	var n int64
	for _, p := range srv.FilePaths() {
		if !strings.HasSuffix(p, "/"+databricks.MarkerName) {
			continue
		}
		b, _ := srv.File(p)
		var m struct {
			Rows map[string]int64 `json:"rows"`
		}
		if json.Unmarshal(b, &m) != nil {
			t.Errorf("marker %s is not a manifest: %s", p, b)
		}
		n += m.Rows[table]
	}
	return n
}

// dbxRequestIndex is the position in the fake's request log of the first (or
// last) request with this method and path.
func dbxRequestIndex(t *testing.T, srv *databrickstest.Server, method, path string, last bool) int {
	t.Helper()
	at := -1
	for i, r := range srv.Requests() {
		if r.Method == method && r.Path == path {
			at = i
			if !last {
				break
			}
		}
	}
	require.GreaterOrEqual(t, at, 0, "no %s %s", method, path)
	return at
}

// dbxOneUpdate starts one_update and waits until its update has been polled
// RUNNING a few times.
func dbxOneUpdate(t *testing.T, sb *sandbox, srv *databrickstest.Server, date string) string {
	t.Helper()
	code, out := sb.sluice("run", "one_update", "--env", "dbx", "--date", date)
	require.Equal(t, 0, code, out)
	id := "sluice/one_update/dbx/" + date
	waitForTask(t, sb, id, "update", dag.Running)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if ups := srv.Updates(dbxMainID); len(ups) == 1 && len(srv.RequestsTo(http.MethodGet, "/api/2.0/pipelines/"+dbxMainID+"/updates/"+ups[0].ID)) >= 5 {
			return id
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the update of %s was never polled", id)
	return ""
}

func dbxRunning(n int, then ...string) []string {
	return append(slices.Repeat([]string{"RUNNING"}, n), then...)
}

// TestDatabricksWorkerCrashReattaches kills the worker process while it
// polls an update; the next worker re-attaches to the same update.
func TestDatabricksWorkerCrashReattaches(t *testing.T) {
	t.Parallel()
	sb, srv := dbxSandbox(t)
	// The worker's SLUICE_DATABRICKS_HOST replaces the environment's host.
	sb.extraEnv["DBX_HOST"] = "https://adb-0000000000000000.0.azuredatabricks.invalid"
	sb.extraEnv["SLUICE_DATABRICKS_HOST"] = srv.URL
	srv.ScriptUpdate(dbxMainID, dbxRunning(60, "COMPLETED")...)
	first := sb.startWorkerProcess(t, "worker-1")
	id := dbxOneUpdate(t, sb, srv, "2026-11-20")
	time.Sleep(2 * time.Second) // past the heartbeat throttle: the update id is recorded
	first.kill(t)
	polled := len(srv.RequestsTo(http.MethodGet, "/api/2.0/pipelines/"+dbxMainID+"/updates/*"))

	sb.startWorkerProcess(t, "worker-2")
	code, out := sb.sluice("status", id, "--wait")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "one_update in dbx: SUCCESS")

	ups := srv.Updates(dbxMainID)
	require.Len(t, ups, 1, "exactly one update started")
	require.Equal(t, "COMPLETED", ups[0].State)
	require.Len(t, srv.RequestsTo(http.MethodPost, "/api/2.0/pipelines/"+dbxMainID+"/updates"), 1)
	require.Empty(t, srv.RequestsTo(http.MethodPost, "/api/2.0/pipelines/"+dbxMainID+"/stop"), "the crash did not stop it")
	require.Greater(t, len(srv.RequestsTo(http.MethodGet, "/api/2.0/pipelines/"+dbxMainID+"/updates/*")), polled, "the second worker polled it")

	st, err := sb.openStore(t).GetRun(context.Background(), id, "")
	require.NoError(t, err)
	tk := st.Task("update")
	require.Len(t, tk.Attempts, 1, "the attempt resumed on the new worker: no task-level retry")
	require.Equal(t, ups[0].ID, tk.Output["update_id"])
	require.Equal(t, true, tk.Output["reattached"])
}

// TestDatabricksWorkerRestartLeavesUpdateRunning stops the worker process
// gracefully (SIGTERM, as a deploy does) while it polls an update: the
// update is not stopped, and the next worker re-attaches to it.
func TestDatabricksWorkerRestartLeavesUpdateRunning(t *testing.T) {
	t.Parallel()
	sb, srv := dbxSandbox(t)
	sb.extraEnv["SLUICE_DATABRICKS_POLL_INTERVAL"] = "1s"
	srv.ScriptUpdate(dbxMainID, dbxRunning(25, "COMPLETED")...)
	first := sb.startWorkerProcess(t, "worker-1")
	id := dbxOneUpdate(t, sb, srv, "2026-11-18")

	require.NoError(t, first.cmd.Process.Signal(syscall.SIGTERM))
	sb.startWorkerProcess(t, "worker-2")
	exited := make(chan error, 1)
	go func() { exited <- first.cmd.Wait() }()
	select {
	case err := <-exited:
		require.NoError(t, err, "worker-1 exits cleanly after its grace period")
	case <-time.After(60 * time.Second):
		t.Fatal("worker-1 did not exit")
	}
	require.Empty(t, srv.RequestsTo(http.MethodPost, "/api/2.0/pipelines/"+dbxMainID+"/stop"), "shutting down did not stop the update")

	code, out := sb.sluice("status", id, "--wait")
	require.Equal(t, 0, code, out)
	ups := srv.Updates(dbxMainID)
	require.Len(t, ups, 1, "exactly one update started")
	require.Equal(t, "COMPLETED", ups[0].State)
	require.Empty(t, srv.RequestsTo(http.MethodPost, "/api/2.0/pipelines/"+dbxMainID+"/stop"))
	st, err := sb.openStore(t).GetRun(context.Background(), id, "")
	require.NoError(t, err)
	tk := st.Task("update")
	require.Len(t, tk.Attempts, 1, "no task-level retry")
	require.Equal(t, true, tk.Output["reattached"])
}

// TestDatabricksCancelStopsUpdate cancels a run while its update runs: the
// pipeline is stopped.
func TestDatabricksCancelStopsUpdate(t *testing.T) {
	t.Parallel()
	sb, srv := dbxSandbox(t)
	srv.ScriptUpdate(dbxMainID, dbxRunning(10000)...)
	startDBXWorker(t, sb)
	id := dbxOneUpdate(t, sb, srv, "2026-11-21")

	code, out := sb.sluice("cancel", id)
	require.Equal(t, 0, code, out)
	code, out = sb.sluice("status", id, "--wait")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "one_update in dbx: CANCELED")

	require.Len(t, srv.RequestsTo(http.MethodPost, "/api/2.0/pipelines/"+dbxMainID+"/stop"), 1, "the pipeline was stopped")
	ups := srv.Updates(dbxMainID)
	require.Len(t, ups, 1)
	require.Equal(t, "CANCELED", ups[0].State)
	st, err := sb.store.GetRun(context.Background(), id, "")
	require.NoError(t, err)
	require.Equal(t, dag.StatusCanceled, st.Status)
	require.Equal(t, dag.Canceled, st.Task("update").State)
}

// TestDatabricksFailedUpdateNotRetried: a FAILED update fails the task at
// once (retries cannot fix it) with the pipeline's error events.
func TestDatabricksFailedUpdateNotRetried(t *testing.T) {
	t.Parallel()
	sb, srv := dbxSandbox(t)
	srv.ScriptUpdate(dbxMainID, "RUNNING", "FAILED")
	startDBXWorker(t, sb)

	code, out := sb.sluice("run", "one_update", "--env", "dbx", "--date", "2026-11-19", "--wait")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "one_update in dbx: FAILED")
	require.Contains(t, out, "Flow 'silver_orders' has FAILED.")

	ups := srv.Updates(dbxMainID)
	require.Len(t, ups, 1, "not retried")
	st, err := sb.store.GetRun(context.Background(), "sluice/one_update/dbx/2026-11-19", "")
	require.NoError(t, err)
	require.Equal(t, dag.StatusFailed, st.Status)
	tk := st.Task("update")
	require.Equal(t, dag.Failed, tk.State)
	require.Len(t, tk.Attempts, 1, "retry: {attempts: 3} does not retry a FAILED update")
	require.Equal(t, "DLTUpdateFailed", tk.Error.Type)
	require.False(t, tk.Error.Retryable)
	require.Contains(t, tk.Error.Message, `update `+ups[0].ID+` of pipeline "olist_main_pipeline" FAILED in workspace `+srv.URL+
		`: Flow 'silver_orders' has FAILED. | org.apache.spark.sql.catalyst.ExtendedAnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION]`)
	require.Equal(t, "Flow 'silver_orders' has FAILED. | org.apache.spark.sql.catalyst.ExtendedAnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `order_purchase_timestmp` cannot be resolved. Did you mean one of the following? [`order_purchase_timestamp`, `order_status`, `order_id`]. SQLSTATE: 42703;\n"+
		"Update "+ups[0].ID[:6]+" is FAILED. | com.databricks.pipelines.common.errors.DLTAnalysisException: Failed to resolve flow: 'silver_orders'.",
		tk.Attempts[0].Error.Detail, "the error events, in the run history")
	_, out = sb.sluice("status", "sluice/one_update/dbx/2026-11-19", "-o", "json")
	require.Contains(t, out, `\nUpdate `+ups[0].ID[:6]+` is FAILED. | com.databricks.pipelines.common.errors.DLTAnalysisException: Failed to resolve flow: 'silver_orders'."`,
		"and in sluice status")
}
