// Package lakehouse is Sluice's local stand-in for a Databricks Lakeflow
// Declarative Pipeline (DLT) update: with `engine: local`, a `dlt_pipeline`
// task runs a local pipeline folder on Postgres. An update ingests the new
// files of a volume folder into bronze tables, Auto Loader style (every file
// exactly once), then runs ordered SQL steps that build silver and gold.
//
// It is a plain library: Load parses a folder, Run performs one update.
//
//	p, err := lakehouse.Load("examples/olist/local_pipelines/olist_main")
//	res, err := lakehouse.Run(ctx, pool, p, lakehouse.Options{VolumeDir: ".data/volumes"})
//
// # pipeline.yaml
//
// A pipeline folder holds pipeline.yaml and the SQL files it names:
//
//	name: olist_main                  # required; letters, digits, _ - .
//	ingest:                           # optional list; Auto Loader sources
//	  - entity: orders                # required, unique, lowercase identifier
//	    source: olist/batch=*/olist_orders_dataset.csv  # required glob, relative to the volume, '/'-separated
//	    table: bronze.orders          # required schema.table, lowercase, one entity per table
//	    format: csv                   # optional; csv is the only format
//	    columns:                      # required, in file order; the header must match exactly
//	      - {name: order_id, type: text, not_null: true}
//	      - {name: order_purchase_timestamp, type: timestamp}
//	steps:                            # optional list of .sql files relative to the folder
//	  - silver/orders.sql
//	  - gold/daily_orders.sql
//
// Column types: text, int (32-bit), bigint, numeric, double, timestamp
// (YYYY-MM-DD[ HH:MM:SS[.ffffff]], no zone), date (YYYY-MM-DD), bool
// (true/false, t/f, yes/no, y/n, on/off, 1/0). An empty field is NULL.
// not_null (default false) quarantines records with an empty value in that
// column. Unknown fields, unknown types, duplicate entities or tables,
// reserved column names (_source_file, _source_line, _ingested_at) and
// missing step files are errors naming pipeline.yaml:line:column and the fix.
//
// # Ingestion
//
// Each ingest source's glob is matched under Options.VolumeDir; paths with a
// component starting with '.' (such as an in-progress .tmp-batch=... folder)
// are ignored, and a missing volume folder simply has no files. New files
// load in path order (so batch=0000000001 before batch=0000000002), each in
// ONE transaction that:
//
//  1. takes a transaction-level advisory lock on the pipeline and checks
//     _sluice.ingested_files, so a concurrent run that got there first makes
//     this one skip the file;
//  2. streams the file through COPY into the bronze table: the CSV is parsed
//     in Go (RFC 4180, optional quotes, quoted newlines, a UTF-8 BOM is
//     skipped), every value is validated against its declared type and
//     sent in binary COPY format, so Postgres parses nothing; the file is
//     never held in memory;
//  3. copies malformed records into _sluice.quarantine (pipeline, entity,
//     file, line, reason, raw, ingested_at): raw is the record's exact text
//     (up to 1 MiB), line its first physical line, reason the first failure, e.g.
//     `line 42: column price: "12,3x" is not numeric`;
//  4. inserts the checkpoint row (pipeline, entity, file, size, rows,
//     malformed, loaded_at; primary key (pipeline, entity, file)) and commits.
//
// A retry, a concurrent run or a crash therefore never loads a file twice or
// half a file: either all of steps 2-4 commit or none does. Files are
// identified by their path relative to the volume; a file that changes after
// it was loaded is not reloaded (as Auto Loader without allowOverwrites).
//
// Bronze tables are created if missing (and their schemas) with the
// declared columns, no constraints, plus _source_file text (path relative to
// the volume), _source_line bigint (the record's first physical line) and
// _ingested_at timestamptz (start time of the file's transaction, the same
// for all its rows). A bronze table
// that exists with other columns is an error: migrate or drop it. A header
// that does not match the declared columns fails the run with an error
// naming the file (the file is not quarantined, since no record of it can be
// trusted); files committed before it stay committed.
//
// # Steps
//
// After ingestion, the steps run in order, each in its own transaction
// (holding the pipeline lock). A file may hold several statements. ${name}
// is replaced by Options.Vars[name] before the SQL runs; an unknown name
// fails the run before anything is loaded. A failing statement is reported
// as <file>:<line> with the Postgres message; its transaction rolls back,
// and the files loaded before it stay loaded, so a retry loads nothing new
// and reruns the steps.
//
// Steps must be deterministic and rerunnable. The Olist pipelines rebuild
// every silver and gold table in full with CREATE TABLE IF NOT EXISTS, then
// TRUNCATE + INSERT ... SELECT inside the step's transaction, rather than
// DROP + CREATE TABLE AS: the table keeps its identity, so grants and views
// built on it (by dbt, say) survive, its declared column types and keys
// stay explicit, and readers see the old rows until the step commits
// (TRUNCATE's lock makes them wait instead of seeing an empty table). A
// full rebuild from bronze also applies late and out-of-order data, which
// an incremental MERGE would have to special-case. The schemas of the
// tables the steps create (found from their CREATE TABLE statements) are
// created by the engine before anything runs, under a database-wide lock,
// so pipelines running in parallel do not race on CREATE SCHEMA.
//
// # Full refresh
//
// With Options.FullRefresh, everything happens in one transaction: TRUNCATE
// the pipeline's bronze tables, delete its quarantine and checkpoint rows,
// reload every matching file, run every step, commit. If anything fails,
// nothing changes. Readers are never shown a partial state: TRUNCATE takes
// an ACCESS EXCLUSIVE lock, so readers of the bronze tables wait until the
// commit and then see the new data (rather than reading the old rows
// meanwhile); readers of silver and gold likewise block from the moment
// their step truncates them. One caveat of TRUNCATE: a REPEATABLE READ
// transaction whose snapshot predates the commit sees those tables empty.
//
// # Bookkeeping and locks
//
// _sluice.ingested_files and _sluice.quarantine are created if missing.
// Every transaction of a run takes pg_advisory_xact_lock on the pipeline
// name, so concurrent runs of one pipeline interleave safely; DDL on shared
// schemas also takes one database-wide advisory lock.
package lakehouse
