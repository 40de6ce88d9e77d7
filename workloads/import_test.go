package workloads

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fnImport is a function import of a test module: module.name with result types (no
// parameters unless params says so).
type fnImport struct {
	module, name    string
	params, results []byte
}

// testModule assembles a module that imports the functions imps, defines one memory and
// exports it and one empty function () -> () per name in exports, with a producers section
// naming language lang when it is not "".
func testModule(imps []fnImport, exports []string, lang string) []byte {
	u := func(v int) []byte { // unsigned LEB128
		var b []byte
		for {
			c := byte(v & 0x7f)
			v >>= 7
			if v != 0 {
				b = append(b, c|0x80)
				continue
			}
			return append(b, c)
		}
	}
	name := func(s string) []byte { return append(u(len(s)), s...) }
	vec := func(items ...[]byte) []byte {
		b := u(len(items))
		for _, it := range items {
			b = append(b, it...)
		}
		return b
	}
	section := func(id byte, payload []byte) []byte {
		return append(append([]byte{id}, u(len(payload))...), payload...)
	}
	var types, imports [][]byte
	for i, imp := range imps {
		types = append(types, append(append([]byte{0x60}, append(u(len(imp.params)), imp.params...)...), append(u(len(imp.results)), imp.results...)...))
		imports = append(imports, append(append(name(imp.module), name(imp.name)...), append([]byte{0}, u(i)...)...))
	}
	types = append(types, []byte{0x60, 0, 0})
	var funcs, exps, bodies [][]byte
	for i, e := range exports {
		funcs = append(funcs, u(len(imps)))
		exps = append(exps, append(name(e), append([]byte{0}, u(len(imps)+i)...)...))
		bodies = append(bodies, []byte{2, 0, 0x0b})
	}
	exps = append(exps, append(name("memory"), 2, 0))
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, section(1, vec(types...))...)
	m = append(m, section(2, vec(imports...))...)
	m = append(m, section(3, vec(funcs...))...)
	m = append(m, section(5, vec([]byte{0, 1}))...)
	m = append(m, section(7, vec(exps...))...)
	m = append(m, section(10, vec(bodies...))...)
	if lang != "" {
		p := append(name("producers"), vec(append(name("language"), vec(append(name(lang), name("")...))...))...)
		m = append(m, section(0, p)...)
	}
	return m
}

const (
	i32 = 0x7f
	i64 = 0x7e
)

func TestInspect(t *testing.T) {
	wasm := testModule([]fnImport{
		{"wasi_snapshot_preview1", "fd_write", []byte{i32, i32, i32, i32}, []byte{i32}},
		{"bench", "start", nil, nil},
		{"env", "now", nil, []byte{i64}},
	}, []string{"_start"}, "C11")
	info, err := Inspect(wasm)
	if err != nil {
		t.Fatal(err)
	}
	var imps []string
	for _, imp := range info.Imports {
		imps = append(imps, imp.String()+":"+imp.Kind+":"+strings.Join(imp.Params, ",")+"->"+strings.Join(imp.Results, ","))
	}
	want := []string{"wasi_snapshot_preview1.fd_write:func:i32,i32,i32,i32->i32", "bench.start:func:->", "env.now:func:->i64"}
	if !slices.Equal(imps, want) || !slices.Equal(info.Exports, []string{"_start"}) ||
		info.Language() != "c" || !info.LooksLikeC() {
		t.Fatalf("imports %v exports %v languages %v", imps, info.Exports, info.Languages)
	}
	for _, bad := range [][]byte{nil, []byte("\x00asm\x02\x00\x00\x00"), wasm[:len(wasm)-3], append([]byte("\x00asm\x01\x00\x00\x00"), 7, 5, 1)} {
		if _, err := Inspect(bad); err == nil {
			t.Errorf("Inspect accepted % x", bad)
		}
	}
}

func TestImportName(t *testing.T) {
	for in, want := range map[string]string{
		"fib": "fib", "Hello_World": "hello-world", "a..b--c": "a-b-c", "_x_": "x", "___": "", "N-Body2": "n-body2",
	} {
		if got := importName(in); got != want {
			t.Errorf("importName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestImport: a folder of modules becomes workload folders whose manifests load, with the
// hooks that return nothing stubbed, WASI functions beyond the default granted, imports a
// stub cannot answer reported, expected stdout compared by lines, and modules that are not
// functions skipped with the reason.
func TestImport(t *testing.T) {
	src := t.TempDir()
	hooks := []fnImport{{"bench", "start", nil, nil}, {"bench", "end", []byte{i32}, nil}}
	files := map[string][]byte{
		"Fib.wasm":             testModule(append(hooks, fnImport{"wasi_snapshot_preview1", "fd_write", []byte{i32, i32, i32, i32}, []byte{i32}}), []string{"_start"}, "C11"),
		"Fib.stdout.expected":  []byte("1 1 2 3 5\n"),
		"echo.wasm":            testModule([]fnImport{{"wasi_snapshot_preview1", "path_open", nil, []byte{i32}}}, []string{"reclave_handle"}, ""),
		"echo.stdin":           []byte("hi"),
		"clock.wasm":           testModule([]fnImport{{"env", "now", nil, []byte{i64}}}, []string{"_start"}, "Rust"),
		"lib.wasm":             testModule(nil, []string{"add"}, ""),
		"junk.wasm":            []byte("not wasm"),
		"fib_.wasm":            testModule(nil, []string{"_start"}, ""), // the same name as Fib.wasm
		"notes.txt":            []byte("ignored"),
		"sub/ignored.wasm":     testModule(nil, []string{"_start"}, ""),
		"Fib.stdout.unrelated": []byte("ignored"),
	}
	for name, b := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "suite")
	opts := ImportOptions{Out: out, Allowed: []string{"wasi_snapshot_preview1.fd_write"}, Deadline: time.Minute}
	res, err := Import(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Imported{}
	for _, r := range res {
		got[filepath.Base(r.Source)] = r
	}
	if len(res) != 6 {
		t.Fatalf("%d results: %+v", len(res), res)
	}
	for file, want := range map[string]string{
		"lib.wasm": "exports neither _start", "junk.wasm": "not a WebAssembly module", "fib_.wasm": "name fib is taken by",
	} {
		if e := got[file].Skipped; e == nil || !strings.Contains(e.Error(), want) {
			t.Errorf("%s: skipped %v, want %q", file, e, want)
		}
	}
	fib, echo, clock := got["Fib.wasm"], got["echo.wasm"], got["clock.wasm"]
	switch {
	case fib.Skipped != nil || echo.Skipped != nil || clock.Skipped != nil:
		t.Fatalf("skipped: %v, %v, %v", fib.Skipped, echo.Skipped, clock.Skipped)
	case fib.Name != "fib" || fib.Kind != "command" || !slices.Equal(fib.Stubbed, []string{"bench.start", "bench.end"}) ||
		fib.Granted != nil || fib.Expected != "fib.stdout.expected" || fib.Input != "":
		t.Fatalf("fib: %+v", fib)
	case echo.Kind != "reactor" || !slices.Equal(echo.Granted, []string{"wasi_snapshot_preview1.path_open"}) || echo.Input != "echo.stdin":
		t.Fatalf("echo: %+v", echo)
	case len(clock.Unresolved) != 1 || !strings.Contains(clock.Unresolved[0], "env.now: returns i64"):
		t.Fatalf("clock: %+v", clock)
	}

	ws, err := LoadDir(out)
	if err != nil || len(ws) != 3 {
		t.Fatalf("load the imported folder: %d workloads, %v", len(ws), err)
	}
	w := ws[slices.IndexFunc(ws, func(w *Workload) bool { return w.Name == "fib" })]
	if w.Language != "c" || w.Limits.Deadline != time.Minute || w.Path() != filepath.Join(out, "fib") {
		t.Fatalf("fib manifest %+v", w.Manifest)
	}
	if in, err := w.Input("test"); err != nil || len(in) != 0 {
		t.Fatalf("fib input %q, %v", in, err)
	}
	e, err := w.Expectation("test")
	if err != nil || e.Kind() != "lines" {
		t.Fatalf("fib expectation %+v, %v", e, err)
	}
	if err := e.Check([]byte("1 1 2 3 5")); err != nil {
		t.Fatalf("output without the final newline: %v", err)
	}
	if wasm, err := w.Wasm(); err != nil || string(wasm) != string(files["Fib.wasm"]) {
		t.Fatalf("module copy: %v", err)
	}

	// A second import into the same folder refuses to overwrite, unless forced.
	res, err = Import(src, opts)
	if err != nil || res[slices.IndexFunc(res, func(r Imported) bool { return r.Name == "fib" })].Skipped == nil {
		t.Fatalf("second import: %+v, %v", res, err)
	}
	opts.Force = true
	res, _ = Import(src, opts)
	if r := res[slices.IndexFunc(res, func(r Imported) bool { return r.Name == "fib" })]; r.Skipped != nil {
		t.Fatalf("forced import: %v", r.Skipped)
	}
	if _, err := Import(filepath.Join(src, "missing"), opts); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing folder: %v", err)
	}
}
