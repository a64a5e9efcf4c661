// Package history writes run history to Postgres on behalf of workflows.
package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/store"
)

// Activities records run history.
type Activities struct {
	Store *store.Store
}

// Record writes a snapshot of a run. Workflows call it as a best-effort
// local activity while the run progresses, and as a regular activity retried
// until it lands when the run ends.
func (a *Activities) Record(ctx context.Context, snap store.Snapshot) error {
	return a.Store.SaveRun(ctx, snap)
}

// LoadRunInput names a run to read back.
type LoadRunInput struct {
	WorkflowID string `json:"workflow_id"`
}

// LoadRunResult is a run as history has it, with the plan it ran.
type LoadRunResult struct {
	Status run.Status      `json:"status"`
	Plan   json.RawMessage `json:"plan"`
}

// ErrRunNotFound is the error type of a run missing from history.
const ErrRunNotFound = "RunNotFound"

// LoadRun reads the latest run of a workflow id from history (for repairs).
func (a *Activities) LoadRun(ctx context.Context, in LoadRunInput) (LoadRunResult, error) {
	st, err := a.Store.GetRun(ctx, in.WorkflowID, "")
	if errors.Is(err, store.ErrNotFound) {
		return LoadRunResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("no run %s in run history: list runs with `sluice runs`", in.WorkflowID), ErrRunNotFound, nil)
	}
	if err != nil {
		return LoadRunResult{}, err
	}
	plan, err := a.Store.PlanOf(ctx, in.WorkflowID, st.RunID)
	if err != nil {
		return LoadRunResult{}, err
	}
	return LoadRunResult{Status: *st, Plan: plan}, nil
}
