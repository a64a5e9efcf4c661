package spec

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A Ref is one `${...}` reference inside a string.
//
//	${params.orders}                 a pipeline parameter
//	${run.id} ${run.logical_date}    facts about the run (see RunVars)
//	${env.catalog}                   a field of the environment
//	${tasks.gen.output.rows.orders}  an upstream task's output
//	${env:HOME} ${env:X:-default}    the loading process's environment
//	${secret:SMTP_URL}               a secret, resolved only inside the activity using it
//
// `$${` writes a literal `${`.
type Ref struct {
	Raw       string   // the text between ${ and }
	Namespace string   // params, run, env, tasks, env:, secret:
	Path      []string // dotted path after the namespace (params, run, env, tasks)
	Name      string   // variable or secret name (env:, secret:)
	Default   *string  // env: default after ":-"
}

// Namespaces of references.
const (
	NSParams = "params"
	NSRun    = "run"
	NSEnv    = "env"
	NSTasks  = "tasks"
	NSEnvVar = "env:"
	NSSecret = "secret:"
)

type segment struct {
	lit string
	ref *Ref
}

// parseTemplate splits s into literal text and references.
func parseTemplate(s string) ([]segment, error) {
	var segs []segment
	var lit strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			lit.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			lit.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return nil, hinted{fmt.Sprintf("unterminated reference in %q", s), "close it with }, or write $${ for a literal ${"}
		}
		raw := s[i+2 : i+2+end]
		ref, err := parseRef(raw)
		if err != nil {
			return nil, err
		}
		if lit.Len() > 0 {
			segs = append(segs, segment{lit: lit.String()})
			lit.Reset()
		}
		segs = append(segs, segment{ref: ref})
		i += 2 + end + 1
	}
	if lit.Len() > 0 || len(segs) == 0 {
		segs = append(segs, segment{lit: lit.String()})
	}
	return segs, nil
}

func parseRef(raw string) (*Ref, error) {
	r := &Ref{Raw: raw}
	switch {
	case strings.HasPrefix(raw, NSEnvVar):
		r.Namespace = NSEnvVar
		name := strings.TrimPrefix(raw, NSEnvVar)
		if n, def, ok := strings.Cut(name, ":-"); ok {
			name = n
			r.Default = &def
		}
		r.Name = name
		if !validVarName(name) {
			return nil, hinted{fmt.Sprintf("bad environment variable reference ${%s}", raw), "write ${env:NAME} or ${env:NAME:-default}"}
		}
		return r, nil
	case strings.HasPrefix(raw, NSSecret):
		r.Namespace = NSSecret
		r.Name = strings.TrimPrefix(raw, NSSecret)
		if !validVarName(r.Name) {
			return nil, hinted{fmt.Sprintf("bad secret reference ${%s}", raw), "write ${secret:NAME} with letters, digits and _"}
		}
		return r, nil
	}
	parts := strings.Split(raw, ".")
	for _, p := range parts {
		if p == "" {
			return nil, hinted{fmt.Sprintf("bad reference ${%s}", raw), "write ${params.name}, ${run.logical_date}, ${env.field}, ${tasks.key.output.field}, ${env:VAR} or ${secret:NAME}"}
		}
	}
	switch parts[0] {
	case NSParams, NSRun, NSEnv, NSTasks:
		r.Namespace = parts[0]
		r.Path = parts[1:]
	default:
		return nil, hinted{fmt.Sprintf("unknown reference ${%s}", raw), "references start with params., run., env., tasks., env: or secret:"}
	}
	if len(r.Path) == 0 {
		return nil, hinted{fmt.Sprintf("incomplete reference ${%s}", raw), "name a field, e.g. ${" + parts[0] + ".name}"}
	}
	if r.Namespace == NSTasks && (len(r.Path) < 2 || r.Path[1] != "output") {
		return nil, hinted{fmt.Sprintf("bad task reference ${%s}", raw), "write ${tasks.<key>.output.<field>}"}
	}
	return r, nil
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

// Refs returns the references in s, in order.
func Refs(s string) ([]Ref, error) {
	segs, err := parseTemplate(s)
	if err != nil {
		return nil, err
	}
	var out []Ref
	for _, sg := range segs {
		if sg.ref != nil {
			out = append(out, *sg.ref)
		}
	}
	return out, nil
}

// isWholeRef reports whether s is exactly one reference, of any namespace.
func isWholeRef(s string) bool {
	segs, err := parseTemplate(s)
	return err == nil && len(segs) == 1 && segs[0].ref != nil
}

// isDeferredRef reports whether s is exactly one reference resolved after
// planning (an upstream output or a secret), whose type is unknown until then.
func isDeferredRef(s string) bool {
	segs, err := parseTemplate(s)
	if err != nil || len(segs) != 1 || segs[0].ref == nil {
		return false
	}
	ns := segs[0].ref.Namespace
	return ns == NSTasks || ns == NSSecret
}

// Scope supplies values for references. A nil resolver leaves references of
// its namespace untouched, so a value can be interpolated in phases: env vars
// and params when planning, upstream outputs in the workflow, secrets in the
// activity.
type Scope struct {
	Params  map[string]any
	Run     *RunVars
	Env     map[string]any
	Tasks   map[string]map[string]any // task key -> output; a key absent here is left untouched
	Getenv  func(string) (string, bool)
	Secrets func(name string) (string, error)
	// Final marks the last phase: every reference must resolve, and `$${`
	// escapes become a literal `${`. Earlier phases keep escapes intact.
	Final bool
}

// RunVars are the facts about a run that `${run.*}` exposes.
type RunVars struct {
	ID          string    // Temporal run id
	WorkflowID  string    // workflow id
	Pipeline    string    //
	Env         string    //
	Trigger     string    // MANUAL, SCHEDULED, ...
	LogicalDate time.Time // the data interval the run is for (UTC)
	StartTime   time.Time
}

// LogicalDateFormats are the accepted ${run.logical_date.<format>} suffixes.
var LogicalDateFormats = map[string]func(time.Time) any{
	"iso_date":     func(t time.Time) any { return t.Format(time.DateOnly) },
	"iso_datetime": func(t time.Time) any { return t.Format(time.RFC3339) },
	"yyyymmdd":     func(t time.Time) any { return t.Format("20060102") },
	"yyyymmddhh":   func(t time.Time) any { return t.Format("2006010215") },
	"year":         func(t time.Time) any { return int64(t.Year()) },
	"month":        func(t time.Time) any { return int64(t.Month()) },
	"day":          func(t time.Time) any { return int64(t.Day()) },
	"hour":         func(t time.Time) any { return int64(t.Hour()) },
	"minute":       func(t time.Time) any { return int64(t.Minute()) },
	"timestamp_ms": func(t time.Time) any { return t.UnixMilli() },
}

// RunFields are the accepted ${run.<field>} names.
var RunFields = []string{"id", "workflow_id", "pipeline", "env", "trigger", "logical_date", "start_time"}

func (rv *RunVars) lookup(path []string) (any, error) {
	if len(path) > 1 && path[0] != "logical_date" && slices.Contains(RunFields, path[0]) {
		return nil, hinted{fmt.Sprintf("run field %q has no field %q", path[0], strings.Join(path[1:], ".")), "write ${run." + path[0] + "}"}
	}
	switch path[0] {
	case "id":
		return rv.ID, nil
	case "workflow_id":
		return rv.WorkflowID, nil
	case "pipeline":
		return rv.Pipeline, nil
	case "env":
		return rv.Env, nil
	case "trigger":
		return rv.Trigger, nil
	case "start_time":
		return rv.StartTime.UTC().Format(time.RFC3339), nil
	case "logical_date":
		t := rv.LogicalDate.UTC()
		if len(path) == 1 {
			return t.Format(time.DateOnly), nil
		}
		if f, ok := LogicalDateFormats[path[1]]; ok && len(path) == 2 {
			return f(t), nil
		}
		return nil, hinted{fmt.Sprintf("unknown date format %q", strings.Join(path[1:], ".")), "use one of " + strings.Join(sortedKeys(LogicalDateFormats), ", ")}
	}
	return nil, hinted{fmt.Sprintf("unknown run field %q", path[0]), suggestOr(path[0], RunFields)}
}

func suggestOr(name string, candidates []string) string {
	if s := suggest(name, candidates); s != "" {
		return s
	}
	return "known: " + strings.Join(candidates, ", ")
}

// Interpolate resolves references in every string inside v (maps, slices and
// scalars) using scope. A string that is exactly one reference takes the
// referenced value's type (a number stays a number); references inside longer
// strings are formatted as text.
func Interpolate(v any, scope Scope) (any, error) {
	switch x := v.(type) {
	case string:
		return interpolateString(x, scope)
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			r, err := Interpolate(x[k], scope)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := Interpolate(e, scope)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// InterpolateString resolves references in s and formats the result as text.
func InterpolateString(s string, scope Scope) (string, error) {
	v, err := interpolateString(s, scope)
	if err != nil {
		return "", err
	}
	return formatValue(v), nil
}

func interpolateString(s string, scope Scope) (any, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	if scope.Final && !strings.Contains(strings.ReplaceAll(s, "$${", ""), "${") {
		return strings.ReplaceAll(s, "$${", "${"), nil
	}
	segs, err := parseTemplate(s)
	if err != nil {
		return nil, err
	}
	if len(segs) == 1 && segs[0].ref != nil {
		v, ok, err := scope.resolve(segs[0].ref)
		if err != nil {
			return nil, err
		}
		if !ok {
			if scope.Final {
				return nil, fmt.Errorf("reference ${%s} cannot be resolved here", segs[0].ref.Raw)
			}
			return s, nil
		}
		return v, nil
	}
	var b strings.Builder
	for _, sg := range segs {
		if sg.ref == nil {
			if scope.Final {
				b.WriteString(sg.lit)
			} else {
				b.WriteString(strings.ReplaceAll(sg.lit, "${", "$${"))
			}
			continue
		}
		v, ok, err := scope.resolve(sg.ref)
		if err != nil {
			return nil, err
		}
		if !ok {
			if scope.Final {
				return nil, fmt.Errorf("reference ${%s} cannot be resolved here", sg.ref.Raw)
			}
			b.WriteString("${" + sg.ref.Raw + "}")
			continue
		}
		b.WriteString(formatValue(v))
	}
	return b.String(), nil
}

// resolve returns the value of r; ok is false when its namespace is not
// resolved in this scope.
func (sc Scope) resolve(r *Ref) (any, bool, error) {
	switch r.Namespace {
	case NSParams:
		if sc.Params == nil {
			return nil, false, nil
		}
		v, ok := sc.Params[r.Path[0]]
		if !ok {
			return nil, false, hinted{fmt.Sprintf("unknown parameter %q", r.Path[0]), suggestOr(r.Path[0], sortedKeys(sc.Params))}
		}
		v, err := walkPath(v, r.Path[1:], "params."+r.Path[0])
		return v, err == nil, err
	case NSRun:
		if sc.Run == nil {
			return nil, false, nil
		}
		v, err := sc.Run.lookup(r.Path)
		return v, err == nil, err
	case NSEnv:
		if sc.Env == nil {
			return nil, false, nil
		}
		v, ok := sc.Env[r.Path[0]]
		if !ok {
			return nil, false, hinted{fmt.Sprintf("unknown environment field %q", r.Path[0]), suggestOr(r.Path[0], sortedKeys(sc.Env))}
		}
		v, err := walkPath(v, r.Path[1:], "env."+r.Path[0])
		return v, err == nil, err
	case NSTasks:
		if sc.Tasks == nil {
			return nil, false, nil
		}
		out, ok := sc.Tasks[r.Path[0]]
		if !ok {
			return nil, false, nil
		}
		v, err := walkPath(map[string]any(out), r.Path[2:], "tasks."+r.Path[0]+".output")
		return v, err == nil, err
	case NSEnvVar:
		if sc.Getenv == nil {
			return nil, false, nil
		}
		if v, ok := sc.Getenv(r.Name); ok && v != "" {
			return v, true, nil
		}
		if r.Default != nil {
			return *r.Default, true, nil
		}
		return nil, false, hinted{fmt.Sprintf("environment variable %s is not set", r.Name), fmt.Sprintf("set it, or give a default: ${env:%s:-value}", r.Name)}
	case NSSecret:
		if sc.Secrets == nil {
			return nil, false, nil
		}
		v, err := sc.Secrets(r.Name)
		return v, err == nil, err
	}
	return nil, false, fmt.Errorf("unknown reference ${%s}", r.Raw)
}

// walkPath follows a dotted path into maps and lists.
func walkPath(v any, path []string, where string) (any, error) {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[p]
			if !ok {
				return nil, hinted{fmt.Sprintf("%s has no field %q", where, p), suggestOr(p, sortedKeys(x))}
			}
			v = next
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("%s is a list of %d; %q is not an index", where, len(x), p)
			}
			v = x[i]
		default:
			return nil, fmt.Errorf("%s is %s, not a mapping; cannot take %q", where, formatValue(v), p)
		}
		where += "." + p
	}
	return v, nil
}

// formatValue renders a value for use inside a longer string.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
