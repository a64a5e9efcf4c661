//go:build !unix

package datagen

import "context"

// lockFile is a no-op where flock is unavailable. Concurrent writers of one
// batch are then only separated by the atomic rename: one may remove the
// other's live temp dir and fail it; its retry finds the committed batch.
func lockFile(ctx context.Context, path string) (func(), error) {
	return func() {}, ctx.Err()
}
