// Command sluice-worker runs Sluice's workflows and activities: it serves the
// task queues sluice, sluice-dbt and sluice-databricks for one project folder.
//
//	sluice-worker --project examples/olist
//
// Configuration comes from flags and the environment (TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, DATABASE_URL, SLUICE_WAREHOUSE_URL, SLUICE_PROJECT,
// SLUICE_QUEUES, SLUICE_SECRETS_DIR); see `sluice-worker --help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/sluicedata/sluice/internal/orchestrator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "sluice-worker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	cfg := orchestrator.ConfigFromEnv(os.Getenv)
	fs := flag.NewFlagSet("sluice-worker", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: sluice-worker [flags]

Runs Sluice's workflows and activities for one project folder.

Environment (flags win): TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATABASE_URL,
SLUICE_PROJECT, SLUICE_QUEUES, SLUICE_SECRETS_DIR, SLUICE_ARTIFACTS_DIR,
SLUICE_MAX_ACTIVITIES, SLUICE_DBT_CONCURRENCY, SLUICE_DBT (the dbt executable),
SLUICE_GIT_CACHE (bare clones of dbt projects in git), SLUICE_DATABRICKS_POLL_INTERVAL,
SLUICE_DATABRICKS_RETRY_TIMEOUT, SLUICE_DATABRICKS_HOST. The local engine's warehouse is
read from SLUICE_WAREHOUSE_URL by the project's sluice.yaml.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.ProjectDir, "project", cfg.ProjectDir, "project folder holding sluice.yaml (default .)")
	fs.StringVar(&cfg.TemporalAddress, "temporal-address", cfg.TemporalAddress, "Temporal frontend host:port (default 127.0.0.1:7233)")
	fs.StringVar(&cfg.Namespace, "namespace", cfg.Namespace, "Temporal namespace (default default)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "run history Postgres URL (default postgres://postgres@127.0.0.1:5432/sluice)")
	queues := fs.String("queues", strings.Join(cfg.Queues, ","), "task queues to serve, comma-separated (default all)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.Queues = nil
	for _, q := range strings.Split(*queues, ",") {
		if q = strings.TrimSpace(q); q != "" {
			cfg.Queues = append(cfg.Queues, q)
		}
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	deps, err := orchestrator.NewDependencies(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer deps.Close()

	c, err := client.DialContext(ctx, client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.Namespace,
		Logger:    tlog.NewStructuredLogger(logger),
	})
	if err != nil {
		return fmt.Errorf("connecting to Temporal at %s: %w (is the server running? `make dev-server` starts one)", cfg.TemporalAddress, err)
	}
	defer c.Close()
	if cfg.RegisterSearchAttributes {
		if err := orchestrator.EnsureSearchAttributes(ctx, c, cfg.Namespace); err != nil {
			logger.Warn("could not register search attributes; register them with `temporal operator search-attribute create`", "error", err)
		}
	}
	return orchestrator.Run(ctx, c, deps)
}
