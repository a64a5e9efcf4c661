package notify

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

// golden compares got with testdata/<name>, or rewrites the file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test -run %s -update and review the diff", t.Name())
	require.Equal(t, string(want), got)
}

// dltError is shaped like the error a failed Databricks DLT update reports.
const dltError = `Update 5d4e8f2a-1c3b-4e7a-9d6f-0a2b4c6d8e10 failed: FLOW_FAILED
Flow 'silver_orders' has FAILED.
org.apache.spark.sql.catalyst.ExtendedAnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name ` + "`order_status`" + ` cannot be resolved. Did you mean one of the following? [` + "`order_stat`, `order_id`" + `].
	at org.apache.spark.sql.errors.QueryCompilationErrors$.unresolvedColumnError(QueryCompilationErrors.scala:312)
`

// failureEvent is a scheduled prod run whose main pipeline failed and whose
// quality checks were skipped.
func failureEvent() Event {
	return Event{
		Kind:        KindFailure,
		Project:     "olist",
		Pipeline:    "olist_daily",
		Env:         "prod",
		Outcome:     OutcomeFailed,
		WorkflowID:  "sluice/olist_daily/prod/2026-11-22",
		RunID:       "0199c3b8-7d2e-7c4a-9f1e-3b5d2a6c8e01",
		Trigger:     "SCHEDULED",
		LogicalDate: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC),
		StartedAt:   time.Date(2026, 11, 22, 6, 0, 3, 0, time.UTC),
		Duration:    time.Hour + 2*time.Minute + 3*time.Second + 400*time.Millisecond,
		FailedTasks: []TaskFailure{
			{Key: "run_main_pipeline", State: "FAILED", ErrorType: "DltUpdateFailed", Message: dltError, Attempts: 3},
			{Key: "quality_checks", State: "UPSTREAM_FAILED"},
		},
		UIURL:         "http://localhost:8233/namespaces/default/workflows/sluice%2Folist_daily%2Fprod%2F2026-11-22/0199c3b8-7d2e-7c4a-9f1e-3b5d2a6c8e01/history",
		RepairCommand: "sluice repair --workflow-id sluice/olist_daily/prod/2026-11-22",
		DeliveryID:    "sluice/olist_daily/prod/2026-11-22/on_failure/data-eng",
	}
}

// manyLines returns n numbered lines.
func manyLines(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString("line " + strconv.Itoa(i) + "\n")
	}
	return b.String()
}
