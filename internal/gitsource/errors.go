package gitsource

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Sentinel errors wrapped by the errors Checkout returns. All of them are
// permanent: retrying the same Source cannot succeed until the user changes
// the configuration or the repository.
var (
	// ErrInvalidSource: the Source itself is malformed (bad URL, path outside
	// the repository, unreadable SSH key, credentials for the wrong transport).
	ErrInvalidSource = errors.New("invalid git source")
	// ErrAuth: the server rejected the credentials (HTTP 401/403, SSH auth).
	ErrAuth = errors.New("authentication failed")
	// ErrHostKey: the SSH server's host key is unknown, changed or revoked.
	ErrHostKey = errors.New("ssh host key verification failed")
	// ErrRepoNotFound: the server says the repository does not exist (HTTP
	// 404; private repositories look like this when the token cannot see them).
	ErrRepoNotFound = errors.New("repository not found")
	// ErrRefNotFound: no branch, tag or commit matches Source.Ref, or the
	// repository is empty.
	ErrRefNotFound = errors.New("reference not found")
	// ErrProjectNotFound: Source.Path does not exist at the commit or holds
	// no dbt_project.yml.
	ErrProjectNotFound = errors.New("dbt project not found")
)

var permanentErrors = []error{
	ErrInvalidSource, ErrAuth, ErrHostKey, ErrRepoNotFound, ErrRefNotFound, ErrProjectNotFound,
}

// IsPermanent reports whether err (or anything it wraps) is one of this
// package's permanent errors. Everything else Checkout returns (network
// failures, server errors, a busy disk) is worth retrying.
func IsPermanent(err error) bool {
	for _, p := range permanentErrors {
		if errors.Is(err, p) {
			return true
		}
	}
	return false
}

// scrubbedError is what crosses the package boundary: the message with every
// secret replaced, and only the sentinels (never the original error chain,
// whose messages might contain a secret and would be serialised by callers
// such as Temporal's failure converter).
type scrubbedError struct {
	msg   string
	kinds []error
}

func (e *scrubbedError) Error() string   { return e.msg }
func (e *scrubbedError) Unwrap() []error { return e.kinds }

// scrub rebuilds err with secrets removed from its text. It keeps the
// package sentinels and context errors for errors.Is.
func scrub(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secretForms(secrets) {
		msg = strings.ReplaceAll(msg, s, "***")
	}
	out := &scrubbedError{msg: msg}
	for _, k := range append(permanentErrors, context.Canceled, context.DeadlineExceeded) {
		if errors.Is(err, k) {
			out.kinds = append(out.kinds, k)
		}
	}
	return out
}

// secretForms lists each secret as it may appear in text: raw, URL-escaped,
// and base64 (as in a Basic auth header), longest first so a longer form is
// replaced before a shorter one that it contains.
func secretForms(secrets []string) []string {
	var forms []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		forms = append(forms, s, url.QueryEscape(s), url.PathEscape(s),
			base64.StdEncoding.EncodeToString([]byte(s)))
	}
	for i := 1; i < len(forms); i++ {
		for j := i; j > 0 && len(forms[j]) > len(forms[j-1]); j-- {
			forms[j], forms[j-1] = forms[j-1], forms[j]
		}
	}
	return forms
}

// corruptError marks a failure to read the local cache (missing or damaged
// objects, unreadable config): the cure is to clone again.
type corruptError struct{ err error }

func (e *corruptError) Error() string { return "git cache is damaged: " + e.err.Error() }
func (e *corruptError) Unwrap() error { return e.err }

func corrupt(err error) error {
	if err == nil {
		return nil
	}
	var ce *corruptError
	if errors.As(err, &ce) {
		return err
	}
	return &corruptError{err: err}
}

func isCorrupt(err error) bool {
	var ce *corruptError
	return errors.As(err, &ce)
}

// classifyRemote turns an error from talking to the remote into one wrapping
// the right sentinel, with a hint saying what to change. Unknown errors stay
// as they are (transient).
func classifyRemote(err error, rs *resolvedSource) error {
	var keyErr *knownhosts.KeyError
	var revoked *knownhosts.RevokedError
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed),
		strings.Contains(err.Error(), "unable to authenticate"):
		return fmt.Errorf("%w (%s): %s", ErrAuth, oneLine(err.Error()), rs.authHint())
	case errors.As(err, &keyErr) && len(keyErr.Want) > 0:
		return fmt.Errorf("%w: the server's key does not match known_hosts (possible man-in-the-middle): %s",
			ErrHostKey, rs.check("known_hosts"))
	case errors.As(err, &keyErr):
		return fmt.Errorf("%w: the server's key is not in known_hosts: add it to %s", ErrHostKey, rs.where("known_hosts"))
	case errors.As(err, &revoked):
		return fmt.Errorf("%w: the server's key is revoked in known_hosts: %s", ErrHostKey, rs.check("known_hosts"))
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return fmt.Errorf("%w (or the credentials cannot read it): %s", ErrRepoNotFound, rs.check("repo"))
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return fmt.Errorf("%w: the repository has no commits yet", ErrRefNotFound)
	}
	return err
}

// oneLine flattens a server's multi-line message into one trimmed line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
