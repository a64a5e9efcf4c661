// Package history writes run history to Postgres on behalf of workflows.
package history

import (
	"context"

	"github.com/sluicedata/sluice/internal/store"
)

// Activities records run history.
type Activities struct {
	Store *store.Store
}

// Record writes a snapshot of a run. Workflows call it as a best-effort
// local activity while the run progresses, and as a regular activity retried
// until it lands when the run ends.
func (a *Activities) Record(ctx context.Context, snap store.Snapshot) error {
	return a.Store.SaveRun(ctx, snap)
}
