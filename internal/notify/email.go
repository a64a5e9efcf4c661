package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpConfig is a parsed SMTP URL.
type smtpConfig struct {
	implicitTLS bool   // smtps://
	startTLS    bool   // smtp:// unless ?starttls=false
	host, port  string // port defaults to 587 (smtp) or 465 (smtps)
	user, pass  string
	auth        bool   // the URL has user info
	from        string // ?from=
}

// parseSMTPURL reads smtp://user:pass@host:587?starttls=false&from=a@b or
// smtps://user:pass@host:465. Its errors never quote the URL, which holds a
// password.
func parseSMTPURL(raw string) (smtpConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return smtpConfig{}, fmt.Errorf("not a valid URL: %v", err)
	}
	var cfg smtpConfig
	switch u.Scheme {
	case "smtp":
		cfg.startTLS, cfg.port = true, "587"
	case "smtps":
		cfg.implicitTLS, cfg.port = true, "465"
	default:
		return smtpConfig{}, fmt.Errorf("scheme must be smtp (STARTTLS) or smtps (implicit TLS), not %q", u.Scheme)
	}
	cfg.host = u.Hostname()
	if cfg.host == "" {
		return smtpConfig{}, errors.New("missing host; write smtp://user:pass@host:587")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return smtpConfig{}, fmt.Errorf("port %q is not a TCP port", p)
		}
		cfg.port = p
	}
	if u.Path != "" && u.Path != "/" {
		return smtpConfig{}, errors.New("unexpected path; an SMTP URL has only user info, host, port and query parameters")
	}
	if u.User != nil {
		cfg.auth = true
		cfg.user = u.User.Username()
		cfg.pass, _ = u.User.Password()
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return smtpConfig{}, fmt.Errorf("invalid query: %v", err)
	}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		v := q.Get(k)
		switch k {
		case "starttls":
			if cfg.implicitTLS {
				return smtpConfig{}, errors.New("starttls applies to smtp:// URLs only; smtps:// always uses TLS")
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				return smtpConfig{}, fmt.Errorf("starttls=%q must be true or false", v)
			}
			cfg.startTLS = b
		case "from":
			if _, err := mail.ParseAddress(v); err != nil {
				return smtpConfig{}, fmt.Errorf("from=%q is not an email address: %v", v, err)
			}
			cfg.from = v
		default:
			return smtpConfig{}, fmt.Errorf("unknown parameter %q; known parameters are starttls and from", k)
		}
	}
	if cfg.auth && !cfg.startTLS && !cfg.implicitTLS {
		return smtpConfig{}, errors.New("credentials are only sent over TLS; remove user:password or drop starttls=false")
	}
	return cfg, nil
}

func (s *Sender) sendEmail(ctx context.Context, ch Channel, e Event, secrets []string) error {
	cfg, err := parseSMTPURL(ch.SMTP)
	if err != nil {
		return permanent(fmt.Errorf("email channel: smtp URL: %w", err))
	}
	fromRaw := ch.From
	if fromRaw == "" {
		fromRaw = cfg.from
	}
	if fromRaw == "" {
		fromRaw = "sluice@" + s.hostname()
	}
	from, err := mail.ParseAddress(fromRaw)
	if err != nil {
		return permanent(fmt.Errorf("email channel: sender %q is not an email address (set `from`): %w", fromRaw, err))
	}
	to := make([]*mail.Address, len(ch.To))
	for i, raw := range ch.To {
		if to[i], err = mail.ParseAddress(raw); err != nil {
			return permanent(fmt.Errorf("email channel: recipient %q is not an email address: %w", raw, err))
		}
	}
	msg := Render(e)
	msg.Subject, msg.Text = Scrub(msg.Subject, secrets), Scrub(msg.Text, secrets)
	data, err := buildMail(from, to, msg, e, s.now())
	if err != nil {
		return permanent(fmt.Errorf("email channel: building the message: %w", err))
	}

	addr := net.JoinHostPort(cfg.host, cfg.port)
	if err := s.deliverSMTP(ctx, cfg, addr, from.Address, to, data); err != nil {
		return fmt.Errorf("sending email via %s: %w", addr, err)
	}
	return nil
}

// deliverSMTP runs one SMTP transaction. The context bounds it by closing the
// connection when it ends.
func (s *Sender) deliverSMTP(ctx context.Context, cfg smtpConfig, addr, from string, to []*mail.Address, data []byte) error {
	conn, err := s.dialer().DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	tlsConfig := s.smtpTLSConfig(cfg.host)
	var c *smtp.Client
	switch {
	case cfg.implicitTLS:
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		c = smtp.NewClient(tc)
	case cfg.startTLS:
		c, err = smtp.NewClientStartTLS(conn, tlsConfig)
		if err != nil {
			// go-smtp reports a missing STARTTLS extension with a plain error.
			if strings.Contains(err.Error(), "doesn't support STARTTLS") {
				return permanent(errors.New("the server does not offer STARTTLS; use smtps:// for implicit TLS, " +
					"or add ?starttls=false to the URL for a local relay on a trusted network"))
			}
			return fmt.Errorf("STARTTLS: %w", err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	c.CommandTimeout = time.Minute
	c.SubmissionTimeout = 5 * time.Minute
	// EHLO (again, after STARTTLS) with our name. This also completes the TLS
	// handshake, so certificate errors surface here rather than being
	// mistaken for a missing AUTH extension.
	if err := c.Hello(s.hostname()); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}

	if cfg.auth {
		if !c.SupportsAuth(sasl.Plain) {
			return permanent(errors.New("the server does not offer AUTH PLAIN; remove user:password from the URL if it needs no login"))
		}
		if err := c.Auth(sasl.NewPlainClient("", cfg.user, cfg.pass)); err != nil {
			return fmt.Errorf("authenticating as %q: %w", cfg.user, err)
		}
	}
	if err := c.Mail(from, nil); err != nil {
		return fmt.Errorf("MAIL FROM:<%s>: %w", from, err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt.Address, nil); err != nil {
			return fmt.Errorf("RCPT TO:<%s>: %w", rcpt.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("writing the message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("sending the message: %w", err)
	}
	// The server has accepted the message; a failed QUIT must not make the
	// caller send it again.
	_ = c.Quit()
	return nil
}

func (s *Sender) smtpTLSConfig(host string) *tls.Config {
	var cfg *tls.Config
	if s.TLSConfig != nil {
		cfg = s.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

// buildMail writes a plain-text RFC 5322 message with CRLF line endings.
func buildMail(from *mail.Address, to []*mail.Address, msg Message, e Event, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	rcpts := make([]string, len(to))
	for i, a := range to {
		rcpts[i] = a.String()
	}
	header("To", strings.Join(rcpts, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(msg.Subject)))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID(e.DeliveryID, from.Address))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	if kind := oneLine(e.Kind); kind != "" {
		header(HeaderEvent, mime.QEncoding.Encode("utf-8", kind))
	}
	if id := oneLine(e.DeliveryID); id != "" {
		header(HeaderDelivery, mime.QEncoding.Encode("utf-8", id))
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(msg.Text)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// messageID derives the Message-ID from the delivery id, so a retried delivery
// is recognisably the same message; without one it is random.
func messageID(deliveryID, from string) string {
	left := rand.Text()
	if deliveryID != "" {
		sum := sha256.Sum256([]byte(deliveryID))
		left = hex.EncodeToString(sum[:16])
	}
	domain := "sluice.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = from[i+1:]
	}
	return "<" + left + "@" + domain + ">"
}
