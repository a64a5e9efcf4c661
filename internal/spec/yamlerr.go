package spec

import (
	"regexp"
	"strconv"
	"strings"
)

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// yamlErrorPos extracts the line from a yaml.v3 syntax error.
func yamlErrorPos(file string, err error) Pos {
	m := yamlLineRe.FindStringSubmatch(err.Error())
	if m == nil {
		return Pos{File: file}
	}
	line, _ := strconv.Atoi(m[1])
	return Pos{File: file, Line: line, Col: 1}
}

func trimYAMLError(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: ")
	if i := strings.Index(s, ": "); i >= 0 && strings.HasPrefix(s, "line ") {
		s = s[i+2:]
	}
	return s
}
