package lakehouse

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// statement is one SQL statement of a step file, without its trailing ';'.
type statement struct {
	text string
	line int // 1-based line of its first token in the file
}

type tokKind int

const (
	tokWord   tokKind = iota // keyword, identifier or number
	tokQIdent                // "quoted identifier"
	tokString                // '...', E'...', $tag$...$tag$
	tokPunct                 // any other single character
)

type token struct {
	kind tokKind
	text string // the token as written
	off  int    // byte offset in the input
	line int
}

// lineError is a problem at a line of a SQL file; callers prefix the path.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("%d: %s", e.line, e.msg) }

// lexSQL calls fn for each token of src, skipping whitespace and comments.
// It knows just enough Postgres lexical structure to find statement
// boundaries: quoted strings (with E'...' backslash escapes), quoted
// identifiers, dollar quotes, and nested block comments.
func lexSQL(src string, fn func(token)) error {
	line := 1
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			start, depth := line, 0
			for {
				switch {
				case i >= len(src):
					return &lineError{start, "unterminated /* comment; close it with */"}
				case strings.HasPrefix(src[i:], "/*"):
					depth++
					i += 2
				case strings.HasPrefix(src[i:], "*/"):
					depth--
					i += 2
				default:
					if src[i] == '\n' {
						line++
					}
					i++
				}
				if depth == 0 {
					break
				}
			}
		case c == '\'':
			start, off := line, i
			escapes := i > 0 && (src[i-1] == 'E' || src[i-1] == 'e') && (i < 2 || !isIdentChar(src[i-2]))
			j, n, ok := scanQuoted(src, i, '\'', escapes)
			if !ok {
				return &lineError{start, "unterminated quoted string; close it with '"}
			}
			line += n
			i = j
			fn(token{tokString, src[off:i], off, start})
		case c == '"':
			start, off := line, i
			j, n, ok := scanQuoted(src, i, '"', false)
			if !ok {
				return &lineError{start, `unterminated quoted identifier; close it with "`}
			}
			line += n
			i = j
			fn(token{tokQIdent, src[off:i], off, start})
		case c == '$':
			if tag, ok := dollarTag(src[i:]); ok {
				start, off := line, i
				end := strings.Index(src[i+len(tag):], tag)
				if end < 0 {
					return &lineError{start, fmt.Sprintf("unterminated dollar-quoted string; close it with %s", tag)}
				}
				j := i + len(tag) + end + len(tag)
				line += strings.Count(src[i:j], "\n")
				i = j
				fn(token{tokString, src[off:i], off, start})
				continue
			}
			fn(token{tokPunct, "$", i, line})
			i++
		case isIdentStart(c) || (c >= '0' && c <= '9'):
			off := i
			for i < len(src) && isIdentChar(src[i]) {
				i++
			}
			fn(token{tokWord, src[off:i], off, line})
		default:
			_, size := utf8.DecodeRuneInString(src[i:])
			fn(token{tokPunct, src[i : i+size], i, line})
			i += size
		}
	}
	return nil
}

// scanQuoted returns the offset just past the quoted token starting at
// src[i] == q, and the number of newlines inside it. A doubled quote is an
// escaped quote; with backslash escapes on, \x escapes any character.
func scanQuoted(src string, i int, q byte, backslash bool) (end, newlines int, ok bool) {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\n':
			newlines++
		case '\\':
			if backslash && j+1 < len(src) {
				if src[j+1] == '\n' {
					newlines++
				}
				j++
			}
		case q:
			if j+1 < len(src) && src[j+1] == q {
				j++
				continue
			}
			return j + 1, newlines, true
		}
	}
	return 0, 0, false
}

// dollarTag returns the opening tag ("$$" or "$name$") if s starts with one.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		c := s[j]
		if c == '$' {
			return s[:j+1], true
		}
		if !(isIdentStart(c) || (j > 1 && c >= '0' && c <= '9')) {
			return "", false
		}
	}
	return "", false
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$'
}

// splitSQL splits a SQL file into statements at top-level semicolons.
// Statements that hold only comments are dropped.
func splitSQL(src string) ([]statement, error) {
	var out []statement
	start, startLine := -1, 0
	err := lexSQL(src, func(t token) {
		if t.kind == tokPunct && t.text == ";" {
			if start >= 0 {
				out = append(out, statement{strings.TrimSpace(src[start:t.off]), startLine})
			}
			start = -1
			return
		}
		if start < 0 {
			start, startLine = t.off, t.line
		}
	})
	if err != nil {
		return nil, err
	}
	if start >= 0 {
		out = append(out, statement{strings.TrimSpace(src[start:]), startLine})
	}
	return out, nil
}

// createdTable reports the table a CREATE [UNLOGGED] TABLE [IF NOT EXISTS]
// statement creates. Temporary tables are not owned by the pipeline and are
// ignored.
func createdTable(stmt string) (Table, bool) {
	var toks []token
	_ = lexSQL(stmt, func(t token) {
		if len(toks) < 12 {
			toks = append(toks, t)
		}
	})
	kw := func(i int, words ...string) bool {
		if i >= len(toks) || toks[i].kind != tokWord {
			return false
		}
		for _, w := range words {
			if strings.EqualFold(toks[i].text, w) {
				return true
			}
		}
		return false
	}
	i := 0
	if !kw(i, "create") {
		return Table{}, false
	}
	i++
	if kw(i, "global", "local") {
		i++
	}
	if kw(i, "temp", "temporary") {
		return Table{}, false
	}
	if kw(i, "unlogged") {
		i++
	}
	if !kw(i, "table") {
		return Table{}, false
	}
	i++
	if kw(i, "if") && kw(i+1, "not") && kw(i+2, "exists") {
		i += 3
	}
	first, ok := identAt(toks, i)
	if !ok {
		return Table{}, false
	}
	if i+2 < len(toks) && toks[i+1].text == "." {
		second, ok := identAt(toks, i+2)
		if !ok {
			return Table{}, false
		}
		return Table{Schema: first, Name: second}, true
	}
	return Table{Name: first}, true
}

// identAt returns the identifier at toks[i] as Postgres resolves it:
// unquoted names fold to lower case, quoted names keep their case.
func identAt(toks []token, i int) (string, bool) {
	if i >= len(toks) {
		return "", false
	}
	switch t := toks[i]; t.kind {
	case tokWord:
		return strings.ToLower(t.text), true
	case tokQIdent:
		return strings.ReplaceAll(t.text[1:len(t.text)-1], `""`, `"`), true
	}
	return "", false
}

// substitute replaces each ${name} in stmt with vars[name]. Values are
// inserted verbatim: quote them in the SQL ('${run_logical_date}'). An
// unknown name is an error naming its line.
func substitute(stmt statement, vars map[string]string) (string, error) {
	if !strings.Contains(stmt.text, "${") {
		return stmt.text, nil
	}
	var b strings.Builder
	rest := stmt.text
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		line := stmt.line + strings.Count(stmt.text[:len(stmt.text)-len(rest)+i], "\n")
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return "", &lineError{line, "unterminated ${ (write ${name})"}
		}
		name := rest[i+2 : i+j]
		v, ok := vars[name]
		if !ok {
			return "", &lineError{line, fmt.Sprintf("unknown variable ${%s}; the run provides %s", name, varList(vars))}
		}
		b.WriteString(rest[:i])
		b.WriteString(v)
		rest = rest[i+j+1:]
	}
}

func varList(vars map[string]string) string {
	if len(vars) == 0 {
		return "no variables"
	}
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, "${"+k+"}")
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// positionLine maps a Postgres error position (1-based, in characters) in
// the statement as sent to a line of the file.
func positionLine(stmt statement, sent string, pos int32) int {
	if pos <= 0 {
		return stmt.line
	}
	line, n := stmt.line, int32(0)
	for _, r := range sent {
		n++
		if n >= pos {
			break
		}
		if r == '\n' {
			line++
		}
	}
	return line
}
