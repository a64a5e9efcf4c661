package quality

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
)

// Spec is one entry of a quality_checks task's `with.checks` list. One entry
// names a table and any number of checks on it, or holds one custom `sql`
// query. It is decoded with encoding/json from the JSON-shaped value the YAML
// parser produced; Expand turns a list of entries into executable Checks.
type Spec struct {
	Name           string           `json:"name,omitempty" jsonschema:"description=Name shown in reports. Default: derived from the table and check\\, e.g. 'silver.orders: not_null(order_id)'. When the entry holds several checks it prefixes each of their names."`
	Table          string           `json:"table,omitempty" jsonschema:"description=Table to check: table\\, schema.table or catalog.schema.table. Quote a part that contains a dot: silver.\"my.table\". Names are used exactly as written (case-sensitive on Postgres). Required unless sql is set."`
	Severity       Severity         `json:"severity,omitempty" jsonschema:"enum=error,enum=warn,description=error (default): a failing check fails the task. warn: it is reported and the task succeeds."`
	Where          string           `json:"where,omitempty" jsonschema:"description=SQL condition: only rows matching it are checked\\, e.g. order_status <> 'canceled'."`
	NotNull        []string         `json:"not_null,omitempty" jsonschema:"description=Columns that must never be NULL. One check per column."`
	Unique         []ColumnSet      `json:"unique,omitempty" jsonschema:"description=Keys that must be unique: a column name\\, or a list of columns for a composite key. Rows where a key column is NULL are not compared (as a SQL UNIQUE constraint)."`
	AcceptedValues []AcceptedValues `json:"accepted_values,omitempty" jsonschema:"description=Columns whose non-NULL values must be in a list."`
	RowCount       *RowCount        `json:"row_count,omitempty" jsonschema:"description=Bounds on the number of rows."`
	Freshness      *Freshness       `json:"freshness,omitempty" jsonschema:"description=How old the newest row may be."`
	Relationships  []Relationship   `json:"relationships,omitempty" jsonschema:"description=Foreign keys: every non-NULL value of column must exist in to.field."`
	SCD2           *SCD2            `json:"scd2,omitempty" jsonschema:"description=SCD type 2 invariants of a history table: at most one open version per key\\, and no overlapping versions."`
	Expression     string           `json:"expression,omitempty" jsonschema:"description=SQL condition every row must satisfy\\, e.g. price >= 0. Rows where it is NULL are not offenders."`
	SQL            string           `json:"sql,omitempty" jsonschema:"description=Custom query: every row it returns is an offending row. Stands alone in its entry."`
}

// Severity says what a failing check does to the task.
type Severity string

const (
	// SeverityError (the default) makes a failing check fail the task.
	SeverityError Severity = "error"
	// SeverityWarn reports a failing check as a warning; the task succeeds.
	SeverityWarn Severity = "warn"
)

// ColumnSet is one entry of `unique`: a single column written as a string, or
// a composite key written as a list of columns.
type ColumnSet []string

// UnmarshalJSON accepts "col" or ["col1", "col2"].
func (c *ColumnSet) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*c = nil
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*c = ColumnSet{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("unique: each entry is a column name or a list of column names, not %s", b)
	}
	*c = many
	return nil
}

// MarshalJSON writes a single column as a string, as users write it.
func (c ColumnSet) MarshalJSON() ([]byte, error) {
	if len(c) == 1 {
		return json.Marshal(c[0])
	}
	return json.Marshal([]string(c))
}

// JSONSchema describes the two accepted forms for editors.
func (ColumnSet) JSONSchema() *jsonschema.Schema {
	one := uint64(1)
	return &jsonschema.Schema{OneOf: []*jsonschema.Schema{
		{Type: "string", Description: "a column"},
		{Type: "array", Items: &jsonschema.Schema{Type: "string"}, MinItems: &one, Description: "a composite key"},
	}}
}

// AcceptedValues lists the values a column may hold.
type AcceptedValues struct {
	Column string `json:"column" jsonschema:"description=Column to check."`
	// Values are strings, numbers or booleans as decoded from JSON; they are
	// compared as SQL string literals, which both engines cast to the
	// column's type.
	Values []any `json:"values" jsonschema:"description=Accepted values. NULL is never an offender: add not_null to forbid it."`
}

// JSONSchemaExtend says what the items of values may be.
func (AcceptedValues) JSONSchemaExtend(s *jsonschema.Schema) {
	if s.Properties == nil {
		return
	}
	if v, ok := s.Properties.Get("values"); ok {
		v.Items = &jsonschema.Schema{OneOf: []*jsonschema.Schema{{Type: "string"}, {Type: "number"}, {Type: "boolean"}}}
	}
}

// RowCount bounds the number of rows (after `where`).
type RowCount struct {
	Min Count `json:"min,omitzero" jsonschema:"description=Fewest rows allowed."`
	Max Count `json:"max,omitzero" jsonschema:"description=Most rows allowed."`
}

// Count is a row count bound as written: a JSON number or a numeric string,
// since interpolation (${tasks.generate_data.output.rows.orders}) yields
// strings. It is parsed by Validate, which reports bad values with their
// path. The zero Count is unset.
type Count struct {
	raw string // the JSON text, e.g. `100` or `"100"`; "" when unset
}

// NewCount returns a set Count, for callers building a Spec in Go.
func NewCount(n int64) Count { return Count{raw: strconv.FormatInt(n, 10)} }

// IsZero reports whether the bound is unset (json omitzero uses it).
func (c Count) IsZero() bool { return c.raw == "" }

// UnmarshalJSON keeps the JSON text for Validate; null leaves it unset.
func (c *Count) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*c = Count{}
		return nil
	}
	*c = Count{raw: string(b)}
	return nil
}

// MarshalJSON writes the bound back as it was written.
func (c Count) MarshalJSON() ([]byte, error) {
	if c.raw == "" {
		return []byte("null"), nil
	}
	return []byte(c.raw), nil
}

// JSONSchema describes the accepted forms for editors.
func (Count) JSONSchema() *jsonschema.Schema {
	zero := json.Number("0")
	return &jsonschema.Schema{OneOf: []*jsonschema.Schema{
		{Type: "integer", Minimum: zero},
		{Type: "string", Pattern: `^\s*[0-9]+\s*$`, Description: "a whole number, e.g. from ${tasks.x.output.rows}"},
	}}
}

// value parses the bound. It fails with a message meant to follow the
// field's path.
func (c Count) value() (int64, error) {
	text := c.raw
	if strings.HasPrefix(text, `"`) {
		var s string
		if err := json.Unmarshal([]byte(text), &s); err != nil {
			return 0, fmt.Errorf("%s is not a whole number (write a count such as 100)", c.raw)
		}
		text = strings.TrimSpace(s)
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		// JSON numbers such as 1e3 or 100.0 are whole numbers too.
		f, ferr := strconv.ParseFloat(text, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return 0, fmt.Errorf("%s is not a whole number (write a count such as 100)", c.raw)
		}
		n = int64(f)
	}
	if n < 0 {
		return 0, fmt.Errorf("%s is negative: a row count is 0 or more", c.raw)
	}
	return n, nil
}

// Freshness bounds the age of the newest row: now minus max(column).
type Freshness struct {
	Column string `json:"column" jsonschema:"description=Timestamp or date column. Values without a time zone are read as UTC."`
	MaxAge string `json:"max_age" jsonschema:"description=Largest allowed age of the newest row\\, a Go duration such as 90m or 26h."`
}

// Relationship says every non-NULL Column value must exist in To.Field.
type Relationship struct {
	Column string `json:"column" jsonschema:"description=Column of this table holding the key."`
	To     string `json:"to" jsonschema:"description=Parent table\\, e.g. silver.orders."`
	Field  string `json:"field" jsonschema:"description=Key column of the parent table."`
}

// FieldError is one problem in one entry of the checks list.
type FieldError struct {
	// Index is the entry's position in the checks list (from 0), or -1 when
	// the entry was validated on its own by Spec.Validate.
	Index int
	// Field is the path inside the entry, e.g. "freshness.max_age" or
	// "unique[1][0]"; "" means the entry as a whole.
	Field string
	// Message says what is wrong and how to fix it.
	Message string
}

// Path is the field's full path, e.g. "checks[2].freshness.max_age".
func (e *FieldError) Path() string {
	p := e.Field
	if e.Index >= 0 {
		p = fmt.Sprintf("checks[%d]", e.Index)
		if e.Field != "" {
			p += "." + e.Field
		}
	}
	return p
}

// Error is "path: message", e.g. "checks[2].freshness.max_age: ...".
func (e *FieldError) Error() string {
	if p := e.Path(); p != "" {
		return p + ": " + e.Message
	}
	return e.Message
}

// FieldErrors is every problem found in a list of entries, in order. Its
// message has one line per problem.
type FieldErrors []*FieldError

// Error has one line per problem.
func (es FieldErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *FieldError.
func (es FieldErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Validate checks one entry on its own. It returns nil or FieldErrors whose
// paths are relative to the entry ("freshness.max_age: ..."); Expand
// validates a whole list and prefixes each path with "checks[i]".
func (s Spec) Validate() error {
	if errs := s.validate(-1); len(errs) > 0 {
		return errs
	}
	return nil
}

// tableKinds lists the table-based check fields the entry sets, in Expand
// order.
// SCD2 names the columns of a slowly changing dimension of type 2 (as DLT's
// APPLY CHANGES ... STORED AS SCD TYPE 2 builds it).
type SCD2 struct {
	Key   ColumnSet `json:"key" jsonschema:"description=Key column\\, or a list of columns"`
	Start string    `json:"start,omitempty" jsonschema:"description=Column where a version starts (default __START_AT)"`
	End   string    `json:"end,omitempty" jsonschema:"description=Column where a version ends\\, NULL while current (default __END_AT)"`
}

func (s SCD2) start() string {
	if s.Start == "" {
		return "__START_AT"
	}
	return s.Start
}

func (s SCD2) end() string {
	if s.End == "" {
		return "__END_AT"
	}
	return s.End
}

func (s Spec) tableKinds() []string {
	var set []string
	if s.NotNull != nil {
		set = append(set, "not_null")
	}
	if s.Unique != nil {
		set = append(set, "unique")
	}
	if s.AcceptedValues != nil {
		set = append(set, "accepted_values")
	}
	if s.RowCount != nil {
		set = append(set, "row_count")
	}
	if s.Freshness != nil {
		set = append(set, "freshness")
	}
	if s.Relationships != nil {
		set = append(set, "relationships")
	}
	if s.SCD2 != nil {
		set = append(set, "scd2")
	}
	if s.Expression != "" {
		set = append(set, "expression")
	}
	return set
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

func (s Spec) validate(idx int) FieldErrors {
	var errs FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Index: idx, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	column := func(field, col string) {
		if col == "" {
			add(field, "is missing: write a column name")
			return
		}
		if _, err := columnName(col); err != nil {
			add(field, "%q is not a valid column name: %v", col, err)
		}
	}
	table := func(field, name, example string) {
		if name == "" {
			add(field, "is missing: name the table, e.g. %s", example)
			return
		}
		if _, err := tableParts(name); err != nil {
			add(field, "%q is not a valid table name: %v", name, err)
		}
	}

	if s.Name != "" && isBlank(s.Name) {
		add("name", "is blank: remove it or write a name")
	}
	switch s.Severity {
	case "", SeverityError, SeverityWarn:
	default:
		add("severity", "%q is not a severity (use error or warn)", string(s.Severity))
	}

	kinds := s.tableKinds()
	if len(kinds) == 0 && s.SQL == "" {
		add("", "no check given: add one of not_null, unique, accepted_values, row_count, freshness, relationships, expression or sql")
		return errs
	}
	if s.SQL != "" {
		if isBlank(s.SQL) {
			add("sql", "is blank: write a query whose rows are the offending rows")
		}
		if len(kinds) > 0 {
			add("sql", "a custom query stands alone in its entry: move %s to another entry", strings.Join(kinds, ", "))
		}
		if s.Where != "" {
			add("where", "is not used by sql checks: put the filter in the query")
		}
		if s.Table != "" {
			table("table", s.Table, "silver.orders")
		}
		return errs
	}

	table("table", s.Table, "silver.orders")
	if s.Where != "" && isBlank(s.Where) {
		add("where", "is blank: remove it or write a SQL condition")
	}
	if s.Expression != "" && isBlank(s.Expression) {
		add("expression", "is blank: write a SQL condition every row must satisfy")
	}

	if s.NotNull != nil && len(s.NotNull) == 0 {
		add("not_null", "is empty: list at least one column")
	}
	for i, col := range s.NotNull {
		column(fmt.Sprintf("not_null[%d]", i), col)
	}

	if s.Unique != nil && len(s.Unique) == 0 {
		add("unique", "is empty: list at least one column or list of columns")
	}
	for i, set := range s.Unique {
		field := fmt.Sprintf("unique[%d]", i)
		if len(set) == 0 {
			add(field, "is empty: write a column or a list of columns")
			continue
		}
		seen := map[string]bool{}
		for j, col := range set {
			f := field
			if len(set) > 1 {
				f = fmt.Sprintf("%s[%d]", field, j)
			}
			column(f, col)
			if seen[col] && col != "" {
				add(field, "lists %s twice", col)
			}
			seen[col] = true
		}
	}

	if s.AcceptedValues != nil && len(s.AcceptedValues) == 0 {
		add("accepted_values", "is empty: list {column: ..., values: [...]} entries")
	}
	for i, av := range s.AcceptedValues {
		field := fmt.Sprintf("accepted_values[%d]", i)
		column(field+".column", av.Column)
		if len(av.Values) == 0 {
			add(field+".values", "is empty: list the accepted values")
		}
		for j, v := range av.Values {
			if _, err := valueText(v); err != nil {
				add(fmt.Sprintf("%s.values[%d]", field, j), "%v", err)
			}
		}
	}

	if rc := s.RowCount; rc != nil {
		if rc.Min.IsZero() && rc.Max.IsZero() {
			add("row_count", "sets no bound: set min, max or both")
		}
		lo, loErr := rc.Min.value()
		if !rc.Min.IsZero() && loErr != nil {
			add("row_count.min", "%v", loErr)
		}
		hi, hiErr := rc.Max.value()
		if !rc.Max.IsZero() && hiErr != nil {
			add("row_count.max", "%v", hiErr)
		}
		if !rc.Min.IsZero() && !rc.Max.IsZero() && loErr == nil && hiErr == nil && lo > hi {
			add("row_count", "min %d is greater than max %d", lo, hi)
		}
	}

	if f := s.Freshness; f != nil {
		if f.Column == "" {
			add("freshness.column", "is missing: name the timestamp or date column")
		} else {
			column("freshness.column", f.Column)
		}
		if f.MaxAge == "" {
			add("freshness.max_age", "is missing: set how old the newest row may be (use 90m, 26h)")
		} else if d, err := time.ParseDuration(f.MaxAge); err != nil {
			add("freshness.max_age", "%q is not a duration (use 90m, 26h)", f.MaxAge)
		} else if d <= 0 {
			add("freshness.max_age", "%q must be more than 0 (use 90m, 26h)", f.MaxAge)
		}
	}

	if s.Relationships != nil && len(s.Relationships) == 0 {
		add("relationships", "is empty: list {column: ..., to: ..., field: ...} entries")
	}
	for i, r := range s.Relationships {
		field := fmt.Sprintf("relationships[%d]", i)
		column(field+".column", r.Column)
		table(field+".to", r.To, "silver.orders")
		column(field+".field", r.Field)
	}
	if s.SCD2 != nil {
		if len(s.SCD2.Key) == 0 {
			add("scd2.key", "is missing: name the key column(s), e.g. key: customer_id")
		}
		for i, c := range s.SCD2.Key {
			column(fmt.Sprintf("scd2.key[%d]", i), c)
		}
		if s.SCD2.Start != "" {
			column("scd2.start", s.SCD2.Start)
		}
		if s.SCD2.End != "" {
			column("scd2.end", s.SCD2.End)
		}
	}
	return errs
}

// valueText turns one accepted value, as JSON decoding produced it, into the
// text of a SQL string literal.
func valueText(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case json.Number:
		return v.String(), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case nil:
		return "", fmt.Errorf("is null: NULL is never an offender here; remove it, and add not_null to forbid NULLs")
	default:
		return "", fmt.Errorf("must be a string, number or boolean, not %T", v)
	}
}
