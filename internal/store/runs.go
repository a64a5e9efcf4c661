package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
)

// Snapshot is one write of a run's state. Progress snapshots may carry only
// the tasks that changed; the final one carries all of them.
type Snapshot struct {
	Seq  int64           `json:"seq"`
	Run  run.Status      `json:"run"`
	Plan json.RawMessage `json:"plan,omitempty"`
}

// SaveRun upserts a run and its tasks, attempts and error texts in one
// transaction. Rows already written with a higher sequence number are kept.
func (s *Store) SaveRun(ctx context.Context, snap Snapshot) error {
	r := snap.Run
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var warnings []byte
		if len(r.Warnings) > 0 {
			warnings, _ = json.Marshal(r.Warnings)
		}
		params, _ := json.Marshal(r.Params)
		_, err := tx.Exec(ctx, `
INSERT INTO runs (workflow_id, run_id, project, pipeline, env, trigger, logical_date, status, params,
                  plan_hash, plan, repair_of, error, warnings, started_at, ended_at, seq, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, now())
ON CONFLICT (workflow_id, run_id) DO UPDATE SET
    status = EXCLUDED.status, plan_hash = EXCLUDED.plan_hash,
    plan = COALESCE(EXCLUDED.plan, runs.plan), params = EXCLUDED.params,
    error = EXCLUDED.error, warnings = EXCLUDED.warnings,
    logical_date = EXCLUDED.logical_date, ended_at = EXCLUDED.ended_at,
    seq = EXCLUDED.seq, updated_at = now()
WHERE runs.seq <= EXCLUDED.seq`,
			r.WorkflowID, r.RunID, r.Project, r.Pipeline, r.Env, string(r.Trigger), nullTime(r.LogicalDate),
			string(r.Status), params, r.PlanHash, nullJSON(snap.Plan), r.RepairOf, r.Error, nullJSON(warnings),
			r.StartedAt, nullTime(r.EndedAt), snap.Seq)
		if err != nil {
			return fmt.Errorf("saving run %s: %w", r.WorkflowID, err)
		}
		for _, t := range r.Tasks {
			if err := saveTask(ctx, tx, r, t, snap.Seq); err != nil {
				return err
			}
		}
		return nil
	})
}

func saveTask(ctx context.Context, tx pgx.Tx, r run.Status, t run.Task, seq int64) error {
	var errType, errMsg string
	if t.Error != nil {
		errType, errMsg = t.Error.Type, t.Error.Message
	}
	var output []byte
	if t.Output != nil {
		output, _ = json.Marshal(t.Output)
	}
	logURI, _ := t.Output["log_uri"].(string)
	var resume []byte
	if len(t.Resume) > 0 {
		resume = t.Resume
	}
	deps := t.DependsOn
	if deps == nil {
		deps = []string{}
	}
	_, err := tx.Exec(ctx, `
INSERT INTO task_runs (workflow_id, run_id, task_key, position, type, state, depends_on, attempts,
                       started_at, ended_at, error_type, error_message, output, log_uri, reused_from, resume, seq, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, now())
ON CONFLICT (workflow_id, run_id, task_key) DO UPDATE SET
    state = EXCLUDED.state, attempts = EXCLUDED.attempts, started_at = EXCLUDED.started_at,
    ended_at = EXCLUDED.ended_at, error_type = EXCLUDED.error_type, error_message = EXCLUDED.error_message,
    output = EXCLUDED.output, log_uri = EXCLUDED.log_uri, reused_from = EXCLUDED.reused_from,
    resume = EXCLUDED.resume, seq = EXCLUDED.seq, updated_at = now()
WHERE task_runs.seq <= EXCLUDED.seq`,
		r.WorkflowID, r.RunID, t.Key, t.Index, t.Type, string(t.State), deps, len(t.Attempts),
		nullTime(t.StartedAt), nullTime(t.EndedAt), errType, errMsg, nullJSON(output), logURI, t.Reused, nullJSON(resume), seq)
	if err != nil {
		return fmt.Errorf("saving task %s of %s: %w", t.Key, r.WorkflowID, err)
	}
	for _, a := range t.Attempts {
		var aType, aMsg string
		if a.Error != nil {
			aType, aMsg = a.Error.Type, a.Error.Message
		}
		_, err := tx.Exec(ctx, `
INSERT INTO task_attempts (workflow_id, run_id, task_key, attempt, state, started_at, ended_at, error_type, error_message)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (workflow_id, run_id, task_key, attempt) DO UPDATE SET
    state = EXCLUDED.state, ended_at = EXCLUDED.ended_at,
    error_type = EXCLUDED.error_type, error_message = EXCLUDED.error_message`,
			r.WorkflowID, r.RunID, t.Key, a.N, string(a.State), a.StartedAt, nullTime(a.EndedAt), aType, aMsg)
		if err != nil {
			return fmt.Errorf("saving attempt %d of %s: %w", a.N, t.Key, err)
		}
		if a.Error != nil {
			_, err := tx.Exec(ctx, `
INSERT INTO run_errors (workflow_id, run_id, task_key, attempt, error_type, message, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (workflow_id, run_id, task_key, attempt) DO UPDATE SET
    error_type = EXCLUDED.error_type, message = EXCLUDED.message, detail = EXCLUDED.detail`,
				r.WorkflowID, r.RunID, t.Key, a.N, a.Error.Type, a.Error.Message, a.Error.Detail)
			if err != nil {
				return fmt.Errorf("saving error of %s attempt %d: %w", t.Key, a.N, err)
			}
		}
	}
	return nil
}

// RunFilter selects runs for listings.
type RunFilter struct {
	Pipeline string
	Env      string
	Status   string
	Since    time.Time
	Limit    int
	// RepairOf lists the runs that repair this workflow id.
	RepairOf string
}

// RunSummary is a row of a run listing.
type RunSummary struct {
	WorkflowID  string     `json:"workflow_id"`
	RunID       string     `json:"run_id"`
	Pipeline    string     `json:"pipeline"`
	Env         string     `json:"env"`
	Trigger     string     `json:"trigger"`
	Status      dag.Status `json:"status"`
	LogicalDate *time.Time `json:"logical_date,omitempty"`
	StartedAt   time.Time  `json:"started_at"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	FailedTasks []string   `json:"failed_tasks,omitempty"`
	RepairOf    string     `json:"repair_of,omitempty"`
	Error       string     `json:"error,omitempty"`
}

// ListRuns returns runs, newest first.
func (s *Store) ListRuns(ctx context.Context, f RunFilter) ([]RunSummary, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.Pipeline != "" {
		where = append(where, "r.pipeline = "+arg(f.Pipeline))
	}
	if f.Env != "" {
		where = append(where, "r.env = "+arg(f.Env))
	}
	if f.Status != "" {
		where = append(where, "r.status = "+arg(strings.ToUpper(f.Status)))
	}
	if !f.Since.IsZero() {
		where = append(where, "r.started_at >= "+arg(f.Since))
	}
	if f.RepairOf != "" {
		where = append(where, "r.repair_of = "+arg(f.RepairOf))
	}
	if f.Limit <= 0 {
		f.Limit = 20
	}
	q := `
SELECT r.workflow_id, r.run_id, r.pipeline, r.env, r.trigger, r.status, r.logical_date, r.started_at, r.ended_at,
       r.repair_of, r.error,
       COALESCE((SELECT array_agg(t.task_key ORDER BY t.position) FROM task_runs t
                 WHERE t.workflow_id = r.workflow_id AND t.run_id = r.run_id
                   AND t.state IN ('FAILED', 'TIMEDOUT', 'UPSTREAM_FAILED', 'CANCELED')), '{}')
FROM runs r`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY r.started_at DESC LIMIT " + arg(f.Limit)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (RunSummary, error) {
		var r RunSummary
		var status string
		err := row.Scan(&r.WorkflowID, &r.RunID, &r.Pipeline, &r.Env, &r.Trigger, &status, &r.LogicalDate,
			&r.StartedAt, &r.EndedAt, &r.RepairOf, &r.Error, &r.FailedTasks)
		r.Status = dag.Status(status)
		return r, err
	})
}

// GetRun returns a run with its tasks and attempts. runID "" means the
// latest run of the workflow id.
func (s *Store) GetRun(ctx context.Context, workflowID, runID string) (*run.Status, error) {
	var r run.Status
	var trigger, status string
	var params, warnings []byte
	var logical, ended *time.Time
	err := s.pool.QueryRow(ctx, `
SELECT workflow_id, run_id, project, pipeline, env, trigger, logical_date, status, params, plan_hash,
       repair_of, error, warnings, started_at, ended_at
FROM runs WHERE workflow_id = $1 AND ($2 = '' OR run_id = $2)
ORDER BY started_at DESC LIMIT 1`, workflowID, runID).Scan(
		&r.WorkflowID, &r.RunID, &r.Project, &r.Pipeline, &r.Env, &trigger, &logical, &status, &params,
		&r.PlanHash, &r.RepairOf, &r.Error, &warnings, &r.StartedAt, &ended)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", workflowID, translate(err))
	}
	r.Trigger, r.Status = run.Trigger(trigger), dag.Status(status)
	if logical != nil {
		r.LogicalDate = *logical
	}
	if ended != nil {
		r.EndedAt = *ended
	}
	_ = json.Unmarshal(params, &r.Params)
	_ = json.Unmarshal(warnings, &r.Warnings)

	rows, err := s.pool.Query(ctx, `
SELECT task_key, position, type, state, depends_on, started_at, ended_at, error_type, error_message, output, reused_from, resume
FROM task_runs WHERE workflow_id = $1 AND run_id = $2 ORDER BY position`, r.WorkflowID, r.RunID)
	if err != nil {
		return nil, fmt.Errorf("tasks of %s: %w", workflowID, err)
	}
	r.Tasks, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (run.Task, error) {
		var t run.Task
		var state, errType, errMsg string
		var started, ended *time.Time
		var output, resume []byte
		err := row.Scan(&t.Key, &t.Index, &t.Type, &state, &t.DependsOn, &started, &ended, &errType, &errMsg, &output, &t.Reused, &resume)
		if len(resume) > 0 {
			t.Resume = resume
		}
		t.State = dag.State(state)
		if started != nil {
			t.StartedAt = *started
		}
		if ended != nil {
			t.EndedAt = *ended
		}
		if errType != "" || errMsg != "" {
			t.Error = &run.Error{Type: errType, Message: errMsg}
		}
		if len(output) > 0 {
			_ = json.Unmarshal(output, &t.Output)
		}
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("tasks of %s: %w", workflowID, err)
	}
	rows, err = s.pool.Query(ctx, `
SELECT a.task_key, a.attempt, a.state, a.started_at, a.ended_at, a.error_type, a.error_message, COALESCE(e.detail, '')
FROM task_attempts a
LEFT JOIN run_errors e USING (workflow_id, run_id, task_key, attempt)
WHERE a.workflow_id = $1 AND a.run_id = $2 ORDER BY a.task_key, a.attempt`, r.WorkflowID, r.RunID)
	if err != nil {
		return nil, fmt.Errorf("attempts of %s: %w", workflowID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, state, errType, errMsg, detail string
		var a run.Attempt
		var ended *time.Time
		if err := rows.Scan(&key, &a.N, &state, &a.StartedAt, &ended, &errType, &errMsg, &detail); err != nil {
			return nil, err
		}
		a.State = dag.State(state)
		if ended != nil {
			a.EndedAt = *ended
		}
		if errType != "" {
			a.Error = &run.Error{Type: errType, Message: errMsg, Detail: detail}
		}
		if t := r.Task(key); t != nil {
			t.Attempts = append(t.Attempts, a)
		}
	}
	return &r, rows.Err()
}

// PlanOf returns the plan a run was started with.
func (s *Store) PlanOf(ctx context.Context, workflowID, runID string) (json.RawMessage, error) {
	var plan []byte
	err := s.pool.QueryRow(ctx, `
SELECT plan FROM runs WHERE workflow_id = $1 AND ($2 = '' OR run_id = $2) AND plan IS NOT NULL
ORDER BY started_at DESC LIMIT 1`, workflowID, runID).Scan(&plan)
	if err != nil {
		return nil, fmt.Errorf("plan of %s: %w", workflowID, translate(err))
	}
	return plan, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func nullJSON(b []byte) any {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	return b
}
