package orchestrator

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/sluicedata/sluice/activities/builtin"
	adatabricks "github.com/sluicedata/sluice/activities/databricks"
	"github.com/sluicedata/sluice/activities/datagen"
	"github.com/sluicedata/sluice/activities/dbt"
	"github.com/sluicedata/sluice/activities/dlt"
	"github.com/sluicedata/sluice/activities/history"
	"github.com/sluicedata/sluice/activities/notify"
	"github.com/sluicedata/sluice/activities/plan"
	"github.com/sluicedata/sluice/activities/quality"
	"github.com/sluicedata/sluice/activities/warehouse"
	inotify "github.com/sluicedata/sluice/internal/notify"
	"github.com/sluicedata/sluice/internal/secret"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/store"
	"github.com/sluicedata/sluice/internal/task"
	wh "github.com/sluicedata/sluice/internal/warehouse"
	"github.com/sluicedata/sluice/workflows"
)

// Dependencies are what activities hold. Build them once per process.
type Dependencies struct {
	Config Config
	Store  *store.Store
	Pools  *wh.Pools
	Logger *slog.Logger
	// Getenv resolves ${env:VAR} when planning (default os.LookupEnv).
	Getenv func(string) (string, bool)
	// SMTPTLS is the TLS configuration of email channels (nil: system roots).
	SMTPTLS *tls.Config
	// Databricks builds and keeps the workspace clients of engine:
	// databricks tasks, one per environment configuration.
	Databricks *adatabricks.Clients
}

// NewDependencies opens the history store (migrating it) and the warehouse pools.
func NewDependencies(ctx context.Context, cfg Config, logger *slog.Logger) (*Dependencies, error) {
	smtpTLS, err := cfg.smtpTLSConfig()
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	return &Dependencies{Config: cfg, Store: st, Pools: &wh.Pools{}, Logger: logger, SMTPTLS: smtpTLS,
		Databricks: cfg.Databricks.Clients()}, nil
}

// Close releases connections.
func (d *Dependencies) Close() {
	d.Pools.Close()
	d.Store.Close()
}

// Register puts Sluice's workflows and the activities of one task queue on
// a worker.
func Register(w worker.Registry, queue string, d *Dependencies) {
	runner := &task.Runner{Secrets: &secret.Store{Dir: d.Config.SecretsDir}}
	if queue == spec.QueueDefault {
		w.RegisterWorkflowWithOptions(workflows.RunPipeline, workflow.RegisterOptions{Name: "RunPipeline"})
		w.RegisterWorkflowWithOptions(workflows.Backfill, workflow.RegisterOptions{Name: workflows.BackfillWorkflowName})
		w.RegisterActivity(&plan.Activities{ProjectDir: d.Config.ProjectDir, Getenv: d.Getenv})
		w.RegisterActivity(&history.Activities{Store: d.Store})
		w.RegisterWorkflowWithOptions(workflows.RefreshDbtProject, workflow.RegisterOptions{Name: workflows.RefreshDbtProjectName})
	}
	// Task activities are registered on every queue: the plan decides where
	// each task runs (dbt on sluice-dbt, Databricks pollers on
	// sluice-databricks), and a worker serving a queue runs what lands there.
	w.RegisterActivity(&builtin.Activities{Runner: runner})
	w.RegisterActivity(&warehouse.Activities{Runner: runner, Pools: d.Pools, Databricks: d.Databricks})
	w.RegisterActivity(&notify.Activities{Runner: runner, Secrets: runner.Secrets, Store: d.Store, Logger: d.Logger,
		Sender: &inotify.Sender{Logger: d.Logger, TLSConfig: d.SMTPTLS}})
	w.RegisterActivity(&datagen.Activities{Runner: runner, Databricks: d.Databricks})
	w.RegisterActivity(&dlt.Activities{Runner: runner, Pools: d.Pools, Databricks: d.Databricks})
	w.RegisterActivity(&quality.Activities{Runner: runner, Pools: d.Pools, Databricks: d.Databricks})
	w.RegisterActivity(&adatabricks.Activities{Runner: runner, Clients: d.Databricks})
	w.RegisterActivity(&dbt.Activities{Runner: runner, ProjectDir: d.Config.ProjectDir, ArtifactsDir: d.Config.ArtifactsDir,
		GitCache: d.Config.GitCache, Executable: d.Config.DbtExecutable, Store: d.Store, Getenv: d.Getenv,
		EnsureCatalog: func(ctx context.Context, warehouseURL, catalog string) error {
			_, err := d.Pools.Catalog(ctx, warehouseURL, catalog)
			return err
		}})
}

// Run serves the configured task queues until ctx ends, then stops the
// workers gracefully (running activities get their context cancelled and
// a grace period to return).
func Run(ctx context.Context, c client.Client, d *Dependencies) error {
	var workers []worker.Worker
	for _, q := range d.Config.Queues {
		opts := worker.Options{
			MaxConcurrentActivityExecutionSize: d.Config.MaxConcurrentActivities,
			WorkerStopTimeout:                  15 * time.Second,
		}
		if q == spec.QueueDbt {
			opts.MaxConcurrentActivityExecutionSize = d.Config.DbtConcurrency
		}
		w := worker.New(c, q, opts)
		Register(w, q, d)
		if err := w.Start(); err != nil {
			for _, started := range workers {
				started.Stop()
			}
			return fmt.Errorf("starting worker on %s: %w", q, err)
		}
		workers = append(workers, w)
		d.Logger.Info("serving task queue", "queue", q, "namespace", d.Config.Namespace)
	}
	<-ctx.Done()
	d.Logger.Info("stopping workers")
	for _, w := range slices.Backward(workers) {
		w.Stop()
	}
	return nil
}

// EnsureSearchAttributes adds Sluice's search attributes to the namespace
// when they are missing.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	op := c.OperatorService()
	resp, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("listing search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range workflows.SearchAttributes {
		if _, ok := resp.GetCustomAttributes()[name]; ok {
			continue
		}
		missing[name] = enumspb.IndexedValueType(enumspb.IndexedValueType_value["INDEXED_VALUE_TYPE_"+upper(typ)])
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	if err != nil {
		return fmt.Errorf("adding search attributes %v: %w", keys(missing), err)
	}
	return nil
}

func upper(typ string) string {
	switch typ {
	case "Keyword":
		return "KEYWORD"
	case "Datetime":
		return "DATETIME"
	case "KeywordList":
		return "KEYWORD_LIST"
	}
	return typ
}

func keys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
