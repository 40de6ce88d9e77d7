// Package strictyaml decodes YAML documents strictly: an unknown key, a duplicate key, a value
// of the wrong type, a number that is not a whole one (or does not fit) for an integer, or a
// second document is an error that names the key and its line.
//
// yaml.v3 alone truncates 3.5 to 3 for an int, reads 1e3 as 1000, and names no key when a
// value is longer than ten characters; here each of these is refused with the key's path
// (dotted, with [i] for list items) and its line.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var (
	badValue = regexp.MustCompile(`^line (\d+): cannot unmarshal !!\w+ ` + "`" + `?(.*?)` + "`" + `? into (\S+)$`)
	// intSyntax is an integer as YAML writes one (decimal, 0x, 0o, 0b, underscores allowed):
	// a value of this form that does not resolve to !!int is too large for 64 bits.
	intSyntax = regexp.MustCompile(`^[-+]?(0[bB][01_]+|0[oO][0-7_]+|0[xX][0-9a-fA-F_]+|[0-9][0-9_]*)$`)
)

// Decode decodes one YAML document from b into v (a pointer to a struct with yaml tags).
// what names the document in errors, for example "config configs/quick.yaml".
func Decode(b []byte, what string, v any) error {
	root, err := Parse(b, what)
	if err != nil {
		return err
	}
	return DecodeNode(root, what, v)
}

// Parse parses b as exactly one YAML document and returns its root node (the document's
// content, not the document node). what names the document in errors.
func Parse(b []byte, what string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty document", what)
		}
		return nil, fmt.Errorf("%s: %s", what, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s: more than one YAML document", what)
	} else if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %s", what, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return &doc, nil
}

// DecodeNode decodes the node n (as [Parse] returns it, or a mapping built from parsed nodes:
// their lines are kept in errors) into v, a pointer to a struct with yaml tags, strictly: an
// unknown or duplicate key, and a value of an integer field that is not an integer that fits,
// are errors naming the key's path and line. what names the document in errors.
func DecodeNode(n *yaml.Node, what string, v any) error {
	// yaml.v3 first: it refuses a document that expands aliases excessively before the walk
	// below would follow them.
	decodeErr := n.Decode(v)
	var te *yaml.TypeError
	if decodeErr != nil && !errors.As(decodeErr, &te) {
		return fmt.Errorf("%s: %s", what, strings.TrimPrefix(decodeErr.Error(), "yaml: "))
	}
	var msgs []string
	check(n, reflect.TypeOf(v), "", &msgs)
	if len(msgs) > 0 {
		return fmt.Errorf("%s: %s", what, strings.Join(msgs, "; "))
	}
	if te != nil {
		return fmt.Errorf("%s: %s", what, explain(n, te))
	}
	return nil
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	nodeType     = reflect.TypeFor[yaml.Node]()
	unmarshaler  = reflect.TypeFor[yaml.Unmarshaler]()
)

// check walks n along the type t it decodes into and appends a message for every unknown or
// duplicate key and every integer field whose value is not an integer of its range. Values of
// the wrong kind otherwise (a list for a string, say) are left to yaml.v3's errors.
func check(n *yaml.Node, t reflect.Type, path string, msgs *[]string) {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.ShortTag() == "!!null" || t == nodeType || t == durationType ||
		t.Implements(unmarshaler) || reflect.PointerTo(t).Implements(unmarshaler) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return
		}
		fields := yamlFields(t)
		forEachKey(n, path, msgs, func(k, v *yaml.Node, p string) {
			ft, ok := fields[k.Value]
			if !ok {
				*msgs = append(*msgs, fmt.Sprintf("unknown key %q (line %d)", p, k.Line))
				return
			}
			check(v, ft, p, msgs)
		}, func(v *yaml.Node) { check(v, t, path, msgs) })
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		forEachKey(n, path, msgs, func(_, v *yaml.Node, p string) { check(v, t.Elem(), p, msgs) },
			func(v *yaml.Node) { check(v, t, path, msgs) })
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, item := range n.Content {
			check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), msgs)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if msg := checkInt(n, t); msg != "" {
			*msgs = append(*msgs, fmt.Sprintf("bad value %q for key %q (line %d): %s", n.Value, path, n.Line, msg))
		}
	}
}

// forEachKey calls each for every key of the mapping n with its value and path, reports
// duplicate keys, and calls merge for each mapping a merge key (<<) brings in.
func forEachKey(n *yaml.Node, path string, msgs *[]string, each func(k, v *yaml.Node, path string), merge func(v *yaml.Node)) {
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			if v.Kind == yaml.SequenceNode {
				for _, m := range v.Content {
					merge(m)
				}
			} else {
				merge(v)
			}
			continue
		}
		p := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			*msgs = append(*msgs, fmt.Sprintf("key %q (line %d) already defined at line %d", p, k.Line, first))
			continue
		}
		seen[k.Value] = k.Line
		each(k, v, p)
	}
}

// checkInt returns why the scalar n is not a value of the integer type t ("" when it is).
func checkInt(n *yaml.Node, t reflect.Type) string {
	if n.Kind != yaml.ScalarNode {
		return "want an integer"
	}
	// A plain scalar of integer syntax resolves to !!int when it fits 64 bits, to !!float or
	// !!str when it does not; a quoted or tagged one is a string whatever it looks like.
	written := n.Style&(yaml.TaggedStyle|yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0
	tag := n.ShortTag()
	plain := strings.ReplaceAll(n.Value, "_", "")
	if tag != "!!int" && (written || !intSyntax.MatchString(n.Value)) {
		if tag == "!!str" && intSyntax.MatchString(n.Value) {
			return "want an integer, not a quoted string"
		}
		return "want an integer (a whole number, without a fraction or exponent)"
	}
	bits := t.Bits()
	var err error
	if t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uintptr {
		_, err = strconv.ParseUint(strings.TrimPrefix(plain, "+"), 0, bits)
		if err != nil {
			return fmt.Sprintf("out of range: want an integer from 0 to %d", uint64(1)<<bits-1)
		}
		return ""
	}
	if _, err = strconv.ParseInt(plain, 0, bits); err != nil {
		return fmt.Sprintf("out of range: want an integer from %d to %d", int64(-1)<<(bits-1), int64(1)<<(bits-1)-1)
	}
	return ""
}

// yamlFields maps the yaml keys of struct type t to their field types (fields of inline
// structs included; fields tagged "-" and unexported ones left out).
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, flags, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(","+flags+",", ",inline,") && f.Type.Kind() == reflect.Struct {
			for k, ft := range yamlFields(f.Type) {
				fields[k] = ft
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}

// Key is a key of a document: its path (dotted, [i] for list items), the line it is on and
// its value.
type Key struct {
	Path  string
	Line  int
	Value *yaml.Node
}

// Keys lists the keys under n in document order: every mapping key, and every item of a
// list as path[i] (with the item's line). Aliases are not followed.
func Keys(n *yaml.Node) []Key {
	var keys []Key
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, prefix)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := join(prefix, k.Value)
				keys = append(keys, Key{Path: p, Line: k.Line, Value: v})
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", prefix, i)
				keys = append(keys, Key{Path: p, Line: c.Line, Value: c})
				walk(c, p)
			}
		}
	}
	walk(n, "")
	return keys
}

// explain rewrites yaml.v3's type errors (values of the wrong type) into ones that name the
// key, with its full path; root is the node that was decoded. (Unknown keys are found by
// check: yaml.v3 reports them only when decoding bytes with KnownFields.)
func explain(root *yaml.Node, te *yaml.TypeError) string {
	var msgs []string
	for _, e := range te.Errors {
		if m := badValue.FindStringSubmatch(e); m != nil {
			line, value := atoi(m[1]), m[2]
			// yaml.v3 shortens a value longer than ten characters to its first seven and "...".
			short, truncated := strings.CutSuffix(value, "...")
			p, v := find(root, "", func(_, v *yaml.Node) bool {
				return v.Kind == yaml.ScalarNode && v.Line == line &&
					(v.Value == value || truncated && len(v.Value) > 10 && strings.HasPrefix(v.Value, short))
			})
			if v != nil {
				value = v.Value
			}
			msgs = append(msgs, fmt.Sprintf("bad value %q for key %q (line %s): want %s", value, p, m[1], m[3]))
		} else {
			msgs = append(msgs, e)
		}
	}
	return strings.Join(msgs, "; ")
}

// find returns the dotted path and the value of the first mapping entry, in document order,
// for which match is true ("" and nil if none); sequence items are matched with an empty key
// and named [i].
func find(n *yaml.Node, prefix string, match func(k, v *yaml.Node) bool) (string, *yaml.Node) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p, v := find(c, prefix, match); v != nil {
				return p, v
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(prefix, k.Value)
			if match(k, v) {
				return p, v
			}
			if q, w := find(v, p, match); w != nil {
				return q, w
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			if match(&yaml.Node{}, c) {
				return p, c
			}
			if q, w := find(c, p, match); w != nil {
				return q, w
			}
		}
	}
	return "", nil
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
