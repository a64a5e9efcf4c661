package dbt

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrorKind says why a dbt invocation failed. The values are stable names,
// fit to be used as Temporal application error types.
type ErrorKind string

// Kinds of failure. Permanent ones (see IsPermanent) fail the same way on
// a retry; Transient and Crashed may not.
const (
	// TestFailures: data tests failed (status fail); no node errored.
	TestFailures ErrorKind = "DbtTestFailures"
	// ModelErrors: nodes (models, seeds, snapshots, tests) errored with a
	// database or runtime error that is not a connection problem.
	ModelErrors ErrorKind = "DbtModelErrors"
	// Compilation: Jinja/SQL compilation or project parsing failed.
	Compilation ErrorKind = "DbtCompilation"
	// Transient: the warehouse could not be reached, the connection dropped
	// or timed out. A retry may succeed.
	Transient ErrorKind = "DbtTransient"
	// Version: the installed dbt does not satisfy Options.RequiredVersion,
	// or its version could not be read.
	Version ErrorKind = "DbtVersion"
	// Config: the Options are invalid or the dbt executable is missing.
	Config ErrorKind = "DbtConfig"
	// Fatal: dbt stopped with exit code 2 (or another unexpected code) for
	// a reason not recognised above, e.g. a missing profile.
	Fatal ErrorKind = "DbtFatal"
	// Crashed: dbt was killed by a signal Sluice did not send (out of
	// memory, the host). A retry may succeed.
	Crashed ErrorKind = "DbtCrashed"
)

// Permanent reports whether a retry of the same invocation would fail the
// same way.
func (k ErrorKind) Permanent() bool {
	return k != Transient && k != Crashed
}

// Error is a failed dbt invocation.
type Error struct {
	Kind     ErrorKind
	Command  string       // the dbt command that failed, e.g. "build"; "" for Config errors
	ExitCode int          // dbt's exit code; -1 when it was killed by a signal
	Failed   []NodeResult // the nodes that failed or errored (not the skipped ones)
	Message  string       // what went wrong, where, and what to do; secrets scrubbed
	Stderr   string       // the last lines dbt wrote to stderr, scrubbed
}

func (e *Error) Error() string {
	return e.Message
}

// IsPermanent reports whether err is a dbt failure that a retry cannot fix:
// failing tests, model SQL errors, compilation errors, a version mismatch,
// bad options. Connection problems, timeouts, crashes, cancellation and
// errors that are not *Error report false.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind.Permanent()
}

// transientMarkers are lowercase fragments of warehouse and network errors
// that a later attempt can get past. They come from psycopg2/libpq,
// dbt-databricks, the Python requests stack (dbt deps) and dbt itself.
var transientMarkers = []string{
	"could not connect",
	"connection refused",
	"connection reset",
	"connection timed out",
	"connection to server",
	"server closed the connection unexpectedly",
	"could not translate host name",
	"temporary failure in name resolution",
	"name or service not known",
	"failed to establish a new connection",
	"max retries exceeded",
	"ssl syscall error",
	"ssl connection has been closed unexpectedly",
	"broken pipe",
	"timed out",
	"timeout",
	"too many connections",
	"remaining connection slots are reserved",
	"the database system is starting up",
	"the database system is shutting down",
	"terminating connection due to administrator command",
	"temporarily_unavailable",
	"temporarily unavailable",
	"service unavailable",
	"503 server error",
	"502 server error",
	"504 server error",
	"429 client error",
	"too many requests",
	"rate limit",
	"request_limit_exceeded",
	"cluster is not running",
	"warehouse is starting",
}

var compilationMarkers = []string{
	"compilation error",
	"parsing error",
	"dbt found two",
}

func containsAny(text string, markers []string) bool {
	low := strings.ToLower(text)
	for _, m := range markers {
		if strings.Contains(low, m) {
			return true
		}
	}
	return false
}

// classifyInput is what a finished invocation left behind.
type classifyInput struct {
	command  string
	exitCode int
	nodes    []NodeResult // from run_results.json, else from the log
	errors   []string     // error-level log messages
	stderr   string
}

// classify maps a non-zero exit to an *Error. dbt exits 1 when nodes failed
// or errored and 2 when it could not run at all.
func classify(in classifyInput) *Error {
	e := &Error{Command: in.command, ExitCode: in.exitCode, Stderr: in.stderr}
	for _, n := range in.nodes {
		if n.Status.Failed() {
			e.Failed = append(e.Failed, n)
		}
	}
	if in.exitCode < 0 {
		e.Kind = Crashed
		e.Message = fmt.Sprintf("dbt %s was killed by a signal Sluice did not send (out of memory?); it will be retried", in.command)
		if in.stderr != "" {
			e.Message += "\nstderr:\n" + in.stderr
		}
		return e
	}
	if len(e.Failed) > 0 {
		e.Kind = kindOfNodes(e.Failed)
		e.Message = nodesMessage(in.command, e.Kind, e.Failed)
		return e
	}
	text := strings.Join(in.errors, "\n") + "\n" + in.stderr
	detail := firstNonEmpty(strings.Join(in.errors, "\n"), in.stderr, "no error message in the log or on stderr")
	switch {
	case containsAny(text, compilationMarkers):
		e.Kind = Compilation
		e.Message = fmt.Sprintf("dbt %s failed to compile the project (exit code %d); fix the project and push it, a retry will not help:\n%s",
			in.command, in.exitCode, truncate(detail, 4000))
	case containsAny(text, transientMarkers):
		e.Kind = Transient
		e.Message = fmt.Sprintf("dbt %s could not reach the warehouse or a package index (exit code %d); it will be retried:\n%s",
			in.command, in.exitCode, truncate(detail, 4000))
	default:
		e.Kind = Fatal
		e.Message = fmt.Sprintf("dbt %s failed (exit code %d); check the dbt project, profile and target:\n%s",
			in.command, in.exitCode, truncate(detail, 4000))
	}
	return e
}

// kindOfNodes picks the kind of a run where nodes failed: anything that a
// retry cannot fix wins over connection trouble.
func kindOfNodes(failed []NodeResult) ErrorKind {
	compile, model, test, transient := false, false, false, false
	for _, n := range failed {
		switch {
		case n.Status == StatusFail:
			test = true
		case containsAny(n.Message, compilationMarkers):
			compile = true
		case containsAny(n.Message, transientMarkers):
			transient = true
		default:
			model = true
		}
	}
	switch {
	case compile:
		return Compilation
	case model:
		return ModelErrors
	case test:
		return TestFailures
	case transient:
		return Transient
	}
	return ModelErrors
}

func nodesMessage(command string, kind ErrorKind, failed []NodeResult) string {
	var b strings.Builder
	switch kind {
	case TestFailures:
		fmt.Fprintf(&b, "dbt %s: %d %s failed; fix the data or the test, a retry will not help:", command, len(failed), plural(len(failed), "test", "tests"))
	case Compilation:
		fmt.Fprintf(&b, "dbt %s: %d %s failed to compile; fix the SQL or Jinja, a retry will not help:", command, len(failed), plural(len(failed), "node", "nodes"))
	case Transient:
		fmt.Fprintf(&b, "dbt %s: %d %s lost the connection to the warehouse; it will be retried:", command, len(failed), plural(len(failed), "node", "nodes"))
	default:
		fmt.Fprintf(&b, "dbt %s: %d %s failed; fix the SQL or the data, a retry will not help:", command, len(failed), plural(len(failed), "node", "nodes"))
	}
	const maxListed = 10
	for i, n := range failed {
		if i == maxListed {
			fmt.Fprintf(&b, "\n  ... and %d more", len(failed)-maxListed)
			break
		}
		fmt.Fprintf(&b, "\n  %s %s [%s]", n.ResourceType, n.Name, n.Status)
		if n.Failures != nil && n.Status == StatusFail {
			fmt.Fprintf(&b, " %d failing rows", *n.Failures)
		}
		if msg := strings.TrimSpace(n.Message); msg != "" {
			fmt.Fprintf(&b, ": %s", truncate(indentLines(msg, "    "), 1000))
		}
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// truncate shortens s to about n bytes without splitting a UTF-8 rune.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func indentLines(s, prefix string) string {
	return strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}
