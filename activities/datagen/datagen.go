// Package datagen runs generate_data tasks: an Olist-shaped batch of CSV
// files and CDC events written atomically into the environment's volume.
package datagen

import (
	"context"
	"fmt"
	"time"

	"github.com/sluicedata/sluice/activities/databricks"
	"github.com/sluicedata/sluice/internal/datagen"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
)

// Activities generates datasets.
type Activities struct {
	Runner *task.Runner
	// Databricks builds workspace clients for engine: databricks.
	Databricks *databricks.Clients
}

// GenerateInput is one attempt of a generate_data task.
type GenerateInput struct {
	Meta   task.Meta               `json:"meta"`
	Config spec.GenerateDataConfig `json:"config"`
}

// GenerateResult describes the batch. Rows and Totals are what downstream
// checks compare bronze counts with (${tasks.generate_data.output.totals.orders}).
type GenerateResult struct {
	Dataset        string           `json:"dataset"`
	Batch          int64            `json:"batch"`
	Dir            string           `json:"dir"`
	Orders         int              `json:"orders"`
	Rows           map[string]int64 `json:"rows"`
	Malformed      map[string]int64 `json:"malformed"`
	Totals         map[string]int64 `json:"totals"`
	Files          []string         `json:"files"`
	AlreadyWritten bool             `json:"already_written"`
	DurationMS     int64            `json:"duration_ms"`
}

// Defaults of generate_data.
const (
	DefaultSeed   = 42
	DefaultOrders = 1000
)

// Generate writes one batch. The batch number defaults to the logical date
// (yyyymmdd), so a run is idempotent: a retry, or a second run for the same
// date, finds the batch written and writes nothing.
func (a *Activities) Generate(ctx context.Context, in GenerateInput) (GenerateResult, error) {
	return task.Run(ctx, a.Runner, in.Meta, func(ctx context.Context, at *task.Attempt) (GenerateResult, error) {
		if in.Meta.Target.Engine == spec.EngineDatabricks {
			return a.generateDatabricks(ctx, at, in)
		}
		if in.Meta.Target.Engine != spec.EngineLocal {
			return GenerateResult{}, task.Permanent(task.ErrConfig, "generate_data on engine %s needs the Databricks volume writer, which this worker does not have", in.Meta.Target.Engine)
		}
		cfg := Config(in.Config, in.Meta.LogicalDate)
		start := time.Now()
		res, err := datagen.Generate(ctx, in.Meta.Target.Volume, cfg, func(p datagen.Progress) {
			at.Progress("%s: %d/%d orders", p.Table, p.Orders, p.OrdersTotal)
		})
		if err != nil {
			if ctx.Err() != nil {
				return GenerateResult{}, ctx.Err()
			}
			return GenerateResult{}, task.Transient("GenerateFailed", "generating batch %d into %s: %v", cfg.Batch, in.Meta.Target.Volume, err)
		}
		out := GenerateResult{
			Dataset: res.Dataset, Batch: res.Batch, Dir: res.Dir, Orders: res.Config.Orders,
			Rows: res.Rows, Malformed: res.Malformed, Totals: res.Totals,
			AlreadyWritten: res.AlreadyWritten, DurationMS: time.Since(start).Milliseconds(),
		}
		for _, f := range res.Files {
			out.Files = append(out.Files, f.Path)
		}
		return out, nil
	})
}

// Config turns a task's config into the generator's, with defaults: seed 42,
// 1000 orders, batch = the logical date as yyyymmdd.
func Config(c spec.GenerateDataConfig, logical time.Time) datagen.Config {
	cfg := datagen.Config{Dataset: c.Dataset, Seed: c.Seed, Batch: c.Batch, Orders: c.Orders, MalformedRate: c.MalformedRate}
	if cfg.Seed == 0 {
		cfg.Seed = DefaultSeed
	}
	if cfg.Orders == 0 {
		cfg.Orders = DefaultOrders
	}
	if cfg.Batch == 0 {
		var b int64
		fmt.Sscanf(logical.UTC().Format("20060102"), "%d", &b)
		cfg.Batch = b
	}
	return cfg.WithDefaults()
}
