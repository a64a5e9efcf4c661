package workflows

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
)

// Error types of tasks that wait.
const (
	ErrWaitTimedOut     = "WaitTimedOut"
	ErrApprovalRejected = "ApprovalRejected"
	errWaitSkipped      = "WaitSkipped" // internal: on_timeout: skip
)

// Signal is one data-ready (or other named) signal the run received.
type Signal struct {
	Name       string         `json:"name"`
	Payload    map[string]any `json:"payload"`
	ReceivedAt time.Time      `json:"received_at"`
}

// ApproveInput is the payload of the `approve` update:
//
//	{"task":"publish","by":"ana@example.com","comment":"numbers look right"}
//
// Decision is "approve" (default) or "reject"; a rejection fails the task.
type ApproveInput struct {
	Task     string `json:"task"`
	By       string `json:"by"`
	Comment  string `json:"comment,omitempty"`
	Decision string `json:"decision,omitempty"`
}

// ApproveResult answers the caller of the update.
type ApproveResult struct {
	Task     string    `json:"task"`
	Decision string    `json:"decision"`
	State    dag.State `json:"state"`
}

// waiter is a task waiting for a signal or an approval.
type waiter struct {
	task     *taskRun
	future   workflow.Future
	settable workflow.Settable
	cancel   workflow.CancelFunc
	match    map[string]string // wait_for: payload fields to match
	signal   string            // wait_for: signal name
	config   spec.ApprovalConfig
	decided  *ApproveInput // approval: the decision, once made
}

// settle completes the wait once; later calls do nothing.
func (w *waiter) settle(out map[string]any, err error) {
	if w.future.IsReady() {
		return
	}
	w.settable.Set(out, err)
	w.cancel()
}

// setupMessages registers the approve update. Signals are received in the
// run loop (listenSignals).
func (r *pipelineRun) setupMessages(ctx workflow.Context) error {
	r.waiters = map[string]*waiter{}
	return workflow.SetUpdateHandlerWithOptions(ctx, run.UpdateApprove,
		func(ctx workflow.Context, in ApproveInput) (ApproveResult, error) {
			w := r.waiters[in.Task]
			w.decided = &in
			now := workflow.Now(ctx).UTC()
			if decisionOf(in) == "reject" {
				msg := fmt.Sprintf("rejected by %s", in.By)
				if in.Comment != "" {
					msg += ": " + in.Comment
				}
				w.settle(nil, waitError(ErrApprovalRejected, msg, false))
				return ApproveResult{Task: in.Task, Decision: "reject", State: dag.Failed}, nil
			}
			w.settle(map[string]any{"approved_by": in.By, "comment": in.Comment, "approved_at": now.Format(time.RFC3339)}, nil)
			return ApproveResult{Task: in.Task, Decision: "approve", State: dag.Success}, nil
		},
		workflow.UpdateHandlerOptions{Validator: r.validateApproval},
	)
}

func decisionOf(in ApproveInput) string {
	if in.Decision == "" {
		return "approve"
	}
	return in.Decision
}

// waitError builds the error a wait ends with, shaped like an activity's.
func waitError(errType, msg string, timeout bool) error {
	return temporal.NewApplicationErrorWithOptions(msg, errType, temporal.ApplicationErrorOptions{
		NonRetryable: true,
		Details:      []any{task.Failure{Timeout: timeout}},
	})
}

// validateApproval rejects approvals the run cannot take, with the reason
// returned to the caller of the update.
func (r *pipelineRun) validateApproval(in ApproveInput) error {
	if in.Decision != "" && in.Decision != "approve" && in.Decision != "reject" {
		return fmt.Errorf("decision %q: use approve or reject", in.Decision)
	}
	if strings.TrimSpace(in.By) == "" {
		return fmt.Errorf("say who decides: {\"task\":%q,\"by\":\"you@example.com\"}", in.Task)
	}
	if r.plan == nil {
		return fmt.Errorf("the run is still being planned; try again in a moment")
	}
	t, ok := r.byKey[in.Task]
	if !ok || t.plan.Type != "approval" {
		var keys []string
		for _, x := range r.tasks {
			if x.plan.Type == "approval" {
				keys = append(keys, x.plan.Key)
			}
		}
		what := fmt.Sprintf("no task %q in %s", in.Task, r.plan.Pipeline)
		if ok {
			what = fmt.Sprintf("task %q is a %s task, not an approval", in.Task, t.plan.Type)
		}
		if len(keys) == 0 {
			return fmt.Errorf("%s; this pipeline has no approval task", what)
		}
		return fmt.Errorf("%s (approval tasks: %s)", what, strings.Join(keys, ", "))
	}
	w := r.waiters[in.Task]
	if w != nil && w.decided != nil {
		return fmt.Errorf("task %q was already %sd by %s", in.Task, decisionOf(*w.decided), w.decided.By)
	}
	if t.phase == phaseDone {
		return fmt.Errorf("task %q is %s: it no longer waits for approval", in.Task, t.st.State)
	}
	if w == nil || w.future.IsReady() {
		return fmt.Errorf("task %q is not waiting for approval yet (it is %s): approve it once its upstream tasks are done", in.Task, t.st.State)
	}
	if len(w.config.Approvers) > 0 && !slices.Contains(w.config.Approvers, in.By) {
		return fmt.Errorf("%s may not approve %q (approvers: %s)", in.By, in.Task, strings.Join(w.config.Approvers, ", "))
	}
	return nil
}

// startWait begins a wait_for or approval task: a future settled by the
// matching signal or update, or by the wait's timeout.
func (r *pipelineRun) startWait(ctx workflow.Context, t *taskRun, with map[string]any) (workflow.Future, error) {
	fut, settable := workflow.NewFuture(ctx)
	w := &waiter{task: t, future: fut, settable: settable}
	var timeout spec.Duration
	var onTimeout string
	switch t.plan.Type {
	case "wait_for":
		c, err := decode[spec.WaitForConfig](with)
		if err != nil {
			return nil, err
		}
		w.signal = c.Signal
		if w.signal == "" {
			w.signal = run.SignalDataReady
		}
		w.match = map[string]string{}
		for _, k := range sortedKeys(c.Match) {
			w.match[k] = fmt.Sprint(c.Match[k])
		}
		timeout, onTimeout = c.Timeout, c.OnTimeout
		t.st.Waiting = "waiting for signal " + describeSignal(w.signal, w.match)
	case "approval":
		c, err := decode[spec.ApprovalConfig](with)
		if err != nil {
			return nil, err
		}
		w.config = c
		timeout, onTimeout = c.Timeout, c.OnTimeout
		t.st.Waiting = "waiting for approval"
		if c.Message != "" {
			t.st.Waiting += ": " + c.Message
		}
	}
	if timeout == 0 || timeout > t.plan.Timeout {
		timeout = t.plan.Timeout
	}
	tctx, cancel := workflow.WithCancel(ctx)
	w.cancel = cancel
	r.waiters[t.plan.Key] = w
	workflow.Go(ctx, func(gctx workflow.Context) {
		err := workflow.NewTimer(tctx, timeout.D()).Get(gctx, nil)
		switch {
		case w.future.IsReady():
		case err != nil: // the run is ending: cancelled or timed out
			w.settle(nil, temporal.NewCanceledError())
		case onTimeout == "skip":
			w.settle(nil, waitError(errWaitSkipped, fmt.Sprintf("no %s within %s: skipped", what(t), timeout), true))
		default:
			w.settle(nil, waitError(ErrWaitTimedOut, fmt.Sprintf("no %s within %s", what(t), timeout), true))
		}
	})
	if t.plan.Type == "wait_for" {
		for _, sig := range r.signals {
			if w.matches(sig) {
				w.settle(signalOutput(sig), nil)
				break
			}
		}
	}
	return fut, nil
}

func what(t *taskRun) string {
	if t.plan.Type == "approval" {
		return "approval"
	}
	return "matching signal"
}

// matches reports whether a signal satisfies a wait_for task.
func (w *waiter) matches(s Signal) bool {
	if w.signal != s.Name {
		return false
	}
	for _, k := range sortedKeys(w.match) {
		got, ok := s.Payload[k]
		if !ok || fmt.Sprint(got) != w.match[k] {
			return false
		}
	}
	return true
}

func signalOutput(s Signal) map[string]any {
	return map[string]any{"signal": s.Name, "payload": s.Payload, "received_at": s.ReceivedAt.Format(time.RFC3339)}
}

// listenSignals receives the signals wait_for tasks may wait for.
func (r *pipelineRun) listenSignals(ctx workflow.Context) {
	names := []string{run.SignalDataReady}
	for _, t := range r.plan.Tasks {
		if t.Type != "wait_for" {
			continue
		}
		if name, _ := t.With["signal"].(string); name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	for _, name := range names {
		ch := workflow.GetSignalChannel(ctx, name)
		r.sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) {
			var payload map[string]any
			c.Receive(ctx, &payload)
			sig := Signal{Name: name, Payload: payload, ReceivedAt: workflow.Now(ctx).UTC()}
			r.signals = append(r.signals, sig)
			r.logger.Info("signal received", "signal", name, "payload", fmt.Sprint(payload))
			for _, t := range r.tasks {
				if w := r.waiters[t.plan.Key]; w != nil && t.plan.Type == "wait_for" && w.matches(sig) {
					w.settle(signalOutput(sig), nil)
				}
			}
		})
	}
}

func describeSignal(name string, match map[string]string) string {
	if len(match) == 0 {
		return name
	}
	keys := sortedKeys(match)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + match[k]
	}
	return name + " {" + strings.Join(parts, ", ") + "}"
}

// sortedKeys returns a map's keys in order, so nothing in the workflow
// depends on Go's random map iteration.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
