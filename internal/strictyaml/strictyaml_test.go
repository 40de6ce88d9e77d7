package strictyaml

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type inner struct {
	Size int `yaml:"size"`
}

type doc struct {
	Name   string           `yaml:"name"`
	Inner  inner            `yaml:"inner"`
	List   []inner          `yaml:"list"`
	Count  *int             `yaml:"count"`
	Small  int8             `yaml:"small"`
	Seed   uint64           `yaml:"seed"`
	Ints   []int            `yaml:"ints"`
	ByName map[string]int   `yaml:"by_name"`
	Flag   bool             `yaml:"flag"`
	Wait   time.Duration    `yaml:"wait"`
	Rate   float64          `yaml:"rate"`
	Raw    []yaml.Node      `yaml:"raw"`
	Skip   string           `yaml:"-"`
	Extra  map[string]inner `yaml:"extra"`
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
		{"duplicate key", "name: a\nname: b\n", `key "name" (line 2) already defined at line 1`},
		{"duplicate nested key", "extra:\n  a: {size: 1}\n  a: {size: 2}\n", `key "extra.a" (line 3) already defined at line 2`},
		{"unknown key in a map's struct", "extra:\n  a: {sise: 1}\n", `unknown key "extra.a.sise" (line 2)`},
		{"a key tagged -", "skip: x\n", `unknown key "skip" (line 1)`},

		// Integers: whole numbers that fit, nothing else (yaml.v3 alone truncates 3.5 to 3
		// and reads 1e3 as 1000).
		{"fraction", "count: 3.5\n", `bad value "3.5" for key "count" (line 1): want an integer (a whole number`},
		{"exponent", "count: 1e3\n", `bad value "1e3" for key "count" (line 1): want an integer`},
		{"quoted", "count: \"3\"\n", `bad value "3" for key "count" (line 1): want an integer, not a quoted string`},
		{"boolean", "count: true\n", `bad value "true" for key "count" (line 1): want an integer`},
		{"overflow", "count: 99999999999999999999\n", `bad value "99999999999999999999" for key "count" (line 1): out of range: want an integer from -9223372036854775808 to 9223372036854775807`},
		{"overflow of a small type", "small: 300\n", `bad value "300" for key "small" (line 1): out of range: want an integer from -128 to 127`},
		{"negative unsigned", "seed: -1\n", `bad value "-1" for key "seed" (line 1): out of range: want an integer from 0 to 18446744073709551615`},
		{"overflowing hexadecimal", "seed: 0x1ffffffffffffffff\n", `bad value "0x1ffffffffffffffff" for key "seed" (line 1): out of range`},
		{"fraction in a list", "ints: [1, 2.5]\n", `bad value "2.5" for key "ints[1]" (line 1)`},
		{"fraction in a map", "by_name:\n  a: 1\n  b: 0.5\n", `bad value "0.5" for key "by_name.b" (line 3)`},
		{"fraction in a list of structs", "list:\n  - size: 1\n  - size: 1.5\n", `bad value "1.5" for key "list[1].size" (line 3)`},
		{"a list for an integer", "count: [1]\n", `key "count" (line 1): want an integer`},
		{"every error", "count: 1.5\nsmall: 1000\n", `"count" (line 1): want an integer (a whole number, without a fraction or exponent); bad value "1000"`},

		// yaml.v3 shortens values longer than ten characters in its errors; the key is found
		// all the same and the value given whole.
		{"long bad value", "flag: definitely-not\n", `bad value "definitely-not" for key "flag" (line 1): want bool`},
		{"long bad duration", "wait: a-very-long-time\n", `bad value "a-very-long-time" for key "wait" (line 1)`},
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

// TestDecodeAccepts: what is well formed decodes as yaml.v3 decodes it.
func TestDecodeAccepts(t *testing.T) {
	const in = `name: a
count: 1_000
small: -128
seed: 0xffffffffffffffff
ints: [0o17, 0b101, +7]
by_name: {a: 1}
flag: true
wait: 1m30s
rate: 2.5
raw: [anything, {at: all}]
base: &base {size: 4}
inner: *base
extra:
  a:
    <<: *base
`
	type withBase struct {
		doc  `yaml:",inline"`
		Base inner `yaml:"base"`
	}
	var d withBase
	if err := Decode([]byte(in), "doc", &d); err != nil {
		t.Fatal(err)
	}
	if *d.Count != 1000 || d.Small != -128 || d.Seed != 1<<64-1 || d.Ints[0] != 15 || d.Ints[1] != 5 || d.Ints[2] != 7 ||
		d.ByName["a"] != 1 || !d.Flag || d.Wait != 90*time.Second || d.Rate != 2.5 || len(d.Raw) != 2 ||
		d.Inner.Size != 4 || d.Extra["a"].Size != 4 {
		t.Fatalf("%+v", d)
	}
}

// TestParseAndKeys: Parse gives the document's root; Keys lists every key with its line, and
// DecodeNode of a mapping built from parsed nodes names the lines of the file.
func TestParseAndKeys(t *testing.T) {
	root, err := Parse([]byte("name: a\nlist:\n  - size: 1\n  - size: 2\n"), "doc")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range Keys(root) {
		got = append(got, fmt.Sprintf("%s:%d", k.Path, k.Line))
	}
	if want := "name:1 list:2 list[0]:3 list[0].size:3 list[1]:4 list[1].size:4"; strings.Join(got, " ") != want {
		t.Fatalf("keys %s, want %s", strings.Join(got, " "), want)
	}
	other, err := Parse([]byte("name: b\n\n\ncount: 2.5\n"), "doc")
	if err != nil {
		t.Fatal(err)
	}
	merged := &yaml.Node{Kind: yaml.MappingNode, Content: append(slices.Clone(root.Content[:2]), other.Content[2:]...)}
	var d doc
	if err := DecodeNode(merged, "merged", &d); err == nil || !strings.Contains(err.Error(), `for key "count" (line 4)`) {
		t.Fatalf("error %v", err)
	}
	for _, in := range []string{"", "# nothing\n"} {
		if _, err := Parse([]byte(in), "doc"); err == nil || !strings.Contains(err.Error(), "empty document") {
			t.Errorf("%q: error %v", in, err)
		}
	}
}
