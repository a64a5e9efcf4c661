// Command fakedbt stands in for the dbt CLI in the internal/dbt tests: dbt
// cannot be installed where Sluice is built. It does not imitate dbt's
// logic; it replays REAL dbt output (the --log-format json captures and
// artifacts in /work/shared/testdata/dbt) and behaves like dbt at the
// process level: exit codes, artifacts in <project>/target (or in
// DBT_TARGET_PATH when set, as dbt reads it), SIGINT.
//
// Behaviour is driven by environment variables. Each FAKEDBT_<X> can be
// given per command as FAKEDBT_<X>_<COMMAND> (COMMAND upper-cased, spaces
// as underscores: FAKEDBT_EXIT_BUILD, FAKEDBT_LOG_SOURCE_FRESHNESS), which
// wins over the plain name.
//
//	FAKEDBT_VERSION       version printed by --version (default 1.8.2)
//	FAKEDBT_VERSION_STYLE "legacy" prints dbt < 1.5's "installed version: X"
//	FAKEDBT_LOG           a dbt --log-format json capture replayed on stdout
//	FAKEDBT_PACE          pause between replayed lines (Go duration)
//	FAKEDBT_RUN_RESULTS   file copied to <project>/target/run_results.json;
//	                      "auto" writes one built from the replayed log's
//	                      NodeFinished events, as dbt does from the same results
//	FAKEDBT_MANIFEST      file copied to <project>/target/manifest.json
//	FAKEDBT_STDERR        text written to stderr after the log
//	FAKEDBT_SLEEP         pause before exiting (Go duration)
//	FAKEDBT_EXIT          exit code (default 0)
//	FAKEDBT_IGNORE_SIGINT "1": ignore SIGINT (to test the SIGKILL path)
//	FAKEDBT_MARKER        file written with "SIGINT" when SIGINT arrives;
//	                      the process then exits 130, as dbt does
//	FAKEDBT_RECORD        file to which each invocation appends one JSON
//	                      line {"args":[...],"env":[...],"dir":"..."}
//	FAKEDBT_PIDFILE       file to which the pid (and the child's) are appended
//	FAKEDBT_SPAWN_CHILD   "1": start a child process in the same process
//	                      group that sleeps until killed
//	FAKEDBT_CHILD         (internal) "1" marks that child
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if os.Getenv("FAKEDBT_CHILD") == "1" {
		time.Sleep(3 * time.Minute) // until killed; bounded so a failed test leaks nothing for long
		return
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if err := record(args); err != nil {
		fmt.Fprintln(os.Stderr, "fakedbt:", err)
		return 3
	}
	if len(args) == 1 && (args[0] == "--version" || args[0] == "-v") {
		return printVersion()
	}
	command, projectDir := parseArgs(args)
	get := func(name string) string {
		key := "FAKEDBT_" + name
		if v, ok := os.LookupEnv(key + "_" + strings.ToUpper(strings.ReplaceAll(command, " ", "_"))); ok {
			return v
		}
		return os.Getenv(key)
	}

	sigs := make(chan os.Signal, 1)
	if get("IGNORE_SIGINT") == "1" {
		signal.Ignore(os.Interrupt)
	} else {
		signal.Notify(sigs, os.Interrupt)
	}
	if get("SPAWN_CHILD") == "1" {
		if err := spawnChild(); err != nil {
			fmt.Fprintln(os.Stderr, "fakedbt:", err)
			return 3
		}
	}
	if err := writePID(os.Getpid()); err != nil {
		fmt.Fprintln(os.Stderr, "fakedbt:", err)
		return 3
	}
	interrupted := func() bool {
		select {
		case <-sigs:
			if m := get("MARKER"); m != "" {
				_ = os.WriteFile(m, []byte("SIGINT\n"), 0o600)
			}
			return true
		default:
			return false
		}
	}
	pause := func(d time.Duration) bool {
		deadline := time.Now().Add(d)
		for time.Now().Before(deadline) {
			if interrupted() {
				return true
			}
			time.Sleep(min(5*time.Millisecond, time.Until(deadline)))
		}
		return interrupted()
	}

	pace, _ := time.ParseDuration(get("PACE"))
	var finished []json.RawMessage
	invocationID := ""
	if path := get("LOG"); path != "" {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fakedbt:", err)
			return 3
		}
		r := bufio.NewReaderSize(f, 1<<20)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				os.Stdout.Write(line)
				id, node := inspect(line)
				if node != nil {
					finished = append(finished, node)
				}
				if invocationID == "" {
					invocationID = id
				}
				if pace > 0 && pause(pace) {
					return 130
				}
			}
			if err != nil {
				break
			}
		}
		f.Close()
	}
	if interrupted() {
		return 130
	}
	target := filepath.Join(projectDir, "target")
	if t := os.Getenv("DBT_TARGET_PATH"); t != "" { // as dbt reads it
		target = t
		if !filepath.IsAbs(t) {
			target = filepath.Join(projectDir, t)
		}
	}
	if rr := get("RUN_RESULTS"); rr == "auto" {
		if err := writeRunResults(filepath.Join(target, "run_results.json"), invocationID, command, finished); err != nil {
			fmt.Fprintln(os.Stderr, "fakedbt:", err)
			return 3
		}
	} else if rr != "" {
		if err := copyFile(filepath.Join(target, "run_results.json"), rr); err != nil {
			fmt.Fprintln(os.Stderr, "fakedbt:", err)
			return 3
		}
	}
	if m := get("MANIFEST"); m != "" {
		if err := copyFile(filepath.Join(target, "manifest.json"), m); err != nil {
			fmt.Fprintln(os.Stderr, "fakedbt:", err)
			return 3
		}
	}
	if s := get("STDERR"); s != "" {
		fmt.Fprintln(os.Stderr, s)
	}
	if d, _ := time.ParseDuration(get("SLEEP")); d > 0 && pause(d) {
		return 130
	}
	code, _ := strconv.Atoi(get("EXIT"))
	return code
}

func printVersion() int {
	v := os.Getenv("FAKEDBT_VERSION")
	if v == "" {
		v = "1.8.2"
	}
	if os.Getenv("FAKEDBT_VERSION_STYLE") == "legacy" {
		fmt.Printf("installed version: %s\n   latest version: %s\n\nUp to date!\n\nPlugins:\n  - postgres: %s\n", v, v, v)
		return 0
	}
	fmt.Printf("Core:\n  - installed: %s\n  - latest:    %s - Up to date!\n\nPlugins:\n  - postgres: %s - Up to date!\n\n", v, v, v)
	return 0
}

// parseArgs finds the command words (after the global --log-format json)
// and --project-dir.
func parseArgs(args []string) (command, projectDir string) {
	projectDir, _ = os.Getwd()
	var words []string
	inCommand := true
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--log-format":
			i++
		case a == "--project-dir" && i+1 < len(args):
			projectDir = args[i+1]
			i++
			inCommand = false
		case strings.HasPrefix(a, "-"):
			inCommand = false
		case inCommand:
			words = append(words, a)
		}
	}
	return strings.Join(words, " "), projectDir
}

func record(args []string) error {
	path := os.Getenv("FAKEDBT_RECORD")
	if path == "" {
		return nil
	}
	dir, _ := os.Getwd()
	b, err := json.Marshal(map[string]any{"args": args, "env": os.Environ(), "dir": dir})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(b, '\n'))
	return err
}

func writePID(pid int) error {
	path := os.Getenv("FAKEDBT_PIDFILE")
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintln(f, pid)
	return err
}

func spawnChild() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	c := exec.Command(exe)
	c.Env = append(os.Environ(), "FAKEDBT_CHILD=1")
	// Same process group as this process (no Setpgid): the runner must
	// signal the whole group.
	c.SysProcAttr = &syscall.SysProcAttr{}
	if err := c.Start(); err != nil {
		return err
	}
	return writePID(c.Process.Pid)
}

// inspect returns the invocation id of a log line, and its data when it is
// a NodeFinished event.
func inspect(line []byte) (string, json.RawMessage) {
	var ev struct {
		Info struct {
			Name         string `json:"name"`
			InvocationID string `json:"invocation_id"`
		} `json:"info"`
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(line, &ev) != nil {
		return "", nil
	}
	if ev.Info.Name == "NodeFinished" {
		return ev.Info.InvocationID, ev.Data
	}
	return ev.Info.InvocationID, nil
}

// writeRunResults writes a run-results v6 file from NodeFinished data, the
// way dbt serialises the same RunResult objects it logs.
func writeRunResults(path, invocationID, command string, finished []json.RawMessage) error {
	type timing struct {
		Name        string  `json:"name"`
		StartedAt   *string `json:"started_at"`
		CompletedAt *string `json:"completed_at"`
	}
	type result struct {
		Status          string         `json:"status"`
		Timing          []timing       `json:"timing"`
		ThreadID        string         `json:"thread_id"`
		ExecutionTime   float64        `json:"execution_time"`
		AdapterResponse map[string]any `json:"adapter_response"`
		Message         *string        `json:"message"`
		Failures        *int           `json:"failures"`
		UniqueID        string         `json:"unique_id"`
		Compiled        *bool          `json:"compiled"`
		CompiledCode    *string        `json:"compiled_code"`
		RelationName    *string        `json:"relation_name"`
	}
	results := []result{}
	elapsed := 0.0
	for _, raw := range finished {
		var d struct {
			NodeInfo struct {
				UniqueID     string `json:"unique_id"`
				ResourceType string `json:"resource_type"`
				NodeRelation struct {
					RelationName string `json:"relation_name"`
				} `json:"node_relation"`
			} `json:"node_info"`
			RunResult struct {
				Status          string         `json:"status"`
				Message         string         `json:"message"`
				NumFailures     int            `json:"num_failures"`
				ExecutionTime   float64        `json:"execution_time"`
				Thread          string         `json:"thread"`
				AdapterResponse map[string]any `json:"adapter_response"`
				TimingInfo      []timing       `json:"timing_info"`
			} `json:"run_result"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			return err
		}
		r := result{
			Status:          d.RunResult.Status,
			Timing:          d.RunResult.TimingInfo,
			ThreadID:        d.RunResult.Thread,
			ExecutionTime:   d.RunResult.ExecutionTime,
			AdapterResponse: d.RunResult.AdapterResponse,
			UniqueID:        d.NodeInfo.UniqueID,
		}
		if r.Timing == nil {
			r.Timing = []timing{}
		}
		if r.AdapterResponse == nil {
			r.AdapterResponse = map[string]any{}
		}
		isTest := d.NodeInfo.ResourceType == "test"
		if isTest {
			f := d.RunResult.NumFailures
			r.Failures = &f
		}
		// dbt writes null for the message of passing tests.
		if !(isTest && d.RunResult.Message == "") {
			m := d.RunResult.Message
			r.Message = &m
		}
		if rel := d.NodeInfo.NodeRelation.RelationName; rel != "" {
			r.RelationName = &rel
		}
		elapsed += d.RunResult.ExecutionTime
		results = append(results, r)
	}
	doc := map[string]any{
		"metadata": map[string]any{
			"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json",
			"dbt_version":        "1.8.2",
			"generated_at":       time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"),
			"invocation_id":      invocationID,
			"env":                map[string]any{},
		},
		"results":      results,
		"elapsed_time": elapsed,
		"args":         map[string]any{"which": strings.ReplaceAll(command, " ", "-")},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func copyFile(dst, src string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
