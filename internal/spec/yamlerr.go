package spec

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// yamlParserProblems are the messages of yaml.v3's parser (as opposed to its
// scanner). For these yaml.v3 prints the 0-based line of the enclosing
// block or flow collection (decode.go, parser.fail: only scanner errors get
// the +1), so the line is one too small.
var yamlParserProblems = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected <stream-start>",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

// yamlErrorPos extracts the line from a yaml.v3 syntax error.
func yamlErrorPos(file string, err error) Pos {
	m := yamlLineRe.FindStringSubmatch(err.Error())
	if m == nil {
		return Pos{File: file}
	}
	line, _ := strconv.Atoi(m[1])
	if slices.Contains(yamlParserProblems, trimYAMLError(err)) {
		line++
	}
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
