package cli

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/pgtest"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/store"
)

// opsEnv is a history database with the CLI pointed at it.
type opsEnv struct {
	t     *testing.T
	store *store.Store
	vars  map[string]string
	now   time.Time
}

// setupOps creates a history database (migrated, empty) and a CLI
// environment using it with the project folder testdata/<project>.
// TEMPORAL_ADDRESS points at a closed port: these tests run without
// Temporal.
func setupOps(t *testing.T, project string) *opsEnv {
	t.Helper()
	url := pgtest.NewDatabase(t)
	s, err := store.Open(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return &opsEnv{t: t, store: s, now: time.Now().UTC().Truncate(time.Second), vars: map[string]string{
		"DATABASE_URL":     url,
		"SLUICE_PROJECT":   "testdata/" + project,
		"TEMPORAL_ADDRESS": "127.0.0.1:1",
	}}
}

// sluice runs the CLI and returns its exit code, stdout and stderr.
func (e *opsEnv) sluice(args ...string) (int, string, string) {
	e.t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := Execute(ctx, args, &stdout, &stderr, func(k string) string { return e.vars[k] })
	return code, stdout.String(), stderr.String()
}

// histTask is one task of a run written by saveRun.
type histTask struct {
	key, typ string
	state    dag.State
	secs     float64
	attempts []run.Attempt // N, State and Error are used; times are derived
	output   map[string]any
	reused   string
}

// saveRun writes a run as the workflow's final history write does. The run
// starts at start and its tasks one second later, one after the other.
func (e *opsEnv) saveRun(r run.Status, secs float64, tasks ...histTask) {
	e.t.Helper()
	if r.RunID == "" {
		r.RunID = "run-" + r.WorkflowID
	}
	if r.Trigger == "" {
		r.Trigger = run.TriggerManual
	}
	if r.Status.Done() {
		r.EndedAt = r.StartedAt.Add(dur(secs))
	}
	at := r.StartedAt.Add(time.Second)
	for i, ht := range tasks {
		t := run.Task{Key: ht.key, Type: ht.typ, Index: i, State: ht.state, Output: ht.output, Reused: ht.reused}
		if len(ht.attempts) > 0 {
			t.StartedAt, t.EndedAt = at, at.Add(dur(ht.secs))
			step := dur(ht.secs) / time.Duration(len(ht.attempts))
			for n, a := range ht.attempts {
				a.N = n + 1
				a.StartedAt = at.Add(time.Duration(n) * step)
				if a.State.Terminal() {
					a.EndedAt = a.StartedAt.Add(step)
				}
				t.Attempts = append(t.Attempts, a)
			}
			t.Error = t.Attempts[len(t.Attempts)-1].Error
			at = t.EndedAt
		}
		r.Tasks = append(r.Tasks, t)
	}
	require.NoError(e.t, e.store.SaveRun(context.Background(), store.Snapshot{Seq: 1, Run: r}))
}

func dur(secs float64) time.Duration { return time.Duration(secs * float64(time.Second)) }

func ok() run.Attempt { return run.Attempt{State: dag.Success} }

func failed(typ, msg, detail string) run.Attempt {
	return run.Attempt{State: dag.Failed, Error: &run.Error{Type: typ, Message: msg, Detail: detail}}
}
