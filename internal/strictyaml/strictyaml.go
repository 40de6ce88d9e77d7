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
			msgs = append(msgs, fmt.Sprintf("unknown key %q (line %s)", orName(pathAt(&root, atoi(m[1]), ""), m[2]), m[1]))
		} else if m := badValue.FindStringSubmatch(e); m != nil {
			msgs = append(msgs, fmt.Sprintf("bad value %q for key %q (line %s): want %s", m[2], pathAt(&root, atoi(m[1]), ""), m[1], m[3]))
		} else {
			msgs = append(msgs, e)
		}
	}
	return strings.Join(msgs, "; ")
}

// pathAt returns the dotted path of the key on line, or of the key whose scalar value is on it.
func pathAt(n *yaml.Node, line int, prefix string) string {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p := pathAt(c, line, prefix); p != "" {
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
			if k.Line == line || (v.Kind == yaml.ScalarNode && v.Line == line) {
				return p
			}
			if q := pathAt(v, line, p); q != "" {
				return q
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			if c.Kind == yaml.ScalarNode && c.Line == line {
				return p
			}
			if q := pathAt(c, line, p); q != "" {
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
