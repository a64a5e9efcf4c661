package databricks

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
)

// Activities runs databricks_job tasks.
type Activities struct {
	Runner  *task.Runner
	Clients *Clients
}

// JobInput is one attempt of a databricks_job task.
type JobInput struct {
	Meta   task.Meta                `json:"meta"`
	Config spec.DatabricksJobConfig `json:"config"`
}

// JobResult describes a finished job run.
type JobResult struct {
	JobID      int64  `json:"job_id"`
	RunID      int64  `json:"run_id"`
	RunPageURL string `json:"run_page_url,omitempty"`
	// Outcome is SUCCESS or SUCCESS_WITH_FAILURES (other outcomes are errors).
	Outcome string `json:"outcome"`
	// States are the run's life-cycle states with how long each lasted.
	States []State `json:"states,omitempty"`
	// Tasks are the run's tasks as the Jobs API lists them.
	Tasks []JobTask `json:"tasks,omitempty"`
	// Reattached is true when this attempt picked up a run started earlier.
	Reattached bool  `json:"reattached,omitempty"`
	DurationMS int64 `json:"duration_ms"`
}

// JobTask is the final state of one task of the run.
type JobTask struct {
	Key   string `json:"key"`
	RunID int64  `json:"run_id"`
	// State is the task's result_state, or its life_cycle_state when it has
	// no result (e.g. SKIPPED).
	State      string `json:"state"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error,omitempty"`
}

// jobResume is what a databricks_job attempt heartbeats: the idempotency
// token it uses and, once run-now answered, the run to re-attach to. Ended
// marks a run that finished or that this task cancelled (its timeout): a
// later attempt (a retry, a repair) starts a new run under a new token
// instead of re-attaching, while the same attempt resumed on another worker
// re-attaches to read the result.
type jobResume struct {
	Run        string  `json:"run"`
	Attempt    int     `json:"attempt"`
	Token      string  `json:"token,omitempty"`
	JobID      int64   `json:"job_id,omitempty"`
	RunID      int64   `json:"run_id,omitempty"`
	RunPageURL string  `json:"run_page_url,omitempty"`
	States     []State `json:"states,omitempty"`
	Ended      bool    `json:"ended,omitempty"`
}

// RunJob runs an existing job with run-now and waits for the run to end.
// The idempotency token is derived from the workflow id, run id and task key
// (databricks.IdempotencyToken), so a retry of the request or of the attempt
// never starts a second run; an attempt that finds a run id in the resume
// details re-attaches to it. Cancelling the task cancels the run.
func (a *Activities) RunJob(ctx context.Context, in JobInput) (JobResult, error) {
	return task.Run(ctx, a.Runner, in.Meta, func(ctx context.Context, at *task.Attempt) (JobResult, error) {
		start := time.Now()
		m := in.Meta
		if m.Target.Engine != spec.EngineDatabricks {
			return JobResult{}, task.Permanent(task.ErrConfig,
				"task %s: databricks_job needs an environment with engine: databricks, and %s uses engine %s", m.Task, m.Env, m.Target.Engine)
		}
		client, err := a.Clients.For(at, m.Target.Databricks)
		if err != nil {
			return JobResult{}, err
		}
		params := make(map[string]string, len(in.Config.JobParameters))
		for k, v := range in.Config.JobParameters {
			if params[k], err = at.Resolve(v); err != nil {
				return JobResult{}, fmt.Errorf("task %s: with.job_parameters.%s: %w", m.Task, k, err)
			}
		}
		req := databricks.JobRequest{
			JobID: in.Config.JobID, JobName: in.Config.Job, Parameters: params,
			Ref: fmt.Sprintf("task %s with.job_id / with.job", m.Task),
		}

		var prev jobResume
		at.Resume(&prev)
		var resume *databricks.JobResume
		req.IdempotencyToken = databricks.IdempotencyToken(m.WorkflowID, m.RunID, m.Task)
		switch {
		case prev.Ended && (prev.Run != m.RunID || prev.Attempt != m.Attempt):
			// The earlier run is over (or was cancelled by a timeout): the
			// same token would only return it again.
			req.IdempotencyToken = databricks.IdempotencyToken(m.WorkflowID, m.RunID, m.Task, fmt.Sprintf("attempt-%d", m.Attempt))
		case prev.RunID != 0:
			resume = &databricks.JobResume{JobID: prev.JobID, RunID: prev.RunID, RunPageURL: prev.RunPageURL, States: Spans(prev.States)}
			if prev.Token != "" {
				req.IdempotencyToken = prev.Token
			}
		case prev.Token != "":
			req.IdempotencyToken = prev.Token
		}
		token := req.IdempotencyToken
		if resume == nil {
			at.Heartbeat(jobResume{Run: m.RunID, Attempt: m.Attempt, Token: token}, "starting a run")
		}

		res, err := Attached(ctx, func(ctx context.Context, attached func() bool) (databricks.JobResult, error) {
			return client.RunJob(ctx, req, resume, func(r databricks.JobResume, p databricks.JobProgress) {
				if attached() {
					at.Heartbeat(jobResumeOf(m, r, token, false), jobProgress(p))
				}
			})
		})
		// A run cancelled before run-now answered keeps its token: run-now
		// with it returns the run if the request took effect after all.
		if res.Outcome != "" || Stopped(ctx, err) && res.RunID != 0 {
			last := databricks.JobResume{JobID: res.JobID, RunID: res.RunID, RunPageURL: res.RunPageURL, States: res.States}
			at.Heartbeat(jobResumeOf(m, last, token, true), "")
		}
		if err != nil {
			return JobResult{}, TaskError(ctx, err, nil)
		}
		out := JobResult{
			JobID: res.JobID, RunID: res.RunID, RunPageURL: res.RunPageURL, Outcome: string(res.Outcome),
			States: States(res.States), Reattached: res.Reattached, DurationMS: time.Since(start).Milliseconds(),
		}
		for _, t := range res.Tasks {
			state := t.ResultState
			if state == "" {
				state = t.LifeCycleState
			}
			out.Tasks = append(out.Tasks, JobTask{Key: t.TaskKey, RunID: t.RunID, State: state,
				DurationMS: t.Duration.Milliseconds(), Error: t.Error})
		}
		return out, nil
	})
}

func jobResumeOf(m task.Meta, r databricks.JobResume, token string, ended bool) jobResume {
	return jobResume{Run: m.RunID, Attempt: m.Attempt, Token: token, JobID: r.JobID, RunID: r.RunID, RunPageURL: r.RunPageURL, States: States(r.States), Ended: ended}
}

// jobProgress is the progress line: "run 123 RUNNING 2m".
func jobProgress(p databricks.JobProgress) string {
	state := p.LifeCycleState
	if p.ResultState != "" {
		state += " " + p.ResultState
	}
	if state == "" {
		return fmt.Sprintf("run %d started", p.RunID)
	}
	return strings.TrimSpace(fmt.Sprintf("run %d %s %s", p.RunID, state, Elapsed(p.Elapsed)))
}
