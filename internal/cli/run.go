package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/workflows"
)

func newRunCmd(g *globals) *cobra.Command {
	var f runFlags
	var wait bool
	var id string
	cmd := &cobra.Command{
		Use:   "run <pipeline>",
		Short: "Start a run (and with --wait, watch it until it ends)",
		Long: `Start a run of a pipeline as a RunPipeline workflow on the task queue "sluice".
The pipeline is validated here first, so spec errors show before anything
starts. The workflow id is sluice/<pipeline>/<env>/<logical date or start time>.

With --wait, a live table of tasks is shown until the run ends, and the exit
code says how it ended: 0 SUCCESS, 2 SUCCESS_WITH_FAILURES, 1 FAILED,
TIMEDOUT or CANCELED.`,
		Example: `  sluice run olist_daily --env local --wait
  sluice run olist_daily --env local --param orders=20000 --date 2026-11-22 --wait
  sluice run olist_daily --only quality_checks --wait`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			params, err := f.paramMap()
			if err != nil {
				return err
			}
			in := run.Input{Pipeline: args[0], Env: f.env, Params: params, Only: f.only, LogicalDate: f.date, Trigger: run.TriggerManual}
			started := time.Now().UTC()
			logical := started
			if f.date != "" {
				if logical, err = run.ParseLogicalDate(f.date); err != nil {
					return err
				}
			}
			// Validate locally for precise errors before starting anything.
			if p, err := g.loadProject(); err == nil {
				plan, err := p.Plan(spec.PlanRequest{Pipeline: in.Pipeline, Env: in.Env, Params: params, Only: in.Only, Getenv: g.lookupEnv,
					Run: spec.RunVars{Trigger: string(in.Trigger), LogicalDate: logical, StartTime: started}})
				if err != nil {
					return err
				}
				in.Env = plan.Env
			} else if in.Env == "" {
				return fmt.Errorf("%w (or pass --env so the worker can plan the run)", err)
			}
			c, err := g.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			if id == "" {
				id = WorkflowID(in.Pipeline, in.Env, f.date, started)
			}
			we, err := Start(ctx, c, id, in, logical)
			if err != nil {
				return err
			}
			if g.json() && !wait {
				return writeJSON(g.stdout, map[string]string{"workflow_id": we.GetID(), "run_id": we.GetRunID()})
			}
			if !g.json() {
				fmt.Fprintf(g.stdout, "started %s (run %s)\n", we.GetID(), we.GetRunID())
			}
			if !wait {
				if !g.json() {
					fmt.Fprintf(g.stdout, "watch: sluice status %s --wait\n", we.GetID())
				}
				return nil
			}
			return watch(ctx, g, c, we.GetID(), we.GetRunID())
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "watch the run until it ends; the exit code reflects the outcome")
	cmd.Flags().StringVar(&id, "id", "", "workflow id (default sluice/<pipeline>/<env>/<date or start time>)")
	return cmd
}

// summary is the one line the Web UI shows for a run.
func summary(in run.Input, logical time.Time) string {
	s := fmt.Sprintf("%s · %s · %s · %s", in.Pipeline, in.Env, logical.Format(time.DateOnly), in.Trigger)
	if in.RepairOf != "" {
		s += " of " + in.RepairOf
	}
	return s
}

// WorkflowID is the id of a manual run: sluice/<pipeline>/<env>/<logical
// date or start time>.
func WorkflowID(pipeline, env, date string, started time.Time) string {
	when := date
	if when == "" {
		when = started.Format("2006-01-02T15:04:05Z")
	}
	return fmt.Sprintf("sluice/%s/%s/%s", pipeline, env, when)
}

// Start starts a RunPipeline workflow with its search attributes and summary.
func Start(ctx context.Context, c client.Client, id string, in run.Input, logical time.Time) (client.WorkflowRun, error) {
	opts := client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                spec.QueueDefault,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		StaticSummary:            summary(in, logical),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.AttrPipeline.ValueSet(in.Pipeline),
			workflows.AttrEnv.ValueSet(in.Env),
			workflows.AttrTrigger.ValueSet(string(in.Trigger)),
			workflows.AttrStatus.ValueSet("RUNNING"),
			workflows.AttrLogicalDate.ValueSet(logical),
		),
	}
	we, err := c.ExecuteWorkflow(ctx, opts, run.WorkflowName, in)
	if err != nil {
		var already *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &already) {
			return nil, fmt.Errorf("a run with id %s is already running: watch it with `sluice status %s --wait`, or pass --date/--id for another run", id, id)
		}
		return nil, fmt.Errorf("starting %s: %w", id, err)
	}
	return we, nil
}

// watch shows live progress until the run ends and maps the outcome to an
// exit code.
func watch(ctx context.Context, g *globals, c client.Client, id, runID string) error {
	p := newProgress(g.stdout, isTerminal(g.stdout) && !g.json())
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	done := make(chan struct{})
	var final *run.Status
	var finalErr error
	go func() {
		defer close(done)
		final, finalErr = result(ctx, c, id, runID)
	}()
	for {
		select {
		case <-done:
			st := final
			if st == nil {
				// the run failed before producing a status (e.g. terminated)
				if s, err := queryStatus(ctx, c, id, runID); err == nil {
					st = s
				}
			}
			if st == nil {
				return finalErr
			}
			if g.json() {
				if err := writeJSON(g.stdout, st); err != nil {
					return err
				}
			} else {
				p.final(st, g.namespace)
			}
			return exitFor(st.Status)
		case <-ctx.Done():
			fmt.Fprintf(g.stderr, "\nstopped watching; the run goes on: sluice status %s --wait (sluice cancel %s stops it)\n", id, id)
			return ExitError{ExitFailed}
		case <-tick.C:
			if g.json() {
				continue
			}
			if st, err := queryStatus(ctx, c, id, runID); err == nil {
				addHeartbeatProgress(ctx, c, id, runID, st)
				p.update(st)
			}
		}
	}
}

// result waits for the workflow's end and decodes its status, from the
// result or from the failure's details.
func result(ctx context.Context, c client.Client, id, runID string) (*run.Status, error) {
	var st run.Status
	err := c.GetWorkflow(ctx, id, runID).Get(ctx, &st)
	if err == nil {
		return &st, nil
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.HasDetails() {
		if derr := ae.Details(&st); derr == nil && st.Status != "" {
			return &st, nil
		}
	}
	var ce *temporal.CanceledError
	if errors.As(err, &ce) && ce.HasDetails() {
		if derr := ce.Details(&st); derr == nil && st.Status != "" {
			return &st, nil
		}
	}
	return nil, fmt.Errorf("run %s: %w", id, err)
}

// addHeartbeatProgress shows what running tasks last reported (rows loaded,
// SQL step, dbt nodes) in their Waiting note, from the pending activities'
// heartbeat details.
func addHeartbeatProgress(ctx context.Context, c client.Client, id, runID string, st *run.Status) {
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	desc, err := c.DescribeWorkflowExecution(dctx, id, runID)
	if err != nil {
		return
	}
	for _, pa := range desc.GetPendingActivities() {
		key, _, _ := strings.Cut(pa.GetActivityId(), "#")
		t := st.Task(key)
		if t == nil || t.Waiting != "" || pa.GetHeartbeatDetails() == nil {
			continue
		}
		var hb struct {
			Progress string `json:"progress"`
		}
		if err := converter.GetDefaultDataConverter().FromPayloads(pa.GetHeartbeatDetails(), &hb); err == nil && hb.Progress != "" {
			t.Waiting = hb.Progress
		}
	}
}

func queryStatus(ctx context.Context, c client.Client, id, runID string) (*run.Status, error) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := c.QueryWorkflow(qctx, id, runID, run.QueryStatus)
	if err != nil {
		return nil, err
	}
	var st run.Status
	if err := v.Get(&st); err != nil {
		return nil, err
	}
	return &st, nil
}

func exitFor(s dag.Status) error {
	switch s {
	case dag.StatusSuccess:
		return nil
	case dag.StatusSuccessWithFailures:
		return ExitError{ExitSuccessWithFailures}
	}
	return ExitError{ExitFailed}
}
