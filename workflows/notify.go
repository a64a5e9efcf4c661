package workflows

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sluicedata/sluice/activities/notify"
	"github.com/sluicedata/sluice/internal/dag"
	inotify "github.com/sluicedata/sluice/internal/notify"
	"github.com/sluicedata/sluice/internal/run"
)

// pendingNote is a notification in flight.
type pendingNote struct {
	event, channel string
	future         workflow.Future
}

// channelsFor returns the channels a run event goes to.
func (r *pipelineRun) channelsFor(kind string) []string {
	n := r.plan.Notify
	switch kind {
	case inotify.KindStart:
		return n.OnStart
	case inotify.KindSuccess:
		return n.OnSuccess
	case inotify.KindFailure:
		return n.OnFailure
	case inotify.KindCanceled:
		return n.OnCanceled
	case inotify.KindDurationWarning:
		return n.OnDurationWarning
	case inotify.KindWarning:
		return n.OnWarning
	}
	return nil
}

// notify sends a run event to its channels, one activity per channel so a
// retry concerns that channel only. It does not wait: awaitNotes does. A
// channel that keeps failing is recorded and never fails the run.
func (r *pipelineRun) notify(ctx workflow.Context, kind string, warnings []string) {
	if r.plan == nil {
		return
	}
	channels := r.channelsFor(kind)
	if len(channels) == 0 {
		return
	}
	e := r.event(ctx, kind, warnings)
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			// about half a minute of retries: a flaky channel must not hold
			// the end of the run for long
			InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: 20 * time.Second,
			MaximumAttempts: 4, NonRetryableErrorTypes: []string{notify.ErrChannelPermanent},
		},
	})
	for _, name := range channels {
		ev := e
		ev.DeliveryID = fmt.Sprintf("%s/%s/%s/%s", r.status.WorkflowID, r.status.RunID, kind, name)
		opts := workflow.GetActivityOptions(actx)
		opts.Summary = fmt.Sprintf("notify %s: %s", name, kind)
		f := workflow.ExecuteActivity(workflow.WithActivityOptions(actx, opts), notifyActs.SendEvent, notify.EventInput{
			Event: ev, ChannelName: name, Channel: r.plan.Channels[name],
		})
		r.notes = append(r.notes, pendingNote{event: kind, channel: name, future: f})
	}
}

// awaitNotes waits for every notification sent and records how each went.
func (r *pipelineRun) awaitNotes(ctx workflow.Context) {
	for _, n := range r.notes {
		var res notify.EventResult
		rec := run.Notification{Event: n.event, Channel: n.channel}
		if err := n.future.Get(ctx, &res); err != nil {
			rec.Status, rec.Error = "failed", err.Error()
			r.logger.Warn("notification failed", "event", n.event, "channel", n.channel, "error", err)
		} else {
			rec.Status = res.Status
		}
		r.status.Notifications = append(r.status.Notifications, rec)
	}
	r.notes = nil
}

// event describes the run for a notification.
func (r *pipelineRun) event(ctx workflow.Context, kind string, warnings []string) inotify.Event {
	now := workflow.Now(ctx).UTC()
	e := inotify.Event{
		Kind: kind, Project: r.status.Project, Pipeline: r.status.Pipeline, Env: r.status.Env,
		Outcome: string(r.status.Status), WorkflowID: r.status.WorkflowID, RunID: r.status.RunID,
		Trigger: string(r.status.Trigger), LogicalDate: r.status.LogicalDate, StartedAt: r.status.StartedAt,
		Duration: r.status.Duration(now), Warnings: warnings, UIURL: r.uiLink(ctx),
	}
	for _, t := range r.status.Tasks {
		if !t.State.Failure() {
			continue
		}
		f := inotify.TaskFailure{Key: t.Key, State: string(t.State), Attempts: len(t.Attempts)}
		if t.Error != nil {
			f.ErrorType, f.Message = t.Error.Type, t.Error.Message
			if t.Error.Detail != "" {
				f.Message += "\n" + t.Error.Detail
			}
		}
		e.FailedTasks = append(e.FailedTasks, f)
	}
	if r.status.Status == dag.StatusFailed || r.status.Status == dag.StatusTimedOut || r.status.Status == dag.StatusSuccessWithFailures {
		e.RepairCommand = "sluice repair " + r.status.WorkflowID
	}
	return e
}

// uiLink is the run's page in the Temporal Web UI.
func (r *pipelineRun) uiLink(ctx workflow.Context) string {
	base := r.status.UIURL
	if base == "" {
		return ""
	}
	ns := workflow.GetInfo(ctx).Namespace
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s/history", strings.TrimRight(base, "/"), url.PathEscape(ns), url.PathEscape(r.status.WorkflowID), r.status.RunID)
}

// qualityWarnings collects the warnings tasks reported (quality checks of
// severity warn).
func (r *pipelineRun) qualityWarnings() []string {
	var out []string
	for _, t := range r.status.Tasks {
		ws, _ := t.Output["warnings"].([]any)
		for _, w := range ws {
			out = append(out, fmt.Sprintf("%s: %v", t.Key, w))
		}
	}
	return out
}

// outcomeEvent maps a run outcome to the event it notifies.
func outcomeEvent(s dag.Status) string {
	switch s {
	case dag.StatusSuccess, dag.StatusSuccessWithFailures:
		return inotify.KindSuccess
	case dag.StatusCanceled:
		return inotify.KindCanceled
	}
	return inotify.KindFailure
}

// durationWarning records that the run or a task ran longer than its
// duration_warning and sends on_duration_warning once per run.
func (r *pipelineRun) durationWarning(ctx workflow.Context, msg string) {
	r.status.Warnings = append(r.status.Warnings, msg)
	r.logger.Warn("duration warning", "warning", msg)
	r.forceProgress = true
	if r.durationWarned {
		return
	}
	r.durationWarned = true
	r.notify(ctx, inotify.KindDurationWarning, []string{msg})
}

// watchDuration arms a durable timer that warns if the run (t == nil) or a
// task is still running after d.
func (r *pipelineRun) watchDuration(ctx workflow.Context, t *taskRun, d time.Duration) {
	if d <= 0 {
		return
	}
	r.sel.AddFuture(workflow.NewTimer(ctx, d), func(f workflow.Future) {
		if f.Get(ctx, nil) != nil {
			return
		}
		if t == nil {
			if !r.allDone() {
				r.durationWarning(ctx, fmt.Sprintf("run of %s has been running for %s, longer than its duration_warning of %s",
					r.plan.Pipeline, r.status.Duration(workflow.Now(ctx)).Round(time.Second), r.plan.DurationWarning))
			}
			return
		}
		if t.phase != phaseDone {
			r.durationWarning(ctx, fmt.Sprintf("task %s has been running for %s, longer than its duration_warning of %s",
				t.plan.Key, workflow.Now(ctx).Sub(t.st.StartedAt).Round(time.Second), t.plan.DurationWarning))
		}
	})
}
