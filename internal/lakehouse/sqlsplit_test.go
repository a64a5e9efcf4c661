package lakehouse

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplitSQL(t *testing.T) {
	t.Parallel()
	src := `-- header comment; not a statement
CREATE TABLE a (x text); /* block; comment /* nested; */ still; */
INSERT INTO a VALUES ('it''s; fine'), (E'esc\'; still'), ("ident;" || 'x');

CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;
DO $body$ BEGIN PERFORM 1; END $body$;
SELECT $1, a$b FROM t -- ; in a comment
;
SELECT 'no trailing semicolon'
-- trailing comment`
	stmts, err := splitSQL(src)
	require.NoError(t, err)
	require.Equal(t, []statement{
		{"CREATE TABLE a (x text)", 2},
		{`INSERT INTO a VALUES ('it''s; fine'), (E'esc\'; still'), ("ident;" || 'x')`, 3},
		{"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql", 5},
		{"DO $body$ BEGIN PERFORM 1; END $body$", 6},
		{"SELECT $1, a$b FROM t -- ; in a comment", 7},
		{"SELECT 'no trailing semicolon'\n-- trailing comment", 9},
	}, stmts)

	onlyComments, err := splitSQL("-- nothing\n/* here */\n;\n")
	require.NoError(t, err)
	require.Empty(t, onlyComments)
}

func TestSplitSQLErrors(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]string{
		"SELECT 1;\nSELECT 'open":           "2: unterminated quoted string; close it with '",
		"SELECT 1;\n\nSELECT \"open":        `3: unterminated quoted identifier; close it with "`,
		"SELECT $x$ body":                   "1: unterminated dollar-quoted string; close it with $x$",
		"SELECT 1;\n/* open /* nested */\n": "2: unterminated /* comment; close it with */",
	} {
		_, err := splitSQL(src)
		require.EqualError(t, err, want, src)
	}
}

func TestCreatedTable(t *testing.T) {
	t.Parallel()
	for stmt, want := range map[string]Table{
		"CREATE TABLE silver.orders (x int)":                       {Schema: "silver", Name: "orders"},
		"create table if not exists Gold.Daily_Orders AS SELECT 1": {Schema: "gold", Name: "daily_orders"},
		`CREATE UNLOGGED TABLE "Silver"."My ""T""" (x int)`:        {Schema: "Silver", Name: `My "T"`},
		"CREATE TABLE plain (x int)":                               {Name: "plain"},
	} {
		got, ok := createdTable(stmt)
		require.True(t, ok, stmt)
		require.Equal(t, want, got, stmt)
	}
	for _, stmt := range []string{
		"CREATE TEMP TABLE t (x int)",
		"CREATE GLOBAL TEMPORARY TABLE t (x int)",
		"CREATE INDEX ON silver.orders (x)",
		"CREATE VIEW v AS SELECT 1",
		"INSERT INTO silver.orders VALUES (1)",
		"TRUNCATE silver.orders",
	} {
		_, ok := createdTable(stmt)
		require.False(t, ok, stmt)
	}
}

func TestSubstitute(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"run_logical_date": "2026-11-22", "b": "x"}
	got, err := substitute(statement{"SELECT '${run_logical_date}'::date, '${b}${b}'", 4}, vars)
	require.NoError(t, err)
	require.Equal(t, "SELECT '2026-11-22'::date, 'xx'", got)

	_, err = substitute(statement{"SELECT 1,\n  '${nope}'", 4}, vars)
	require.EqualError(t, err, "5: unknown variable ${nope}; the run provides ${b}, ${run_logical_date}")
	_, err = substitute(statement{"SELECT '${x}'", 1}, nil)
	require.EqualError(t, err, "1: unknown variable ${x}; the run provides no variables")
	_, err = substitute(statement{"SELECT 1\n\n, '${open'", 2}, vars)
	require.EqualError(t, err, "4: unterminated ${ (write ${name})")
}

func TestPositionLine(t *testing.T) {
	t.Parallel()
	stmt := statement{"SELECT 'ção',\n  x\nFROM t", 10}
	require.Equal(t, 10, positionLine(stmt, stmt.text, 0))
	require.Equal(t, 10, positionLine(stmt, stmt.text, 8))  // 'ção' counts characters, not bytes
	require.Equal(t, 11, positionLine(stmt, stmt.text, 17)) // x
	require.Equal(t, 12, positionLine(stmt, stmt.text, 19)) // FROM
}
