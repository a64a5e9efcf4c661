package quality

import (
	"fmt"
	"strconv"
	"strings"
)

// This file holds every SQL text the package generates. Identifiers always go
// through Dialect.QuoteIdent and values through Dialect.QuoteString; `where`,
// `expression` and `sql` are SQL by design (trusted project code) and go in as
// written, each wrapped in parentheses.

// Aliases used by the relationships query. They show up in warehouse error
// messages ("column child.order_idd does not exist"), where describe reads
// them back to tell which table lacks the column.
const (
	childAlias  = "child"
	parentAlias = "parent"
)

// countColumn names the per-value row count in grouped samples.
const countColumn = "n_rows"

// plan is the SQL of one check.
type plan struct {
	// measure returns one row: the offending row count (unique: the number
	// of duplicated keys, then the rows holding them), the row count
	// (row_count) or max(column) (freshness).
	measure string
	// sample returns up to Options.SampleRows examples, run only when the
	// measure found offenders; "" for row_count and freshness.
	sample string
}

// buildPlan writes the check's queries. It fails only for a Check that did
// not come from Expand and has a malformed name.
func buildPlan(d Dialect, c Check, limit int) (plan, error) {
	if c.Kind == KindSQL {
		q := trimQuery(c.SQL)
		if q == "" {
			return plan{}, fmt.Errorf("the sql query is empty")
		}
		return plan{
			measure: "SELECT count(*) FROM (\n" + q + "\n) AS custom_sql",
			sample:  "SELECT * FROM (\n" + q + "\n) AS custom_sql" + limitClause(limit),
		}, nil
	}

	parts, err := tableParts(c.Table)
	if err != nil {
		return plan{}, fmt.Errorf("table %q is not a valid table name: %w", c.Table, err)
	}
	table := d.QuoteIdent(parts...)
	cols := make([]string, len(c.Columns))
	for i, col := range c.Columns {
		name, err := columnName(col)
		if err != nil {
			return plan{}, fmt.Errorf("column %q is not a valid column name: %w", col, err)
		}
		cols[i] = d.QuoteIdent(name)
	}
	switch c.Kind {
	case KindNotNull, KindAcceptedValues, KindFreshness, KindRelationships:
		if len(cols) != 1 {
			return plan{}, fmt.Errorf("a %s check needs exactly one column, got %d", c.Kind, len(cols))
		}
	case KindUnique:
		if len(cols) == 0 {
			return plan{}, fmt.Errorf("a unique check needs at least one column")
		}
	}

	// where returns the WHERE clause: the user's filter, then the check's
	// conditions.
	where := func(conds ...string) string {
		if c.Where != "" {
			conds = append([]string{"(" + c.Where + ")"}, conds...)
		}
		if len(conds) == 0 {
			return ""
		}
		return " WHERE " + strings.Join(conds, " AND ")
	}

	switch c.Kind {
	case KindNotNull:
		w := where(cols[0] + " IS NULL")
		return plan{
			measure: "SELECT count(*) FROM " + table + w,
			sample:  "SELECT * FROM " + table + w + limitClause(limit),
		}, nil

	case KindUnique:
		conds := make([]string, len(cols))
		ordinals := make([]string, len(cols))
		for i, col := range cols {
			conds[i] = col + " IS NOT NULL"
			ordinals[i] = strconv.Itoa(i + 1)
		}
		from := " FROM " + table + where(conds...) +
			" GROUP BY " + strings.Join(cols, ", ") + " HAVING count(*) > 1"
		return plan{
			measure: "SELECT count(*), coalesce(sum(" + countColumn + "), 0) FROM (SELECT count(*) AS " + countColumn + from + ") AS duplicates",
			// Ordinals, not names, in ORDER BY: a key column could be
			// called n_rows too.
			sample: "SELECT " + strings.Join(cols, ", ") + ", count(*) AS " + countColumn + from +
				" ORDER BY count(*) DESC, " + strings.Join(ordinals, ", ") + limitClause(limit),
		}, nil

	case KindAcceptedValues:
		if len(c.Values) == 0 {
			return plan{}, fmt.Errorf("an accepted_values check needs values")
		}
		lits := make([]string, len(c.Values))
		for i, v := range c.Values {
			lits[i] = d.QuoteString(v)
		}
		w := where(cols[0]+" IS NOT NULL", cols[0]+" NOT IN ("+strings.Join(lits, ", ")+")")
		return plan{
			measure: "SELECT count(*) FROM " + table + w,
			sample: "SELECT " + cols[0] + ", count(*) AS " + countColumn + " FROM " + table + w +
				" GROUP BY " + cols[0] + " ORDER BY count(*) DESC, 1" + limitClause(limit),
		}, nil

	case KindRowCount:
		return plan{measure: "SELECT count(*) FROM " + table + where()}, nil

	case KindFreshness:
		return plan{measure: "SELECT max(" + cols[0] + ") FROM " + table + where()}, nil

	case KindRelationships:
		toParts, err := tableParts(c.To)
		if err != nil {
			return plan{}, fmt.Errorf("table %q is not a valid table name: %w", c.To, err)
		}
		field, err := columnName(c.Field)
		if err != nil {
			return plan{}, fmt.Errorf("column %q is not a valid column name: %w", c.Field, err)
		}
		child := table
		if c.Where != "" {
			child = "(SELECT * FROM " + table + " WHERE (" + c.Where + "))"
		}
		key := childAlias + "." + cols[0]
		from := " FROM " + child + " AS " + childAlias +
			" WHERE " + key + " IS NOT NULL AND NOT EXISTS (SELECT 1 FROM " + d.QuoteIdent(toParts...) +
			" AS " + parentAlias + " WHERE " + parentAlias + "." + d.QuoteIdent(field) + " = " + key + ")"
		return plan{
			measure: "SELECT count(*)" + from,
			sample: "SELECT " + key + ", count(*) AS " + countColumn + from +
				" GROUP BY " + key + " ORDER BY count(*) DESC, 1" + limitClause(limit),
		}, nil

	case KindSCD2OpenRow, KindSCD2NoOverlap:
		if len(cols) == 0 {
			return plan{}, fmt.Errorf("an scd2 check needs a key")
		}
		startName, err := columnName(c.Start)
		if err != nil {
			return plan{}, fmt.Errorf("column %q is not a valid column name: %w", c.Start, err)
		}
		endName, err := columnName(c.End)
		if err != nil {
			return plan{}, fmt.Errorf("column %q is not a valid column name: %w", c.End, err)
		}
		start, end := d.QuoteIdent(startName), d.QuoteIdent(endName)
		if c.Kind == KindSCD2OpenRow {
			from := " FROM " + table + where(end+" IS NULL") + " GROUP BY " + strings.Join(cols, ", ") + " HAVING count(*) > 1"
			return plan{
				measure: "SELECT count(*) FROM (SELECT count(*) AS " + countColumn + from + ") AS open_rows",
				sample:  "SELECT " + strings.Join(cols, ", ") + ", count(*) AS " + countColumn + from + " ORDER BY count(*) DESC" + limitClause(limit),
			}, nil
		}
		src := table
		if c.Where != "" {
			src = "(SELECT * FROM " + table + " WHERE (" + c.Where + "))"
		}
		same := make([]string, len(cols))
		for i, col := range cols {
			same[i] = "a." + col + " = b." + col
		}
		from := " FROM " + src + " AS a JOIN " + src + " AS b ON " + strings.Join(same, " AND ") +
			" AND a." + start + " < b." + start + " AND (a." + end + " IS NULL OR a." + end + " > b." + start + ")"
		keys := make([]string, len(cols))
		for i, col := range cols {
			keys[i] = "a." + col
		}
		return plan{
			measure: "SELECT count(*)" + from,
			sample: "SELECT " + strings.Join(keys, ", ") + ", a." + start + " AS first_start, a." + end + " AS first_end, b." + start +
				" AS next_start" + from + " ORDER BY 1" + limitClause(limit),
		}, nil

	case KindExpression:
		if isBlank(c.Expression) {
			return plan{}, fmt.Errorf("the expression is empty")
		}
		w := where("NOT (" + c.Expression + ")")
		return plan{
			measure: "SELECT count(*) FROM " + table + w,
			sample:  "SELECT * FROM " + table + w + limitClause(limit),
		}, nil
	}
	return plan{}, fmt.Errorf("unknown check kind %q", c.Kind)
}

func limitClause(n int) string { return " LIMIT " + strconv.Itoa(n) }

// trimQuery drops the trailing semicolons and blanks a user may end a query
// with, which would break the wrapping subquery. The closing parenthesis goes
// on its own line so a trailing -- comment cannot swallow it.
func trimQuery(q string) string {
	return strings.TrimRight(strings.TrimSpace(q), "; \t\r\n")
}
