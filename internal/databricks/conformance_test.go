package databricks_test

// Conformance tests against the real third-party material in
// ../shared/testdata/databricks_api: the API-shaped responses exported by the
// Terraform provider's tests and the field names and enum sets derived from
// databricks-sdk-go. Every value asserted here is read off those files.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/databricks/databrickstest"
)

type reference struct {
	Structs map[string][]struct {
		JSON *string `json:"json"`
	} `json:"structs"`
	Enums map[string][]string `json:"enums"`
}

func loadReference(t *testing.T) reference {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedTestdata(t), "databricks_api", "sdk_go_reference.json"))
	require.NoError(t, err)
	var ref reference
	require.NoError(t, json.Unmarshal(b, &ref))
	return ref
}

func (r reference) fields(t *testing.T, name string) []string {
	t.Helper()
	fs, ok := r.Structs[name]
	require.True(t, ok, "reference has no struct %s", name)
	var out []string
	for _, f := range fs {
		if f.JSON != nil {
			out = append(out, *f.JSON)
		}
	}
	return out
}

func (r reference) enum(t *testing.T, name string) []string {
	t.Helper()
	vs, ok := r.Enums[name]
	require.True(t, ok, "reference has no enum %s", name)
	require.NotEmpty(t, vs)
	return vs
}

// requireKnownKeys fails when obj has a key the reference struct lacks.
func requireKnownKeys(t *testing.T, ref reference, structName string, obj map[string]any) {
	t.Helper()
	known := ref.fields(t, structName)
	for k := range obj {
		require.Contains(t, known, k, "field %q is not in %s", k, structName)
	}
}

func readJSONFile(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func TestSharedFixtures(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(sharedTestdata(t), "databricks_api", "terraform_exporter")

	t.Run("PipelineByNameFromGetPipelineResponse", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.RequireSharedTestdata(t)
		p := readJSONFile(t, filepath.Join(dir, "get-dlt-pipeline.json"))
		res, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineName: p["name"].(string)}, nil, nil)
		require.NoError(t, err)
		require.Equal(t, p["pipeline_id"], res.PipelineID)
		require.Equal(t, "COMPLETED", res.State)
	})

	t.Run("JobByNameFromJobsList", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.RequireSharedTestdata(t)
		job := readJSONFile(t, filepath.Join(dir, "get-job-14.json"))
		settings := job["settings"].(map[string]any)
		var wantTasks []string
		for _, task := range settings["tasks"].([]any) {
			wantTasks = append(wantTasks, task.(map[string]any)["task_key"].(string))
		}
		res, err := c.RunJob(context.Background(), databricks.JobRequest{JobName: settings["name"].(string), IdempotencyToken: "conf"}, nil, nil)
		require.NoError(t, err)
		require.Equal(t, int64(job["job_id"].(float64)), res.JobID)
		var gotTasks []string
		for _, task := range res.Tasks {
			gotTasks = append(gotTasks, task.TaskKey)
		}
		require.Equal(t, wantTasks, gotTasks)
	})

	t.Run("DuplicateJobIDsInListStillResolveByName", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.RequireSharedTestdata(t)
		list := readJSONFile(t, filepath.Join(dir, "get-jobs-list.json"))["jobs"].([]any)
		byName := map[string]int64{}
		for _, j := range list {
			m := j.(map[string]any)
			byName[m["settings"].(map[string]any)["name"].(string)] = int64(m["job_id"].(float64))
		}
		for name, id := range byName {
			res, err := c.RunJob(context.Background(), databricks.JobRequest{JobName: name, IdempotencyToken: "conf-" + name}, nil, nil)
			require.NoError(t, err, name)
			require.Equal(t, id, res.JobID, name)
		}
	})

	t.Run("RunJobTaskJob", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.RequireSharedTestdata(t)
		main := readJSONFile(t, filepath.Join(dir, "run-job-main.json"))
		res, err := c.RunJob(context.Background(), databricks.JobRequest{JobID: int64(main["job_id"].(float64)), IdempotencyToken: "conf"}, nil, nil)
		require.NoError(t, err)
		require.Equal(t, []string{"run_job"}, []string{res.Tasks[0].TaskKey})
	})

	t.Run("InvalidJSONFixtureRejected", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t)
		srv.RequireSharedTestdata(t)
		errs := srv.FixtureErrors()
		require.Len(t, errs, 1)
		require.Contains(t, errs[0].Error(), "get-job-16.json")
		var v any
		b, err := os.ReadFile(filepath.Join(dir, "get-job-16.json"))
		require.NoError(t, err)
		require.Error(t, json.Unmarshal(b, &v), "the fixture is documented as invalid JSON")
	})
}

func TestReferenceStates(t *testing.T) {
	t.Parallel()
	ref := loadReference(t)

	t.Run("EveryUpdateState", func(t *testing.T) {
		t.Parallel()
		terminal := map[string]databricks.Kind{"COMPLETED": "", "FAILED": databricks.KindFailed, "CANCELED": databricks.KindCanceled}
		var running []string
		for _, s := range ref.enum(t, "pipelines.UpdateInfoState") {
			if _, ok := terminal[s]; !ok {
				running = append(running, s)
			}
		}
		require.Len(t, running, len(ref.enum(t, "pipelines.UpdateInfoState"))-len(terminal))
		for end, kind := range terminal {
			c, srv := setup(t)
			srv.AddPipeline("p", "p")
			srv.ScriptUpdate("p", append(slices.Clone(running), end)...)
			res, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p"}, nil, nil)
			require.Equal(t, kind, databricks.KindOf(err), end)
			require.Equal(t, append(slices.Clone(running), end), states(res.States), "every non-terminal state is polled through")
		}
	})

	t.Run("EveryRunLifeCycleState", func(t *testing.T) {
		t.Parallel()
		terminal := map[string]databricks.Outcome{"TERMINATED": databricks.OutcomeSuccess,
			"SKIPPED": databricks.OutcomeSkipped, "INTERNAL_ERROR": databricks.OutcomeFailed}
		var running []databrickstest.RunStep
		for _, s := range ref.enum(t, "jobs.RunLifeCycleState") {
			if _, ok := terminal[s]; !ok {
				running = append(running, databrickstest.RunStep{LifeCycle: s})
			}
		}
		for end, want := range terminal {
			c, srv := setup(t)
			srv.AddJob(1, "j")
			step := databrickstest.RunStep{LifeCycle: end, Message: "ended"}
			if end == "TERMINATED" {
				step.Result = "SUCCESS"
			}
			srv.ScriptRun(1, databrickstest.RunScript{Steps: append(slices.Clone(running), step)})
			res, _ := c.RunJob(context.Background(), databricks.JobRequest{JobID: 1, IdempotencyToken: end}, nil, nil)
			require.Equal(t, want, res.Outcome, end)
			require.Len(t, res.States, len(running)+1, end)
		}
	})

	t.Run("EveryRunResultState", func(t *testing.T) {
		t.Parallel()
		want := map[string]struct {
			outcome databricks.Outcome
			kind    databricks.Kind
		}{
			"SUCCESS":                         {databricks.OutcomeSuccess, ""},
			"SUCCESS_WITH_FAILURES":           {databricks.OutcomeSuccessWithFailures, ""},
			"FAILED":                          {databricks.OutcomeFailed, databricks.KindFailed},
			"UPSTREAM_FAILED":                 {databricks.OutcomeFailed, databricks.KindFailed},
			"TIMEDOUT":                        {databricks.OutcomeTimedOut, databricks.KindTimedOut},
			"CANCELED":                        {databricks.OutcomeCanceled, databricks.KindCanceled},
			"UPSTREAM_CANCELED":               {databricks.OutcomeCanceled, databricks.KindCanceled},
			"EXCLUDED":                        {databricks.OutcomeSkipped, databricks.KindSkipped},
			"MAXIMUM_CONCURRENT_RUNS_REACHED": {databricks.OutcomeSkipped, databricks.KindSkipped},
			"DISABLED":                        {databricks.OutcomeSkipped, databricks.KindSkipped},
		}
		all := ref.enum(t, "jobs.RunResultState")
		require.Len(t, want, len(all))
		for _, rs := range all {
			exp, ok := want[rs]
			require.True(t, ok, "result state %s from the reference has no expected outcome", rs)
			c, srv := setup(t)
			srv.AddJob(1, "j")
			srv.ScriptRun(1, databrickstest.RunScript{Steps: []databrickstest.RunStep{{LifeCycle: "TERMINATED", Result: rs}}})
			res, err := c.RunJob(context.Background(), databricks.JobRequest{JobID: 1, IdempotencyToken: rs}, nil, nil)
			require.Equal(t, exp.outcome, res.Outcome, rs)
			require.Equal(t, exp.kind, databricks.KindOf(err), rs)
		}
	})

	t.Run("EveryStatementState", func(t *testing.T) {
		t.Parallel()
		terminal := map[string]databricks.Kind{"SUCCEEDED": "", "FAILED": databricks.KindFailed,
			"CANCELED": databricks.KindCanceled, "CLOSED": databricks.KindFailed}
		var running []string
		for _, s := range ref.enum(t, "sql.StatementState") {
			if _, ok := terminal[s]; !ok {
				running = append(running, s)
			}
		}
		require.Equal(t, []string{"PENDING", "RUNNING"}, running)
		for end, kind := range terminal {
			c, srv := setup(t)
			srv.AddStatement("SELECT 1", databrickstest.StatementScript{States: append(slices.Clone(running), end),
				Error: &databrickstest.StatementError{ErrorCode: "BAD_REQUEST", Message: "[DIVIDE_BY_ZERO] Division by zero."}})
			_, err := c.ExecuteStatement(context.Background(), databricks.StatementRequest{Statement: "SELECT 1"}, nil, nil)
			require.Equal(t, kind, databricks.KindOf(err), end)
			require.Len(t, srv.RequestsTo(http.MethodGet, "/api/2.0/sql/statements/*"), len(running), end)
		}
	})
}

// TestWireFieldsMatchReference checks that what we send and what the fake
// answers use only field names the SDK models.
func TestWireFieldsMatchReference(t *testing.T) {
	t.Parallel()
	ref := loadReference(t)
	c, srv := setup(t)
	srv.AddPipeline("p-1", "olist_main")
	srv.AddJob(42, "nightly", "a", "b")
	srv.AddStatement("SELECT 1", databrickstest.LoadStatementScript(t, "statement_result_chunks.json"))
	ctx := context.Background()
	upd, err := c.RunUpdate(ctx, databricks.UpdateRequest{PipelineID: "p-1", FullRefresh: true, RefreshSelection: []string{"a"}}, nil, nil)
	require.NoError(t, err)
	run, err := c.RunJob(ctx, databricks.JobRequest{JobID: 42, Parameters: map[string]string{"k": "v"}, IdempotencyToken: "t"}, nil, nil)
	require.NoError(t, err)
	stmt, err := c.ExecuteStatement(ctx, databricks.StatementRequest{Statement: "SELECT 1"}, nil, nil)
	require.NoError(t, err)

	requireKnownKeys(t, ref, "pipelines.StartUpdate", srv.RequestsTo(http.MethodPost, "/api/2.0/pipelines/p-1/updates")[0].JSON(t))
	requireKnownKeys(t, ref, "jobs.RunNow", srv.RequestsTo(http.MethodPost, "/api/2.2/jobs/run-now")[0].JSON(t))
	requireKnownKeys(t, ref, "sql.ExecuteStatementRequest", srv.RequestsTo(http.MethodPost, "/api/2.0/sql/statements")[0].JSON(t))

	get := func(path string) map[string]any {
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		return m
	}
	u := get(fmt.Sprintf("/api/2.0/pipelines/p-1/updates/%s", upd.UpdateID))
	requireKnownKeys(t, ref, "pipelines.GetUpdateResponse", u)
	requireKnownKeys(t, ref, "pipelines.UpdateInfo", u["update"].(map[string]any))
	for _, s := range get("/api/2.0/pipelines")["statuses"].([]any) {
		for _, lu := range s.(map[string]any)["latest_updates"].([]any) {
			requireKnownKeys(t, ref, "pipelines.UpdateStateInfo", lu.(map[string]any))
		}
	}
	r := get(fmt.Sprintf("/api/2.2/jobs/runs/get?run_id=%d", run.RunID))
	requireKnownKeys(t, ref, "jobs.Run", r)
	requireKnownKeys(t, ref, "jobs.RunState", r["state"].(map[string]any))
	for _, task := range r["tasks"].([]any) {
		requireKnownKeys(t, ref, "jobs.RunTask", task.(map[string]any))
		requireKnownKeys(t, ref, "jobs.RunState", task.(map[string]any)["state"].(map[string]any))
	}
	s := get("/api/2.0/sql/statements/" + stmt.StatementID)
	requireKnownKeys(t, ref, "sql.StatementResponse", s)
	requireKnownKeys(t, ref, "sql.StatementStatus", s["status"].(map[string]any))
	requireKnownKeys(t, ref, "sql.ResultManifest", s["manifest"].(map[string]any))
	requireKnownKeys(t, ref, "sql.ResultData", s["result"].(map[string]any))
	for _, col := range s["manifest"].(map[string]any)["schema"].(map[string]any)["columns"].([]any) {
		requireKnownKeys(t, ref, "sql.ColumnInfo", col.(map[string]any))
	}
	for _, ch := range s["manifest"].(map[string]any)["chunks"].([]any) {
		requireKnownKeys(t, ref, "sql.BaseChunkInfo", ch.(map[string]any))
	}

	srv.ScriptUpdate("p-1", "FAILED")
	_, err = c.RunUpdate(ctx, databricks.UpdateRequest{PipelineID: "p-1"}, nil, nil)
	require.Equal(t, databricks.KindFailed, databricks.KindOf(err))
	for _, e := range get("/api/2.0/pipelines/p-1/events?max_results=100")["events"].([]any) {
		ev := e.(map[string]any)
		requireKnownKeys(t, ref, "pipelines.PipelineEvent", ev)
		if ed, ok := ev["error"].(map[string]any); ok {
			requireKnownKeys(t, ref, "pipelines.ErrorDetail", ed)
		}
	}
	require.True(t, strings.HasPrefix(upd.URL, srv.URL+"/#joblist/pipelines/p-1/updates/"))
}
