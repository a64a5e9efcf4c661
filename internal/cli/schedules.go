package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/schedule"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/workflows"
)

// triggerWait is how long `sluice trigger` looks for the run it started.
const triggerWait = 10 * time.Second

func newApplyCmd(g *globals) *cobra.Command {
	var envs []string
	var dryRun, prune bool
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Create, update (and with --prune delete) the Temporal Schedules of every pipeline",
		Long: `Reconcile every pipeline with a schedule, in every environment (or those of
--env), into a Temporal Schedule with id sluice/<project>/<pipeline>/<env>,
and print what changes: + create, ~ update (field: old -> new), - delete,
? stale (its pipeline or schedule is gone; --prune deletes it). A second
apply reports no changes. An invalid project changes nothing.

The paused state follows the spec (schedule.paused, or schedules: paused on
the environment) when a schedule is created and whenever that setting
changes; a pause or unpause made by hand since is left alone and reported.`,
		Example: `  sluice apply --dry-run
  sluice apply --env prod
  sluice apply --prune`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			p, err := g.loadProject()
			if err != nil {
				return err
			}
			desired, err := schedule.FromProject(p, envs)
			if err != nil {
				return specError(g, err)
			}
			c, err := g.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			sc := schedule.New(c)
			plan, err := sc.Plan(ctx, schedule.Scope{Project: p.Config.Project, Envs: envs, Prune: prune}, desired)
			if err != nil {
				return err
			}
			if !dryRun && plan.HasChanges() {
				if err := sc.Apply(ctx, plan); err != nil {
					return err
				}
			}
			if g.json() {
				return writeJSON(g.stdout, struct {
					*schedule.Plan
					DryRun bool `json:"dry_run"`
				}{plan, dryRun})
			}
			printSchedulePlan(g.stdout, plan, dryRun)
			return nil
		},
	}
	cmd.Flags().StringSliceVarP(&envs, "env", "e", nil, "only these environments (comma-separated or repeated; default: all)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the changes without making them")
	cmd.Flags().BoolVar(&prune, "prune", false, "delete the project's schedules whose pipeline or schedule no longer exists")
	return cmd
}

// specError prints a project's validation errors and says nothing changed.
func specError(g *globals, err error) error {
	var diags spec.Diagnostics
	if !errors.As(err, &diags) {
		return fmt.Errorf("%w\nnothing changed", err)
	}
	printDiagnostics(g.stderr, diags)
	fmt.Fprintf(g.stderr, "%d error(s): nothing changed; fix them and run again (`sluice validate` checks the project)\n", len(diags))
	return ExitError{ExitFailed}
}

func printSchedulePlan(w io.Writer, plan *schedule.Plan, dryRun bool) {
	sign := map[schedule.Op]string{schedule.OpCreate: "+", schedule.OpUpdate: "~", schedule.OpDelete: "-", schedule.OpStale: "?"}
	for _, ch := range plan.Changes {
		switch ch.Op {
		case schedule.OpUnchanged:
		case schedule.OpDelete:
			fmt.Fprintf(w, "- %s (delete: %s)\n", ch.ID, ch.Reason)
		case schedule.OpStale:
			fmt.Fprintf(w, "? %s (stale: %s; --prune deletes it)\n", ch.ID, ch.Reason)
		default:
			fmt.Fprintf(w, "%s %s (%s)\n", sign[ch.Op], ch.ID, ch.Op)
			for _, f := range ch.Fields {
				if ch.Op == schedule.OpCreate {
					fmt.Fprintf(w, "    %s: %s\n", f.Name, f.To)
				} else {
					fmt.Fprintf(w, "    %s: %s -> %s\n", f.Name, f.From, f.To)
				}
			}
		}
		for _, n := range ch.Notes {
			fmt.Fprintf(w, "! %s: %s\n", ch.ID, n)
		}
	}
	create, update, del, same := plan.Count(schedule.OpCreate), plan.Count(schedule.OpUpdate), plan.Count(schedule.OpDelete), plan.Count(schedule.OpUnchanged)
	switch {
	case !plan.HasChanges():
		fmt.Fprintf(w, "no changes: %s up to date\n", plural(same, "schedule"))
	case dryRun:
		fmt.Fprintf(w, "dry run, nothing changed: %d to create, %d to update, %d to delete, %d unchanged\n", create, update, del, same)
	default:
		fmt.Fprintf(w, "applied: %d created, %d updated, %d deleted, %d unchanged\n", create, update, del, same)
	}
}

func newSchedulesCmd(g *globals) *cobra.Command {
	var envs, pipelines []string
	cmd := &cobra.Command{
		Use:   "schedules",
		Short: "List the project's schedules: state, next runs, last run and its result",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := g.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			sc := schedule.New(c)
			prefix := "sluice/"
			var ids []string
			if p, err := g.loadProject(); err == nil {
				prefix += p.Config.Project + "/"
				// by id first: the list lags a moment behind `sluice apply`
				if desired, err := schedule.FromProject(p, nil); err == nil {
					for _, d := range desired {
						ids = append(ids, d.ID)
					}
				}
			}
			listed, err := sc.ListIDs(ctx, prefix)
			if err != nil {
				return err
			}
			ids = slices.Compact(slices.Sorted(slices.Values(append(ids, listed...))))
			ids = slices.DeleteFunc(ids, func(id string) bool {
				_, pipeline, env, ok := schedule.ParseID(id)
				return !ok || (len(envs) > 0 && !slices.Contains(envs, env)) || (len(pipelines) > 0 && !slices.Contains(pipelines, pipeline))
			})
			sts, err := sc.Status(ctx, ids)
			if err != nil {
				return err
			}
			if g.json() {
				if sts == nil {
					sts = []schedule.Status{}
				}
				return writeJSON(g.stdout, sts)
			}
			if len(sts) == 0 {
				fmt.Fprintln(g.stdout, "no schedules: create them with `sluice apply`")
				return nil
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "PIPELINE\tENV\tCRON\tTZ\tOVERLAP\tSTATE\tNEXT RUN\tLAST RUN\tRESULT")
			for _, s := range sts {
				state, next := "active", "-"
				if s.Paused {
					state = "paused"
					if s.Note != "" {
						state += ": " + s.Note
					}
				} else if len(s.NextRuns) > 0 {
					next = s.NextRuns[0].UTC().Format("2006-01-02 15:04:05Z")
				}
				last, result := "-", "-"
				if s.LastRun != nil {
					last, result = s.LastRun.ScheduledAt.Format("2006-01-02 15:04:05Z"), s.LastRun.Result
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Pipeline, s.Env, s.Cron, s.Timezone, s.Overlap, state, next, last, result)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringSliceVarP(&envs, "env", "e", nil, "only these environments")
	cmd.Flags().StringSliceVar(&pipelines, "pipeline", nil, "only these pipelines")
	return cmd
}

// scheduleTarget is the schedule a pause, unpause or trigger acts on, and
// what the spec says about it (nil when the project is invalid or the
// pipeline has no schedule there).
func scheduleTarget(g *globals, pipeline, env string) (id, envName string, d *schedule.Desired, err error) {
	p, err := g.loadProject()
	if err != nil {
		return "", "", nil, err
	}
	if env == "" {
		env = p.DefaultEnv()
	}
	if _, ok := p.Config.Environments[env]; !ok {
		return "", "", nil, fmt.Errorf("unknown environment %q (known: %s)", env, strings.Join(p.EnvNames(), ", "))
	}
	if _, err := p.Pipeline(pipeline); err != nil {
		return "", "", nil, err
	}
	// An operator must be able to pause during an incident even when the
	// project does not validate: only the project name is needed.
	if desired, err := schedule.FromProject(p, []string{env}); err == nil {
		for _, x := range desired {
			if x.Pipeline == pipeline {
				d = &x
			}
		}
	}
	return schedule.ID(p.Config.Project, pipeline, env), env, d, nil
}

func newPauseCmd(g *globals, pause bool) *cobra.Command {
	var env, note string
	verb, Verb := "pause", "Pause"
	if !pause {
		verb, Verb = "unpause", "Unpause"
	}
	cmd := &cobra.Command{
		Use:   verb + " <pipeline>",
		Short: Verb + " a pipeline's schedule in an environment, with a note",
		Long: Verb + ` a pipeline's schedule in an environment. The note is shown in the Web UI
and by sluice schedules. sluice apply leaves a state set by hand alone until
the spec's own paused setting changes.`,
		Example: fmt.Sprintf("  sluice %s olist_daily --env prod --note \"warehouse maintenance until 14:00\"", verb),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, env, d, err := scheduleTarget(g, args[0], env)
			if err != nil {
				return err
			}
			if note == "" {
				note = fmt.Sprintf("%sd with sluice %s", verb, verb)
				if u := g.getenv("USER"); u != "" {
					note += " by " + u
				}
			}
			c, err := g.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			sc := schedule.New(c)
			if pause {
				err = sc.Pause(ctx, id, note)
			} else {
				err = sc.Unpause(ctx, id, note)
			}
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(g.stdout, map[string]any{"schedule_id": id, "paused": pause, "note": note})
			}
			fmt.Fprintf(g.stdout, "%sd %s: %s\n", verb, id, note)
			switch {
			case d == nil:
			case pause && !d.Paused:
				fmt.Fprintf(g.stdout, "sluice apply leaves it paused; `sluice unpause %s --env %s` resumes it\n", args[0], env)
			case !pause && d.Paused:
				fmt.Fprintf(g.stdout, "note: %s pauses this schedule (%s); sluice apply leaves it running until that setting changes\n", d.File, d.Note)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&env, "env", "e", "", "environment (default: the project's default_env)")
	cmd.Flags().StringVar(&note, "note", "", "why (shown in the Web UI and by sluice schedules)")
	return cmd
}

func newTriggerCmd(g *globals) *cobra.Command {
	var env string
	var wait bool
	cmd := &cobra.Command{
		Use:   "trigger <pipeline>",
		Short: "Start a run now through the pipeline's schedule (trigger SCHEDULED, honours overlap)",
		Long: `Start a run now through the pipeline's schedule, as if it were due: the run
is SCHEDULED, its logical date is now, its id <schedule id>-<time>, and the
schedule's overlap policy applies (with skip, nothing starts while a run is
in progress). With --wait, watch the run until it ends; the exit code says
how it ended.`,
		Example: `  sluice trigger olist_daily --env prod --wait`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, _, _, err := scheduleTarget(g, args[0], env)
			if err != nil {
				return err
			}
			c, err := g.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			res, err := schedule.New(c).Trigger(ctx, id, triggerWait)
			if err != nil {
				return err
			}
			if g.json() && !(wait && res.WorkflowID != "") {
				return writeJSON(g.stdout, res)
			}
			switch {
			case res.Skipped:
				fmt.Fprintf(g.stdout, "skipped: a run is in progress and the overlap policy is %s (%s)\n", res.Overlap, strings.Join(res.Running, ", "))
				return nil
			case res.Buffered:
				fmt.Fprintf(g.stdout, "queued: starts when the run in progress ends (overlap %s; %s)\n", res.Overlap, strings.Join(res.Running, ", "))
				return nil
			}
			if !g.json() {
				fmt.Fprintf(g.stdout, "started %s (run %s), logical date %s\n", res.WorkflowID, res.RunID, res.ScheduledAt.Format(time.RFC3339))
			}
			if !wait {
				fmt.Fprintf(g.stdout, "watch: sluice status %s --wait\n", res.WorkflowID)
				return nil
			}
			return watch(ctx, g, c, res.WorkflowID, res.RunID)
		},
	}
	cmd.Flags().StringVarP(&env, "env", "e", "", "environment (default: the project's default_env)")
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "watch the run until it ends; the exit code reflects the outcome")
	return cmd
}

func newBackfillCmd(g *globals) *cobra.Command {
	var env, from, to string
	var params []string
	var parallel int
	var wait, dryRun bool
	cmd := &cobra.Command{
		Use:   "backfill <pipeline>",
		Short: "Run a pipeline once per schedule interval over a past range (trigger BACKFILL)",
		Long: `Run a pipeline once for each time its schedule's cron fires from --from to
--to (both included; a date as --to means the whole day, in the schedule's
time zone), each run with that time as its logical date and trigger
BACKFILL, at most --parallel at once, oldest first. A Backfill workflow
(id sluice/<pipeline>/<env>/backfill/<first>..<last>) starts the runs as
children (ids sluice/<pipeline>/<env>/<logical time>) and lists each
outcome; a failed run does not stop the others. The schedule itself need
not exist, nor be active. With --wait, watch until every run has ended:
exit 0 when all succeeded, 2 when some ended SUCCESS_WITH_FAILURES, 1
otherwise.`,
		Example: `  sluice backfill olist_daily --env prod --from 2026-11-01 --to 2026-11-03 --wait
  sluice backfill iot_sensors --env local --from 2026-11-20T00:00:00Z --to 2026-11-20T05:00:00Z --parallel 3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if from == "" || to == "" {
				return errors.New("give the range with --from and --to (dates such as 2026-11-01, or RFC 3339 times)")
			}
			if parallel < 1 {
				return fmt.Errorf("--parallel %d: use 1 or more", parallel)
			}
			pipeline := args[0]
			p, err := g.loadProject()
			if err != nil {
				return err
			}
			if env == "" {
				env = p.DefaultEnv()
			}
			desired, err := schedule.FromProject(p, []string{env})
			if err != nil {
				return specError(g, err)
			}
			i := slices.IndexFunc(desired, func(d schedule.Desired) bool { return d.Pipeline == pipeline })
			if i < 0 {
				if _, err := p.Pipeline(pipeline); err != nil {
					return err
				}
				return fmt.Errorf("pipeline %s has no schedule in environment %s, so it has no intervals to backfill: run single dates with `sluice run %s --env %s --date D`", pipeline, env, pipeline, env)
			}
			d := desired[i]
			loc, err := schedule.Location(d.Timezone)
			if err != nil {
				return err
			}
			start, end, err := schedule.ParseRange(from, to, loc)
			if err != nil {
				return err
			}
			times, err := schedule.Times(d.CronExpr(), loc, start, end, workflows.MaxBackfillRuns)
			if err != nil {
				return err
			}
			if len(times) == 0 {
				return fmt.Errorf("%q (%s) does not fire between %s and %s: nothing to backfill", d.Cron, d.Timezone, start.Format(time.RFC3339), end.Format(time.RFC3339))
			}
			paramMap, err := (&runFlags{params: params}).paramMap()
			if err != nil {
				return err
			}
			// Plan the first run here so that spec and parameter errors show
			// before anything starts.
			if _, err := p.Plan(spec.PlanRequest{Pipeline: pipeline, Env: env, Params: paramMap, Getenv: g.lookupEnv,
				Run: spec.RunVars{Trigger: string(run.TriggerBackfill), LogicalDate: times[0], StartTime: time.Now().UTC()}}); err != nil {
				return err
			}
			in := workflows.BackfillInput{Pipeline: pipeline, Env: env, LogicalDates: times, Parallel: parallel, Params: paramMap}
			id := workflows.BackfillID(pipeline, env, times[0], times[len(times)-1])
			if dryRun {
				if g.json() {
					return writeJSON(g.stdout, map[string]any{"workflow_id": id, "input": in})
				}
				fmt.Fprintf(g.stdout, "would start %s: %s of %s in %s (%s %s), at most %d at once\n", id, plural(len(times), "run"), pipeline, env, d.Cron, d.Timezone, parallel)
				for _, t := range times {
					fmt.Fprintf(g.stdout, "  %s  %s\n", t.Format(time.RFC3339), workflows.BackfillRunID(pipeline, env, t))
				}
				return nil
			}
			c, err := g.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			we, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID:                       id,
				TaskQueue:                spec.QueueDefault,
				WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
				WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
				StaticSummary: fmt.Sprintf("backfill %s · %s · %s from %s to %s", pipeline, env, plural(len(times), "run"),
					times[0].Format(time.RFC3339), times[len(times)-1].Format(time.RFC3339)),
				TypedSearchAttributes: temporal.NewSearchAttributes(workflows.AttrPipeline.ValueSet(pipeline), workflows.AttrEnv.ValueSet(env)),
			}, workflows.BackfillWorkflowName, in)
			if err != nil {
				var already *serviceerror.WorkflowExecutionAlreadyStarted
				if errors.As(err, &already) {
					return fmt.Errorf("the same backfill (%s) is already running: watch it with `temporal workflow describe --workflow-id %s`", id, id)
				}
				return fmt.Errorf("starting %s: %w", id, err)
			}
			if g.json() && !wait {
				return writeJSON(g.stdout, map[string]string{"workflow_id": we.GetID(), "run_id": we.GetRunID()})
			}
			if !g.json() {
				fmt.Fprintf(g.stdout, "started %s: %s of %s in %s, at most %d at once\n", id, plural(len(times), "run"), pipeline, env, parallel)
			}
			if !wait {
				if !g.json() {
					fmt.Fprintf(g.stdout, "watch: temporal workflow describe --workflow-id %s\n", id)
				}
				return nil
			}
			return watchBackfill(ctx, g, c, we.GetID(), we.GetRunID())
		},
	}
	cmd.Flags().StringVarP(&env, "env", "e", "", "environment (default: the project's default_env)")
	cmd.Flags().StringVar(&from, "from", "", "first date (2026-11-01) or time (RFC 3339), included")
	cmd.Flags().StringVar(&to, "to", "", "last date (the whole day) or time, included")
	cmd.Flags().IntVar(&parallel, "parallel", 1, "most runs at once")
	cmd.Flags().StringArrayVarP(&params, "param", "p", nil, "parameter override k=v for every run (repeatable)")
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "watch until every run has ended; the exit code reflects the outcome")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the runs without starting them")
	return cmd
}

// watchBackfill prints each run as it ends, then the outcome, and maps it
// to an exit code.
func watchBackfill(ctx context.Context, g *globals, c client.Client, id, runID string) error {
	done := make(chan struct{})
	var res *workflows.BackfillResult
	var resErr error
	go func() {
		defer close(done)
		res, resErr = backfillResult(ctx, c, id, runID)
	}()
	printed := map[string]bool{}
	report := func(r *workflows.BackfillResult) {
		if g.json() {
			return
		}
		for _, x := range r.Runs {
			if x.Status.Done() && !printed[x.WorkflowID] {
				printed[x.WorkflowID] = true
				line := fmt.Sprintf("  %-22s %s  %s", x.Status, x.LogicalDate.Format(time.RFC3339), x.WorkflowID)
				if x.Error != "" {
					line += ": " + firstLine(x.Error)
				}
				fmt.Fprintln(g.stdout, line)
			}
		}
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			if res == nil {
				return resErr
			}
			report(res)
			if g.json() {
				if err := writeJSON(g.stdout, res); err != nil {
					return err
				}
			} else {
				var counts []string
				for _, s := range dag.Statuses {
					if n := res.Count(s); n > 0 {
						counts = append(counts, fmt.Sprintf("%d %s", n, s))
					}
				}
				fmt.Fprintf(g.stdout, "backfill %s: %s\n", res.Status, strings.Join(counts, ", "))
			}
			return exitFor(res.Status)
		case <-ctx.Done():
			fmt.Fprintf(g.stderr, "\nstopped watching; the backfill goes on: temporal workflow describe --workflow-id %s\n", id)
			return ExitError{ExitFailed}
		case <-tick.C:
			qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			v, err := c.QueryWorkflow(qctx, id, runID, run.QueryStatus)
			cancel()
			var r workflows.BackfillResult
			if err == nil && v.Get(&r) == nil {
				report(&r)
			}
		}
	}
}

// backfillResult waits for a backfill's end and decodes its result, from the
// result or from the failure's details.
func backfillResult(ctx context.Context, c client.Client, id, runID string) (*workflows.BackfillResult, error) {
	var res workflows.BackfillResult
	err := c.GetWorkflow(ctx, id, runID).Get(ctx, &res)
	if err == nil {
		return &res, nil
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.HasDetails() && ae.Details(&res) == nil && res.Status != "" {
		return &res, nil
	}
	var ce *temporal.CanceledError
	if errors.As(err, &ce) && ce.HasDetails() && ce.Details(&res) == nil && res.Status != "" {
		return &res, nil
	}
	return nil, fmt.Errorf("backfill %s: %w", id, err)
}
