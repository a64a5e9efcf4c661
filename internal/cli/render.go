package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/spec"
)

// progress prints a run's task table: redrawn in place on a terminal, as
// one line per change otherwise (CI logs, pipes).
type progress struct {
	w      io.Writer
	tty    bool
	lines  int
	states map[string]string
}

func newProgress(w io.Writer, tty bool) *progress {
	return &progress{w: w, tty: tty, states: map[string]string{}}
}

func (p *progress) update(st *run.Status) {
	if p.tty {
		if p.lines > 0 {
			fmt.Fprintf(p.w, "\x1b[%dA\x1b[J", p.lines)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s  %s  %s\n", spinner(), st.Pipeline, st.Status, st.Duration(time.Now()).Round(time.Second))
		writeTaskTable(&b, st, false)
		p.lines = strings.Count(b.String(), "\n")
		fmt.Fprint(p.w, b.String())
		return
	}
	for _, t := range st.Tasks {
		key := string(t.State) + t.Waiting + fmt.Sprint(len(t.Attempts))
		if p.states[t.Key] == key {
			continue
		}
		p.states[t.Key] = key
		if t.State == dag.Pending {
			continue
		}
		line := fmt.Sprintf("%s  %-22s %-16s", time.Now().Format("15:04:05"), t.Key, t.State)
		if len(t.Attempts) > 1 {
			line += fmt.Sprintf(" attempt %d", len(t.Attempts))
		}
		if t.Waiting != "" {
			line += "  " + t.Waiting
		} else if t.Error != nil && t.State.Terminal() {
			line += "  " + firstLine(t.Error.String())
		}
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) final(st *run.Status, namespace string) {
	if p.tty && p.lines > 0 {
		fmt.Fprintf(p.w, "\x1b[%dA\x1b[J", p.lines)
	} else {
		p.update(st)
		fmt.Fprintln(p.w)
	}
	printResult(p.w, st, namespace)
}

var spin = 0

func spinner() string {
	spin++
	return string(`|/-\`[spin%4])
}

// printResult prints a finished (or running) run: header, task table,
// errors, outputs and where to look next.
func printResult(w io.Writer, st *run.Status, namespace string) {
	fmt.Fprintf(w, "%s in %s: %s after %s (logical date %s, %s)\n", st.Pipeline, st.Env, st.Status,
		st.Duration(time.Now()).Round(10*time.Millisecond), st.LogicalDate.Format(time.DateOnly), st.Trigger)
	if st.Error != "" {
		fmt.Fprintln(w, st.Error)
	}
	if len(st.Tasks) > 0 {
		fmt.Fprintln(w)
		writeTaskTable(w, st, true)
		printSections(w, st)
	}
	for _, t := range st.Tasks {
		if t.Error != nil && t.State.Failure() && t.State != dag.UpstreamFailed && t.Error.Type != "TaskCanceled" {
			fmt.Fprintf(w, "\n%s %s: %s\n", t.Key, t.State, t.Error.String())
			if t.Error.Detail != "" {
				fmt.Fprintln(w, indent(firstLines(t.Error.Detail, 8), "  "))
			}
		}
	}
	if ui := uiLink(st, namespace); ui != "" {
		fmt.Fprintf(w, "\nWeb UI: %s\n", ui)
	}
	if st.Status == dag.StatusFailed || st.Status == dag.StatusTimedOut {
		fmt.Fprintf(w, "details: sluice status %s\n", st.WorkflowID)
	}
}

// writeTaskTable prints one row per task; with outputs, a short summary of
// each task's output.
func writeTaskTable(w io.Writer, st *run.Status, outputs bool) {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	header := "TASK\tTYPE\tSTATE\tATTEMPTS\tDURATION"
	if outputs {
		header += "\tOUTPUT"
	} else {
		header += "\tNOTE"
	}
	fmt.Fprintln(tw, header)
	now := time.Now()
	for _, t := range st.Tasks {
		dur := "-"
		if d := t.Duration(now); d > 0 {
			dur = d.Round(10 * time.Millisecond).String()
		}
		extra := t.Waiting
		if outputs {
			extra = taskSummary(t)
		} else if extra == "" && t.Error != nil && t.State.Terminal() {
			extra = firstLine(t.Error.String())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", t.Key, t.Type, t.State, len(t.Attempts), dur, extra)
	}
	tw.Flush()
}

// summarize renders the scalar fields of an output, compactly.
func summarize(out map[string]any) string {
	if len(out) == 0 {
		return ""
	}
	var parts []string
	for _, k := range sortedKeys(out) {
		switch v := out[k].(type) {
		case string:
			if v != "" && len(v) < 60 {
				parts = append(parts, k+"="+v)
			}
		case float64, int64, int, bool:
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	s := strings.Join(parts, " ")
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}

func uiLink(st *run.Status, namespace string) string {
	base := st.UIURL
	if base == "" {
		base = "http://localhost:8233"
	}
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s", strings.TrimRight(base, "/"), namespace, pathEscape(st.WorkflowID), st.RunID)
}

func pathEscape(s string) string {
	return strings.NewReplacer("/", "%2F", " ", "%20", "#", "%23", "?", "%3F").Replace(s)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 100 {
		line = line[:97] + "..."
	}
	return line
}

func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func parseDuration(s string) (time.Duration, error) {
	d, err := spec.ParseDuration(s)
	return d.D(), err
}
