package dbt

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	idbt "github.com/sluicedata/sluice/internal/dbt"
	"github.com/sluicedata/sluice/internal/gitsource"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
)

// invocationSpec is what a dbt invocation needs to know besides its commands.
type invocationSpec struct {
	meta    task.Meta
	project string // name in dbt_projects
	def     spec.DbtProject
	schema  string
	target  string
	threads int
	env     map[string]string // the task's extra environment (values may be secret refs)
}

// invocation is a project ready for dbt: checked out, with a private
// profiles.yml, target and log folder, and the process environment.
type invocation struct {
	executable  string
	projectDir  string
	profilesDir string
	env         []string
	secrets     []string // resolved values to scrub from everything stored
	commit, ref string
	cleanup     func()
}

// prepare finds dbt, checks the project out, and writes the profile.
func (a *Activities) prepare(ctx context.Context, at *task.Attempt, s invocationSpec) (_ *invocation, err error) {
	t := s.meta.Target
	exe, err := a.executable(s.def, t, s.project)
	if err != nil {
		return nil, err
	}
	var cleanups []func()
	cleanup := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	inv := &invocation{executable: exe, cleanup: cleanup}
	defer func() {
		if err != nil {
			cleanup()
		}
	}()

	src, secrets, err := a.source(at, s.def, s.project, t.ProjectDir)
	if err != nil {
		return nil, err
	}
	inv.secrets = append(inv.secrets, secrets...)
	co, err := a.gitCache().Checkout(ctx, src)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if gitsource.IsPermanent(err) {
			return nil, task.Permanent(ErrProjectSource, "dbt project %s: %v", s.project, err)
		}
		return nil, task.Transient(ErrProjectSource, "dbt project %s: %v", s.project, err)
	}
	cleanups = append(cleanups, func() { _ = co.Cleanup() })
	inv.projectDir, inv.commit, inv.ref = co.Dir, co.Commit, co.Ref
	if inv.commit != "" {
		at.Progress("dbt project %s at %s", s.project, shortSHA(inv.commit))
	}

	tmp, err := os.MkdirTemp("", "sluice-dbt-")
	if err != nil {
		return nil, task.Transient(ErrArtifacts, "creating a private folder for dbt: %v", err)
	}
	cleanups = append(cleanups, func() { _ = os.RemoveAll(tmp) })
	inv.profilesDir = filepath.Join(tmp, "profiles")

	profileName, err := idbt.ReadProjectProfileName(co.Dir)
	if err != nil {
		return nil, task.Permanent(task.ErrConfig, "dbt project %s: %v", s.project, err)
	}
	p, psecrets, err := a.profile(ctx, at, t, profileSpec{
		name: profileName, target: s.target, schema: s.schema, threads: s.threads,
	})
	if err != nil {
		return nil, err
	}
	inv.secrets = append(inv.secrets, psecrets...)
	profileEnv, err := idbt.WriteProfile(inv.profilesDir, p)
	if err != nil {
		return nil, task.Permanent(task.ErrConfig, "dbt project %s: %v", s.project, err)
	}

	// The task's environment first: what Sluice sets must win.
	for _, k := range sortedKeys(s.env) {
		v, err := a.resolve(at, s.env[k])
		if err != nil {
			return nil, err
		}
		if spec.HasSecretRef(s.env[k]) {
			inv.secrets = append(inv.secrets, v)
		}
		inv.env = append(inv.env, k+"="+v)
	}
	// Artifacts and logs go to the private folder, never into a local
	// project's own folder (where concurrent tasks would clash); the
	// runner copies them, scrubbed, into the artifact store.
	inv.env = append(inv.env,
		"DBT_TARGET_PATH="+filepath.Join(tmp, "target"),
		"DBT_LOG_PATH="+filepath.Join(tmp, "logs"),
	)
	inv.env = append(inv.env, profileEnv...)
	return inv, nil
}

// executable finds dbt: the project's `executable`, else the worker's
// SLUICE_DBT, else dbt on PATH.
func (a *Activities) executable(def spec.DbtProject, t spec.Target, project string) (string, error) {
	exe, from := def.Executable, fmt.Sprintf("`executable` of dbt_projects.%s", project)
	if exe != "" && strings.ContainsRune(exe, filepath.Separator) && !filepath.IsAbs(exe) {
		exe = filepath.Join(t.ProjectDir, exe)
	}
	if exe == "" {
		exe, from = a.Executable, "SLUICE_DBT"
	}
	if exe == "" {
		exe, from = "dbt", "PATH"
	}
	path, err := exec.LookPath(exe)
	if err == nil {
		return path, nil
	}
	adapter := "dbt-postgres"
	if t.Engine == spec.EngineDatabricks {
		adapter = "dbt-databricks"
	}
	host, _ := os.Hostname()
	return "", task.Permanent(ErrNotInstalled,
		"dbt is not installed on worker %s (%q from %s: %v): install it on the worker host, e.g. `pipx install %s==1.8.*`, then restart the worker or set SLUICE_DBT to the dbt executable's path",
		host, exe, from, errors.Unwrap(err), adapter)
}

// source turns a dbt_projects entry into a gitsource.Source with its
// secrets resolved. It returns the resolved secret values for scrubbing.
func (a *Activities) source(at *task.Attempt, def spec.DbtProject, name, projectDir string) (gitsource.Source, []string, error) {
	var secrets []string
	field := func(raw string) (string, error) {
		v, err := a.resolve(at, raw)
		if err == nil && spec.HasSecretRef(raw) {
			secrets = append(secrets, v)
		}
		return v, err
	}
	src := gitsource.Source{Origin: "dbt_projects." + name}
	var err error
	if src.Repo, err = field(def.Repo); err != nil {
		return src, nil, err
	}
	if src.Ref, err = field(def.Ref); err != nil {
		return src, nil, err
	}
	if src.Path, err = field(def.Path); err != nil {
		return src, nil, err
	}
	if src.Repo == "" {
		if src.Path != "" && !filepath.IsAbs(src.Path) {
			src.Path = filepath.Join(projectDir, src.Path)
		}
		return src, secrets, nil
	}
	if strings.HasPrefix(src.Repo, "./") || strings.HasPrefix(src.Repo, "../") {
		src.Repo = filepath.Join(projectDir, src.Repo)
	}
	if src.Token, err = field(def.Token); err != nil {
		return src, nil, err
	}
	if src.User, err = field(def.User); err != nil {
		return src, nil, err
	}
	key, err := field(def.SSHKey)
	if err != nil {
		return src, nil, err
	}
	if key != "" {
		src.SSHKey = []byte(key)
		secrets = append(secrets, key)
	}
	if src.SSHKeyPassphrase, err = field(def.SSHKeyPassphrase); err != nil {
		return src, nil, err
	}
	if def.KnownHosts != "" {
		kh, err := field(def.KnownHosts)
		if err != nil {
			return src, nil, err
		}
		if !filepath.IsAbs(kh) {
			kh = filepath.Join(projectDir, kh)
		}
		b, err := os.ReadFile(kh)
		if err != nil {
			return src, nil, task.Permanent(task.ErrConfig, "dbt_projects.%s.known_hosts: %v: give the path of a known_hosts file on the worker", name, err)
		}
		src.KnownHosts = string(b)
	}
	return src, secrets, nil
}

// resolve finishes a string from sluice.yaml: ${env:VAR} from the worker's
// environment, then ${secret:NAME}.
func (a *Activities) resolve(at *task.Attempt, s string) (string, error) {
	if s == "" || !strings.Contains(s, "${") {
		return s, nil
	}
	v, err := spec.InterpolateString(s, spec.Scope{Getenv: a.getenv})
	if err != nil {
		return "", task.Permanent(task.ErrConfig, "%v", err)
	}
	return at.Resolve(v)
}

func (a *Activities) getenv(k string) (string, bool) {
	if a.Getenv != nil {
		return a.Getenv(k)
	}
	return os.LookupEnv(k)
}

// gitCache returns the shared cache of bare clones.
func (a *Activities) gitCache() *gitsource.Cache {
	a.cacheOnce.Do(func() {
		root := a.GitCache
		if root == "" {
			base, err := os.UserCacheDir()
			if err != nil {
				base = os.TempDir()
			}
			root = filepath.Join(base, "sluice", "git")
		}
		a.cache = &gitsource.Cache{Root: root}
	})
	return a.cache
}

// profileSpec is what the task says about the profile.
type profileSpec struct {
	name    string // the project's profile name
	target  string // output name (default internal/dbt.DefaultTarget)
	schema  string // default the environment's schema, else DefaultSchema
	threads int
}

// profile builds the one-target profile of the environment: the local
// engine's Postgres warehouse (the catalog is the database), or the
// Databricks workspace's SQL warehouse. Secrets go to the profile's
// environment only; they are returned for scrubbing.
func (a *Activities) profile(ctx context.Context, at *task.Attempt, t spec.Target, ps profileSpec) (idbt.Profile, []string, error) {
	p := idbt.Profile{Name: ps.name, Target: ps.target}
	schema := firstNonEmpty(ps.schema, t.Schema)
	if schema == "" && t.Databricks != nil {
		schema = t.Databricks.Schema
	}
	schema = firstNonEmpty(schema, DefaultSchema)
	var secrets []string
	switch t.Engine {
	case spec.EngineLocal, "":
		raw := t.Warehouse
		if raw == "" {
			raw = spec.DefaultWarehouseURL
		}
		dsn, err := a.resolve(at, raw)
		if err != nil {
			return p, nil, err
		}
		if spec.HasSecretRef(raw) {
			secrets = append(secrets, dsn)
		}
		pg, err := postgresProfile(dsn, t.Catalog, schema, ps.threads)
		if err != nil {
			return p, nil, task.Permanent(task.ErrConfig, "environments.%s.warehouse: %v", t.Env, err)
		}
		if pg.Password != "" {
			secrets = append(secrets, pg.Password)
		}
		if a.EnsureCatalog != nil && t.Catalog != "" {
			if err := a.EnsureCatalog(ctx, dsn, t.Catalog); err != nil {
				return p, nil, task.Transient(ErrWarehouse, "creating catalog %s on the warehouse: %s", t.Catalog, scrubAll(err.Error(), secrets))
			}
		}
		p.Postgres = pg
	case spec.EngineDatabricks:
		d := spec.DatabricksEnv{}
		if t.Databricks != nil {
			d = *t.Databricks
		}
		field := func(raw, fallbackEnv string) (string, error) {
			v, err := a.resolve(at, raw)
			if err != nil {
				return "", err
			}
			if v == "" && fallbackEnv != "" {
				v, _ = a.getenv(fallbackEnv)
			}
			return v, nil
		}
		host, err := field(d.Host, "DATABRICKS_HOST")
		if err != nil {
			return p, nil, err
		}
		token, err := field(d.Token, "DATABRICKS_TOKEN")
		if err != nil {
			return p, nil, err
		}
		warehouseID, err := field(d.WarehouseID, "")
		if err != nil {
			return p, nil, err
		}
		where := "environments." + t.Env + ".databricks"
		switch {
		case host == "":
			return p, nil, task.Permanent(task.ErrConfig, "%s.host is not set (nor DATABRICKS_HOST on the worker): dbt needs the workspace URL", where)
		case warehouseID == "":
			return p, nil, task.Permanent(task.ErrConfig, "%s.warehouse_id is not set: dbt runs on a SQL warehouse; give its id", where)
		case token == "":
			return p, nil, task.Permanent(task.ErrConfig, "%s.token is not set (nor DATABRICKS_TOKEN on the worker): dbt on Databricks needs a personal access token, e.g. token: ${secret:DATABRICKS_TOKEN} (OAuth client_id/client_secret and ~/.databrickscfg profiles are not used for dbt)", where)
		}
		secrets = append(secrets, token)
		p.Databricks = &idbt.DatabricksProfile{
			Host:     host,
			HTTPPath: "/sql/1.0/warehouses/" + warehouseID,
			Catalog:  t.Catalog,
			Schema:   schema,
			Token:    token,
			Threads:  ps.threads,
		}
	default:
		return p, nil, task.Permanent(task.ErrConfig, "dbt tasks do not run on engine %q", t.Engine)
	}
	return p, secrets, nil
}

// postgresProfile reads a postgres:// warehouse URL. The catalog, when set,
// is the database dbt connects to.
func postgresProfile(dsn, catalog, schema string, threads int) (*idbt.PostgresProfile, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("the warehouse is not a postgres://user@host:port/database URL, which dbt-postgres needs")
	}
	pg := &idbt.PostgresProfile{Host: u.Hostname(), User: u.User.Username(), DBName: strings.TrimPrefix(u.Path, "/"), Schema: schema, Threads: threads}
	if pw, ok := u.User.Password(); ok {
		pg.Password = pw
	}
	if h := u.Query().Get("host"); pg.Host == "" && h != "" {
		pg.Host = h // unix socket folder: postgres:///db?host=/var/run/postgresql
	}
	if pg.Host == "" {
		pg.Host = "localhost"
	}
	if pg.User == "" {
		pg.User = firstNonEmpty(u.Query().Get("user"), "postgres")
	}
	if p := u.Port(); p != "" {
		if pg.Port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("port %q is not a number", p)
		}
	}
	if catalog != "" {
		pg.DBName = catalog
	}
	if pg.DBName == "" {
		return nil, errors.New("the warehouse URL names no database and the environment has no catalog")
	}
	return pg, nil
}

func scrubAll(s string, secrets []string) string {
	return idbt.NewScrubber(secrets).String(s)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// fileURI is the file:// URI of an absolute path.
func fileURI(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}
