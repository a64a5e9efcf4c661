package spec

import (
	"reflect"

	"gopkg.in/yaml.v3"
)

// Effective returns the pipeline as it runs in env: the file with the
// pipeline's `environments.<env>` overlay merged in (mappings merge, lists and
// values replace, tasks are matched by key), with positions for every field
// (overlay fields point at the overlay's lines). The overlay itself is
// returned too, for the fields whose precedence depends on where they were set.
func (pf *PipelineFile) Effective(env string) (*Pipeline, *PipelineOverlay, map[string]Pos, Diagnostics) {
	pl, ov, pos, _, diags := pf.effective(env)
	return pl, ov, pos, diags
}

func (pf *PipelineFile) effective(env string) (*Pipeline, *PipelineOverlay, map[string]Pos, *yaml.Node, Diagnostics) {
	var diags Diagnostics
	overlayNode := mappingValue(pf.root, "environments")
	if overlayNode != nil {
		overlayNode = mappingValue(overlayNode, env)
	}
	if overlayNode == nil || overlayNode.Kind != yaml.MappingNode {
		spec := pf.Spec
		return &spec, nil, pf.pos, pf.root, nil
	}
	ov := pf.Spec.Environments[env]
	merged := mergeNode(withoutKey(pf.root, "environments"), overlayNode, "environments."+env, pf.File, &diags)
	var out Pipeline
	// ParsePipeline already reported every problem of the file and of the
	// overlay; decoding their merge again would only repeat them under other
	// field names (`retries` and `environments.prod.retries`).
	var again Diagnostics
	d := newDecoder(pf.File, &again)
	d.decode(merged, reflect.ValueOf(&out).Elem(), "")
	return &out, &ov, d.pos, merged, diags
}

// mappingValue returns the value node of key in a mapping node, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	m = resolveNode(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return resolveNode(m.Content[i+1])
		}
	}
	return nil
}

// withoutKey returns a shallow copy of a mapping node without one key.
func withoutKey(m *yaml.Node, key string) *yaml.Node {
	out := *m
	out.Content = nil
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key {
			out.Content = append(out.Content, m.Content[i], m.Content[i+1])
		}
	}
	return &out
}

// mergeNode merges over onto base without modifying either.
func mergeNode(base, over *yaml.Node, path, file string, diags *Diagnostics) *yaml.Node {
	base, over = resolveNode(base), resolveNode(over)
	if base == nil || over == nil || base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return over
	}
	out := *base
	out.Content = append([]*yaml.Node(nil), base.Content...)
	for i := 0; i+1 < len(over.Content); i += 2 {
		k, v := over.Content[i], over.Content[i+1]
		idx := -1
		for j := 0; j+1 < len(out.Content); j += 2 {
			if out.Content[j].Value == k.Value {
				idx = j
				break
			}
		}
		if idx < 0 {
			out.Content = append(out.Content, k, v)
			continue
		}
		bv := resolveNode(out.Content[idx+1])
		ov := resolveNode(v)
		switch {
		case ov != nil && (ov.Kind == yaml.MappingNode || ov.Kind == yaml.SequenceNode) && len(ov.Content) == 0:
			// An empty mapping or list clears the field (notify: {} = no
			// notifications here); merging it would change nothing.
			out.Content[idx+1] = v
		case k.Value == "tasks" && path != "" && bv != nil && bv.Kind == yaml.SequenceNode:
			out.Content[idx+1] = mergeTasks(bv, resolveNode(v), joinPath(path, "tasks"), file, diags)
		case bv != nil && bv.Kind == yaml.MappingNode && resolveNode(v) != nil && resolveNode(v).Kind == yaml.MappingNode:
			out.Content[idx+1] = mergeNode(bv, v, joinPath(path, k.Value), file, diags)
		default:
			out.Content[idx+1] = v
		}
	}
	return &out
}

// mergeTasks applies a mapping of task key -> overrides to the task list.
func mergeTasks(seq, over *yaml.Node, path, file string, diags *Diagnostics) *yaml.Node {
	if over == nil || over.Kind != yaml.MappingNode {
		return seq
	}
	out := *seq
	out.Content = append([]*yaml.Node(nil), seq.Content...)
	var keys []string
	for _, item := range seq.Content {
		if kv := mappingValue(item, "key"); kv != nil {
			keys = append(keys, kv.Value)
		}
	}
	for i := 0; i+1 < len(over.Content); i += 2 {
		k, v := over.Content[i], over.Content[i+1]
		found := false
		for j, item := range out.Content {
			if kv := mappingValue(item, "key"); kv != nil && kv.Value == k.Value {
				out.Content[j] = mergeNode(item, v, "", file, diags)
				found = true
				break
			}
		}
		if !found {
			diags.add(Pos{File: file, Line: k.Line, Col: k.Column}, joinPath(path, k.Value), suggest(k.Value, keys), "no task %q to override", k.Value)
		}
	}
	return &out
}
