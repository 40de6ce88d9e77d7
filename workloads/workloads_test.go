package workloads

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
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
			if _, err := w.Expectation(size); err != nil {
				t.Fatalf("%s/%s: %v", w.Name, size, err)
			}
		}
		// CI rebuilds every committed module from source with its build script.
		if w.Build == "" {
			t.Errorf("%s: no build script (build.sh or the manifest's build key)", w.Name)
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
		{"no inputs", "name: w\nkind: reactor\nmodule: w.wasm\n", "inputs: none: give at least one size"},
		{"bad size", base + "  huge: {json: '{}'}\n", "inputs.huge"},
		{"two sources", "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  small: {json: '{}', file: x}\n", "at most one"},
		{"unknown generator", "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  small: {generate: pixels}\n", "inputs.small.generate"},
		{"count without generator", "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  small: {json: '{}', count: 3}\n", "belong to generate"},
		{"stub import without module", base + "stub_imports: [now]\n", `stub_imports[0]: "now"`},
		{"stub import twice", base + "stub_imports: [env.a, env.a]\n", `stub_imports[1]: "env.a" listed twice`},
		{"stub import also granted", base + "imports: [env.a]\nstub_imports: [env.a]\n", "also in imports"},
		{"stateful not a boolean", base + "stateful: maybe\n", `key "stateful"`},
		{"missing build script", base + "build: make.sh\n", `build: "make.sh": no such file`},
		{"build script outside", base + "build: ../build.sh\n", "inside the workload folder"},
		{"expect two", "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  small: {json: '{}', expect: {json: '{}', sha256: " + strings.Repeat("a", 64) + "}}\n", "inputs.small.expect: give exactly one"},
		{"expect none", "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  small: {json: '{}', expect: {}}\n", "inputs.small.expect: give exactly one"},
		{"expect unknown key", "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  small: {json: '{}', expect: {text: hi}}\n", `unknown key "inputs.small.expect.text"`},
		{"expect file outside", "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  small: {json: '{}', expect: {file: ../small.json}}\n", `w/workload.yaml: inputs.small.expect: file: "../small.json": want a path inside`},
		{"expect lines outside", "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  small: {json: '{}', expect: {lines: /etc/passwd}}\n", `inputs.small.expect: lines: "/etc/passwd"`},
		{"expect file and lines", "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  small: {json: '{}', expect: {file: a, lines: a}}\n", "give exactly one of file, lines, sha256 or json"},
		{"expect bad sha256", "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  small: {json: '{}', expect: {sha256: abc}}\n", "inputs.small.expect: sha256"},
		{"expect bad json", "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  small: {json: '{}', expect: {json: '{\"a\":'}}\n", "inputs.small.expect: json"},
		{"expect json with two values", "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n  small: {json: '{}', expect: {json: '1 2'}}\n", "data after the first JSON value"},
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

// The literal values below were computed independently of this package, with Python:
//
//	M = 2**64 - 1
//	def splitmix64(s):
//	    while True:
//	        s = (s + 0x9E3779B97F4A7C15) & M; z = s
//	        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
//	        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
//	        yield z ^ (z >> 31)
//	bytes: base64.b64encode(b"".join(next(g).to_bytes(8, "little") for _ in range((n+7)//8))[:n])
//	text:  " ".join(WORDS[next(g) % 64] for _ in range(n))
func TestGenerators(t *testing.T) {
	tests := []struct {
		gen   string
		count int
		seed  uint64
		want  string
	}{
		{"bytes", 0, 1, `{"data":""}`},
		{"bytes", 1, 0, `{"data":"rw=="}`},
		{"bytes", 7, 42, `{"data":"lW7rLyYy1w=="}`},
		{"bytes", 9, 12345, `{"data":"oBHRqViCESLt"}`},
		{"bytes", 20, 1, `{"data":"wVwCiewtCpFn7I5loY3rvl5VMvs="}`},
		{"text", 0, 1, `{"text":""}`},
		{"text", 1, 0, `{"text":"she"}`},
		{"text", 5, 99, `{"text":"their said like not would"}`},
		{"text", 12, 7, `{"text":"not when and are all this into time your about up out"}`},
	}
	// Longer outputs, by SHA-256: the 1000 words of seed 3 use every index, 63 ("could") 17
	// times.
	long := []struct {
		gen    string
		count  int
		seed   uint64
		size   int
		sha256 string
	}{
		{"text", 1000, 3, 4308, "3a26e59c5619f456f0026f39ebaea78586fb14f43fc649b976057c333e420485"},
		{"bytes", 1000, 5, 1347, "6cbdd8475b5749877be24d590eea06f9cf48456dd50de29562a1b7d1de1751be"},
	}
	for _, tt := range long {
		got := generators[tt.gen](Input{Generate: tt.gen, Count: tt.count, Seed: tt.seed})
		sum := sha256.Sum256(got)
		if len(got) != tt.size || hex.EncodeToString(sum[:]) != tt.sha256 {
			t.Errorf("%s %d %d: %d bytes, sha256 %x", tt.gen, tt.count, tt.seed, len(got), sum)
		}
	}
	if len(textWords) != 64 {
		t.Fatalf("%d words, want 64", len(textWords))
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d/%d", tt.gen, tt.count, tt.seed), func(t *testing.T) {
			got := generators[tt.gen](Input{Generate: tt.gen, Count: tt.count, Seed: tt.seed})
			if string(got) != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	// The first SplitMix64 output for seed 0 is the published reference value.
	if got := (&splitMix64{0}).next(); got != 0xe220a8397b1dcdaf {
		t.Fatalf("splitmix64(0) = %#x", got)
	}
}

func TestNewKeys(t *testing.T) {
	yaml := "name: w\nkind: reactor\nmodule: w.wasm\nstateful: true\n" +
		"imports: [wasi_snapshot_preview1.path_open]\nstub_imports: [env.now, bench.start]\n" +
		"inputs:\n  small: {json: '{}'}\n"
	tests := []struct {
		name      string
		fsys      fstest.MapFS
		manifest  string
		wantBuild string
	}{
		{"no build script", fstest.MapFS{}, yaml, ""},
		{"default build script", fstest.MapFS{"build.sh": {}}, yaml, "build.sh"},
		{"named build script", fstest.MapFS{"scripts/make.sh": {}}, yaml + "build: scripts/make.sh\n", "scripts/make.sh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := Parse([]byte(tt.manifest), "w/workload.yaml", tt.fsys)
			if err != nil {
				t.Fatal(err)
			}
			if w.Build != tt.wantBuild || !w.Stateful ||
				!slices.Equal(w.StubImports, []string{"env.now", "bench.start"}) {
				t.Fatalf("build %q stateful %v stubs %v", w.Build, w.Stateful, w.StubImports)
			}
			if e, err := w.Expectation("small"); e != nil || err != nil {
				t.Fatalf("no expect key gave %v, %v", e, err)
			}
		})
	}
}

func TestSameNumber(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"3", "3", true},
		{"3", "3.0", true},
		{"3", "4", false},
		{"0.1", "0.10000000000000001", true}, // the same double, as C's %.17g prints it
		{"0.1", "0.1000000000000001", false},
		{"-0", "0", true},
		{"12345678901234567890", "12345678901234567891", false}, // integers compare exactly
		{"1e400", "1e400", true},
		{"1e400", "2e400", false},
	}
	for _, tt := range tests {
		if got := sameNumber(json.Number(tt.a), json.Number(tt.b)); got != tt.want {
			t.Errorf("sameNumber(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestExpectCheck(t *testing.T) {
	fsys := fstest.MapFS{
		"expected/small.txt": {Data: []byte("hello\n")},
	}
	manifest := "name: w\nkind: reactor\nmodule: w.wasm\ninputs:\n" +
		"  test:  {json: '{}', expect: {json: '{\"count\":3,\"stats\":{\"mean\":1.5,\"tags\":[\"a\",\"b\"]},\"ok\":true,\"none\":null}'}}\n" +
		"  small: {json: '{}', expect: {file: expected/small.txt}}\n" +
		"  large: {json: '{}', expect: {sha256: 2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824}}\n"
	w, err := Parse([]byte(manifest), "w/workload.yaml", fsys)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		size, output, wantErr string // wantErr "" means valid
	}{
		{"test", `{"count":3,"stats":{"mean":1.5,"tags":["a","b"]},"ok":true,"none":null}`, ""},
		{"test", " {\"none\":null, \"ok\":true,\n \"stats\":{\"tags\":[\"a\",\"b\"],\"mean\":15e-1},\"count\":3.0}\n", ""},
		{"test", `{"count":4,"stats":{"mean":1.5,"tags":["a","b"]},"ok":true,"none":null}`, "at $.count: got 4, want 3"},
		{"test", `{"count":3,"stats":{"mean":1.5,"tags":["a","c"]},"ok":true,"none":null}`, `at $.stats.tags[1]: got "c", want "b"`},
		{"test", `{"count":3,"stats":{"mean":1.5,"tags":["a"]},"ok":true,"none":null}`, "at $.stats.tags: got 1 elements, want 2"},
		{"test", `{"count":3,"stats":{"mean":1.5000001,"tags":["a","b"]},"ok":true,"none":null}`, "at $.stats.mean: got 1.5000001, want 1.5"},
		{"test", `{"count":"3","stats":{"mean":1.5,"tags":["a","b"]},"ok":true,"none":null}`, `at $.count: got string "3", want number 3`},
		{"test", `{"stats":{"mean":1.5,"tags":["a","b"]},"ok":true,"none":null}`, `at $: missing key "count"`},
		{"test", `{"count":3,"extra":1,"stats":{"mean":1.5,"tags":["a","b"]},"ok":true,"none":null}`, `at $: unexpected key "extra"`},
		{"test", `{"count":3,"count":3,"stats":{"mean":1.5,"tags":["a","b"]},"ok":true,"none":null}`, `duplicate key "count"`},
		{"test", `{"count":3,"stats":{"mean":1.5,"tags":["a","b"]},"ok":false,"none":null}`, "at $.ok: got false, want true"},
		{"test", `{"count":3e0,"stats":{"mean":1.50000000000000001,"tags":["a","b"]},"ok":true,"none":null}`, ""},
		{"test", `{"count":3,"stats":{"mean":1.5,"tags":["a","b"]},"ok":true,"none":{}}`, "at $.none: got object {}, want null null"},
		{"test", `{"count":3`, "output is not JSON"},
		{"test", `{} {}`, "data after the first JSON value"},
		{"test", ``, "no JSON value"},
		{"small", "hello\n", ""},
		{"small", "hello", "output (5 bytes) differs from expected/small.txt (6 bytes) at byte 5"},
		{"small", "jello\n", "at byte 0"},
		{"large", "hello", ""},
		{"large", "hello\n", "output sha256 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 (6 bytes), want 2cf24dba"},
	}
	for _, tt := range tests {
		t.Run(tt.size+"/"+tt.output, func(t *testing.T) {
			e, err := w.Expectation(tt.size)
			if err != nil || e == nil {
				t.Fatalf("expectation %v, %v", e, err)
			}
			err = e.Check([]byte(tt.output))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("valid output refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestDeterministic: the manifest's deterministic key, its default (true when every input has
// an expect), and the modes in which a workload's outputs must repeat (not warm for a stateful
// one); the built-in workloads whose outputs are random by design say so.
func TestDeterministic(t *testing.T) {
	const head = "name: w\nkind: reactor\nmodule: w.wasm\n"
	const expectAll = "inputs:\n  test: {json: '{}', expect: {json: '{}'}}\n  small: {json: '{}', expect: {json: '{}'}}\n"
	const expectSome = "inputs:\n  test: {json: '{}'}\n  small: {json: '{}', expect: {json: '{}'}}\n"
	tests := []struct {
		name          string
		manifest      string
		deterministic bool
		repeats       map[string]bool // mode → RepeatsOutput
	}{
		{"every input expected", head + expectAll, true,
			map[string]bool{"cold": true, "warm": true, "reinstantiate": true, "rewind": true}},
		{"an input without expect", head + expectSome, false,
			map[string]bool{"cold": false, "warm": false, "rewind": false}},
		{"said deterministic", head + "deterministic: true\n" + expectSome, true,
			map[string]bool{"cold": true, "warm": true, "rewind": true}},
		{"said random", head + "deterministic: false\n" + expectAll, false,
			map[string]bool{"cold": false, "warm": false, "rewind": false}},
		{"stateful: warm is not clean state", head + "stateful: true\n" + expectAll, true,
			map[string]bool{"cold": true, "warm": false, "reinstantiate": true, "rewind": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := Parse([]byte(tt.manifest), "w/workload.yaml", fstest.MapFS{})
			if err != nil {
				t.Fatal(err)
			}
			if w.IsDeterministic() != tt.deterministic {
				t.Errorf("IsDeterministic %v, want %v", w.IsDeterministic(), tt.deterministic)
			}
			for mode, want := range tt.repeats {
				if got := w.RepeatsOutput(mode); got != want {
					t.Errorf("RepeatsOutput(%s) = %v, want %v", mode, got, want)
				}
			}
		})
	}
	if _, err := Parse([]byte(head+"deterministic: sometimes\n"+expectAll), "w/workload.yaml", fstest.MapFS{}); err == nil ||
		!strings.Contains(err.Error(), `key "deterministic"`) {
		t.Errorf("deterministic: sometimes: error %v", err)
	}

	ws, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]bool{
		"leak-probe": {"cold": false, "rewind": false},
		"session-go": {"cold": false, "rewind": false},
		"counter":    {"cold": true, "reinstantiate": true, "rewind": true, "warm": false},
		"json-stats": {"cold": true, "warm": true, "rewind": true},
	}
	for _, w := range ws {
		for mode, repeats := range want[w.Name] {
			if got := w.RepeatsOutput(mode); got != repeats {
				t.Errorf("%s in %s: RepeatsOutput %v, want %v", w.Name, mode, got, repeats)
			}
		}
		if (w.Name == "leak-probe" || w.Name == "session-go" || w.Name == "counter") && w.Deterministic == nil {
			t.Errorf("%s: the manifest should say deterministic explicitly", w.Name)
		}
	}
}
