package dbt

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

func parseManifestFile(t testing.TB, path string) (*Manifest, error) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	return ParseManifest(f)
}

// strs converts a decoded JSON array; a missing value stays nil, as in the typed parse.
func strs(v any) []string {
	if v == nil {
		return nil
	}
	out := []string{}
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestParseManifestRealFiles(t *testing.T) {
	t.Parallel()
	files := sharedGlob(t, "manifests/*.json")
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, "__manifest.json"), func(t *testing.T) {
			t.Parallel()
			want := decodeGeneric(t, path)
			md := want["metadata"].(map[string]any)
			_, version, err := parseSchemaVersion(md["dbt_schema_version"].(string))
			require.NoError(t, err)

			m, err := parseManifestFile(t, path)
			if version < 4 {
				require.Error(t, err)
				require.ErrorContains(t, err, "manifest schema v"+strconv.Itoa(version))
				require.ErrorContains(t, err, md["dbt_version"].(string))
				require.ErrorContains(t, err, "re-run `dbt parse` with dbt >= 1.0")
				return
			}
			require.NoError(t, err)
			require.Equal(t, version, m.SchemaVersion)
			require.Equal(t, md["dbt_version"], m.DbtVersion)

			// Every node of nodes, sources and unit_tests, by type.
			wantByType := map[string]int{}
			wantNodes := map[string]map[string]any{}
			for _, section := range []string{"nodes", "sources", "unit_tests"} {
				sec, _ := want[section].(map[string]any)
				for id, v := range sec {
					n := v.(map[string]any)
					wantByType[n["resource_type"].(string)]++
					wantNodes[id] = n
				}
			}
			gotByType := map[string]int{}
			for _, n := range m.Nodes {
				gotByType[n.ResourceType]++
			}
			require.Equal(t, wantByType, gotByType)
			require.Len(t, m.Models(), wantByType["model"])
			require.Len(t, m.Tests(), wantByType["test"])
			require.Len(t, m.Seeds(), wantByType["seed"])
			require.Len(t, m.Snapshots(), wantByType["snapshot"])
			require.Len(t, m.Sources(), wantByType["source"])

			for _, got := range m.Models() {
				w := wantNodes[got.UniqueID]
				require.NotNil(t, w, got.UniqueID)
				require.Equal(t, w["name"], got.Name)
				require.Equal(t, w["original_file_path"], got.OriginalFilePath)
				require.Equal(t, w["package_name"], got.PackageName)
				require.Equal(t, "model", got.ResourceType)
				require.Equal(t, strs(w["fqn"]), got.FQN)
				require.Equal(t, strs(w["tags"]), got.Tags)
				require.Equal(t, w["config"].(map[string]any)["materialized"], got.Materialized)
				require.Equal(t, strs(w["depends_on"].(map[string]any)["nodes"]), got.Parents)
			}

			// Children agrees with dbt's own child_map on node-to-node edges.
			childMap := want["child_map"].(map[string]any)
			for id := range wantNodes {
				var wantChildren []string
				for _, c := range childMapOf(childMap, id) {
					if _, ok := wantNodes[c]; ok {
						wantChildren = append(wantChildren, c)
					}
				}
				slices.Sort(wantChildren)
				require.Equal(t, wantChildren, m.Children[id], "children of %s", id)
			}
		})
	}
}

func TestParseManifestStreamsAnyChunking(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "retry", "manifest.json"))
	require.NoError(t, err)
	whole, err := ParseManifest(bytes.NewReader(b))
	require.NoError(t, err)
	byteAtATime, err := ParseManifest(iotest.OneByteReader(bytes.NewReader(b)))
	require.NoError(t, err)
	require.Equal(t, whole, byteAtATime)
	require.Equal(t, "shop", whole.ProjectName)
	require.Equal(t, "postgres", whole.AdapterType)
	require.Len(t, whole.Nodes, 15)
	require.Equal(t, "2", whole.Nodes["model.shop.dim_customers.v2"].Version)
	require.Equal(t, "erp", whole.Nodes["source.shop.erp.raw_customers"].SourceName)
	require.Equal(t, []string{"model.shop.order_lines", "test.shop.not_null_orders_order_id.abc123"}, whole.Children["model.shop.orders"])
	require.Equal(t, []string{
		"model.shop.customers", "model.shop.dim_customers.v1", "model.shop.dim_customers.v2",
		"model.shop.order_lines", "model.shop.orders", "snapshot.shop.orders_snapshot",
		"test.shop.not_null_orders_order_id.abc123", "test.shop.unique_stg_orders_order_id.def456",
	}, whole.Descendants("model.shop.stg_orders"))
}

func TestParseManifestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, input, wantErr string
	}{
		{"Truncated", `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {"model.a.b": {"name": "b"`, "unexpected end of JSON input"},
		{"NotAnObject", `[1, 2]`, "expected an object"},
		{"NoMetadata", `{"nodes": {}}`, "no metadata.dbt_schema_version"},
		{"RunResultsInstead", `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"}, "results": []}`, "this is a dbt run-results file, not a manifest.json"},
		{"NotASchemaURL", `{"metadata": {"dbt_schema_version": "v12"}}`, `"v12" is not a dbt schema URL`},
		{"PreOneDotZero", `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v3.json", "dbt_version": "0.21.1"}}`,
			"manifest schema v3 (https://schemas.getdbt.com/dbt/manifest/v3.json, written by dbt 0.21.1) predates dbt 1.0 and is not supported: re-run `dbt parse` with dbt >= 1.0 to regenerate target/manifest.json"},
		{"TrailingGarbage", `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}} x`, "unexpected 'x' after the top-level object"},
		{"BadNode", `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {"model.a.b": {"name": 5}}}`, `decoding nodes "model.a.b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseManifest(strings.NewReader(tt.input))
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestParseManifestOrderAndUnknownFields(t *testing.T) {
	t.Parallel()
	// metadata after nodes, unknown sections and fields, escapes in keys and skipped strings.
	in := `{
	  "future_section": {"x": [1, {"y": "}\"]"}], "z": null, "t": true, "n": -1.5e3},
	  "nodes": {"model.p.a": {"name": "a", "resource_type": "model", "unique_id": "model.p.a", "package_name": "p",
	     "fqn": ["p", "a"], "config": {"materialized": "incremental", "new_option": {"deep": [1]}}, "depends_on": {"nodes": ["source.p.s.t"]}, "new_field": "\u00e9"}},
	  "sources": {"source.p.s.t": {"name": "t", "resource_type": "source", "unique_id": "source.p.s.t", "source_name": "s", "fqn": ["p", "s", "t"]}},
	  "macros": {"macro.p.\"odd\\key": {"macro_sql": "{{ x }}"}},
	  "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "dbt_version": "1.9.1"}
	}`
	m, err := ParseManifest(strings.NewReader(in))
	require.NoError(t, err)
	require.Equal(t, 12, m.SchemaVersion)
	require.Equal(t, []Model{{
		UniqueID: "model.p.a", Name: "a", ResourceType: "model", PackageName: "p", FQN: []string{"p", "a"},
		Materialized: "incremental", Parents: []string{"source.p.s.t"}, Enabled: true,
	}}, m.Models())
	require.Equal(t, map[string][]string{"source.p.s.t": {"model.p.a"}}, m.Children)
}

func largestManifest(b *testing.B) string {
	files := sharedGlob(b, "manifests/*.json")
	best, bestSize := "", int64(0)
	for _, f := range files {
		fi, err := os.Stat(f)
		require.NoError(b, err)
		if fi.Size() > bestSize && !strings.Contains(f, "__v2__") {
			best, bestSize = f, fi.Size()
		}
	}
	return best
}

func BenchmarkParseManifest(b *testing.B) {
	path := largestManifest(b)
	data, err := os.ReadFile(path)
	require.NoError(b, err)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var nodes int
	for b.Loop() {
		m, err := ParseManifest(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		nodes = len(m.Nodes)
	}
	b.ReportMetric(float64(nodes), "nodes")
	b.ReportMetric(float64(len(data))/(1<<20), "file_MB")
}

func childMapOf(childMap map[string]any, id string) []string {
	v, _ := childMap[id].([]any)
	var out []string
	for _, x := range v {
		out = append(out, x.(string))
	}
	return out
}
