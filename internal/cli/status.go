package cli

import (
	"errors"
	"fmt"

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
				return fmt.Errorf("no run %s in Temporal or in run history: list runs with `sluice runs`", id)
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
