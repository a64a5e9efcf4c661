package dbt

import (
	"slices"
	"strings"
)

// RetrySelection returns --select arguments that pick exactly the nodes to
// run again after rr: those that errored, failed or were skipped, plus
// everything downstream of them in m. Each node is named by the shortest
// selector that matches it alone in m, using dbt's default (fqn) selector
// rules: its name (tests by test name, versioned models as name.vN), else
// its fully qualified name ("fqn:pkg.dir.name"), else its file
// ("path:models/x.sql", root package only). The set is closed under dbt's
// eager indirect test selection, since a selected node's tests are its
// descendants. Hooks (operation nodes) are left out: they run with every
// invocation anyway. A failed node missing from m (a stale manifest) is
// named from its unique_id. The result is sorted; nil means nothing to
// retry.
func RetrySelection(m *Manifest, rr *RunResults) []string {
	if rr == nil {
		return nil
	}
	var seeds []string
	for _, r := range rr.Results {
		if r.Status.Failed() || r.Status == StatusSkipped {
			seeds = append(seeds, r.UniqueID)
		}
	}
	if len(seeds) == 0 {
		return nil
	}
	ids := slices.Clone(seeds)
	if m != nil {
		ids = append(ids, m.Descendants(seeds...)...)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)

	sel := newSelectorIndex(m)
	var out []string
	for _, id := range ids {
		if s := sel.selectorFor(id); s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// selectorIndex answers "which nodes would this selector pick" with dbt's
// fqn and path matching over the manifest.
type selectorIndex struct {
	m     *Manifest
	nodes []Node // nodes a bare selector can reach, sorted by unique_id
}

func newSelectorIndex(m *Manifest) selectorIndex {
	si := selectorIndex{m: m}
	if m == nil {
		return si
	}
	for _, n := range m.Nodes {
		si.nodes = append(si.nodes, n)
	}
	slices.SortFunc(si.nodes, func(a, b Node) int { return strings.Compare(a.UniqueID, b.UniqueID) })
	return si
}

func (si selectorIndex) selectorFor(id string) string {
	rt := resourceTypeFromUniqueID(id)
	if rt == "operation" || rt == "source" {
		return "" // hooks always run; sources are not executed by run/build
	}
	var n Node
	ok := false
	if si.m != nil {
		n, ok = si.m.Nodes[id]
	}
	if !ok {
		return nameFromUniqueID(id)
	}
	var candidates []string
	if n.Version != "" {
		candidates = append(candidates, n.Name+".v"+n.Version)
	} else {
		candidates = append(candidates, n.Name)
	}
	fqn := ""
	if len(n.FQN) > 0 {
		fqn = "fqn:" + strings.Join(n.FQN, ".")
		candidates = append(candidates, fqn)
	}
	if si.m.ProjectName != "" && n.PackageName == si.m.ProjectName && isResourceFile(n.OriginalFilePath) {
		candidates = append(candidates, "path:"+n.OriginalFilePath)
	}
	for _, c := range candidates {
		if si.uniquelySelects(c, id) {
			return c
		}
	}
	if fqn != "" {
		return fqn // ambiguous even so: the closest dbt can express
	}
	return n.Name
}

// isResourceFile reports whether a path names one resource's own file
// (models/x.sql, seeds/x.csv), not a YAML file declaring many tests.
func isResourceFile(p string) bool {
	return strings.HasSuffix(p, ".sql") || strings.HasSuffix(p, ".py") || strings.HasSuffix(p, ".csv")
}

func (si selectorIndex) uniquelySelects(selector, id string) bool {
	count := 0
	for _, n := range si.nodes {
		if !matchesSelector(n, selector) {
			continue
		}
		if n.UniqueID != id {
			return false
		}
		count++
	}
	return count == 1
}

// matchesSelector applies dbt's default selector method to one node: path
// for "path:", else fqn (core/dbt/graph/selector_methods.py, is_selected_node).
func matchesSelector(n Node, selector string) bool {
	if p, ok := strings.CutPrefix(selector, "path:"); ok {
		return n.OriginalFilePath == p || strings.HasPrefix(n.OriginalFilePath, strings.TrimSuffix(p, "/")+"/")
	}
	sel := strings.TrimPrefix(selector, "fqn:")
	fqn := n.FQN
	if len(fqn) == 0 {
		return false
	}
	parts := strings.Split(sel, ".")
	if n.Version != "" && len(fqn) >= 2 {
		// versioned models: name, name_vN and name.vN all select.
		if fqn[len(fqn)-2] == sel || strings.Join(fqn[len(fqn)-2:], "_") == sel {
			return true
		}
		if len(parts) >= 2 && slices.Equal(fqn[len(fqn)-2:], parts[len(parts)-2:]) {
			return true
		}
	} else if fqn[len(fqn)-1] == sel {
		return true
	}
	var flat []string
	for _, seg := range fqn {
		flat = append(flat, strings.Split(seg, ".")...)
	}
	if len(flat) < len(parts) {
		return false
	}
	for i, p := range parts {
		if p == "*" {
			return true
		}
		if flat[i] != p {
			return false
		}
	}
	return true
}
