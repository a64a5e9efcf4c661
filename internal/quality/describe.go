package quality

import (
	"fmt"
	"strings"
)

// describe turns a rejected query into a message that names the table or
// column at fault and says what to check.
func describe(c Check, qe *QueryError) string {
	if c.Kind == KindSQL {
		switch qe.Kind {
		case MissingTable:
			name := qe.Name
			if name == "" {
				name = "read by the query"
			}
			return fmt.Sprintf("custom SQL failed: table %s does not exist in the warehouse: check the query or that the upstream pipeline created it", name)
		case MissingColumn:
			if qe.Name != "" {
				return fmt.Sprintf("custom SQL failed: column %s does not exist: check the query", lastPart(qe.Name))
			}
		}
		return fmt.Sprintf("custom SQL failed: %s: check the query", qe.Error())
	}

	switch qe.Kind {
	case MissingTable:
		return fmt.Sprintf("table %s does not exist in the warehouse: check the table name or that the upstream pipeline created it", missingTable(c, qe.Name))
	case MissingColumn:
		if col, table, ok := missingColumn(c, qe.Name); ok {
			return fmt.Sprintf("column %s does not exist in table %s: check the column name or that the upstream pipeline created it", col, table)
		}
		if qe.Name != "" {
			if parts := userSQL(c, false); len(parts) > 0 {
				return fmt.Sprintf("column %s does not exist in table %s: check the columns used in %s", lastPart(qe.Name), c.Table, strings.Join(parts, " and "))
			}
		}
	}
	if parts := userSQL(c, true); len(parts) > 0 {
		return fmt.Sprintf("query failed: %s: check %s", qe.Error(), strings.Join(parts, " and "))
	}
	return "query failed: " + qe.Error()
}

// userSQL names the parts of a check written in SQL or as values, which a
// rejected query may come from.
func userSQL(c Check, values bool) []string {
	var parts []string
	if c.Where != "" {
		parts = append(parts, "the where filter")
	}
	if c.Expression != "" {
		parts = append(parts, "the expression")
	}
	if values && c.Kind == KindAcceptedValues {
		parts = append(parts, "that the accepted values fit the column's type")
	}
	return parts
}

// nameParts reads a name from a warehouse message, leniently.
func nameParts(s string) []string {
	if p, err := splitName(s); err == nil {
		return p
	}
	return []string{strings.Trim(s, "\"`")}
}

func lastPart(s string) string {
	p := nameParts(s)
	return p[len(p)-1]
}

// missingTable picks which of the check's tables the warehouse said is
// missing.
func missingTable(c Check, reported string) string {
	if c.Kind != KindRelationships || c.To == "" {
		return c.Table
	}
	got := nameParts(reported)
	for _, cand := range []string{c.Table, c.To} {
		want, err := tableParts(cand)
		if err == nil && reported != "" && (hasSuffix(got, want) || hasSuffix(want, got)) {
			return cand
		}
	}
	return c.Table + " or " + c.To
}

// hasSuffix reports whether the last parts of a are b: a warehouse may
// report catalog.schema.table for a table written schema.table.
func hasSuffix(a, b []string) bool {
	if len(b) > len(a) {
		return false
	}
	off := len(a) - len(b)
	for i := range b {
		if a[off+i] != b[i] {
			return false
		}
	}
	return true
}

// missingColumn picks which of the check's columns the warehouse said is
// missing, and the table it was looked up in. ok is false when the column
// is none of the check's own (it came from where or expression).
func missingColumn(c Check, reported string) (col, table string, ok bool) {
	if reported == "" {
		if len(c.Columns) == 1 && c.Kind != KindRelationships && c.Where == "" && c.Expression == "" {
			return c.Columns[0], c.Table, true
		}
		return "", "", false
	}
	got := nameParts(reported)
	name, qual := got[len(got)-1], ""
	if len(got) > 1 {
		qual = got[len(got)-2]
	}
	type candidate struct{ alias, col, table string }
	var cands []candidate
	if c.Kind == KindRelationships {
		cands = append(cands, candidate{childAlias, c.Columns[0], c.Table}, candidate{parentAlias, c.Field, c.To})
	} else {
		for _, col := range c.Columns {
			cands = append(cands, candidate{"", col, c.Table})
		}
	}
	for _, cand := range cands {
		parsed, err := columnName(cand.col)
		if err != nil || parsed != name {
			continue
		}
		if cand.alias == "" || qual == "" || qual == cand.alias {
			return cand.col, cand.table, true
		}
	}
	return "", "", false
}
