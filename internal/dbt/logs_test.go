package dbt

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// genericEvents decodes a JSONL log line by line into untyped values.
func genericEvents(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var out []map[string]any
	for sc.Scan() {
		var v map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &v))
		out = append(out, v)
	}
	require.NoError(t, sc.Err())
	return out
}

func readAllEvents(t *testing.T, path string) ([]Event, Progress, []Progress) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	lr := NewLogReader(f)
	tr := NewTracker()
	var events []Event
	var snapshots []Progress
	for {
		ev, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		events = append(events, ev)
		if tr.Observe(ev) {
			snapshots = append(snapshots, tr.Progress())
		}
	}
	return events, tr.Progress(), snapshots
}

func TestLogsRealFiles(t *testing.T) {
	t.Parallel()
	for _, path := range sharedGlob(t, "logs/*.jsonl") {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".jsonl"), func(t *testing.T) {
			t.Parallel()
			want := genericEvents(t, path)
			events, final, snapshots := readAllEvents(t, path)
			require.Len(t, events, len(want))

			var wantResults []NodeResult
			wantTotal, wantCompleted, wantSuccess := 0, false, false
			var wantStats *Stats
			for i, w := range want {
				info := w["info"].(map[string]any)
				data := w["data"].(map[string]any)
				require.Equal(t, info["name"], events[i].Name)
				require.Equal(t, info["level"], events[i].Level)
				require.Equal(t, info["msg"], events[i].Msg)
				switch info["name"] {
				case EventConcurrencyLine:
					wantTotal = int(data["node_count"].(float64))
				case EventNodeFinished:
					ni := data["node_info"].(map[string]any)
					rr := data["run_result"].(map[string]any)
					r := NodeResult{
						UniqueID:      ni["unique_id"].(string),
						Name:          ni["node_name"].(string),
						ResourceType:  ni["resource_type"].(string),
						Status:        Status(rr["status"].(string)),
						Message:       rr["message"].(string),
						ExecutionTime: seconds(rr["execution_time"].(float64)),
						ThreadID:      rr["thread"].(string),
					}
					if r.ResourceType == "test" {
						f := int(rr["num_failures"].(float64))
						r.Failures = &f
					}
					require.Equal(t, ni["node_status"], string(r.Status))
					wantResults = append(wantResults, r)
				case EventStatsLine:
					s := data["stats"].(map[string]any)
					wantStats = &Stats{Pass: int(s["pass"].(float64)), Warn: int(s["warn"].(float64)), Error: int(s["error"].(float64)),
						Skip: int(s["skip"].(float64)), Total: int(s["total"].(float64))}
				case EventCommandCompleted:
					wantCompleted, wantSuccess = true, data["success"].(bool)
				}
			}
			require.NotEmpty(t, wantResults)
			require.Len(t, final.Results, len(wantResults))
			for i, w := range wantResults {
				got := final.Results[i]
				require.Len(t, got.Timing, 2, got.UniqueID)
				got.Timing, got.AdapterResponse = nil, nil
				require.Equal(t, w, got)
			}
			require.Equal(t, len(wantResults), final.Done)
			require.Equal(t, wantTotal, final.Total)
			require.Empty(t, final.Running)
			require.Equal(t, wantCompleted, final.Completed)
			require.Equal(t, wantSuccess, final.Success)
			require.Equal(t, wantStats, final.Stats)
			require.Equal(t, "1.8.2", final.DbtVersion)

			// dbt's own tally agrees with the per-node results.
			s := Summarize(final.Results)
			require.Equal(t, final.Stats.Pass, s.Success+s.Pass)
			require.Equal(t, final.Stats.Error, s.Error+s.Fail+s.RuntimeError)
			require.Equal(t, final.Stats.Skip, s.Skipped)
			require.Equal(t, final.Stats.Total, s.Total)

			// Progress counts up one node at a time and the total is known
			// before the first node finishes.
			done := 0
			for _, p := range snapshots {
				if p.Done != done {
					require.Equal(t, done+1, p.Done)
					require.Equal(t, wantTotal, p.Total)
					done = p.Done
				}
			}
			require.Equal(t, len(wantResults), done)
		})
	}
}

func TestLogTrackerCurrentNode(t *testing.T) {
	t.Parallel()
	path := sharedDbt(t, "logs", "postgres_build_command__build_logs.jsonl")
	_, _, snapshots := readAllEvents(t, path)
	// Single-threaded: after each NodeStart exactly that node is running.
	sawRunning := 0
	for _, p := range snapshots {
		if len(p.Running) > 0 {
			require.Len(t, p.Running, 1)
			require.Equal(t, "started", p.Running[0].Status)
			sawRunning++
		}
	}
	require.Equal(t, 20, sawRunning)
	require.Equal(t, "seed.jaffle_shop.raw_customers", firstRunning(snapshots).UniqueID)
	require.Equal(t, "raw_customers.csv", firstRunning(snapshots).Path)
}

func firstRunning(ps []Progress) NodeInfo {
	for _, p := range ps {
		if len(p.Running) > 0 {
			return p.Running[0]
		}
	}
	return NodeInfo{}
}

func TestLogQuirks(t *testing.T) {
	t.Parallel()
	path := sharedDbt(t, "logs", "postgres_test__test_logs.jsonl")
	events, final, _ := readAllEvents(t, path)

	t.Run("RunResultErrorNodeStatusNone", func(t *testing.T) {
		t.Parallel()
		var recap *Event
		for i := range events {
			if events[i].Name == EventRunResultError {
				recap = &events[i]
			}
		}
		require.NotNil(t, recap)
		require.Equal(t, "None", recap.Node.Status)
		require.Nil(t, recap.Result)
		require.Equal(t, "  Got 78 results, configured to fail if != 0", recap.Msg)
		// The recap does not count as another finished node.
		require.Equal(t, 4, final.Done)
	})
	t.Run("FailingTest", func(t *testing.T) {
		t.Parallel()
		var failed []NodeResult
		for _, r := range final.Results {
			if r.Status.Failed() {
				failed = append(failed, r)
			}
		}
		require.Len(t, failed, 1)
		require.Equal(t, "accepted_values_customers_first_name__Jane", failed[0].Name)
		require.Equal(t, StatusFail, failed[0].Status)
		require.Equal(t, 78, *failed[0].Failures)
		require.Equal(t, "Got 78 results, configured to fail if != 0", failed[0].Message)
	})
	t.Run("ResultLineIndex", func(t *testing.T) {
		t.Parallel()
		var idx []int
		for _, ev := range events {
			if ev.Name == EventLogTestResult {
				require.Equal(t, 4, ev.Total, "num_models is the total for test results")
				idx = append(idx, ev.Index)
			}
		}
		require.Equal(t, []int{1, 2, 3, 4}, idx)
	})
	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		require.Contains(t, final.Errors, "Got 78 results, configured to fail if != 0")
	})
}

func TestParseEventNonJSON(t *testing.T) {
	t.Parallel()
	for _, line := range []string{"", "   ", "12:00:01  Running with dbt=1.8.2", `{"not": "a dbt event"}`, `{"info": `} {
		ev := ParseEvent([]byte(line + "\n"))
		require.Equal(t, Event{Raw: line}, ev)
	}
}

// The annotated single events (YAML with # comments holding JSON arrays),
// including the only skipped-node sample.
func TestLogEventSamples(t *testing.T) {
	t.Parallel()
	files := sharedGlob(t, "events/*.yaml")
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			var objs []map[string]any
			require.NoError(t, yaml.Unmarshal(b, &objs))
			require.NotEmpty(t, objs)
			tr := NewTracker()
			for _, o := range objs {
				line, err := json.Marshal(o)
				require.NoError(t, err)
				ev := ParseEvent(line)
				require.Equal(t, o["info"].(map[string]any)["name"], ev.Name)
				tr.Observe(ev)
			}
			p := tr.Progress()
			switch filepath.Base(path) {
			case "skipped_test_NodeFinished.yaml":
				require.Len(t, p.Results, 1)
				r := p.Results[0]
				require.Equal(t, StatusSkipped, r.Status)
				require.Empty(t, r.Timing)
				require.Empty(t, r.Message)
				require.Equal(t, 0, *r.Failures)
				require.Empty(t, p.Running)
			case "missing_command_completed.yaml":
				require.Equal(t, 1, p.Done)
				require.False(t, p.Completed)
			case "failed_CommandCompleted.yaml":
				require.True(t, p.Completed)
				require.False(t, p.Success)
				require.Equal(t, seconds(6.5994663), p.Elapsed)
			case "failed_NodeFinished.yaml":
				require.Equal(t, StatusError, p.Results[0].Status)
				require.Nil(t, p.Results[0].Failures, "models have no failures count")
				require.Contains(t, p.Results[0].Message, `syntax error at or near "renamed"`)
			}
		})
	}
}

func TestTrackerCountsEachNodeOnce(t *testing.T) {
	t.Parallel()
	start := `{"info": {"name": "NodeStart", "level": "debug", "msg": "Began running node model.p.a"}, "data": {"node_info": {"unique_id": "model.p.a", "node_name": "a", "resource_type": "model", "node_status": "started"}}}`
	finish := `{"info": {"name": "NodeFinished", "level": "debug", "msg": "Finished running node model.p.a"}, "data": {"node_info": {"unique_id": "model.p.a", "node_name": "a", "resource_type": "model", "node_status": "success"}, "run_result": {"status": "success", "message": "CREATE VIEW", "num_failures": 0, "execution_time": 0.25}}}`
	tr := NewTracker()
	require.True(t, tr.Observe(ParseEvent([]byte(start))))
	cur, ok := tr.Progress().Current()
	require.True(t, ok)
	require.Equal(t, "a", cur.Name)
	require.True(t, tr.Observe(ParseEvent([]byte(finish))))
	require.False(t, tr.Observe(ParseEvent([]byte(finish))), "a repeated NodeFinished is not another node")
	require.False(t, tr.Observe(ParseEvent([]byte(start))), "a finished node does not start again")
	p := tr.Progress()
	require.Equal(t, 1, p.Done)
	require.Equal(t, 1, p.Total, "the total is at least what finished")
	require.Empty(t, p.Running)
	_, ok = p.Current()
	require.False(t, ok)
	require.Equal(t, []NodeResult{{UniqueID: "model.p.a", Name: "a", ResourceType: "model", Status: StatusSuccess,
		Message: "CREATE VIEW", ExecutionTime: 250 * time.Millisecond}}, p.Results)
}

func TestLogReaderLongAndUnterminatedLines(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 300<<10)
	in := `{"info": {"name": "MainStackTrace", "level": "debug", "msg": "` + long + `"}, "data": {}}` + "\n" +
		"plain text\r\n" +
		`{"info": {"name": "CommandCompleted", "level": "debug", "msg": "done"}, "data": {"success": true}}`
	lr := NewLogReader(strings.NewReader(in))
	var got []Event
	for {
		ev, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		got = append(got, ev)
	}
	require.Len(t, got, 3)
	require.Equal(t, long, got[0].Msg)
	require.Equal(t, "plain text", got[1].Raw)
	require.Equal(t, EventCommandCompleted, got[2].Name)
	require.JSONEq(t, `{"success": true}`, string(got[2].Data))
}
