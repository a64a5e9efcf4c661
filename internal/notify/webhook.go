package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook request headers.
const (
	HeaderEvent     = "X-Sluice-Event"
	HeaderDelivery  = "X-Sluice-Delivery"
	HeaderTimestamp = "X-Sluice-Timestamp"
	HeaderSignature = "X-Sluice-Signature"
)

// DefaultMaxSkew is the timestamp tolerance VerifySignature applies when
// given a maxSkew of zero or less.
const DefaultMaxSkew = 5 * time.Minute

// Errors returned by VerifySignature.
var (
	ErrSignatureMissing  = errors.New("webhook signature missing or malformed")
	ErrSignatureMismatch = errors.New("webhook signature does not match the body")
	ErrTimestampInvalid  = errors.New("webhook timestamp invalid or outside the allowed skew")
)

func (s *Sender) sendWebhook(ctx context.Context, ch Channel, e Event, secrets []string) error {
	body, err := webhookBody(e)
	if err != nil {
		return err
	}
	header := http.Header{}
	for _, k := range sortedKeys(ch.Headers) {
		header.Set(k, ch.Headers[k])
	}
	header.Set(HeaderEvent, oneLine(e.Kind))
	if id := oneLine(e.DeliveryID); id != "" {
		header.Set(HeaderDelivery, id)
	}
	if ch.Secret != "" {
		ts := strconv.FormatInt(s.now().Unix(), 10)
		header.Set(HeaderTimestamp, ts)
		header.Set(HeaderSignature, Sign(ch.Secret, ts, body))
	}
	return s.post(ctx, "webhook at "+hostOf(ch.URL), ch.URL, header, body)
}

// webhookBody is the event as JSON, with error details cut to the same first
// lines a message shows.
func webhookBody(e Event) ([]byte, error) {
	if e.FailedTasks != nil {
		tasks := make([]TaskFailure, len(e.FailedTasks))
		for i, t := range e.FailedTasks {
			t.Message = strings.Join(firstLines(t.Message, maxErrorLines).lines, "\n")
			tasks[i] = t
		}
		e.FailedTasks = tasks
	}
	body, err := e.MarshalJSON()
	if err != nil {
		return nil, permanent(err)
	}
	return body, nil
}

// Sign returns the X-Sluice-Signature value for body sent at timestamp (unix
// seconds, as in X-Sluice-Timestamp): "sha256=" and the hex HMAC-SHA256 of
// "<timestamp>.<body>" keyed with secret.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks a webhook request for a receiver: header is the
// X-Sluice-Signature value, timestamp the X-Sluice-Timestamp value and body the
// raw request body. It fails when the signature does not match secret, or when
// the timestamp is further than maxSkew (DefaultMaxSkew if maxSkew <= 0) from
// the receiver's clock, which stops replays of old requests.
func VerifySignature(secret, timestamp, body, header string, maxSkew time.Duration) error {
	if secret == "" {
		return errors.New("verifying webhook signature: the secret is empty")
	}
	got, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return ErrSignatureMissing
	}
	gotMAC, err := hex.DecodeString(got)
	if err != nil || len(gotMAC) != sha256.Size {
		return ErrSignatureMissing
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not unix seconds", ErrTimestampInvalid, timestamp)
	}
	want, _ := hex.DecodeString(strings.TrimPrefix(Sign(secret, strings.TrimSpace(timestamp), []byte(body)), "sha256="))
	if !hmac.Equal(gotMAC, want) {
		return ErrSignatureMismatch
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	age := time.Since(time.Unix(secs, 0))
	if age > maxSkew {
		return fmt.Errorf("%w: sent %s ago, more than %s", ErrTimestampInvalid, age.Round(time.Second), maxSkew)
	}
	if -age > maxSkew {
		return fmt.Errorf("%w: dated %s in the future, more than %s", ErrTimestampInvalid, (-age).Round(time.Second), maxSkew)
	}
	return nil
}
