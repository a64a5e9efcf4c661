package integration

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
)

func TestRunEndToEnd(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, "testdata/project")
	sb.startWorker()

	code, out := sb.sluice("run", "smoke", "--env", "local", "--date", "2026-11-22", "--param", "rows=250", "--wait")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "smoke in local: SUCCESS")
	// left inserts one log row and 250 numbers: rows_affected sums its statements
	require.Regexp(t, `report\s+notify\s+SUCCESS\s+1\s+\S+\s+smoke loaded 251 rows`, out)

	// The warehouse: every task ran once, for the logical date.
	rows := sb.query("SELECT task, logical_date::text FROM task_log ORDER BY task")
	require.Equal(t, [][]any{{"join", "2026-11-22"}, {"left", "2026-11-22"}, {"right", "2026-11-22"}}, rows)
	require.Equal(t, [][]any{{int64(250)}}, sb.query("SELECT count(*) FROM numbers"))

	// Run history.
	id := "sluice/smoke/local/2026-11-22"
	st, err := sb.store.GetRun(context.Background(), id, "")
	require.NoError(t, err)
	require.Equal(t, dag.StatusSuccess, st.Status)
	require.Equal(t, run.TriggerManual, st.Trigger)
	require.Equal(t, "2026-11-22", st.LogicalDate.Format(time.DateOnly))
	require.NotEmpty(t, st.PlanHash)
	require.Len(t, st.Tasks, 5)
	for _, task := range st.Tasks {
		require.Equal(t, dag.Success, task.State, task.Key)
		require.Len(t, task.Attempts, 1, task.Key)
		require.False(t, task.EndedAt.Before(task.StartedAt), task.Key)
	}
	require.Equal(t, []string{"prepare", "left", "right", "join", "report"}, keys(st))
	require.Equal(t, float64(251), st.Task("left").Output["rows_affected"])

	// The Web UI's filters: search attributes.
	list, err := sb.temporal("workflow", "list", "-q", `SluicePipeline="smoke" AND SluiceEnv="local" AND SluiceStatus="SUCCESS" AND SluiceTrigger="MANUAL"`)
	require.NoError(t, err, list)
	require.Contains(t, list, id)
	list, err = sb.temporal("workflow", "list", "-q", `SluiceLogicalDate >= "2026-11-22T00:00:00Z" AND SluiceLogicalDate < "2026-11-23T00:00:00Z"`)
	require.NoError(t, err, list)
	require.Contains(t, list, id)
	desc, err := sb.temporal("workflow", "describe", "--workflow-id", id)
	require.NoError(t, err, desc)
	require.Contains(t, desc, `smoke · local · 2026-11-22 · MANUAL`, "the static summary names the run")

	// sluice history and status read the same run.
	code, out = sb.sluice("history", "--pipeline", "smoke", "-o", "json")
	require.Equal(t, 0, code, out)
	var listed []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &listed))
	require.Len(t, listed, 1)
	require.Equal(t, "SUCCESS", listed[0]["status"])
	code, out = sb.sluice("status", id)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "smoke in local: SUCCESS")

	checkReplay(t, sb, id, "smoke_success")

	// A second run for the same date is allowed once the first has ended.
	code, out = sb.sluice("run", "smoke", "--date", "2026-11-22", "--wait")
	require.Equal(t, 0, code, out)
	require.Equal(t, [][]any{{int64(6)}}, sb.query("SELECT count(*) FROM task_log"))
}

func TestFailedRunReportsWhereAndWhy(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, "testdata/project")
	sb.startWorker()

	code, out := sb.sluice("run", "broken", "--date", "2026-11-20", "--wait")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "broken in local: FAILED")
	require.Contains(t, out, `bad FAILED: SQLError: statements[1]:1: syntax error at or near "SELEKT" (SQLSTATE 42601)`)

	id := "sluice/broken/local/2026-11-20"
	st, err := sb.store.GetRun(context.Background(), id, "")
	require.NoError(t, err)
	require.Equal(t, dag.StatusFailed, st.Status)
	require.Equal(t, dag.Success, st.Task("good").State)
	bad := st.Task("bad")
	require.Equal(t, dag.Failed, bad.State)
	require.Equal(t, "SQLError", bad.Error.Type)
	require.Len(t, bad.Attempts, 1)
	require.Equal(t, "SQLError", bad.Attempts[0].Error.Type)
	require.Equal(t, dag.UpstreamFailed, st.Task("after").State)

	list, err := sb.temporal("workflow", "list", "-q", `SluiceStatus="FAILED" AND SluiceFailedTasks="bad"`)
	require.NoError(t, err, list)
	require.Contains(t, list, id)
	checkReplay(t, sb, id, "broken_failed")
	show, err := sb.temporal("workflow", "describe", "--workflow-id", id)
	require.NoError(t, err, show)
	require.Contains(t, show, `broken FAILED: bad FAILED (SQLError: statements[1]:1: syntax error at or near "SELEKT" (SQLSTATE 42601)); after UPSTREAM_FAILED`)
}

func TestCancelRun(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, "testdata/project")
	sb.startWorker()
	code, out := sb.sluice("run", "crash", "--date", "2026-11-21")
	require.Equal(t, 0, code, out)
	id := "sluice/crash/local/2026-11-21"
	waitForTask(t, sb, id, "slow", dag.Running)

	code, out = sb.sluice("cancel", id)
	require.Equal(t, 0, code, out)
	code, out = sb.sluice("status", id, "--wait")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "crash in local: CANCELED")

	st, err := sb.store.GetRun(context.Background(), id, "")
	require.NoError(t, err)
	require.Equal(t, dag.StatusCanceled, st.Status)
	require.Equal(t, dag.Success, st.Task("first").State)
	require.Equal(t, dag.Canceled, st.Task("slow").State)
	require.Equal(t, dag.Canceled, st.Task("last").State)
	checkReplay(t, sb, id, "crash_canceled")
	// The canceled task's transaction was rolled back.
	require.Equal(t, [][]any{{"first"}}, sb.query("SELECT task FROM task_log ORDER BY task"))
}

func TestValidateReportsPositions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("sluice.yaml", "project: p\nenvironments: {local: {engine: local}}\n")
	write("pipelines/bad.yaml", `name: bad
tasks:
  - key: a
    type: noop
    depends_on: [c]
  - key: b
    type: noop
    depends_on: [a]
  - key: c
    type: noop
    depends_on: [b]
  - key: d
    type: nop
`)
	code, out := newCLIOnly(t, dir)("validate")
	require.Equal(t, 1, code, out)
	require.Equal(t, `pipelines/bad.yaml:5:17: tasks[0].depends_on: dependency cycle: a -> b -> c -> a (remove one of these dependencies)
pipelines/bad.yaml:13:11: tasks[3].type: unknown task type "nop" (did you mean "noop"?)
2 error(s), 0 warning(s)
`, out)
}

// newCLIOnly runs the CLI on a project without any server.
func newCLIOnly(t *testing.T, project string) func(args ...string) (int, string) {
	sb := &sandbox{t: t, project: project, srv: nil}
	return func(args ...string) (int, string) {
		return sb.sluiceWith(map[string]string{"SLUICE_PROJECT": project}, args...)
	}
}

func keys(st *run.Status) []string {
	var out []string
	for _, t := range st.Tasks {
		out = append(out, t.Key)
	}
	return out
}

// waitForTask polls the run's status query until the task reaches state.
func waitForTask(t *testing.T, sb *sandbox, id, task string, state dag.State) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		v, err := sb.client.QueryWorkflow(context.Background(), id, "", run.QueryStatus)
		if err == nil {
			var st run.Status
			if v.Get(&st) == nil {
				if tk := st.Task(task); tk != nil && tk.State == state {
					return
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("task %s of %s never reached %s", task, id, state)
}
