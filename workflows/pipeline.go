package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sluicedata/sluice/activities/history"
	"github.com/sluicedata/sluice/activities/plan"
	"github.com/sluicedata/sluice/internal/dag"
	inotify "github.com/sluicedata/sluice/internal/notify"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/store"
	"github.com/sluicedata/sluice/internal/task"
)

// Error types of a run that did not succeed. The workflow fails with a
// non-retryable application error of one of these types whose details carry
// the run.Status, so the Web UI shows why and clients can decode the result.
const (
	ErrPipelineFailed   = "PipelineFailed"
	ErrPipelineTimedOut = "PipelineTimedOut"
)

var (
	planActs    *plan.Activities
	historyActs *history.Activities
)

// RunPipeline runs one pipeline in one environment: it resolves the plan,
// runs the DAG with parallel branches up to max_parallel, retries tasks per
// their policy, enforces the pipeline timeout, reports progress through the
// `status` query, search attributes and current details, and records history
// in Postgres. The result is the run's status; a FAILED or TIMEDOUT run ends
// the workflow with a non-retryable error carrying that status.
func RunPipeline(ctx workflow.Context, in run.Input) (*run.Status, error) {
	r := &pipelineRun{in: in}
	if err := r.setup(ctx); err != nil {
		return nil, err
	}
	return r.run(ctx)
}

// pipelineRun is the workflow's state.
type pipelineRun struct {
	in     run.Input
	logger log.Logger
	plan   *spec.Plan
	status run.Status
	tasks  []*taskRun
	byKey  map[string]*taskRun

	running   int // attempts in flight
	seq       int64
	dirty     map[string]bool
	failedSet string // last SluiceFailedTasks upserted
	canceled  bool
	timedOut  bool
	sel       workflow.Selector
	waiting   int // wait_for and approval tasks waiting
	waiters   map[string]*waiter
	signals   []Signal

	notes          []pendingNote
	durationWarned bool
	forceProgress  bool // a change outside tasks (a warning) to record
}

type phase int

const (
	phasePending   phase = iota // waiting for upstream tasks
	phaseReady                  // may start when a slot frees
	phaseRunning                // an attempt is in flight
	phaseRetryWait              // waiting before the next attempt
	phaseDone
)

type taskRun struct {
	plan  spec.PlannedTask
	st    *run.Task
	phase phase
}

func (r *pipelineRun) setup(ctx workflow.Context) error {
	r.logger = workflow.GetLogger(ctx)
	info := workflow.GetInfo(ctx)
	now := workflow.Now(ctx).UTC()

	trigger := r.in.Trigger
	scheduled, isScheduled := workflow.GetTypedSearchAttributes(ctx).GetTime(attrScheduledStart)
	if trigger == "" {
		switch {
		case r.in.RepairOf != "":
			trigger = run.TriggerRepair
		case isScheduled:
			trigger = run.TriggerScheduled
		default:
			trigger = run.TriggerManual
		}
	}
	logical := info.WorkflowStartTime.UTC()
	if isScheduled {
		logical = scheduled.UTC()
	}
	var inputErr error
	if r.in.LogicalDate != "" {
		logical, inputErr = run.ParseLogicalDate(r.in.LogicalDate)
	}
	if r.in.Pipeline == "" && r.in.RepairOf == "" {
		inputErr = errors.New(`input has no pipeline: start RunPipeline with {"pipeline":"<name>","env":"<env>"}`)
	}
	if !slices.Contains(run.Triggers, trigger) {
		inputErr = fmt.Errorf("unknown trigger %q", trigger)
	}
	r.status = run.Status{
		Pipeline:    r.in.Pipeline,
		Env:         r.in.Env,
		WorkflowID:  info.WorkflowExecution.ID,
		RunID:       info.WorkflowExecution.RunID,
		Trigger:     trigger,
		LogicalDate: logical,
		Status:      dag.StatusRunning,
		RepairOf:    r.in.RepairOf,
		StartedAt:   now,
	}
	r.dirty = map[string]bool{}
	if err := workflow.SetQueryHandler(ctx, run.QueryStatus, func() (run.Status, error) {
		return r.snapshot(), nil
	}); err != nil {
		return err
	}
	if err := r.setupMessages(ctx); err != nil {
		return err
	}
	r.upsertAttributes(ctx)
	if inputErr != nil {
		return r.failBeforeStart(ctx, inputErr.Error())
	}

	// A repair starts from the run it repairs: its pipeline, environment,
	// parameters, logical date and, unless asked otherwise, its plan.
	var orig *history.LoadRunResult
	var planned *spec.Plan
	if r.in.RepairOf != "" {
		o, p, err := r.loadRepair(ctx)
		if err != nil {
			return r.failBeforeStart(ctx, errorText(err))
		}
		orig, planned = o, p
		if r.in.Pipeline == "" {
			r.in.Pipeline = o.Status.Pipeline
		}
		if r.in.Env == "" {
			r.in.Env = o.Status.Env
		}
		if r.in.LogicalDate == "" {
			logical = o.Status.LogicalDate
		}
		if r.in.Params == nil {
			r.in.Params = o.Status.Params
		}
		r.status.Pipeline, r.status.Env, r.status.LogicalDate = r.in.Pipeline, r.in.Env, logical
	}
	var p spec.Plan
	if planned != nil {
		p = *planned
	} else {
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: time.Minute,
			RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5, InitialInterval: time.Second},
			Summary:             "resolve plan",
		})
		err := workflow.ExecuteActivity(actx, planActs.Resolve, plan.ResolveInput{
			Input: r.in, WorkflowID: r.status.WorkflowID, RunID: r.status.RunID,
			Trigger: trigger, LogicalDate: logical, StartTime: info.WorkflowStartTime.UTC(),
		}).Get(ctx, &p)
		if err != nil {
			return r.failBeforeStart(ctx, errorText(err))
		}
	}
	r.plan = &p
	r.status.Project, r.status.Env = p.Project, p.Env
	r.status.PlanHash, r.status.Params, r.status.Warnings, r.status.UIURL = p.Hash, p.Params, p.Warnings, p.UIURL
	r.byKey = map[string]*taskRun{}
	r.status.Tasks = make([]run.Task, len(p.Tasks))
	for i, pt := range p.Tasks {
		r.status.Tasks[i] = run.Task{Key: pt.Key, Type: pt.Type, Index: i, State: dag.Pending, DependsOn: pt.DependsOn}
		t := &taskRun{plan: pt, st: &r.status.Tasks[i]}
		switch {
		case pt.Excluded:
			t.st.State, t.phase = dag.Excluded, phaseDone
		case pt.Disabled:
			t.st.State, t.phase = dag.Disabled, phaseDone
		}
		r.tasks = append(r.tasks, t)
		r.byKey[pt.Key] = t
		r.dirty[pt.Key] = true
	}
	if orig != nil {
		if err := r.applyRepair(&orig.Status); err != nil {
			return r.failBeforeStart(ctx, err.Error())
		}
	}
	r.upsertAttributes(ctx)
	r.recordProgress(ctx, true)
	r.notify(ctx, inotify.KindStart, nil)
	return nil
}

// errorText is the message of an activity error, without the wrapping.
func errorText(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Error()
	}
	return err.Error()
}

// failBeforeStart ends a run that could not be planned.
func (r *pipelineRun) failBeforeStart(ctx workflow.Context, msg string) error {
	r.status.Status = dag.StatusFailed
	r.status.Error = msg
	r.status.EndedAt = workflow.Now(ctx).UTC()
	r.upsertAttributes(ctx)
	workflow.SetCurrentDetails(ctx, "**FAILED before any task ran**\n\n```\n"+msg+"\n```")
	r.recordFinal(ctx)
	s := r.snapshot()
	return temporal.NewNonRetryableApplicationError(msg, ErrPipelineFailed, nil, s)
}

func (r *pipelineRun) run(ctx workflow.Context) (*run.Status, error) {
	tasksCtx, cancelTasks := workflow.WithCancel(ctx)
	r.sel = workflow.NewSelector(ctx)

	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	timeout := r.plan.Timeout.D()
	r.sel.AddFuture(workflow.NewTimer(timerCtx, timeout), func(f workflow.Future) {
		if f.Get(ctx, nil) == nil && !r.allDone() {
			r.timedOut = true
			r.logger.Warn("pipeline timed out", "timeout", r.plan.Timeout.String())
			cancelTasks()
		}
	})

	r.listenSignals(ctx)
	r.watchDuration(timerCtx, nil, r.plan.DurationWarning.D())
	r.details(ctx)
	for {
		if ctx.Err() != nil {
			r.canceled = true
		}
		if !r.canceled && !r.timedOut {
			r.dispatch(tasksCtx)
		}
		if r.allDone() || ((r.canceled || r.timedOut) && r.running == 0 && r.waiting == 0) {
			break
		}
		r.sel.Select(ctx)
		// Take every completion that is already in before publishing
		// progress: one history write per batch, not per task.
		for r.sel.HasPending() {
			r.sel.Select(ctx)
		}
		r.flush(ctx)
	}
	cancelTimer()
	return r.finish(ctx)
}

// dispatch settles tasks whose upstream is done and starts ready tasks in
// file order while slots are free.
func (r *pipelineRun) dispatch(ctx workflow.Context) {
	for changed := true; changed; {
		changed = false
		for _, t := range r.tasks {
			if t.phase != phasePending {
				continue
			}
			states, ok := r.upstreamStates(t)
			if !ok {
				continue
			}
			runIt, final := dag.Decide(t.plan.RunIf, states)
			if !runIt {
				r.settle(ctx, t, final, nil)
				changed = true
				continue
			}
			t.phase = phaseReady
		}
	}
	for _, t := range r.tasks {
		// Waiting for a signal or a person holds no slot of max_parallel.
		if t.phase == phaseReady && (r.running < r.plan.MaxParallel || waits(t)) {
			r.startAttempt(ctx, t)
		}
	}
}

func (r *pipelineRun) upstreamStates(t *taskRun) ([]dag.State, bool) {
	states := make([]dag.State, 0, len(t.plan.DependsOn))
	for _, d := range t.plan.DependsOn {
		up := r.byKey[d]
		if up.phase != phaseDone {
			return nil, false
		}
		states = append(states, up.st.State)
	}
	return states, true
}

// startAttempt launches the next attempt of a task.
func (r *pipelineRun) startAttempt(ctx workflow.Context, t *taskRun) {
	now := workflow.Now(ctx).UTC()
	n := len(t.st.Attempts) + 1
	if n == 1 {
		t.st.StartedAt = now
		r.watchDuration(ctx, t, t.plan.DurationWarning.D())
	}
	t.st.State, t.st.Waiting = dag.Running, ""
	t.st.Attempts = append(t.st.Attempts, run.Attempt{N: n, State: dag.Running, StartedAt: now})
	t.phase = phaseRunning
	r.dirty[t.plan.Key] = true

	with, err := r.resolveOutputs(t)
	var fut workflow.Future
	if err == nil {
		switch t.plan.Kind {
		case spec.KindSignal, spec.KindUpdate:
			fut, err = r.startWait(ctx, t, with)
		case spec.KindChild:
			fut, err = r.startChild(ctx, t, n, with)
		default:
			meta := task.Meta{
				Project: r.plan.Project, Pipeline: r.plan.Pipeline, Env: r.plan.Env,
				WorkflowID: r.status.WorkflowID, RunID: r.status.RunID,
				Task: t.plan.Key, Type: t.plan.Type, Attempt: n, Timeout: t.plan.Timeout,
				LogicalDate: r.status.LogicalDate, Trigger: string(r.status.Trigger),
				Params: r.plan.Params, Target: r.plan.Target, Resume: t.st.Resume,
			}
			actx := workflow.WithActivityOptions(ctx, r.activityOptions(t, n))
			fut, err = r.execute(actx, t, meta, with)
		}
	}
	if err != nil {
		r.attemptDone(ctx, t, nil, &run.Error{Type: task.ErrConfig, Message: err.Error()}, false, nil)
		return
	}
	counter := &r.running
	if waits(t) {
		counter = &r.waiting
	}
	*counter++
	r.sel.AddFuture(fut, func(f workflow.Future) {
		*counter--
		var out map[string]any
		err := f.Get(ctx, &out)
		if err == nil {
			r.attemptDone(ctx, t, out, nil, false, nil)
			return
		}
		e, timedOut, resume := classify(err)
		r.attemptDone(ctx, t, nil, e, timedOut, resume)
	})
}

// activityOptions builds the options of one attempt. Temporal retries only
// infrastructure failures (a lost worker); the task's own retries are the
// workflow's, so every attempt shows in history and run_if/on_timeout rules
// apply exactly.
func (r *pipelineRun) activityOptions(t *taskRun, n int) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:           t.plan.Queue,
		ActivityID:          fmt.Sprintf("%s#%d", t.plan.Key, n),
		StartToCloseTimeout: t.plan.Timeout.D() + time.Minute,
		HeartbeatTimeout:    t.plan.Heartbeat.D(),
		WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			MaximumAttempts:    10,
		},
		Summary: fmt.Sprintf("%s (%s) attempt %d/%d", t.plan.Key, t.plan.Type, n, t.plan.Retry.Attempts),
	}
}

// resolveOutputs fills ${tasks.<key>.output...} references from upstream outputs.
func (r *pipelineRun) resolveOutputs(t *taskRun) (map[string]any, error) {
	if t.plan.With == nil {
		return nil, nil
	}
	refs := spec.TaskRefs(t.plan.With)
	if len(refs) == 0 {
		return t.plan.With, nil
	}
	outputs := map[string]map[string]any{}
	for _, k := range refs {
		up, ok := r.byKey[k]
		if !ok || up.st.State != dag.Success {
			state := "unknown"
			if ok {
				state = string(up.st.State)
			}
			return nil, fmt.Errorf("needs the output of %s, which is %s", k, state)
		}
		out := up.st.Output
		if out == nil {
			out = map[string]any{}
		}
		outputs[k] = out
	}
	v, err := spec.Interpolate(t.plan.With, spec.Scope{Tasks: outputs})
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

// classify reads an attempt's error: what to show, whether it was a
// timeout, and the resume details it left.
func classify(err error) (e *run.Error, timedOut bool, resume json.RawMessage) {
	var ae *temporal.ApplicationError
	var te *temporal.TimeoutError
	var ce *temporal.CanceledError
	switch {
	case errors.As(err, &ce):
		return &run.Error{Type: task.ErrTaskCanceled, Message: "canceled"}, false, nil
	case errors.As(err, &ae):
		var f task.Failure
		_ = ae.Details(&f)
		return &run.Error{Type: ae.Type(), Message: ae.Message(), Detail: f.Detail, Retryable: f.Retryable}, f.Timeout, f.Resume
	case errors.As(err, &te):
		var hb struct {
			Details json.RawMessage `json:"details"`
		}
		if te.HasLastHeartbeatDetails() {
			_ = te.LastHeartbeatDetails(&hb)
		}
		msg := "the worker stopped responding (" + te.TimeoutType().String() + " timeout)"
		return &run.Error{Type: task.ErrTaskTimeout, Message: msg, Retryable: true}, true, hb.Details
	}
	return &run.Error{Type: "Error", Message: err.Error(), Retryable: true}, false, nil
}

// attemptDone records the end of an attempt and decides what follows.
func (r *pipelineRun) attemptDone(ctx workflow.Context, t *taskRun, out map[string]any, e *run.Error, timedOut bool, resume json.RawMessage) {
	now := workflow.Now(ctx).UTC()
	a := &t.st.Attempts[len(t.st.Attempts)-1]
	a.EndedAt = now
	r.dirty[t.plan.Key] = true
	if resume != nil {
		t.st.Resume = resume
	}
	if e == nil {
		a.State = dag.Success
		t.st.Output = out
		r.settle(ctx, t, dag.Success, nil)
		return
	}
	if e.Type == errWaitSkipped {
		a.State = dag.Skipped
		r.settle(ctx, t, dag.Skipped, nil)
		t.st.Waiting = e.Message
		return
	}
	canceled := e.Type == task.ErrTaskCanceled
	switch {
	case canceled && r.timedOut:
		a.State, e = dag.TimedOut, &run.Error{Type: ErrPipelineTimedOut, Message: "stopped by the pipeline timeout of " + r.plan.Timeout.String()}
	case canceled:
		a.State = dag.Canceled
	case timedOut:
		a.State = dag.TimedOut
	default:
		a.State = dag.Failed
	}
	a.Error = e
	retry := t.plan.Retry
	if !canceled && !r.canceled && !r.timedOut && e.Retryable && a.N < retry.Attempts &&
		(!timedOut || retry.OnTimeout) && !slices.Contains(retry.NonRetryable, e.Type) {
		delay := retry.Delay(a.N)
		t.phase = phaseRetryWait
		t.st.Waiting = fmt.Sprintf("retry %d/%d after %s", a.N+1, retry.Attempts, delay)
		t.st.Error = e
		r.logger.Info("task failed, retrying", "task", t.plan.Key, "attempt", a.N, "error", e.String(), "delay", delay.String())
		r.sel.AddFuture(workflow.NewTimer(ctx, delay.D()), func(f workflow.Future) {
			if t.phase != phaseRetryWait {
				return
			}
			if f.Get(ctx, nil) != nil { // canceled: the run is ending
				r.settle(ctx, t, dag.Canceled, t.st.Error)
				return
			}
			t.phase = phaseReady
			t.st.Waiting = "waiting for a slot"
		})
		return
	}
	r.settle(ctx, t, a.State, e)
}

// settle gives a task its final state.
func (r *pipelineRun) settle(ctx workflow.Context, t *taskRun, s dag.State, e *run.Error) {
	t.phase = phaseDone
	t.st.State, t.st.Error, t.st.Waiting = s, e, ""
	if !t.st.StartedAt.IsZero() {
		t.st.EndedAt = workflow.Now(ctx).UTC()
	}
	r.dirty[t.plan.Key] = true
	if s.Failure() || s == dag.Skipped {
		r.logger.Info("task ended", "task", t.plan.Key, "state", string(s), "error", e.String())
	}
}

// waits reports whether a task waits for a message rather than doing work.
func waits(t *taskRun) bool {
	return t.plan.Kind == spec.KindSignal || t.plan.Kind == spec.KindUpdate
}

func (r *pipelineRun) allDone() bool {
	for _, t := range r.tasks {
		if t.phase != phaseDone {
			return false
		}
	}
	return true
}

// finish computes the outcome, records it and ends the workflow.
func (r *pipelineRun) finish(ctx workflow.Context) (*run.Status, error) {
	for _, t := range r.tasks {
		if t.phase != phaseDone {
			state := dag.Canceled
			if t.phase == phaseRetryWait && r.timedOut {
				state = dag.TimedOut
			}
			r.settle(ctx, t, state, t.st.Error)
		}
	}
	states := map[string]dag.State{}
	for _, t := range r.tasks {
		states[t.plan.Key] = t.st.State
	}
	r.status.Status = dag.Outcome(r.plan.Nodes(), states, r.canceled, r.timedOut)
	r.status.EndedAt = workflow.Now(ctx).UTC()

	// A canceled workflow's context is done: finish on a disconnected one.
	fctx := ctx
	if ctx.Err() != nil {
		fctx, _ = workflow.NewDisconnectedContext(ctx)
	}
	if r.status.Status != dag.StatusCanceled {
		r.startTriggered(fctx)
	}
	r.upsertAttributes(fctx)
	r.details(fctx)
	r.notify(fctx, outcomeEvent(r.status.Status), nil)
	if ws := r.qualityWarnings(); len(ws) > 0 {
		r.notify(fctx, inotify.KindWarning, ws)
	}
	r.awaitNotes(fctx)
	r.recordFinal(fctx)

	s := r.snapshot()
	switch r.status.Status {
	case dag.StatusCanceled:
		return &s, temporal.NewCanceledError(s)
	case dag.StatusTimedOut:
		return &s, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s timed out after %s", r.plan.Pipeline, r.plan.Timeout), ErrPipelineTimedOut, nil, s)
	case dag.StatusFailed:
		return &s, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s FAILED: %s", r.plan.Pipeline, failureSummary(&s)), ErrPipelineFailed, nil, s)
	}
	return &s, nil
}

func failureSummary(s *run.Status) string {
	var parts []string
	for _, t := range s.Tasks {
		if !t.State.Failure() {
			continue
		}
		if t.Error != nil && t.State != dag.UpstreamFailed {
			parts = append(parts, fmt.Sprintf("%s %s (%s)", t.Key, t.State, t.Error.String()))
		} else {
			parts = append(parts, fmt.Sprintf("%s %s", t.Key, t.State))
		}
	}
	return strings.Join(parts, "; ")
}

// snapshot returns a copy of the status safe to hand out.
func (r *pipelineRun) snapshot() run.Status {
	s := r.status
	s.Tasks = slices.Clone(r.status.Tasks)
	for i := range s.Tasks {
		s.Tasks[i].Attempts = slices.Clone(s.Tasks[i].Attempts)
	}
	return s
}

// flush publishes progress after a state change: current details, failed
// tasks search attribute, and a best-effort history write.
func (r *pipelineRun) flush(ctx workflow.Context) {
	if len(r.dirty) == 0 && !r.forceProgress {
		return
	}
	r.forceProgress = false
	r.details(ctx)
	if failed := strings.Join(r.status.FailedTasks(), ","); failed != r.failedSet {
		r.upsertAttributes(ctx)
	}
	r.recordProgress(ctx, false)
}

func (r *pipelineRun) upsertAttributes(ctx workflow.Context) {
	failed := r.status.FailedTasks()
	r.failedSet = strings.Join(failed, ",")
	updates := []temporal.SearchAttributeUpdate{
		AttrPipeline.ValueSet(r.status.Pipeline),
		AttrEnv.ValueSet(r.status.Env),
		AttrTrigger.ValueSet(string(r.status.Trigger)),
		AttrStatus.ValueSet(string(r.status.Status)),
		AttrLogicalDate.ValueSet(r.status.LogicalDate),
	}
	if len(failed) > 0 {
		updates = append(updates, AttrFailedTasks.ValueSet(failed))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		r.logger.Warn("upserting search attributes failed", "error", err)
	}
}

// details publishes the live task table shown in the Web UI.
func (r *pipelineRun) details(ctx workflow.Context) {
	now := workflow.Now(ctx)
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** · %s · %s · %s\n\n", r.status.Pipeline, r.status.Env, r.status.LogicalDate.Format(time.DateOnly), r.status.Status)
	b.WriteString("| task | type | state | attempts | duration | note |\n|---|---|---|---|---|---|\n")
	for _, t := range r.status.Tasks {
		note := t.Waiting
		if note == "" && t.Error != nil {
			note = strings.ReplaceAll(firstLine(t.Error.String()), "|", "/")
		}
		dur := ""
		if d := t.Duration(now); d > 0 {
			dur = d.Round(time.Second).String()
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %s |\n", t.Key, t.Type, t.State, len(t.Attempts), dur, note)
	}
	workflow.SetCurrentDetails(ctx, b.String())
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 120 {
		line = line[:117] + "..."
	}
	return line
}

// recordProgress writes changed tasks as a best-effort local activity: a
// history outage must never slow or fail the run.
func (r *pipelineRun) recordProgress(ctx workflow.Context, withPlan bool) {
	r.seq++
	snap := store.Snapshot{Seq: r.seq, Run: r.status}
	snap.Run.Tasks = nil
	for _, t := range r.status.Tasks {
		if r.dirty[t.Key] {
			snap.Run.Tasks = append(snap.Run.Tasks, t)
		}
	}
	if withPlan && r.plan != nil {
		snap.Plan, _ = json.Marshal(r.plan)
	}
	clear(r.dirty)
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 2, InitialInterval: 100 * time.Millisecond},
	})
	if err := workflow.ExecuteLocalActivity(lctx, historyActs.Record, snap).Get(ctx, nil); err != nil {
		r.logger.Warn("recording progress failed; the final write will catch up", "error", err)
	}
}

// recordFinal writes the whole run, retried until it lands.
func (r *pipelineRun) recordFinal(ctx workflow.Context) {
	r.seq++
	snap := store.Snapshot{Seq: r.seq, Run: r.snapshot()}
	if r.plan != nil {
		snap.Plan, _ = json.Marshal(r.plan)
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
			MaximumAttempts: 0, // until it lands
		},
		Summary: "record run history",
	})
	if err := workflow.ExecuteActivity(actx, historyActs.Record, snap).Get(ctx, nil); err != nil {
		r.logger.Error("recording run history failed", "error", err)
	}
}
