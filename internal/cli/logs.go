package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/dbt"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/store"
)

func newLogsCmd(g *globals) *cobra.Command {
	var task, runID string
	var tail int
	var raw bool
	cmd := &cobra.Command{
		Use:   "logs <workflow-id>",
		Short: "Show a run's errors in full and its task logs, per task and attempt",
		Long: `Show, for each task of a run (or the one named by --task) and each of its
attempts, the error type, message and full detail kept in run history, then
the task's log when it wrote one (dbt tasks): its content when the log URI
is a file on this machine, else where it is. dbt's JSON log lines are shown
as dbt prints them on a console (info, warnings and errors); --raw prints
them as written.`,
		Example: `  sluice logs sluice/olist_daily/prod/2026-11-22
  sluice logs sluice/olist_daily/prod/2026-11-22 --task run_dbt --tail 50`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			st, err := s.GetRun(ctx, args[0], runID)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no run %s in run history: list runs with `sluice runs`", args[0])
			}
			if err != nil {
				return err
			}
			tasks := st.Tasks
			if task != "" {
				t := st.Task(task)
				if t == nil {
					keys := make([]string, len(st.Tasks))
					for i, t := range st.Tasks {
						keys[i] = t.Key
					}
					return fmt.Errorf("run %s has no task %q (its tasks: %s)", st.WorkflowID, task, strings.Join(keys, ", "))
				}
				tasks = []run.Task{*t}
			}
			logs := make([]taskLog, len(tasks))
			for i, t := range tasks {
				logs[i] = readTaskLog(t, tail)
			}
			if g.json() {
				return writeJSON(g.stdout, logs)
			}
			for i, l := range logs {
				if i > 0 {
					fmt.Fprintln(g.stdout)
				}
				printTaskLog(g.stdout, l, raw)
			}
			if ui := uiLink(st, g.namespace); ui != "" {
				fmt.Fprintf(g.stdout, "\nTask activities also log to the worker's output; the Web UI shows every attempt: %s\n", ui)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&task, "task", "", "only this task")
	cmd.Flags().StringVar(&runID, "run-id", "", "a run of the workflow id other than the latest")
	cmd.Flags().IntVar(&tail, "tail", 0, "only the last n lines of each log (0: all)")
	cmd.Flags().BoolVar(&raw, "raw", false, "print log lines as written (dbt JSON)")
	return cmd
}

// taskLog is one task's part of `sluice logs`.
type taskLog struct {
	Task     string        `json:"task"`
	Type     string        `json:"type"`
	State    dag.State     `json:"state"`
	Reused   string        `json:"reused_from,omitempty"`
	Attempts []run.Attempt `json:"attempts"`
	// Logs are the task's log files: those a failed attempt names in its
	// error detail (a "log: <uri>" line, as dbt tasks write) and the one in
	// the task's output (log_uri).
	Logs []logFile `json:"logs,omitempty"`
	// Links are other URLs the task's output names (a Databricks run page).
	Links map[string]string `json:"links,omitempty"`
}

// logFile is a log a task wrote.
type logFile struct {
	// Attempt is the attempt that wrote it (0: unknown).
	Attempt int    `json:"attempt,omitempty"`
	URI     string `json:"uri"`
	// Content is the log when it is a file on this machine; Note says why
	// it is not shown otherwise.
	Content string `json:"content,omitempty"`
	Note    string `json:"note,omitempty"`
}

func readTaskLog(t run.Task, tail int) taskLog {
	l := taskLog{Task: t.Key, Type: t.Type, State: t.State, Reused: t.Reused, Attempts: t.Attempts}
	if l.Attempts == nil {
		l.Attempts = []run.Attempt{}
	}
	seen := map[string]bool{}
	add := func(attempt int, uri string) {
		if uri == "" || seen[uri] {
			return
		}
		seen[uri] = true
		f := logFile{Attempt: attempt, URI: uri}
		f.Content, f.Note = readLog(uri, tail)
		l.Logs = append(l.Logs, f)
	}
	for _, a := range t.Attempts {
		if a.Error != nil {
			add(a.N, detailLogURI(a.Error.Detail))
		}
	}
	for k, v := range t.Output {
		s, ok := v.(string)
		if !ok || s == "" {
			continue
		}
		switch {
		case k == "log_uri":
			n := 0
			if t.State == dag.Success && len(t.Attempts) > 0 {
				n = t.Attempts[len(t.Attempts)-1].N
			}
			add(n, s)
		case strings.HasSuffix(k, "_url") || strings.HasSuffix(k, "_uri") || k == "url":
			if l.Links == nil {
				l.Links = map[string]string{}
			}
			l.Links[k] = s
		}
	}
	return l
}

// detailLogURI finds the "log: <uri>" line of an error detail.
func detailLogURI(detail string) string {
	for _, line := range strings.Split(detail, "\n") {
		if uri, ok := strings.CutPrefix(strings.TrimSpace(line), "log: "); ok && strings.Contains(uri, ":/") {
			return strings.TrimSpace(uri)
		}
	}
	return ""
}

// readLog returns the content of a log URI when it is a local file (a
// folder: each file in it, in name order), else a note saying where it is.
func readLog(uri string, tail int) (content, note string) {
	path, ok := localPath(uri)
	if !ok {
		return "", "not a file on this machine: open it where it is"
	}
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", "not found on this machine: it is on the worker that ran the task; read it there"
		}
		return "", fmt.Sprintf("cannot read it here: %v", err)
	}
	if !fi.IsDir() {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Sprintf("cannot read it here: %v", err)
		}
		return lastLines(string(b), tail), ""
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && isLogFile(d.Name()) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Sprintf("cannot read it here: %v", err)
	}
	sort.Strings(files)
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Sprintf("cannot read %s: %v", f, err)
		}
		rel, _ := filepath.Rel(path, f)
		fmt.Fprintf(&b, "--- %s\n%s", rel, lastLines(string(data), tail))
		if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
			b.WriteString("\n")
		}
	}
	if len(files) == 0 {
		return "", "the folder holds no log files"
	}
	return b.String(), ""
}

// isLogFile picks the logs out of an artifacts folder (not manifests).
func isLogFile(name string) bool {
	return strings.HasSuffix(name, ".log") || strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".txt")
}

// localPath returns the path of a file:// URI (or of a plain absolute path).
func localPath(uri string) (string, bool) {
	if strings.HasPrefix(uri, "/") {
		return uri, true
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "file" || (u.Host != "" && u.Host != "localhost") {
		return "", false
	}
	return u.Path, u.Path != ""
}

func lastLines(s string, n int) string {
	if n <= 0 {
		return s
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) <= n {
		return s
	}
	return strings.Join(lines[len(lines)-n:], "")
}

func printTaskLog(w io.Writer, l taskLog, raw bool) {
	head := fmt.Sprintf("== %s (%s): %s", l.Task, l.Type, l.State)
	switch {
	case l.Reused != "":
		head += ", reused from " + l.Reused
	case len(l.Attempts) == 0:
		head += ", not run"
	case len(l.Attempts) == 1:
		head += ", 1 attempt"
	default:
		head += fmt.Sprintf(", %d attempts", len(l.Attempts))
	}
	fmt.Fprintln(w, head)
	for _, a := range l.Attempts {
		dur := ""
		if !a.EndedAt.IsZero() {
			dur = " (" + formatDuration(a.EndedAt.Sub(a.StartedAt)) + ")"
		}
		fmt.Fprintf(w, "attempt %d %s at %s%s\n", a.N, a.State, localTime(a.StartedAt), dur)
		if a.Error != nil {
			fmt.Fprintf(w, "  %s: %s\n", a.Error.Type, strings.ReplaceAll(a.Error.Message, "\n", "\n  "))
			if a.Error.Detail != "" {
				fmt.Fprintln(w, indent(strings.TrimRight(a.Error.Detail, "\n"), "    "))
			}
		}
		for _, f := range l.Logs {
			if f.Attempt == a.N {
				printLogFile(w, f, raw)
			}
		}
	}
	for _, k := range sortedKeys(l.Links) {
		fmt.Fprintf(w, "%s: %s\n", k, l.Links[k])
	}
	for _, f := range l.Logs {
		if f.Attempt == 0 {
			printLogFile(w, f, raw)
		}
	}
}

func printLogFile(w io.Writer, f logFile, raw bool) {
	if f.Note != "" {
		fmt.Fprintf(w, "log: %s (%s)\n", f.URI, f.Note)
		return
	}
	fmt.Fprintf(w, "log: %s\n", f.URI)
	text := f.Content
	if !raw {
		text = renderDbtLines(text)
	}
	fmt.Fprint(w, text)
	if text != "" && !strings.HasSuffix(text, "\n") {
		fmt.Fprintln(w)
	}
}

// renderDbtLines shows dbt's JSON log events as dbt prints them on a
// console: "time [level] message" for info, warn and error events (debug
// events are left out); other lines are kept as they are.
func renderDbtLines(s string) string {
	if !strings.Contains(s, `"info"`) {
		return s
	}
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, line := range lines {
		if line == "" {
			continue
		}
		ev := dbt.ParseEvent([]byte(line))
		if ev.Name == "" {
			b.WriteString(line)
			continue
		}
		if ev.Level == "debug" {
			continue
		}
		level := ""
		if ev.Level == "warn" || ev.Level == "error" {
			level = "[" + ev.Level + "] "
		}
		ts := ""
		if !ev.Time.IsZero() {
			ts = ev.Time.UTC().Format("15:04:05") + "  "
		}
		fmt.Fprintf(&b, "%s%s%s\n", ts, level, ev.Msg)
	}
	return b.String()
}
