package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/notify/smtptest"
	"github.com/sluicedata/sluice/internal/orchestrator"
	"github.com/sluicedata/sluice/internal/store"
)

// This file holds what the operations tests share: the receivers of
// notifications (a real SMTP server and HTTP endpoints in the test process),
// a TCP proxy to cut the history database, and exact dumps of history rows.

// opsProject is the operations tests' fixture project.
const opsProject = "testdata/ops"

// ---- notifications --------------------------------------------------------

// Credentials and secret parts of channel URLs: none may appear in anything
// sent or stored.
const (
	smtpUser      = "sluice"
	smtpPassword  = "pa55-w0rd-smtp"
	slackToken    = "slack-secret-token-9f8e"
	archivedToken = "archived-secret-token-1a2b"
	hookToken     = "hook-secret-token-7c6d"
	hookKey       = "hmac-key-5e4f"
)

// secretValues are the strings no message body, log row or error may hold.
var secretValues = []string{smtpPassword, slackToken, archivedToken, hookToken, hookKey}

// receivers are the endpoints of the ops project's channels.
type receivers struct {
	mail     *smtptest.Server
	slack    *httpReceiver
	archived *httpReceiver
	hook     *httpReceiver
	// secretsDir holds the channel secrets, caFile the SMTP server's CA.
	secretsDir, caFile string
}

// notifySandbox starts the receivers and a sandbox on the ops project whose
// in-process worker reads the channel secrets from a secrets folder and
// trusts the test SMTP server's certificate.
func notifySandbox(t *testing.T) (*sandbox, *receivers) {
	t.Helper()
	r := &receivers{
		mail:       smtptest.Start(t, smtptest.Options{STARTTLS: true, RequireAuth: true, User: smtpUser, Password: smtpPassword}),
		slack:      startHTTPReceiver(t, nil),
		archived:   startHTTPReceiver(t, func(*received) (int, string, bool) { return http.StatusGone, "channel_is_archived", false }),
		hook:       startHTTPReceiver(t, nil),
		secretsDir: t.TempDir(),
	}
	r.caFile = filepath.Join(t.TempDir(), "smtp-ca.pem")
	require.NoError(t, os.WriteFile(r.caFile, r.mail.CAPEM, 0o600))
	for name, value := range map[string]string{
		"SMTP_URL":             fmt.Sprintf("smtp://%s:%s@%s", smtpUser, smtpPassword, r.mail.Addr),
		"SLACK_WEBHOOK_URL":    r.slack.url + "/services/T000/B000/" + slackToken,
		"ARCHIVED_WEBHOOK_URL": r.archived.url + "/services/T000/B111/" + archivedToken,
		"HOOK_URL":             r.hook.url + "/hooks/sluice?token=" + hookToken,
		"HOOK_KEY":             hookKey,
	} {
		require.NoError(t, os.WriteFile(filepath.Join(r.secretsDir, name), []byte(value), 0o600))
	}
	sb := newSandbox(t, opsProject)
	sb.configure = func(c *orchestrator.Config) {
		c.SecretsDir = r.secretsDir
		c.SMTPCAFile = r.caFile
	}
	return sb, r
}

// received is one HTTP request a receiver took.
type received struct {
	At     time.Time
	Path   string
	Header http.Header
	Body   []byte
}

// httpReceiver records every POST; respond decides the answer (nil: 200
// "ok"); cut drops the connection after reading the request, as a receiver
// that took a message and died before answering. respond runs under the
// receiver's lock, one request at a time.
type httpReceiver struct {
	url     string
	mu      sync.Mutex
	reqs    []received
	respond func(*received) (status int, body string, cut bool)
}

func startHTTPReceiver(t *testing.T, respond func(*received) (int, string, bool)) *httpReceiver {
	t.Helper()
	rc := &httpReceiver{respond: respond}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got := received{At: time.Now(), Path: req.URL.RequestURI(), Header: req.Header.Clone(), Body: body}
		status, text, cut := http.StatusOK, "ok", false
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, got)
		if rc.respond != nil {
			status, text, cut = rc.respond(&got)
		}
		rc.mu.Unlock()
		if cut {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, text)
	}))
	t.Cleanup(srv.Close)
	rc.url = srv.URL
	return rc
}

func (rc *httpReceiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// byEvent returns the requests whose X-Sluice-Event is kind.
func (rc *httpReceiver) byEvent(kind string) []received {
	var out []received
	for _, r := range rc.requests() {
		if r.Header.Get("X-Sluice-Event") == kind {
			out = append(out, r)
		}
	}
	return out
}

// requireNoSecrets fails when text holds a secret value.
func requireNoSecrets(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range secretValues {
		require.NotContains(t, text, s, "%s holds a secret", what)
	}
}

// ---- history outage ---------------------------------------------------------

// tcpProxy forwards connections to a target. cut closes every connection
// and stops listening, as a database server going down; restore listens on
// the same address again.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{t: t, target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *tcpProxy) pipe(client net.Conn) {
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		_ = client.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		_ = client.Close()
		_ = server.Close()
		return
	}
	p.conns[client], p.conns[server] = true, true
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(2)
	copyConn := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
	}
	go copyConn(server, client)
	go copyConn(client, server)
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// cut stops accepting connections and closes the open ones.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// restore accepts connections again on the same address.
func (p *tcpProxy) restore() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(p.t, err, "listening on %s again", p.addr)
	p.serve(ln)
}

// ---- history rows -----------------------------------------------------------

// historyRows is a run's history as rows of text, for exact comparisons.
// Times are left out; checkTimes checks them.
type historyRows struct {
	Run      []string   // pipeline env trigger status error repair_of
	Tasks    [][]string // key type state attempts error_type error_message reused_from ran
	Attempts [][]string // key attempt state error_type error_message
	Errors   [][]string // key attempt error_type message detail
}

func dumpHistory(t *testing.T, s *store.Store, workflowID string) historyRows {
	t.Helper()
	ctx := context.Background()
	var h historyRows
	var pipeline, env, trigger, status, errText, repairOf, planHash string
	var ended *time.Time
	err := s.Pool().QueryRow(ctx, `SELECT pipeline, env, trigger, status, error, repair_of, plan_hash, ended_at FROM runs WHERE workflow_id = $1`,
		workflowID).Scan(&pipeline, &env, &trigger, &status, &errText, &repairOf, &planHash, &ended)
	require.NoError(t, err, "run %s in history", workflowID)
	require.NotEmpty(t, planHash, "the plan hash is kept")
	require.NotNil(t, ended, "the run has ended in history")
	h.Run = []string{pipeline, env, trigger, status, errText, repairOf}
	h.Tasks = queryStrings(t, s, `
SELECT task_key, type, state, attempts::text, error_type, error_message, reused_from,
       CASE WHEN started_at IS NULL THEN 'not run' ELSE 'ran' END
FROM task_runs WHERE workflow_id = $1 ORDER BY position`, workflowID)
	h.Attempts = queryStrings(t, s, `
SELECT task_key, attempt::text, state, error_type, error_message
FROM task_attempts WHERE workflow_id = $1 ORDER BY task_key, attempt`, workflowID)
	h.Errors = queryStrings(t, s, `
SELECT task_key, attempt::text, error_type, message, detail
FROM run_errors WHERE workflow_id = $1 ORDER BY task_key, attempt`, workflowID)
	checkTimes(t, s, workflowID)
	return h
}

func queryStrings(t *testing.T, s *store.Store, sql string, args ...any) [][]string {
	t.Helper()
	rows, err := s.Pool().Query(context.Background(), sql, args...)
	require.NoError(t, err)
	defer rows.Close()
	out := [][]string{}
	for rows.Next() {
		vals, err := rows.Values()
		require.NoError(t, err)
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = fmt.Sprint(v)
		}
		out = append(out, row)
	}
	require.NoError(t, rows.Err())
	return out
}

// checkTimes checks that every attempt and task that started has ended,
// within the run, and that attempts follow one another.
func checkTimes(t *testing.T, s *store.Store, workflowID string) {
	t.Helper()
	bad := queryStrings(t, s, `
SELECT 'task ' || t.task_key FROM task_runs t JOIN runs r USING (workflow_id, run_id)
WHERE t.workflow_id = $1 AND t.started_at IS NOT NULL
  AND (t.ended_at IS NULL OR t.ended_at < t.started_at OR t.started_at < r.started_at OR t.ended_at > r.ended_at)
UNION ALL
SELECT 'attempt ' || a.task_key || ' #' || a.attempt FROM task_attempts a JOIN task_runs t USING (workflow_id, run_id, task_key)
WHERE a.workflow_id = $1
  AND (a.ended_at IS NULL OR a.ended_at < a.started_at OR a.started_at < t.started_at OR a.ended_at > t.ended_at
       OR EXISTS (SELECT 1 FROM task_attempts b WHERE b.workflow_id = a.workflow_id AND b.run_id = a.run_id
                  AND b.task_key = a.task_key AND b.attempt = a.attempt + 1 AND b.started_at < a.ended_at))`, workflowID)
	require.Empty(t, bad, "times out of order in the history of %s", workflowID)
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// lines returns the lines of s that contain every one of parts.
func linesWith(s string, parts ...string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}
