package quality

import (
	"fmt"
	"strings"
)

// maxTableParts is catalog.schema.table, the deepest name either engine accepts.
const maxTableParts = 3

// splitName splits a table or column name, as a user wrote it in a spec, into
// its parts. Parts are separated by dots. A part may be quoted with double
// quotes ("my.table") or backquotes (`my.table`), doubling the quote character
// to write it inside (""""); a quoted part may then contain dots. An unquoted
// part is taken literally up to the next dot, so `weird "name"` is one part.
// The dialect quotes every part again when it builds SQL, so nothing in a name
// can reach the SQL text unquoted.
func splitName(s string) ([]string, error) {
	if s == "" {
		return nil, fmt.Errorf("the name is empty")
	}
	var parts []string
	i := 0
	for {
		if i == len(s) {
			return nil, fmt.Errorf("part %d is empty (a name cannot end with a dot)", len(parts)+1)
		}
		if q := s[i]; q == '"' || q == '`' {
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(s) {
				if s[j] == q {
					if j+1 < len(s) && s[j+1] == q {
						b.WriteByte(q)
						j += 2
						continue
					}
					closed = true
					j++
					break
				}
				b.WriteByte(s[j])
				j++
			}
			if !closed {
				return nil, fmt.Errorf("part %d has no closing %c", len(parts)+1, q)
			}
			if b.Len() == 0 {
				return nil, fmt.Errorf("part %d is empty", len(parts)+1)
			}
			parts = append(parts, b.String())
			if j == len(s) {
				return parts, nil
			}
			if s[j] != '.' {
				return nil, fmt.Errorf("part %d has text after its closing %c (quote the whole part)", len(parts), q)
			}
			i = j + 1
			continue
		}
		j := strings.IndexByte(s[i:], '.')
		if j < 0 {
			return append(parts, s[i:]), nil
		}
		if j == 0 {
			return nil, fmt.Errorf("part %d is empty (two dots in a row, or a leading dot)", len(parts)+1)
		}
		parts = append(parts, s[i:i+j])
		i += j + 1
	}
}

// tableParts parses a table name: one to three parts.
func tableParts(s string) ([]string, error) {
	parts, err := splitName(s)
	if err != nil {
		return nil, err
	}
	if len(parts) > maxTableParts {
		return nil, fmt.Errorf("it has %d parts; use table, schema.table or catalog.schema.table", len(parts))
	}
	return parts, nil
}

// columnName parses a column name: exactly one part.
func columnName(s string) (string, error) {
	parts, err := splitName(s)
	if err != nil {
		return "", err
	}
	if len(parts) != 1 {
		return "", fmt.Errorf(`a column name has no dots; quote it ("%s") if the dot is part of the name`, s)
	}
	return parts[0], nil
}
