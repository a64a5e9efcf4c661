// Package orchestrator assembles a Sluice worker: it builds the activities'
// dependencies from a Config, registers workflows and activities on the task
// queues, makes sure the namespace knows Sluice's search attributes, and
// runs until the context ends.
package orchestrator

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/store"
)

// Config is the worker's configuration. Every field has a default that works
// on a developer machine with Postgres and `temporal server start-dev`.
type Config struct {
	// TemporalAddress is the frontend host:port (TEMPORAL_ADDRESS, default 127.0.0.1:7233).
	TemporalAddress string
	// Namespace is the Temporal namespace (TEMPORAL_NAMESPACE, default "default").
	Namespace string
	// DatabaseURL is the run history database (DATABASE_URL, default
	// postgres://postgres@127.0.0.1:5432/sluice; created if missing).
	DatabaseURL string
	// ProjectDir is the project folder holding sluice.yaml (--project,
	// SLUICE_PROJECT, default ".").
	ProjectDir string
	// Queues are the task queues served (SLUICE_QUEUES, comma-separated;
	// default all of sluice, sluice-dbt, sluice-databricks).
	Queues []string
	// SecretsDir holds one file per secret (SLUICE_SECRETS_DIR, optional);
	// secrets are otherwise read from the worker's environment.
	SecretsDir string
	// SMTPCAFile is a PEM file of CA certificates that email channels trust
	// for SMTP TLS besides the system roots, for a mail relay with a private
	// CA (SLUICE_SMTP_CA_FILE, optional).
	SMTPCAFile string
	// ArtifactsDir keeps task artifacts: dbt logs, manifests (SLUICE_ARTIFACTS_DIR,
	// default <project>/.data/artifacts).
	ArtifactsDir string
	// DbtExecutable is the dbt executable dbt tasks run when their project
	// names none (SLUICE_DBT, default "dbt" on PATH).
	DbtExecutable string
	// GitCache holds bare clones of dbt projects that live in git
	// (SLUICE_GIT_CACHE, default <user cache dir>/sluice/git).
	GitCache string
	// MaxConcurrentActivities per queue on the default queue (SLUICE_MAX_ACTIVITIES, default 32).
	MaxConcurrentActivities int
	// DbtConcurrency is the most dbt processes at once (SLUICE_DBT_CONCURRENCY, default 2).
	DbtConcurrency int
	// RegisterSearchAttributes adds missing Sluice search attributes to the
	// namespace at start (SLUICE_REGISTER_SEARCH_ATTRIBUTES, default true).
	RegisterSearchAttributes bool
	// Databricks tunes the clients of engine: databricks tasks
	// (SLUICE_DATABRICKS_*; see DatabricksConfig).
	Databricks DatabricksConfig
}

// ConfigFromEnv reads the configuration from the environment; flags
// override fields afterwards.
func ConfigFromEnv(getenv func(string) string) Config {
	c := Config{
		TemporalAddress:          getenv("TEMPORAL_ADDRESS"),
		Namespace:                getenv("TEMPORAL_NAMESPACE"),
		DatabaseURL:              getenv("DATABASE_URL"),
		ProjectDir:               getenv("SLUICE_PROJECT"),
		SecretsDir:               getenv("SLUICE_SECRETS_DIR"),
		SMTPCAFile:               getenv("SLUICE_SMTP_CA_FILE"),
		ArtifactsDir:             getenv("SLUICE_ARTIFACTS_DIR"),
		DbtExecutable:            getenv("SLUICE_DBT"),
		GitCache:                 getenv("SLUICE_GIT_CACHE"),
		RegisterSearchAttributes: getenv("SLUICE_REGISTER_SEARCH_ATTRIBUTES") != "false",
	}
	if q := getenv("SLUICE_QUEUES"); q != "" {
		for _, s := range strings.Split(q, ",") {
			if s = strings.TrimSpace(s); s != "" {
				c.Queues = append(c.Queues, s)
			}
		}
	}
	c.MaxConcurrentActivities, _ = strconv.Atoi(getenv("SLUICE_MAX_ACTIVITIES"))
	c.DbtConcurrency, _ = strconv.Atoi(getenv("SLUICE_DBT_CONCURRENCY"))
	c.Databricks = databricksConfigFromEnv(getenv)
	return c
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	if c.TemporalAddress == "" {
		c.TemporalAddress = "127.0.0.1:7233"
	}
	if c.Namespace == "" {
		c.Namespace = "default"
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = store.DefaultURL
	}
	if c.ProjectDir == "" {
		c.ProjectDir = "."
	}
	if len(c.Queues) == 0 {
		c.Queues = []string{spec.QueueDefault, spec.QueueDbt, spec.QueueDatabricks}
	}
	if c.ArtifactsDir == "" {
		c.ArtifactsDir = filepath.Join(c.ProjectDir, ".data", "artifacts")
	}
	if c.GitCache == "" {
		if base, err := os.UserCacheDir(); err == nil {
			c.GitCache = filepath.Join(base, "sluice", "git")
		} else {
			c.GitCache = filepath.Join(c.ProjectDir, ".data", "git")
		}
	}
	if c.MaxConcurrentActivities == 0 {
		c.MaxConcurrentActivities = 32
	}
	if c.DbtConcurrency == 0 {
		c.DbtConcurrency = 2
	}
	return c
}

// Validate reports the first unusable field and how to fix it.
func (c Config) Validate() error {
	var errs []error
	if _, err := os.Stat(filepath.Join(c.ProjectDir, spec.ProjectFile)); err != nil {
		errs = append(errs, fmt.Errorf("project: no %s in %s: pass --project <folder> or set SLUICE_PROJECT", spec.ProjectFile, c.ProjectDir))
	}
	known := []string{spec.QueueDefault, spec.QueueDbt, spec.QueueDatabricks}
	for _, q := range c.Queues {
		if !slices.Contains(known, q) {
			errs = append(errs, fmt.Errorf("queues: unknown task queue %q (use %s)", q, strings.Join(known, ", ")))
		}
	}
	if c.MaxConcurrentActivities < 1 {
		errs = append(errs, fmt.Errorf("max activities: must be at least 1, got %d", c.MaxConcurrentActivities))
	}
	if c.DbtConcurrency < 1 {
		errs = append(errs, fmt.Errorf("dbt concurrency: must be at least 1, got %d", c.DbtConcurrency))
	}
	errs = append(errs, c.Databricks.validate()...)
	return errors.Join(errs...)
}
