package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// jsonValidator checks an instance against the subset of JSON Schema 2020-12
// that Schema generates. It refuses keywords it does not know, so that a
// schema using more of the standard fails this test instead of passing
// unchecked. (The module has no JSON Schema validator, and the test must
// not add one.)
type jsonValidator struct {
	t    *testing.T
	defs map[string]any
}

func newJSONValidator(t *testing.T, schema []byte) *jsonValidator {
	t.Helper()
	var root map[string]any
	require.NoError(t, json.Unmarshal(schema, &root))
	defs, _ := root["$defs"].(map[string]any)
	return &jsonValidator{t: t, defs: defs}
}

var annotations = []string{"$schema", "$id", "$defs", "title", "description"}

func (v *jsonValidator) validate(schema map[string]any, inst any, at string) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	props, _ := schema["properties"].(map[string]any)
	for kw, val := range schema {
		switch kw {
		case "$ref":
			ref := val.(string)
			def, ok := v.defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
			if !ok {
				v.t.Fatalf("%s: unresolved $ref %s", at, ref)
			}
			errs = append(errs, v.validate(def, inst, at)...)
		case "type":
			types := []string{}
			switch x := val.(type) {
			case string:
				types = append(types, x)
			case []any:
				for _, e := range x {
					types = append(types, e.(string))
				}
			}
			if !slices.ContainsFunc(types, func(typ string) bool { return jsonType(inst, typ) }) {
				fail("want %s, got %T %v", strings.Join(types, " or "), inst, inst)
			}
		case "enum":
			if !slices.ContainsFunc(val.([]any), func(e any) bool { return reflect.DeepEqual(e, inst) }) {
				fail("%v is not one of %v", inst, val)
			}
		case "const":
			if !reflect.DeepEqual(val, inst) {
				fail("%v is not %v", inst, val)
			}
		case "pattern":
			if s, ok := inst.(string); ok && !regexp.MustCompile(val.(string)).MatchString(s) {
				fail("%q does not match %s", s, val)
			}
		case "minimum":
			if f, ok := inst.(float64); ok && f < val.(float64) {
				fail("%v is below %v", f, val)
			}
		case "minItems":
			if a, ok := inst.([]any); ok && float64(len(a)) < val.(float64) {
				fail("%d items, want at least %v", len(a), val)
			}
		case "required":
			if m, ok := inst.(map[string]any); ok {
				for _, r := range val.([]any) {
					if _, ok := m[r.(string)]; !ok {
						fail("missing %s", r)
					}
				}
			}
		case "properties":
			if m, ok := inst.(map[string]any); ok {
				for k, sub := range props {
					if x, ok := m[k]; ok {
						errs = append(errs, v.validate(sub.(map[string]any), x, at+"."+k)...)
					}
				}
			}
		case "additionalProperties":
			m, ok := inst.(map[string]any)
			if !ok {
				break
			}
			for k, x := range m {
				if _, declared := props[k]; declared {
					continue
				}
				switch ap := val.(type) {
				case bool:
					if !ap {
						fail("unknown field %s", k)
					}
				case map[string]any:
					errs = append(errs, v.validate(ap, x, at+"."+k)...)
				}
			}
		case "items":
			if a, ok := inst.([]any); ok {
				for i, x := range a {
					errs = append(errs, v.validate(val.(map[string]any), x, fmt.Sprintf("%s[%d]", at, i))...)
				}
			}
		case "allOf":
			for _, sub := range val.([]any) {
				errs = append(errs, v.validate(sub.(map[string]any), inst, at)...)
			}
		case "anyOf", "oneOf":
			n := 0
			var all []string
			for _, sub := range val.([]any) {
				e := v.validate(sub.(map[string]any), inst, at)
				if len(e) == 0 {
					n++
				}
				all = append(all, e...)
			}
			if n == 0 || (kw == "oneOf" && n > 1) {
				fail("%s matched %d branches: %v", kw, n, all)
			}
		case "if":
			if len(v.validate(val.(map[string]any), inst, at)) == 0 {
				if then, ok := schema["then"].(map[string]any); ok {
					errs = append(errs, v.validate(then, inst, at)...)
				}
			}
		case "then":
		default:
			if !slices.Contains(annotations, kw) {
				v.t.Fatalf("%s: the test validator does not know keyword %q", at, kw)
			}
		}
	}
	sort.Strings(errs)
	return errs
}

func jsonType(inst any, typ string) bool {
	switch typ {
	case "object":
		_, ok := inst.(map[string]any)
		return ok
	case "array":
		_, ok := inst.([]any)
		return ok
	case "string":
		_, ok := inst.(string)
		return ok
	case "boolean":
		_, ok := inst.(bool)
		return ok
	case "number":
		_, ok := inst.(float64)
		return ok
	case "integer":
		f, ok := inst.(float64)
		return ok && f == math.Trunc(f)
	case "null":
		return inst == nil
	}
	return false
}

// yamlAsJSON reads a YAML document as an editor's language server does: as
// JSON values.
func yamlAsJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal(data, &v))
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func schemaOf(t *testing.T, kind string) (map[string]any, *jsonValidator) {
	t.Helper()
	b, err := Schema(kind)
	require.NoError(t, err)
	require.True(t, json.Valid(b))
	var root map[string]any
	require.NoError(t, json.Unmarshal(b, &root))
	return root, newJSONValidator(t, b)
}

func TestSchemaStructure(t *testing.T) {
	t.Parallel()
	_, err := Schema("job")
	require.EqualError(t, err, `unknown schema "job": use project or pipeline`)

	project, _ := schemaOf(t, "project")
	require.Equal(t, "Sluice project (sluice.yaml)", project["title"])
	require.ElementsMatch(t, []any{"project", "environments"}, project["required"])

	root, _ := schemaOf(t, "pipeline")
	require.Equal(t, "Sluice pipeline", root["title"])
	require.Equal(t, false, root["additionalProperties"])
	require.ElementsMatch(t, []any{"name", "tasks"}, root["required"])
	defs := root["$defs"].(map[string]any)
	task := defs["Task"].(map[string]any)
	require.ElementsMatch(t, []any{"key", "type"}, task["required"])
	var names []any
	for _, n := range TaskTypeNames() {
		names = append(names, n)
	}
	require.Equal(t, names, task["properties"].(map[string]any)["type"].(map[string]any)["enum"])

	branches := task["allOf"].([]any)
	require.Len(t, branches, len(TaskTypes), "one if/then per task type")
	for i, tt := range TaskTypes {
		b := branches[i].(map[string]any)
		cond := b["if"].(map[string]any)
		require.Equal(t, []any{"type"}, cond["required"])
		require.Equal(t, tt.Name, cond["properties"].(map[string]any)["type"].(map[string]any)["const"])
		ref := b["then"].(map[string]any)["properties"].(map[string]any)["with"].(map[string]any)["$ref"].(string)
		cfgName := reflect.TypeOf(tt.Config).Name()
		require.Equal(t, "#/$defs/"+cfgName, ref)
		cfg := defs[cfgName].(map[string]any)
		require.Equal(t, "object", cfg["type"], cfgName)
		require.Equal(t, false, cfg["additionalProperties"], cfgName)
	}

	// typed with: fields take a reference too, as validation allows
	orders := defs["GenerateDataConfig"].(map[string]any)["properties"].(map[string]any)["orders"].(map[string]any)
	require.Equal(t, []any{
		map[string]any{"type": "integer", "description": "Orders in this batch (default 1000)"},
		map[string]any{"type": "string", "pattern": `^\$\{[^}]+\}$`},
	}, orders["anyOf"])
	require.Equal(t, "Orders in this batch (default 1000)", orders["description"])
	name := defs["DLTPipelineConfig"].(map[string]any)["properties"].(map[string]any)["pipeline"].(map[string]any)
	require.Equal(t, "string", name["type"], "plain strings are left alone")
}

func TestSchemaValidatesSpecs(t *testing.T) {
	t.Parallel()
	_, pipeline := schemaOf(t, "pipeline")
	_, project := schemaOf(t, "project")
	check := func(t *testing.T, kind string, file string) []string {
		t.Helper()
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		b, err := Schema(kind)
		require.NoError(t, err)
		var root map[string]any
		require.NoError(t, json.Unmarshal(b, &root))
		v := pipeline
		if kind == "project" {
			v = project
		}
		return v.validate(root, yamlAsJSON(t, data), "$")
	}

	var files []string
	for _, g := range []string{
		filepath.Join("testdata", "project", "pipelines", "*.yaml"),
		filepath.Join("..", "..", "examples", "olist", "pipelines", "*.yaml"),
	} {
		m, err := filepath.Glob(g)
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.GreaterOrEqual(t, len(files), 3)
	for _, f := range files {
		require.Empty(t, check(t, "pipeline", f), f)
	}
	for _, f := range []string{
		filepath.Join("testdata", "project", ProjectFile),
		filepath.Join("..", "..", "examples", "olist", ProjectFile),
	} {
		require.Empty(t, check(t, "project", f), f)
	}

	// and it rejects what validation rejects
	dir := t.TempDir()
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"UnknownWithField", "name: p\ntasks: [{key: a, type: sql, with: {file: [a.sql]}}]\n", []string{"$.tasks[0].with: unknown field file"}},
		{"WrongType", "name: p\ntasks: [{key: a, type: generate_data, with: {orders: lots}}]\n", []string{
			`$.tasks[0].with.orders: anyOf matched 0 branches: [$.tasks[0].with.orders: want integer, got string lots $.tasks[0].with.orders: "lots" does not match ^\$\{[^}]+\}$]`,
		}},
		{"UnknownType", "name: p\ntasks: [{key: a, type: spark}]\n", []string{"$.tasks[0].type: spark is not one of [generate_data dlt_pipeline dbt quality_checks sql databricks_job run_pipeline wait_for approval notify noop]"}},
		{"MissingKeyAndName", "tasks: [{type: noop}]\n", []string{"$.tasks[0]: missing key", "$: missing name"}},
		{"UnknownTopLevel", "name: p\nowner: me\ntasks: [{key: a, type: noop}]\n", []string{"$: unknown field owner"}},
		{"BadDuration", "name: p\ntimeout: 5 minutes\ntasks: [{key: a, type: noop}]\n", []string{`$.timeout: "5 minutes" does not match ^[0-9.]+(ns|us|µs|ms|s|m|h|d)([0-9.]+(ns|us|µs|ms|s|m|h))*$`}},
	} {
		f := filepath.Join(dir, tc.name+".yaml")
		require.NoError(t, os.WriteFile(f, []byte(tc.yaml), 0o644))
		require.Equal(t, tc.want, check(t, "pipeline", f), tc.name)
	}
}
