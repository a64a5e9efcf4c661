// Package task is what every task activity goes through: it runs one attempt
// of a task with background heartbeats (so a lost worker is noticed and
// cancellation is delivered), the task's own timeout, resolution of secret
// references, and translation of errors into stable, scrubbed Temporal
// errors the workflow can act on.
//
// Retries of a task are decided by the workflow (attempts, interval, backoff,
// on_timeout), so every error leaves here as a non-retryable Temporal error
// whose details (Failure) say whether the workflow may retry it. Temporal's
// own retries are left for infrastructure failures: a worker that dies
// mid-attempt shows up as a heartbeat timeout and the attempt resumes on
// another worker with its heartbeat details.
package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/sluicedata/sluice/internal/secret"
	"github.com/sluicedata/sluice/internal/spec"
)

// Meta identifies the run and task an attempt works for. Every task
// activity's input carries it.
type Meta struct {
	Project     string         `json:"project"`
	Pipeline    string         `json:"pipeline"`
	Env         string         `json:"env"`
	WorkflowID  string         `json:"workflow_id"`
	RunID       string         `json:"run_id"`
	Task        string         `json:"task"`
	Type        string         `json:"type"`
	Attempt     int            `json:"attempt"`
	Timeout     spec.Duration  `json:"timeout"`
	LogicalDate time.Time      `json:"logical_date"`
	Trigger     string         `json:"trigger"`
	Params      map[string]any `json:"params,omitempty"`
	Target      spec.Target    `json:"target"`
	// Resume holds the last heartbeat details of the previous attempt, so an
	// attempt can re-attach to external work it started (a DLT update, a
	// job run) instead of starting it again.
	Resume json.RawMessage `json:"resume,omitempty"`
}

// Scope returns the interpolation scope of the run, for text the activity
// reads itself (SQL files): params, run facts and environment fields.
func (m Meta) Scope() spec.Scope {
	return spec.Scope{
		Params: m.Params,
		Run: &spec.RunVars{
			ID: m.RunID, WorkflowID: m.WorkflowID, Pipeline: m.Pipeline, Env: m.Env,
			Trigger: m.Trigger, LogicalDate: m.LogicalDate,
		},
		Env: map[string]any{"name": m.Env, "engine": m.Target.Engine, "catalog": m.Target.Catalog,
			"schema": m.Target.Schema, "volume": m.Target.Volume},
	}
}

// Failure is attached to every error a task activity returns.
type Failure struct {
	// Retryable says whether another attempt may succeed.
	Retryable bool `json:"retryable"`
	// Timeout marks an attempt stopped by the task's timeout.
	Timeout bool `json:"timeout,omitempty"`
	// Detail is longer scrubbed text (stderr tail, stack, failing rows).
	Detail string `json:"detail,omitempty"`
	// Resume is the attempt's last heartbeat details.
	Resume json.RawMessage `json:"resume,omitempty"`
}

// Error types used by the framework.
const (
	ErrTaskTimeout  = "TaskTimeout"
	ErrConfig       = "ConfigInvalid"
	ErrSecret       = "SecretMissing"
	ErrInternal     = "InternalError"
	ErrTaskCanceled = "TaskCanceled"
)

// Error is a classified task error. Activities return it through Permanent
// and Transient; anything else is treated as transient.
type Error struct {
	Type      string
	Msg       string
	Detail    string
	Retryable bool
	Cause     error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Cause }

// Permanent returns an error another attempt cannot fix (bad config, failing
// data tests, an external job that FAILED).
func Permanent(errType, format string, args ...any) *Error {
	return &Error{Type: errType, Msg: fmt.Sprintf(format, args...)}
}

// Transient returns an error another attempt may fix (network, timeouts).
func Transient(errType, format string, args ...any) *Error {
	return &Error{Type: errType, Msg: fmt.Sprintf(format, args...), Retryable: true}
}

// WithDetail adds longer text to an error.
func (e *Error) WithDetail(d string) *Error { e.Detail = d; return e }

// WithCause records the underlying error.
func (e *Error) WithCause(err error) *Error { e.Cause = err; return e }

// Attempt is the running attempt, passed to the task's function.
type Attempt struct {
	Meta Meta

	ctx      context.Context
	secrets  *secret.Store
	scrubber *secret.Scrubber

	mu       sync.Mutex
	details  json.RawMessage
	progress string
	dirty    bool
}

// Heartbeat records resume details (what a later attempt needs to
// re-attach, e.g. an external run id) and a progress line. Details are
// recorded with Temporal right away; the background heartbeat repeats them.
func (a *Attempt) Heartbeat(details any, progress string) {
	var raw json.RawMessage
	if details != nil {
		b, err := json.Marshal(details)
		if err == nil {
			raw = b
		}
	}
	a.mu.Lock()
	if raw != nil {
		a.details = raw
	}
	if progress != "" {
		a.progress = a.scrubber.Scrub(progress)
	}
	a.mu.Unlock()
	a.beat()
}

// Progress updates the progress line shown while the task runs.
func (a *Attempt) Progress(format string, args ...any) {
	a.Heartbeat(nil, fmt.Sprintf(format, args...))
}

// Resume decodes the resume details left by an earlier attempt into v and
// reports whether there were any.
func (a *Attempt) Resume(v any) bool {
	if activity.HasHeartbeatDetails(a.ctx) {
		var hb heartbeat
		if err := activity.GetHeartbeatDetails(a.ctx, &hb); err == nil && len(hb.Details) > 0 {
			return json.Unmarshal(hb.Details, v) == nil
		}
	}
	if len(a.Meta.Resume) > 0 {
		return json.Unmarshal(a.Meta.Resume, v) == nil
	}
	return false
}

// Secret returns a secret's value and registers it for scrubbing.
func (a *Attempt) Secret(name string) (string, error) {
	v, err := a.secrets.Lookup(name)
	if err != nil {
		return "", Permanent(ErrSecret, "%v", err)
	}
	a.scrubber.Add(v)
	return v, nil
}

// Resolve finishes interpolation of a config string: ${secret:NAME} values
// are looked up (and scrubbed from everything the attempt reports).
func (a *Attempt) Resolve(s string) (string, error) {
	sc := a.Meta.Scope()
	sc.Secrets = a.Secret
	sc.Final = true
	v, err := spec.InterpolateString(s, sc)
	if err != nil {
		var te *Error
		if errors.As(err, &te) {
			return "", te
		}
		return "", Permanent(ErrConfig, "%v", err)
	}
	return v, nil
}

// Scrub removes every secret value this attempt resolved from text.
func (a *Attempt) Scrub(s string) string { return a.scrubber.Scrub(s) }

// Logger returns the activity logger.
func (a *Attempt) Logger() interface {
	Info(string, ...any)
	Warn(string, ...any)
	Error(string, ...any)
} {
	return activity.GetLogger(a.ctx)
}

type heartbeat struct {
	Progress string          `json:"progress,omitempty"`
	Details  json.RawMessage `json:"details,omitempty"`
}

func (a *Attempt) beat() {
	a.mu.Lock()
	hb := heartbeat{Progress: a.progress, Details: a.details}
	a.mu.Unlock()
	activity.RecordHeartbeat(a.ctx, hb)
}

func (a *Attempt) lastDetails() json.RawMessage {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.details
}

// Runner runs task attempts. Activity structs embed or hold one.
type Runner struct {
	Secrets *secret.Store
}

// Run executes one attempt of a task. fn gets a context that ends at the
// task's timeout or when the workflow cancels the task.
func Run[R any](ctx context.Context, r *Runner, m Meta, fn func(ctx context.Context, a *Attempt) (R, error)) (R, error) {
	var zero R
	secrets := r.Secrets
	if secrets == nil {
		secrets = &secret.Store{}
	}
	a := &Attempt{Meta: m, ctx: ctx, secrets: secrets, scrubber: &secret.Scrubber{}}
	if activity.HasHeartbeatDetails(ctx) {
		// Carry the previous try's details forward, so they survive even if
		// this try fails before heartbeating.
		var hb heartbeat
		if activity.GetHeartbeatDetails(ctx, &hb) == nil {
			a.details = hb.Details
		}
	} else if len(m.Resume) > 0 {
		a.details = m.Resume
	}

	runCtx := ctx
	var cancel context.CancelFunc = func() {}
	if m.Timeout > 0 {
		runCtx, cancel = context.WithTimeout(ctx, m.Timeout.D())
	}
	defer cancel()

	// Heartbeat in the background at a third of the heartbeat timeout.
	interval := 10 * time.Second
	if hbt := activity.GetInfo(ctx).HeartbeatTimeout; hbt > 0 {
		interval = max(hbt/3, 200*time.Millisecond)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				a.beat()
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	type outcome struct {
		r   R
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- outcome{err: Permanent(ErrInternal, "task panicked: %v", p)}
			}
		}()
		res, err := fn(runCtx, a)
		done <- outcome{res, err}
	}()

	var out outcome
	select {
	case out = <-done:
	case <-runCtx.Done():
		// Give the task a moment to stop cleanly, then report without it.
		select {
		case out = <-done:
		case <-time.After(5 * time.Second):
			out = outcome{err: runCtx.Err()}
		}
	}
	if out.err == nil {
		return out.r, nil
	}
	return zero, a.translate(ctx, runCtx, out.err)
}

// translate turns a task error into the Temporal error the workflow reads.
func (a *Attempt) translate(ctx, runCtx context.Context, err error) error {
	if ctx.Err() != nil {
		// The workflow cancelled the task (or the activity timed out on the
		// server): report cancellation as such.
		return temporal.NewCanceledError(a.Scrub(err.Error()))
	}
	f := Failure{Resume: a.lastDetails()}
	errType, msg := ErrInternal, err.Error()
	var te *Error
	var ae *temporal.ApplicationError
	switch {
	case runCtx.Err() == context.DeadlineExceeded:
		errType = ErrTaskTimeout
		msg = fmt.Sprintf("task %s timed out after %s", a.Meta.Task, a.Meta.Timeout)
		f.Timeout, f.Retryable = true, true
		f.Detail = err.Error()
	case errors.As(err, &te):
		errType, msg, f.Detail, f.Retryable = te.Type, te.Msg, te.Detail, te.Retryable
	case errors.As(err, &ae):
		errType, msg, f.Retryable = ae.Type(), ae.Error(), !ae.NonRetryable()
	default:
		errType, f.Retryable = "Error", true
	}
	msg, f.Detail = a.Scrub(msg), a.Scrub(f.Detail)
	return temporal.NewApplicationErrorWithOptions(msg, errType, temporal.ApplicationErrorOptions{
		NonRetryable: true,
		Details:      []any{f},
	})
}
