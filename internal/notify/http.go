package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// post sends body to rawURL and turns any answer but 2xx into a statusError.
// target names the destination in errors without quoting the URL, which may
// be (or contain) a secret.
func (s *Sender) post(ctx context.Context, target, rawURL string, header http.Header, body []byte) error {
	if err := checkHTTPURL(rawURL); err != nil {
		return permanent(fmt.Errorf("posting to %s: %w", target, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return permanent(fmt.Errorf("posting to %s: building request: %w", target, unwrapURLError(err)))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sluice-notify")

	resp, err := s.httpClient().Do(req)
	if err != nil {
		// url.Error quotes the full URL; keep only the cause.
		return fmt.Errorf("posting to %s: %w", target, unwrapURLError(err))
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	serr := &statusError{
		code:       resp.StatusCode,
		retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), s.now()),
		detail:     truncateRunes(oneLine(string(head)), 200),
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return fmt.Errorf("posting to %s: %w (redirects are not followed; configure the final URL)", target, serr)
	}
	return fmt.Errorf("posting to %s: %w", target, serr)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// hostOf names a URL's host for error messages.
func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "an invalid URL"
	}
	return strings.ToLower(u.Host)
}
