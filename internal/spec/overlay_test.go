package spec

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEffective(t *testing.T) {
	t.Parallel()
	p := fixture(t)
	pf, err := p.Pipeline("olist_daily")
	require.NoError(t, err)
	const file = "pipelines/olist_daily.yaml"

	t.Run("NoOverlay", func(t *testing.T) {
		t.Parallel()
		for _, env := range []string{"local", "dev", "nowhere", ""} {
			pl, ov, pos, diags := pf.Effective(env)
			require.Nil(t, ov, env)
			require.Empty(t, diags, env)
			require.Equal(t, pf.Spec, *pl, env)
			require.Equal(t, Pos{File: file, Line: 5, Col: 10}, pos["timeout"], env)
		}
	})

	t.Run("ScheduleFieldsMerge", func(t *testing.T) {
		t.Parallel()
		pl, ov, pos, diags := pf.Effective("staging")
		require.Empty(t, diags)
		require.NotNil(t, ov)
		require.Equal(t, "0 0 7 ? * MON-FRI", ov.Schedule.Cron.Original)
		require.Equal(t, &Schedule{
			Cron:          Cron{Expr: "0 7 * * MON-FRI", Original: "0 0 7 ? * MON-FRI"},
			Timezone:      "UTC",
			Overlap:       OverlapSkip,
			CatchupWindow: Duration(6 * time.Hour),
		}, pl.Schedule)
		require.Equal(t, Pos{File: file, Line: 31, Col: 30}, pos["schedule.cron"], "the cron comes from the overlay")
		require.Equal(t, Pos{File: file, Line: 4, Col: 41}, pos["schedule.timezone"], "the time zone from the file")
		require.Equal(t, Duration(3*time.Hour), pl.Timeout)
	})

	t.Run("TasksByKey", func(t *testing.T) {
		t.Parallel()
		pl, ov, pos, diags := pf.Effective("prod")
		require.Empty(t, diags)
		require.Equal(t, pf.Spec.Environments["prod"], *ov)
		require.Equal(t, Duration(4*time.Hour), pl.Timeout)
		require.Equal(t, Duration(2*time.Hour), pl.DurationWarning)
		require.Equal(t, 2, pl.MaxParallel)
		require.Equal(t, map[string]any{"orders": int64(50000), "full_refresh": false}, pl.Params)
		require.Equal(t, &Notify{OnFailure: []string{"data-eng"}, OnDurationWarning: []string{"data-eng"}, OnSuccess: []string{"console"}}, pl.Notify)

		var keys []string
		for _, task := range pl.Tasks {
			keys = append(keys, task.Key)
		}
		require.Equal(t, []string{"generate_data", "run_main_pipeline", "run_cdc_pipeline", "quality_checks"}, keys, "file order is kept")
		gen := pl.Tasks[0]
		require.Equal(t, map[string]any{"dataset": "olist", "orders": "${params.orders}", "seed": int64(7)}, gen.With, "with fields merge")
		require.Equal(t, &Retry{Attempts: 5, Interval: Duration(time.Minute)}, gen.Retry, "retry fields merge")
		require.Equal(t, Duration(2*time.Hour), gen.Timeout)
		require.True(t, pl.Tasks[2].Disabled)
		require.False(t, pl.Tasks[1].Disabled)
		require.Equal(t, pf.Spec.Tasks[3], pl.Tasks[3], "a task without overrides is unchanged")

		require.Equal(t, Pos{File: file, Line: 33, Col: 14}, pos["timeout"])
		require.Equal(t, Pos{File: file, Line: 38, Col: 71}, pos["tasks[0].timeout"])
		require.Equal(t, Pos{File: file, Line: 38, Col: 58}, pos["tasks[0].retry.attempts"])
		require.Equal(t, Pos{File: file, Line: 13, Col: 36}, pos["tasks[0].retry.interval"])

		// the file as written is untouched
		require.Equal(t, Duration(3*time.Hour), pf.Spec.Timeout)
		require.False(t, pf.Spec.Tasks[2].Disabled)
		require.Equal(t, map[string]any{"dataset": "olist", "orders": "${params.orders}"}, pf.Spec.Tasks[0].With)
		require.Equal(t, 2, pf.Spec.Tasks[0].Retry.Attempts)
	})

	t.Run("ValuesAndListsReplace", func(t *testing.T) {
		t.Parallel()
		pf, diags := ParsePipeline("p.yaml", []byte(`name: p
params: {tags: [a, b], cfg: {x: 1, y: 2}}
tasks:
  - {key: a, type: sql, depends_on: [], with: {statements: [one, two], schema: s1}}
  - {key: b, type: noop, depends_on: [a]}
environments:
  prod:
    description: in prod
    params: {tags: [c], cfg: {y: 3}}
    tasks:
      a: {with: {statements: [three]}}
      b: {run_if: ALL_DONE}
`))
		require.Empty(t, diags)
		pl, _, _, diags := pf.Effective("prod")
		require.Empty(t, diags)
		require.Equal(t, "in prod", pl.Description)
		require.Equal(t, map[string]any{"tags": []any{"c"}, "cfg": map[string]any{"x": int64(1), "y": int64(3)}}, pl.Params)
		require.Equal(t, map[string]any{"statements": []any{"three"}, "schema": "s1"}, pl.Tasks[0].With)
		require.Equal(t, "ALL_DONE", pl.Tasks[1].RunIf)
		require.Equal(t, []string{"a"}, pl.Tasks[1].DependsOn)
	})

	t.Run("UnknownTask", func(t *testing.T) {
		t.Parallel()
		pf, diags := ParsePipeline("p.yaml", []byte("name: p\ntasks: [{key: load, type: noop}]\nenvironments:\n  prod:\n    tasks: {lod: {disabled: true}}\n"))
		require.Empty(t, diags)
		pl, _, _, diags := pf.Effective("prod")
		require.Equal(t, []string{`p.yaml:5:13: environments.prod.tasks.lod: no task "lod" to override (did you mean "load"?)`}, diagLines(diags))
		require.False(t, pl.Tasks[0].Disabled)
	})
}

// TestPlanPrecedence checks where each setting comes from when it is set at
// several levels, through what a run gets: Project.Plan.
func TestPlanPrecedence(t *testing.T) {
	t.Parallel()
	p := fixture(t)
	plan := func(t *testing.T, pipeline, env string, params map[string]any) *Plan {
		t.Helper()
		pl, err := p.Plan(PlanRequest{Pipeline: pipeline, Env: env, Params: params, Getenv: noEnv})
		require.NoError(t, err)
		return pl
	}

	t.Run("Params", func(t *testing.T) {
		t.Parallel()
		// pipeline < environment < pipeline overlay < run
		for _, tc := range []struct {
			env    string
			params map[string]any
			want   map[string]any
		}{
			{"local", nil, map[string]any{"orders": int64(5000), "full_refresh": false, "catalog": "olist_local"}},
			{"dev", nil, map[string]any{"orders": int64(200), "full_refresh": false, "catalog": "olist_dev"}},
			{"staging", nil, map[string]any{"orders": int64(5000), "full_refresh": false, "catalog": "olist_staging"}},
			{"prod", nil, map[string]any{"orders": int64(50000), "full_refresh": false, "catalog": "olist"}},
			{"prod", map[string]any{"orders": "7", "catalog": "scratch"}, map[string]any{"orders": int64(7), "full_refresh": false, "catalog": "scratch"}},
			{"local", map[string]any{"full_refresh": "true"}, map[string]any{"orders": int64(5000), "full_refresh": true, "catalog": "olist_local"}},
		} {
			pl := plan(t, "olist_daily", tc.env, tc.params)
			require.Equal(t, tc.want, pl.Params, "%s %v", tc.env, tc.params)
			gen, ok := pl.Task("generate_data")
			require.True(t, ok)
			require.Equal(t, tc.want["orders"], gen.With["orders"], "a whole-string reference keeps the number's type")
			main, _ := pl.Task("run_main_pipeline")
			require.Equal(t, tc.want["full_refresh"], main.With["full_refresh"])
			require.Equal(t, tc.want["catalog"], pl.Target.Catalog)
		}
	})

	t.Run("Notify", func(t *testing.T) {
		t.Parallel()
		// pipeline overlay > environment > pipeline > project
		daily := Notify{OnFailure: []string{"data-eng"}, OnDurationWarning: []string{"data-eng"}}
		for _, tc := range []struct {
			pipeline, env string
			want          Notify
			channels      []string
		}{
			{"olist_daily", "prod", Notify{OnFailure: []string{"data-eng"}, OnDurationWarning: []string{"data-eng"}, OnSuccess: []string{"console"}}, []string{"console", "data-eng"}},
			{"olist_daily", "dev", Notify{}, nil},
			{"olist_daily", "local", daily, []string{"data-eng"}},
			{"olist_daily", "staging", daily, []string{"data-eng"}},
			{"warehouse_smoke", "prod", Notify{OnFailure: []string{"data-alerts"}}, []string{"console", "data-alerts"}},
			{"warehouse_smoke", "dev", Notify{}, []string{"console"}},
			{"warehouse_smoke", "local", Notify{OnFailure: []string{"console"}}, []string{"console"}},
		} {
			pl := plan(t, tc.pipeline, tc.env, nil)
			require.Equal(t, tc.want, pl.Notify, "%s in %s", tc.pipeline, tc.env)
			require.ElementsMatch(t, tc.channels, sortedKeys(pl.Channels), "%s in %s: only the channels it uses", tc.pipeline, tc.env)
			for name, ch := range pl.Channels {
				require.Equal(t, p.Config.Channels[name], ch)
			}
		}
	})

	t.Run("Timeout", func(t *testing.T) {
		t.Parallel()
		// pipeline overlay > pipeline > environment > 24h
		for _, tc := range []struct {
			pipeline, env string
			want          time.Duration
		}{
			{"olist_daily", "prod", 4 * time.Hour},
			{"olist_daily", "staging", 3 * time.Hour},
			{"olist_daily", "local", 3 * time.Hour},
			{"warehouse_smoke", "staging", 5 * time.Hour},
			{"warehouse_smoke", "local", 24 * time.Hour},
		} {
			require.Equal(t, tc.want, plan(t, tc.pipeline, tc.env, nil).Timeout.D(), "%s in %s", tc.pipeline, tc.env)
		}
	})

	t.Run("TaskOverrides", func(t *testing.T) {
		t.Parallel()
		prod := plan(t, "olist_daily", "prod", nil)
		require.Equal(t, 2, prod.MaxParallel)
		gen, _ := prod.Task("generate_data")
		require.Equal(t, RetryPolicy{Attempts: 5, Interval: Duration(time.Minute), Backoff: 2, MaxInterval: Duration(10 * time.Minute)}, gen.Retry)
		require.Equal(t, 2*time.Hour, gen.Timeout.D())
		require.Equal(t, map[string]any{"dataset": "olist", "orders": int64(50000), "seed": int64(7)}, gen.With)
		cdc, _ := prod.Task("run_cdc_pipeline")
		require.True(t, cdc.Disabled)

		local := plan(t, "olist_daily", "local", nil)
		require.Equal(t, DefaultMaxParallel, local.MaxParallel)
		gen, _ = local.Task("generate_data")
		require.Equal(t, RetryPolicy{Attempts: 2, Interval: Duration(time.Minute), Backoff: 2, MaxInterval: Duration(10 * time.Minute)}, gen.Retry)
		require.Equal(t, time.Hour, gen.Timeout.D())
		cdc, _ = local.Task("run_cdc_pipeline")
		require.False(t, cdc.Disabled)
	})
}

// noEnv is a process environment with nothing set.
func noEnv(string) (string, bool) { return "", false }
