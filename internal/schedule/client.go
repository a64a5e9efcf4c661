package schedule

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/workflows"
)

// WorkflowDescriber describes a run (client.Client is one).
type WorkflowDescriber interface {
	DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error)
}

// Client reads and changes the schedules of one namespace.
type Client struct {
	Schedules client.ScheduleClient
	// Workflows describes runs for the last result in Status (optional).
	Workflows WorkflowDescriber
	// Poll is how often Trigger looks for the run it started (default 200ms).
	Poll time.Duration
}

// New returns a Client on a Temporal client.
func New(c client.Client) *Client {
	return &Client{Schedules: c.ScheduleClient(), Workflows: c}
}

// Scope says which schedules a plan covers.
type Scope struct {
	Project string
	// Envs limits the plan to these environments (all when empty).
	Envs []string
	// Prune deletes the project's schedules that nothing asks for any more;
	// without it they are reported as stale and kept.
	Prune bool
}

// Plan is the list of changes that makes the server match the project.
type Plan struct {
	Changes []Change `json:"changes"`
}

// Count returns how many changes have the op.
func (p *Plan) Count(op Op) int {
	n := 0
	for _, c := range p.Changes {
		if c.Op == op {
			n++
		}
	}
	return n
}

// HasChanges reports whether applying the plan changes anything.
func (p *Plan) HasChanges() bool {
	return p.Count(OpCreate)+p.Count(OpUpdate)+p.Count(OpDelete) > 0
}

// Plan compares the desired schedules with the server's. Each desired
// schedule is described by id (Describe is consistent right after a write);
// List, which lags behind writes, is used only to find stale schedules.
func (c *Client) Plan(ctx context.Context, scope Scope, desired []Desired) (*Plan, error) {
	plan := &Plan{}
	want := map[string]bool{}
	for _, d := range desired {
		want[d.ID] = true
		l, err := c.Describe(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		plan.Changes = append(plan.Changes, Diff(d, l))
	}
	ids, err := c.ListIDs(ctx, "sluice/"+scope.Project+"/")
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		_, pipeline, env, ok := ParseID(id)
		if !ok || want[id] || (len(scope.Envs) > 0 && !slices.Contains(scope.Envs, env)) {
			continue
		}
		ch := Change{ID: id, Pipeline: pipeline, Env: env, Op: OpStale, Reason: staleReason(pipeline, env, desired)}
		if scope.Prune {
			ch.Op = OpDelete
		}
		plan.Changes = append(plan.Changes, ch)
	}
	return plan, nil
}

func staleReason(pipeline, env string, desired []Desired) string {
	if slices.ContainsFunc(desired, func(d Desired) bool { return d.Pipeline == pipeline }) {
		return fmt.Sprintf("pipeline %s has no schedule in environment %s", pipeline, env)
	}
	return fmt.Sprintf("no pipeline %s with a schedule in the project", pipeline)
}

// Describe returns the live schedule, or nil when there is none.
func (c *Client) Describe(ctx context.Context, id string) (*Live, error) {
	desc, err := c.Schedules.GetHandle(ctx, id).Describe(ctx)
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil, nil
		}
		return nil, fmt.Errorf("describing schedule %s: %w", id, err)
	}
	return liveFromDescription(id, desc), nil
}

// ListIDs returns the ids of the schedules whose id starts with prefix,
// sorted. The list lags behind writes by a moment.
func (c *Client) ListIDs(ctx context.Context, prefix string) ([]string, error) {
	it, err := c.Schedules.List(ctx, client.ScheduleListOptions{PageSize: 500})
	if err != nil {
		return nil, fmt.Errorf("listing schedules: %w", err)
	}
	var ids []string
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("listing schedules: %w", err)
		}
		if strings.HasPrefix(e.ID, prefix) {
			ids = append(ids, e.ID)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// Apply makes the plan's changes in order and stops at the first error,
// saying how many were made.
func (c *Client) Apply(ctx context.Context, plan *Plan) error {
	done := 0
	total := plan.Count(OpCreate) + plan.Count(OpUpdate) + plan.Count(OpDelete)
	for _, ch := range plan.Changes {
		var err error
		switch ch.Op {
		case OpCreate:
			_, err = c.Schedules.Create(ctx, ch.desired.options())
		case OpUpdate:
			err = c.update(ctx, ch)
		case OpDelete:
			err = c.Schedules.GetHandle(ctx, ch.ID).Delete(ctx)
			var nf *serviceerror.NotFound
			if errors.As(err, &nf) {
				err = nil
			}
		default:
			continue
		}
		if err != nil {
			return fmt.Errorf("%s schedule %s: %w (%d of %d changes made; run apply again to finish)", ch.Op, ch.ID, err, done, total)
		}
		done++
	}
	return nil
}

func (c *Client) update(ctx context.Context, ch Change) error {
	d := ch.desired
	return c.Schedules.GetHandle(ctx, ch.ID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			sp := d.scheduleSpec()
			s.Spec, s.Action, s.Policy = &sp, d.action(), d.policy()
			if ch.setState {
				st := client.ScheduleState{}
				if s.State != nil {
					st = *s.State
				}
				st.Paused, st.Note = d.Paused, d.Note
				s.State = &st
			}
			attrs := d.scheduleAttributes()
			return &client.ScheduleUpdate{Schedule: &s, TypedSearchAttributes: &attrs}, nil
		},
	})
}

// Pause pauses a schedule with a note.
func (c *Client) Pause(ctx context.Context, id, note string) error {
	if err := c.Schedules.GetHandle(ctx, id).Pause(ctx, client.SchedulePauseOptions{Note: note}); err != nil {
		return notFound(id, "pausing", err)
	}
	return nil
}

// Unpause resumes a schedule with a note.
func (c *Client) Unpause(ctx context.Context, id, note string) error {
	if err := c.Schedules.GetHandle(ctx, id).Unpause(ctx, client.ScheduleUnpauseOptions{Note: note}); err != nil {
		return notFound(id, "unpausing", err)
	}
	return nil
}

func notFound(id, doing string, err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("%s schedule %s: there is no such schedule (create it with `sluice apply`)", doing, id)
	}
	return fmt.Errorf("%s schedule %s: %w", doing, id, err)
}

// Triggered says what a trigger did.
type Triggered struct {
	ScheduleID string `json:"schedule_id"`
	// WorkflowID is the run started, with ScheduledAt its logical date.
	WorkflowID  string    `json:"workflow_id,omitempty"`
	RunID       string    `json:"run_id,omitempty"`
	ScheduledAt time.Time `json:"scheduled_at,omitzero"`
	// Skipped is set when the overlap policy skipped the run because one was
	// in progress; Buffered when it will start after the one in progress.
	Skipped  bool     `json:"skipped,omitempty"`
	Buffered bool     `json:"buffered,omitempty"`
	Overlap  string   `json:"overlap"`
	Running  []string `json:"running,omitempty"`
}

// Trigger starts a run now through the schedule, honouring its overlap
// policy, and waits up to wait to see what happened.
func (c *Client) Trigger(ctx context.Context, id string, wait time.Duration) (*Triggered, error) {
	before, err := c.Describe(ctx, id)
	if err != nil {
		return nil, err
	}
	if before == nil {
		return nil, fmt.Errorf("triggering schedule %s: there is no such schedule (create it with `sluice apply`)", id)
	}
	if err := c.Schedules.GetHandle(ctx, id).Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		return nil, notFound(id, "triggering", err)
	}
	poll := c.Poll
	if poll == 0 {
		poll = 200 * time.Millisecond
	}
	res := &Triggered{ScheduleID: id, Overlap: before.Overlap}
	deadline := time.Now().Add(wait)
	for {
		l, err := c.Describe(ctx, id)
		if err != nil {
			return nil, err
		}
		if l == nil {
			return nil, fmt.Errorf("schedule %s was deleted while triggering it", id)
		}
		for _, r := range l.Info.RunningWorkflows {
			res.Running = append(res.Running, r.WorkflowID)
		}
		switch {
		case l.Info.NumActions > before.Info.NumActions:
			var last client.ScheduleActionResult
			for _, a := range l.Info.RecentActions {
				if a.StartWorkflowResult != nil && !a.ActualTime.Before(last.ActualTime) {
					last = a
				}
			}
			if last.StartWorkflowResult != nil {
				res.WorkflowID, res.RunID = last.StartWorkflowResult.WorkflowID, last.StartWorkflowResult.FirstExecutionRunID
				res.ScheduledAt = last.ScheduleTime.UTC()
			}
			return res, nil
		case l.Info.NumActionsSkippedOverlap > before.Info.NumActionsSkippedOverlap:
			res.Skipped = true
			return res, nil
		}
		if time.Now().After(deadline) {
			if len(res.Running) > 0 {
				res.Buffered = true
				return res, nil
			}
			return nil, fmt.Errorf("triggered schedule %s but saw no run start within %s: check `temporal schedule describe --schedule-id %s`", id, wait, id)
		}
		res.Running = nil
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// Status is a schedule as `sluice schedules` shows it.
type Status struct {
	ID       string      `json:"id"`
	Pipeline string      `json:"pipeline"`
	Env      string      `json:"env"`
	Cron     string      `json:"cron"`
	Timezone string      `json:"timezone"`
	Overlap  string      `json:"overlap"`
	Paused   bool        `json:"paused"`
	Note     string      `json:"note,omitempty"`
	NextRuns []time.Time `json:"next_runs,omitempty"`
	Running  []string    `json:"running,omitempty"`
	// LastRun is the most recent run the schedule started (nil: none yet).
	LastRun *LastRun `json:"last_run,omitempty"`
	// Skipped counts runs skipped because one was in progress; Missed,
	// runs that could not start within the catchup window.
	Skipped int `json:"skipped_overlap"`
	Missed  int `json:"missed_catchup_window"`
}

// LastRun is the last run a schedule started.
type LastRun struct {
	WorkflowID  string    `json:"workflow_id"`
	ScheduledAt time.Time `json:"scheduled_at"`
	StartedAt   time.Time `json:"started_at"`
	// Result is the run's SluiceStatus (RUNNING, SUCCESS, FAILED...), or
	// Temporal's execution status when the run set none.
	Result string `json:"result"`
}

// Status describes the schedules, skipping ids that do not exist.
func (c *Client) Status(ctx context.Context, ids []string) ([]Status, error) {
	var out []Status
	for _, id := range ids {
		l, err := c.Describe(ctx, id)
		if err != nil {
			return nil, err
		}
		if l == nil {
			continue
		}
		_, pipeline, env, _ := ParseID(id)
		s := Status{ID: id, Pipeline: pipeline, Env: env, Cron: l.Cron, Timezone: l.Timezone, Overlap: l.Overlap,
			Paused: l.Paused, Note: l.Note, NextRuns: l.Info.NextActionTimes,
			Skipped: l.Info.NumActionsSkippedOverlap, Missed: l.Info.NumActionsMissedCatchupWindow}
		if s.Cron == "" {
			s.Cron = l.Spec
		}
		for _, r := range l.Info.RunningWorkflows {
			s.Running = append(s.Running, r.WorkflowID)
		}
		var last *client.ScheduleActionResult
		for i, a := range l.Info.RecentActions {
			if a.StartWorkflowResult != nil && (last == nil || !a.ActualTime.Before(last.ActualTime)) {
				last = &l.Info.RecentActions[i]
			}
		}
		if last != nil {
			s.LastRun = &LastRun{WorkflowID: last.StartWorkflowResult.WorkflowID, ScheduledAt: last.ScheduleTime.UTC(), StartedAt: last.ActualTime.UTC()}
			s.LastRun.Result = c.result(ctx, last.StartWorkflowResult.WorkflowID, last.StartWorkflowResult.FirstExecutionRunID)
		}
		out = append(out, s)
	}
	return out, nil
}

// result is a run's SluiceStatus, else its execution status, else "unknown".
func (c *Client) result(ctx context.Context, workflowID, runID string) string {
	if c.Workflows == nil {
		return "unknown"
	}
	resp, err := c.Workflows.DescribeWorkflowExecution(ctx, workflowID, runID)
	if err != nil {
		return "unknown"
	}
	info := resp.GetWorkflowExecutionInfo()
	if p := info.GetSearchAttributes().GetIndexedFields()[workflows.AttrStatus.GetName()]; p != nil {
		var s string
		if converter.GetDefaultDataConverter().FromPayload(p, &s) == nil && s != "" {
			return s
		}
	}
	return strings.ToUpper(strings.TrimPrefix(info.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_"))
}

// Location loads a schedule's time zone.
func Location(tz string) (*time.Location, error) {
	if tz == "" {
		tz = DefaultTimezone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", tz, err)
	}
	return loc, nil
}

// CronExpr returns the desired schedule's expression as a spec.Cron.
func (d Desired) CronExpr() spec.Cron { return spec.Cron{Expr: d.Cron, Original: d.CronWritten} }
