package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/sluicedata/sluice/internal/devserver"
	"github.com/sluicedata/sluice/internal/orchestrator"
	"github.com/sluicedata/sluice/internal/pgtest"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/spec"
)

// NoopActivity is the baseline's activity: it does nothing.
func NoopActivity(ctx context.Context, i int) (int, error) { return i, nil }

// BaselineChain runs n no-op activities one after another: the least a
// hand-written workflow needs for a 200-task chain.
func BaselineChain(ctx workflow.Context, n int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for i := range n {
		if err := workflow.ExecuteActivity(ctx, NoopActivity, i).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// BaselineFanout runs n no-op activities at once and waits for all.
func BaselineFanout(ctx workflow.Context, n int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	futures := make([]workflow.Future, n)
	for i := range n {
		futures[i] = workflow.ExecuteActivity(ctx, NoopActivity, i)
	}
	for _, f := range futures {
		if err := f.Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// writeProject writes a project with a chain and a fan-out of n noop tasks.
func writeProject(b *testing.B, n int) string {
	dir := b.TempDir()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "pipelines"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "sluice.yaml"), []byte("project: bench\nenvironments: {local: {engine: local, warehouse: \"postgres://unused/x\"}}\n"), 0o644))
	var chain, fan strings.Builder
	fmt.Fprintf(&chain, "name: chain\ntasks:\n")
	fmt.Fprintf(&fan, "name: fanout\nmax_parallel: %d\ntasks:\n", n)
	for i := range n {
		if i == 0 {
			fmt.Fprintf(&chain, "  - {key: t%d, type: noop}\n", i)
		} else {
			fmt.Fprintf(&chain, "  - {key: t%d, type: noop, depends_on: [t%d]}\n", i, i-1)
		}
		fmt.Fprintf(&fan, "  - {key: t%d, type: noop}\n", i)
	}
	must(os.WriteFile(filepath.Join(dir, "pipelines", "chain.yaml"), []byte(chain.String()), 0o644))
	must(os.WriteFile(filepath.Join(dir, "pipelines", "fanout.yaml"), []byte(fan.String()), 0o644))
	return dir
}

// BenchmarkOrchestrationOverhead runs a 200-task chain and a 200-task
// fan-out of no-op tasks through RunPipeline, and the same number of no-op
// activities through a minimal hand-written workflow, alternately on the
// same dev server and worker process, and reports the ratio of medians.
// Goal: ratio <= 1.2.
func BenchmarkOrchestrationOverhead(b *testing.B) {
	const n, rounds = 200, 3
	ctx := context.Background()
	srv, err := devserver.Start(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	c := srv.Client

	cfg := orchestrator.Config{
		TemporalAddress: srv.HostPort, Namespace: "default", DatabaseURL: pgtest.NewDatabase(b),
		ProjectDir: writeProject(b, n), MaxConcurrentActivities: n, Queues: []string{spec.QueueDefault},
	}.WithDefaults()
	deps, err := orchestrator.NewDependencies(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer deps.Close()
	w := worker.New(c, spec.QueueDefault, worker.Options{MaxConcurrentActivityExecutionSize: n})
	orchestrator.Register(w, spec.QueueDefault, deps)
	w.RegisterWorkflow(BaselineChain)
	w.RegisterWorkflow(BaselineFanout)
	w.RegisterActivity(NoopActivity)
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	defer w.Stop()

	timeIt := func(id string, wf any, args ...any) time.Duration {
		start := time.Now()
		wr, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: spec.QueueDefault}, wf, args...)
		if err != nil {
			b.Fatal(err)
		}
		if err := wr.Get(ctx, nil); err != nil {
			b.Fatalf("%s: %v", id, err)
		}
		return time.Since(start)
	}
	type result struct{ base, sluice []time.Duration }
	shapes := []struct {
		name     string
		baseline any
		pipeline string
	}{{"chain", BaselineChain, "chain"}, {"fanout", BaselineFanout, "fanout"}}
	results := map[string]*result{}
	for i := range b.N {
		for _, s := range shapes {
			r := &result{}
			results[s.name] = r
			// warm up both paths once
			timeIt(fmt.Sprintf("warm-base-%s-%d", s.name, i), s.baseline, n)
			timeIt(fmt.Sprintf("warm-sluice-%s-%d", s.name, i), run.WorkflowName, run.Input{Pipeline: s.pipeline, Env: "local"})
			for k := range rounds {
				r.base = append(r.base, timeIt(fmt.Sprintf("base-%s-%d-%d", s.name, i, k), s.baseline, n))
				r.sluice = append(r.sluice, timeIt(fmt.Sprintf("sluice-%s-%d-%d", s.name, i, k), run.WorkflowName, run.Input{Pipeline: s.pipeline, Env: "local"}))
			}
		}
	}
	b.StopTimer()
	fmt.Printf("\norchestration overhead: %d no-op tasks, median of %d rounds, same dev server and worker\n", n, rounds)
	fmt.Printf("%-8s %14s %14s %8s %14s\n", "shape", "baseline", "RunPipeline", "ratio", "per task")
	for _, s := range shapes {
		r := results[s.name]
		base, sl := median(r.base), median(r.sluice)
		ratio := float64(sl) / float64(base)
		fmt.Printf("%-8s %14s %14s %8.2f %14s\n", s.name, base.Round(time.Millisecond), sl.Round(time.Millisecond), ratio, (sl / n).Round(100*time.Microsecond))
		b.ReportMetric(ratio, s.name+"-ratio")
		b.ReportMetric(float64(sl.Milliseconds()), s.name+"-sluice-ms")
		b.ReportMetric(float64(base.Milliseconds()), s.name+"-baseline-ms")
	}
	_ = temporal.ErrNoData
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
