package databrickstest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RunStep is one observation of a job run: the n-th runs/get returns Steps[n]
// (the last step sticks).
type RunStep struct {
	LifeCycle string // life_cycle_state
	Result    string // result_state, on terminal steps
	Message   string // state_message
}

// TaskScript is how one task of a run ends.
type TaskScript struct {
	Key string
	// Result is the task's final result_state (default: derived from the run's).
	Result string
	// Error, ErrorTrace and NotebookResult are the task's runs/get-output. A
	// FAILED task without Error answers with the team-written fixture
	// job_run_failed_output.json.
	Error          string
	ErrorTrace     string
	NotebookResult string
}

// RunScript is what the next run of a job does.
type RunScript struct {
	Steps []RunStep
	// Tasks overrides the job's tasks (default: the job's task keys, or one
	// task "main").
	Tasks []TaskScript
}

type job struct {
	id      int64
	name    string
	raw     map[string]any
	tasks   []string
	scripts []RunScript
}

type run struct {
	id, jobID int64
	number    int64
	token     string
	params    map[string]string
	steps     []RunStep
	tasks     []*taskRun
	polls     int
	canceled  bool
	started   time.Time
	ended     time.Time
}

type taskRun struct {
	script TaskScript
	runID  int64
}

// RunInfo is the fake's view of a job run, for assertions.
type RunInfo struct {
	ID               int64
	JobID            int64
	IdempotencyToken string
	Parameters       map[string]string
	LifeCycleState   string
	ResultState      string
	Canceled         bool
}

// AddJob registers a job; taskKeys default to one task "main".
func (s *Server) AddJob(id int64, name string, taskKeys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.addJobLocked(id, name)
	j.tasks = taskKeys
	s.jobList = append(s.jobList, map[string]any{
		"job_id":       id,
		"created_time": millis(time.Now()),
		"settings":     map[string]any{"name": name, "max_concurrent_runs": 1},
	})
}

func (s *Server) addJobLocked(id int64, name string) *job {
	j := &job{id: id, name: name}
	s.jobs[id] = j
	s.jobOrder = append(s.jobOrder, id)
	return j
}

// ScriptRun queues the behaviour of the next run of the job; runs without a
// script go PENDING -> RUNNING -> TERMINATED/SUCCESS.
func (s *Server) ScriptRun(jobID int64, script RunScript) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j := s.jobs[jobID]; j != nil {
		j.scripts = append(j.scripts, script)
	}
}

// Runs lists the runs created for a job, oldest first.
func (s *Server) Runs(jobID int64) []RunInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RunInfo
	ids := make([]int64, 0, len(s.runs))
	for id, r := range s.runs {
		if r.jobID == jobID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		r := s.runs[id]
		st := r.current()
		out = append(out, RunInfo{
			ID: r.id, JobID: r.jobID, IdempotencyToken: r.token, Parameters: r.params,
			LifeCycleState: st.LifeCycle, ResultState: st.Result, Canceled: r.canceled,
		})
	}
	return out
}

func isTerminalLifeCycle(s string) bool {
	return s == "TERMINATED" || s == "SKIPPED" || s == "INTERNAL_ERROR"
}

func (r *run) current() RunStep {
	if r.canceled {
		return RunStep{LifeCycle: "TERMINATED", Result: "CANCELED", Message: "Run cancelled."}
	}
	return r.steps[min(max(r.polls-1, 0), len(r.steps)-1)]
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	s.mu.Lock()
	jobs := []any{}
	for _, j := range s.jobList {
		if name != "" && !strings.EqualFold(jobName(j), name) {
			continue
		}
		jobs = append(jobs, j)
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, map[string]any{"jobs": jobs, "has_more": false})
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.URL.Query().Get("job_id"), 10, 64)
	s.mu.Lock()
	j := s.jobs[id]
	var resp map[string]any
	if j != nil {
		resp = j.raw
		if resp == nil {
			resp = map[string]any{"job_id": j.id, "settings": map[string]any{"name": j.name}}
		}
	}
	s.mu.Unlock()
	if j == nil {
		s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Job %d does not exist.", id))
		return
	}
	s.writeJSON(w, http.StatusOK, resp)
}

func (s *Server) runNow(w http.ResponseWriter, r *http.Request) {
	var body struct {
		JobID            int64             `json:"job_id"`
		JobParameters    map[string]string `json:"job_parameters"`
		IdempotencyToken string            `json:"idempotency_token"`
	}
	if err := decodeBody(r, &body); err != nil {
		s.writeError(w, http.StatusBadRequest, "MALFORMED_REQUEST", err.Error())
		return
	}
	if len(body.IdempotencyToken) > 64 {
		s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE",
			"The idempotency token must be at most 64 characters.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.jobs[body.JobID]
	if j == nil {
		s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE",
			fmt.Sprintf("Job %d does not exist.", body.JobID))
		return
	}
	if body.IdempotencyToken != "" {
		if id, ok := s.runByToken[body.IdempotencyToken]; ok {
			s.writeJSONUnlocked(w, map[string]any{"run_id": id, "number_in_job": s.runs[id].number})
			return
		}
	}
	script := s.defaultRun
	if len(j.scripts) > 0 {
		script, j.scripts = j.scripts[0], j.scripts[1:]
	}
	ru := &run{
		id:      900000000000 + s.nextID(),
		jobID:   j.id,
		token:   body.IdempotencyToken,
		params:  body.JobParameters,
		steps:   slices.Clone(script.Steps),
		started: time.Now(),
	}
	if len(ru.steps) == 0 {
		ru.steps = s.defaultRun.Steps
	}
	for _, r := range s.runs {
		if r.jobID == j.id {
			ru.number++
		}
	}
	ru.number++
	tasks := script.Tasks
	if len(tasks) == 0 {
		keys := j.tasks
		if len(keys) == 0 {
			keys = []string{"main"}
		}
		for _, k := range keys {
			tasks = append(tasks, TaskScript{Key: k})
		}
	}
	for _, t := range tasks {
		ru.tasks = append(ru.tasks, &taskRun{script: t, runID: 900000000000 + s.nextID()})
	}
	s.runs[ru.id] = ru
	if ru.token != "" {
		s.runByToken[ru.token] = ru.id
	}
	s.writeJSONUnlocked(w, map[string]any{"run_id": ru.id, "number_in_job": ru.number})
}

// taskResult is the task's result_state once its run has ended.
func taskResult(t *taskRun, runState RunStep, canceled bool) string {
	switch {
	case canceled:
		return "CANCELED"
	case t.script.Result != "":
		return t.script.Result
	case runState.Result == "SUCCESS_WITH_FAILURES":
		return "SUCCESS"
	default:
		return runState.Result
	}
}

func (s *Server) runJSON(ru *run) map[string]any {
	st := ru.current()
	terminal := isTerminalLifeCycle(st.LifeCycle)
	if terminal && ru.ended.IsZero() {
		ru.ended = time.Now()
	}
	state := map[string]any{"life_cycle_state": st.LifeCycle, "state_message": st.Message,
		"user_cancelled_or_timedout": ru.canceled}
	if st.Result != "" {
		state["result_state"] = st.Result
	}
	j := s.jobs[ru.jobID]
	tasks := []any{}
	for _, t := range ru.tasks {
		ts := map[string]any{"life_cycle_state": st.LifeCycle, "state_message": ""}
		if terminal {
			ts["life_cycle_state"] = "TERMINATED"
			ts["result_state"] = taskResult(t, st, ru.canceled)
		}
		task := map[string]any{
			"task_key":       t.script.Key,
			"run_id":         t.runID,
			"state":          ts,
			"start_time":     millis(ru.started),
			"attempt_number": 0,
			"run_page_url":   fmt.Sprintf("%s/?o=1234567890123456#job/%d/run/%d", s.URL, ru.jobID, t.runID),
		}
		if terminal {
			task["end_time"] = millis(ru.ended)
		}
		tasks = append(tasks, task)
	}
	params := []any{}
	for _, k := range sortedKeys(ru.params) {
		params = append(params, map[string]any{"name": k, "value": ru.params[k]})
	}
	m := map[string]any{
		"job_id":         ru.jobID,
		"run_id":         ru.id,
		"number_in_job":  ru.number,
		"run_name":       j.name,
		"run_page_url":   fmt.Sprintf("%s/?o=1234567890123456#job/%d/run/%d", s.URL, ru.jobID, ru.id),
		"run_type":       "JOB_RUN",
		"trigger":        "ONE_TIME",
		"state":          state,
		"start_time":     millis(ru.started),
		"tasks":          tasks,
		"job_parameters": params,
	}
	if terminal {
		m["end_time"] = millis(ru.ended)
	}
	return m
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.URL.Query().Get("run_id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	ru := s.runs[id]
	if ru == nil {
		s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Run %d does not exist.", id))
		return
	}
	ru.polls++
	s.writeJSONUnlocked(w, s.runJSON(ru))
}

func (s *Server) getRunOutput(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.URL.Query().Get("run_id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runs[id] != nil {
		s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE",
			"Retrieving the output of runs with multiple tasks is not supported. "+
				"Please retrieve the output of each individual task run instead.")
		return
	}
	for _, ru := range s.runs {
		for _, t := range ru.tasks {
			if t.runID != id {
				continue
			}
			st := ru.current()
			meta := map[string]any{"job_id": ru.jobID, "run_id": t.runID, "task_key": t.script.Key}
			resp := map[string]any{"metadata": meta}
			if !isTerminalLifeCycle(st.LifeCycle) {
				s.writeJSONUnlocked(w, resp)
				return
			}
			res := taskResult(t, st, ru.canceled)
			meta["state"] = map[string]any{"life_cycle_state": "TERMINATED", "result_state": res}
			if res == "FAILED" || res == "TIMEDOUT" {
				if t.script.Error != "" {
					resp["error"] = t.script.Error
					resp["error_trace"] = t.script.ErrorTrace
				} else if raw, err := readObject(filepath.Join(s.ownDir, "job_run_failed_output.json")); err == nil {
					resp["error"] = raw["error"]
					resp["error_trace"] = raw["error_trace"]
					if nb, ok := raw["notebook_output"]; ok {
						resp["notebook_output"] = nb
					}
				}
			}
			if t.script.NotebookResult != "" {
				resp["notebook_output"] = map[string]any{"result": t.script.NotebookResult, "truncated": false}
			}
			s.writeJSONUnlocked(w, resp)
			return
		}
	}
	s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Run %d does not exist.", id))
}

func (s *Server) cancelRun(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RunID int64 `json:"run_id"`
	}
	if err := decodeBody(r, &body); err != nil {
		s.writeError(w, http.StatusBadRequest, "MALFORMED_REQUEST", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ru := s.runs[body.RunID]
	if ru == nil {
		s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Run %d does not exist.", body.RunID))
		return
	}
	if !isTerminalLifeCycle(ru.current().LifeCycle) {
		ru.canceled = true
	}
	s.writeJSONUnlocked(w, map[string]any{})
}

// writeJSONUnlocked writes a 200 JSON answer while s.mu is held.
func (s *Server) writeJSONUnlocked(w http.ResponseWriter, m map[string]any) {
	if s.unknownFields {
		m["x_sluice_unknown_field"] = map[string]any{"added_by": "databrickstest", "n": 1}
	}
	b, _ := json.Marshal(m)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
