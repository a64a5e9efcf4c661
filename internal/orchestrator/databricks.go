package orchestrator

import (
	"fmt"
	"time"

	adatabricks "github.com/sluicedata/sluice/activities/databricks"
	"github.com/sluicedata/sluice/internal/databricks"
)

// DatabricksConfig tunes the Databricks clients of a worker. Workspaces and
// credentials come from each environment in sluice.yaml (or the SDK's
// DATABRICKS_* variables and profiles), never from here.
type DatabricksConfig struct {
	// Host, when set, replaces the host of every databricks environment: a
	// proxy in front of the workspace, or a test workspace
	// (SLUICE_DATABRICKS_HOST, default: each environment's host).
	Host string
	// PollInterval is the longest wait between two polls of an update, run
	// or statement; polls start at min(2s, PollInterval) after a change and
	// slow down while nothing changes (SLUICE_DATABRICKS_POLL_INTERVAL,
	// default 30s). Keep it below the tasks' heartbeat timeout.
	PollInterval time.Duration
	// RetryTimeout is how long one Databricks call retries transient
	// failures (HTTP 429 and 5xx, timeouts) before the attempt fails as
	// retryable (SLUICE_DATABRICKS_RETRY_TIMEOUT, default 5m).
	RetryTimeout time.Duration

	envErrs []error
}

func databricksConfigFromEnv(getenv func(string) string) DatabricksConfig {
	d := DatabricksConfig{Host: getenv("SLUICE_DATABRICKS_HOST")}
	for _, f := range []struct {
		name string
		dst  *time.Duration
	}{
		{"SLUICE_DATABRICKS_POLL_INTERVAL", &d.PollInterval},
		{"SLUICE_DATABRICKS_RETRY_TIMEOUT", &d.RetryTimeout},
	} {
		v := getenv(f.name)
		if v == "" {
			continue
		}
		p, err := time.ParseDuration(v)
		if err != nil {
			d.envErrs = append(d.envErrs, fmt.Errorf("%s: %q is not a duration: use e.g. 10s or 2m", f.name, v))
			continue
		}
		*f.dst = p
	}
	return d
}

func (d DatabricksConfig) validate() []error {
	errs := append([]error(nil), d.envErrs...)
	if d.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("databricks poll interval: must be positive, got %s", d.PollInterval))
	}
	if d.RetryTimeout < 0 {
		errs = append(errs, fmt.Errorf("databricks retry timeout: must be positive, got %s", d.RetryTimeout))
	}
	return errs
}

// Clients returns the worker's Databricks client cache with these settings.
func (d DatabricksConfig) Clients() *adatabricks.Clients {
	tuning := databricks.Config{RetryTimeout: d.RetryTimeout}
	if p := d.PollInterval; p > 0 {
		tuning.PollMaxInterval = p
		tuning.PollMinInterval = min(2*time.Second, p)
		// Retries back off like polls: never longer than a poll interval.
		tuning.RetryMinBackoff = min(time.Second, p)
		tuning.RetryMaxBackoff = min(30*time.Second, max(p, tuning.RetryMinBackoff))
	}
	return &adatabricks.Clients{Host: d.Host, Tuning: tuning}
}
