package spec

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func strPtr(s string) *string { return &s }

func TestRefs(t *testing.T) {
	t.Parallel()
	refs, err := Refs("a ${params.orders} b ${run.logical_date.yyyymmdd}${env.catalog} ${tasks.gen.output.rows.0} ${env:HOME} ${env:X:-a:-b} ${secret:SMTP_URL} $${params.no}")
	require.NoError(t, err)
	require.Equal(t, []Ref{
		{Raw: "params.orders", Namespace: NSParams, Path: []string{"orders"}},
		{Raw: "run.logical_date.yyyymmdd", Namespace: NSRun, Path: []string{"logical_date", "yyyymmdd"}},
		{Raw: "env.catalog", Namespace: NSEnv, Path: []string{"catalog"}},
		{Raw: "tasks.gen.output.rows.0", Namespace: NSTasks, Path: []string{"gen", "output", "rows", "0"}},
		{Raw: "env:HOME", Namespace: NSEnvVar, Name: "HOME"},
		{Raw: "env:X:-a:-b", Namespace: NSEnvVar, Name: "X", Default: strPtr("a:-b")},
		{Raw: "secret:SMTP_URL", Namespace: NSSecret, Name: "SMTP_URL"},
	}, refs)

	refs, err = Refs("no references, $ and {} and $${escaped}")
	require.NoError(t, err)
	require.Empty(t, refs)

	for in, want := range map[string]string{
		"${params.x":        `unterminated reference in "${params.x"`,
		"${}":               "bad reference ${}",
		"${params..x}":      "bad reference ${params..x}",
		"${params}":         "incomplete reference ${params}",
		"${tasks.a}":        "bad task reference ${tasks.a}",
		"${tasks.a.out.x}":  "bad task reference ${tasks.a.out.x}",
		"${foo.bar}":        "unknown reference ${foo.bar}",
		"${env:}":           "bad environment variable reference ${env:}",
		"${env:A-B}":        "bad environment variable reference ${env:A-B}",
		"${secret:}":        "bad secret reference ${secret:}",
		"${secret:a.b}":     "bad secret reference ${secret:a.b}",
		"ok ${params.x} ${": `unterminated reference in "ok ${params.x} ${"`,
	} {
		_, err := Refs(in)
		require.EqualError(t, err, want, in)
	}
}

// scope resolves every namespace, as the activity's final phase does.
func fullScope() Scope {
	return Scope{
		Params: map[string]any{
			"orders": int64(5000), "ratio": 0.25, "full": true, "name": "daily",
			"cfg": map[string]any{"region": "eu", "zones": []any{"a", "b"}}, "none": nil,
		},
		Run: &RunVars{
			ID: "run-1", WorkflowID: "wf-1", Pipeline: "olist_daily", Env: "prod", Trigger: "SCHEDULED",
			LogicalDate: time.Date(2026, 3, 7, 5, 4, 0, 0, time.FixedZone("CET", 3600)),
			StartTime:   time.Date(2026, 3, 7, 6, 0, 9, 0, time.UTC),
		},
		Env: map[string]any{"name": "prod", "engine": "databricks", "catalog": "olist", "volume": "/Volumes/x"},
		Tasks: map[string]map[string]any{
			"gen": {"rows": map[string]any{"orders": int64(5000), "items": float64(12000)}, "files": []any{"a.csv", map[string]any{"path": "b.csv"}}, "ok": true},
		},
		Getenv: func(k string) (string, bool) {
			switch k {
			case "HOME":
				return "/home/sluice", true
			case "EMPTY":
				return "", true
			}
			return "", false
		},
		Secrets: func(name string) (string, error) {
			if name == "SMTP_URL" {
				return "smtp://u:p@mail:587", nil
			}
			return "", errors.New("no secret " + name)
		},
		Final: true,
	}
}

func TestInterpolateNamespaces(t *testing.T) {
	t.Parallel()
	sc := fullScope()
	for in, want := range map[string]any{
		// whole-string references keep their type
		"${params.orders}":                        int64(5000),
		"${params.ratio}":                         0.25,
		"${params.full}":                          true,
		"${params.cfg}":                           map[string]any{"region": "eu", "zones": []any{"a", "b"}},
		"${params.cfg.region}":                    "eu",
		"${params.cfg.zones.1}":                   "b",
		"${params.none}":                          nil,
		"${tasks.gen.output.rows.orders}":         int64(5000),
		"${tasks.gen.output.rows.items}":          float64(12000),
		"${tasks.gen.output.files.1.path}":        "b.csv",
		"${tasks.gen.output}":                     sc.Tasks["gen"],
		"${env.catalog}":                          "olist",
		"${env:HOME}":                             "/home/sluice",
		"${env:UNSET:-fallback}":                  "fallback",
		"${env:EMPTY:-fallback}":                  "fallback",
		"${secret:SMTP_URL}":                      "smtp://u:p@mail:587",
		"${run.id}":                               "run-1",
		"${run.workflow_id}":                      "wf-1",
		"${run.pipeline}":                         "olist_daily",
		"${run.env}":                              "prod",
		"${run.trigger}":                          "SCHEDULED",
		"${run.start_time}":                       "2026-03-07T06:00:09Z",
		"${run.logical_date}":                     "2026-03-07", // in UTC: 04:04Z
		"${run.logical_date.iso_date}":            "2026-03-07",
		"${run.logical_date.iso_datetime}":        "2026-03-07T04:04:00Z",
		"${run.logical_date.yyyymmdd}":            "20260307",
		"${run.logical_date.yyyymmddhh}":          "2026030704",
		"${run.logical_date.year}":                int64(2026),
		"${run.logical_date.month}":               int64(3),
		"${run.logical_date.day}":                 int64(7),
		"${run.logical_date.hour}":                int64(4),
		"${run.logical_date.minute}":              int64(4),
		"${run.logical_date.timestamp_ms}":        int64(1772856240000),
		"no refs at all":                          "no refs at all",
		"":                                        "",
		"orders=${params.orders}":                 "orders=5000",
		"${params.ratio}/${params.full}":          "0.25/true",
		"rows ${tasks.gen.output.rows}":           `rows {"items":12000,"orders":5000}`,
		"zones ${params.cfg.zones}":               `zones ["a","b"]`,
		"[${params.none}]":                        "[]",
		"s3://b/${run.logical_date.yyyymmdd}":     "s3://b/20260307",
		"${env:HOME}/x ${env:UNSET:-y}":           "/home/sluice/x y",
		"cost $${params.orders} ${params.orders}": "cost ${params.orders} 5000",
		"$${params.orders}":                       "${params.orders}",
		"$$${params.orders}":                      "$${params.orders}",
	} {
		got, err := Interpolate(in, sc)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
}

func TestInterpolatePhases(t *testing.T) {
	t.Parallel()
	full := fullScope()
	// planning: params, run, env fields and env vars; no outputs or secrets
	plan := Scope{Params: full.Params, Run: full.Run, Env: full.Env, Getenv: full.Getenv}
	// the workflow: upstream outputs, for the tasks that have finished
	workflow := Scope{Tasks: full.Tasks}

	in := map[string]any{
		"orders":  "${params.orders}",
		"min":     "${tasks.gen.output.rows.orders}",
		"later":   "${tasks.other.output.n}",
		"smtp":    "${secret:SMTP_URL}",
		"message": "day ${run.logical_date} rows ${tasks.gen.output.rows.orders} $${literal} ${secret:SMTP_URL}",
		"list":    []any{"${env.catalog}", int64(1), true, nil, "$${x}"},
	}
	afterPlan, err := Interpolate(in, plan)
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"orders":  int64(5000),
		"min":     "${tasks.gen.output.rows.orders}",
		"later":   "${tasks.other.output.n}",
		"smtp":    "${secret:SMTP_URL}",
		"message": "day 2026-03-07 rows ${tasks.gen.output.rows.orders} $${literal} ${secret:SMTP_URL}",
		"list":    []any{"olist", int64(1), true, nil, "$${x}"},
	}, afterPlan, "early phases leave unresolved references and escapes as they are")

	afterWorkflow, err := Interpolate(afterPlan, workflow)
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"orders":  int64(5000),
		"min":     int64(5000),
		"later":   "${tasks.other.output.n}",
		"smtp":    "${secret:SMTP_URL}",
		"message": "day 2026-03-07 rows 5000 $${literal} ${secret:SMTP_URL}",
		"list":    []any{"olist", int64(1), true, nil, "$${x}"},
	}, afterWorkflow)

	// the activity: secrets, and escapes become literal
	activity := Scope{Tasks: map[string]map[string]any{"other": {"n": int64(3)}}, Secrets: full.Secrets, Final: true}
	final, err := Interpolate(afterWorkflow, activity)
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"orders":  int64(5000),
		"min":     int64(5000),
		"later":   int64(3),
		"smtp":    "smtp://u:p@mail:587",
		"message": "day 2026-03-07 rows 5000 ${literal} smtp://u:p@mail:587",
		"list":    []any{"olist", int64(1), true, nil, "${x}"},
	}, final)

	// the final phase refuses what it cannot resolve
	_, err = Interpolate(afterPlan, Scope{Final: true, Secrets: full.Secrets})
	require.EqualError(t, err, "later: reference ${tasks.other.output.n} cannot be resolved here")
	_, err = InterpolateString("x ${tasks.gen.output.ok}", Scope{Final: true})
	require.EqualError(t, err, "reference ${tasks.gen.output.ok} cannot be resolved here")

	s, err := InterpolateString("${tasks.gen.output.ok}", full)
	require.NoError(t, err)
	require.Equal(t, "true", s)
	s, err = InterpolateString("${params.cfg}", full)
	require.NoError(t, err)
	require.Equal(t, `{"region":"eu","zones":["a","b"]}`, s)
}

func TestInterpolateErrors(t *testing.T) {
	t.Parallel()
	sc := fullScope()
	for in, want := range map[string]string{
		"${params.order}":                `unknown parameter "order"`,
		"${params.cfg.zone}":             `params.cfg has no field "zone"`,
		"${params.cfg.zones.2}":          `params.cfg.zones is a list of 2; "2" is not an index`,
		"${params.cfg.zones.first}":      `params.cfg.zones is a list of 2; "first" is not an index`,
		"${params.orders.x}":             `params.orders is 5000, not a mapping; cannot take "x"`,
		"${tasks.gen.output.rowz}":       `tasks.gen.output has no field "rowz"`,
		"x ${tasks.gen.output.rows.x.y}": `tasks.gen.output.rows has no field "x"`,
		"${env.schema}":                  `unknown environment field "schema"`,
		"${env:UNSET}":                   "environment variable UNSET is not set",
		"${secret:OTHER}":                "no secret OTHER",
		"${run.idd}":                     `unknown run field "idd"`,
		"${run.id.short}":                `run field "id" has no field "short"`,
		"${run.logical_date.yyyy}":       `unknown date format "yyyy"`,
		"${run.logical_date.year.x}":     `unknown date format "year.x"`,
		"${params.x":                     `unterminated reference in "${params.x"`,
	} {
		_, err := Interpolate(in, sc)
		require.EqualError(t, err, want, in)
	}
	// hints travel with the errors for validation to print
	_, err := Interpolate("${params.order}", sc)
	require.Equal(t, `did you mean "orders"?`, hintFor(err))
	_, err = Interpolate("${env:UNSET}", sc)
	require.Equal(t, "set it, or give a default: ${env:UNSET:-value}", hintFor(err))

	// errors inside structures say where
	_, err = Interpolate(map[string]any{"checks": []any{map[string]any{"min": "${params.nope}"}}}, sc)
	require.EqualError(t, err, `checks: [0]: min: unknown parameter "nope"`)

	// a namespace without a resolver is a later phase's business
	v, err := Interpolate("${env:UNSET}", Scope{})
	require.NoError(t, err)
	require.Equal(t, "${env:UNSET}", v)
}

func TestEnvFields(t *testing.T) {
	t.Parallel()
	require.Equal(t, map[string]any{
		"name": "local", "engine": "local", "volume": ".data", "catalog": "c1", "schema": "", "warehouse_id": "", "host": "",
	}, EnvFields("local", Environment{Volume: ".data"}, map[string]any{"catalog": "c1"}))
	require.Equal(t, map[string]any{
		"name": "prod", "engine": "databricks", "volume": "/Volumes/v", "catalog": "uc", "schema": "gold", "warehouse_id": "wh", "host": "https://h",
	}, EnvFields("prod", Environment{Engine: "databricks", Databricks: &DatabricksEnv{
		Catalog: "uc", Schema: "gold", WarehouseID: "wh", Host: "https://h", Volume: "/Volumes/v",
	}}, map[string]any{"catalog": "ignored"}))
}
