package dbt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Environment variables through which profiles.yml receives secrets.
const (
	PostgresPasswordEnv = "SLUICE_DBT_PG_PASSWORD"
	DatabricksTokenEnv  = "DBT_DATABRICKS_TOKEN"
)

// DefaultTarget is the profile target Sluice writes and selects.
const DefaultTarget = "sluice"

// Profile is the one-target dbt profile Sluice writes for a run. Exactly
// one of Postgres and Databricks is set.
type Profile struct {
	// Name is the profile name: the `profile:` of the project's
	// dbt_project.yml (see ReadProjectProfileName). Required.
	Name string
	// Target is the output name and the profile's default target.
	// Default DefaultTarget.
	Target     string
	Postgres   *PostgresProfile
	Databricks *DatabricksProfile
}

// PostgresProfile is a dbt-postgres output.
type PostgresProfile struct {
	Host     string // required
	Port     int    // default 5432
	User     string // required
	Password string // never written to the file: passed in the env as PostgresPasswordEnv
	DBName   string // required
	Schema   string // required: the schema dbt builds into
	Threads  int    // default 4
}

// DatabricksProfile is a dbt-databricks output.
type DatabricksProfile struct {
	Host     string // workspace host, e.g. adb-123.4.azuredatabricks.net (a leading https:// is dropped)
	HTTPPath string // SQL warehouse or cluster HTTP path, e.g. /sql/1.0/warehouses/abc
	Catalog  string // Unity Catalog catalog, optional
	Schema   string // required
	Token    string // required; never written to the file: passed in the env as DatabricksTokenEnv
	Threads  int    // default 4
}

const defaultProfileThreads = 4

// WriteProfile writes dir/profiles.yml (mode 0600, dir 0700) for p and
// returns the environment entries the dbt process needs to read it
// (the password or token). The file holds env_var() references, never a
// secret value; pass env to Options.Env and the values to Options.Secrets.
func WriteProfile(dir string, p Profile) (env []string, err error) {
	content, env, err := renderProfile(p)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating profiles dir %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("restricting profiles dir %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".profiles-*.yml")
	if err != nil {
		return nil, fmt.Errorf("writing profiles.yml in %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	path := filepath.Join(dir, "profiles.yml")
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return env, nil
}

// renderProfile returns the YAML text and the env entries for p. Every
// string is written as a double-quoted scalar, so no value can change the
// document's structure.
func renderProfile(p Profile) (string, []string, error) {
	if p.Name == "" {
		return "", nil, errors.New("dbt profile: Name is empty: use the `profile:` of dbt_project.yml (ReadProjectProfileName)")
	}
	if (p.Postgres == nil) == (p.Databricks == nil) {
		return "", nil, fmt.Errorf("dbt profile %q: set exactly one of Postgres and Databricks", p.Name)
	}
	target := p.Target
	if target == "" {
		target = DefaultTarget
	}
	var b strings.Builder
	b.WriteString("# Written by Sluice for one dbt run; secrets come from the environment.\n")
	fmt.Fprintf(&b, "%s:\n  target: %s\n  outputs:\n    %s:\n", quote(p.Name), quote(target), quote(target))
	field := func(k, v string) { fmt.Fprintf(&b, "      %s: %s\n", k, v) }
	var env []string
	switch {
	case p.Postgres != nil:
		pg := *p.Postgres
		for _, req := range []struct{ name, v string }{{"Host", pg.Host}, {"User", pg.User}, {"DBName", pg.DBName}, {"Schema", pg.Schema}} {
			if req.v == "" {
				return "", nil, fmt.Errorf("dbt profile %q: Postgres.%s is empty", p.Name, req.name)
			}
		}
		if pg.Port == 0 {
			pg.Port = 5432
		}
		if pg.Threads == 0 {
			pg.Threads = defaultProfileThreads
		}
		field("type", "postgres")
		field("host", quote(pg.Host))
		field("port", strconv.Itoa(pg.Port))
		field("user", quote(pg.User))
		// dbt-postgres requires a password key; an empty one means none.
		if pg.Password != "" {
			field("password", quote("{{ env_var('"+PostgresPasswordEnv+"') }}"))
			env = append(env, PostgresPasswordEnv+"="+pg.Password)
		} else {
			field("password", `""`)
		}
		field("dbname", quote(pg.DBName))
		field("schema", quote(pg.Schema))
		field("threads", strconv.Itoa(pg.Threads))
	case p.Databricks != nil:
		db := *p.Databricks
		db.Host = strings.TrimRight(strings.TrimPrefix(strings.TrimPrefix(db.Host, "https://"), "http://"), "/")
		for _, req := range []struct{ name, v string }{{"Host", db.Host}, {"HTTPPath", db.HTTPPath}, {"Schema", db.Schema}, {"Token", db.Token}} {
			if req.v == "" {
				return "", nil, fmt.Errorf("dbt profile %q: Databricks.%s is empty", p.Name, req.name)
			}
		}
		if db.Threads == 0 {
			db.Threads = defaultProfileThreads
		}
		field("type", "databricks")
		field("host", quote(db.Host))
		field("http_path", quote(db.HTTPPath))
		if db.Catalog != "" {
			field("catalog", quote(db.Catalog))
		}
		field("schema", quote(db.Schema))
		field("token", quote("{{ env_var('"+DatabricksTokenEnv+"') }}"))
		env = append(env, DatabricksTokenEnv+"="+db.Token)
		field("threads", strconv.Itoa(db.Threads))
	}
	return b.String(), env, nil
}

// quote writes s as a YAML double-quoted scalar. JSON string syntax is a
// subset of it; strconv.Quote's \x escapes are not, so escape by hand.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ReadProjectProfileName returns the `profile:` of projectDir/dbt_project.yml,
// the name profiles.yml must use.
func ReadProjectProfileName(projectDir string) (string, error) {
	path := filepath.Join(projectDir, "dbt_project.yml")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the dbt project: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return "", fmt.Errorf("%s: not a YAML mapping: a dbt_project.yml has name:, profile:, ... at the top level", path)
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "profile" {
			continue
		}
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || strings.TrimSpace(v.Value) == "" {
			return "", fmt.Errorf("%s:%d: profile is empty: set `profile: <name>`", path, v.Line)
		}
		if strings.Contains(v.Value, "{{") {
			return "", fmt.Errorf("%s:%d: profile %q is a Jinja template: Sluice writes profiles.yml itself and needs a literal profile name", path, v.Line, v.Value)
		}
		return v.Value, nil
	}
	return "", fmt.Errorf("%s: no `profile:` key: add `profile: <name>` so dbt and Sluice agree on the profile", path)
}
