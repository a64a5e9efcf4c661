package integration

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReadmeOperationsRecipe runs the README's operations commands exactly
// as written on the example project.
func TestReadmeOperationsRecipe(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, "../examples/olist")
	sb.extraEnv = map[string]string{"SLUICE_CATALOG": dbName(t, sb.whURL)}
	sb.startWorker()

	out := sb.runRecipe(t, "operations")
	id := "sluice/warehouse_smoke/local/2026-11-22"
	require.Contains(t, out, "warehouse_smoke in local: SUCCESS")
	// sluice runs
	require.Regexp(t, `\n\S+ \S+\s+warehouse_smoke\s+local\s+MANUAL\s+SUCCESS\s+\S+\s+-\s+`+id+`\n`, out)
	// sluice run-info
	require.Contains(t, out, "\n  workflow id   "+id+"\n")
	require.Regexp(t, `\njoin\s+sql\s+SUCCESS\s+1\s+\S+\s+-\s+2 statements, 1000 rows\n`, out)
	require.Contains(t, out, "\nNotifications\n  none sent\n")
	// sluice logs --task join
	require.Regexp(t, `\n== join \(sql\): SUCCESS, 1 attempt\nattempt 1 SUCCESS at [-0-9: ]+ \(\S+\)\n`, out)
	// sluice stats
	require.Regexp(t, `\nwarehouse_smoke\s+local\s+1\s+1\s+0\s+0\s+0\s+0\s+100\.0%\s+-\s+\S+\s+-\s+\S+\s+-`, out)
	require.Contains(t, out, "\nEvery pipeline that ran is at or above the 95% target.\n")
	// sluice runs --status FAILED -o json: the last command's output
	require.True(t, strings.HasSuffix(out, "\n[]\n"), out)
}
