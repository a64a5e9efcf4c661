// Package run holds the types that describe a pipeline run as it crosses
// boundaries: the input users and services start RunPipeline with, and the
// status the workflow reports through its query, its result, run history and
// notifications. Workflows, activities and the CLI all speak these types.
package run

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sluicedata/sluice/internal/dag"
)

// Workflow and message names, part of the public interface: the temporal CLI
// and other services use them by name.
const (
	WorkflowName    = "RunPipeline"
	QueryStatus     = "status"
	SignalDataReady = "data-ready"
	UpdateApprove   = "approve"
)

// Trigger says what started a run.
type Trigger string

const (
	TriggerManual    Trigger = "MANUAL"
	TriggerScheduled Trigger = "SCHEDULED"
	TriggerBackfill  Trigger = "BACKFILL"
	TriggerSignal    Trigger = "SIGNAL"
	TriggerRepair    Trigger = "REPAIR"
	TriggerChained   Trigger = "CHAINED"
)

// Triggers lists the valid triggers.
var Triggers = []Trigger{TriggerManual, TriggerScheduled, TriggerBackfill, TriggerSignal, TriggerRepair, TriggerChained}

// Input starts a RunPipeline workflow. It is small and name-based so the
// temporal CLI and other services can write it by hand:
//
//	{"pipeline":"olist_daily","env":"local","params":{"orders":"100"}}
type Input struct {
	Pipeline string         `json:"pipeline"`
	Env      string         `json:"env,omitempty"`
	Params   map[string]any `json:"params,omitempty"`
	// Only runs just these tasks; the others are EXCLUDED.
	Only []string `json:"only,omitempty"`
	// LogicalDate is the date (2026-11-22) or time (RFC 3339) the run is for.
	// Default: the schedule's time for scheduled runs, else the start time.
	LogicalDate string  `json:"logical_date,omitempty"`
	Trigger     Trigger `json:"trigger,omitempty"`
	// RepairOf is the workflow id of a run to repair: by default its
	// failed, timed-out, canceled and upstream-failed tasks run again, with
	// its plan, and the others keep their outcome and outputs.
	RepairOf string `json:"repair_of,omitempty"`
	// RepairTasks re-runs these tasks instead (with RepairDownstream, and
	// every task after them).
	RepairTasks      []string `json:"repair_tasks,omitempty"`
	RepairDownstream bool     `json:"repair_downstream,omitempty"`
	// LatestSpec plans the repair from the pipeline files as they are now
	// instead of reusing the original run's plan.
	LatestSpec bool `json:"latest_spec,omitempty"`
}

// ParseLogicalDate reads a date (2006-01-02) or an RFC 3339 time, in UTC.
func ParseLogicalDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02T15:04", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("logical date %q: use YYYY-MM-DD or an RFC 3339 time such as 2026-11-22T06:00:00Z", s)
}

// Status is the state of a run: what the `status` query returns while it
// runs, and the workflow's result when it ends.
type Status struct {
	Project     string         `json:"project"`
	Pipeline    string         `json:"pipeline"`
	Env         string         `json:"env"`
	WorkflowID  string         `json:"workflow_id"`
	RunID       string         `json:"run_id"`
	Trigger     Trigger        `json:"trigger"`
	LogicalDate time.Time      `json:"logical_date"`
	Status      dag.Status     `json:"status"`
	PlanHash    string         `json:"plan_hash,omitempty"`
	Params      map[string]any `json:"params,omitempty"`
	RepairOf    string         `json:"repair_of,omitempty"`
	StartedAt   time.Time      `json:"started_at"`
	EndedAt     time.Time      `json:"ended_at,omitzero"`
	Tasks       []Task         `json:"tasks"`
	// Error explains a run that failed before its tasks could run (bad spec).
	Error    string   `json:"error,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	// Triggered lists the workflow ids of pipelines started by `after:`.
	Triggered []string `json:"triggered,omitempty"`
	// Notifications lists what was sent about the run.
	Notifications []Notification `json:"notifications,omitempty"`
	UIURL         string         `json:"ui_url,omitempty"`
}

// FailedTasks returns the keys of tasks in a failure state, in DAG order.
func (s *Status) FailedTasks() []string {
	var out []string
	for _, t := range s.Tasks {
		if t.State.Failure() {
			out = append(out, t.Key)
		}
	}
	return out
}

// Task returns the task with the key, or nil.
func (s *Status) Task(key string) *Task {
	for i := range s.Tasks {
		if s.Tasks[i].Key == key {
			return &s.Tasks[i]
		}
	}
	return nil
}

// Duration is how long the run has lasted (until now if it is running).
func (s *Status) Duration(now time.Time) time.Duration {
	if s.StartedAt.IsZero() {
		return 0
	}
	if !s.EndedAt.IsZero() {
		return s.EndedAt.Sub(s.StartedAt)
	}
	return now.Sub(s.StartedAt)
}

// Task is one task's state within a run.
type Task struct {
	Key       string         `json:"key"`
	Index     int            `json:"index"` // position in the pipeline file
	Type      string         `json:"type"`
	State     dag.State      `json:"state"`
	DependsOn []string       `json:"depends_on,omitempty"`
	Attempts  []Attempt      `json:"attempts,omitempty"`
	StartedAt time.Time      `json:"started_at,omitzero"`
	EndedAt   time.Time      `json:"ended_at,omitzero"`
	Output    map[string]any `json:"output,omitempty"`
	Error     *Error         `json:"error,omitempty"`
	// Reused is set when a repair took this task's result from the run named.
	Reused string `json:"reused,omitempty"`
	// Waiting says what a task in RUNNING state waits for (retry, signal, approval).
	Waiting string `json:"waiting,omitempty"`
	// Resume is what the last attempt left to resume from (an external run
	// id, dbt artifacts): a repair hands it to the task's re-run.
	Resume json.RawMessage `json:"resume,omitempty"`
}

// Duration is the task's run time (until now if it is running).
func (t *Task) Duration(now time.Time) time.Duration {
	if t.StartedAt.IsZero() {
		return 0
	}
	if !t.EndedAt.IsZero() {
		return t.EndedAt.Sub(t.StartedAt)
	}
	return now.Sub(t.StartedAt)
}

// Attempt is one try of a task.
type Attempt struct {
	N         int       `json:"n"`
	State     dag.State `json:"state"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	Error     *Error    `json:"error,omitempty"`
}

// Error is a task failure as users see it.
type Error struct {
	Type      string `json:"type"`             // stable class: SQLError, TaskTimeout, QualityCheckFailed...
	Message   string `json:"message"`          // first line(s)
	Detail    string `json:"detail,omitempty"` // longer text (stack, dbt output), scrubbed
	Retryable bool   `json:"retryable,omitempty"`
}

func (e *Error) String() string {
	if e == nil {
		return ""
	}
	return e.Type + ": " + e.Message
}

// Notification is one message sent (or not) about a run.
type Notification struct {
	Event   string `json:"event"`
	Channel string `json:"channel"`
	Status  string `json:"status"` // sent, failed, skipped (already sent)
	Error   string `json:"error,omitempty"`
}
