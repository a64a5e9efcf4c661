package quality

import (
	"fmt"
	"strings"
	"time"
)

// Kind is what a check verifies.
type Kind string

// The check kinds, one per Spec field.
const (
	KindNotNull        Kind = "not_null"
	KindUnique         Kind = "unique"
	KindAcceptedValues Kind = "accepted_values"
	KindRowCount       Kind = "row_count"
	KindFreshness      Kind = "freshness"
	KindRelationships  Kind = "relationships"
	KindExpression     Kind = "expression"
	KindSQL            Kind = "sql"
	// SCD type 2 invariants, both from one `scd2` entry.
	KindSCD2OpenRow   Kind = "scd2_one_open_row"
	KindSCD2NoOverlap Kind = "scd2_no_overlap"
)

// Check is one executable check, produced by Expand. Names are kept as the
// user wrote them; the SQL builder parses and quotes them.
type Check struct {
	Name     string   `json:"name"`
	Table    string   `json:"table,omitempty"` // as written, e.g. silver.orders; may be empty for KindSQL
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	Where    string   `json:"where,omitempty"`
	// Columns: one column for not_null, accepted_values, freshness and
	// relationships; the key's columns for unique.
	Columns    []string      `json:"columns,omitempty"`
	Values     []string      `json:"values,omitempty"`  // accepted_values
	Min        *int64        `json:"min,omitempty"`     // row_count
	Max        *int64        `json:"max,omitempty"`     // row_count
	MaxAge     time.Duration `json:"max_age,omitempty"` // freshness
	To         string        `json:"to,omitempty"`      // relationships: parent table as written
	Field      string        `json:"field,omitempty"`   // relationships: parent column
	Expression string        `json:"expression,omitempty"`
	SQL        string        `json:"sql,omitempty"`
	Start      string        `json:"start,omitempty"` // scd2: version start column
	End        string        `json:"end,omitempty"`   // scd2: version end column (NULL = current)
}

// maxNameSQL is how much of an expression or query a default name shows.
const maxNameSQL = 60

// Expand validates every entry and turns each into its checks. The order is
// stable: entries in list order; inside an entry not_null (per column),
// unique (per key), accepted_values, row_count, freshness, relationships,
// expression, then sql. Default names look like
// "silver.orders: not_null(order_id)"; an entry's name replaces the whole
// default name when the entry holds one check, and replaces the table part
// otherwise ("orders_ok: not_null(order_id)"). Two checks may not share a
// name. Errors are FieldErrors with paths such as "checks[2].freshness.max_age".
func Expand(specs []Spec) ([]Check, error) {
	var errs FieldErrors
	for i, s := range specs {
		errs = append(errs, s.validate(i)...)
	}
	if len(errs) > 0 {
		return nil, errs
	}

	var checks []Check
	type origin struct {
		index int
		field string
	}
	byName := map[string]origin{}
	for i, s := range specs {
		entry := s.expand()
		for _, e := range entry {
			if prev, dup := byName[e.check.Name]; dup {
				errs = append(errs, &FieldError{Index: i, Field: e.field, Message: fmt.Sprintf(
					"check name %q is also used by checks[%d]; remove the duplicate or set a different name", e.check.Name, prev.index)})
				continue
			}
			byName[e.check.Name] = origin{index: i, field: e.field}
			checks = append(checks, e.check)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return checks, nil
}

type expanded struct {
	check Check
	field string // where in the entry it came from, for error paths
}

// expand turns a valid entry into its checks.
func (s Spec) expand() []expanded {
	sev := s.Severity
	if sev == "" {
		sev = SeverityError
	}
	base := Check{Table: s.Table, Severity: sev, Where: s.Where}
	var out []expanded
	add := func(field, label string, c Check) {
		c.Name = label
		out = append(out, expanded{check: c, field: field})
	}

	for i, col := range s.NotNull {
		c := base
		c.Kind, c.Columns = KindNotNull, []string{col}
		add(fmt.Sprintf("not_null[%d]", i), fmt.Sprintf("not_null(%s)", col), c)
	}
	for i, set := range s.Unique {
		c := base
		c.Kind, c.Columns = KindUnique, append([]string(nil), set...)
		add(fmt.Sprintf("unique[%d]", i), fmt.Sprintf("unique(%s)", strings.Join(set, ", ")), c)
	}
	for i, av := range s.AcceptedValues {
		c := base
		c.Kind, c.Columns = KindAcceptedValues, []string{av.Column}
		for _, v := range av.Values {
			text, _ := valueText(v) // validated
			c.Values = append(c.Values, text)
		}
		add(fmt.Sprintf("accepted_values[%d]", i), fmt.Sprintf("accepted_values(%s)", av.Column), c)
	}
	if rc := s.RowCount; rc != nil {
		c := base
		c.Kind = KindRowCount
		if !rc.Min.IsZero() {
			n, _ := rc.Min.value() // validated
			c.Min = &n
		}
		if !rc.Max.IsZero() {
			n, _ := rc.Max.value() // validated
			c.Max = &n
		}
		add("row_count", "row_count", c)
	}
	if f := s.Freshness; f != nil {
		c := base
		c.Kind, c.Columns = KindFreshness, []string{f.Column}
		c.MaxAge, _ = time.ParseDuration(f.MaxAge) // validated
		add("freshness", fmt.Sprintf("freshness(%s)", f.Column), c)
	}
	for i, r := range s.Relationships {
		c := base
		c.Kind, c.Columns, c.To, c.Field = KindRelationships, []string{r.Column}, r.To, r.Field
		add(fmt.Sprintf("relationships[%d]", i), fmt.Sprintf("relationships(%s -> %s.%s)", r.Column, r.To, r.Field), c)
	}
	if s.SCD2 != nil {
		start, end := s.SCD2.start(), s.SCD2.end()
		key := strings.Join(s.SCD2.Key, ", ")
		c := base
		c.Kind, c.Columns, c.Start, c.End = KindSCD2OpenRow, append([]string(nil), s.SCD2.Key...), start, end
		add("scd2", fmt.Sprintf("scd2_one_open_row(%s)", key), c)
		c.Kind = KindSCD2NoOverlap
		add("scd2", fmt.Sprintf("scd2_no_overlap(%s)", key), c)
	}
	if s.Expression != "" {
		c := base
		c.Kind, c.Expression = KindExpression, s.Expression
		add("expression", fmt.Sprintf("expression(%s)", shorten(s.Expression)), c)
	}
	if s.SQL != "" {
		c := base
		c.Kind, c.SQL = KindSQL, s.SQL
		add("sql", fmt.Sprintf("sql(%s)", shorten(trimQuery(s.SQL))), c)
	}

	for i := range out {
		switch {
		case s.Name != "" && len(out) == 1:
			out[i].check.Name = s.Name
			out[i].field = "name"
		case s.Name != "":
			out[i].check.Name = s.Name + ": " + out[i].check.Name
			out[i].field = "name"
		case s.Table != "":
			out[i].check.Name = s.Table + ": " + out[i].check.Name
		}
	}
	return out
}

// shorten collapses whitespace and cuts long SQL for a readable name.
func shorten(sql string) string {
	s := strings.Join(strings.Fields(sql), " ")
	if r := []rune(s); len(r) > maxNameSQL {
		return string(r[:maxNameSQL]) + "..."
	}
	return s
}
