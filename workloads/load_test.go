package workloads

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestTextLines(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"", nil},
		{"\n", nil},
		{"\r\n", nil},
		{"a", []string{"a"}},
		{"a\nb", []string{"a", "b"}},
		{"a\nb\n", []string{"a", "b"}},
		{"a\r\nb\r\n", []string{"a", "b"}},
		{"a\n\n", []string{"a", ""}},
		{"a\rb", []string{"a\rb"}}, // a lone CR is not a line ending
	}
	for _, tt := range tests {
		if got := TextLines([]byte(tt.text)); !slices.Equal(got, tt.want) {
			t.Errorf("TextLines(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestExpectLines(t *testing.T) {
	fsys := fstest.MapFS{
		"out.expected": {Data: []byte("fib 10 = 55\r\nfib 20 = 6765\r\n")},
		"none":         {Data: []byte("")},
	}
	manifest := "name: w\nkind: command\nmodule: w.wasm\ninputs:\n" +
		"  test:  {expect: {lines: out.expected}}\n" +
		"  small: {expect: {lines: none}}\n"
	w, err := Parse([]byte(manifest), "w/workload.yaml", fsys)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		size, output, wantErr string
	}{
		{"test", "fib 10 = 55\nfib 20 = 6765\n", ""},
		{"test", "fib 10 = 55\nfib 20 = 6765", ""},
		{"test", "fib 10 = 55\r\nfib 20 = 6765\r\n", ""},
		{"test", "fib 10 = 55\nfib 20 = 6766\n", `at line 2: got "fib 20 = 6766", want "fib 20 = 6765"`},
		{"test", "fib 10 = 55\nfib 20 = 6765\n\n", `output has 3 lines, out.expected 2: line 3 is extra: ""`},
		{"test", "fib 10 = 55\n", `line 2 is missing: "fib 20 = 6765"`},
		{"test", "", "output has 0 lines"},
		{"small", "", ""},
		{"small", "\n", ""},
		{"small", "x", "line 1 is extra"},
	}
	for _, tt := range tests {
		t.Run(tt.size+"/"+tt.output, func(t *testing.T) {
			e, err := w.Expectation(tt.size)
			if err != nil {
				t.Fatal(err)
			}
			err = e.Check([]byte(tt.output))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestOnlyNamedInputs: a manifest needs only the inputs it names (here test alone), an input
// naming no source is empty, and an expected-output file may be missing when the manifest is
// loaded (so that the input it is computed from can be printed first): reading the
// expectation is what fails, naming the file.
func TestOnlyNamedInputs(t *testing.T) {
	manifest := "name: w\nkind: command\nmodule: w.wasm\ninputs:\n  test: {expect: {file: expected/test.txt}}\n"
	w, err := Parse([]byte(manifest), "w/workload.yaml", fstest.MapFS{})
	if err != nil {
		t.Fatal(err)
	}
	if in, err := w.Input("test"); err != nil || in == nil || len(in) != 0 {
		t.Fatalf("input %q, %v", in, err)
	}
	if _, err := w.Input("small"); err == nil {
		t.Fatal("a size the manifest does not name gave an input")
	}
	if _, err := w.Expectation("test"); err == nil || !strings.Contains(err.Error(), "inputs.test.expect.file") || !strings.Contains(err.Error(), "expected/test.txt") {
		t.Fatalf("missing expected file: %v", err)
	}
	if !w.IsDeterministic() {
		t.Fatal("every input has an expectation: deterministic by default")
	}
}

// TestLoadSkipsBrokenManifests: one broken manifest does not hide the folder's other
// workloads; LoadDir names the folder in its errors.
func TestLoadSkipsBrokenManifests(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"good/workload.yaml":   "name: good\nkind: reactor\nmodule: good.wasm\ninputs:\n  test: {json: '{}'}\n",
		"broken/workload.yaml": "name: broken\nkind: daemon\nmodule: b.wasm\ninputs:\n  test: {}\n",
		"typo/workload.yaml":   "name: typo\nkindd: reactor\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ws, err := LoadDir(dir)
	var skipped *SkippedError
	if !errors.As(err, &skipped) || len(ws) != 1 || ws[0].Name != "good" || len(skipped.Skipped) != 2 {
		t.Fatalf("workloads %v, error %v", ws, err)
	}
	if e := skipped.Find("broken"); e == nil || !strings.Contains(e.Error(), filepath.Join(dir, "broken", "workload.yaml")+": kind") {
		t.Fatalf("broken: %v", e)
	}
	if e := skipped.Find("typo"); e == nil || !strings.Contains(e.Error(), `unknown key "kindd"`) {
		t.Fatalf("typo: %v", e)
	}
	if skipped.Find("good") != nil {
		t.Fatal("good was skipped")
	}
	if _, err := ws[0].Wasm(); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "good", "good.wasm")) {
		t.Fatalf("missing module: %v", err)
	}
	if _, err := LoadDir(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "read workloads folder "+filepath.Join(dir, "nope")) || strings.Contains(err.Error(), "open .") {
		t.Fatalf("missing folder: %v", err)
	}
}
