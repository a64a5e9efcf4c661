package datagen

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Short table names: the keys of Result.Rows, Result.Malformed and Totals.
const (
	TableCustomers           = "customers"
	TableGeolocation         = "geolocation"
	TableOrders              = "orders"
	TableOrderItems          = "order_items"
	TableOrderPayments       = "order_payments"
	TableOrderReviews        = "order_reviews"
	TableProducts            = "products"
	TableSellers             = "sellers"
	TableCategoryTranslation = "category_translation"
	TableCDCCustomers        = "cdc_customers"
	TableCDCProducts         = "cdc_products"
	TableCDCSellers          = "cdc_sellers"
)

// tableSpec describes one output file.
type tableSpec struct {
	table   string
	file    string
	columns []string
	numeric []int // columns a malformed record may carry a non-numeric value in
	times   []int // columns a malformed record may carry a bad timestamp in
	bom     bool  // UTF-8 BOM before the header (translation file only)
	quoted  bool  // header cells in double quotes, as most original files have
}

// tableSpecs lists every file of a batch, sorted by file name (the order of
// Result.Files).
func tableSpecs() []tableSpec {
	customerColumns := []string{"customer_id", "customer_unique_id", "customer_zip_code_prefix", "customer_city", "customer_state"}
	productColumns := []string{"product_id", "product_category_name", "product_name_lenght", "product_description_lenght", "product_photos_qty", "product_weight_g", "product_length_cm", "product_height_cm", "product_width_cm"}
	sellerColumns := []string{"seller_id", "seller_zip_code_prefix", "seller_city", "seller_state"}
	cdcColumns := []string{"operation", "sequence_number", "operation_timestamp"}
	cdc := func(table string, entity []string, numeric []int) tableSpec {
		cols := append(append([]string{}, entity...), cdcColumns...)
		return tableSpec{
			table: table, file: table + ".csv", columns: cols, quoted: true,
			numeric: append(append([]int{}, numeric...), len(entity)+1),
			times:   []int{len(entity) + 2},
		}
	}
	return []tableSpec{
		cdc(TableCDCCustomers, customerColumns, nil),
		cdc(TableCDCProducts, productColumns, []int{2, 3, 4, 5, 6, 7, 8}),
		cdc(TableCDCSellers, sellerColumns, nil),
		{table: TableCustomers, file: "olist_customers_dataset.csv", columns: customerColumns, quoted: true},
		{table: TableGeolocation, file: "olist_geolocation_dataset.csv", quoted: true,
			columns: []string{"geolocation_zip_code_prefix", "geolocation_lat", "geolocation_lng", "geolocation_city", "geolocation_state"},
			numeric: []int{1, 2}},
		{table: TableOrderItems, file: "olist_order_items_dataset.csv", quoted: true,
			columns: []string{"order_id", "order_item_id", "product_id", "seller_id", "shipping_limit_date", "price", "freight_value"},
			numeric: []int{1, 5, 6}, times: []int{4}},
		{table: TableOrderPayments, file: "olist_order_payments_dataset.csv", quoted: true,
			columns: []string{"order_id", "payment_sequential", "payment_type", "payment_installments", "payment_value"},
			numeric: []int{1, 3, 4}},
		{table: TableOrderReviews, file: "olist_order_reviews_dataset.csv", quoted: true,
			columns: []string{"review_id", "order_id", "review_score", "review_comment_title", "review_comment_message", "review_creation_date", "review_answer_timestamp"},
			numeric: []int{2}, times: []int{5, 6}},
		{table: TableOrders, file: "olist_orders_dataset.csv", quoted: true,
			columns: []string{"order_id", "customer_id", "order_status", "order_purchase_timestamp", "order_approved_at", "order_delivered_carrier_date", "order_delivered_customer_date", "order_estimated_delivery_date"},
			times:   []int{3, 4, 5, 6, 7}},
		{table: TableProducts, file: "olist_products_dataset.csv", columns: productColumns, quoted: true,
			numeric: []int{2, 3, 4, 5, 6, 7, 8}},
		{table: TableSellers, file: "olist_sellers_dataset.csv", columns: sellerColumns, quoted: true},
		{table: TableCategoryTranslation, file: "product_category_name_translation.csv", bom: true,
			columns: []string{"product_category_name", "product_category_name_english"}},
	}
}

func (s *tableSpec) header() []byte {
	var b []byte
	if s.bom {
		b = append(b, 0xEF, 0xBB, 0xBF)
	}
	for i, c := range s.columns {
		if i > 0 {
			b = append(b, ',')
		}
		if s.quoted {
			b = strconv.AppendQuote(b, c) // names are plain ASCII: same as CSV quoting
		} else {
			b = append(b, c...)
		}
	}
	return append(b, '\n')
}

// part is an in-memory run of records for one file, with its own line
// accounting so it can be produced concurrently and appended in order.
type part struct {
	b        []byte
	rows     int64   // valid records
	dups     int64   // valid records that exactly duplicate the previous line (CDC)
	lines    int64   // physical lines in b
	malLines []int64 // 0-based physical line offsets of malformed records in b
	force    bool    // inject a malformed record before the next valid one
	tmp      []byte
}

func (p *part) reset() {
	p.b = p.b[:0]
	p.rows, p.dups, p.lines = 0, 0, 0
	p.malLines = p.malLines[:0]
	p.force = false
}

// commit accounts for the valid record p.b[start:] (which spans 1+nl physical
// lines) and, when m decides so for this record key, inserts a malformed
// record in front of it.
func (p *part) commit(start int, nl int64, key uint64, m *malformer) {
	p.rows++
	if m.thr != 0 && (p.force || at(m.key, key) < m.thr) {
		p.force = false
		p.tmp = append(p.tmp[:0], p.b[start:]...)
		p.b = m.mutate(p.b[:start], p.tmp, key)
		p.malLines = append(p.malLines, p.lines)
		p.lines += int64(bytes.Count(p.b[start:], []byte{'\n'}))
		p.b = append(p.b, p.tmp...)
	}
	p.lines += 1 + nl
}

// Malformed record kinds.
const (
	malFieldCount = iota // one field missing, or one extra (trailing comma)
	malNumeric           // non-numeric text in a numeric column
	malTimestamp         // unparseable timestamp in a timestamp column
)

// malformer turns a valid record into a malformed but syntactically valid CSV
// record. It is read-only and shared by all goroutines.
type malformer struct {
	thr     uint64 // probability threshold; 0 disables injection
	key     uint64 // decision stream
	numeric []int
	times   []int
	kinds   []int
}

func newMalformer(spec *tableSpec, rate float64, seed, batch int64) *malformer {
	m := &malformer{
		thr: threshold(rate), key: streamKey(seed, batch, "malformed/"+spec.table),
		numeric: spec.numeric, times: spec.times, kinds: []int{malFieldCount},
	}
	if spec.table == TableCategoryTranslation {
		m.thr = 0
	}
	if len(m.numeric) > 0 {
		m.kinds = append(m.kinds, malNumeric)
	}
	if len(m.times) > 0 {
		m.kinds = append(m.kinds, malTimestamp)
	}
	return m
}

// mutate appends to dst a malformed variant of rec (one full record ending
// in '\n'). The last field of every Sluice table holds no comma or quote, so
// dropping it is a plain cut at the last comma.
func (m *malformer) mutate(dst, rec []byte, key uint64) []byte {
	// Values that fail integer, decimal and timestamp parsing everywhere (Go,
	// Postgres); values holding a comma are quoted so the record stays valid CSV.
	badNumbers := [...]string{`"12,3x"`, "abc", "1.2.3", "--5", `"R$ 49,90"`, "sete"}
	badTimestamps := [...]string{"2026-13-45 99:00:00", "0000-00-00 00:00:00", "N/A", "31/02/2026 25:61:00"}
	h := mix64(at(m.key, key) ^ golden)
	switch m.kinds[h%uint64(len(m.kinds))] {
	case malNumeric:
		s, e := fieldBounds(rec, m.numeric[(h>>16)%uint64(len(m.numeric))])
		dst = append(dst, rec[:s]...)
		dst = append(dst, badNumbers[(h>>32)%uint64(len(badNumbers))]...)
		return append(dst, rec[e:]...)
	case malTimestamp:
		s, e := fieldBounds(rec, m.times[(h>>16)%uint64(len(m.times))])
		dst = append(dst, rec[:s]...)
		dst = append(dst, badTimestamps[(h>>32)%uint64(len(badTimestamps))]...)
		return append(dst, rec[e:]...)
	default:
		if (h>>8)&1 == 0 {
			dst = append(dst, rec[:bytes.LastIndexByte(rec, ',')]...)
			return append(dst, '\n')
		}
		dst = append(dst, rec[:len(rec)-1]...)
		return append(dst, ",\n"...)
	}
}

// fieldBounds returns the byte range of field idx of one CSV record.
func fieldBounds(rec []byte, idx int) (start, end int) {
	n, inQuote := 0, false
	for i, c := range rec {
		switch {
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == ',' || c == '\n'):
			if n == idx {
				return start, i
			}
			n++
			start = i + 1
		}
	}
	return start, len(rec)
}

// csvFile is one output file being written inside the temp batch dir.
type csvFile struct {
	f    *os.File
	w    *bufio.Writer
	info File
	line int64 // physical line the next record starts on (1-based)
}

const writeBuffer = 1 << 20

func createCSV(dir, relDir string, spec *tableSpec) (*csvFile, error) {
	path := filepath.Join(dir, spec.file)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	c := &csvFile{f: f, w: bufio.NewWriterSize(f, writeBuffer), line: 2,
		info: File{Path: relDir + "/" + spec.file, Table: spec.table}}
	h := spec.header()
	if _, err := c.w.Write(h); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing header of %s: %w", path, err)
	}
	c.info.Bytes = int64(len(h))
	return c, nil
}

// write appends a part, translating its relative malformed line offsets.
func (c *csvFile) write(p *part) error {
	for _, rel := range p.malLines {
		c.info.MalformedLines = append(c.info.MalformedLines, c.line+rel)
	}
	c.info.Rows += p.rows
	c.info.Malformed += int64(len(p.malLines))
	c.info.Duplicates += p.dups
	c.info.Bytes += int64(len(p.b))
	c.line += p.lines
	if _, err := c.w.Write(p.b); err != nil {
		return fmt.Errorf("writing %s: %w", c.f.Name(), err)
	}
	return nil
}

// finish flushes, fsyncs and closes the file.
func (c *csvFile) finish() error {
	if err := c.w.Flush(); err != nil {
		c.f.Close()
		return fmt.Errorf("writing %s: %w", c.f.Name(), err)
	}
	if err := c.f.Sync(); err != nil {
		c.f.Close()
		return fmt.Errorf("syncing %s: %w", c.f.Name(), err)
	}
	if err := c.f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", c.f.Name(), err)
	}
	return nil
}

// Field encoders. Records are built by appending fields to a byte slice; the
// caller writes the commas.

// appendZip writes a 5-digit zero-padded zip prefix in quotes, as the
// original files do (loaders that parse it as a number lose the zero).
func appendZip(b []byte, zip int32) []byte {
	return append(b, '"', byte('0'+zip/10000), byte('0'+zip/1000%10), byte('0'+zip/100%10), byte('0'+zip/10%10), byte('0'+zip%10), '"')
}

// appendMoney writes cents as a decimal with two places ("58.90").
func appendMoney(b []byte, cents int64) []byte {
	b = strconv.AppendInt(b, cents/100, 10)
	c := cents % 100
	return append(b, '.', byte('0'+c/10), byte('0'+c%10))
}

// appendText writes s, quoted only when it holds a comma, quote or newline
// (RFC 4180); empty means NULL, so an empty s writes nothing.
func appendText[T string | []byte](b []byte, s T) []byte {
	needs := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ',' || c == '"' || c == '\n' || c == '\r' {
			needs = true
			break
		}
	}
	if !needs {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// appendOptInt writes v, or nothing (NULL) when v < 0.
func appendOptInt(b []byte, v int64) []byte {
	if v < 0 {
		return b
	}
	return strconv.AppendInt(b, v, 10)
}

const day = 86400

// appendTS writes Unix seconds t (>= 0) as "YYYY-MM-DD HH:MM:SS"; 0 means NULL.
func appendTS(b []byte, t int64) []byte {
	if t == 0 {
		return b
	}
	y, m, d := civil(t / day)
	s := t % day
	hh, mm, ss := s/3600, s/60%60, s%60
	return append(b,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10), ' ',
		byte('0'+hh/10), byte('0'+hh%10), ':', byte('0'+mm/10), byte('0'+mm%10), ':',
		byte('0'+ss/10), byte('0'+ss%10))
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's algorithm; days >= 0 here).
func civil(days int64) (y, m, d int64) {
	zd := days + 719468
	era := zd / 146097
	doe := zd - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// daysFromCivil is the inverse of civil.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := m - 3
	if m <= 2 {
		mp = m + 9
	}
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
