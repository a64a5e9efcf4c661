package warehouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	dbxtask "github.com/sluicedata/sluice/activities/databricks"
	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/task"
)

// sqlResume is what a sql attempt on Databricks heartbeats: how many of the
// task's statements finished, and the one running. An attempt of the same
// run whose statements are unchanged (Digest) skips the finished ones and
// re-attaches to the running one; a repair (another run) starts over.
type sqlResume struct {
	Run    string `json:"run"`
	Digest string `json:"digest"`
	Done   int    `json:"done"`
	// StatementID and WarehouseID are the running statement.
	StatementID string `json:"statement_id,omitempty"`
	WarehouseID string `json:"warehouse_id,omitempty"`
}

// sqlErrorTypes maps the library's kinds to the local engine's error types.
var sqlErrorTypes = map[databricks.Kind]string{
	databricks.KindTransient:     ErrUnavailable,
	databricks.KindFailed:        ErrSQL,
	databricks.KindMissingTable:  ErrSQL,
	databricks.KindMissingColumn: ErrSQL,
}

// located is one statement and where it comes from.
type located struct {
	source string
	line   int
	text   string
}

// runDatabricksSQL runs a sql task on the environment's SQL warehouse through
// the Statement Execution API: files, then statements, split into single
// statements and run one after the other with the task's (or the
// environment's) catalog and schema. There is no transaction across
// statements.
func (a *Activities) runDatabricksSQL(ctx context.Context, at *task.Attempt, in SQLInput) (SQLResult, error) {
	start := time.Now()
	m := in.Meta
	if in.Config.Transaction != nil && *in.Config.Transaction {
		return SQLResult{}, task.Permanent(task.ErrConfig,
			"task %s: transaction: true is not supported on engine databricks (the Statement Execution API runs one statement per request, with no transaction across them): remove it, or make the statements idempotent", m.Task)
	}
	stmts, err := databricksStatements(at, in)
	if err != nil {
		return SQLResult{}, err
	}
	client, err := a.Databricks.For(at, m.Target.Databricks)
	if err != nil {
		return SQLResult{}, err
	}
	catalog := firstOf(in.Config.Catalog, m.Target.Catalog)
	schema := firstOf(in.Config.Schema, m.Target.Schema)

	h := sha256.New()
	for _, s := range stmts {
		fmt.Fprintf(h, "%s\x00%s\x00", s.source, s.text)
	}
	fmt.Fprintf(h, "%s\x00%s", catalog, schema)
	digest := hex.EncodeToString(h.Sum(nil))[:16]
	var prev sqlResume
	if !at.Resume(&prev) || prev.Run != m.RunID || prev.Digest != digest || prev.Done > len(stmts) {
		prev = sqlResume{}
	}

	res := SQLResult{Catalog: catalog}
	bySource := map[string]int{}
	for i, s := range stmts {
		if _, ok := bySource[s.source]; !ok {
			bySource[s.source] = len(res.Files)
			res.Files = append(res.Files, FileResult{Source: s.source})
		}
		if i < prev.Done {
			continue // finished by an earlier attempt of this run
		}
		state := sqlResume{Run: m.RunID, Digest: digest, Done: i}
		var resume *databricks.StatementResume
		if i == prev.Done && prev.StatementID != "" {
			resume = &databricks.StatementResume{StatementID: prev.StatementID, WarehouseID: prev.WarehouseID}
		}
		where := fmt.Sprintf("%s:%d", s.source, s.line)
		at.Heartbeat(state, fmt.Sprintf("statement %d/%d (%s)", i+1, len(stmts), where))
		req := databricks.StatementRequest{Statement: s.text, Catalog: catalog, Schema: schema,
			Ref: fmt.Sprintf("task %s, %s", m.Task, where)}
		r, err := dbxtask.Attached(ctx, func(ctx context.Context, attached func() bool) (databricks.StatementResult, error) {
			return client.ExecuteStatement(ctx, req, resume, func(r databricks.StatementResume, p databricks.StatementProgress) {
				if attached() {
					st := state
					st.StatementID, st.WarehouseID = r.StatementID, r.WarehouseID
					at.Heartbeat(st, fmt.Sprintf("statement %d/%d (%s) %s %s", i+1, len(stmts), where, p.State, dbxtask.Elapsed(p.Elapsed)))
				}
			})
		})
		if err != nil {
			if dbxtask.Stopped(ctx, err) || databricks.IsPermanent(err) {
				// Cancelled or ended: a later attempt submits it again.
				at.Heartbeat(state, "")
			}
			err = dbxtask.TaskError(ctx, err, sqlErrorTypes)
			var te *task.Error
			if errors.As(err, &te) {
				te.Msg = where + ": " + te.Msg
			}
			return SQLResult{}, err
		}
		n := affectedRows(r)
		fr := &res.Files[bySource[s.source]]
		fr.Statements++
		fr.RowsAffected += n
		res.Statements++
		res.RowsAffected += n
		at.Heartbeat(sqlResume{Run: m.RunID, Digest: digest, Done: i + 1}, "")
	}
	res.DurationMS = time.Since(start).Milliseconds()
	return res, nil
}

// databricksStatements reads the task's files and statements, resolves their
// references and splits them into single statements.
func databricksStatements(at *task.Attempt, in SQLInput) ([]located, error) {
	var out []located
	add := func(source, text string) error {
		parts, err := splitSpark(text)
		if err != nil {
			return task.Permanent(ErrSQL, "%s:%v", source, err)
		}
		for _, p := range parts {
			out = append(out, located{source: source, line: p.Line, text: p.Text})
		}
		return nil
	}
	for _, f := range in.Config.Files {
		b, err := os.ReadFile(filepath.Join(in.Meta.Target.ProjectDir, f))
		if err != nil {
			return nil, task.Permanent(task.ErrConfig, "reading SQL file %s: %v", f, err)
		}
		text, err := at.Resolve(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if err := add(f, text); err != nil {
			return nil, err
		}
	}
	for i, s := range in.Config.Statements {
		text, err := at.Resolve(s)
		if err != nil {
			return nil, fmt.Errorf("statements[%d]: %w", i, err)
		}
		if err := add(fmt.Sprintf("statements[%d]", i), text); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, task.Permanent(task.ErrConfig, "task %s: the SQL holds no statement (only comments or blanks): add one", in.Meta.Task)
	}
	return out, nil
}

// affectedRows reads num_affected_rows, which Databricks returns as the
// result of INSERT, UPDATE, DELETE and MERGE; other statements count 0.
func affectedRows(r databricks.StatementResult) int64 {
	if len(r.Columns) == 0 || r.Columns[0].Name != "num_affected_rows" || len(r.Rows) != 1 || len(r.Rows[0]) == 0 || r.Rows[0][0] == nil {
		return 0
	}
	n, _ := strconv.ParseInt(*r.Rows[0][0], 10, 64)
	return n
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
