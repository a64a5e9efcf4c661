package dbt

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Names of the dbt events this package interprets. Every other event is
// passed through with its Data untouched.
const (
	EventMainReportVersion    = "MainReportVersion"    // "Running with dbt=1.8.2"
	EventFoundStats           = "FoundStats"           // "Found 5 models, 3 seeds, 20 data tests..."
	EventConcurrencyLine      = "ConcurrencyLine"      // data.node_count: nodes selected to run
	EventNodeStart            = "NodeStart"            // a node began running
	EventNodeFinished         = "NodeFinished"         // a node finished: data.run_result
	EventLogModelResult       = "LogModelResult"       // "4 of 20 OK created sql view model..."
	EventLogTestResult        = "LogTestResult"        // "17 of 20 FAIL 78 accepted_values..."
	EventLogSeedResult        = "LogSeedResult"        // "1 of 20 OK loaded seed file public.raw_customers"
	EventLogSnapshotResult    = "LogSnapshotResult"    // "6 of 20 OK snapshotted snapshots.orders_snapshot"
	EventRunResultError       = "RunResultError"       // end-of-run recap of an error; node_status is "None"
	EventRunResultFailure     = "RunResultFailure"     // end-of-run recap of a failing test
	EventStatsLine            = "StatsLine"            // "Done. PASS=19 WARN=0 ERROR=1 SKIP=0 TOTAL=20"
	EventCommandCompleted     = "CommandCompleted"     // data.success, data.elapsed
	EventMainEncounteredError = "MainEncounteredError" // fatal error before or outside node execution (exit 2)
)

// Event is one line of dbt's `--log-format json` output, in the
// {"info": {...}, "data": {...}} shape of dbt 1.4 and later. Lines of older
// versions come back as non-JSON lines (Raw).
type Event struct {
	Name         string // info.name, e.g. NodeFinished; "" for a line that is not a dbt JSON event
	Level        string // info.level: debug, info, warn, error
	Msg          string // info.msg, the human-readable line
	Code         string // info.code, e.g. Q025
	InvocationID string
	Thread       string
	Time         time.Time // info.ts

	// Node is data.node_info for node events (NodeStart, NodeFinished,
	// Log*Result, RunResultError...). Its Status is "None" on the
	// end-of-run recap events.
	Node *NodeInfo
	// Result is data.run_result of a NodeFinished event, with the node's
	// identity filled in from node_info.
	Result *NodeResult
	// Index and Total are "i of n" of Log*Result events (Total is
	// data.num_models for tests).
	Index, Total int

	// Data is the event's data object as dbt wrote it (secrets scrubbed),
	// for events this package does not model.
	Data json.RawMessage
	// Raw is the text of a line that is not a JSON event (Name == "").
	Raw string
}

// NodeInfo is data.node_info of node events.
type NodeInfo struct {
	UniqueID     string
	Name         string // node_name
	Path         string // node_path, relative to the resource folder
	ResourceType string
	Materialized string
	Status       string // node_status: started, success, error, pass, fail, skipped... or "None"
	RelationName string
	StartedAt    time.Time
	FinishedAt   time.Time // zero until finished, and for skipped nodes
}

type rawEvent struct {
	Info struct {
		Name         string `json:"name"`
		Level        string `json:"level"`
		Msg          string `json:"msg"`
		Code         string `json:"code"`
		InvocationID string `json:"invocation_id"`
		Thread       string `json:"thread"`
		TS           string `json:"ts"`
	} `json:"info"`
	Data json.RawMessage `json:"data"`
}

// eventData is the union of the data fields this package reads.
type eventData struct {
	NodeInfo *struct {
		UniqueID     string `json:"unique_id"`
		NodeName     string `json:"node_name"`
		NodePath     string `json:"node_path"`
		ResourceType string `json:"resource_type"`
		Materialized string `json:"materialized"`
		NodeStatus   string `json:"node_status"`
		StartedAt    string `json:"node_started_at"`
		FinishedAt   string `json:"node_finished_at"`
		NodeRelation struct {
			RelationName string `json:"relation_name"`
		} `json:"node_relation"`
	} `json:"node_info"`
	RunResult *struct {
		Status          string         `json:"status"`
		Message         *string        `json:"message"`
		NumFailures     *int           `json:"num_failures"`
		ExecutionTime   float64        `json:"execution_time"`
		Thread          string         `json:"thread"`
		AdapterResponse map[string]any `json:"adapter_response"`
		TimingInfo      []rawTiming    `json:"timing_info"`
	} `json:"run_result"`
	Index     int `json:"index"`
	Total     int `json:"total"`
	NumModels int `json:"num_models"`
}

// ParseEvent decodes one line of dbt JSON log output. A line that is not a
// dbt JSON event (dbt or an adapter printing plain text, a blank line)
// comes back as an Event with Name "" and the text in Raw; it is never an
// error.
func ParseEvent(line []byte) Event {
	line = bytes.TrimRight(line, "\r\n")
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Event{Raw: string(line)}
	}
	var raw rawEvent
	if err := json.Unmarshal(trimmed, &raw); err != nil || raw.Info.Name == "" {
		return Event{Raw: string(line)}
	}
	ev := Event{
		Name:         raw.Info.Name,
		Level:        raw.Info.Level,
		Msg:          raw.Info.Msg,
		Code:         raw.Info.Code,
		InvocationID: raw.Info.InvocationID,
		Thread:       raw.Info.Thread,
		Time:         parseDbtTime(raw.Info.TS),
		Data:         raw.Data,
	}
	var d eventData
	if len(raw.Data) > 0 && json.Unmarshal(raw.Data, &d) == nil {
		if ni := d.NodeInfo; ni != nil && ni.UniqueID != "" {
			ev.Node = &NodeInfo{
				UniqueID:     ni.UniqueID,
				Name:         ni.NodeName,
				Path:         ni.NodePath,
				ResourceType: ni.ResourceType,
				Materialized: ni.Materialized,
				Status:       ni.NodeStatus,
				RelationName: ni.NodeRelation.RelationName,
				StartedAt:    parseDbtTime(ni.StartedAt),
				FinishedAt:   parseDbtTime(ni.FinishedAt),
			}
		}
		if rr := d.RunResult; rr != nil && ev.Name == EventNodeFinished && ev.Node != nil {
			res := NodeResult{
				UniqueID:        ev.Node.UniqueID,
				Name:            ev.Node.Name,
				ResourceType:    ev.Node.ResourceType,
				Status:          Status(rr.Status),
				ExecutionTime:   seconds(rr.ExecutionTime),
				ThreadID:        rr.Thread,
				AdapterResponse: rr.AdapterResponse,
			}
			if res.ResourceType == "" {
				res.ResourceType = resourceTypeFromUniqueID(res.UniqueID)
			}
			if rr.Message != nil {
				res.Message = *rr.Message
			}
			// Logs carry num_failures 0 for every node; run_results.json
			// has null for non-tests. Mirror run_results.
			if rr.NumFailures != nil && (res.ResourceType == "test" || res.ResourceType == "unit_test") {
				f := *rr.NumFailures
				res.Failures = &f
			}
			for _, t := range rr.TimingInfo {
				res.Timing = append(res.Timing, Timing{Name: t.Name, StartedAt: parseDbtTimePtr(t.StartedAt), CompletedAt: parseDbtTimePtr(t.CompletedAt)})
			}
			ev.Result = &res
		}
		if strings.HasPrefix(ev.Name, "Log") && strings.HasSuffix(ev.Name, "Result") {
			ev.Index = d.Index
			ev.Total = d.Total
			if ev.Total == 0 {
				ev.Total = d.NumModels
			}
		}
	}
	return ev
}

// LogReader reads dbt JSON log lines one event at a time. Lines may be of
// any length (tracebacks, EndRunResult with every result).
type LogReader struct {
	r    *bufio.Reader
	line []byte
}

// NewLogReader returns a LogReader reading from r.
func NewLogReader(r io.Reader) *LogReader {
	return &LogReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next event, or io.EOF after the last one.
func (lr *LogReader) Next() (Event, error) {
	lr.line = lr.line[:0]
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.line = append(lr.line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(lr.line) > 0 {
				return ParseEvent(lr.line), nil
			}
			if errors.Is(err, io.EOF) {
				return Event{}, io.EOF
			}
			return Event{}, fmt.Errorf("reading dbt log: %w", err)
		}
		return ParseEvent(lr.line), nil
	}
}

// Progress is what a dbt invocation has done so far, as its log tells it.
type Progress struct {
	Command      string // e.g. "build"
	CommandIndex int    // 1-based position among Options.Commands (0 outside Run)
	CommandCount int
	DbtVersion   string // from MainReportVersion, e.g. "1.8.2"
	InvocationID string
	Found        string // FoundStats: "5 models, 3 seeds, 20 data tests, 428 macros"
	Threads      int
	Target       string
	// Total is the number of nodes dbt selected to run: ConcurrencyLine's
	// node_count, raised by the "of N" of result lines. 0 until known.
	Total int
	// Done counts finished nodes (NodeFinished).
	Done int
	// Running lists the nodes started and not yet finished, oldest first;
	// with one thread it is the current node.
	Running []NodeInfo
	// Results holds the finished nodes in completion order. The slice is
	// shared with later snapshots: do not modify it.
	Results []NodeResult
	// Errors holds the messages of error-level events (database errors,
	// fatal errors), in order, at most 50.
	Errors []string
	// Stats is the final "Done. PASS=.. WARN=.. ERROR=.. SKIP=.. TOTAL=.." line.
	Stats *Stats
	// Completed is set by CommandCompleted; Success and Elapsed come with it.
	Completed bool
	Success   bool
	Elapsed   time.Duration
}

// Stats is the data of dbt's StatsLine event.
type Stats struct {
	Pass, Warn, Error, Skip, NoOp, Total int
}

const maxProgressErrors = 50

// Current returns the most recently started node still running.
func (p Progress) Current() (NodeInfo, bool) {
	if len(p.Running) == 0 {
		return NodeInfo{}, false
	}
	return p.Running[len(p.Running)-1], true
}

// maxRecent bounds the recent messages a Tracker keeps.
const maxRecent = 20

// Tracker folds a stream of events into a Progress. It is not safe for
// concurrent use.
type Tracker struct {
	p        Progress
	finished map[string]bool
	// recent holds the last non-debug messages and plain lines: what dbt
	// said before exiting when it logged nothing at error level (dbt debug).
	recent []string
}

// NewTracker returns a Tracker for one dbt invocation.
func NewTracker() *Tracker { return &Tracker{finished: map[string]bool{}} }

// Observe updates the progress with ev and reports whether anything a user
// would see changed.
func (t *Tracker) Observe(ev Event) bool {
	p := &t.p
	if p.InvocationID == "" && ev.InvocationID != "" {
		p.InvocationID = ev.InvocationID
	}
	if ev.Level == "error" && ev.Msg != "" && len(p.Errors) < maxProgressErrors {
		p.Errors = append(p.Errors, strings.TrimSpace(ev.Msg))
	}
	if text := strings.TrimSpace(ev.Msg + ev.Raw); text != "" && ev.Level != "debug" {
		t.recent = append(t.recent, text)
		if len(t.recent) > maxRecent {
			t.recent = t.recent[len(t.recent)-maxRecent:]
		}
	}
	switch ev.Name {
	case EventMainReportVersion:
		var d struct {
			Version string `json:"version"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		p.DbtVersion = strings.TrimLeft(d.Version, "=")
		return true
	case EventFoundStats:
		var d struct {
			StatLine string `json:"stat_line"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		p.Found = d.StatLine
		return true
	case EventConcurrencyLine:
		var d struct {
			NodeCount  int    `json:"node_count"`
			NumThreads int    `json:"num_threads"`
			TargetName string `json:"target_name"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		p.Threads = d.NumThreads
		p.Target = d.TargetName
		if d.NodeCount > p.Total {
			p.Total = d.NodeCount
		}
		return true
	case EventNodeStart:
		if ev.Node == nil || t.finished[ev.Node.UniqueID] {
			return false
		}
		for _, r := range p.Running {
			if r.UniqueID == ev.Node.UniqueID {
				return false
			}
		}
		p.Running = append(p.Running, *ev.Node)
		return true
	case EventNodeFinished:
		if ev.Result == nil || t.finished[ev.Result.UniqueID] {
			return false
		}
		t.finished[ev.Result.UniqueID] = true
		running := make([]NodeInfo, 0, len(p.Running))
		for _, r := range p.Running {
			if r.UniqueID != ev.Result.UniqueID {
				running = append(running, r)
			}
		}
		p.Running = running
		p.Results = append(p.Results, *ev.Result)
		p.Done++
		if p.Done > p.Total {
			p.Total = p.Done
		}
		return true
	case EventStatsLine:
		var d struct {
			Stats struct {
				Pass  int `json:"pass"`
				Warn  int `json:"warn"`
				Error int `json:"error"`
				Skip  int `json:"skip"`
				NoOp  int `json:"noop"`
				Total int `json:"total"`
			} `json:"stats"`
		}
		if json.Unmarshal(ev.Data, &d) != nil {
			return false
		}
		s := Stats(d.Stats)
		p.Stats = &s
		return true
	case EventCommandCompleted:
		var d struct {
			Success bool    `json:"success"`
			Elapsed float64 `json:"elapsed"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		p.Completed = true
		p.Success = d.Success
		p.Elapsed = seconds(d.Elapsed)
		return true
	}
	if ev.Total > p.Total {
		p.Total = ev.Total
		return true
	}
	return false
}

// Progress returns a snapshot of the progress so far.
func (t *Tracker) Progress() Progress {
	p := t.p
	p.Running = append([]NodeInfo(nil), t.p.Running...)
	p.Results = t.p.Results[:len(t.p.Results):len(t.p.Results)]
	p.Errors = append([]string(nil), t.p.Errors...)
	return p
}
