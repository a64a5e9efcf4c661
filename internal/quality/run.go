package quality

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// Querier runs one SQL query on the warehouse and returns all of its rows
// (the checks' queries return one row, or at most Options.SampleRows).
//
// A warehouse that answered and rejected the query (unknown table or
// column, bad SQL, type error) must be reported as a *QueryError: Run turns it
// into a check with status ERROR. Any other error (unreachable warehouse,
// timeout, cancellation) aborts Run, which returns it so the caller can retry.
type Querier interface {
	Query(ctx context.Context, sql string) (Rows, error)
}

// Rows is a query result, kept free of any driver's types: column names,
// then each row's values as text, nil for NULL.
type Rows struct {
	Columns []string
	Values  [][]*string
}

// ErrorKind classifies a QueryError.
type ErrorKind string

const (
	// MissingTable: the table, its schema or its catalog does not exist.
	MissingTable ErrorKind = "missing_table"
	// MissingColumn: a column does not exist.
	MissingColumn ErrorKind = "missing_column"
	// OtherError: any other rejection (syntax, types, permissions, ...).
	OtherError ErrorKind = "other"
)

// QueryError is a query the warehouse rejected. Each Querier adapter maps
// its engine's error codes onto Kind: for Postgres SQLSTATE 42P01 and 3F000
// are MissingTable and 42703 is MissingColumn; for Databricks the error
// classes TABLE_OR_VIEW_NOT_FOUND, SCHEMA_NOT_FOUND and CATALOG_NOT_FOUND
// would be MissingTable and UNRESOLVED_COLUMN MissingColumn.
type QueryError struct {
	Kind ErrorKind
	// Name is the missing object as the warehouse wrote it, when it says:
	// a table as a dotted name (silver.orderz), a column possibly qualified
	// and quoted (child.order_idd, "a;b"). Empty when unknown.
	Name string
	// Code is the engine's error code, e.g. "42P01" or "TABLE_OR_VIEW_NOT_FOUND".
	Code string
	// Message is the engine's message, without the code.
	Message string
	// Err is the driver's error.
	Err error
}

// Error reads like the engine's message, with its code.
func (e *QueryError) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return e.Message + " (" + e.Code + ")"
}

// Unwrap returns the driver's error.
func (e *QueryError) Unwrap() error { return e.Err }

// Status is the outcome of one check.
type Status string

const (
	// StatusPass: no offending rows, or the bound held.
	StatusPass Status = "PASS"
	// StatusWarn: the check failed and its severity is warn.
	StatusWarn Status = "WARN"
	// StatusFail: the check failed and its severity is error.
	StatusFail Status = "FAIL"
	// StatusError: the check could not run (missing table or column, bad
	// SQL). Its severity does not matter: it is a configuration problem.
	StatusError Status = "ERROR"
)

// Options tune Run. The zero value is ready to use.
type Options struct {
	// SampleRows is how many offending rows a failed check fetches as
	// examples. Default 5; negative fetches none; at most 100.
	SampleRows int
	// Now is the time freshness is measured against. Default: time.Now()
	// when Run starts.
	Now time.Time
	// Parallelism is how many checks run at once. Default 1: one after the
	// other.
	Parallelism int
	// MaxValueLen cuts sample values longer than this many characters
	// (adding "..."), keeping reports small. Default 200.
	MaxValueLen int
}

const (
	defaultSampleRows  = 5
	maxSampleRows      = 100
	defaultMaxValueLen = 200
)

func (o Options) withDefaults() Options {
	switch {
	case o.SampleRows == 0:
		o.SampleRows = defaultSampleRows
	case o.SampleRows < 0:
		o.SampleRows = 0
	case o.SampleRows > maxSampleRows:
		o.SampleRows = maxSampleRows
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Parallelism < 1 {
		o.Parallelism = 1
	}
	if o.MaxValueLen <= 0 {
		o.MaxValueLen = defaultMaxValueLen
	}
	return o
}

// Result is the outcome of one check.
type Result struct {
	Name     string   `json:"name"`
	Table    string   `json:"table,omitempty"`
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	Status   Status   `json:"status"`
	// Offending is the number of rows that fail the check (for unique:
	// every row whose key is duplicated). 0 for row_count and freshness,
	// whose measurement is in Message.
	Offending int64 `json:"offending"`
	// Sample holds up to Options.SampleRows examples, column -> value (nil
	// for NULL): whole rows for not_null, expression and sql; for unique,
	// accepted_values and relationships the offending values with their
	// row count in "n_rows", most frequent first.
	Sample []map[string]*string `json:"sample,omitempty"`
	// Message says what was found, or why the check could not run.
	Message string `json:"message"`
	// Query is the SQL that measured the check, to paste into a SQL editor.
	Query    string        `json:"query,omitempty"`
	Duration time.Duration `json:"duration"`
}

// Report is the outcome of a list of checks.
type Report struct {
	Results []Result `json:"results"` // in the order of the checks given to Run
	Passed  int      `json:"passed"`
	Warned  int      `json:"warned"`
	Failed  int      `json:"failed"`
	Errored int      `json:"errored"`
}

// OK reports whether nothing failed or errored (warnings are fine).
func (r Report) OK() bool { return r.Failed == 0 && r.Errored == 0 }

// Summary is one line of counts, e.g. "4 checks: 2 passed, 1 warned, 1 failed, 0 errored".
func (r Report) Summary() string {
	return fmt.Sprintf("%d checks: %d passed, %d warned, %d failed, %d errored",
		len(r.Results), r.Passed, r.Warned, r.Failed, r.Errored)
}

// Run runs the checks on the warehouse behind q, whose SQL dialect is d.
// Each check costs one query, plus one for samples when it finds offenders.
// A check the warehouse rejects gets status ERROR and Run goes on. Run
// returns an error only when it could not finish: the context ended or q
// failed with something other than a *QueryError; the Report then holds the
// results finished so far.
func Run(ctx context.Context, q Querier, d Dialect, checks []Check, opts Options) (Report, error) {
	opts = opts.withDefaults()
	results := make([]Result, len(checks))
	done := make([]bool, len(checks))

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Parallelism)
	for i, c := range checks {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if gctx.Err() != nil {
				return nil // an earlier check stopped the run while this one waited
			}
			r, err := runCheck(gctx, q, d, c, opts)
			if err != nil {
				return fmt.Errorf("running check %q: %w", c.Name, err)
			}
			results[i], done[i] = r, true
			return nil
		})
	}
	err := g.Wait()
	if err == nil {
		err = ctx.Err()
	}

	var rep Report
	for i, r := range results {
		if !done[i] {
			continue
		}
		rep.Results = append(rep.Results, r)
		switch r.Status {
		case StatusPass:
			rep.Passed++
		case StatusWarn:
			rep.Warned++
		case StatusFail:
			rep.Failed++
		case StatusError:
			rep.Errored++
		}
	}
	return rep, err
}

// runCheck runs one check and times it. Its error means the run must stop
// (see Querier).
func runCheck(ctx context.Context, q Querier, d Dialect, c Check, opts Options) (Result, error) {
	start := time.Now()
	r, err := measure(ctx, q, d, c, opts)
	r.Duration = time.Since(start)
	return r, err
}

func measure(ctx context.Context, q Querier, d Dialect, c Check, opts Options) (Result, error) {
	r := Result{Name: c.Name, Table: c.Table, Kind: c.Kind, Severity: c.Severity}
	if r.Severity == "" {
		r.Severity = SeverityError
	}

	p, err := buildPlan(d, c, opts.SampleRows)
	if err != nil {
		r.Status, r.Message = StatusError, "invalid check: "+err.Error()
		return r, nil
	}
	r.Query = p.measure

	rows, err := q.Query(ctx, p.measure)
	if err != nil {
		var qe *QueryError
		if !errors.As(err, &qe) {
			return r, err
		}
		r.Status, r.Message = StatusError, describe(c, qe)
		return r, nil
	}

	failed, err := evaluate(&r, c, rows, opts.Now)
	if err != nil {
		r.Status, r.Message = StatusError, err.Error()
		return r, nil
	}
	if !failed {
		r.Status = StatusPass
		return r, nil
	}
	r.Status = StatusFail
	if r.Severity == SeverityWarn {
		r.Status = StatusWarn
	}

	if p.sample != "" && opts.SampleRows > 0 && r.Offending > 0 {
		rows, err := q.Query(ctx, p.sample)
		if err != nil {
			var qe *QueryError
			if !errors.As(err, &qe) {
				return r, err
			}
			// The check itself ran; only the examples are missing.
			r.Message += " (could not fetch sample rows: " + qe.Error() + ")"
			return r, nil
		}
		r.Sample = samples(rows, opts.MaxValueLen)
	}
	return r, nil
}

// evaluate reads the measure query's row into r and reports whether the
// check failed. Its errors are messages for the user.
func evaluate(r *Result, c Check, rows Rows, now time.Time) (bool, error) {
	if len(rows.Values) != 1 || len(rows.Values[0]) == 0 {
		return false, fmt.Errorf("unexpected result from the warehouse: expected one row, got %d", len(rows.Values))
	}
	row := rows.Values[0]
	switch c.Kind {
	case KindRowCount:
		n, err := intAt(row, 0)
		if err != nil {
			return false, err
		}
		var bounds []string
		if c.Min != nil {
			bounds = append(bounds, fmt.Sprintf("min %d", *c.Min))
		}
		if c.Max != nil {
			bounds = append(bounds, fmt.Sprintf("max %d", *c.Max))
		}
		switch {
		case c.Min != nil && n < *c.Min:
			r.Message = fmt.Sprintf("row count %d is below the minimum %d", n, *c.Min)
			return true, nil
		case c.Max != nil && n > *c.Max:
			r.Message = fmt.Sprintf("row count %d is above the maximum %d", n, *c.Max)
			return true, nil
		}
		r.Message = fmt.Sprintf("row count %d is within bounds (%s)", n, strings.Join(bounds, ", "))
		return false, nil

	case KindFreshness:
		col := c.Columns[0]
		if row[0] == nil {
			r.Message = fmt.Sprintf("no row has a %s (the table is empty, or the where filter matches no rows)", col)
			return true, nil
		}
		newest, err := parseTime(*row[0])
		if err != nil {
			return false, fmt.Errorf("cannot read max(%s) = %q as a time: freshness needs a timestamp or date column", col, *row[0])
		}
		age := now.Sub(newest)
		stamp := newest.UTC().Format(time.RFC3339Nano)
		if age < 0 {
			r.Message = fmt.Sprintf("newest %s is %s, in the future (max_age %s)", col, stamp, c.MaxAge)
			return false, nil
		}
		if age > c.MaxAge {
			r.Message = fmt.Sprintf("newest %s is %s, %s old: older than max_age %s", col, stamp, age.Round(time.Second), c.MaxAge)
			return true, nil
		}
		r.Message = fmt.Sprintf("newest %s is %s, %s old (max_age %s)", col, stamp, age.Round(time.Second), c.MaxAge)
		return false, nil

	case KindUnique:
		if len(row) < 2 {
			return false, fmt.Errorf("unexpected result from the warehouse: expected two columns, got %d", len(row))
		}
		keys, err := intAt(row, 0)
		if err != nil {
			return false, err
		}
		n, err := intAt(row, 1)
		if err != nil {
			return false, err
		}
		r.Offending = n
		key := "(" + strings.Join(c.Columns, ", ") + ")"
		if keys == 0 {
			r.Message = "no duplicated values of " + key
			return false, nil
		}
		r.Message = fmt.Sprintf("%s %s %d duplicated %s of %s", plural(n, "row", "rows"), pick(n, "has", "share"), keys, pick(keys, "value", "values"), key)
		return true, nil
	}

	n, err := intAt(row, 0)
	if err != nil {
		return false, err
	}
	r.Offending = n
	var pass, fail string
	switch c.Kind {
	case KindNotNull:
		pass = "no rows have NULL in " + c.Columns[0]
		fail = fmt.Sprintf("%s %s NULL in %s", plural(n, "row", "rows"), pick(n, "has", "have"), c.Columns[0])
	case KindAcceptedValues:
		list := listValues(c.Values)
		pass = fmt.Sprintf("every non-NULL %s is in %s", c.Columns[0], list)
		fail = fmt.Sprintf("%s %s %s not in %s", plural(n, "row", "rows"), pick(n, "has", "have"), c.Columns[0], list)
	case KindRelationships:
		target := c.To + "." + c.Field
		pass = fmt.Sprintf("every non-NULL %s is found in %s", c.Columns[0], target)
		fail = fmt.Sprintf("%s %s %s not found in %s", plural(n, "row", "rows"), pick(n, "has", "have"), c.Columns[0], target)
	case KindExpression:
		expr := strings.Join(strings.Fields(c.Expression), " ")
		pass = "no rows violate " + expr
		fail = fmt.Sprintf("%s %s %s", plural(n, "row", "rows"), pick(n, "violates", "violate"), expr)
	case KindSQL:
		pass = "the query returned no rows"
		fail = "the query returned " + plural(n, "row", "rows")
	case KindSCD2OpenRow:
		key := "(" + strings.Join(c.Columns, ", ") + ")"
		pass = fmt.Sprintf("every key %s has at most one open version (%s IS NULL)", key, c.End)
		fail = fmt.Sprintf("%s %s more than one open version (%s IS NULL)", plural(n, "key", "keys"), pick(n, "has", "have"), c.End)
	case KindSCD2NoOverlap:
		pass = fmt.Sprintf("no versions of a key overlap in [%s, %s)", c.Start, c.End)
		fail = fmt.Sprintf("%s of versions of a key overlap in [%s, %s)", plural(n, "pair", "pairs"), c.Start, c.End)
	}
	if n == 0 {
		r.Message = pass
		return false, nil
	}
	r.Message = fail
	return true, nil
}

func intAt(row []*string, i int) (int64, error) {
	if i >= len(row) || row[i] == nil {
		return 0, fmt.Errorf("unexpected result from the warehouse: expected a number in column %d, got NULL", i+1)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(*row[i]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("unexpected result from the warehouse: expected a whole number in column %d, got %q", i+1, *row[i])
	}
	return n, nil
}

// plural writes "1 row" or "3 rows".
func plural(n int64, one, many string) string {
	return strconv.FormatInt(n, 10) + " " + pick(n, one, many)
}

func pick(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// listValues writes accepted values for a message, cut after ten.
func listValues(vs []string) string {
	const shown = 10
	if len(vs) <= shown {
		return "[" + strings.Join(vs, ", ") + "]"
	}
	return fmt.Sprintf("[%s, ... (%d more)]", strings.Join(vs[:shown], ", "), len(vs)-shown)
}

// samples turns rows into column -> value maps. Duplicate column names (a
// custom query may return two "id" columns) get a numeric suffix.
func samples(rows Rows, maxLen int) []map[string]*string {
	names := make([]string, len(rows.Columns))
	seen := map[string]int{}
	for i, c := range rows.Columns {
		seen[c]++
		names[i] = c
		if seen[c] > 1 {
			names[i] = fmt.Sprintf("%s_%d", c, seen[c])
		}
	}
	out := make([]map[string]*string, 0, len(rows.Values))
	for _, row := range rows.Values {
		m := make(map[string]*string, len(names))
		for i, name := range names {
			if i >= len(row) || row[i] == nil {
				m[name] = nil
				continue
			}
			v := *row[i]
			if r := []rune(v); len(r) > maxLen {
				v = string(r[:maxLen]) + "..."
			}
			m[name] = &v
		}
		out = append(out, m)
	}
	return out
}

// parseTime reads a timestamp or date as the warehouses write them as text:
// Databricks (RFC 3339) and Postgres (ISO, with a short offset such as +00
// or +05:30). Fractional seconds are accepted by every layout. Values without
// a time zone are read as UTC.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	zoned := []string{
		time.RFC3339,
		"2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05Z07",
		"2006-01-02 15:04:05Z07:00:00",
		"2006-01-02T15:04:05Z07",
	}
	for _, l := range zoned {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	for _, l := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp or date", s)
}
