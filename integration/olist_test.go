package integration

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/datagen"
)

// olistSandbox runs the real examples/olist project with the catalog on the
// test's database and the volume in a temp folder.
func olistSandbox(t *testing.T) (*sandbox, string) {
	sb := newSandbox(t, "../examples/olist")
	volume := t.TempDir()
	sb.extraEnv = map[string]string{"SLUICE_CATALOG": dbName(t, sb.whURL), "SLUICE_VOLUME": volume}
	return sb, volume
}

// bronzeTables maps generator table names to the bronze tables loading them.
var bronzeTables = map[string]string{
	"customers": "bronze.customers", "sellers": "bronze.sellers", "products": "bronze.products",
	"orders": "bronze.orders", "order_items": "bronze.order_items", "order_payments": "bronze.order_payments",
	"order_reviews": "bronze.order_reviews", "category_translation": "bronze.category_translation",
	"cdc_customers": "bronze.cdc_customers", "cdc_products": "bronze.cdc_products", "cdc_sellers": "bronze.cdc_sellers",
}

// checkBronze asserts that bronze holds every valid generated record exactly
// once and the quarantine every malformed one, at its file and line.
func checkBronze(t *testing.T, sb *sandbox, volume string) {
	t.Helper()
	totals, err := datagen.Totals(volume, "olist")
	require.NoError(t, err)
	for table, bronze := range bronzeTables {
		got := sb.query(fmt.Sprintf("SELECT count(*), count(DISTINCT (_source_file, _source_line)) FROM %s", bronze))
		require.Equal(t, []any{totals[table], totals[table]}, got[0], "%s holds each generated record once", bronze)
	}
	// the quarantine: exactly the malformed records the generator injected
	want := map[string]bool{}
	batches, err := filepath.Glob(filepath.Join(volume, "olist", "batch=*", "_manifest.json"))
	require.NoError(t, err)
	for _, m := range batches {
		var res datagen.Result
		b, err := os.ReadFile(m)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &res))
		for _, f := range res.Files {
			if _, ingested := bronzeTables[f.Table]; !ingested {
				continue
			}
			for _, line := range f.MalformedLines {
				want[fmt.Sprintf("%s:%d", f.Path, line)] = true
			}
		}
	}
	got := map[string]bool{}
	for _, r := range sb.query("SELECT file, line FROM _sluice.quarantine") {
		got[fmt.Sprintf("%s:%d", r[0], r[1])] = true
	}
	require.NotEmpty(t, want, "the test generates malformed records")
	require.Equal(t, want, got, "quarantine holds exactly the injected malformed records")
}

// outputs returns each task's output from run history.
func outputs(t *testing.T, sb *sandbox, id string) map[string]map[string]any {
	t.Helper()
	st, err := sb.openStore(t).GetRun(context.Background(), id, "")
	require.NoError(t, err)
	require.Equal(t, dag.StatusSuccess, st.Status, "run %s", id)
	out := map[string]map[string]any{}
	for _, tk := range st.Tasks {
		out[tk.Key] = tk.Output
	}
	return out
}

// snapshot fingerprints every silver and gold table.
func snapshot(t *testing.T, sb *sandbox) map[string]string {
	t.Helper()
	out := map[string]string{}
	tables := sb.query(`SELECT table_schema || '.' || table_name FROM information_schema.tables
		WHERE table_schema IN ('silver', 'gold') ORDER BY 1`)
	require.NotEmpty(t, tables)
	for _, r := range tables {
		name := r[0].(string)
		v := sb.query(fmt.Sprintf("SELECT count(*)::text || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM %s x", name))
		out[name] = v[0][0].(string)
	}
	return out
}

func TestOlistDailyEndToEnd(t *testing.T) {
	t.Parallel()
	sb, volume := olistSandbox(t)
	sb.startWorker()
	args := []string{"--param", "orders=3000", "--param", "malformed_rate=0.01", "--wait"}

	// Day 1.
	code, out := sb.sluice(append([]string{"run", "olist_daily", "--date", "2026-11-01"}, args...)...)
	require.Equal(t, 0, code, out)
	day1 := outputs(t, sb, "sluice/olist_daily/local/2026-11-01")
	require.Equal(t, float64(8), day1["run_main_pipeline"]["files_loaded"])
	require.Equal(t, float64(3), day1["run_cdc_pipeline"]["files_loaded"])
	require.Equal(t, float64(0), day1["quality_checks"]["failed"])
	checkBronze(t, sb, volume)
	checkSilverGold(t, sb)
	checkSCD2(t, sb, volume)

	// Day 2: only the new batch's files are loaded.
	code, out = sb.sluice(append([]string{"run", "olist_daily", "--date", "2026-11-02"}, args...)...)
	require.Equal(t, 0, code, out)
	day2 := outputs(t, sb, "sluice/olist_daily/local/2026-11-02")
	require.Equal(t, float64(8), day2["run_main_pipeline"]["files_loaded"])
	require.Equal(t, float64(8), day2["run_main_pipeline"]["files_skipped"])
	require.Equal(t, float64(3), day2["run_cdc_pipeline"]["files_loaded"])
	require.Equal(t, float64(3), day2["run_cdc_pipeline"]["files_skipped"])
	checkBronze(t, sb, volume)

	// Day 2 again (as a retry of the whole run would): nothing is generated
	// or loaded twice.
	code, out = sb.sluice(append([]string{"run", "olist_daily", "--date", "2026-11-02", "--id", "again"}, args...)...)
	require.Equal(t, 0, code, out)
	again := outputs(t, sb, "again")
	require.Equal(t, true, again["generate_data"]["already_written"])
	require.Equal(t, float64(0), again["run_main_pipeline"]["files_loaded"])
	require.Equal(t, float64(0), again["run_cdc_pipeline"]["files_loaded"])
	checkBronze(t, sb, volume)

	// Day 3, then a full refresh must rebuild exactly the same tables.
	code, out = sb.sluice(append([]string{"run", "olist_daily", "--date", "2026-11-03"}, args...)...)
	require.Equal(t, 0, code, out)
	checkSCD2(t, sb, volume)
	incremental := snapshot(t, sb)
	code, out = sb.sluice("run", "olist_weekly_full_refresh", "--date", "2026-11-03", "--wait")
	require.Equal(t, 0, code, out)
	require.Equal(t, incremental, snapshot(t, sb), "incremental after 3 batches equals a full refresh")
	checkBronze(t, sb, volume)
}

// checkSilverGold compares silver and gold with independent queries on bronze.
func checkSilverGold(t *testing.T, sb *sandbox) {
	t.Helper()
	for name, q := range map[string]string{
		"daily orders": `
			SELECT order_purchase_timestamp::date, count(*) FROM bronze.orders GROUP BY 1
			EXCEPT SELECT order_date, orders FROM gold.daily_orders`,
		"daily items value": `
			SELECT o.order_purchase_timestamp::date, sum(i.price) FROM bronze.orders o JOIN bronze.order_items i USING (order_id) GROUP BY 1
			EXCEPT SELECT order_date, items_value FROM gold.daily_orders`,
		"category items": `
			SELECT coalesce(t.product_category_name_english, p.product_category_name, 'unknown'), count(*)
			FROM bronze.order_items i JOIN bronze.products p USING (product_id)
			LEFT JOIN bronze.category_translation t USING (product_category_name) GROUP BY 1
			EXCEPT SELECT category, items FROM gold.category_sales`,
		"payment totals": `
			SELECT order_id, sum(payment_value) FROM bronze.order_payments GROUP BY 1
			EXCEPT SELECT order_id, payment_total FROM silver.orders_enriched`,
		"seller items": `
			SELECT seller_id, count(*) FROM bronze.order_items GROUP BY 1
			EXCEPT SELECT seller_id, items FROM gold.seller_performance`,
	} {
		require.Empty(t, sb.query(q), "%s: gold/silver differ from bronze", name)
	}
	require.Equal(t, sb.query("SELECT count(*) FROM bronze.orders"), sb.query("SELECT count(*) FROM silver.orders_enriched"))
}

// checkSCD2 replays the generated customer CDC events in sequence order and
// compares the result with silver.customers_history and _current.
func checkSCD2(t *testing.T, sb *sandbox, volume string) {
	t.Helper()
	type event struct {
		key, city, op string
		seq           int64
	}
	var events []event
	seen := map[string]bool{}
	files, err := filepath.Glob(filepath.Join(volume, "olist", "batch=*", "cdc_customers.csv"))
	require.NoError(t, err)
	for _, path := range files {
		malformed := malformedLines(t, filepath.Join(filepath.Dir(path), "_manifest.json"), "cdc_customers")
		f, err := os.Open(path)
		require.NoError(t, err)
		r := csv.NewReader(f)
		r.FieldsPerRecord = -1
		header, err := r.Read()
		require.NoError(t, err)
		col := func(name string) int { return slices.Index(header, name) }
		for {
			rec, err := r.Read()
			if err != nil {
				break
			}
			line, _ := r.FieldPos(0)
			if malformed[int64(line)] {
				continue
			}
			seq, err := strconv.ParseInt(rec[col("sequence_number")], 10, 64)
			require.NoError(t, err, "%s:%d", path, line)
			e := event{key: rec[col("customer_id")], city: rec[col("customer_city")], op: rec[col("operation")], seq: seq}
			id := fmt.Sprintf("%s/%d", e.key, e.seq)
			if seen[id] { // an exact duplicate line
				continue
			}
			seen[id] = true
			events = append(events, e)
		}
		f.Close()
	}
	sort.Slice(events, func(i, j int) bool { return events[i].seq < events[j].seq })
	var wantHistory [][]any
	current := map[string]string{}
	byKey := map[string][]event{}
	for _, e := range events {
		byKey[e.key] = append(byKey[e.key], e)
	}
	for key, evs := range byKey {
		for i, e := range evs {
			if e.op == "DELETE" {
				delete(current, key)
				continue
			}
			var end any
			if i+1 < len(evs) {
				end = evs[i+1].seq
			}
			wantHistory = append(wantHistory, []any{key, e.seq, end, e.city})
			current[key] = e.city
		}
	}
	gotHistory := sb.query(`SELECT customer_id, "__START_AT", "__END_AT", customer_city FROM silver.customers_history`)
	require.ElementsMatch(t, wantHistory, gotHistory, "SCD2 history equals a replay of the events in sequence order")
	var wantCurrent [][]any
	for k, city := range current {
		wantCurrent = append(wantCurrent, []any{k, city})
	}
	require.ElementsMatch(t, wantCurrent, sb.query("SELECT customer_id, customer_city FROM silver.customers_current"))
}

func malformedLines(t *testing.T, manifest, table string) map[int64]bool {
	t.Helper()
	b, err := os.ReadFile(manifest)
	require.NoError(t, err)
	var res datagen.Result
	require.NoError(t, json.Unmarshal(b, &res))
	out := map[int64]bool{}
	for _, f := range res.Files {
		if f.Table == table {
			for _, l := range f.MalformedLines {
				out[l] = true
			}
		}
	}
	return out
}
