// Package store keeps run history in Postgres: runs, their tasks, every
// attempt and full error texts. History is a projection of the workflows:
// writes are idempotent and ordered by the workflow's sequence number, so a
// retried or late write never overwrites newer state. Driver errors are
// translated here, once.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/sluicedata/sluice/internal/pgdb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound is returned when a run does not exist.
var ErrNotFound = errors.New("not found")

// DefaultURL is the run history database on this machine.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/sluice"

// Store is the run history.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects to the history database, creating the database when it does
// not exist yet (the server must be reachable), and applies migrations under
// an advisory lock so that several workers can start at once.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if err := pgdb.Ensure(ctx, dsn); err != nil {
		return nil, fmt.Errorf("history database %s: %w (is Postgres running? DATABASE_URL sets the URL)", pgdb.Redact(dsn), err)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("history database URL: %w", err)
	}
	cfg.MaxConns = max(cfg.MaxConns, 8)
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to history database: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Connect opens the history database without migrating (for read-only
// clients such as the CLI).
func Connect(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("history database URL: %w", err)
	}
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to history database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("history database %s: %w (is Postgres running? DATABASE_URL sets the URL)", pgdb.Redact(dsn), translate(err))
	}
	return &Store{pool: pool}, nil
}

// Close releases the connections.
func (s *Store) Close() { s.pool.Close() }

// Pool exposes the connection pool to other tables' code in this process.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Migrate applies pending migrations under a Postgres advisory lock.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("loading migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrating history database: %w", err)
	}
	return nil
}

// translate maps driver errors to this package's errors.
func translate(err error) error {
	if errors.Is(err, pgx.ErrNoRows) || errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
