package dbt

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	idbt "github.com/sluicedata/sluice/internal/dbt"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
)

// The stand-in replays real dbt 1.8.2 logs and artifacts (see helpers_test.go).

func TestRunSuccess(t *testing.T) {
	t.Parallel()
	f := setup(t)
	out, err := f.run(RunInput{Meta: f.meta(1), Config: spec.DbtConfig{
		Project: "shop", Commands: []string{"run"}, Select: []string{"tag:nightly stg_orders", ""},
		Vars: map[string]any{"day": "2026-11-22"}, Threads: 4, Target: "prod",
		Env: f.fake("FAKEDBT_LOG", runLog(t), "FAKEDBT_RUN_RESULTS", "auto", "FAKEDBT_MANIFEST", runManifest(t)),
	}})
	require.NoError(t, err)

	calls := f.calls()
	require.Len(t, calls, 1)
	call := calls[0]
	profiles := call.flag("--profiles-dir")
	require.Len(t, profiles, 1)
	require.Equal(t, []string{"--log-format", "json", "run", "--project-dir", f.dbtDir, "--profiles-dir", profiles[0],
		"--target", "prod", "--threads", "4", "--select", "tag:nightly", "stg_orders", "--vars", `{"day":"2026-11-22"}`}, call.Args,
		"one --select argument per selector; the empty entry (an unset parameter) adds none")
	private := filepath.Dir(profiles[0])
	require.Equal(t, filepath.Join(private, "target"), call.getenv("DBT_TARGET_PATH"))
	require.Equal(t, filepath.Join(private, "logs"), call.getenv("DBT_LOG_PATH"))
	require.NoDirExists(t, private, "the private profile and target folder is removed after the run")
	require.NoDirExists(t, filepath.Join(f.dbtDir, "target"), "dbt writes nothing into a local project's folder")

	require.Equal(t, "shop", out.Project)
	require.Empty(t, out.Commit, "a local folder outside git has no commit")
	require.Equal(t, "1.8.2", out.DbtVersion)
	require.Len(t, out.Commands, 1)
	require.Equal(t, "run", out.Commands[0].Command)
	require.Equal(t, "success", out.Commands[0].Status)
	require.Equal(t, Counts{Total: 5, Success: 5}, out.Commands[0].Summary)
	require.Equal(t, Counts{Total: 5, Success: 5}, out.Summary)
	require.Equal(t, 5, out.NodeCount)
	require.Empty(t, out.Failed)
	var names []string
	for _, n := range out.Nodes {
		require.Equal(t, "run", n.Command)
		require.Equal(t, "success", n.Status)
		require.Equal(t, "model", n.ResourceType)
		names = append(names, n.Name)
	}
	require.Equal(t, []string{"stg_customers", "stg_orders", "stg_payments", "customers", "orders"}, names)
	require.Equal(t, "SELECT 100", out.Nodes[3].Message)

	attempt := filepath.Join(f.artifacts, "sluice_dbt_job_local_2026-11-22", "run-1", "transform", "attempt-1")
	require.Equal(t, "file://"+attempt+"/", out.ArtifactsURI)
	require.Equal(t, "file://"+filepath.Join(attempt, "01_run", "dbt_log.jsonl"), out.LogURI)
	require.Equal(t, out.LogURI, out.Commands[0].LogURI)
	require.Equal(t, "file://"+filepath.Join(attempt, "01_run", "manifest.json"), out.ManifestURI)
	require.Equal(t, "file://"+filepath.Join(attempt, "01_run", "run_results.json"), out.RunResultsURI)
	for _, uri := range []string{out.LogURI, out.ManifestURI, out.RunResultsURI} {
		require.FileExists(t, fromURI(t, uri))
	}
	log, err := os.ReadFile(fromURI(t, out.LogURI))
	require.NoError(t, err)
	want, err := os.ReadFile(runLog(t))
	require.NoError(t, err)
	require.Equal(t, string(want), string(log), "the stored log is dbt's JSON log line for line")
}

// TestProgressLines feeds a real dbt build log through the tracker the
// runner uses and checks the heartbeat progress lines a user sees.
func TestProgressLines(t *testing.T) {
	t.Parallel()
	file, err := os.Open(buildLog(t))
	require.NoError(t, err)
	defer file.Close()
	lr := idbt.NewLogReader(file)
	tr := idbt.NewTracker()
	var lines []string
	for {
		ev, err := lr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if tr.Observe(ev) {
			line := progressLine("dbt build (2/2)", tr.Progress())
			if len(lines) == 0 || lines[len(lines)-1] != line {
				lines = append(lines, line)
			}
		}
	}
	require.Equal(t, "dbt build (2/2): starting", lines[0])
	require.Contains(t, lines, "dbt build (2/2): found 5 models, 1 snapshot, 3 seeds, 21 data tests, 428 macros")
	require.Contains(t, lines, "dbt build (2/2): 0/20 nodes: seed.raw_customers")
	require.Contains(t, lines, "dbt build (2/2): 15/20 nodes: model.customers")
	require.Equal(t, "dbt build (2/2): 20/20 nodes, finishing", lines[len(lines)-1])
}

func TestRunTestFailuresFailWithoutRetry(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, err := f.run(RunInput{Meta: f.meta(1), Config: spec.DbtConfig{
		Project: "shop", Commands: []string{"run", "test"},
		Env: f.fake("FAKEDBT_LOG_RUN", runLog(t), "FAKEDBT_LOG_TEST", testLog(t), "FAKEDBT_EXIT_TEST", "1",
			"FAKEDBT_RUN_RESULTS", "auto", "FAKEDBT_MANIFEST_RUN", runManifest(t)),
	}})
	ae, fl := failure(t, err)
	require.Equal(t, "DbtTestFailures", ae.Type())
	require.False(t, fl.Retryable, "failing tests are not retried")
	require.True(t, strings.HasPrefix(ae.Message(), "dbt project shop: dbt test: 1 test failed; fix the data or the test, a retry will not help:\n"+
		"  test accepted_values_customers_first_name__Jane [fail] 78 failing rows: Got 78 results, configured to fail if != 0"), ae.Message())
	attempt := filepath.Join(f.artifacts, "sluice_dbt_job_local_2026-11-22", "run-1", "transform", "attempt-1")
	require.Equal(t, "1 failing node:\n"+
		"  test accepted_values_customers_first_name__Jane [fail] 78 failing rows: Got 78 results, configured to fail if != 0\n"+
		"log: file://"+filepath.Join(attempt, "02_test", "dbt_log.jsonl")+"\n"+
		"artifacts: file://"+attempt+"/", fl.Detail)
	require.Equal(t, []string{"run", "test"}, commands(f.calls()))

	var st resumeState
	require.NoError(t, json.Unmarshal(fl.Resume, &st), "the failure carries the attempt's resume details")
	require.Equal(t, resumeState{ArtifactDir: attempt, Commands: []commandState{
		{Command: "run", Status: "success", Dir: filepath.Join(attempt, "01_run")},
		{Command: "test", Status: "failed", Dir: filepath.Join(attempt, "02_test")},
	}}, st)
}

// TestRerunFailedModels is the repair path: attempt 2 gets attempt 1's
// resume details (as the workflow's retry and the repair of a failed run
// hand them over) and re-runs only the failed model and what depends on it.
func TestRerunFailedModels(t *testing.T) {
	t.Parallel()
	f := setup(t)
	env := f.fake("FAKEDBT_LOG_RUN", failedRunLog(t), "FAKEDBT_EXIT_RUN", "1",
		"FAKEDBT_RUN_RESULTS", "auto", "FAKEDBT_MANIFEST_RUN", runManifest(t))
	cfg := spec.DbtConfig{Project: "shop", Commands: []string{"deps", "seed", "run", "test"}, Select: []string{"+orders"}, Env: env}
	_, err := f.run(RunInput{Meta: f.meta(1), Config: cfg})
	ae, fl := failure(t, err)
	require.Equal(t, "DbtModelErrors", ae.Type())
	require.Contains(t, ae.Message(), "model orders [error]: Database Error in model orders (models/orders.sql)")
	require.Equal(t, []string{"deps", "seed", "run"}, commands(f.calls()), "test does not run after run failed")

	// The model is fixed: dbt run now succeeds.
	require.NoError(t, os.Remove(f.record))
	env["FAKEDBT_LOG_RUN"], env["FAKEDBT_EXIT_RUN"] = runLog(t), "0"
	m := f.meta(2)
	m.Resume = fl.Resume
	out, err := f.run(RunInput{Meta: m, Config: cfg})
	require.NoError(t, err)

	retry := []string{
		"accepted_values_orders_status__placed__shipped__completed__return_pending__returned",
		"not_null_orders_amount", "not_null_orders_bank_transfer_amount", "not_null_orders_coupon_amount",
		"not_null_orders_credit_card_amount", "not_null_orders_customer_id", "not_null_orders_gift_card_amount",
		"not_null_orders_order_id", "orders", "relationships_orders_customer_id__customer_id__ref_customers_",
		"unique_orders_order_id",
	}
	calls := f.calls()
	require.Equal(t, []string{"deps", "run", "test"}, commands(calls), "seed succeeded before: not run again; deps prepares the fresh checkout")
	require.Equal(t, retry, calls[1].flag("--select"), "run re-runs the failed model and everything downstream")
	require.Equal(t, []string{"+orders"}, calls[2].flag("--select"), "test never ran: it runs as configured")

	first := filepath.Join(f.artifacts, "sluice_dbt_job_local_2026-11-22", "run-1", "transform", "attempt-1")
	require.Equal(t, &RetryInfo{From: first, Command: "run", Select: retry, Reused: []string{"seed"}}, out.Retry)
	var states []string
	for _, c := range out.Commands {
		states = append(states, c.Command+":"+c.Status+":"+c.Reason)
	}
	require.Equal(t, []string{"deps:success:", "seed:skipped:done by the attempt this one resumes", "run:success:", "test:success:"}, states)
	require.Equal(t, retry, out.Commands[2].Select)
	require.Contains(t, out.ArtifactsURI, "/attempt-2/")
}

func TestSkipTests(t *testing.T) {
	t.Parallel()
	t.Run("TestCommandDropped", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		out, err := f.run(RunInput{Meta: f.meta(1), Config: spec.DbtConfig{
			Project: "shop", Commands: []string{"run", "test"}, SkipTests: true, Env: f.fake("FAKEDBT_LOG", runLog(t)),
		}})
		require.NoError(t, err)
		require.Equal(t, []string{"run"}, commands(f.calls()))
		require.Equal(t, "skipped", out.Commands[1].Status)
		require.Equal(t, "skip_tests is set", out.Commands[1].Reason)
	})
	t.Run("OnlyTests", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		out, err := f.run(RunInput{Meta: f.meta(1), Config: spec.DbtConfig{
			Project: "shop", Commands: []string{"test"}, SkipTests: true, Env: f.fake(),
		}})
		require.NoError(t, err)
		require.Empty(t, f.calls(), "nothing to run: dbt is not started, the project not checked out")
		require.Equal(t, []CommandSummary{{Command: "test", Status: "skipped", Reason: "skip_tests is set"}}, out.Commands)
	})
	t.Run("BuildExcludesTests", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		_, err := f.run(RunInput{Meta: f.meta(1), Config: spec.DbtConfig{
			Project: "shop", Commands: []string{"build"}, SkipTests: true, Exclude: []string{"stg_payments"},
			Env: f.fake("FAKEDBT_LOG", buildLog(t)),
		}})
		// The replayed build log has a failing test; the stand-in exits 0.
		require.NoError(t, err)
		calls := f.calls()
		require.Len(t, calls, 1)
		require.Equal(t, []string{"stg_payments", "resource_type:test"}, calls[0].flag("--exclude"))
	})
}

func TestMissingExecutable(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.acts.Executable = filepath.Join(t.TempDir(), "no-dbt-here")
	_, err := f.run(RunInput{Meta: f.meta(1), Config: spec.DbtConfig{Project: "shop"}})
	ae, fl := failure(t, err)
	require.Equal(t, ErrNotInstalled, ae.Type())
	require.False(t, fl.Retryable)
	require.Contains(t, ae.Message(), "from SLUICE_DBT")
	require.Contains(t, ae.Message(), "install it on the worker host, e.g. `pipx install dbt-postgres==1.8.*`, then restart the worker or set SLUICE_DBT to the dbt executable's path")
}

func TestRequiredVersion(t *testing.T) {
	t.Parallel()
	f := setup(t)
	m := f.meta(1)
	m.Target.DbtProjects["shop"] = spec.DbtProject{Path: "dbt", DbtVersion: ">=1.9"}
	_, err := f.run(RunInput{Meta: m, Config: spec.DbtConfig{Project: "shop", Env: f.fake()}})
	ae, fl := failure(t, err)
	require.Equal(t, "DbtVersion", ae.Type())
	require.False(t, fl.Retryable)
	require.Contains(t, ae.Message(), `1.8.2 is installed at `+f.acts.Executable+` but the task requires ">=1.9"`)
	require.Equal(t, []string{"--version"}, commands(f.calls()), "nothing runs with the wrong dbt")
}

func TestUnknownProject(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, err := f.run(RunInput{Meta: f.meta(1), Config: spec.DbtConfig{Project: "nope"}})
	ae, _ := failure(t, err)
	require.Equal(t, task.ErrConfig, ae.Type())
	require.Equal(t, `dbt project "nope" is not defined in sluice.yaml dbt_projects: add it, or fix the task's project`, ae.Message())
}

// TestTimeoutInterruptsDbt: when the task's timeout ends the attempt, dbt
// gets SIGINT (it cancels its queries and exits 130).
func TestTimeoutInterruptsDbt(t *testing.T) {
	t.Parallel()
	f := setup(t)
	marker := filepath.Join(t.TempDir(), "sigint")
	m := f.meta(1)
	m.Timeout = spec.Duration(1500 * time.Millisecond)
	start := time.Now()
	_, err := f.run(RunInput{Meta: m, Config: spec.DbtConfig{
		Project: "shop", Commands: []string{"run"},
		Env: f.fake("FAKEDBT_LOG", runLog(t), "FAKEDBT_PACE", "100ms", "FAKEDBT_MARKER", marker),
	}})
	ae, fl := failure(t, err)
	require.Equal(t, task.ErrTaskTimeout, ae.Type())
	require.True(t, fl.Timeout)
	require.Less(t, time.Since(start), 10*time.Second)
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(marker)
		return err == nil && string(b) == "SIGINT\n"
	}, 5*time.Second, 20*time.Millisecond, "dbt received SIGINT")
}

func TestPlanResume(t *testing.T) {
	t.Parallel()
	prevDir := t.TempDir()
	plan := func(names ...string) []plannedCommand {
		var out []plannedCommand
		for _, n := range names {
			out = append(out, plannedCommand{name: n})
		}
		return out
	}
	t.Run("WorkerLostMidCommand", func(t *testing.T) {
		t.Parallel()
		cmds := plan("deps", "seed", "run", "test")
		info := planResume(cmds, &resumeState{ArtifactDir: prevDir, Commands: []commandState{
			{Command: "deps", Status: "success"}, {Command: "seed", Status: "success"},
			{Command: "run", Status: "running", Dir: filepath.Join(prevDir, "03_run")}, {Command: "test", Status: "pending"},
		}})
		require.Equal(t, &RetryInfo{From: prevDir, Reused: []string{"seed"}}, info)
		require.Equal(t, []plannedCommand{{name: "deps"}, {name: "seed", skip: "done by the attempt this one resumes"}, {name: "run"}, {name: "test"}}, cmds,
			"an interrupted command runs again as configured")
	})
	t.Run("CommandsChanged", func(t *testing.T) {
		t.Parallel()
		cmds := plan("build")
		require.Nil(t, planResume(cmds, &resumeState{ArtifactDir: prevDir, Commands: []commandState{{Command: "run", Status: "failed"}}}))
		require.Equal(t, plan("build"), cmds)
	})
	t.Run("ArtifactsOnAnotherHost", func(t *testing.T) {
		t.Parallel()
		cmds := plan("seed", "run")
		require.Nil(t, planResume(cmds, &resumeState{ArtifactDir: filepath.Join(prevDir, "gone"), Commands: []commandState{
			{Command: "seed", Status: "success"}, {Command: "run", Status: "failed"}}}))
		require.Equal(t, plan("seed", "run"), cmds, "without the earlier artifacts everything runs")
	})
	t.Run("NoRunResults", func(t *testing.T) {
		t.Parallel()
		cmds := plan("run")
		info := planResume(cmds, &resumeState{ArtifactDir: prevDir, Commands: []commandState{
			{Command: "run", Status: "failed", Dir: filepath.Join(prevDir, "01_run")}}})
		require.Equal(t, &RetryInfo{From: prevDir}, info)
		require.Nil(t, cmds[0].retrySelect, "a compilation error leaves no run_results: run the configured selection")
	})
}
