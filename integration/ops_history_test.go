package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/store"
)

// TestHistoryOfEveryOutcome runs a pipeline that succeeds, one whose task
// succeeds on its second attempt, one that fails (a task retried until it
// gives up, another failing for good), one whose task times out and one
// canceled mid-run, and checks the history rows of each exactly: the run,
// every task, every attempt and every error text. Then it reads the same
// runs through sluice runs, run-info, logs and stats.
func TestHistoryOfEveryOutcome(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, opsProject)
	sb.startWorker()
	s := sb.openStore(t)

	ids := map[string]string{}
	for _, p := range []string{"ok", "flaky", "failing", "slow", "long"} {
		code, out := sb.sluice("run", p, "--date", "2026-11-01")
		require.Equal(t, 0, code, out)
		ids[p] = "sluice/" + p + "/local/2026-11-01"
	}
	waitForTask(t, sb, ids["long"], "hold", dag.Running)
	code, out := sb.sluice("cancel", ids["long"])
	require.Equal(t, 0, code, out)
	for p, want := range map[string]int{"ok": 0, "flaky": 0, "failing": 1, "slow": 1, "long": 1} {
		code, out := sb.sluice("status", ids[p], "--wait")
		require.Equal(t, want, code, "%s: %s", p, out)
	}

	t.Run("Success", func(t *testing.T) {
		require.Equal(t, historyRows{
			Run: []string{"ok", "local", "MANUAL", "SUCCESS", "", ""},
			Tasks: [][]string{
				{"prepare", "sql", "SUCCESS", "1", "", "", "", "ran"},
				{"load", "sql", "SUCCESS", "1", "", "", "", "ran"},
			},
			Attempts: [][]string{
				{"load", "1", "SUCCESS", "", ""},
				{"prepare", "1", "SUCCESS", "", ""},
			},
			Errors: [][]string{},
		}, dumpHistory(t, s, ids["ok"]))
	})
	t.Run("RetryThenSuccess", func(t *testing.T) {
		msg := "warehouse unavailable: ERROR: could not serialize access due to concurrent update (SQLSTATE 40001)"
		require.Equal(t, historyRows{
			Run: []string{"flaky", "local", "MANUAL", "SUCCESS", "", ""},
			Tasks: [][]string{
				{"prepare", "sql", "SUCCESS", "1", "", "", "", "ran"},
				{"load", "sql", "SUCCESS", "2", "", "", "", "ran"},
			},
			Attempts: [][]string{
				{"load", "1", "FAILED", "WarehouseUnavailable", msg},
				{"load", "2", "SUCCESS", "", ""},
				{"prepare", "1", "SUCCESS", "", ""},
			},
			Errors: [][]string{{"load", "1", "WarehouseUnavailable", msg, ""}},
		}, dumpHistory(t, s, ids["flaky"]))
		require.Equal(t, [][]any{{int64(2)}}, sb.query("SELECT count(*) FROM flaky_attempts"), "two attempts ran")
	})
	t.Run("Failure", func(t *testing.T) {
		locked := "warehouse unavailable: ERROR: orders table is locked (SQLSTATE 40001)"
		mismatch := "statements[0]: orders total mismatch (SQLSTATE P0001)"
		detail := "expected 10 got 9\nreload the orders of the day\nPL/pgSQL function inline_code_block line 1 at RAISE"
		require.Equal(t, historyRows{
			Run: []string{"failing", "local", "MANUAL", "FAILED", "", ""},
			Tasks: [][]string{
				{"extract", "sql", "SUCCESS", "1", "", "", "", "ran"},
				{"check", "sql", "FAILED", "3", "WarehouseUnavailable", locked, "", "ran"},
				{"audit", "sql", "FAILED", "1", "SQLError", mismatch, "", "ran"},
				{"publish", "sql", "UPSTREAM_FAILED", "0", "", "", "", "not run"},
			},
			Attempts: [][]string{
				{"audit", "1", "FAILED", "SQLError", mismatch},
				{"check", "1", "FAILED", "WarehouseUnavailable", locked},
				{"check", "2", "FAILED", "WarehouseUnavailable", locked},
				{"check", "3", "FAILED", "WarehouseUnavailable", locked},
				{"extract", "1", "SUCCESS", "", ""},
			},
			Errors: [][]string{
				{"audit", "1", "SQLError", mismatch, detail},
				{"check", "1", "WarehouseUnavailable", locked, ""},
				{"check", "2", "WarehouseUnavailable", locked, ""},
				{"check", "3", "WarehouseUnavailable", locked, ""},
			},
		}, dumpHistory(t, s, ids["failing"]))
	})
	t.Run("Timeout", func(t *testing.T) {
		timedOut := "task sleepy timed out after 2s"
		require.Equal(t, historyRows{
			Run:      []string{"slow", "local", "MANUAL", "FAILED", "", ""},
			Tasks:    [][]string{{"sleepy", "sql", "TIMEDOUT", "1", "TaskTimeout", timedOut, "", "ran"}},
			Attempts: [][]string{{"sleepy", "1", "TIMEDOUT", "TaskTimeout", timedOut}},
			// the detail is what the interrupted statement returned
			Errors: [][]string{{"sleepy", "1", "TaskTimeout", timedOut, "timeout: context deadline exceeded"}},
		}, dumpHistory(t, s, ids["slow"]))
	})
	t.Run("Cancel", func(t *testing.T) {
		require.Equal(t, historyRows{
			Run: []string{"long", "local", "MANUAL", "CANCELED", "", ""},
			Tasks: [][]string{
				{"first", "sql", "SUCCESS", "1", "", "", "", "ran"},
				{"hold", "sql", "CANCELED", "1", "TaskCanceled", "canceled", "", "ran"},
				{"after", "sql", "CANCELED", "0", "", "", "", "not run"},
			},
			Attempts: [][]string{
				{"first", "1", "SUCCESS", "", ""},
				{"hold", "1", "CANCELED", "TaskCanceled", "canceled"},
			},
			Errors: [][]string{{"hold", "1", "TaskCanceled", "canceled", ""}},
		}, dumpHistory(t, s, ids["long"]))
	})

	t.Run("Runs", func(t *testing.T) {
		code, out := sb.sluice("runs")
		require.Equal(t, 0, code, out)
		for p, want := range map[string]string{
			"ok": "SUCCESS", "flaky": "SUCCESS", "failing": "FAILED", "slow": "FAILED", "long": "CANCELED",
		} {
			rows := linesWith(out, " "+p+" ", ids[p])
			require.Len(t, rows, 1, out)
			require.Contains(t, rows[0], "  MANUAL   "+want+" ", rows[0])
		}
		require.Regexp(t, `failing\s+local\s+MANUAL\s+FAILED\s+\S+\s+check,audit,publish\s+sluice/failing/local/2026-11-01\n`, out)
		require.Regexp(t, `long\s+local\s+MANUAL\s+CANCELED\s+\S+\s+hold,after\s+sluice/long/local/2026-11-01\n`, out)

		code, out = sb.sluice("runs", "--status", "FAILED", "-o", "json")
		require.Equal(t, 0, code, out)
		var rows []map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &rows))
		var got []string
		for _, r := range rows {
			got = append(got, r["workflow_id"].(string))
		}
		require.ElementsMatch(t, []string{ids["failing"], ids["slow"]}, got)
	})
	t.Run("RunInfo", func(t *testing.T) {
		code, out := sb.sluice("run-info", ids["flaky"])
		require.Equal(t, 0, code, out)
		require.True(t, strings.HasPrefix(out, "flaky in local: SUCCESS\n"), out)
		require.Contains(t, out, "  trigger       MANUAL\n  logical date  2026-11-01\n")
		require.Regexp(t, `\nload\s+sql\s+SUCCESS\s+2\s+\S+\s+-\s+2 statements, 1 row\n`, out)
		require.Regexp(t, `\n  load #1\s+FAILED\s+[-0-9: ]+\s+\S+\s+WarehouseUnavailable: warehouse unavailable: ERROR: could not serialize access due to concurrent update \(SQLSTATE 40001\)\n`, out)
		require.Regexp(t, `\n  load #2\s+SUCCESS\s+`, out)
		require.Contains(t, out, "\nNotifications\n  none sent\n")

		code, out = sb.sluice("run-info", ids["failing"], "-o", "json")
		require.Equal(t, 0, code, out)
		var info struct {
			Status string `json:"status"`
			Tasks  []struct {
				Key      string `json:"key"`
				Attempts []struct {
					Error *struct{ Type, Message, Detail string } `json:"error"`
				} `json:"attempts"`
			} `json:"tasks"`
			Deliveries []any `json:"deliveries"`
			RepairedBy []any `json:"repaired_by"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &info))
		require.Equal(t, "FAILED", info.Status)
		require.Equal(t, "audit", info.Tasks[2].Key)
		require.Equal(t, "expected 10 got 9\nreload the orders of the day\nPL/pgSQL function inline_code_block line 1 at RAISE",
			info.Tasks[2].Attempts[0].Error.Detail)
		require.Empty(t, info.Deliveries)
		require.Empty(t, info.RepairedBy)
	})
	t.Run("Logs", func(t *testing.T) {
		code, out := sb.sluice("logs", ids["failing"], "--task", "audit")
		require.Equal(t, 0, code, out)
		require.Regexp(t, `^== audit \(sql\): FAILED, 1 attempt\n`+
			`attempt 1 FAILED at [-0-9: ]+ \(\S+\)\n`+
			`  SQLError: statements\[0\]: orders total mismatch \(SQLSTATE P0001\)\n`+
			`    expected 10 got 9\n`+
			`    reload the orders of the day\n`+
			`    PL/pgSQL function inline_code_block line 1 at RAISE\n`, out)
		code, out = sb.sluice("logs", ids["failing"])
		require.Equal(t, 0, code, out)
		require.Equal(t, 3, strings.Count(out, "  WarehouseUnavailable: warehouse unavailable: ERROR: orders table is locked (SQLSTATE 40001)\n"), out)
		require.Contains(t, out, "== publish (sql): UPSTREAM_FAILED, not run\n")
	})
	t.Run("Stats", func(t *testing.T) {
		code, out := sb.sluice("stats", "--since", "1d", "-o", "json")
		require.Equal(t, 0, code, out)
		var st store.Stats
		require.NoError(t, json.Unmarshal([]byte(out), &st))
		byName := map[string]store.PipelineStats{}
		for _, p := range st.Pipelines {
			byName[p.Pipeline] = p
		}
		require.Len(t, byName, 5)
		// One run each: the rate is 100 or 0, and p50 = p95 = the run's
		// duration as history has it; the canceled run has no rate.
		for p, rate := range map[string]float64{"ok": 100, "flaky": 100, "failing": 0, "slow": 0} {
			c := byName[p].Current
			require.Equal(t, 1, c.Runs, p)
			require.InDelta(t, rate, *c.SuccessRate, 1e-9, p)
			secs := runSeconds(t, s, ids[p])
			require.InDelta(t, secs, *c.P50Seconds, 1e-6, p)
			require.InDelta(t, secs, *c.P95Seconds, 1e-6, p)
			require.Equal(t, rate < 95, byName[p].BelowTarget, p)
		}
		long := byName["long"].Current
		require.Equal(t, store.RunCounts{Runs: 1, Canceled: 1}, long)
		var check store.TaskStats
		for _, ts := range byName["failing"].Tasks {
			if ts.Task == "check" {
				check = ts
			}
		}
		require.Equal(t, 1, check.Runs)
		require.Equal(t, 1, check.Failures)
		require.Equal(t, 3, check.FailedAttempts)

		code, out = sb.sluice("stats", "--since", "1d")
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "\nBelow the 95% target:\n")
		require.Contains(t, out, "\n  failing in local: 0.0% success (0 of 1 runs not canceled)\n")
		require.Contains(t, out, "\n  slow in local: 0.0% success (0 of 1 runs not canceled)\n")
		require.Len(t, linesWith(out, "below 95% target"), 2, out)
	})
}

// runSeconds is a run's duration as history has it.
func runSeconds(t *testing.T, s *store.Store, workflowID string) float64 {
	t.Helper()
	var secs float64
	require.NoError(t, s.Pool().QueryRow(context.Background(),
		`SELECT EXTRACT(EPOCH FROM ended_at - started_at)::float8 FROM runs WHERE workflow_id = $1`, workflowID).Scan(&secs))
	return secs
}
