package warehouse

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplitSpark(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		src  string
		want []sparkStatement
	}{
		{"TwoStatements", "CREATE TABLE a (x INT);\nINSERT INTO a VALUES (1);\n",
			[]sparkStatement{{"CREATE TABLE a (x INT)", 1}, {"INSERT INTO a VALUES (1)", 2}}},
		{"NoTrailingSemicolon", "SELECT 1", []sparkStatement{{"SELECT 1", 1}}},
		{"SemicolonsInStrings", "SELECT 'a;b', \"c;d\", 'it\\'s;' ;\nSELECT 2",
			[]sparkStatement{{"SELECT 'a;b', \"c;d\", 'it\\'s;'", 1}, {"SELECT 2", 2}}},
		{"RawStringBackslashIsLiteral", "SELECT r'C:\\dir\\';SELECT 3", []sparkStatement{{"SELECT r'C:\\dir\\'", 1}, {"SELECT 3", 1}}},
		{"BackquotedIdentifiers", "SELECT `a;b`, `x``;y` FROM t;SELECT 4",
			[]sparkStatement{{"SELECT `a;b`, `x``;y` FROM t", 1}, {"SELECT 4", 1}}},
		{"Comments", "-- first; not a statement\n/* a; /* nested; */ still; */\nSELECT 5; -- trailing;\n/* only a comment */;",
			[]sparkStatement{{"SELECT 5", 3}}},
		{"MultiLineStatementLine", "\n\nMERGE INTO t\nUSING s\nON t.id = s.id\nWHEN MATCHED THEN UPDATE SET *;\n\n  DELETE FROM t WHERE x = 'a\nb';\n",
			[]sparkStatement{{"MERGE INTO t\nUSING s\nON t.id = s.id\nWHEN MATCHED THEN UPDATE SET *", 3}, {"DELETE FROM t WHERE x = 'a\nb'", 8}}},
		{"EmptyStatementsDropped", ";;\n ; SELECT 6;;", []sparkStatement{{"SELECT 6", 2}}},
		{"ScriptSentWhole", "-- a script\nBEGIN\n  DECLARE x INT;\n  SET x = 1;\nEND;\n",
			[]sparkStatement{{"BEGIN\n  DECLARE x INT;\n  SET x = 1;\nEND", 2}}},
		{"BeginLaterIsNotAScript", "SELECT 1; BEGIN", []sparkStatement{{"SELECT 1", 1}, {"BEGIN", 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := splitSpark(tc.src)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestSplitSparkErrors(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]string{
		"SELECT 1;\nSELECT 'abc":   "2: unterminated string literal: close it with '",
		"SELECT \"abc;":            "1: unterminated string literal: close it with \"",
		"SELECT 1;\n\nSELECT `col": "3: unterminated backquoted identifier: close it with `",
		"SELECT 1 /* a\n/* b */\n": "1: unterminated /* comment: close it with */",
		"SELECT 'it\\'s":           "1: unterminated string literal: close it with '",
	} {
		_, err := splitSpark(src)
		require.EqualError(t, err, want, src)
	}
}
