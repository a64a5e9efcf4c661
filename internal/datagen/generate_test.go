package datagen

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	cfg := Config{Seed: 42, Batch: 20261122, Orders: 2500, MalformedRate: 0.03}

	t.Run("SameConfigSameBytes", func(t *testing.T) {
		t.Parallel()
		volA, resA := generate(t, cfg)
		volB, resB := generate(t, cfg)
		require.Equal(t, resA, resB)
		names := append(fileNames(resA), resA.Dir+"/"+manifestName)
		for _, name := range names {
			a, err := os.ReadFile(filepath.Join(volA, name))
			require.NoError(t, err)
			b, err := os.ReadFile(filepath.Join(volB, name))
			require.NoError(t, err)
			require.True(t, bytes.Equal(a, b), "%s differs between two generations of the same config", name)
		}
	})

	t.Run("OtherBatchOtherIDs", func(t *testing.T) {
		t.Parallel()
		volA, resA := generate(t, cfg)
		other := cfg
		other.Batch = 20261123
		volB, resB := generate(t, other)
		for _, tc := range []struct{ table, col string }{
			{TableOrders, "order_id"}, {TableCustomers, "customer_id"}, {TableCustomers, "customer_unique_id"},
			{TableProducts, "product_id"}, {TableSellers, "seller_id"}, {TableOrderReviews, "review_id"},
		} {
			a := column(validRecords(t, volA, resA, tc.table), tc.col)
			b := column(validRecords(t, volB, resB, tc.table), tc.col)
			require.NotEmpty(t, a)
			for id := range b {
				require.False(t, a[id], "%s.%s %s appears in batches 20261122 and 20261123", tc.table, tc.col, id)
			}
		}
	})

	t.Run("OtherSeedOtherData", func(t *testing.T) {
		t.Parallel()
		volA, resA := generate(t, cfg)
		other := cfg
		other.Seed = 43
		volB, resB := generate(t, other)
		a := column(validRecords(t, volA, resA, TableOrders), "order_id")
		b := column(validRecords(t, volB, resB, TableOrders), "order_id")
		for id := range b {
			require.False(t, a[id], "order_id %s shared by seeds 42 and 43", id)
		}
	})

	t.Run("MalformedRateKeepsValidRecords", func(t *testing.T) {
		t.Parallel()
		clean := cfg
		clean.MalformedRate = 0
		volA, resA := generate(t, clean)
		dirty := cfg
		dirty.MalformedRate = 0.15
		volB, resB := generate(t, dirty)
		for _, f := range resA.Files {
			require.Zero(t, f.Malformed, f.Path)
			a := validRecords(t, volA, resA, f.Table)
			b := validRecords(t, volB, resB, f.Table)
			require.Equal(t, a, b, "%s: valid records change with MalformedRate", f.Path)
		}
		require.Equal(t, resA.Rows, resB.Rows)
	})
}

func fileNames(res Result) []string {
	var out []string
	for _, f := range res.Files {
		out = append(out, f.Path)
	}
	return out
}

func column(recs []map[string]string, col string) map[string]bool {
	out := map[string]bool{}
	for _, r := range recs {
		out[r[col]] = true
	}
	return out
}

// schemaFile is the part of schema.json the tests read.
type schemaFile struct {
	Tables map[string]struct {
		File    string `json:"file"`
		Columns []struct {
			Name     string   `json:"name"`
			Type     string   `json:"type"`
			Nullable bool     `json:"nullable"`
			Enum     []string `json:"enum"`
		} `json:"columns"`
	} `json:"tables"`
}

func loadSchema(t *testing.T) schemaFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedTestdata(t), "olist", "schema.json"))
	require.NoError(t, err)
	var s schemaFile
	require.NoError(t, json.Unmarshal(b, &s))
	require.Len(t, s.Tables, 9)
	return s
}

func TestHeadersMatchSchema(t *testing.T) {
	t.Parallel()
	schema := loadSchema(t)
	vol, res := generate(t, Config{Batch: 7, Orders: 50})
	require.Len(t, res.Files, 12)

	byFile := map[string]testTable{}
	for _, tt := range testTables() {
		byFile[tt.file] = tt
	}
	// The 9 Olist files: header == schema columns, and the test validator's
	// kinds agree with the schema's types.
	kindOf := map[string][]string{
		"string": {kText, kID, kZip, kState}, "string (enum)": {kText},
		"integer": {kInt}, "decimal(10,2)": {kMoney}, "double": {kFloat}, "timestamp": {kTS},
	}
	for name, st := range schema.Tables {
		tt, ok := byFile[st.File]
		require.True(t, ok, "schema table %s (%s) is not generated", name, st.File)
		var want []string
		for i, col := range st.Columns {
			want = append(want, col.Name)
			require.Contains(t, kindOf[col.Type], tt.cols[i].kind, "%s.%s", name, col.Name)
			require.Equal(t, col.Nullable, tt.cols[i].nullable, "%s.%s nullability", name, col.Name)
		}
		raw, err := os.ReadFile(filepath.Join(vol, res.Dir, st.File))
		require.NoError(t, err)
		header, _ := readCSV(t, filepath.Join(vol, res.Dir, st.File))
		require.Equal(t, want, header, st.File)
		require.Equal(t, st.File == "product_category_name_translation.csv", bytes.HasPrefix(raw, []byte("\xEF\xBB\xBF")), "%s: BOM only on the translation file", st.File)
	}
	// CDC files: entity columns then the three CDC columns, no BOM.
	for table, entity := range map[string]string{TableCDCCustomers: "olist_customers_dataset", TableCDCProducts: "olist_products_dataset", TableCDCSellers: "olist_sellers_dataset"} {
		var want []string
		for _, col := range schema.Tables[entity].Columns {
			want = append(want, col.Name)
		}
		want = append(want, "operation", "sequence_number", "operation_timestamp")
		path := filepath.Join(vol, res.Dir, table+".csv")
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		require.False(t, bytes.HasPrefix(raw, []byte("\xEF\xBB\xBF")), table)
		header, _ := readCSV(t, path)
		require.Equal(t, want, header, table)
	}
	// The enums the integrity test checks against are the schema's.
	require.ElementsMatch(t, schema.Tables["olist_orders_dataset"].Columns[2].Enum, orderStatusEnum())
	require.ElementsMatch(t, schema.Tables["olist_order_payments_dataset"].Columns[2].Enum, paymentTypeEnum())
}

func orderStatusEnum() []string {
	return []string{"delivered", "shipped", "canceled", "unavailable", "invoiced", "processing", "created", "approved"}
}

func paymentTypeEnum() []string {
	return []string{"credit_card", "boleto", "voucher", "debit_card", "not_defined"}
}

func TestIntegrity(t *testing.T) {
	t.Parallel()
	const orders = 4000
	vol, res := generate(t, Config{Seed: 11, Batch: 20261122, Orders: orders})

	customers := validRecords(t, vol, res, TableCustomers)
	ordersRecs := validRecords(t, vol, res, TableOrders)
	items := validRecords(t, vol, res, TableOrderItems)
	payments := validRecords(t, vol, res, TableOrderPayments)
	reviews := validRecords(t, vol, res, TableOrderReviews)
	products := validRecords(t, vol, res, TableProducts)
	sellers := validRecords(t, vol, res, TableSellers)
	geo := validRecords(t, vol, res, TableGeolocation)
	translation := validRecords(t, vol, res, TableCategoryTranslation)

	t.Run("Sizes", func(t *testing.T) {
		require.Equal(t, map[string]int64{
			TableCustomers: orders, TableOrders: orders, TableProducts: orders / 3, TableSellers: orders / 30,
			TableCategoryTranslation: 71, TableGeolocation: int64(len(geo)),
			// orders/5 events per entity, plus the duplicated lines
			TableCDCCustomers: orders/5 + fileOf(t, res, TableCDCCustomers).Duplicates,
			TableCDCProducts:  orders/5 + fileOf(t, res, TableCDCProducts).Duplicates,
			TableCDCSellers:   orders/5 + fileOf(t, res, TableCDCSellers).Duplicates,
			TableOrderItems:   int64(len(items)), TableOrderPayments: int64(len(payments)), TableOrderReviews: int64(len(reviews)),
		}, res.Rows)
		perOrder := float64(len(items)) / orders
		require.InDelta(t, 1.14, perOrder, 0.06, "items per order")
		require.InDelta(t, 0.992, float64(len(reviews))/orders, 0.01, "share of orders with a review")
	})

	orderByID := map[string]map[string]string{}
	for _, o := range ordersRecs {
		require.NotContains(t, orderByID, o["order_id"], "duplicate order_id")
		orderByID[o["order_id"]] = o
	}

	t.Run("CustomersOneToOne", func(t *testing.T) {
		byCustomer := map[string]int{}
		for _, o := range ordersRecs {
			byCustomer[o["customer_id"]]++
		}
		require.Len(t, customers, len(byCustomer))
		for _, c := range customers {
			require.Equal(t, 1, byCustomer[c["customer_id"]], "customer %s must have exactly one order", c["customer_id"])
		}
		uniq := column(customers, "customer_unique_id")
		require.Less(t, len(uniq), len(customers), "some customers are repeat buyers")
		require.Greater(t, len(uniq), len(customers)*9/10)
	})

	productIDs, sellerIDs := column(products, "product_id"), column(sellers, "seller_id")
	require.Len(t, productIDs, len(products), "product_id unique")
	require.Len(t, sellerIDs, len(sellers), "seller_id unique")

	itemTotal := map[string]int64{}
	t.Run("Items", func(t *testing.T) {
		next := map[string]int64{}
		for _, it := range items {
			o, ok := orderByID[it["order_id"]]
			require.True(t, ok, "order_items.order_id %s has no order", it["order_id"])
			require.True(t, productIDs[it["product_id"]], "order_items.product_id %s has no product", it["product_id"])
			require.True(t, sellerIDs[it["seller_id"]], "order_items.seller_id %s has no seller", it["seller_id"])
			next[it["order_id"]]++
			require.Equal(t, next[it["order_id"]], mustInt(t, it["order_item_id"]), "order_item_id runs 1..n")
			require.True(t, ts(t, it["shipping_limit_date"]).After(ts(t, o["order_purchase_timestamp"])))
			price := cents(t, it["price"])
			require.GreaterOrEqual(t, price, int64(85))
			itemTotal[it["order_id"]] += price + cents(t, it["freight_value"])
		}
		require.Len(t, next, orders, "every order has items")
	})

	t.Run("PaymentsSumToItems", func(t *testing.T) {
		paid := map[string]int64{}
		next := map[string]int64{}
		types := map[string]int{}
		for _, p := range payments {
			_, ok := orderByID[p["order_id"]]
			require.True(t, ok, "payment for unknown order %s", p["order_id"])
			next[p["order_id"]]++
			require.Equal(t, next[p["order_id"]], mustInt(t, p["payment_sequential"]))
			require.Contains(t, paymentTypeEnum(), p["payment_type"])
			inst := mustInt(t, p["payment_installments"])
			require.True(t, inst >= 1 && inst <= 24, "installments %d", inst)
			if p["payment_type"] != "credit_card" {
				require.Equal(t, int64(1), inst, "only credit cards pay in installments")
			}
			types[p["payment_type"]]++
			paid[p["order_id"]] += cents(t, p["payment_value"])
		}
		require.Equal(t, itemTotal, paid, "payments of each order sum exactly to price + freight of its items")
		for _, typ := range []string{"credit_card", "boleto", "voucher", "debit_card"} {
			require.Positive(t, types[typ], typ)
		}
		require.Greater(t, types["credit_card"], types["boleto"])
		require.Greater(t, types["boleto"], types["debit_card"])
	})

	t.Run("Timeline", func(t *testing.T) {
		day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
		statuses := map[string]int{}
		for _, o := range ordersRecs {
			st := o["order_status"]
			require.Contains(t, orderStatusEnum(), st)
			statuses[st]++
			purchase := ts(t, o["order_purchase_timestamp"])
			require.False(t, purchase.Before(day), "purchase %s before the batch day", purchase)
			require.True(t, purchase.Before(day.Add(24*time.Hour)), "purchase %s after the batch day", purchase)
			require.True(t, strings.HasSuffix(o["order_estimated_delivery_date"], " 00:00:00"))
			require.True(t, ts(t, o["order_estimated_delivery_date"]).After(purchase))

			prev := purchase
			seenEmpty := false
			for _, col := range []string{"order_approved_at", "order_delivered_carrier_date", "order_delivered_customer_date"} {
				if o[col] == "" {
					seenEmpty = true
					continue
				}
				require.False(t, seenEmpty, "order %s: %s set after an empty earlier step", o["order_id"], col)
				v := ts(t, o[col])
				require.False(t, v.Before(prev), "order %s: %s %s before the previous step %s", o["order_id"], col, v, prev)
				prev = v
			}
			switch st {
			case "delivered":
				require.NotEmpty(t, o["order_delivered_customer_date"], o["order_id"])
			case "shipped":
				require.NotEmpty(t, o["order_delivered_carrier_date"], o["order_id"])
				require.Empty(t, o["order_delivered_customer_date"], o["order_id"])
			default:
				require.Empty(t, o["order_delivered_carrier_date"], "%s order %s", st, o["order_id"])
				require.Empty(t, o["order_delivered_customer_date"], "%s order %s", st, o["order_id"])
			}
			if st == "created" {
				require.Empty(t, o["order_approved_at"])
			}
		}
		share := float64(statuses["delivered"]) / orders
		require.InDelta(t, 0.97, share, 0.015, "delivered share")
	})

	t.Run("Reviews", func(t *testing.T) {
		perOrder := map[string]int{}
		scores := map[string]int{}
		newlines, quotes := 0, 0
		for _, r := range reviews {
			o, ok := orderByID[r["order_id"]]
			require.True(t, ok, "review for unknown order %s", r["order_id"])
			perOrder[r["order_id"]]++
			require.Equal(t, 1, perOrder[r["order_id"]], "one review per order")
			scores[r["review_score"]]++
			created := ts(t, r["review_creation_date"])
			require.True(t, strings.HasSuffix(r["review_creation_date"], " 00:00:00"))
			require.True(t, created.After(ts(t, o["order_purchase_timestamp"])))
			if d := o["order_delivered_customer_date"]; d != "" {
				require.True(t, created.After(ts(t, d)), "review %s created %s, not after delivery %s", r["review_id"], created, d)
			}
			require.True(t, ts(t, r["review_answer_timestamp"]).After(created))
			if strings.Contains(r["review_comment_message"], "\n") {
				newlines++
			}
			if strings.Contains(r["review_comment_message"], `"`) {
				quotes++
			}
		}
		require.ElementsMatch(t, []string{"1", "2", "3", "4", "5"}, keys(scores))
		for _, s := range []string{"1", "2", "3", "4"} {
			require.Greater(t, scores["5"], scores[s], "score 5 is the most common")
		}
		require.Positive(t, newlines, "some review messages span lines")
		require.Positive(t, quotes, "some review messages hold double quotes")
		reviewIDs := column(reviews, "review_id")
		require.Less(t, len(reviewIDs), len(reviews), "review_id is not unique, as in the original")
	})

	t.Run("ProductsAndCategories", func(t *testing.T) {
		translated := map[string]bool{}
		for _, r := range translation {
			require.False(t, translated[r["product_category_name"]], "duplicate translation %s", r["product_category_name"])
			translated[r["product_category_name"]] = true
			require.Regexp(t, `^[a-z0-9_]+$`, r["product_category_name_english"])
		}
		require.Len(t, translated, 71)
		untranslated := map[string]int{}
		nulls := 0
		for _, p := range products {
			cat := p["product_category_name"]
			switch {
			case cat == "":
				nulls++
				require.Empty(t, p["product_name_lenght"], "no category, no name length (as in the original)")
			case !translated[cat]:
				untranslated[cat]++
			}
		}
		require.Positive(t, nulls)
		require.ElementsMatch(t, []string{"pc_gamer", "portateis_cozinha_e_preparadores_de_alimentos"}, keys(untranslated))
	})

	t.Run("Geography", func(t *testing.T) {
		geoZips := column(geo, "geolocation_zip_code_prefix")
		for _, c := range customers {
			require.True(t, geoZips[c["customer_zip_code_prefix"]], "customer zip %s missing from geolocation", c["customer_zip_code_prefix"])
		}
		for _, s := range sellers {
			require.True(t, geoZips[s["seller_zip_code_prefix"]], "seller zip %s missing from geolocation", s["seller_zip_code_prefix"])
		}
		perZip := float64(len(geo)) / float64(len(geoZips))
		require.True(t, perZip > 2 && perZip < 4, "geolocation rows per zip prefix: %v", perZip)
		for _, g := range geo {
			lat, lng := mustFloat(t, g["geolocation_lat"]), mustFloat(t, g["geolocation_lng"])
			require.True(t, lat > -34 && lat < 6 && lng > -74 && lng < -34, "point %v,%v outside Brazil", lat, lng)
		}
		sp := 0
		for _, c := range customers {
			if c["customer_state"] == "SP" {
				sp++
			}
		}
		require.InDelta(t, 0.42, float64(sp)/orders, 0.08, "share of customers in SP")
	})

	t.Run("ZipsAreQuoted", func(t *testing.T) {
		for table, field := range map[string]int{TableCustomers: 2, TableSellers: 1, TableGeolocation: 0} {
			raw, err := os.ReadFile(filepath.Join(vol, filepath.FromSlash(fileOf(t, res, table).Path)))
			require.NoError(t, err)
			lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")[1:]
			for _, l := range lines {
				require.Regexp(t, `^"[0-9]{5}"$`, strings.Split(l, ",")[field], "%s: %s", table, l)
			}
		}
	})
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	require.Regexp(t, reInt, s)
	for _, c := range strings.TrimPrefix(s, "-") {
		n = n*10 + int64(c-'0')
	}
	if strings.HasPrefix(s, "-") {
		n = -n
	}
	return n
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	var v float64
	require.NoError(t, json.Unmarshal([]byte(s), &v), s)
	return v
}

func TestPurchaseWindow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		batch    int64
		from, to time.Time
	}{
		{"Day", 20261122, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)},
		{"Hour", 2026112206, time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)},
		{"LeapDay", 20280229, time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"SmallNumber", 3, time.Date(2016, 10, 3, 0, 0, 0, 0, time.UTC), time.Date(2016, 10, 4, 0, 0, 0, 0, time.UTC)},
		{"NotADate", 20261399, time.Date(2016, 10, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int((20261399-1)%700)), time.Date(2016, 10, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int((20261399-1)%700)+1)},
		{"NotAnHour", 2026112224, time.Date(2016, 10, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int((2026112224-1)%700)), time.Date(2016, 10, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int((2026112224-1)%700)+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vol, res := generate(t, Config{Batch: tc.batch, Orders: 300})
			for _, o := range validRecords(t, vol, res, TableOrders) {
				p := ts(t, o["order_purchase_timestamp"])
				require.False(t, p.Before(tc.from), "purchase %s before %s", p, tc.from)
				require.True(t, p.Before(tc.to), "purchase %s not before %s", p, tc.to)
			}
		})
	}
}

func TestAppendTSMatchesTime(t *testing.T) {
	t.Parallel()
	r := newRNG()
	r.reseed(1, 2)
	from := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	to := time.Date(2999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	for range 20_000 {
		sec := from + r.Int64N(to-from)
		require.Equal(t, time.Unix(sec, 0).UTC().Format(time.DateTime), string(appendTS(nil, sec)))
		y, m, d := civil(sec / day)
		require.Equal(t, sec/day, daysFromCivil(y, m, d))
	}
	require.Empty(t, appendTS(nil, 0), "0 is NULL")
}
