package spec

import (
	"fmt"
	"sort"
	"strings"
)

// Severity tells whether a diagnostic stops a pipeline from running.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Pos is a position in a spec file. Line and Col are 1-based; zero means unknown.
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
}

// Diagnostic is one problem found in a spec: where, which field, what is
// wrong, and how to fix it.
type Diagnostic struct {
	Pos      Pos      `json:"pos"`
	Field    string   `json:"field,omitempty"`
	Message  string   `json:"message"`
	Hint     string   `json:"hint,omitempty"`
	Severity Severity `json:"severity"`
}

func (d Diagnostic) String() string {
	var b strings.Builder
	if s := d.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if d.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	if d.Field != "" {
		b.WriteString(d.Field)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	if d.Hint != "" {
		b.WriteString(" (")
		b.WriteString(d.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Diagnostics is a list of problems. As an error it reports the errors only;
// warnings travel with it for callers that print them.
type Diagnostics []Diagnostic

func (ds Diagnostics) Error() string {
	errs := ds.Errors()
	lines := make([]string, len(errs))
	for i, d := range errs {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Errors returns the diagnostics of error severity.
func (ds Diagnostics) Errors() Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity != SeverityWarning {
			out = append(out, d)
		}
	}
	return out
}

// Warnings returns the diagnostics of warning severity.
func (ds Diagnostics) Warnings() Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == SeverityWarning {
			out = append(out, d)
		}
	}
	return out
}

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool { return len(ds.Errors()) > 0 }

// Err returns ds as an error when it holds errors, else nil.
func (ds Diagnostics) Err() error {
	if ds.HasErrors() {
		return ds.Sorted()
	}
	return nil
}

// Sorted returns the diagnostics ordered by file and position, without duplicates.
func (ds Diagnostics) Sorted() Diagnostics {
	out := make(Diagnostics, 0, len(ds))
	seen := map[string]bool{}
	for _, d := range ds {
		k := d.String()
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Pos, out[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return out
}

// add appends an error diagnostic.
func (ds *Diagnostics) add(pos Pos, field, hint, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Pos: pos, Field: field, Message: fmt.Sprintf(format, args...), Hint: hint, Severity: SeverityError})
}

// warn appends a warning diagnostic.
func (ds *Diagnostics) warn(pos Pos, field, hint, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Pos: pos, Field: field, Message: fmt.Sprintf(format, args...), Hint: hint, Severity: SeverityWarning})
}

// suggest returns a "did you mean" hint for name among candidates, or "".
func suggest(name string, candidates []string) string {
	best, bestDist := "", 1<<30
	for _, c := range candidates {
		d := levenshtein(strings.ToLower(name), strings.ToLower(c))
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	if best != "" && bestDist <= max(2, len(name)/3) {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return ""
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
