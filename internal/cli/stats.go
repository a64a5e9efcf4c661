package cli

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicedata/sluice/internal/store"
)

func newStatsCmd(g *globals) *cobra.Command {
	var f store.StatsFilter
	var since string
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Success rate and p50/p95 durations per pipeline and task, against the previous period",
		Long: `Summarise the runs that started in the period (--since, default 30d) and
have ended, per pipeline and environment: runs by outcome, success rate, p50
and p95 run duration, and the change against the period of the same length
just before. Per task: how often it ran, failed (after its retries) and how
many attempts failed, with p50 and p95 durations; then the slowest tasks.
Pipelines whose success rate is below --target (percent) are flagged.

The success rate counts SUCCESS and SUCCESS_WITH_FAILURES runs among the runs
that were not canceled. Percentiles are interpolated between runs.`,
		Example: `  sluice stats
  sluice stats --pipeline olist_daily --env prod --since 7d
  sluice stats --target 99 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			d, err := parseSince(since)
			if err != nil {
				return err
			}
			if f.Target <= 0 || f.Target > 100 {
				return fmt.Errorf("--target %v: give a success rate in percent, between 0 and 100 (e.g. 95)", f.Target)
			}
			f.Until = time.Now()
			f.Since = f.Until.Add(-d)
			s, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			st, err := s.Stats(ctx, f)
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(g.stdout, st)
			}
			printStats(g.stdout, st, since)
			return nil
		},
	}
	cmd.Flags().StringVar(&f.Pipeline, "pipeline", "", "only this pipeline")
	cmd.Flags().StringVar(&f.Env, "env", "", "only this environment")
	cmd.Flags().StringVar(&since, "since", "30d", "the period: runs started within this duration")
	cmd.Flags().Float64Var(&f.Target, "target", store.DefaultTargetRate, "flag pipelines whose success rate (percent) is below this")
	cmd.Flags().IntVar(&f.Slowest, "slowest", store.DefaultSlowest, "how many of the slowest tasks to list")
	return cmd
}

func printStats(w io.Writer, st *store.Stats, period string) {
	fmt.Fprintf(w, "Runs started in the last %s (%s to %s), against the %s before\n\n", period,
		st.Since.Local().Format("2006-01-02 15:04"), st.Until.Local().Format("2006-01-02 15:04"), period)
	if len(st.Pipelines) == 0 {
		fmt.Fprintln(w, "No ended runs in either period.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "PIPELINE\tENV\tRUNS\tOK\tPARTIAL\tFAILED\tTIMEDOUT\tCANCELED\tSUCCESS\tCHANGE\tP50\tCHANGE\tP95\tCHANGE\tNOTE")
	for _, p := range st.Pipelines {
		c := p.Current
		flag := ""
		if p.BelowTarget {
			flag = fmt.Sprintf("below %s target", pct(st.Target))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Pipeline, p.Env, c.Runs,
			c.Succeeded, c.SucceededWithFailures, c.Failed, c.TimedOut, c.Canceled,
			optPct(c.SuccessRate), points(p.SuccessRateChange), secs(c.P50Seconds), rel(p.P50Change),
			secs(c.P95Seconds), rel(p.P95Change), flag)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nTasks")
	tw = tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "PIPELINE\tENV\tTASK\tTYPE\tRUNS\tFAILURES\tFAILED ATTEMPTS\tP50\tP95")
	for _, p := range st.Pipelines {
		for _, t := range p.Tasks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", t.Pipeline, t.Env, t.Task, t.Type, t.Runs, t.Failures,
				t.FailedAttempts, secs(t.P50Seconds), secs(t.P95Seconds))
		}
	}
	tw.Flush()

	if len(st.Slowest) > 0 {
		fmt.Fprintln(w, "\nSlowest tasks (p95)")
		tw = tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
		for i, t := range st.Slowest {
			fmt.Fprintf(tw, "%d.\t%s\t%s/%s\tp95 %s\tp50 %s\n", i+1, t.Task, t.Pipeline, t.Env, secs(t.P95Seconds), secs(t.P50Seconds))
		}
		tw.Flush()
	}

	var below []store.PipelineStats
	for _, p := range st.Pipelines {
		if p.BelowTarget {
			below = append(below, p)
		}
	}
	if len(below) == 0 {
		fmt.Fprintf(w, "\nEvery pipeline that ran is at or above the %s target.\n", pct(st.Target))
		return
	}
	fmt.Fprintf(w, "\nBelow the %s target:\n", pct(st.Target))
	for _, p := range below {
		fmt.Fprintf(w, "  %s in %s: %s success (%d of %d runs not canceled)\n", p.Pipeline, p.Env, optPct(p.Current.SuccessRate),
			p.Current.Succeeded+p.Current.SucceededWithFailures, p.Current.Runs-p.Current.Canceled)
	}
}

func pct(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f%%", v)
	}
	return fmt.Sprintf("%.1f%%", v)
}

func optPct(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", *v)
}

// points shows a change of a rate in percentage points.
func points(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%+.1fpp", *v)
}

// rel shows a relative change in percent.
func rel(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%+.0f%%", *v*100)
}

func secs(v *float64) string {
	if v == nil {
		return "-"
	}
	return formatDuration(time.Duration(*v * float64(time.Second)))
}
