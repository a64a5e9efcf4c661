package databricks_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/databricks/databrickstest"
)

func TestRunUpdate(t *testing.T) {
	t.Parallel()

	t.Run("ExactRequestsAndResult", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		srv.ScriptUpdate("p-1", "WAITING_FOR_RESOURCES", "RUNNING", "COMPLETED")
		var hb beats[databricks.UpdateResume, databricks.UpdateProgress]
		var apiCallsAtFirstBeat int
		hb.onBeat = func(r databricks.UpdateResume, p databricks.UpdateProgress) {
			if apiCallsAtFirstBeat == 0 {
				apiCallsAtFirstBeat = len(srv.APIRequests())
			}
		}

		res, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{
			PipelineID:           "p-1",
			RefreshSelection:     []string{"silver_orders", "gold_daily_sales"},
			FullRefreshSelection: []string{"bronze_orders"},
		}, nil, hb.record)
		require.NoError(t, err)

		upd := srv.Updates("p-1")
		require.Len(t, upd, 1)
		uid := upd[0].ID
		require.Equal(t, []string{
			"POST /api/2.0/pipelines/p-1/updates",
			"GET /api/2.0/pipelines/p-1/updates/" + uid,
			"GET /api/2.0/pipelines/p-1/updates/" + uid,
			"GET /api/2.0/pipelines/p-1/updates/" + uid,
		}, srv.APIRequests())
		start := srv.RequestsTo(http.MethodPost, "/api/2.0/pipelines/p-1/updates")
		require.Equal(t,
			`{"cause":"API_CALL","full_refresh":false,"full_refresh_selection":["bronze_orders"],"refresh_selection":["silver_orders","gold_daily_sales"]}`,
			bodyJSON(t, start[0]))

		require.Equal(t, "p-1", res.PipelineID)
		require.Equal(t, uid, res.UpdateID)
		require.Equal(t, "COMPLETED", res.State)
		require.Equal(t, []string{"WAITING_FOR_RESOURCES", "RUNNING", "COMPLETED"}, states(res.States))
		require.Equal(t, srv.URL+"/#joblist/pipelines/p-1/updates/"+uid, res.URL)
		require.False(t, res.Reattached)

		resumes, progress := hb.all()
		require.Equal(t, 1, apiCallsAtFirstBeat, "the first heartbeat must come right after the start, before any poll")
		require.Equal(t, databricks.UpdateResume{PipelineID: "p-1", UpdateID: uid, StartRequestedAt: resumes[0].StartRequestedAt}, resumes[0])
		require.False(t, resumes[0].StartRequestedAt.IsZero())
		require.Len(t, progress, 4)
		require.Equal(t, []string{"", "WAITING_FOR_RESOURCES", "RUNNING", "COMPLETED"},
			[]string{progress[0].State, progress[1].State, progress[2].State, progress[3].State})
		require.Equal(t, []string{"WAITING_FOR_RESOURCES", "RUNNING", "COMPLETED"}, states(resumes[3].States))
	})

	t.Run("FullRefreshSent", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		_, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1", FullRefresh: true, Cause: "USER_ACTION"}, nil, nil)
		require.NoError(t, err)
		start := srv.RequestsTo(http.MethodPost, "/api/2.0/pipelines/p-1/updates")
		require.Equal(t, `{"cause":"USER_ACTION","full_refresh":true}`, bodyJSON(t, start[0]))
		require.True(t, srv.Updates("p-1")[0].FullRefresh)
	})

	t.Run("NameLookedUpOnceForTwoRuns", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		srv.AddPipeline("p-2", "olist_main_v2") // LIKE-wildcard neighbours must not match
		srv.AddPipeline("p-3", "olist_cdc")
		for range 2 {
			res, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineName: "olist_main"}, nil, nil)
			require.NoError(t, err)
			require.Equal(t, "p-1", res.PipelineID)
		}
		lists := srv.RequestsTo(http.MethodGet, "/api/2.0/pipelines")
		require.Len(t, lists, 1)
		require.Equal(t, "name LIKE 'olist_main'", lists[0].Query.Get("filter"))
		require.Len(t, srv.Updates("p-1"), 2)
	})

	t.Run("UnknownNameIsPermanent", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		_, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{
			PipelineName: "olist_mian", Ref: "sluice.yaml:14 dlt_pipelines.olist_main_pipeline.databricks.name",
		}, nil, nil)
		require.True(t, databricks.IsPermanent(err))
		require.Equal(t, databricks.KindNotFound, databricks.KindOf(err))
		require.EqualError(t, err, fmt.Sprintf(`pipeline "olist_mian" not found in workspace %s: check sluice.yaml:14 dlt_pipelines.olist_main_pipeline.databricks.name (names are case-sensitive), or use the pipeline id`, srv.URL))
		require.Empty(t, srv.RequestsTo(http.MethodPost, "/api/2.0/pipelines/*"))
	})

	t.Run("AmbiguousNameIsPermanent", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		srv.AddPipeline("p-9", "olist_main")
		_, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineName: "olist_main", Ref: "sluice.yaml:14"}, nil, nil)
		require.Equal(t, databricks.KindAmbiguous, databricks.KindOf(err))
		require.EqualError(t, err, fmt.Sprintf(`pipeline name "olist_main" matches 2 pipelines in workspace %s (ids p-1, p-9): use the pipeline id instead of the name in sluice.yaml:14`, srv.URL))
	})

	t.Run("ResumeReattachesWithoutStarting", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		srv.ScriptUpdate("p-1", "RUNNING", "RUNNING", "RUNNING", "COMPLETED")
		first, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1"}, nil, nil)
		require.NoError(t, err)
		posts := len(srv.RequestsTo(http.MethodPost, "*"))

		res, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineName: "olist_main"},
			&databricks.UpdateResume{PipelineID: "p-1", UpdateID: first.UpdateID,
				States: []databricks.StateSpan{{State: "RUNNING"}}}, nil)
		require.NoError(t, err)
		require.Equal(t, posts, len(srv.RequestsTo(http.MethodPost, "*")), "re-attach must not start another update")
		require.Empty(t, srv.RequestsTo(http.MethodGet, "/api/2.0/pipelines"), "re-attach needs no name lookup")
		require.Len(t, srv.Updates("p-1"), 1)
		require.True(t, res.Reattached)
		require.Equal(t, first.UpdateID, res.UpdateID)
		require.Equal(t, []string{"RUNNING", "COMPLETED"}, states(res.States))
	})

	t.Run("LostStartResponseIsFoundNotRestarted", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPost, Path: "/api/2.0/pipelines/p-1/updates",
			Status: http.StatusInternalServerError, AfterHandling: true})
		var hb beats[databricks.UpdateResume, databricks.UpdateProgress]
		res, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1", RefreshSelection: []string{"silver_orders"}}, nil, hb.record)
		require.NoError(t, err)
		upd := srv.Updates("p-1")
		require.Len(t, upd, 1, "the update whose answer was lost must be adopted, not started again")
		require.Equal(t, upd[0].ID, res.UpdateID)
		require.True(t, res.Reattached)
		require.Equal(t, []string{
			"POST /api/2.0/pipelines/p-1/updates",
			"GET /api/2.0/pipelines/p-1/updates",
		}, srv.APIRequests()[:2])
		resumes, _ := hb.all()
		require.Equal(t, upd[0].ID, resumes[0].UpdateID)
	})

	t.Run("StartTimeoutIsFoundNotRestarted", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t, databrickstest.WithToken(testToken))
		cfg := testConfig(srv.URL)
		cfg.HTTPTimeout = 100 * time.Millisecond
		c, err := databricks.New(cfg)
		require.NoError(t, err)
		srv.AddPipeline("p-1", "olist_main")
		// The update is created, but the answer comes after the client gave up.
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPost, Path: "/api/2.0/pipelines/p-1/updates",
			AfterHandling: true, Delay: 400 * time.Millisecond})
		res, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1"}, nil, nil)
		require.NoError(t, err)
		require.Len(t, srv.Updates("p-1"), 1)
		require.Len(t, srv.RequestsTo(http.MethodPost, "/api/2.0/pipelines/p-1/updates"), 1)
		require.Equal(t, srv.Updates("p-1")[0].ID, res.UpdateID)
	})

	t.Run("DroppedConnectionOnStartIsFoundNotRestarted", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPost, Path: "/api/2.0/pipelines/p-1/updates",
			AfterHandling: true, DropConnection: true})
		res, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1"}, nil, nil)
		require.NoError(t, err)
		require.Len(t, srv.RequestsTo(http.MethodPost, "/api/2.0/pipelines/p-1/updates"), 1,
			"a POST whose connection broke must not be re-sent blindly (the SDK would)")
		require.Len(t, srv.Updates("p-1"), 1)
		require.Equal(t, srv.Updates("p-1")[0].ID, res.UpdateID)
	})

	t.Run("FailedStartNotAppliedIsRetried", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPost, Path: "/api/2.0/pipelines/p-1/updates",
			Status: http.StatusServiceUnavailable})
		res, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1"}, nil, nil)
		require.NoError(t, err)
		require.Len(t, srv.Updates("p-1"), 1)
		require.False(t, res.Reattached)
		require.Equal(t, []string{
			"POST /api/2.0/pipelines/p-1/updates",
			"GET /api/2.0/pipelines/p-1/updates",
			"POST /api/2.0/pipelines/p-1/updates",
		}, srv.APIRequests()[:3])
	})

	t.Run("ResumeWithoutUpdateIDAdoptsEarlierStart", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		before := time.Now()
		first, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1"}, nil, nil)
		require.NoError(t, err)
		res, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1"},
			&databricks.UpdateResume{PipelineID: "p-1", StartRequestedAt: before}, nil)
		require.NoError(t, err)
		require.Equal(t, first.UpdateID, res.UpdateID)
		require.Len(t, srv.Updates("p-1"), 1)
	})

	t.Run("FailedCarriesErrorEvents", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		srv.AddPipelineEvent("p-1", map[string]any{ // an earlier update's error: not ours
			"id": "evt-old", "level": "ERROR", "event_type": "update_progress", "message": "Update 999999 is FAILED.",
			"timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
			"origin":    map[string]any{"pipeline_id": "p-1", "update_id": "99999999-0000-0000-0000-000000000000"},
		})
		srv.ScriptUpdate("p-1", "RUNNING", "FAILED")
		res, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineName: "olist_main"}, nil, nil)
		require.Equal(t, "FAILED", res.State)
		require.Equal(t, databricks.KindFailed, databricks.KindOf(err))
		require.True(t, databricks.IsPermanent(err))
		var e *databricks.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, "FAILED", e.Code)
		require.Equal(t, []string{
			"Flow 'silver_orders' has FAILED. | org.apache.spark.sql.catalyst.ExtendedAnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `order_purchase_timestmp` cannot be resolved. Did you mean one of the following? [`order_purchase_timestamp`, `order_status`, `order_id`]. SQLSTATE: 42703;",
			"Update 000000 is FAILED. | com.databricks.pipelines.common.errors.DLTAnalysisException: Failed to resolve flow: 'silver_orders'.",
		}, e.Details)
		require.Equal(t, fmt.Sprintf(`update %s of pipeline "olist_main" FAILED in workspace %s: %s (event log: %s)`,
			res.UpdateID, srv.URL, e.Details[0], res.URL), e.Message)
		events := srv.RequestsTo(http.MethodGet, "/api/2.0/pipelines/p-1/events")
		require.Len(t, events, 1)
		require.Regexp(t, `^level='ERROR' AND timestamp >= '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z'$`, events[0].Query.Get("filter"))
		require.Equal(t, "100", events[0].Query.Get("max_results"))
	})

	t.Run("ErrorEventsOnLaterPageUseTokenAlone", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		future := time.Now().Add(time.Hour)
		for i := range 120 { // newer errors of another update fill the first page
			srv.AddPipelineEvent("p-1", map[string]any{
				"id": fmt.Sprintf("noise-%d", i), "level": "ERROR", "message": "noise",
				"timestamp": future.Add(time.Duration(i) * time.Millisecond).UTC().Format("2006-01-02T15:04:05.000Z"),
				"origin":    map[string]any{"pipeline_id": "p-1", "update_id": "other"},
			})
		}
		srv.ScriptUpdate("p-1", "FAILED")
		_, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1"}, nil, nil)
		var e *databricks.Error
		require.ErrorAs(t, err, &e)
		require.Len(t, e.Details, 2)
		events := srv.RequestsTo(http.MethodGet, "/api/2.0/pipelines/p-1/events")
		require.Len(t, events, 2)
		require.Empty(t, events[1].Query.Get("filter"))
		require.NotEmpty(t, events[1].Query.Get("page_token"))
		require.Equal(t, "100", events[1].Query.Get("max_results"))
	})

	t.Run("CanceledInWorkspace", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		srv.ScriptUpdate("p-1", "RUNNING", "STOPPING", "CANCELED")
		res, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1"}, nil, nil)
		require.Equal(t, databricks.KindCanceled, databricks.KindOf(err))
		require.Equal(t, []string{"RUNNING", "STOPPING", "CANCELED"}, states(res.States))
		require.Empty(t, srv.RequestsTo(http.MethodPost, "/api/2.0/pipelines/p-1/stop"))
	})

	t.Run("ContextCancelStopsUpdate", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		srv.ScriptUpdate("p-1", "RUNNING") // runs until stopped
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var hb beats[databricks.UpdateResume, databricks.UpdateProgress]
		hb.onBeat = func(_ databricks.UpdateResume, p databricks.UpdateProgress) {
			if p.State == "RUNNING" {
				cancel()
			}
		}
		_, err := c.RunUpdate(ctx, databricks.UpdateRequest{PipelineID: "p-1"}, nil, hb.record)
		require.ErrorIs(t, err, context.Canceled)
		require.Len(t, srv.RequestsTo(http.MethodPost, "/api/2.0/pipelines/p-1/stop"), 1)
		require.Equal(t, "CANCELED", srv.Updates("p-1")[0].State)
	})

	t.Run("RateLimitAndServerErrorRetried", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		srv.InjectFault(databrickstest.Fault{Method: http.MethodGet, Path: "/api/2.0/pipelines/p-1/updates/*", Status: http.StatusTooManyRequests})
		srv.InjectFault(databrickstest.Fault{Method: http.MethodGet, Path: "/api/2.0/pipelines/p-1/updates/*", Status: http.StatusInternalServerError})
		res, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1"}, nil, nil)
		require.NoError(t, err)
		require.Equal(t, "COMPLETED", res.State)
		require.Len(t, srv.RequestsTo(http.MethodGet, "/api/2.0/pipelines/p-1/updates/*"), 4, "429 and 500 each cost one extra poll")
	})

	t.Run("ForbiddenIsPermanentAndNotRetried", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPost, Path: "/api/2.0/pipelines/p-1/updates",
			Status: http.StatusForbidden, Message: "User sluice@example.com does not have Run permission on pipeline p-1."})
		_, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1", Ref: "sluice.yaml:14"}, nil, nil)
		require.True(t, databricks.IsPermanent(err))
		var e *databricks.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, databricks.KindPermissionDenied, e.Kind)
		require.Equal(t, http.StatusForbidden, e.Status)
		require.Equal(t, "PERMISSION_DENIED", e.Code)
		require.Equal(t, fmt.Sprintf("starting an update of pipeline p-1 (id p-1) in workspace %s: permission denied "+
			"(HTTP 403 PERMISSION_DENIED: User sluice@example.com does not have Run permission on pipeline p-1.): "+
			"grant the identity Sluice runs as access, or check sluice.yaml:14", srv.URL), e.Message)
		require.Len(t, srv.RequestsTo(http.MethodPost, "/api/2.0/pipelines/p-1/updates"), 1)
		require.Empty(t, srv.Updates("p-1"))
	})

	t.Run("PersistentOutageIsTransient", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t)
		cfg := testConfig(srv.URL)
		cfg.RetryTimeout = 50 * time.Millisecond
		c, err := databricks.New(cfg)
		require.NoError(t, err)
		srv.AddPipeline("p-1", "olist_main")
		srv.InjectFault(databrickstest.Fault{Path: "/api/2.0/pipelines/p-1/updates/*", Status: http.StatusServiceUnavailable, Times: -1})
		_, err = c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1"}, nil, nil)
		require.Equal(t, databricks.KindTransient, databricks.KindOf(err))
		require.False(t, databricks.IsPermanent(err))
		require.Greater(t, len(srv.RequestsTo(http.MethodGet, "/api/2.0/pipelines/p-1/updates/*")), 1)
	})

	t.Run("UnknownResponseFieldsTolerated", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t, databrickstest.WithUnknownFields())
		srv.AddPipeline("p-1", "olist_main")
		res, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineName: "olist_main"}, nil, nil)
		require.NoError(t, err)
		require.Equal(t, "COMPLETED", res.State)
	})

	t.Run("IDAndNameTogetherRejected", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		_, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1", PipelineName: "x", Ref: "sluice.yaml:3"}, nil, nil)
		require.Equal(t, databricks.KindInvalid, databricks.KindOf(err))
		require.EqualError(t, err, `running an update: both pipeline id "p-1" and name "x" are set: keep one in sluice.yaml:3`)
		require.Empty(t, srv.APIRequests())
	})
}

func TestRunUpdateUnknownPipelineID(t *testing.T) {
	t.Parallel()
	c, srv := setup(t)
	_, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "nope", Ref: "sluice.yaml:9"}, nil, nil)
	require.Equal(t, databricks.KindNotFound, databricks.KindOf(err))
	require.EqualError(t, err, fmt.Sprintf("starting an update of pipeline nope (id nope) in workspace %s: not found "+
		"(HTTP 404 RESOURCE_DOES_NOT_EXIST: The specified pipeline nope was not found.): check sluice.yaml:9", srv.URL))
	require.False(t, errors.Is(err, context.Canceled))
}
