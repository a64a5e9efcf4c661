package dlt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/sluicedata/sluice/activities/databricks/acttest"
	"github.com/sluicedata/sluice/activities/dlt"
	"github.com/sluicedata/sluice/internal/databricks/databrickstest"
	"github.com/sluicedata/sluice/internal/spec"
)

// setupUpdate starts a fake workspace with pipeline p-main named
// olist_main_pipeline and returns an input for a dlt_pipeline task on it.
func setupUpdate(t *testing.T) (*dlt.Activities, *databrickstest.Server, dlt.UpdateInput) {
	t.Helper()
	srv := databrickstest.New(t, databrickstest.WithToken(acttest.Token), databrickstest.WithUnknownFields())
	srv.AddPipeline("p-main", "olist_main_pipeline")
	m := acttest.Meta(srv.URL, "run_main_pipeline", "dlt_pipeline")
	m.Target.DLTPipelines = map[string]spec.DLTPipelineDef{
		"olist_main_pipeline": {Databricks: &spec.DLTRef{Name: "olist_main_pipeline"}},
	}
	acts := &dlt.Activities{Runner: acttest.Runner(), Databricks: acttest.Clients()}
	return acts, srv, dlt.UpdateInput{Meta: m, Config: spec.DLTPipelineConfig{Pipeline: "olist_main_pipeline"}}
}

func runUpdate(t *testing.T, acts *dlt.Activities, in dlt.UpdateInput) (dlt.UpdateResult, *acttest.Beats, error) {
	t.Helper()
	return acttest.Execute[dlt.UpdateResult](t, acts, acts.RunUpdate, in)
}

func startBodies(t *testing.T, srv *databrickstest.Server) []string {
	return srv.Bodies(t, http.MethodPost, "/api/2.0/pipelines/p-main/updates")
}

func stateNames(res dlt.UpdateResult) []string {
	var out []string
	for _, s := range res.States {
		out = append(out, s.State)
	}
	return out
}

// startUpdate starts an update directly through the fake's API.
func startUpdate(t *testing.T, srv *databrickstest.Server) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/2.0/pipelines/p-main/updates", bytes.NewBufferString(`{"cause":"API_CALL","full_refresh":false}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+acttest.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct {
		UpdateID string `json:"update_id"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out.UpdateID
}

func TestRunUpdateDatabricks(t *testing.T) {
	t.Parallel()

	t.Run("FullRefreshStartedAndAwaited", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupUpdate(t)
		in.Config.FullRefresh = true
		res, beats, err := runUpdate(t, acts, in)
		require.NoError(t, err)
		require.Equal(t, []string{`{"cause":"API_CALL","full_refresh":true}`}, startBodies(t, srv))
		ups := srv.Updates("p-main")
		require.Len(t, ups, 1)
		require.Equal(t, "COMPLETED", ups[0].State)
		require.Equal(t, "olist_main_pipeline", res.Pipeline)
		require.Equal(t, spec.EngineDatabricks, res.Engine)
		require.True(t, res.FullRefresh)
		require.Equal(t, "p-main", res.PipelineID)
		require.Equal(t, ups[0].ID, res.UpdateID)
		require.Equal(t, srv.URL+"/#joblist/pipelines/p-main/updates/"+ups[0].ID, res.URL)
		require.Equal(t, []string{"RUNNING", "COMPLETED"}, stateNames(res))
		require.False(t, res.Reattached)

		var first map[string]any
		require.NoError(t, json.Unmarshal(beats.Details()[0], &first))
		require.Equal(t, "p-main", first["pipeline_id"], "the pipeline and start time are recorded before the start")
		require.NotEmpty(t, first["start_requested_at"])
		require.NotContains(t, first, "update_id")
	})

	t.Run("Selections", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupUpdate(t)
		in.Config.RefreshSelection = []string{"silver_orders", "gold_daily_sales"}
		in.Config.FullRefreshSelection = []string{"silver_customers_history"}
		_, _, err := runUpdate(t, acts, in)
		require.NoError(t, err)
		require.Equal(t, []string{`{"cause":"API_CALL","full_refresh":false,"full_refresh_selection":["silver_customers_history"],"refresh_selection":["silver_orders","gold_daily_sales"]}`},
			startBodies(t, srv))
	})

	t.Run("ReattachesToTheUpdateInTheResumeDetails", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupUpdate(t)
		uid := startUpdate(t, srv)
		in.Meta.Resume = json.RawMessage(fmt.Sprintf(`{"run":"run-1","attempt":1,"pipeline_id":"p-main","update_id":%q,"start_requested_at":"2026-11-22T06:00:00Z"}`, uid))
		res, _, err := runUpdate(t, acts, in)
		require.NoError(t, err)
		require.Equal(t, uid, res.UpdateID)
		require.True(t, res.Reattached)
		require.Len(t, srv.Updates("p-main"), 1, "no second update")
		require.Empty(t, srv.RequestsTo(http.MethodGet, "/api/2.0/pipelines"), "no name lookup either")
	})

	t.Run("StartWithUnknownOutcomeIsFoundNotRepeated", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupUpdate(t)
		// The earlier attempt recorded its start, then died before the
		// answer: the update exists, its id is not in the resume details.
		asked := time.Now().UTC()
		uid := startUpdate(t, srv)
		in.Meta.Resume = json.RawMessage(fmt.Sprintf(`{"run":"run-1","attempt":1,"pipeline_id":"p-main","start_requested_at":%q}`, asked.Format(time.RFC3339Nano)))
		res, _, err := runUpdate(t, acts, in)
		require.NoError(t, err)
		require.Equal(t, uid, res.UpdateID)
		require.True(t, res.Reattached)
		require.Len(t, srv.Updates("p-main"), 1)
	})

	t.Run("LostStartAnswerStartsOneUpdate", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupUpdate(t)
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPost, Path: "/api/2.0/pipelines/p-main/updates", Status: 503, AfterHandling: true})
		res, _, err := runUpdate(t, acts, in)
		require.NoError(t, err)
		ups := srv.Updates("p-main")
		require.Len(t, ups, 1)
		require.Equal(t, ups[0].ID, res.UpdateID)
	})

	t.Run("FailedUpdateCarriesTheErrorEvents", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupUpdate(t)
		srv.ScriptUpdate("p-main", "RUNNING", "FAILED")
		_, _, err := runUpdate(t, acts, in)
		typ, msg, f := acttest.Failure(t, err)
		require.Equal(t, dlt.ErrUpdateFailed, typ)
		require.False(t, f.Retryable)
		uid := srv.Updates("p-main")[0].ID
		flow := "Flow 'silver_orders' has FAILED. | org.apache.spark.sql.catalyst.ExtendedAnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `order_purchase_timestmp` cannot be resolved. Did you mean one of the following? [`order_purchase_timestamp`, `order_status`, `order_id`]. SQLSTATE: 42703;"
		require.Equal(t, fmt.Sprintf(`update %s of pipeline "olist_main_pipeline" FAILED in workspace %s: %s (event log: %s/#joblist/pipelines/p-main/updates/%s)`,
			uid, srv.URL, flow, srv.URL, uid), msg)
		require.Equal(t, flow+"\nUpdate "+uid[:6]+" is FAILED. | com.databricks.pipelines.common.errors.DLTAnalysisException: Failed to resolve flow: 'silver_orders'.", f.Detail)
		require.Contains(t, string(f.Resume), `"ended":true`, "a repair starts a new update")
	})

	t.Run("UpdateCanceledInTheWorkspace", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupUpdate(t)
		srv.ScriptUpdate("p-main", "RUNNING", "CANCELED")
		_, _, err := runUpdate(t, acts, in)
		typ, msg, f := acttest.Failure(t, err)
		require.Equal(t, dlt.ErrUpdateCanceled, typ)
		require.False(t, f.Retryable)
		require.Contains(t, msg, "was canceled in workspace "+srv.URL)
	})

	t.Run("CancelStopsTheUpdate", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupUpdate(t)
		running := make([]string, 1000)
		for i := range running {
			running[i] = "RUNNING"
		}
		srv.ScriptUpdate("p-main", running...)
		err := cancelWhenPolled(t, acts, in, srv, nil)
		var ce *temporal.CanceledError
		require.True(t, errors.As(err, &ce), "want a cancellation, got %v", err)
		require.Len(t, srv.RequestsTo(http.MethodPost, "/api/2.0/pipelines/p-main/stop"), 1)
		require.Equal(t, "CANCELED", srv.Updates("p-main")[0].State)
	})

	t.Run("WorkerShutdownDoesNotStopTheUpdate", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupUpdate(t)
		running := make([]string, 1000)
		for i := range running {
			running[i] = "RUNNING"
		}
		srv.ScriptUpdate("p-main", running...)
		err := cancelWhenPolled(t, acts, in, srv, worker.ErrWorkerShutdown)
		require.Error(t, err)
		require.Empty(t, srv.RequestsTo(http.MethodPost, "/api/2.0/pipelines/p-main/stop"))
		require.Equal(t, "RUNNING", srv.Updates("p-main")[0].State)
	})

	t.Run("UnknownPipelineNameSaysWhereItIsNamed", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupUpdate(t)
		in.Meta.Target.DLTPipelines["olist_main_pipeline"] = spec.DLTPipelineDef{Databricks: &spec.DLTRef{Name: "olist_mian_pipeline"}}
		_, _, err := runUpdate(t, acts, in)
		typ, msg, f := acttest.Failure(t, err)
		require.Equal(t, "DatabricksNotFound", typ)
		require.False(t, f.Retryable)
		require.Equal(t, fmt.Sprintf(`pipeline "olist_mian_pipeline" not found in workspace %s: check sluice.yaml dlt_pipelines.olist_main_pipeline.databricks (names are case-sensitive), or use the pipeline id`, srv.URL), msg)
		require.Empty(t, srv.RequestsTo(http.MethodPost, "*"))
	})

	t.Run("ServerErrorsAreRetryable", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupUpdate(t)
		srv.InjectFault(databrickstest.Fault{Method: http.MethodGet, Path: "/api/2.0/pipelines", Status: 500, Times: -1})
		_, _, err := runUpdate(t, acts, in)
		typ, _, f := acttest.Failure(t, err)
		require.Equal(t, "DatabricksTransient", typ)
		require.True(t, f.Retryable)
	})

	t.Run("NoDatabricksDefinition", func(t *testing.T) {
		t.Parallel()
		acts, _, in := setupUpdate(t)
		in.Meta.Target.DLTPipelines["olist_main_pipeline"] = spec.DLTPipelineDef{Local: "local_pipelines/olist_main"}
		_, _, err := runUpdate(t, acts, in)
		typ, msg, _ := acttest.Failure(t, err)
		require.Equal(t, "ConfigInvalid", typ)
		require.Equal(t, `DLT pipeline "olist_main_pipeline" has no databricks definition: add databricks: {name: ...} or {id: ...} to dlt_pipelines.olist_main_pipeline in sluice.yaml`, msg)
	})
}

// cancelWhenPolled runs the activity and cancels its context (with cause,
// when not nil) once the update has been polled a few times.
func cancelWhenPolled(t *testing.T, acts *dlt.Activities, in dlt.UpdateInput, srv *databrickstest.Server, cause error) error {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	env, _ := acttest.Env(t, acts)
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	go func() {
		for ctx.Err() == nil {
			if len(srv.RequestsTo(http.MethodGet, "/api/2.0/pipelines/p-main/updates/*")) >= 3 {
				cancel(cause)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	_, err := env.ExecuteActivity(acts.RunUpdate, in)
	return err
}
