package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/spec"
)

type runFlags struct {
	env    string
	params []string
	only   []string
	date   string
}

func (f *runFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.env, "env", "e", "", "environment (default: the project's default_env)")
	cmd.Flags().StringArrayVarP(&f.params, "param", "p", nil, "parameter override k=v (repeatable)")
	cmd.Flags().StringSliceVar(&f.only, "only", nil, "run only these tasks (comma-separated or repeated)")
	cmd.Flags().StringVar(&f.date, "date", "", "logical date YYYY-MM-DD or RFC 3339 time (default: now)")
}

func (f *runFlags) paramMap() (map[string]any, error) {
	if len(f.params) == 0 {
		return nil, nil
	}
	out := map[string]any{}
	for _, kv := range f.params {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--param %q: write key=value", kv)
		}
		out[k] = v
	}
	return out, nil
}

func newPlanCmd(g *globals) *cobra.Command {
	var f runFlags
	var format string
	cmd := &cobra.Command{
		Use:   "plan <pipeline>",
		Short: "Show what a run would do: tasks, dependencies, queues, timeouts, retries",
		Long: `Resolve a pipeline for an environment exactly as a run would (overlays,
parameters, references) and print the plan. --format mermaid prints the DAG
as a Mermaid flowchart; json prints the plan the workflow receives.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := g.loadProject()
			if err != nil {
				return err
			}
			params, err := f.paramMap()
			if err != nil {
				return err
			}
			logical := time.Now().UTC()
			if f.date != "" {
				if logical, err = run.ParseLogicalDate(f.date); err != nil {
					return err
				}
			}
			plan, err := p.Plan(spec.PlanRequest{Pipeline: args[0], Env: f.env, Params: params, Only: f.only, Getenv: g.lookupEnv,
				Run: spec.RunVars{ID: "<run id>", WorkflowID: "<workflow id>", Trigger: "MANUAL", LogicalDate: logical, StartTime: logical}})
			if err != nil {
				return err
			}
			if g.json() {
				format = "json"
			}
			switch format {
			case "json":
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(plan)
			case "mermaid":
				fmt.Fprint(g.stdout, Mermaid(plan))
				return nil
			case "text", "":
				printPlan(g, plan)
				return nil
			}
			return fmt.Errorf("--format %q: use text, mermaid or json", format)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "text, mermaid or json")
	return cmd
}

func printPlan(g *globals, p *spec.Plan) {
	fmt.Fprintf(g.stdout, "pipeline %s (%s) in %s [engine %s], plan %s\n", p.Pipeline, p.File, p.Env, p.Target.Engine, p.Hash)
	fmt.Fprintf(g.stdout, "timeout %s, max %d tasks in parallel\n", p.Timeout, p.MaxParallel)
	if len(p.Params) > 0 {
		var kv []string
		for _, k := range sortedKeys(p.Params) {
			kv = append(kv, fmt.Sprintf("%s=%v", k, p.Params[k]))
		}
		fmt.Fprintf(g.stdout, "params: %s\n", strings.Join(kv, " "))
	}
	fmt.Fprintln(g.stdout)
	tw := tabwriter.NewWriter(g.stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK\tTYPE\tDEPENDS ON\tRUN IF\tQUEUE\tTIMEOUT\tATTEMPTS\tNOTE")
	for _, t := range p.Tasks {
		note := ""
		switch {
		case t.Excluded:
			note = "excluded"
		case t.Disabled:
			note = "disabled"
		}
		deps := strings.Join(t.DependsOn, ",")
		if deps == "" {
			deps = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", t.Key, t.Type, deps, t.RunIf, t.Queue, t.Timeout, t.Retry.Attempts, note)
	}
	tw.Flush()
	for _, w := range p.Warnings {
		fmt.Fprintln(g.stderr, w)
	}
}

// Mermaid renders a plan's DAG as a Mermaid flowchart.
func Mermaid(p *spec.Plan) string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for _, t := range p.Tasks {
		label := t.Key + "<br/><small>" + t.Type + "</small>"
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", t.Key, label)
		if t.Disabled || t.Excluded {
			fmt.Fprintf(&b, "  style %s stroke-dasharray: 5 5\n", t.Key)
		}
	}
	for _, t := range p.Tasks {
		for _, d := range t.DependsOn {
			if t.RunIf != "" && t.RunIf != "ALL_SUCCESS" {
				fmt.Fprintf(&b, "  %s -- %s --> %s\n", d, t.RunIf, t.Key)
			} else {
				fmt.Fprintf(&b, "  %s --> %s\n", d, t.Key)
			}
		}
	}
	return b.String()
}
