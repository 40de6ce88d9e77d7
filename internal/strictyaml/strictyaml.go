// Package strictyaml decodes YAML documents strictly: an unknown key, a duplicate key, a value
// of the wrong type or a second document is an error that names the key and its line.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	unknownField = regexp.MustCompile(`^line (\d+): field (\S+) not found in type \S+$`)
	badValue     = regexp.MustCompile(`^line (\d+): cannot unmarshal !!\w+ ` + "`" + `?(.*?)` + "`" + `? into (\S+)$`)
)

// Decode decodes one YAML document from b into v (a pointer to a struct with yaml tags).
// what names the document in errors, for example "config configs/quick.yaml".
func Decode(b []byte, what string, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: empty document", what)
		}
		return fmt.Errorf("%s: %s", what, explain(b, err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return fmt.Errorf("%s: more than one YAML document", what)
	} else if !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %s", what, explain(b, err))
	}
	return nil
}

// explain rewrites yaml.v3's errors into ones that name the key, with its full path.
func explain(doc []byte, err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return strings.TrimPrefix(err.Error(), "yaml: ")
	}
	var root yaml.Node
	_ = yaml.Unmarshal(doc, &root) // it parsed once already; a failure leaves paths empty
	var msgs []string
	for _, e := range te.Errors {
		if m := unknownField.FindStringSubmatch(e); m != nil {
			line, name := atoi(m[1]), m[2]
			p := find(&root, "", func(k, _ *yaml.Node) bool { return k.Line == line && k.Value == name })
			msgs = append(msgs, fmt.Sprintf("unknown key %q (line %s)", orName(p, name), m[1]))
		} else if m := badValue.FindStringSubmatch(e); m != nil {
			line, value := atoi(m[1]), m[2]
			p := find(&root, "", func(_, v *yaml.Node) bool {
				return v.Kind == yaml.ScalarNode && v.Line == line && v.Value == value
			})
			msgs = append(msgs, fmt.Sprintf("bad value %q for key %q (line %s): want %s", value, p, m[1], m[3]))
		} else {
			msgs = append(msgs, e)
		}
	}
	return strings.Join(msgs, "; ")
}

// find returns the dotted path of the first mapping entry, in document order, for which
// match is true ("" if none); sequence items are matched with a nil key and named [i].
func find(n *yaml.Node, prefix string, match func(k, v *yaml.Node) bool) string {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p := find(c, prefix, match); p != "" {
				return p
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if prefix != "" {
				p = prefix + "." + k.Value
			}
			if match(k, v) {
				return p
			}
			if q := find(v, p, match); q != "" {
				return q
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			if match(&yaml.Node{}, c) {
				return p
			}
			if q := find(c, p, match); q != "" {
				return q
			}
		}
	}
	return ""
}

func orName(path, name string) string {
	if path == "" {
		return name
	}
	return path
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
