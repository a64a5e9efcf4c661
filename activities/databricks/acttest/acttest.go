// Package acttest runs the engine: databricks task activities in Temporal's
// test activity environment against a fake workspace
// (internal/databricks/databrickstest): a task.Meta for a databricks
// environment, client tuning with millisecond polls, and helpers to read
// heartbeats and task failures. It is test support, imported only by tests.
package acttest

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	adatabricks "github.com/sluicedata/sluice/activities/databricks"
	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/secret"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
)

// Token is the personal access token the fake accepts (WithToken(Token)),
// reached by activities as ${secret:DBX_TOKEN}.
const Token = "dapi-acttest-token"

// Tuning talks to the fake with millisecond polls and backoff.
func Tuning() databricks.Config {
	return databricks.Config{
		HTTPTimeout:        2 * time.Second,
		RetryTimeout:       2 * time.Second,
		RetryMinBackoff:    time.Millisecond,
		RetryMaxBackoff:    5 * time.Millisecond,
		PollMinInterval:    time.Millisecond,
		PollMaxInterval:    5 * time.Millisecond,
		CancelTimeout:      2 * time.Second,
		RateLimitPerSecond: 10000,
	}
}

// Clients returns a client cache tuned for the fake.
func Clients() *adatabricks.Clients { return &adatabricks.Clients{Tuning: Tuning()} }

// Runner resolves ${secret:DBX_TOKEN} to Token.
func Runner() *task.Runner {
	return &task.Runner{Secrets: &secret.Store{Getenv: func(k string) (string, bool) {
		if k == "DBX_TOKEN" {
			return Token, true
		}
		return "", false
	}}}
}

// Meta is attempt 1 of task key (of type typ) in run "run-1" of workflow
// sluice/nightly/prod/2026-11-22, in environment prod whose workspace is
// host: warehouse wh-1, catalog olist, schema silver, volume
// /Volumes/olist/landing/raw.
func Meta(host, key, typ string) task.Meta {
	return task.Meta{
		Project: "olist", Pipeline: "nightly", Env: "prod",
		WorkflowID: "sluice/nightly/prod/2026-11-22", RunID: "run-1",
		Task: key, Type: typ, Attempt: 1, Timeout: spec.Duration(time.Minute),
		LogicalDate: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), Trigger: "MANUAL",
		Target: spec.Target{
			Env: "prod", Engine: spec.EngineDatabricks,
			Catalog: "olist", Schema: "silver", Volume: "/Volumes/olist/landing/raw",
			Databricks: &spec.DatabricksEnv{Host: host, Token: "${secret:DBX_TOKEN}", WarehouseID: "wh-1",
				Catalog: "olist", Schema: "silver", Volume: "/Volumes/olist/landing/raw"},
		},
	}
}

// Beats records the resume details of every heartbeat, decoded as JSON.
type Beats struct {
	mu      sync.Mutex
	details []json.RawMessage
}

// Details returns the resume details heartbeated so far.
func (b *Beats) Details() []json.RawMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]json.RawMessage(nil), b.details...)
}

// Env returns a test activity environment with acts registered whose
// heartbeats go to the returned Beats.
func Env(t *testing.T, acts any) (*testsuite.TestActivityEnvironment, *Beats) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestActivityEnvironment()
	env.SetTestTimeout(30 * time.Second)
	env.RegisterActivity(acts)
	b := &Beats{}
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var hb struct {
			Progress string          `json:"progress"`
			Details  json.RawMessage `json:"details"`
		}
		if details.Get(&hb) != nil {
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(hb.Details) > 0 && (len(b.details) == 0 || string(b.details[len(b.details)-1]) != string(hb.Details)) {
			b.details = append(b.details, hb.Details)
		}
	})
	return env, b
}

// Execute runs one activity method of acts (registered with Env) with input
// in and decodes its result; heartbeats go to the returned Beats.
func Execute[R any](t *testing.T, acts, method, in any) (R, *Beats, error) {
	t.Helper()
	env, beats := Env(t, acts)
	var res R
	val, err := env.ExecuteActivity(method, in)
	if err == nil {
		require.NoError(t, val.Get(&res))
	}
	return res, beats, err
}

// Failure reads a task activity's error: its type, message and failure
// details.
func Failure(t *testing.T, err error) (string, string, task.Failure) {
	t.Helper()
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "want an application error, got %v", err)
	var f task.Failure
	require.NoError(t, ae.Details(&f))
	return ae.Type(), ae.Message(), f
}
