package lakehouse

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// All SQL of the engine's own bookkeeping lives in this file.

// Advisory lock keys. Every transaction of a Run takes the pipeline's lock,
// which serialises concurrent runs of one pipeline; DDL on shared schemas
// additionally takes ddlLockKey so pipelines running in parallel do not race
// on CREATE SCHEMA / CREATE TABLE.
const (
	pipelineLockPrefix = "sluice.lakehouse.pipeline:"
	ddlLockKey         = "sluice.lakehouse.ddl"
	lockSQL            = `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`
)

const bookkeepingDDL = `
CREATE SCHEMA IF NOT EXISTS _sluice;
CREATE TABLE IF NOT EXISTS _sluice.ingested_files (
	pipeline  text        NOT NULL,
	entity    text        NOT NULL,
	file      text        NOT NULL,
	size      bigint      NOT NULL,
	rows      bigint      NOT NULL,
	malformed bigint      NOT NULL,
	loaded_at timestamptz NOT NULL,
	PRIMARY KEY (pipeline, entity, file)
);
CREATE TABLE IF NOT EXISTS _sluice.quarantine (
	id          bigserial   PRIMARY KEY,
	pipeline    text        NOT NULL,
	entity      text        NOT NULL,
	file        text        NOT NULL,
	line        bigint      NOT NULL,
	reason      text        NOT NULL,
	raw         text        NOT NULL,
	ingested_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantine_pipeline_entity_idx ON _sluice.quarantine (pipeline, entity, file);
`

const (
	loadedFilesSQL = `SELECT entity, file FROM _sluice.ingested_files WHERE pipeline = $1`

	// fileTxStartSQL runs first in a file's transaction, after the lock:
	// it tells whether another run loaded the file meanwhile, and fixes the
	// _ingested_at of its rows.
	fileTxStartSQL = `SELECT now(), EXISTS (
		SELECT 1 FROM _sluice.ingested_files WHERE pipeline = $1 AND entity = $2 AND file = $3)`

	insertCheckpointSQL = `INSERT INTO _sluice.ingested_files
		(pipeline, entity, file, size, rows, malformed, loaded_at) VALUES ($1, $2, $3, $4, $5, $6, now())`

	copyQuarantineSQL = `COPY _sluice.quarantine (pipeline, entity, file, line, reason, raw, ingested_at) FROM STDIN WITH (FORMAT csv)`

	deleteQuarantineSQL  = `DELETE FROM _sluice.quarantine WHERE pipeline = $1`
	deleteCheckpointsSQL = `DELETE FROM _sluice.ingested_files WHERE pipeline = $1`

	tableColumnsSQL = `SELECT a.attname, format_type(a.atttypid, a.atttypmod)
		FROM pg_attribute a
		WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`

	tableExistsSQL = `SELECT to_regclass($1) IS NOT NULL`
)

func createSchemaSQL(schema string) string {
	return "CREATE SCHEMA IF NOT EXISTS " + pgx.Identifier{schema}.Sanitize()
}

// bronzeColumns is the column list of a bronze table: the declared columns
// then the lineage columns, as format_type() spells their types.
func bronzeColumns(src *Source) [][2]string {
	cols := make([][2]string, 0, len(src.Columns)+3)
	for _, c := range src.Columns {
		cols = append(cols, [2]string{c.Name, c.Type.postgres()})
	}
	return append(cols,
		[2]string{"_source_file", "text"},
		[2]string{"_source_line", "bigint"},
		[2]string{"_ingested_at", "timestamp with time zone"})
}

// createBronzeSQL declares no NOT NULL constraints: not_null is enforced by
// validation, which quarantines the record instead of failing the file.
func createBronzeSQL(src *Source) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (", src.Table.sanitize())
	for i, c := range bronzeColumns(src) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", pgx.Identifier{c[0]}.Sanitize(), c[1])
	}
	b.WriteString(")")
	return b.String()
}

func truncateSQL(tables []Table) string {
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.sanitize()
	}
	return "TRUNCATE " + strings.Join(names, ", ")
}

func countSQL(t Table) string {
	return "SELECT count(*) FROM " + t.sanitize()
}
