package databricks

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go/service/sql"
)

// StatementRequest is one SQL statement to run on a warehouse.
type StatementRequest struct {
	Statement string
	// WarehouseID, Catalog and Schema default to the Client's Config.
	WarehouseID string
	Catalog     string
	Schema      string
	// Parameters are named parameter markers (:name) and their values.
	Parameters []sql.StatementParameterListItem
	// Ref says where the statement comes from in the user's spec, for errors.
	Ref string
}

// StatementResume is what ExecuteStatement heartbeats: enough to re-attach.
type StatementResume struct {
	StatementID string
	WarehouseID string
}

// StatementProgress is the latest poll of a statement.
type StatementProgress struct {
	StatementID string
	State       string
	Changed     bool
	Elapsed     time.Duration
}

// Column is one result column.
type Column struct {
	Name string
	// Type is the column's type_name (STRING, LONG, DECIMAL, ...).
	Type string
}

// StatementResult is a finished statement's result.
type StatementResult struct {
	StatementID string
	Columns     []Column
	// Rows holds every chunk's rows in order; a nil cell is SQL NULL.
	Rows          [][]*string
	TotalRowCount int64
	// Truncated is true when the warehouse cut the result at its size limit.
	Truncated  bool
	Reattached bool
}

// ColumnNames returns the result's column names in order.
func (r StatementResult) ColumnNames() []string {
	names := make([]string, len(r.Columns))
	for i, c := range r.Columns {
		names[i] = c.Name
	}
	return names
}

func (r StatementRequest) hint() string {
	if r.Ref != "" {
		return r.Ref
	}
	return "the statement and the environment's warehouse_id, catalog and schema"
}

// ExecuteStatement runs a statement on a SQL warehouse (or re-attaches to the
// statement in resume) and returns its whole INLINE JSON_ARRAY result. hb is
// called with the statement id right after the submit returns and then on
// every poll. A FAILED statement returns KindMissingTable, KindMissingColumn
// or KindFailed with the warehouse's error; when ctx is cancelled the
// statement is cancelled and ctx.Err() returned.
//
// Submitting is not idempotent in the API: if a submit's answer is lost the
// retry may run the statement twice. Use it for queries and idempotent DDL.
func (c *Client) ExecuteStatement(ctx context.Context, req StatementRequest, resume *StatementResume, hb func(StatementResume, StatementProgress)) (StatementResult, error) {
	if hb == nil {
		hb = func(StatementResume, StatementProgress) {}
	}
	var st StatementResume
	var resp *StatementResponse
	res := StatementResult{}
	if resume != nil && resume.StatementID != "" {
		st, res.Reattached = *resume, true
	} else {
		st.WarehouseID = orDefault(req.WarehouseID, c.cfg.WarehouseID)
		if st.WarehouseID == "" {
			return res, &Error{Kind: KindInvalid, Message: fmt.Sprintf(
				"running a statement: no SQL warehouse: set warehouse_id in the environment's databricks settings (or DATABRICKS_WAREHOUSE_ID), or in %s", req.hint())}
		}
		body := sql.ExecuteStatementRequest{
			Statement:     req.Statement,
			WarehouseId:   st.WarehouseID,
			Catalog:       orDefault(req.Catalog, c.cfg.Catalog),
			Schema:        orDefault(req.Schema, c.cfg.Schema),
			Parameters:    req.Parameters,
			WaitTimeout:   fmt.Sprintf("%ds", int(c.cfg.StatementWaitTimeout/time.Second)),
			OnWaitTimeout: sql.ExecuteStatementRequestOnWaitTimeoutContinue,
			Disposition:   sql.DispositionInline,
			Format:        sql.FormatJsonArray,
		}
		// The server may hold the request for wait_timeout before answering.
		timeout := c.cfg.HTTPTimeout + c.cfg.StatementWaitTimeout
		err := c.retryWithTimeout(ctx, timeout, func(ctx context.Context) error {
			r, err := c.svc.Statements.ExecuteStatement(ctx, body)
			resp = r
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			return res, c.describe(err, fmt.Sprintf("submitting a statement to warehouse %s", st.WarehouseID), req.hint())
		}
		st.StatementID = resp.StatementID
	}
	res.StatementID = st.StatementID
	op := fmt.Sprintf("polling statement %s on warehouse %s", st.StatementID, st.WarehouseID)
	began := c.now()
	p := c.newPoller()
	last := ""
	for {
		if resp == nil {
			err := c.retry(ctx, func(ctx context.Context) error {
				r, err := c.svc.Statements.GetStatement(ctx, st.StatementID)
				resp = r
				return err
			})
			if err != nil {
				if ctx.Err() != nil {
					return res, c.cancelStatement(ctx, st.StatementID)
				}
				return res, c.describe(err, op, req.hint())
			}
		}
		state := ""
		if resp.Status != nil {
			state = string(resp.Status.State)
		}
		changed := state != last
		last = state
		hb(st, StatementProgress{StatementID: st.StatementID, State: state, Changed: changed, Elapsed: c.now().Sub(began)})
		switch sql.StatementState(state) {
		case sql.StatementStateSucceeded:
			return c.readResult(ctx, req, res, resp)
		case sql.StatementStateFailed:
			return res, c.statementFailed(req, st, resp.Status)
		case sql.StatementStateCanceled:
			return res, &Error{Kind: KindCanceled, Code: state, Message: fmt.Sprintf(
				"statement %s on warehouse %s was canceled in workspace %s: run the task again", st.StatementID, st.WarehouseID, c.host)}
		case sql.StatementStateClosed:
			return res, &Error{Kind: KindFailed, Code: state, Message: fmt.Sprintf(
				"statement %s on warehouse %s is CLOSED: its result is no longer available in workspace %s: run the task again",
				st.StatementID, st.WarehouseID, c.host)}
		}
		resp = nil
		if err := p.wait(ctx, changed); err != nil {
			return res, c.cancelStatement(ctx, st.StatementID)
		}
	}
}

func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// readResult collects the columns and every chunk's rows, in chunk order.
func (c *Client) readResult(ctx context.Context, req StatementRequest, res StatementResult, resp *StatementResponse) (StatementResult, error) {
	id := res.StatementID
	if m := resp.Manifest; m != nil {
		res.TotalRowCount, res.Truncated = m.TotalRowCount, m.Truncated
		if m.Schema != nil {
			cols := slices.Clone(m.Schema.Columns)
			slices.SortStableFunc(cols, func(a, b sql.ColumnInfo) int { return a.Position - b.Position })
			for _, col := range cols {
				res.Columns = append(res.Columns, Column{Name: col.Name, Type: string(col.TypeName)})
			}
		}
	}
	totalChunks := 0
	if resp.Manifest != nil {
		totalChunks = resp.Manifest.TotalChunkCount
	}
	chunk := resp.Result
	if chunk == nil && totalChunks > 0 {
		// No inline first chunk: start from an empty one that links to it.
		chunk = &ResultChunk{NextChunkInternalLink: chunkLink(id, 0)}
	}
	for fetched := 0; chunk != nil; fetched++ {
		res.Rows = append(res.Rows, chunk.DataArray...)
		link := chunk.NextChunkInternalLink
		if link == "" && chunk.NextChunkIndex != nil {
			link = chunkLink(id, *chunk.NextChunkIndex)
		}
		if link == "" {
			break
		}
		if fetched > totalChunks {
			return res, &Error{Kind: KindFailed, Message: fmt.Sprintf(
				"reading the result of statement %s in workspace %s: more chunks than the manifest's %d", id, c.host, totalChunks)}
		}
		var next *ResultChunk
		err := c.retry(ctx, func(ctx context.Context) error {
			r, err := c.svc.Statements.GetResultChunk(ctx, link)
			next = r
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			return res, c.describe(err, fmt.Sprintf("reading result chunk %s of statement %s", link, id), req.hint())
		}
		chunk = next
	}
	return res, nil
}

func chunkLink(statementID string, n int) string {
	return fmt.Sprintf("/api/2.0/sql/statements/%s/result/chunks/%d", url.PathEscape(statementID), n)
}

var errorClassRe = regexp.MustCompile(`^\s*\[([A-Z0-9_.]+)\]`)

// statementFailed maps a FAILED statement's error to a Kind: missing tables
// and columns are recognised by the Spark error class in the message
// ("[TABLE_OR_VIEW_NOT_FOUND] ...") or by the SQLSTATE.
func (c *Client) statementFailed(req StatementRequest, st StatementResume, status *sql.StatementStatus) error {
	code, msg := "", "no error message"
	if status.Error != nil {
		code, msg = string(status.Error.ErrorCode), status.Error.Message
	}
	class := ""
	if m := errorClassRe.FindStringSubmatch(msg); m != nil {
		class = m[1]
	}
	main, _, _ := strings.Cut(class, ".")
	kind, fix := KindFailed, "fix the statement in "+req.hint()
	switch {
	case main == "TABLE_OR_VIEW_NOT_FOUND" || main == "SCHEMA_NOT_FOUND" || main == "CATALOG_NOT_FOUND" ||
		class == "" && status.SqlState == "42P01":
		kind, fix = KindMissingTable, "check that the table exists (did its pipeline run?) and the catalog/schema in "+req.hint()
	case main == "UNRESOLVED_COLUMN" || main == "FIELD_NOT_FOUND" || class == "" && status.SqlState == "42703":
		kind, fix = KindMissingColumn, "check the column names against the table in "+req.hint()
	}
	if class != "" {
		code = class
	}
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(
		"statement %s FAILED on warehouse %s in workspace %s: %s: %s", st.StatementID, st.WarehouseID, c.host, firstLine(msg), fix)}
}

// cancelStatement cancels the statement after ctx was cancelled and returns
// ctx's error (joined with the cancel's failure, if any).
func (c *Client) cancelStatement(ctx context.Context, id string) error {
	cctx, cancel := c.cleanupContext(ctx)
	defer cancel()
	err := c.retry(cctx, func(ctx context.Context) error {
		return c.svc.Statements.CancelExecution(ctx, id)
	})
	if err != nil {
		return joinCtx(ctx, c.describe(err, fmt.Sprintf("cancelling statement %s after cancellation", id), ""))
	}
	return ctx.Err()
}

// Querier runs queries for code that only needs rows, such as the quality
// check engine. Errors are *Error; KindMissingTable and KindMissingColumn
// mean the checked table or column does not exist.
type Querier struct {
	c    *Client
	base StatementRequest
}

// Querier returns a Querier whose statements use base's warehouse, catalog,
// schema and Ref (base.Statement is ignored).
func (c *Client) Querier(base StatementRequest) *Querier {
	return &Querier{c: c, base: base}
}

// Query runs one statement and returns its column names and rows (nil = NULL).
func (q *Querier) Query(ctx context.Context, sqlText string) ([]string, [][]*string, error) {
	req := q.base
	req.Statement = sqlText
	res, err := q.c.ExecuteStatement(ctx, req, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	return res.ColumnNames(), res.Rows, nil
}
