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

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
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
	if err := ensureDatabase(ctx, dsn); err != nil {
		return nil, err
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

func ensureDatabase(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err == nil {
		return conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" {
		return fmt.Errorf("connecting to warehouse %s: %w", Redact(dsn), err)
	}
	u, _ := url.Parse(dsn)
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	admin, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return fmt.Errorf("creating catalog %s: %w", name, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		if errors.As(err, &pgErr) && pgErr.Code == "42P04" {
			return nil
		}
		return fmt.Errorf("creating catalog %s: %w", name, err)
	}
	return nil
}

// Redact hides a password in a database URL.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "***")
	}
	return u.String()
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
