package workflows

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	adbt "github.com/sluicedata/sluice/activities/dbt"
	"github.com/sluicedata/sluice/internal/store"
	"github.com/sluicedata/sluice/internal/task"
)

// refreshEnv runs RefreshDbtProject with RefreshProject answering from
// attempt (1-based).
func refreshEnv(t *testing.T, attempt func(n int, in adbt.RefreshInput) (adbt.RefreshResult, error)) (*testsuite.TestWorkflowEnvironment, *atomic.Int32) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(30 * time.Second)
	env.RegisterWorkflowWithOptions(RefreshDbtProject, workflow.RegisterOptions{Name: RefreshDbtProjectName})
	env.RegisterActivity(&adbt.Activities{})
	calls := &atomic.Int32{}
	env.OnActivity("RefreshProject", mock.Anything, mock.Anything).Return(func(_ context.Context, in adbt.RefreshInput) (adbt.RefreshResult, error) {
		return attempt(int(calls.Add(1)), in)
	})
	return env, calls
}

// taskError is how task.Run reports a failure.
func taskError(errType, msg string, retryable bool) error {
	return temporal.NewApplicationErrorWithOptions(msg, errType, temporal.ApplicationErrorOptions{
		NonRetryable: true, Details: []any{task.Failure{Retryable: retryable, Detail: "log: file:///artifacts/x"}},
	})
}

func TestRefreshDbtProject(t *testing.T) {
	t.Parallel()

	t.Run("Success", func(t *testing.T) {
		t.Parallel()
		env, calls := refreshEnv(t, func(_ int, in adbt.RefreshInput) (adbt.RefreshResult, error) {
			require.Equal(t, adbt.RefreshInput{Project: "olist_dbt", Env: "local", Attempt: 1}, in)
			return adbt.RefreshResult{Project: in.Project, Env: in.Env, Commit: "abc", ModelCount: 1,
				Models: []store.DbtNode{{UniqueID: "model.olist.stg_orders", Name: "stg_orders", ResourceType: "model"}}}, nil
		})
		env.ExecuteWorkflow(RefreshDbtProject, RefreshDbtProjectInput{Project: "olist_dbt", Env: "local"})
		require.True(t, env.IsWorkflowCompleted())
		require.NoError(t, env.GetWorkflowError())
		var res adbt.RefreshResult
		require.NoError(t, env.GetWorkflowResult(&res))
		require.Equal(t, "abc", res.Commit)
		require.Equal(t, "stg_orders", res.Models[0].Name)
		require.Equal(t, int32(1), calls.Load())
	})

	t.Run("TransientFailuresRetried", func(t *testing.T) {
		t.Parallel()
		env, calls := refreshEnv(t, func(n int, in adbt.RefreshInput) (adbt.RefreshResult, error) {
			require.Equal(t, n, in.Attempt, "each attempt keeps its artifacts apart")
			if n < 3 {
				return adbt.RefreshResult{}, taskError("DbtTransient", "could not connect to the warehouse", true)
			}
			return adbt.RefreshResult{Project: in.Project, ModelCount: 7}, nil
		})
		start := env.Now()
		env.ExecuteWorkflow(RefreshDbtProject, RefreshDbtProjectInput{Project: "olist_dbt"})
		require.NoError(t, env.GetWorkflowError())
		require.Equal(t, int32(3), calls.Load())
		require.GreaterOrEqual(t, env.Now().Sub(start), 90*time.Second, "waits 30s, then 60s")
	})

	t.Run("TransientFailuresGiveUp", func(t *testing.T) {
		t.Parallel()
		env, calls := refreshEnv(t, func(int, adbt.RefreshInput) (adbt.RefreshResult, error) {
			return adbt.RefreshResult{}, taskError("DbtProjectSource", "fetching: connection reset", true)
		})
		env.ExecuteWorkflow(RefreshDbtProject, RefreshDbtProjectInput{Project: "olist_dbt"})
		requireAppError(t, env.GetWorkflowError(), "DbtProjectSource",
			"refreshing dbt project olist_dbt: fetching: connection reset\nlog: file:///artifacts/x")
		require.Equal(t, int32(3), calls.Load())
	})

	t.Run("PermanentFailureStops", func(t *testing.T) {
		t.Parallel()
		env, calls := refreshEnv(t, func(int, adbt.RefreshInput) (adbt.RefreshResult, error) {
			return adbt.RefreshResult{}, taskError("DbtCompilation", "dbt parse failed to compile the project", false)
		})
		env.ExecuteWorkflow(RefreshDbtProject, RefreshDbtProjectInput{Project: "olist_dbt"})
		requireAppError(t, env.GetWorkflowError(), "DbtCompilation",
			"refreshing dbt project olist_dbt: dbt parse failed to compile the project\nlog: file:///artifacts/x")
		require.Equal(t, int32(1), calls.Load())
	})

	t.Run("NoProject", func(t *testing.T) {
		t.Parallel()
		env, calls := refreshEnv(t, func(int, adbt.RefreshInput) (adbt.RefreshResult, error) { return adbt.RefreshResult{}, nil })
		env.ExecuteWorkflow(RefreshDbtProject, RefreshDbtProjectInput{})
		requireAppError(t, env.GetWorkflowError(), ErrRefreshInput,
			`input has no project: start RefreshDbtProject with {"project":"<name in dbt_projects>","env":"<env>"}`)
		require.Equal(t, int32(0), calls.Load())
	})
}

func requireAppError(t *testing.T, err error, errType, msg string) {
	t.Helper()
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "want an application error, got %v", err)
	require.Equal(t, errType, ae.Type())
	require.Equal(t, msg, ae.Message())
	require.True(t, ae.NonRetryable())
}
