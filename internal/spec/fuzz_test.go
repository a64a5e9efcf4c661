package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParsePipeline: whatever a pipeline file holds, parsing it, applying
// every environment overlay, validating it against a real project and
// planning it never panic (a panic in the planning activity would fail runs
// for a typo). `go test` runs the seeds; fuzz with
// go test -run '^$' -fuzz FuzzParsePipeline -fuzztime 60s ./internal/spec/
func FuzzParsePipeline(f *testing.F) {
	var seeds []string
	for _, g := range []string{
		filepath.Join("..", "..", "examples", "olist", "pipelines", "*.yaml"),
		filepath.Join("testdata", "project", "pipelines", "*.yaml"),
	} {
		m, err := filepath.Glob(g)
		require.NoError(f, err)
		seeds = append(seeds, m...)
	}
	require.GreaterOrEqual(f, len(seeds), 3)
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		require.NoError(f, err)
		f.Add(data)
	}

	// shapes that once crashed or hung the parser, and overlay shapes
	for _, s := range []string{
		"name: p\nparams: {a: null}\ntasks:\n  - {key: a, type: noop, with: {message: ~}}\n",
		"name: p\ntasks: &t [{key: a, type: noop, with: {m: *t}}]\n",
		"a: &a [1, 1]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\nname: p\ntasks: []\n",
		"name: p\ntasks:\n  - {key: a, type: sql, with: {files: [\"${params.f}\"]}}\nparams: {f: ../../x}\n",
		"name: p\ntimeout: 1e300d\ntasks: [{key: a, type: generate_data, with: {orders: 1e21}}]\n",
		"name: p\ntasks: [{key: a, type: noop}]\nenvironments:\n  prod: {tasks: {a: ~, b: {}}, schedule: {cron: \"0 0 6 ? * WED\"}}\n",
		"name: p\ntasks: [{key: a, type: noop}]\n---\n: [\n",
	} {
		f.Add([]byte(s))
	}

	base, err := Load(filepath.Join("testdata", "project"))
	require.NoError(f, err)
	envs := append([]string{"", "nowhere"}, base.EnvNames()...)

	f.Fuzz(func(t *testing.T, data []byte) {
		pf, diags := ParsePipeline("pipelines/fuzz.yaml", data)
		for _, d := range diags {
			_ = d.String()
		}
		if pf == nil {
			require.True(t, diags.HasErrors(), "no pipeline and no error")
			return
		}
		for _, env := range envs {
			pl, _, _, _ := pf.Effective(env)
			require.NotNil(t, pl)
		}
		p := *base
		p.Pipelines = []*PipelineFile{pf}
		p.Diags = diags
		all := p.Validate()
		_ = all.Error()
		if all.HasErrors() {
			return
		}
		for _, env := range base.EnvNames() {
			_, _ = p.Plan(PlanRequest{Pipeline: pf.Spec.Name, Env: env, Getenv: noEnv})
		}
	})
}
