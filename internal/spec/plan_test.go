package spec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/dag"
)

var testRun = RunVars{
	ID:          "0191-run",
	WorkflowID:  "sluice/warehouse_smoke/local/2026-11-22",
	Trigger:     "MANUAL",
	LogicalDate: time.Date(2026, 11, 22, 6, 30, 0, 0, time.UTC),
	StartTime:   time.Date(2026, 11, 22, 6, 31, 5, 0, time.UTC),
}

func TestPlanDefaults(t *testing.T) {
	t.Parallel()
	p := fixture(t)
	defaultRetry := RetryPolicy{Attempts: 1, Interval: Duration(30 * time.Second), Backoff: 2, MaxInterval: Duration(10 * time.Minute)}
	task := func(key, typ string, deps []string, runIf dag.RunIf, with map[string]any, queue string, timeout time.Duration) PlannedTask {
		return PlannedTask{
			Key: key, Type: typ, Kind: KindActivity, DependsOn: deps, RunIf: runIf, With: with, Queue: queue,
			Timeout: Duration(timeout), Heartbeat: Duration(30 * time.Second), Retry: defaultRetry,
		}
	}

	t.Run("Local", func(t *testing.T) {
		t.Parallel()
		pl, err := p.Plan(PlanRequest{Pipeline: "warehouse_smoke", Run: testRun, Getenv: noEnv})
		require.NoError(t, err)
		require.Len(t, pl.Hash, 16)
		pl.Hash = ""
		require.Equal(t, &Plan{
			Project:     "olist",
			Pipeline:    "warehouse_smoke",
			Description: "Build two small tables in parallel, join them, report.",
			File:        "pipelines/warehouse_smoke.yaml",
			Env:         "local",
			Target: Target{
				Env: "local", Engine: "local", ProjectDir: p.Dir,
				Warehouse:   "postgres://postgres@127.0.0.1:5432/sluice_lakehouse",
				Volume:      filepath.Join(p.Dir, ".data", "volumes"),
				Catalog:     "olist_local",
				DbtProjects: map[string]DbtProject{"warehouse": p.Config.DbtProjects["warehouse"]},
			},
			Params: map[string]any{
				"rows": int64(1000), "label": "smoke-20261122", "ratio": 0.5, "tags": []any{"a", "b"}, "catalog": "olist_local",
			},
			Timeout:     DefaultPipelineTimeout,
			MaxParallel: DefaultMaxParallel,
			Notify:      Notify{OnFailure: []string{"console"}},
			Channels:    map[string]Channel{"console": {Type: "log"}},
			UIURL:       DefaultUIURL,
			Tasks: []PlannedTask{
				task("prepare", "sql", nil, dag.AllSuccess, map[string]any{"statements": []any{"CREATE SCHEMA IF NOT EXISTS smoke"}}, QueueDefault, time.Hour),
				task("build_numbers", "sql", []string{"prepare"}, dag.AllSuccess, map[string]any{"files": []any{"sql/smoke/numbers.sql"}}, QueueDefault, time.Hour),
				task("build_letters", "sql", []string{"prepare"}, dag.AllSuccess, map[string]any{"files": []any{"sql/smoke/letters.sql"}}, QueueDefault, time.Hour),
				task("join", "sql", []string{"build_numbers", "build_letters"}, dag.AllSuccess, map[string]any{"files": []any{"sql/smoke/joined.sql"}, "catalog": "olist_local"}, QueueDefault, time.Hour),
				task("model", "dbt", []string{"join"}, dag.AllSuccess, map[string]any{"project": "warehouse", "vars": map[string]any{"rows": int64(1000), "day": "2026-11-22"}}, QueueDbt, 2*time.Hour),
				// upstream outputs are resolved by the workflow, and the $${ escape
				// survives until the activity's final phase
				task("report", "notify", []string{"model"}, dag.AllDone, map[string]any{
					"channels": []any{"console"},
					"message":  "warehouse_smoke 2026-11-22: joined ${tasks.join.output.rows_affected} rows in $${catalog}",
				}, QueueDefault, 5*time.Minute),
			},
		}, pl)
		require.Equal(t, []dag.Node{
			{Key: "prepare"}, {Key: "build_numbers", DependsOn: []string{"prepare"}}, {Key: "build_letters", DependsOn: []string{"prepare"}},
			{Key: "join", DependsOn: []string{"build_numbers", "build_letters"}}, {Key: "model", DependsOn: []string{"join"}}, {Key: "report", DependsOn: []string{"model"}},
		}, pl.Nodes())
		_, ok := pl.Task("ghost")
		require.False(t, ok)
	})

	t.Run("Databricks", func(t *testing.T) {
		t.Parallel()
		pl, err := p.Plan(PlanRequest{Pipeline: "warehouse_smoke", Env: "prod", Run: testRun, Getenv: noEnv})
		require.NoError(t, err)
		require.Equal(t, Target{
			Env: "prod", Engine: "databricks", ProjectDir: p.Dir,
			Volume:  "/Volumes/olist/landing/raw",
			Catalog: "olist",
			Databricks: &DatabricksEnv{
				Host: "https://adb-1.2.azuredatabricks.net", Token: "${secret:DATABRICKS_TOKEN}",
				WarehouseID: "wh-prod", Volume: "/Volumes/olist/landing/raw",
			},
			DbtProjects: map[string]DbtProject{"warehouse": p.Config.DbtProjects["warehouse"]},
		}, pl.Target)
		queues := map[string]string{}
		for _, task := range pl.Tasks {
			queues[task.Key] = task.Queue
		}
		require.Equal(t, map[string]string{
			"prepare": QueueDatabricks, "build_numbers": QueueDatabricks, "build_letters": QueueDatabricks, "join": QueueDatabricks,
			"model": QueueDbt, "report": QueueDefault,
		}, queues)
		join, _ := pl.Task("join")
		require.Equal(t, "olist", join.With["catalog"])

		b, err := json.Marshal(pl)
		require.NoError(t, err)
		require.Contains(t, string(b), `"token":"${secret:DATABRICKS_TOKEN}"`, "secrets stay references in the plan")
	})

	t.Run("DLTPipelinesTheTasksUse", func(t *testing.T) {
		t.Parallel()
		pl, err := p.Plan(PlanRequest{Pipeline: "olist_daily", Env: "dev", Getenv: noEnv})
		require.NoError(t, err)
		require.Equal(t, p.Config.DLTPipelines, pl.Target.DLTPipelines)
		require.Equal(t, &DatabricksEnv{Profile: "dev", WarehouseID: "wh-dev"}, pl.Target.Databricks, "${env:VAR:-default} is read at planning")
		require.Nil(t, pl.Target.DbtProjects)
		require.Equal(t, 2*time.Hour, pl.DurationWarning.D())
		checks, _ := pl.Task("quality_checks")
		require.Equal(t, QueueDatabricks, checks.Queue)
		require.Equal(t, []any{
			map[string]any{"table": "silver.orders", "not_null": []any{"order_id", "customer_id"}, "unique": []any{"order_id"}},
			map[string]any{"table": "bronze.orders", "row_count": map[string]any{"min": "${tasks.generate_data.output.rows.orders}"}},
		}, checks.With["checks"])
		require.Equal(t, []string{"generate_data"}, TaskRefs(checks.With))
	})
}

func TestTaskTypes(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"generate_data", "dlt_pipeline", "dbt", "quality_checks", "sql", "databricks_job", "run_pipeline", "wait_for", "approval", "notify", "noop"}, TaskTypeNames())
	for _, tc := range []struct {
		name              string
		kind              TaskKind
		timeout           time.Duration
		local, databricks string
	}{
		{"generate_data", KindActivity, time.Hour, QueueDefault, QueueDatabricks},
		{"dlt_pipeline", KindActivity, 2 * time.Hour, QueueDefault, QueueDatabricks},
		{"dbt", KindActivity, 2 * time.Hour, QueueDbt, QueueDbt},
		{"quality_checks", KindActivity, time.Hour, QueueDefault, QueueDatabricks},
		{"sql", KindActivity, time.Hour, QueueDefault, QueueDatabricks},
		{"databricks_job", KindActivity, 4 * time.Hour, QueueDefault, QueueDatabricks},
		{"run_pipeline", KindChild, 24 * time.Hour, QueueDefault, QueueDefault},
		{"wait_for", KindSignal, 24 * time.Hour, QueueDefault, QueueDefault},
		{"approval", KindUpdate, 24 * time.Hour, QueueDefault, QueueDefault},
		{"notify", KindActivity, 5 * time.Minute, QueueDefault, QueueDefault},
		{"noop", KindActivity, time.Hour, QueueDefault, QueueDefault},
	} {
		tt, ok := LookupTaskType(tc.name)
		require.True(t, ok, tc.name)
		require.Equal(t, tc.kind, tt.Kind, tc.name)
		require.Equal(t, tc.timeout, tt.Timeout.D(), tc.name)
		require.Equal(t, tc.local, tt.Queue(EngineLocal), tc.name)
		require.Equal(t, tc.databricks, tt.Queue(EngineDatabricks), tc.name)
		require.Equal(t, reflect.Struct, reflect.TypeOf(tt.Config).Kind(), tc.name)
		require.Equal(t, reflect.PointerTo(reflect.TypeOf(tt.Config)), reflect.TypeOf(tt.NewConfig()), tc.name)
	}
	_, ok := LookupTaskType("spark")
	require.False(t, ok)
}

func TestPlanOnly(t *testing.T) {
	t.Parallel()
	p := fixture(t)
	excluded := func(pl *Plan) []string {
		var out []string
		for _, task := range pl.Tasks {
			if task.Excluded {
				out = append(out, task.Key)
			}
		}
		return out
	}
	pl, err := p.Plan(PlanRequest{Pipeline: "warehouse_smoke", Only: []string{"join", "model"}, Getenv: noEnv})
	require.NoError(t, err)
	require.Equal(t, []string{"prepare", "build_numbers", "build_letters", "report"}, excluded(pl))

	pl, err = p.Plan(PlanRequest{Pipeline: "olist_daily", Only: []string{"generate_data", "quality_checks"}, Getenv: noEnv})
	require.NoError(t, err)
	require.Equal(t, []string{"run_main_pipeline", "run_cdc_pipeline"}, excluded(pl))

	_, err = p.Plan(PlanRequest{Pipeline: "olist_daily", Only: []string{"quality_checks"}, Getenv: noEnv})
	require.EqualError(t, err, "task quality_checks uses the output of generate_data, which this run does not include: add generate_data to --only, or repair the original run instead")

	_, err = p.Plan(PlanRequest{Pipeline: "warehouse_smoke", Only: []string{"report"}, Getenv: noEnv})
	require.EqualError(t, err, "task report uses the output of join, which this run does not include: add join to --only, or repair the original run instead")

	_, err = p.Plan(PlanRequest{Pipeline: "olist_daily", Only: []string{"quality_check"}, Getenv: noEnv})
	require.EqualError(t, err, `--only quality_check: no such task in olist_daily (did you mean "quality_checks"?)`)
}

func TestPlanParams(t *testing.T) {
	t.Parallel()
	p := fixture(t)
	for _, tc := range []struct {
		name    string
		params  map[string]any
		want    map[string]any
		wantErr string
	}{
		{"StringToInt", map[string]any{"rows": "100"}, map[string]any{"rows": int64(100)}, ""},
		{"JSONNumberToInt", map[string]any{"rows": float64(250)}, map[string]any{"rows": int64(250)}, ""},
		{"StringToFloat", map[string]any{"ratio": "0.25"}, map[string]any{"ratio": 0.25}, ""},
		{"NumberToString", map[string]any{"label": float64(5)}, map[string]any{"label": "5"}, ""},
		{"JSONList", map[string]any{"tags": `["x", "y"]`}, map[string]any{"tags": []any{"x", "y"}}, ""},
		{"RunFactsInOverrides", map[string]any{"label": "run ${run.logical_date.yyyymmdd}"}, map[string]any{"label": "run 20261122"}, ""},
		{"BadInt", map[string]any{"rows": "lots"}, nil, `parameter rows: "lots" is not an integer`},
		{"FractionForInt", map[string]any{"rows": 2.5}, nil, `parameter rows: 2.5 is not an integer`},
		{"BadFloat", map[string]any{"ratio": "half"}, nil, `parameter ratio: "half" is not a number`},
		{"BadJSON", map[string]any{"tags": "x,y"}, nil, `parameter tags: "x,y" is not valid JSON for a structured parameter`},
		{"Unknown", map[string]any{"row": "1"}, nil, `unknown parameter "row" for pipeline warehouse_smoke (did you mean "rows"?)`},
		{"UnknownNoSuggestion", map[string]any{"zzzzzz": "1"}, nil, `unknown parameter "zzzzzz" for pipeline warehouse_smoke (known: catalog, label, ratio, rows, tags)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pl, err := p.Plan(PlanRequest{Pipeline: "warehouse_smoke", Params: tc.params, Run: testRun, Getenv: noEnv})
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			for k, v := range tc.want {
				require.Equal(t, v, pl.Params[k], k)
			}
		})
	}
	t.Run("ReachesTasks", func(t *testing.T) {
		t.Parallel()
		pl, err := p.Plan(PlanRequest{Pipeline: "warehouse_smoke", Params: map[string]any{"rows": "5"}, Run: testRun, Getenv: noEnv})
		require.NoError(t, err)
		model, _ := pl.Task("model")
		require.Equal(t, map[string]any{"rows": int64(5), "day": "2026-11-22"}, model.With["vars"])
	})
}

func TestCoerceParam(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v, def, want any
		err          string
	}{
		{"100", int64(5), int64(100), ""},
		{" 42 ", int64(5), int64(42), ""},
		{float64(100), int64(5), int64(100), ""},
		{int(3), int64(5), int64(3), ""},
		{int64(3), int(5), int64(3), ""},
		{"1e3", int64(5), nil, `"1e3" is not an integer`},
		{100.5, int64(5), nil, "100.5 is not an integer"},
		{true, int64(5), nil, "true is not an integer"},
		{"0.25", 0.5, 0.25, ""},
		{int64(2), 0.5, 2.0, ""},
		{float64(2), 0.5, 2.0, ""},
		{"x", 0.5, nil, `"x" is not a number`},
		{false, 0.5, nil, "false is not a number"},
		{"true", false, true, ""},
		{" false ", true, false, ""},
		{true, false, true, ""},
		{"yes", false, nil, `"yes" is not true or false`},
		{1.0, false, nil, "1 is not true or false"},
		{"abc", "s", "abc", ""},
		{int64(5), "s", "5", ""},
		{2.5, "s", "2.5", ""},
		{true, nil, "true", ""},
		{`["x", 1]`, []any{"a"}, []any{"x", float64(1)}, ""},
		{`{"k": 1}`, map[string]any{}, map[string]any{"k": float64(1)}, ""},
		{[]any{"y"}, []any{}, []any{"y"}, ""},
		{"not json", []any{}, nil, `"not json" is not valid JSON for a structured parameter`},
	} {
		got, err := coerceParam(tc.v, tc.def)
		if tc.err != "" {
			require.EqualError(t, err, tc.err, "%#v as %T", tc.v, tc.def)
			continue
		}
		require.NoError(t, err, "%#v as %T", tc.v, tc.def)
		require.Equal(t, tc.want, got, "%#v as %T", tc.v, tc.def)
	}
}

func TestPlanErrors(t *testing.T) {
	t.Parallel()
	p := fixture(t)
	_, err := p.Plan(PlanRequest{Pipeline: "olist_dayly", Getenv: noEnv})
	require.EqualError(t, err, `unknown pipeline "olist_dayly" (did you mean "olist_daily"?)`)
	_, err = p.Plan(PlanRequest{Pipeline: "olist_daily", Env: "qa", Getenv: noEnv})
	require.EqualError(t, err, `unknown environment "qa" (known: dev, local, prod, staging)`)

	t.Run("InvalidPipeline", func(t *testing.T) {
		t.Parallel()
		p := loadProject(t, writeProject(t, "", map[string]string{
			"pipelines/p.yaml": "name: p\ntasks:\n  - {key: a, type: noop, depends_on: [b]}\n  - {key: b, type: sqll}\n",
			"pipelines/q.yaml": "name: q\nnotes: other files do not matter\ntasks: [{key: a, type: noop}]\n",
		}))
		_, err := p.Plan(PlanRequest{Pipeline: "p", Getenv: noEnv})
		require.EqualError(t, err, `pipelines/p.yaml:4:20: tasks[1].type: unknown task type "sqll" (did you mean "sql"?)`)
		_, err = p.Plan(PlanRequest{Pipeline: "q", Getenv: noEnv})
		require.EqualError(t, err, `pipelines/q.yaml:2:1: notes: unknown field "notes"`)
	})

	t.Run("ParamOfTheWrongType", func(t *testing.T) {
		t.Parallel()
		// validation cannot know a parameter's type inside with:, planning can
		p := loadProject(t, writeProject(t, "", map[string]string{
			"pipelines/p.yaml": "name: p\nparams: {orders: many}\ntasks:\n  - {key: gen, type: generate_data, with: {orders: \"${params.orders}\"}}\n",
		}))
		require.Empty(t, diagLines(p.Validate()))
		_, err := p.Plan(PlanRequest{Pipeline: "p", Getenv: noEnv})
		require.EqualError(t, err, `pipelines/p.yaml: task gen: with.orders: expected an integer, got "many"`)
		pl, err := p.Plan(PlanRequest{Pipeline: "p", Params: map[string]any{"orders": 12}, Getenv: noEnv})
		require.NoError(t, err)
		require.Equal(t, "12", pl.Tasks[0].With["orders"], "the override takes the default's type, a string")
	})

	t.Run("SQLFileFromParam", func(t *testing.T) {
		t.Parallel()
		p := loadProject(t, writeProject(t, "", map[string]string{
			"pipelines/p.yaml": "name: p\nparams: {file: sql/a.sql}\ntasks:\n  - {key: a, type: sql, with: {files: [\"${params.file}\"]}}\n",
		}))
		pl, err := p.Plan(PlanRequest{Pipeline: "p", Getenv: noEnv})
		require.NoError(t, err)
		require.Equal(t, []any{"sql/a.sql"}, pl.Tasks[0].With["files"])
		_, err = p.Plan(PlanRequest{Pipeline: "p", Params: map[string]any{"file": "../../../../dev/zero"}, Getenv: noEnv})
		require.EqualError(t, err, "SQL file ../../../../dev/zero is outside the project folder")
	})

	t.Run("UnsetEnvVar", func(t *testing.T) {
		t.Parallel()
		p := loadProject(t, writeProject(t, strings.Replace(baseProject, "warehouse: postgres://postgres@127.0.0.1:5432/wh", "warehouse: \"${env:"+unsetVar+"}\"", 1), map[string]string{
			"pipelines/p.yaml": "name: p\ntasks: [{key: a, type: noop}]\n",
		}))
		_, err := p.Plan(PlanRequest{Pipeline: "p", Getenv: noEnv})
		require.EqualError(t, err, "sluice.yaml: environments.local.warehouse: environment variable "+unsetVar+" is not set")
		pl, err := p.Plan(PlanRequest{Pipeline: "p", Getenv: func(k string) (string, bool) {
			return "postgres://elsewhere/wh", k == unsetVar
		}})
		require.NoError(t, err)
		require.Equal(t, "postgres://elsewhere/wh", pl.Target.Warehouse)
		require.Equal(t, []string{
			"sluice.yaml:6:16: warning: environments.local.warehouse: environment variable " + unsetVar + " is not set (set " + unsetVar + " or write ${env:" + unsetVar + ":-default})",
		}, pl.Warnings, "validation reads the real process environment")
	})
}

func TestPlanHash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "project"))))
	hash := func(pipeline string, logical time.Time) string {
		t.Helper()
		p := loadProject(t, dir)
		pl, err := p.Plan(PlanRequest{Pipeline: pipeline, Run: RunVars{LogicalDate: logical}, Getenv: noEnv})
		require.NoError(t, err)
		return pl.Hash
	}
	write := func(name, content string) {
		t.Helper()
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	day1 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	day2 := day1.AddDate(0, 0, 1)

	smoke := hash("warehouse_smoke", day1)
	require.Regexp(t, `^[0-9a-f]{16}$`, smoke)
	require.Equal(t, smoke, hash("warehouse_smoke", day1), "same input, same hash")

	daily := hash("olist_daily", day1)
	require.Equal(t, daily, hash("olist_daily", day2), "olist_daily uses no run facts")
	require.NotEqual(t, smoke, daily)

	write("sql/smoke/numbers.sql", "SELECT 2;\n")
	changed := hash("warehouse_smoke", day1)
	require.NotEqual(t, smoke, changed, "a referenced SQL file changed")
	require.Equal(t, daily, hash("olist_daily", day1), "olist_daily does not read that file")

	write("local_pipelines/olist_main/orders.sql", "CREATE TABLE silver.orders AS SELECT 2;\n")
	require.NotEqual(t, daily, hash("olist_daily", day1), "a file of a local DLT pipeline it runs changed")
	require.Equal(t, changed, hash("warehouse_smoke", day1))
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	r := RetryPolicy{Attempts: 6, Interval: Duration(10 * time.Second), Backoff: 2, MaxInterval: Duration(time.Minute)}
	var got []time.Duration
	for n := 1; n <= 5; n++ {
		got = append(got, r.Delay(n).D())
	}
	require.Equal(t, []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute}, got)

	constant := RetryPolicy{Interval: Duration(30 * time.Second), Backoff: 1, MaxInterval: Duration(10 * time.Minute)}
	require.Equal(t, 30*time.Second, constant.Delay(1).D())
	require.Equal(t, 30*time.Second, constant.Delay(50).D())

	capped := RetryPolicy{Interval: Duration(time.Hour), Backoff: 1.5, MaxInterval: Duration(10 * time.Minute)}
	require.Equal(t, 10*time.Minute, capped.Delay(1).D(), "the first wait is capped too")

	slow := RetryPolicy{Interval: Duration(time.Second), Backoff: 1.5, MaxInterval: Duration(time.Hour)}
	require.Equal(t, 2250*time.Millisecond, slow.Delay(3).D())
}

func TestPlanOverridesCannotReadSecretsOrEnvironment(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, "project: p\nenvironments: {local: {engine: local}}\n", map[string]string{"pipelines/p.yaml": `name: p
params: {label: x}
tasks:
  - {key: a, type: noop, with: {message: "label=${params.label}"}}
`})
	p := loadProject(t, dir)
	plan, err := p.Plan(PlanRequest{Pipeline: "p",
		Params: map[string]any{"label": "${secret:DB_PASSWORD} ${env:HOME} $${literal}"},
		Getenv: func(string) (string, bool) { return "/root", true }})
	require.NoError(t, err)
	msg := plan.Tasks[0].With["message"].(string)
	require.Equal(t, "label=$${secret:DB_PASSWORD} $${env:HOME} $${literal}", msg)
	// The activity's final phase sees literal text, with secrets available.
	final, err := InterpolateString(msg, Scope{Final: true, Secrets: func(string) (string, error) { return "hunter2", nil }})
	require.NoError(t, err)
	require.Equal(t, "label=${secret:DB_PASSWORD} ${env:HOME} ${literal}", final)
}
