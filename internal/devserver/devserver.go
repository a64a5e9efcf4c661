// Package devserver starts a real Temporal dev server for tests and
// benchmarks: the pinned `temporal` CLI that `make temporal` builds, on free
// ports, in memory, with Sluice's search attributes registered.
package devserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/sluicedata/sluice/workflows"
)

// Version is the Temporal CLI version Sluice is tested with.
const Version = "v1.5.1"

// CLIPath returns the temporal CLI: $SLUICE_TEMPORAL_CLI (set by make), else
// the tools cache make installs into.
func CLIPath() (string, error) {
	if p := os.Getenv("SLUICE_TEMPORAL_CLI"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cache", "sluice", "tools", "temporal-"+Version, "temporal")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("temporal CLI %s not found at %s: run `make temporal` (or `make test`, which installs it)", Version, p)
	}
	return p, nil
}

// namespaces pre-created on every server, handed out by Namespace so that
// parallel tests (each with its own worker on the sluice task queues) never
// see each other's workflows.
const namespaces = 40

// Server is a running dev server.
type Server struct {
	HostPort string
	CLI      string
	Client   client.Client // on the default namespace
	srv      *testsuite.DevServer
	next     atomic.Int32
}

// Namespace returns a namespace no other test of this process uses, and a
// client on it closed when the test ends.
func (s *Server) Namespace(t testing.TB) (string, client.Client) {
	t.Helper()
	n := s.next.Add(1)
	if n > namespaces {
		t.Fatalf("devserver: more than %d tests asked for a namespace; raise the limit", namespaces)
	}
	ns := fmt.Sprintf("test-%d", n)
	c, err := client.Dial(client.Options{
		HostPort:  s.HostPort,
		Namespace: ns,
		Logger:    tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	})
	if err != nil {
		t.Fatalf("devserver: client for %s: %v", ns, err)
	}
	t.Cleanup(c.Close)
	return ns, c
}

// Start starts a dev server; extraArgs go to `temporal server start-dev`.
func Start(ctx context.Context, extraArgs ...string) (*Server, error) {
	cli, err := CLIPath()
	if err != nil {
		return nil, err
	}
	args := []string{"--dynamic-config-value", "system.enableActivityEagerExecution=true"}
	names := make([]string, 0, len(workflows.SearchAttributes))
	for n := range workflows.SearchAttributes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		args = append(args, "--search-attribute", n+"="+workflows.SearchAttributes[n])
	}
	for i := 1; i <= namespaces; i++ {
		args = append(args, "--namespace", fmt.Sprintf("test-%d", i))
	}
	args = append(args, extraArgs...)
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath: cli,
		LogLevel:     "error",
		ExtraArgs:    args,
		ClientOptions: &client.Options{
			Namespace: "default",
			Logger:    tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		},
		Stdout: io.Discard,
		Stderr: io.Discard,
	})
	if err != nil {
		return nil, fmt.Errorf("starting temporal dev server: %w", err)
	}
	return &Server{HostPort: srv.FrontendHostPort(), CLI: cli, Client: srv.Client(), srv: srv}, nil
}

// Stop stops the server.
func (s *Server) Stop() error {
	s.Client.Close()
	return s.srv.Stop()
}

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
)

// Shared returns one dev server per test binary, started on first use. Call
// StopShared from TestMain after m.Run.
func Shared(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a Temporal dev server; skipped with -short")
	}
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared, sharedErr = Start(ctx)
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// StopShared stops the shared server if one was started.
func StopShared() {
	if shared != nil {
		_ = shared.Stop()
	}
}
