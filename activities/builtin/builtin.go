// Package builtin holds task types that need no external system: noop.
package builtin

import (
	"context"
	"time"

	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
)

// Activities runs built-in tasks.
type Activities struct {
	Runner *task.Runner
}

// NoopInput is one attempt of a noop task.
type NoopInput struct {
	Meta   task.Meta       `json:"meta"`
	Config spec.NoopConfig `json:"config"`
}

// NoopResult echoes the message and how long the task waited.
type NoopResult struct {
	Message string `json:"message,omitempty"`
	SleptMS int64  `json:"slept_ms,omitempty"`
}

// Noop does nothing, or waits for Config.Sleep, honouring cancellation.
func (a *Activities) Noop(ctx context.Context, in NoopInput) (NoopResult, error) {
	return task.Run(ctx, a.Runner, in.Meta, func(ctx context.Context, at *task.Attempt) (NoopResult, error) {
		res := NoopResult{Message: in.Config.Message}
		if d := in.Config.Sleep.D(); d > 0 {
			at.Progress("sleeping %s", in.Config.Sleep)
			start := time.Now()
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(d):
			}
			res.SleptMS = time.Since(start).Milliseconds()
		}
		return res, nil
	})
}
