package dbt

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// requireNoSecretInDir reads every file under dir.
func requireNoSecretInDir(t *testing.T, dir, secret string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		if !d.IsDir() {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NotContains(t, string(b), secret, path)
		}
		return nil
	}))
}

func TestWriteProfile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		profile  Profile
		secret   string
		wantYAML string
		wantEnv  []string
	}{
		{
			name: "Postgres",
			profile: Profile{Name: "jaffle_shop", Postgres: &PostgresProfile{
				Host: "127.0.0.1", Port: 5433, User: "sluice", Password: "s3cr3t: {{ not jinja }}", DBName: "warehouse", Schema: "analytics", Threads: 8,
			}},
			secret: "s3cr3t: {{ not jinja }}",
			wantYAML: `# Written by Sluice for one dbt run; secrets come from the environment.
"jaffle_shop":
  target: "sluice"
  outputs:
    "sluice":
      type: postgres
      host: "127.0.0.1"
      port: 5433
      user: "sluice"
      password: "{{ env_var('SLUICE_DBT_PG_PASSWORD') }}"
      dbname: "warehouse"
      schema: "analytics"
      threads: 8
`,
			wantEnv: []string{"SLUICE_DBT_PG_PASSWORD=s3cr3t: {{ not jinja }}"},
		},
		{
			name: "PostgresTrustAuthDefaults",
			profile: Profile{Name: "shop", Target: "local", Postgres: &PostgresProfile{
				Host: "db", User: "postgres", DBName: "sluice", Schema: "dbt_\"odd\"",
			}},
			wantYAML: `# Written by Sluice for one dbt run; secrets come from the environment.
"shop":
  target: "local"
  outputs:
    "local":
      type: postgres
      host: "db"
      port: 5432
      user: "postgres"
      password: ""
      dbname: "sluice"
      schema: "dbt_\"odd\""
      threads: 4
`,
		},
		{
			name: "Databricks",
			profile: Profile{Name: "lakehouse", Databricks: &DatabricksProfile{
				Host: "https://adb-1234567890.12.azuredatabricks.net/", HTTPPath: "/sql/1.0/warehouses/abc123", Catalog: "olist_dev",
				Schema: "silver", Token: "dapi0123456789abcdef",
			}},
			secret: "dapi0123456789abcdef",
			wantYAML: `# Written by Sluice for one dbt run; secrets come from the environment.
"lakehouse":
  target: "sluice"
  outputs:
    "sluice":
      type: databricks
      host: "adb-1234567890.12.azuredatabricks.net"
      http_path: "/sql/1.0/warehouses/abc123"
      catalog: "olist_dev"
      schema: "silver"
      token: "{{ env_var('DBT_DATABRICKS_TOKEN') }}"
      threads: 4
`,
			wantEnv: []string{"DBT_DATABRICKS_TOKEN=dapi0123456789abcdef"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "profiles")
			env, err := WriteProfile(dir, tt.profile)
			require.NoError(t, err)
			require.Equal(t, tt.wantEnv, env)

			path := filepath.Join(dir, "profiles.yml")
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, tt.wantYAML, string(b))
			fi, err := os.Stat(path)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
			di, err := os.Stat(dir)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o700), di.Mode().Perm())
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 1, "no temporary file left behind")
			if tt.secret != "" {
				requireNoSecretInDir(t, dir, tt.secret)
			}

			// It is the YAML dbt expects: profile -> target + outputs.
			var doc map[string]struct {
				Target  string                    `yaml:"target"`
				Outputs map[string]map[string]any `yaml:"outputs"`
			}
			require.NoError(t, yaml.Unmarshal(b, &doc))
			p := doc[tt.profile.Name]
			require.Contains(t, p.Outputs, p.Target)
		})
	}
}

func TestWriteProfileRewritesAndRestricts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	p := Profile{Name: "p", Postgres: &PostgresProfile{Host: "h", User: "u", DBName: "d", Schema: "s", Password: "first"}}
	_, err := WriteProfile(dir, p)
	require.NoError(t, err)
	p.Postgres.Password = "second"
	env, err := WriteProfile(dir, p)
	require.NoError(t, err)
	require.Equal(t, []string{"SLUICE_DBT_PG_PASSWORD=second"}, env)
	di, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), di.Mode().Perm())
	requireNoSecretInDir(t, dir, "first")
	requireNoSecretInDir(t, dir, "second")
}

func TestWriteProfileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		profile Profile
		wantErr string
	}{
		{"NoName", Profile{Postgres: &PostgresProfile{}}, "dbt profile: Name is empty"},
		{"NoAdapter", Profile{Name: "p"}, `dbt profile "p": set exactly one of Postgres and Databricks`},
		{"BothAdapters", Profile{Name: "p", Postgres: &PostgresProfile{}, Databricks: &DatabricksProfile{}}, "set exactly one"},
		{"PostgresHost", Profile{Name: "p", Postgres: &PostgresProfile{User: "u", DBName: "d", Schema: "s"}}, `dbt profile "p": Postgres.Host is empty`},
		{"DatabricksToken", Profile{Name: "p", Databricks: &DatabricksProfile{Host: "h", HTTPPath: "/x", Schema: "s"}}, `dbt profile "p": Databricks.Token is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "profiles")
			_, err := WriteProfile(dir, tt.profile)
			require.ErrorContains(t, err, tt.wantErr)
			require.NoDirExists(t, dir, "nothing is written for an invalid profile")
		})
	}
}

func TestReadProjectProfileName(t *testing.T) {
	t.Parallel()
	name, err := ReadProjectProfileName(filepath.Join("testdata", "project"))
	require.NoError(t, err)
	require.Equal(t, "jaffle_shop", name)

	tests := []struct{ name, content, wantErr string }{
		{"NoProfile", "name: x\nversion: '1.0'\n", "no `profile:` key: add `profile: <name>`"},
		{"EmptyProfile", "name: x\nprofile:\n", "dbt_project.yml:2: profile is empty"},
		{"Jinja", "name: x\nprofile: \"{{ env_var('P') }}\"\n", "dbt_project.yml:2: profile \"{{ env_var('P') }}\" is a Jinja template"},
		{"NotAMapping", "- a\n- b\n", "not a YAML mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "dbt_project.yml"), []byte(tt.content), 0o644))
			_, err := ReadProjectProfileName(dir)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
	_, err = ReadProjectProfileName(t.TempDir())
	require.ErrorContains(t, err, "reading the dbt project: open ")
}
