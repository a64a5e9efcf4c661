package spec

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/quality"
)

func boolPtr(b bool) *bool { return &b }

// fullConfigs holds one config of every task type with every field set, to
// values that survive JSON (whole numbers in untyped fields are int64, as
// decoding YAML gives them).
func fullConfigs() []any {
	return []any{
		&GenerateDataConfig{Dataset: "olist", Orders: 5000, Seed: 42, Batch: 20261122, MalformedRate: 0.05},
		&DLTPipelineConfig{Pipeline: "olist_main_pipeline", FullRefresh: true, RefreshSelection: []string{"silver.orders"}, FullRefreshSelection: []string{"gold.daily"}},
		&DbtConfig{
			Project: "warehouse", Commands: []string{"deps", "build"}, Select: []string{"tag:daily"}, Exclude: []string{"x"},
			Selector: "nightly", Vars: map[string]any{"day": "2026-11-22", "n": int64(3), "ratio": 0.5, "on": true, "list": []any{"a", int64(1)}},
			FullRefresh: true, Threads: 8, Target: "prod", Schema: "analytics", SkipTests: true,
			Env: map[string]string{"DBT_TOKEN": "${secret:DBT}", "N": "5"},
		},
		&QualityChecksConfig{
			Checks: []quality.Spec{
				{Table: "silver.orders", NotNull: []string{"order_id"}, Unique: []quality.ColumnSet{{"order_id"}, {"a", "b"}}, Where: "x > 0", Severity: quality.SeverityWarn},
				{Name: "count", Table: "bronze.orders", RowCount: &quality.RowCount{Min: quality.NewCount(100), Max: quality.NewCount(1_000_000)}},
				{Table: "silver.items", AcceptedValues: []quality.AcceptedValues{{Column: "status", Values: []any{"ok", int64(1), 2.5, true}}}},
				{Table: "silver.items", Freshness: &quality.Freshness{Column: "ts", MaxAge: "26h"}, Relationships: []quality.Relationship{{Column: "order_id", To: "silver.orders", Field: "order_id"}}},
				{Expression: "price >= 0", Table: "silver.items"},
				{SQL: "select 1 where false"},
			},
			Catalog: "olist", SampleRows: 3,
		},
		&SQLConfig{Files: []string{"a.sql", "b.sql"}, Statements: []string{"select 1"}, Catalog: "c", Schema: "s", Transaction: boolPtr(false)},
		&DatabricksJobConfig{JobID: 123456789012345, JobParameters: map[string]string{"day": "2026-11-22"}},
		&DatabricksJobConfig{Job: "nightly"},
		&RunPipelineConfig{Pipeline: "child", Env: "prod", Params: map[string]any{"orders": int64(10), "full": false, "nested": map[string]any{"x": "y"}}},
		&WaitForConfig{Signal: "data-ready", Match: map[string]any{"dataset": "orders", "n": int64(2)}, Timeout: Duration(2 * time.Hour), OnTimeout: "skip"},
		&ApprovalConfig{Message: "ship it?", Approvers: []string{"ana", "bo"}, Timeout: Duration(90 * time.Minute), OnTimeout: "fail"},
		&NotifyConfig{Channels: []string{"console", "data-eng"}, Subject: "done", Message: "rows: 5"},
		&NoopConfig{Sleep: Duration(1500 * time.Millisecond), Message: "hi"},
	}
}

func TestDecodeValueRoundTrip(t *testing.T) {
	t.Parallel()
	seen := map[reflect.Type]bool{}
	for _, cfg := range fullConfigs() {
		typ := reflect.TypeOf(cfg).Elem()
		seen[typ] = true
		t.Run(typ.Name(), func(t *testing.T) {
			t.Parallel()
			// through JSON, as task configs travel in workflow history: every
			// number comes back a float64
			b, err := json.Marshal(cfg)
			require.NoError(t, err)
			var generic map[string]any
			require.NoError(t, json.Unmarshal(b, &generic))

			out := reflect.New(typ).Interface()
			require.NoError(t, DecodeValue(generic, out))
			require.Equal(t, cfg, out)

			// and the decoded config satisfies its own rules
			if v, ok := out.(validator); ok {
				require.NoError(t, v.Validate())
			}
		})
	}
	for _, tt := range TaskTypes {
		require.True(t, seen[reflect.TypeOf(tt.Config)], "no round trip for %s", tt.Name)
	}
}

func TestDecodeValue(t *testing.T) {
	t.Parallel()
	t.Run("JSONNumbers", func(t *testing.T) {
		t.Parallel()
		var g GenerateDataConfig
		require.NoError(t, DecodeValue(map[string]any{"orders": float64(1e6), "seed": float64(1 << 53), "batch": 2.026e7, "malformed_rate": float64(0)}, &g))
		require.Equal(t, GenerateDataConfig{Orders: 1_000_000, Seed: 1 << 53, Batch: 20_260_000}, g)
	})
	t.Run("NumericStrings", func(t *testing.T) {
		t.Parallel()
		// interpolated values are often text
		var g GenerateDataConfig
		require.NoError(t, DecodeValue(map[string]any{"orders": "1_000", "seed": "0x10", "malformed_rate": "0.1"}, &g))
		require.Equal(t, GenerateDataConfig{Orders: 1000, Seed: 16, MalformedRate: 0.1}, g)
	})
	t.Run("Nil", func(t *testing.T) {
		t.Parallel()
		var n NoopConfig
		require.NoError(t, DecodeValue(nil, &n))
		require.Equal(t, NoopConfig{}, n)
		var r RunPipelineConfig
		require.NoError(t, DecodeValue(map[string]any{"pipeline": "p", "params": map[string]any{"x": nil}}, &r))
		require.Equal(t, RunPipelineConfig{Pipeline: "p", Params: map[string]any{"x": nil}}, r)
	})
	for _, tc := range []struct {
		name string
		in   any
		out  any
		err  string
	}{
		{"UnknownField", map[string]any{"ordrs": 5}, &GenerateDataConfig{}, `ordrs: unknown field "ordrs" (did you mean "orders"?)`},
		{"NotAnInteger", map[string]any{"orders": "many"}, &GenerateDataConfig{}, `orders: expected an integer, got "many"`},
		{"FractionForInteger", map[string]any{"orders": 2.5}, &GenerateDataConfig{}, `orders: expected an integer, got "2.5"`},
		{"OutOfRange", map[string]any{"job_id": 1e21}, &DatabricksJobConfig{}, `job_id: expected an integer, got "1e+21"`},
		{"NotABool", map[string]any{"full_refresh": "sometimes"}, &DLTPipelineConfig{}, `full_refresh: expected true or false, got "sometimes"`},
		{"NotAList", map[string]any{"channels": "console"}, &NotifyConfig{}, `channels: expected a list, got "console" (write a list: [console])`},
		{"NotAMapping", []any{1, 2}, &NotifyConfig{}, "expected a mapping (key: value), got a list"},
		{"BadDuration", map[string]any{"sleep": float64(5)}, &NoopConfig{}, `sleep: "5" is not a duration (write e.g. 90s, 30m, 2h or 7d)`},
		{"SeveralProblems", map[string]any{"orders": "x", "seed": "y"}, &GenerateDataConfig{}, "orders: expected an integer, got \"x\"\nseed: expected an integer, got \"y\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.EqualError(t, DecodeValue(tc.in, tc.out), tc.err)
		})
	}
}

// TestParseNulls: a key written without a value is null, in typed fields
// and in free-form ones (params, with).
func TestParseNulls(t *testing.T) {
	t.Parallel()
	pf, diags := ParsePipeline("p.yaml", []byte(`name: p
description:
params:
  a: null
  b: ~
  c:
schedule:
tasks:
  - key: t
    type: noop
    timeout:
    with:
      message: ~
      sleep:
`))
	require.Empty(t, diagLines(diags))
	require.Equal(t, map[string]any{"a": nil, "b": nil, "c": nil}, pf.Spec.Params)
	require.Nil(t, pf.Spec.Schedule)
	require.Equal(t, map[string]any{"message": nil, "sleep": nil}, pf.Spec.Tasks[0].With)
	require.Zero(t, pf.Spec.Tasks[0].Timeout)
}
