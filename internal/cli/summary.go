package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/sluicedata/sluice/internal/run"
)

// taskSummary is one line about a finished task's output, by task type.
func taskSummary(t run.Task) string {
	o := t.Output
	if o == nil {
		return ""
	}
	switch t.Type {
	case "generate_data":
		s := fmt.Sprintf("batch %s: %s orders, %s rows", num(o["batch"]), num(o["orders"]), num(sum(o["rows"])))
		if m := sum(o["malformed"]); m > 0 {
			s += fmt.Sprintf(", %s malformed", num(m))
		}
		if b, _ := o["already_written"].(bool); b {
			s += " (already written: nothing new)"
		}
		return s
	case "dlt_pipeline":
		s := fmt.Sprintf("%s files, %s rows loaded", num(o["files_loaded"]), num(o["rows_loaded"]))
		if q := num(o["quarantined"]); q != "0" {
			s += ", " + q + " quarantined"
		}
		if steps, ok := o["steps"].([]any); ok {
			s += fmt.Sprintf(", %d SQL steps", len(steps))
		}
		return s
	case "quality_checks":
		s := fmt.Sprintf("%s passed, %s warned, %s failed", num(o["passed"]), num(o["warned"]), num(o["failed"]))
		if e := num(o["errored"]); e != "0" {
			s += ", " + e + " errored"
		}
		return s
	case "sql":
		return fmt.Sprintf("%s, %s", plural(o["statements"], "statement"), plural(o["rows_affected"], "row"))
	case "notify":
		return fmt.Sprint(o["message"])
	case "dbt":
		return dbtSummary(o)
	}
	return summarize(o)
}

// printSections prints what a run produced: table row counts per layer
// (from DLT pipeline outputs) and quality check results.
func printSections(w io.Writer, st *run.Status) {
	tables := map[string]float64{}
	for _, t := range st.Tasks {
		if m, ok := t.Output["tables"].(map[string]any); ok {
			for k, v := range m {
				if f, ok := v.(float64); ok {
					tables[k] = f
				}
			}
		}
	}
	if len(tables) > 0 {
		fmt.Fprintln(w, "\nTables")
		layers := map[string][]string{}
		var order []string
		for name := range tables {
			layer, _, _ := strings.Cut(name, ".")
			if _, ok := layers[layer]; !ok {
				order = append(order, layer)
			}
			layers[layer] = append(layers[layer], name)
		}
		rank := map[string]int{"bronze": 0, "silver": 1, "gold": 2}
		sort.Slice(order, func(i, j int) bool {
			ri, oki := rank[order[i]]
			rj, okj := rank[order[j]]
			if oki != okj {
				return oki
			}
			if ri != rj {
				return ri < rj
			}
			return order[i] < order[j]
		})
		fmt.Fprintf(w, "%-8s %6s %12s\n", "LAYER", "TABLES", "ROWS")
		for _, layer := range order {
			names := layers[layer]
			var total float64
			for _, n := range names {
				total += tables[n]
			}
			fmt.Fprintf(w, "%-8s %6d %12s\n", layer, len(names), num(total))
		}
		tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
		for _, layer := range order {
			var cells []string
			for _, n := range layers[layer] {
				cells = append(cells, fmt.Sprintf("%s %s", strings.TrimPrefix(n, layer+"."), num(tables[n])))
			}
			sort.Strings(cells)
			fmt.Fprintf(tw, "  %s:\t%s\n", layer, strings.Join(cells, ", "))
		}
		tw.Flush()
	}
	for _, t := range st.Tasks {
		checks, ok := t.Output["checks"].([]any)
		if !ok || len(checks) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nQuality checks (%s)\n", t.Key)
		tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
		fmt.Fprintln(tw, "STATUS\tCHECK\tOFFENDING\tRESULT")
		for _, c := range checks {
			m, _ := c.(map[string]any)
			fmt.Fprintf(tw, "%v\t%v\t%s\t%s\n", m["status"], m["name"], num(m["offending"]), firstLine(fmt.Sprint(m["message"])))
		}
		tw.Flush()
	}
}

// plural formats a count with its noun: "1 row", "3 rows".
func plural(v any, noun string) string {
	n := num(v)
	if n == "1" {
		return n + " " + noun
	}
	return n + " " + noun + "s"
}

// num formats JSON numbers without exponents or trailing zeros.
func num(v any) string {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprintf("%.2f", x)
	case int64:
		return fmt.Sprintf("%d", x)
	case int:
		return fmt.Sprintf("%d", x)
	case nil:
		return "0"
	}
	return fmt.Sprint(v)
}

// sum adds the numbers of a JSON object.
func sum(v any) float64 {
	m, _ := v.(map[string]any)
	var total float64
	for _, x := range m {
		if f, ok := x.(float64); ok {
			total += f
		}
	}
	return total
}
