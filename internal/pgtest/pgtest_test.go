package pgtest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewPoolIsolated(t *testing.T) {
	t.Parallel()
	a, b := NewPool(t), NewPool(t)
	ctx := context.Background()
	_, err := a.Exec(ctx, "CREATE TABLE only_in_a (id int)")
	require.NoError(t, err)
	var n int
	require.NoError(t, b.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'").Scan(&n))
	require.Equal(t, 0, n, "a table created in one test database must not be visible in another")
}
