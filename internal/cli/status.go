package cli

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"

	"github.com/sluicedata/sluice/internal/store"
)

func newStatusCmd(g *globals) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "status <workflow-id>",
		Short: "Show a run's tasks, states, attempts and errors",
		Long: `Show a run's status: from the running workflow (its status query) when
Temporal knows it, else from run history in Postgres. --wait watches it until
it ends, with the same exit codes as sluice run --wait.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id := args[0]
			c, err := g.dial(ctx)
			if err == nil {
				defer c.Close()
				if wait {
					return watch(ctx, g, c, id, "")
				}
				st, qerr := queryStatus(ctx, c, id, "")
				if qerr == nil {
					if g.json() {
						return writeJSON(g.stdout, st)
					}
					printResult(g.stdout, st, g.namespace)
					return nil
				}
				var nf *serviceerror.NotFound
				if !errors.As(qerr, &nf) {
					fmt.Fprintf(g.stderr, "temporal: %v; reading run history instead\n", qerr)
				}
			}
			s, serr := g.openStore(ctx)
			if serr != nil {
				if err != nil {
					return err
				}
				return serr
			}
			defer s.Close()
			st, serr := s.GetRun(ctx, id, "")
			if errors.Is(serr, store.ErrNotFound) {
				return fmt.Errorf("no run %s in Temporal or in run history: list runs with `sluice history`", id)
			}
			if serr != nil {
				return serr
			}
			if g.json() {
				return writeJSON(g.stdout, st)
			}
			printResult(g.stdout, st, g.namespace)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "watch until the run ends")
	return cmd
}

func newCancelCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "cancel <workflow-id>",
		Short: "Cancel a run: running tasks are stopped, the rest marked CANCELED",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := g.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.CancelWorkflow(ctx, args[0], ""); err != nil {
				var nf *serviceerror.NotFound
				if errors.As(err, &nf) {
					return fmt.Errorf("no running workflow %s", args[0])
				}
				return fmt.Errorf("canceling %s: %w", args[0], err)
			}
			_ = reason
			fmt.Fprintf(g.stdout, "cancel requested for %s; running tasks stop at their next heartbeat\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in history)")
	return cmd
}

func newHistoryCmd(g *globals) *cobra.Command {
	var f store.RunFilter
	var since string
	cmd := &cobra.Command{
		Use:     "history",
		Aliases: []string{"runs"},
		Short:   "List past and running runs from run history (Postgres)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if since != "" {
				d, err := parseSince(since)
				if err != nil {
					return err
				}
				f.Since = time.Now().Add(-d)
			}
			s, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			runs, err := s.ListRuns(ctx, f)
			if err != nil {
				return err
			}
			if g.json() {
				if runs == nil {
					runs = []store.RunSummary{}
				}
				return writeJSON(g.stdout, runs)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "STARTED\tPIPELINE\tENV\tTRIGGER\tSTATUS\tDURATION\tFAILED TASKS\tWORKFLOW ID")
			for _, r := range runs {
				dur := "-"
				if r.EndedAt != nil {
					dur = r.EndedAt.Sub(r.StartedAt).Round(time.Second).String()
				}
				failed := "-"
				if len(r.FailedTasks) > 0 {
					failed = fmt.Sprint(r.FailedTasks)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.StartedAt.Local().Format("2006-01-02 15:04:05"),
					r.Pipeline, r.Env, r.Trigger, r.Status, dur, failed, r.WorkflowID)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&f.Pipeline, "pipeline", "", "only this pipeline")
	cmd.Flags().StringVar(&f.Env, "env", "", "only this environment")
	cmd.Flags().StringVar(&f.Status, "status", "", "only this status (SUCCESS, FAILED, ...)")
	cmd.Flags().StringVar(&since, "since", "", "only runs started within this duration (e.g. 24h, 7d)")
	cmd.Flags().IntVar(&f.Limit, "limit", 20, "most runs to list")
	return cmd
}

func parseSince(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("--since %q: use a duration such as 24h or 30d", s)
	}
	return d, nil
}
