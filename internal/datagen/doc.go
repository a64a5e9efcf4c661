// Package datagen generates the synthetic Olist dataset: the nine CSV files of
// the public "Brazilian E-Commerce Public Dataset by Olist" plus CDC event
// files, one batch at a time, into a volume folder that the local lakehouse
// engine ingests. No row of the real dataset is used or shipped: values are
// drawn from distributions shaped like it (see the schema in
// ../shared/testdata/olist/schema.json). The vocabulary (Brazilian cities and
// zip ranges, the 71 product category names with their English translations
// and the two categories lacking one, Portuguese review phrases written for
// Sluice) is in refdata.go.
//
// # Volume layout
//
// A batch is one directory, committed atomically:
//
//	<volume>/<dataset>/batch=<Batch as %010d>/
//	    _manifest.json                         Result minus Totals/AlreadyWritten, plus Config
//	    cdc_customers.csv  cdc_products.csv  cdc_sellers.csv
//	    olist_customers_dataset.csv            olist_geolocation_dataset.csv
//	    olist_order_items_dataset.csv          olist_order_payments_dataset.csv
//	    olist_order_reviews_dataset.csv        olist_orders_dataset.csv
//	    olist_products_dataset.csv             olist_sellers_dataset.csv
//	    product_category_name_translation.csv
//
// Generate writes into <volume>/<dataset>/.tmp-batch=<%010d>-<random>/, fsyncs
// every file and the directory, then renames it to batch=<%010d> and fsyncs
// the dataset dir: a reader never sees half a batch. Writers of one batch
// serialize on an flock of <dataset>/.batch=<%010d>.lock; whoever comes second
// (a retry, a concurrent worker) finds the batch committed, writes nothing and
// returns its manifest with AlreadyWritten. Temp dirs of the same batch left
// by a crash are removed first; a cancelled ctx removes the temp dir. Readers
// glob e.g. olist/batch=*/olist_orders_dataset.csv and ignore dot-entries.
//
// # CSV dialect
//
//   - UTF-8, comma separated, records end with LF, a header row with the
//     column names in schema order (including the original's misspelled
//     product_name_lenght and product_description_lenght).
//   - RFC 4180 quoting, optional per field as in the original files: header
//     cells, ids and zip prefixes are always double-quoted; other fields only
//     when they hold a comma, a double quote (doubled) or a newline.
//     product_category_name_translation.csv has an unquoted header preceded by
//     a UTF-8 BOM; no other file has a BOM.
//   - NULL is an empty unquoted field. Ids are 32 lowercase hex digits. Zip
//     prefixes are 5 digits, zero-padded. Timestamps are YYYY-MM-DD HH:MM:SS
//     (no zone); dates-only columns (estimated delivery, review creation) are
//     at 00:00:00. Money has a dot and 2 decimals (58.90); latitude/longitude
//     are shortest round-trip floats.
//   - review_comment_message sometimes spans two lines: an embedded LF inside
//     a quoted field. Record start lines therefore differ from record numbers.
//
// # Content
//
// Per batch: Orders orders, one customer per order (customer_unique_id repeats
// for ~3% repeat buyers), 1..12 items per order (~90% one item), products ~
// Orders/3 (at least 10), sellers ~ Orders/30 (at least 5), reviews for ~99%
// of orders (review_id occasionally shared by two orders, as in the original),
// geolocation 1..5 points for every zip prefix used by the batch's customers
// and sellers (CDC ones included). Statuses are ~97% delivered; timestamps
// are ordered purchase <= approved <= delivered_carrier <= delivered_customer,
// statuses before delivery leave the later ones empty, and a review is
// created on a day after delivery. Payments of an order sum exactly to the sum
// of its items' price + freight_value (credit_card with 1..24 installments,
// boleto, debit_card, voucher splits; a rare 0.00 not_defined row on canceled
// orders). Product categories come from the 71 translated names; every batch
// also has products in pc_gamer and
// portateis_cozinha_e_preparadores_de_alimentos (no translation row) and
// products with a NULL category. Purchases fall within the batch's day when
// Batch reads as yyyymmdd, within its hour for yyyymmddhh (years 2000-2999),
// else on day (Batch-1)%700 after 2016-10-01.
//
// Ids derive from (Seed, Batch, index) through a keyed bijection, so they are
// unique across batches of a seed and identical between runs. Rows of a batch
// reference only rows of the same batch (every batch is self-contained).
//
// # CDC semantics
//
// cdc_<entity>.csv has the entity's columns in schema order, then operation
// (INSERT, UPDATE or DELETE), sequence_number (int64) and operation_timestamp.
// Keys come from a key space that depends on Seed only (key i is the same id
// in every batch; the space holds max(100, Orders/2) keys), so later batches
// update and delete keys first seen in earlier ones. Each batch holds
// max(20, Orders/5) events per entity. INSERT and UPDATE rows carry the full
// row image; an UPDATE changes some attributes (customers and sellers move:
// zip, city and state; products change category, measurements or photos);
// DELETE rows carry the key and leave the other columns empty. Event i of a
// batch has sequence_number = Batch*10_000_000 + i, so sequence numbers
// increase in generation order and across batches in batch-number order;
// operation_timestamp increases with it within the batch's window.
//
// The files are deliberately untidy: ~3% of events appear out of order (a
// neighbour pair swapped) and ~2% of event lines are written twice
// (File.Duplicates counts the repeats). An event may UPDATE a key never
// inserted or INSERT a key that exists from an earlier batch. Consumers must
// resolve by sequence_number: the final state of a key is the event with the
// highest sequence_number; if that event is a DELETE the key is absent, else
// its row image is the current state. Exact duplicate lines carry the same
// sequence_number and are dropped.
//
// # Malformed records
//
// With MalformedRate > 0, every data file except the translation file gets
// EXTRA records: before each valid record with probability MalformedRate, and
// always before the first one. The valid records are unchanged (the same
// bytes as with rate 0, only interleaved). A malformed record is a corrupted
// copy of the valid record that follows it and is always syntactically valid
// CSV, so a reader stays in sync. Kinds:
//
//   - wrong field count: the last field dropped, or an extra empty field
//     (trailing comma);
//   - non-numeric text in a numeric column ("12,3x", abc, 1.2.3, --5,
//     "R$ 49,90", sete), in tables that have numeric columns;
//   - unparseable timestamp (2026-13-45 99:00:00, 0000-00-00 00:00:00, N/A,
//     31/02/2026 25:61:00), in tables that have timestamp columns.
//
// customers and sellers have neither numeric nor timestamp columns (zip
// prefixes are text), so they only get the field-count kind. File.MalformedLines
// lists the 1-based physical line where each malformed record starts (the
// header is line 1), counting embedded newlines.
//
// # Determinism and scale
//
// The same Config gives byte-identical files, on any machine: every record
// re-seeds a math/rand/v2 PCG from a hash of (seed, batch, stream, index),
// distributions use integer arithmetic, and no clock or map order reaches the
// output. Orders are generated in parallel chunks and written in order;
// memory stays in the tens of megabytes at any size (product and seller ids
// derive from their index, so items need no tables). Progress is reported
// about every 50,000 orders.
package datagen
