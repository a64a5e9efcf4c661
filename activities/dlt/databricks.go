package dlt

import (
	"context"
	"fmt"
	"time"

	dbxtask "github.com/sluicedata/sluice/activities/databricks"
	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
)

// ErrUpdateCanceled is the error type of an update canceled in the
// workspace (by a person or another tool), not by Sluice.
const ErrUpdateCanceled = "DLTUpdateCanceled"

// updateResume is what a Databricks update attempt heartbeats. Before the
// start it holds the pipeline id and when the start was asked for, so an
// attempt whose start outcome is unknown finds the update by cause and time
// instead of starting another; then the update id to re-attach to. Ended
// marks an update that finished or that this task stopped: a later attempt
// (a retry, a repair) starts a new update, while the same attempt resumed
// on another worker re-attaches to read the result.
type updateResume struct {
	Run              string          `json:"run"`
	Attempt          int             `json:"attempt"`
	PipelineID       string          `json:"pipeline_id"`
	UpdateID         string          `json:"update_id,omitempty"`
	StartRequestedAt time.Time       `json:"start_requested_at"`
	States           []dbxtask.State `json:"states,omitempty"`
	Ended            bool            `json:"ended,omitempty"`
}

// databricks runs one update of the workspace pipeline def names, or
// re-attaches to the update an earlier attempt started.
func (a *Activities) databricks(ctx context.Context, at *task.Attempt, in UpdateInput, def spec.DLTPipelineDef) (UpdateResult, error) {
	start := time.Now()
	m, name := in.Meta, in.Config.Pipeline
	if def.Databricks == nil {
		return UpdateResult{}, task.Permanent(task.ErrConfig,
			"DLT pipeline %q has no databricks definition: add databricks: {name: ...} or {id: ...} to dlt_pipelines.%s in %s",
			name, name, spec.ProjectFile)
	}
	client, err := a.Databricks.For(at, m.Target.Databricks)
	if err != nil {
		return UpdateResult{}, err
	}
	req := databricks.UpdateRequest{
		PipelineID: def.Databricks.ID, PipelineName: def.Databricks.Name,
		FullRefresh: in.Config.FullRefresh, RefreshSelection: in.Config.RefreshSelection,
		FullRefreshSelection: in.Config.FullRefreshSelection,
		Ref:                  fmt.Sprintf("%s dlt_pipelines.%s.databricks", spec.ProjectFile, name),
	}

	var prev updateResume
	at.Resume(&prev)
	var resume *databricks.UpdateResume
	if prev.PipelineID != "" && (!prev.Ended || prev.Run == m.RunID && prev.Attempt == m.Attempt) {
		resume = &databricks.UpdateResume{PipelineID: prev.PipelineID, UpdateID: prev.UpdateID,
			StartRequestedAt: prev.StartRequestedAt, States: dbxtask.Spans(prev.States)}
	} else {
		pid, err := client.ResolvePipeline(ctx, req)
		if err != nil {
			return UpdateResult{}, dbxtask.TaskError(ctx, err, nil)
		}
		// Recorded before the start: if this worker dies while the start is
		// in flight, the next attempt looks for the update before starting.
		at.Heartbeat(updateResume{Run: m.RunID, Attempt: m.Attempt, PipelineID: pid, StartRequestedAt: time.Now()}, "starting an update")
	}

	res, err := dbxtask.Attached(ctx, func(ctx context.Context, attached func() bool) (databricks.UpdateResult, error) {
		return client.RunUpdate(ctx, req, resume, func(r databricks.UpdateResume, p databricks.UpdateProgress) {
			if attached() {
				at.Heartbeat(resumeOf(m, r, false), updateProgress(p))
			}
		})
	})
	if isTerminal(res.State) || dbxtask.Stopped(ctx, err) {
		last := databricks.UpdateResume{PipelineID: res.PipelineID, UpdateID: res.UpdateID, States: res.States}
		at.Heartbeat(resumeOf(m, last, true), "")
	}
	if err != nil {
		return UpdateResult{}, dbxtask.TaskError(ctx, err, map[databricks.Kind]string{
			databricks.KindFailed:   ErrUpdateFailed,
			databricks.KindCanceled: ErrUpdateCanceled,
		})
	}
	return UpdateResult{
		Pipeline: name, Engine: spec.EngineDatabricks, FullRefresh: in.Config.FullRefresh,
		PipelineID: res.PipelineID, UpdateID: res.UpdateID, URL: res.URL, States: dbxtask.States(res.States),
		Reattached: res.Reattached, DurationMS: time.Since(start).Milliseconds(),
	}, nil
}

func resumeOf(m task.Meta, r databricks.UpdateResume, ended bool) updateResume {
	return updateResume{Run: m.RunID, Attempt: m.Attempt, PipelineID: r.PipelineID, UpdateID: r.UpdateID,
		StartRequestedAt: r.StartRequestedAt, States: dbxtask.States(r.States), Ended: ended}
}

func isTerminal(state string) bool {
	return state == "COMPLETED" || state == "FAILED" || state == "CANCELED"
}

// updateProgress is the progress line: "RUNNING 2m".
func updateProgress(p databricks.UpdateProgress) string {
	if p.State == "" {
		return fmt.Sprintf("update %s started", p.UpdateID)
	}
	return fmt.Sprintf("%s %s", p.State, dbxtask.Elapsed(p.Elapsed))
}
