package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/quality"
)

var (
	nameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
	keyRe  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
)

// Validate checks the project: sluice.yaml, every pipeline file, and every
// pipeline as it runs in every environment. The result holds errors and
// warnings, sorted by file and position.
func (p *Project) Validate() Diagnostics {
	diags := append(Diagnostics(nil), p.Diags...)
	p.validateProject(&diags)

	first := map[string]*PipelineFile{}
	for _, pf := range p.Pipelines {
		if prev, ok := first[pf.Spec.Name]; ok && pf.Spec.Name != "" {
			diags.add(pf.posOf("name"), "name", "rename one of them", "pipeline %q is also defined in %s", pf.Spec.Name, prev.File)
			continue
		}
		first[pf.Spec.Name] = pf
	}
	envs := p.EnvNames()
	for _, pf := range p.Pipelines {
		for _, env := range sortedKeys(pf.Spec.Environments) {
			if _, ok := p.Config.Environments[env]; !ok {
				diags.add(pf.posOf("environments."+env), "environments."+env, suggestOr(env, envs), "unknown environment %q", env)
			}
		}
		if len(envs) == 0 {
			p.validatePipeline(pf, "", &diags)
		}
		for _, env := range envs {
			p.validatePipeline(pf, env, &diags)
		}
	}
	return diags.Sorted()
}

func (p *Project) validateProject(diags *Diagnostics) {
	c := p.Config
	if c.Project == "" {
		diags.add(Pos{File: ProjectFile, Line: 1, Col: 1}, "project", "add project: <name> at the top of sluice.yaml", "missing project name")
	} else if !nameRe.MatchString(c.Project) {
		diags.add(p.posOf("project"), "project", "use letters, digits, _ and -", "bad project name %q", c.Project)
	}
	if len(c.Environments) == 0 {
		diags.add(Pos{File: ProjectFile, Line: 1, Col: 1}, "environments", "add environments: {local: {engine: local}}", "no environments defined")
	}
	if c.DefaultEnv != "" {
		if _, ok := c.Environments[c.DefaultEnv]; !ok {
			diags.add(p.posOf("default_env"), "default_env", suggestOr(c.DefaultEnv, p.EnvNames()), "unknown environment %q", c.DefaultEnv)
		}
	}
	for _, name := range p.EnvNames() {
		e := c.Environments[name]
		path := "environments." + name
		if !nameRe.MatchString(name) {
			diags.add(p.posOf(path), path, "use letters, digits, _ and -", "bad environment name %q", name)
		}
		switch e.Engine {
		case EngineLocal, EngineDatabricks:
		case "":
			diags.add(p.posOf(path), path+".engine", "add engine: local or engine: databricks", "missing engine")
		default:
			diags.add(p.posOf(path+".engine"), path+".engine", "use local or databricks", "unknown engine %q", e.Engine)
		}
		if e.Schedules != "" && e.Schedules != "active" && e.Schedules != "paused" {
			diags.add(p.posOf(path+".schedules"), path+".schedules", "use active or paused", "unknown value %q", e.Schedules)
		}
		p.checkNotify(e.Notify, path+".notify", p.posOf, diags)
		p.checkEnvVars(reflect.ValueOf(e), path, diags)
	}
	p.checkNotify(c.Notify, "notify", p.posOf, diags)
	for _, name := range sortedKeys(c.Channels) {
		ch := c.Channels[name]
		path := "channels." + name
		if err := ch.Validate(name); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				msg := strings.TrimPrefix(line, path+": ")
				diags.add(p.posOf(path), path, "", "%s", msg)
			}
		}
		for _, f := range []struct{ field, v string }{{"smtp", ch.SMTP}, {"webhook", ch.Webhook}, {"secret", ch.Secret}} {
			if f.v != "" && !isSecretRef(f.v) {
				diags.warn(p.posOf(path+"."+f.field), path+"."+f.field, "write ${secret:NAME} so it stays out of the repository and of run history", "looks like a credential written in clear")
			}
		}
	}
	for _, name := range sortedKeys(c.DLTPipelines) {
		d := c.DLTPipelines[name]
		path := "dlt_pipelines." + name
		if d.Local == "" && d.Databricks == nil {
			diags.add(p.posOf(path), path, "add local: <folder> and/or databricks: {name: ...}", "no definition for any engine")
		}
		if d.Local != "" {
			if _, err := os.Stat(filepath.Join(p.Dir, d.Local, "pipeline.yaml")); err != nil {
				diags.add(p.posOf(path+".local"), path+".local", "the folder must hold pipeline.yaml", "no pipeline.yaml in %s", d.Local)
			}
		}
		if d.Databricks != nil && d.Databricks.ID == "" && d.Databricks.Name == "" {
			diags.add(p.posOf(path+".databricks"), path+".databricks", "give id: or name:", "no pipeline id or name")
		}
	}
	for _, name := range sortedKeys(c.DbtProjects) {
		d := c.DbtProjects[name]
		path := "dbt_projects." + name
		if d.Repo == "" && d.Path == "" {
			diags.add(p.posOf(path), path, "give repo: <git url> or path: <local folder>", "no project source")
		}
		if d.Token != "" && !isSecretRef(d.Token) {
			diags.warn(p.posOf(path+".token"), path+".token", "write ${secret:NAME}", "looks like a token written in clear")
		}
	}
}

// checkEnvVars warns about ${env:VAR} references in string fields whose
// variable is unset and has no default: the environment cannot be used here.
func (p *Project) checkEnvVars(v reflect.Value, path string, diags *Diagnostics) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			p.checkEnvVars(v.Elem(), path, diags)
		}
	case reflect.Struct:
		fs := structFields(v.Type())
		for _, name := range fs.names {
			p.checkEnvVars(v.FieldByIndex(fs.byName[name]), path+"."+name, diags)
		}
	case reflect.String:
		refs, err := Refs(v.String())
		if err != nil {
			diags.add(p.posOf(path), path, hintFor(err), "%s", errText(err))
			return
		}
		for _, r := range refs {
			if r.Namespace == NSEnvVar && r.Default == nil && !p.envSet(r.Name) {
				diags.warn(p.posOf(path), path, fmt.Sprintf("set %s or write ${env:%s:-default}", r.Name, r.Name), "environment variable %s is not set", r.Name)
			}
		}
	}
}

func (p *Project) checkNotify(n *Notify, path string, posOf func(string) Pos, diags *Diagnostics) {
	if n == nil {
		return
	}
	v := reflect.ValueOf(*n)
	fs := structFields(v.Type())
	for _, event := range fs.names {
		chans := v.FieldByIndex(fs.byName[event]).Interface().([]string)
		for i, ch := range chans {
			if _, ok := p.Config.Channels[ch]; !ok {
				f := fmt.Sprintf("%s.%s[%d]", path, event, i)
				diags.add(posOf(f), f, suggestOr(ch, sortedKeys(p.Config.Channels)), "unknown channel %q", ch)
			}
		}
	}
}

// validatePipeline checks one pipeline as it runs in env ("" = no environment).
func (p *Project) validatePipeline(pf *PipelineFile, envName string, diags *Diagnostics) {
	pl, _, pos, root, d := pf.effective(envName)
	*diags = append(*diags, d...)
	// at falls back to the closest enclosing value with a position: values
	// inside with: and missing fields have none of their own.
	at := func(path string) Pos {
		for f := path; f != ""; f = parentPath(f) {
			if ps, ok := pos[f]; ok {
				return ps
			}
		}
		return Pos{File: pf.File}
	}
	env := p.Config.Environments[envName]
	engine := env.Engine
	if engine == "" {
		engine = EngineLocal
	}
	inEnv := ""
	if envName != "" {
		inEnv = fmt.Sprintf(" (environment %s)", envName)
	}

	if pl.Name == "" {
		diags.add(Pos{File: pf.File, Line: 1, Col: 1}, "name", "add name: <pipeline name>", "missing pipeline name")
	} else if !nameRe.MatchString(pl.Name) {
		diags.add(at("name"), "name", "use letters, digits, _ and -", "bad pipeline name %q", pl.Name)
	}
	if len(pl.Tasks) == 0 {
		diags.add(at("tasks"), "tasks", "add at least one task", "pipeline has no tasks")
	}
	if pl.MaxParallel < 0 {
		diags.add(at("max_parallel"), "max_parallel", "use a positive number", "max_parallel is %d", pl.MaxParallel)
	}
	params := map[string]any{}
	for k, v := range env.Params {
		params[k] = v
	}
	for k, v := range pl.Params {
		params[k] = v
		if !keyRe.MatchString(k) {
			diags.add(at("params."+k), "params."+k, "use letters, digits and _", "bad parameter name %q", k)
		}
	}
	if s := pl.Schedule; s != nil {
		// a cron that is written but invalid was reported when decoding
		if _, written := pos["schedule.cron"]; s.Cron.Expr == "" && !written {
			diags.add(at("schedule"), "schedule.cron", `add cron: "0 6 * * *"`, "schedule without cron")
		}
		if s.Timezone != "" {
			if _, err := time.LoadLocation(s.Timezone); err != nil {
				diags.add(at("schedule.timezone"), "schedule.timezone", "use an IANA name such as UTC or Europe/Paris", "unknown time zone %q", s.Timezone)
			}
		}
		if f := strings.Fields(s.Cron.Expr); len(f) == 5 && f[2] != "*" && f[4] != "*" {
			diags.add(at("schedule.cron"), "schedule.cron", "use * for one of them, or two pipelines",
				"%q restricts both the day of the month and the day of the week: Temporal starts a run only on days matching both, where classic cron starts on days matching either", s.Cron.Original)
		}
		if s.Overlap != "" && !slices.Contains(Overlaps, s.Overlap) {
			diags.add(at("schedule.overlap"), "schedule.overlap", suggestOr(s.Overlap, Overlaps), "unknown overlap policy %q", s.Overlap)
		}
	}
	p.checkNotify(pl.Notify, "notify", at, diags)
	for i, a := range pl.After {
		path := fmt.Sprintf("after[%d]", i)
		if _, err := p.Pipeline(a.Pipeline); err != nil {
			diags.add(at(path+".pipeline"), path+".pipeline", suggestOr(a.Pipeline, p.PipelineNames()), "unknown pipeline %q", a.Pipeline)
		}
		for j, o := range a.On {
			if !slices.Contains(dag.Statuses, dag.Status(strings.ToUpper(o))) {
				f := fmt.Sprintf("%s.on[%d]", path, j)
				diags.add(at(f), f, "use SUCCESS, SUCCESS_WITH_FAILURES, FAILED, TIMEDOUT or CANCELED", "unknown outcome %q", o)
			}
		}
	}

	// Task keys and types.
	keyIndex := map[string]int{}
	var keys []string
	for i, t := range pl.Tasks {
		path := fmt.Sprintf("tasks[%d]", i)
		switch {
		case t.Key == "":
			diags.add(at(path), path+".key", "add key: <name>", "task without a key")
			continue
		case !keyRe.MatchString(t.Key):
			diags.add(at(path+".key"), path+".key", "use letters, digits and _ (it is used in ${tasks.<key>...})", "bad task key %q", t.Key)
		}
		if j, dup := keyIndex[t.Key]; dup {
			diags.add(at(path+".key"), path+".key", fmt.Sprintf("the first is at %s; rename one", at(fmt.Sprintf("tasks[%d].key", j))), "duplicate task key %q", t.Key)
			continue
		}
		keyIndex[t.Key] = i
		keys = append(keys, t.Key)
	}
	// A dependency on itself is reported below; leaving it out here keeps it
	// from being reported a second time as a cycle.
	nodes := make([]dag.Node, 0, len(pl.Tasks))
	for _, t := range pl.Tasks {
		deps := slices.DeleteFunc(slices.Clone(t.DependsOn), func(d string) bool { return d == t.Key })
		nodes = append(nodes, dag.Node{Key: t.Key, DependsOn: deps})
	}
	for i, t := range pl.Tasks {
		path := fmt.Sprintf("tasks[%d]", i)
		tt, ok := LookupTaskType(t.Type)
		switch {
		case t.Type == "":
			diags.add(at(path), path+".type", "add type: one of "+strings.Join(TaskTypeNames(), ", "), "task %q has no type", t.Key)
		case !ok:
			diags.add(at(path+".type"), path+".type", suggestOr(t.Type, TaskTypeNames()), "unknown task type %q", t.Type)
		case tt.Engines != nil && !slices.Contains(tt.Engines, engine):
			diags.add(at(path+".type"), path+".type", "disable the task in this environment or use a "+strings.Join(tt.Engines, "/")+" environment", "task type %s needs engine %s%s", t.Type, strings.Join(tt.Engines, " or "), inEnv)
		}
		seenDep := map[string]bool{}
		for j, dep := range t.DependsOn {
			f := fmt.Sprintf("%s.depends_on[%d]", path, j)
			switch {
			case dep == t.Key:
				diags.add(at(f), f, "remove it", "task %q depends on itself", t.Key)
			case seenDep[dep]:
				diags.add(at(f), f, "remove the duplicate", "%q is listed twice", dep)
			default:
				if _, ok := keyIndex[dep]; !ok {
					diags.add(at(f), f, suggestOr(dep, keys), "unknown task %q", dep)
				}
			}
			seenDep[dep] = true
		}
		if t.RunIf != "" {
			if _, err := dag.ParseRunIf(t.RunIf); err != nil {
				vals := make([]string, len(dag.RunIfs))
				for k, r := range dag.RunIfs {
					vals[k] = string(r)
				}
				diags.add(at(path+".run_if"), path+".run_if", suggestOr(strings.ToUpper(t.RunIf), vals), "unknown run_if %q", t.RunIf)
			} else if len(t.DependsOn) == 0 {
				diags.add(at(path+".run_if"), path+".run_if", "add depends_on or remove run_if", "run_if on a task with no upstream tasks")
			}
		}
		if r := t.Retry; r != nil {
			if r.Attempts < 0 || r.Attempts > 100 {
				diags.add(at(path+".retry.attempts"), path+".retry.attempts", "use 1 (no retry) to 100", "attempts is %d", r.Attempts)
			}
			if r.Backoff != 0 && r.Backoff < 1 {
				diags.add(at(path+".retry.backoff"), path+".retry.backoff", "use 1 (constant) or more", "backoff %g is below 1", r.Backoff)
			}
		}
		if pl.Timeout != 0 && t.Timeout > pl.Timeout {
			diags.warn(at(path+".timeout"), path+".timeout", "the pipeline timeout ends the run first", "task timeout %s is longer than the pipeline timeout %s", t.Timeout, pl.Timeout)
		}
		if ok {
			p.checkWith(pf, root, i, t, tt, engine, inEnv, at, diags)
		}
		// References inside with.
		upstream := dag.Upstream(nodes, t.Key)
		withNode := nodeAt(root, "tasks", i, "with")
		walkScalars(withNode, path+".with", func(n *yaml.Node, f string) {
			refs, err := Refs(n.Value)
			if err != nil {
				diags.add(Pos{File: pf.File, Line: n.Line, Col: n.Column}, f, hintFor(err), "%s", errText(err))
				return
			}
			for _, r := range refs {
				p.checkRef(r, Pos{File: pf.File, Line: n.Line, Col: n.Column}, f, t.Key, upstream, keyIndex, params, env, diags)
			}
		})
	}
	if cyc := dag.FindCycle(nodes); cyc != nil {
		i := keyIndex[cyc[0]]
		f := fmt.Sprintf("tasks[%d].depends_on", i)
		diags.add(at(f), f, "remove one of these dependencies", "dependency cycle: %s", strings.Join(cyc, " -> "))
	}
}

// checkWith decodes a task's with block against its type's config.
func (p *Project) checkWith(pf *PipelineFile, root *yaml.Node, i int, t Task, tt TaskType, engine, inEnv string, at func(string) Pos, diags *Diagnostics) {
	path := fmt.Sprintf("tasks[%d].with", i)
	cfg := tt.NewConfig()
	if n := nodeAt(root, "tasks", i, "with"); n != nil {
		d := newDecoder(pf.File, diags)
		d.lenient = true
		d.decode(n, reflect.ValueOf(cfg).Elem(), path)
		// the typed decode knows positions inside with: (list items too)
		outer := at
		at = func(f string) Pos {
			if ps, ok := d.pos[f]; ok {
				return ps
			}
			return outer(f)
		}
	}
	if v, ok := cfg.(validator); ok {
		if err := v.Validate(); err != nil {
			var fes quality.FieldErrors
			if errors.As(err, &fes) {
				// point at the check's field, or the nearest enclosing one
				for _, fe := range fes {
					f := path + "." + fe.Path()
					diags.add(nearestPos(at, f), f, "", "%s", fe.Message)
				}
			} else {
				diags.add(at(path), path, hintFor(err), "%s", errText(err))
			}
		}
	}
	switch c := cfg.(type) {
	case *DLTPipelineConfig:
		if c.Pipeline == "" {
			diags.add(at(path), path+".pipeline", "name a pipeline from dlt_pipelines in sluice.yaml", "dlt_pipeline task without pipeline")
			return
		}
		def, ok := p.Config.DLTPipelines[c.Pipeline]
		switch {
		case !ok:
			diags.add(at(path+".pipeline"), path+".pipeline", suggestOr(c.Pipeline, sortedKeys(p.Config.DLTPipelines)), "unknown DLT pipeline %q", c.Pipeline)
		case engine == EngineLocal && def.Local == "":
			diags.add(at(path+".pipeline"), path+".pipeline", "add local: <folder> to dlt_pipelines."+c.Pipeline, "DLT pipeline %q has no local definition%s", c.Pipeline, inEnv)
		case engine == EngineDatabricks && def.Databricks == nil:
			diags.add(at(path+".pipeline"), path+".pipeline", "add databricks: {name: ...} to dlt_pipelines."+c.Pipeline, "DLT pipeline %q has no databricks definition%s", c.Pipeline, inEnv)
		}
	case *DbtConfig:
		if _, ok := p.Config.DbtProjects[c.Project]; !ok {
			diags.add(at(path+".project"), path+".project", suggestOr(c.Project, sortedKeys(p.Config.DbtProjects)), "unknown dbt project %q", c.Project)
		}
	case *NotifyConfig:
		for j, ch := range c.Channels {
			if _, ok := p.Config.Channels[ch]; !ok {
				f := fmt.Sprintf("%s.channels[%d]", path, j)
				diags.add(at(f), f, suggestOr(ch, sortedKeys(p.Config.Channels)), "unknown channel %q", ch)
			}
		}
	case *RunPipelineConfig:
		if c.Pipeline == "" {
			diags.add(at(path), path+".pipeline", "name the pipeline to run", "run_pipeline task without pipeline")
		} else if _, err := p.Pipeline(c.Pipeline); err != nil {
			diags.add(at(path+".pipeline"), path+".pipeline", suggestOr(c.Pipeline, p.PipelineNames()), "unknown pipeline %q", c.Pipeline)
		}
		if c.Env != "" {
			if _, ok := p.Config.Environments[c.Env]; !ok {
				diags.add(at(path+".env"), path+".env", suggestOr(c.Env, p.EnvNames()), "unknown environment %q", c.Env)
			}
		}
	case *SQLConfig:
		for j, f := range c.Files {
			if isDeferredRef(f) || strings.Contains(f, "${") {
				continue
			}
			fp := fmt.Sprintf("%s.files[%d]", path, j)
			if !filepath.IsLocal(f) {
				// the worker reads and runs it: nothing outside the project
				diags.add(at(fp), fp, "paths are relative to the project folder", "SQL file %s is outside the project folder", f)
				continue
			}
			if _, err := os.Stat(filepath.Join(p.Dir, f)); err != nil {
				diags.add(at(fp), fp, "paths are relative to the project folder", "SQL file %s not found", f)
			}
		}
	}
}

// checkRef validates one reference inside a task's with block.
func (p *Project) checkRef(r Ref, pos Pos, field, task string, upstream map[string]bool, keys map[string]int, params map[string]any, env Environment, diags *Diagnostics) {
	switch r.Namespace {
	case NSParams:
		if _, ok := params[r.Path[0]]; !ok {
			diags.add(pos, field, suggestOr(r.Path[0], sortedKeys(params))+"; declare it under params:", "unknown parameter %q", r.Path[0])
		}
	case NSRun:
		rv := RunVars{LogicalDate: time.Unix(0, 0)}
		if _, err := rv.lookup(r.Path); err != nil {
			diags.add(pos, field, hintFor(err), "%s", errText(err))
		}
	case NSEnv:
		fields := EnvFields("", env, params)
		if _, ok := fields[r.Path[0]]; !ok {
			diags.add(pos, field, suggestOr(r.Path[0], sortedKeys(fields)), "unknown environment field %q", r.Path[0])
		}
	case NSTasks:
		ref := r.Path[0]
		switch {
		case ref == task:
			diags.add(pos, field, "a task cannot use its own output", "${%s} refers to this task", r.Raw)
		case !upstream[ref]:
			if _, ok := keys[ref]; !ok {
				diags.add(pos, field, suggestOr(ref, sortedKeys(keys)), "unknown task %q in ${%s}", ref, r.Raw)
			} else {
				diags.add(pos, field, fmt.Sprintf("add %s to depends_on, directly or through another task", ref), "task %q is not upstream of %q, so its output is not known yet", ref, task)
			}
		}
	case NSEnvVar:
		if r.Default == nil && !p.envSet(r.Name) {
			diags.warn(pos, field, fmt.Sprintf("set %s or write ${env:%s:-default}", r.Name, r.Name), "environment variable %s is not set", r.Name)
		}
	}
}

// EnvFields are the values ${env.<field>} exposes for an environment.
func EnvFields(name string, e Environment, params map[string]any) map[string]any {
	engine := e.Engine
	if engine == "" {
		engine = EngineLocal
	}
	f := map[string]any{"name": name, "engine": engine, "volume": e.Volume, "catalog": "", "schema": "", "warehouse_id": "", "host": ""}
	if c, ok := params["catalog"]; ok {
		f["catalog"] = formatValue(c)
	}
	if d := e.Databricks; d != nil {
		if d.Catalog != "" {
			f["catalog"] = d.Catalog
		}
		f["schema"], f["warehouse_id"], f["host"] = d.Schema, d.WarehouseID, d.Host
		if d.Volume != "" {
			f["volume"] = d.Volume
		}
	}
	return f
}

// parentPath returns the path of the value enclosing path's value:
// "tasks[1].with.files[0]" -> "tasks[1].with.files" -> "tasks[1].with".
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// nearestPos returns the position of path, or of its closest parent that
// has one (at returns a position without a line for unknown paths).
func nearestPos(at func(string) Pos, path string) Pos {
	for p := path; ; {
		if ps := at(p); ps.Line > 0 {
			return ps
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			return at(path)
		}
		p = p[:i]
	}
}

// nodeAt follows keys (string) and indexes (int) from a node.
func nodeAt(n *yaml.Node, path ...any) *yaml.Node {
	for _, p := range path {
		n = resolveNode(n)
		if n == nil {
			return nil
		}
		switch k := p.(type) {
		case string:
			n = mappingValue(n, k)
		case int:
			if n.Kind != yaml.SequenceNode || k >= len(n.Content) {
				return nil
			}
			n = n.Content[k]
		}
	}
	return resolveNode(n)
}

// walkScalars calls fn for every string scalar under n.
func walkScalars(n *yaml.Node, path string, fn func(*yaml.Node, string)) {
	n = resolveNode(n)
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() == "!!str" {
			fn(n, path)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkScalars(n.Content[i+1], joinPath(path, n.Content[i].Value), fn)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walkScalars(c, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

func isSecretRef(s string) bool {
	refs, err := Refs(s)
	if err != nil {
		return false
	}
	for _, r := range refs {
		if r.Namespace == NSSecret {
			return true
		}
	}
	return false
}

// HasSecretRef reports whether s holds a ${secret:...} reference.
func HasSecretRef(s string) bool { return isSecretRef(s) }

// envSet reports whether a variable is set in the environment the project
// is checked for (Project.Getenv, default the process's).
func (p *Project) envSet(name string) bool {
	getenv := p.Getenv
	if getenv == nil {
		getenv = os.LookupEnv
	}
	v, ok := getenv(name)
	return ok && v != ""
}
