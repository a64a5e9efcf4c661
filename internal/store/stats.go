package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultTargetRate is the success rate (percent) below which Stats flags a
// pipeline when the filter names none.
const DefaultTargetRate = 95.0

// DefaultSlowest is how many of the slowest tasks Stats lists by default.
const DefaultSlowest = 5

// StatsFilter selects what Stats summarises: the runs that started in
// [Since, Until) and have ended, compared with the runs of the period of
// the same length just before.
type StatsFilter struct {
	Pipeline string
	Env      string
	// Since starts the period. Required.
	Since time.Time
	// Until ends the period (default: now).
	Until time.Time
	// Target is the success rate in percent below which a pipeline is
	// flagged (default DefaultTargetRate).
	Target float64
	// Slowest is how many tasks the slowest list holds (default DefaultSlowest).
	Slowest int
}

// Stats is the report of `sluice stats`.
type Stats struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// PreviousSince starts the period compared against, which ends at Since.
	PreviousSince time.Time       `json:"previous_since"`
	Target        float64         `json:"target"`
	Pipelines     []PipelineStats `json:"pipelines"`
	// Slowest are the tasks with the highest p95 duration in the period,
	// across pipelines; tasks that wait for people or signals (wait_for,
	// approval) are left out.
	Slowest []TaskStats `json:"slowest"`
}

// RunCounts summarises one pipeline's ended runs in one period.
//
// The success rate is (SUCCESS + SUCCESS_WITH_FAILURES) / (runs - CANCELED)
// in percent: a run someone canceled says nothing about the pipeline's
// health, and a run whose leaf tasks all succeeded delivered its data (the
// failures on the way show in the task figures). Durations are those of the
// runs counted in the rate, with interpolated percentiles.
type RunCounts struct {
	Runs                  int      `json:"runs"`
	Succeeded             int      `json:"succeeded"`
	SucceededWithFailures int      `json:"succeeded_with_failures"`
	Failed                int      `json:"failed"`
	TimedOut              int      `json:"timed_out"`
	Canceled              int      `json:"canceled"`
	SuccessRate           *float64 `json:"success_rate"` // nil when no run counts
	P50Seconds            *float64 `json:"p50_seconds"`
	P95Seconds            *float64 `json:"p95_seconds"`
}

// PipelineStats are one pipeline's figures in one environment.
type PipelineStats struct {
	Pipeline string    `json:"pipeline"`
	Env      string    `json:"env"`
	Current  RunCounts `json:"current"`
	Previous RunCounts `json:"previous"`
	// SuccessRateChange is Current minus Previous, in percentage points.
	SuccessRateChange *float64 `json:"success_rate_change"`
	// P50Change and P95Change are relative: 0.25 means 25% slower.
	P50Change *float64 `json:"p50_change"`
	P95Change *float64 `json:"p95_change"`
	// BelowTarget is set when the period's success rate is under the target.
	BelowTarget bool        `json:"below_target"`
	Tasks       []TaskStats `json:"tasks"`
}

// TaskStats are one task's figures in the period. Only the times a task
// actually ran count: not tasks skipped, excluded, disabled, never started
// or reused by a repair.
type TaskStats struct {
	Pipeline string `json:"pipeline"`
	Env      string `json:"env"`
	Task     string `json:"task"`
	Type     string `json:"type"`
	Runs     int    `json:"runs"`
	// Failures counts runs of the task that ended FAILED or TIMEDOUT.
	Failures int `json:"failures"`
	// FailedAttempts counts attempts that failed or timed out, including
	// those a retry made good.
	FailedAttempts int `json:"failed_attempts"`
	// Durations of the runs of the task that ended (not CANCELED), first
	// attempt's start to the end of the last.
	P50Seconds *float64 `json:"p50_seconds"`
	P95Seconds *float64 `json:"p95_seconds"`
}

// waitingTypes wait for people or other systems; their durations say
// nothing about speed.
var waitingTypes = []string{"wait_for", "approval"}

// Stats computes success rates and durations per pipeline and task.
func (s *Store) Stats(ctx context.Context, f StatsFilter) (*Stats, error) {
	if f.Since.IsZero() {
		return nil, fmt.Errorf("stats: the period needs a start")
	}
	if f.Until.IsZero() {
		f.Until = time.Now()
	}
	if !f.Until.After(f.Since) {
		return nil, fmt.Errorf("stats: the period ends (%s) before it starts (%s)", f.Until.Format(time.RFC3339), f.Since.Format(time.RFC3339))
	}
	if f.Target == 0 {
		f.Target = DefaultTargetRate
	}
	if f.Slowest == 0 {
		f.Slowest = DefaultSlowest
	}
	st := &Stats{Since: f.Since, Until: f.Until, PreviousSince: f.Since.Add(-f.Until.Sub(f.Since)), Target: f.Target,
		Pipelines: []PipelineStats{}, Slowest: []TaskStats{}}

	pipelines, err := s.pipelineStats(ctx, f, st.PreviousSince)
	if err != nil {
		return nil, err
	}
	tasks, err := s.taskStats(ctx, f)
	if err != nil {
		return nil, err
	}
	for _, p := range pipelines {
		p.Tasks = []TaskStats{}
		for _, t := range tasks {
			if t.Pipeline == p.Pipeline && t.Env == p.Env {
				p.Tasks = append(p.Tasks, t)
			}
		}
		if p.Current.SuccessRate != nil && p.Previous.SuccessRate != nil {
			p.SuccessRateChange = ptr(*p.Current.SuccessRate - *p.Previous.SuccessRate)
		}
		p.P50Change = relChange(p.Current.P50Seconds, p.Previous.P50Seconds)
		p.P95Change = relChange(p.Current.P95Seconds, p.Previous.P95Seconds)
		p.BelowTarget = p.Current.SuccessRate != nil && *p.Current.SuccessRate < f.Target
		st.Pipelines = append(st.Pipelines, *p)
	}
	for _, t := range tasks {
		if t.P95Seconds != nil && !slices.Contains(waitingTypes, t.Type) {
			st.Slowest = append(st.Slowest, t)
		}
	}
	slices.SortStableFunc(st.Slowest, func(a, b TaskStats) int {
		switch {
		case *a.P95Seconds > *b.P95Seconds:
			return -1
		case *a.P95Seconds < *b.P95Seconds:
			return 1
		}
		return 0
	})
	if len(st.Slowest) > f.Slowest {
		st.Slowest = st.Slowest[:f.Slowest]
	}
	return st, nil
}

// pipelineStats returns the run figures of both periods, by pipeline and
// environment; a pipeline with runs only in the previous period is listed
// too (its current figures are empty).
func (s *Store) pipelineStats(ctx context.Context, f StatsFilter, prevSince time.Time) ([]*PipelineStats, error) {
	rows, err := s.pool.Query(ctx, `
WITH r AS (
    SELECT pipeline, env, status, started_at >= $1 AS current,
           EXTRACT(EPOCH FROM ended_at - started_at)::float8 AS secs
    FROM runs
    WHERE started_at >= $2 AND started_at < $3 AND ended_at IS NOT NULL
      AND status IN ('SUCCESS', 'SUCCESS_WITH_FAILURES', 'FAILED', 'TIMEDOUT', 'CANCELED')
      AND ($4 = '' OR pipeline = $4) AND ($5 = '' OR env = $5)
)
SELECT pipeline, env, current, count(*),
       count(*) FILTER (WHERE status = 'SUCCESS'),
       count(*) FILTER (WHERE status = 'SUCCESS_WITH_FAILURES'),
       count(*) FILTER (WHERE status = 'FAILED'),
       count(*) FILTER (WHERE status = 'TIMEDOUT'),
       count(*) FILTER (WHERE status = 'CANCELED'),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY secs) FILTER (WHERE status <> 'CANCELED'),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY secs) FILTER (WHERE status <> 'CANCELED')
FROM r
GROUP BY pipeline, env, current
ORDER BY pipeline, env, current`, f.Since, prevSince, f.Until, f.Pipeline, f.Env)
	if err != nil {
		return nil, fmt.Errorf("computing run stats: %w", err)
	}
	defer rows.Close()
	var out []*PipelineStats
	for rows.Next() {
		var pipeline, env string
		var current bool
		var c RunCounts
		if err := rows.Scan(&pipeline, &env, &current, &c.Runs, &c.Succeeded, &c.SucceededWithFailures,
			&c.Failed, &c.TimedOut, &c.Canceled, &c.P50Seconds, &c.P95Seconds); err != nil {
			return nil, fmt.Errorf("computing run stats: %w", err)
		}
		if counted := c.Runs - c.Canceled; counted > 0 {
			c.SuccessRate = ptr(100 * float64(c.Succeeded+c.SucceededWithFailures) / float64(counted))
		}
		if n := len(out); n == 0 || out[n-1].Pipeline != pipeline || out[n-1].Env != env {
			out = append(out, &PipelineStats{Pipeline: pipeline, Env: env})
		}
		if current {
			out[len(out)-1].Current = c
		} else {
			out[len(out)-1].Previous = c
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("computing run stats: %w", err)
	}
	return out, nil
}

// taskStats returns the figures of every task that ran in the period, in
// pipeline, environment and task order.
func (s *Store) taskStats(ctx context.Context, f StatsFilter) ([]TaskStats, error) {
	rows, err := s.pool.Query(ctx, `
WITH t AS (
    SELECT r.pipeline, r.env, t.task_key, t.type, t.position, t.state, t.workflow_id, t.run_id,
           EXTRACT(EPOCH FROM t.ended_at - t.started_at)::float8 AS secs
    FROM runs r
    JOIN task_runs t USING (workflow_id, run_id)
    WHERE r.started_at >= $1 AND r.started_at < $2 AND r.ended_at IS NOT NULL
      AND ($3 = '' OR r.pipeline = $3) AND ($4 = '' OR r.env = $4)
      AND t.started_at IS NOT NULL AND t.reused_from = ''
      AND t.state IN ('SUCCESS', 'FAILED', 'TIMEDOUT', 'CANCELED')
)
SELECT t.pipeline, t.env, t.task_key, (array_agg(t.type ORDER BY t.position))[1], count(*),
       count(*) FILTER (WHERE t.state IN ('FAILED', 'TIMEDOUT')),
       COALESCE(sum(a.failed), 0)::bigint,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY t.secs) FILTER (WHERE t.state <> 'CANCELED'),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY t.secs) FILTER (WHERE t.state <> 'CANCELED'),
       min(t.position)
FROM t
CROSS JOIN LATERAL (
    SELECT count(*) AS failed FROM task_attempts x
    WHERE x.workflow_id = t.workflow_id AND x.run_id = t.run_id AND x.task_key = t.task_key
      AND x.state IN ('FAILED', 'TIMEDOUT')
) a
GROUP BY t.pipeline, t.env, t.task_key
ORDER BY t.pipeline, t.env, min(t.position), t.task_key`, f.Since, f.Until, f.Pipeline, f.Env)
	if err != nil {
		return nil, fmt.Errorf("computing task stats: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (TaskStats, error) {
		var t TaskStats
		var position int
		err := row.Scan(&t.Pipeline, &t.Env, &t.Task, &t.Type, &t.Runs, &t.Failures, &t.FailedAttempts,
			&t.P50Seconds, &t.P95Seconds, &position)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("computing task stats: %w", err)
	}
	return out, nil
}

// relChange is (cur - prev) / prev, or nil when either is unknown or prev is 0.
func relChange(cur, prev *float64) *float64 {
	if cur == nil || prev == nil || *prev == 0 {
		return nil
	}
	return ptr((*cur - *prev) / *prev)
}

func ptr[T any](v T) *T { return &v }
