package lakehouse

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadOlistPipelines(t *testing.T) {
	t.Parallel()
	main := olistPipeline(t, "olist_main")
	require.Equal(t, "olist_main", main.Name)
	require.Len(t, main.Ingest, 8)
	require.Len(t, main.Steps, 14)
	products := main.Ingest[2]
	require.Equal(t, "products", products.Entity)
	require.Equal(t, "olist/batch=*/olist_products_dataset.csv", products.Pattern)
	require.Equal(t, Table{Schema: "bronze", Name: "products"}, products.Table)
	require.Equal(t, Column{Name: "product_name_lenght", Type: TypeInt}, products.Columns[2])
	var tables []string
	for _, tbl := range main.Tables() {
		tables = append(tables, tbl.String())
	}
	require.Equal(t, []string{
		"bronze.customers", "bronze.sellers", "bronze.products", "bronze.orders", "bronze.order_items",
		"bronze.order_payments", "bronze.order_reviews", "bronze.category_translation",
		"silver.customers", "silver.sellers", "silver.category_translation", "silver.products", "silver.orders",
		"silver.order_items", "silver.order_payments", "silver.order_reviews", "silver.orders_enriched",
		"gold.daily_orders", "gold.monthly_orders", "gold.seller_performance", "gold.category_sales", "gold.customer_summary",
	}, tables)

	cdc := olistPipeline(t, "olist_cdc")
	tables = nil
	for _, tbl := range cdc.Tables() {
		tables = append(tables, tbl.String())
	}
	require.Equal(t, []string{
		"bronze.cdc_customers", "bronze.cdc_products", "bronze.cdc_sellers",
		"silver.customers_cdc_clean", "silver.products_cdc_clean", "silver.sellers_cdc_clean",
		"silver.customers_current", "silver.customers_history",
		"silver.products_current", "silver.products_history",
		"silver.sellers_current", "silver.sellers_history",
	}, tables)
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	const good = `name: p
ingest:
  - entity: orders
    source: olist/batch=*/orders.csv
    table: bronze.orders
    columns:
      - {name: order_id, type: text, not_null: true}
steps:
  - silver/orders.sql
`
	step := map[string]string{"silver/orders.sql": "SELECT 1;"}
	_, err := Load(pipelineDir(t, good, step))
	require.NoError(t, err, "the base case must load, or the cases below prove nothing")

	for _, tc := range []struct {
		name, yaml string
		files      map[string]string
		want       string // after "<dir>/pipeline.yaml:" unless it starts with '!'
	}{
		{"UnknownTopField", good + "stepz: []\n", step,
			`10:1: unknown field "stepz" in pipeline.yaml; allowed fields are name, ingest, steps`},
		{"UnknownType", replace(good, "type: text", "type: decimal"), step,
			`7:32: column "order_id": unknown type "decimal"; use one of text, int, bigint, numeric, double, timestamp, date, bool`},
		{"UnknownColumnField", replace(good, "not_null: true", "nullable: false"), step,
			`7:38: unknown field "nullable" in a column; allowed fields are name, type, not_null`},
		{"NotNullNotABool", replace(good, "not_null: true", `not_null: "yes"`), step,
			`7:48: column "order_id": not_null must be true or false`},
		{"MissingTable", replace(good, "    table: bronze.orders\n", ""), step,
			`3:5: an ingest entry is missing the required field "table"`},
		{"UnqualifiedTable", replace(good, "table: bronze.orders", "table: Orders"), step,
			`5:12: table "Orders" must be schema.table in lowercase identifiers (e.g. bronze.orders)`},
		{"BadGlob", replace(good, "olist/batch=*/orders.csv", "olist/[batch/orders.csv"), step,
			`4:13: source "olist/[batch/orders.csv" must be a glob relative to the volume folder, '/'-separated, without '..' (e.g. olist/batch=*/olist_orders_dataset.csv)`},
		{"EscapingGlob", replace(good, "olist/batch=*/orders.csv", "../orders.csv"), step,
			`4:13: source "../orders.csv" must be a glob relative to the volume folder, '/'-separated, without '..' (e.g. olist/batch=*/olist_orders_dataset.csv)`},
		{"Parquet", replace(good, "    columns:", "    format: parquet\n    columns:"), step,
			`6:13: format "parquet" is not supported; the only format is csv`},
		{"ReservedColumn", replace(good, "name: order_id", "name: _source_file"), step,
			`7:16: column name "_source_file" is reserved for lineage (_source_file, _source_line, _ingested_at); rename it`},
		{"DuplicateEntity", replace(good, "steps:", `  - entity: orders
    source: x.csv
    table: bronze.orders2
    columns: [{name: a, type: int}]
steps:`), step,
			`8:5: entity "orders" is declared twice; give each ingest entry its own entity`},
		{"DuplicateColumn", replace(good, "steps:", "      - {name: order_id, type: int}\nsteps:"), step,
			`8:9: column "order_id" is declared twice in entity orders`},
		{"BadName", replace(good, "name: p", "name: my pipeline"), step,
			`1:7: name "my pipeline" may only contain letters, digits, '_', '-' and '.'`},
		{"NoColumns", replace(good, "      - {name: order_id, type: text, not_null: true}\n", ""), step,
			`6:13: columns must be a non-empty list of {name, type, not_null} in file order`},
		{"StepNotSQL", replace(good, "silver/orders.sql", "silver/orders.txt"), step,
			`9:5: step "silver/orders.txt" must be a .sql file path relative to the pipeline folder, without '..'`},
		{"StepMissing", good, nil,
			`9:5: step "silver/orders.sql": file <dir>/silver/orders.sql not found; create it or fix the path`},
		{"StepUnterminated", good, map[string]string{"silver/orders.sql": "SELECT 1;\nSELECT 'x"},
			`!<dir>/silver/orders.sql:2: unterminated quoted string; close it with '`},
		{"StepEmpty", good, map[string]string{"silver/orders.sql": "-- nothing yet\n"},
			`9:5: step "silver/orders.sql" has no SQL statement; remove it from steps or add SQL`},
		{"Empty", "", nil, `!<dir>/pipeline.yaml: empty file; it needs name, ingest and steps`},
		{"NothingToDo", "name: p\n", nil, `1:1: pipeline "p" has neither ingest entries nor steps; add at least one`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := pipelineDir(t, tc.yaml, tc.files)
			_, err := Load(dir)
			want := filepath.Join(dir, SpecFile) + ":" + tc.want
			if tc.want[0] == '!' {
				want = tc.want[1:]
			}
			want = strings.ReplaceAll(want, "<dir>", dir)
			require.EqualError(t, err, want)
		})
	}

	_, err = Load(t.TempDir())
	require.ErrorIs(t, err, os.ErrNotExist)
}

// replace is strings.Replace that fails loudly when a test case's edit does
// not apply.
func replace(s, old, new string) string {
	if !strings.Contains(s, old) {
		panic("replace: " + old + " not found")
	}
	return strings.Replace(s, old, new, 1)
}

// The pipelines' declared columns must be the generator's contract:
// ../shared/testdata/olist/schema.json (column names in file order; CDC
// files add operation, sequence_number, operation_timestamp).
func TestOlistPipelinesMatchSchemaJSON(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "..", "shared", "testdata", "olist", "schema.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s is absent (it sits beside the checkout in CI); skipping the schema conformance check", path)
	}
	require.NoError(t, err)
	var schema struct {
		Tables map[string]struct {
			File    string `json:"file"`
			Columns []struct {
				Name string `json:"name"`
			} `json:"columns"`
		} `json:"tables"`
	}
	require.NoError(t, json.Unmarshal(data, &schema))
	columnsOf := func(table string) []string {
		tbl, ok := schema.Tables[table]
		require.True(t, ok, table)
		var names []string
		for _, c := range tbl.Columns {
			names = append(names, c.Name)
		}
		return names
	}
	declared := func(s Source) []string {
		var names []string
		for _, c := range s.Columns {
			names = append(names, c.Name)
		}
		return names
	}

	main := olistPipeline(t, "olist_main")
	for _, s := range main.Ingest {
		table := "olist_" + s.Entity + "_dataset"
		if s.Entity == "category_translation" {
			table = "product_category_name_translation"
		}
		require.Equal(t, "olist/batch=*/"+schema.Tables[table].File, s.Pattern, s.Entity)
		require.Equal(t, columnsOf(table), declared(s), s.Entity)
	}
	cdc := olistPipeline(t, "olist_cdc")
	for _, s := range cdc.Ingest {
		entity := strings.TrimPrefix(s.Entity, "cdc_")
		want := append(columnsOf("olist_"+entity+"_dataset"), "operation", "sequence_number", "operation_timestamp")
		require.Equal(t, "olist/batch=*/cdc_"+entity+".csv", s.Pattern, s.Entity)
		require.Equal(t, want, declared(s), s.Entity)
	}
}
