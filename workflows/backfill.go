package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/spec"
)

// Backfill names and limits.
const (
	// BackfillWorkflowName is the name Backfill is registered under.
	BackfillWorkflowName = "Backfill"
	// ErrBackfillFailed is the error type of a backfill with a failed run.
	ErrBackfillFailed = "BackfillFailed"
	// MaxBackfillRuns bounds one backfill (its history grows with each run).
	MaxBackfillRuns = 1000
)

// BackfillInput starts a Backfill: one RunPipeline per logical date. The
// dates are computed by the caller from the schedule's cron, so the workflow
// does no calendar arithmetic.
type BackfillInput struct {
	Pipeline string `json:"pipeline"`
	Env      string `json:"env"`
	// LogicalDates are the runs to make, started in this order.
	LogicalDates []time.Time `json:"logical_dates"`
	// Parallel is the most runs at once (default 1: one after the other).
	Parallel int            `json:"parallel,omitempty"`
	Params   map[string]any `json:"params,omitempty"`
}

// BackfillRun is one run of a backfill.
type BackfillRun struct {
	LogicalDate time.Time  `json:"logical_date"`
	WorkflowID  string     `json:"workflow_id"`
	RunID       string     `json:"run_id,omitempty"`
	Status      dag.Status `json:"status"` // QUEUED until it starts
	FailedTasks []string   `json:"failed_tasks,omitempty"`
	Error       string     `json:"error,omitempty"`
}

// BackfillResult is a backfill's state: what its status query returns while
// it runs, and its result (or its failure's details) when it ends.
type BackfillResult struct {
	Pipeline string        `json:"pipeline"`
	Env      string        `json:"env"`
	Parallel int           `json:"parallel"`
	Status   dag.Status    `json:"status"`
	Runs     []BackfillRun `json:"runs"`
}

// Count returns how many runs have the status.
func (r *BackfillResult) Count(s dag.Status) int {
	n := 0
	for _, x := range r.Runs {
		if x.Status == s {
			n++
		}
	}
	return n
}

// BackfillRunID is the workflow id of a backfilled run, like a manual run's
// with the logical time: sluice/<pipeline>/<env>/<RFC 3339 UTC time>.
func BackfillRunID(pipeline, env string, logical time.Time) string {
	return fmt.Sprintf("sluice/%s/%s/%s", pipeline, env, logical.UTC().Format(time.RFC3339))
}

// BackfillID is the workflow id of a backfill over [first, last].
func BackfillID(pipeline, env string, first, last time.Time) string {
	return fmt.Sprintf("sluice/%s/%s/backfill/%s..%s", pipeline, env, first.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339))
}

// Backfill runs a pipeline once per logical date as RunPipeline children
// (trigger BACKFILL), at most Parallel at once, in date order. A failed run
// does not stop the others. The backfill fails (BackfillFailed, details: the
// result) when a run FAILED or TIMEDOUT; cancelling it cancels the runs in
// progress and starts no more.
func Backfill(ctx workflow.Context, in BackfillInput) (*BackfillResult, error) {
	b := &backfill{in: in}
	if err := b.setup(ctx); err != nil {
		return nil, err
	}
	return b.run(ctx)
}

// backfill is the Backfill workflow's state.
type backfill struct {
	in      BackfillInput
	res     BackfillResult
	running int
}

func (b *backfill) setup(ctx workflow.Context) error {
	in := b.in
	var problems []string
	if in.Pipeline == "" || in.Env == "" {
		problems = append(problems, `input needs "pipeline" and "env"`)
	}
	if len(in.LogicalDates) == 0 {
		problems = append(problems, `input has no "logical_dates"`)
	}
	if len(in.LogicalDates) > MaxBackfillRuns {
		problems = append(problems, fmt.Sprintf("%d logical dates: at most %d per backfill", len(in.LogicalDates), MaxBackfillRuns))
	}
	if in.Parallel < 0 {
		problems = append(problems, fmt.Sprintf("parallel is %d: use 1 or more", in.Parallel))
	}
	if len(problems) > 0 {
		return temporal.NewNonRetryableApplicationError(strings.Join(problems, "; "), "BackfillInputInvalid", nil)
	}
	b.res = BackfillResult{Pipeline: in.Pipeline, Env: in.Env, Parallel: max(in.Parallel, 1), Status: dag.StatusRunning}
	for _, t := range in.LogicalDates {
		b.res.Runs = append(b.res.Runs, BackfillRun{LogicalDate: t.UTC(), WorkflowID: BackfillRunID(in.Pipeline, in.Env, t), Status: dag.StatusQueued})
	}
	return workflow.SetQueryHandler(ctx, run.QueryStatus, func() (BackfillResult, error) {
		return b.snapshot(), nil
	})
}

func (b *backfill) run(ctx workflow.Context) (*BackfillResult, error) {
	sel := workflow.NewSelector(ctx)
	next := 0
	b.details(ctx)
	for {
		for b.running < b.res.Parallel && next < len(b.res.Runs) && ctx.Err() == nil {
			b.start(ctx, sel, next)
			next++
		}
		if b.running == 0 {
			break
		}
		sel.Select(ctx)
		b.details(ctx)
	}
	canceled := ctx.Err() != nil
	for i := range b.res.Runs {
		if b.res.Runs[i].Status == dag.StatusQueued {
			b.res.Runs[i].Status = dag.StatusCanceled
		}
	}
	b.res.Status = b.outcome(canceled)
	b.details(ctx)
	res := b.snapshot()
	switch b.res.Status {
	case dag.StatusCanceled:
		return nil, temporal.NewCanceledError(res)
	case dag.StatusFailed:
		msg := fmt.Sprintf("%d of %d runs of %s did not succeed", b.notSucceeded(), len(b.res.Runs), b.in.Pipeline)
		return nil, temporal.NewNonRetryableApplicationError(msg, ErrBackfillFailed, nil, res)
	}
	return &res, nil
}

// start starts the i-th run as a child; its callbacks record the run id and
// the outcome.
func (b *backfill) start(ctx workflow.Context, sel workflow.Selector, i int) {
	r := &b.res.Runs[i]
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            r.WorkflowID,
		TaskQueue:             spec.QueueDefault,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		// a cancelled run still records its history; wait for it
		WaitForCancellation: true,
		StaticSummary:       fmt.Sprintf("%s · %s · %s · %s", b.in.Pipeline, b.in.Env, r.LogicalDate.Format(time.RFC3339), run.TriggerBackfill),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			AttrPipeline.ValueSet(b.in.Pipeline), AttrEnv.ValueSet(b.in.Env),
			AttrTrigger.ValueSet(string(run.TriggerBackfill)), AttrStatus.ValueSet(string(dag.StatusRunning)),
			AttrLogicalDate.ValueSet(r.LogicalDate),
		),
	})
	in := run.Input{
		Pipeline: b.in.Pipeline, Env: b.in.Env, Params: b.in.Params,
		Trigger: run.TriggerBackfill, LogicalDate: r.LogicalDate.Format(time.RFC3339),
	}
	r.Status = dag.StatusRunning
	b.running++
	child := workflow.ExecuteChildWorkflow(cctx, run.WorkflowName, in)
	sel.AddFuture(child.GetChildWorkflowExecution(), func(f workflow.Future) {
		var we workflow.Execution
		if f.Get(ctx, &we) == nil {
			r.RunID = we.RunID
		}
	})
	sel.AddFuture(child, func(f workflow.Future) {
		b.running--
		var st run.Status
		err := f.Get(ctx, &st)
		r.Status, r.FailedTasks, r.Error = childOutcome(st, err)
	})
}

// childOutcome reads a RunPipeline child's end: its result, the status in
// its failure's details, or the failure itself.
func childOutcome(st run.Status, err error) (dag.Status, []string, string) {
	if err == nil {
		return st.Status, st.FailedTasks(), ""
	}
	var ae *temporal.ApplicationError
	var ce *temporal.CanceledError
	var te *temporal.TimeoutError
	switch {
	case errors.As(err, &ae) && ae.HasDetails() && ae.Details(&st) == nil && st.Status != "":
		msg := st.Error
		if msg == "" {
			msg = ae.Message()
		}
		return st.Status, st.FailedTasks(), msg
	case errors.As(err, &ce):
		if ce.HasDetails() && ce.Details(&st) == nil && st.Status != "" {
			return st.Status, st.FailedTasks(), ""
		}
		return dag.StatusCanceled, nil, ""
	case errors.As(err, &te):
		return dag.StatusTimedOut, nil, err.Error()
	}
	return dag.StatusFailed, nil, err.Error()
}

// outcome is the backfill's status once every run has ended. A run
// cancelled by someone else while the backfill went on counts as failed.
func (b *backfill) outcome(canceled bool) dag.Status {
	switch {
	case canceled:
		return dag.StatusCanceled
	case b.notSucceeded() > 0:
		return dag.StatusFailed
	case b.res.Count(dag.StatusSuccessWithFailures) > 0:
		return dag.StatusSuccessWithFailures
	}
	return dag.StatusSuccess
}

func (b *backfill) notSucceeded() int {
	return b.res.Count(dag.StatusFailed) + b.res.Count(dag.StatusTimedOut) + b.res.Count(dag.StatusCanceled)
}

func (b *backfill) snapshot() BackfillResult {
	s := b.res
	s.Runs = append([]BackfillRun(nil), b.res.Runs...)
	return s
}

// details publishes the runs table shown in the Web UI.
func (b *backfill) details(ctx workflow.Context) {
	// Sprintf, not Fprintf: workflowcheck cannot tell a Builder from I/O
	var sb strings.Builder
	sb.WriteString(fmt.Sprintf("**backfill %s** · %s · %d runs, %d at once · %s\n\n| logical date | run | status |\n|---|---|---|\n",
		b.in.Pipeline, b.in.Env, len(b.res.Runs), b.res.Parallel, b.res.Status))
	for _, r := range b.res.Runs {
		sb.WriteString(fmt.Sprintf("| %s | %s | %s |\n", r.LogicalDate.Format(time.RFC3339), r.WorkflowID, r.Status))
	}
	workflow.SetCurrentDetails(ctx, sb.String())
}
