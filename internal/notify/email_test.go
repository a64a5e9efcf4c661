package notify

import (
	"context"
	"crypto/tls"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/notify/smtptest"
)

// A real SMTP server runs in the test process (see smtptest).

const (
	smtpUser     = smtptest.DefaultUser
	smtpPassword = smtptest.DefaultPassword
)

var sendTime = time.Date(2026, 11, 22, 7, 2, 6, 0, time.UTC)

func emailSender(m *smtptest.Server) *Sender {
	return &Sender{
		TLSConfig: &tls.Config{RootCAs: m.Roots},
		Hostname:  "worker-1.example.com",
		Now:       func() time.Time { return sendTime },
	}
}

func emailChannel(smtpURL string) Channel {
	return Channel{Type: TypeEmail, To: []string{"data-eng@example.com", "On Call <oncall@example.com>"}, SMTP: smtpURL, From: "sluice@example.com"}
}

func TestEmailSTARTTLS(t *testing.T) {
	t.Parallel()
	m := smtptest.Start(t, smtptest.Options{STARTTLS: true})
	ch := emailChannel(m.URL("smtp", true, ""))
	e := failureEvent()

	require.NoError(t, emailSender(m).Send(context.Background(), ch, e, []string{ch.SMTP}))

	mails := m.Received()
	require.Len(t, mails, 1)
	got := mails[0]
	require.Equal(t, smtpUser, got.User)
	require.True(t, got.TLS, "the transaction must run after STARTTLS")
	require.Equal(t, "sluice@example.com", got.From)
	require.Equal(t, []string{"data-eng@example.com", "oncall@example.com"}, got.To)

	msg, err := mail.ReadMessage(strings.NewReader(string(got.Data)))
	require.NoError(t, err)
	require.Equal(t, "[sluice] olist_daily (prod) FAILED", msg.Header.Get("Subject"))
	require.Equal(t, "<sluice@example.com>", msg.Header.Get("From"))
	require.Equal(t, `<data-eng@example.com>, "On Call" <oncall@example.com>`, msg.Header.Get("To"))
	require.Equal(t, "Sun, 22 Nov 2026 07:02:06 +0000", msg.Header.Get("Date"))
	require.Regexp(t, regexp.MustCompile(`^<[0-9a-f]{32}@example\.com>$`), msg.Header.Get("Message-ID"))
	require.Equal(t, "text/plain; charset=utf-8", msg.Header.Get("Content-Type"))
	require.Equal(t, "quoted-printable", msg.Header.Get("Content-Transfer-Encoding"))
	require.Equal(t, "auto-generated", msg.Header.Get("Auto-Submitted"))
	require.Equal(t, "on_failure", msg.Header.Get("X-Sluice-Event"))
	require.Equal(t, e.DeliveryID, msg.Header.Get("X-Sluice-Delivery"))

	raw, err := io.ReadAll(msg.Body)
	require.NoError(t, err)
	for _, line := range strings.Split(string(raw), "\r\n") {
		require.LessOrEqual(t, len(line), 76, "quoted-printable keeps lines short: %q", line)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(raw))))
	require.NoError(t, err)
	require.Equal(t, Render(e).Text, strings.ReplaceAll(string(body), "\r\n", "\n"))
}

func TestEmailMessageIDFollowsDelivery(t *testing.T) {
	t.Parallel()
	m := smtptest.Start(t, smtptest.Options{STARTTLS: true})
	ch := emailChannel(m.URL("smtp", true, ""))
	s := emailSender(m)
	e := failureEvent()
	other := failureEvent()
	other.DeliveryID = "sluice/olist_daily/prod/2026-11-22/on_failure/data-alerts"
	for _, ev := range []Event{e, e, other} {
		require.NoError(t, s.Send(context.Background(), ch, ev, nil))
	}
	mails := m.Received()
	require.Len(t, mails, 3)
	ids := make([]string, 3)
	for i, got := range mails {
		msg, err := mail.ReadMessage(strings.NewReader(string(got.Data)))
		require.NoError(t, err)
		ids[i] = msg.Header.Get("Message-ID")
	}
	require.Equal(t, ids[0], ids[1], "a retried delivery keeps its Message-ID")
	require.NotEqual(t, ids[0], ids[2])
}

func TestEmailImplicitTLS(t *testing.T) {
	t.Parallel()
	m := smtptest.Start(t, smtptest.Options{ImplicitTLS: true})
	ch := emailChannel(m.URL("smtps", true, ""))
	require.NoError(t, emailSender(m).Send(context.Background(), ch, failureEvent(), nil))
	mails := m.Received()
	require.Len(t, mails, 1)
	require.True(t, mails[0].TLS)
	require.Equal(t, smtpUser, mails[0].User)
}

func TestEmailStartTLSRefused(t *testing.T) {
	t.Parallel()
	m := smtptest.Start(t, smtptest.Options{STARTTLS: false})

	t.Run("RequiredByDefault", func(t *testing.T) {
		t.Parallel()
		ch := emailChannel(m.URL("smtp", true, ""))
		err := emailSender(m).Send(context.Background(), ch, failureEvent(), nil)
		require.True(t, IsPermanent(err))
		require.EqualError(t, err, "sending email via "+m.Addr+": the server does not offer STARTTLS; use smtps:// for implicit TLS, "+
			"or add ?starttls=false to the URL for a local relay on a trusted network")
		require.NotContains(t, err.Error(), "w/rd")
	})
	t.Run("LocalRelayWithoutTLS", func(t *testing.T) {
		t.Parallel()
		ch := emailChannel(m.URL("smtp", false, "starttls=false"))
		ch.From = ""
		require.NoError(t, emailSender(m).Send(context.Background(), ch, failureEvent(), nil))
		var got []smtptest.Mail
		for _, r := range m.Received() {
			if r.From == "sluice@worker-1.example.com" {
				got = append(got, r)
			}
		}
		require.Len(t, got, 1, "default sender is sluice@<hostname>")
		require.False(t, got[0].TLS)
		require.Empty(t, got[0].User)
	})
}

func TestEmailNoCredentialsWithoutTLS(t *testing.T) {
	t.Parallel()
	m := smtptest.Start(t, smtptest.Options{})
	ch := emailChannel(m.URL("smtp", true, "starttls=false"))
	err := emailSender(m).Send(context.Background(), ch, failureEvent(), nil)
	require.True(t, IsPermanent(err))
	require.EqualError(t, err, "invalid email channel: `smtp`: credentials are only sent over TLS; remove user:password or drop starttls=false")
	require.Zero(t, int32(m.Conns()), "nothing may be sent before the check")
}

func TestEmailFromURLParameter(t *testing.T) {
	t.Parallel()
	m := smtptest.Start(t, smtptest.Options{STARTTLS: true})
	ch := emailChannel(m.URL("smtp", true, "from=Sluice+Alerts+%3Calerts%40example.com%3E"))
	ch.From = ""
	require.NoError(t, emailSender(m).Send(context.Background(), ch, failureEvent(), nil))
	mails := m.Received()
	require.Len(t, mails, 1)
	require.Equal(t, "alerts@example.com", mails[0].From)
	msg, err := mail.ReadMessage(strings.NewReader(string(mails[0].Data)))
	require.NoError(t, err)
	require.Equal(t, `"Sluice Alerts" <alerts@example.com>`, msg.Header.Get("From"))
}

func TestEmailServerReplies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      smtptest.Options
		password  string
		permanent bool
		code      int
		want      string // after "sending email via <addr>: "
	}{
		{"MailboxUnavailable", smtptest.Options{STARTTLS: true, RcptErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}},
			smtpPassword, true, 550, "RCPT TO:<data-eng@example.com>: SMTP error 550: mailbox unavailable"},
		{"Greylisted", smtptest.Options{STARTTLS: true, RcptErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted, try again later"}},
			smtpPassword, false, 451, "RCPT TO:<data-eng@example.com>: SMTP error 451: greylisted, try again later"},
		{"MessageRejected", smtptest.Options{STARTTLS: true, DataErr: &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "rejected as spam"}},
			smtpPassword, true, 554, "sending the message: SMTP error 554: rejected as spam"},
		{"WrongPassword", smtptest.Options{STARTTLS: true}, "not-the-password", true, 535,
			`authenticating as "sluice": SMTP error 535: Authentication failed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := smtptest.Start(t, tt.opts)
			u := url.URL{Scheme: "smtp", Host: m.Addr, User: url.UserPassword(smtpUser, tt.password)}
			ch := emailChannel(u.String())
			err := emailSender(m).Send(context.Background(), ch, failureEvent(), nil)
			require.Error(t, err)
			var nerr *Error
			require.ErrorAs(t, err, &nerr)
			require.Equal(t, tt.permanent, IsPermanent(err))
			require.Equal(t, tt.code, nerr.Code)
			require.Equal(t, TypeEmail, nerr.Channel)
			require.EqualError(t, err, "sending email via "+m.Addr+": "+tt.want)
			require.NotContains(t, err.Error(), tt.password)
			require.Empty(t, m.Received())
		})
	}
}

func TestEmailUntrustedCertificate(t *testing.T) {
	t.Parallel()
	m := smtptest.Start(t, smtptest.Options{STARTTLS: true})
	s := emailSender(m)
	s.TLSConfig = nil // system roots do not know the test certificate
	err := s.Send(context.Background(), emailChannel(m.URL("smtp", true, "")), failureEvent(), nil)
	require.True(t, IsPermanent(err), "%v", err)
	require.Contains(t, err.Error(), "sending email via "+m.Addr+": EHLO: tls: failed to verify certificate: x509: certificate signed by unknown authority")
	require.Empty(t, m.Received())
}

func TestEmailConnectionRefused(t *testing.T) {
	t.Parallel()
	addr := strings.TrimPrefix(closedURL(t, ""), "http://")
	u := url.URL{Scheme: "smtp", Host: addr, User: url.UserPassword(smtpUser, smtpPassword)}
	err := (&Sender{}).Send(context.Background(), emailChannel(u.String()), failureEvent(), nil)
	require.Error(t, err)
	require.False(t, IsPermanent(err))
	require.Contains(t, err.Error(), "sending email via "+addr+": connecting: dial tcp "+addr+": connect: connection refused")
}

func TestEmailSecretsScrubbed(t *testing.T) {
	t.Parallel()
	m := smtptest.Start(t, smtptest.Options{STARTTLS: true})
	ch := emailChannel(m.URL("smtp", true, ""))
	e := failureEvent()
	// A task error that quotes the SMTP password, escaped as in a URL.
	e.FailedTasks[0].Message = "smtp login failed for " + ch.SMTP
	require.NoError(t, emailSender(m).Send(context.Background(), ch, e, nil))
	data := string(m.Received()[0].Data)
	body, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(data)))
	require.NoError(t, err)
	require.NotContains(t, string(body), "w%2Frd")
	require.NotContains(t, string(body), "p%40ss")
	require.Contains(t, string(body), "    smtp login failed for ***\r\n")
}

func TestEmailHeadersAreSafe(t *testing.T) {
	t.Parallel()
	m := smtptest.Start(t, smtptest.Options{STARTTLS: true})
	e := failureEvent()
	e.Pipeline = "ventes_été"
	e.Env = "prod\r\nBcc: attacker@example.net"
	e.DeliveryID = "id\r\nX-Injected: 1"
	require.NoError(t, emailSender(m).Send(context.Background(), emailChannel(m.URL("smtp", true, "")), e, nil))
	mails := m.Received()
	require.Len(t, mails, 1)
	require.Equal(t, []string{"data-eng@example.com", "oncall@example.com"}, mails[0].To)
	msg, err := mail.ReadMessage(strings.NewReader(string(mails[0].Data)))
	require.NoError(t, err)
	require.Empty(t, msg.Header.Get("Bcc"))
	require.Empty(t, msg.Header.Get("X-Injected"))
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	require.Equal(t, "[sluice] ventes_été (prod  Bcc: attacker@example.net) FAILED", subject)
	require.Equal(t, "id  X-Injected: 1", msg.Header.Get("X-Sluice-Delivery"))
}
