package dbt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// MinManifestSchema is the oldest manifest schema ParseManifest reads: v4
// is dbt 1.0. It was written against v4 to v12 (dbt 1.8 to 1.10).
const MinManifestSchema = 4

// Manifest is the part of dbt's target/manifest.json that Sluice uses: the
// runnable nodes, the sources, and the dependency graph between them.
type Manifest struct {
	SchemaVersion int    // N of https://schemas.getdbt.com/dbt/manifest/vN.json
	DbtVersion    string // metadata.dbt_version, e.g. "1.8.2"
	ProjectName   string // metadata.project_name (absent before schema v10)
	AdapterType   string // metadata.adapter_type, e.g. "postgres"
	InvocationID  string
	GeneratedAt   string // metadata.generated_at as dbt wrote it

	// Nodes holds every node of the manifest's nodes, sources and unit_tests
	// sections by unique_id. Exposures, metrics, macros and docs are skipped.
	Nodes map[string]Node
	// Children maps a unique_id to the unique_ids that depend on it
	// (depends_on.nodes reversed), sorted. Use it to walk downstream.
	Children map[string][]string
}

// Node is one model, test, seed, snapshot, source, analysis, operation or
// unit test of a manifest.
type Node struct {
	UniqueID         string
	Name             string
	ResourceType     string // model, test, seed, snapshot, source, analysis, operation, unit_test...
	PackageName      string
	OriginalFilePath string   // relative to the package root, e.g. models/staging/stg_orders.sql
	Path             string   // relative to the resource folder
	FQN              []string // fully qualified name, e.g. [jaffle_shop staging stg_orders]
	Tags             []string
	Materialized     string   // config.materialized: view, table, incremental, ephemeral, seed, test, snapshot...
	Parents          []string // depends_on.nodes
	Version          string   // model version for versioned models, "" otherwise
	SourceName       string   // for sources: the source the table belongs to
	Enabled          bool     // config.enabled (disabled nodes are not in these sections, so normally true)
}

// Model is a Node whose ResourceType is "model".
type Model = Node

// Models returns the manifest's models sorted by unique_id.
func (m *Manifest) Models() []Model { return m.NodesOfType("model") }

// Tests returns the data tests sorted by unique_id.
func (m *Manifest) Tests() []Node { return m.NodesOfType("test") }

// Seeds returns the seeds sorted by unique_id.
func (m *Manifest) Seeds() []Node { return m.NodesOfType("seed") }

// Snapshots returns the snapshots sorted by unique_id.
func (m *Manifest) Snapshots() []Node { return m.NodesOfType("snapshot") }

// Sources returns the source tables sorted by unique_id.
func (m *Manifest) Sources() []Node { return m.NodesOfType("source") }

// NodesOfType returns the nodes of one resource type sorted by unique_id.
func (m *Manifest) NodesOfType(resourceType string) []Node {
	var out []Node
	for _, n := range m.Nodes {
		if n.ResourceType == resourceType {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b Node) int { return strings.Compare(a.UniqueID, b.UniqueID) })
	return out
}

// Descendants returns every node downstream of the given ones (not
// including them unless one is downstream of another), sorted.
func (m *Manifest) Descendants(ids ...string) []string {
	seen := map[string]bool{}
	stack := slices.Clone(ids)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range m.Children[id] {
			if !seen[c] {
				seen[c] = true
				stack = append(stack, c)
			}
		}
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

var manifestSchemaRe = regexp.MustCompile(`/dbt/([a-z-]+)/v(\d+)\.json`)

// ParseManifest reads a dbt manifest.json (schema v4, dbt 1.0, to v12) from
// r. It streams: macros, docs, compiled code and every other section Sluice
// does not use are stepped over without being built, so memory stays close
// to the size of the largest single node. Unknown fields are ignored, and
// schemas newer than v12 are read the same way. Pre-1.0 manifests (v1-v3)
// are rejected with a message saying how to regenerate them.
func ParseManifest(r io.Reader) (*Manifest, error) {
	s := newJSONScanner(r)
	m := &Manifest{Nodes: map[string]Node{}}
	sawMetadata := false
	var node manifestNode
	err := s.objectKeys(func(key string) error {
		switch key {
		case "metadata":
			raw, err := s.captureValue()
			if err != nil {
				return fmt.Errorf("reading metadata: %w", err)
			}
			if err := m.readMetadata(raw); err != nil {
				return err
			}
			sawMetadata = true
			return nil
		case "nodes", "sources", "unit_tests":
			return s.objectKeys(func(id string) error {
				raw, err := s.captureValue()
				if err != nil {
					return fmt.Errorf("reading %s %q: %w", key, id, err)
				}
				node = manifestNode{}
				if err := json.Unmarshal(raw, &node); err != nil {
					return fmt.Errorf("decoding %s %q: %w", key, id, err)
				}
				n := node.toNode()
				if n.UniqueID == "" {
					n.UniqueID = id
				}
				m.Nodes[n.UniqueID] = n
				return nil
			})
		default:
			return s.skipValue()
		}
	})
	if err == nil {
		err = s.finish()
	}
	if err != nil {
		return nil, fmt.Errorf("parsing dbt manifest: %w", err)
	}
	if !sawMetadata {
		return nil, fmt.Errorf("parsing dbt manifest: no metadata.dbt_schema_version: this is not a dbt manifest.json (run `dbt parse` to write target/manifest.json)")
	}
	m.buildChildren()
	return m, nil
}

func (m *Manifest) readMetadata(raw []byte) error {
	var md struct {
		SchemaVersion string `json:"dbt_schema_version"`
		DbtVersion    string `json:"dbt_version"`
		ProjectName   string `json:"project_name"`
		AdapterType   string `json:"adapter_type"`
		InvocationID  string `json:"invocation_id"`
		GeneratedAt   string `json:"generated_at"`
	}
	if err := json.Unmarshal(raw, &md); err != nil {
		return fmt.Errorf("decoding metadata: %w", err)
	}
	kind, v, err := parseSchemaVersion(md.SchemaVersion)
	if err != nil {
		return err
	}
	if kind != "manifest" {
		return fmt.Errorf("metadata.dbt_schema_version is %q: this is a dbt %s file, not a manifest.json", md.SchemaVersion, kind)
	}
	if v < MinManifestSchema {
		return fmt.Errorf("manifest schema v%d (%s, written by dbt %s) predates dbt 1.0 and is not supported: "+
			"re-run `dbt parse` with dbt >= 1.0 to regenerate target/manifest.json", v, md.SchemaVersion, orUnknown(md.DbtVersion))
	}
	m.SchemaVersion = v
	m.DbtVersion = md.DbtVersion
	m.ProjectName = md.ProjectName
	m.AdapterType = md.AdapterType
	m.InvocationID = md.InvocationID
	m.GeneratedAt = md.GeneratedAt
	return nil
}

// parseSchemaVersion splits "https://schemas.getdbt.com/dbt/manifest/v12.json"
// into ("manifest", 12).
func parseSchemaVersion(url string) (string, int, error) {
	if url == "" {
		return "", 0, fmt.Errorf("metadata.dbt_schema_version is missing")
	}
	sm := manifestSchemaRe.FindStringSubmatch(url)
	if sm == nil {
		return "", 0, fmt.Errorf("metadata.dbt_schema_version %q is not a dbt schema URL like https://schemas.getdbt.com/dbt/manifest/v12.json", url)
	}
	v, err := strconv.Atoi(sm[2])
	if err != nil {
		return "", 0, fmt.Errorf("metadata.dbt_schema_version %q: %w", url, err)
	}
	return sm[1], v, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown version"
	}
	return s
}

// manifestNode is the slice of a manifest node that ParseManifest decodes;
// encoding/json skips every other field.
type manifestNode struct {
	UniqueID         string          `json:"unique_id"`
	Name             string          `json:"name"`
	ResourceType     string          `json:"resource_type"`
	PackageName      string          `json:"package_name"`
	OriginalFilePath string          `json:"original_file_path"`
	Path             string          `json:"path"`
	FQN              []string        `json:"fqn"`
	Tags             []string        `json:"tags"`
	SourceName       string          `json:"source_name"`
	Version          json.RawMessage `json:"version"`
	Config           struct {
		Materialized string `json:"materialized"`
		Enabled      *bool  `json:"enabled"`
	} `json:"config"`
	DependsOn struct {
		Nodes []string `json:"nodes"`
	} `json:"depends_on"`
}

func (n *manifestNode) toNode() Node {
	enabled := n.Config.Enabled == nil || *n.Config.Enabled
	return Node{
		UniqueID:         n.UniqueID,
		Name:             n.Name,
		ResourceType:     n.ResourceType,
		PackageName:      n.PackageName,
		OriginalFilePath: n.OriginalFilePath,
		Path:             n.Path,
		FQN:              n.FQN,
		Tags:             n.Tags,
		Materialized:     n.Config.Materialized,
		Parents:          n.DependsOn.Nodes,
		Version:          jsonScalarString(n.Version),
		SourceName:       n.SourceName,
		Enabled:          enabled,
	}
}

// jsonScalarString renders a version that dbt writes as a number (2), a
// string ("2") or null as a string.
func jsonScalarString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func (m *Manifest) buildChildren() {
	m.Children = map[string][]string{}
	for id, n := range m.Nodes {
		for _, p := range n.Parents {
			m.Children[p] = append(m.Children[p], id)
		}
	}
	for p, cs := range m.Children {
		slices.Sort(cs)
		m.Children[p] = slices.Compact(cs)
	}
}
