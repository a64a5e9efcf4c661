// Package warehouse connects to the local engine's Postgres warehouse. A
// catalog is a Postgres database on the warehouse server (catalog olist_local
// -> database olist_local), created on first use, as Unity Catalog catalogs
// are created by an admin; schemas inside it play the role of UC schemas.
package warehouse

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluicedata/sluice/internal/pgdb"
)

// Pools caches one connection pool per database. Safe for concurrent use.
type Pools struct {
	// MaxConns per pool (default 8).
	MaxConns int32

	mu    sync.Mutex
	pools map[string]*pgxpool.Pool
}

// DatabaseURL returns the URL of catalog on the server of warehouseURL
// ("" = the database in the URL).
func DatabaseURL(warehouseURL, catalog string) (string, error) {
	if catalog == "" {
		return warehouseURL, nil
	}
	u, err := url.Parse(warehouseURL)
	if err != nil || u.Scheme == "" {
		return "", fmt.Errorf("warehouse URL is not a postgres:// URL")
	}
	u.Path = "/" + catalog
	return u.String(), nil
}

// Catalog returns a pool on catalog, creating the database when missing.
func (p *Pools) Catalog(ctx context.Context, warehouseURL, catalog string) (*pgxpool.Pool, error) {
	dsn, err := DatabaseURL(warehouseURL, catalog)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if pool, ok := p.pools[dsn]; ok {
		return pool, nil
	}
	if err := pgdb.Ensure(ctx, dsn); err != nil {
		return nil, fmt.Errorf("connecting to warehouse %s (catalog %s): %w", pgdb.Redact(dsn), catalog, err)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("warehouse URL: %w", err)
	}
	cfg.MaxConns = p.MaxConns
	if cfg.MaxConns == 0 {
		cfg.MaxConns = 8
	}
	cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to warehouse: %w", err)
	}
	if p.pools == nil {
		p.pools = map[string]*pgxpool.Pool{}
	}
	p.pools[dsn] = pool
	return pool, nil
}

// Close closes every pool.
func (p *Pools) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, pool := range p.pools {
		pool.Close()
		delete(p.pools, k)
	}
}

// IsUnavailable reports whether err means the server could not be reached
// (a retry may succeed), as opposed to an error in the SQL.
func IsUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// class 08: connection exception; 57P01-03: admin shutdown, crash, cannot connect now; 53: insufficient resources
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") || strings.HasPrefix(pgErr.Code, "53") || pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	return pgconn.SafeToRetry(err) || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "unexpected EOF")
}
