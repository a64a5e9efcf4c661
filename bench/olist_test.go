package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/sluicedata/sluice/internal/datagen"
	"github.com/sluicedata/sluice/internal/devserver"
	"github.com/sluicedata/sluice/internal/lakehouse"
	"github.com/sluicedata/sluice/internal/orchestrator"
	"github.com/sluicedata/sluice/internal/pgtest"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/spec"
)

// BenchmarkOlistDaily compares the lakehouse part of olist_daily (the main
// and CDC pipelines over one generated batch, a full refresh so each round
// does the same work) run by Sluice, with its two branches in parallel,
// against the same work done sequentially with psql: \copy of every file
// into the same bronze tables, then every SQL step file in order. Both start
// from the same files and existing tables. It reports the ratio (goal: below
// 1, Sluice faster thanks to the parallel branches) and Sluice's overhead:
// the run's wall time beyond its longest branch's own work (goal: < 10%).
// SLUICE_BENCH_ORDERS sets the batch size (default 100000).
func BenchmarkOlistDaily(b *testing.B) {
	orders := 100000
	if v, err := strconv.Atoi(os.Getenv("SLUICE_BENCH_ORDERS")); err == nil && v > 0 {
		orders = v
	}
	const rounds = 3
	ctx := context.Background()
	project, err := filepath.Abs("../examples/olist")
	if err != nil {
		b.Fatal(err)
	}
	volume := b.TempDir()
	if _, err := datagen.Generate(ctx, volume, datagen.Config{Seed: 42, Batch: 20261101, Orders: orders}, nil); err != nil {
		b.Fatal(err)
	}
	admin := pgtest.AdminURL()
	srv, err := devserver.Start(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	env := map[string]string{"SLUICE_WAREHOUSE_URL": admin, "SLUICE_VOLUME": volume}
	cfg := orchestrator.Config{TemporalAddress: srv.HostPort, DatabaseURL: pgtest.NewDatabase(b), ProjectDir: project,
		Queues: []string{spec.QueueDefault}}.WithDefaults()
	deps, err := orchestrator.NewDependencies(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer deps.Close()
	deps.Getenv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = orchestrator.Run(wctx, srv.Client, deps) }()

	runSluice := func(id, catalog string, fullRefresh bool) (wall time.Duration, branch time.Duration) {
		start := time.Now()
		wr, err := srv.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: spec.QueueDefault}, run.WorkflowName, run.Input{
			Pipeline: "olist_daily", Env: "local", LogicalDate: "2026-11-01",
			Only:   []string{"run_main_pipeline", "run_cdc_pipeline"},
			Params: map[string]any{"catalog": catalog, "full_refresh": strconv.FormatBool(fullRefresh)},
		})
		if err != nil {
			b.Fatal(err)
		}
		var st run.Status
		if err := wr.Get(ctx, &st); err != nil {
			b.Fatalf("%s: %v", id, err)
		}
		wall = time.Since(start)
		for _, t := range st.Tasks {
			if d, ok := t.Output["duration_ms"].(float64); ok && time.Duration(d)*time.Millisecond > branch {
				branch = time.Duration(d) * time.Millisecond
			}
		}
		return wall, branch
	}

	// Two catalogs with the tables created and the batch loaded once.
	sluiceDB, psqlDB := dbName(pgtest.NewDatabase(b)), dbName(pgtest.NewDatabase(b))
	runSluice("warm-sluice", sluiceDB, false)
	runSluice("warm-psql", psqlDB, false)
	script := psqlScript(b, project, volume)

	var sluiceWall, sluiceOverhead, psqlWall []time.Duration
	for i := range b.N * rounds {
		w, br := runSluice(fmt.Sprintf("sluice-%d", i), sluiceDB, true)
		sluiceWall = append(sluiceWall, w)
		sluiceOverhead = append(sluiceOverhead, w-br)
		start := time.Now()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Env = append(os.Environ(), "PGDATABASE="+psqlDB, "PGHOST=127.0.0.1", "PGUSER=postgres")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("psql baseline: %v\n%s", err, out)
		}
		psqlWall = append(psqlWall, time.Since(start))
	}
	b.StopTimer()
	sw, pw, ov := median(sluiceWall), median(psqlWall), median(sluiceOverhead)
	fmt.Printf("\nolist_daily lakehouse (%d orders, full refresh of main + CDC pipelines), median of %d rounds\n", orders, rounds)
	fmt.Printf("  psql, sequential:          %s\n", pw.Round(time.Millisecond))
	fmt.Printf("  Sluice, branches parallel: %s   ratio %.2f (goal < 1)\n", sw.Round(time.Millisecond), float64(sw)/float64(pw))
	fmt.Printf("  Sluice overhead beyond the longest branch: %s = %.1f%% of the run (goal < 10%%)\n", ov.Round(time.Millisecond), 100*float64(ov)/float64(sw))
	b.ReportMetric(float64(sw)/float64(pw), "sluice/psql")
	b.ReportMetric(100*float64(ov)/float64(sw), "overhead-%")
	b.ReportMetric(float64(pw.Milliseconds()), "psql-ms")
	b.ReportMetric(float64(sw.Milliseconds()), "sluice-ms")
}

// psqlScript is the baseline: truncate bronze, \copy every file of the
// batch into its bronze table, run every step file, main pipeline then CDC.
func psqlScript(b *testing.B, project, volume string) string {
	var s strings.Builder
	for _, dir := range []string{"local_pipelines/olist_main", "local_pipelines/olist_cdc"} {
		p, err := lakehouse.Load(filepath.Join(project, dir))
		if err != nil {
			b.Fatal(err)
		}
		for _, src := range p.Ingest {
			files, err := filepath.Glob(filepath.Join(volume, filepath.FromSlash(src.Pattern)))
			if err != nil || len(files) == 0 {
				b.Fatalf("no files for %s: %v", src.Pattern, err)
			}
			cols := make([]string, len(src.Columns))
			for i, c := range src.Columns {
				cols[i] = c.Name
			}
			fmt.Fprintf(&s, "psql -q -v ON_ERROR_STOP=1 -c 'TRUNCATE %s'\n", src.Table.String())
			for _, f := range files {
				fmt.Fprintf(&s, "psql -q -v ON_ERROR_STOP=1 -c \"\\\\copy %s (%s) FROM '%s' WITH (FORMAT csv, HEADER)\"\n", src.Table.String(), strings.Join(cols, ", "), f)
			}
		}
		for _, st := range p.Steps {
			fmt.Fprintf(&s, "psql -q -v ON_ERROR_STOP=1 --single-transaction -f %s >/dev/null\n", filepath.Join(p.Dir, st.File))
		}
	}
	return s.String()
}

func dbName(dsn string) string {
	return dsn[strings.LastIndex(dsn, "/")+1:]
}
