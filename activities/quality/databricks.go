package quality

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync/atomic"

	dbxtask "github.com/sluicedata/sluice/activities/databricks"
	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/quality"
	"github.com/sluicedata/sluice/internal/task"
)

// runDatabricks runs the checks on the environment's SQL warehouse through
// the Statement Execution API, with the same check definitions as the local
// engine and Databricks SQL quoting.
func (a *Activities) runDatabricks(ctx context.Context, at *task.Attempt, in ChecksInput, checks []quality.Check) (ChecksResult, error) {
	m := in.Meta
	client, err := a.Databricks.For(at, m.Target.Databricks)
	if err != nil {
		return ChecksResult{}, err
	}
	catalog := in.Config.Catalog
	if catalog == "" {
		catalog = m.Target.Catalog
	}
	q := &databricksQuerier{
		q: client.Querier(databricks.StatementRequest{Catalog: catalog, Schema: m.Target.Schema,
			Ref: fmt.Sprintf("task %s with.checks", m.Task)}),
		progress: func(n int64) { at.Progress("query %d (%d checks)", n, len(checks)) },
	}
	report, err := quality.Run(ctx, q, quality.Databricks{}, checks, quality.Options{SampleRows: in.Config.SampleRows})
	if err != nil {
		if ctx.Err() != nil {
			return ChecksResult{}, ctx.Err()
		}
		return ChecksResult{}, dbxtask.TaskError(ctx, err, map[databricks.Kind]string{databricks.KindTransient: ErrUnavailable})
	}
	return Evaluate(report)
}

// databricksQuerier adapts the library's Querier to quality.Querier: a
// statement the warehouse ran and rejected becomes a *quality.QueryError, so
// its check reports ERROR naming the missing table or column; failures to
// reach the warehouse stay errors that stop the run.
type databricksQuerier struct {
	q        *databricks.Querier
	n        atomic.Int64
	progress func(int64)
}

// Names in Databricks messages: "The table or view `olist`.`silver`.`orders`
// cannot be found", "with name `custmer_id` cannot be resolved",
// "The schema `silverr` cannot be found".
var (
	missingTableRe  = regexp.MustCompile("(?:table or view|schema|catalog) ((?:`(?:[^`]|``)*`\\.?)+) cannot be found")
	missingColumnRe = regexp.MustCompile("with name ((?:`(?:[^`]|``)*`\\.?)+) cannot be resolved")
)

func (d *databricksQuerier) Query(ctx context.Context, sql string) (quality.Rows, error) {
	d.progress(d.n.Add(1))
	cols, rows, err := d.q.Query(ctx, sql)
	if err == nil {
		return quality.Rows{Columns: cols, Values: rows}, nil
	}
	var e *databricks.Error
	if !errors.As(err, &e) {
		return quality.Rows{}, err
	}
	qe := &quality.QueryError{Code: e.Code, Message: e.Message, Err: err}
	switch e.Kind {
	case databricks.KindMissingTable:
		qe.Kind = quality.MissingTable
		if m := missingTableRe.FindStringSubmatch(e.Message); m != nil {
			qe.Name = m[1]
		}
	case databricks.KindMissingColumn:
		qe.Kind = quality.MissingColumn
		if m := missingColumnRe.FindStringSubmatch(e.Message); m != nil {
			qe.Name = m[1]
		}
	case databricks.KindFailed:
		qe.Kind = quality.OtherError
	default:
		return quality.Rows{}, err
	}
	return quality.Rows{}, qe
}
