package databricks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	"github.com/databricks/databricks-sdk-go/client"
	"github.com/databricks/databricks-sdk-go/service/files"
	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/databricks/databricks-sdk-go/service/pipelines"
	"github.com/databricks/databricks-sdk-go/service/sql"
)

// PipelinesAPI is the part of the SDK's Pipelines service RunUpdate uses.
type PipelinesAPI interface {
	ListPipelinesAll(ctx context.Context, req pipelines.ListPipelinesRequest) ([]pipelines.PipelineStateInfo, error)
	StartUpdate(ctx context.Context, req pipelines.StartUpdate) (*pipelines.StartUpdateResponse, error)
	GetUpdate(ctx context.Context, req pipelines.GetUpdateRequest) (*pipelines.GetUpdateResponse, error)
	ListUpdates(ctx context.Context, req pipelines.ListUpdatesRequest) (*pipelines.ListUpdatesResponse, error)
	// ListPipelineEventsPage fetches one page of the event log. (The SDK's
	// iterator resends the filter with page_token, which the API rejects.)
	ListPipelineEventsPage(ctx context.Context, req pipelines.ListPipelineEventsRequest) (*pipelines.ListPipelineEventsResponse, error)
	Stop(ctx context.Context, req pipelines.StopRequest) error
}

// JobsAPI is the part of the SDK's Jobs service RunJob uses.
type JobsAPI interface {
	ListAll(ctx context.Context, req jobs.ListJobsRequest) ([]jobs.BaseJob, error)
	RunNow(ctx context.Context, req jobs.RunNow) (*jobs.RunNowResponse, error)
	GetRun(ctx context.Context, req jobs.GetRunRequest) (*jobs.Run, error)
	GetRunOutput(ctx context.Context, req jobs.GetRunOutputRequest) (*jobs.RunOutput, error)
	CancelRun(ctx context.Context, req jobs.CancelRun) error
}

// StatementsAPI is the SQL Statement Execution API as ExecuteStatement uses
// it. Its responses keep NULL cells apart from empty strings, which the
// SDK's [][]string result type cannot.
type StatementsAPI interface {
	ExecuteStatement(ctx context.Context, req sql.ExecuteStatementRequest) (*StatementResponse, error)
	GetStatement(ctx context.Context, statementID string) (*StatementResponse, error)
	// GetResultChunk fetches a result chunk by its internal link
	// (/api/2.0/sql/statements/{id}/result/chunks/{n}[?...]).
	GetResultChunk(ctx context.Context, link string) (*ResultChunk, error)
	CancelExecution(ctx context.Context, statementID string) error
}

// FilesAPI is the part of the SDK's Files service UploadBatch uses.
type FilesAPI interface {
	Upload(ctx context.Context, req files.UploadRequest) error
	GetMetadata(ctx context.Context, req files.GetMetadataRequest) (*files.GetMetadataResponse, error)
}

// StatementResponse is a statement's status, manifest and first result chunk.
type StatementResponse struct {
	StatementID string               `json:"statement_id"`
	Status      *sql.StatementStatus `json:"status,omitempty"`
	Manifest    *sql.ResultManifest  `json:"manifest,omitempty"`
	Result      *ResultChunk         `json:"result,omitempty"`
}

// ResultChunk is one chunk of an INLINE JSON_ARRAY result; a nil cell is NULL.
type ResultChunk struct {
	ChunkIndex            int         `json:"chunk_index"`
	RowOffset             int64       `json:"row_offset"`
	RowCount              int64       `json:"row_count"`
	DataArray             [][]*string `json:"data_array"`
	NextChunkIndex        *int        `json:"next_chunk_index,omitempty"`
	NextChunkInternalLink string      `json:"next_chunk_internal_link,omitempty"`
}

// sdkPipelines adapts the SDK's PipelinesAPI (whose Stop returns a waiter).
type sdkPipelines struct {
	*pipelines.PipelinesAPI
	dbc *client.DatabricksClient
}

func (a sdkPipelines) Stop(ctx context.Context, req pipelines.StopRequest) error {
	_, err := a.PipelinesAPI.Stop(ctx, req)
	return err
}

func (a sdkPipelines) ListPipelineEventsPage(ctx context.Context, req pipelines.ListPipelineEventsRequest) (*pipelines.ListPipelineEventsResponse, error) {
	var resp pipelines.ListPipelineEventsResponse
	path := fmt.Sprintf("/api/2.0/pipelines/%s/events", url.PathEscape(req.PipelineId))
	err := a.dbc.Do(ctx, http.MethodGet, path, headers(a.dbc, false), nil, req, &resp)
	return &resp, err
}

// sdkJobs adapts the SDK's JobsAPI (whose RunNow and CancelRun return waiters).
type sdkJobs struct {
	*jobs.JobsAPI
}

func (a sdkJobs) RunNow(ctx context.Context, req jobs.RunNow) (*jobs.RunNowResponse, error) {
	w, err := a.JobsAPI.RunNow(ctx, req)
	if err != nil {
		return nil, err
	}
	return w.Response, nil
}

func (a sdkJobs) CancelRun(ctx context.Context, req jobs.CancelRun) error {
	_, err := a.JobsAPI.CancelRun(ctx, req)
	return err
}

// sdkStatements calls the Statement Execution API through the SDK's client
// (auth, rate limit, error mapping) with NULL-preserving response types.
type sdkStatements struct {
	dbc *client.DatabricksClient
}

func headers(dbc *client.DatabricksClient, body bool) map[string]string {
	h := map[string]string{"Accept": "application/json"}
	if body {
		h["Content-Type"] = "application/json"
	}
	if dbc.Config.WorkspaceID != "" {
		h["X-Databricks-Workspace-Id"] = dbc.Config.WorkspaceID
	}
	return h
}

func (a sdkStatements) ExecuteStatement(ctx context.Context, req sql.ExecuteStatementRequest) (*StatementResponse, error) {
	var resp StatementResponse
	err := a.dbc.Do(ctx, http.MethodPost, "/api/2.0/sql/statements", headers(a.dbc, true), nil, req, &resp)
	return &resp, err
}

func (a sdkStatements) GetStatement(ctx context.Context, statementID string) (*StatementResponse, error) {
	var resp StatementResponse
	path := "/api/2.0/sql/statements/" + url.PathEscape(statementID)
	err := a.dbc.Do(ctx, http.MethodGet, path, headers(a.dbc, false), nil, nil, &resp)
	return &resp, err
}

func (a sdkStatements) GetResultChunk(ctx context.Context, link string) (*ResultChunk, error) {
	var resp ResultChunk
	err := a.dbc.Do(ctx, http.MethodGet, link, headers(a.dbc, false), nil, nil, &resp)
	return &resp, err
}

func (a sdkStatements) CancelExecution(ctx context.Context, statementID string) error {
	path := "/api/2.0/sql/statements/" + url.PathEscape(statementID) + "/cancel"
	return a.dbc.Do(ctx, http.MethodPost, path, headers(a.dbc, false), nil, nil, nil)
}

// outcomeTransport keeps the SDK from silently re-sending a POST whose
// connection broke after the request went out. The SDK retries such errors
// by matching their text ("connection reset by peer", "i/o timeout"), which
// could start a second pipeline update or statement; wrapped, they reach
// this package's retry, which knows whether repeating is safe and looks for
// the work first. Dial failures (nothing was sent) stay retryable.
type outcomeTransport struct {
	base http.RoundTripper
}

func (t outcomeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil && r.Method == http.MethodPost && !isDialError(err) {
		return nil, &lostResponseError{err: err}
	}
	return resp, err
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// lostResponseError is a POST that may or may not have taken effect.
type lostResponseError struct {
	err error
}

func (e *lostResponseError) Error() string {
	return "connection lost after the request was sent, so its outcome is unknown"
}

func (e *lostResponseError) Unwrap() error { return e.err }
