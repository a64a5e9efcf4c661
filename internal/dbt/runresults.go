package dbt

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Status is a node's result status as dbt writes it in run_results.json and
// in NodeFinished log events.
type Status string

// The statuses dbt 1.x writes. Models, seeds and snapshots end in success,
// error or skipped; tests in pass, fail, warn, error or skipped; source
// freshness and some tests in runtime error.
const (
	StatusSuccess        Status = "success"
	StatusPass           Status = "pass"
	StatusWarn           Status = "warn"
	StatusFail           Status = "fail"
	StatusError          Status = "error"
	StatusSkipped        Status = "skipped"
	StatusRuntimeError   Status = "runtime error"
	StatusPartialSuccess Status = "partial success" // microbatch models with some failed batches (dbt 1.9)
	StatusNoOp           Status = "no-op"
)

// Failed reports whether the node did not do its job: an error, a failing
// test, a runtime error or a partially failed microbatch model. Skipped is
// not failed: it is the consequence of an upstream failure.
func (s Status) Failed() bool {
	switch s {
	case StatusError, StatusFail, StatusRuntimeError, StatusPartialSuccess:
		return true
	}
	return false
}

// NodeResult is the outcome of one node in one dbt invocation.
type NodeResult struct {
	UniqueID     string
	Name         string // node name: from the log when seen there, else derived from UniqueID
	ResourceType string // model, test, seed, snapshot, operation... (the unique_id prefix)
	Status       Status
	// Message is dbt's message ("CREATE VIEW", "Got 78 results, configured to
	// fail if != 0", the database error...). dbt writes null for passing
	// tests; that reads as "".
	Message string
	// Failures is the number of failing rows for tests; nil where dbt writes
	// null (models, seeds, snapshots).
	Failures        *int
	ExecutionTime   time.Duration
	Timing          []Timing // compile and execute phases; empty for skipped nodes
	AdapterResponse map[string]any
	ThreadID        string
	RelationName    string // run_results v5+; "" when null or absent
}

// Timing is one phase (compile, execute) of a node's run.
type Timing struct {
	Name        string
	StartedAt   time.Time
	CompletedAt time.Time
}

// RunResults is dbt's target/run_results.json.
type RunResults struct {
	SchemaVersion int // N of https://schemas.getdbt.com/dbt/run-results/vN.json
	DbtVersion    string
	GeneratedAt   time.Time
	InvocationID  string
	ElapsedTime   time.Duration
	Command       string // args.which: run, build, test, seed...
	Results       []NodeResult
}

// Summary counts results by status.
type Summary struct {
	Total          int
	Success        int
	Pass           int
	Warn           int
	Fail           int
	Error          int
	Skipped        int
	RuntimeError   int
	PartialSuccess int
	NoOp           int
	Other          int // statuses this package does not know
}

// Summary counts the results by status.
func (rr *RunResults) Summary() Summary { return Summarize(rr.Results) }

// Summarize counts node results by status.
func Summarize(nodes []NodeResult) Summary {
	var s Summary
	for _, n := range nodes {
		s.Total++
		switch n.Status {
		case StatusSuccess:
			s.Success++
		case StatusPass:
			s.Pass++
		case StatusWarn:
			s.Warn++
		case StatusFail:
			s.Fail++
		case StatusError:
			s.Error++
		case StatusSkipped:
			s.Skipped++
		case StatusRuntimeError:
			s.RuntimeError++
		case StatusPartialSuccess:
			s.PartialSuccess++
		case StatusNoOp:
			s.NoOp++
		default:
			s.Other++
		}
	}
	return s
}

// Failed returns the results whose status is a failure (see Status.Failed).
func (rr *RunResults) Failed() []NodeResult {
	var out []NodeResult
	for _, n := range rr.Results {
		if n.Status.Failed() {
			out = append(out, n)
		}
	}
	return out
}

type rawRunResults struct {
	Metadata struct {
		SchemaVersion string `json:"dbt_schema_version"`
		DbtVersion    string `json:"dbt_version"`
		GeneratedAt   string `json:"generated_at"`
		InvocationID  string `json:"invocation_id"`
	} `json:"metadata"`
	Results     []rawResult `json:"results"`
	ElapsedTime float64     `json:"elapsed_time"`
	Args        struct {
		Which string `json:"which"`
	} `json:"args"`
}

type rawResult struct {
	UniqueID        string         `json:"unique_id"`
	Status          string         `json:"status"`
	Message         *string        `json:"message"`
	Failures        *int           `json:"failures"`
	ExecutionTime   float64        `json:"execution_time"`
	ThreadID        string         `json:"thread_id"`
	Timing          []rawTiming    `json:"timing"`
	AdapterResponse map[string]any `json:"adapter_response"`
	RelationName    *string        `json:"relation_name"`
}

type rawTiming struct {
	Name        string  `json:"name"`
	StartedAt   *string `json:"started_at"`
	CompletedAt *string `json:"completed_at"`
}

// ParseRunResults reads a dbt run_results.json, pretty-printed or compact.
// It is tested on schemas v2 (dbt 0.21) to v6 (dbt 1.9); the fields it reads
// are the same in every version, and unknown fields are ignored.
func ParseRunResults(r io.Reader) (*RunResults, error) {
	var raw rawRunResults
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("parsing dbt run_results.json: %w", err)
	}
	kind, v, err := parseSchemaVersion(raw.Metadata.SchemaVersion)
	if err != nil {
		return nil, fmt.Errorf("parsing dbt run_results.json: %w", err)
	}
	if kind != "run-results" {
		return nil, fmt.Errorf("parsing dbt run_results.json: metadata.dbt_schema_version is %q: this is a dbt %s file, not run_results.json", raw.Metadata.SchemaVersion, kind)
	}
	rr := &RunResults{
		SchemaVersion: v,
		DbtVersion:    raw.Metadata.DbtVersion,
		GeneratedAt:   parseDbtTime(raw.Metadata.GeneratedAt),
		InvocationID:  raw.Metadata.InvocationID,
		ElapsedTime:   seconds(raw.ElapsedTime),
		Command:       raw.Args.Which,
		Results:       make([]NodeResult, 0, len(raw.Results)),
	}
	for i, r := range raw.Results {
		if r.UniqueID == "" {
			return nil, fmt.Errorf("parsing dbt run_results.json: results[%d] has no unique_id", i)
		}
		n := NodeResult{
			UniqueID:        r.UniqueID,
			Name:            nameFromUniqueID(r.UniqueID),
			ResourceType:    resourceTypeFromUniqueID(r.UniqueID),
			Status:          Status(r.Status),
			Failures:        r.Failures,
			ExecutionTime:   seconds(r.ExecutionTime),
			ThreadID:        r.ThreadID,
			AdapterResponse: r.AdapterResponse,
		}
		if r.Message != nil {
			n.Message = *r.Message
		}
		if r.RelationName != nil {
			n.RelationName = *r.RelationName
		}
		for _, t := range r.Timing {
			n.Timing = append(n.Timing, Timing{Name: t.Name, StartedAt: parseDbtTimePtr(t.StartedAt), CompletedAt: parseDbtTimePtr(t.CompletedAt)})
		}
		rr.Results = append(rr.Results, n)
	}
	return rr, nil
}

// seconds converts dbt's float seconds to a Duration, rounded to the nanosecond.
func seconds(f float64) time.Duration {
	return time.Duration(math.Round(f * float64(time.Second)))
}

// dbt writes timestamps with a Z in artifacts and without a zone in
// node_info; both are UTC.
var dbtTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"}

func parseDbtTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, l := range dbtTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func parseDbtTimePtr(s *string) time.Time {
	if s == nil {
		return time.Time{}
	}
	return parseDbtTime(*s)
}

// resourceTypeFromUniqueID returns "model" for "model.pkg.name".
func resourceTypeFromUniqueID(id string) string {
	rt, _, _ := strings.Cut(id, ".")
	return rt
}

// nameFromUniqueID derives a node's name from its unique_id: the third
// segment of model.pkg.name[.v2], test.pkg.name.hash, seed.pkg.name..., the
// last segment of source.pkg.source.table and unit_test.pkg.model.test.
func nameFromUniqueID(id string) string {
	parts := strings.Split(id, ".")
	if len(parts) < 3 {
		return id
	}
	switch parts[0] {
	case "source", "unit_test":
		return parts[len(parts)-1]
	}
	return parts[2]
}
