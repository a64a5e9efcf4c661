// Package dbt runs dbt tasks and refreshes dbt projects' manifests, as
// Temporal activities over internal/dbt (the dbt CLI runner) and
// internal/gitsource (projects from git).
//
// One attempt of a dbt task: materialise the project (a local folder, or a
// commit of a git repository checked out from a shared cache into a private
// folder), write a one-target profiles.yml into a private temporary folder
// from the environment (Postgres for the local engine, Databricks for the
// databricks engine; secrets reach dbt only through its process
// environment), run the configured commands one by one with progress
// heartbeats, and store each command's scrubbed log and artifacts under
// ArtifactsDir/<workflow id>/<run id>/<task>/attempt-<n>/. The output names
// the commit, the dbt version, a summary per command, every failing node and
// the per-node results (capped), with file:// URIs of the artifacts.
//
// Re-running failed models: every attempt records in its heartbeat details
// where its artifacts are and how far each command got. When an attempt
// starts with such details (a retry, a worker crash, or a repair handing the
// failed attempt's details to the re-run), the commands that had succeeded
// are not run again (except deps, which sets up the fresh checkout), the
// command that failed runs only the nodes that failed or were skipped and
// everything downstream of them (internal/dbt.RetrySelection over that
// command's run_results.json and manifest.json), and the commands after it
// run as configured.
package dbt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	idbt "github.com/sluicedata/sluice/internal/dbt"
	"github.com/sluicedata/sluice/internal/gitsource"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/store"
	"github.com/sluicedata/sluice/internal/task"
)

// Error types of dbt tasks besides internal/dbt's kinds (DbtTestFailures,
// DbtModelErrors, DbtCompilation, DbtTransient, DbtVersion, DbtConfig,
// DbtFatal, DbtCrashed), which are used as they are.
const (
	// ErrNotInstalled: the dbt executable is not on the worker.
	ErrNotInstalled = "DbtNotInstalled"
	// ErrProjectSource: the project could not be checked out (bad repo,
	// credentials, ref or path: permanent; network: transient).
	ErrProjectSource = "DbtProjectSource"
	// ErrArtifacts: the artifact store could not be written.
	ErrArtifacts = "DbtArtifacts"
	// ErrManifest: RefreshProject found no readable manifest.json.
	ErrManifest = "DbtManifest"
	// ErrWarehouse: the local engine's catalog could not be created.
	ErrWarehouse = "WarehouseUnavailable"
)

// MaxNodes caps the per-node results in a task's output; NodeCount has the
// real number and the artifacts have them all.
const MaxNodes = 500

// DefaultSchema is the schema dbt builds into when the task names none.
const DefaultSchema = "dbt"

// ManifestStore keeps refreshed manifests (internal/store.Store).
type ManifestStore interface {
	SaveDbtManifest(ctx context.Context, m store.DbtManifest) (int64, error)
}

// Activities runs dbt. Register one value per worker; its fields are its
// dependencies.
type Activities struct {
	Runner *task.Runner
	// ProjectDir is the worker's project folder (sluice.yaml), which
	// RefreshProject loads. Run uses the plan's Target.ProjectDir.
	ProjectDir string
	// ArtifactsDir receives every invocation's logs and artifacts
	// (SLUICE_ARTIFACTS_DIR). Default: <temp dir>/sluice-artifacts.
	ArtifactsDir string
	// GitCache holds the bare clones of git-hosted projects
	// (SLUICE_GIT_CACHE). Default: <user cache dir>/sluice/git.
	GitCache string
	// Executable is the worker's dbt (SLUICE_DBT): a path, or a name looked
	// up in PATH. A project's `executable` wins; default "dbt".
	Executable string
	// Store keeps manifests refreshed by RefreshProject.
	Store ManifestStore
	// EnsureCatalog, when set, creates the local engine's catalog database
	// before dbt connects to it (catalogs are created on first use).
	EnsureCatalog func(ctx context.Context, warehouseURL, catalog string) error
	// Getenv reads the worker's environment for ${env:VAR} when
	// RefreshProject plans a target, and for the Databricks fallbacks
	// DATABRICKS_HOST and DATABRICKS_TOKEN. Default os.LookupEnv.
	Getenv func(string) (string, bool)
	// Grace is the time between SIGINT and SIGKILL when a run is canceled.
	// Default internal/dbt.DefaultGrace.
	Grace time.Duration

	cacheOnce sync.Once
	cache     *gitsource.Cache
}

// RunInput is one attempt of a dbt task.
type RunInput struct {
	Meta   task.Meta      `json:"meta"`
	Config spec.DbtConfig `json:"config"`
}

// RunResult is what a dbt task did: small facts and URIs, never data.
type RunResult struct {
	Project    string `json:"project"`
	Commit     string `json:"commit,omitempty"` // the commit the project was at
	Ref        string `json:"ref,omitempty"`    // e.g. refs/heads/main
	DbtVersion string `json:"dbt_version,omitempty"`
	// Commands are the commands of the task in order, including those not
	// run (skip_tests, or already done by the attempt this one resumes).
	Commands []CommandSummary `json:"commands"`
	// Summary counts the node results of every command run.
	Summary Counts `json:"summary"`
	// Failed lists every node that failed or errored.
	Failed []NodeOutput `json:"failed,omitempty"`
	// Nodes are the node results in completion order, at most MaxNodes;
	// NodeCount is the real number.
	Nodes          []NodeOutput `json:"nodes,omitempty"`
	NodeCount      int          `json:"node_count"`
	NodesTruncated bool         `json:"nodes_truncated,omitempty"`
	// Retry is set when this attempt re-ran the failed nodes of an earlier one.
	Retry *RetryInfo `json:"retry,omitempty"`
	// ArtifactsURI is the attempt's artifact folder; LogURI the dbt JSON log
	// of the last command run (run history keeps it); ManifestURI and
	// RunResultsURI the last ones written.
	ArtifactsURI  string `json:"artifacts_uri,omitempty"`
	LogURI        string `json:"log_uri,omitempty"`
	ManifestURI   string `json:"manifest_uri,omitempty"`
	RunResultsURI string `json:"run_results_uri,omitempty"`
	DurationMS    int64  `json:"duration_ms"`
}

// CommandSummary is one command of a dbt task.
type CommandSummary struct {
	Command string `json:"command"`
	// Status: success, failed, canceled, skipped (not run: see Reason).
	Status       string   `json:"status"`
	Reason       string   `json:"reason,omitempty"`
	Select       []string `json:"select,omitempty"` // the --select given, when it differs from the task's
	ExitCode     int      `json:"exit_code"`
	InvocationID string   `json:"invocation_id,omitempty"`
	Summary      Counts   `json:"summary"`
	LogURI       string   `json:"log_uri,omitempty"`
	DurationMS   int64    `json:"duration_ms"`
}

// Counts are node results by status.
type Counts struct {
	Total        int `json:"total"`
	Success      int `json:"success"`
	Pass         int `json:"pass"`
	Warn         int `json:"warn"`
	Fail         int `json:"fail"`
	Error        int `json:"error"`
	Skipped      int `json:"skipped"`
	RuntimeError int `json:"runtime_error,omitempty"`
	NoOp         int `json:"no_op,omitempty"`
}

// NodeOutput is one node's result.
type NodeOutput struct {
	UniqueID     string `json:"unique_id"`
	Name         string `json:"name"`
	ResourceType string `json:"resource_type"`
	Command      string `json:"command"`
	Status       string `json:"status"`
	Message      string `json:"message,omitempty"` // first line, at most 200 characters
	Failures     *int   `json:"failures,omitempty"`
	DurationMS   int64  `json:"duration_ms"`
}

// RetryInfo says which earlier attempt this one resumed and what it re-ran.
type RetryInfo struct {
	// From is the artifact folder of the attempt resumed.
	From string `json:"from"`
	// Command is the command whose failed nodes were re-run.
	Command string `json:"command,omitempty"`
	// Select is the --select used for it: the failed and skipped nodes
	// and everything downstream.
	Select []string `json:"select,omitempty"`
	// Reused are the commands that had succeeded and were not run again.
	Reused []string `json:"reused,omitempty"`
}

// RunDbt runs one attempt of a dbt task.
func (a *Activities) RunDbt(ctx context.Context, in RunInput) (RunResult, error) {
	return task.Run(ctx, a.Runner, in.Meta, func(ctx context.Context, at *task.Attempt) (RunResult, error) {
		return a.run(ctx, at, in)
	})
}

func (a *Activities) run(ctx context.Context, at *task.Attempt, in RunInput) (RunResult, error) {
	start := time.Now()
	c := in.Config
	out := RunResult{Project: c.Project}
	commands, err := taskCommands(c)
	if err != nil {
		return out, err
	}
	def, ok := in.Meta.Target.DbtProjects[c.Project]
	if !ok {
		return out, task.Permanent(task.ErrConfig, "dbt project %q is not defined in %s dbt_projects: add it, or fix the task's project", c.Project, spec.ProjectFile)
	}
	toRun := 0
	for _, cmd := range commands {
		if cmd.skip == "" {
			toRun++
		}
	}
	if toRun == 0 {
		for _, cmd := range commands {
			out.Commands = append(out.Commands, CommandSummary{Command: cmd.name, Status: statusSkipped, Reason: cmd.skip})
		}
		at.Progress("nothing to run: %s", commands[0].skip)
		return out, nil
	}

	dir, err := a.attemptDir(ctx, in.Meta)
	if err != nil {
		return out, task.Transient(ErrArtifacts, "%v", err)
	}
	st := &resumeState{ArtifactDir: dir}
	for _, cmd := range commands {
		st.Commands = append(st.Commands, commandState{Command: cmd.name, Status: statusPending})
	}
	var prev resumeState
	var retry *RetryInfo
	if at.Resume(&prev) && prev.ArtifactDir != "" && prev.ArtifactDir != dir {
		retry = planResume(commands, &prev)
	}
	at.Heartbeat(st, "checking out "+c.Project)

	inv, err := a.prepare(ctx, at, invocationSpec{
		meta: in.Meta, project: c.Project, def: def, schema: c.Schema,
		target: c.Target, threads: c.Threads, env: c.Env,
	})
	if err != nil {
		return out, err
	}
	defer inv.cleanup()
	out.Commit, out.Ref, st.Commit = inv.commit, inv.ref, inv.commit
	out.ArtifactsURI = fileURI(dir) + "/"
	out.Retry = retry

	vars, err := resolveVars(at, c.Vars, inv)
	if err != nil {
		return out, err
	}
	var nodes []NodeOutput
	var allNodes []idbt.NodeResult
	var dbtErr error
	checked := false
	for i, cmd := range commands {
		cs := CommandSummary{Command: cmd.name}
		if cmd.skip != "" {
			cs.Status, cs.Reason = statusSkipped, cmd.skip
			st.Commands[i].Status = statusSkipped
			out.Commands = append(out.Commands, cs)
			continue
		}
		if dbtErr != nil {
			cs.Status, cs.Reason = statusSkipped, "not run: an earlier command failed"
			out.Commands = append(out.Commands, cs)
			continue
		}
		opts := idbt.Options{
			Executable:  inv.executable,
			ProjectDir:  inv.projectDir,
			ProfilesDir: inv.profilesDir,
			Commands:    []string{cmd.name},
			Select:      splitSelectors(c.Select),
			Exclude:     splitSelectors(c.Exclude),
			Selector:    c.Selector,
			Vars:        vars,
			FullRefresh: c.FullRefresh,
			Threads:     c.Threads,
			Target:      c.Target,
			Env:         inv.env,
			Secrets:     inv.secrets,
			Grace:       a.Grace,
		}
		if !checked {
			opts.RequiredVersion = def.DbtVersion
			checked = true
		}
		if cmd.retrySelect != nil {
			opts.Select, opts.Selector = cmd.retrySelect, ""
			cs.Select = cmd.retrySelect
		}
		if cmd.excludeTests {
			opts.Exclude = append(opts.Exclude, "resource_type:test")
		}
		st.Commands[i].Status = statusRunning
		cdir := filepath.Join(dir, fmt.Sprintf("%02d_%s", i+1, strings.ReplaceAll(cmd.name, " ", "_")))
		st.Commands[i].Dir = cdir
		label := fmt.Sprintf("dbt %s", cmd.name)
		if toRun > 1 {
			label = fmt.Sprintf("dbt %s (%d/%d)", cmd.name, i+1, len(commands))
		}
		opts.OnProgress = func(p idbt.Progress) { at.Heartbeat(st, progressLine(label, p)) }
		at.Heartbeat(st, label+": starting")

		res, err := runOne(ctx, opts, dir, cdir)
		if out.DbtVersion == "" {
			out.DbtVersion = res.Version
		}
		var cr idbt.CommandResult
		if len(res.Commands) > 0 {
			cr = res.Commands[0]
		}
		cs.ExitCode, cs.InvocationID = cr.ExitCode, cr.InvocationID
		cs.Summary = counts(cr.Summary)
		cs.DurationMS = cr.Elapsed.Milliseconds()
		for _, f := range cr.Artifacts {
			switch filepath.Base(f) {
			case "dbt_log.jsonl":
				cs.LogURI = fileURI(f)
				out.LogURI = cs.LogURI
			case "manifest.json":
				out.ManifestURI = fileURI(f)
			case "run_results.json":
				out.RunResultsURI = fileURI(f)
			}
		}
		for _, n := range cr.Nodes {
			nodes = append(nodes, nodeOutput(cmd.name, n))
		}
		allNodes = append(allNodes, cr.Nodes...)
		switch {
		case err == nil:
			cs.Status = statusSuccess
			st.Commands[i].Status = statusSuccess
		case ctx.Err() != nil:
			cs.Status = statusCanceled
			st.Commands[i].Status = statusFailed
			dbtErr = err
		default:
			cs.Status = statusFailed
			st.Commands[i].Status = statusFailed
			dbtErr = err
		}
		out.Commands = append(out.Commands, cs)
		at.Heartbeat(st, fmt.Sprintf("%s: %s", label, cs.Status))
	}
	out.Summary = counts(idbt.Summarize(allNodes))
	for _, n := range nodes {
		if idbt.Status(n.Status).Failed() {
			out.Failed = append(out.Failed, n)
		}
	}
	out.NodeCount = len(nodes)
	if len(nodes) > MaxNodes {
		nodes, out.NodesTruncated = nodes[:MaxNodes], true
	}
	out.Nodes = nodes
	out.DurationMS = time.Since(start).Milliseconds()
	if dbtErr != nil {
		return out, a.failure(ctx, c.Project, inv, out, dbtErr)
	}
	return out, nil
}

// runOne runs one command with its artifacts in cdir. internal/dbt names
// its artifact folders by position in its own command list, so each
// command runs into a staging folder that is then moved into place.
func runOne(ctx context.Context, opts idbt.Options, dir, cdir string) (idbt.Result, error) {
	staging, err := os.MkdirTemp(dir, ".staging-")
	if err != nil {
		return idbt.Result{}, task.Transient(ErrArtifacts, "creating the artifact folder in %s: %v", dir, err)
	}
	defer os.RemoveAll(staging)
	opts.ArtifactDir = staging
	res, runErr := idbt.Run(ctx, opts)
	inner := filepath.Join(staging, "01_"+strings.ReplaceAll(opts.Commands[0], " ", "_"))
	if _, err := os.Stat(inner); err == nil {
		_ = os.RemoveAll(cdir) // folders are per attempt: only a leftover of this one can be there
		if err := os.Rename(inner, cdir); err != nil {
			return res, task.Transient(ErrArtifacts, "storing the artifacts of dbt %s in %s: %v", opts.Commands[0], cdir, err)
		}
		for i := range res.Commands {
			for j, f := range res.Commands[i].Artifacts {
				if rel, err := filepath.Rel(inner, f); err == nil && !strings.HasPrefix(rel, "..") {
					res.Commands[i].Artifacts[j] = filepath.Join(cdir, rel)
				}
			}
		}
	}
	return res, runErr
}

// failure turns a failed command into the task's error.
func (a *Activities) failure(ctx context.Context, project string, inv *invocation, out RunResult, err error) error {
	if ctx.Err() != nil {
		return err
	}
	where := "dbt project " + project
	if inv.commit != "" {
		where += " at " + shortSHA(inv.commit)
	}
	var de *idbt.Error
	if !errors.As(err, &de) {
		var te *task.Error
		if errors.As(err, &te) {
			return te
		}
		return task.Transient(string(idbt.Fatal), "%s: %v", where, err)
	}
	msg := fmt.Sprintf("%s: %s", where, de.Message)
	var detail strings.Builder
	if len(out.Failed) > 0 {
		fmt.Fprintf(&detail, "%d failing %s:\n", len(out.Failed), pluralNodes(len(out.Failed)))
		for _, n := range out.Failed {
			fmt.Fprintf(&detail, "  %s %s [%s]", n.ResourceType, n.Name, n.Status)
			if n.Failures != nil && n.Status == string(idbt.StatusFail) {
				fmt.Fprintf(&detail, " %d failing rows", *n.Failures)
			}
			if n.Message != "" {
				fmt.Fprintf(&detail, ": %s", n.Message)
			}
			detail.WriteByte('\n')
		}
	}
	if de.Stderr != "" {
		fmt.Fprintf(&detail, "stderr:\n%s\n", de.Stderr)
	}
	if out.LogURI != "" {
		fmt.Fprintf(&detail, "log: %s\n", out.LogURI)
	}
	if out.ArtifactsURI != "" {
		fmt.Fprintf(&detail, "artifacts: %s\n", out.ArtifactsURI)
	}
	var te *task.Error
	if de.Kind.Permanent() {
		te = task.Permanent(string(de.Kind), "%s", msg)
	} else {
		te = task.Transient(string(de.Kind), "%s", msg)
	}
	return te.WithDetail(strings.TrimSpace(detail.String())).WithCause(err)
}

func pluralNodes(n int) string {
	if n == 1 {
		return "node"
	}
	return "nodes"
}

// Command states recorded in the heartbeat and shown in the output.
const (
	statusPending  = "pending"
	statusRunning  = "running"
	statusSuccess  = "success"
	statusFailed   = "failed"
	statusCanceled = "canceled"
	statusSkipped  = "skipped"
)

// plannedCommand is one command of an attempt and how it runs.
type plannedCommand struct {
	name         string
	skip         string   // why it does not run; "" = it runs
	excludeTests bool     // build with skip_tests
	retrySelect  []string // --select replacing the task's (re-run of failed nodes)
}

// taskCommands normalises the task's commands and applies skip_tests.
func taskCommands(c spec.DbtConfig) ([]plannedCommand, error) {
	names := c.Commands
	if len(names) == 0 {
		names = []string{"build"}
	}
	var out []plannedCommand
	for i, raw := range names {
		name := strings.Join(strings.Fields(raw), " ")
		if name == "ls" {
			name = "list"
		}
		if name == "" {
			return nil, task.Permanent(task.ErrConfig, "commands[%d] is empty: name a dbt command such as build", i)
		}
		pc := plannedCommand{name: name}
		if c.SkipTests {
			switch name {
			case "test":
				pc.skip = "skip_tests is set"
			case "build":
				pc.excludeTests = true
			}
		}
		out = append(out, pc)
	}
	return out, nil
}

// splitSelectors turns select/exclude entries into dbt arguments: an entry
// may hold several space-separated selectors (as a --param usually does),
// and an empty one (an unset parameter) selects nothing extra.
func splitSelectors(entries []string) []string {
	var out []string
	for _, e := range entries {
		out = append(out, strings.Fields(e)...)
	}
	return out
}

func progressLine(label string, p idbt.Progress) string {
	switch {
	case p.Completed && p.Total > 0:
		return fmt.Sprintf("%s: %d/%d nodes, finishing", label, p.Done, p.Total)
	case p.Total == 0 && p.Done == 0:
		if p.Found != "" {
			return fmt.Sprintf("%s: found %s", label, p.Found)
		}
		return label + ": starting"
	}
	total := p.Total
	if total < p.Done {
		total = p.Done
	}
	line := fmt.Sprintf("%s: %d/%d nodes", label, p.Done, total)
	if n, ok := p.Current(); ok {
		line += fmt.Sprintf(": %s.%s", n.ResourceType, n.Name)
	}
	return line
}

func counts(s idbt.Summary) Counts {
	return Counts{
		Total: s.Total, Success: s.Success, Pass: s.Pass, Warn: s.Warn, Fail: s.Fail,
		Error: s.Error, Skipped: s.Skipped, RuntimeError: s.RuntimeError, NoOp: s.NoOp,
	}
}

func nodeOutput(command string, n idbt.NodeResult) NodeOutput {
	return NodeOutput{
		UniqueID: n.UniqueID, Name: n.Name, ResourceType: n.ResourceType, Command: command,
		Status: string(n.Status), Message: shortMessage(n.Message), Failures: n.Failures,
		DurationMS: n.ExecutionTime.Milliseconds(),
	}
}

// shortMessage is the first non-empty line of a node message, at most 200
// characters.
func shortMessage(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			if r := []rune(line); len(r) > 200 {
				return string(r[:200]) + "..."
			}
			return line
		}
	}
	return ""
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// attemptDir creates this attempt's artifact folder:
// <ArtifactsDir>/<workflow id>/<run id>/<task>/attempt-<n>, with a suffix
// when Temporal runs the same attempt again after losing a worker, so the
// folder an earlier try left (and its details point to) stays intact.
func (a *Activities) attemptDir(ctx context.Context, m task.Meta) (string, error) {
	root := a.ArtifactsDir
	if root == "" {
		root = filepath.Join(os.TempDir(), "sluice-artifacts")
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("artifact folder %s: %w", a.ArtifactsDir, err)
	}
	name := fmt.Sprintf("attempt-%d", max(m.Attempt, 1))
	if activity.IsActivity(ctx) {
		if try := activity.GetInfo(ctx).Attempt; try > 1 {
			name += fmt.Sprintf(".%d", try)
		}
	}
	dir := filepath.Join(root, pathPart(m.WorkflowID), pathPart(m.RunID), pathPart(m.Task), name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating the artifact folder %s: %w", dir, err)
	}
	return dir, nil
}

// pathPart makes an id safe as one path element: "sluice/dbt_hourly/local"
// becomes "sluice_dbt_hourly_local".
func pathPart(s string) string {
	if s == "" {
		return "_"
	}
	out := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
	if strings.Trim(out, ".") == "" {
		out = strings.ReplaceAll(out, ".", "_")
	}
	return out
}

// resolveVars finishes --vars: string values may hold ${secret:...}.
func resolveVars(at *task.Attempt, vars map[string]any, inv *invocation) (map[string]any, error) {
	if len(vars) == 0 {
		return nil, nil
	}
	var walk func(v any) (any, error)
	walk = func(v any) (any, error) {
		switch x := v.(type) {
		case string:
			s, err := at.Resolve(x)
			if err != nil {
				return nil, err
			}
			if spec.HasSecretRef(x) {
				inv.secrets = append(inv.secrets, s)
			}
			return s, nil
		case map[string]any:
			m := make(map[string]any, len(x))
			for k, e := range x {
				r, err := walk(e)
				if err != nil {
					return nil, err
				}
				m[k] = r
			}
			return m, nil
		case []any:
			l := make([]any, len(x))
			for i, e := range x {
				r, err := walk(e)
				if err != nil {
					return nil, err
				}
				l[i] = r
			}
			return l, nil
		}
		return v, nil
	}
	out, err := walk(map[string]any(vars))
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

// resumeState is what an attempt records in its heartbeat details: where
// its artifacts are and how far each command got. It holds no secrets.
type resumeState struct {
	ArtifactDir string         `json:"artifact_dir"`
	Commit      string         `json:"commit,omitempty"`
	Commands    []commandState `json:"commands,omitempty"`
}

type commandState struct {
	Command string `json:"command"`
	Status  string `json:"status"`
	Dir     string `json:"dir,omitempty"` // the command's artifact folder
}

// planResume marks, from an earlier attempt's state, the commands that need
// not run again and the failed command's retry selection. It returns nil
// (run everything as configured) when the earlier attempt ran other
// commands, did not fail, or left no artifacts to read.
func planResume(commands []plannedCommand, prev *resumeState) *RetryInfo {
	if len(prev.Commands) != len(commands) {
		return nil
	}
	failed := -1
	for i, pc := range prev.Commands {
		if pc.Command != commands[i].name {
			return nil
		}
		if failed < 0 && (pc.Status == statusFailed || pc.Status == statusRunning) {
			failed = i
		}
	}
	if failed < 0 {
		return nil
	}
	if _, err := os.Stat(prev.ArtifactDir); err != nil {
		return nil // another host's attempt, or cleaned up: run everything
	}
	info := &RetryInfo{From: prev.ArtifactDir}
	for i := 0; i < failed; i++ {
		if prev.Commands[i].Status == statusSuccess && commands[i].skip == "" && !setupCommand(commands[i].name) {
			commands[i].skip = "done by the attempt this one resumes"
			info.Reused = append(info.Reused, commands[i].name)
		}
	}
	if prev.Commands[failed].Status == statusFailed && commands[failed].skip == "" {
		if sel := retrySelection(prev, failed); len(sel) > 0 {
			commands[failed].retrySelect = sel
			info.Command, info.Select = commands[failed].name, sel
		}
	}
	return info
}

// setupCommand reports whether a command prepares the checkout for the
// others and must run in every attempt.
func setupCommand(name string) bool {
	return name == "deps" || name == "clean"
}

// retrySelection reads the failed command's run_results.json and the
// newest manifest.json the earlier attempt stored up to that command.
func retrySelection(prev *resumeState, failed int) []string {
	dir := prev.Commands[failed].Dir
	if dir == "" {
		return nil
	}
	rrFile, err := os.Open(filepath.Join(dir, "run_results.json"))
	if err != nil {
		return nil
	}
	defer rrFile.Close()
	rr, err := idbt.ParseRunResults(rrFile)
	if err != nil || len(rr.Results) == 0 {
		return nil
	}
	for i := failed; i >= 0; i-- {
		d := prev.Commands[i].Dir
		if d == "" {
			continue
		}
		f, err := os.Open(filepath.Join(d, "manifest.json"))
		if err != nil {
			continue
		}
		m, err := idbt.ParseManifest(f)
		f.Close()
		if err != nil {
			continue
		}
		return idbt.RetrySelection(m, rr)
	}
	return nil
}
