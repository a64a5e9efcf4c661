package databricks_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/databricks/databrickstest"
)

const testToken = "dapi-test-token"

// testConfig talks to the fake with millisecond polling and backoff.
func testConfig(host string) databricks.Config {
	return databricks.Config{
		Host:               host,
		Token:              testToken,
		WarehouseID:        "wh-1",
		Catalog:            "olist",
		Schema:             "silver",
		HTTPTimeout:        2 * time.Second,
		RetryTimeout:       2 * time.Second,
		RetryMinBackoff:    time.Millisecond,
		RetryMaxBackoff:    5 * time.Millisecond,
		PollMinInterval:    time.Millisecond,
		PollMaxInterval:    5 * time.Millisecond,
		CancelTimeout:      2 * time.Second,
		RateLimitPerSecond: 10000,
	}
}

// setup starts a fake workspace that requires testToken and a Client on it.
func setup(t *testing.T, opts ...databrickstest.Option) (*databricks.Client, *databrickstest.Server) {
	t.Helper()
	srv := databrickstest.New(t, append([]databrickstest.Option{databrickstest.WithToken(testToken)}, opts...)...)
	c, err := databricks.New(testConfig(srv.URL))
	require.NoError(t, err)
	return c, srv
}

// beats records heartbeats.
type beats[R, P any] struct {
	mu       sync.Mutex
	resumes  []R
	progress []P
	onBeat   func(R, P)
}

func (b *beats[R, P]) record(r R, p P) {
	b.mu.Lock()
	b.resumes = append(b.resumes, r)
	b.progress = append(b.progress, p)
	on := b.onBeat
	b.mu.Unlock()
	if on != nil {
		on(r, p)
	}
}

func (b *beats[R, P]) all() ([]R, []P) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]R(nil), b.resumes...), append([]P(nil), b.progress...)
}

// bodyJSON re-encodes a request body canonically for exact comparison.
func bodyJSON(t *testing.T, r databrickstest.Request) string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(r.Body, &v), "body %q", r.Body)
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// sharedTestdata is ../shared/testdata seen from this package; tests that
// need it skip when it is absent.
func sharedTestdata(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "testdata")
	if _, err := os.Stat(filepath.Join(dir, "databricks_api")); err != nil {
		t.Skipf("shared testdata not found at %s (a clone without ../shared): skipping conformance test", dir)
	}
	return dir
}

func states(spans []databricks.StateSpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.State
	}
	return out
}
