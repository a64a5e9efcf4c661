package lakehouse

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/pgtest"
)

// The Olist pipelines of examples/olist/local_pipelines run on the
// hand-made fixture volume in testdata/olist_volume: two batches of a few
// rows with duplicates, updates across batches, rule violations, malformed
// records, a BOM, an embedded newline, and an in-progress .tmp-batch folder
// that must be ignored. Expected silver and gold rows below were computed by
// hand from those files; the comments say how.

var olistVolume = filepath.Join("testdata", "olist_volume")

func olistPipeline(t testing.TB, name string) *Pipeline {
	t.Helper()
	p, err := Load(filepath.Join("..", "..", "examples", "olist", "local_pipelines", name))
	require.NoError(t, err)
	return p
}

func TestOlistMain(t *testing.T) {
	t.Parallel()
	db := pgtest.NewPool(t)
	ctx := context.Background()
	p := olistPipeline(t, "olist_main")

	res, err := Run(ctx, db, p, Options{VolumeDir: olistVolume})
	require.NoError(t, err)

	require.Len(t, res.Files, 16, "8 entities x 2 batches; geolocation, CDC files and .tmp-batch are not this pipeline's")
	require.Equal(t, 0, res.Skipped)
	require.Equal(t, "olist/batch=0000000001/olist_customers_dataset.csv", res.Files[0].Path)
	require.Equal(t, "olist/batch=0000000002/product_category_name_translation.csv", res.Files[15].Path)
	require.Equal(t, map[string]int64{
		"bronze.customers": 6, "bronze.sellers": 3, "bronze.products": 5, "bronze.orders": 7,
		"bronze.order_items": 10, "bronze.order_payments": 7, "bronze.order_reviews": 5,
		"bronze.category_translation": 2,
	}, res.Loaded)
	require.Equal(t, map[string]int64{
		"customers": 1, "sellers": 0, "products": 1, "orders": 1, "order_items": 1,
		"order_payments": 0, "order_reviews": 0, "category_translation": 0,
	}, res.Quarantined)
	require.Len(t, res.Steps, 14)
	require.Equal(t, "silver/customers.sql", res.Steps[0].File)
	require.Equal(t, int64(4), res.Steps[0].RowsAffected, "silver.customers gets 4 rows")
	require.Equal(t, map[string]int64{
		"bronze.customers": 6, "bronze.sellers": 3, "bronze.products": 5, "bronze.orders": 7,
		"bronze.order_items": 10, "bronze.order_payments": 7, "bronze.order_reviews": 5,
		"bronze.category_translation": 2,

		"silver.customers": 4, "silver.sellers": 3, "silver.category_translation": 2,
		"silver.products": 4, "silver.orders": 5, "silver.order_items": 8,
		"silver.order_payments": 6, "silver.order_reviews": 4, "silver.orders_enriched": 5,
		"gold.daily_orders": 4, "gold.monthly_orders": 2, "gold.seller_performance": 3,
		"gold.category_sales": 4, "gold.customer_summary": 3,
	}, res.Tables)

	t.Run("Quarantine", func(t *testing.T) {
		require.Equal(t, []string{
			`customers|olist/batch=0000000002/olist_customers_dataset.csv|4|line 4: expected 5 fields, got 4|"c7","u7","50000",recife`,
			`order_items|olist/batch=0000000002/olist_order_items_dataset.csv|5|line 5: column order_item_id: "x" is not an int (32-bit integer)|"o8",x,"p1","s3",2018-02-07 14:00:00,10.00,2.00`,
			`orders|olist/batch=0000000001/olist_orders_dataset.csv|6|line 6: column order_purchase_timestamp: "2018-02-30 10:00:00" is not a timestamp (YYYY-MM-DD HH:MM:SS)|"o6","c6",delivered,2018-02-30 10:00:00,,,,2018-03-10 00:00:00`,
			`products|olist/batch=0000000001/olist_products_dataset.csv|7|line 7: column product_photos_qty: "abc" is not an int (32-bit integer)|"p6",beleza_saude,10,10,abc,5,1,1,1`,
		}, queryRows(t, db, `SELECT entity, file, line, reason, raw FROM _sluice.quarantine WHERE pipeline = 'olist_main' ORDER BY entity, file, line`))
	})

	t.Run("Bronze", func(t *testing.T) {
		// The review with an embedded newline keeps it, and the record after
		// it starts on physical line 5.
		require.Equal(t, []string{
			"r1|o1|2",
			"r2|o2|3|Chegou atrasado.\nNao recomendo",
			"r5|o4|5",
		}, queryRows(t, db, `SELECT concat_ws('|', review_id, order_id, _source_line, CASE WHEN review_id = 'r2' THEN review_comment_message END)
			FROM bronze.order_reviews WHERE _source_file LIKE '%batch=0000000001%' ORDER BY _source_line`))
		// The BOM is not part of the first column's name or value.
		require.Equal(t, []string{"beleza_saude", "informatica_acessorios"},
			queryRows(t, db, `SELECT product_category_name FROM bronze.category_translation ORDER BY 1`))
		// Zip prefixes keep their leading zeros; numeric keeps its scale.
		require.Equal(t, []string{"01001|50.00"}, queryRows(t, db,
			`SELECT s.seller_zip_code_prefix, i.price FROM bronze.sellers s JOIN bronze.order_items i USING (seller_id)
			 WHERE s.seller_id = 's1' AND i.order_id = 'o1' AND i._source_file LIKE '%batch=0000000001%'`))
	})

	t.Run("Silver", func(t *testing.T) {
		// c2 is updated by batch 2 (latest wins); c3's city and state are
		// trimmed and normalised; c4 has an invalid state; c7 was quarantined.
		require.Equal(t, []string{
			"c1|u1|01001|sao paulo|SP",
			"c2|u2|24000|niteroi|RJ",
			"c3|u1|01002|sao paulo|SP",
			"c6|u6|40000|salvador|BA",
		}, queryRows(t, db, `SELECT * FROM silver.customers ORDER BY 1`))
		require.Equal(t, []string{
			"s1|01001|sao paulo|SP",
			"s2|13000|campinas|SP",
			"s3|80000|curitiba|PR",
		}, queryRows(t, db, `SELECT * FROM silver.sellers ORDER BY 1`))
		require.Equal(t, []string{
			"beleza_saude|health_beauty",
			"informatica_acessorios|computers_accessories",
		}, queryRows(t, db, `SELECT * FROM silver.category_translation ORDER BY 1`))
		// p3's category has no translation; p5 has a negative weight.
		require.Equal(t, []string{
			"p1|beleza_saude|health_beauty|40|300|2|500|20|10|15",
			"p2|informatica_acessorios|computers_accessories|50|800|1|1200|30|10|20",
			"p3|brinquedos|∅|30|200|3|300|10|10|10",
			"p4|∅|∅|∅|∅|∅|∅|∅|∅|∅",
		}, queryRows(t, db, `SELECT * FROM silver.products ORDER BY 1`))
		// o2's " Delivered" is normalised; o3 is delivered in batch 2; o7's
		// status "lost" is unknown.
		require.Equal(t, []string{
			"o1|c1|delivered|2018-01-10 09:00:00|2018-01-10 10:00:00|2018-01-11 12:00:00|2018-01-15 18:00:00|2018-01-20 00:00:00",
			"o2|c2|delivered|2018-01-10 15:30:00|2018-01-10 16:00:00|2018-01-12 08:00:00|2018-01-25 11:00:00|2018-01-22 00:00:00",
			"o3|c3|delivered|2018-01-11 08:00:00|2018-01-11 09:00:00|2018-01-12 10:00:00|2018-01-29 20:00:00|2018-01-30 00:00:00",
			"o4|c4|canceled|2018-02-01 12:00:00|∅|∅|∅|2018-02-20 00:00:00",
			"o8|c6|delivered|2018-02-05 14:00:00|2018-02-05 15:00:00|2018-02-06 10:00:00|2018-02-09 16:00:00|2018-02-25 00:00:00",
		}, queryRows(t, db, `SELECT * FROM silver.orders ORDER BY 1`))
		// o2/2 has a negative price; o1/1 is an exact duplicate in batch 2.
		require.Equal(t, []string{
			"o1|1|p1|s1|2018-01-12 09:00:00|50.00|10.00",
			"o1|2|p2|s2|2018-01-12 09:00:00|100.00|15.50",
			"o2|1|p1|s1|2018-01-12 15:30:00|50.00|12.00",
			"o3|1|p3|s2|2018-01-13 08:00:00|30.00|5.00",
			"o4|1|p2|s2|2018-02-03 12:00:00|100.00|15.00",
			"o7|1|p1|s1|2018-02-04 10:00:00|10.00|1.00",
			"o8|1|p2|s3|2018-02-07 14:00:00|200.00|20.00",
			"o8|2|p4|s3|2018-02-07 14:00:00|10.00|2.00",
		}, queryRows(t, db, `SELECT * FROM silver.order_items ORDER BY 1, 2`))
		// o2/2 pays with an unknown type.
		require.Equal(t, []string{
			"o1|1|credit_card|3|100.00",
			"o1|2|voucher|1|75.50",
			"o2|1|boleto|1|62.00",
			"o3|1|credit_card|2|35.00",
			"o4|1|credit_card|1|115.00",
			"o8|1|debit_card|1|232.00",
		}, queryRows(t, db, `SELECT * FROM silver.order_payments ORDER BY 1, 2`))
		// r5's score 9 is out of range; r4's blank message becomes NULL.
		require.Equal(t, []string{
			"r1|o1|5|∅|Otimo produto, chegou rapido|2018-01-16 00:00:00|2018-01-17 10:00:00",
			"r2|o2|2|Atrasou|Chegou atrasado.\nNao recomendo|2018-01-26 00:00:00|2018-01-27 09:00:00",
			"r3|o3|4|∅|∅|2018-01-30 00:00:00|2018-01-31 00:00:00",
			"r4|o2|3|∅|∅|2018-01-28 00:00:00|2018-01-29 00:00:00",
		}, queryRows(t, db, `SELECT * FROM silver.order_reviews ORDER BY 1, 2`))
		// o2's latest review is r4 (score 3); it was delivered 15 days after
		// purchase, after the estimate. o4's customer c4 is not in silver.
		require.Equal(t, []string{
			"o1|c1|u1|sao paulo|SP|delivered|2|150.00|25.50|175.50|credit_card,voucher|5|5|f",
			"o2|c2|u2|niteroi|RJ|delivered|1|50.00|12.00|62.00|boleto|3|15|t",
			"o3|c3|u1|sao paulo|SP|delivered|1|30.00|5.00|35.00|credit_card|4|18|f",
			"o4|c4|∅|∅|∅|canceled|1|100.00|15.00|115.00|credit_card|∅|∅|∅",
			"o8|c6|u6|salvador|BA|delivered|2|210.00|22.00|232.00|debit_card|∅|4|f",
		}, queryRows(t, db, `SELECT order_id, customer_id, customer_unique_id, customer_city, customer_state, order_status,
			item_count, items_total, freight_total, payment_total, payment_types, review_score, delivery_days, delivered_late
			FROM silver.orders_enriched ORDER BY 1`))
	})

	t.Run("Gold", func(t *testing.T) {
		// 2018-01-10: o1 + o2 (u1, u2): items 2+1, 150+50, 25.50+12, 175.50+62,
		// reviews 5 and 3, o2 late. 2018-02-01: o4 has no known customer.
		require.Equal(t, []string{
			"2018-01-10|2|2|0|2|3|200.00|37.50|237.50|4.00|1",
			"2018-01-11|1|1|0|1|1|30.00|5.00|35.00|4.00|0",
			"2018-02-01|1|0|1|0|1|100.00|15.00|115.00|∅|0",
			"2018-02-05|1|1|0|1|2|210.00|22.00|232.00|∅|0",
		}, queryRows(t, db, `SELECT * FROM gold.daily_orders ORDER BY 1`))
		// January: avg order value 272.50/3 = 90.83, delivery days
		// (5+15+18)/3 = 12.7, 1 late of 3. February: (115+232)/2 = 173.50,
		// only o8 delivered (4 days, on time).
		require.Equal(t, []string{
			"2018-01-01|3|3|0|2|4|230.00|42.50|272.50|90.83|4.00|12.7|0.3333",
			"2018-02-01|2|1|1|1|3|310.00|37.00|347.00|173.50|∅|4.0|0.0000",
		}, queryRows(t, db, `SELECT * FROM gold.monthly_orders ORDER BY 1`))
		// s1 sold in o1 and o2 (o7 is not a silver order); s2 in o1, o3, o4
		// (reviews 5 and 4, o4 has none); s3 two items of o8.
		require.Equal(t, []string{
			"s1|sao paulo|SP|2|2|100.00|22.00|4.00|2|1|2018-01-10 09:00:00|2018-01-10 15:30:00",
			"s2|campinas|SP|3|3|230.00|35.50|4.50|2|0|2018-01-10 09:00:00|2018-02-01 12:00:00",
			"s3|curitiba|PR|1|2|210.00|22.00|∅|1|0|2018-02-05 14:00:00|2018-02-05 14:00:00",
		}, queryRows(t, db, `SELECT * FROM gold.seller_performance ORDER BY 1`))
		// computers_accessories: o1/2, o4/1, o8/1 = 400.00, avg price 133.33,
		// only o1 reviewed (5). p4 has no category: unknown.
		require.Equal(t, []string{
			"brinquedos|1|1|30.00|5.00|30.00|4.00",
			"computers_accessories|3|3|400.00|50.50|133.33|5.00",
			"health_beauty|2|2|100.00|22.00|50.00|4.00",
			"unknown|1|1|10.00|2.00|10.00|∅",
		}, queryRows(t, db, `SELECT * FROM gold.category_sales ORDER BY 1`))
		// u1 ordered as c1 (o1) and c3 (o3): paid 175.50 + 35.00.
		require.Equal(t, []string{
			"u1|sao paulo|SP|2|2018-01-10 09:00:00|2018-01-11 08:00:00|210.50|4.50",
			"u2|niteroi|RJ|1|2018-01-10 15:30:00|2018-01-10 15:30:00|62.00|3.00",
			"u6|salvador|BA|1|2018-02-05 14:00:00|2018-02-05 14:00:00|232.00|∅",
		}, queryRows(t, db, `SELECT * FROM gold.customer_summary ORDER BY 1`))
	})

	t.Run("RerunLoadsNothingAndChangesNothing", func(t *testing.T) {
		before := queryRows(t, db, `SELECT * FROM gold.seller_performance ORDER BY 1`)
		again, err := Run(ctx, db, p, Options{VolumeDir: olistVolume})
		require.NoError(t, err)
		require.Empty(t, again.Files)
		require.Equal(t, 16, again.Skipped)
		require.Equal(t, res.Tables, again.Tables)
		require.Equal(t, before, queryRows(t, db, `SELECT * FROM gold.seller_performance ORDER BY 1`))
	})
}

// cdcEntity describes one CDC entity for the Go replay.
type cdcEntity struct {
	name    string // customers
	columns int    // entity columns before operation, sequence_number, operation_timestamp
}

var cdcEntities = []cdcEntity{{"customers", 5}, {"products", 9}, {"sellers", 4}}

// cdcEvent is one row of a cdc_<entity>.csv file.
type cdcEvent struct {
	values []string // entity columns, "" for NULL
	op     string
	seq    int64
	ts     string
	order  int // ingestion order: file path, then line
}

// replayCDC computes, independently of the SQL, the SCD1 and SCD2 rows the
// olist_cdc pipeline must produce from the fixture files, in the format of
// queryRows: SCD1 rows are the entity columns, sequence_number,
// operation_timestamp; SCD2 rows are the entity columns,
// operation_timestamp, __START_AT, __END_AT.
func replayCDC(t *testing.T, e cdcEntity) (current, history []string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(olistVolume, "olist", "batch=*", "cdc_"+e.name+".csv"))
	require.NoError(t, err)
	require.Len(t, files, 2)
	slices.Sort(files)
	// Valid events: key present, known operation (case and blanks ignored),
	// numeric sequence (others are quarantined at ingestion).
	byKeySeq := map[string]cdcEvent{}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		recs, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
		require.NoError(t, err)
		for _, r := range recs[1:] {
			n++
			key := strings.TrimSpace(r[0])
			op := strings.ToUpper(strings.TrimSpace(r[e.columns]))
			seq, err := strconv.ParseInt(r[e.columns+1], 10, 64)
			if key == "" || err != nil || (op != "INSERT" && op != "UPDATE" && op != "DELETE") {
				continue
			}
			vals := slices.Clone(r[:e.columns])
			vals[0] = key
			// Same key and sequence: the event ingested last wins.
			byKeySeq[fmt.Sprintf("%s\x00%020d", key, seq)] = cdcEvent{values: vals, op: op, seq: seq, ts: r[e.columns+2], order: n}
		}
	}
	keys := make([]string, 0, len(byKeySeq))
	for k := range byKeySeq {
		keys = append(keys, k)
	}
	slices.Sort(keys) // by entity key, then sequence number
	row := func(vals []string, extra ...string) string {
		out := make([]string, 0, len(vals)+len(extra))
		for _, v := range append(slices.Clone(vals), extra...) {
			if v == "" {
				v = "∅"
			}
			out = append(out, v)
		}
		return strings.Join(out, "|")
	}
	// Replay each key's events in sequence order.
	for i := 0; i < len(keys); {
		key := byKeySeq[keys[i]].values[0]
		var events []cdcEvent
		for ; i < len(keys) && byKeySeq[keys[i]].values[0] == key; i++ {
			events = append(events, byKeySeq[keys[i]])
		}
		var open *cdcEvent
		closeAt := func(end string) {
			if open != nil {
				history = append(history, row(open.values, open.ts, strconv.FormatInt(open.seq, 10), end))
				open = nil
			}
		}
		for j := range events {
			ev := events[j]
			closeAt(strconv.FormatInt(ev.seq, 10))
			if ev.op != "DELETE" {
				open = &ev
			}
		}
		if open != nil {
			current = append(current, row(open.values, strconv.FormatInt(open.seq, 10), open.ts))
			closeAt("")
		}
	}
	return current, history
}

func TestOlistCDC(t *testing.T) {
	t.Parallel()
	db := pgtest.NewPool(t)
	ctx := context.Background()
	p := olistPipeline(t, "olist_cdc")

	res, err := Run(ctx, db, p, Options{VolumeDir: olistVolume})
	require.NoError(t, err)
	require.Len(t, res.Files, 6)
	require.Equal(t, map[string]int64{"bronze.cdc_customers": 15, "bronze.cdc_products": 7, "bronze.cdc_sellers": 5}, res.Loaded)
	require.Equal(t, map[string]int64{"cdc_customers": 1, "cdc_products": 0, "cdc_sellers": 0}, res.Quarantined)
	require.Equal(t, []string{
		`cdc_customers|12|line 12: column sequence_number: "x9" is not a bigint (64-bit integer)|c6,u6,70000,brasilia,DF,UPDATE,x9,2018-01-09 11:00:00`,
	}, queryRows(t, db, `SELECT entity, line, reason, raw FROM _sluice.quarantine ORDER BY id`))

	t.Run("Clean", func(t *testing.T) {
		// Dropped: the NULL key (seq 7) and UPSERT (seq 8); "insert" is
		// normalised; the duplicate seq 4 (batch 1) and seq 5 (batch 2) collapse.
		require.Equal(t, []string{
			"c1|1|INSERT", "c1|3|UPDATE", "c1|4|UPDATE", "c1|5|UPDATE",
			"c2|2|INSERT", "c2|6|DELETE", "c2|10|INSERT",
			"c3|2|UPDATE", "c3|4|INSERT", "c3|11|DELETE",
			"c5|9|INSERT",
		}, queryRows(t, db, `SELECT customer_id, sequence_number, operation FROM silver.customers_cdc_clean ORDER BY 1, 2`))
		// p1's seq 3 is an exact duplicate: 4 events in batch 1, 2 in batch 2.
		require.Equal(t, int64(6), queryInt(t, db, `SELECT count(*) FROM silver.products_cdc_clean`))
	})

	for _, e := range cdcEntities {
		t.Run("Replay_"+e.name, func(t *testing.T) {
			wantCurrent, wantHistory := replayCDC(t, e)
			require.Equal(t, wantCurrent, queryRows(t, db, fmt.Sprintf(`SELECT * FROM silver.%s_current ORDER BY 1`, e.name)))
			require.Equal(t, wantHistory, queryRows(t, db, fmt.Sprintf(`SELECT * FROM silver.%s_history ORDER BY 1, "__START_AT"`, e.name)))
		})
	}

	t.Run("HandChecked", func(t *testing.T) {
		// Guards the replay itself: c1's updates arrived out of order across
		// both batches; c2 was deleted then re-inserted; c3 deleted for good.
		require.Equal(t, []string{
			"c1|campinas|5", "c2|niteroi|10", "c5|fortaleza|9",
		}, queryRows(t, db, `SELECT customer_id, customer_city, sequence_number FROM silver.customers_current ORDER BY 1`))
		require.Equal(t, []string{
			"c1|sao paulo|1|3", "c1|santos|3|4", "c1|jundiai|4|5", "c1|campinas|5|∅",
			"c2|rio de janeiro|2|6", "c2|niteroi|10|∅",
			"c3|contagem|2|4", "c3|belo horizonte|4|11",
			"c5|fortaleza|9|∅",
		}, queryRows(t, db, `SELECT customer_id, customer_city, "__START_AT", "__END_AT" FROM silver.customers_history ORDER BY 1, 3`))
		// s1's two different seq-3 events: the later batch wins.
		require.Equal(t, []string{"s1|osasco|3"},
			queryRows(t, db, `SELECT seller_id, seller_city, sequence_number FROM silver.sellers_current`))
		require.Equal(t, []string{"p1|3|550", "p2|6|55", "p3|5|300"},
			queryRows(t, db, `SELECT product_id, sequence_number, coalesce(CASE WHEN product_id = 'p2' THEN product_name_length ELSE product_weight_g END::text, '∅') FROM silver.products_current ORDER BY 1`))
	})

	t.Run("SCD2Invariants", func(t *testing.T) {
		for _, e := range cdcEntities {
			key := map[string]string{"customers": "customer_id", "products": "product_id", "sellers": "seller_id"}[e.name]
			h := "silver." + e.name + "_history"
			require.Zero(t, queryInt(t, db, fmt.Sprintf(`SELECT count(*) FROM (SELECT %s FROM %s WHERE "__END_AT" IS NULL GROUP BY 1 HAVING count(*) > 1) x`, key, h)),
				"%s: more than one open row for a key", h)
			require.Zero(t, queryInt(t, db, fmt.Sprintf(`SELECT count(*) FROM %s WHERE "__END_AT" <= "__START_AT"`, h)),
				"%s: empty or inverted interval", h)
			require.Zero(t, queryInt(t, db, fmt.Sprintf(`SELECT count(*) FROM %[1]s a JOIN %[1]s b ON a.%[2]s = b.%[2]s AND a."__START_AT" < b."__START_AT"
				WHERE a."__END_AT" IS NULL OR a."__END_AT" > b."__START_AT"`, h, key)),
				"%s: overlapping intervals", h)
			// SCD1 is exactly the open SCD2 rows.
			require.Zero(t, queryInt(t, db, fmt.Sprintf(`SELECT count(*) FROM (
				(SELECT %[1]s, "__START_AT" FROM %[2]s WHERE "__END_AT" IS NULL EXCEPT SELECT %[1]s, sequence_number FROM silver.%[3]s_current)
				UNION ALL
				(SELECT %[1]s, sequence_number FROM silver.%[3]s_current EXCEPT SELECT %[1]s, "__START_AT" FROM %[2]s WHERE "__END_AT" IS NULL)) d`, key, h, e.name)),
				"%s: SCD1 and the open SCD2 rows differ", e.name)
		}
	})
}

// The olist_daily seed runs both pipelines at once on a fresh warehouse:
// they share the bronze and silver schemas, which must not race.
func TestOlistPipelinesRunInParallel(t *testing.T) {
	t.Parallel()
	db := pgtest.NewPool(t)
	pipelines := []*Pipeline{olistPipeline(t, "olist_main"), olistPipeline(t, "olist_cdc")}
	results := make([]Result, len(pipelines))
	errs := make([]error, len(pipelines))
	var wg sync.WaitGroup
	for i, p := range pipelines {
		wg.Go(func() { results[i], errs[i] = Run(context.Background(), db, p, Options{VolumeDir: olistVolume}) })
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.Equal(t, int64(4), results[0].Tables["gold.daily_orders"])
	require.Equal(t, int64(3), results[1].Tables["silver.customers_current"])
	require.Equal(t, []string{"olist_cdc|6", "olist_main|16"},
		queryRows(t, db, `SELECT pipeline, count(*) FROM _sluice.ingested_files GROUP BY 1 ORDER BY 1`))
}
