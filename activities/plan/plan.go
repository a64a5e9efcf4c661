// Package plan resolves a pipeline into a run plan: the first step of every
// run. It reads the project folder the worker was started on, so the
// workflow itself never touches files and a YAML edit never changes a run in
// flight (the plan is recorded in history).
package plan

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/spec"
)

// Activities resolves plans.
type Activities struct {
	// ProjectDir is the project folder (holding sluice.yaml).
	ProjectDir string
	// Getenv reads the worker's environment for ${env:VAR} (default os.LookupEnv).
	Getenv func(string) (string, bool)
}

// ResolveInput asks for the plan of one run.
type ResolveInput struct {
	Input       run.Input   `json:"input"`
	WorkflowID  string      `json:"workflow_id"`
	RunID       string      `json:"run_id"`
	Trigger     run.Trigger `json:"trigger"`
	LogicalDate time.Time   `json:"logical_date"`
	StartTime   time.Time   `json:"start_time"`
}

// ErrSpecInvalid is the error type of a pipeline that cannot be planned.
const ErrSpecInvalid = "SpecInvalid"

// Resolve loads the project and plans the run. Problems with the spec or the
// input are non-retryable: another attempt would read the same files.
func (a *Activities) Resolve(ctx context.Context, in ResolveInput) (*spec.Plan, error) {
	p, err := spec.Load(a.ProjectDir)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrSpecInvalid, err)
	}
	plan, err := p.Plan(spec.PlanRequest{
		Pipeline: in.Input.Pipeline,
		Env:      in.Input.Env,
		Params:   in.Input.Params,
		Only:     in.Input.Only,
		Getenv:   a.Getenv,
		Run: spec.RunVars{
			ID: in.RunID, WorkflowID: in.WorkflowID, Trigger: string(in.Trigger),
			LogicalDate: in.LogicalDate, StartTime: in.StartTime,
		},
	})
	if err != nil {
		var diags spec.Diagnostics
		msg := err.Error()
		if errors.As(err, &diags) {
			msg = fmt.Sprintf("pipeline %s is invalid:\n%s", in.Input.Pipeline, diags.Error())
		}
		return nil, temporal.NewNonRetryableApplicationError(msg, ErrSpecInvalid, nil)
	}
	return plan, nil
}
