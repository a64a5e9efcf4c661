// Package databrickstest is a fake Databricks workspace for tests: an
// httptest server that speaks the REST endpoints Sluice uses (pipelines 2.0,
// jobs 2.2, SQL statements 2.0, Files 2.0, and the auth discovery endpoints
// databricks-sdk-go calls), keeps per-pipeline, update, job, run, statement
// and file state, and defaults to success so a whole Sluice pipeline can run
// against it end to end.
//
// It is a test double for a system that cannot run here. Its response shapes
// come from real material: the API-shaped responses in
// ../shared/testdata/databricks_api/terraform_exporter (jobs, pipelines),
// loaded at runtime when that folder exists, and the field names in
// ../shared/testdata/databricks_api/sdk_go_reference.json. States that folder
// lacks (failed updates' events, a failing task's output, statement results)
// come from fixtures the Sluice team wrote, in internal/databricks/testdata
// (see the README there).
//
// Tests script it: update, run and statement state sequences, faults
// (HTTP 429/5xx/403, a response lost after the request was applied, a slow
// answer) and unknown extra fields in responses. Every request is recorded
// (method, path, query, body) for exact assertions.
//
// For an end-to-end run (e.g. olist_daily with a databricks environment):
//
//	srv := databrickstest.New(t)
//	srv.AddPipeline("0a1b-main", "olist_main_pipeline") // updates RUNNING -> COMPLETED
//	srv.AddJob(42, "nightly_export")                    // runs PENDING -> RUNNING -> SUCCESS
//	srv.HandleStatements(func(c databrickstest.StatementCall) (databrickstest.StatementScript, bool) {
//		return databrickstest.StatementScript{ /* rows for quality checks */ }, true
//	})
//	cfg := databricks.Config{Host: srv.URL, Token: "any", WarehouseID: "wh"}
//
// Uploaded volume files are readable with File and FilePaths.
package databrickstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// JSON decodes the request body into a generic map, failing the test on error.
func (r Request) JSON(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		tb.Fatalf("decoding body of %s %s: %v (body %q)", r.Method, r.Path, err, r.Body)
	}
	return m
}

// Fault makes the fake answer matching requests with an error instead of (or
// after) handling them.
type Fault struct {
	// Method to match; empty matches any method.
	Method string
	// Path to match exactly, or a prefix when it ends with "*".
	Path string
	// Status is the HTTP status to answer with; 0 with a Delay means "answer
	// normally, but late".
	Status int
	// ErrorCode and Message form the Databricks error body
	// {"error_code": ..., "message": ...}; defaults derive from Status.
	ErrorCode string
	Message   string
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Times is how many matching requests get the fault (default 1; negative
	// means every matching request).
	Times int
	// AfterHandling applies the request (state changes happen) and then
	// answers with the fault: the client cannot know whether it took effect.
	AfterHandling bool
	// Delay holds the answer back, so a client with a shorter timeout gives up.
	Delay time.Duration
	// DropConnection resets the TCP connection instead of answering (after
	// handling, with AfterHandling): the client sees "connection reset by peer".
	DropConnection bool
}

// Option configures a Server.
type Option func(*Server)

// WithToken makes the fake require "Authorization: Bearer <token>" (or a token
// it issued through OAuth). Without it any request is accepted.
func WithToken(token string) Option {
	return func(s *Server) { s.validTokens[token] = true; s.requireAuth = true }
}

// WithOAuthClient registers a service principal for OAuth M2M: the fake's
// token endpoint issues tokens for this client id and secret, and requires
// auth on API calls.
func WithOAuthClient(id, secret string) Option {
	return func(s *Server) { s.oauthClients[id] = secret; s.requireAuth = true }
}

// WithUnknownFields adds fields no SDK models to every JSON object response,
// to prove decoders tolerate them.
func WithUnknownFields() Option {
	return func(s *Server) { s.unknownFields = true }
}

// Server is a fake Databricks workspace. Create it with New.
type Server struct {
	// URL is the workspace host, e.g. http://127.0.0.1:41234.
	URL string

	srv       *httptest.Server
	sharedDir string
	ownDir    string

	mu            sync.Mutex
	requests      []Request
	faults        []*Fault
	requireAuth   bool
	validTokens   map[string]bool
	oauthClients  map[string]string
	unknownFields bool
	seq           int64
	sharedOK      bool
	fixtureErrors []error

	pipelineOrder []string
	pipelines     map[string]*pipeline
	updates       map[string]*update
	defaultUpdate UpdateScript

	jobOrder   []int64
	jobs       map[int64]*job
	jobList    []map[string]any // jobs/list entries in fixture order (may repeat ids)
	runs       map[int64]*run
	runByToken map[string]int64
	defaultRun RunScript

	statements       map[string]*statement
	statementScripts map[string]StatementScript
	statementHandler func(StatementCall) (StatementScript, bool)

	files map[string]storedFile
}

type storedFile struct {
	data     []byte
	modified time.Time
}

// New starts a fake workspace, seeded from the shared testdata when that
// folder exists, and stops it when the test ends.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{
		validTokens:      map[string]bool{},
		oauthClients:     map[string]string{},
		pipelines:        map[string]*pipeline{},
		updates:          map[string]*update{},
		jobs:             map[int64]*job{},
		runs:             map[int64]*run{},
		runByToken:       map[string]int64{},
		statements:       map[string]*statement{},
		statementScripts: map[string]StatementScript{},
		files:            map[string]storedFile{},
		defaultUpdate:    UpdateScript{States: []string{"RUNNING", "COMPLETED"}},
		defaultRun: RunScript{Steps: []RunStep{
			{LifeCycle: "PENDING"},
			{LifeCycle: "RUNNING"},
			{LifeCycle: "TERMINATED", Result: "SUCCESS"},
		}},
		sharedDir: defaultSharedDir(),
		ownDir:    ownFixtureDir(),
	}
	for _, o := range opts {
		o(s)
	}
	s.loadSharedFixtures()
	s.srv = httptest.NewServer(s.routes())
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// HasSharedTestdata reports whether the shared testdata folder was found and
// loaded.
func (s *Server) HasSharedTestdata() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sharedLoaded()
}

// RequireSharedTestdata skips the test when the shared testdata folder is
// absent (a user's clone has no ../shared).
func (s *Server) RequireSharedTestdata(tb testing.TB) {
	tb.Helper()
	if !s.HasSharedTestdata() {
		tb.Skipf("shared testdata not found at %s: this test needs the real Databricks API responses in databricks_api/", s.sharedDir)
	}
}

// FixtureErrors lists the shared fixtures that could not be loaded (the
// folder holds a deliberately invalid get-job-16.json).
func (s *Server) FixtureErrors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.fixtureErrors...)
}

// InjectFault adds a fault; faults are matched in the order added.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// Requests returns every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RequestsTo returns the requests with this method (empty: any) whose path
// equals path, or starts with it when path ends with "*".
func (s *Server) RequestsTo(method, path string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if (method == "" || r.Method == method) && pathMatches(path, r.Path) {
			out = append(out, r)
		}
	}
	return out
}

// Bodies returns the JSON bodies of the requests to path, re-encoded with
// sorted keys so tests can compare them as strings.
func (s *Server) Bodies(tb testing.TB, method, path string) []string {
	tb.Helper()
	var out []string
	for _, r := range s.RequestsTo(method, path) {
		b, err := json.Marshal(r.JSON(tb))
		if err != nil {
			tb.Fatalf("encoding body of %s %s: %v", r.Method, r.Path, err)
		}
		out = append(out, string(b))
	}
	return out
}

// APIRequests returns the requests to /api/ endpoints (leaving out the auth
// discovery calls the SDK makes), as "METHOD path" strings.
func (s *Server) APIRequests() []string {
	var out []string
	for _, r := range s.Requests() {
		if strings.HasPrefix(r.Path, "/api/") {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func pathMatches(pattern, path string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(path, p)
	}
	return pattern == path
}

func (s *Server) nextID() int64 {
	s.seq++
	return s.seq
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/databricks-config", s.hostMetadata)
	mux.HandleFunc("GET /oidc/.well-known/oauth-authorization-server", s.oauthMetadata)
	mux.HandleFunc("POST /oidc/v1/token", s.oauthToken)

	mux.HandleFunc("GET /api/2.0/pipelines", s.listPipelines)
	mux.HandleFunc("GET /api/2.0/pipelines/{id}", s.getPipeline)
	mux.HandleFunc("POST /api/2.0/pipelines/{id}/updates", s.startUpdate)
	mux.HandleFunc("GET /api/2.0/pipelines/{id}/updates", s.listUpdates)
	mux.HandleFunc("GET /api/2.0/pipelines/{id}/updates/{uid}", s.getUpdate)
	mux.HandleFunc("GET /api/2.0/pipelines/{id}/events", s.listEvents)
	mux.HandleFunc("POST /api/2.0/pipelines/{id}/stop", s.stopPipeline)

	mux.HandleFunc("GET /api/2.2/jobs/list", s.listJobs)
	mux.HandleFunc("GET /api/2.2/jobs/get", s.getJob)
	mux.HandleFunc("POST /api/2.2/jobs/run-now", s.runNow)
	mux.HandleFunc("GET /api/2.2/jobs/runs/get", s.getRun)
	mux.HandleFunc("GET /api/2.2/jobs/runs/get-output", s.getRunOutput)
	mux.HandleFunc("POST /api/2.2/jobs/runs/cancel", s.cancelRun)

	mux.HandleFunc("POST /api/2.0/sql/statements", s.executeStatement)
	mux.HandleFunc("GET /api/2.0/sql/statements/{id}", s.getStatement)
	mux.HandleFunc("GET /api/2.0/sql/statements/{id}/result/chunks/{n}", s.getChunk)
	mux.HandleFunc("POST /api/2.0/sql/statements/{id}/cancel", s.cancelStatement)

	mux.HandleFunc("PUT /api/2.0/fs/files/{path...}", s.putFile)
	mux.HandleFunc("HEAD /api/2.0/fs/files/{path...}", s.headFile)
	mux.HandleFunc("GET /api/2.0/fs/files/{path...}", s.getFile)
	mux.HandleFunc("GET /api/2.0/fs/directories/{path...}", s.listDirectory)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, http.StatusNotFound, "ENDPOINT_NOT_FOUND",
			fmt.Sprintf("databrickstest: no fake for %s %s", r.Method, r.URL.Path))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(mux, w, r)
	})
}

// serve records the request, checks auth, applies faults and dispatches.
func (s *Server) serve(mux http.Handler, w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mu.Lock()
	s.requests = append(s.requests, Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body,
	})
	fault := s.takeFault(r)
	authOK := s.authorized(r)
	s.mu.Unlock()

	if !authOK {
		s.writeError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Invalid access token.")
		return
	}
	if fault == nil {
		mux.ServeHTTP(w, r)
		return
	}
	if fault.AfterHandling {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		if !sleepCtx(r, fault.Delay) {
			return
		}
		if fault.DropConnection {
			dropConnection(w)
			return
		}
		if fault.Status == 0 {
			copyRecorded(w, rec)
			return
		}
		s.writeFault(w, fault)
		return
	}
	if !sleepCtx(r, fault.Delay) {
		return
	}
	if fault.DropConnection {
		dropConnection(w)
		return
	}
	if fault.Status == 0 {
		mux.ServeHTTP(w, r)
		return
	}
	s.writeFault(w, fault)
}

func sleepCtx(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// dropConnection resets the connection (SO_LINGER 0) without answering.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

func copyRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (s *Server) takeFault(r *http.Request) *Fault {
	for _, f := range s.faults {
		if f.Times == 0 {
			continue
		}
		if f.Method != "" && f.Method != r.Method {
			continue
		}
		if !pathMatches(f.Path, r.URL.Path) {
			continue
		}
		if f.Times > 0 {
			f.Times--
		}
		cp := *f
		return &cp
	}
	return nil
}

func (s *Server) writeFault(w http.ResponseWriter, f *Fault) {
	code, msg := f.ErrorCode, f.Message
	if code == "" {
		code = defaultErrorCode(f.Status)
	}
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	s.writeError(w, f.Status, code, msg)
}

func defaultErrorCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "INVALID_PARAMETER_VALUE"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "RESOURCE_DOES_NOT_EXIST"
	case http.StatusConflict:
		return "RESOURCE_CONFLICT"
	case http.StatusTooManyRequests:
		return "REQUEST_LIMIT_EXCEEDED"
	case http.StatusServiceUnavailable:
		return "TEMPORARILY_UNAVAILABLE"
	default:
		return "INTERNAL_ERROR"
	}
}

func (s *Server) authorized(r *http.Request) bool {
	if !s.requireAuth || !strings.HasPrefix(r.URL.Path, "/api/") {
		return true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && s.validTokens[tok]
}

func (s *Server) hostMetadata(w http.ResponseWriter, _ *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]any{
		"workspace_id":  "1234567890123456",
		"host_type":     "WORKSPACE_HOST",
		"oidc_endpoint": s.URL + "/oidc",
	})
}

func (s *Server) oauthMetadata(w http.ResponseWriter, _ *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]any{
		"authorization_endpoint": s.URL + "/oidc/v1/authorize",
		"token_endpoint":         s.URL + "/oidc/v1/token",
	})
}

func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		_ = r.ParseForm()
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	s.mu.Lock()
	want, known := s.oauthClients[id]
	var tok string
	if known && want == secret {
		tok = fmt.Sprintf("oauth-token-%d", s.nextID())
		s.validTokens[tok] = true
	}
	s.mu.Unlock()
	if tok == "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"Client authentication failed"}`))
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": 3600, "scope": "all-apis",
	})
}

// writeJSON writes v (a map, for unknown-field injection) as JSON.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	s.mu.Lock()
	unknown := s.unknownFields
	s.mu.Unlock()
	if m, ok := v.(map[string]any); ok && unknown {
		m["x_sluice_unknown_field"] = map[string]any{"added_by": "databrickstest", "n": 1}
	}
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) writeError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(map[string]any{"error_code": code, "message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}

func millis(t time.Time) int64 { return t.UnixMilli() }
