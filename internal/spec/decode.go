package spec

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// decoder turns YAML nodes into Go values, naming fields by their json tags.
// Unlike yaml.Node.Decode it keeps going after an error, reports every problem
// with file:line:column and a hint, rejects unknown fields, and records the
// position of every value it decodes so that later validation can point at it.
type decoder struct {
	file  string
	diags *Diagnostics
	pos   map[string]Pos
	// lenient skips type checks for strings that are exactly one reference
	// (`${params.n}`, `${tasks...}`, `${secret:...}`): their type is known
	// only once resolved, so `orders: "${params.orders}"` validates against
	// an integer field. Planning decodes the resolved config again.
	lenient bool
}

func newDecoder(file string, diags *Diagnostics) *decoder {
	return &decoder{file: file, diags: diags, pos: map[string]Pos{}}
}

func (d *decoder) at(n *yaml.Node) Pos { return Pos{File: d.file, Line: n.Line, Col: n.Column} }

var (
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// decode fills v (addressable) from n. path names the value for messages,
// e.g. "tasks[1].with.orders".
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n = resolveNode(n)
	if n == nil {
		return
	}
	d.pos[path] = d.at(n)

	if v.CanAddr() {
		pv := v.Addr()
		if pv.Type().Implements(textUnmarshalerType) && v.Kind() != reflect.Interface {
			if n.Kind != yaml.ScalarNode {
				d.diags.add(d.at(n), path, "", "expected a single value, got %s", kindName(n))
				return
			}
			if n.ShortTag() == "!!null" {
				return
			}
			if d.lenient && isWholeRef(n.Value) {
				return
			}
			if err := pv.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
				d.diags.add(d.at(n), path, hintFor(err), "%s", errText(err))
			}
			return
		}
		if pv.Type().Implements(jsonUnmarshalerType) && v.Kind() != reflect.Interface {
			if d.lenient && n.Kind == yaml.ScalarNode && isWholeRef(n.Value) {
				// A value known only at run time: stand in a placeholder of
				// whatever shape the type accepts, so rules such as "set min
				// or max" see the field as set.
				u := pv.Interface().(json.Unmarshaler)
				for _, placeholder := range []string{"0", `""`, "[]", "{}"} {
					if u.UnmarshalJSON([]byte(placeholder)) == nil {
						break
					}
				}
				return
			}
			raw, err := json.Marshal(genericValue(n))
			if err == nil {
				err = pv.Interface().(json.Unmarshaler).UnmarshalJSON(raw)
			}
			if err != nil {
				d.diags.add(d.at(n), path, hintFor(err), "%s", errText(err))
			}
			return
		}
	}

	switch v.Kind() {
	case reflect.Interface:
		// null decodes to nil; reflect.ValueOf(nil) cannot be Set.
		if gv := genericValue(n); gv != nil {
			v.Set(reflect.ValueOf(gv))
		} else {
			v.SetZero()
		}
	case reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.diags.add(d.at(n), path, "", "expected a string, got %s", kindName(n))
			return
		}
		if isNull(n) {
			v.SetString("")
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if !d.scalar(n, path, "true or false") {
			return
		}
		b, err := strconv.ParseBool(n.Value)
		if err != nil {
			d.diags.add(d.at(n), path, "", "expected true or false, got %q", n.Value)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !d.scalar(n, path, "an integer") {
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil || v.OverflowInt(i) {
			// whole floats (1e3, and JSON numbers re-encoded) are integers too;
			// int64(f) is undefined outside int64's range, so check it first
			if f, ferr := strconv.ParseFloat(n.Value, 64); ferr == nil && f == math.Trunc(f) &&
				f >= math.MinInt64 && f < math.MaxInt64 && !v.OverflowInt(int64(f)) {
				v.SetInt(int64(f))
				return
			}
			d.diags.add(d.at(n), path, "", "expected an integer, got %q", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if !d.scalar(n, path, "a non-negative integer") {
			return
		}
		i, err := strconv.ParseUint(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil || v.OverflowUint(i) {
			d.diags.add(d.at(n), path, "", "expected a non-negative integer, got %q", n.Value)
			return
		}
		v.SetUint(i)
	case reflect.Float32, reflect.Float64:
		if !d.scalar(n, path, "a number") {
			return
		}
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			d.diags.add(d.at(n), path, "", "expected a number, got %q", n.Value)
			return
		}
		v.SetFloat(f)
	default:
		d.diags.add(d.at(n), path, "", "cannot decode into %s", v.Type())
	}
}

// scalar checks that n is a non-null scalar, reporting otherwise. A deferred
// reference in lenient mode is accepted and left for later.
func (d *decoder) scalar(n *yaml.Node, path, want string) bool {
	if n.Kind != yaml.ScalarNode {
		d.diags.add(d.at(n), path, "", "expected %s, got %s", want, kindName(n))
		return false
	}
	if isNull(n) {
		return false
	}
	if d.lenient && isWholeRef(n.Value) {
		return false
	}
	return true
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.diags.add(d.at(n), path, "", "expected a mapping (key: value), got %s", kindName(n))
		return
	}
	fields := structFields(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name := k.Value
		fpath := joinPath(path, name)
		if seen[name] {
			d.diags.add(d.at(k), fpath, "remove one of them", "duplicate field %q", name)
			continue
		}
		seen[name] = true
		idx, ok := fields.byName[name]
		if !ok {
			d.diags.add(d.at(k), fpath, suggest(name, fields.names), "unknown field %q", name)
			continue
		}
		d.decode(val, v.FieldByIndex(idx), fpath)
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.diags.add(d.at(n), path, "", "expected a mapping (key: value), got %s", kindName(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		d.diags.add(d.at(n), path, "", "cannot decode into %s", v.Type())
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(v.Type(), len(n.Content)/2))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		fpath := joinPath(path, k.Value)
		if seen[k.Value] {
			d.diags.add(d.at(k), fpath, "remove one of them", "duplicate key %q", k.Value)
			continue
		}
		seen[k.Value] = true
		elem := reflect.New(v.Type().Elem()).Elem()
		if existing := v.MapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key())); existing.IsValid() {
			elem.Set(existing)
		}
		d.decode(val, elem, fpath)
		v.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), elem)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		hint := ""
		if n.Kind == yaml.ScalarNode {
			hint = fmt.Sprintf("write a list: [%s]", n.Value)
		}
		d.diags.add(d.at(n), path, hint, "expected a list, got %s", kindName(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, out.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(out)
}

type fieldSet struct {
	byName map[string][]int
	names  []string
}

var fieldCache sync.Map // reflect.Type -> *fieldSet

// structFields maps json names to field indexes, flattening untagged embedded
// structs the way encoding/json does.
func structFields(t reflect.Type) *fieldSet {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*fieldSet)
	}
	fs := &fieldSet{byName: map[string][]int{}}
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			idx := append(append([]int(nil), prefix...), i)
			tag := f.Tag.Get("json")
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" {
				continue
			}
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft, idx)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if _, dup := fs.byName[name]; !dup {
				fs.byName[name] = idx
				fs.names = append(fs.names, name)
			}
		}
	}
	walk(t, nil)
	sort.Strings(fs.names)
	fieldCache.Store(t, fs)
	return fs
}

// resolveNode unwraps documents and aliases.
func resolveNode(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch n.Kind {
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		case yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing (null)"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unexpected node"
}

// genericValue converts a node to plain Go values: map[string]any, []any,
// string, int64, float64, bool or nil.
func genericValue(n *yaml.Node) any {
	n = resolveNode(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = genericValue(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			s[i] = genericValue(c)
		}
		return s
	}
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		if b, err := strconv.ParseBool(n.Value); err == nil {
			return b
		}
	case "!!int":
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return i
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
	}
	return n.Value
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// hinted is an error that carries a fix-it hint.
type hinted struct {
	msg, hint string
}

func (h hinted) Error() string { return h.msg }

func hintFor(err error) string {
	if h, ok := err.(hinted); ok {
		return h.hint
	}
	return ""
}

func errText(err error) string {
	if h, ok := err.(hinted); ok {
		return h.msg
	}
	return err.Error()
}

// DecodeValue decodes a plain value (as produced by interpolation: maps,
// slices, scalars) into out, a pointer to a config struct, with the same
// rules and messages as spec files. Used at run time for task configs.
func DecodeValue(v any, out any) error {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return fmt.Errorf("encoding config: %w", err)
	}
	var diags Diagnostics
	d := newDecoder("", &diags)
	d.decode(&n, reflect.ValueOf(out).Elem(), "")
	return diags.Err()
}

// encodeNode turns a plain value into a YAML node (nil for nil).
func encodeNode(v any) *yaml.Node {
	if v == nil {
		return nil
	}
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return nil
	}
	return &n
}
