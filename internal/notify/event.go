package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Event kinds, the values of Event.Kind and of the pipeline's `notify:` keys.
const (
	KindStart           = "on_start"
	KindSuccess         = "on_success"
	KindFailure         = "on_failure"
	KindCanceled        = "on_canceled"
	KindDurationWarning = "on_duration_warning"
	KindWarning         = "on_warning"
	// KindMessage is a notify task's own message (Title, Text).
	KindMessage = "message"
)

// Run outcomes, the values of Event.Outcome.
const (
	OutcomeSuccess             = "SUCCESS"
	OutcomeSuccessWithFailures = "SUCCESS_WITH_FAILURES"
	OutcomeFailed              = "FAILED"
	OutcomeTimedOut            = "TIMEDOUT"
	OutcomeCanceled            = "CANCELED"
	OutcomeRunning             = "RUNNING"
)

// Event is what happened to a pipeline run, as the caller knows it when it
// decides to notify. Its JSON form is the webhook body documented in the
// package comment.
type Event struct {
	Kind          string        // KindStart, KindFailure, ...
	Project       string        // project name from sluice.yaml
	Pipeline      string        // pipeline name
	Env           string        // environment name
	Outcome       string        // OutcomeSuccess, ... (OutcomeRunning for on_start and on_duration_warning)
	WorkflowID    string        // Temporal workflow id of the run
	RunID         string        // Temporal run id
	Trigger       string        // MANUAL, SCHEDULED, BACKFILL, SIGNAL, REPAIR, CHAINED
	LogicalDate   time.Time     // the run's logical date; zero when unknown
	StartedAt     time.Time     // when the run started; zero when unknown
	Duration      time.Duration // run time so far (on_start, on_duration_warning) or in total
	FailedTasks   []TaskFailure // tasks that did not succeed, in the pipeline's task order
	Warnings      []string      // quality and duration warnings, one per entry
	UIURL         string        // link to the run in the Temporal Web UI
	RepairCommand string        // command that re-runs the failed tasks
	DeliveryID    string        // the caller's idempotency id for this delivery
	Title         string        // KindMessage: the subject line
	Text          string        // KindMessage: the message, shown before the run's facts
}

// TaskFailure is one task of the run that did not succeed.
type TaskFailure struct {
	Key       string `json:"key"`        // task key
	State     string `json:"state"`      // FAILED, TIMEDOUT, UPSTREAM_FAILED, CANCELED, ...
	ErrorType string `json:"error_type"` // error class, e.g. DltUpdateFailed
	Message   string `json:"message"`    // first lines of the error
	Attempts  int    `json:"attempts"`   // attempts made, 0 when the task never ran
}

// eventJSON is the wire form of Event: stable snake_case names, every field
// always present, durations in seconds, times in UTC or null.
type eventJSON struct {
	Kind            string        `json:"kind"`
	Project         string        `json:"project"`
	Pipeline        string        `json:"pipeline"`
	Env             string        `json:"env"`
	Outcome         string        `json:"outcome"`
	WorkflowID      string        `json:"workflow_id"`
	RunID           string        `json:"run_id"`
	Trigger         string        `json:"trigger"`
	LogicalDate     *time.Time    `json:"logical_date"`
	StartedAt       *time.Time    `json:"started_at"`
	DurationSeconds float64       `json:"duration_seconds"`
	FailedTasks     []TaskFailure `json:"failed_tasks"`
	Warnings        []string      `json:"warnings"`
	UIURL           string        `json:"ui_url"`
	RepairCommand   string        `json:"repair_command"`
	DeliveryID      string        `json:"delivery_id"`
	Title           string        `json:"title,omitempty"`
	Text            string        `json:"text,omitempty"`
}

// MarshalJSON encodes e as the documented webhook body. It does not escape
// <, > and &, so receivers see text as written.
func (e Event) MarshalJSON() ([]byte, error) {
	w := eventJSON{
		Kind:            e.Kind,
		Project:         e.Project,
		Pipeline:        e.Pipeline,
		Env:             e.Env,
		Outcome:         e.Outcome,
		WorkflowID:      e.WorkflowID,
		RunID:           e.RunID,
		Trigger:         e.Trigger,
		LogicalDate:     utcOrNil(e.LogicalDate),
		StartedAt:       utcOrNil(e.StartedAt),
		DurationSeconds: e.Duration.Seconds(),
		FailedTasks:     e.FailedTasks,
		Warnings:        e.Warnings,
		UIURL:           e.UIURL,
		RepairCommand:   e.RepairCommand,
		DeliveryID:      e.DeliveryID,
		Title:           e.Title,
		Text:            e.Text,
	}
	if w.FailedTasks == nil {
		w.FailedTasks = []TaskFailure{}
	}
	if w.Warnings == nil {
		w.Warnings = []string{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("encoding %s event: %w", e.Kind, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON decodes the form written by MarshalJSON.
func (e *Event) UnmarshalJSON(data []byte) error {
	var w eventJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("decoding event: %w", err)
	}
	*e = Event{
		Kind:          w.Kind,
		Project:       w.Project,
		Pipeline:      w.Pipeline,
		Env:           w.Env,
		Outcome:       w.Outcome,
		WorkflowID:    w.WorkflowID,
		RunID:         w.RunID,
		Trigger:       w.Trigger,
		Duration:      time.Duration(math.Round(w.DurationSeconds * float64(time.Second))),
		FailedTasks:   w.FailedTasks,
		Warnings:      w.Warnings,
		UIURL:         w.UIURL,
		RepairCommand: w.RepairCommand,
		DeliveryID:    w.DeliveryID,
		Title:         w.Title,
		Text:          w.Text,
	}
	if len(e.FailedTasks) == 0 {
		e.FailedTasks = nil
	}
	if len(e.Warnings) == 0 {
		e.Warnings = nil
	}
	if w.LogicalDate != nil {
		e.LogicalDate = *w.LogicalDate
	}
	if w.StartedAt != nil {
		e.StartedAt = *w.StartedAt
	}
	return nil
}

func utcOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
