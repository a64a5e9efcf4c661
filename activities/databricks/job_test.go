package databricks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	adatabricks "github.com/sluicedata/sluice/activities/databricks"
	"github.com/sluicedata/sluice/activities/databricks/acttest"
	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/databricks/databrickstest"
	"github.com/sluicedata/sluice/internal/spec"
)

const wantToken = "sluice/nightly/prod/2026-11-22/run-1/export"

// setupJob starts a fake workspace with job 42 "nightly_export" and returns
// the activities and a job input naming the job.
func setupJob(t *testing.T) (*adatabricks.Activities, *databrickstest.Server, adatabricks.JobInput) {
	t.Helper()
	srv := databrickstest.New(t, databrickstest.WithToken(acttest.Token), databrickstest.WithUnknownFields())
	srv.AddJob(42, "nightly_export", "ingest", "export")
	acts := &adatabricks.Activities{Runner: acttest.Runner(), Clients: acttest.Clients()}
	in := adatabricks.JobInput{
		Meta:   acttest.Meta(srv.URL, "export", "databricks_job"),
		Config: spec.DatabricksJobConfig{Job: "nightly_export", JobParameters: map[string]string{"date": "2026-11-22", "env": "prod"}},
	}
	return acts, srv, in
}

func runJob(t *testing.T, acts *adatabricks.Activities, in adatabricks.JobInput) (adatabricks.JobResult, *acttest.Beats, error) {
	t.Helper()
	return acttest.Execute[adatabricks.JobResult](t, acts, acts.RunJob, in)
}

// runNowBodies returns the canonical JSON bodies of the run-now requests.
func runNowBodies(t *testing.T, srv *databrickstest.Server) []string {
	return srv.Bodies(t, http.MethodPost, "/api/2.2/jobs/run-now")
}

func TestRunJob(t *testing.T) {
	t.Parallel()

	t.Run("RunsWithParametersAndIdempotencyToken", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupJob(t)
		res, beats, err := runJob(t, acts, in)
		require.NoError(t, err)

		require.Equal(t, wantToken, databricks.IdempotencyToken(in.Meta.WorkflowID, in.Meta.RunID, in.Meta.Task))
		require.Equal(t, []string{`{"idempotency_token":"` + wantToken + `","job_id":42,"job_parameters":{"date":"2026-11-22","env":"prod"}}`},
			runNowBodies(t, srv))
		runs := srv.Runs(42)
		require.Len(t, runs, 1)
		require.Equal(t, map[string]string{"date": "2026-11-22", "env": "prod"}, runs[0].Parameters)

		require.Equal(t, int64(42), res.JobID)
		require.Equal(t, runs[0].ID, res.RunID)
		require.Equal(t, "SUCCESS", res.Outcome)
		require.Equal(t, fmt.Sprintf("%s/?o=1234567890123456#job/42/run/%d", srv.URL, res.RunID), res.RunPageURL)
		var states []string
		for _, s := range res.States {
			states = append(states, s.State)
		}
		require.Equal(t, []string{"PENDING", "RUNNING", "TERMINATED"}, states)
		require.Len(t, res.Tasks, 2)
		require.Equal(t, []string{"ingest SUCCESS", "export SUCCESS"},
			[]string{res.Tasks[0].Key + " " + res.Tasks[0].State, res.Tasks[1].Key + " " + res.Tasks[1].State})
		require.False(t, res.Reattached)

		// Later heartbeats are throttled by the SDK; the first is sent at once.
		require.JSONEq(t, `{"run":"run-1","attempt":1,"token":"`+wantToken+`"}`, string(beats.Details()[0]),
			"the token is recorded before run-now")
	})

	t.Run("FailedTaskIsPermanentWithItsErrorAndTrace", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupJob(t)
		srv.ScriptRun(42, databrickstest.RunScript{
			Steps: []databrickstest.RunStep{{LifeCycle: "RUNNING"}, {LifeCycle: "TERMINATED", Result: "FAILED", Message: "Task export failed with message: Workload failed."}},
			Tasks: []databrickstest.TaskScript{{Key: "ingest", Result: "SUCCESS"}, {Key: "export", Result: "FAILED"}},
		})
		_, _, err := runJob(t, acts, in)
		typ, msg, f := acttest.Failure(t, err)
		require.Equal(t, "DatabricksFailed", typ)
		require.False(t, f.Retryable)
		runID := srv.Runs(42)[0].ID
		require.Equal(t, fmt.Sprintf(`run %d of job "nightly_export" (id 42) FAILED in workspace %s: Task export failed with message: Workload failed. (run page: %s/?o=1234567890123456#job/42/run/%d)`,
			runID, srv.URL, srv.URL, runID), msg)
		require.True(t, strings.HasPrefix(f.Detail, "task export (run "), f.Detail)
		require.Contains(t, f.Detail, ") FAILED: ZeroDivisionError: division by zero\n")
		require.Contains(t, f.Detail, "----> 4 ratio = delivered / orders.filter(\"order_status = 'canceled'\").count()")
		require.Contains(t, string(f.Resume), `"ended":true`, "a repair starts a new run")
	})

	t.Run("TimedOutRunIsPermanent", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupJob(t)
		srv.ScriptRun(42, databrickstest.RunScript{
			Steps: []databrickstest.RunStep{{LifeCycle: "TERMINATED", Result: "TIMEDOUT", Message: "Run timed out."}},
			Tasks: []databrickstest.TaskScript{{Key: "export", Result: "TIMEDOUT"}},
		})
		_, _, err := runJob(t, acts, in)
		typ, msg, f := acttest.Failure(t, err)
		require.Equal(t, "DatabricksTimedOut", typ)
		require.False(t, f.Retryable)
		require.Contains(t, msg, "TIMEDOUT in workspace "+srv.URL+": Run timed out.: raise the job's timeout_seconds")
	})

	t.Run("SuccessWithFailuresSucceeds", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupJob(t)
		srv.ScriptRun(42, databrickstest.RunScript{
			Steps: []databrickstest.RunStep{{LifeCycle: "TERMINATED", Result: "SUCCESS_WITH_FAILURES"}},
			Tasks: []databrickstest.TaskScript{{Key: "ingest", Result: "FAILED"}, {Key: "export", Result: "SUCCESS"}},
		})
		res, _, err := runJob(t, acts, in)
		require.NoError(t, err)
		require.Equal(t, "SUCCESS_WITH_FAILURES", res.Outcome)
		require.Equal(t, "FAILED", res.Tasks[0].State)
		require.Equal(t, "ZeroDivisionError: division by zero", res.Tasks[0].Error)
	})

	t.Run("ReattachesToTheRunInTheResumeDetails", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupJob(t)
		runID := startRun(t, srv, 42, "earlier-token")
		in.Meta.Resume = json.RawMessage(fmt.Sprintf(`{"run":"run-1","attempt":1,"token":"earlier-token","job_id":42,"run_id":%d}`, runID))
		res, _, err := runJob(t, acts, in)
		require.NoError(t, err)
		require.Equal(t, runID, res.RunID)
		require.True(t, res.Reattached)
		require.Len(t, runNowBodies(t, srv), 1, "only the run-now of the earlier attempt")
		require.Len(t, srv.Runs(42), 1)
	})

	t.Run("RateLimitedRunNowRetriedWithTheSameToken", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupJob(t)
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPost, Path: "/api/2.2/jobs/run-now", Status: 429, RetryAfter: "0"})
		res, _, err := runJob(t, acts, in)
		require.NoError(t, err)
		require.Equal(t, "SUCCESS", res.Outcome)
		bodies := runNowBodies(t, srv)
		require.Len(t, bodies, 2)
		require.Equal(t, bodies[0], bodies[1])
		require.Len(t, srv.Runs(42), 1)
	})

	t.Run("LostRunNowAnswerDoesNotStartASecondRun", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupJob(t)
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPost, Path: "/api/2.2/jobs/run-now", Status: 503, AfterHandling: true})
		_, _, err := runJob(t, acts, in)
		require.NoError(t, err)
		require.Len(t, runNowBodies(t, srv), 2)
		require.Len(t, srv.Runs(42), 1, "the token made the second run-now return the first run")
	})

	t.Run("EndedRunInAnEarlierAttemptStartsANewRun", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupJob(t)
		first := startRun(t, srv, 42, wantToken)
		in.Meta.Attempt = 2
		in.Meta.Resume = json.RawMessage(fmt.Sprintf(`{"run":"run-1","attempt":1,"token":%q,"job_id":42,"run_id":%d,"ended":true}`, wantToken, first))
		res, _, err := runJob(t, acts, in)
		require.NoError(t, err)
		require.NotEqual(t, first, res.RunID)
		runs := srv.Runs(42)
		require.Len(t, runs, 2)
		require.Equal(t, databricks.IdempotencyToken(in.Meta.WorkflowID, in.Meta.RunID, "export", "attempt-2"), runs[1].IdempotencyToken)
	})

	t.Run("CancelCancelsTheRun", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupJob(t)
		steps := []databrickstest.RunStep{{LifeCycle: "PENDING"}}
		for range 1000 {
			steps = append(steps, databrickstest.RunStep{LifeCycle: "RUNNING"})
		}
		srv.ScriptRun(42, databrickstest.RunScript{Steps: steps})
		err := runCancelledWhenRunning(t, acts, in, srv, nil)
		var ce *temporal.CanceledError
		require.True(t, errors.As(err, &ce), "want a cancellation, got %v", err)
		runs := srv.Runs(42)
		require.Len(t, runs, 1)
		require.True(t, runs[0].Canceled)
		require.Len(t, srv.RequestsTo(http.MethodPost, "/api/2.2/jobs/runs/cancel"), 1)
	})

	t.Run("WorkerShutdownLeavesTheRunRunning", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupJob(t)
		steps := []databrickstest.RunStep{{LifeCycle: "PENDING"}}
		for range 1000 {
			steps = append(steps, databrickstest.RunStep{LifeCycle: "RUNNING"})
		}
		srv.ScriptRun(42, databrickstest.RunScript{Steps: steps})
		err := runCancelledWhenRunning(t, acts, in, srv, worker.ErrWorkerShutdown)
		require.Error(t, err)
		runs := srv.Runs(42)
		require.Len(t, runs, 1)
		require.False(t, runs[0].Canceled, "another worker re-attaches to it")
		require.Empty(t, srv.RequestsTo(http.MethodPost, "/api/2.2/jobs/runs/cancel"))
	})

	t.Run("UnknownJobNameSaysWhereItIsNamed", func(t *testing.T) {
		t.Parallel()
		acts, _, in := setupJob(t)
		in.Config.Job = "nightly_exprot"
		_, _, err := runJob(t, acts, in)
		typ, msg, f := acttest.Failure(t, err)
		require.Equal(t, "DatabricksNotFound", typ)
		require.False(t, f.Retryable)
		require.Contains(t, msg, `job "nightly_exprot" not found in workspace`)
		require.Contains(t, msg, "task export with.job_id / with.job")
	})

	t.Run("LocalEngineIsAConfigError", func(t *testing.T) {
		t.Parallel()
		acts, _, in := setupJob(t)
		in.Meta.Target.Engine = spec.EngineLocal
		_, _, err := runJob(t, acts, in)
		typ, msg, _ := acttest.Failure(t, err)
		require.Equal(t, "ConfigInvalid", typ)
		require.Equal(t, "task export: databricks_job needs an environment with engine: databricks, and prod uses engine local", msg)
	})
}

// startRun starts a run of job directly through the fake's API.
func startRun(t *testing.T, srv *databrickstest.Server, job int64, token string) int64 {
	t.Helper()
	body := fmt.Sprintf(`{"job_id":%d,"idempotency_token":%q}`, job, token)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/2.2/jobs/run-now", bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+acttest.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct {
		RunID int64 `json:"run_id"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out.RunID
}

// runCancelledWhenRunning runs the activity and cancels its context (with
// cause, when not nil) once the run has been polled RUNNING.
func runCancelledWhenRunning(t *testing.T, acts *adatabricks.Activities, in adatabricks.JobInput, srv *databrickstest.Server, cause error) error {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	env, _ := acttest.Env(t, acts)
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	go func() {
		// Heartbeats are throttled in the test environment, so watch the
		// fake: cancel after the run has been polled RUNNING.
		for ctx.Err() == nil {
			if len(srv.RequestsTo(http.MethodGet, "/api/2.2/jobs/runs/get")) >= 3 {
				cancel(cause)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	_, err := env.ExecuteActivity(acts.RunJob, in)
	return err
}
