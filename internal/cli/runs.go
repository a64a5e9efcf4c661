package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/store"
)

func newRunsCmd(g *globals) *cobra.Command {
	var f store.RunFilter
	var since string
	cmd := &cobra.Command{
		Use:     "runs",
		Aliases: []string{"history"},
		Short:   "List runs from run history (Postgres), newest first, and runs queued by schedules",
		Long: `List runs from run history, newest first: when they started, their trigger,
status, duration and the tasks that did not succeed.

Runs that a schedule holds back because the previous one is still running
(overlap buffer_one or buffer_all) have no workflow yet; they are listed
first with status QUEUED, one row per schedule, read from Temporal.`,
		Example: `  sluice runs --pipeline olist_daily --limit 20
  sluice runs --status FAILED --since 7d
  sluice runs --status QUEUED
  sluice runs --env prod -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if since != "" {
				d, err := parseSince(since)
				if err != nil {
					return err
				}
				f.Since = time.Now().Add(-d)
			}
			f.Status = strings.ToUpper(f.Status)
			if f.Status != "" && f.Status != string(dag.StatusQueued) && f.Status != string(dag.StatusRunning) && !dag.Status(f.Status).Done() {
				return fmt.Errorf("--status %s: use one of QUEUED, RUNNING, %s", f.Status, strings.Join(statusNames(), ", "))
			}
			var rows []runRow
			if f.Status == "" || f.Status == string(dag.StatusQueued) {
				queued, err := findQueued(ctx, g, f.Pipeline, f.Env)
				if err != nil {
					fmt.Fprintf(g.stderr, "sluice: runs queued by schedules are not shown: %v\n", err)
				}
				rows = append(rows, queued...)
			}
			if f.Status != string(dag.StatusQueued) {
				s, err := g.openStore(ctx)
				if err != nil {
					return err
				}
				defer s.Close()
				runs, err := s.ListRuns(ctx, f)
				if err != nil {
					return err
				}
				for _, r := range runs {
					rows = append(rows, historyRow(r))
				}
			}
			if g.json() {
				if rows == nil {
					rows = []runRow{}
				}
				return writeJSON(g.stdout, rows)
			}
			return writeRuns(g.stdout, rows)
		},
	}
	cmd.Flags().StringVar(&f.Pipeline, "pipeline", "", "only this pipeline")
	cmd.Flags().StringVar(&f.Env, "env", "", "only this environment")
	cmd.Flags().StringVar(&f.Status, "status", "", "only this status: QUEUED, RUNNING, SUCCESS, SUCCESS_WITH_FAILURES, FAILED, TIMEDOUT, CANCELED")
	cmd.Flags().StringVar(&since, "since", "", "only runs started within this duration (e.g. 24h, 7d)")
	cmd.Flags().IntVar(&f.Limit, "limit", 20, "most runs to list from history")
	return cmd
}

// runRow is a row of `sluice runs`: a run from history, or the starts a
// schedule holds back (QUEUED), which have no workflow and no start time yet.
type runRow struct {
	WorkflowID      string     `json:"workflow_id"`
	RunID           string     `json:"run_id"`
	Pipeline        string     `json:"pipeline"`
	Env             string     `json:"env"`
	Trigger         string     `json:"trigger"`
	Status          dag.Status `json:"status"`
	LogicalDate     *time.Time `json:"logical_date,omitempty"`
	StartedAt       *time.Time `json:"started_at"`
	EndedAt         *time.Time `json:"ended_at,omitempty"`
	DurationSeconds *float64   `json:"duration_seconds,omitempty"`
	FailedTasks     []string   `json:"failed_tasks,omitempty"`
	RepairOf        string     `json:"repair_of,omitempty"`
	Error           string     `json:"error,omitempty"`
	// ScheduleID, Queued and WaitingFor describe a QUEUED row: how many
	// starts the schedule holds and the runs they wait for.
	ScheduleID string   `json:"schedule_id,omitempty"`
	Queued     int      `json:"queued,omitempty"`
	WaitingFor []string `json:"waiting_for,omitempty"`
}

func historyRow(r store.RunSummary) runRow {
	row := runRow{WorkflowID: r.WorkflowID, RunID: r.RunID, Pipeline: r.Pipeline, Env: r.Env, Trigger: r.Trigger,
		Status: r.Status, LogicalDate: r.LogicalDate, StartedAt: &r.StartedAt, EndedAt: r.EndedAt,
		FailedTasks: r.FailedTasks, RepairOf: r.RepairOf, Error: r.Error}
	if r.EndedAt != nil {
		secs := r.EndedAt.Sub(r.StartedAt).Seconds()
		row.DurationSeconds = &secs
	}
	return row
}

func writeRuns(w io.Writer, rows []runRow) error {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tPIPELINE\tENV\tTRIGGER\tSTATUS\tDURATION\tFAILED TASKS\tWORKFLOW ID")
	for _, r := range rows {
		if r.Status == dag.StatusQueued {
			fmt.Fprintf(tw, "-\t%s\t%s\t%s\t%s\t-\t-\t%s\n", r.Pipeline, r.Env, r.Trigger, r.Status, queuedNote(r))
			continue
		}
		dur := "-"
		if r.DurationSeconds != nil {
			dur = formatDuration(time.Duration(*r.DurationSeconds * float64(time.Second)))
		}
		failed := "-"
		if len(r.FailedTasks) > 0 {
			failed = strings.Join(r.FailedTasks, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.StartedAt.Local().Format("2006-01-02 15:04:05"),
			r.Pipeline, r.Env, r.Trigger, r.Status, dur, failed, r.WorkflowID)
	}
	if len(rows) == 0 {
		fmt.Fprintln(tw, "(no runs)")
	}
	return tw.Flush()
}

func queuedNote(r runRow) string {
	starts := "1 start"
	if r.Queued != 1 {
		starts = fmt.Sprintf("%d starts", r.Queued)
	}
	note := fmt.Sprintf("schedule %s: %s", r.ScheduleID, starts)
	if len(r.WaitingFor) > 0 {
		note += " waiting for " + strings.Join(r.WaitingFor, ", ")
	}
	return note
}

// formatDuration rounds a duration for tables: 350ms, 4.2s, 3m12s, 2h5m.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

func statusNames() []string {
	out := make([]string, len(dag.Statuses))
	for i, s := range dag.Statuses {
		out[i] = string(s)
	}
	return out
}

func parseSince(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--since %q: use a duration such as 24h or 30d", s)
	}
	return d, nil
}
