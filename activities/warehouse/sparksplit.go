package warehouse

import (
	"fmt"
	"strings"
)

// sparkStatement is one statement of a SQL source, without its ';'.
type sparkStatement struct {
	Text string
	Line int // 1-based line of its first token in the source
}

// splitSpark splits Databricks (Spark) SQL into statements at top-level
// semicolons, because the Statement Execution API runs one statement per
// request. It knows the lexical structure that can hide a semicolon:
// '...' and "..." string literals with backslash escapes, raw strings
// (r'...'), backquoted identifiers (a doubled backquote inside is one),
// -- line comments and nested /* */ comments. Statements holding only
// comments are dropped. A source whose first word is BEGIN is a SQL script
// (a compound statement with semicolons inside) and is returned whole.
func splitSpark(src string) ([]sparkStatement, error) {
	var out []sparkStatement
	start, startLine, line := -1, 0, 1
	first := true
	mark := func(i int) {
		if start < 0 {
			start, startLine = i, line
		}
	}
	for i := 0; i < len(src); {
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
			at, depth := line, 0
			for {
				switch {
				case i >= len(src):
					return nil, fmt.Errorf("%d: unterminated /* comment: close it with */", at)
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
		case c == ';':
			if start >= 0 {
				out = append(out, sparkStatement{strings.TrimSpace(src[start:i]), startLine})
			}
			start = -1
			i++
		case c == '\'' || c == '"' || c == '`':
			mark(i)
			raw := c != '`' && i > 0 && (src[i-1] == 'r' || src[i-1] == 'R') && (i < 2 || !isWordByte(src[i-2]))
			next, lines, err := skipQuoted(src, i, raw)
			if err != nil {
				return nil, fmt.Errorf("%d: %w", line, err)
			}
			i, line = next, line+lines
		default:
			if first && isWordByte(c) {
				j := i
				for j < len(src) && isWordByte(src[j]) {
					j++
				}
				if strings.EqualFold(src[i:j], "begin") {
					if text := strings.TrimSpace(src[i:]); text != "" {
						return []sparkStatement{{strings.TrimRight(text, "; \t\r\n"), line}}, nil
					}
				}
			}
			mark(i)
			i++
		}
		if start >= 0 {
			first = false
		}
	}
	if start >= 0 {
		if text := strings.TrimSpace(src[start:]); text != "" {
			out = append(out, sparkStatement{text, startLine})
		}
	}
	return out, nil
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// skipQuoted returns the index after the quoted token starting at src[i]
// and the newlines inside it.
func skipQuoted(src string, i int, raw bool) (next, lines int, err error) {
	q := src[i]
	for i++; i < len(src); i++ {
		switch d := src[i]; {
		case d == '\n':
			lines++
		case d == '\\' && q != '`' && !raw && i+1 < len(src):
			i++
			if src[i] == '\n' {
				lines++
			}
		case d == q && q == '`' && i+1 < len(src) && src[i+1] == '`':
			i++
		case d == q:
			return i + 1, lines, nil
		}
	}
	if q == '`' {
		return 0, 0, fmt.Errorf("unterminated backquoted identifier: close it with `")
	}
	return 0, 0, fmt.Errorf("unterminated string literal: close it with %c", q)
}
