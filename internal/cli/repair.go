package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/store"
)

func newRepairCmd(g *globals) *cobra.Command {
	var tasks []string
	var downstream, latest, wait bool
	cmd := &cobra.Command{
		Use:   "repair <workflow-id>",
		Short: "Re-run what failed in a run, reusing what succeeded",
		Long: `Start a new run that repairs an earlier one (trigger REPAIR). By default it
reuses the original run's plan, re-runs its FAILED, TIMEDOUT, CANCELED and
UPSTREAM_FAILED tasks, and takes the state and outputs of the others from it.
--tasks re-runs the named tasks instead; --downstream adds every task after
them; --latest-spec plans from the pipeline files as they are now. A dbt task
that failed re-runs only its failed and skipped nodes and their children.
Repairing a repair works the same way: point at the latest run.`,
		Example: `  sluice repair sluice/olist_daily/prod/2026-11-22 --wait
  sluice repair sluice/olist_daily/prod/2026-11-22 --tasks run_main_pipeline --downstream`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			orig := args[0]
			s, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			st, err := s.GetRun(ctx, orig, "")
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no run %s in run history: list runs with `sluice runs`", orig)
			}
			if err != nil {
				return err
			}
			if !st.Status.Done() {
				return fmt.Errorf("run %s is %s: repair it once it has ended (or cancel it first)", orig, st.Status)
			}
			if len(tasks) == 0 && st.Status == dag.StatusSuccess {
				return fmt.Errorf("run %s succeeded: nothing to repair (use --tasks to re-run tasks anyway)", orig)
			}
			c, err := g.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			in := run.Input{
				Pipeline: st.Pipeline, Env: st.Env, RepairOf: orig, Trigger: run.TriggerRepair,
				RepairTasks: tasks, RepairDownstream: downstream, LatestSpec: latest,
				LogicalDate: st.LogicalDate.UTC().Format(time.RFC3339),
			}
			id := fmt.Sprintf("%s/repair-%s", orig, time.Now().UTC().Format("20060102T150405Z"))
			we, err := Start(ctx, c, id, in, st.LogicalDate)
			if err != nil {
				return err
			}
			if g.json() && !wait {
				return writeJSON(g.stdout, map[string]string{"workflow_id": we.GetID(), "run_id": we.GetRunID(), "repair_of": orig})
			}
			if !g.json() {
				fmt.Fprintf(g.stdout, "repairing %s as %s (run %s)\n", orig, we.GetID(), we.GetRunID())
			}
			if !wait {
				return nil
			}
			return watch(ctx, g, c, we.GetID(), we.GetRunID())
		},
	}
	cmd.Flags().StringSliceVar(&tasks, "tasks", nil, "re-run these tasks (default: every task that did not succeed)")
	cmd.Flags().BoolVar(&downstream, "downstream", false, "also re-run every task after the selected ones")
	cmd.Flags().BoolVar(&latest, "latest-spec", false, "plan from the current pipeline files, not the original plan")
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "watch the repair until it ends")
	return cmd
}
