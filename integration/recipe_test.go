package integration

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// recipe returns the shell block that follows `<!-- recipe: name -->` in
// the README, so tests run the documented commands exactly as written.
func recipe(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	re := regexp.MustCompile("(?s)<!-- recipe: " + regexp.QuoteMeta(name) + " -->\\s*```(?:bash|sh)\\n(.*?)```")
	m := re.FindSubmatch(b)
	require.NotNil(t, m, "README.md has no recipe %q", name)
	return string(m[1])
}

// runRecipe runs a README recipe with bash against the sandbox: the temporal
// CLI on PATH, TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE pointing at it.
func (sb *sandbox) runRecipe(t *testing.T, name string) string {
	t.Helper()
	script := recipe(t, name)
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(),
		"PATH="+binaries(t)+":"+filepath.Dir(sb.srv.CLI)+":"+os.Getenv("PATH"),
		"TEMPORAL_ADDRESS="+sb.srv.HostPort, "TEMPORAL_NAMESPACE="+sb.namespace)
	for k, v := range sb.env() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "recipe %s failed:\n%s\n%s", name, script, out)
	return string(out)
}

// dbName is the database of a Postgres URL (the catalog on the local engine).
func dbName(t *testing.T, dsn string) string {
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	return strings.TrimPrefix(u.Path, "/")
}

func TestReadmeTemporalCLIRecipe(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, "../examples/olist")
	sb.extraEnv = map[string]string{"SLUICE_CATALOG": dbName(t, sb.whURL)}
	sb.startWorker()

	out := sb.runRecipe(t, "temporal-start")
	require.Contains(t, out, "Status          COMPLETED")
	require.Regexp(t, `Result\s+\{.*"status":"SUCCESS"`, out, "temporal workflow result prints the run status")
	require.Regexp(t, `QueryResult\s+\{.*"status":"SUCCESS"`, out, "the status query answers")
	require.Contains(t, out, `"message":"warehouse_smoke 2026-11-22: joined 1000 rows"`)
	require.Equal(t, [][]any{{int64(1000)}}, sb.query("SELECT count(*) FROM smoke.joined WHERE logical_date = '2026-11-22'"))
}
