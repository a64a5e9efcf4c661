package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	adbt "github.com/sluicedata/sluice/activities/dbt"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
)

// RefreshDbtProjectName is the workflow type name of RefreshDbtProject.
const RefreshDbtProjectName = "RefreshDbtProject"

// ErrRefreshInput is the error type of a RefreshDbtProject input without a project.
const ErrRefreshInput = "InputInvalid"

// Attempts of the refresh activity for failures a retry may fix (network,
// a busy warehouse); each waits refreshRetryDelay times its number first.
const (
	refreshAttempts   = 3
	refreshRetryDelay = 30 * time.Second
)

var dbtActs *adbt.Activities

// RefreshDbtProjectInput names the dbt project to refresh. It is small and
// name-based so any Temporal client can start it:
// {"project":"olist_dbt","env":"local"}.
type RefreshDbtProjectInput struct {
	Project string `json:"project"`       // name in sluice.yaml dbt_projects
	Env     string `json:"env,omitempty"` // default: the project's default environment
}

// RefreshDbtProject refreshes a dbt project's manifest: one activity on the
// sluice-dbt queue checks the project out, runs `dbt parse` with the
// environment's generated profile, and stores manifest.json, the commit and
// the model list in run history. The result lists the models. Failures a
// retry may fix are retried twice; the others end the workflow at once with
// their type (DbtCompilation, DbtProjectSource, ConfigInvalid...).
func RefreshDbtProject(ctx workflow.Context, in RefreshDbtProjectInput) (*adbt.RefreshResult, error) {
	if in.Project == "" {
		return nil, temporal.NewNonRetryableApplicationError(
			`input has no project: start RefreshDbtProject with {"project":"<name in dbt_projects>","env":"<env>"}`, ErrRefreshInput, nil)
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           spec.QueueDbt,
		StartToCloseTimeout: adbt.RefreshTimeout.D() + time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		// Temporal retries only lost workers: the activity reports every
		// other failure as non-retryable and says whether it may be retried.
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 5,
		},
		Summary: "dbt parse " + in.Project,
	})
	for attempt := 1; ; attempt++ {
		var res adbt.RefreshResult
		err := workflow.ExecuteActivity(actx, dbtActs.RefreshProject, adbt.RefreshInput{Project: in.Project, Env: in.Env, Attempt: attempt}).Get(ctx, &res)
		if err == nil {
			return &res, nil
		}
		var ae *temporal.ApplicationError
		if !errors.As(err, &ae) {
			return nil, err
		}
		var f task.Failure
		_ = ae.Details(&f)
		if !f.Retryable || attempt >= refreshAttempts {
			msg := fmt.Sprintf("refreshing dbt project %s: %s", in.Project, ae.Message())
			if f.Detail != "" {
				msg += "\n" + f.Detail
			}
			return nil, temporal.NewNonRetryableApplicationError(msg, ae.Type(), nil)
		}
		workflow.GetLogger(ctx).Warn("dbt refresh failed; retrying", "attempt", attempt, "error", ae.Message())
		if err := workflow.Sleep(ctx, time.Duration(attempt)*refreshRetryDelay); err != nil {
			return nil, err
		}
	}
}
