package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/sluicedata/sluice/activities/notify"
	"github.com/sluicedata/sluice/internal/dag"
	inotify "github.com/sluicedata/sluice/internal/notify"
	"github.com/sluicedata/sluice/internal/pgtest"
	"github.com/sluicedata/sluice/internal/secret"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/store"
)

// TestNotificationsReachEveryChannelOnce runs alerting, whose check task
// fails three times, with on_start to a signed webhook and on_failure to
// email (a real SMTP server with STARTTLS and a password), Slack and the
// webhook. The webhook receiver takes the first on_failure request and
// drops the connection before answering, as a receiver that crashed after
// reading: the send is retried and carries the same delivery id, so the
// receiver keeps one message. Then a run whose channel is dead (Slack
// answers 410) still succeeds, and the staging override of alerting sends
// on_failure to the webhook only. No secret reaches a message or history.
func TestNotificationsReachEveryChannelOnce(t *testing.T) {
	t.Parallel()
	sb, r := notifySandbox(t)
	cut := false
	r.hook.respond = func(req *received) (int, string, bool) {
		if req.Header.Get("X-Sluice-Event") == inotify.KindFailure && !cut {
			cut = true
			return 0, "", true
		}
		return http.StatusOK, "ok", false
	}
	sb.startWorker()
	s := sb.openStore(t)
	ctx := context.Background()

	code, out := sb.sluice("run", "alerting", "--date", "2026-11-02", "--wait")
	require.Equal(t, 1, code, out)
	id := "sluice/alerting/local/2026-11-02"
	st, err := s.GetRun(ctx, id, "")
	require.NoError(t, err)
	require.Equal(t, dag.StatusFailed, st.Status)
	check := st.Task("check")
	require.Len(t, check.Attempts, 3)
	lastAttemptEnd := check.Attempts[2].EndedAt
	delivery := func(event, channel string) string { return fmt.Sprintf("%s/%s/%s/%s", id, st.RunID, event, channel) }

	t.Run("WebhookSignedAndDeduplicable", func(t *testing.T) {
		reqs := r.hook.requests()
		require.Len(t, reqs, 3, "on_start, on_failure, and on_failure again after the dropped connection")
		for _, req := range reqs {
			require.Equal(t, "/hooks/sluice?token="+hookToken, req.Path)
			require.NoError(t, inotify.VerifySignature(hookKey, req.Header.Get("X-Sluice-Timestamp"), string(req.Body),
				req.Header.Get("X-Sluice-Signature"), 0), "HMAC of %s", req.Header.Get("X-Sluice-Event"))
			requireNoSecrets(t, "webhook body", string(req.Body))
		}
		require.Equal(t, inotify.KindStart, reqs[0].Header.Get("X-Sluice-Event"))
		require.Equal(t, delivery(inotify.KindStart, "hook"), reqs[0].Header.Get("X-Sluice-Delivery"))
		failures := r.hook.byEvent(inotify.KindFailure)
		require.Len(t, failures, 2)
		require.Equal(t, delivery(inotify.KindFailure, "hook"), failures[0].Header.Get("X-Sluice-Delivery"))
		require.Equal(t, failures[0].Header.Get("X-Sluice-Delivery"), failures[1].Header.Get("X-Sluice-Delivery"),
			"the retry carries the same delivery id: the receiver drops the duplicate")
		require.Equal(t, string(failures[0].Body), string(failures[1].Body), "and the same event")
		require.False(t, failures[0].At.Before(lastAttemptEnd), "no failure alert while a retry is pending")
		// what a receiver deduplicating on X-Sluice-Delivery keeps
		kept := map[string]bool{}
		for _, req := range reqs {
			kept[req.Header.Get("X-Sluice-Delivery")] = true
		}
		require.Len(t, kept, 2)

		var body map[string]any
		require.NoError(t, json.Unmarshal(failures[1].Body, &body))
		require.Equal(t, "on_failure", body["kind"])
		require.Equal(t, "alerting", body["pipeline"])
		require.Equal(t, "FAILED", body["outcome"])
		require.Equal(t, "sluice repair "+id, body["repair_command"])
		require.Equal(t, []any{map[string]any{"key": "check", "state": "FAILED", "error_type": "WarehouseUnavailable",
			"message": "warehouse unavailable: ERROR: orders table is locked (SQLSTATE 40001)", "attempts": 3.0}}, body["failed_tasks"])
	})
	t.Run("Email", func(t *testing.T) {
		mails := r.mail.Received()
		require.Len(t, mails, 1)
		m := mails[0]
		require.Equal(t, smtpUser, m.User, "authenticated")
		require.True(t, m.TLS, "after STARTTLS, with the certificate trusted through SLUICE_SMTP_CA_FILE")
		require.Equal(t, "sluice@example.com", m.From)
		require.Equal(t, []string{"data-eng@example.com"}, m.To)
		msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
		require.NoError(t, err)
		require.Equal(t, "[sluice] alerting (local) FAILED", msg.Header.Get("Subject"))
		require.Equal(t, "on_failure", msg.Header.Get("X-Sluice-Event"))
		require.Equal(t, delivery(inotify.KindFailure, "mail"), msg.Header.Get("X-Sluice-Delivery"))
		body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		require.NoError(t, err)
		require.Contains(t, string(body), "check")
		require.Contains(t, string(body), "orders table is locked")
		require.Contains(t, string(body), "sluice repair "+id)
		requireNoSecrets(t, "email", string(m.Data))
	})
	t.Run("Slack", func(t *testing.T) {
		reqs := r.slack.requests()
		require.Len(t, reqs, 1)
		require.Equal(t, "/services/T000/B000/"+slackToken, reqs[0].Path)
		var body struct {
			Text string `json:"text"`
		}
		require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
		require.Contains(t, body.Text, "alerting")
		require.Contains(t, body.Text, "FAILED")
		requireNoSecrets(t, "slack body", string(reqs[0].Body))
	})
	t.Run("DeliveryLog", func(t *testing.T) {
		require.Equal(t, [][]string{
			{"on_failure", "hook", "webhook", "sent", "2", ""},
			{"on_failure", "mail", "email", "sent", "1", ""},
			{"on_failure", "slack", "slack", "sent", "1", ""},
			{"on_start", "hook", "webhook", "sent", "1", ""},
		}, queryStrings(t, s, `SELECT event, channel, channel_type, status, attempts::text, error FROM notifications
WHERE workflow_id = $1 ORDER BY event, channel`, id))

		code, out := sb.sluice("run-info", id)
		require.Equal(t, 0, code, out)
		_, notes, _ := strings.Cut(out, "\nNotifications\n")
		require.Regexp(t, `^  EVENT\s+CHANNEL\s+TYPE\s+STATUS\s+ATTEMPTS\s+SENT\s+ERROR\n`+
			`  on_start\s+hook\s+webhook\s+sent\s+1\s+[-0-9: ]+\s*\n`, notes)
		require.Regexp(t, `\n  on_failure\s+hook\s+webhook\s+sent\s+2\s+`, notes)
		requireNoSecrets(t, "run-info", out)
		code, out = sb.sluice("logs", id)
		require.Equal(t, 0, code, out)
		requireNoSecrets(t, "logs", out)
	})

	t.Run("DeadChannelDoesNotFailTheRun", func(t *testing.T) {
		code, out := sb.sluice("run", "delivered", "--date", "2026-11-02", "--wait")
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "delivered in local: SUCCESS")
		did := "sluice/delivered/local/2026-11-02"
		rows := queryStrings(t, s, `SELECT event, channel, status, attempts::text, error FROM notifications
WHERE workflow_id = $1 ORDER BY channel`, did)
		require.Len(t, rows, 3)
		require.Equal(t, []string{"on_success", "archived", "failed", "1"}, rows[0][:4], "a permanent answer is not retried")
		require.Contains(t, rows[0][4], "410")
		requireNoSecrets(t, "delivery error", rows[0][4])
		require.Equal(t, []string{"on_success", "mail", "sent", "1", ""}, rows[1])
		require.Equal(t, []string{"on_success", "slack", "sent", "1", ""}, rows[2])
		require.Len(t, r.archived.requests(), 1)
		require.Len(t, r.mail.Received(), 2)
	})

	t.Run("EnvironmentOverride", func(t *testing.T) {
		before, mails, slacks := len(r.hook.requests()), len(r.mail.Received()), len(r.slack.requests())
		code, out := sb.sluice("run", "alerting", "--env", "staging", "--date", "2026-11-02", "--wait")
		require.Equal(t, 1, code, out)
		reqs := r.hook.requests()[before:]
		require.Len(t, reqs, 2)
		require.Equal(t, inotify.KindStart, reqs[0].Header.Get("X-Sluice-Event"), "on_start is kept by the overlay")
		require.Equal(t, inotify.KindFailure, reqs[1].Header.Get("X-Sluice-Event"))
		require.True(t, strings.HasPrefix(reqs[1].Header.Get("X-Sluice-Delivery"), "sluice/alerting/staging/2026-11-02/"))
		require.Len(t, r.mail.Received(), mails, "staging sends on_failure to the webhook only")
		require.Len(t, r.slack.requests(), slacks)
	})

	t.Run("NoSecretInHistory", func(t *testing.T) {
		for _, q := range []string{
			`SELECT coalesce(string_agg(r::text, ' '), '') FROM runs r`,
			`SELECT coalesce(string_agg(t::text, ' '), '') FROM task_runs t`,
			`SELECT coalesce(string_agg(e::text, ' '), '') FROM run_errors e`,
			`SELECT coalesce(string_agg(n::text, ' '), '') FROM notifications n`,
		} {
			requireNoSecrets(t, q, queryStrings(t, s, q)[0][0])
		}
	})
}

// TestDurationWarningFiresOnce runs warned: its task outlasts the task's
// duration_warning (1s) and the run its own (2s). Both warnings are kept in
// history, and on_duration_warning is sent once.
func TestDurationWarningFiresOnce(t *testing.T) {
	t.Parallel()
	sb, r := notifySandbox(t)
	sb.startWorker()
	code, out := sb.sluice("run", "warned", "--date", "2026-11-03", "--wait")
	require.Equal(t, 0, code, out)
	id := "sluice/warned/local/2026-11-03"
	s := sb.openStore(t)
	st, err := s.GetRun(context.Background(), id, "")
	require.NoError(t, err)
	require.Equal(t, []string{
		"task nap has been running for 1s, longer than its duration_warning of 1s",
		"run of warned has been running for 2s, longer than its duration_warning of 2s",
	}, durationWarnings(st.Warnings))

	warned := r.hook.byEvent(inotify.KindDurationWarning)
	require.Len(t, warned, 1, "one message however many timers fired")
	var body map[string]any
	require.NoError(t, json.Unmarshal(warned[0].Body, &body))
	require.Equal(t, "RUNNING", body["outcome"])
	require.Equal(t, []any{"task nap has been running for 1s, longer than its duration_warning of 1s"}, body["warnings"])
	require.Len(t, r.hook.byEvent(inotify.KindSuccess), 1)
	require.Len(t, r.hook.requests(), 2)
	require.Equal(t, [][]string{{"on_duration_warning", "sent"}, {"on_success", "sent"}},
		queryStrings(t, s, `SELECT event, status FROM notifications WHERE workflow_id = $1 ORDER BY event`, id))

	code, out = sb.sluice("run-info", id)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "\nwarning: task nap has been running for 1s, longer than its duration_warning of 1s\n"+
		"warning: run of warned has been running for 2s, longer than its duration_warning of 2s\n")
}

// durationWarnings keeps the duration warnings of a run's warnings (the
// plan adds its own about the worker's environment).
func durationWarnings(ws []string) []string {
	var out []string
	for _, w := range ws {
		if strings.Contains(w, "duration_warning") {
			out = append(out, w)
		}
	}
	return out
}

// TestSendEventRetriedAfterSendingSendsNothing runs the SendEvent activity
// the way Temporal retries it, with the real delivery log: an execution
// that follows one which sent the message (its completion lost with a
// crashed worker) sends nothing; an execution that follows a send whose
// answer was lost sends again with the same delivery id, for the receiver
// to drop.
func TestSendEventRetriedAfterSendingSendsNothing(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), pgtest.NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(st.Close)
	drop := map[string]bool{"wf/run-2/on_failure/hook": true}
	hook := startHTTPReceiver(t, func(req *received) (int, string, bool) {
		id := req.Header.Get("X-Sluice-Delivery")
		if drop[id] {
			drop[id] = false
			return 0, "", true
		}
		return http.StatusOK, "ok", false
	})
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "HOOK_URL"), []byte(hook.url+"/h?token="+hookToken), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "HOOK_KEY"), []byte(hookKey), 0o600))
	acts := &notify.Activities{Store: st, Secrets: &secret.Store{Dir: dir}, Sender: &inotify.Sender{}}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	send := func(runID string) (notify.EventResult, error) {
		env := suite.NewTestActivityEnvironment()
		env.RegisterActivity(acts)
		in := notify.EventInput{
			Event: inotify.Event{Kind: inotify.KindFailure, Pipeline: "p", Env: "prod", Outcome: "FAILED", WorkflowID: "wf", RunID: runID,
				DeliveryID: "wf/" + runID + "/on_failure/hook", LogicalDate: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)},
			ChannelName: "hook",
			Channel:     spec.Channel{Type: inotify.TypeWebhook, URL: "${secret:HOOK_URL}", Secret: "${secret:HOOK_KEY}"},
		}
		v, err := env.ExecuteActivity(acts.SendEvent, in)
		if err != nil {
			return notify.EventResult{}, err
		}
		var res notify.EventResult
		require.NoError(t, v.Get(&res))
		return res, nil
	}

	t.Run("AfterASend", func(t *testing.T) {
		res, err := send("run-1")
		require.NoError(t, err)
		require.Equal(t, "sent", res.Status)
		res, err = send("run-1")
		require.NoError(t, err)
		require.Equal(t, "skipped", res.Status)
		require.Len(t, deliveriesOf(hook, "wf/run-1/on_failure/hook"), 1)
		ds, err := st.Deliveries(context.Background(), "wf", "run-1")
		require.NoError(t, err)
		require.Len(t, ds, 1)
		require.Equal(t, store.DeliverySent, ds[0].Status)
		require.Equal(t, 1, ds[0].Attempts)
	})
	t.Run("AfterALostAnswer", func(t *testing.T) {
		_, err := send("run-2")
		require.Error(t, err, "the connection dropped before an answer")
		require.Contains(t, err.Error(), "channel hook: ")
		requireNoSecrets(t, "error", err.Error())
		res, err := send("run-2")
		require.NoError(t, err)
		require.Equal(t, "sent", res.Status)
		got := deliveriesOf(hook, "wf/run-2/on_failure/hook")
		require.Len(t, got, 2, "sent again: Sluice cannot know the first reached the receiver")
		require.Equal(t, string(got[0].Body), string(got[1].Body))
		ds, err := st.Deliveries(context.Background(), "wf", "run-2")
		require.NoError(t, err)
		require.Equal(t, store.DeliverySent, ds[0].Status)
		require.Equal(t, 2, ds[0].Attempts)
	})
}

func deliveriesOf(rc *httpReceiver, id string) []received {
	var out []received
	for _, r := range rc.requests() {
		if r.Header.Get("X-Sluice-Delivery") == id {
			out = append(out, r)
		}
	}
	return out
}
