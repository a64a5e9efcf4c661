package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// unsetVar names an environment variable no test sets: tests run in
// parallel, so none of them may call t.Setenv.
const unsetVar = "SLUICE_SPEC_TEST_NEVER_SET"

// baseProject is the sluice.yaml of the inline test projects: a local and a
// databricks environment, one DLT pipeline, two channels, one dbt project.
const baseProject = `project: acme
default_env: local
environments:
  local:
    engine: local
    warehouse: postgres://postgres@127.0.0.1:5432/wh
    params: {catalog: acme_local}
  prod:
    engine: databricks
    databricks: {host: "https://adb-1.2.azuredatabricks.net", warehouse_id: wh1}
    params: {catalog: acme}
dlt_pipelines:
  main: {local: local_pipelines/main, databricks: {name: main}}
channels:
  console: {type: log}
  data-eng: {type: email, to: [data-eng@example.com], smtp: "${secret:SMTP_URL}"}
dbt_projects:
  warehouse: {path: dbt}
`

// writeProject writes a project folder: sluice.yaml (baseProject when
// project is empty), the files baseProject refers to, and files (path ->
// content, relative to the folder).
func writeProject(t *testing.T, project string, files map[string]string) string {
	t.Helper()
	if project == "" {
		project = baseProject
	}
	dir := t.TempDir()
	all := map[string]string{
		ProjectFile:                          project,
		"local_pipelines/main/pipeline.yaml": "name: main\n",
		"sql/a.sql":                          "select 1;\n",
	}
	for k, v := range files {
		all[k] = v
	}
	for name, content := range all {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	return dir
}

// loadProject loads a project folder that must be readable.
func loadProject(t *testing.T, dir string) *Project {
	t.Helper()
	p, err := Load(dir)
	require.NoError(t, err)
	return p
}

// diagLines renders diagnostics as `sluice validate` prints them.
func diagLines(ds Diagnostics) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.String())
	}
	return out
}

// fixture is the checked-in example project in testdata/project.
func fixture(t *testing.T) *Project {
	t.Helper()
	p := loadProject(t, filepath.Join("testdata", "project"))
	require.Empty(t, diagLines(p.Validate()), "testdata/project must be valid")
	return p
}
