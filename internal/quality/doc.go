// Package quality runs the declarative data quality checks of a
// `quality_checks` task against a warehouse: Postgres for engine: local,
// a Databricks SQL warehouse for engine: databricks.
//
// A task's `with.checks` list decodes into []Spec; Expand validates it and
// turns each entry into Checks; Run measures each Check with one SQL query
// through a Querier (one more, LIMITed, fetches sample rows when a check
// finds offenders) and returns a Report. The SQL is the same for both
// engines except for what a Dialect quotes. Names from specs (tables,
// columns) are always quoted part by part; `where`, `expression` and `sql`
// are SQL written by the project and are used as written.
//
// NULL semantics follow dbt's generic tests: NULL is never an offender
// except for not_null. accepted_values ignores NULLs (dbt's `not in` query
// drops them too), unique ignores rows where any key column is NULL (as a
// SQL UNIQUE constraint does), relationships ignores NULL keys, and an
// expression that evaluates to NULL is not a violation. Pair a check with
// not_null to forbid NULLs.
//
// Results: PASS; FAIL or WARN (by severity) when a check finds offending
// rows or a bound does not hold; ERROR when the check could not run (missing
// table or column, bad SQL) whatever its severity. The caller decides what
// the task does with them.
package quality
