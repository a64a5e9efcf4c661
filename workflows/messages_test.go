package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/sluicedata/sluice/activities/builtin"
	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/task"
)

func TestWaitForSignal(t *testing.T) {
	t.Parallel()
	t.Run("SentBeforeTheTaskWaits", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		// as signal-with-start delivers it: before the first workflow task
		h.env.RegisterDelayedCallback(func() {
			h.env.SignalWorkflow(run.SignalDataReady, map[string]any{"dataset": "orders", "date": "2026-11-22", "rows": 42})
		}, 0)
		st, err := h.execute(run.Input{Pipeline: "wait", LogicalDate: "2026-11-22"})
		require.NoError(t, err)
		require.Equal(t, dag.StatusSuccess, st.Status)
		require.Equal(t, "got 42", h.inputs["load"][0].Config.Message, "the signal payload is the task's output")
	})
	t.Run("OnlyAMatchingSignalCounts", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		h.env.RegisterDelayedCallback(func() {
			h.env.SignalWorkflow(run.SignalDataReady, map[string]any{"dataset": "orders", "date": "2026-11-21"})
			h.env.SignalWorkflow(run.SignalDataReady, map[string]any{"dataset": "items", "date": "2026-11-22"})
		}, time.Minute)
		h.env.RegisterDelayedCallback(func() {
			v, err := h.env.QueryWorkflow(run.QueryStatus)
			require.NoError(t, err)
			var st run.Status
			require.NoError(t, v.Get(&st))
			require.Equal(t, dag.Running, st.Task("upstream_ready").State)
			require.Equal(t, "waiting for signal data-ready {dataset=orders, date=2026-11-22}", st.Task("upstream_ready").Waiting)
			h.env.SignalWorkflow(run.SignalDataReady, map[string]any{"dataset": "orders", "date": "2026-11-22", "rows": 7})
		}, 10*time.Minute)
		st, err := h.execute(run.Input{Pipeline: "wait", LogicalDate: "2026-11-22"})
		require.NoError(t, err)
		require.Equal(t, "got 7", h.inputs["load"][0].Config.Message)
		require.GreaterOrEqual(t, st.Task("upstream_ready").EndedAt.Sub(st.StartedAt), 10*time.Minute)
	})
	t.Run("TimeoutFails", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		st, err := h.execute(run.Input{Pipeline: "wait", LogicalDate: "2026-11-22"})
		require.Error(t, err)
		require.Equal(t, dag.StatusFailed, st.Status)
		w := st.Task("upstream_ready")
		require.Equal(t, dag.TimedOut, w.State)
		require.Equal(t, ErrWaitTimedOut, w.Error.Type)
		require.Equal(t, "no matching signal within 1h", w.Error.Message)
		require.Equal(t, dag.UpstreamFailed, st.Task("load").State)
	})
	t.Run("TimeoutSkips", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		st, err := h.execute(run.Input{Pipeline: "wait_skip"})
		require.NoError(t, err)
		require.Equal(t, dag.Skipped, st.Task("optional_feed").State)
		require.Equal(t, dag.Success, st.Task("after").State)
		require.Equal(t, dag.StatusSuccess, st.Status, "a skipped wait is not a failure")
	})
}

// updates sends approve updates and collects how each ended: the result,
// or the validator's or handler's error. Callbacks run later than the call,
// so results are read after the workflow ends.
type updates struct {
	results map[int]ApproveResult
	errs    map[int]error
}

func (u *updates) send(h *harness, i int, in ApproveInput) {
	if u.results == nil {
		u.results, u.errs = map[int]ApproveResult{}, map[int]error{}
	}
	h.env.UpdateWorkflow(run.UpdateApprove, "", &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { u.errs[i] = err },
		OnComplete: func(v any, err error) {
			if err != nil {
				u.errs[i] = err
				return
			}
			u.results[i] = v.(ApproveResult)
		},
	}, in)
}

func TestApproval(t *testing.T) {
	t.Parallel()
	t.Run("ApproveAfterValidatorRejections", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		var u updates
		inputs := []ApproveInput{
			{Task: "publsh_ok", By: "ana"},
			{Task: "build", By: "ana"},
			{Task: "publish_ok", By: "eve"},
			{Task: "publish_ok"},
			{Task: "publish_ok", By: "ana", Decision: "maybe"},
			{Task: "publish_ok", By: "ana", Comment: "looks right"},
			{Task: "publish_ok", By: "bob"},
		}
		// the last two in one go, while the run still waits: the second is a repeat
		for i, in := range inputs[:5] {
			h.env.RegisterDelayedCallback(func() { u.send(h, i, in) }, time.Hour+time.Duration(i)*time.Second)
		}
		h.env.RegisterDelayedCallback(func() {
			u.send(h, 5, inputs[5])
			u.send(h, 6, inputs[6])
		}, 90*time.Minute)
		st, err := h.execute(run.Input{Pipeline: "approve"})
		require.NoError(t, err)
		reasons := []string{}
		for i := range inputs {
			if e := u.errs[i]; e != nil {
				reasons = append(reasons, e.Error())
			}
		}
		require.Equal(t, []string{
			`no task "publsh_ok" in approve (approval tasks: publish_ok)`,
			`task "build" is a noop task, not an approval (approval tasks: publish_ok)`,
			`eve may not approve "publish_ok" (approvers: ana, bob)`,
			`say who decides: {"task":"publish_ok","by":"you@example.com"}`,
			`decision "maybe": use approve or reject`,
			`task "publish_ok" was already approved by ana`,
		}, reasons)
		require.Equal(t, ApproveResult{Task: "publish_ok", Decision: "approve", State: dag.Success}, u.results[5])
		require.Equal(t, dag.StatusSuccess, st.Status)
		require.Equal(t, "ana", st.Task("publish_ok").Output["approved_by"])
		require.Equal(t, "looks right", st.Task("publish_ok").Output["comment"])
		require.Contains(t, h.order, "publish")
	})
	t.Run("NotWaitingYet", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		release := make(chan struct{})
		h.noop = func(in builtin.NoopInput) (builtin.NoopResult, error) {
			if in.Meta.Task == "build" {
				<-release
			}
			return builtin.NoopResult{}, nil
		}
		var u updates
		h.env.RegisterDelayedCallback(func() { u.send(h, 0, ApproveInput{Task: "publish_ok", By: "ana"}) }, time.Second)
		h.env.RegisterDelayedCallback(func() { close(release) }, 2*time.Second)
		h.env.RegisterDelayedCallback(func() { u.send(h, 1, ApproveInput{Task: "publish_ok", By: "bob"}) }, time.Hour)
		st, err := h.execute(run.Input{Pipeline: "approve"})
		require.NoError(t, err)
		require.EqualError(t, u.errs[0], `task "publish_ok" is not waiting for approval yet (it is PENDING): approve it once its upstream tasks are done`)
		require.Equal(t, "bob", st.Task("publish_ok").Output["approved_by"])
	})
	t.Run("RejectFails", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		var u updates
		h.env.RegisterDelayedCallback(func() {
			u.send(h, 0, ApproveInput{Task: "publish_ok", By: "bob", Decision: "reject", Comment: "numbers are off"})
		}, time.Hour)
		st, err := h.execute(run.Input{Pipeline: "approve"})
		require.Error(t, err)
		require.Equal(t, dag.Failed, u.results[0].State)
		ok := st.Task("publish_ok")
		require.Equal(t, dag.Failed, ok.State)
		require.Equal(t, ErrApprovalRejected, ok.Error.Type)
		require.Equal(t, "rejected by bob: numbers are off", ok.Error.Message)
		require.Equal(t, dag.UpstreamFailed, st.Task("publish").State)
		require.NotContains(t, h.order, "publish")
	})
	t.Run("Timeout", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		st, err := h.execute(run.Input{Pipeline: "approve"})
		require.Error(t, err)
		require.Equal(t, dag.TimedOut, st.Task("publish_ok").State)
		require.Equal(t, "no approval within 2h", st.Task("publish_ok").Error.Message)
		require.GreaterOrEqual(t, st.EndedAt.Sub(st.StartedAt), 2*time.Hour)
	})
}

func TestRunPipelineTask(t *testing.T) {
	t.Parallel()
	t.Run("ChildSucceeds", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		st, err := h.execute(run.Input{Pipeline: "parent", LogicalDate: "2026-11-22"})
		require.NoError(t, err)
		require.Equal(t, dag.StatusSuccess, st.Status)
		child := st.Task("child")
		require.Equal(t, dag.Success, child.State)
		require.Equal(t, "SUCCESS", child.Output["status"])
		require.Equal(t, "default-test-workflow-id/child", child.Output["workflow_id"])
		require.Equal(t, "child SUCCESS", h.inputs["last"][0].Config.Message)
		// the child ran diamond's four tasks with the parent's logical date
		require.ElementsMatch(t, []string{"first", "a", "b", "c", "d", "last"}, h.order)
		require.Equal(t, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), h.inputs["a"][0].Meta.LogicalDate)
		require.Equal(t, string(run.TriggerChained), h.inputs["a"][0].Meta.Trigger)
	})
	t.Run("ChildFailureFailsTheTask", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		h.noop = func(in builtin.NoopInput) (builtin.NoopResult, error) {
			if in.Meta.Task == "flaky" {
				return builtin.NoopResult{}, failure("Boom", "broken", task.Failure{})
			}
			return builtin.NoopResult{}, nil
		}
		st, err := h.execute(run.Input{Pipeline: "parent_of_failure"})
		require.Error(t, err)
		child := st.Task("child")
		require.Equal(t, dag.Failed, child.State)
		require.Equal(t, ErrChildFailed, child.Error.Type)
		require.Equal(t, "pipeline retry FAILED (default-test-workflow-id/child): failed tasks flaky, after", child.Error.Message)
	})
}
