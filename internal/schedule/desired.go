package schedule

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/spec"
)

// Defaults of a pipeline's schedule.
const (
	// DefaultCatchupWindow is how late a missed run may still start after an
	// outage when the spec does not say: an hour, not Temporal's one year,
	// so a server down for a weekend does not start a burst of stale runs.
	DefaultCatchupWindow = time.Hour
	// DefaultTimezone is used when the spec names none.
	DefaultTimezone = "UTC"
	// TimeoutGrace is added to the pipeline timeout to make the workflow
	// execution timeout: the workflow ends a run that is too long itself
	// (TIMEDOUT, tasks cancelled, history written, notifications sent);
	// Temporal's timeout is only the backstop.
	TimeoutGrace = 10 * time.Minute
)

// Desired is one schedule as the project asks for it: a pipeline with a
// schedule in one environment.
type Desired struct {
	ID       string
	Project  string
	Pipeline string
	Env      string
	File     string // the pipeline file, relative to the project folder
	// Cron is the normalised 5-field expression; CronWritten is as written
	// (a Quartz expression or a descriptor such as @hourly).
	Cron          string
	CronWritten   string
	Timezone      string
	Overlap       string // a spec.Overlap* value
	CatchupWindow time.Duration
	Jitter        time.Duration
	Paused        bool
	// Note says why the schedule is paused (empty when it is not).
	Note string
	// Timeout is the pipeline's timeout in this environment.
	Timeout time.Duration
}

// ID returns the id of a pipeline's schedule in an environment (DESIGN
// section 3).
func ID(project, pipeline, env string) string {
	return fmt.Sprintf("sluice/%s/%s/%s", project, pipeline, env)
}

// ParseID splits a schedule id made by ID; ok is false for other ids.
func ParseID(id string) (project, pipeline, env string, ok bool) {
	parts := strings.Split(id, "/")
	if len(parts) != 4 || parts[0] != "sluice" || parts[1] == "" || parts[2] == "" || parts[3] == "" {
		return "", "", "", false
	}
	return parts[1], parts[2], parts[3], true
}

// EnvPausedNote is the note of schedules paused by their environment.
func EnvPausedNote(env string) string {
	return fmt.Sprintf("environment %s: schedules: paused", env)
}

// ExecutionTimeout is the workflow execution timeout of the schedule's runs.
func (d Desired) ExecutionTimeout() time.Duration { return d.Timeout + TimeoutGrace }

// Input is what each scheduled run starts RunPipeline with. The trigger and
// logical date come from TemporalScheduledStartTime, which Temporal sets on
// every run a schedule starts.
func (d Desired) Input() run.Input { return run.Input{Pipeline: d.Pipeline, Env: d.Env} }

// Summary is the one-line summary shown for each run in the Web UI.
func (d Desired) Summary() string {
	return fmt.Sprintf("%s · %s · %s · %s %s", d.Pipeline, d.Env, run.TriggerScheduled, d.Cron, d.Timezone)
}

// FromProject returns the schedules the project asks for in envs (every
// environment when envs is empty), ordered by pipeline then environment.
// It refuses a project with validation errors (the error is the
// spec.Diagnostics) so that an invalid spec never changes a schedule.
func FromProject(p *spec.Project, envs []string) ([]Desired, error) {
	if diags := p.Validate(); diags.HasErrors() {
		return nil, diags.Errors()
	}
	known := p.EnvNames()
	if len(envs) == 0 {
		envs = known
	}
	for _, e := range envs {
		if !slices.Contains(known, e) {
			return nil, fmt.Errorf("unknown environment %q (known: %s)", e, strings.Join(known, ", "))
		}
	}
	envs = slices.Compact(slices.Sorted(slices.Values(envs)))
	var out []Desired
	var errs []error
	for _, pf := range p.Pipelines {
		for _, env := range envs {
			d, ok, err := desired(p, pf, env)
			if err != nil {
				// environments sharing the pipeline's schedule share its problem
				if !slices.ContainsFunc(errs, func(e error) bool { return e.Error() == err.Error() }) {
					errs = append(errs, err)
				}
				continue
			}
			if ok {
				out = append(out, d)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func desired(p *spec.Project, pf *spec.PipelineFile, env string) (Desired, bool, error) {
	pl, _, _, _ := pf.Effective(env)
	s := pl.Schedule
	if s == nil {
		return Desired{}, false, nil
	}
	e := p.Config.Environments[env]
	d := Desired{
		ID:            ID(p.Config.Project, pl.Name, env),
		Project:       p.Config.Project,
		Pipeline:      pl.Name,
		Env:           env,
		File:          pf.File,
		Cron:          s.Cron.Expr,
		CronWritten:   strings.TrimSpace(s.Cron.Original),
		Timezone:      s.Timezone,
		Overlap:       s.Overlap,
		CatchupWindow: s.CatchupWindow.D(),
		Jitter:        s.Jitter.D(),
		// the same precedence as planning a run: pipeline (with its
		// overlay), then the environment's default, then 24h
		Timeout: firstNonZero(pl.Timeout, e.Timeout, spec.DefaultPipelineTimeout).D(),
	}
	if d.Timezone == "" {
		d.Timezone = DefaultTimezone
	}
	if d.Overlap == "" {
		d.Overlap = spec.OverlapSkip
	}
	if d.CatchupWindow == 0 {
		d.CatchupWindow = DefaultCatchupWindow
	}
	switch {
	case s.Paused:
		d.Paused, d.Note = true, s.Note
		if d.Note == "" {
			d.Note = fmt.Sprintf("schedule.paused in %s", pf.File)
		}
	case e.Schedules == "paused":
		d.Paused, d.Note = true, EnvPausedNote(env)
	}
	return d, true, nil
}

func firstNonZero[T comparable](vs ...T) T {
	var zero T
	for _, v := range vs {
		if v != zero {
			return v
		}
	}
	return zero
}

// Times returns the activations of a cron expression in a time zone from
// `from` to `to`, both included, at most limit of them (an error beyond).
func Times(c spec.Cron, loc *time.Location, from, to time.Time, limit int) ([]time.Time, error) {
	if to.Before(from) {
		return nil, fmt.Errorf("the range ends (%s) before it starts (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	var out []time.Time
	// Next is strictly after its argument and works in whole seconds
	for t := c.Next(from.Add(-time.Second), loc); !t.IsZero() && !t.After(to); t = c.Next(t, loc) {
		if t.Before(from) {
			continue
		}
		if len(out) == limit {
			return nil, fmt.Errorf("%s to %s holds more than %d runs of %q: backfill a shorter range at a time",
				from.Format(time.RFC3339), to.Format(time.RFC3339), limit, c.Expr)
		}
		out = append(out, t.UTC())
	}
	return out, nil
}

// ParseRange reads a backfill range. Each end is a date (2026-11-01), taken
// in loc, or an RFC 3339 time; a date as the end means the whole day, so
// --from 2026-11-01 --to 2026-11-03 covers three days.
func ParseRange(from, to string, loc *time.Location) (time.Time, time.Time, error) {
	f, _, err := parseBound(from, loc)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("--from: %w", err)
	}
	t, dateOnly, err := parseBound(to, loc)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("--to: %w", err)
	}
	if dateOnly {
		t = t.AddDate(0, 0, 1).Add(-time.Second)
	}
	return f, t, nil
}

func parseBound(s string, loc *time.Location) (time.Time, bool, error) {
	s = strings.TrimSpace(s)
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, true, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, false, nil
	}
	return time.Time{}, false, fmt.Errorf("%q: write a date (2026-11-01) or an RFC 3339 time (2026-11-01T06:00:00Z)", s)
}
