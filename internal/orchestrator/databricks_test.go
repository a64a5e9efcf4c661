package orchestrator

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDatabricksConfig(t *testing.T) {
	t.Parallel()
	project := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(project, "sluice.yaml"), []byte("project: p\n"), 0o644))
	load := func(env map[string]string) Config {
		env["SLUICE_PROJECT"] = project
		return ConfigFromEnv(func(k string) string { return env[k] }).WithDefaults()
	}

	t.Run("FromTheEnvironment", func(t *testing.T) {
		t.Parallel()
		c := load(map[string]string{
			"SLUICE_DATABRICKS_POLL_INTERVAL": "100ms", "SLUICE_DATABRICKS_RETRY_TIMEOUT": "10s",
			"SLUICE_DATABRICKS_HOST": "http://127.0.0.1:8080",
		})
		require.NoError(t, c.Validate())
		require.Equal(t, DatabricksConfig{Host: "http://127.0.0.1:8080", PollInterval: 100 * time.Millisecond, RetryTimeout: 10 * time.Second}, c.Databricks)
		cl := c.Databricks.Clients()
		require.Equal(t, "http://127.0.0.1:8080", cl.Host)
		require.Equal(t, 100*time.Millisecond, cl.Tuning.PollMinInterval)
		require.Equal(t, 100*time.Millisecond, cl.Tuning.PollMaxInterval)
		require.Equal(t, 100*time.Millisecond, cl.Tuning.RetryMinBackoff)
		require.Equal(t, 10*time.Second, cl.Tuning.RetryTimeout)
	})

	t.Run("DefaultsAreTheLibrarys", func(t *testing.T) {
		t.Parallel()
		c := load(map[string]string{})
		require.NoError(t, c.Validate())
		tuning := c.Databricks.Clients().Tuning.WithDefaults()
		require.Equal(t, 2*time.Second, tuning.PollMinInterval)
		require.Equal(t, 30*time.Second, tuning.PollMaxInterval)
		require.Equal(t, 5*time.Minute, tuning.RetryTimeout)
	})

	t.Run("LongPollIntervalKeepsAQuickFirstPoll", func(t *testing.T) {
		t.Parallel()
		cl := load(map[string]string{"SLUICE_DATABRICKS_POLL_INTERVAL": "1m"}).Databricks.Clients()
		require.Equal(t, 2*time.Second, cl.Tuning.PollMinInterval)
		require.Equal(t, time.Minute, cl.Tuning.PollMaxInterval)
		require.Equal(t, 30*time.Second, cl.Tuning.RetryMaxBackoff)
	})

	t.Run("BadDurationNamesTheVariable", func(t *testing.T) {
		t.Parallel()
		c := load(map[string]string{"SLUICE_DATABRICKS_POLL_INTERVAL": "5 seconds", "SLUICE_DATABRICKS_RETRY_TIMEOUT": "-1s"})
		require.EqualError(t, c.Validate(), `SLUICE_DATABRICKS_POLL_INTERVAL: "5 seconds" is not a duration: use e.g. 10s or 2m
databricks retry timeout: must be positive, got -1s`)
	})
}
