package spec

import (
	"fmt"
	"os"
)

// EnvTarget returns the target of one environment outside any pipeline run,
// for project-level work such as refreshing a dbt project's manifest: the
// engine, warehouse, volume and Databricks facts as a run in that
// environment sees them, and the catalog (databricks.catalog, else the
// environment's params.catalog). ${env:VAR} references are resolved with
// getenv (default os.LookupEnv); secrets stay references. name "" is the
// project's default environment. DbtProjects holds every dbt project of
// sluice.yaml.
func (p *Project) EnvTarget(name string, getenv func(string) (string, bool)) (Target, error) {
	if name == "" {
		name = p.DefaultEnv()
	}
	env, ok := p.Config.Environments[name]
	if !ok {
		return Target{}, fmt.Errorf("unknown environment %q (%s)", name, suggestOr(name, p.EnvNames()))
	}
	if getenv == nil {
		getenv = os.LookupEnv
	}
	sc := Scope{Getenv: getenv}
	t, err := p.target(name, env, sc)
	if err != nil {
		return Target{}, err
	}
	if t.Catalog == "" {
		if c, ok := env.Params["catalog"]; ok {
			fields := EnvFields(name, env, nil)
			fields["volume"] = t.Volume
			v, err := Interpolate(c, Scope{Getenv: getenv, Env: fields})
			if err != nil {
				return Target{}, fmt.Errorf("%s: environments.%s.params.catalog: %w", ProjectFile, name, err)
			}
			t.Catalog = formatValue(v)
		}
	}
	if len(p.Config.DbtProjects) > 0 {
		t.DbtProjects = make(map[string]DbtProject, len(p.Config.DbtProjects))
		for k, v := range p.Config.DbtProjects {
			t.DbtProjects[k] = v
		}
	}
	return t, nil
}
