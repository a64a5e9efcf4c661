package dbt

// The runner tests run testdata/fakedbt, a stand-in for the dbt CLI (dbt
// cannot be installed here) that replays the REAL dbt 1.8.2 JSON logs and
// artifacts of ../shared/testdata/dbt; see its doc comment.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runnerSetup is one project folder and the stand-in's recording file.
type runnerSetup struct {
	exe, project, profiles, record string
}

func setup(t *testing.T) runnerSetup {
	t.Helper()
	s := runnerSetup{exe: fakeDbt(t), project: newProject(t), profiles: t.TempDir()}
	s.record = filepath.Join(t.TempDir(), "record.jsonl")
	return s
}

// options returns Options running the stand-in with the given FAKEDBT_*
// settings (and recording every invocation).
func (s runnerSetup) options(commands []string, fake ...string) Options {
	return Options{
		Executable: s.exe,
		ProjectDir: s.project,
		Commands:   commands,
		Env:        append([]string{"FAKEDBT_RECORD=" + s.record}, fake...),
		Grace:      10 * time.Second,
	}
}

func TestRunArgvAndEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(s runnerSetup, o *Options)
		want   func(s runnerSetup) [][]string
	}{
		{
			name:   "Minimal",
			modify: func(s runnerSetup, o *Options) { o.Commands = []string{"run"} },
			want: func(s runnerSetup) [][]string {
				return [][]string{{"--log-format", "json", "run", "--project-dir", s.project}}
			},
		},
		{
			name: "EveryFlagOnEveryCommand",
			modify: func(s runnerSetup, o *Options) {
				o.Commands = []string{"deps", "debug", "clean", "parse", "ls", "compile", "docs  generate", "source freshness",
					"seed", "run", "build", "test", "snapshot", "retry"}
				o.ProfilesDir = s.profiles
				o.Target = "prod"
				o.Threads = 4
				o.Select = []string{"+customers", "orders_snapshot"}
				o.Exclude = []string{"tag:nightly"}
				o.Vars = map[string]any{"start": "2024-01-01", "n": 3}
				o.FullRefresh = true
			},
			want: func(s runnerSetup) [][]string {
				base := func(words ...string) []string {
					return append(append([]string{"--log-format", "json"}, words...), "--project-dir", s.project, "--profiles-dir", s.profiles)
				}
				vars := []string{"--vars", `{"n":3,"start":"2024-01-01"}`}
				sel := []string{"--select", "+customers", "orders_snapshot", "--exclude", "tag:nightly"}
				cat := func(parts ...[]string) []string { return slices.Concat(parts...) }
				tgt := []string{"--target", "prod"}
				thr := []string{"--threads", "4"}
				fr := []string{"--full-refresh"}
				return [][]string{
					cat(base("deps"), vars),
					cat(base("debug"), tgt, vars),
					cat(base("clean"), vars),
					cat(base("parse"), tgt, thr, vars),
					cat(base("list"), tgt, sel, vars),
					cat(base("compile"), tgt, thr, sel, vars),
					cat(base("docs", "generate"), tgt, thr, sel, vars),
					cat(base("source", "freshness"), tgt, thr, sel, vars),
					cat(base("seed"), tgt, thr, sel, vars, fr),
					cat(base("run"), tgt, thr, sel, vars, fr),
					cat(base("build"), tgt, thr, sel, vars, fr),
					cat(base("test"), tgt, thr, sel, vars),
					cat(base("snapshot"), tgt, thr, sel, vars),
					cat(base("retry"), tgt, thr, vars),
				}
			},
		},
		{
			name: "Selector",
			modify: func(s runnerSetup, o *Options) {
				o.Commands = []string{"build"}
				o.Selector = "nightly"
				o.Threads = 8
			},
			want: func(s runnerSetup) [][]string {
				return [][]string{{"--log-format", "json", "build", "--project-dir", s.project, "--threads", "8", "--selector", "nightly"}}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := setup(t)
			opts := s.options(nil)
			opts.Env = append(opts.Env, "SLUICE_DBT_PG_PASSWORD=pw-1", "DBT_ENV_CUSTOM_ENV_TEAM=data")
			tt.modify(s, &opts)
			res, err := Run(context.Background(), opts)
			require.NoError(t, err)

			want := tt.want(s)
			recs := readRecord(t, s.record)
			require.Len(t, recs, len(want))
			for i, r := range recs {
				require.Equal(t, want[i], r.Args, "argv of %s", opts.Commands[i])
				require.Equal(t, want[i], res.Commands[i].Args)
				require.Equal(t, s.project, r.Dir)
				for _, kv := range []string{"SLUICE_DBT_PG_PASSWORD=pw-1", "DBT_ENV_CUSTOM_ENV_TEAM=data"} {
					require.Equal(t, 1, count(r.Env, kv), "%s in the env of %s", kv, opts.Commands[i])
				}
				require.Contains(t, r.Env, "PATH="+os.Getenv("PATH"), "the worker's environment is inherited")
			}
		})
	}
}

func count(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

func TestRunProgress(t *testing.T) {
	t.Parallel()
	s := setup(t)
	logPath := sharedDbt(t, "logs", "postgres_build_command__build_logs.jsonl")
	opts := s.options([]string{"deps", "build"}, "FAKEDBT_LOG_BUILD="+logPath, "FAKEDBT_RUN_RESULTS_BUILD=auto", "FAKEDBT_EXIT_BUILD=1")
	var events []Event
	var progress []Progress
	opts.OnEvent = func(ev Event) { events = append(events, ev) }
	opts.OnProgress = func(p Progress) { progress = append(progress, p) }
	_, err := Run(context.Background(), opts)
	var dbtErr *Error
	require.ErrorAs(t, err, &dbtErr)

	lines := genericEvents(t, logPath)
	require.Len(t, events, len(lines), "every log line reaches OnEvent")
	for i, l := range lines {
		require.Equal(t, l["info"].(map[string]any)["name"], events[i].Name)
	}
	require.NotEmpty(t, progress)
	done := 0
	for _, p := range progress {
		require.Equal(t, "build", p.Command)
		require.Equal(t, 2, p.CommandIndex)
		require.Equal(t, 2, p.CommandCount)
		if p.Done != done {
			require.Equal(t, done+1, p.Done)
			require.Equal(t, 20, p.Total)
			require.Len(t, p.Results, p.Done)
			done = p.Done
		}
	}
	last := progress[len(progress)-1]
	require.Equal(t, 20, last.Done)
	require.True(t, last.Completed)
	require.False(t, last.Success)
	require.Equal(t, &Stats{Pass: 19, Error: 1, Total: 20}, last.Stats)
}

func TestRunOutcomes(t *testing.T) {
	t.Parallel()

	t.Run("CleanRun", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		log := sharedDbt(t, "logs", "postgres_run__successful_run_logs.jsonl")
		res, err := Run(context.Background(), s.options([]string{"run"}, "FAKEDBT_LOG="+log, "FAKEDBT_RUN_RESULTS=auto"))
		require.NoError(t, err)
		require.False(t, res.Failed)
		require.Equal(t, "1.8.2", res.Version)
		require.Len(t, res.Commands, 1)
		cr := res.Commands[0]
		require.Equal(t, 0, cr.ExitCode)
		require.True(t, cr.FromRunResults)
		require.Equal(t, "917ea72a-ecb5-4fd3-bd1f-b52ffeed4d0d", cr.InvocationID)
		require.Equal(t, []string{"stg_customers", "stg_orders", "stg_payments", "customers", "orders"}, nodeNames(res.Nodes))
		require.Equal(t, Summary{Total: 5, Success: 5}, cr.Summary)
		require.Equal(t, "model", res.Nodes[0].ResourceType)
	})

	t.Run("FailingTest", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		log := sharedDbt(t, "logs", "postgres_build_command__build_logs.jsonl")
		res, err := Run(context.Background(), s.options([]string{"build"}, "FAKEDBT_LOG="+log, "FAKEDBT_RUN_RESULTS=auto", "FAKEDBT_EXIT=1"))
		var e *Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, TestFailures, e.Kind)
		require.True(t, IsPermanent(err))
		require.Equal(t, "build", e.Command)
		require.Equal(t, 1, e.ExitCode)
		require.Equal(t, []string{"accepted_values_customers_first_name__Jane"}, nodeNames(e.Failed))
		require.Equal(t, 78, *e.Failed[0].Failures)
		require.Equal(t, "dbt build: 1 test failed; fix the data or the test, a retry will not help:\n"+
			"  test accepted_values_customers_first_name__Jane [fail] 78 failing rows: Got 78 results, configured to fail if != 0", e.Message)
		require.True(t, res.Failed)
		require.Len(t, res.Nodes, 20)
	})

	t.Run("FailingTestsRealRunResults", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		// The OpenLineage `dbt test` run_results (4 failures), written as this run's.
		rrPath := sharedDbt(t, "run_results", "openlineage_test__rr_v2__dbt0.21.0__test_fail.json")
		res, err := Run(context.Background(), s.options([]string{"test"}, "FAKEDBT_RUN_RESULTS="+rrPath, "FAKEDBT_EXIT=1"))
		var e *Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, TestFailures, e.Kind)
		var want []string
		for _, r := range decodeGeneric(t, rrPath)["results"].([]any) {
			if r.(map[string]any)["status"] == "fail" {
				want = append(want, nameFromUniqueID(r.(map[string]any)["unique_id"].(string)))
			}
		}
		require.Len(t, want, 4)
		require.Equal(t, want, nodeNames(e.Failed))
		require.True(t, res.Commands[0].FromRunResults)
	})

	t.Run("ModelError", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		log := sharedDbt(t, "logs", "postgres_run__failed_run_logs.jsonl")
		_, err := Run(context.Background(), s.options([]string{"run"}, "FAKEDBT_LOG="+log, "FAKEDBT_RUN_RESULTS=auto", "FAKEDBT_EXIT=1"))
		var e *Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, ModelErrors, e.Kind)
		require.True(t, IsPermanent(err))
		require.Equal(t, []string{"orders"}, nodeNames(e.Failed))
		require.Contains(t, e.Message, "dbt run: 1 node failed; fix the SQL or the data, a retry will not help:\n  model orders [error]: Database Error in model orders (models/orders.sql)")
		require.Contains(t, e.Message, `syntax error at or near "final"`)
	})

	t.Run("CompilationErrorIgnoresStaleRunResults", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		// A run_results.json left by an earlier run must not be read as this one's.
		stale := sharedDbt(t, "run_results", "jaffle_shop__rr_v4__dbt1.0.0__build_with_error.json")
		b, err := os.ReadFile(stale)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(s.project, "target"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(s.project, "target", "run_results.json"), b, 0o644))

		res, err := Run(context.Background(), s.options([]string{"run"},
			"FAKEDBT_LOG="+fixture(t, "logs", "compilation_error.jsonl"), "FAKEDBT_EXIT=2"))
		var e *Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, Compilation, e.Kind)
		require.True(t, IsPermanent(err))
		require.Equal(t, 2, e.ExitCode)
		require.Empty(t, e.Failed)
		require.Empty(t, res.Nodes)
		require.False(t, res.Commands[0].FromRunResults)
		require.Equal(t, "dbt run failed to compile the project (exit code 2); fix the project and push it, a retry will not help:\n"+
			"Encountered an error:\nCompilation Error\n  Model 'model.jaffle_shop.customers' (models/customers.sql) depends on a node named 'stg_customer' which was not found",
			e.Message)
	})

	t.Run("ConnectionRefusedIsTransient", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		_, err := Run(context.Background(), s.options([]string{"build"},
			"FAKEDBT_LOG="+fixture(t, "logs", "connection_error.jsonl"), "FAKEDBT_EXIT=2"))
		var e *Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, Transient, e.Kind)
		require.False(t, IsPermanent(err))
		require.Contains(t, e.Message, "port 5432 failed: Connection refused")
	})

	t.Run("FatalKeepsStderr", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		_, err := Run(context.Background(), s.options([]string{"debug"},
			"FAKEDBT_STDERR=Runtime Error\n  Could not find profile named 'jaffle_shop'", "FAKEDBT_EXIT=2"))
		var e *Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, Fatal, e.Kind)
		require.True(t, IsPermanent(err))
		require.Equal(t, "Runtime Error\n  Could not find profile named 'jaffle_shop'", e.Stderr)
		require.Contains(t, e.Message, "Could not find profile named 'jaffle_shop'")
	})

	t.Run("DebugFailureLoggedAtInfoLevel", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		// dbt debug reports a failed connection check with info-level
		// events and exits 1; the classification reads those lines too.
		log := filepath.Join(t.TempDir(), "debug.jsonl")
		require.NoError(t, os.WriteFile(log, []byte(
			`{"info": {"name": "DebugCmdOut", "level": "info", "msg": "  Connection test: [ERROR]\n"}, "data": {}}`+"\n"+
				`{"info": {"name": "DebugCmdResult", "level": "info", "msg": "1 check failed:\ndbt was unable to connect to the specified database.\n  connection to server at \"db\" (10.0.0.1), port 5432 failed: Connection refused"}, "data": {}}`+"\n"),
			0o644))
		_, err := Run(context.Background(), s.options([]string{"debug"}, "FAKEDBT_LOG="+log, "FAKEDBT_EXIT=1"))
		var e *Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, Transient, e.Kind)
		require.Contains(t, e.Message, "Connection test: [ERROR]")
	})

	t.Run("StopsAtFirstFailingCommand", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		log := sharedDbt(t, "logs", "postgres_run__failed_run_logs.jsonl")
		res, err := Run(context.Background(), s.options([]string{"seed", "run", "test"},
			"FAKEDBT_LOG_RUN="+log, "FAKEDBT_RUN_RESULTS_RUN=auto", "FAKEDBT_EXIT_RUN=1"))
		require.Error(t, err)
		recs := readRecord(t, s.record)
		require.Len(t, recs, 2, "test must not run after run failed")
		require.Equal(t, []string{"seed", "run"}, []string{res.Commands[0].Command, res.Commands[1].Command})
		require.Equal(t, 0, res.Commands[0].ExitCode)
		require.Equal(t, 1, res.Commands[1].ExitCode)
		require.True(t, res.Failed)
	})
}

func TestRunVersionCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, installed, style, required string
		wantErr                          string
	}{
		{name: "Satisfied", installed: "1.8.2", required: ">=1.7,<2.0"},
		{name: "LegacyOutput", installed: "1.4.5", style: "legacy", required: "~=1.4"},
		{name: "TooOld", installed: "1.6.9", required: ">=1.7,<2.0",
			wantErr: `1.6.9 is installed at {exe} but the task requires ">=1.7,<2.0": dbt 1.6.9 does not satisfy ">=1.7,<2.0" (clause ">=1.7"); install a matching dbt on the worker or change the required version`},
		{name: "PreReleaseOfExcludedMajor", installed: "2.0.0b1", required: ">=1.7,<2.0",
			wantErr: `dbt 2.0.0b1 does not satisfy ">=1.7,<2.0" (clause "<2.0")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := setup(t)
			opts := s.options([]string{"build"}, "FAKEDBT_VERSION="+tt.installed, "FAKEDBT_VERSION_STYLE="+tt.style)
			opts.RequiredVersion = tt.required
			res, err := Run(context.Background(), opts)
			recs := readRecord(t, s.record)
			require.Equal(t, []string{"--version"}, recs[0].Args)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.Equal(t, tt.installed, res.Version)
				require.Len(t, recs, 2)
				return
			}
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, Version, e.Kind)
			require.True(t, IsPermanent(err))
			require.Contains(t, e.Message, strings.ReplaceAll(tt.wantErr, "{exe}", s.exe))
			require.Len(t, recs, 1, "no dbt command runs after a version mismatch")
		})
	}
}

func TestRunCancel(t *testing.T) {
	t.Parallel()
	log := sharedDbt(t, "logs", "postgres_build_command__build_logs.jsonl")

	t.Run("SIGINT", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		marker := filepath.Join(t.TempDir(), "sigint")
		pidfile := filepath.Join(t.TempDir(), "pids")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		opts := s.options([]string{"build"}, "FAKEDBT_LOG="+log, "FAKEDBT_PACE=2ms", "FAKEDBT_SLEEP=60s",
			"FAKEDBT_MARKER="+marker, "FAKEDBT_SPAWN_CHILD=1", "FAKEDBT_PIDFILE="+pidfile)
		opts.Grace = 30 * time.Second
		opts.OnProgress = func(p Progress) {
			if p.Done == 3 {
				cancel()
			}
		}
		start := time.Now()
		res, err := Run(ctx, opts)
		elapsed := time.Since(start)
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, IsPermanent(err))
		require.Less(t, elapsed, opts.Grace, "dbt answered SIGINT, so Run must not wait for the grace period")
		b, err := os.ReadFile(marker)
		require.NoError(t, err, "the stand-in never saw SIGINT")
		require.Equal(t, "SIGINT\n", string(b))
		require.Equal(t, 130, res.Commands[0].ExitCode)
		require.True(t, res.Failed)
		require.GreaterOrEqual(t, len(res.Nodes), 3)
		require.Less(t, len(res.Nodes), 20)
		requireGroupGone(t, pidfile)
	})

	t.Run("SIGKILLAfterGrace", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		marker := filepath.Join(t.TempDir(), "sigint")
		pidfile := filepath.Join(t.TempDir(), "pids")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		opts := s.options([]string{"build"}, "FAKEDBT_LOG="+log, "FAKEDBT_SLEEP=120s", "FAKEDBT_IGNORE_SIGINT=1",
			"FAKEDBT_MARKER="+marker, "FAKEDBT_SPAWN_CHILD=1", "FAKEDBT_PIDFILE="+pidfile)
		opts.Grace = 300 * time.Millisecond
		var once sync.Once
		opts.OnProgress = func(p Progress) {
			if p.Completed {
				once.Do(cancel)
			}
		}
		start := time.Now()
		res, err := Run(ctx, opts)
		elapsed := time.Since(start)
		require.ErrorIs(t, err, context.Canceled)
		require.GreaterOrEqual(t, elapsed, opts.Grace, "SIGKILL must wait for the grace period")
		require.Less(t, elapsed, 60*time.Second, "the stand-in sleeps 120s: Run returned because of SIGKILL")
		require.Equal(t, -1, res.Commands[0].ExitCode, "killed by a signal")
		require.NoFileExists(t, marker)
		requireGroupGone(t, pidfile)
	})
}

func TestRunLeavesNoProcessBehind(t *testing.T) {
	t.Parallel()
	s := setup(t)
	pidfile := filepath.Join(t.TempDir(), "pids")
	// The stand-in exits normally but leaves a child in its process group.
	_, err := Run(context.Background(), s.options([]string{"run"}, "FAKEDBT_SPAWN_CHILD=1", "FAKEDBT_PIDFILE="+pidfile))
	require.NoError(t, err)
	requireGroupGone(t, pidfile)
}

// requireGroupGone checks that the stand-in and the child it started in its
// process group have exited.
func requireGroupGone(t *testing.T, pidfile string) {
	t.Helper()
	b, err := os.ReadFile(pidfile)
	require.NoError(t, err)
	pids := strings.Fields(string(b))
	require.Len(t, pids, 2, "the stand-in and its child")
	for _, p := range pids {
		pid, err := strconv.Atoi(p)
		require.NoError(t, err)
		require.Eventually(t, func() bool { return processGone(pid) }, 5*time.Second, 10*time.Millisecond, "pid %d still running", pid)
	}
}

func TestRunScrubsSecrets(t *testing.T) {
	t.Parallel()
	s := setup(t)
	const secret = "pa\"ss-W\u00f6rd-42"
	forms := []string{secret, `pa\"ss-W\u00f6rd-42`, `pa\"ss-Wörd-42`}
	manifest := filepath.Join(t.TempDir(), "manifest.json")
	require.NoError(t, os.WriteFile(manifest, []byte(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},
		"nodes": {"model.jaffle_shop.orders": {"compiled_code": "select 'pa\"ss-W\u00f6rd-42' as leaked"}}}`), 0o644))
	artifacts := t.TempDir()
	opts := s.options([]string{"run"},
		"FAKEDBT_LOG="+fixture(t, "logs", "secret_in_error.jsonl"),
		"FAKEDBT_RUN_RESULTS=auto", "FAKEDBT_MANIFEST="+manifest, "FAKEDBT_EXIT=1",
		"FAKEDBT_STDERR=psycopg2 warning: password "+secret+" rejected",
		"SLUICE_DBT_PG_PASSWORD="+secret)
	opts.Secrets = []string{secret}
	opts.Vars = map[string]any{"api_key": secret}
	opts.ArtifactDir = artifacts
	var seen []string
	opts.OnEvent = func(ev Event) { seen = append(seen, ev.Msg, string(ev.Data), ev.Raw) }
	opts.OnProgress = func(p Progress) {
		for _, r := range p.Results {
			seen = append(seen, r.Message)
		}
		seen = append(seen, p.Errors...)
	}
	res, err := Run(context.Background(), opts)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, ModelErrors, e.Kind)

	// dbt itself got the real values.
	recs := readRecord(t, s.record)
	require.Contains(t, recs[0].Args, `{"api_key":"pa\"ss-Wörd-42"}`)

	requireNoSecret := func(what, text string) {
		t.Helper()
		for _, f := range forms {
			require.NotContains(t, text, f, what)
		}
	}
	requireNoSecret("error", err.Error())
	requireNoSecret("stderr", e.Stderr)
	require.Contains(t, e.Stderr, "password "+Redacted+" rejected")
	require.Contains(t, e.Message, "postgres://sluice:"+Redacted+"@warehouse.internal")
	requireNoSecret("args", strings.Join(res.Commands[0].Args, " "))
	require.Contains(t, res.Commands[0].Args, `{"api_key":"`+Redacted+`"}`)
	for _, n := range res.Nodes {
		requireNoSecret("node message", n.Message)
	}
	require.True(t, res.Commands[0].FromRunResults)
	requireNoSecret("events and progress", strings.Join(seen, "\n"))

	// Every stored file: log, stderr, run_results.json, manifest.json.
	var stored []string
	require.NoError(t, filepath.WalkDir(artifacts, func(path string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(artifacts, path)
		stored = append(stored, rel)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		requireNoSecret(rel, string(b))
		require.Contains(t, string(b), Redacted, "%s was expected to carry the scrubbed secret", rel)
		return nil
	}))
	slices.Sort(stored)
	require.Equal(t, []string{"01_run/dbt_log.jsonl", "01_run/dbt_stderr.log", "01_run/manifest.json", "01_run/run_results.json"}, stored)
}

func TestRunArtifacts(t *testing.T) {
	t.Parallel()
	s := setup(t)
	manifest := sharedDbt(t, "manifests", "openlineage_structlogs_postgres_build__v12__dbt1.8.2__manifest.json")
	log := sharedDbt(t, "logs", "postgres_build_command__build_logs.jsonl")
	artifacts := filepath.Join(t.TempDir(), "store")
	opts := s.options([]string{"parse", "build"}, "FAKEDBT_MANIFEST_PARSE="+manifest,
		"FAKEDBT_LOG_BUILD="+log, "FAKEDBT_RUN_RESULTS_BUILD=auto", "FAKEDBT_EXIT_BUILD=1")
	opts.ArtifactDir = artifacts
	res, err := Run(context.Background(), opts)
	require.True(t, IsPermanent(err))
	require.Equal(t, []string{
		filepath.Join(artifacts, "01_parse", "manifest.json"),
		filepath.Join(artifacts, "01_parse", "dbt_log.jsonl"),
	}, res.Commands[0].Artifacts)
	require.Equal(t, []string{
		filepath.Join(artifacts, "02_build", "run_results.json"),
		filepath.Join(artifacts, "02_build", "dbt_log.jsonl"),
	}, res.Commands[1].Artifacts, "build did not rewrite manifest.json, so it is not stored again")

	var files []string
	require.NoError(t, filepath.WalkDir(artifacts, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	}))
	require.ElementsMatch(t, slices.Concat(res.Commands[0].Artifacts, res.Commands[1].Artifacts), files,
		"nothing else is stored (no empty stderr file)")

	stored, err := parseManifestFile(t, res.Commands[0].Artifacts[0])
	require.NoError(t, err)
	orig, err := parseManifestFile(t, manifest)
	require.NoError(t, err)
	require.Equal(t, orig, stored)

	logged, err := os.ReadFile(res.Commands[1].Artifacts[1])
	require.NoError(t, err)
	want, err := os.ReadFile(log)
	require.NoError(t, err)
	// With no secrets the stored log is dbt's output as is, every line
	// newline-terminated.
	require.True(t, strings.TrimRight(string(want), "\n")+"\n" == string(logged), "stored log differs from dbt's output")
	fi, err := os.Stat(res.Commands[1].Artifacts[1])
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestRunConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		modify  func(o *Options)
		wantErr string
	}{
		{"NoProjectDir", func(o *Options) { o.ProjectDir = "" }, "dbt options: ProjectDir is empty: set it to the folder holding dbt_project.yml"},
		{"NotAProject", func(o *Options) { o.ProjectDir = os.TempDir() }, "has no readable dbt_project.yml"},
		{"NoCommands", func(o *Options) { o.Commands = nil }, "dbt options: Commands is empty"},
		{"UnknownCommand", func(o *Options) { o.Commands = []string{"run", "run-operation grant"} },
			`dbt options: Commands[1] is "run-operation grant": not a dbt command Sluice runs; use one of "deps", "debug"`},
		{"SelectorAndSelect", func(o *Options) { o.Selector = "nightly"; o.Select = []string{"a"} }, `Selector "nightly" is set together with Select/Exclude`},
		{"NegativeThreads", func(o *Options) { o.Threads = -1 }, "dbt options: Threads is -1"},
		{"MissingExecutable", func(o *Options) { o.Executable = "/nonexistent/dbt" },
			`dbt executable "/nonexistent/dbt" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := setup(t)
			opts := s.options([]string{"run"})
			tt.modify(&opts)
			_, err := Run(context.Background(), opts)
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, Config, e.Kind)
			require.True(t, IsPermanent(err))
			require.Contains(t, e.Message, tt.wantErr)
			require.Empty(t, readRecord(t, s.record), "dbt must not start")
		})
	}
}

func TestRunCanceledBeforeStart(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, s.options([]string{"run"}))
	require.True(t, errors.Is(err, context.Canceled))
	require.Empty(t, readRecord(t, s.record))
}
