package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/spec"
)

// Error types of run_pipeline tasks.
const (
	ErrChildFailed = "ChildPipelineFailed"
)

// startChild runs a run_pipeline task: the other pipeline as a child
// workflow. Its outcome becomes the task's: SUCCESS (or
// SUCCESS_WITH_FAILURES) succeeds, FAILED fails, TIMEDOUT times out,
// CANCELED cancels. The child shares the run's logical date.
func (r *pipelineRun) startChild(ctx workflow.Context, t *taskRun, attempt int, with map[string]any) (workflow.Future, error) {
	c, err := decode[spec.RunPipelineConfig](with)
	if err != nil {
		return nil, err
	}
	env := c.Env
	if env == "" {
		env = r.plan.Env
	}
	id := fmt.Sprintf("%s/%s", r.status.WorkflowID, t.plan.Key)
	if attempt > 1 {
		id = fmt.Sprintf("%s#%d", id, attempt)
	}
	in := run.Input{
		Pipeline: c.Pipeline, Env: env, Params: c.Params, Trigger: run.TriggerChained,
		LogicalDate: r.status.LogicalDate.Format(time.RFC3339),
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:          id,
		TaskQueue:           spec.QueueDefault,
		WaitForCancellation: true,
		StaticSummary:       fmt.Sprintf("%s · %s · %s · CHAINED from %s", c.Pipeline, env, r.status.LogicalDate.Format(time.DateOnly), r.status.Pipeline),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			AttrPipeline.ValueSet(c.Pipeline), AttrEnv.ValueSet(env),
			AttrTrigger.ValueSet(string(run.TriggerChained)), AttrStatus.ValueSet(string(dag.StatusRunning)),
			AttrLogicalDate.ValueSet(r.status.LogicalDate),
		),
	})
	t.st.Waiting = "running pipeline " + c.Pipeline + " (" + id + ")"
	child := workflow.ExecuteChildWorkflow(cctx, run.WorkflowName, in)
	fut, settable := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(gctx workflow.Context) {
		var st run.Status
		err := child.Get(gctx, &st)
		if err != nil {
			var ae *temporal.ApplicationError
			var ce *temporal.CanceledError
			switch {
			case errors.As(err, &ae) && ae.HasDetails() && ae.Details(&st) == nil && st.Status != "":
			case errors.As(err, &ce):
				settable.Set(nil, temporal.NewCanceledError())
				return
			default:
				settable.Set(nil, err)
				return
			}
		}
		out := map[string]any{"workflow_id": id, "run_id": st.RunID, "pipeline": c.Pipeline, "status": string(st.Status)}
		if f := st.FailedTasks(); len(f) > 0 {
			out["failed_tasks"] = f
		}
		switch st.Status {
		case dag.StatusSuccess, dag.StatusSuccessWithFailures:
			settable.Set(out, nil)
		case dag.StatusTimedOut:
			settable.Set(nil, waitError(ErrChildFailed, fmt.Sprintf("pipeline %s timed out (%s)", c.Pipeline, id), true))
		case dag.StatusCanceled:
			settable.Set(nil, temporal.NewCanceledError())
		default:
			msg := fmt.Sprintf("pipeline %s %s (%s)", c.Pipeline, st.Status, id)
			if f := st.FailedTasks(); len(f) > 0 {
				msg += ": failed tasks " + strings.Join(f, ", ")
			}
			settable.Set(nil, waitError(ErrChildFailed, msg, false))
		}
	})
	return fut, nil
}

// startTriggered starts the pipelines whose `after:` names this pipeline
// with the run's outcome, as abandoned children (they outlive this run and
// do not hold it open), trigger CHAINED, same environment and logical date.
func (r *pipelineRun) startTriggered(ctx workflow.Context) {
	for _, tr := range r.plan.Triggers {
		on := tr.On
		if len(on) == 0 {
			on = []string{string(dag.StatusSuccess)}
		}
		if !slices.ContainsFunc(on, func(o string) bool { return strings.EqualFold(o, string(r.status.Status)) }) {
			continue
		}
		id := fmt.Sprintf("sluice/%s/%s/%s", tr.Pipeline, r.plan.Env, r.status.LogicalDate.Format(time.DateOnly))
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            id,
			TaskQueue:             spec.QueueDefault,
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			StaticSummary:         fmt.Sprintf("%s · %s · %s · CHAINED after %s %s", tr.Pipeline, r.plan.Env, r.status.LogicalDate.Format(time.DateOnly), r.status.Pipeline, r.status.Status),
			TypedSearchAttributes: temporal.NewSearchAttributes(
				AttrPipeline.ValueSet(tr.Pipeline), AttrEnv.ValueSet(r.plan.Env),
				AttrTrigger.ValueSet(string(run.TriggerChained)), AttrStatus.ValueSet(string(dag.StatusRunning)),
				AttrLogicalDate.ValueSet(r.status.LogicalDate),
			),
		})
		child := workflow.ExecuteChildWorkflow(cctx, run.WorkflowName, run.Input{
			Pipeline: tr.Pipeline, Env: r.plan.Env, Params: tr.Params, Trigger: run.TriggerChained,
			LogicalDate: r.status.LogicalDate.Format(time.RFC3339),
		})
		var exec workflow.Execution
		if err := child.GetChildWorkflowExecution().Get(ctx, &exec); err != nil {
			r.logger.Warn("could not start triggered pipeline", "pipeline", tr.Pipeline, "id", id, "error", err)
			r.status.Warnings = append(r.status.Warnings, fmt.Sprintf("after-trigger %s not started: %v", tr.Pipeline, err))
			continue
		}
		r.status.Triggered = append(r.status.Triggered, id)
	}
}
