package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicedata/sluice/internal/spec"
)

func newValidateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check sluice.yaml and every pipeline in every environment",
		Long: `Check sluice.yaml and every pipeline as it runs in every environment. Each
problem is printed as file:line:column: field: message (hint). Exits 1 when
there are errors; warnings alone exit 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := g.loadProject()
			if err != nil {
				return err
			}
			diags := p.Validate()
			diags = append(diags, g.dbtSelectionWarnings(cmd.Context(), p)...)
			if g.json() {
				out := struct {
					Valid       bool             `json:"valid"`
					Diagnostics spec.Diagnostics `json:"diagnostics"`
				}{!diags.HasErrors(), diags}
				if out.Diagnostics == nil {
					out.Diagnostics = spec.Diagnostics{}
				}
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(out); err != nil {
					return err
				}
			} else {
				printDiagnostics(g.stdout, diags)
			}
			if diags.HasErrors() {
				if !g.json() {
					fmt.Fprintf(g.stdout, "%d error(s), %d warning(s)\n", len(diags.Errors()), len(diags.Warnings()))
				}
				return ExitError{ExitFailed}
			}
			if !g.json() {
				fmt.Fprintf(g.stdout, "ok: project %s, %d pipeline(s), %d environment(s), %d warning(s)\n",
					p.Config.Project, len(p.Pipelines), len(p.Config.Environments), len(diags.Warnings()))
			}
			return nil
		},
	}
}

func newSchemaCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "schema [project|pipeline]",
		Short: "Print the JSON Schema of sluice.yaml (project) or of pipeline files",
		Long: `Print the JSON Schema of sluice.yaml (project) or of pipeline files (default),
generated from the Go types. Point your editor at it, e.g. with the YAML
language server: # yaml-language-server: $schema=pipeline.schema.json`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"project", "pipeline"},
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := "pipeline"
			if len(args) == 1 {
				kind = args[0]
			}
			b, err := spec.Schema(kind)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(g.stdout, string(b))
			return err
		},
	}
}
