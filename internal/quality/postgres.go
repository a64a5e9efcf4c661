package quality

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Postgres is the Dialect of the local warehouse (engine: local).
type Postgres struct{}

// QuoteIdent double-quotes each part through pgx: "silver"."orders".
func (Postgres) QuoteIdent(parts ...string) string {
	return pgx.Identifier(parts).Sanitize()
}

// QuoteString writes a standard literal, doubling single quotes inside. A
// value holding a backslash is written as an escape string (E'a\\b') so it
// reads the same whatever standard_conforming_strings is set to.
func (Postgres) QuoteString(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	quoted := strings.ReplaceAll(s, `'`, `''`)
	if strings.Contains(s, `\`) {
		return "E'" + strings.ReplaceAll(quoted, `\`, `\\`) + "'"
	}
	return "'" + quoted + "'"
}

// PGXQuerier is what PostgresQuerier needs from pgx; *pgxpool.Pool,
// *pgx.Conn and pgx.Tx have it.
type PGXQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// PostgresQuerier runs check queries on Postgres. Results come back in
// Postgres's text format, exactly as psql shows them.
type PostgresQuerier struct {
	db PGXQuerier
}

// NewPostgresQuerier returns a Querier over db.
func NewPostgresQuerier(db PGXQuerier) *PostgresQuerier {
	return &PostgresQuerier{db: db}
}

// Query runs sql and reads every row as text. Errors Postgres raised for
// the query itself come back as *QueryError; connection problems, timeouts
// and cancellation come back as they are.
func (p *PostgresQuerier) Query(ctx context.Context, sql string) (Rows, error) {
	// The extended protocol (the default mode) also refuses several
	// statements in one string.
	rows, err := p.db.Query(ctx, sql, pgx.QueryResultFormats{pgx.TextFormatCode})
	if err != nil {
		return Rows{}, translatePG(err)
	}
	defer rows.Close()

	var out Rows
	for _, f := range rows.FieldDescriptions() {
		out.Columns = append(out.Columns, f.Name)
	}
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]*string, len(raw))
		for i, b := range raw {
			if b != nil {
				s := string(b) // copies: pgx reuses the buffer
				row[i] = &s
			}
		}
		out.Values = append(out.Values, row)
	}
	if err := rows.Err(); err != nil {
		return Rows{}, translatePG(err)
	}
	return out, nil
}

// translatePG turns an error Postgres raised into a *QueryError, except for
// the classes a retry may cure: 08 connection exception, 40 transaction
// rollback, 53 insufficient resources, 57 operator intervention (including
// a canceled statement), 58 system error.
func translatePG(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return fmt.Errorf("querying Postgres: %w", err)
	}
	switch pgErr.Code[:min(2, len(pgErr.Code))] {
	case "08", "40", "53", "57", "58":
		return fmt.Errorf("querying Postgres: %w", err)
	}
	qe := &QueryError{Kind: OtherError, Code: pgErr.Code, Message: pgErr.Message, Err: err}
	switch pgErr.Code {
	case "42P01": // undefined_table: relation "silver.orderz" does not exist
		qe.Kind = MissingTable
		qe.Name = between(pgErr.Message, `relation "`, `" does not exist`)
	case "3F000": // invalid_schema_name: schema "silverr" does not exist
		qe.Kind = MissingTable
		qe.Name = between(pgErr.Message, `schema "`, `" does not exist`)
	case "42703": // undefined_column: column "x" / column child.x does not exist
		qe.Kind = MissingColumn
		name := between(pgErr.Message, "column ", " does not exist")
		if i := strings.Index(name, ` of relation "`); i >= 0 {
			name = name[:i]
		}
		qe.Name = name
	}
	return qe
}

// between returns the text of s between prefix and the last suffix, or "".
func between(s, prefix, suffix string) string {
	if !strings.HasPrefix(s, prefix) {
		return ""
	}
	rest := s[len(prefix):]
	i := strings.LastIndex(rest, suffix)
	if i < 0 {
		return ""
	}
	return rest[:i]
}
