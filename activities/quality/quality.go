// Package quality runs quality_checks tasks: declarative checks on the
// environment's warehouse. Failing checks of severity error fail the task
// without retries; warnings are reported and the task succeeds.
package quality

import (
	"context"
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/activities/databricks"
	"github.com/sluicedata/sluice/internal/quality"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
	"github.com/sluicedata/sluice/internal/warehouse"
)

// Activities runs quality checks.
type Activities struct {
	Runner *task.Runner
	Pools  *warehouse.Pools
	// Databricks builds workspace clients for engine: databricks.
	Databricks *databricks.Clients
}

// ChecksInput is one attempt of a quality_checks task.
type ChecksInput struct {
	Meta   task.Meta                `json:"meta"`
	Config spec.QualityChecksConfig `json:"config"`
}

// ChecksResult is the report: every check with its status, offending count
// and a few sample rows.
type ChecksResult struct {
	Passed   int              `json:"passed"`
	Warned   int              `json:"warned"`
	Failed   int              `json:"failed"`
	Errored  int              `json:"errored"`
	Summary  string           `json:"summary"`
	Warnings []string         `json:"warnings,omitempty"`
	Checks   []quality.Result `json:"checks"`
}

// Error types.
const (
	ErrChecksFailed = "QualityCheckFailed"
	ErrUnavailable  = "WarehouseUnavailable"
)

// RunChecks runs the task's checks.
func (a *Activities) RunChecks(ctx context.Context, in ChecksInput) (ChecksResult, error) {
	return task.Run(ctx, a.Runner, in.Meta, func(ctx context.Context, at *task.Attempt) (ChecksResult, error) {
		checks, err := quality.Expand(in.Config.Checks)
		if err != nil {
			return ChecksResult{}, task.Permanent(task.ErrConfig, "%v", err)
		}
		if in.Meta.Target.Engine == spec.EngineDatabricks {
			return a.runDatabricks(ctx, at, in, checks)
		}
		if in.Meta.Target.Engine != spec.EngineLocal {
			return ChecksResult{}, task.Permanent(task.ErrConfig, "quality_checks on engine %s is not available on this worker", in.Meta.Target.Engine)
		}
		dsn, err := at.Resolve(in.Meta.Target.Warehouse)
		if err != nil {
			return ChecksResult{}, err
		}
		catalog := in.Config.Catalog
		if catalog == "" {
			catalog = in.Meta.Target.Catalog
		}
		pool, err := a.Pools.Catalog(ctx, dsn, catalog)
		if err != nil {
			return ChecksResult{}, task.Transient(ErrUnavailable, "%v", err)
		}
		report, err := quality.Run(ctx, quality.NewPostgresQuerier(pool), quality.Postgres{}, checks, quality.Options{
			SampleRows: in.Config.SampleRows,
		})
		if err != nil {
			if ctx.Err() != nil {
				return ChecksResult{}, ctx.Err()
			}
			return ChecksResult{}, task.Transient(ErrUnavailable, "running checks: %v", err)
		}
		return Evaluate(report)
	})
}

// Evaluate turns a report into the task's result: an error listing every
// failing check when any check failed or could not run.
func Evaluate(r quality.Report) (ChecksResult, error) {
	out := ChecksResult{Passed: r.Passed, Warned: r.Warned, Failed: r.Failed, Errored: r.Errored, Summary: r.Summary(), Checks: r.Results}
	var bad []string
	for _, c := range r.Results {
		line := fmt.Sprintf("%s %s", c.Status, c.Name)
		if c.Message != "" {
			line += ": " + c.Message
		}
		switch c.Status {
		case quality.StatusWarn:
			out.Warnings = append(out.Warnings, line)
		case quality.StatusFail, quality.StatusError:
			bad = append(bad, line)
		}
	}
	if len(bad) == 0 {
		return out, nil
	}
	msg := fmt.Sprintf("%d of %d checks failed: %s", len(bad), len(r.Results), bad[0])
	if len(bad) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(bad)-1)
	}
	return out, task.Permanent(ErrChecksFailed, "%s", msg).WithDetail(strings.Join(append(bad, out.Warnings...), "\n"))
}
