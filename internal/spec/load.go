package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"

	"gopkg.in/yaml.v3"
)

// ProjectFile is the project file's name inside a project folder.
const ProjectFile = "sluice.yaml"

// Project is a loaded project folder: sluice.yaml and its pipeline files.
type Project struct {
	Dir       string // absolute path of the project folder
	Config    ProjectConfig
	Pipelines []*PipelineFile // sorted by name
	// Diags holds what loading found (errors and warnings). Validate adds
	// the semantic checks.
	Diags Diagnostics
	// Getenv is the environment ${env:VAR} references are checked against
	// (default the process's); Plan uses its request's.
	Getenv func(string) (string, bool)

	pos map[string]Pos
}

// PipelineFile is one parsed pipeline file.
type PipelineFile struct {
	File string   // relative to the project folder
	Spec Pipeline // as written, before any environment overlay

	root *yaml.Node
	pos  map[string]Pos
}

// Load reads a project folder. It returns an error only when the folder or
// sluice.yaml cannot be read at all; everything else is in Project.Diags so
// that `sluice validate` can report every problem at once.
func Load(dir string) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("project folder %s: %w", dir, err)
	}
	data, err := os.ReadFile(filepath.Join(abs, ProjectFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no %s in %s: pass the project folder with --project (e.g. --project examples/olist)", ProjectFile, abs)
		}
		return nil, fmt.Errorf("reading project: %w", err)
	}
	p := &Project{Dir: abs}
	root := parseYAML(ProjectFile, data, &p.Diags)
	if root != nil {
		d := newDecoder(ProjectFile, &p.Diags)
		d.decode(root, reflect.ValueOf(&p.Config).Elem(), "")
		p.pos = d.pos
	}
	globs := p.Config.Pipelines
	if len(globs) == 0 {
		globs = []string{"pipelines/*.yaml", "pipelines/*.yml"}
	}
	var files []string
	for _, g := range globs {
		matches, err := filepath.Glob(filepath.Join(abs, g))
		if err != nil {
			p.Diags.add(p.posOf("pipelines"), "pipelines", "use a glob such as pipelines/*.yaml", "bad glob %q: %v", g, err)
			continue
		}
		files = append(files, matches...)
	}
	sort.Strings(files)
	seenFile := map[string]bool{}
	for _, f := range files {
		if seenFile[f] {
			continue
		}
		seenFile[f] = true
		rel, _ := filepath.Rel(abs, f)
		data, err := os.ReadFile(f)
		if err != nil {
			p.Diags.add(Pos{File: rel}, "", "", "reading pipeline: %v", err)
			continue
		}
		pf, diags := ParsePipeline(rel, data)
		p.Diags = append(p.Diags, diags...)
		if pf != nil {
			p.Pipelines = append(p.Pipelines, pf)
		}
	}
	sort.SliceStable(p.Pipelines, func(i, j int) bool { return p.Pipelines[i].Spec.Name < p.Pipelines[j].Spec.Name })
	return p, nil
}

// ParsePipeline parses one pipeline file. It never panics, whatever the input.
func ParsePipeline(file string, data []byte) (*PipelineFile, Diagnostics) {
	var diags Diagnostics
	root := parseYAML(file, data, &diags)
	if root == nil {
		return nil, diags
	}
	pf := &PipelineFile{File: file, root: root}
	d := newDecoder(file, &diags)
	d.decode(root, reflect.ValueOf(&pf.Spec).Elem(), "")
	pf.pos = d.pos
	return pf, diags
}

// parseYAML parses one YAML document into its root mapping node.
func parseYAML(file string, data []byte, diags *Diagnostics) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			diags.add(Pos{File: file, Line: 1, Col: 1}, "", "", "file is empty")
			return nil
		}
		diags.add(yamlErrorPos(file, err), "", "check indentation and quoting", "invalid YAML: %s", trimYAMLError(err))
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		diags.add(Pos{File: file, Line: extra.Line, Col: extra.Column}, "", "remove the --- separator: one document per file", "more than one YAML document")
	case !errors.Is(err, io.EOF):
		// a broken second document is still a second document
		diags.add(yamlErrorPos(file, err), "", "remove the --- separator: one document per file", "more than one YAML document (the next one is invalid: %s)", trimYAMLError(err))
	}
	if !checkAliases(file, &doc, diags) {
		return nil
	}
	root := resolveNode(&doc)
	if root == nil {
		diags.add(Pos{File: file, Line: 1, Col: 1}, "", "", "file is empty")
		return nil
	}
	if root.Kind != yaml.MappingNode {
		diags.add(Pos{File: file, Line: root.Line, Col: root.Column}, "", "", "expected a mapping at the top level, got %s", kindName(root))
		return nil
	}
	return root
}

// maxExpandedNodes bounds how many values a file may hold once its aliases
// are expanded: decoding follows aliases, so nested ones ("billion laughs")
// would otherwise take exponential time and memory.
const maxExpandedNodes = 100_000

// checkAliases rejects an alias used inside its own anchor's value (decoding
// it would recurse forever) and aliases that expand past maxExpandedNodes.
// yaml.v3 checks both only when decoding into Go values, not into nodes.
func checkAliases(file string, doc *yaml.Node, diags *Diagnostics) bool {
	size := map[*yaml.Node]int{}
	open := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node) (int, bool)
	walk = func(n *yaml.Node) (int, bool) {
		if s, ok := size[n]; ok {
			return s, true
		}
		kids := n.Content
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			if open[n.Alias] {
				diags.add(Pos{File: file, Line: n.Line, Col: n.Column}, "", "an anchor cannot be used inside its own value", "alias *%s refers to a value that contains it", n.Value)
				return 0, false
			}
			kids = []*yaml.Node{n.Alias}
		}
		open[n] = true
		total := 1
		for _, c := range kids {
			s, ok := walk(c)
			if !ok {
				return 0, false
			}
			total = min(total+s, maxExpandedNodes+1)
		}
		delete(open, n)
		size[n] = total
		return total, true
	}
	total, ok := walk(doc)
	if ok && total > maxExpandedNodes {
		diags.add(Pos{File: file, Line: 1, Col: 1}, "", "use fewer nested aliases", "aliases expand to more than %d values", maxExpandedNodes)
		return false
	}
	return ok
}

// posOf returns the position of a path in sluice.yaml.
func (p *Project) posOf(path string) Pos {
	if pos, ok := p.pos[path]; ok {
		return pos
	}
	return Pos{File: ProjectFile}
}

// Pipeline returns the pipeline file with the given name.
func (p *Project) Pipeline(name string) (*PipelineFile, error) {
	for _, pf := range p.Pipelines {
		if pf.Spec.Name == name {
			return pf, nil
		}
	}
	names := p.PipelineNames()
	return nil, fmt.Errorf("unknown pipeline %q (%s)", name, suggestOr(name, names))
}

// PipelineNames lists the pipelines by name.
func (p *Project) PipelineNames() []string {
	out := make([]string, 0, len(p.Pipelines))
	for _, pf := range p.Pipelines {
		out = append(out, pf.Spec.Name)
	}
	return out
}

// EnvNames lists the environments, sorted.
func (p *Project) EnvNames() []string { return sortedKeys(p.Config.Environments) }

// DefaultEnv returns the environment used when none is given.
func (p *Project) DefaultEnv() string {
	if p.Config.DefaultEnv != "" {
		return p.Config.DefaultEnv
	}
	if len(p.Config.Environments) == 1 {
		return p.EnvNames()[0]
	}
	return EngineLocal
}

func (pf *PipelineFile) posOf(path string) Pos {
	if pos, ok := pf.pos[path]; ok {
		return pos
	}
	return Pos{File: pf.File}
}
