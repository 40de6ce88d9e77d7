package workloads

import (
	"bytes"
	"strings"
	"testing"
	"testing/fstest"
)

func TestBuiltin(t *testing.T) {
	ws, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, w := range ws {
		names[w.Name] = true
		wasm, err := w.Wasm()
		if err != nil || !bytes.HasPrefix(wasm, []byte("\x00asm")) {
			t.Fatalf("%s: module %v", w.Name, err)
		}
		for size := range w.Inputs {
			a, err := w.Input(size)
			if err != nil || len(a) == 0 {
				t.Fatalf("%s/%s: %v", w.Name, size, err)
			}
			b, _ := w.Input(size)
			if !bytes.Equal(a, b) {
				t.Fatalf("%s/%s: two calls gave different inputs", w.Name, size)
			}
		}
	}
	for _, want := range []string{"counter", "json-stats"} {
		if !names[want] {
			t.Errorf("workload %s is not built in", want)
		}
	}
}

func TestGenerateNumbersIsDeterministic(t *testing.T) {
	in := Input{Generate: "numbers", Count: 5, Seed: 1}
	a, b := genNumbers(in), genNumbers(in)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different bytes")
	}
	// Pinned: a change of generator changes every experiment's input, so it must be on purpose.
	if want := `{"values":[`; !bytes.HasPrefix(a, []byte(want)) || bytes.Count(a, []byte(",")) != 4 {
		t.Fatalf("generated %s", a)
	}
	if c := genNumbers(Input{Generate: "numbers", Count: 5, Seed: 2}); bytes.Equal(a, c) {
		t.Fatal("different seeds, same bytes")
	}
	if got := string(genNumbers(Input{Count: 0})); got != `{"values":[]}` {
		t.Fatalf("count 0: %s", got)
	}
}

func TestManifestErrors(t *testing.T) {
	base := "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  small: {json: '{}'}\n"
	tests := []struct{ name, yaml, want string }{
		{"unknown key", base + "color: red\n", `unknown key "color"`},
		{"unknown limit", base + "limits: {memory: 3}\n", `unknown key "limits.memory"`},
		{"import without module", base + "imports: [path_open]\n", `imports[0]: "path_open"`},
		{"bad deadline", base + "limits: {deadline: soon}\n", `key "limits.deadline"`},
		{"bad name", strings.Replace(base, "name: w", "name: W!", 1), "name"},
		{"bad kind", strings.Replace(base, "reactor", "daemon", 1), "kind"},
		{"no module", strings.Replace(base, "module: w.wasm\n", "", 1), "module: missing"},
		{"no small input", "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  test: {json: '{}'}\n", "size small"},
		{"bad size", base + "  huge: {json: '{}'}\n", "inputs.huge"},
		{"two sources", "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  small: {json: '{}', file: x}\n", "exactly one"},
		{"unknown generator", "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  small: {generate: pixels}\n", "inputs.small.generate"},
		{"count without generator", "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  small: {json: '{}', count: 3}\n", "belong to generate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "w/workload.yaml", fstest.MapFS{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadFromFolder(t *testing.T) {
	fsys := fstest.MapFS{
		"a/workload.yaml": {Data: []byte("name: a\nkind: command\nmodule: a.wasm\ninputs:\n  small: {file: in.json}\n")},
		"a/in.json":       {Data: []byte(`{"x":1}`)},
		"notes/README":    {Data: []byte("not a workload")},
	}
	ws, err := Load(fsys)
	if err != nil || len(ws) != 1 {
		t.Fatalf("%v, %v", ws, err)
	}
	if in, err := ws[0].Input("small"); err != nil || string(in) != `{"x":1}` {
		t.Fatalf("input %q, %v", in, err)
	}
	if _, err := ws[0].Wasm(); err == nil || !strings.Contains(err.Error(), "a.wasm") {
		t.Fatalf("missing module: %v", err)
	}
	if _, err := ws[0].Input("large"); err == nil {
		t.Fatal("an undefined size gave an input")
	}
	fsys["b/workload.yaml"] = &fstest.MapFile{Data: fsys["a/workload.yaml"].Data}
	if _, err := Load(fsys); err == nil || !strings.Contains(err.Error(), "two workloads") {
		t.Fatalf("duplicate names: %v", err)
	}
}
