package databricks

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/sluicedata/sluice/internal/databricks"
)

// Attached runs fn, which drives work in the workspace and stops it (pipeline
// stop, run cancel, statement cancel) when its context is cancelled. fn's
// context keeps ctx's values and deadline but not its cancellation, which
// Attached forwards unless this worker is shutting down: then the attempt
// must not stop work another worker will re-attach to, so Attached returns
// ctx's error at once and leaves fn running, its context never cancelled,
// until the work ends or the process exits. attached reports whether the
// attempt still owns fn; heartbeat callbacks check it so a detached poll
// stops reporting for an attempt that is over.
func Attached[R any](ctx context.Context, fn func(ctx context.Context, attached func() bool) (R, error)) (R, error) {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if dl, ok := ctx.Deadline(); ok {
		var cancelDL context.CancelFunc
		work, cancelDL = context.WithDeadline(work, dl)
		prev := cancel
		cancel = func() { cancelDL(); prev() }
	}
	var detached atomic.Bool
	type result struct {
		r   R
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := fn(work, func() bool { return !detached.Load() })
		done <- result{r, err}
	}()
	select {
	case res := <-done:
		if work.Err() == context.DeadlineExceeded {
			<-ctx.Done() // the same deadline: ctx's own timer is about to fire
		}
		cancel()
		return res.r, res.err
	case <-ctx.Done():
	}
	if WorkerStopping(ctx) {
		detached.Store(true)
		go func() { <-done; cancel() }()
		var zero R
		return zero, ctx.Err()
	}
	if ctx.Err() != context.DeadlineExceeded {
		cancel() // a deadline reaches fn through its own, identical deadline
	}
	res := <-done
	cancel()
	return res.r, res.err
}

// WorkerStopping reports whether ctx was cancelled because this worker is
// shutting down (as opposed to the workflow cancelling the task or a
// timeout).
func WorkerStopping(ctx context.Context) bool {
	return ctx.Err() != nil && errors.Is(context.Cause(ctx), worker.ErrWorkerShutdown)
}

// Stopped reports whether err says the attempt's context ended and the
// external work was stopped (no error stopping it), as opposed to a worker
// shutdown, which leaves the work running.
func Stopped(ctx context.Context, err error) bool {
	return ctx.Err() != nil && !WorkerStopping(ctx) && databricks.KindOf(err) == "" &&
		(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// State is one state an update or run was seen in, and how long it lasted.
type State struct {
	State      string    `json:"state"`
	Since      time.Time `json:"since"`
	DurationMS int64     `json:"duration_ms"`
}

// States converts the library's state spans.
func States(spans []databricks.StateSpan) []State {
	if len(spans) == 0 {
		return nil
	}
	out := make([]State, len(spans))
	for i, s := range spans {
		out[i] = State{State: s.State, Since: s.Since, DurationMS: s.Duration.Milliseconds()}
	}
	return out
}

// Spans converts states back, for re-attaching with what was seen before.
func Spans(states []State) []databricks.StateSpan {
	if len(states) == 0 {
		return nil
	}
	out := make([]databricks.StateSpan, len(states))
	for i, s := range states {
		out[i] = databricks.StateSpan{State: s.State, Since: s.Since, Duration: time.Duration(s.DurationMS) * time.Millisecond}
	}
	return out
}

// Elapsed formats a duration for progress lines: 45s, 2m, 1h5m.
func Elapsed(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	if m == 0 {
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}
