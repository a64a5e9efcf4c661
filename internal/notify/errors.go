package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/emersion/go-smtp"
)

// Error is a failed delivery. Its text says what was being done and why, with
// every secret scrubbed; it deliberately does not wrap the underlying error,
// whose text (a url.Error, an SMTP reply) may quote a secret.
type Error struct {
	// Channel is the channel type: email, slack, webhook or log.
	Channel string
	// Permanent is true when retrying cannot succeed without a change of
	// configuration or of the receiving side. See IsPermanent.
	Permanent bool
	// Code is the HTTP status or SMTP reply code, 0 when there was none.
	Code int
	// RetryAfter is the wait the receiver asked for (HTTP Retry-After), 0 when
	// it did not say.
	RetryAfter time.Duration

	msg   string
	cause error // context.Canceled or context.DeadlineExceeded, else nil
}

func (e *Error) Error() string { return e.msg }

// Unwrap returns context.Canceled or context.DeadlineExceeded when the
// delivery was cut short by its context, and nil otherwise.
func (e *Error) Unwrap() error { return e.cause }

// IsPermanent reports whether err is a delivery failure that retrying cannot
// fix: invalid channel configuration, a URL that does not exist, an HTTP 3xx or
// 4xx answer other than 408, 425 and 429, an SMTP 5xx reply, failed
// authentication, no STARTTLS, an untrusted certificate.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// permanentError marks a failure found by this package as permanent.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

func permanent(err error) error { return permanentError{err} }

// statusError is a non-2xx HTTP answer.
type statusError struct {
	code       int
	retryAfter time.Duration
	detail     string // start of the response body, on one line
}

func (s *statusError) Error() string {
	msg := "HTTP " + strconv.Itoa(s.code) + " " + http.StatusText(s.code)
	if s.detail != "" {
		msg += ": " + s.detail
	}
	return msg
}

// newError classifies err and turns it into an *Error whose text is scrubbed
// of secrets. ctx decides whether a network failure was really a cancellation.
func newError(ctx context.Context, channel string, err error, secrets []string) *Error {
	out := &Error{Channel: channel, msg: Scrub(err.Error(), secrets)}
	var (
		status  *statusError
		smtpErr *smtp.SMTPError
		perm    permanentError
	)
	switch {
	case errors.As(err, &status):
		out.Code = status.code
		out.RetryAfter = status.retryAfter
		out.Permanent = permanentHTTPStatus(status.code)
	case errors.As(err, &smtpErr):
		out.Code = smtpErr.Code
		out.Permanent = smtpErr.Code >= 500
	case errors.As(err, &perm):
		out.Permanent = true
	case ctx.Err() != nil:
		out.cause = ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		out.cause = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		out.cause = context.Canceled
	case isCertificateError(err):
		out.Permanent = true
	}
	return out
}

// permanentHTTPStatus applies the webhook rule: 2xx never gets here; 408, 425,
// 429 and 5xx are worth retrying; every other answer will not change.
func permanentHTTPStatus(code int) bool {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests:
		return false
	case code >= 500:
		return false
	default:
		return true
	}
}

// isCertificateError reports a TLS certificate that does not verify: a
// configuration problem (wrong host, self-signed, missing CA) that retries do
// not fix.
func isCertificateError(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) ||
		errors.As(err, &hostname) || errors.As(err, &invalid)
}

// parseRetryAfter reads an HTTP Retry-After value: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
