package notify

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Message is an event rendered for people.
type Message struct {
	Subject  string // one line, e.g. "[sluice] olist_daily (prod) FAILED"
	Text     string // plain-text body (email, log)
	Markdown string // the same content in Slack's mrkdwn dialect
}

// Limits that keep a message readable in a mail client or a Slack channel.
const (
	maxTasks        = 10  // failing tasks listed before "and N more"
	maxErrorLines   = 20  // lines of error detail per task
	maxWarnings     = 10  // warnings listed before "and N more"
	maxWarningLines = 5   // lines per warning
	maxLineRunes    = 500 // characters per line of error or warning detail
	maxSlackSection = 3000
)

// Render turns e into a message naming the pipeline, environment and outcome,
// the failing tasks with their error class and the first lines of their
// errors, warnings, the duration, the Temporal UI link and the repair command.
// It is deterministic: the same event always gives the same message; times are
// shown in UTC. It does not scrub secrets: Sender.Send scrubs the event before
// rendering.
func Render(e Event) Message {
	v := newView(e)
	return Message{
		Subject:  "[sluice] " + v.headline(),
		Text:     v.text(),
		Markdown: strings.Join(v.mrkdwnSections(), "\n\n"),
	}
}

// view is an event cut down to what a message shows.
type view struct {
	e            Event
	status       string
	fields       [][2]string // label, value
	tasks        []taskView
	moreTasks    int
	warnings     []linesView
	moreWarnings int
}

type taskView struct {
	key, desc string
	detail    linesView
}

type linesView struct {
	lines []string
	more  int // lines left out
}

func newView(e Event) view {
	v := view{e: e, status: status(e)}
	add := func(label, value string) {
		if value = oneLine(value); value != "" {
			v.fields = append(v.fields, [2]string{label, value})
		}
	}
	add("Project:", e.Project)
	add("Trigger:", e.Trigger)
	add("Logical date:", formatLogicalDate(e.LogicalDate))
	if !e.StartedAt.IsZero() {
		add("Started:", e.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	if e.Duration > 0 {
		add("Duration:", formatDuration(e.Duration))
	}
	add("Workflow ID:", e.WorkflowID)
	add("Run ID:", e.RunID)

	for i, t := range e.FailedTasks {
		if i == maxTasks {
			v.moreTasks = len(e.FailedTasks) - maxTasks
			break
		}
		v.tasks = append(v.tasks, taskView{key: oneLine(t.Key), desc: taskDesc(t), detail: firstLines(t.Message, maxErrorLines)})
	}
	for i, w := range e.Warnings {
		if i == maxWarnings {
			v.moreWarnings = len(e.Warnings) - maxWarnings
			break
		}
		v.warnings = append(v.warnings, firstLines(w, maxWarningLines))
	}
	return v
}

// status is the headline's verdict, e.g. FAILED or "still RUNNING after 2h5m".
func status(e Event) string {
	switch e.Kind {
	case KindMessage:
		if t := oneLine(e.Title); t != "" {
			return t
		}
		return "message"
	case KindStart:
		return "STARTED"
	case KindDurationWarning:
		if e.Duration > 0 {
			return "still RUNNING after " + formatDuration(e.Duration)
		}
		return "still RUNNING (duration warning)"
	case KindWarning:
		n := plural(len(e.Warnings), "warning")
		if e.Outcome != "" {
			return oneLine(e.Outcome) + " with " + n
		}
		return n
	}
	if e.Outcome != "" {
		return oneLine(e.Outcome)
	}
	switch e.Kind {
	case KindSuccess:
		return OutcomeSuccess
	case KindFailure:
		return OutcomeFailed
	case KindCanceled:
		return OutcomeCanceled
	}
	return oneLine(e.Kind)
}

func (v view) pipeline() string {
	if p := oneLine(v.e.Pipeline); p != "" {
		return p
	}
	return "(unnamed pipeline)"
}

func (v view) env() string {
	if env := oneLine(v.e.Env); env != "" {
		return " (" + env + ")"
	}
	return ""
}

func (v view) headline() string {
	return v.pipeline() + v.env() + " " + v.status
}

func (v view) text() string {
	var b strings.Builder
	b.WriteString(v.headline() + "\n")
	if v.e.Text != "" {
		b.WriteString("\n" + strings.TrimRight(v.e.Text, "\n") + "\n")
	}
	if len(v.fields) > 0 {
		b.WriteString("\n")
		for _, f := range v.fields {
			fmt.Fprintf(&b, "%-13s %s\n", f[0], f[1])
		}
	}
	if n := len(v.e.FailedTasks); n > 0 {
		fmt.Fprintf(&b, "\nFailed tasks (%d):\n", n)
		for _, t := range v.tasks {
			b.WriteString("- " + t.key)
			if t.desc != "" {
				b.WriteString(": " + t.desc)
			}
			b.WriteString("\n")
			for _, l := range t.detail.lines {
				b.WriteString(strings.TrimRight("    "+l, " ") + "\n")
			}
			if t.detail.more > 0 {
				fmt.Fprintf(&b, "    ... (%s)\n", plural(t.detail.more, "more line"))
			}
		}
		if v.moreTasks > 0 {
			fmt.Fprintf(&b, "- ... and %s\n", plural(v.moreTasks, "more failed task"))
		}
	}
	if n := len(v.e.Warnings); n > 0 {
		fmt.Fprintf(&b, "\nWarnings (%d):\n", n)
		for _, w := range v.warnings {
			for i, l := range w.lines {
				prefix := "  "
				if i == 0 {
					prefix = "- "
				}
				b.WriteString(strings.TrimRight(prefix+l, " ") + "\n")
			}
			if w.more > 0 {
				fmt.Fprintf(&b, "  ... (%s)\n", plural(w.more, "more line"))
			}
		}
		if v.moreWarnings > 0 {
			fmt.Fprintf(&b, "- ... and %s\n", plural(v.moreWarnings, "more warning"))
		}
	}
	ui, repair := oneLine(v.e.UIURL), oneLine(v.e.RepairCommand)
	if ui != "" || repair != "" {
		b.WriteString("\n")
		if ui != "" {
			fmt.Fprintf(&b, "%-13s %s\n", "Temporal UI:", ui)
		}
		if repair != "" {
			fmt.Fprintf(&b, "%-13s %s\n", "Repair:", repair)
		}
	}
	return b.String()
}

// mrkdwnSections renders the message as Slack mrkdwn, one string per Slack
// section block, each within Slack's 3000-character limit.
func (v view) mrkdwnSections() []string {
	var sections []string

	var b strings.Builder
	fmt.Fprintf(&b, "%s *%s*%s *%s*", v.emoji(), esc(v.pipeline()), esc(v.env()), esc(v.status))
	for _, f := range v.fields {
		value := esc(f[1])
		if f[0] == "Workflow ID:" || f[0] == "Run ID:" { // ids read best as code
			value = "`" + strings.ReplaceAll(value, "`", "'") + "`"
		}
		fmt.Fprintf(&b, "\n*%s* %s", f[0], value)
	}
	sections = append(sections, limitSection(b.String()))
	if v.e.Text != "" {
		sections = append(sections, limitSection(esc(v.e.Text)))
	}

	if n := len(v.e.FailedTasks); n > 0 {
		sections = append(sections, fmt.Sprintf("*Failed tasks (%d):*", n))
		for _, t := range v.tasks {
			sections = append(sections, t.mrkdwn())
		}
		if v.moreTasks > 0 {
			sections = append(sections, fmt.Sprintf("_... and %s_", plural(v.moreTasks, "more failed task")))
		}
	}

	if n := len(v.e.Warnings); n > 0 {
		b.Reset()
		fmt.Fprintf(&b, "*Warnings (%d):*", n)
		for _, w := range v.warnings {
			for i, l := range w.lines {
				prefix := "\n   "
				if i == 0 {
					prefix = "\n• "
				}
				b.WriteString(prefix + esc(l))
			}
			if w.more > 0 {
				fmt.Fprintf(&b, "\n   _... (%s)_", plural(w.more, "more line"))
			}
		}
		if v.moreWarnings > 0 {
			fmt.Fprintf(&b, "\n_... and %s_", plural(v.moreWarnings, "more warning"))
		}
		sections = append(sections, limitSection(b.String()))
	}

	var links []string
	if ui := oneLine(v.e.UIURL); ui != "" {
		links = append(links, "<"+strings.ReplaceAll(esc(ui), "|", "%7C")+"|Open in Temporal UI>")
	}
	if repair := oneLine(v.e.RepairCommand); repair != "" {
		links = append(links, "*Repair:* `"+strings.ReplaceAll(esc(repair), "`", "'")+"`")
	}
	if len(links) > 0 {
		sections = append(sections, limitSection(strings.Join(links, "\n")))
	}
	return sections
}

// mrkdwn renders one failing task with its error detail in a code block,
// dropping detail lines until the section fits Slack's limit.
func (t taskView) mrkdwn() string {
	head := "• *" + esc(t.key) + "*"
	if t.desc != "" {
		head += ": " + esc(t.desc)
	}
	if len(t.detail.lines) == 0 {
		return limitSection(head)
	}
	lines := make([]string, len(t.detail.lines))
	for i, l := range t.detail.lines {
		lines[i] = strings.ReplaceAll(esc(l), "```", "'''")
	}
	more := t.detail.more
	for {
		body := strings.Join(lines, "\n")
		if more > 0 {
			body += fmt.Sprintf("\n... (%s)", plural(more, "more line"))
		}
		s := head + "\n```\n" + body + "\n```"
		if utf8.RuneCountInString(s) <= maxSlackSection || len(lines) == 1 {
			return limitSection(s)
		}
		lines = lines[:len(lines)-1]
		more++
	}
}

func (v view) emoji() string {
	switch v.e.Kind {
	case KindStart:
		return ":arrow_forward:"
	case KindDurationWarning:
		return ":hourglass_flowing_sand:"
	case KindWarning:
		return ":warning:"
	}
	switch v.e.Outcome {
	case OutcomeSuccess:
		return ":white_check_mark:"
	case OutcomeSuccessWithFailures:
		return ":warning:"
	case OutcomeFailed:
		return ":x:"
	case OutcomeTimedOut:
		return ":alarm_clock:"
	case OutcomeCanceled:
		return ":no_entry_sign:"
	}
	switch v.e.Kind {
	case KindSuccess:
		return ":white_check_mark:"
	case KindFailure:
		return ":x:"
	case KindCanceled:
		return ":no_entry_sign:"
	}
	return ":information_source:"
}

func taskDesc(t TaskFailure) string {
	var parts []string
	if s := oneLine(t.State); s != "" {
		parts = append(parts, s)
	}
	if et := oneLine(t.ErrorType); et != "" {
		if len(parts) > 0 {
			et = "(" + et + ")"
		}
		parts = append(parts, et)
	}
	if t.Attempts > 0 {
		parts = append(parts, "after "+plural(t.Attempts, "attempt"))
	}
	return strings.Join(parts, " ")
}

// firstLines cleans s (line endings, terminal colour codes, control
// characters, blank lines at either end) and keeps its first max lines, each
// cut to maxLineRunes characters.
func firstLines(s string, max int) linesView {
	s = ansiEscape.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var lines []string
	for l := range strings.SplitSeq(s, "\n") {
		lines = append(lines, truncateRunes(strings.TrimRightFunc(stripControl(l), unicode.IsSpace), maxLineRunes))
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > max {
		return linesView{lines: lines[:max], more: len(lines) - max}
	}
	return linesView{lines: lines}
}

var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

func stripControl(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
}

// oneLine makes s safe for a single line: a header, a field, a subject.
func oneLine(s string) string {
	s = ansiEscape.ReplaceAllString(s, "")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + "..."
}

// limitSection cuts a mrkdwn section to Slack's limit at a line boundary.
func limitSection(s string) string {
	if utf8.RuneCountInString(s) <= maxSlackSection {
		return s
	}
	cut := truncateRunes(s, maxSlackSection-len("\n..."))
	cut = strings.TrimSuffix(cut, "...")
	if i := strings.LastIndexByte(cut, '\n'); i > 0 {
		cut = cut[:i]
	}
	return cut + "\n..."
}

// esc escapes the three characters Slack mrkdwn treats as control characters.
func esc(s string) string {
	return mrkdwnEscaper.Replace(s)
}

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func formatLogicalDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}

// formatDuration shows d the way people say it: 1h2m3s, 2h5m, 45s, 250ms.
func formatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	var b strings.Builder
	if h > 0 {
		b.WriteString(strconv.Itoa(h) + "h")
	}
	if m > 0 {
		b.WriteString(strconv.Itoa(m) + "m")
	}
	if s > 0 {
		b.WriteString(strconv.Itoa(s) + "s")
	}
	return b.String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
