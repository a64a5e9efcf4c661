package spec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/invopop/jsonschema"
)

// Schema returns the JSON Schema (draft 2020-12) of "project" (sluice.yaml)
// or "pipeline" (a pipeline file), generated from the Go types, for editors
// (yaml-language-server: $schema=...). A pipeline task's `with` is checked
// against its type's config.
func Schema(kind string) ([]byte, error) {
	r := &jsonschema.Reflector{
		ExpandedStruct: true,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			switch t {
			case reflect.TypeFor[Duration]():
				return &jsonschema.Schema{Type: "string", Pattern: `^[0-9.]+(ns|us|µs|ms|s|m|h|d)([0-9.]+(ns|us|µs|ms|s|m|h))*$`, Description: "Duration such as 90s, 30m, 2h or 7d"}
			case reflect.TypeFor[Cron]():
				return &jsonschema.Schema{Type: "string", Description: "5-field cron (0 6 * * *), Quartz (0 0 6 * * ?) or @daily/@hourly/..."}
			}
			return nil
		},
	}
	var s *jsonschema.Schema
	switch kind {
	case "project":
		s = r.Reflect(&ProjectConfig{})
		s.Title = "Sluice project (sluice.yaml)"
	case "pipeline":
		s = r.Reflect(&Pipeline{})
		s.Title = "Sluice pipeline"
		if s.Definitions == nil {
			s.Definitions = jsonschema.Definitions{}
		}
		var branches []*jsonschema.Schema
		names := make([]any, 0, len(TaskTypes))
		for _, tt := range TaskTypes {
			names = append(names, tt.Name)
			cs := r.Reflect(tt.Config)
			allowRefs(cs, cs.Definitions)
			for k, v := range cs.Definitions {
				allowRefs(v, cs.Definitions)
				s.Definitions[k] = v
			}
			cs.Definitions = nil
			cs.Version = ""
			cs.ID = ""
			name := reflect.TypeOf(tt.Config).Name()
			s.Definitions[name] = cs
			cond := jsonschema.NewProperties()
			cond.Set("type", &jsonschema.Schema{Const: tt.Name})
			then := jsonschema.NewProperties()
			then.Set("with", &jsonschema.Schema{Ref: "#/$defs/" + name})
			branches = append(branches, &jsonschema.Schema{
				If:   &jsonschema.Schema{Properties: cond, Required: []string{"type"}},
				Then: &jsonschema.Schema{Properties: then},
			})
		}
		task, ok := s.Definitions["Task"]
		if !ok {
			return nil, fmt.Errorf("schema: Task definition missing")
		}
		if tp, ok := task.Properties.Get("type"); ok {
			tp.Enum = names
		}
		task.AllOf = branches
	default:
		return nil, fmt.Errorf("unknown schema %q: use project or pipeline", kind)
	}
	return json.MarshalIndent(s, "", "  ")
}

// refString is a whole-string reference such as "${params.orders}".
// Validation accepts one in any scalar with: field, whose type is only known
// once the reference is resolved, so the schema must too.
var refString = &jsonschema.Schema{Type: "string", Pattern: `^\$\{[^}]+\}$`}

// allowRefs lets every scalar property of s (numbers, booleans, durations,
// row counts) also be a whole-string reference.
func allowRefs(s *jsonschema.Schema, defs jsonschema.Definitions) {
	if s == nil || s.Properties == nil {
		return
	}
	for pair := s.Properties.Oldest(); pair != nil; pair = pair.Next() {
		if scalarSchema(pair.Value, defs) {
			pair.Value = &jsonschema.Schema{Description: pair.Value.Description, AnyOf: []*jsonschema.Schema{pair.Value, refString}}
		}
	}
}

// scalarSchema reports whether a reference could stand for a value of s:
// numbers, booleans and constrained strings (durations), directly, through
// a definition or as every branch of a oneOf.
func scalarSchema(s *jsonschema.Schema, defs jsonschema.Definitions) bool {
	if d, ok := defs[strings.TrimPrefix(s.Ref, "#/$defs/")]; ok && s.Ref != "" {
		s = d
	}
	switch s.Type {
	case "integer", "number", "boolean":
		return true
	case "string":
		return s.Pattern != ""
	}
	if len(s.OneOf) == 0 {
		return false
	}
	for _, b := range s.OneOf {
		if !scalarSchema(b, defs) {
			return false
		}
	}
	return true
}
