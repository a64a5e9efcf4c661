package schedule

import (
	"fmt"
	"time"

	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/spec"
)

// Op is what a change does to one schedule.
type Op string

// Ops of a plan.
const (
	OpCreate    Op = "create"
	OpUpdate    Op = "update"
	OpDelete    Op = "delete"
	OpUnchanged Op = "unchanged"
	// OpStale marks a schedule of the project that nothing asks for any
	// more, kept because pruning was not asked for.
	OpStale Op = "stale"
)

// Field is one field a change sets (From is empty on creation).
type Field struct {
	Name string `json:"field"`
	From string `json:"from,omitempty"`
	To   string `json:"to"`
}

// Change is what applying does to one schedule.
type Change struct {
	ID       string  `json:"id"`
	Pipeline string  `json:"pipeline"`
	Env      string  `json:"env"`
	Op       Op      `json:"op"`
	Fields   []Field `json:"fields,omitempty"`
	// Notes say what apply leaves alone on purpose (a pause made by hand).
	Notes []string `json:"notes,omitempty"`
	// Reason says why a schedule is deleted or stale.
	Reason string `json:"reason,omitempty"`

	desired  *Desired
	setState bool // the update sets the paused state and note
}

// Diff compares what the project asks for with the live schedule (nil when
// there is none).
func Diff(d Desired, l *Live) Change {
	c := Change{ID: d.ID, Pipeline: d.Pipeline, Env: d.Env, desired: &d}
	if l == nil {
		c.Op = OpCreate
		c.Fields = []Field{
			{Name: "cron", To: cronString(d)},
			{Name: "timezone", To: d.Timezone},
			{Name: "overlap", To: d.Overlap},
			{Name: "catchup_window", To: dur(d.CatchupWindow)},
			{Name: "jitter", To: dur(d.Jitter)},
			{Name: "execution_timeout", To: timeoutString(d)},
			{Name: "state", To: stateString(d.Paused, d.Note)},
		}
		return c
	}
	add := func(name, from, to string) {
		if from != to {
			c.Fields = append(c.Fields, Field{Name: name, From: from, To: to})
		}
	}
	liveCron := l.Cron
	if liveCron == "" {
		liveCron = l.Spec
	}
	add("cron", liveCron, d.Cron)
	add("timezone", l.Timezone, d.Timezone)
	add("overlap", l.Overlap, d.Overlap)
	add("catchup_window", dur(l.CatchupWindow), dur(d.CatchupWindow))
	add("jitter", dur(l.Jitter), dur(d.Jitter))
	add("execution_timeout", dur(l.ExecutionTimeout), dur(d.ExecutionTimeout()))
	add("workflow", l.Workflow, run.WorkflowName)
	add("task_queue", l.TaskQueue, spec.QueueDefault)
	add("input", l.Input, inputJSON(d.Input()))
	add("summary", l.Summary, d.Summary())
	add("search_attributes", l.ActionAttrs, attrString(d.actionAttributes()))
	add("schedule_search_attributes", l.ScheduleAttrs, attrString(d.scheduleAttributes()))

	// The paused state: see the package comment.
	want := applied{Paused: d.Paused, Note: d.Note}
	specChanged := l.Applied == nil || *l.Applied != want
	liveMatches := l.Paused == d.Paused && (!d.Paused || l.Note == d.Note)
	switch {
	case specChanged && !liveMatches:
		c.setState = true
		add("state", stateString(l.Paused, l.Note), stateString(d.Paused, d.Note))
	case specChanged:
		from := "none"
		if l.Applied != nil {
			from = stateString(l.Applied.Paused, l.Applied.Note)
		}
		add("recorded_spec_state", from, stateString(d.Paused, d.Note))
	case liveMatches:
	case l.Paused:
		c.Notes = append(c.Notes, fmt.Sprintf("paused by hand (%q): left paused; `sluice unpause %s --env %s` resumes it", l.Note, d.Pipeline, d.Env))
	default:
		c.Notes = append(c.Notes, fmt.Sprintf("unpaused by hand (%q) although the spec pauses it (%s): left running; `sluice pause %s --env %s` pauses it again",
			l.Note, d.Note, d.Pipeline, d.Env))
	}
	c.Op = OpUnchanged
	if len(c.Fields) > 0 {
		c.Op = OpUpdate
	}
	return c
}

func cronString(d Desired) string {
	if d.CronWritten != "" && d.CronWritten != d.Cron {
		return fmt.Sprintf("%s (written %q)", d.Cron, d.CronWritten)
	}
	return d.Cron
}

func timeoutString(d Desired) string {
	return fmt.Sprintf("%s (pipeline timeout %s + %s)", dur(d.ExecutionTimeout()), dur(d.Timeout), dur(TimeoutGrace))
}

func stateString(paused bool, note string) string {
	if !paused {
		return "active"
	}
	if note == "" {
		return "paused"
	}
	return fmt.Sprintf("paused (%s)", note)
}

func dur(d time.Duration) string {
	if d == 0 {
		return "none"
	}
	return spec.Duration(d).String()
}
