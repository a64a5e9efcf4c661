package store_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/pgtest"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/store"
)

func setup(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), pgtest.NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// fixtureTask is one task of a run written by saveRun.
type fixtureTask struct {
	key, typ string
	state    dag.State
	secs     float64     // from the first attempt's start to the end
	attempts []dag.State // states of the attempts, in order (none: never started)
	reused   string
}

func task(key, typ string, state dag.State, secs float64, attempts ...dag.State) fixtureTask {
	return fixtureTask{key: key, typ: typ, state: state, secs: secs, attempts: attempts}
}

// saveRun writes an ended run through SaveRun, as the workflow does.
func saveRun(t *testing.T, s *store.Store, id, pipeline, env string, status dag.Status, start time.Time, secs float64, tasks ...fixtureTask) {
	t.Helper()
	r := run.Status{
		Project: "p", Pipeline: pipeline, Env: env, WorkflowID: id, RunID: "r-" + id, Trigger: run.TriggerScheduled,
		LogicalDate: start.Truncate(24 * time.Hour), Status: status, StartedAt: start, PlanHash: "h",
	}
	if status.Done() {
		r.EndedAt = start.Add(seconds(secs))
	}
	for i, ft := range tasks {
		tk := run.Task{Key: ft.key, Type: ft.typ, Index: i, State: ft.state, Reused: ft.reused}
		if len(ft.attempts) > 0 {
			tk.StartedAt = start.Add(time.Second)
			tk.EndedAt = tk.StartedAt.Add(seconds(ft.secs))
			step := seconds(ft.secs) / time.Duration(len(ft.attempts))
			for n, as := range ft.attempts {
				a := run.Attempt{N: n + 1, State: as, StartedAt: tk.StartedAt.Add(time.Duration(n) * step)}
				a.EndedAt = a.StartedAt.Add(step)
				if as.Failure() {
					a.Error = &run.Error{Type: "SQLError", Message: fmt.Sprintf("attempt %d failed", n+1), Detail: "line 1\nline 2"}
				}
				tk.Attempts = append(tk.Attempts, a)
			}
			tk.Error = tk.Attempts[len(tk.Attempts)-1].Error
		}
		r.Tasks = append(r.Tasks, tk)
	}
	require.NoError(t, s.SaveRun(context.Background(), store.Snapshot{Seq: 1, Run: r}))
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

var (
	until = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	since = until.Add(-10 * 24 * time.Hour) // previous period: the 10 days before
)

// day returns a start time n days after the period start (negative: in the
// previous period).
func day(n int) time.Time { return since.Add(time.Duration(n)*24*time.Hour + 6*time.Hour) }

// seedStats writes the history the stats tests compute figures from. Every
// figure asserted below is worked out by hand in the comments.
func seedStats(t *testing.T, s *store.Store) {
	t.Helper()
	S, F, T, C := dag.Success, dag.Failed, dag.TimedOut, dag.Canceled
	// daily/prod, this period. Counted runs (not canceled): 100 200 300 400 500 s,
	// 3 successes of 5: 60%, p50 300, p95 400 + 0.8*100 = 480.
	saveRun(t, s, "d1", "daily", "prod", dag.StatusSuccess, day(0), 100,
		task("extract", "sql", S, 10, S), task("load", "sql", S, 50, F, S), task("wait", "wait_for", S, 1000, S))
	saveRun(t, s, "d2", "daily", "prod", dag.StatusSuccess, day(1), 200,
		task("extract", "sql", S, 20, S), task("load", "sql", S, 60, S))
	saveRun(t, s, "d3", "daily", "prod", dag.StatusSuccessWithFailures, day(2), 300,
		task("extract", "sql", S, 30, S), task("load", "sql", S, 70, S), task("side", "sql", F, 5, F),
		fixtureTask{key: "reused", typ: "sql", state: S, secs: 999, attempts: []dag.State{S}, reused: "d0"},
		fixtureTask{key: "optional", typ: "sql", state: dag.Skipped})
	saveRun(t, s, "d4", "daily", "prod", dag.StatusFailed, day(3), 400,
		task("extract", "sql", S, 40, S), task("load", "sql", F, 80, F, F, F))
	saveRun(t, s, "d5", "daily", "prod", dag.StatusCanceled, day(4), 1000,
		task("extract", "sql", S, 50, S), task("load", "sql", C, 500, C))
	saveRun(t, s, "d6", "daily", "prod", dag.StatusTimedOut, day(5), 500,
		task("extract", "sql", T, 60, T), fixtureTask{key: "load", typ: "sql", state: dag.UpstreamFailed})
	saveRun(t, s, "d7", "daily", "prod", dag.StatusRunning, day(6), 0, task("extract", "sql", dag.Running, 1, dag.Running))
	// daily/prod, previous period: 100 and 200 s, both SUCCESS: 100%, p50 150, p95 195.
	saveRun(t, s, "p1", "daily", "prod", dag.StatusSuccess, day(-3), 100, task("extract", "sql", S, 9, S))
	saveRun(t, s, "p2", "daily", "prod", dag.StatusSuccess, day(-2), 200, task("extract", "sql", S, 9, S))
	// Before the previous period: not counted anywhere.
	saveRun(t, s, "old", "daily", "prod", dag.StatusFailed, day(-11), 50, task("extract", "sql", F, 9, F))
	// After the period: not counted.
	saveRun(t, s, "late", "daily", "prod", dag.StatusFailed, day(10), 50, task("extract", "sql", F, 9, F))
	// daily/dev: one failed run, 0%.
	saveRun(t, s, "v1", "daily", "dev", dag.StatusFailed, day(1), 8, task("extract", "sql", F, 7, F))
	// hourly/prod: 10 and 20 s, 100%, p50 15, p95 19.5; nothing before.
	saveRun(t, s, "h1", "hourly", "prod", dag.StatusSuccess, day(0), 10, task("ping", "noop", S, 2, S))
	saveRun(t, s, "h2", "hourly", "prod", dag.StatusSuccess, day(1), 20, task("ping", "noop", S, 4, S))
}

func TestStatsAgainstHandComputedFigures(t *testing.T) {
	t.Parallel()
	s := setup(t)
	seedStats(t, s)

	st, err := s.Stats(context.Background(), store.StatsFilter{Since: since, Until: until})
	require.NoError(t, err)
	require.Equal(t, since.Add(-10*24*time.Hour), st.PreviousSince)
	require.Equal(t, 95.0, st.Target)

	require.Len(t, st.Pipelines, 3)
	daily, dev, hourly := st.Pipelines[1], st.Pipelines[0], st.Pipelines[2]
	require.Equal(t, []string{"daily/dev", "daily/prod", "hourly/prod"},
		[]string{dev.Pipeline + "/" + dev.Env, daily.Pipeline + "/" + daily.Env, hourly.Pipeline + "/" + hourly.Env})

	t.Run("Rates", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, store.RunCounts{Runs: 6, Succeeded: 2, SucceededWithFailures: 1, Failed: 1, TimedOut: 1, Canceled: 1,
			SuccessRate: f(60), P50Seconds: f(300), P95Seconds: f(480)}, round(daily.Current))
		require.Equal(t, store.RunCounts{Runs: 2, Succeeded: 2, SuccessRate: f(100), P50Seconds: f(150), P95Seconds: f(195)}, round(daily.Previous))
		require.InDelta(t, -40, *daily.SuccessRateChange, 1e-9)
		require.InDelta(t, 1.0, *daily.P50Change, 1e-9)             // 300 vs 150
		require.InDelta(t, (480.0-195)/195, *daily.P95Change, 1e-9) // +146%
		require.True(t, daily.BelowTarget)

		require.Equal(t, store.RunCounts{Runs: 1, Failed: 1, SuccessRate: f(0), P50Seconds: f(8), P95Seconds: f(8)}, round(dev.Current))
		require.True(t, dev.BelowTarget)

		require.Equal(t, store.RunCounts{Runs: 2, Succeeded: 2, SuccessRate: f(100), P50Seconds: f(15), P95Seconds: f(19.5)}, round(hourly.Current))
		require.Equal(t, store.RunCounts{}, hourly.Previous, "no runs before: nothing to compare")
		require.Nil(t, hourly.SuccessRateChange)
		require.Nil(t, hourly.P50Change)
		require.False(t, hourly.BelowTarget)
	})

	t.Run("Tasks", func(t *testing.T) {
		t.Parallel()
		// extract ran 6 times: 10..60 s, p50 35, p95 50 + 0.75*10; run d6's timed out.
		// load ran 5 times (not in d6: upstream failed); the canceled one has no
		// duration: 50 60 70 80, p95 70 + 0.85*10; failed attempts 1 (d1) + 3 (d4).
		// reused and skipped tasks did not run; tasks in file order (side and
		// wait share position 2: by key).
		require.Equal(t, []store.TaskStats{
			{Pipeline: "daily", Env: "prod", Task: "extract", Type: "sql", Runs: 6, Failures: 1, FailedAttempts: 1, P50Seconds: f(35), P95Seconds: f(57.5)},
			{Pipeline: "daily", Env: "prod", Task: "load", Type: "sql", Runs: 5, Failures: 1, FailedAttempts: 4, P50Seconds: f(65), P95Seconds: f(78.5)},
			{Pipeline: "daily", Env: "prod", Task: "side", Type: "sql", Runs: 1, Failures: 1, FailedAttempts: 1, P50Seconds: f(5), P95Seconds: f(5)},
			{Pipeline: "daily", Env: "prod", Task: "wait", Type: "wait_for", Runs: 1, P50Seconds: f(1000), P95Seconds: f(1000)},
		}, roundTasks(daily.Tasks))
		require.Equal(t, []store.TaskStats{
			{Pipeline: "hourly", Env: "prod", Task: "ping", Type: "noop", Runs: 2, P50Seconds: f(3), P95Seconds: f(3.9)},
		}, roundTasks(hourly.Tasks))
	})

	t.Run("Slowest", func(t *testing.T) {
		t.Parallel()
		// By p95, without the wait_for task: load 78.5, extract 57.5, dev's extract 7, side 5, ping 3.9.
		var got []string
		for _, ts := range st.Slowest {
			got = append(got, fmt.Sprintf("%s/%s/%s %.2f", ts.Pipeline, ts.Env, ts.Task, *ts.P95Seconds))
		}
		require.Equal(t, []string{"daily/prod/load 78.50", "daily/prod/extract 57.50", "daily/dev/extract 7.00",
			"daily/prod/side 5.00", "hourly/prod/ping 3.90"}, got)
	})
}

func TestStatsFilters(t *testing.T) {
	t.Parallel()
	s := setup(t)
	seedStats(t, s)
	ctx := context.Background()

	t.Run("PipelineAndEnv", func(t *testing.T) {
		t.Parallel()
		st, err := s.Stats(ctx, store.StatsFilter{Pipeline: "daily", Env: "prod", Since: since, Until: until, Slowest: 1})
		require.NoError(t, err)
		require.Len(t, st.Pipelines, 1)
		require.Equal(t, 6, st.Pipelines[0].Current.Runs)
		require.Len(t, st.Slowest, 1)
		require.Equal(t, "load", st.Slowest[0].Task)
	})
	t.Run("Target", func(t *testing.T) {
		t.Parallel()
		st, err := s.Stats(ctx, store.StatsFilter{Pipeline: "daily", Since: since, Until: until, Target: 50})
		require.NoError(t, err)
		require.Len(t, st.Pipelines, 2)
		require.True(t, st.Pipelines[0].BelowTarget, "dev: 0% < 50%")
		require.False(t, st.Pipelines[1].BelowTarget, "prod: 60% >= 50%")
	})
	t.Run("NextPeriod", func(t *testing.T) {
		t.Parallel()
		// The 10 days after: daily/prod ran once (late), against the six
		// runs of the seeded period; hourly ran only before, and is listed
		// with empty figures so that a pipeline that stopped running shows.
		st, err := s.Stats(ctx, store.StatsFilter{Env: "prod", Since: until, Until: until.Add(10 * 24 * time.Hour)})
		require.NoError(t, err)
		require.Len(t, st.Pipelines, 2)
		daily, hourly := st.Pipelines[0], st.Pipelines[1]
		require.Equal(t, store.RunCounts{Runs: 1, Failed: 1, SuccessRate: f(0), P50Seconds: f(50), P95Seconds: f(50)}, round(daily.Current))
		require.Equal(t, 6, daily.Previous.Runs)
		require.InDelta(t, -60, *daily.SuccessRateChange, 1e-9)
		require.Equal(t, "hourly", hourly.Pipeline)
		require.Equal(t, store.RunCounts{}, hourly.Current)
		require.Equal(t, 2, hourly.Previous.Runs)
		require.False(t, hourly.BelowTarget, "no runs: nothing to flag")
		require.Empty(t, hourly.Tasks)
	})
	t.Run("EmptyHistory", func(t *testing.T) {
		t.Parallel()
		st, err := setup(t).Stats(ctx, store.StatsFilter{Since: since, Until: until})
		require.NoError(t, err)
		require.Empty(t, st.Pipelines)
		require.NotNil(t, st.Pipelines, "JSON shows [] rather than null")
		require.NotNil(t, st.Slowest)
	})
	t.Run("BadPeriod", func(t *testing.T) {
		t.Parallel()
		_, err := s.Stats(ctx, store.StatsFilter{Since: until, Until: since})
		require.EqualError(t, err, "stats: the period ends (2026-11-13T00:00:00Z) before it starts (2026-11-23T00:00:00Z)")
	})
}

func TestListRunsRepairOf(t *testing.T) {
	t.Parallel()
	s := setup(t)
	saveRun(t, s, "orig", "daily", "prod", dag.StatusFailed, day(0), 10)
	for i, id := range []string{"orig/repair-1", "orig/repair-2"} {
		r := run.Status{Pipeline: "daily", Env: "prod", WorkflowID: id, RunID: "r", Trigger: run.TriggerRepair,
			Status: dag.StatusSuccess, StartedAt: day(i + 1), EndedAt: day(i + 1).Add(time.Minute), RepairOf: "orig"}
		require.NoError(t, s.SaveRun(context.Background(), store.Snapshot{Seq: 1, Run: r}))
	}
	got, err := s.ListRuns(context.Background(), store.RunFilter{RepairOf: "orig"})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "orig/repair-2", got[0].WorkflowID, "newest first")
	require.Equal(t, "orig/repair-1", got[1].WorkflowID)
	none, err := s.ListRuns(context.Background(), store.RunFilter{RepairOf: "orig/repair-1"})
	require.NoError(t, err)
	require.Empty(t, none)
}

func f(v float64) *float64 { return &v }

// round keeps 9 decimals so that interpolated percentiles compare exactly.
func round(c store.RunCounts) store.RunCounts {
	c.SuccessRate, c.P50Seconds, c.P95Seconds = r9(c.SuccessRate), r9(c.P50Seconds), r9(c.P95Seconds)
	return c
}

func roundTasks(ts []store.TaskStats) []store.TaskStats {
	out := make([]store.TaskStats, len(ts))
	for i, t := range ts {
		t.P50Seconds, t.P95Seconds = r9(t.P50Seconds), r9(t.P95Seconds)
		out[i] = t
	}
	return out
}

func r9(v *float64) *float64 {
	if v == nil {
		return nil
	}
	x := math.Round(*v*1e9) / 1e9
	return &x
}
