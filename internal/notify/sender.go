package notify

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// Dialer opens the TCP connections used for SMTP; *net.Dialer implements it.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Sender delivers events to channels. The zero value is ready to use except
// for log channels, which need Logger. A Sender is safe for concurrent use.
type Sender struct {
	// HTTP posts to Slack and webhooks. Default: a client with a 30s timeout
	// that does not follow redirects (a redirect is reported as a permanent
	// error naming the status, since a POST must go to the final URL).
	HTTP *http.Client
	// Logger receives the records of log channels. Required for them.
	Logger *slog.Logger
	// Dialer connects to SMTP servers. Default: net.Dialer with a 30s timeout.
	Dialer Dialer
	// TLSConfig is the base TLS configuration for SMTP (set RootCAs to trust
	// a private CA). ServerName is filled in from the SMTP URL. Default: the
	// system roots.
	TLSConfig *tls.Config
	// Hostname names this machine in the default sender address
	// sluice@<hostname>. Default: os.Hostname().
	Hostname string
	// Now stamps webhook signatures and the email Date header. Default: time.Now.
	Now func() time.Time
}

// Send renders e and delivers it to ch. Values in ch must already be resolved
// from their secret references; secrets lists the resolved secret values, which
// are scrubbed (with the channel's own secrets: SMTP URL and password, Slack
// webhook URL, webhook key) from everything sent, logged or returned. Errors
// are *Error; IsPermanent tells whether a retry can help.
func (s *Sender) Send(ctx context.Context, ch Channel, e Event, secrets []string) error {
	secrets = channelSecrets(ch, secrets)
	if problems := ch.problems(true); len(problems) > 0 {
		err := permanent(fmt.Errorf("invalid %s channel: %s", channelLabel(ch.Type), strings.Join(problems, "; ")))
		return newError(ctx, ch.Type, err, secrets)
	}
	e = scrubEvent(e, secrets)

	var err error
	switch ch.Type {
	case TypeEmail:
		err = s.sendEmail(ctx, ch, e, secrets)
	case TypeSlack:
		err = s.sendSlack(ctx, ch, e, secrets)
	case TypeWebhook:
		err = s.sendWebhook(ctx, ch, e, secrets)
	case TypeLog:
		err = s.sendLog(ctx, e, secrets)
	}
	if err != nil {
		return newError(ctx, ch.Type, err, secrets)
	}
	return nil
}

func channelLabel(typ string) string {
	if typ == "" {
		return "notification"
	}
	return typ
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) httpClient() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return &http.Client{
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func (s *Sender) dialer() Dialer {
	if s.Dialer != nil {
		return s.Dialer
	}
	return &net.Dialer{Timeout: 30 * time.Second}
}

func (s *Sender) hostname() string {
	if s.Hostname != "" {
		return s.Hostname
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}
