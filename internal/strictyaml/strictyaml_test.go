package strictyaml

import (
	"strings"
	"testing"
)

type inner struct {
	Size int `yaml:"size"`
}

type doc struct {
	Name  string  `yaml:"name"`
	Inner inner   `yaml:"inner"`
	List  []inner `yaml:"list"`
}

func TestDecodeNamesTheKey(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown top-level key", "name: a\ncolour: red\n", `unknown key "colour" (line 2)`},
		{"unknown nested key", "inner:\n  sise: 3\n", `unknown key "inner.sise" (line 2)`},
		{"unknown key in a flow mapping", "inner: {sise: 3}\n", `unknown key "inner.sise" (line 1)`},
		{"bad value", "inner:\n  size: big\n", `bad value "big" for key "inner.size" (line 2)`},
		{"bad value in a list", "list:\n  - size: 1\n  - size: two\n", `bad value "two" for key "list[1].size"`},
		{"syntax error", "name: [a\n", "doc x"},
		{"empty", "", "empty document"},
		{"two documents", "name: a\n---\nname: b\n", "more than one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			err := Decode([]byte(tt.yaml), "doc x", &d)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	var d doc
	if err := Decode([]byte("name: a\ninner: {size: 3}\n"), "doc", &d); err != nil || d.Inner.Size != 3 {
		t.Fatalf("%+v, %v", d, err)
	}
}
