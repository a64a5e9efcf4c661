package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/store"
)

// seedRuns writes a small history: two daily runs (one failed), a repair
// of the failed one, a running hourly run and an old daily run.
func seedRuns(e *opsEnv) {
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	e.saveRun(run.Status{Pipeline: "daily", Env: "prod", WorkflowID: "sluice/daily/prod/old", Trigger: run.TriggerScheduled,
		Status: dag.StatusSuccess, StartedAt: e.now.Add(-10 * 24 * time.Hour), LogicalDate: day.Add(-10 * 24 * time.Hour)}, 90,
		histTask{key: "extract", typ: "sql", state: dag.Success, secs: 5, attempts: []run.Attempt{ok()}})
	e.saveRun(run.Status{Pipeline: "daily", Env: "prod", WorkflowID: "sluice/daily/prod/d1", Trigger: run.TriggerScheduled,
		Status: dag.StatusSuccess, StartedAt: e.now.Add(-3 * time.Hour), LogicalDate: day, PlanHash: "abc123",
		Params: map[string]any{"orders": 100.0, "full_refresh": false}}, 100,
		histTask{key: "extract", typ: "sql", state: dag.Success, secs: 10, attempts: []run.Attempt{ok()},
			output: map[string]any{"statements": 1.0, "rows_affected": 5.0}},
		histTask{key: "load", typ: "sql", state: dag.Success, secs: 50, attempts: []run.Attempt{
			failed("WarehouseUnavailable", "warehouse unavailable: connection refused", ""), ok()},
			output: map[string]any{"statements": 2.0, "rows_affected": 1.0}})
	e.saveRun(run.Status{Pipeline: "daily", Env: "prod", WorkflowID: "sluice/daily/prod/d2", Trigger: run.TriggerManual,
		Status: dag.StatusFailed, StartedAt: e.now.Add(-2 * time.Hour), LogicalDate: day, PlanHash: "abc123"}, 400,
		histTask{key: "extract", typ: "sql", state: dag.Success, secs: 10, attempts: []run.Attempt{ok()},
			output: map[string]any{"statements": 1.0, "rows_affected": 5.0}},
		histTask{key: "load", typ: "sql", state: dag.Failed, secs: 300, attempts: []run.Attempt{
			failed("SQLError", "statements[0]: orders total mismatch (SQLSTATE P0001)", "expected 10 got 9\nreload orders\nPL/pgSQL function inline_code_block line 1 at RAISE"),
			failed("SQLError", "statements[0]: orders total mismatch (SQLSTATE P0001)", "expected 10 got 8\nreload orders\nPL/pgSQL function inline_code_block line 1 at RAISE")}},
		histTask{key: "publish", typ: "notify", state: dag.UpstreamFailed})
	e.saveRun(run.Status{Pipeline: "daily", Env: "prod", WorkflowID: "sluice/daily/prod/d2/repair-1", Trigger: run.TriggerRepair,
		Status: dag.StatusSuccess, StartedAt: e.now.Add(-time.Hour), LogicalDate: day, PlanHash: "abc123", RepairOf: "sluice/daily/prod/d2"}, 61.5,
		histTask{key: "extract", typ: "sql", state: dag.Success, reused: "sluice/daily/prod/d2",
			output: map[string]any{"statements": 1.0, "rows_affected": 5.0}},
		histTask{key: "load", typ: "sql", state: dag.Success, secs: 40, attempts: []run.Attempt{ok()},
			output: map[string]any{"statements": 2.0, "rows_affected": 3.0}},
		histTask{key: "publish", typ: "notify", state: dag.Success, secs: 1, attempts: []run.Attempt{ok()},
			output: map[string]any{"message": "daily published", "delivered": []any{"console"}}})
	e.saveRun(run.Status{Pipeline: "hourly", Env: "dev", WorkflowID: "sluice/hourly/dev/h1", Trigger: run.TriggerScheduled,
		Status: dag.StatusRunning, StartedAt: e.now.Add(-10 * time.Minute), LogicalDate: e.now.Add(-10 * time.Minute)}, 0,
		histTask{key: "ping", typ: "noop", state: dag.Running, secs: 1, attempts: []run.Attempt{{State: dag.Running}}})
}

func local(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }

func TestRunsCommand(t *testing.T) {
	t.Parallel()
	e := setupOps(t, "plain")
	seedRuns(e)

	t.Run("Table", func(t *testing.T) {
		t.Parallel()
		code, out, errOut := e.sluice("runs")
		require.Equal(t, 0, code, errOut)
		require.Empty(t, errOut, "no schedule buffers runs in this project: Temporal is not asked")
		require.Equal(t, strings.Join([]string{
			"STARTED              PIPELINE  ENV   TRIGGER    STATUS   DURATION  FAILED TASKS  WORKFLOW ID",
			local(e.now.Add(-10*time.Minute)) + "  hourly    dev   SCHEDULED  RUNNING  -         -             sluice/hourly/dev/h1",
			local(e.now.Add(-time.Hour)) + "  daily     prod  REPAIR     SUCCESS  1m2s      -             sluice/daily/prod/d2/repair-1",
			local(e.now.Add(-2*time.Hour)) + "  daily     prod  MANUAL     FAILED   6m40s     load,publish  sluice/daily/prod/d2",
			local(e.now.Add(-3*time.Hour)) + "  daily     prod  SCHEDULED  SUCCESS  1m40s     -             sluice/daily/prod/d1",
			local(e.now.Add(-240*time.Hour)) + "  daily     prod  SCHEDULED  SUCCESS  1m30s     -             sluice/daily/prod/old",
			""}, "\n"), out)

		// history is the same command
		code, again, _ := e.sluice("history")
		require.Equal(t, 0, code)
		require.Equal(t, out, again)
	})
	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		code, out, errOut := e.sluice("runs", "--status", "failed")
		require.Equal(t, 0, code, errOut)
		require.Equal(t, 2, strings.Count(out, "\n"), out)
		require.Contains(t, out, "sluice/daily/prod/d2\n")

		code, out, errOut = e.sluice("runs", "--pipeline", "daily", "--since", "1d", "--limit", "2")
		require.Equal(t, 0, code, errOut)
		require.Equal(t, 3, strings.Count(out, "\n"), out)
		require.Contains(t, out, "sluice/daily/prod/d2/repair-1\n")
		require.Contains(t, out, "sluice/daily/prod/d2\n")

		code, out, _ = e.sluice("runs", "--env", "staging")
		require.Equal(t, 0, code)
		require.Equal(t, "STARTED  PIPELINE  ENV  TRIGGER  STATUS  DURATION  FAILED TASKS  WORKFLOW ID\n(no runs)\n", out)

		code, out, _ = e.sluice("runs", "--status", "QUEUED")
		require.Equal(t, 0, code)
		require.Contains(t, out, "(no runs)")
	})
	t.Run("JSON", func(t *testing.T) {
		t.Parallel()
		code, out, errOut := e.sluice("runs", "--pipeline", "daily", "--status", "FAILED", "-o", "json")
		require.Equal(t, 0, code, errOut)
		var rows []map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &rows))
		require.Len(t, rows, 1)
		started, ended := e.now.Add(-2*time.Hour), e.now.Add(-2*time.Hour+400*time.Second)
		require.Equal(t, map[string]any{
			"workflow_id": "sluice/daily/prod/d2", "run_id": "run-sluice/daily/prod/d2", "pipeline": "daily", "env": "prod",
			"trigger": "MANUAL", "status": "FAILED", "logical_date": "2026-11-22T00:00:00Z",
			"started_at": started.Format(time.RFC3339), "ended_at": ended.Format(time.RFC3339), "duration_seconds": 400.0,
			"failed_tasks": []any{"load", "publish"},
		}, normalizeTimes(rows[0]))

		code, out, _ = e.sluice("runs", "--pipeline", "nothing", "-o", "json")
		require.Equal(t, 0, code)
		require.Equal(t, "[]\n", out)
	})
	t.Run("BadFlags", func(t *testing.T) {
		t.Parallel()
		code, _, errOut := e.sluice("runs", "--status", "DONE")
		require.Equal(t, 1, code)
		require.Equal(t, "sluice: --status DONE: use one of QUEUED, RUNNING, SUCCESS, SUCCESS_WITH_FAILURES, FAILED, TIMEDOUT, CANCELED\n", errOut)
		code, _, errOut = e.sluice("runs", "--since", "yesterday")
		require.Equal(t, 1, code)
		require.Equal(t, "sluice: --since \"yesterday\": use a duration such as 24h or 30d\n", errOut)
	})
}

// normalizeTimes rewrites RFC 3339 times of a JSON object in UTC, second
// precision, so that they compare with times built in the test.
func normalizeTimes(m map[string]any) map[string]any {
	for k, v := range m {
		if s, ok := v.(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				m[k] = t.UTC().Format(time.RFC3339)
			}
		}
	}
	return m
}

func TestRunsQueuedNeedsTemporal(t *testing.T) {
	t.Parallel()
	e := setupOps(t, "buffered")
	seedRuns(e)
	start := time.Now()
	code, out, errOut := e.sluice("runs", "--pipeline", "hourly")
	require.Equal(t, 0, code, errOut)
	require.Less(t, time.Since(start), queuedTimeout+5*time.Second, "history does not wait long for Temporal")
	require.True(t, strings.HasPrefix(errOut, "sluice: runs queued by schedules are not shown: connecting to Temporal at 127.0.0.1:1: "), errOut)
	require.Contains(t, out, "sluice/hourly/dev/h1\n", "history is listed all the same")
}

// fakeBuffers stands in for Temporal's schedules in queuedRows tests.
type fakeBuffers struct {
	ids     []string
	buffers map[string]int
	waiting map[string][]string
	err     error
	asked   []string
}

func (f *fakeBuffers) ListIDs(_ context.Context, prefix string) ([]string, error) {
	var out []string
	for _, id := range f.ids {
		if strings.HasPrefix(id, prefix) {
			out = append(out, id)
		}
	}
	return out, nil
}

func (f *fakeBuffers) Buffered(_ context.Context, id string) (int, []string, bool, error) {
	f.asked = append(f.asked, id)
	if f.err != nil {
		return 0, nil, false, f.err
	}
	n, ok := f.buffers[id]
	return n, f.waiting[id], ok, nil
}

func TestQueuedRows(t *testing.T) {
	t.Parallel()
	newFake := func() *fakeBuffers {
		return &fakeBuffers{
			ids:     []string{"other-schedule", "sluice/p/daily/prod", "sluice/p/daily/dev", "sluice/p/hourly/prod"},
			buffers: map[string]int{"sluice/p/daily/prod": 2, "sluice/p/daily/dev": 0, "sluice/p/hourly/prod": 1},
			waiting: map[string][]string{"sluice/p/daily/prod": {"sluice/p/daily/prod-2026-11-22T06:00:00Z"}},
		}
	}
	t.Run("EverySluiceSchedule", func(t *testing.T) {
		t.Parallel()
		f := newFake()
		rows, err := queuedRows(context.Background(), f, nil, "", "")
		require.NoError(t, err)
		require.Equal(t, []runRow{
			{Pipeline: "daily", Env: "prod", Trigger: "SCHEDULED", Status: dag.StatusQueued, ScheduleID: "sluice/p/daily/prod",
				Queued: 2, WaitingFor: []string{"sluice/p/daily/prod-2026-11-22T06:00:00Z"}},
			{Pipeline: "hourly", Env: "prod", Trigger: "SCHEDULED", Status: dag.StatusQueued, ScheduleID: "sluice/p/hourly/prod", Queued: 1},
		}, rows)
		require.Equal(t, []string{"sluice/p/daily/prod", "sluice/p/daily/dev", "sluice/p/hourly/prod"}, f.asked, "only Sluice's schedules")
	})
	t.Run("Filtered", func(t *testing.T) {
		t.Parallel()
		f := newFake()
		rows, err := queuedRows(context.Background(), f, []string{"sluice/p/daily/prod", "sluice/p/daily/dev", "sluice/p/gone/prod"}, "daily", "prod")
		require.NoError(t, err)
		require.Len(t, rows, 1)
		require.Equal(t, []string{"sluice/p/daily/prod"}, f.asked, "filters apply before asking")
	})
	t.Run("Error", func(t *testing.T) {
		t.Parallel()
		f := newFake()
		f.err = errors.New("unavailable")
		_, err := queuedRows(context.Background(), f, nil, "", "")
		require.EqualError(t, err, "unavailable")
	})
	t.Run("Table", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		rows, err := queuedRows(context.Background(), newFake(), nil, "", "")
		require.NoError(t, err)
		require.NoError(t, writeRuns(&b, rows))
		require.Equal(t, strings.Join([]string{
			"STARTED  PIPELINE  ENV   TRIGGER    STATUS  DURATION  FAILED TASKS  WORKFLOW ID",
			"-        daily     prod  SCHEDULED  QUEUED  -         -             schedule sluice/p/daily/prod: 2 starts waiting for sluice/p/daily/prod-2026-11-22T06:00:00Z",
			"-        hourly    prod  SCHEDULED  QUEUED  -         -             schedule sluice/p/hourly/prod: 1 start",
			""}, "\n"), b.String())
	})
}

func TestRunInfoCommand(t *testing.T) {
	t.Parallel()
	e := setupOps(t, "plain")
	seedRuns(e)
	ctx := context.Background()
	d2 := "sluice/daily/prod/d2"
	for _, d := range []store.Delivery{
		{DeliveryID: d2 + "/run-" + d2 + "/on_failure/mail", Event: "on_failure", Channel: "mail", ChannelType: "email"},
		{DeliveryID: d2 + "/run-" + d2 + "/on_failure/slack", Event: "on_failure", Channel: "slack", ChannelType: "slack"},
	} {
		d.WorkflowID, d.RunID = d2, "run-"+d2
		_, err := e.store.BeginDelivery(ctx, d)
		require.NoError(t, err)
	}
	require.NoError(t, e.store.EndDelivery(ctx, d2+"/run-"+d2+"/on_failure/mail", store.DeliverySent, ""))
	require.NoError(t, e.store.EndDelivery(ctx, d2+"/run-"+d2+"/on_failure/slack", store.DeliveryFailed, "slack: posting to slack: HTTP 410: channel_is_archived"))
	sent, err := e.store.Deliveries(ctx, d2, "")
	require.NoError(t, err)

	t.Run("Text", func(t *testing.T) {
		t.Parallel()
		code, out, errOut := e.sluice("run-info", d2)
		require.Equal(t, 0, code, errOut)
		start := e.now.Add(-2 * time.Hour)
		task0 := start.Add(time.Second)
		require.Equal(t, strings.Join([]string{
			"daily in prod: FAILED",
			"  workflow id   sluice/daily/prod/d2",
			"  run id        run-sluice/daily/prod/d2",
			"  trigger       MANUAL",
			"  logical date  2026-11-22",
			"  started       " + local(start),
			"  ended         " + local(start.Add(400*time.Second)) + " (6m40s)",
			"  plan hash     abc123",
			"  repaired by   sluice/daily/prod/d2/repair-1 (SUCCESS)",
			"",
			"TASK     TYPE    STATE            ATTEMPTS  DURATION  REUSED FROM  OUTPUT",
			"extract  sql     SUCCESS          1         10s       -            1 statement, 5 rows",
			"load     sql     FAILED           2         5m0s      -            ",
			"publish  notify  UPSTREAM_FAILED  0         -         -            ",
			"",
			"Attempts",
			"  extract #1  SUCCESS  " + local(task0) + "  10s    ",
			"  load #1     FAILED   " + local(task0.Add(10*time.Second)) + "  2m30s  SQLError: statements[0]: orders total mismatch (SQLSTATE P0001)",
			"  load #2     FAILED   " + local(task0.Add(160*time.Second)) + "  2m30s  SQLError: statements[0]: orders total mismatch (SQLSTATE P0001)",
			"",
			"load #1 SQLError: statements[0]: orders total mismatch (SQLSTATE P0001)",
			"  expected 10 got 9",
			"  reload orders",
			"  PL/pgSQL function inline_code_block line 1 at RAISE",
			"",
			"load #2 SQLError: statements[0]: orders total mismatch (SQLSTATE P0001)",
			"  expected 10 got 8",
			"  reload orders",
			"  PL/pgSQL function inline_code_block line 1 at RAISE",
			"",
			"Outputs",
			`  extract  {"rows_affected":5,"statements":1}`,
			"",
			"Notifications",
			"  EVENT       CHANNEL  TYPE   STATUS  ATTEMPTS  SENT                 ERROR",
			"  on_failure  mail     email  sent    1         " + local(*sent[0].SentAt) + "  ",
			"  on_failure  slack    slack  failed  1         -                    slack: posting to slack: HTTP 410: channel_is_archived",
			"",
			"Web UI: http://localhost:8233/namespaces/default/workflows/sluice%2Fdaily%2Fprod%2Fd2/run-sluice/daily/prod/d2",
			"errors in full: sluice logs sluice/daily/prod/d2",
			""}, "\n"), out)
	})
	t.Run("Repair", func(t *testing.T) {
		t.Parallel()
		code, out, errOut := e.sluice("run-info", d2+"/repair-1")
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "  repair of     sluice/daily/prod/d2\n")
		require.NotContains(t, out, "repaired by")
		require.Regexp(t, `\nextract\s+sql\s+SUCCESS\s+0\s+-\s+sluice/daily/prod/d2\s+1 statement, 5 rows\n`, out)
		require.Contains(t, out, "\nNotifications\n  none sent\n")
		require.NotContains(t, out, "sluice logs", "nothing failed")
	})
	t.Run("JSON", func(t *testing.T) {
		t.Parallel()
		code, out, errOut := e.sluice("run-info", d2, "-o", "json")
		require.Equal(t, 0, code, errOut)
		var got struct {
			run.Status
			Deliveries []store.Delivery   `json:"deliveries"`
			RepairedBy []store.RunSummary `json:"repaired_by"`
			Extra      map[string]any     `json:"-"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &got))
		require.Equal(t, dag.StatusFailed, got.Status.Status)
		require.Len(t, got.Tasks, 3)
		require.Len(t, got.Task("load").Attempts, 2)
		require.Equal(t, "expected 10 got 8\nreload orders\nPL/pgSQL function inline_code_block line 1 at RAISE", got.Task("load").Attempts[1].Error.Detail)
		require.Len(t, got.Deliveries, 2)
		require.Equal(t, "sent", got.Deliveries[0].Status)
		require.Equal(t, "failed", got.Deliveries[1].Status)
		require.Len(t, got.RepairedBy, 1)
		require.Equal(t, "sluice/daily/prod/d2/repair-1", got.RepairedBy[0].WorkflowID)
	})
	t.Run("Missing", func(t *testing.T) {
		t.Parallel()
		code, _, errOut := e.sluice("run-info", "sluice/nope")
		require.Equal(t, 1, code)
		require.Equal(t, "sluice: no run sluice/nope in run history: list runs with `sluice runs`\n", errOut)
		code, _, errOut = e.sluice("run-info", d2, "--run-id", "other")
		require.Equal(t, 1, code)
		require.Equal(t, "sluice: no run other of sluice/daily/prod/d2 in run history: list runs with `sluice runs`\n", errOut)
	})
}

func TestLogsCommand(t *testing.T) {
	t.Parallel()
	e := setupOps(t, "plain")
	seedRuns(e)
	plain, err := filepath.Abs(filepath.Join("testdata", "logs", "task.log"))
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "00_run"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "00_run", "dbt_stderr.log"), []byte("warning: slow\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "00_run", "manifest.json"), []byte("{}"), 0o644))
	e.saveRun(run.Status{Pipeline: "logs", Env: "prod", WorkflowID: "sluice/logs/prod/1", Status: dag.StatusFailed, StartedAt: e.now.Add(-time.Minute)}, 30,
		histTask{key: "plain", typ: "dbt", state: dag.Success, secs: 1, attempts: []run.Attempt{ok()},
			output: map[string]any{"log_uri": "file://" + plain}},
		histTask{key: "folder", typ: "dbt", state: dag.Success, secs: 1, attempts: []run.Attempt{ok()},
			output: map[string]any{"log_uri": "file://" + dir}},
		histTask{key: "remote", typ: "databricks_job", state: dag.Failed, secs: 1,
			attempts: []run.Attempt{failed("JobRunFailed", "run 42 FAILED", "notebook cell 3: division by zero")},
			output:   map[string]any{"log_uri": "dbfs:/logs/run-42", "run_page_url": "https://dbc.example.com/#job/1/run/42"}},
		histTask{key: "elsewhere", typ: "dbt", state: dag.Success, secs: 1, attempts: []run.Attempt{ok()},
			output: map[string]any{"log_uri": "file:///nonexistent/worker/dbt_log.jsonl"}})

	t.Run("LocalFileAndFolder", func(t *testing.T) {
		t.Parallel()
		code, out, errOut := e.sluice("logs", "sluice/logs/prod/1", "--task", "plain")
		require.Equal(t, 0, code, errOut)
		require.True(t, strings.HasPrefix(out, strings.Join([]string{
			"== plain (dbt): SUCCESS, 1 attempt",
			"attempt 1 SUCCESS at " + local(e.now.Add(-time.Minute+time.Second)) + " (1s)",
			"log: file://" + plain,
			"line 1: starting",
			"line 2: working",
			"line 3: done",
			"",
			"Task activities also log",
		}, "\n")), out)
		code, out, _ = e.sluice("logs", "sluice/logs/prod/1", "--task", "plain", "--tail", "1")
		require.Equal(t, 0, code)
		require.Contains(t, out, "log: file://"+plain+"\nline 3: done\n\n")

		code, out, _ = e.sluice("logs", "sluice/logs/prod/1", "--task", "folder")
		require.Equal(t, 0, code)
		require.Contains(t, out, "log: file://"+dir+"\n--- 00_run/dbt_stderr.log\nwarning: slow\n\n", "log files only, not manifests")
	})
	t.Run("NotLocal", func(t *testing.T) {
		t.Parallel()
		code, out, _ := e.sluice("logs", "sluice/logs/prod/1")
		require.Equal(t, 0, code)
		require.Contains(t, out, strings.Join([]string{
			"== remote (databricks_job): FAILED, 1 attempt",
			"attempt 1 FAILED at " + local(e.now.Add(-time.Minute+3*time.Second)) + " (1s)",
			"  JobRunFailed: run 42 FAILED",
			"    notebook cell 3: division by zero",
			"run_page_url: https://dbc.example.com/#job/1/run/42",
			"log: dbfs:/logs/run-42 (not a file on this machine: open it where it is)",
		}, "\n"))
		require.Contains(t, out, "log: file:///nonexistent/worker/dbt_log.jsonl (not found on this machine: it is on the worker that ran the task; read it there)\n")
	})
	t.Run("FullErrors", func(t *testing.T) {
		t.Parallel()
		code, out, _ := e.sluice("logs", "sluice/daily/prod/d2")
		require.Equal(t, 0, code)
		require.Contains(t, out, strings.Join([]string{
			"== load (sql): FAILED, 2 attempts",
			"attempt 1 FAILED at " + local(e.now.Add(-2*time.Hour+11*time.Second)) + " (2m30s)",
			"  SQLError: statements[0]: orders total mismatch (SQLSTATE P0001)",
			"    expected 10 got 9",
			"    reload orders",
			"    PL/pgSQL function inline_code_block line 1 at RAISE",
			"attempt 2 FAILED at " + local(e.now.Add(-2*time.Hour+161*time.Second)) + " (2m30s)",
			"  SQLError: statements[0]: orders total mismatch (SQLSTATE P0001)",
			"    expected 10 got 8",
			"",
		}, "\n"))
		require.Contains(t, out, "\n== publish (notify): UPSTREAM_FAILED, not run\n")

		code, out, _ = e.sluice("logs", "sluice/daily/prod/d2", "--task", "load", "-o", "json")
		require.Equal(t, 0, code)
		var logs []taskLog
		require.NoError(t, json.Unmarshal([]byte(out), &logs))
		require.Len(t, logs, 1)
		require.Equal(t, "load", logs[0].Task)
		require.Len(t, logs[0].Attempts, 2)
		require.Equal(t, "SQLError", logs[0].Attempts[0].Error.Type)
		require.Equal(t, "expected 10 got 9\nreload orders\nPL/pgSQL function inline_code_block line 1 at RAISE", logs[0].Attempts[0].Error.Detail)
	})
	t.Run("UnknownTask", func(t *testing.T) {
		t.Parallel()
		code, _, errOut := e.sluice("logs", "sluice/daily/prod/d2", "--task", "lod")
		require.Equal(t, 1, code)
		require.Equal(t, "sluice: run sluice/daily/prod/d2 has no task \"lod\" (its tasks: extract, load, publish)\n", errOut)
	})
}

// TestLogsRendersDbtJSON reads a real dbt 1.8.2 `--log-format json` log
// (shared testdata): info, warning and error events are shown as dbt's
// console shows them, debug events are left out, --raw keeps the lines.
func TestLogsRendersDbtJSON(t *testing.T) {
	t.Parallel()
	path, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "testdata", "dbt", "logs", "postgres_run__failed_run_logs.jsonl"))
	require.NoError(t, err)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("shared testdata not found at ../shared/testdata: dbt log rendering is checked where it is present (CI)")
	}
	require.NoError(t, err)
	// The expected console view, read off the file itself.
	var want strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var ev struct {
			Info struct{ Level, Msg, TS string } `json:"info"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &ev))
		if ev.Info.Level == "debug" {
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, ev.Info.TS)
		require.NoError(t, err)
		level := ""
		if ev.Info.Level != "info" {
			level = "[" + ev.Info.Level + "] "
		}
		fmt.Fprintf(&want, "%s  %s%s\n", ts.Format("15:04:05"), level, ev.Info.Msg)
	}
	require.Contains(t, want.String(), "[error] 1 of 1 ERROR creating sql table model public.orders")

	e := setupOps(t, "plain")
	// A failed dbt attempt names its log in its error detail, as the dbt
	// task writes it.
	detail := "1 failing node:\n  model orders [error]: syntax error at or near \"final\"\nlog: file://" + path + "\nartifacts: file:///tmp/a/"
	e.saveRun(run.Status{Pipeline: "dbt", Env: "prod", WorkflowID: "sluice/dbt/prod/1", Status: dag.StatusFailed, StartedAt: e.now}, 10,
		histTask{key: "run_dbt", typ: "dbt", state: dag.Failed, secs: 7,
			attempts: []run.Attempt{failed("error", "dbt project jaffle_shop: dbt run failed", detail)}})
	code, out, errOut := e.sluice("logs", "sluice/dbt/prod/1")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "  error: dbt project jaffle_shop: dbt run failed\n"+
		"    1 failing node:\n"+
		"      model orders [error]: syntax error at or near \"final\"\n"+
		"    log: file://"+path+"\n"+
		"    artifacts: file:///tmp/a/\n"+
		"log: file://"+path+"\n"+want.String()+"\n")
	require.NotContains(t, out, "SQL status: BEGIN")

	code, out, _ = e.sluice("logs", "sluice/dbt/prod/1", "-o", "json")
	require.Equal(t, 0, code)
	var logs []taskLog
	require.NoError(t, json.Unmarshal([]byte(out), &logs))
	require.Len(t, logs[0].Logs, 1)
	require.Equal(t, logFile{Attempt: 1, URI: "file://" + path, Content: string(raw)}, logs[0].Logs[0])

	code, out, _ = e.sluice("logs", "sluice/dbt/prod/1", "--raw", "--tail", "2")
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	require.Contains(t, out, "log: file://"+path+"\n"+strings.Join(lines[len(lines)-2:], "\n")+"\n")
}

// seedStats writes runs in the last 30 days and the 30 before, with
// durations whose figures are worked out by hand in TestStatsCommand.
func seedStats(e *opsEnv) {
	at := func(daysAgo int) time.Time { return e.now.Add(-time.Duration(daysAgo) * 24 * time.Hour) }
	r := func(id string, status dag.Status, daysAgo int) run.Status {
		return run.Status{Pipeline: "daily", Env: "prod", WorkflowID: id, Status: status, StartedAt: at(daysAgo)}
	}
	sqlTask := func(secs float64, state dag.State) histTask {
		a := ok()
		if state == dag.Failed {
			a = failed("SQLError", "boom", "")
		}
		return histTask{key: "load", typ: "sql", state: state, secs: secs, attempts: []run.Attempt{a}}
	}
	// last 30 days: 60 120 180 240 s; 3 of 4 succeeded: 75%, p50 150, p95 180 + 0.85*60 = 231
	e.saveRun(r("c1", dag.StatusSuccess, 1), 60, sqlTask(30, dag.Success))
	e.saveRun(r("c2", dag.StatusSuccess, 2), 120, sqlTask(40, dag.Success))
	e.saveRun(r("c3", dag.StatusSuccess, 3), 180, sqlTask(50, dag.Success))
	e.saveRun(r("c4", dag.StatusFailed, 4), 240, sqlTask(60, dag.Failed))
	// the 30 days before: 100 and 100 s, both succeeded: 100%, p50 100, p95 100
	e.saveRun(r("p1", dag.StatusSuccess, 40), 100, sqlTask(20, dag.Success))
	e.saveRun(r("p2", dag.StatusSuccess, 41), 100, sqlTask(20, dag.Success))
	// another pipeline, all good: 10 s
	e.saveRun(run.Status{Pipeline: "hourly", Env: "prod", WorkflowID: "h1", Status: dag.StatusSuccess, StartedAt: at(1)}, 10,
		histTask{key: "ping", typ: "noop", state: dag.Success, secs: 2, attempts: []run.Attempt{ok()}})
}

func TestStatsCommand(t *testing.T) {
	t.Parallel()
	e := setupOps(t, "plain")
	seedStats(e)

	t.Run("Text", func(t *testing.T) {
		t.Parallel()
		code, out, errOut := e.sluice("stats")
		require.Equal(t, 0, code, errOut)
		_, rest, found := strings.Cut(out, "\n\n")
		require.True(t, found, out)
		require.True(t, strings.HasPrefix(out, "Runs started in the last 30d ("), out)
		require.Equal(t, strings.Join([]string{
			"PIPELINE  ENV   RUNS  OK  PARTIAL  FAILED  TIMEDOUT  CANCELED  SUCCESS  CHANGE   P50    CHANGE  P95    CHANGE  NOTE",
			"daily     prod  4     3   0        1       0         0         75.0%    -25.0pp  2m30s  +50%    3m51s  +131%   below 95% target",
			"hourly    prod  1     1   0        0       0         0         100.0%   -        10s    -       10s    -       ",
			"",
			"Tasks",
			"PIPELINE  ENV   TASK  TYPE  RUNS  FAILURES  FAILED ATTEMPTS  P50  P95",
			"daily     prod  load  sql   4     1         1                45s  58.5s",
			"hourly    prod  ping  noop  1     0         0                2s   2s",
			"",
			"Slowest tasks (p95)",
			"1.  load  daily/prod   p95 58.5s  p50 45s",
			"2.  ping  hourly/prod  p95 2s     p50 2s",
			"",
			"Below the 95% target:",
			"  daily in prod: 75.0% success (3 of 4 runs not canceled)",
			""}, "\n"), rest)
	})
	t.Run("TargetAndFilter", func(t *testing.T) {
		t.Parallel()
		code, out, errOut := e.sluice("stats", "--pipeline", "daily", "--target", "70", "--since", "3d")
		require.Equal(t, 0, code, errOut)
		// the last 3 days: c1 c2 (c3 started 3 days ago, a moment before
		// the period): 60 and 120 s, p50 90, p95 60 + 0.95*60 = 117; the 3
		// days before: c3 c4, 50%, p50 210, p95 180 + 0.95*60 = 237.
		require.Contains(t, out, "\ndaily     prod  2     2   0        0       0         0         100.0%   +50.0pp  1m30s  -57%    1m57s  -51%    \n")
		require.Contains(t, out, "\nEvery pipeline that ran is at or above the 70% target.\n")
	})
	t.Run("JSON", func(t *testing.T) {
		t.Parallel()
		code, out, errOut := e.sluice("stats", "--env", "prod", "-o", "json")
		require.Equal(t, 0, code, errOut)
		var st store.Stats
		require.NoError(t, json.Unmarshal([]byte(out), &st))
		require.Equal(t, 95.0, st.Target)
		require.InDelta(t, 30*24*time.Hour, st.Until.Sub(st.Since), float64(time.Second))
		require.Len(t, st.Pipelines, 2)
		d := st.Pipelines[0]
		require.Equal(t, "daily", d.Pipeline)
		require.Equal(t, 4, d.Current.Runs)
		require.InDelta(t, 75, *d.Current.SuccessRate, 1e-9)
		require.InDelta(t, 150, *d.Current.P50Seconds, 1e-9)
		require.InDelta(t, 231, *d.Current.P95Seconds, 1e-9)
		require.InDelta(t, 100, *d.Previous.P95Seconds, 1e-9)
		require.InDelta(t, 0.5, *d.P50Change, 1e-9)
		require.InDelta(t, 1.31, *d.P95Change, 1e-9)
		require.True(t, d.BelowTarget)
		require.Len(t, st.Slowest, 2)
	})
	t.Run("BadFlags", func(t *testing.T) {
		t.Parallel()
		code, _, errOut := e.sluice("stats", "--target", "120")
		require.Equal(t, 1, code)
		require.Equal(t, "sluice: --target 120: give a success rate in percent, between 0 and 100 (e.g. 95)\n", errOut)
		code, _, errOut = e.sluice("stats", "--since", "0s")
		require.Equal(t, 1, code)
		require.Equal(t, "sluice: --since \"0s\": use a duration such as 24h or 30d\n", errOut)
	})
	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		code, out, _ := setupOps(t, "plain").sluice("stats")
		require.Equal(t, 0, code)
		require.True(t, strings.HasSuffix(out, "\n\nNo ended runs in either period.\n"), out)
	})
}
