package dbt

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func parseRunResultsFile(t *testing.T, path string) *RunResults {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rr, err := ParseRunResults(f)
	require.NoError(t, err)
	return rr
}

func TestRetrySelectionFixture(t *testing.T) {
	t.Parallel()
	m, err := parseManifestFile(t, filepath.Join("testdata", "retry", "manifest.json"))
	require.NoError(t, err)
	rr := parseRunResultsFile(t, filepath.Join("testdata", "retry", "run_results.json"))

	got := RetrySelection(m, rr)
	require.Equal(t, []string{
		"customers",        // skipped below the failed seed
		"dim_customers.v1", // versioned: the bare name would pick both versions
		"dim_customers.v2",
		"fqn:shop.marts.not_null_orders_order_id", // skipped; util has a test of the same name
		"fqn:shop.raw_customers",                  // errored seed; a source table shares its name
		"fqn:util.not_null_orders_order_id",       // failed test
		"order_lines",                             // skipped below orders
		"path:models/marts/orders.sql",            // errored; util.orders shares the name and fqn:shop.marts.orders also picks order_lines
	}, got)

	// Each selector picks exactly one node, and together exactly the
	// failed, errored and skipped nodes plus their descendants (no hooks).
	idx := newSelectorIndex(m)
	var selected []string
	for _, s := range got {
		var hits []string
		for _, n := range idx.nodes {
			if matchesSelector(n, s) {
				hits = append(hits, n.UniqueID)
			}
		}
		require.Len(t, hits, 1, "%s selects %v", s, hits)
		selected = append(selected, hits[0])
	}
	slices.Sort(selected)
	require.Equal(t, []string{
		"model.shop.customers", "model.shop.dim_customers.v1", "model.shop.dim_customers.v2",
		"model.shop.order_lines", "model.shop.orders", "seed.shop.raw_customers",
		"test.shop.not_null_orders_order_id.abc123", "test.util.not_null_orders_order_id.999aaa",
	}, selected)
}

func TestRetrySelectionCleanRun(t *testing.T) {
	t.Parallel()
	// dbt 1.9 build of the jaffle_shop v12 manifest: everything passed.
	m, err := parseManifestFile(t, sharedDbt(t, "manifests", "jaffle_shop__v12__dbt1.9.0__manifest.json"))
	require.NoError(t, err)
	rr := parseRunResultsFile(t, sharedDbt(t, "run_results", "jaffle_shop__rr_v6__dbt1.9.0__build.json"))
	require.Nil(t, RetrySelection(m, rr))
}

// The real failed `dbt run` log (model orders errored) with the manifest of
// the same project: orders and every test downstream of it, per dbt's own
// child_map.
func TestRetrySelectionRealFailedRun(t *testing.T) {
	t.Parallel()
	manifestPath := sharedDbt(t, "manifests", "openlineage_structlogs_postgres_run__v12__dbt1.8.2__manifest.json")
	m, err := parseManifestFile(t, manifestPath)
	require.NoError(t, err)
	_, final, _ := readAllEvents(t, sharedDbt(t, "logs", "postgres_run__failed_run_logs.jsonl"))
	rr := &RunResults{Results: final.Results}

	generic := decodeGeneric(t, manifestPath)
	childMap := generic["child_map"].(map[string]any)
	nodes := generic["nodes"].(map[string]any)
	nameCount := map[string]int{}
	for _, v := range nodes {
		nameCount[v.(map[string]any)["name"].(string)]++
	}
	var want []string
	queue := []string{"model.jaffle_shop.orders"}
	seen := map[string]bool{}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		name := nodes[id].(map[string]any)["name"].(string)
		require.Equal(t, 1, nameCount[name], "%s is not a unique name in this manifest; the expectation below assumes it is", name)
		want = append(want, name)
		queue = append(queue, childMapOf(childMap, id)...)
	}
	slices.Sort(want)
	require.Greater(t, len(want), 1, "orders has tests downstream")
	require.Equal(t, want, RetrySelection(m, rr))
}

// The real failed `dbt build` log: one failing test and nothing downstream.
func TestRetrySelectionRealFailedBuild(t *testing.T) {
	t.Parallel()
	m, err := parseManifestFile(t, sharedDbt(t, "manifests", "openlineage_structlogs_postgres_build__v12__dbt1.8.2__manifest.json"))
	require.NoError(t, err)
	_, final, _ := readAllEvents(t, sharedDbt(t, "logs", "postgres_build_command__build_logs.jsonl"))
	require.Equal(t, []string{"accepted_values_customers_first_name__Jane"}, RetrySelection(m, &RunResults{Results: final.Results}))
}

// Real run_results whose failed node is missing from the manifest at hand
// (or whose manifest predates dbt 1.0): the name comes from the unique_id.
func TestRetrySelectionWithoutMatchingManifest(t *testing.T) {
	t.Parallel()
	m, err := parseManifestFile(t, sharedDbt(t, "manifests", "jaffle_shop__v4__dbt1.0.0__manifest.json"))
	require.NoError(t, err)
	rr := parseRunResultsFile(t, sharedDbt(t, "run_results", "jaffle_shop__rr_v4__dbt1.0.0__build_with_error.json"))
	require.Equal(t, []string{"test_insert_overwrite"}, RetrySelection(m, rr))

	// The OpenLineage error + skipped run; its v2 manifest cannot be read.
	rr = parseRunResultsFile(t, sharedDbt(t, "run_results", "openlineage_fail__rr_v2__dbt0.21.0__run_error_skipped.json"))
	require.Equal(t, []string{"test_second_parallel_dbt_model", "test_third_dbt_model"}, RetrySelection(nil, rr))
	require.Nil(t, RetrySelection(m, nil))
}

func TestMatchesSelector(t *testing.T) {
	t.Parallel()
	orders := Node{UniqueID: "model.shop.orders", Name: "orders", FQN: []string{"shop", "marts", "orders"}, OriginalFilePath: "models/marts/orders.sql"}
	v2 := Node{UniqueID: "model.shop.dim.v2", Name: "dim", Version: "2", FQN: []string{"shop", "marts", "dim", "v2"}}
	tests := []struct {
		node     Node
		selector string
		want     bool
	}{
		{orders, "orders", true},
		{orders, "fqn:shop.marts.orders", true},
		{orders, "shop.marts", true}, // a prefix of the fqn selects the folder
		{orders, "shop.*", true},
		{orders, "shop.staging", false},
		{orders, "ord", false},
		{orders, "path:models/marts/orders.sql", true},
		{orders, "path:models/marts", true},
		{orders, "path:models/mart", false},
		{v2, "dim", true},
		{v2, "dim.v2", true},
		{v2, "dim_v2", true},
		{v2, "dim.v1", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, matchesSelector(tt.node, tt.selector), "%s matches %q", tt.node.UniqueID, tt.selector)
	}
}
