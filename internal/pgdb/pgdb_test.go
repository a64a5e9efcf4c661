package pgdb

import (
	"context"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/pgtest"
)

func TestEnsureCreatesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, err := url.Parse(pgtest.NewDatabase(t))
	require.NoError(t, err)
	u.Path += "_created"
	dsn := u.String()
	t.Cleanup(func() {
		admin, err := pgx.Connect(ctx, pgtest.AdminURL())
		if err == nil {
			_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{u.Path[1:]}.Sanitize()+" WITH (FORCE)")
			admin.Close(ctx)
		}
	})
	_, err = pgx.Connect(ctx, dsn)
	require.Error(t, err, "the database does not exist yet")
	require.NoError(t, Ensure(ctx, dsn))
	require.NoError(t, Ensure(ctx, dsn), "a second call finds it")
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	conn.Close(ctx)
}

func TestEnsureReportsUnreachableServer(t *testing.T) {
	t.Parallel()
	err := Ensure(context.Background(), "postgres://postgres@127.0.0.1:1/x?connect_timeout=2")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "creating database")
}

func TestRedact(t *testing.T) {
	t.Parallel()
	require.Equal(t, "postgres://app:%2A%2A%2A@db:5432/sluice", Redact("postgres://app:hunter2@db:5432/sluice"))
	require.Equal(t, "postgres://postgres@127.0.0.1:5432/sluice", Redact("postgres://postgres@127.0.0.1:5432/sluice"))
}
