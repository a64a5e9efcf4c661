// Package notify sends messages to notification channels: the messages of
// notify tasks, and run events (on_start, on_failure, ...) with a delivery
// log so that each run event reaches each channel once.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/sluicedata/sluice/internal/notify"
	"github.com/sluicedata/sluice/internal/secret"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/store"
	"github.com/sluicedata/sluice/internal/task"
)

// Activities sends notifications.
type Activities struct {
	Runner  *task.Runner
	Secrets *secret.Store
	Sender  *notify.Sender
	Store   *store.Store // delivery log; nil disables it
	Logger  *slog.Logger
}

// Error types.
const (
	ErrChannel          = "ChannelError"
	ErrChannelPermanent = "ChannelPermanent"
)

// TaskInput is one attempt of a notify task.
type TaskInput struct {
	Meta     task.Meta               `json:"meta"`
	Config   spec.NotifyConfig       `json:"config"`
	Channels map[string]spec.Channel `json:"channels"`
}

// TaskResult lists where the message went.
type TaskResult struct {
	Delivered []string `json:"delivered"`
	Message   string   `json:"message"`
}

// SendTask delivers a notify task's message to every channel. A channel
// that already took the message in an earlier attempt is not sent it again.
func (a *Activities) SendTask(ctx context.Context, in TaskInput) (TaskResult, error) {
	return task.Run(ctx, a.Runner, in.Meta, func(ctx context.Context, at *task.Attempt) (TaskResult, error) {
		res := TaskResult{Message: in.Config.Message}
		var done struct {
			Delivered []string `json:"delivered"`
		}
		at.Resume(&done)
		for _, name := range in.Config.Channels {
			if contains(done.Delivered, name) {
				res.Delivered = append(res.Delivered, name)
				continue
			}
			ch, ok := in.Channels[name]
			if !ok {
				return res, task.Permanent(task.ErrConfig, "unknown channel %q", name)
			}
			resolved, secrets, err := a.resolve(ch, at.Resolve)
			if err != nil {
				return res, err
			}
			e := notify.Event{
				Kind: notify.KindMessage, Project: in.Meta.Project, Pipeline: in.Meta.Pipeline, Env: in.Meta.Env,
				WorkflowID: in.Meta.WorkflowID, RunID: in.Meta.RunID, Trigger: in.Meta.Trigger,
				LogicalDate: in.Meta.LogicalDate, Title: in.Config.Subject, Text: in.Config.Message,
				DeliveryID: fmt.Sprintf("%s/%s/%s/%s", in.Meta.WorkflowID, in.Meta.RunID, in.Meta.Task, name),
			}
			if err := a.sender().Send(ctx, resolved, e, secrets); err != nil {
				if notify.IsPermanent(err) {
					return res, task.Permanent(ErrChannelPermanent, "channel %s: %v", name, err)
				}
				return res, task.Transient(ErrChannel, "channel %s: %v", name, err)
			}
			res.Delivered = append(res.Delivered, name)
			done.Delivered = res.Delivered
			at.Heartbeat(done, "sent to "+name)
		}
		return res, nil
	})
}

// EventInput asks to send one run event to one channel.
type EventInput struct {
	Event       notify.Event `json:"event"`
	ChannelName string       `json:"channel_name"`
	Channel     spec.Channel `json:"channel"`
}

// EventResult says what happened.
type EventResult struct {
	Status string `json:"status"` // sent, or skipped (already sent)
}

// SendEvent sends a run event to one channel, once: the delivery log in
// Postgres records it, so a retried activity does not send it again. A
// permanent channel failure is returned as a non-retryable error.
func (a *Activities) SendEvent(ctx context.Context, in EventInput) (EventResult, error) {
	logger := activity.GetLogger(ctx)
	d := store.Delivery{
		DeliveryID: in.Event.DeliveryID, WorkflowID: in.Event.WorkflowID, RunID: in.Event.RunID,
		Event: in.Event.Kind, Channel: in.ChannelName, ChannelType: in.Channel.Type,
	}
	logged := false
	if a.Store != nil {
		prev, err := a.Store.BeginDelivery(ctx, d)
		switch {
		case err != nil:
			// Better a rare duplicate than a lost alert: send anyway.
			logger.Warn("delivery log unavailable; sending without it", "error", err)
		case prev != nil && prev.Status == store.DeliverySent:
			return EventResult{Status: "skipped"}, nil
		default:
			logged = true
		}
	}
	scrub := &secret.Scrubber{}
	resolve := func(s string) (string, error) {
		return spec.InterpolateString(s, spec.Scope{Final: true, Secrets: func(name string) (string, error) {
			v, err := a.secrets().Lookup(name)
			if err == nil {
				scrub.Add(v)
			}
			return v, err
		}})
	}
	resolved, secrets, err := a.resolve(in.Channel, resolve)
	if err == nil {
		err = a.sender().Send(ctx, resolved, in.Event, append(secrets, scrub.Values()...))
	}
	if err != nil {
		msg := scrub.Scrub(err.Error())
		if logged {
			_ = a.Store.EndDelivery(context.WithoutCancel(ctx), d.DeliveryID, store.DeliveryFailed, msg)
		}
		var te *task.Error
		if notify.IsPermanent(err) || errors.As(err, &te) || errors.Is(err, secret.ErrNotFound) {
			return EventResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("channel %s: %s", in.ChannelName, msg), ErrChannelPermanent, nil)
		}
		return EventResult{}, temporal.NewApplicationError(fmt.Sprintf("channel %s: %s", in.ChannelName, msg), ErrChannel)
	}
	if logged {
		// The message is out: record it, trying a little harder than usual.
		for i := range 3 {
			if err := a.Store.EndDelivery(context.WithoutCancel(ctx), d.DeliveryID, store.DeliverySent, ""); err == nil {
				break
			} else if i == 2 {
				logger.Warn("could not record a sent notification", "delivery", d.DeliveryID, "error", err)
			}
			time.Sleep(time.Second)
		}
	}
	return EventResult{Status: store.DeliverySent}, nil
}

// resolve returns the channel with its secret references resolved, and the
// resolved values to scrub from anything sent or returned.
func (a *Activities) resolve(ch spec.Channel, resolve func(string) (string, error)) (notify.Channel, []string, error) {
	out := ch
	var secrets []string
	for _, f := range []*string{&out.SMTP, &out.Webhook, &out.URL, &out.Secret, &out.From} {
		orig := *f
		v, err := resolve(orig)
		if err != nil {
			return out, nil, err
		}
		if v != orig && spec.HasSecretRef(orig) {
			secrets = append(secrets, v)
		}
		*f = v
	}
	return out, secrets, nil
}

func (a *Activities) sender() *notify.Sender {
	if a.Sender != nil {
		return a.Sender
	}
	return &notify.Sender{Logger: a.logger()}
}

func (a *Activities) secrets() *secret.Store {
	if a.Secrets != nil {
		return a.Secrets
	}
	return &secret.Store{}
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
