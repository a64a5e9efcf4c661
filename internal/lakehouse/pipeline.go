package lakehouse

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"gopkg.in/yaml.v3"
)

// SpecFile is the name of the file Load reads in a local pipeline folder.
const SpecFile = "pipeline.yaml"

// Type is a column type of a bronze table. It drives both the validation of
// every CSV value and the bronze DDL.
type Type string

// The column types a pipeline.yaml may declare.
const (
	TypeText      Type = "text"
	TypeInt       Type = "int"
	TypeBigint    Type = "bigint"
	TypeNumeric   Type = "numeric"
	TypeDouble    Type = "double"
	TypeTimestamp Type = "timestamp"
	TypeDate      Type = "date"
	TypeBool      Type = "bool"
)

// types lists the declarable types in documentation order with their
// Postgres spelling as format_type() prints it, which is what the bronze DDL
// uses and what an existing table is checked against.
var types = []struct {
	t  Type
	pg string
}{
	{TypeText, "text"},
	{TypeInt, "integer"},
	{TypeBigint, "bigint"},
	{TypeNumeric, "numeric"},
	{TypeDouble, "double precision"},
	{TypeTimestamp, "timestamp without time zone"},
	{TypeDate, "date"},
	{TypeBool, "boolean"},
}

func (t Type) postgres() string {
	for _, x := range types {
		if x.t == t {
			return x.pg
		}
	}
	return ""
}

func typeNames() string {
	names := make([]string, len(types))
	for i, x := range types {
		names[i] = string(x.t)
	}
	return strings.Join(names, ", ")
}

// Column is one declared CSV column, in file order.
type Column struct {
	Name    string
	Type    Type
	NotNull bool
}

// Table is a schema-qualified table name.
type Table struct {
	Schema string
	Name   string
}

// String returns "schema.name", the key used in Result maps.
func (t Table) String() string {
	if t.Schema == "" {
		return t.Name
	}
	return t.Schema + "." + t.Name
}

func (t Table) sanitize() string {
	if t.Schema == "" {
		return pgx.Identifier{t.Name}.Sanitize()
	}
	return pgx.Identifier{t.Schema, t.Name}.Sanitize()
}

// Source is one ingest entry: files matching Pattern under the volume are
// loaded into Table, each exactly once.
type Source struct {
	Entity  string
	Pattern string // glob relative to the volume dir, '/'-separated
	Table   Table
	Format  string // always "csv" for now
	Columns []Column

	where string // "pipeline.yaml:12:5" of the entry, for errors
}

// Step is one SQL file run after ingestion.
type Step struct {
	File string // path relative to the pipeline dir, as written in pipeline.yaml

	where      string // "pipeline.yaml:40:5" of the entry, for errors
	statements []statement
	creates    []Table // tables the step creates (CREATE TABLE), owned by the pipeline
}

// Pipeline is a parsed local pipeline folder. Build it with Load.
type Pipeline struct {
	Name   string
	Dir    string
	Ingest []Source
	Steps  []Step
}

// Tables returns every table the pipeline owns, in a stable order: the
// bronze tables of its ingest entries, then the tables its steps create.
func (p *Pipeline) Tables() []Table {
	var out []Table
	seen := map[Table]bool{}
	add := func(t Table) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, s := range p.Ingest {
		add(s.Table)
	}
	for _, st := range p.Steps {
		for _, t := range st.creates {
			add(t)
		}
	}
	return out
}

var (
	identRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	nameRe  = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
)

// reservedColumns are the lineage columns every bronze table gets.
var reservedColumns = []string{"_source_file", "_source_line", "_ingested_at"}

// Load reads dir/pipeline.yaml and the SQL files its steps name. Every
// problem is reported with the file:line:column it comes from and how to fix
// it.
func Load(dir string) (*Pipeline, error) {
	specPath := filepath.Join(dir, SpecFile)
	data, err := os.ReadFile(specPath)
	if err != nil {
		return nil, fmt.Errorf("loading local pipeline: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", specPath, err)
	}
	l := loader{path: specPath}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty file; it needs name, ingest and steps", specPath)
	}
	p, err := l.pipeline(doc.Content[0])
	if err != nil {
		return nil, err
	}
	p.Dir = dir
	for i := range p.Steps {
		if err := p.Steps[i].read(dir); err != nil {
			return nil, err
		}
	}
	return p, nil
}

type loader struct {
	path string
}

func (l loader) at(n *yaml.Node) string {
	return fmt.Sprintf("%s:%d:%d", l.path, n.Line, n.Column)
}

func (l loader) errf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s: %s", l.at(n), fmt.Sprintf(format, args...))
}

// fields checks that n is a mapping whose keys are all in allowed, and
// returns the value node of each key.
func (l loader) fields(n *yaml.Node, what string, allowed ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, l.errf(n, "%s must be a mapping with the fields %s", what, strings.Join(allowed, ", "))
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(allowed, k.Value) {
			return nil, l.errf(k, "unknown field %q in %s; allowed fields are %s", k.Value, what, strings.Join(allowed, ", "))
		}
		if _, dup := out[k.Value]; dup {
			return nil, l.errf(k, "field %q is set twice in %s; keep one", k.Value, what)
		}
		out[k.Value] = v
	}
	return out, nil
}

func (l loader) str(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", l.errf(n, "%s must be a string", field)
	}
	return n.Value, nil
}

func (l loader) required(m map[string]*yaml.Node, parent *yaml.Node, what string, keys ...string) error {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return l.errf(parent, "%s is missing the required field %q", what, k)
		}
	}
	return nil
}

func (l loader) pipeline(root *yaml.Node) (*Pipeline, error) {
	m, err := l.fields(root, "pipeline.yaml", "name", "ingest", "steps")
	if err != nil {
		return nil, err
	}
	if err := l.required(m, root, "pipeline.yaml", "name"); err != nil {
		return nil, err
	}
	p := &Pipeline{}
	if p.Name, err = l.str(m["name"], "name"); err != nil {
		return nil, err
	}
	if !nameRe.MatchString(p.Name) {
		return nil, l.errf(m["name"], "name %q may only contain letters, digits, '_', '-' and '.'", p.Name)
	}
	if n, ok := m["ingest"]; ok {
		if n.Kind != yaml.SequenceNode {
			return nil, l.errf(n, "ingest must be a list of entries (entity, source, table, format, columns)")
		}
		entities, tables := map[string]bool{}, map[Table]bool{}
		for _, e := range n.Content {
			s, err := l.source(e)
			if err != nil {
				return nil, err
			}
			if entities[s.Entity] {
				return nil, l.errf(e, "entity %q is declared twice; give each ingest entry its own entity", s.Entity)
			}
			if tables[s.Table] {
				return nil, l.errf(e, "table %s is the target of two ingest entries; give each entity its own bronze table", s.Table)
			}
			entities[s.Entity], tables[s.Table] = true, true
			p.Ingest = append(p.Ingest, s)
		}
	}
	if n, ok := m["steps"]; ok {
		if n.Kind != yaml.SequenceNode {
			return nil, l.errf(n, "steps must be a list of SQL file paths relative to the pipeline folder")
		}
		for _, e := range n.Content {
			f, err := l.str(e, "a step")
			if err != nil {
				return nil, err
			}
			clean := path.Clean(f)
			if !strings.HasSuffix(f, ".sql") || !fs.ValidPath(clean) {
				return nil, l.errf(e, "step %q must be a .sql file path relative to the pipeline folder, without '..'", f)
			}
			p.Steps = append(p.Steps, Step{File: clean, where: l.at(e)})
		}
	}
	if len(p.Ingest) == 0 && len(p.Steps) == 0 {
		return nil, l.errf(root, "pipeline %q has neither ingest entries nor steps; add at least one", p.Name)
	}
	return p, nil
}

func (l loader) source(n *yaml.Node) (Source, error) {
	const what = "an ingest entry"
	m, err := l.fields(n, what, "entity", "source", "table", "format", "columns")
	if err != nil {
		return Source{}, err
	}
	if err := l.required(m, n, what, "entity", "source", "table", "columns"); err != nil {
		return Source{}, err
	}
	s := Source{Format: "csv", where: l.at(n)}
	if s.Entity, err = l.str(m["entity"], "entity"); err != nil {
		return Source{}, err
	}
	if !identRe.MatchString(s.Entity) {
		return Source{}, l.errf(m["entity"], "entity %q must be a lowercase identifier (letters, digits, '_')", s.Entity)
	}
	if s.Pattern, err = l.str(m["source"], "source"); err != nil {
		return Source{}, err
	}
	if _, err := path.Match(s.Pattern, ""); err != nil || !fs.ValidPath(s.Pattern) {
		return Source{}, l.errf(m["source"], "source %q must be a glob relative to the volume folder, '/'-separated, without '..' (e.g. olist/batch=*/olist_orders_dataset.csv)", s.Pattern)
	}
	tbl, err := l.str(m["table"], "table")
	if err != nil {
		return Source{}, err
	}
	schema, name, ok := strings.Cut(tbl, ".")
	if !ok || !identRe.MatchString(schema) || !identRe.MatchString(name) {
		return Source{}, l.errf(m["table"], "table %q must be schema.table in lowercase identifiers (e.g. bronze.orders)", tbl)
	}
	s.Table = Table{Schema: schema, Name: name}
	if f, ok := m["format"]; ok {
		if s.Format, err = l.str(f, "format"); err != nil {
			return Source{}, err
		}
		if s.Format != "csv" {
			return Source{}, l.errf(f, "format %q is not supported; the only format is csv", s.Format)
		}
	}
	cols := m["columns"]
	if cols.Kind != yaml.SequenceNode || len(cols.Content) == 0 {
		return Source{}, l.errf(cols, "columns must be a non-empty list of {name, type, not_null} in file order")
	}
	seen := map[string]bool{}
	for _, c := range cols.Content {
		col, err := l.column(c)
		if err != nil {
			return Source{}, err
		}
		if seen[col.Name] {
			return Source{}, l.errf(c, "column %q is declared twice in entity %s", col.Name, s.Entity)
		}
		seen[col.Name] = true
		s.Columns = append(s.Columns, col)
	}
	return s, nil
}

func (l loader) column(n *yaml.Node) (Column, error) {
	const what = "a column"
	m, err := l.fields(n, what, "name", "type", "not_null")
	if err != nil {
		return Column{}, err
	}
	if err := l.required(m, n, what, "name", "type"); err != nil {
		return Column{}, err
	}
	var c Column
	if c.Name, err = l.str(m["name"], "name"); err != nil {
		return Column{}, err
	}
	if !identRe.MatchString(c.Name) {
		return Column{}, l.errf(m["name"], "column name %q must be a lowercase identifier (letters, digits, '_'), as in the CSV header", c.Name)
	}
	if slices.Contains(reservedColumns, c.Name) {
		return Column{}, l.errf(m["name"], "column name %q is reserved for lineage (%s); rename it", c.Name, strings.Join(reservedColumns, ", "))
	}
	t, err := l.str(m["type"], "type")
	if err != nil {
		return Column{}, err
	}
	c.Type = Type(t)
	if c.Type.postgres() == "" {
		return Column{}, l.errf(m["type"], "column %q: unknown type %q; use one of %s", c.Name, t, typeNames())
	}
	if nn, ok := m["not_null"]; ok {
		if err := nn.Decode(&c.NotNull); err != nil || nn.Tag != "!!bool" {
			return Column{}, l.errf(nn, "column %q: not_null must be true or false", c.Name)
		}
	}
	return c, nil
}

// read loads and splits the step's SQL file.
func (s *Step) read(dir string) error {
	full := filepath.Join(dir, filepath.FromSlash(s.File))
	data, err := os.ReadFile(full)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: step %q: file %s not found; create it or fix the path", s.where, s.File, full)
	}
	if err != nil {
		return fmt.Errorf("%s: reading step %q: %w", s.where, s.File, err)
	}
	stmts, err := splitSQL(string(data))
	if err != nil {
		return fmt.Errorf("%s:%w", full, err)
	}
	if len(stmts) == 0 {
		return fmt.Errorf("%s: step %q has no SQL statement; remove it from steps or add SQL", s.where, s.File)
	}
	s.statements = stmts
	for _, st := range stmts {
		if t, ok := createdTable(st.text); ok {
			if !slices.Contains(s.creates, t) {
				s.creates = append(s.creates, t)
			}
		}
	}
	return nil
}
