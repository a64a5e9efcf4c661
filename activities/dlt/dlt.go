// Package dlt runs dlt_pipeline tasks: a DLT (Lakeflow Declarative) pipeline
// update. On the local engine that is the project's local pipeline folder run
// by internal/lakehouse on the warehouse; on Databricks, a workspace update.
package dlt

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"github.com/sluicedata/sluice/activities/databricks"
	"github.com/sluicedata/sluice/internal/lakehouse"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
	"github.com/sluicedata/sluice/internal/warehouse"
)

// Activities runs DLT pipeline updates.
type Activities struct {
	Runner *task.Runner
	Pools  *warehouse.Pools
	// Databricks builds workspace clients for engine: databricks.
	Databricks *databricks.Clients
}

// UpdateInput is one attempt of a dlt_pipeline task.
type UpdateInput struct {
	Meta   task.Meta              `json:"meta"`
	Config spec.DLTPipelineConfig `json:"config"`
}

// UpdateResult summarises an update. Local: files loaded, rows, quarantined
// records, steps and the row count of every table the pipeline owns.
type UpdateResult struct {
	Pipeline    string           `json:"pipeline"`
	Engine      string           `json:"engine"`
	FullRefresh bool             `json:"full_refresh,omitempty"`
	FilesLoaded int              `json:"files_loaded"`
	FilesSeen   int              `json:"files_skipped"`
	RowsLoaded  int64            `json:"rows_loaded"`
	Quarantined int64            `json:"quarantined"`
	Loaded      map[string]int64 `json:"loaded,omitempty"`
	Malformed   map[string]int64 `json:"malformed,omitempty"`
	Steps       []Step           `json:"steps,omitempty"`
	Tables      map[string]int64 `json:"tables,omitempty"`
	DurationMS  int64            `json:"duration_ms"`
	// Databricks
	PipelineID string             `json:"pipeline_id,omitempty"`
	UpdateID   string             `json:"update_id,omitempty"`
	URL        string             `json:"url,omitempty"`
	States     []databricks.State `json:"states,omitempty"`
	Reattached bool               `json:"reattached,omitempty"`
}

// Step is one SQL step of a local update.
type Step struct {
	File         string `json:"file"`
	RowsAffected int64  `json:"rows_affected"`
	DurationMS   int64  `json:"duration_ms"`
}

// Error types.
const (
	ErrUpdateFailed = "DLTUpdateFailed"
	ErrUnavailable  = "WarehouseUnavailable"
)

// RunUpdate runs one update of the task's pipeline.
func (a *Activities) RunUpdate(ctx context.Context, in UpdateInput) (UpdateResult, error) {
	return task.Run(ctx, a.Runner, in.Meta, func(ctx context.Context, at *task.Attempt) (UpdateResult, error) {
		def, ok := in.Meta.Target.DLTPipelines[in.Config.Pipeline]
		if !ok {
			return UpdateResult{}, task.Permanent(task.ErrConfig, "DLT pipeline %q is not defined in sluice.yaml dlt_pipelines", in.Config.Pipeline)
		}
		switch in.Meta.Target.Engine {
		case spec.EngineLocal:
			return a.local(ctx, at, in, def)
		case spec.EngineDatabricks:
			return a.databricks(ctx, at, in, def)
		}
		return UpdateResult{}, task.Permanent(task.ErrConfig, "dlt_pipeline on engine %s is not available on this worker", in.Meta.Target.Engine)
	})
}

func (a *Activities) local(ctx context.Context, at *task.Attempt, in UpdateInput, def spec.DLTPipelineDef) (UpdateResult, error) {
	start := time.Now()
	dir := filepath.Join(in.Meta.Target.ProjectDir, def.Local)
	p, err := lakehouse.Load(dir)
	if err != nil {
		return UpdateResult{}, task.Permanent(task.ErrConfig, "%v", err)
	}
	dsn, err := at.Resolve(in.Meta.Target.Warehouse)
	if err != nil {
		return UpdateResult{}, err
	}
	pool, err := a.Pools.Catalog(ctx, dsn, in.Meta.Target.Catalog)
	if err != nil {
		return UpdateResult{}, task.Transient(ErrUnavailable, "%v", err)
	}
	vars := map[string]string{
		"logical_date": in.Meta.LogicalDate.UTC().Format(time.DateOnly),
		"catalog":      in.Meta.Target.Catalog,
		"pipeline":     in.Config.Pipeline,
		"env":          in.Meta.Env,
	}
	res, err := lakehouse.Run(ctx, pool, p, lakehouse.Options{
		VolumeDir:   in.Meta.Target.Volume,
		FullRefresh: in.Config.FullRefresh,
		Vars:        vars,
		Progress: func(pr lakehouse.Progress) {
			switch pr.Phase {
			case lakehouse.PhaseStep:
				at.Progress("step %d/%d %s", pr.StepsDone+1, pr.StepsTotal, pr.Step)
			default:
				at.Progress("ingest %d/%d %s (%d rows)", pr.FilesDone, pr.FilesTotal, pr.File, pr.Rows)
			}
		},
	})
	if err != nil {
		if ctx.Err() != nil {
			return UpdateResult{}, ctx.Err()
		}
		if warehouse.IsUnavailable(err) {
			return UpdateResult{}, task.Transient(ErrUnavailable, "%s: %v", in.Config.Pipeline, err)
		}
		return UpdateResult{}, task.Permanent(ErrUpdateFailed, "%s update failed: %v", in.Config.Pipeline, firstLine(err.Error())).WithDetail(err.Error())
	}
	out := UpdateResult{
		Pipeline: in.Config.Pipeline, Engine: spec.EngineLocal, FullRefresh: in.Config.FullRefresh,
		FilesLoaded: len(res.Files), FilesSeen: res.Skipped, Loaded: res.Loaded, Malformed: res.Quarantined,
		Tables: res.Tables, DurationMS: time.Since(start).Milliseconds(),
	}
	for _, n := range res.Loaded {
		out.RowsLoaded += n
	}
	for _, n := range res.Quarantined {
		out.Quarantined += n
	}
	for _, s := range res.Steps {
		out.Steps = append(out.Steps, Step{File: s.File, RowsAffected: s.RowsAffected, DurationMS: s.Duration.Milliseconds()})
	}
	return out, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
