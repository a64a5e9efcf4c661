package dbt

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// commandSpec says which of Options' flags a dbt command accepts, following
// dbt-core's click definitions (core/dbt/cli/main.py). Flags a
// command does not accept are left out rather than rejected, so one Options
// can drive "deps" then "build".
//
//	command          --target --threads --select/--exclude/--selector --full-refresh  run_results.json
//	deps                                                                                 no
//	debug            yes                                                                 no
//	clean                                                                                no
//	parse            yes      yes                                                        no (manifest.json)
//	list (ls)        yes               yes                                               no
//	compile          yes      yes      yes                                               yes
//	docs generate    yes      yes      yes                                               yes
//	source freshness yes      yes      yes                                               no (sources.json)
//	seed             yes      yes      yes                         yes                   yes
//	run              yes      yes      yes                         yes                   yes
//	build            yes      yes      yes                         yes                   yes
//	test             yes      yes      yes                                               yes
//	snapshot         yes      yes      yes                                               yes
//	retry            yes      yes                                                        yes
//
// Every command gets --project-dir, --profiles-dir (when set) and --vars
// (when set). deps and clean get no --target: they run without a profile.
// retry re-uses the selection and flags of the run it retries.
type commandSpec struct {
	target, threads, selection, fullRefresh bool
	runResults                              bool
}

// specFor returns the flags of a normalized command, and false for a
// command Run does not run.
func specFor(command string) (commandSpec, bool) {
	switch command {
	case "deps", "clean":
		return commandSpec{}, true
	case "debug":
		return commandSpec{target: true}, true
	case "parse":
		return commandSpec{target: true, threads: true}, true
	case "list":
		return commandSpec{target: true, selection: true}, true
	case "compile", "docs generate", "test", "snapshot":
		return commandSpec{target: true, threads: true, selection: true, runResults: true}, true
	case "source freshness":
		return commandSpec{target: true, threads: true, selection: true}, true
	case "seed", "run", "build":
		return commandSpec{target: true, threads: true, selection: true, fullRefresh: true, runResults: true}, true
	case "retry":
		return commandSpec{target: true, threads: true, runResults: true}, true
	}
	return commandSpec{}, false
}

// normalizeCommand turns " source   freshness " into "source freshness" and
// reports whether dbt command is one Run knows.
func normalizeCommand(c string) (string, bool) {
	c = strings.Join(strings.Fields(c), " ")
	if c == "ls" {
		c = "list"
	}
	_, ok := specFor(c)
	return c, ok
}

// knownCommands lists the commands specFor accepts, for error messages.
func knownCommands() string {
	return `"deps", "debug", "clean", "parse", "list", "compile", "docs generate", "source freshness", ` +
		`"seed", "run", "build", "test", "snapshot", "retry"`
}

// commandArgs builds the argv (without the executable) for one command.
// opts must have been validated, with absolute directories.
func commandArgs(command string, opts Options) ([]string, error) {
	command, ok := normalizeCommand(command)
	if !ok {
		return nil, fmt.Errorf("unknown dbt command %q: use one of %s", command, knownCommands())
	}
	spec, _ := specFor(command)
	args := []string{"--log-format", "json"}
	args = append(args, strings.Fields(command)...)
	args = append(args, "--project-dir", opts.ProjectDir)
	if opts.ProfilesDir != "" {
		args = append(args, "--profiles-dir", opts.ProfilesDir)
	}
	if spec.target && opts.Target != "" {
		args = append(args, "--target", opts.Target)
	}
	if spec.threads && opts.Threads > 0 {
		args = append(args, "--threads", strconv.Itoa(opts.Threads))
	}
	if spec.selection {
		if len(opts.Select) > 0 {
			args = append(args, "--select")
			args = append(args, opts.Select...)
		}
		if len(opts.Exclude) > 0 {
			args = append(args, "--exclude")
			args = append(args, opts.Exclude...)
		}
		if opts.Selector != "" {
			args = append(args, "--selector", opts.Selector)
		}
	}
	if len(opts.Vars) > 0 {
		// JSON is YAML, which is what dbt parses --vars as; map keys are
		// sorted, so the argv is stable.
		b, err := json.Marshal(opts.Vars)
		if err != nil {
			return nil, fmt.Errorf("encoding Vars as JSON: %w", err)
		}
		args = append(args, "--vars", string(b))
	}
	if spec.fullRefresh && opts.FullRefresh {
		args = append(args, "--full-refresh")
	}
	return args, nil
}

// commandSlug names a command's artifact folder: "source freshness" -> "source_freshness".
func commandSlug(command string) string {
	return strings.ReplaceAll(command, " ", "_")
}
