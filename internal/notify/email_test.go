package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
)

// A real SMTP server (github.com/emersion/go-smtp) runs in the test process on
// 127.0.0.1 with a certificate generated per test.

const (
	smtpUser     = "sluice"
	smtpPassword = "p@ss:w/rd" // needs URL escaping in smtp://user:pass@host
)

type mailServerOptions struct {
	startTLS    bool // offer STARTTLS with the test certificate
	implicitTLS bool // serve TLS from the first byte (smtps)
	rcptErr     error
	dataErr     error
}

type receivedMail struct {
	user string // authenticated user, "" without AUTH
	tls  bool   // the transaction ran over TLS
	from string
	to   []string
	data []byte
}

type mailServer struct {
	addr    string
	roots   *x509.CertPool
	conns   atomic.Int32
	mu      sync.Mutex
	mails   []receivedMail
	options mailServerOptions
}

func (m *mailServer) received() []receivedMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]receivedMail(nil), m.mails...)
}

// url returns the server's SMTP URL with the given scheme, credentials and query.
func (m *mailServer) url(scheme string, withAuth bool, query string) string {
	u := url.URL{Scheme: scheme, Host: m.addr, RawQuery: query}
	if withAuth {
		u.User = url.UserPassword(smtpUser, smtpPassword)
	}
	return u.String()
}

type mailSession struct {
	srv  *mailServer
	conn *smtp.Conn
	cur  receivedMail
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != smtpUser || pass != smtpPassword {
			return smtp.ErrAuthFailed
		}
		s.cur.user = user
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.cur.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.options.rcptErr != nil {
		return s.srv.options.rcptErr
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.srv.options.dataErr != nil {
		return s.srv.options.dataErr
	}
	s.cur.data = data
	s.srv.mu.Lock()
	s.srv.mails = append(s.srv.mails, s.cur)
	s.srv.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        { s.cur = receivedMail{user: s.cur.user} }
func (s *mailSession) Logout() error { return nil }

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func startMailServer(t *testing.T, opts mailServerOptions) *mailServer {
	t.Helper()
	cert, roots := selfSignedCert(t)
	m := &mailServer{roots: roots, options: opts}
	be := smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &mailSession{srv: m, conn: c}, nil
	})
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	if opts.startTLS {
		srv.TLSConfig = tlsConfig
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var ln net.Listener = countingListener{Listener: l, n: &m.conns}
	if opts.implicitTLS {
		ln = tls.NewListener(ln, tlsConfig)
	}
	m.addr = l.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return m
}

// selfSignedCert makes a certificate for 127.0.0.1 and a pool trusting it.
func selfSignedCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sluice test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

var sendTime = time.Date(2026, 11, 22, 7, 2, 6, 0, time.UTC)

func emailSender(m *mailServer) *Sender {
	return &Sender{
		TLSConfig: &tls.Config{RootCAs: m.roots},
		Hostname:  "worker-1.example.com",
		Now:       func() time.Time { return sendTime },
	}
}

func emailChannel(smtpURL string) Channel {
	return Channel{Type: TypeEmail, To: []string{"data-eng@example.com", "On Call <oncall@example.com>"}, SMTP: smtpURL, From: "sluice@example.com"}
}

func TestEmailSTARTTLS(t *testing.T) {
	t.Parallel()
	m := startMailServer(t, mailServerOptions{startTLS: true})
	ch := emailChannel(m.url("smtp", true, ""))
	e := failureEvent()

	require.NoError(t, emailSender(m).Send(context.Background(), ch, e, []string{ch.SMTP}))

	mails := m.received()
	require.Len(t, mails, 1)
	got := mails[0]
	require.Equal(t, smtpUser, got.user)
	require.True(t, got.tls, "the transaction must run after STARTTLS")
	require.Equal(t, "sluice@example.com", got.from)
	require.Equal(t, []string{"data-eng@example.com", "oncall@example.com"}, got.to)

	msg, err := mail.ReadMessage(strings.NewReader(string(got.data)))
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
	m := startMailServer(t, mailServerOptions{startTLS: true})
	ch := emailChannel(m.url("smtp", true, ""))
	s := emailSender(m)
	e := failureEvent()
	other := failureEvent()
	other.DeliveryID = "sluice/olist_daily/prod/2026-11-22/on_failure/data-alerts"
	for _, ev := range []Event{e, e, other} {
		require.NoError(t, s.Send(context.Background(), ch, ev, nil))
	}
	mails := m.received()
	require.Len(t, mails, 3)
	ids := make([]string, 3)
	for i, got := range mails {
		msg, err := mail.ReadMessage(strings.NewReader(string(got.data)))
		require.NoError(t, err)
		ids[i] = msg.Header.Get("Message-ID")
	}
	require.Equal(t, ids[0], ids[1], "a retried delivery keeps its Message-ID")
	require.NotEqual(t, ids[0], ids[2])
}

func TestEmailImplicitTLS(t *testing.T) {
	t.Parallel()
	m := startMailServer(t, mailServerOptions{implicitTLS: true})
	ch := emailChannel(m.url("smtps", true, ""))
	require.NoError(t, emailSender(m).Send(context.Background(), ch, failureEvent(), nil))
	mails := m.received()
	require.Len(t, mails, 1)
	require.True(t, mails[0].tls)
	require.Equal(t, smtpUser, mails[0].user)
}

func TestEmailStartTLSRefused(t *testing.T) {
	t.Parallel()
	m := startMailServer(t, mailServerOptions{startTLS: false})

	t.Run("RequiredByDefault", func(t *testing.T) {
		t.Parallel()
		ch := emailChannel(m.url("smtp", true, ""))
		err := emailSender(m).Send(context.Background(), ch, failureEvent(), nil)
		require.True(t, IsPermanent(err))
		require.EqualError(t, err, "sending email via "+m.addr+": the server does not offer STARTTLS; use smtps:// for implicit TLS, "+
			"or add ?starttls=false to the URL for a local relay on a trusted network")
		require.NotContains(t, err.Error(), "w/rd")
	})
	t.Run("LocalRelayWithoutTLS", func(t *testing.T) {
		t.Parallel()
		ch := emailChannel(m.url("smtp", false, "starttls=false"))
		ch.From = ""
		require.NoError(t, emailSender(m).Send(context.Background(), ch, failureEvent(), nil))
		var got []receivedMail
		for _, r := range m.received() {
			if r.from == "sluice@worker-1.example.com" {
				got = append(got, r)
			}
		}
		require.Len(t, got, 1, "default sender is sluice@<hostname>")
		require.False(t, got[0].tls)
		require.Empty(t, got[0].user)
	})
}

func TestEmailNoCredentialsWithoutTLS(t *testing.T) {
	t.Parallel()
	m := startMailServer(t, mailServerOptions{})
	ch := emailChannel(m.url("smtp", true, "starttls=false"))
	err := emailSender(m).Send(context.Background(), ch, failureEvent(), nil)
	require.True(t, IsPermanent(err))
	require.EqualError(t, err, "invalid email channel: `smtp`: credentials are only sent over TLS; remove user:password or drop starttls=false")
	require.Zero(t, m.conns.Load(), "nothing may be sent before the check")
}

func TestEmailFromURLParameter(t *testing.T) {
	t.Parallel()
	m := startMailServer(t, mailServerOptions{startTLS: true})
	ch := emailChannel(m.url("smtp", true, "from=Sluice+Alerts+%3Calerts%40example.com%3E"))
	ch.From = ""
	require.NoError(t, emailSender(m).Send(context.Background(), ch, failureEvent(), nil))
	mails := m.received()
	require.Len(t, mails, 1)
	require.Equal(t, "alerts@example.com", mails[0].from)
	msg, err := mail.ReadMessage(strings.NewReader(string(mails[0].data)))
	require.NoError(t, err)
	require.Equal(t, `"Sluice Alerts" <alerts@example.com>`, msg.Header.Get("From"))
}

func TestEmailServerReplies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      mailServerOptions
		password  string
		permanent bool
		code      int
		want      string // after "sending email via <addr>: "
	}{
		{"MailboxUnavailable", mailServerOptions{startTLS: true, rcptErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}},
			smtpPassword, true, 550, "RCPT TO:<data-eng@example.com>: SMTP error 550: mailbox unavailable"},
		{"Greylisted", mailServerOptions{startTLS: true, rcptErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted, try again later"}},
			smtpPassword, false, 451, "RCPT TO:<data-eng@example.com>: SMTP error 451: greylisted, try again later"},
		{"MessageRejected", mailServerOptions{startTLS: true, dataErr: &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "rejected as spam"}},
			smtpPassword, true, 554, "sending the message: SMTP error 554: rejected as spam"},
		{"WrongPassword", mailServerOptions{startTLS: true}, "not-the-password", true, 535,
			`authenticating as "sluice": SMTP error 535: Authentication failed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := startMailServer(t, tt.opts)
			u := url.URL{Scheme: "smtp", Host: m.addr, User: url.UserPassword(smtpUser, tt.password)}
			ch := emailChannel(u.String())
			err := emailSender(m).Send(context.Background(), ch, failureEvent(), nil)
			require.Error(t, err)
			var nerr *Error
			require.ErrorAs(t, err, &nerr)
			require.Equal(t, tt.permanent, IsPermanent(err))
			require.Equal(t, tt.code, nerr.Code)
			require.Equal(t, TypeEmail, nerr.Channel)
			require.EqualError(t, err, "sending email via "+m.addr+": "+tt.want)
			require.NotContains(t, err.Error(), tt.password)
			require.Empty(t, m.received())
		})
	}
}

func TestEmailUntrustedCertificate(t *testing.T) {
	t.Parallel()
	m := startMailServer(t, mailServerOptions{startTLS: true})
	s := emailSender(m)
	s.TLSConfig = nil // system roots do not know the test certificate
	err := s.Send(context.Background(), emailChannel(m.url("smtp", true, "")), failureEvent(), nil)
	require.True(t, IsPermanent(err), "%v", err)
	require.Contains(t, err.Error(), "sending email via "+m.addr+": EHLO: tls: failed to verify certificate: x509: certificate signed by unknown authority")
	require.Empty(t, m.received())
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
	m := startMailServer(t, mailServerOptions{startTLS: true})
	ch := emailChannel(m.url("smtp", true, ""))
	e := failureEvent()
	// A task error that quotes the SMTP password, escaped as in a URL.
	e.FailedTasks[0].Message = "smtp login failed for " + ch.SMTP
	require.NoError(t, emailSender(m).Send(context.Background(), ch, e, nil))
	data := string(m.received()[0].data)
	body, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(data)))
	require.NoError(t, err)
	require.NotContains(t, string(body), "w%2Frd")
	require.NotContains(t, string(body), "p%40ss")
	require.Contains(t, string(body), "    smtp login failed for ***\r\n")
}

func TestEmailHeadersAreSafe(t *testing.T) {
	t.Parallel()
	m := startMailServer(t, mailServerOptions{startTLS: true})
	e := failureEvent()
	e.Pipeline = "ventes_été"
	e.Env = "prod\r\nBcc: attacker@example.net"
	e.DeliveryID = "id\r\nX-Injected: 1"
	require.NoError(t, emailSender(m).Send(context.Background(), emailChannel(m.url("smtp", true, "")), e, nil))
	mails := m.received()
	require.Len(t, mails, 1)
	require.Equal(t, []string{"data-eng@example.com", "oncall@example.com"}, mails[0].to)
	msg, err := mail.ReadMessage(strings.NewReader(string(mails[0].data)))
	require.NoError(t, err)
	require.Empty(t, msg.Header.Get("Bcc"))
	require.Empty(t, msg.Header.Get("X-Injected"))
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	require.Equal(t, "[sluice] ventes_été (prod  Bcc: attacker@example.net) FAILED", subject)
	require.Equal(t, "id  X-Injected: 1", msg.Header.Get("X-Sluice-Delivery"))
}
