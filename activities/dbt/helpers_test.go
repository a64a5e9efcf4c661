package dbt

import (
	"encoding/json"
	"errors"
	"fmt"
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
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/sluicedata/sluice/internal/secret"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
)

// dbt cannot be installed where Sluice is built, so these tests run the
// stand-in internal/dbt/testdata/fakedbt: it replays REAL dbt 1.8.2 logs and
// artifacts from ../shared/testdata/dbt (stdout, run_results.json,
// manifest.json, exit codes, SIGINT handling) and records its argv, env and
// working directory. FAKEDBT_* variables reach it through the task's `env`.

var fakeDbtBin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sluice-adbt-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fakeDbtBin.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fakeDbt builds the stand-in dbt once per test binary and returns its path.
func fakeDbt(t testing.TB) string {
	t.Helper()
	fakeDbtBin.once.Do(func() {
		fakeDbtBin.path = filepath.Join(fakeDbtBin.dir, "dbt")
		out, err := exec.Command("go", "build", "-o", fakeDbtBin.path, "../../internal/dbt/testdata/fakedbt").CombinedOutput()
		if err != nil {
			fakeDbtBin.err = fmt.Errorf("building the stand-in dbt: %w\n%s", err, out)
		}
	})
	require.NoError(t, fakeDbtBin.err)
	return fakeDbtBin.path
}

// shared returns a path under the real dbt material, skipping the test when
// ../shared/testdata is not beside the checkout.
func shared(t testing.TB, parts ...string) string {
	t.Helper()
	root := filepath.Join("..", "..", "..", "shared", "testdata", "dbt")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("real dbt test material not found at %s (CI has ../shared beside the checkout): %v", root, err)
	}
	p, err := filepath.Abs(filepath.Join(append([]string{root}, parts...)...))
	require.NoError(t, err)
	return p
}

// Real dbt 1.8.2 captures on Postgres (jaffle_shop) and their manifests.
func runLog(t testing.TB) string { return shared(t, "logs", "postgres_run__successful_run_logs.jsonl") }
func failedRunLog(t testing.TB) string {
	return shared(t, "logs", "postgres_run__failed_run_logs.jsonl")
}
func testLog(t testing.TB) string { return shared(t, "logs", "postgres_test__test_logs.jsonl") }
func buildLog(t testing.TB) string {
	return shared(t, "logs", "postgres_build_command__build_logs.jsonl")
}
func runManifest(t testing.TB) string {
	return shared(t, "manifests", "openlineage_structlogs_postgres_run__v12__dbt1.8.2__manifest.json")
}

// fixture is one test's world: a project folder holding a dbt project, an
// artifact store, a git cache, and the activity environment.
type fixture struct {
	t         *testing.T
	acts      *Activities
	env       *testsuite.TestActivityEnvironment
	project   string // the Sluice project folder
	dbtDir    string // project/dbt: the local dbt project
	artifacts string
	record    string // FAKEDBT_RECORD file
	secrets   map[string]string
}

func setup(t *testing.T) *fixture {
	t.Helper()
	base := t.TempDir()
	f := &fixture{t: t, project: filepath.Join(base, "project"), artifacts: filepath.Join(base, "artifacts"),
		record: filepath.Join(base, "record.jsonl"), secrets: map[string]string{}}
	f.dbtDir = filepath.Join(f.project, "dbt")
	writeFile(t, filepath.Join(f.dbtDir, "dbt_project.yml"), "name: jaffle_shop\nversion: '1.0'\nconfig-version: 2\nprofile: jaffle_shop\n")
	f.acts = &Activities{
		Runner: &task.Runner{Secrets: &secret.Store{Getenv: func(k string) (string, bool) {
			v, ok := f.secrets[k]
			return v, ok
		}}},
		ProjectDir:   f.project,
		ArtifactsDir: f.artifacts,
		GitCache:     filepath.Join(base, "git"),
		Executable:   fakeDbt(t),
		Getenv:       func(string) (string, bool) { return "", false },
		Grace:        2 * time.Second,
	}
	f.env = f.newEnv()
	return f
}

// newEnv returns an activity environment running f's activities. One
// environment runs one activity at a time.
func (f *fixture) newEnv() *testsuite.TestActivityEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestActivityEnvironment()
	env.SetTestTimeout(2 * time.Minute)
	env.RegisterActivity(f.acts)
	return env
}

// meta is attempt n of task "transform" of a local-engine run.
func (f *fixture) meta(n int) task.Meta {
	return task.Meta{
		Project: "itest", Pipeline: "dbt_job", Env: "local", WorkflowID: "sluice/dbt_job/local/2026-11-22", RunID: "run-1",
		Task: "transform", Type: "dbt", Attempt: n, Timeout: spec.Duration(time.Minute),
		Target: spec.Target{Env: "local", Engine: spec.EngineLocal, ProjectDir: f.project,
			Warehouse: "postgres://postgres@127.0.0.1:5432/sluice_lakehouse", Catalog: "olist_local",
			DbtProjects: map[string]spec.DbtProject{"shop": {Path: "dbt"}}},
	}
}

// fake returns the task env that makes the stand-in record its calls.
func (f *fixture) fake(kv ...string) map[string]string {
	env := map[string]string{"FAKEDBT_RECORD": f.record}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

// run executes the Run activity and decodes its result.
func (f *fixture) run(in RunInput) (RunResult, error) {
	f.t.Helper()
	val, err := f.env.ExecuteActivity(f.acts.RunDbt, in)
	var out RunResult
	if err == nil {
		require.NoError(f.t, val.Get(&out))
	}
	return out, err
}

// failure reads a task error as the workflow does.
func failure(t *testing.T, err error) (*temporal.ApplicationError, task.Failure) {
	t.Helper()
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "want an application error, got %T: %v", err, err)
	var fl task.Failure
	require.NoError(t, ae.Details(&fl))
	return ae, fl
}

// recorded is one invocation of the stand-in.
type recorded struct {
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Dir  string   `json:"dir"`
}

func (r recorded) command() string {
	var words []string
	for _, a := range r.Args[2:] { // after --log-format json
		if strings.HasPrefix(a, "-") {
			break
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

// flag returns the values after flag up to the next flag.
func (r recorded) flag(name string) []string {
	for i, a := range r.Args {
		if a != name {
			continue
		}
		var out []string
		for _, v := range r.Args[i+1:] {
			if strings.HasPrefix(v, "--") {
				break
			}
			out = append(out, v)
		}
		return out
	}
	return nil
}

func (r recorded) getenv(k string) string {
	for _, kv := range r.Env {
		if v, ok := strings.CutPrefix(kv, k+"="); ok {
			return v
		}
	}
	return ""
}

func (f *fixture) calls() []recorded {
	f.t.Helper()
	b, err := os.ReadFile(f.record)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(f.t, err)
	var out []recorded
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r recorded
		require.NoError(f.t, json.Unmarshal([]byte(line), &r))
		out = append(out, r)
	}
	return out
}

func commands(calls []recorded) []string {
	var out []string
	for _, c := range calls {
		if len(c.Args) == 1 && c.Args[0] == "--version" {
			out = append(out, "--version")
			continue
		}
		out = append(out, c.command())
	}
	return out
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

// grepTree lists the files under dir whose content contains s.
func grepTree(t testing.TB, dir, s string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), s) {
			hits = append(hits, p)
		}
		return nil
	})
	require.NoError(t, err)
	return hits
}

// fromURI turns a file:// URI of the output into a path.
func fromURI(t testing.TB, uri string) string {
	t.Helper()
	p, ok := strings.CutPrefix(uri, "file://")
	require.True(t, ok, "not a file URI: %s", uri)
	return p
}
