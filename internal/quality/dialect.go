package quality

import "strings"

// Dialect is the little that differs between the warehouses' SQL: how
// identifiers and string literals are quoted. Everything else the checks
// generate (count(*), NOT EXISTS, GROUP BY ... HAVING, coalesce, LIMIT) is
// accepted by both Postgres and Databricks SQL.
type Dialect interface {
	// QuoteIdent quotes each part of a qualified name and joins them with
	// dots, so that nothing in a part can end the identifier.
	QuoteIdent(parts ...string) string
	// QuoteString returns a string literal holding s.
	QuoteString(s string) string
}

// Databricks is the Dialect of Databricks SQL warehouses (engine: databricks).
type Databricks struct{}

// QuoteIdent backquotes each part, doubling backquotes inside: `silver`.`orders`.
func (Databricks) QuoteIdent(parts ...string) string {
	quoted := make([]string, len(parts))
	for i, p := range parts {
		quoted[i] = "`" + strings.ReplaceAll(p, "`", "``") + "`"
	}
	return strings.Join(quoted, ".")
}

// QuoteString writes a single-quoted literal with backslash escapes, as Spark
// SQL reads them: it\'s. Doubling the quote, as Postgres does, would not work
// there: Spark reads two adjacent literals as one concatenated string.
func (Databricks) QuoteString(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `'`, `\'`)
	return "'" + s + "'"
}
