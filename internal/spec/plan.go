package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/internal/dag"
)

// Defaults applied when planning.
const (
	DefaultPipelineTimeout = Duration(24 * 3600e9)
	DefaultMaxParallel     = 16
	DefaultHeartbeat       = Duration(30e9)
	DefaultRetryInterval   = Duration(30e9)
	DefaultRetryBackoff    = 2.0
	DefaultRetryMax        = Duration(600e9)
	DefaultUIURL           = "http://localhost:8233"
	DefaultWarehouseURL    = "postgres://postgres@127.0.0.1:5432/sluice_lakehouse"
	DefaultVolume          = ".data/volumes"
)

// Plan is a pipeline resolved for one run: environment overlay applied,
// parameters and ${params/run/env} references filled in, every task typed and
// checked. It holds no secret values (only ${secret:NAME} references), so it
// can live in workflow history; the workflow never reads files.
type Plan struct {
	Project         string             `json:"project"`
	Pipeline        string             `json:"pipeline"`
	Description     string             `json:"description,omitempty"`
	File            string             `json:"file"`
	Env             string             `json:"env"`
	Hash            string             `json:"hash"`
	Target          Target             `json:"target"`
	Params          map[string]any     `json:"params,omitempty"`
	Timeout         Duration           `json:"timeout"`
	DurationWarning Duration           `json:"duration_warning,omitempty"`
	MaxParallel     int                `json:"max_parallel"`
	Notify          Notify             `json:"notify"`
	Channels        map[string]Channel `json:"channels,omitempty"`
	Tasks           []PlannedTask      `json:"tasks"`
	UIURL           string             `json:"ui_url"`
	// Triggers are the pipelines to start when this one ends (their `after:`).
	Triggers []Trigger `json:"triggers,omitempty"`
	Warnings []string  `json:"warnings,omitempty"`
}

// Trigger starts a pipeline when the planned one ends with one of On.
type Trigger struct {
	Pipeline string         `json:"pipeline"`
	On       []string       `json:"on,omitempty"`
	Params   map[string]any `json:"params,omitempty"`
}

// Target is the environment a run works against, as activities need it.
type Target struct {
	Env        string `json:"env"`
	Engine     string `json:"engine"`
	ProjectDir string `json:"project_dir"`
	// Warehouse is the local engine's Postgres URL (may be a ${secret:} reference).
	Warehouse  string         `json:"warehouse,omitempty"`
	Volume     string         `json:"volume,omitempty"` // local: absolute folder
	Catalog    string         `json:"catalog,omitempty"`
	Schema     string         `json:"schema,omitempty"`
	Databricks *DatabricksEnv `json:"databricks,omitempty"`
	// Only the definitions the plan's tasks use.
	DLTPipelines map[string]DLTPipelineDef `json:"dlt_pipelines,omitempty"`
	DbtProjects  map[string]DbtProject     `json:"dbt_projects,omitempty"`
}

// PlannedTask is a task ready to run.
type PlannedTask struct {
	Key         string         `json:"key"`
	Type        string         `json:"type"`
	Kind        TaskKind       `json:"kind"`
	Description string         `json:"description,omitempty"`
	DependsOn   []string       `json:"depends_on,omitempty"`
	RunIf       dag.RunIf      `json:"run_if"`
	With        map[string]any `json:"with,omitempty"`
	Queue       string         `json:"queue"`
	Timeout     Duration       `json:"timeout"`
	Heartbeat   Duration       `json:"heartbeat"`
	Retry       RetryPolicy    `json:"retry"`
	Disabled    bool           `json:"disabled,omitempty"`
	// Excluded tasks are not part of this run (--only, repair).
	Excluded        bool     `json:"excluded,omitempty"`
	DurationWarning Duration `json:"duration_warning,omitempty"`
}

// RetryPolicy is a task's retry policy with defaults applied.
type RetryPolicy struct {
	Attempts     int      `json:"attempts"`
	Interval     Duration `json:"interval"`
	Backoff      float64  `json:"backoff"`
	MaxInterval  Duration `json:"max_interval"`
	OnTimeout    bool     `json:"on_timeout,omitempty"`
	NonRetryable []string `json:"non_retryable,omitempty"`
}

// Delay returns the wait before attempt n+1 after attempt n (n >= 1) failed.
func (r RetryPolicy) Delay(n int) Duration {
	d := float64(r.Interval)
	for i := 1; i < n; i++ {
		d *= r.Backoff
		if d >= float64(r.MaxInterval) {
			return r.MaxInterval
		}
	}
	return min(Duration(d), r.MaxInterval)
}

// Nodes returns the plan's tasks as DAG nodes.
func (p *Plan) Nodes() []dag.Node {
	out := make([]dag.Node, len(p.Tasks))
	for i, t := range p.Tasks {
		out[i] = dag.Node{Key: t.Key, DependsOn: t.DependsOn}
	}
	return out
}

// Task returns the planned task with the key.
func (p *Plan) Task(key string) (PlannedTask, bool) {
	i := slices.IndexFunc(p.Tasks, func(t PlannedTask) bool { return t.Key == key })
	if i < 0 {
		return PlannedTask{}, false
	}
	return p.Tasks[i], true
}

// PlanRequest says what to plan.
type PlanRequest struct {
	Pipeline string
	Env      string         // "" = the project's default
	Params   map[string]any // run-time overrides (strings are converted to the default's type)
	Only     []string       // run only these tasks
	Run      RunVars
	// Getenv reads the process environment for ${env:VAR} (default os.LookupEnv).
	Getenv func(string) (string, bool)
}

// Plan resolves a pipeline for one run. Every problem is reported, with
// file:line where it comes from the spec.
func (p *Project) Plan(req PlanRequest) (*Plan, error) {
	if req.Getenv == nil {
		req.Getenv = os.LookupEnv
	}
	if p.Getenv == nil {
		p.Getenv = req.Getenv
	}
	pf, err := p.Pipeline(req.Pipeline)
	if err != nil {
		return nil, err
	}
	envName := req.Env
	if envName == "" {
		envName = p.DefaultEnv()
	}
	env, ok := p.Config.Environments[envName]
	if !ok {
		return nil, fmt.Errorf("unknown environment %q (%s)", envName, suggestOr(envName, p.EnvNames()))
	}
	// Validate the project as far as this pipeline is concerned.
	var diags Diagnostics
	for _, d := range p.Diags {
		if d.Pos.File == ProjectFile || d.Pos.File == pf.File {
			diags = append(diags, d)
		}
	}
	p.validateProject(&diags)
	p.validatePipeline(pf, envName, &diags)
	if err := diags.Err(); err != nil {
		return nil, err
	}
	pl, ov, _, _, _ := pf.effective(envName)

	getenv := Scope{Getenv: req.Getenv}
	target, err := p.target(envName, env, getenv)
	if err != nil {
		return nil, err
	}

	// Parameters: pipeline defaults < environment < pipeline overlay < run.
	params := map[string]any{}
	for k, v := range pf.Spec.Params {
		params[k] = v
	}
	for k, v := range env.Params {
		params[k] = v
	}
	if ov != nil {
		for k, v := range ov.Params {
			params[k] = v
		}
	}
	for _, k := range sortedKeys(req.Params) {
		def, ok := params[k]
		if !ok {
			return nil, fmt.Errorf("unknown parameter %q for pipeline %s (%s)", k, pl.Name, suggestOr(k, sortedKeys(params)))
		}
		v, err := coerceParam(req.Params[k], def)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", k, err)
		}
		// Whoever starts a run must not read the worker's secrets or
		// environment through it: `${secret:X}` and `${env:X}` in a run-time
		// value stay literal text (run facts such as ${run.logical_date} work).
		params[k] = escapeRefs(v)
	}
	run := req.Run
	run.Pipeline, run.Env = pl.Name, envName
	// Parameters may use ${env:VAR}, ${run.*} and the environment's own
	// fields; the catalog then comes from the resolved params.
	envFields := EnvFields(envName, env, nil)
	envFields["volume"] = target.Volume
	scope := Scope{Run: &run, Env: envFields, Getenv: req.Getenv}
	for _, k := range sortedKeys(params) {
		v, err := Interpolate(params[k], scope)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", k, err)
		}
		params[k] = v
	}
	if target.Catalog == "" {
		if c, ok := params["catalog"]; ok {
			target.Catalog = formatValue(c)
		}
	}
	envFields["catalog"] = target.Catalog
	scope.Params = params

	plan := &Plan{
		Project:         p.Config.Project,
		Pipeline:        pl.Name,
		Description:     pl.Description,
		File:            pf.File,
		Env:             envName,
		Target:          target,
		Params:          params,
		Timeout:         firstNonZero(pl.Timeout, env.Timeout, DefaultPipelineTimeout),
		DurationWarning: pl.DurationWarning,
		MaxParallel:     pl.MaxParallel,
		UIURL:           p.Config.UIURL,
	}
	if plan.MaxParallel == 0 {
		plan.MaxParallel = DefaultMaxParallel
	}
	if plan.UIURL == "" {
		plan.UIURL = DefaultUIURL
	}
	// Notifications: pipeline overlay > environment > pipeline > project.
	switch {
	case ov != nil && ov.Notify != nil:
		plan.Notify = *pl.Notify
	case env.Notify != nil:
		plan.Notify = *env.Notify
	case pl.Notify != nil:
		plan.Notify = *pl.Notify
	case p.Config.Notify != nil:
		plan.Notify = *p.Config.Notify
	}

	for _, k := range req.Only {
		if !slices.ContainsFunc(pl.Tasks, func(t Task) bool { return t.Key == k }) {
			return nil, fmt.Errorf("--only %s: no such task in %s (%s)", k, pl.Name, suggestOr(k, taskKeys(pl.Tasks)))
		}
	}
	channels := map[string]bool{}
	for _, t := range pl.Tasks {
		pt, err := p.planTask(t, env, target.Engine, scope)
		if err != nil {
			return nil, fmt.Errorf("%s: task %s: %w", pf.File, t.Key, err)
		}
		if len(req.Only) > 0 && !slices.Contains(req.Only, t.Key) {
			pt.Excluded = true
		}
		p.collectRefs(&plan.Target, pt)
		if pt.Type == "notify" {
			var c NotifyConfig
			if err := DecodeValue(pt.With, &c); err == nil {
				for _, ch := range c.Channels {
					channels[ch] = true
				}
			}
		}
		plan.Tasks = append(plan.Tasks, pt)
	}
	if err := checkExcludedOutputs(plan); err != nil {
		return nil, err
	}
	for _, other := range p.Pipelines {
		for _, a := range other.Spec.After {
			if a.Pipeline == pl.Name {
				plan.Triggers = append(plan.Triggers, Trigger{Pipeline: other.Spec.Name, On: a.On, Params: a.Params})
			}
		}
	}
	v := reflect.ValueOf(plan.Notify)
	fsn := structFields(v.Type())
	for _, name := range fsn.names {
		for _, ch := range v.FieldByIndex(fsn.byName[name]).Interface().([]string) {
			channels[ch] = true
		}
	}
	if len(channels) > 0 {
		plan.Channels = map[string]Channel{}
		for ch := range channels {
			plan.Channels[ch] = p.Config.Channels[ch]
		}
	}
	for _, d := range diags.Warnings() {
		plan.Warnings = append(plan.Warnings, d.String())
	}
	plan.Hash, err = p.hashPlan(plan)
	if err != nil {
		return nil, err
	}
	return plan, nil
}

func (p *Project) target(name string, env Environment, getenv Scope) (Target, error) {
	t := Target{Env: name, Engine: env.Engine, ProjectDir: p.Dir}
	if t.Engine == "" {
		t.Engine = EngineLocal
	}
	resolve := func(field, s string) (string, error) {
		v, err := InterpolateString(s, getenv)
		if err != nil {
			return "", fmt.Errorf("%s: environments.%s.%s: %w", ProjectFile, name, field, err)
		}
		return v, nil
	}
	var err error
	switch t.Engine {
	case EngineLocal:
		wh := env.Warehouse
		if wh == "" {
			wh = "${env:SLUICE_WAREHOUSE_URL:-" + DefaultWarehouseURL + "}"
		}
		if t.Warehouse, err = resolve("warehouse", wh); err != nil {
			return t, err
		}
		vol := env.Volume
		if vol == "" {
			vol = DefaultVolume
		}
		if vol, err = resolve("volume", vol); err != nil {
			return t, err
		}
		if !filepath.IsAbs(vol) {
			vol = filepath.Join(p.Dir, vol)
		}
		t.Volume = vol
	case EngineDatabricks:
		d := DatabricksEnv{}
		if env.Databricks != nil {
			d = *env.Databricks
		}
		rv := reflect.ValueOf(&d).Elem()
		fs := structFields(rv.Type())
		for _, f := range fs.names {
			fv := rv.FieldByIndex(fs.byName[f])
			s, err := resolve("databricks."+f, fv.String())
			if err != nil {
				return t, err
			}
			fv.SetString(s)
		}
		t.Databricks = &d
		t.Catalog, t.Schema, t.Volume = d.Catalog, d.Schema, d.Volume
	}
	return t, nil
}

func (p *Project) planTask(t Task, env Environment, engine string, scope Scope) (PlannedTask, error) {
	tt, _ := LookupTaskType(t.Type)
	runIf, _ := dag.ParseRunIf(t.RunIf)
	pt := PlannedTask{
		Key:             t.Key,
		Type:            t.Type,
		Kind:            tt.Kind,
		Description:     t.Description,
		DependsOn:       t.DependsOn,
		RunIf:           runIf,
		Queue:           tt.Queue(engine),
		Timeout:         firstNonZero(t.Timeout, tt.Timeout),
		Heartbeat:       firstNonZero(t.Heartbeat, DefaultHeartbeat),
		Disabled:        t.Disabled,
		DurationWarning: t.DurationWarning,
		Retry: RetryPolicy{
			Attempts:    1,
			Interval:    DefaultRetryInterval,
			Backoff:     DefaultRetryBackoff,
			MaxInterval: DefaultRetryMax,
		},
	}
	if r := t.Retry; r != nil {
		pt.Retry.Attempts = max(r.Attempts, 1)
		pt.Retry.Interval = firstNonZero(r.Interval, DefaultRetryInterval)
		if r.Backoff != 0 {
			pt.Retry.Backoff = r.Backoff
		}
		pt.Retry.MaxInterval = firstNonZero(r.MaxInterval, DefaultRetryMax)
		pt.Retry.OnTimeout = r.OnTimeout
		pt.Retry.NonRetryable = r.NonRetryable
	}
	if t.With != nil {
		w, err := Interpolate(t.With, scope)
		if err != nil {
			return pt, err
		}
		pt.With = w.(map[string]any)
	}
	// Check the interpolated config once more: a parameter override may have
	// given a field a value of the wrong type.
	cfg := tt.NewConfig()
	var diags Diagnostics
	d := newDecoder("", &diags)
	d.lenient = true
	var n = encodeNode(pt.With)
	d.decode(n, reflect.ValueOf(cfg).Elem(), "with")
	if err := diags.Err(); err != nil {
		return pt, err
	}
	return pt, nil
}

// collectRefs copies the project definitions a task uses into the target.
func (p *Project) collectRefs(t *Target, pt PlannedTask) {
	switch pt.Type {
	case "dlt_pipeline":
		var c DLTPipelineConfig
		if DecodeValue(pt.With, &c) == nil {
			if def, ok := p.Config.DLTPipelines[c.Pipeline]; ok {
				if t.DLTPipelines == nil {
					t.DLTPipelines = map[string]DLTPipelineDef{}
				}
				t.DLTPipelines[c.Pipeline] = def
			}
		}
	case "dbt":
		var c DbtConfig
		if DecodeValue(pt.With, &c) == nil {
			if def, ok := p.Config.DbtProjects[c.Project]; ok {
				if t.DbtProjects == nil {
					t.DbtProjects = map[string]DbtProject{}
				}
				t.DbtProjects[c.Project] = def
			}
		}
	}
}

// checkExcludedOutputs rejects a selection that leaves a task needing the
// output of a task that will not run.
func checkExcludedOutputs(plan *Plan) error {
	excluded := map[string]bool{}
	for _, t := range plan.Tasks {
		if t.Excluded {
			excluded[t.Key] = true
		}
	}
	for _, t := range plan.Tasks {
		if t.Excluded || t.With == nil {
			continue
		}
		for _, r := range TaskRefs(t.With) {
			if excluded[r] {
				return fmt.Errorf("task %s uses the output of %s, which this run does not include: add %s to --only, or repair the original run instead", t.Key, r, r)
			}
		}
	}
	return nil
}

// TaskRefs returns the task keys whose outputs v refers to, sorted.
func TaskRefs(v any) []string {
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			refs, _ := Refs(x)
			for _, r := range refs {
				if r.Namespace == NSTasks {
					seen[r.Path[0]] = true
				}
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return sortedKeys(seen)
}

// hashPlan hashes what decides a run's behaviour: the plan without run facts
// plus the content of every project file tasks read (SQL, local pipelines).
func (p *Project) hashPlan(plan *Plan) (string, error) {
	h := sha256.New()
	hashed := *plan
	hashed.Target.ProjectDir, hashed.Target.Volume, hashed.Warnings = "", "", nil // where the project lives is not what it does
	b, err := json.Marshal(hashed)
	if err != nil {
		return "", fmt.Errorf("hashing plan: %w", err)
	}
	h.Write(b)
	var files []string
	for _, t := range plan.Tasks {
		if t.Type == "sql" {
			var c SQLConfig
			if DecodeValue(t.With, &c) == nil {
				files = append(files, c.Files...)
			}
		}
	}
	for _, def := range plan.Target.DLTPipelines {
		if def.Local == "" {
			continue
		}
		root := filepath.Join(p.Dir, def.Local)
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(p.Dir, path)
				files = append(files, rel)
			}
			return nil
		})
	}
	sort.Strings(files)
	for _, f := range slices.Compact(files) {
		if !filepath.IsLocal(f) {
			// a parameter can name the file; never read outside the project
			return "", fmt.Errorf("SQL file %s is outside the project folder", f)
		}
		data, err := os.ReadFile(filepath.Join(p.Dir, f))
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", f, err)
		}
		fmt.Fprintf(h, "\x00%s\x00%d\x00", f, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

var processRefRe = regexp.MustCompile(`(^|[^$])\$\{(env:|secret:)`)

// escapeRefs escapes `${env:` and `${secret:` references in the strings of
// v, so they are never resolved.
func escapeRefs(v any) any {
	switch x := v.(type) {
	case string:
		return processRefRe.ReplaceAllString(x, "$1$$$${$2")
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = escapeRefs(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = escapeRefs(e)
		}
		return out
	}
	return v
}

// coerceParam converts a run-time value to the type of the parameter's default.
func coerceParam(v, def any) (any, error) {
	s, isString := v.(string)
	switch def.(type) {
	case int64, int:
		switch x := v.(type) {
		case float64:
			if x == float64(int64(x)) {
				return int64(x), nil
			}
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		}
		if isString {
			i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not an integer", s)
			}
			return i, nil
		}
		return nil, fmt.Errorf("%v is not an integer", v)
	case float64:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
		if isString {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not a number", s)
			}
			return f, nil
		}
		return nil, fmt.Errorf("%v is not a number", v)
	case bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		if isString {
			b, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("%q is not true or false", s)
			}
			return b, nil
		}
		return nil, fmt.Errorf("%v is not true or false", v)
	case string, nil:
		if isString {
			return s, nil
		}
		return formatValue(v), nil
	}
	// lists and mappings: accept the same shape, or JSON text
	if isString {
		var out any
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return nil, fmt.Errorf("%q is not valid JSON for a structured parameter", s)
		}
		return out, nil
	}
	return v, nil
}

func firstNonZero[T comparable](vs ...T) T {
	var zero T
	for _, v := range vs {
		if v != zero {
			return v
		}
	}
	return zero
}

func taskKeys(ts []Task) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Key
	}
	return out
}
