package integration

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/sluicedata/sluice/internal/cli"
	"github.com/sluicedata/sluice/internal/devserver"
	"github.com/sluicedata/sluice/internal/orchestrator"
	"github.com/sluicedata/sluice/internal/pgtest"
	"github.com/sluicedata/sluice/internal/store"
	"github.com/sluicedata/sluice/internal/warehouse"
)

func TestMain(m *testing.M) {
	code := m.Run()
	devserver.StopShared()
	os.Exit(code)
}

// sandbox is one test's world: its own namespace on the shared dev server,
// its own history and warehouse databases, and a project folder.
type sandbox struct {
	t          *testing.T
	srv        *devserver.Server
	namespace  string
	client     client.Client
	historyURL string
	whURL      string
	project    string
	store      *store.Store
	extraEnv   map[string]string
	// configure, when set, adjusts the in-process worker's configuration
	// (secrets folder, SMTP CA, a history URL through a proxy).
	configure func(*orchestrator.Config)
}

func newSandbox(t *testing.T, project string) *sandbox {
	t.Helper()
	srv := devserver.Shared(t)
	ns, c := srv.Namespace(t)
	abs, err := filepath.Abs(project)
	require.NoError(t, err)
	sb := &sandbox{t: t, srv: srv, namespace: ns, client: c, project: abs,
		historyURL: pgtest.NewDatabase(t), whURL: pgtest.NewDatabase(t)}
	return sb
}

func (sb *sandbox) env() map[string]string {
	env := map[string]string{
		"TEMPORAL_ADDRESS":     sb.srv.HostPort,
		"TEMPORAL_NAMESPACE":   sb.namespace,
		"DATABASE_URL":         sb.historyURL,
		"SLUICE_WAREHOUSE_URL": sb.whURL,
		"SLUICE_PROJECT":       sb.project,
	}
	for k, v := range sb.extraEnv {
		env[k] = v
	}
	return env
}

func (sb *sandbox) getenv(k string) string { return sb.env()[k] }

// startWorker runs a worker in this process until the test ends.
func (sb *sandbox) startWorker() *orchestrator.Dependencies {
	t := sb.t
	t.Helper()
	fromEnv := orchestrator.ConfigFromEnv(sb.getenv) // SLUICE_* set in extraEnv
	cfg := orchestrator.Config{
		TemporalAddress: sb.srv.HostPort, Namespace: sb.namespace, DatabaseURL: sb.historyURL,
		ProjectDir: sb.project, ArtifactsDir: t.TempDir(),
		SecretsDir: fromEnv.SecretsDir, DbtExecutable: fromEnv.DbtExecutable, GitCache: fromEnv.GitCache,
	}.WithDefaults()
	if sb.configure != nil {
		sb.configure(&cfg)
	}
	require.NoError(t, cfg.Validate())
	ctx, cancel := context.WithCancel(context.Background())
	deps, err := orchestrator.NewDependencies(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	deps.Getenv = func(k string) (string, bool) { v, ok := sb.env()[k]; return v, ok }
	sb.store = deps.Store
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := orchestrator.Run(ctx, sb.client, deps); err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait(); deps.Close() })
	return deps
}

// sluice runs the CLI in-process and returns its exit code and output.
func (sb *sandbox) sluice(args ...string) (int, string) {
	sb.t.Helper()
	return sb.sluiceWith(sb.env(), args...)
}

func (sb *sandbox) sluiceWith(env map[string]string, args ...string) (int, string) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := cli.Execute(ctx, args, &out, &out, func(k string) string { return env[k] })
	return code, out.String()
}

// temporal runs the temporal CLI against this sandbox's namespace.
func (sb *sandbox) temporal(args ...string) (string, error) {
	cmd := exec.Command(sb.srv.CLI, args...)
	cmd.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+sb.srv.HostPort, "TEMPORAL_NAMESPACE="+sb.namespace)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// warehouse returns a pool on the sandbox warehouse.
func (sb *sandbox) query(sql string, args ...any) [][]any {
	sb.t.Helper()
	pools := &warehouse.Pools{}
	defer pools.Close()
	pool, err := pools.Catalog(context.Background(), sb.whURL, "")
	require.NoError(sb.t, err)
	rows, err := pool.Query(context.Background(), sql, args...)
	require.NoError(sb.t, err)
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		v, err := rows.Values()
		require.NoError(sb.t, err)
		out = append(out, v)
	}
	require.NoError(sb.t, rows.Err())
	return out
}

// openStore opens the sandbox's history database (for tests whose worker
// runs in another process).
func (sb *sandbox) openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Connect(context.Background(), sb.historyURL)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// buildBinaries builds sluice-worker (and sluice) once per test binary.
var buildOnce sync.Once
var binDir, buildErr = "", error(nil)

func binaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		for name, pkg := range map[string]string{"sluice-worker": "../worker", "sluice": "../starter"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = err
				buildErr = &buildError{err: err, out: string(out)}
				return
			}
		}
	})
	require.NoError(t, buildErr)
	return binDir
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + strings.TrimSpace(e.out) }
