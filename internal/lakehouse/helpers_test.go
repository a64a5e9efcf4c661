package lakehouse

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// writeFiles writes each relative path -> content under dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
	}
}

// pipelineDir writes a pipeline folder (pipeline.yaml + files) to a temp dir
// and returns it.
func pipelineDir(t testing.TB, yaml string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{SpecFile: yaml})
	writeFiles(t, dir, files)
	return dir
}

// queryRows runs sql with the simple protocol, so every value arrives as
// Postgres' own text output, and returns each row as its values joined by
// "|", NULL shown as "∅".
func queryRows(t testing.TB, db *pgxpool.Pool, sql string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), sql, append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...)
	require.NoError(t, err, sql)
	defer rows.Close()
	var out []string
	for rows.Next() {
		raw := rows.RawValues()
		vals := make([]string, len(raw))
		for i, v := range raw {
			if v == nil {
				vals[i] = "∅"
			} else {
				vals[i] = string(v)
			}
		}
		out = append(out, strings.Join(vals, "|"))
	}
	require.NoError(t, rows.Err(), sql)
	return out
}

func queryInt(t testing.TB, db *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.QueryRow(context.Background(), sql, args...).Scan(&n), sql)
	return n
}
