package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	adbt "github.com/sluicedata/sluice/activities/dbt"
	idbt "github.com/sluicedata/sluice/internal/dbt"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/store"
	"github.com/sluicedata/sluice/workflows"
)

func newDbtCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dbt",
		Short: "Refresh dbt projects' manifests and list their models",
		Long: `Work with the dbt projects of sluice.yaml (dbt_projects).

  refresh  checks a project out on a worker (queue sluice-dbt), runs dbt parse
           with the environment's generated profile, and keeps manifest.json,
           the commit and the model list in run history
  models   lists the models of the latest stored manifest, or of any
           manifest.json (--manifest)`,
	}
	cmd.AddCommand(newDbtRefreshCmd(g), newDbtModelsCmd(g))
	return cmd
}

// DbtRefreshWorkflowID is the id of a project's refresh in an environment.
// A refresh started while one runs joins it.
func DbtRefreshWorkflowID(project, env string) string {
	return fmt.Sprintf("sluice/dbt-refresh/%s/%s", project, env)
}

func newDbtRefreshCmd(g *globals) *cobra.Command {
	var env string
	var wait bool
	cmd := &cobra.Command{
		Use:   "refresh <dbt project>",
		Short: "Check a dbt project out, run dbt parse, and store its manifest and models",
		Long: `Start a RefreshDbtProject workflow: a worker serving sluice-dbt checks the
project out (git or local folder), runs dbt parse with the environment's
generated profile, and stores manifest.json with the commit and the model list
in run history. The workflow id is sluice/dbt-refresh/<project>/<env>; a
refresh started while one runs joins it. With --wait, the models are listed
when it ends.`,
		Example: `  sluice dbt refresh olist_dbt --wait
  sluice dbt refresh olist_dbt --env prod`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			name := args[0]
			if p, err := g.loadProject(); err == nil {
				if _, ok := p.Config.DbtProjects[name]; !ok {
					return unknownDbtProject(p, name)
				}
				if env == "" {
					env = p.DefaultEnv()
				}
				if _, ok := p.Config.Environments[env]; !ok {
					return fmt.Errorf("unknown environment %q (environments: %s)", env, strings.Join(p.EnvNames(), ", "))
				}
			} else if env == "" {
				return fmt.Errorf("%w (or pass --env so the worker can refresh the project)", err)
			}
			c, err := g.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			id := DbtRefreshWorkflowID(name, env)
			we, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID:                       id,
				TaskQueue:                spec.QueueDefault,
				WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
				WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
				StaticSummary:            fmt.Sprintf("dbt refresh · %s · %s", name, env),
			}, workflows.RefreshDbtProjectName, workflows.RefreshDbtProjectInput{Project: name, Env: env})
			if err != nil {
				return fmt.Errorf("starting %s: %w", id, err)
			}
			if !wait {
				if g.json() {
					return writeJSON(g.stdout, map[string]string{"workflow_id": we.GetID(), "run_id": we.GetRunID()})
				}
				fmt.Fprintf(g.stdout, "started %s (run %s)\nthen: sluice dbt models %s\n", we.GetID(), we.GetRunID(), name)
				return nil
			}
			var res adbt.RefreshResult
			if err := we.Get(ctx, &res); err != nil {
				var ae *temporal.ApplicationError
				if errors.As(err, &ae) {
					return fmt.Errorf("%s (%s)", ae.Message(), ae.Type())
				}
				return fmt.Errorf("refreshing %s: %w", name, err)
			}
			if g.json() {
				return writeJSON(g.stdout, res)
			}
			fmt.Fprintf(g.stdout, "refreshed %s in %s: %s, %s\n", res.Project, res.Env, describeCommit(res.Commit, res.Ref), plural(res.ModelCount, "model"))
			if res.ModelCount > len(res.Models) {
				fmt.Fprintf(g.stdout, "(listing %d of %d: sluice dbt models %s lists them all)\n", len(res.Models), res.ModelCount, name)
			}
			return writeModels(g.stdout, res.Models)
		},
	}
	cmd.Flags().StringVar(&env, "env", "", "environment whose profile dbt parses with (default: the project's default)")
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "wait for the refresh and list the models")
	return cmd
}

// modelsView is what `sluice dbt models -o json` prints.
type modelsView struct {
	Project       string          `json:"project,omitempty"`
	Env           string          `json:"env,omitempty"`
	Manifest      string          `json:"manifest,omitempty"`
	Commit        string          `json:"commit,omitempty"`
	Ref           string          `json:"ref,omitempty"`
	DbtVersion    string          `json:"dbt_version,omitempty"`
	SchemaVersion int             `json:"schema_version"`
	DbtProject    string          `json:"dbt_project_name,omitempty"`
	RefreshedAt   *time.Time      `json:"refreshed_at,omitempty"`
	Models        []store.DbtNode `json:"models"`
}

func newDbtModelsCmd(g *globals) *cobra.Command {
	var env, manifest string
	cmd := &cobra.Command{
		Use:   "models [<dbt project>]",
		Short: "List the models of a dbt project's latest stored manifest, or of a manifest.json",
		Long: `List the models (name, materialization, tags, path, parents) of the latest
manifest RefreshDbtProject stored for a dbt project of sluice.yaml, or of any
dbt manifest.json (schema v4, dbt 1.0, or later) with --manifest.`,
		Example: `  sluice dbt models olist_dbt
  sluice dbt models olist_dbt -o json
  sluice dbt models --manifest target/manifest.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var v modelsView
			switch {
			case manifest != "" && len(args) == 1:
				return errors.New("give a dbt project or --manifest, not both")
			case manifest != "":
				f, err := os.Open(manifest)
				if err != nil {
					return fmt.Errorf("reading the manifest: %w", err)
				}
				defer f.Close()
				m, err := idbt.ParseManifest(f)
				if err != nil {
					return fmt.Errorf("%s: %w", manifest, err)
				}
				v = modelsView{Manifest: manifest, DbtVersion: m.DbtVersion, SchemaVersion: m.SchemaVersion, DbtProject: m.ProjectName,
					Models: modelsOf(adbt.StoreNodes(m))}
			case len(args) == 1:
				p, err := g.loadProject()
				if err != nil {
					return err
				}
				if _, ok := p.Config.DbtProjects[args[0]]; !ok {
					return unknownDbtProject(p, args[0])
				}
				s, err := g.openStore(cmd.Context())
				if err != nil {
					return err
				}
				defer s.Close()
				m, err := s.LatestDbtManifest(cmd.Context(), p.Config.Project, args[0], env)
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no stored manifest for dbt project %s%s: run `sluice dbt refresh %s --wait` first", args[0], inEnv(env), args[0])
				}
				if err != nil {
					return err
				}
				created := m.CreatedAt
				v = modelsView{Project: m.DbtProject, Env: m.Env, Commit: m.Commit, Ref: m.Ref, DbtVersion: m.DbtVersion,
					SchemaVersion: m.SchemaVersion, RefreshedAt: &created, Models: m.Models()}
			default:
				return errors.New("name a dbt project of sluice.yaml, or give --manifest <manifest.json>")
			}
			if v.Models == nil {
				v.Models = []store.DbtNode{}
			}
			if g.json() {
				return writeJSON(g.stdout, v)
			}
			if v.Manifest != "" {
				name := v.DbtProject
				if name == "" {
					name = "a dbt project"
				}
				fmt.Fprintf(g.stdout, "%s: manifest v%d of %s (dbt %s), %s\n", v.Manifest, v.SchemaVersion, name, v.DbtVersion, plural(len(v.Models), "model"))
			} else {
				fmt.Fprintf(g.stdout, "%s in %s: %s, dbt %s, refreshed %s, %s\n", v.Project, v.Env, describeCommit(v.Commit, v.Ref),
					v.DbtVersion, v.RefreshedAt.Local().Format("2006-01-02 15:04:05"), plural(len(v.Models), "model"))
			}
			return writeModels(g.stdout, v.Models)
		},
	}
	cmd.Flags().StringVar(&env, "env", "", "only manifests refreshed in this environment (default: any)")
	cmd.Flags().StringVar(&manifest, "manifest", "", "list the models of this manifest.json instead")
	return cmd
}

func modelsOf(nodes []store.DbtNode) []store.DbtNode {
	m := store.DbtManifest{Nodes: nodes}
	return m.Models()
}

// writeModels prints models as a table.
func writeModels(w io.Writer, models []store.DbtNode) error {
	if len(models) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tMATERIALIZED\tTAGS\tPATH\tPARENTS")
	for _, m := range models {
		name := m.Name
		if m.Version != "" {
			name += ".v" + m.Version
		}
		parents := make([]string, len(m.Parents))
		for i, p := range m.Parents {
			parents[i] = shortNodeName(p)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, orDash(m.Materialized), orDash(strings.Join(m.Tags, ",")),
			orDash(m.Path), orDash(strings.Join(parents, ",")))
	}
	return tw.Flush()
}

// shortNodeName turns a unique_id into what a user calls the node:
// model.shop.orders -> orders, source.shop.raw.orders -> raw.orders.
func shortNodeName(id string) string {
	parts := strings.Split(id, ".")
	switch {
	case len(parts) >= 4 && parts[0] == "source":
		return parts[2] + "." + strings.Join(parts[3:], ".")
	case len(parts) >= 3:
		return strings.Join(parts[2:], ".")
	}
	return id
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func describeCommit(commit, ref string) string {
	switch {
	case commit == "":
		return "no commit (local folder outside git)"
	case ref != "":
		return fmt.Sprintf("commit %.12s (%s)", commit, strings.TrimPrefix(strings.TrimPrefix(ref, "refs/heads/"), "refs/tags/"))
	}
	return fmt.Sprintf("commit %.12s", commit)
}

func inEnv(env string) string {
	if env == "" {
		return ""
	}
	return " in " + env
}

func unknownDbtProject(p *spec.Project, name string) error {
	if len(p.Config.DbtProjects) == 0 {
		return fmt.Errorf("unknown dbt project %q: %s has no dbt_projects", name, spec.ProjectFile)
	}
	return fmt.Errorf("unknown dbt project %q (dbt_projects: %s)", name, strings.Join(sortedKeys(p.Config.DbtProjects), ", "))
}

// dbtSelectionWarnings checks the `select` entries of dbt tasks against the
// latest stored manifest of their project, as every environment plans them.
// It is silent when the history database cannot be reached or holds no
// manifest: the check is a help, not a gate.
func (g *globals) dbtSelectionWarnings(ctx context.Context, p *spec.Project) spec.Diagnostics {
	var files []*spec.PipelineFile
	for _, pf := range p.Pipelines {
		if hasDbtTask(pf) {
			files = append(files, pf)
		}
	}
	if len(files) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := g.openStore(ctx)
	if err != nil {
		return nil
	}
	defer s.Close()
	manifests := map[string]*store.DbtManifest{}
	manifest := func(name string) *store.DbtManifest {
		if m, ok := manifests[name]; ok {
			return m
		}
		m, err := s.LatestDbtManifest(ctx, p.Config.Project, name, "")
		if err != nil {
			m = nil
		}
		manifests[name] = m
		return m
	}
	var diags spec.Diagnostics
	for _, pf := range files {
		for _, env := range p.EnvNames() {
			plan, err := p.Plan(spec.PlanRequest{Pipeline: pf.Spec.Name, Env: env, Getenv: g.lookupEnv})
			if err != nil {
				continue
			}
			_, _, pos, _ := pf.Effective(env)
			for i, t := range plan.Tasks {
				if t.Type != "dbt" {
					continue
				}
				var c spec.DbtConfig
				if spec.DecodeValue(t.With, &c) != nil {
					continue
				}
				m := manifest(c.Project)
				if m == nil {
					continue
				}
				for j, entry := range c.Select {
					for _, sel := range strings.Fields(entry) {
						if matched, known := matchSelector(m.Nodes, sel); matched || !known {
							continue
						}
						field := fmt.Sprintf("tasks[%d].with.select[%d]", i, j)
						diags = append(diags, spec.Diagnostic{
							Pos:   positionOf(pos, field, pf.File),
							Field: field,
							Message: fmt.Sprintf("dbt selector %q matches no node of dbt project %s (manifest at %s, refreshed %s)",
								sel, c.Project, describeCommit(m.Commit, m.Ref), m.CreatedAt.Local().Format("2006-01-02 15:04")),
							Hint:     fmt.Sprintf("`sluice dbt models %s` lists the models; `sluice dbt refresh %s` updates the manifest", c.Project, c.Project),
							Severity: spec.SeverityWarning,
						})
					}
				}
			}
		}
	}
	return diags.Sorted()
}

func hasDbtTask(pf *spec.PipelineFile) bool {
	for _, t := range pf.Spec.Tasks {
		if t.Type == "dbt" {
			return true
		}
	}
	return false
}

// positionOf returns the position of a field, or of the closest enclosing
// one that has one (values inside `with:` have none of their own).
func positionOf(pos map[string]spec.Pos, field, file string) spec.Pos {
	for f := field; f != ""; {
		if p, ok := pos[f]; ok && p.Line > 0 {
			return p
		}
		i := strings.LastIndexAny(f, ".[")
		if i <= 0 {
			break
		}
		f = f[:i]
	}
	return spec.Pos{File: file}
}

// dbtSummary is the one line about a dbt task's output: its nodes by
// status and the commit, e.g. "5 nodes: 4 success, 1 skipped; commit 1a2b3c4d5e6f".
func dbtSummary(o map[string]any) string {
	sum, _ := o["summary"].(map[string]any)
	var parts []string
	for _, k := range []string{"success", "pass", "warn", "fail", "error", "skipped", "runtime_error", "no_op"} {
		if n := num(sum[k]); n != "0" {
			parts = append(parts, n+" "+strings.ReplaceAll(k, "_", " "))
		}
	}
	s := plural(sum["total"], "node")
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	if cmds, ok := o["commands"].([]any); ok && num(sum["total"]) == "0" {
		skipped := 0
		for _, c := range cmds {
			if m, _ := c.(map[string]any); m["status"] == "skipped" {
				skipped++
			}
		}
		if skipped == len(cmds) && skipped > 0 {
			s = "nothing run (" + fmt.Sprint(cmds[0].(map[string]any)["reason"]) + ")"
		}
	}
	if c, _ := o["commit"].(string); c != "" {
		s += fmt.Sprintf("; commit %.12s", c)
	}
	if r, ok := o["retry"].(map[string]any); ok && r["command"] != nil {
		s += fmt.Sprintf("; re-ran the failed nodes of %v", r["command"])
	}
	return s
}
