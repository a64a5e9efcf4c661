package databricks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/databricks/databricks-sdk-go/service/jobs"
)

// JobRequest asks for one run of an existing job.
type JobRequest struct {
	// JobID or JobName identifies the job; set one. A name is looked up once
	// per Client (exact, case-insensitive, as the jobs list filter matches).
	JobID   int64
	JobName string
	// Parameters are the run's job_parameters.
	Parameters map[string]string
	// IdempotencyToken makes run-now start at most one run per token: derive
	// it from the workflow id and task key (see IdempotencyToken). Required.
	// A retry with the same token re-attaches to the same run, even a
	// failed one; to run the job again, derive a new token.
	IdempotencyToken string
	// Ref says where the job is named in the user's spec, for errors.
	Ref string
}

// JobResume is what RunJob heartbeats: enough to re-attach.
type JobResume struct {
	JobID      int64
	RunID      int64
	RunPageURL string
	// States are the life-cycle states seen so far.
	States []StateSpan
}

// JobProgress is the latest poll of a run.
type JobProgress struct {
	JobID          int64
	RunID          int64
	LifeCycleState string
	ResultState    string
	StateMessage   string
	Changed        bool
	Elapsed        time.Duration
}

// Outcome is how a job run ended, in Sluice's run vocabulary.
type Outcome string

// Outcomes of a job run.
const (
	OutcomeSuccess             Outcome = "SUCCESS"
	OutcomeSuccessWithFailures Outcome = "SUCCESS_WITH_FAILURES"
	OutcomeFailed              Outcome = "FAILED"
	OutcomeTimedOut            Outcome = "TIMEDOUT"
	OutcomeCanceled            Outcome = "CANCELED"
	OutcomeSkipped             Outcome = "SKIPPED"
)

// JobResult describes a finished run (also returned, partly filled, with
// an error).
type JobResult struct {
	JobID      int64
	RunID      int64
	RunPageURL string
	Outcome    Outcome
	// LifeCycleState, ResultState and StateMessage are the run's final state.
	LifeCycleState string
	ResultState    string
	StateMessage   string
	// States are the life-cycle states seen, in order, with durations.
	States []StateSpan
	// Tasks are the run's task runs in the order the API lists them.
	Tasks []TaskRun
	// Reattached is true when this call picked up a run started earlier.
	Reattached bool
}

// TaskRun is the state of one task of a run; failing tasks carry their error.
type TaskRun struct {
	TaskKey        string
	RunID          int64
	LifeCycleState string
	ResultState    string
	StateMessage   string
	Duration       time.Duration
	// Error, ErrorTrace (first lines) and NotebookOutput come from
	// runs/get-output, for tasks that failed or timed out.
	Error          string
	ErrorTrace     string
	NotebookOutput string
}

// IdempotencyToken derives a run-now idempotency token from parts (e.g. the
// workflow id and task key). Databricks accepts at most 64 characters;
// longer tokens keep a readable prefix and end in a hash of the whole.
func IdempotencyToken(parts ...string) string {
	return normalizeToken(strings.Join(parts, "/"))
}

func normalizeToken(t string) string {
	if len(t) <= 64 {
		return t
	}
	sum := sha256.Sum256([]byte(t))
	prefix := t[:23]
	for !utf8.ValidString(prefix) {
		prefix = prefix[:len(prefix)-1]
	}
	return prefix + "-" + hex.EncodeToString(sum[:])[:40]
}

func (r JobRequest) hint() string {
	if r.Ref != "" {
		return r.Ref
	}
	return "the job's id/name in the spec"
}

func (r JobRequest) label(id int64) string {
	if r.JobName != "" {
		return fmt.Sprintf("job %q (id %d)", r.JobName, id)
	}
	return fmt.Sprintf("job %d", id)
}

func (r JobResume) clone() JobResume {
	r.States = slices.Clone(r.States)
	return r
}

// RunJob starts a run of a job with run-now (or re-attaches to the run in
// resume) and waits for it to finish. hb is called with the run id right
// after run-now returns and then on every poll. Failures carry the failing
// tasks' errors; SUCCESS_WITH_FAILURES is a result, not an error. When ctx is
// cancelled the run is cancelled and ctx.Err() returned.
func (c *Client) RunJob(ctx context.Context, req JobRequest, resume *JobResume, hb func(JobResume, JobProgress)) (JobResult, error) {
	if hb == nil {
		hb = func(JobResume, JobProgress) {}
	}
	var st JobResume
	reattached := false
	if resume != nil && resume.RunID != 0 {
		st, reattached = *resume, true
	} else {
		token := normalizeToken(req.IdempotencyToken)
		if token == "" {
			return JobResult{}, &Error{Kind: KindInvalid, Message: fmt.Sprintf(
				"running job %s: no idempotency token: the caller must derive one from the workflow id and task key", req.hint())}
		}
		if req.JobID != 0 && req.JobName != "" {
			return JobResult{}, &Error{Kind: KindInvalid, Message: fmt.Sprintf(
				"running a job: both job id %d and name %q are set: keep one in %s", req.JobID, req.JobName, req.hint())}
		}
		jobID, err := c.jobID(ctx, req)
		if err != nil {
			return JobResult{}, err
		}
		var resp *jobs.RunNowResponse
		err = c.retry(ctx, func(ctx context.Context) error {
			// Safe to repeat: the token makes Databricks return the run a
			// lost response created instead of starting another.
			r, err := c.svc.Jobs.RunNow(ctx, jobs.RunNow{JobId: jobID, JobParameters: req.Parameters, IdempotencyToken: token})
			resp = r
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return JobResult{JobID: jobID}, ctx.Err()
			}
			return JobResult{JobID: jobID}, c.describe(err, "starting "+req.label(jobID), req.hint())
		}
		st = JobResume{JobID: jobID, RunID: resp.RunId}
		hb(st.clone(), JobProgress{JobID: jobID, RunID: resp.RunId, Changed: true})
	}
	res, err := c.pollRun(ctx, req, st, hb)
	res.Reattached = reattached
	return res, err
}

// jobID resolves req to a job id, looking names up once per Client.
func (c *Client) jobID(ctx context.Context, req JobRequest) (int64, error) {
	if req.JobID != 0 {
		return req.JobID, nil
	}
	name := req.JobName
	if name == "" {
		return 0, &Error{Kind: KindInvalid, Message: fmt.Sprintf("running a job: no job id or name: set one in %s", req.hint())}
	}
	c.mu.Lock()
	id, ok := c.jobIDs[name]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	var found []jobs.BaseJob
	err := c.retry(ctx, func(ctx context.Context) error {
		all, err := c.svc.Jobs.ListAll(ctx, jobs.ListJobsRequest{Name: name})
		found = all
		return err
	})
	if err != nil {
		return 0, c.describe(err, fmt.Sprintf("looking up job %q", name), req.hint())
	}
	var ids []int64
	for _, j := range found {
		if !slices.Contains(ids, j.JobId) {
			ids = append(ids, j.JobId)
		}
	}
	switch len(ids) {
	case 0:
		return 0, &Error{Kind: KindNotFound, Code: "JOB_NOT_FOUND", Message: fmt.Sprintf(
			"job %q not found in workspace %s: check %s, or use the job id", name, c.host, req.hint())}
	case 1:
	default:
		strs := make([]string, len(ids))
		for i, id := range ids {
			strs[i] = fmt.Sprint(id)
		}
		return 0, &Error{Kind: KindAmbiguous, Code: "JOB_NAME_AMBIGUOUS", Message: fmt.Sprintf(
			"job name %q matches %d jobs in workspace %s (ids %s): use the job id instead of the name in %s",
			name, len(ids), c.host, strings.Join(strs, ", "), req.hint())}
	}
	c.mu.Lock()
	c.jobIDs[name] = ids[0]
	c.mu.Unlock()
	return ids[0], nil
}

// runState returns the run's life-cycle and result state, from the classic
// state object or, when a response only has the newer status, from that.
func runState(r *jobs.Run) (lc, rs, msg string) {
	if r.State != nil && r.State.LifeCycleState != "" {
		return string(r.State.LifeCycleState), string(r.State.ResultState), r.State.StateMessage
	}
	if r.Status == nil {
		return "", "", ""
	}
	lc = string(r.Status.State)
	if r.Status.TerminationDetails == nil || lc != string(jobs.RunLifecycleStateV2StateTerminated) {
		return lc, "", ""
	}
	td := r.Status.TerminationDetails
	switch td.Code {
	case jobs.TerminationCodeCodeSuccess, jobs.TerminationCodeCodeSuccessWithFailures:
		rs = string(td.Code)
	case jobs.TerminationCodeCodeCanceled, jobs.TerminationCodeCodeUserCanceled:
		rs = string(jobs.RunResultStateCanceled)
	case jobs.TerminationCodeCodeSkipped, jobs.TerminationCodeCodeDisabled:
		lc = string(jobs.RunLifeCycleStateSkipped)
	default:
		rs = string(jobs.RunResultStateFailed)
	}
	return lc, rs, td.Message
}

// runOutcome maps a run's states to an outcome; ok is false while it runs.
// Every life-cycle and result state of the Jobs API 2.2 is covered; unknown
// future life-cycle states keep polling, unknown result states fail.
func runOutcome(lc, rs string) (Outcome, bool) {
	switch jobs.RunLifeCycleState(lc) {
	case jobs.RunLifeCycleStateSkipped:
		return OutcomeSkipped, true
	case jobs.RunLifeCycleStateInternalError:
		return OutcomeFailed, true
	case jobs.RunLifeCycleStateTerminated:
	default: // PENDING, QUEUED, RUNNING, TERMINATING, BLOCKED, WAITING_FOR_RETRY, ...
		return "", false
	}
	switch jobs.RunResultState(rs) {
	case jobs.RunResultStateSuccess:
		return OutcomeSuccess, true
	case jobs.RunResultStateSuccessWithFailures:
		return OutcomeSuccessWithFailures, true
	case jobs.RunResultStateTimedout:
		return OutcomeTimedOut, true
	case jobs.RunResultStateCanceled, jobs.RunResultStateUpstreamCanceled:
		return OutcomeCanceled, true
	case jobs.RunResultStateExcluded, jobs.RunResultStateMaximumConcurrentRunsReached, jobs.RunResultStateDisabled:
		return OutcomeSkipped, true
	default: // FAILED, UPSTREAM_FAILED, or a state this code does not know
		return OutcomeFailed, true
	}
}

// pollRun polls the run until it ends.
func (c *Client) pollRun(ctx context.Context, req JobRequest, st JobResume, hb func(JobResume, JobProgress)) (JobResult, error) {
	res := JobResult{JobID: st.JobID, RunID: st.RunID, RunPageURL: st.RunPageURL}
	op := fmt.Sprintf("polling run %d of %s", st.RunID, req.label(st.JobID))
	began := c.now()
	p := c.newPoller()
	for {
		var run *jobs.Run
		err := c.retry(ctx, func(ctx context.Context) error {
			r, err := c.svc.Jobs.GetRun(ctx, jobs.GetRunRequest{RunId: st.RunID})
			run = r
			return err
		})
		if err != nil {
			res.States = slices.Clone(st.States)
			if ctx.Err() != nil {
				return res, c.cancelRun(ctx, st.RunID)
			}
			return res, c.describe(err, op, req.hint())
		}
		lc, rs, msg := runState(run)
		if run.RunPageUrl != "" {
			st.RunPageURL = run.RunPageUrl
		}
		if st.JobID == 0 {
			st.JobID = run.JobId
		}
		changed := observe(&st.States, lc, c.now())
		res.JobID, res.RunPageURL, res.States = st.JobID, st.RunPageURL, slices.Clone(st.States)
		res.LifeCycleState, res.ResultState, res.StateMessage = lc, rs, msg
		res.Tasks = taskRuns(run)
		hb(st.clone(), JobProgress{JobID: st.JobID, RunID: st.RunID, LifeCycleState: lc, ResultState: rs,
			StateMessage: msg, Changed: changed, Elapsed: c.now().Sub(began)})
		if outcome, done := runOutcome(lc, rs); done {
			res.Outcome = outcome
			return res, c.runEnded(ctx, req, &res)
		}
		if err := p.wait(ctx, changed); err != nil {
			return res, c.cancelRun(ctx, st.RunID)
		}
	}
}

func taskRuns(run *jobs.Run) []TaskRun {
	out := make([]TaskRun, 0, len(run.Tasks))
	for _, t := range run.Tasks {
		tr := TaskRun{TaskKey: t.TaskKey, RunID: t.RunId}
		if t.State != nil {
			tr.LifeCycleState, tr.ResultState, tr.StateMessage = string(t.State.LifeCycleState), string(t.State.ResultState), t.State.StateMessage
		}
		if t.StartTime > 0 && t.EndTime >= t.StartTime {
			tr.Duration = time.Duration(t.EndTime-t.StartTime) * time.Millisecond
		}
		out = append(out, tr)
	}
	return out
}

// maxFailedTaskOutputs caps the runs/get-output calls for one failed run.
const maxFailedTaskOutputs = 5

// traceLines is how many lines of a task's error trace are kept.
const traceLines = 8

// runEnded fetches the failing tasks' outputs and turns a non-success outcome
// into an error.
func (c *Client) runEnded(ctx context.Context, req JobRequest, res *JobResult) error {
	var details []string
	fetched := 0
	for i := range res.Tasks {
		t := &res.Tasks[i]
		failed := t.ResultState == string(jobs.RunResultStateFailed) || t.ResultState == string(jobs.RunResultStateTimedout) ||
			t.LifeCycleState == string(jobs.RunLifeCycleStateInternalError)
		if !failed || fetched >= maxFailedTaskOutputs {
			continue
		}
		fetched++
		c.taskOutput(ctx, t)
		details = append(details, taskDetails(t)...)
	}
	if len(res.Tasks) == 0 && res.Outcome == OutcomeFailed {
		// A run without task list: its own output holds the error.
		t := TaskRun{TaskKey: "(run)", RunID: res.RunID}
		c.taskOutput(ctx, &t)
		details = append(details, taskDetails(&t)...)
	}
	what := fmt.Sprintf("run %d of %s", res.RunID, req.label(res.JobID))
	state := res.LifeCycleState
	if res.ResultState != "" {
		state = res.ResultState
	}
	msg := res.StateMessage
	if msg == "" && len(details) > 0 {
		msg = details[0]
	}
	link := res.RunPageURL
	switch res.Outcome {
	case OutcomeSuccess, OutcomeSuccessWithFailures:
		return nil
	case OutcomeFailed:
		return &Error{Kind: KindFailed, Code: state, Details: details, Message: fmt.Sprintf(
			"%s %s in workspace %s: %s (run page: %s)", what, state, c.host, msg, link)}
	case OutcomeTimedOut:
		return &Error{Kind: KindTimedOut, Code: state, Details: details, Message: fmt.Sprintf(
			"%s TIMEDOUT in workspace %s: %s: raise the job's timeout_seconds or make it faster (run page: %s)", what, c.host, msg, link)}
	case OutcomeCanceled:
		return &Error{Kind: KindCanceled, Code: state, Details: details, Message: fmt.Sprintf(
			"%s was canceled in workspace %s: %s (run page: %s)", what, c.host, msg, link)}
	default:
		return &Error{Kind: KindSkipped, Code: state, Message: fmt.Sprintf(
			"%s was skipped (%s) in workspace %s: %s: check that the job is enabled and its max_concurrent_runs (run page: %s)",
			what, state, c.host, msg, link)}
	}
}

// taskOutput fills a task's error from runs/get-output; failures to read it
// are noted in the error rather than failing the caller.
func (c *Client) taskOutput(ctx context.Context, t *TaskRun) {
	var out *jobs.RunOutput
	err := c.retry(ctx, func(ctx context.Context) error {
		o, err := c.svc.Jobs.GetRunOutput(ctx, jobs.GetRunOutputRequest{RunId: t.RunID})
		out = o
		return err
	})
	if err != nil {
		if t.Error == "" {
			t.Error = fmt.Sprintf("(could not read the task's output: %v)", classify(err).Message)
		}
		return
	}
	t.Error = out.Error
	t.ErrorTrace = headLines(out.ErrorTrace, traceLines)
	if out.NotebookOutput != nil {
		t.NotebookOutput = out.NotebookOutput.Result
	}
}

func taskDetails(t *TaskRun) []string {
	line := fmt.Sprintf("task %s (run %d) %s", t.TaskKey, t.RunID, t.ResultState)
	if t.Error != "" {
		line += ": " + t.Error
	}
	out := []string{line}
	for _, l := range strings.Split(t.ErrorTrace, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, "  "+l)
		}
	}
	if t.NotebookOutput != "" {
		out = append(out, "  notebook output: "+headLines(t.NotebookOutput, 3))
	}
	return out
}

// headLines keeps the first n non-empty lines of s.
func headLines(s string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if len(out) == n {
			out = append(out, "...")
			break
		}
		out = append(out, strings.TrimRight(l, " \r"))
	}
	return strings.Join(out, "\n")
}

// cancelRun cancels the run after ctx was cancelled and returns ctx's error
// (joined with the cancel's failure, if any).
func (c *Client) cancelRun(ctx context.Context, runID int64) error {
	cctx, cancel := c.cleanupContext(ctx)
	defer cancel()
	err := c.retry(cctx, func(ctx context.Context) error {
		return c.svc.Jobs.CancelRun(ctx, jobs.CancelRun{RunId: runID})
	})
	if err != nil {
		return joinCtx(ctx, c.describe(err, fmt.Sprintf("cancelling run %d after cancellation", runID), ""))
	}
	return ctx.Err()
}
