package datagen

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Column kinds of the test-side validator. It is written independently of
// the generator (from schema.json's types, which TestHeadersMatchSchema
// cross-checks), so a generator bug cannot hide behind a shared definition.
const (
	kText  = "text"
	kID    = "id"    // 32 lowercase hex
	kZip   = "zip"   // 5 digits
	kInt   = "int"   // integer
	kMoney = "money" // decimal(10,2) with a dot and 2 places
	kFloat = "float" // double
	kTS    = "ts"    // YYYY-MM-DD HH:MM:SS
	kState = "state" // Brazilian UF
	kOp    = "op"    // CDC operation
)

type testCol struct {
	name     string
	kind     string
	nullable bool
}

type testTable struct {
	table string
	file  string
	cols  []testCol
	cdc   bool
}

func c(name, kind string) testCol  { return testCol{name, kind, false} }
func cn(name, kind string) testCol { return testCol{name, kind, true} }

func testTables() []testTable {
	customers := []testCol{c("customer_id", kID), c("customer_unique_id", kID), c("customer_zip_code_prefix", kZip), c("customer_city", kText), c("customer_state", kState)}
	products := []testCol{c("product_id", kID), cn("product_category_name", kText), cn("product_name_lenght", kInt), cn("product_description_lenght", kInt), cn("product_photos_qty", kInt), cn("product_weight_g", kInt), cn("product_length_cm", kInt), cn("product_height_cm", kInt), cn("product_width_cm", kInt)}
	sellers := []testCol{c("seller_id", kID), c("seller_zip_code_prefix", kZip), c("seller_city", kText), c("seller_state", kState)}
	cdc := func(table string, entity []testCol) testTable {
		cols := []testCol{entity[0]}
		for _, col := range entity[1:] {
			col.nullable = true // DELETE rows leave them empty
			cols = append(cols, col)
		}
		cols = append(cols, c("operation", kOp), c("sequence_number", kInt), c("operation_timestamp", kTS))
		return testTable{table: table, file: table + ".csv", cols: cols, cdc: true}
	}
	return []testTable{
		{TableCustomers, "olist_customers_dataset.csv", customers, false},
		{TableGeolocation, "olist_geolocation_dataset.csv", []testCol{c("geolocation_zip_code_prefix", kZip), c("geolocation_lat", kFloat), c("geolocation_lng", kFloat), c("geolocation_city", kText), c("geolocation_state", kState)}, false},
		{TableOrderItems, "olist_order_items_dataset.csv", []testCol{c("order_id", kID), c("order_item_id", kInt), c("product_id", kID), c("seller_id", kID), c("shipping_limit_date", kTS), c("price", kMoney), c("freight_value", kMoney)}, false},
		{TableOrderPayments, "olist_order_payments_dataset.csv", []testCol{c("order_id", kID), c("payment_sequential", kInt), c("payment_type", kText), c("payment_installments", kInt), c("payment_value", kMoney)}, false},
		{TableOrderReviews, "olist_order_reviews_dataset.csv", []testCol{c("review_id", kID), c("order_id", kID), c("review_score", kInt), cn("review_comment_title", kText), cn("review_comment_message", kText), c("review_creation_date", kTS), c("review_answer_timestamp", kTS)}, false},
		{TableOrders, "olist_orders_dataset.csv", []testCol{c("order_id", kID), c("customer_id", kID), c("order_status", kText), c("order_purchase_timestamp", kTS), cn("order_approved_at", kTS), cn("order_delivered_carrier_date", kTS), cn("order_delivered_customer_date", kTS), c("order_estimated_delivery_date", kTS)}, false},
		{TableProducts, "olist_products_dataset.csv", products, false},
		{TableSellers, "olist_sellers_dataset.csv", sellers, false},
		{TableCategoryTranslation, "product_category_name_translation.csv", []testCol{c("product_category_name", kText), c("product_category_name_english", kText)}, false},
		cdc(TableCDCCustomers, customers),
		cdc(TableCDCProducts, products),
		cdc(TableCDCSellers, sellers),
	}
}

func testTableByName(t *testing.T, table string) testTable {
	t.Helper()
	for _, tt := range testTables() {
		if tt.table == table {
			return tt
		}
	}
	t.Fatalf("no test table %q", table)
	return testTable{}
}

var (
	reID    = regexp.MustCompile(`^[0-9a-f]{32}$`)
	reZip   = regexp.MustCompile(`^[0-9]{5}$`)
	reMoney = regexp.MustCompile(`^[0-9]+\.[0-9]{2}$`)
	reInt   = regexp.MustCompile(`^-?[0-9]+$`)
)

func brazilianStates() map[string]bool {
	m := map[string]bool{}
	for _, s := range []string{"AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA", "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO"} {
		m[s] = true
	}
	return m
}

// validate returns why a record does not fit the table, or nil.
func validate(tt testTable, rec []string) error {
	if len(rec) != len(tt.cols) {
		return fmt.Errorf("%d fields, want %d", len(rec), len(tt.cols))
	}
	states := brazilianStates()
	for i, col := range tt.cols {
		v := rec[i]
		if v == "" {
			if col.nullable {
				continue
			}
			return fmt.Errorf("column %s: empty", col.name)
		}
		ok := true
		switch col.kind {
		case kID:
			ok = reID.MatchString(v)
		case kZip:
			ok = reZip.MatchString(v)
		case kInt:
			_, err := strconv.ParseInt(v, 10, 64)
			ok = err == nil && reInt.MatchString(v)
		case kMoney:
			ok = reMoney.MatchString(v)
		case kFloat:
			_, err := strconv.ParseFloat(v, 64)
			ok = err == nil
		case kTS:
			_, err := time.Parse(time.DateTime, v)
			ok = err == nil
		case kState:
			ok = states[v]
		case kOp:
			ok = v == "INSERT" || v == "UPDATE" || v == "DELETE"
		}
		if !ok {
			return fmt.Errorf("column %s: %q is not a valid %s", col.name, v, col.kind)
		}
	}
	return nil
}

// record is one CSV record with the physical line it starts on.
type record struct {
	line   int64
	fields []string
}

// readCSV parses a whole file with encoding/csv (strict quotes, any field
// count), returning the header and the records.
func readCSV(t *testing.T, path string) (header []string, recs []record) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	for {
		fields, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "%s is not valid CSV", path)
		line, _ := r.FieldPos(0)
		if header == nil {
			header = fields
			continue
		}
		recs = append(recs, record{int64(line), fields})
	}
	return header, recs
}

// generate writes one batch into a fresh volume and returns the volume dir.
func generate(t *testing.T, cfg Config) (string, Result) {
	t.Helper()
	vol := t.TempDir()
	res, err := Generate(context.Background(), vol, cfg, nil)
	require.NoError(t, err)
	return vol, res
}

// validRecords reads a generated file and returns its valid records as maps
// column -> value, after checking that exactly the records at the listed
// malformed lines fail validation.
func validRecords(t *testing.T, vol string, res Result, table string) []map[string]string {
	t.Helper()
	tt := testTableByName(t, table)
	f := fileOf(t, res, table)
	_, recs := readCSV(t, filepath.Join(vol, filepath.FromSlash(f.Path)))
	bad := map[int64]bool{}
	for _, l := range f.MalformedLines {
		bad[l] = true
	}
	var out []map[string]string
	for _, r := range recs {
		err := validate(tt, r.fields)
		if bad[r.line] {
			require.Error(t, err, "%s line %d is listed as malformed but is valid: %q", f.Path, r.line, r.fields)
			continue
		}
		require.NoError(t, err, "%s line %d", f.Path, r.line)
		m := make(map[string]string, len(r.fields))
		for i, col := range tt.cols {
			m[col.name] = r.fields[i]
		}
		out = append(out, m)
	}
	require.Len(t, out, int(f.Rows), "%s: valid records vs File.Rows", f.Path)
	return out
}

func fileOf(t *testing.T, res Result, table string) File {
	t.Helper()
	for _, f := range res.Files {
		if f.Table == table {
			return f
		}
	}
	t.Fatalf("result has no file for table %q", table)
	return File{}
}

// cents parses a money value.
func cents(t *testing.T, s string) int64 {
	t.Helper()
	require.Regexp(t, reMoney, s)
	n, err := strconv.ParseInt(s[:len(s)-3]+s[len(s)-2:], 10, 64)
	require.NoError(t, err)
	return n
}

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.DateTime, s)
	require.NoError(t, err, "timestamp %q", s)
	return v
}

func sharedTestdata(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "testdata")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared test material not found at %s (it sits beside the checkout in CI): %v", dir, err)
	}
	return dir
}
