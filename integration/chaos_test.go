package integration

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
)

// chaosProject copies examples/olist into a temp folder, giving every task of
// olist_daily a 2s heartbeat timeout so a killed worker is noticed quickly
// (the default, 30s, would make this test slow; nothing else changes).
func chaosProject(t *testing.T) string {
	t.Helper()
	src, dst := "../examples/olist", t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if d.Name() == ".data" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if rel == filepath.Join("pipelines", "olist_daily.yaml") {
			b = regexp.MustCompile(`(?m)^(    type: .*)$`).ReplaceAll(b, []byte("$1\n    heartbeat: 2s"))
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	require.NoError(t, err)
	b, _ := os.ReadFile(filepath.Join(dst, "pipelines", "olist_daily.yaml"))
	require.Equal(t, 4, strings.Count(string(b), "heartbeat: 2s"))
	return dst
}

// TestOlistChaos kills the worker with SIGKILL at a random moment of each of
// olist_daily runs, until ten kills have hit a run in progress (one per day, so each run has new data), starts a new
// worker, and checks that every run ends SUCCESS, bronze holds every
// generated record exactly once, and the quarantine the malformed ones.
func TestOlistChaos(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("chaos test: skipped with -short")
	}
	sb := newSandbox(t, chaosProject(t))
	volume := t.TempDir()
	sb.extraEnv = map[string]string{"SLUICE_CATALOG": dbName(t, sb.whURL), "SLUICE_VOLUME": volume}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("chaos seed %d", seed)

	const kills = 10
	w := sb.startWorkerProcess(t, "worker-0")
	hits, runs := 0, 0
	for hits < kills {
		runs++
		require.LessOrEqual(t, runs, 3*kills, "too few kills landed while a run was in progress")
		date := time.Date(2026, 10, runs, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		id := "sluice/olist_daily/local/" + date
		code, out := sb.sluice("run", "olist_daily", "--date", date, "--param", "orders=4000", "--param", "malformed_rate=0.005")
		require.Equal(t, 0, code, out)
		delay := time.Duration(rng.Int64N(int64(1500 * time.Millisecond)))
		time.Sleep(delay)
		running := runningTasks(sb, id)
		w.kill(t)
		if len(running) > 0 {
			hits++
		}
		t.Logf("run %d: SIGKILL %s after start, running: %v", runs, delay.Round(time.Millisecond), running)
		w = sb.startWorkerProcess(t, fmt.Sprintf("worker-%d", runs))
		code, out = sb.sluice("status", id, "--wait")
		require.Equal(t, 0, code, "run %s after a SIGKILL at %s:\n%s", id, delay, out)
		checkBronze(t, sb, volume)
	}
	require.Equal(t, [][]any{{int64(runs * 11)}}, sb.query("SELECT count(*) FROM _sluice.ingested_files"),
		"every file of every batch was checkpointed once")
}

// runningTasks returns the tasks of a run that are RUNNING now ("" if the
// run has not started a task or has ended).
func runningTasks(sb *sandbox, id string) []string {
	v, err := sb.client.QueryWorkflow(context.Background(), id, "", run.QueryStatus)
	if err != nil {
		return nil
	}
	var st run.Status
	if v.Get(&st) != nil || st.Status != dag.StatusRunning {
		return nil
	}
	var out []string
	for _, tk := range st.Tasks {
		if tk.State == dag.Running {
			out = append(out, tk.Key)
		}
	}
	return out
}
