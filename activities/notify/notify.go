// Package notify sends messages to notification channels: notify tasks and
// run events.
package notify

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
)

// Activities sends notifications.
type Activities struct {
	Runner *task.Runner
	Logger *slog.Logger
}

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

// ErrChannel is the error type of a channel that cannot take the message.
const ErrChannel = "ChannelError"

// SendTask delivers a notify task's message to its channels.
func (a *Activities) SendTask(ctx context.Context, in TaskInput) (TaskResult, error) {
	return task.Run(ctx, a.Runner, in.Meta, func(ctx context.Context, at *task.Attempt) (TaskResult, error) {
		res := TaskResult{Message: in.Config.Message}
		for _, name := range in.Config.Channels {
			ch, ok := in.Channels[name]
			if !ok {
				return res, task.Permanent(task.ErrConfig, "unknown channel %q", name)
			}
			switch ch.Type {
			case "log":
				a.logger().Info("notification", "channel", name, "pipeline", in.Meta.Pipeline, "env", in.Meta.Env,
					"task", in.Meta.Task, "subject", in.Config.Subject, "message", in.Config.Message)
			default:
				return res, task.Permanent(ErrChannel, "channel %s: type %s is not supported yet", name, ch.Type)
			}
			res.Delivered = append(res.Delivered, name)
		}
		if len(res.Delivered) == 0 {
			return res, fmt.Errorf("no channel")
		}
		return res, nil
	})
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}
