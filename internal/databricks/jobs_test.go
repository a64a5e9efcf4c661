package databricks_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/databricks/databrickstest"
)

func failingRunScript(result string) databrickstest.RunScript {
	return databrickstest.RunScript{
		Steps: []databrickstest.RunStep{
			{LifeCycle: "PENDING"},
			{LifeCycle: "RUNNING"},
			{LifeCycle: "TERMINATED", Result: result, Message: "Task transform failed with message: Workload failed, see run output for details."},
		},
		Tasks: []databrickstest.TaskScript{
			{Key: "ingest", Result: "SUCCESS"},
			{Key: "transform", Result: "FAILED"},
			{Key: "publish", Result: "UPSTREAM_FAILED"},
		},
	}
}

// fixtureTaskDetails are the error lines of the failed "transform" task built
// from job_run_failed_output.json (error, then the first 8 trace lines).
func fixtureTaskDetails(runID int64) []string {
	return []string{
		fmt.Sprintf("task transform (run %d) FAILED: ZeroDivisionError: division by zero", runID),
		"  ---------------------------------------------------------------------------",
		"  ZeroDivisionError                         Traceback (most recent call last)",
		"  File <command-4221938512712390>, line 4",
		`        2 orders = spark.table("olist.silver.orders")`,
		`        3 delivered = orders.filter("order_status = 'delivered'").count()`,
		`  ----> 4 ratio = delivered / orders.filter("order_status = 'canceled'").count()`,
		"  ZeroDivisionError: division by zero",
	}
}

func TestRunJob(t *testing.T) {
	t.Parallel()

	t.Run("ExactRequestsAndResult", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddJob(42, "nightly", "ingest", "transform")
		var hb beats[databricks.JobResume, databricks.JobProgress]
		var apiCallsAtFirstBeat int
		hb.onBeat = func(databricks.JobResume, databricks.JobProgress) {
			if apiCallsAtFirstBeat == 0 {
				apiCallsAtFirstBeat = len(srv.APIRequests())
			}
		}
		res, err := c.RunJob(context.Background(), databricks.JobRequest{
			JobID:            42,
			Parameters:       map[string]string{"logical_date": "2026-11-22", "full_refresh": "false"},
			IdempotencyToken: "sluice/olist_daily/prod/2026-11-22/run_job",
		}, nil, hb.record)
		require.NoError(t, err)

		runs := srv.Runs(42)
		require.Len(t, runs, 1)
		runID := runs[0].ID
		require.Equal(t, []string{
			"POST /api/2.2/jobs/run-now",
			"GET /api/2.2/jobs/runs/get",
			"GET /api/2.2/jobs/runs/get",
			"GET /api/2.2/jobs/runs/get",
		}, srv.APIRequests())
		require.Equal(t,
			`{"idempotency_token":"sluice/olist_daily/prod/2026-11-22/run_job","job_id":42,"job_parameters":{"full_refresh":"false","logical_date":"2026-11-22"}}`,
			bodyJSON(t, srv.RequestsTo(http.MethodPost, "/api/2.2/jobs/run-now")[0]))
		require.Equal(t, fmt.Sprint(runID), srv.RequestsTo(http.MethodGet, "/api/2.2/jobs/runs/get")[0].Query.Get("run_id"))

		require.Equal(t, databricks.OutcomeSuccess, res.Outcome)
		require.Equal(t, int64(42), res.JobID)
		require.Equal(t, runID, res.RunID)
		require.Equal(t, fmt.Sprintf("%s/?o=1234567890123456#job/42/run/%d", srv.URL, runID), res.RunPageURL)
		require.Equal(t, []string{"PENDING", "RUNNING", "TERMINATED"}, states(res.States))
		require.Equal(t, "SUCCESS", res.ResultState)
		require.Len(t, res.Tasks, 2)
		require.Equal(t, []string{"ingest:TERMINATED:SUCCESS", "transform:TERMINATED:SUCCESS"},
			[]string{taskState(res.Tasks[0]), taskState(res.Tasks[1])})

		resumes, progress := hb.all()
		require.Equal(t, 1, apiCallsAtFirstBeat, "the first heartbeat must come right after run-now")
		require.Equal(t, databricks.JobResume{JobID: 42, RunID: runID}, resumes[0])
		require.Len(t, progress, 4)
		require.Equal(t, res.RunPageURL, resumes[3].RunPageURL)
	})

	t.Run("NameLookedUpOnceForTwoRuns", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddJob(42, "nightly")
		srv.AddJob(43, "hourly")
		for i := range 2 {
			res, err := c.RunJob(context.Background(), databricks.JobRequest{
				JobName: "nightly", IdempotencyToken: fmt.Sprintf("wf-%d/task", i)}, nil, nil)
			require.NoError(t, err)
			require.Equal(t, int64(42), res.JobID)
		}
		lists := srv.RequestsTo(http.MethodGet, "/api/2.2/jobs/list")
		require.Len(t, lists, 1)
		require.Equal(t, "nightly", lists[0].Query.Get("name"))
		require.Len(t, srv.Runs(42), 2)
	})

	t.Run("UnknownNameIsPermanent", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddJob(42, "nightly")
		_, err := c.RunJob(context.Background(), databricks.JobRequest{
			JobName: "nigthly", IdempotencyToken: "t", Ref: "databricks_job.job in pipelines/x.yaml:12"}, nil, nil)
		require.True(t, databricks.IsPermanent(err))
		require.EqualError(t, err, fmt.Sprintf(`job "nigthly" not found in workspace %s: check databricks_job.job in pipelines/x.yaml:12, or use the job id`, srv.URL))
		require.Empty(t, srv.RequestsTo(http.MethodPost, "*"))
	})

	t.Run("ResumeReattachesWithoutRunNow", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddJob(42, "nightly")
		first, err := c.RunJob(context.Background(), databricks.JobRequest{JobID: 42, IdempotencyToken: "t1"}, nil, nil)
		require.NoError(t, err)
		res, err := c.RunJob(context.Background(), databricks.JobRequest{JobName: "nightly", IdempotencyToken: "t2"},
			&databricks.JobResume{JobID: 42, RunID: first.RunID}, nil)
		require.NoError(t, err)
		require.Len(t, srv.RequestsTo(http.MethodPost, "/api/2.2/jobs/run-now"), 1)
		require.Empty(t, srv.RequestsTo(http.MethodGet, "/api/2.2/jobs/list"))
		require.True(t, res.Reattached)
		require.Equal(t, first.RunID, res.RunID)
		require.Equal(t, databricks.OutcomeSuccess, res.Outcome)
	})

	t.Run("SameTokenNeverStartsASecondRun", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddJob(42, "nightly")
		// A worker crashed after run-now but before its heartbeat: the retry
		// has no resume and sends the same token.
		first, err := c.RunJob(context.Background(), databricks.JobRequest{JobID: 42, IdempotencyToken: "wf/task"}, nil, nil)
		require.NoError(t, err)
		second, err := c.RunJob(context.Background(), databricks.JobRequest{JobID: 42, IdempotencyToken: "wf/task"}, nil, nil)
		require.NoError(t, err)
		require.Equal(t, first.RunID, second.RunID)
		require.Len(t, srv.Runs(42), 1)
	})

	t.Run("LostRunNowResponseRetriedWithSameToken", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddJob(42, "nightly")
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPost, Path: "/api/2.2/jobs/run-now",
			Status: http.StatusInternalServerError, AfterHandling: true})
		res, err := c.RunJob(context.Background(), databricks.JobRequest{JobID: 42, IdempotencyToken: "wf/task"}, nil, nil)
		require.NoError(t, err)
		posts := srv.RequestsTo(http.MethodPost, "/api/2.2/jobs/run-now")
		require.Len(t, posts, 2)
		require.Equal(t, bodyJSON(t, posts[0]), bodyJSON(t, posts[1]))
		require.Len(t, srv.Runs(42), 1)
		require.Equal(t, srv.Runs(42)[0].ID, res.RunID)
	})

	t.Run("DroppedConnectionOnRunNowRetriedWithSameToken", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddJob(42, "nightly")
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPost, Path: "/api/2.2/jobs/run-now",
			AfterHandling: true, DropConnection: true})
		res, err := c.RunJob(context.Background(), databricks.JobRequest{JobID: 42, IdempotencyToken: "wf/task"}, nil, nil)
		require.NoError(t, err)
		require.Len(t, srv.RequestsTo(http.MethodPost, "/api/2.2/jobs/run-now"), 2)
		require.Len(t, srv.Runs(42), 1)
		require.Equal(t, srv.Runs(42)[0].ID, res.RunID)
	})

	t.Run("LongTokenHashedTo64", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddJob(42, "nightly")
		long := "sluice/olist_daily/prod/2026-11-22T06:00:00Z/" + strings.Repeat("run_a_very_long_task_key_", 4)
		_, err := c.RunJob(context.Background(), databricks.JobRequest{JobID: 42, IdempotencyToken: long}, nil, nil)
		require.NoError(t, err)
		sent := srv.RequestsTo(http.MethodPost, "/api/2.2/jobs/run-now")[0].JSON(t)["idempotency_token"].(string)
		require.Len(t, sent, 64)
		require.Equal(t, databricks.IdempotencyToken(long), sent)
		require.True(t, strings.HasPrefix(sent, "sluice/olist_daily/prod-"))
		require.NotEqual(t, sent, databricks.IdempotencyToken(long+"x"))
		require.Equal(t, "wf/task", databricks.IdempotencyToken("wf", "task"))
	})

	t.Run("MissingTokenRejected", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		_, err := c.RunJob(context.Background(), databricks.JobRequest{JobID: 42, Ref: "pipelines/x.yaml:12"}, nil, nil)
		require.Equal(t, databricks.KindInvalid, databricks.KindOf(err))
		require.Empty(t, srv.APIRequests())
	})

	t.Run("FailedCarriesFailingTaskError", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddJob(42, "nightly")
		srv.ScriptRun(42, failingRunScript("FAILED"))
		res, err := c.RunJob(context.Background(), databricks.JobRequest{JobName: "nightly", IdempotencyToken: "t"}, nil, nil)
		require.Equal(t, databricks.OutcomeFailed, res.Outcome)
		var e *databricks.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, databricks.KindFailed, e.Kind)
		require.Equal(t, "FAILED", e.Code)
		transform := res.Tasks[1]
		require.Equal(t, fixtureTaskDetails(transform.RunID), e.Details)
		require.Equal(t, fmt.Sprintf(`run %d of job "nightly" (id 42) FAILED in workspace %s: Task transform failed with message: `+
			`Workload failed, see run output for details. (run page: %s)`, res.RunID, srv.URL, res.RunPageURL), e.Message)
		require.Equal(t, "ZeroDivisionError: division by zero", transform.Error)
		require.Equal(t, "UPSTREAM_FAILED", res.Tasks[2].ResultState)
		outputs := srv.RequestsTo(http.MethodGet, "/api/2.2/jobs/runs/get-output")
		require.Len(t, outputs, 1, "only the failing task's output is fetched, not the upstream-failed one's")
		require.Equal(t, fmt.Sprint(transform.RunID), outputs[0].Query.Get("run_id"))
	})

	t.Run("SuccessWithFailuresIsAResult", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddJob(42, "nightly")
		srv.ScriptRun(42, failingRunScript("SUCCESS_WITH_FAILURES"))
		res, err := c.RunJob(context.Background(), databricks.JobRequest{JobID: 42, IdempotencyToken: "t"}, nil, nil)
		require.NoError(t, err)
		require.Equal(t, databricks.OutcomeSuccessWithFailures, res.Outcome)
		require.Equal(t, "ZeroDivisionError: division by zero", res.Tasks[1].Error)
	})

	t.Run("TimedOut", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddJob(42, "nightly")
		srv.ScriptRun(42, databrickstest.RunScript{
			Steps: []databrickstest.RunStep{{LifeCycle: "RUNNING"}, {LifeCycle: "TERMINATED", Result: "TIMEDOUT", Message: "Run timed out after 3600 seconds."}},
			Tasks: []databrickstest.TaskScript{{Key: "main", Result: "TIMEDOUT", Error: "Task timed out", ErrorTrace: ""}},
		})
		res, err := c.RunJob(context.Background(), databricks.JobRequest{JobID: 42, IdempotencyToken: "t"}, nil, nil)
		require.Equal(t, databricks.OutcomeTimedOut, res.Outcome)
		require.Equal(t, databricks.KindTimedOut, databricks.KindOf(err))
		require.Equal(t, fmt.Sprintf(`run %d of job 42 TIMEDOUT in workspace %s: Run timed out after 3600 seconds.: `+
			`raise the job's timeout_seconds or make it faster (run page: %s)`, res.RunID, srv.URL, res.RunPageURL), err.(*databricks.Error).Message)
	})

	t.Run("ContextCancelCancelsRun", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddJob(42, "nightly")
		srv.ScriptRun(42, databrickstest.RunScript{Steps: []databrickstest.RunStep{{LifeCycle: "RUNNING"}}})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var hb beats[databricks.JobResume, databricks.JobProgress]
		hb.onBeat = func(_ databricks.JobResume, p databricks.JobProgress) {
			if p.LifeCycleState == "RUNNING" {
				cancel()
			}
		}
		res, err := c.RunJob(ctx, databricks.JobRequest{JobID: 42, IdempotencyToken: "t"}, nil, hb.record)
		require.ErrorIs(t, err, context.Canceled)
		cancels := srv.RequestsTo(http.MethodPost, "/api/2.2/jobs/runs/cancel")
		require.Len(t, cancels, 1)
		require.Equal(t, fmt.Sprintf(`{"run_id":%d}`, res.RunID), bodyJSON(t, cancels[0]))
		require.True(t, srv.Runs(42)[0].Canceled)
	})

	t.Run("ForbiddenIsPermanentAndNotRetried", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddJob(42, "nightly")
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPost, Path: "/api/2.2/jobs/run-now", Status: http.StatusForbidden,
			Message: "User sluice@example.com does not have Manage Run permissions on job 42."})
		_, err := c.RunJob(context.Background(), databricks.JobRequest{JobName: "nightly", IdempotencyToken: "t", Ref: "pipelines/x.yaml:12"}, nil, nil)
		require.True(t, databricks.IsPermanent(err))
		require.Equal(t, databricks.KindPermissionDenied, databricks.KindOf(err))
		require.EqualError(t, err, fmt.Sprintf(`starting job "nightly" (id 42) in workspace %s: permission denied `+
			`(HTTP 403 PERMISSION_DENIED: User sluice@example.com does not have Manage Run permissions on job 42.): `+
			`grant the identity Sluice runs as access, or check pipelines/x.yaml:12`, srv.URL))
		require.Len(t, srv.RequestsTo(http.MethodPost, "/api/2.2/jobs/run-now"), 1)
	})

	t.Run("RateLimitedPollRetried", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddJob(42, "nightly")
		srv.InjectFault(databrickstest.Fault{Path: "/api/2.2/jobs/runs/get", Status: http.StatusTooManyRequests})
		res, err := c.RunJob(context.Background(), databricks.JobRequest{JobID: 42, IdempotencyToken: "t"}, nil, nil)
		require.NoError(t, err)
		require.Equal(t, databricks.OutcomeSuccess, res.Outcome)
		require.Len(t, srv.RequestsTo(http.MethodGet, "/api/2.2/jobs/runs/get"), 4)
	})
}

func taskState(t databricks.TaskRun) string {
	return t.TaskKey + ":" + t.LifeCycleState + ":" + t.ResultState
}
