package cli

import (
	"path"
	"regexp"
	"strings"

	"github.com/sluicedata/sluice/internal/store"
)

// graphOps matches dbt's graph operators around a selector: @x, +x, 2+x,
// x+, x+3.
var graphOps = regexp.MustCompile(`^(@|\d*\+)?(.*?)(\+\d*)?$`)

// matchSelector reports whether one dbt --select argument matches at least
// one node, following dbt's selector rules for the methods it knows: none
// (a name, a dotted fully qualified name, or a path), fqn:, tag:, path:,
// file:, package:, resource_type:, config.materialized: and source:, with
// Unix wildcards, graph operators (which only add nodes) and comma
// intersections. known is false for selectors using another method
// (state:, result:, test_type:...), which this check cannot evaluate.
func matchSelector(nodes []store.DbtNode, sel string) (matched, known bool) {
	var set map[string]bool
	for i, part := range strings.Split(sel, ",") {
		ids, ok := selectNodes(nodes, part)
		if !ok {
			return false, false
		}
		if i == 0 {
			set = ids
			continue
		}
		for id := range set {
			if !ids[id] {
				delete(set, id)
			}
		}
	}
	return len(set) > 0, true
}

// selectNodes returns the unique_ids one selector (no commas) matches.
func selectNodes(nodes []store.DbtNode, sel string) (map[string]bool, bool) {
	m := graphOps.FindStringSubmatch(sel)
	if m == nil || m[2] == "" {
		return nil, false
	}
	method, value, hasMethod := strings.Cut(m[2], ":")
	if !hasMethod {
		method, value = "", m[2]
		if strings.ContainsAny(value, "/\\") || hasFileSuffix(value) {
			method = "path"
		}
	}
	var match func(n store.DbtNode) bool
	switch method {
	case "", "fqn":
		if value == "*" {
			match = func(store.DbtNode) bool { return true }
		} else {
			match = func(n store.DbtNode) bool { return fqnMatches(n, value) }
		}
	case "tag":
		match = func(n store.DbtNode) bool {
			for _, t := range n.Tags {
				if glob(value, t) {
					return true
				}
			}
			return false
		}
	case "path":
		match = func(n store.DbtNode) bool { return pathMatches(n.Path, value) }
	case "file":
		match = func(n store.DbtNode) bool {
			base := path.Base(n.Path)
			return n.Path != "" && (glob(value, base) || glob(value, strings.TrimSuffix(base, path.Ext(base))))
		}
	case "package":
		match = func(n store.DbtNode) bool { return glob(value, n.Package) }
	case "resource_type":
		match = func(n store.DbtNode) bool { return n.ResourceType == value }
	case "config.materialized":
		match = func(n store.DbtNode) bool { return glob(value, n.Materialized) }
	case "source":
		match = func(n store.DbtNode) bool { return sourceMatches(n, value) }
	default:
		return nil, false
	}
	out := map[string]bool{}
	for _, n := range nodes {
		if match(n) {
			out[n.UniqueID] = true
		}
	}
	return out, true
}

func hasFileSuffix(v string) bool {
	for _, ext := range []string{".sql", ".py", ".csv", ".yml", ".yaml"} {
		if strings.HasSuffix(v, ext) {
			return true
		}
	}
	return false
}

// glob matches like Python's fnmatch for the names dbt compares (no
// slashes); a malformed pattern matches only itself.
func glob(pattern, s string) bool {
	ok, err := path.Match(pattern, s)
	if err != nil {
		return pattern == s
	}
	return ok
}

// fqnMatches is dbt's FQN selector method: the pattern matches the node's
// name, or is a prefix (ending at a part, or at a "*" part) of its fully
// qualified name with dotted parts flattened.
func fqnMatches(n store.DbtNode, value string) bool {
	if n.Name != "" && glob(value, n.Name) {
		return true
	}
	if len(n.FQN) > 0 && glob(value, n.FQN[len(n.FQN)-1]) {
		return true
	}
	var flat []string
	for _, seg := range n.FQN {
		flat = append(flat, strings.Split(seg, ".")...)
	}
	parts := strings.Split(value, ".")
	if len(flat) == 0 || len(parts) > len(flat) {
		return false
	}
	for i, p := range parts {
		if p == "*" {
			return true
		}
		if p != flat[i] {
			return false
		}
	}
	return true
}

// pathMatches is dbt's path method without a file system: the node's file
// is the path, or lies in the folder the path names (globs allowed).
func pathMatches(file, value string) bool {
	if file == "" {
		return false
	}
	value = strings.TrimSuffix(strings.TrimPrefix(path.Clean(strings.ReplaceAll(value, "\\", "/")), "./"), "/")
	for p := file; p != "." && p != "/" && p != ""; p = path.Dir(p) {
		if glob(value, p) {
			return true
		}
	}
	return false
}

// sourceMatches is dbt's source method: source_name, source_name.table or
// package.source_name.table, each part a glob.
func sourceMatches(n store.DbtNode, value string) bool {
	if n.ResourceType != "source" {
		return false
	}
	parts := strings.Split(value, ".")
	want := []string{n.Package, n.SourceName, n.Name}
	switch len(parts) {
	case 1:
		return glob(parts[0], n.SourceName)
	case 2:
		return glob(parts[0], n.SourceName) && glob(parts[1], n.Name)
	case 3:
		return glob(parts[0], want[0]) && glob(parts[1], want[1]) && glob(parts[2], want[2])
	}
	return false
}
