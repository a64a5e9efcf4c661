package databrickstest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/databricks/databrickstest"
)

type answer struct {
	status int
	body   map[string]any
}

func call(t *testing.T, srv *databrickstest.Server, method, path, body string) answer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, r)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{status: resp.StatusCode}
	if len(b) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(b, &a.body), string(b))
	}
	return a
}

func TestServer(t *testing.T) {
	t.Parallel()

	t.Run("RequiresToken", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t, databrickstest.WithToken("other"))
		a := call(t, srv, http.MethodGet, "/api/2.0/pipelines", "")
		require.Equal(t, http.StatusUnauthorized, a.status)
		require.Equal(t, "UNAUTHENTICATED", a.body["error_code"])
	})

	t.Run("FaultTimesAndAfterHandling", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t)
		srv.AddJob(7, "j")
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPost, Path: "/api/2.2/jobs/run-now", Status: 503, Times: 2, AfterHandling: true})
		for range 2 {
			a := call(t, srv, http.MethodPost, "/api/2.2/jobs/run-now", `{"job_id":7}`)
			require.Equal(t, 503, a.status)
			require.Equal(t, "TEMPORARILY_UNAVAILABLE", a.body["error_code"])
		}
		a := call(t, srv, http.MethodPost, "/api/2.2/jobs/run-now", `{"job_id":7}`)
		require.Equal(t, http.StatusOK, a.status)
		require.Len(t, srv.Runs(7), 3, "AfterHandling faults still apply the request")
		require.Len(t, srv.RequestsTo(http.MethodPost, "/api/2.2/jobs/*"), 3)
	})

	t.Run("IdempotencyTokenReturnsSameRun", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t)
		srv.AddJob(7, "j")
		a := call(t, srv, http.MethodPost, "/api/2.2/jobs/run-now", `{"job_id":7,"idempotency_token":"x"}`)
		b := call(t, srv, http.MethodPost, "/api/2.2/jobs/run-now", `{"job_id":7,"idempotency_token":"x"}`)
		require.Equal(t, a.body["run_id"], b.body["run_id"])
		long := strings.Repeat("x", 65)
		require.Equal(t, http.StatusBadRequest, call(t, srv, http.MethodPost, "/api/2.2/jobs/run-now", `{"job_id":7,"idempotency_token":"`+long+`"}`).status)
	})

	t.Run("PipelineNameLikeFilter", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t)
		srv.AddPipeline("1", "sales_daily")
		srv.AddPipeline("2", "sales_hourly")
		srv.AddPipeline("3", "o'brien")
		names := func(filter string) []string {
			a := call(t, srv, http.MethodGet, "/api/2.0/pipelines?filter="+url.QueryEscape(filter), "")
			var out []string
			for _, s := range a.body["statuses"].([]any) {
				out = append(out, s.(map[string]any)["name"].(string))
			}
			return out
		}
		require.Equal(t, []string{"sales_daily"}, names("name LIKE 'sales_daily'"))
		require.Equal(t, []string{"sales_daily", "sales_hourly"}, names("name LIKE 'sales%'"))
		require.Equal(t, []string{"o'brien"}, names("name LIKE 'o''brien'"))
		require.Equal(t, http.StatusBadRequest, call(t, srv, http.MethodGet, "/api/2.0/pipelines?filter=bogus", "").status)
	})

	t.Run("EventsRejectPageTokenWithFilter", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t)
		srv.AddPipeline("1", "p")
		a := call(t, srv, http.MethodGet, "/api/2.0/pipelines/1/events?filter="+url.QueryEscape("level='ERROR'")+"&page_token=abc", "")
		require.Equal(t, http.StatusBadRequest, a.status)
	})

	t.Run("FilesOverwriteFalseConflicts", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t)
		require.Equal(t, http.StatusNoContent, call(t, srv, http.MethodPut, "/api/2.0/fs/files/Volumes/c/s/v/a.csv?overwrite=false", "1").status)
		require.Equal(t, http.StatusConflict, call(t, srv, http.MethodPut, "/api/2.0/fs/files/Volumes/c/s/v/a.csv?overwrite=false", "2").status)
		require.Equal(t, http.StatusOK, call(t, srv, http.MethodHead, "/api/2.0/fs/files/Volumes/c/s/v/a.csv", "").status)
		require.Equal(t, http.StatusNotFound, call(t, srv, http.MethodHead, "/api/2.0/fs/files/Volumes/c/s/v/b.csv", "").status)
		require.Equal(t, []string{"/Volumes/c/s/v/a.csv"}, srv.FilePaths())
	})

	t.Run("StatementValidation", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t)
		require.Equal(t, http.StatusBadRequest, call(t, srv, http.MethodPost, "/api/2.0/sql/statements", `{"statement":"SELECT 1"}`).status)
		require.Equal(t, http.StatusBadRequest, call(t, srv, http.MethodPost, "/api/2.0/sql/statements",
			`{"statement":"SELECT 1","warehouse_id":"w","wait_timeout":"60s"}`).status)
		a := call(t, srv, http.MethodPost, "/api/2.0/sql/statements", `{"statement":"SELECT 1","warehouse_id":"w","wait_timeout":"10s"}`)
		require.Equal(t, "SUCCEEDED", a.body["status"].(map[string]any)["state"])
	})

	t.Run("UnknownEndpoint", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t)
		a := call(t, srv, http.MethodGet, "/api/2.1/clusters/list", "")
		require.Equal(t, http.StatusNotFound, a.status)
		require.Equal(t, "ENDPOINT_NOT_FOUND", a.body["error_code"])
	})
}
