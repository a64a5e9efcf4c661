// Package warehouse runs `sql` tasks: SQL files and statements on the
// environment's warehouse (Postgres for the local engine).
package warehouse

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedata/sluice/activities/databricks"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
	"github.com/sluicedata/sluice/internal/warehouse"
)

// Activities runs SQL on warehouses.
type Activities struct {
	Runner *task.Runner
	Pools  *warehouse.Pools
	// Databricks builds workspace clients for engine: databricks.
	Databricks *databricks.Clients
}

// SQLInput is one attempt of a sql task.
type SQLInput struct {
	Meta   task.Meta      `json:"meta"`
	Config spec.SQLConfig `json:"config"`
}

// SQLResult says what ran.
type SQLResult struct {
	Statements   int          `json:"statements"`
	RowsAffected int64        `json:"rows_affected"`
	Files        []FileResult `json:"files,omitempty"`
	Catalog      string       `json:"catalog,omitempty"`
	DurationMS   int64        `json:"duration_ms"`
}

// FileResult is one file's (or inline statement's) share of the work.
type FileResult struct {
	Source       string `json:"source"`
	Statements   int    `json:"statements"`
	RowsAffected int64  `json:"rows_affected"`
}

// Error types.
const (
	ErrSQL         = "SQLError"
	ErrUnavailable = "WarehouseUnavailable"
)

// RunSQL runs a sql task's files, then its statements, in one transaction
// unless transaction: false.
func (a *Activities) RunSQL(ctx context.Context, in SQLInput) (SQLResult, error) {
	return task.Run(ctx, a.Runner, in.Meta, func(ctx context.Context, at *task.Attempt) (SQLResult, error) {
		if in.Meta.Target.Engine == spec.EngineDatabricks {
			return a.runDatabricksSQL(ctx, at, in)
		}
		if in.Meta.Target.Engine != spec.EngineLocal {
			return SQLResult{}, task.Permanent(task.ErrConfig, "sql tasks on engine %s are not supported by this worker", in.Meta.Target.Engine)
		}
		type source struct{ name, sql string }
		var sources []source
		for _, f := range in.Config.Files {
			b, err := os.ReadFile(filepath.Join(in.Meta.Target.ProjectDir, f))
			if err != nil {
				return SQLResult{}, task.Permanent(task.ErrConfig, "reading SQL file %s: %v", f, err)
			}
			text, err := at.Resolve(string(b))
			if err != nil {
				return SQLResult{}, fmt.Errorf("%s: %w", f, err)
			}
			sources = append(sources, source{f, text})
		}
		for i, s := range in.Config.Statements {
			text, err := at.Resolve(s)
			if err != nil {
				return SQLResult{}, fmt.Errorf("statements[%d]: %w", i, err)
			}
			sources = append(sources, source{fmt.Sprintf("statements[%d]", i), text})
		}
		dsn, err := at.Resolve(in.Meta.Target.Warehouse)
		if err != nil {
			return SQLResult{}, err
		}
		catalog := in.Config.Catalog
		if catalog == "" {
			catalog = in.Meta.Target.Catalog
		}
		pool, err := a.Pools.Catalog(ctx, dsn, catalog)
		if err != nil {
			return SQLResult{}, classify(err, "", "")
		}
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return SQLResult{}, classify(err, "", "")
		}
		defer conn.Release()

		start := time.Now()
		res := SQLResult{Catalog: catalog}
		tx := in.Config.Transaction == nil || *in.Config.Transaction
		pg := conn.Conn().PgConn()
		exec := func(sql string) ([]*pgconn.Result, error) { return pg.Exec(ctx, sql).ReadAll() }
		if tx {
			if _, err := exec("BEGIN"); err != nil {
				return SQLResult{}, classify(err, "", "")
			}
			defer func() {
				if pg.TxStatus() != 'I' {
					_, _ = pg.Exec(context.WithoutCancel(ctx), "ROLLBACK").ReadAll()
				}
			}()
		}
		if in.Config.Schema != "" {
			set := "SET search_path TO " + pgx.Identifier{in.Config.Schema}.Sanitize() + ", public"
			if tx {
				set = "SET LOCAL search_path TO " + pgx.Identifier{in.Config.Schema}.Sanitize() + ", public"
			}
			if _, err := exec(set); err != nil {
				return SQLResult{}, classify(err, "", "")
			}
		}
		for _, s := range sources {
			at.Progress("running %s", s.name)
			results, err := exec(s.sql)
			if err != nil {
				return SQLResult{}, classify(err, s.name, s.sql)
			}
			fr := FileResult{Source: s.name, Statements: len(results)}
			for _, r := range results {
				fr.RowsAffected += r.CommandTag.RowsAffected()
			}
			res.Files = append(res.Files, fr)
			res.Statements += fr.Statements
			res.RowsAffected += fr.RowsAffected
		}
		if tx {
			if _, err := exec("COMMIT"); err != nil {
				return SQLResult{}, classify(err, "", "")
			}
		}
		res.DurationMS = time.Since(start).Milliseconds()
		return res, nil
	})
}

// classify turns a Postgres error into a task error naming the source and
// line of the failing statement.
func classify(err error, source, sql string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pgErr *pgconn.PgError
	if warehouse.IsUnavailable(err) {
		e := task.Transient(ErrUnavailable, "warehouse unavailable: %v", err).WithCause(err)
		if errors.As(err, &pgErr) {
			e = e.WithDetail(strings.TrimSpace(pgErr.Detail + "\n" + pgErr.Hint))
		}
		return e
	}
	if errors.As(err, &pgErr) {
		where := source
		if pgErr.Position > 0 && sql != "" {
			line := 1 + strings.Count(sql[:min(int(pgErr.Position)-1, len(sql))], "\n")
			where = fmt.Sprintf("%s:%d", source, line)
		}
		msg := pgErr.Message
		if where != "" {
			msg = where + ": " + msg
		}
		e := task.Permanent(ErrSQL, "%s (SQLSTATE %s)", msg, pgErr.Code)
		var detail []string
		for _, d := range []string{pgErr.Detail, pgErr.Hint, pgErr.Where} {
			if d != "" {
				detail = append(detail, d)
			}
		}
		return e.WithDetail(strings.Join(detail, "\n")).WithCause(err)
	}
	return task.Transient(ErrUnavailable, "%v", err).WithCause(err)
}
