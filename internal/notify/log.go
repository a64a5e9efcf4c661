package notify

import (
	"context"
	"errors"
	"log/slog"
)

// sendLog writes one record: the subject as message, the rendered text and
// the event's fields as attributes. Failures log at ERROR, warnings and
// cancellations at WARN, the rest at INFO.
func (s *Sender) sendLog(ctx context.Context, e Event, secrets []string) error {
	if s.Logger == nil {
		return permanent(errors.New("log channel: Sender.Logger is nil; give the Sender a *slog.Logger"))
	}
	msg := Render(e)
	level := slog.LevelInfo
	switch e.Kind {
	case KindFailure:
		level = slog.LevelError
	case KindCanceled, KindWarning, KindDurationWarning:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{slog.String("event", e.Kind)}
	str := func(key, value string) {
		if value != "" {
			attrs = append(attrs, slog.String(key, value))
		}
	}
	str("project", e.Project)
	str("pipeline", e.Pipeline)
	str("env", e.Env)
	str("outcome", e.Outcome)
	str("workflow_id", e.WorkflowID)
	str("run_id", e.RunID)
	str("trigger", e.Trigger)
	if e.Duration > 0 {
		attrs = append(attrs, slog.String("duration", formatDuration(e.Duration)))
	}
	if len(e.FailedTasks) > 0 {
		keys := make([]string, len(e.FailedTasks))
		for i, t := range e.FailedTasks {
			keys[i] = t.Key
		}
		attrs = append(attrs, slog.Any("failed_tasks", keys))
	}
	if len(e.Warnings) > 0 {
		attrs = append(attrs, slog.Int("warnings", len(e.Warnings)))
	}
	str("ui_url", e.UIURL)
	str("delivery_id", e.DeliveryID)
	attrs = append(attrs, slog.String("text", Scrub(msg.Text, secrets)))
	s.Logger.LogAttrs(ctx, level, Scrub(msg.Subject, secrets), attrs...)
	return nil
}
