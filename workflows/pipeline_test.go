package workflows

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sluicedata/sluice/activities/builtin"
	"github.com/sluicedata/sluice/activities/history"
	"github.com/sluicedata/sluice/activities/notify"
	"github.com/sluicedata/sluice/activities/plan"
	"github.com/sluicedata/sluice/activities/warehouse"
	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/store"
	"github.com/sluicedata/sluice/internal/task"
)

// harness runs RunPipeline in Temporal's test environment against the
// fixture project in testdata/project. Plan resolution is real; task
// activities are replaced by per-test behaviour, and history writes are
// captured.
type harness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu       sync.Mutex
	snaps    []store.Snapshot
	inputs   map[string][]builtin.NoopInput
	order    []string
	noop     func(in builtin.NoopInput) (builtin.NoopResult, error)
	ctxNoop  func(ctx context.Context, in builtin.NoopInput) (builtin.NoopResult, error)
	running  atomic.Int32
	maxSeen  atomic.Int32
	sqlInput []warehouse.SQLInput
	notified []notify.TaskInput
}

func setup(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, inputs: map[string][]builtin.NoopInput{}}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(30 * time.Second)
	env.RegisterWorkflowWithOptions(RunPipeline, workflow.RegisterOptions{Name: run.WorkflowName})
	env.RegisterActivity(&plan.Activities{ProjectDir: "testdata/project"})
	env.RegisterActivity(&history.Activities{})
	env.RegisterActivity(&builtin.Activities{})
	env.RegisterActivity(&warehouse.Activities{})
	env.RegisterActivity(&notify.Activities{})
	env.OnActivity("Record", mock.Anything, mock.Anything).Return(func(_ context.Context, snap store.Snapshot) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.snaps = append(h.snaps, snap)
		return nil
	})
	env.OnActivity("Noop", mock.Anything, mock.Anything).Return(func(ctx context.Context, in builtin.NoopInput) (builtin.NoopResult, error) {
		n := h.running.Add(1)
		defer h.running.Add(-1)
		for {
			m := h.maxSeen.Load()
			if n <= m || h.maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		h.mu.Lock()
		h.inputs[in.Meta.Task] = append(h.inputs[in.Meta.Task], in)
		h.order = append(h.order, in.Meta.Task)
		fn, cfn := h.noop, h.ctxNoop
		h.mu.Unlock()
		if cfn != nil {
			return cfn(ctx, in)
		}
		if fn != nil {
			return fn(in)
		}
		return builtin.NoopResult{Message: in.Config.Message}, nil
	})
	env.OnActivity("RunSQL", mock.Anything, mock.Anything).Return(func(_ context.Context, in warehouse.SQLInput) (warehouse.SQLResult, error) {
		h.mu.Lock()
		h.sqlInput = append(h.sqlInput, in)
		h.mu.Unlock()
		return warehouse.SQLResult{Statements: 1, RowsAffected: 3}, nil
	})
	env.OnActivity("SendTask", mock.Anything, mock.Anything).Return(func(_ context.Context, in notify.TaskInput) (notify.TaskResult, error) {
		h.mu.Lock()
		h.notified = append(h.notified, in)
		h.mu.Unlock()
		return notify.TaskResult{Delivered: in.Config.Channels, Message: in.Config.Message}, nil
	})
	h.env = env
	return h
}

// execute runs the pipeline and returns its status (decoded from the result
// or from the failure's details) and the workflow error.
func (h *harness) execute(in run.Input) (*run.Status, error) {
	h.t.Helper()
	h.env.ExecuteWorkflow(run.WorkflowName, in)
	require.True(h.t, h.env.IsWorkflowCompleted())
	err := h.env.GetWorkflowError()
	var st run.Status
	if err == nil {
		require.NoError(h.t, h.env.GetWorkflowResult(&st))
		return &st, nil
	}
	var ae *temporal.ApplicationError
	var ce *temporal.CanceledError
	switch {
	case errors.As(err, &ae) && ae.HasDetails():
		require.NoError(h.t, ae.Details(&st))
	case errors.As(err, &ce) && ce.HasDetails():
		require.NoError(h.t, ce.Details(&st))
	default:
		return nil, err
	}
	return &st, err
}

func states(st *run.Status) map[string]dag.State {
	out := map[string]dag.State{}
	for _, t := range st.Tasks {
		out[t.Key] = t.State
	}
	return out
}

// failure builds the error task.Run returns for a failed attempt.
func failure(errType, msg string, f task.Failure) error {
	return temporal.NewApplicationErrorWithOptions(msg, errType, temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{f}})
}

func (h *harness) lastSnapshot() store.Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	require.NotEmpty(h.t, h.snaps)
	return h.snaps[len(h.snaps)-1]
}

func TestDiamondRunsInDependencyOrderAndPassesOutputs(t *testing.T) {
	t.Parallel()
	h := setup(t)
	st, err := h.execute(run.Input{Pipeline: "diamond", LogicalDate: "2026-11-22"})
	require.NoError(t, err)
	require.Equal(t, dag.StatusSuccess, st.Status)
	require.Equal(t, map[string]dag.State{"a": dag.Success, "b": dag.Success, "c": dag.Success, "d": dag.Success}, states(st))
	require.Equal(t, "a", h.order[0])
	require.Equal(t, "d", h.order[3])
	require.Equal(t, "b saw from-a", h.inputs["b"][0].Config.Message, "b's message references a's output")
	require.Equal(t, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), st.LogicalDate)
	require.Equal(t, run.TriggerManual, st.Trigger)
	require.Equal(t, "local", st.Env, "default_env applies")
	require.NotEmpty(t, st.PlanHash)

	final := h.lastSnapshot()
	require.Equal(t, dag.StatusSuccess, final.Run.Status)
	require.Len(t, final.Run.Tasks, 4, "the final history write carries every task")
	require.NotEmpty(t, final.Plan, "the plan is recorded")
	for i := 1; i < len(h.snaps); i++ {
		require.Greater(t, h.snaps[i].Seq, h.snaps[i-1].Seq, "history writes are sequenced")
	}
}

func TestParallelismCap(t *testing.T) {
	t.Parallel()
	h := setup(t)
	h.noop = func(in builtin.NoopInput) (builtin.NoopResult, error) {
		time.Sleep(30 * time.Millisecond) // overlap real goroutines
		return builtin.NoopResult{}, nil
	}
	st, err := h.execute(run.Input{Pipeline: "fanout"})
	require.NoError(t, err)
	require.Equal(t, dag.StatusSuccess, st.Status)
	require.Equal(t, int32(2), h.maxSeen.Load(), "max_parallel: 2 allows exactly two tasks at once")
	require.Equal(t, "join", h.order[len(h.order)-1])
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	h := setup(t)
	var starts []time.Time
	h.noop = func(in builtin.NoopInput) (builtin.NoopResult, error) {
		if in.Meta.Task != "flaky" {
			return builtin.NoopResult{}, nil
		}
		starts = append(starts, h.env.Now())
		if in.Meta.Attempt < 3 {
			return builtin.NoopResult{}, failure("WarehouseUnavailable", "connection refused", task.Failure{Retryable: true})
		}
		return builtin.NoopResult{Message: "third time"}, nil
	}
	st, err := h.execute(run.Input{Pipeline: "retry"})
	require.NoError(t, err)
	require.Equal(t, dag.StatusSuccess, st.Status)
	flaky := st.Task("flaky")
	require.Len(t, flaky.Attempts, 3)
	require.Equal(t, []dag.State{dag.Failed, dag.Failed, dag.Success}, []dag.State{flaky.Attempts[0].State, flaky.Attempts[1].State, flaky.Attempts[2].State})
	require.Equal(t, "WarehouseUnavailable", flaky.Attempts[0].Error.Type)
	require.Nil(t, flaky.Error, "a task that finally succeeded carries no error")
	require.Len(t, starts, 3)
	require.GreaterOrEqual(t, starts[1].Sub(starts[0]), 60*time.Second, "first retry after interval")
	require.GreaterOrEqual(t, starts[2].Sub(starts[1]), 120*time.Second, "second retry after interval*backoff")
	require.Equal(t, dag.Success, st.Task("after").State)
}

func TestNonRetryableErrorIsNotRetried(t *testing.T) {
	t.Parallel()
	h := setup(t)
	h.noop = func(in builtin.NoopInput) (builtin.NoopResult, error) {
		return builtin.NoopResult{}, failure("SQLError", "syntax error at or near \"SELCT\"", task.Failure{Retryable: false, Detail: "LINE 1: SELCT"})
	}
	st, err := h.execute(run.Input{Pipeline: "retry"})
	require.Error(t, err)
	var ae *temporal.ApplicationError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, ErrPipelineFailed, ae.Type())
	require.True(t, ae.NonRetryable())
	require.Equal(t, dag.StatusFailed, st.Status)
	flaky := st.Task("flaky")
	require.Len(t, flaky.Attempts, 1, "a permanent error is not retried despite attempts: 3")
	require.Equal(t, dag.Failed, flaky.State)
	require.Equal(t, "SQLError", flaky.Error.Type)
	require.Equal(t, "LINE 1: SELCT", flaky.Error.Detail)
	require.Equal(t, dag.UpstreamFailed, st.Task("after").State)
	require.Equal(t, []string{"flaky", "after"}, st.FailedTasks())
}

func TestTimedOutAttemptRetriedOnlyWithOnTimeout(t *testing.T) {
	t.Parallel()
	h := setup(t)
	h.noop = func(in builtin.NoopInput) (builtin.NoopResult, error) {
		if in.Meta.Attempt == 1 {
			return builtin.NoopResult{}, failure(task.ErrTaskTimeout, "timed out", task.Failure{Retryable: true, Timeout: true})
		}
		return builtin.NoopResult{}, nil
	}
	st, err := h.execute(run.Input{Pipeline: "timeouts"})
	require.Error(t, err)
	require.Equal(t, dag.StatusFailed, st.Status)
	strict, lenient := st.Task("strict"), st.Task("lenient")
	require.Equal(t, dag.TimedOut, strict.State)
	require.Len(t, strict.Attempts, 1, "on_timeout: false (the default) never retries a timed-out attempt")
	require.Equal(t, dag.Success, lenient.State)
	require.Len(t, lenient.Attempts, 2, "on_timeout: true retries it")
	require.Equal(t, dag.TimedOut, lenient.Attempts[0].State)
}

func TestRunIfValues(t *testing.T) {
	t.Parallel()
	h := setup(t)
	h.noop = func(in builtin.NoopInput) (builtin.NoopResult, error) {
		if in.Meta.Task == "bad" {
			return builtin.NoopResult{}, failure("Boom", "bad failed", task.Failure{})
		}
		return builtin.NoopResult{}, nil
	}
	st, err := h.execute(run.Input{Pipeline: "runif"})
	require.Error(t, err)
	require.Equal(t, map[string]dag.State{
		"ok":              dag.Success,
		"bad":             dag.Failed,
		"needs_all":       dag.UpstreamFailed,
		"cleanup":         dag.Success,
		"on_failure":      dag.Success,
		"on_all_failed":   dag.Skipped,
		"any_success":     dag.Success,
		"none_failed":     dag.Success,
		"after_needs_all": dag.UpstreamFailed,
	}, states(st))
	require.Equal(t, dag.StatusFailed, st.Status, "leaf after_needs_all was not run because of an upstream failure")
	require.ElementsMatch(t, []string{"ok", "bad", "cleanup", "on_failure", "any_success", "none_failed"}, h.order)
}

func TestSuccessWithFailures(t *testing.T) {
	t.Parallel()
	h := setup(t)
	h.noop = func(in builtin.NoopInput) (builtin.NoopResult, error) {
		if in.Meta.Task == "optional" {
			return builtin.NoopResult{}, failure("Boom", "optional step failed", task.Failure{})
		}
		return builtin.NoopResult{}, nil
	}
	st, err := h.execute(run.Input{Pipeline: "partial"})
	require.NoError(t, err, "SUCCESS_WITH_FAILURES completes the workflow")
	require.Equal(t, dag.StatusSuccessWithFailures, st.Status)
	require.Equal(t, dag.Success, st.Task("report").State)
}

func TestDisabledAndOnly(t *testing.T) {
	t.Parallel()
	t.Run("Disabled", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		st, err := h.execute(run.Input{Pipeline: "selection"})
		require.NoError(t, err)
		require.Equal(t, map[string]dag.State{"a": dag.Success, "b": dag.Disabled, "c": dag.Success, "d": dag.Success}, states(st))
		require.NotContains(t, h.order, "b")
		require.Equal(t, dag.StatusSuccess, st.Status)
	})
	t.Run("Only", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		st, err := h.execute(run.Input{Pipeline: "selection", Only: []string{"c"}})
		require.NoError(t, err)
		require.Equal(t, map[string]dag.State{"a": dag.Excluded, "b": dag.Excluded, "c": dag.Success, "d": dag.Excluded}, states(st),
			"a task outside --only is EXCLUDED even when also disabled")
		require.Equal(t, []string{"c"}, h.order)
	})
}

func TestQueryStatusWhileRunning(t *testing.T) {
	t.Parallel()
	h := setup(t)
	release := make(chan struct{})
	h.noop = func(in builtin.NoopInput) (builtin.NoopResult, error) {
		if in.Meta.Task == "long" {
			<-release
		}
		return builtin.NoopResult{}, nil
	}
	var seen run.Status
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(run.QueryStatus)
		require.NoError(t, err)
		require.NoError(t, v.Get(&seen))
		close(release)
	}, time.Second)
	st, err := h.execute(run.Input{Pipeline: "slow"})
	require.NoError(t, err)
	require.Equal(t, dag.StatusSuccess, st.Status)
	require.Equal(t, dag.StatusRunning, seen.Status)
	require.Equal(t, map[string]dag.State{"first": dag.Success, "long": dag.Running, "never": dag.Pending}, states(&seen))
}

func TestCancelStopsRunningTasksAndRecordsHistory(t *testing.T) {
	t.Parallel()
	h := setup(t)
	h.noop = func(in builtin.NoopInput) (builtin.NoopResult, error) {
		if in.Meta.Task == "long" {
			time.Sleep(2 * time.Second) // the test env cancels the workflow meanwhile
		}
		return builtin.NoopResult{}, nil
	}
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, time.Second)
	st, err := h.execute(run.Input{Pipeline: "slow"})
	require.Error(t, err)
	var ce *temporal.CanceledError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, dag.StatusCanceled, st.Status)
	require.Equal(t, dag.Success, st.Task("first").State)
	require.Equal(t, dag.Canceled, st.Task("long").State)
	require.Equal(t, dag.Canceled, st.Task("never").State)
	final := h.lastSnapshot()
	require.Equal(t, dag.StatusCanceled, final.Run.Status, "history is written after cancellation")
	require.Len(t, final.Run.Tasks, 3)
}

func TestPipelineTimeout(t *testing.T) {
	t.Parallel()
	h := setup(t)
	h.ctxNoop = func(ctx context.Context, in builtin.NoopInput) (builtin.NoopResult, error) {
		if in.Meta.Task == "long" {
			<-ctx.Done() // runs until the pipeline timeout cancels it
			return builtin.NoopResult{}, temporal.NewCanceledError()
		}
		return builtin.NoopResult{}, nil
	}
	st, err := h.execute(run.Input{Pipeline: "short_timeout"})
	require.Error(t, err)
	var ae *temporal.ApplicationError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, ErrPipelineTimedOut, ae.Type())
	require.Equal(t, dag.StatusTimedOut, st.Status)
	require.Equal(t, dag.Success, st.Task("first").State)
	require.Equal(t, dag.TimedOut, st.Task("long").State)
	require.Equal(t, ErrPipelineTimedOut, st.Task("long").Error.Type)
	require.Equal(t, dag.Canceled, st.Task("never").State)
	require.GreaterOrEqual(t, st.EndedAt.Sub(st.StartedAt), 2*time.Second, "short_timeout.yaml has timeout: 2s")
}

func TestUnknownPipelineFailsWithReason(t *testing.T) {
	t.Parallel()
	h := setup(t)
	st, err := h.execute(run.Input{Pipeline: "dimaond"})
	require.Error(t, err)
	var ae *temporal.ApplicationError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, ErrPipelineFailed, ae.Type())
	require.Equal(t, dag.StatusFailed, st.Status)
	require.Contains(t, st.Error, `unknown pipeline "dimaond"`)
	require.Contains(t, st.Error, `did you mean "diamond"?`)
	require.Equal(t, dag.StatusFailed, h.lastSnapshot().Run.Status, "a run that could not start is in history too")
}

func TestSQLAndNotifyInputs(t *testing.T) {
	t.Parallel()
	h := setup(t)
	st, err := h.execute(run.Input{Pipeline: "mixed", Params: map[string]any{"n": "7"}})
	require.NoError(t, err)
	require.Equal(t, dag.StatusSuccess, st.Status)
	require.Equal(t, []string{"SELECT 7"}, h.sqlInput[0].Config.Statements, "params are resolved when planning")
	require.Equal(t, "rows=3", h.notified[0].Config.Message, "outputs are resolved before dispatch")
	require.Equal(t, "log", h.notified[0].Channels["console"].Type)
	require.True(t, slices.Contains(h.notified[0].Config.Channels, "console"))
}
