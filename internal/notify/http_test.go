package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// request is what a test HTTP receiver saw.
type request struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// receiver is an HTTP endpoint that records requests and answers with a fixed
// status, headers and body.
type receiver struct {
	url  string
	mu   sync.Mutex
	reqs []request
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs...)
}

func newReceiver(t *testing.T, status int, header map[string]string, body string) *receiver {
	t.Helper()
	r := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, request{method: req.Method, path: req.URL.Path, query: req.URL.RawQuery, header: req.Header.Clone(), body: b})
		r.mu.Unlock()
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// hostPort is the receiver's host:port as errors name it.
func (r *receiver) hostPort() string { return strings.TrimPrefix(r.url, "http://") }

// hmacHex computes the expected signature independently of Sign.
func hmacHex(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "." + string(body)))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func indentJSON(t *testing.T, raw []byte) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, json.Indent(&b, raw, "", "  "))
	return b.String() + "\n"
}

// closedURL returns an http URL on a port nothing listens on.
func closedURL(t *testing.T, path string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr + path
}

func TestWebhookSend(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, http.StatusNoContent, nil, "")
	now := time.Now().Truncate(time.Second)
	s := &Sender{Now: func() time.Time { return now }}
	ch := Channel{Type: TypeWebhook, URL: rcv.url + "/hooks/sluice?team=data", Secret: "hmac-key-1", Headers: map[string]string{"X-Team": "data"}}

	require.NoError(t, s.Send(context.Background(), ch, failureEvent(), nil))

	reqs := rcv.requests()
	require.Len(t, reqs, 1)
	req := reqs[0]
	require.Equal(t, http.MethodPost, req.method)
	require.Equal(t, "/hooks/sluice", req.path)
	require.Equal(t, "team=data", req.query)
	require.Equal(t, "application/json", req.header.Get("Content-Type"))
	require.Equal(t, "on_failure", req.header.Get("X-Sluice-Event"))
	require.Equal(t, "sluice/olist_daily/prod/2026-11-22/on_failure/data-eng", req.header.Get("X-Sluice-Delivery"))
	require.Equal(t, "data", req.header.Get("X-Team"))
	ts := strconv.FormatInt(now.Unix(), 10)
	require.Equal(t, ts, req.header.Get("X-Sluice-Timestamp"))
	require.Equal(t, hmacHex("hmac-key-1", ts, req.body), req.header.Get("X-Sluice-Signature"))

	// Compact JSON on the wire, laid out in the golden file for review; the
	// task message lost its trailing newline to line cleaning.
	require.NotContains(t, string(req.body), "\n")
	golden(t, "webhook_failure.json", indentJSON(t, req.body))

	sig, body := req.header.Get("X-Sluice-Signature"), string(req.body)
	t.Run("Verified", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, VerifySignature("hmac-key-1", ts, body, sig, time.Minute))
	})
	t.Run("TamperedBody", func(t *testing.T) {
		t.Parallel()
		tampered := strings.Replace(body, `"outcome":"FAILED"`, `"outcome":"SUCCESS"`, 1)
		require.NotEqual(t, body, tampered)
		require.ErrorIs(t, VerifySignature("hmac-key-1", ts, tampered, sig, time.Minute), ErrSignatureMismatch)
	})
	t.Run("WrongSecret", func(t *testing.T) {
		t.Parallel()
		require.ErrorIs(t, VerifySignature("hmac-key-2", ts, body, sig, time.Minute), ErrSignatureMismatch)
	})
	t.Run("ChangedTimestamp", func(t *testing.T) {
		t.Parallel()
		later := strconv.FormatInt(now.Unix()+1, 10)
		require.ErrorIs(t, VerifySignature("hmac-key-1", later, body, sig, time.Minute), ErrSignatureMismatch)
	})
	t.Run("OldTimestamp", func(t *testing.T) {
		t.Parallel()
		old := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
		err := VerifySignature("hmac-key-1", old, body, hmacHex("hmac-key-1", old, []byte(body)), 5*time.Minute)
		require.ErrorIs(t, err, ErrTimestampInvalid)
		require.Contains(t, err.Error(), "ago, more than 5m0s")
	})
	t.Run("FutureTimestamp", func(t *testing.T) {
		t.Parallel()
		future := strconv.FormatInt(time.Now().Add(10*time.Minute).Unix(), 10)
		err := VerifySignature("hmac-key-1", future, body, hmacHex("hmac-key-1", future, []byte(body)), 0)
		require.ErrorIs(t, err, ErrTimestampInvalid)
		require.Contains(t, err.Error(), "in the future, more than 5m0s")
	})
	t.Run("MalformedHeader", func(t *testing.T) {
		t.Parallel()
		require.ErrorIs(t, VerifySignature("hmac-key-1", ts, body, strings.TrimPrefix(sig, "sha256="), time.Minute), ErrSignatureMissing)
		require.ErrorIs(t, VerifySignature("hmac-key-1", ts, body, "sha256=zz", time.Minute), ErrSignatureMissing)
		require.ErrorIs(t, VerifySignature("hmac-key-1", "yesterday", body, sig, time.Minute), ErrTimestampInvalid)
	})
}

func TestWebhookUnsigned(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, http.StatusOK, nil, "")
	ch := Channel{Type: TypeWebhook, URL: rcv.url}
	require.NoError(t, (&Sender{}).Send(context.Background(), ch, Event{Kind: KindStart, Pipeline: "p"}, nil))
	reqs := rcv.requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "on_start", reqs[0].header.Get("X-Sluice-Event"))
	require.NotContains(t, reqs[0].header, "X-Sluice-Timestamp")
	require.NotContains(t, reqs[0].header, "X-Sluice-Signature")
	require.NotContains(t, reqs[0].header, "X-Sluice-Delivery")
}

func TestSlackSend(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, http.StatusOK, nil, "ok")
	ch := Channel{Type: TypeSlack, Webhook: rcv.url + "/services/T0000/B0000/XXXXSECRETXXXX"}
	require.NoError(t, (&Sender{}).Send(context.Background(), ch, failureEvent(), []string{ch.Webhook}))

	reqs := rcv.requests()
	require.Len(t, reqs, 1)
	require.Equal(t, http.MethodPost, reqs[0].method)
	require.Equal(t, "/services/T0000/B0000/XXXXSECRETXXXX", reqs[0].path)
	require.Equal(t, "application/json", reqs[0].header.Get("Content-Type"))
	require.NotContains(t, string(reqs[0].body), "\n")
	golden(t, "slack_failure.json", indentJSON(t, reqs[0].body))

	var p slackPayload
	require.NoError(t, json.Unmarshal(reqs[0].body, &p))
	require.Equal(t, "[sluice] olist_daily (prod) FAILED", p.Text)
	require.Equal(t, Render(failureEvent()).Markdown, joinBlocks(p.Blocks))
}

func joinBlocks(blocks []slackBlock) string {
	texts := make([]string, len(blocks))
	for i, b := range blocks {
		texts[i] = b.Text.Text
	}
	return strings.Join(texts, "\n\n")
}

func TestHTTPStatusClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		permanent  bool
		retryAfter time.Duration
		wantMsg    string // after "posting to <target>: "
	}{
		{"ServerError", 500, nil, "rollup_error", false, 0, "HTTP 500 Internal Server Error: rollup_error"},
		{"Unavailable", 503, map[string]string{"Retry-After": "120"}, "", false, 2 * time.Minute, "HTTP 503 Service Unavailable"},
		{"TooManyRequests", 429, map[string]string{"Retry-After": "7"}, "rate limited", false, 7 * time.Second, "HTTP 429 Too Many Requests: rate limited"},
		{"RequestTimeout", 408, nil, "", false, 0, "HTTP 408 Request Timeout"},
		{"NotFound", 404, nil, "no_service", true, 0, "HTTP 404 Not Found: no_service"},
		{"Forbidden", 403, nil, "invalid_token", true, 0, "HTTP 403 Forbidden: invalid_token"},
		{"BadRequest", 400, nil, "invalid_payload\n", true, 0, "HTTP 400 Bad Request: invalid_payload"},
		{"Gone", 410, nil, "channel_is_archived", true, 0, "HTTP 410 Gone: channel_is_archived"},
		{"Redirect", 301, map[string]string{"Location": "https://elsewhere.example.com/"}, "", true, 0,
			"HTTP 301 Moved Permanently (redirects are not followed; configure the final URL)"},
	}
	for _, tt := range tests {
		for _, typ := range []string{TypeSlack, TypeWebhook} {
			t.Run(tt.name+"/"+typ, func(t *testing.T) {
				t.Parallel()
				rcv := newReceiver(t, tt.status, tt.header, tt.body)
				ch := Channel{Type: typ}
				target := "webhook at " + rcv.hostPort()
				if typ == TypeSlack {
					ch.Webhook = rcv.url + "/services/T0/B0/SECRET"
					target = "Slack webhook at " + rcv.hostPort()
				} else {
					ch.URL = rcv.url + "/hook"
				}
				err := (&Sender{}).Send(context.Background(), ch, failureEvent(), nil)
				require.Error(t, err)
				var nerr *Error
				require.ErrorAs(t, err, &nerr)
				require.Equal(t, tt.status, nerr.Code)
				require.Equal(t, tt.permanent, IsPermanent(err))
				require.Equal(t, tt.retryAfter, nerr.RetryAfter)
				require.Equal(t, typ, nerr.Channel)
				require.EqualError(t, err, "posting to "+target+": "+tt.wantMsg)
				require.Len(t, rcv.requests(), 1, "a redirect must not be followed")
			})
		}
	}
}

func TestHTTPSecretsScrubbed(t *testing.T) {
	t.Parallel()
	const dbPassword = "Tr0ub4dor&3"
	e := failureEvent()
	e.FailedTasks[0].Message = "could not connect: password authentication failed for user etl (password " + dbPassword + ")"

	t.Run("SlackBody", func(t *testing.T) {
		t.Parallel()
		rcv := newReceiver(t, http.StatusOK, nil, "ok")
		ch := Channel{Type: TypeSlack, Webhook: rcv.url + "/services/T0/B0/SECRET"}
		require.NoError(t, (&Sender{}).Send(context.Background(), ch, e, []string{dbPassword, ch.Webhook}))
		body := string(rcv.requests()[0].body)
		require.NotContains(t, body, "Tr0ub4dor")
		require.Contains(t, body, "(password ***)")
	})
	t.Run("WebhookBodyAndSignature", func(t *testing.T) {
		t.Parallel()
		rcv := newReceiver(t, http.StatusOK, nil, "")
		ch := Channel{Type: TypeWebhook, URL: rcv.url, Secret: "k"}
		require.NoError(t, (&Sender{}).Send(context.Background(), ch, e, []string{dbPassword}))
		req := rcv.requests()[0]
		require.NotContains(t, string(req.body), "Tr0ub4dor")
		require.Contains(t, string(req.body), "(password ***)")
		require.NoError(t, VerifySignature("k", req.header.Get("X-Sluice-Timestamp"), string(req.body), req.header.Get("X-Sluice-Signature"), 0))
	})
	t.Run("ResponseEchoingASecret", func(t *testing.T) {
		t.Parallel()
		rcv := newReceiver(t, http.StatusBadRequest, nil, "rejected text containing "+dbPassword)
		ch := Channel{Type: TypeWebhook, URL: rcv.url}
		err := (&Sender{}).Send(context.Background(), ch, e, []string{dbPassword})
		require.EqualError(t, err, "posting to webhook at "+rcv.hostPort()+": HTTP 400 Bad Request: rejected text containing ***")
	})
	t.Run("SlackURLNeverInErrors", func(t *testing.T) {
		t.Parallel()
		webhook := closedURL(t, "/services/T0/B0/XXXXSECRETXXXX")
		ch := Channel{Type: TypeSlack, Webhook: webhook}
		// The caller forgot to list the webhook URL as a secret: the Slack
		// sender treats it as one anyway.
		err := (&Sender{}).Send(context.Background(), ch, e, nil)
		require.Error(t, err)
		require.NotContains(t, err.Error(), "XXXXSECRETXXXX")
		require.NotContains(t, err.Error(), "/services/")
		require.Contains(t, err.Error(), "posting to Slack webhook at "+strings.TrimPrefix(strings.TrimSuffix(webhook, "/services/T0/B0/XXXXSECRETXXXX"), "http://")+": dial tcp")
		require.Contains(t, err.Error(), "connection refused")
		require.False(t, IsPermanent(err), "a refused connection is transient")
		// Unwrapping must not reach the url.Error that quotes the URL.
		for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
			require.NotContains(t, u.Error(), "XXXXSECRETXXXX")
		}
	})
}

func TestHTTPContextDeadline(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice the client hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := (&Sender{}).Send(ctx, Channel{Type: TypeWebhook, URL: srv.URL}, failureEvent(), nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, IsPermanent(err))
}

func TestSendInvalidChannel(t *testing.T) {
	t.Parallel()
	ch := Channel{Type: TypeSlack, Webhook: "${secret:SLACK_WEBHOOK_URL}"}
	err := (&Sender{}).Send(context.Background(), ch, failureEvent(), nil)
	require.True(t, IsPermanent(err))
	require.EqualError(t, err, "invalid slack channel: `webhook` still holds an unresolved reference; resolve ${...} references before sending")
}
