// Package cli is the `sluice` command: validate and plan pipelines, start
// and watch runs, read run history. Each command parses its flags, builds
// what it needs (a project, a Temporal client, the history store) and calls
// one function; errors are one line saying what to do.
package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/store"
)

// Exit codes of `sluice run --wait` and `sluice status --wait`.
const (
	ExitOK                  = 0
	ExitFailed              = 1 // FAILED, TIMEDOUT, CANCELED, or a command error
	ExitSuccessWithFailures = 2
	ExitUsage               = 64
)

// ExitError carries an exit code without printing anything more.
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit %d", e.Code) }

// globals are the flags every command shares.
type globals struct {
	project         string
	temporalAddress string
	namespace       string
	databaseURL     string
	output          string
	stdout, stderr  io.Writer
	getenv          func(string) string
}

// NewRoot builds the command tree.
func NewRoot(stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr, getenv: getenv}
	root := &cobra.Command{
		Use:   "sluice",
		Short: "Run lakehouse pipelines as durable Temporal workflows",
		Long: `sluice validates and plans pipelines, starts and watches runs on Temporal, and
reads run history from Postgres. Workers (sluice-worker) do the work.

Quick start:
  sluice validate --project examples/olist
  sluice run olist_daily --env local --wait --project examples/olist

Environment: SLUICE_PROJECT, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATABASE_URL.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&g.project, "project", envOr(getenv, "SLUICE_PROJECT", "."), "project folder holding sluice.yaml")
	pf.StringVar(&g.temporalAddress, "temporal-address", envOr(getenv, "TEMPORAL_ADDRESS", "127.0.0.1:7233"), "Temporal frontend host:port")
	pf.StringVar(&g.namespace, "namespace", envOr(getenv, "TEMPORAL_NAMESPACE", "default"), "Temporal namespace")
	pf.StringVar(&g.databaseURL, "database-url", envOr(getenv, "DATABASE_URL", store.DefaultURL), "run history Postgres URL")
	pf.StringVarP(&g.output, "output", "o", "text", "output format: text or json")

	root.AddCommand(
		newValidateCmd(g),
		newPlanCmd(g),
		newRunCmd(g),
		newStatusCmd(g),
		newCancelCmd(g),
		newRepairCmd(g),
		newRunsCmd(g),
		newRunInfoCmd(g),
		newLogsCmd(g),
		newStatsCmd(g),
		newSchemaCmd(g),
		newDbtCmd(g),
		newApplyCmd(g),
		newSchedulesCmd(g),
		newPauseCmd(g, true),
		newPauseCmd(g, false),
		newTriggerCmd(g),
		newBackfillCmd(g),
	)
	return root
}

// Execute runs the CLI and returns the process exit code.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	root := NewRoot(stdout, stderr, getenv)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if e, ok := err.(ExitError); ok {
		return e.Code
	}
	fmt.Fprintln(stderr, "sluice:", err)
	if strings.Contains(err.Error(), "unknown command") || strings.Contains(err.Error(), "unknown flag") || strings.Contains(err.Error(), "accepts ") {
		return ExitUsage
	}
	return ExitFailed
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func (g *globals) loadProject() (*spec.Project, error) {
	p, err := spec.Load(g.project)
	if p != nil {
		p.Getenv = g.lookupEnv
	}
	return p, err
}

func (g *globals) dial(ctx context.Context) (client.Client, error) {
	c, err := client.DialContext(ctx, client.Options{HostPort: g.temporalAddress, Namespace: g.namespace, Logger: quietLogger{}})
	if err != nil {
		return nil, fmt.Errorf("connecting to Temporal at %s: %w (is it running? `make dev-server` starts one; --temporal-address sets it)", g.temporalAddress, err)
	}
	return c, nil
}

func (g *globals) openStore(ctx context.Context) (*store.Store, error) {
	return store.Connect(ctx, g.databaseURL)
}

func (g *globals) json() bool { return g.output == "json" }

// lookupEnv adapts the CLI's environment for ${env:VAR} when planning.
func (g *globals) lookupEnv(k string) (string, bool) {
	v := g.getenv(k)
	return v, v != ""
}

// quietLogger drops the SDK's client logs: the CLI reports errors itself.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

// printDiagnostics prints diagnostics one per line.
func printDiagnostics(w io.Writer, ds spec.Diagnostics) {
	for _, d := range ds {
		fmt.Fprintln(w, d.String())
	}
}
