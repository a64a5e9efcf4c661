package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/store"
)

func newRunInfoCmd(g *globals) *cobra.Command {
	var runID string
	cmd := &cobra.Command{
		Use:   "run-info <workflow-id>",
		Short: "Show a run from history: tasks, attempts, errors, durations, outputs, notifications, repairs",
		Long: `Show everything run history keeps about a run: its trigger, plan hash,
parameters and outcome; each task's state, attempts, duration, output and
the run it was reused from (repairs); every attempt with its error; the
notifications sent about it (the delivery log); and its repair lineage, the
run it repairs and the runs that repair it. The latest run of the workflow
id is shown unless --run-id names another.`,
		Example: `  sluice run-info sluice/olist_daily/prod/2026-11-22
  sluice run-info sluice/olist_daily/prod/2026-11-22 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			info, err := loadRunInfo(ctx, s, args[0], runID)
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(g.stdout, info)
			}
			printRunInfo(g.stdout, info, g.namespace)
			return nil
		},
	}
	cmd.Flags().StringVar(&runID, "run-id", "", "a run of the workflow id other than the latest")
	return cmd
}

// runInfo is what `sluice run-info` shows.
type runInfo struct {
	*run.Status
	// Deliveries is the notification delivery log of the run.
	Deliveries []store.Delivery `json:"deliveries"`
	// RepairedBy lists the runs that repair this one, newest first.
	RepairedBy []store.RunSummary `json:"repaired_by"`
}

func loadRunInfo(ctx context.Context, s *store.Store, workflowID, runID string) (*runInfo, error) {
	st, err := s.GetRun(ctx, workflowID, runID)
	if errors.Is(err, store.ErrNotFound) {
		if runID != "" {
			return nil, fmt.Errorf("no run %s of %s in run history: list runs with `sluice runs`", runID, workflowID)
		}
		return nil, fmt.Errorf("no run %s in run history: list runs with `sluice runs`", workflowID)
	}
	if err != nil {
		return nil, err
	}
	info := &runInfo{Status: st, Deliveries: []store.Delivery{}, RepairedBy: []store.RunSummary{}}
	ds, err := s.Deliveries(ctx, st.WorkflowID, st.RunID)
	if err != nil {
		return nil, err
	}
	if ds != nil {
		info.Deliveries = ds
	}
	repairs, err := s.ListRuns(ctx, store.RunFilter{RepairOf: st.WorkflowID, Limit: 100})
	if err != nil {
		return nil, err
	}
	if repairs != nil {
		info.RepairedBy = repairs
	}
	return info, nil
}

func printRunInfo(w io.Writer, info *runInfo, namespace string) {
	st := info.Status
	now := time.Now()
	fmt.Fprintf(w, "%s in %s: %s\n", st.Pipeline, st.Env, st.Status)
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "  %s\t%s\n", k, v)
		}
	}
	field("workflow id", st.WorkflowID)
	field("run id", st.RunID)
	field("trigger", string(st.Trigger))
	if !st.LogicalDate.IsZero() {
		field("logical date", logicalDate(st.LogicalDate))
	}
	field("started", localTime(st.StartedAt))
	if !st.EndedAt.IsZero() {
		field("ended", fmt.Sprintf("%s (%s)", localTime(st.EndedAt), formatDuration(st.Duration(now))))
	} else {
		field("running for", formatDuration(st.Duration(now)))
	}
	field("plan hash", st.PlanHash)
	field("params", formatParams(st.Params))
	field("repair of", st.RepairOf)
	for i, r := range info.RepairedBy {
		k := ""
		if i == 0 {
			k = "repaired by"
		}
		fmt.Fprintf(tw, "  %s\t%s (%s)\n", k, r.WorkflowID, r.Status)
	}
	tw.Flush()
	if st.Error != "" {
		fmt.Fprintf(w, "\nerror: %s\n", st.Error)
	}
	for _, warning := range st.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}

	if len(st.Tasks) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
		fmt.Fprintln(tw, "TASK\tTYPE\tSTATE\tATTEMPTS\tDURATION\tREUSED FROM\tOUTPUT")
		for _, t := range st.Tasks {
			dur := "-"
			if d := t.Duration(now); d > 0 {
				dur = formatDuration(d)
			}
			reused := "-"
			if t.Reused != "" {
				reused = t.Reused
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", t.Key, t.Type, t.State, len(t.Attempts), dur, reused, taskSummary(t))
		}
		tw.Flush()
	}

	if hasAttempts(st) {
		fmt.Fprintln(w, "\nAttempts")
		tw = tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
		for _, t := range st.Tasks {
			for _, a := range t.Attempts {
				dur := "-"
				if !a.EndedAt.IsZero() {
					dur = formatDuration(a.EndedAt.Sub(a.StartedAt))
				}
				msg := ""
				if a.Error != nil {
					msg = firstLineMax(a.Error.String(), 200)
				}
				fmt.Fprintf(tw, "  %s #%d\t%s\t%s\t%s\t%s\n", t.Key, a.N, a.State, localTime(a.StartedAt), dur, msg)
			}
		}
		tw.Flush()
		for _, t := range st.Tasks {
			for _, a := range t.Attempts {
				if a.Error != nil && a.Error.Detail != "" {
					fmt.Fprintf(w, "\n%s #%d %s\n%s\n", t.Key, a.N, a.Error.String(), indent(firstLines(a.Error.Detail, 8), "  "))
				}
			}
		}
	}

	if outs := outputs(st); len(outs) > 0 {
		fmt.Fprintln(w, "\nOutputs")
		tw = tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
		for _, o := range outs {
			fmt.Fprintf(tw, "  %s\t%s\n", o[0], o[1])
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "\nNotifications")
	if len(info.Deliveries) == 0 {
		fmt.Fprintln(w, "  none sent")
	} else {
		tw = tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
		fmt.Fprintln(tw, "  EVENT\tCHANNEL\tTYPE\tSTATUS\tATTEMPTS\tSENT\tERROR")
		for _, d := range info.Deliveries {
			sent := "-"
			if d.SentAt != nil {
				sent = localTime(*d.SentAt)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.Event, d.Channel, d.ChannelType, d.Status, d.Attempts, sent, firstLine(d.Error))
		}
		tw.Flush()
	}

	if ui := uiLink(st, namespace); ui != "" {
		fmt.Fprintf(w, "\nWeb UI: %s\n", ui)
	}
	if failed := st.FailedTasks(); len(failed) > 0 {
		fmt.Fprintf(w, "errors in full: sluice logs %s\n", st.WorkflowID)
	}
}

func hasAttempts(st *run.Status) bool {
	for _, t := range st.Tasks {
		if len(t.Attempts) > 0 {
			return true
		}
	}
	return false
}

// outputs returns each task's output as compact JSON, in task order.
func outputs(st *run.Status) [][2]string {
	var out [][2]string
	for _, t := range st.Tasks {
		if len(t.Output) == 0 {
			continue
		}
		b, err := json.Marshal(t.Output)
		if err != nil {
			continue
		}
		s := string(b)
		if len(s) > 400 {
			s = s[:397] + "..."
		}
		out = append(out, [2]string{t.Key, s})
	}
	return out
}

func formatParams(p map[string]any) string {
	if len(p) == 0 {
		return ""
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, p[k])
	}
	return strings.Join(parts, " ")
}

// logicalDate shows a date alone when the time is midnight UTC.
func logicalDate(t time.Time) string {
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}

func localTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// firstLineMax is the first line of s, cut to max bytes.
func firstLineMax(s string, max int) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > max {
		line = line[:max-3] + "..."
	}
	return line
}
