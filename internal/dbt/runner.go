package dbt

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultGrace is how long Run waits after SIGINT before SIGKILL.
const DefaultGrace = 10 * time.Second

// Options configure one Run: a sequence of dbt commands on one project.
type Options struct {
	// Executable is the dbt executable, a path or a name looked up in PATH.
	// Default "dbt".
	Executable string
	// RequiredVersion, when set, is checked against `dbt --version` before
	// anything runs, e.g. ">=1.7,<2.0" (see CheckVersion).
	RequiredVersion string
	// ProjectDir is the folder holding dbt_project.yml. Required.
	ProjectDir string
	// ProfilesDir is the folder holding profiles.yml (see WriteProfile).
	// Empty leaves dbt to its default (~/.dbt or DBT_PROFILES_DIR).
	ProfilesDir string
	// Commands run in order; Run stops at the first that fails. Each is a
	// dbt command line head: "deps", "seed", "run", "build", "test",
	// "snapshot", "source freshness", "docs generate", "compile", "parse",
	// "retry", "debug", "clean", "list". Required.
	Commands []string
	// Select, Exclude and Selector become --select, --exclude and
	// --selector on the commands that take them. Selector cannot be
	// combined with Select or Exclude (dbt would ignore those).
	Select, Exclude []string
	Selector        string
	// Vars become --vars '<json>' on every command.
	Vars map[string]any
	// FullRefresh adds --full-refresh to run, build and seed.
	FullRefresh bool
	// Threads, when > 0, becomes --threads on the commands that take it.
	Threads int
	// Target, when set, becomes --target.
	Target string
	// Env is added to the worker's environment for the dbt process. Secrets
	// (passwords, tokens) go here and nowhere else: profiles.yml reads them
	// with env_var(). DBT_TARGET_PATH set here moves the artifacts folder.
	Env []string
	// ArtifactDir, when set, receives per command a folder NN_<command>
	// with the scrubbed log (dbt_log.jsonl, dbt_stderr.log) and scrubbed
	// copies of the manifest.json, run_results.json and sources.json that
	// the command wrote.
	ArtifactDir string
	// Secrets are replaced by Redacted in everything Run stores or returns:
	// logs, artifacts, node messages, errors, events, argv.
	Secrets []string
	// Grace is the time between SIGINT and SIGKILL when ctx is canceled.
	// Default DefaultGrace.
	Grace time.Duration
	// OnEvent receives every log event (secrets scrubbed) and OnProgress
	// every change of progress. Both are called from one goroutine, in
	// order, and must not block for long: dbt waits on its output pipe.
	OnEvent    func(Event)
	OnProgress func(Progress)
}

// CommandResult is the outcome of one dbt command.
type CommandResult struct {
	Command      string   // normalized, e.g. "source freshness"
	Args         []string // argv after the executable, secrets scrubbed
	ExitCode     int      // -1 when killed by a signal
	InvocationID string   // dbt's invocation_id, from the log
	DbtVersion   string   // from the log's MainReportVersion
	// Nodes are the node results, from run_results.json when the command
	// wrote one, else from the NodeFinished events of the log.
	Nodes []NodeResult
	// FromRunResults says whether Nodes came from run_results.json.
	FromRunResults bool
	Summary        Summary
	Artifacts      []string // files stored under Options.ArtifactDir
	Elapsed        time.Duration
}

// Result is the outcome of Run.
type Result struct {
	Version  string          // dbt version, from --version when checked, else from the log
	Commands []CommandResult // the commands that ran, the failing one last
	Nodes    []NodeResult    // every command's nodes, in order
	Failed   bool            // a command failed or Run was canceled
	Elapsed  time.Duration
}

// Run checks the dbt version if asked, then runs opts.Commands in order
// and stops at the first that fails. Its error is an *Error for dbt
// failures (see IsPermanent), or wraps ctx.Err() when ctx was canceled:
// dbt then gets SIGINT, and SIGKILL after opts.Grace, on its whole
// process group. The Result is filled in as far as Run got, error or not.
func Run(ctx context.Context, opts Options) (Result, error) {
	start := time.Now()
	var res Result
	fail := func(err error) (Result, error) {
		res.Failed = true
		res.Elapsed = time.Since(start)
		return res, err
	}
	scrub := NewScrubber(opts.Secrets)
	opts, err := opts.prepare()
	if err != nil {
		return fail(&Error{Kind: Config, Message: scrub.String(err.Error())})
	}
	exe, err := exec.LookPath(opts.Executable)
	if err != nil {
		return fail(&Error{Kind: Config, Message: scrub.String(fmt.Sprintf(
			"dbt executable %q not found (%v): install dbt on the worker or set Executable to its path", opts.Executable, err))})
	}
	if opts.RequiredVersion != "" {
		v, err := InstalledVersion(ctx, exe, opts.Env)
		if ctx.Err() != nil {
			return fail(fmt.Errorf("checking the dbt version: %w", ctx.Err()))
		}
		if err != nil {
			return fail(&Error{Kind: Version, Message: scrub.String(fmt.Sprintf(
				"reading the dbt version to check RequiredVersion %q: %v", opts.RequiredVersion, err))})
		}
		res.Version = v
		if err := CheckVersion(v, opts.RequiredVersion); err != nil {
			return fail(&Error{Kind: Version, Message: fmt.Sprintf(
				"%s is installed at %s but the task requires %q: %v; install a matching dbt on the worker or change the required version",
				v, exe, opts.RequiredVersion, err)})
		}
	}
	for i, command := range opts.Commands {
		if ctx.Err() != nil {
			return fail(fmt.Errorf("dbt %s not started: %w", command, ctx.Err()))
		}
		cr, err := runCommand(ctx, exe, i, command, opts, scrub)
		res.Commands = append(res.Commands, cr)
		res.Nodes = append(res.Nodes, cr.Nodes...)
		if res.Version == "" {
			res.Version = cr.DbtVersion
		}
		if err != nil {
			return fail(err)
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// prepare applies defaults, validates, and makes directories absolute (dbt
// runs with its working directory in the project).
func (o Options) prepare() (Options, error) {
	if o.Executable == "" {
		o.Executable = "dbt"
	}
	if o.Grace == 0 {
		o.Grace = DefaultGrace
	}
	if o.Grace < 0 {
		return o, fmt.Errorf("dbt options: Grace is %s: it must be positive (default %s)", o.Grace, DefaultGrace)
	}
	if o.Threads < 0 {
		return o, fmt.Errorf("dbt options: Threads is %d: use a positive number, or 0 for the profile's threads", o.Threads)
	}
	if o.ProjectDir == "" {
		return o, fmt.Errorf("dbt options: ProjectDir is empty: set it to the folder holding dbt_project.yml")
	}
	if len(o.Commands) == 0 {
		return o, fmt.Errorf("dbt options: Commands is empty: list the dbt commands to run, e.g. [\"deps\", \"build\"]")
	}
	if o.Selector != "" && (len(o.Select) > 0 || len(o.Exclude) > 0) {
		return o, fmt.Errorf("dbt options: Selector %q is set together with Select/Exclude: dbt ignores --select and --exclude when --selector is given; use one or the other", o.Selector)
	}
	cmds := make([]string, len(o.Commands))
	for i, c := range o.Commands {
		n, ok := normalizeCommand(c)
		if !ok {
			return o, fmt.Errorf("dbt options: Commands[%d] is %q: not a dbt command Sluice runs; use one of %s", i, c, knownCommands())
		}
		cmds[i] = n
	}
	o.Commands = cmds
	var err error
	if o.ProjectDir, err = filepath.Abs(o.ProjectDir); err != nil {
		return o, fmt.Errorf("dbt options: ProjectDir: %w", err)
	}
	if _, err := os.Stat(filepath.Join(o.ProjectDir, "dbt_project.yml")); err != nil {
		return o, fmt.Errorf("dbt options: ProjectDir %s has no readable dbt_project.yml (%v): point it at the dbt project folder", o.ProjectDir, err)
	}
	if o.ProfilesDir != "" {
		if o.ProfilesDir, err = filepath.Abs(o.ProfilesDir); err != nil {
			return o, fmt.Errorf("dbt options: ProfilesDir: %w", err)
		}
	}
	if o.ArtifactDir != "" {
		if o.ArtifactDir, err = filepath.Abs(o.ArtifactDir); err != nil {
			return o, fmt.Errorf("dbt options: ArtifactDir: %w", err)
		}
	}
	return o, nil
}

// targetDir is where dbt writes its artifacts: DBT_TARGET_PATH from
// Options.Env when set, else <project>/target. (A target-path in
// dbt_project.yml, deprecated since dbt 1.5, is not read.)
func (o Options) targetDir() string {
	dir := "target"
	for _, kv := range o.Env {
		if v, ok := strings.CutPrefix(kv, "DBT_TARGET_PATH="); ok && v != "" {
			dir = v
		}
	}
	if filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(o.ProjectDir, dir)
}

// artifactNames are the files copied from the target folder after each command.
var artifactNames = []string{"manifest.json", "run_results.json", "sources.json"}

type fileStamp struct {
	exists  bool
	modTime time.Time
	size    int64
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{exists: true, modTime: fi.ModTime(), size: fi.Size()}
}

// changed reports whether the file was written since before was taken: a
// leftover from an earlier run must not be mistaken for this command's.
func (after fileStamp) changed(before fileStamp) bool {
	return after.exists && (!before.exists || !after.modTime.Equal(before.modTime) || after.size != before.size)
}

func runCommand(ctx context.Context, exe string, idx int, command string, opts Options, scrub *Scrubber) (CommandResult, error) {
	cr := CommandResult{Command: command}
	args, err := commandArgs(command, opts)
	if err != nil {
		return cr, &Error{Kind: Config, Command: command, Message: scrub.String(err.Error())}
	}
	for _, a := range args {
		cr.Args = append(cr.Args, scrub.String(a))
	}
	spec, _ := specFor(command)
	target := opts.targetDir()
	before := map[string]fileStamp{}
	for _, name := range artifactNames {
		before[name] = stampOf(filepath.Join(target, name))
	}

	var artDir string
	var logFile *os.File
	if opts.ArtifactDir != "" {
		artDir = filepath.Join(opts.ArtifactDir, fmt.Sprintf("%02d_%s", idx+1, commandSlug(command)))
		if err := os.MkdirAll(artDir, 0o700); err != nil {
			return cr, fmt.Errorf("creating the artifact folder for dbt %s: %w", command, err)
		}
		if logFile, err = os.OpenFile(filepath.Join(artDir, "dbt_log.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err != nil {
			return cr, fmt.Errorf("creating the dbt log file: %w", err)
		}
		defer logFile.Close()
	}

	tracker := NewTracker()
	var logW *bufio.Writer
	if logFile != nil {
		logW = bufio.NewWriterSize(logFile, 64<<10)
	}
	var writeErr error
	stdout := &lineWriter{onLine: func(line []byte) {
		line = scrub.Bytes(line)
		if logW != nil && writeErr == nil {
			if _, writeErr = logW.Write(line); writeErr == nil {
				writeErr = logW.WriteByte('\n')
			}
		}
		ev := ParseEvent(line)
		if opts.OnEvent != nil {
			opts.OnEvent(ev)
		}
		if tracker.Observe(ev) && opts.OnProgress != nil {
			p := tracker.Progress()
			p.Command, p.CommandIndex, p.CommandCount = command, idx+1, len(opts.Commands)
			opts.OnProgress(p)
		}
	}}
	stderr := &tailWriter{max: 30, scrub: scrub}
	if artDir != "" {
		stderr.path = filepath.Join(artDir, "dbt_stderr.log")
	}
	defer stderr.close()

	cmd := exec.Command(exe, args...)
	cmd.Dir = opts.ProjectDir
	cmd.Env = append(os.Environ(), opts.Env...)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	start := time.Now()
	canceled, err := runInGroup(ctx, cmd, opts.Grace)
	if err != nil {
		return cr, &Error{Kind: Config, Command: command, ExitCode: -1, Message: scrub.String(fmt.Sprintf(
			"starting dbt %s (%s): %v; check that Executable is a working dbt", command, exe, err))}
	}
	stdout.flush()
	stderr.flush()
	stderr.close()
	if logW != nil && writeErr == nil {
		writeErr = logW.Flush()
	}
	cr.Elapsed = time.Since(start)
	cr.ExitCode = cmd.ProcessState.ExitCode()

	prog := tracker.Progress()
	cr.InvocationID = prog.InvocationID
	cr.DbtVersion = prog.DbtVersion

	// Node results: run_results.json when this command wrote it, else the log.
	var rrErr error
	if spec.runResults {
		rrPath := filepath.Join(target, "run_results.json")
		after := stampOf(rrPath)
		if after.exists {
			rr, err := readRunResults(rrPath, scrub)
			fresh := after.changed(before["run_results.json"]) || (rr != nil && rr.InvocationID != "" && rr.InvocationID == prog.InvocationID)
			switch {
			case err != nil && fresh:
				rrErr = err
			case err == nil && fresh:
				cr.Nodes = rr.Results
				cr.FromRunResults = true
			}
		}
	}
	if !cr.FromRunResults {
		cr.Nodes = append([]NodeResult(nil), prog.Results...)
	} else {
		enrichNames(cr.Nodes, prog.Results)
	}
	cr.Summary = Summarize(cr.Nodes)

	// Scrubbed copies of what this command wrote.
	if artDir != "" {
		for _, name := range artifactNames {
			src := filepath.Join(target, name)
			if !stampOf(src).changed(before[name]) {
				continue
			}
			dst := filepath.Join(artDir, name)
			if err := copyScrubbed(dst, src, scrub); err != nil {
				return cr, fmt.Errorf("storing dbt %s artifact %s: %w", command, name, err)
			}
			cr.Artifacts = append(cr.Artifacts, dst)
		}
		cr.Artifacts = append(cr.Artifacts, logFile.Name())
		if stderr.file != nil {
			cr.Artifacts = append(cr.Artifacts, stderr.path)
		}
		if writeErr == nil {
			writeErr = stderr.writeErr
		}
		if writeErr != nil {
			return cr, fmt.Errorf("storing the dbt %s log: %w", command, writeErr)
		}
	}

	if canceled {
		return cr, fmt.Errorf("dbt %s canceled after %s (exit code %d): %w", command, cr.Elapsed.Round(time.Millisecond), cr.ExitCode, ctx.Err())
	}
	if cr.ExitCode == 0 {
		if rrErr != nil {
			return cr, &Error{Kind: Fatal, Command: command, Message: fmt.Sprintf(
				"dbt %s succeeded but its run_results.json cannot be read: %v", command, rrErr)}
		}
		return cr, nil
	}
	return cr, classify(classifyInput{
		command:  command,
		exitCode: cr.ExitCode,
		nodes:    cr.Nodes,
		errors:   firstNonEmptySlice(prog.Errors, tracker.recent),
		stderr:   stderr.tail(),
	})
}

// runInGroup starts cmd as the leader of a new process group and waits for
// it. When ctx is done it sends SIGINT to the group (dbt cancels its
// queries and exits), then SIGKILL after grace. Whatever is left of the
// group when dbt has exited is killed. It reports whether ctx ended the
// process; the error is only for a process that could not start.
func runInGroup(ctx context.Context, cmd *exec.Cmd, grace time.Duration) (canceled bool, err error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// If dbt exits but something it started keeps the pipes open, do not
	// wait for it longer than the grace period.
	cmd.WaitDelay = grace
	if err := cmd.Start(); err != nil {
		return false, err
	}
	pgid := cmd.Process.Pid
	var wasCanceled atomic.Bool
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-stop:
			return
		case <-ctx.Done():
		}
		wasCanceled.Store(true)
		_ = syscall.Kill(-pgid, syscall.SIGINT)
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-stop:
		case <-t.C:
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
	}()
	// The exit status is read from cmd.ProcessState: neither a non-zero
	// exit nor exec.ErrWaitDelay (a leftover holding the pipes) is an
	// error here.
	_ = cmd.Wait()
	close(stop)
	<-stopped
	// Nothing dbt started may outlive it: kill what is left of the group
	// (normally nothing, and the call fails with ESRCH).
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	return wasCanceled.Load(), nil
}

func readRunResults(path string, scrub *Scrubber) (*RunResults, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	rr, err := ParseRunResults(bytes.NewReader(scrub.Bytes(b)))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return rr, nil
}

// enrichNames gives run_results nodes the names the log knew them by.
func enrichNames(nodes, fromLog []NodeResult) {
	byID := make(map[string]NodeResult, len(fromLog))
	for _, n := range fromLog {
		byID[n.UniqueID] = n
	}
	for i := range nodes {
		if l, ok := byID[nodes[i].UniqueID]; ok {
			if l.Name != "" {
				nodes[i].Name = l.Name
			}
			if l.ResourceType != "" {
				nodes[i].ResourceType = l.ResourceType
			}
		}
	}
}

func copyScrubbed(dst, src string, scrub *Scrubber) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	_, err = scrub.Copy(out, in)
	return err
}

// lineWriter hands each complete line written to it to onLine. The slice
// is only valid during the call.
type lineWriter struct {
	buf    []byte
	onLine func([]byte)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	start := 0
	for {
		i := bytes.IndexByte(w.buf[start:], '\n')
		if i < 0 {
			break
		}
		w.onLine(w.buf[start : start+i])
		start += i + 1
	}
	w.buf = append(w.buf[:0], w.buf[start:]...)
	return len(p), nil
}

func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.onLine(w.buf)
		w.buf = w.buf[:0]
	}
}

// tailWriter keeps the last max lines of stderr (scrubbed) and, when path
// is set, writes every line to that file, created on the first line.
type tailWriter struct {
	max      int
	scrub    *Scrubber
	path     string
	file     *os.File
	closed   bool
	partial  []byte
	last     []string
	writeErr error
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(w.partial[:i])
		w.partial = w.partial[i+1:]
	}
	w.partial = append([]byte(nil), w.partial...)
	return len(p), nil
}

func (w *tailWriter) line(b []byte) {
	b = w.scrub.Bytes(bytes.TrimRight(b, "\r"))
	if w.path != "" && w.file == nil && w.writeErr == nil {
		w.file, w.writeErr = os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	}
	if w.file != nil && w.writeErr == nil {
		_, w.writeErr = w.file.Write(append(append([]byte(nil), b...), '\n'))
	}
	w.last = append(w.last, string(b))
	if len(w.last) > w.max {
		w.last = w.last[len(w.last)-w.max:]
	}
}

func (w *tailWriter) flush() {
	if len(w.partial) > 0 {
		w.line(w.partial)
		w.partial = nil
	}
}

// close closes the file, once; the file field stays set to say it exists.
func (w *tailWriter) close() {
	if w.file != nil && !w.closed {
		w.closed = true
		if err := w.file.Close(); err != nil && w.writeErr == nil {
			w.writeErr = err
		}
	}
}

func (w *tailWriter) tail() string {
	return strings.TrimSpace(strings.Join(w.last, "\n"))
}

func firstNonEmptySlice(a, b []string) []string {
	if len(a) > 0 {
		return a
	}
	return b
}
