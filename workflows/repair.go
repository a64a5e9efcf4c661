package workflows

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sluicedata/sluice/activities/history"
	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/spec"
)

// loadRepair reads the run being repaired. Unless the input asks for the
// latest spec, the repair reuses its plan: what ran is what runs again.
func (r *pipelineRun) loadRepair(ctx workflow.Context) (*history.LoadRunResult, *spec.Plan, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5, InitialInterval: time.Second},
		Summary:             "load run " + r.in.RepairOf,
	})
	var orig history.LoadRunResult
	if err := workflow.ExecuteActivity(actx, historyActs.LoadRun, history.LoadRunInput{WorkflowID: r.in.RepairOf}).Get(ctx, &orig); err != nil {
		return nil, nil, err
	}
	if r.in.LatestSpec {
		return &orig, nil, nil
	}
	var p spec.Plan
	if err := json.Unmarshal(orig.Plan, &p); err != nil {
		return nil, nil, fmt.Errorf("the plan of %s cannot be read (%v): repair with --latest-spec", r.in.RepairOf, err)
	}
	return &orig, &p, nil
}

// applyRepair decides which tasks run again; the others take their state
// and output from the original run (marked Reused with the run they come
// from, so repairs of repairs keep pointing at the run that did the work).
func (r *pipelineRun) applyRepair(orig *run.Status) error {
	rerun := map[string]bool{}
	if len(r.in.RepairTasks) > 0 {
		for _, k := range r.in.RepairTasks {
			if _, ok := r.byKey[k]; !ok {
				return fmt.Errorf("--tasks %s: no such task in %s (tasks: %s)", k, r.plan.Pipeline, strings.Join(r.keys(), ", "))
			}
			rerun[k] = true
		}
	} else {
		for _, t := range r.tasks {
			o := orig.Task(t.plan.Key)
			if o == nil || o.State.Failure() || !o.State.Terminal() {
				rerun[t.plan.Key] = true
			}
		}
	}
	if r.in.RepairDownstream {
		for _, k := range sortedKeys(dag.Downstream(r.plan.Nodes(), sortedKeys(rerun)...)) {
			rerun[k] = true
		}
	}
	for _, t := range r.tasks {
		o := orig.Task(t.plan.Key)
		if rerun[t.plan.Key] {
			if o != nil {
				t.st.Resume = o.Resume
			}
			continue
		}
		if o == nil {
			continue
		}
		from := o.Reused
		if from == "" {
			from = orig.WorkflowID
		}
		idx := t.st.Index
		*t.st = *o
		t.st.Index, t.st.Reused = idx, from
		t.st.DependsOn = t.plan.DependsOn
		t.phase = phaseDone
	}
	return nil
}

func (r *pipelineRun) keys() []string {
	out := make([]string, len(r.tasks))
	for i, t := range r.tasks {
		out[i] = t.plan.Key
	}
	return out
}
