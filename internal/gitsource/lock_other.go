//go:build !unix

package gitsource

import (
	"context"
	"errors"
)

// flockExclusive is unavailable: sharing a cache between processes safely
// needs flock(2). Refusing is better than corrupting the cache.
func flockExclusive(context.Context, string, func()) (func(), error) {
	return nil, errors.New("gitsource: the git cache needs flock(2), available on unix systems only")
}
