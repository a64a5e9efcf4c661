package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/dag"
)

// workerProcess runs bin/sluice-worker as a separate process so the test
// can kill it with SIGKILL, as a machine failure would.
type workerProcess struct {
	cmd *exec.Cmd
	log *os.File
}

func (sb *sandbox) startWorkerProcess(t *testing.T, name string) *workerProcess {
	t.Helper()
	bin := filepath.Join(binaries(t), "sluice-worker")
	logf, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	require.NoError(t, err)
	cmd := exec.Command(bin, "--project", sb.project)
	cmd.Env = os.Environ()
	for k, v := range sb.env() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	wp := &workerProcess{cmd: cmd, log: logf}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("%s log:\n%s", name, b)
		}
	})
	// wait until it serves the default queue
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(logf.Name())
		if strings.Contains(string(b), "queue=sluice ") {
			return wp
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(logf.Name())
	t.Fatalf("%s did not start:\n%s", name, b)
	return nil
}

func (wp *workerProcess) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, wp.cmd.Process.Signal(syscall.SIGKILL))
	_ = wp.cmd.Wait()
}

// TestWorkerKilledMidRun kills the only worker with SIGKILL while a task is
// running, starts a new one, and proves the run completes without
// re-running the tasks that had finished: each task logs itself in the
// same transaction as its work, so any re-run would show as a second row.
func TestWorkerKilledMidRun(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, "testdata/project")
	first := sb.startWorkerProcess(t, "worker-1")

	code, out := sb.sluice("run", "crash", "--date", "2026-11-19")
	require.Equal(t, 0, code, out)
	id := "sluice/crash/local/2026-11-19"
	waitForTask(t, sb, id, "slow", dag.Running)
	first.kill(t)

	sb.startWorkerProcess(t, "worker-2")
	code, out = sb.sluice("status", id, "--wait")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "crash in local: SUCCESS")

	require.Equal(t, [][]any{{"first", int64(1)}, {"last", int64(1)}, {"slow", int64(1)}},
		sb.query("SELECT task, count(*) FROM task_log GROUP BY task ORDER BY task"),
		"every task's work committed exactly once")

	s := sb.openStore(t)
	st, err := s.GetRun(context.Background(), id, "")
	require.NoError(t, err)
	require.Equal(t, dag.StatusSuccess, st.Status)
	require.Len(t, st.Task("first").Attempts, 1, "a finished task is not re-run")
	require.Len(t, st.Task("slow").Attempts, 1, "the lost worker's attempt resumed on the new worker: no task-level retry")
	require.Len(t, st.Task("last").Attempts, 1)
}
