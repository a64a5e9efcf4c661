// Package dag holds the pure rules of a pipeline run: task states, when a task
// may run given its upstream states (run_if, as in Databricks Jobs), and the
// run's outcome from its leaf tasks. It has no I/O and no clock, so workflow
// code uses it directly and tests cover every rule exhaustively.
package dag

import (
	"fmt"
	"slices"
	"strings"
)

// State is a task's state.
type State string

const (
	Pending        State = "PENDING"
	Running        State = "RUNNING"
	Success        State = "SUCCESS"
	Failed         State = "FAILED"
	TimedOut       State = "TIMEDOUT"
	Canceled       State = "CANCELED"
	Skipped        State = "SKIPPED"         // its run_if was not met
	UpstreamFailed State = "UPSTREAM_FAILED" // not run because an upstream task failed
	Disabled       State = "DISABLED"        // disabled: true in the spec
	Excluded       State = "EXCLUDED"        // not selected by --only / a repair
)

// Terminal reports whether the state is final.
func (s State) Terminal() bool { return s != Pending && s != Running && s != "" }

// Failure reports whether the state counts as a failure for run_if and outcomes.
func (s State) Failure() bool {
	return s == Failed || s == TimedOut || s == UpstreamFailed || s == Canceled
}

// satisfied reports whether the state counts as a success for dependents:
// disabled and excluded tasks do not block their downstream.
func (s State) satisfied() bool { return s == Success || s == Disabled || s == Excluded }

// RunIf is a task's condition on its upstream states.
type RunIf string

const (
	AllSuccess        RunIf = "ALL_SUCCESS"
	AtLeastOneSuccess RunIf = "AT_LEAST_ONE_SUCCESS"
	NoneFailed        RunIf = "NONE_FAILED"
	AllDone           RunIf = "ALL_DONE"
	AtLeastOneFailed  RunIf = "AT_LEAST_ONE_FAILED"
	AllFailed         RunIf = "ALL_FAILED"
)

// RunIfs lists every run_if value.
var RunIfs = []RunIf{AllSuccess, AtLeastOneSuccess, NoneFailed, AllDone, AtLeastOneFailed, AllFailed}

// ParseRunIf accepts the values case-insensitively; empty means ALL_SUCCESS.
func ParseRunIf(s string) (RunIf, error) {
	if s == "" {
		return AllSuccess, nil
	}
	r := RunIf(strings.ToUpper(s))
	if slices.Contains(RunIfs, r) {
		return r, nil
	}
	return "", fmt.Errorf("unknown run_if %q", s)
}

// Decide says what happens to a task once all its upstream tasks are in a
// terminal state: run it, or give it a final state without running.
// A task with no upstream always runs. As in Databricks Jobs, a task whose
// upstream tasks were all SKIPPED is SKIPPED too, whatever its run_if
// (NONE_FAILED also needs at least one upstream task that ran).
func Decide(runIf RunIf, upstream []State) (run bool, final State) {
	if len(upstream) == 0 {
		return true, ""
	}
	var succeeded, failed, skipped int
	for _, s := range upstream {
		switch {
		case s.satisfied():
			succeeded++
		case s.Failure():
			failed++
		default:
			skipped++
		}
	}
	n := len(upstream)
	if skipped == n {
		return false, Skipped
	}
	switch runIf {
	case AtLeastOneSuccess:
		if succeeded > 0 {
			return true, ""
		}
		if failed > 0 {
			return false, UpstreamFailed
		}
		return false, Skipped
	case NoneFailed:
		if failed == 0 {
			return true, ""
		}
		return false, UpstreamFailed
	case AllDone:
		return true, ""
	case AtLeastOneFailed:
		if failed > 0 {
			return true, ""
		}
		return false, Skipped
	case AllFailed:
		if failed == n {
			return true, ""
		}
		return false, Skipped
	default: // ALL_SUCCESS
		if succeeded == n {
			return true, ""
		}
		if failed > 0 {
			return false, UpstreamFailed
		}
		return false, Skipped
	}
}

// Status is a run's state or outcome.
type Status string

const (
	StatusQueued              Status = "QUEUED"
	StatusRunning             Status = "RUNNING"
	StatusSuccess             Status = "SUCCESS"
	StatusSuccessWithFailures Status = "SUCCESS_WITH_FAILURES"
	StatusFailed              Status = "FAILED"
	StatusTimedOut            Status = "TIMEDOUT"
	StatusCanceled            Status = "CANCELED"
)

// Statuses lists every outcome a finished run can have.
var Statuses = []Status{StatusSuccess, StatusSuccessWithFailures, StatusFailed, StatusTimedOut, StatusCanceled}

// Done reports whether the status is an outcome.
func (s Status) Done() bool { return slices.Contains(Statuses, s) }

// Node is a task as the outcome rule sees it.
type Node struct {
	Key       string
	DependsOn []string
}

// Outcome computes a finished run's outcome with Databricks' rule: the leaf
// tasks (no task depends on them) decide. Every leaf succeeded (or was
// disabled, excluded, or skipped by its run_if) -> SUCCESS, or
// SUCCESS_WITH_FAILURES when some other task failed on the way; any leaf that
// failed, timed out or was not run because of an upstream failure -> FAILED.
// Cancellation and the pipeline timeout take precedence.
func Outcome(nodes []Node, states map[string]State, canceled, timedOut bool) Status {
	switch {
	case timedOut:
		return StatusTimedOut
	case canceled:
		return StatusCanceled
	}
	hasChild := map[string]bool{}
	for _, n := range nodes {
		for _, d := range n.DependsOn {
			hasChild[d] = true
		}
	}
	leafFailed, otherFailed := false, false
	for _, n := range nodes {
		s := states[n.Key]
		if !s.Failure() {
			continue
		}
		if hasChild[n.Key] {
			otherFailed = true
		} else {
			leafFailed = true
		}
	}
	switch {
	case leafFailed:
		return StatusFailed
	case otherFailed:
		return StatusSuccessWithFailures
	default:
		return StatusSuccess
	}
}

// FindCycle returns one dependency cycle as a path of keys that starts and
// ends with the same key, or nil. Dependencies on unknown keys are ignored.
func FindCycle(nodes []Node) []string {
	deps := map[string][]string{}
	for _, n := range nodes {
		deps[n.Key] = n.DependsOn
	}
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var cycle []string
	var visit func(k string) bool
	visit = func(k string) bool {
		color[k] = grey
		stack = append(stack, k)
		for _, d := range deps[k] {
			if _, known := deps[d]; !known {
				continue
			}
			switch color[d] {
			case grey:
				i := slices.Index(stack, d)
				cycle = append(append([]string(nil), stack[i:]...), d)
				return true
			case white:
				if visit(d) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[k] = black
		return false
	}
	for _, n := range nodes {
		if color[n.Key] == white && visit(n.Key) {
			// report in dependency order: upstream first
			slices.Reverse(cycle)
			return cycle
		}
	}
	return nil
}

// Upstream returns every task that key depends on, directly or not.
func Upstream(nodes []Node, key string) map[string]bool {
	deps := map[string][]string{}
	for _, n := range nodes {
		deps[n.Key] = n.DependsOn
	}
	seen := map[string]bool{}
	var walk func(k string)
	walk = func(k string) {
		for _, d := range deps[k] {
			if !seen[d] {
				seen[d] = true
				walk(d)
			}
		}
	}
	walk(key)
	return seen
}

// Downstream returns every task that depends on one of keys, directly or not.
func Downstream(nodes []Node, keys ...string) map[string]bool {
	children := map[string][]string{}
	for _, n := range nodes {
		for _, d := range n.DependsOn {
			children[d] = append(children[d], n.Key)
		}
	}
	seen := map[string]bool{}
	var walk func(k string)
	walk = func(k string) {
		for _, c := range children[k] {
			if !seen[c] {
				seen[c] = true
				walk(c)
			}
		}
	}
	for _, k := range keys {
		walk(k)
	}
	return seen
}
