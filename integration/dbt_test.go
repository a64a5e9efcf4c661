package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedata/sluice/internal/gitsource/gittest"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/cli"
	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
)

// dbt cannot be installed here (no PyPI): every test in this file runs the
// stand-in internal/dbt/testdata/fakedbt, built by the test, with SLUICE_DBT
// pointing at it. It replays REAL dbt 1.8.2 `--log-format json` logs and
// writes the REAL run_results.json/manifest.json of those runs, taken from
// ../shared/testdata/dbt; it exits as dbt does and records its argv and
// environment.

var fakeDbtBuild struct {
	once sync.Once
	path string
	err  error
}

// fakeDbt builds the stand-in dbt once per test binary.
func fakeDbt(t *testing.T) string {
	t.Helper()
	fakeDbtBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-fakedbt-")
		if err != nil {
			fakeDbtBuild.err = err
			return
		}
		fakeDbtBuild.path = filepath.Join(dir, "dbt")
		out, err := exec.Command("go", "build", "-o", fakeDbtBuild.path, "../internal/dbt/testdata/fakedbt").CombinedOutput()
		if err != nil {
			fakeDbtBuild.err = &buildError{err: err, out: string(out)}
		}
	})
	require.NoError(t, fakeDbtBuild.err)
	return fakeDbtBuild.path
}

// sharedDbt returns a path in the real dbt material, skipping the test when
// ../shared/testdata is not beside the checkout.
func sharedDbt(t *testing.T, parts ...string) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", "shared", "testdata", "dbt"))
	require.NoError(t, err)
	if _, err := os.Stat(root); err != nil {
		t.Skipf("real dbt test material not found at %s (CI has ../shared beside the checkout): %v", root, err)
	}
	return filepath.Join(append([]string{root}, parts...)...)
}

// dbtWorld is a project folder with a dbt project, pipelines running it
// through the stand-in, a worker, and the files the stand-in writes.
type dbtWorld struct {
	sb       *sandbox
	dir      string
	record   string // FAKEDBT_RECORD: one JSON line per dbt invocation
	marker   string // written with "SIGINT" when dbt is interrupted
	captured string // the profiles.yml the last wrapped invocation got
	secrets  map[string]string
	bare     string // a bare git repository holding the dbt project
	commit   string // its main branch
	artifact string // the worker's artifact store
}

const (
	dbxToken   = "dapi-integration-0123456789"
	whPassword = "wh-Pa55word"
)

func newDbtWorld(t *testing.T) *dbtWorld {
	t.Helper()
	fake := fakeDbt(t)
	runLog := sharedDbt(t, "logs", "postgres_run__successful_run_logs.jsonl")
	failedRunLog := sharedDbt(t, "logs", "postgres_run__failed_run_logs.jsonl")
	testLog := sharedDbt(t, "logs", "postgres_test__test_logs.jsonl")
	manifest := sharedDbt(t, "manifests", "openlineage_structlogs_postgres_run__v12__dbt1.8.2__manifest.json")

	dir := t.TempDir()
	sb := newSandbox(t, dir)
	w := &dbtWorld{sb: sb, dir: dir, record: filepath.Join(dir, "record.jsonl"), marker: filepath.Join(dir, "sigint"),
		captured: filepath.Join(dir, "captured-profiles.yml"), secrets: map[string]string{"DBX_TOKEN": dbxToken, "WH_PASSWORD": whPassword}}
	w.bare, w.commit = bareDbtRepo(t)

	secrets := filepath.Join(t.TempDir(), "secrets")
	for k, v := range w.secrets {
		writeTestFile(t, filepath.Join(secrets, k), v, 0o600)
	}
	// The warehouse URL carries a password (trust auth ignores it) so the
	// profile's secret handling is exercised on the local engine too.
	wh := strings.Replace(sb.whURL, "postgres@", "postgres:${secret:WH_PASSWORD}@", 1)
	writeTestFile(t, filepath.Join(dir, "sluice.yaml"), fmt.Sprintf(`project: dbtit
default_env: local
environments:
  local:
    engine: local
    warehouse: %q
  dbx:
    engine: databricks
    databricks: {host: "https://adb-123.4.azuredatabricks.net", token: "${secret:DBX_TOKEN}", warehouse_id: wh123, catalog: main, schema: analytics}
dbt_projects:
  shop: {path: dbt}
  shop_git: {repo: %q, ref: main, path: dbt}
  shop_wrapped: {path: dbt, executable: ./dbt-wrapper.sh}
`, wh, "file://"+w.bare), 0o644)
	writeTestFile(t, filepath.Join(dir, "dbt", "dbt_project.yml"), "name: jaffle_shop\nversion: '1.0'\nconfig-version: 2\nprofile: jaffle_shop\n", 0o644)
	// The wrapper is the project's `executable`: it keeps a copy of the
	// profile dbt gets, replays the successful run once ./fixed exists
	// (the model was fixed), and gives dbt parse the real manifest.
	writeTestFile(t, filepath.Join(dir, "dbt-wrapper.sh"), fmt.Sprintf(`#!/bin/sh
prev=
for a in "$@"; do
  if [ "$prev" = "--profiles-dir" ]; then cp "$a/profiles.yml" %q; fi
  prev=$a
done
if [ -f %q ]; then export FAKEDBT_LOG_RUN=%q FAKEDBT_EXIT_RUN=0; fi
echo "connecting with secret [$SLUICE_DBT_PG_PASSWORD$DBT_DATABRICKS_TOKEN]" >&2
export FAKEDBT_MANIFEST_PARSE=%q FAKEDBT_RECORD=%q
exec %q "$@"
`, w.captured, filepath.Join(dir, "fixed"), runLog, manifest, w.record, fake), 0o755)

	env := func(kv ...string) string {
		m := map[string]string{"FAKEDBT_RECORD": w.record}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return string(b)
	}
	pipelines := map[string]string{
		"dbt_ok": `params: {models: "tag:nightly stg_orders"}
tasks:
  - key: transform
    type: dbt
    with: {project: shop, commands: [run], select: ["${params.models}"], env: ` + env("FAKEDBT_LOG", runLog, "FAKEDBT_RUN_RESULTS", "auto", "FAKEDBT_MANIFEST", manifest) + `}`,
		"dbt_tests_fail": `tasks:
  - key: transform
    type: dbt
    retry: {attempts: 3, interval: 1s}
    with: {project: shop, commands: [run, test], env: ` + env("FAKEDBT_LOG_RUN", runLog, "FAKEDBT_LOG_TEST", testLog, "FAKEDBT_EXIT_TEST", "1",
			"FAKEDBT_RUN_RESULTS", "auto", "FAKEDBT_MANIFEST_RUN", manifest) + `}`,
		"dbt_slow": `tasks:
  - key: transform
    type: dbt
    heartbeat: 3s
    with: {project: shop, commands: [run], env: ` + env("FAKEDBT_LOG", runLog, "FAKEDBT_PACE", "500ms", "FAKEDBT_MARKER", w.marker) + `}`,
		"dbt_git": `tasks:
  - key: transform
    type: dbt
    with: {project: shop_git, commands: [run], env: ` + env("FAKEDBT_LOG", runLog) + `}`,
		"dbt_profile": `tasks:
  - key: transform
    type: dbt
    with: {project: shop_wrapped, commands: [run], target: "${env.name}", env: ` + env("FAKEDBT_LOG", runLog) + `}`,
		"dbt_repair": `tasks:
  - key: seed
    type: noop
  - key: transform
    type: dbt
    depends_on: [seed]
    with: {project: shop_wrapped, commands: [seed, run, test], env: ` + env("FAKEDBT_LOG_RUN", failedRunLog, "FAKEDBT_EXIT_RUN", "1",
			"FAKEDBT_RUN_RESULTS", "auto", "FAKEDBT_MANIFEST_RUN", manifest) + `}`,
	}
	for name, body := range pipelines {
		writeTestFile(t, filepath.Join(dir, "pipelines", name+".yaml"), "name: "+name+"\n"+body+"\n", 0o644)
	}
	sb.extraEnv = map[string]string{"SLUICE_DBT": fake, "SLUICE_GIT_CACHE": t.TempDir(), "SLUICE_SECRETS_DIR": secrets}
	deps := sb.startWorker()
	w.artifact = deps.Config.ArtifactsDir
	return w
}

// bareDbtRepo makes a bare git repository with the dbt project in dbt/.
func bareDbtRepo(t *testing.T) (bare, commit string) {
	t.Helper()
	return gittest.BareRepo(t, "analytics", map[string]string{
		"dbt/dbt_project.yml": "name: jaffle_shop\nversion: '1.0'\nconfig-version: 2\nprofile: jaffle_shop\n",
	})
}

func writeTestFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), mode))
}

// invocation is one call of the stand-in, as it recorded it.
type invocation struct {
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Dir  string   `json:"dir"`
}

func (w *dbtWorld) calls(t *testing.T) []invocation {
	t.Helper()
	b, err := os.ReadFile(w.record)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var out []invocation
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var c invocation
		require.NoError(t, json.Unmarshal([]byte(line), &c))
		out = append(out, c)
	}
	return out
}

func (c invocation) flag(name string) []string {
	for i, a := range c.Args {
		if a == name {
			var out []string
			for _, v := range c.Args[i+1:] {
				if strings.HasPrefix(v, "--") {
					break
				}
				out = append(out, v)
			}
			return out
		}
	}
	return nil
}

func (w *dbtWorld) task(t *testing.T, id, key string) *run.Task {
	t.Helper()
	st, err := w.sb.store.GetRun(context.Background(), id, "")
	require.NoError(t, err)
	tk := st.Task(key)
	require.NotNil(t, tk, "task %s of %s", key, id)
	return tk
}

func TestDbtTaskEndToEnd(t *testing.T) {
	t.Parallel()
	// The stand-in replays the real log and artifacts of a successful dbt run.
	w := newDbtWorld(t)
	code, out := w.sb.sluice("run", "dbt_ok", "--date", "2026-11-22", "--wait")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "dbt_ok in local: SUCCESS")
	require.Regexp(t, `transform\s+dbt\s+SUCCESS\s+1\s+\S+\s+5 nodes: 5 success`, out)

	calls := w.calls(t)
	require.Len(t, calls, 1)
	require.Equal(t, []string{"run"}, calls[0].Args[2:3])
	require.Equal(t, []string{"tag:nightly", "stg_orders"}, calls[0].flag("--select"))
	require.Equal(t, filepath.Join(w.dir, "dbt"), calls[0].flag("--project-dir")[0])

	tk := w.task(t, "sluice/dbt_ok/local/2026-11-22", "transform")
	require.Equal(t, dag.Success, tk.State)
	o := tk.Output
	require.Equal(t, float64(5), o["node_count"])
	require.Equal(t, "1.8.2", o["dbt_version"])
	var names []string
	for _, n := range o["nodes"].([]any) {
		node := n.(map[string]any)
		require.Equal(t, "success", node["status"])
		names = append(names, node["name"].(string))
	}
	require.Equal(t, []string{"stg_customers", "stg_orders", "stg_payments", "customers", "orders"}, names)
	logURI := o["log_uri"].(string)
	require.True(t, strings.HasPrefix(logURI, "file://"+w.artifact+"/sluice_dbt_ok_local_2026-11-22/"), logURI)
	require.True(t, strings.HasSuffix(logURI, "/transform/attempt-1/01_run/dbt_log.jsonl"), logURI)
	for _, k := range []string{"log_uri", "manifest_uri", "run_results_uri"} {
		require.FileExists(t, strings.TrimPrefix(o[k].(string), "file://"), k)
	}
	var logged string
	require.NoError(t, w.sb.store.Pool().QueryRow(context.Background(),
		`SELECT log_uri FROM task_runs WHERE workflow_id = $1 AND task_key = 'transform'`, "sluice/dbt_ok/local/2026-11-22").Scan(&logged))
	require.Equal(t, logURI, logged, "run history keeps the log URI")
}

func TestDbtTestFailuresFailTheTaskWithoutRetry(t *testing.T) {
	t.Parallel()
	// The stand-in replays a real dbt run, then a real dbt test with one failing test.
	w := newDbtWorld(t)
	code, out := w.sb.sluice("run", "dbt_tests_fail", "--date", "2026-11-22", "--wait")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "dbt_tests_fail in local: FAILED")
	require.Contains(t, out, "DbtTestFailures: dbt project shop: dbt test: 1 test failed")

	tk := w.task(t, "sluice/dbt_tests_fail/local/2026-11-22", "transform")
	require.Equal(t, dag.Failed, tk.State)
	require.Len(t, tk.Attempts, 1, "retry attempts: 3, but failing tests are not retried")
	require.Equal(t, "DbtTestFailures", tk.Error.Type)
	require.Contains(t, tk.Error.Message, "test accepted_values_customers_first_name__Jane [fail] 78 failing rows: Got 78 results, configured to fail if != 0")
	require.False(t, tk.Error.Retryable)
	require.Contains(t, tk.Attempts[0].Error.Detail, "log: file://"+w.artifact, "the attempt's error detail points at the log")
	require.Equal(t, 2, len(w.calls(t)), "dbt run, then dbt test; nothing after")
}

func TestDbtCancelInterruptsDbt(t *testing.T) {
	t.Parallel()
	// The stand-in replays a real dbt run log slowly and records SIGINT.
	w := newDbtWorld(t)
	id := "sluice/dbt_slow/local/2026-11-21"
	code, out := w.sb.sluice("run", "dbt_slow", "--date", "2026-11-21")
	require.Equal(t, 0, code, out)
	waitForTask(t, w.sb, id, "transform", dag.Running)
	require.Eventually(t, func() bool { return len(w.calls(t)) == 1 }, 30*time.Second, 100*time.Millisecond, "dbt started")

	code, out = w.sb.sluice("cancel", id)
	require.Equal(t, 0, code, out)
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(w.marker)
		return err == nil && string(b) == "SIGINT\n"
	}, 30*time.Second, 100*time.Millisecond, "dbt received SIGINT")

	code, out = w.sb.sluice("status", id, "--wait")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "dbt_slow in local: CANCELED")
	require.Equal(t, dag.Canceled, w.task(t, id, "transform").State)
}

func TestDbtProjectFromGit(t *testing.T) {
	t.Parallel()
	// The stand-in replays a real dbt run log in the checkout of a bare repository made here.
	w := newDbtWorld(t)
	code, out := w.sb.sluice("run", "dbt_git", "--date", "2026-11-22", "--wait")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "commit "+w.commit[:12])
	tk := w.task(t, "sluice/dbt_git/local/2026-11-22", "transform")
	require.Equal(t, w.commit, tk.Output["commit"])
	require.Equal(t, "refs/heads/main", tk.Output["ref"])
	calls := w.calls(t)
	require.Len(t, calls, 1)
	dir := calls[0].flag("--project-dir")[0]
	require.NotEqual(t, filepath.Join(w.dir, "dbt"), dir, "dbt runs in a private checkout of the commit")
	require.NoDirExists(t, dir, "and the checkout is removed afterwards")
}

func TestDbtProfilesKeepSecretsOffDisk(t *testing.T) {
	t.Parallel()
	// The stand-in replays a real dbt run log; its wrapper prints the secret it got on stderr.
	w := newDbtWorld(t)
	code, out := w.sb.sluice("run", "dbt_profile", "--env", "local", "--date", "2026-11-22", "--wait")
	require.Equal(t, 0, code, out)
	local, err := os.ReadFile(w.captured)
	require.NoError(t, err)
	require.Contains(t, string(local), "      type: postgres\n      host: \"127.0.0.1\"\n      port: 5432\n      user: \"postgres\"\n"+
		"      password: \"{{ env_var('SLUICE_DBT_PG_PASSWORD') }}\"\n")
	require.Contains(t, string(local), `target: "local"`)

	code, out = w.sb.sluice("run", "dbt_profile", "--env", "dbx", "--date", "2026-11-22", "--wait")
	require.Equal(t, 0, code, out)
	dbx, err := os.ReadFile(w.captured)
	require.NoError(t, err)
	require.Contains(t, string(dbx), `      type: databricks
      host: "adb-123.4.azuredatabricks.net"
      http_path: "/sql/1.0/warehouses/wh123"
      catalog: "main"
      schema: "analytics"
      token: "{{ env_var('DBT_DATABRICKS_TOKEN') }}"
`)
	calls := w.calls(t)
	require.Len(t, calls, 2)
	require.Contains(t, calls[0].Env, "SLUICE_DBT_PG_PASSWORD="+whPassword, "secrets reach dbt through its environment only")
	require.Contains(t, calls[1].Env, "DBT_DATABRICKS_TOKEN="+dbxToken)
	for _, c := range calls {
		require.NoDirExists(t, c.flag("--profiles-dir")[0], "the generated profile is removed after the run")
	}

	for _, secret := range []string{dbxToken, whPassword} {
		for _, dir := range []string{w.artifact, filepath.Join(w.dir, "dbt"), filepath.Join(w.dir, "pipelines")} {
			require.Empty(t, grep(t, dir, secret), "%s holds no secret", dir)
		}
		for _, id := range []string{"sluice/dbt_profile/local/2026-11-22", "sluice/dbt_profile/dbx/2026-11-22"} {
			st, err := w.sb.store.GetRun(context.Background(), id, "")
			require.NoError(t, err)
			b, err := json.Marshal(st)
			require.NoError(t, err)
			require.NotContains(t, string(b), secret, "run history holds no secret")
		}
	}
	stderr := grep(t, w.artifact, "connecting with secret [*****]")
	require.Len(t, stderr, 2, "dbt's stderr is stored, scrubbed, for both runs")
}

// TestDbtRepairRerunsFailedModels: a run whose model failed is repaired
// after the fix; the repair re-runs only the failed model and what is
// downstream of it, and does not repeat the seed that succeeded.
func TestDbtRepairRerunsFailedModels(t *testing.T) {
	t.Parallel()
	// The stand-in replays the real log of a dbt run whose model errored,
	// then (once ./fixed exists) the real log of the successful run.
	w := newDbtWorld(t)
	id := "sluice/dbt_repair/local/2026-11-22"
	code, out := w.sb.sluice("run", "dbt_repair", "--date", "2026-11-22", "--wait")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "DbtModelErrors")
	require.Contains(t, out, "model orders [error]")
	require.Len(t, w.calls(t), 2, "seed and run; test is not reached")

	writeTestFile(t, filepath.Join(w.dir, "fixed"), "", 0o644)
	code, out = w.sb.sluice("repair", id, "--wait")
	require.Equal(t, 0, code, out)
	calls := w.calls(t)[2:]
	require.Len(t, calls, 2, "the repair runs dbt run and dbt test; seed is reused")
	require.Equal(t, "run", calls[0].Args[2])
	require.Equal(t, []string{
		"accepted_values_orders_status__placed__shipped__completed__return_pending__returned",
		"not_null_orders_amount", "not_null_orders_bank_transfer_amount", "not_null_orders_coupon_amount",
		"not_null_orders_credit_card_amount", "not_null_orders_customer_id", "not_null_orders_gift_card_amount",
		"not_null_orders_order_id", "orders", "relationships_orders_customer_id__customer_id__ref_customers_",
		"unique_orders_order_id",
	}, calls[0].flag("--select"), "only the failed model and its children")
	require.Equal(t, "test", calls[1].Args[2])
	require.Empty(t, calls[1].flag("--select"), "test never ran: it runs as configured")
	require.Contains(t, out, "re-ran the failed nodes of run")
}

func TestDbtRefreshAndModels(t *testing.T) {
	t.Parallel()
	// The stand-in's dbt parse writes the real manifest of the jaffle_shop run capture.
	w := newDbtWorld(t)
	code, out := w.sb.sluice("dbt", "refresh", "shop_wrapped", "--wait")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "refreshed shop_wrapped in local: no commit (local folder outside git), 5 models\n")
	require.Regexp(t, `stg_customers\s+view\s+addthistag\s+models/staging/stg_customers.sql\s+raw_customers`, out)
	calls := w.calls(t)
	require.Len(t, calls, 1)
	require.Equal(t, "parse", calls[0].Args[2])

	code, out = w.sb.sluice("dbt", "models", "shop_wrapped")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "shop_wrapped in local: no commit (local folder outside git), dbt 1.8.2, refreshed ")
	require.Regexp(t, `MODEL\s+MATERIALIZED\s+TAGS\s+PATH\s+PARENTS`, out)
	require.Regexp(t, `\ncustomers\s+table\s+-\s+models/customers.sql\s+stg_customers,stg_orders,stg_payments\n`, out)

	code, out = w.sb.sluice("dbt", "models", "shop_wrapped", "-o", "json")
	require.Equal(t, 0, code, out)
	var v struct {
		Project    string `json:"project"`
		DbtVersion string `json:"dbt_version"`
		Models     []struct {
			Name    string   `json:"name"`
			Parents []string `json:"parents"`
		} `json:"models"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	require.Equal(t, "shop_wrapped", v.Project)
	require.Len(t, v.Models, 5)
	require.Equal(t, "orders", v.Models[1].Name)
	require.Equal(t, []string{"model.jaffle_shop.stg_orders", "model.jaffle_shop.stg_payments"}, v.Models[1].Parents)

	code, out = w.sb.sluice("dbt", "models", "shop")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "no stored manifest for dbt project shop: run `sluice dbt refresh shop --wait` first")

	// sluice validate warns about selections that match no model of the stored manifest.
	writeTestFile(t, filepath.Join(w.dir, "pipelines", "typo.yaml"), `name: typo
tasks:
  - key: t
    type: dbt
    with:
      project: shop_wrapped
      select: ["+stg_orderz tag:addthistag", "state:modified"]
`, 0o644)
	code, out = w.sb.sluice("validate")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, `pipelines/typo.yaml:7:15: warning: tasks[0].with.select[0]: dbt selector "+stg_orderz" matches no node of dbt project shop_wrapped`)
	require.Equal(t, 1, strings.Count(out, "matches no node"), "tag:addthistag matches; state: cannot be checked:\n%s", out)
}

func TestDbtModelsOfManifestFiles(t *testing.T) {
	t.Parallel()
	// Real manifest.json files of dbt 0.20 to 1.10 (../shared/testdata/dbt/manifests).
	files, err := filepath.Glob(sharedDbt(t, "manifests", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			code := cli.Execute(context.Background(), []string{"dbt", "models", "--manifest", file, "-o", "json"}, &out, &out,
				func(string) string { return "" })
			// Read the expected model names off the file itself.
			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			var doc struct {
				Metadata struct {
					Schema string `json:"dbt_schema_version"`
				} `json:"metadata"`
				Nodes map[string]struct {
					ResourceType string `json:"resource_type"`
				} `json:"nodes"`
			}
			require.NoError(t, json.Unmarshal(raw, &doc))
			if strings.HasSuffix(doc.Metadata.Schema, "/v2.json") {
				require.Equal(t, 1, code, out.String())
				require.Contains(t, out.String(), "manifest schema v2 (https://schemas.getdbt.com/dbt/manifest/v2.json, written by dbt 0.20.0) predates dbt 1.0 and is not supported: re-run `dbt parse` with dbt >= 1.0 to regenerate target/manifest.json")
				return
			}
			require.Equal(t, 0, code, out.String())
			var want []string
			for id, n := range doc.Nodes {
				if n.ResourceType == "model" {
					want = append(want, id)
				}
			}
			var v struct {
				SchemaVersion int `json:"schema_version"`
				Models        []struct {
					UniqueID string `json:"unique_id"`
				} `json:"models"`
			}
			require.NoError(t, json.Unmarshal(out.Bytes(), &v))
			require.GreaterOrEqual(t, v.SchemaVersion, 4)
			var got []string
			for _, m := range v.Models {
				got = append(got, m.UniqueID)
			}
			require.ElementsMatch(t, want, got)
			require.NotEmpty(t, got)

			out.Reset()
			code = cli.Execute(context.Background(), []string{"dbt", "models", "--manifest", file}, &out, &out, func(string) string { return "" })
			require.Equal(t, 0, code, out.String())
			require.Contains(t, out.String(), fmt.Sprintf("%s: manifest v%d of ", file, v.SchemaVersion))
			require.Equal(t, len(want)+2, strings.Count(out.String(), "\n"), "a title, a header and one line per model")
		})
	}
}

// grep lists the files under dir whose content contains s.
func grep(t *testing.T, dir, s string) []string {
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
		if bytes.Contains(b, []byte(s)) {
			hits = append(hits, p)
		}
		return nil
	})
	require.NoError(t, err)
	return hits
}
