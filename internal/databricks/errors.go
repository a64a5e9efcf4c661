package databricks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/config"
	"golang.org/x/oauth2"
)

// Kind classifies an Error. The values are stable names, fit to be used as
// Temporal application error types.
type Kind string

const (
	// KindTransient: HTTP 429 or 5xx, a timeout or a dropped connection.
	// Retrying later can succeed.
	KindTransient Kind = "DatabricksTransient"
	// KindInvalid: the request was rejected (HTTP 400) or the configuration
	// is unusable.
	KindInvalid Kind = "DatabricksInvalid"
	// KindUnauthenticated: no usable credentials (HTTP 401).
	KindUnauthenticated Kind = "DatabricksUnauthenticated"
	// KindPermissionDenied: the identity lacks a permission (HTTP 403).
	KindPermissionDenied Kind = "DatabricksPermissionDenied"
	// KindNotFound: the pipeline, job, warehouse or path does not exist.
	KindNotFound Kind = "DatabricksNotFound"
	// KindAmbiguous: a pipeline or job name matches more than one object.
	KindAmbiguous Kind = "DatabricksAmbiguous"
	// KindConflict: the workspace refused because of its current state (409).
	KindConflict Kind = "DatabricksConflict"
	// KindFailed: the update, run or statement ran and failed.
	KindFailed Kind = "DatabricksFailed"
	// KindTimedOut: the job run hit its own timeout.
	KindTimedOut Kind = "DatabricksTimedOut"
	// KindCanceled: the work was canceled in the workspace (not by our ctx).
	KindCanceled Kind = "DatabricksCanceled"
	// KindSkipped: the job run was skipped (disabled job, concurrency limit).
	KindSkipped Kind = "DatabricksSkipped"
	// KindMissingTable: a statement failed because a table, view, schema or
	// catalog does not exist.
	KindMissingTable Kind = "DatabricksMissingTable"
	// KindMissingColumn: a statement failed because a column cannot be
	// resolved.
	KindMissingColumn Kind = "DatabricksMissingColumn"
)

// Error is a failure talking to, or reported by, the workspace.
type Error struct {
	Kind Kind
	// Status is the HTTP status code, 0 when the error is not an HTTP answer.
	Status int
	// Code is the Databricks error_code (PERMISSION_DENIED), the terminal
	// state (FAILED, TIMEDOUT) or the SQL error class (TABLE_OR_VIEW_NOT_FOUND).
	Code string
	// Message says what failed, where, and what to do about it.
	Message string
	// Details are supporting lines: pipeline error events, a failed task's
	// error and trace, in order.
	Details []string
	// Err is the underlying error, if any.
	Err error

	retryAfter     time.Duration
	unknownOutcome bool
	described      bool // Message is final: describe leaves it alone
}

func (e *Error) Error() string {
	if len(e.Details) == 0 {
		return e.Message
	}
	return e.Message + "\n  " + strings.Join(e.Details, "\n  ")
}

func (e *Error) Unwrap() error { return e.Err }

// IsPermanent reports whether err is an *Error that retrying the same call
// cannot fix (anything but KindTransient).
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind != KindTransient
}

// KindOf returns the Kind of the *Error in err's chain, or "" if there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// classify turns an error from one SDK call into an *Error with a raw message;
// describe then adds what was being done and what to fix. Context errors of
// the caller's ctx never reach here.
func classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var api *apierr.APIError
	if errors.As(err, &api) {
		return classifyAPI(api)
	}
	if errors.Is(err, config.ErrCannotConfigureDefault) {
		return &Error{Kind: KindUnauthenticated, Message: "no credentials configured", Err: err}
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		st := re.Response.StatusCode
		if st == 429 || st >= 500 {
			return &Error{Kind: KindTransient, Status: st, Message: "OAuth token endpoint unavailable", Err: err}
		}
		return &Error{Kind: KindUnauthenticated, Status: st, Code: re.ErrorCode,
			Message: "OAuth token request rejected", Err: err}
	}
	var lost *lostResponseError
	if errors.As(err, &lost) {
		return &Error{Kind: KindTransient, Message: lost.Error() + ": " + lost.err.Error(), Err: err, unknownOutcome: true}
	}
	if isNetworkError(err) {
		return &Error{Kind: KindTransient, Message: "connection problem: " + err.Error(), Err: err, unknownOutcome: true}
	}
	// Unknown errors (e.g. a truncated body) are treated as transient: the
	// retry budget bounds them, and failing a run for a blip is worse.
	return &Error{Kind: KindTransient, Message: err.Error(), Err: err, unknownOutcome: true}
}

func classifyAPI(api *apierr.APIError) *Error {
	code := api.ErrorCode
	if code == "<nil>" {
		code = ""
	}
	e := &Error{Status: api.StatusCode, Code: code, Message: api.Message, Err: api}
	switch st := api.StatusCode; {
	case st == 429:
		e.Kind = KindTransient // rejected before doing anything: safe to repeat
		e.retryAfter = retryAfter(api)
	case st >= 500:
		e.Kind = KindTransient
		e.retryAfter = retryAfter(api)
		// 503 from the gateway usually means "not applied", but a 500/502/504
		// can follow a request the workspace already acted on.
		e.unknownOutcome = true
	case st == 400:
		e.Kind = KindInvalid
	case st == 401:
		e.Kind = KindUnauthenticated
	case st == 403:
		e.Kind = KindPermissionDenied
	case st == 404:
		e.Kind = KindNotFound
	case st == 409:
		e.Kind = KindConflict
	default:
		e.Kind = KindInvalid
	}
	return e
}

func retryAfter(api *apierr.APIError) time.Duration {
	if api.ResponseWrapper == nil || api.ResponseWrapper.Response == nil {
		return 0
	}
	if n, err := strconv.Atoi(api.ResponseWrapper.Response.Header.Get("Retry-After")); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 0
}

func isNetworkError(err error) bool {
	var ne net.Error
	var ue *url.Error
	switch {
	case errors.As(err, &ne), errors.As(err, &ue):
		return true
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return strings.Contains(err.Error(), "request timed out")
}

// describe rewrites a classified error's message into a user-facing one: what
// was being done (op), in which workspace, and what to check (hint, for
// permanent errors). Context errors pass through untouched.
func (c *Client) describe(err error, op, hint string) error {
	if err == nil {
		return nil
	}
	if KindOf(err) == "" && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return err
	}
	if e, ok := err.(*Error); ok && e.described {
		return e
	}
	e := *classify(err)
	e.described = true
	raw := e.Message
	if e.Code != "" && e.Status != 0 {
		raw = fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Message)
	} else if e.Status != 0 {
		raw = fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
	}
	if hint == "" {
		hint = "the Databricks settings in the spec"
	}
	where := fmt.Sprintf("%s in workspace %s", op, c.host)
	switch e.Kind {
	case KindTransient:
		e.Message = fmt.Sprintf("%s: Databricks did not answer successfully (%s); retry later", where, raw)
	case KindUnauthenticated:
		e.Message = fmt.Sprintf("%s: authentication failed (%s): check the token, OAuth client id/secret or profile configured for this environment", where, raw)
	case KindPermissionDenied:
		e.Message = fmt.Sprintf("%s: permission denied (%s): grant the identity Sluice runs as access, or check %s", where, raw, hint)
	case KindNotFound:
		e.Message = fmt.Sprintf("%s: not found (%s): check %s", where, raw, hint)
	case KindConflict:
		e.Message = fmt.Sprintf("%s: refused by the workspace's current state (%s): wait for the running work to finish or stop it", where, raw)
	default:
		e.Message = fmt.Sprintf("%s: rejected (%s): check %s", where, raw, hint)
	}
	return &e
}
