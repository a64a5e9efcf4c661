package dbt

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
)

// captureDbt is a dbt executable that copies the profiles.yml it is given
// (and its file mode) to $CAPTURE before running the stand-in dbt, which
// replays real dbt logs: the profile exists only while dbt runs.
func captureDbt(t *testing.T, f *fixture) (exe, capture string) {
	t.Helper()
	dir := t.TempDir()
	exe, capture = filepath.Join(dir, "dbt"), filepath.Join(dir, "profiles.yml")
	writeFile(t, exe, `#!/bin/sh
prev=
for a in "$@"; do
  if [ "$prev" = "--profiles-dir" ]; then
    cp "$a/profiles.yml" "$CAPTURE" && stat -c '%a %n' "$a" "$a/profiles.yml" > "$CAPTURE.mode"
  fi
  prev=$a
done
exec "$FAKEDBT" "$@"
`)
	require.NoError(t, os.Chmod(exe, 0o755))
	return exe, capture
}

func TestProfiles(t *testing.T) {
	t.Parallel()

	t.Run("LocalPostgres", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		exe, capture := captureDbt(t, f)
		f.acts.Executable = exe
		const password = "Sup3r/s3cret"
		f.secrets["WAREHOUSE_URL"] = "postgres://dbt_user:Sup3r%2Fs3cret@db.example.com:6543/lake?sslmode=disable"
		var ensured []string
		f.acts.EnsureCatalog = func(_ context.Context, url, catalog string) error {
			ensured = append(ensured, url, catalog)
			return nil
		}
		m := f.meta(1)
		m.Target.Warehouse = "${secret:WAREHOUSE_URL}"
		out, err := f.run(RunInput{Meta: m, Config: spec.DbtConfig{
			Project: "shop", Commands: []string{"run"}, Schema: "analytics", Threads: 8,
			Env: f.fake("FAKEDBT", fakeDbt(t), "CAPTURE", capture, "FAKEDBT_LOG", runLog(t), "FAKEDBT_RUN_RESULTS", "auto",
				"FAKEDBT_STDERR", "connection to db.example.com with password "+password),
		}})
		require.NoError(t, err)

		profile, err := os.ReadFile(capture)
		require.NoError(t, err)
		require.Equal(t, `# Written by Sluice for one dbt run; secrets come from the environment.
"jaffle_shop":
  target: "sluice"
  outputs:
    "sluice":
      type: postgres
      host: "db.example.com"
      port: 6543
      user: "dbt_user"
      password: "{{ env_var('SLUICE_DBT_PG_PASSWORD') }}"
      dbname: "olist_local"
      schema: "analytics"
      threads: 8
`, string(profile), "the catalog is the database; the password is read from the environment")
		requireModes(t, capture)
		call := f.calls()[0]
		require.Equal(t, password, call.getenv("SLUICE_DBT_PG_PASSWORD"), "the password reaches dbt only through its environment")
		require.Equal(t, []string{f.secrets["WAREHOUSE_URL"], "olist_local"}, ensured, "the catalog is created before dbt connects")

		requireNoSecret(t, f, out, password)
	})

	t.Run("Databricks", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		exe, capture := captureDbt(t, f)
		f.acts.Executable = exe
		const token = "dapi0123456789abcdef"
		f.secrets["DBX_TOKEN"] = token
		m := f.meta(1)
		m.Env = "dev"
		m.Target = spec.Target{Env: "dev", Engine: spec.EngineDatabricks, ProjectDir: f.project, Catalog: "olist_dev",
			Databricks: &spec.DatabricksEnv{Host: "https://adb-123.4.azuredatabricks.net/", Token: "${secret:DBX_TOKEN}",
				WarehouseID: "abc123def", Schema: "gold"},
			DbtProjects: map[string]spec.DbtProject{"shop": {Path: "dbt"}}}
		out, err := f.run(RunInput{Meta: m, Config: spec.DbtConfig{
			Project: "shop", Commands: []string{"run"}, Target: "dev",
			Env: f.fake("FAKEDBT", fakeDbt(t), "CAPTURE", capture, "FAKEDBT_LOG", runLog(t),
				"FAKEDBT_STDERR", "Authorization: Bearer "+token),
		}})
		require.NoError(t, err)
		profile, err := os.ReadFile(capture)
		require.NoError(t, err)
		require.Equal(t, `# Written by Sluice for one dbt run; secrets come from the environment.
"jaffle_shop":
  target: "dev"
  outputs:
    "dev":
      type: databricks
      host: "adb-123.4.azuredatabricks.net"
      http_path: "/sql/1.0/warehouses/abc123def"
      catalog: "olist_dev"
      schema: "gold"
      token: "{{ env_var('DBT_DATABRICKS_TOKEN') }}"
      threads: 4
`, string(profile))
		requireModes(t, capture)
		call := f.calls()[0]
		require.Equal(t, token, call.getenv("DBT_DATABRICKS_TOKEN"))
		require.Equal(t, []string{"dev"}, call.flag("--target"))
		requireNoSecret(t, f, out, token)
	})

	t.Run("DatabricksWithoutToken", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		m := f.meta(1)
		m.Target = spec.Target{Env: "prod", Engine: spec.EngineDatabricks, ProjectDir: f.project,
			Databricks:  &spec.DatabricksEnv{Host: "https://adb-1.2.azuredatabricks.net", WarehouseID: "w1", ClientID: "sp"},
			DbtProjects: map[string]spec.DbtProject{"shop": {Path: "dbt"}}}
		_, err := f.run(RunInput{Meta: m, Config: spec.DbtConfig{Project: "shop", Env: f.fake()}})
		ae, fl := failure(t, err)
		require.Equal(t, task.ErrConfig, ae.Type())
		require.False(t, fl.Retryable)
		require.True(t, strings.HasPrefix(ae.Message(), "environments.prod.databricks.token is not set (nor DATABRICKS_TOKEN on the worker)"), ae.Message())
		require.Empty(t, f.calls())
	})

	t.Run("NotAPostgresURL", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		m := f.meta(1)
		m.Target.Warehouse = "host=db.example.com dbname=lake"
		_, err := f.run(RunInput{Meta: m, Config: spec.DbtConfig{Project: "shop", Env: f.fake()}})
		ae, _ := failure(t, err)
		require.Equal(t, task.ErrConfig, ae.Type())
		require.Equal(t, "environments.local.warehouse: the warehouse is not a postgres://user@host:port/database URL, which dbt-postgres needs", ae.Message())
	})
}

// requireModes checks the captured profile's folder and file modes.
func requireModes(t *testing.T, capture string) {
	t.Helper()
	b, err := os.ReadFile(capture + ".mode")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 2)
	require.True(t, strings.HasPrefix(lines[0], "700 "), "profiles folder: %s", lines[0])
	require.True(t, strings.HasPrefix(lines[1], "600 "), "profiles.yml: %s", lines[1])
}

// requireNoSecret checks that nothing the attempt left on disk or returned
// holds the secret, and that the private folder is gone.
func requireNoSecret(t *testing.T, f *fixture, out RunResult, secret string) {
	t.Helper()
	require.Empty(t, grepTree(t, f.artifacts, secret), "artifacts are scrubbed")
	require.Empty(t, grepTree(t, f.project, secret), "nothing in the project folder")
	b, err := json.Marshal(out)
	require.NoError(t, err)
	require.NotContains(t, string(b), secret)
	stderr, err := os.ReadFile(filepath.Join(fromURI(t, out.ArtifactsURI), "01_run", "dbt_stderr.log"))
	require.NoError(t, err)
	require.Contains(t, string(stderr), "*****", "the secret dbt printed is redacted in the stored stderr")
	profiles := f.calls()[0].flag("--profiles-dir")[0]
	require.NoDirExists(t, filepath.Dir(profiles), "the private profile folder is removed")
}

func TestPostgresProfileFromURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, url, catalog string
		want               string // host:port user db
	}{
		{"Defaults", "postgres://127.0.0.1/sluice_lakehouse", "", "127.0.0.1:0 postgres sluice_lakehouse"},
		{"CatalogWins", "postgres://postgres@127.0.0.1:5432/sluice_lakehouse", "olist_local", "127.0.0.1:5432 postgres olist_local"},
		{"Socket", "postgres:///lake?host=/var/run/postgresql&user=etl", "", "/var/run/postgresql:0 etl lake"},
		{"NoHost", "postgresql://me@/lake", "", "localhost:0 me lake"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pg, err := postgresProfile(tc.url, tc.catalog, "dbt", 0)
			require.NoError(t, err)
			require.Equal(t, tc.want, pg.Host+":"+itoa(pg.Port)+" "+pg.User+" "+pg.DBName)
		})
	}
	_, err := postgresProfile("postgres://127.0.0.1:5432", "", "dbt", 0)
	require.EqualError(t, err, "the warehouse URL names no database and the environment has no catalog")
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
