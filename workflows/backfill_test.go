package workflows

import (
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
)

// backfillHarness runs Backfill in Temporal's test environment with a
// stand-in RunPipeline child that sleeps for an hour of workflow time and
// ends as the test says.
type backfillHarness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu       sync.Mutex
	started  []run.Input
	ids      []string
	running  int
	maxSeen  int
	statusOf func(in run.Input) dag.Status // default SUCCESS
}

func setupBackfill(t *testing.T) *backfillHarness {
	t.Helper()
	h := &backfillHarness{t: t}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	h.env = suite.NewTestWorkflowEnvironment()
	h.env.SetTestTimeout(30 * time.Second)
	h.env.RegisterWorkflowWithOptions(Backfill, workflow.RegisterOptions{Name: BackfillWorkflowName})
	h.env.RegisterWorkflowWithOptions(h.runPipeline, workflow.RegisterOptions{Name: run.WorkflowName})
	return h
}

func (h *backfillHarness) runPipeline(ctx workflow.Context, in run.Input) (*run.Status, error) {
	h.mu.Lock()
	h.started = append(h.started, in)
	h.ids = append(h.ids, workflow.GetInfo(ctx).WorkflowExecution.ID)
	h.running++
	h.maxSeen = max(h.maxSeen, h.running)
	statusOf := h.statusOf
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.running--
		h.mu.Unlock()
	}()
	logical, err := run.ParseLogicalDate(in.LogicalDate)
	if err != nil {
		return nil, err
	}
	st := &run.Status{Pipeline: in.Pipeline, Env: in.Env, Trigger: in.Trigger, LogicalDate: logical, Status: dag.StatusSuccess,
		Tasks: []run.Task{{Key: "load", State: dag.Success}}}
	if err := workflow.Sleep(ctx, time.Hour); err != nil {
		st.Status, st.Tasks[0].State = dag.StatusCanceled, dag.Canceled
		return nil, temporal.NewCanceledError(*st)
	}
	if statusOf != nil {
		st.Status = statusOf(in)
	}
	if st.Status == dag.StatusFailed {
		st.Tasks[0].State = dag.Failed
		return nil, temporal.NewNonRetryableApplicationError("pipeline failed", ErrPipelineFailed, nil, *st)
	}
	return st, nil
}

// execute runs a backfill and returns its result, decoded from the failure's
// details when it did not succeed, and the workflow error.
func (h *backfillHarness) execute(in BackfillInput) (*BackfillResult, error) {
	h.t.Helper()
	h.env.ExecuteWorkflow(BackfillWorkflowName, in)
	require.True(h.t, h.env.IsWorkflowCompleted())
	err := h.env.GetWorkflowError()
	var res BackfillResult
	if err == nil {
		require.NoError(h.t, h.env.GetWorkflowResult(&res))
		return &res, nil
	}
	var ae *temporal.ApplicationError
	var ce *temporal.CanceledError
	switch {
	case errors.As(err, &ae) && ae.HasDetails():
		require.NoError(h.t, ae.Details(&res))
	case errors.As(err, &ce) && ce.HasDetails():
		require.NoError(h.t, ce.Details(&res))
	default:
		return nil, err
	}
	return &res, err
}

func days(n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = time.Date(2026, 11, 1+i, 6, 0, 0, 0, time.UTC)
	}
	return out
}

func statuses(res *BackfillResult) []dag.Status {
	out := make([]dag.Status, len(res.Runs))
	for i, r := range res.Runs {
		out[i] = r.Status
	}
	return out
}

func TestBackfillRunsEveryDateInOrderWithBoundedParallelism(t *testing.T) {
	t.Parallel()
	h := setupBackfill(t)
	res, err := h.execute(BackfillInput{Pipeline: "daily", Env: "prod", LogicalDates: days(5), Parallel: 2})
	require.NoError(t, err)
	require.Equal(t, dag.StatusSuccess, res.Status)
	require.Equal(t, []dag.Status{dag.StatusSuccess, dag.StatusSuccess, dag.StatusSuccess, dag.StatusSuccess, dag.StatusSuccess}, statuses(res))
	require.Equal(t, 2, h.maxSeen, "never more than --parallel runs at once, and that many when there is work")
	want := []string{
		"sluice/daily/prod/2026-11-01T06:00:00Z", "sluice/daily/prod/2026-11-02T06:00:00Z", "sluice/daily/prod/2026-11-03T06:00:00Z",
		"sluice/daily/prod/2026-11-04T06:00:00Z", "sluice/daily/prod/2026-11-05T06:00:00Z",
	}
	require.ElementsMatch(t, want, h.ids, "one child per date, id sluice/<pipeline>/<env>/<logical time>")
	for i, r := range res.Runs {
		require.Equal(t, want[i], r.WorkflowID, "the result lists runs in date order")
		require.NotEmpty(t, r.RunID)
	}
	for i, id := range h.ids {
		logical, err := time.Parse(time.RFC3339, id[len("sluice/daily/prod/"):])
		require.NoError(t, err)
		require.Equal(t, run.Input{Pipeline: "daily", Env: "prod", Trigger: run.TriggerBackfill, LogicalDate: logical.Format(time.RFC3339)}, h.started[i],
			"each child gets trigger BACKFILL and its own logical date")
	}
}

func TestBackfillDefaultsToOneRunAtATime(t *testing.T) {
	t.Parallel()
	h := setupBackfill(t)
	res, err := h.execute(BackfillInput{Pipeline: "daily", Env: "prod", LogicalDates: days(3)})
	require.NoError(t, err)
	require.Equal(t, 1, res.Parallel)
	require.Equal(t, 1, h.maxSeen)
	require.Len(t, h.started, 3)
}

func TestBackfillFailedRunFailsBackfillButTheOthersRun(t *testing.T) {
	t.Parallel()
	h := setupBackfill(t)
	h.statusOf = func(in run.Input) dag.Status {
		switch in.LogicalDate {
		case "2026-11-02T06:00:00Z":
			return dag.StatusFailed
		case "2026-11-03T06:00:00Z":
			return dag.StatusSuccessWithFailures
		}
		return dag.StatusSuccess
	}
	res, err := h.execute(BackfillInput{Pipeline: "daily", Env: "prod", LogicalDates: days(4)})
	var ae *temporal.ApplicationError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, ErrBackfillFailed, ae.Type())
	require.Equal(t, "1 of 4 runs of daily did not succeed", ae.Message())
	require.Equal(t, dag.StatusFailed, res.Status)
	require.Equal(t, []dag.Status{dag.StatusSuccess, dag.StatusFailed, dag.StatusSuccessWithFailures, dag.StatusSuccess}, statuses(res))
	require.Equal(t, []string{"load"}, res.Runs[1].FailedTasks)
	require.Equal(t, "pipeline failed", res.Runs[1].Error)
}

func TestBackfillWithFailuresInsideRunsSucceedsWithFailures(t *testing.T) {
	t.Parallel()
	h := setupBackfill(t)
	h.statusOf = func(run.Input) dag.Status { return dag.StatusSuccessWithFailures }
	res, err := h.execute(BackfillInput{Pipeline: "daily", Env: "prod", LogicalDates: days(2), Parallel: 4})
	require.NoError(t, err)
	require.Equal(t, dag.StatusSuccessWithFailures, res.Status)
}

func TestBackfillCancelStopsTheRunInProgressAndStartsNoMore(t *testing.T) {
	t.Parallel()
	h := setupBackfill(t)
	// runs last an hour each: at 90 minutes the first is done, the second runs
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, 90*time.Minute)
	res, err := h.execute(BackfillInput{Pipeline: "daily", Env: "prod", LogicalDates: days(3)})
	var ce *temporal.CanceledError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, dag.StatusCanceled, res.Status)
	require.Equal(t, []dag.Status{dag.StatusSuccess, dag.StatusCanceled, dag.StatusCanceled}, statuses(res))
	require.Len(t, h.started, 2, "the third run never starts")
	require.Empty(t, res.Runs[2].RunID)
}

func TestBackfillStatusQueryWhileRunning(t *testing.T) {
	t.Parallel()
	h := setupBackfill(t)
	var mid BackfillResult
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(run.QueryStatus)
		require.NoError(t, err)
		require.NoError(t, v.Get(&mid))
	}, 30*time.Minute)
	_, err := h.execute(BackfillInput{Pipeline: "daily", Env: "prod", LogicalDates: days(3)})
	require.NoError(t, err)
	require.Equal(t, dag.StatusRunning, mid.Status)
	require.Equal(t, []dag.Status{dag.StatusRunning, dag.StatusQueued, dag.StatusQueued}, statuses(&mid))
}

func TestBackfillRejectsBadInput(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		in   BackfillInput
		want string
	}{
		"NoDates":          {BackfillInput{Pipeline: "daily", Env: "prod"}, `input has no "logical_dates"`},
		"NoPipeline":       {BackfillInput{Env: "prod", LogicalDates: days(1)}, `input needs "pipeline" and "env"`},
		"NegativeParallel": {BackfillInput{Pipeline: "daily", Env: "prod", LogicalDates: days(1), Parallel: -1}, "parallel is -1: use 1 or more"},
		"TooMany":          {BackfillInput{Pipeline: "daily", Env: "prod", LogicalDates: make([]time.Time, MaxBackfillRuns+1)}, "1001 logical dates: at most 1000 per backfill"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := setupBackfill(t)
			_, err := h.execute(tc.in)
			var ae *temporal.ApplicationError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, "BackfillInputInvalid", ae.Type())
			require.Equal(t, tc.want, ae.Message())
			require.Empty(t, h.started)
		})
	}
}
