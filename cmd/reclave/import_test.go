package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// wasiSuite is a folder of third-party-style WASI commands: timing-hook imports, expected
// stdout with and without a final newline, one whose _start runs once per instance (see its
// README.md).
const wasiSuite = "testdata/wasi-suite"

// TestImportWASISuite: a folder of unmodified WASI commands is imported with one command and
// checked in every mode with another; a bare module of it names every refused import and how
// to provide them, and runs once they are stubbed.
func TestImportWASISuite(t *testing.T) {
	out := filepath.Join(t.TempDir(), "suite")
	code, stdout, stderr := reclave(t, "workloads", "import", wasiSuite, "--out", out)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"fib: command", "stubbed:  bench.start, bench.end", "expected: once.stdout.expected (compared line by line)",
		"imported 3 of 3 modules into " + out, "reclave workloads check --workloads " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("import output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, stderr = reclave(t, "workloads", "check", "--workloads", out)
	if code != 0 {
		t.Fatalf("check: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, name := range []string{"fib", "hello", "once"} {
		want := name + strings.Repeat(" ", 10-len(name)) + strings.TrimSpace(strings.Repeat("ok (3/3 validated)  ", 4))
		if !strings.Contains(stdout, want) {
			t.Errorf("check lacks %q:\n%s", want, stdout)
		}
	}
	// The harness's per-mode lines count the outputs checked and the invalid ones.
	if !strings.Contains(stderr, "errors=0   invalid=0/3") {
		t.Errorf("check's per-mode lines:\n%s", stderr)
	}

	// invoke of a bare module: every refused import at once, with the flags and the keys.
	code, _, stderr = reclave(t, "invoke", filepath.Join(wasiSuite, "hello.wasm"))
	for _, want := range []string{"module imports 2 host function(s) the function is not allowed: bench.start, bench.end",
		"--stub bench.start,bench.end", "stub_imports: [bench.start, bench.end]"} {
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, stderr)
		}
	}
	code, stdout, stderr = reclave(t, "invoke", filepath.Join(wasiSuite, "once.wasm"), "--stub", "bench.start", "--stub=bench.end", "--mode", "warm", "-n", "3")
	if code != 0 || strings.Count(stdout, "output:   sum(1..1000) = 500500") != 3 || strings.Count(stdout, "reset: recycle") != 3 ||
		!strings.Contains(stderr, "runs once per instance") {
		t.Fatalf("once in warm: exit %d\n%s%s", code, stdout, stderr)
	}
	// invoke of an imported workload, by its folder: the output is checked against the
	// expectation, line by line.
	code, stdout, stderr = reclave(t, "invoke", filepath.Join(out, "fib"), "--mode", "cold")
	if code != 0 || !strings.Contains(stdout, "expected: matched (lines)") {
		t.Fatalf("invoke fib: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestInvokeDropIn: invoke's flags for a module built for another harness, and what it says
// about a mismatched output, a deadline hit by a read loop and an empty output of C.
func TestInvokeDropIn(t *testing.T) {
	dir := t.TempDir()
	if code, out, errOut := reclave(t, "workloads", "import", wasiSuite, "--out", dir); code != 0 {
		t.Fatalf("import: %s%s", out, errOut)
	}
	write(t, dir, "hello/hello.stdout.expected", "Hello, World!\n") // a wrong expectation
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // in stdout or stderr
	}{
		{"stub and allow", []string{filepath.Join(wasiSuite, "fib.wasm"), "--stub", "bench.start", "--allow-import", "wasi_snapshot_preview1.path_open", "--stub", "bench.end"}, 0, []string{"fib(30) = 832040"}},
		{"stub not module.name", []string{filepath.Join(wasiSuite, "fib.wasm"), "--stub", "start"}, 2, []string{`"start": want MODULE.NAME`}},
		{"bad strategy", []string{"noop", "--strategy", "magic"}, 2, []string{`--strategy "magic"`}},
		{"negative deadline", []string{"noop", "--deadline", "-1s"}, 2, []string{"--deadline -1s"}},
		{"strategy and snapshot point", []string{"noop", "--strategy", "full", "--snapshot-point", "runtime", "-n", "2"}, 0, []string{"expected: matched (json)"}},
		{"mismatched output", []string{"hello", "--workloads", dir}, 1, []string{"expected: DID NOT MATCH (lines): output differs from hello.stdout.expected at line 1", "1 of 1 outputs did not match the expectation"}},
		{"read loop past the end of input", []string{"testdata/modules/readloop.wasm", "--deadline", "100ms"}, 1, []string{"deadline of 100ms exceeded", "the function kept reading after the end of its input", "reads of stdin returned end-of-file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := reclave(t, append([]string{"invoke"}, tt.args...)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
				}
			}
		})
	}
}

// TestEmptyOutputHint: an empty output of a C function (its manifest says c) hints at stdio
// that was never flushed, in invoke and in check.
func TestEmptyOutputHint(t *testing.T) {
	dir := t.TempDir()
	wasm, err := os.ReadFile("testdata/modules/silent.wasm")
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "silent/silent.wasm", string(wasm))
	write(t, dir, "silent/workload.yaml", "name: silent\nkind: reactor\nlanguage: c\nmodule: silent.wasm\ninputs:\n  test: {json: '{}', expect: {json: '{\"ok\":true}'}}\n")
	code, out, errOut := reclave(t, "invoke", "silent", "--workloads", dir)
	if code != 1 || !strings.Contains(out, "hint:     the output is empty: if the function writes with printf") {
		t.Fatalf("invoke: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = reclave(t, "workloads", "check", "--workloads", dir)
	if code != 1 || !strings.Contains(out, "FAIL silent/rewind: hint: the output is empty") {
		t.Fatalf("check: exit %d\n%s%s", code, out, errOut)
	}
	// Not C: no hint.
	if code, out, _ := reclave(t, "invoke", "testdata/modules/silent.wasm"); code != 0 || strings.Contains(out, "hint") {
		t.Fatalf("bare WAT module: exit %d\n%s", code, out)
	}
}

// TestBrokenManifestSkipped: one broken manifest does not block the folder's other
// workloads: list, input, invoke and build go on (reporting it), check reports it and fails,
// and a command naming it gets its manifest's error, which names the folder.
func TestBrokenManifestSkipped(t *testing.T) {
	dir := copyWorkload(t, watSum, t.TempDir(), func(s string) string { return s })
	write(t, dir, "broken/workload.yaml", "name: broken\nkind: daemon\nmodule: b.wasm\ninputs:\n  test: {}\n")
	manifest := filepath.Join(dir, "broken", "workload.yaml")
	tests := []struct {
		args     []string
		wantCode int
		want     string // in stdout+stderr
	}{
		{[]string{"workloads", "list", "--workloads", dir}, 0, "skipped workload folder broken: manifest " + manifest + ": kind"},
		{[]string{"workloads", "input", "wat-sum", "--workloads", dir}, 0, `{"values":[3,1,2]}`},
		{[]string{"workloads", "check", "--workloads", dir}, 1, "FAIL workload folder broken skipped: manifest " + manifest},
		{[]string{"workloads", "check", "--workloads", dir, "wat-sum"}, 0, "wat-sum   ok (3/3 validated)"},
		{[]string{"workloads", "input", "broken", "--workloads", dir}, 1, "manifest " + manifest + `: kind: "daemon"`},
		{[]string{"invoke", "wat-sum", "--workloads", dir}, 0, "expected: matched (json)"},
		{[]string{"invoke", "broken", "--workloads", dir}, 1, "manifest " + manifest},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:2], " ")+" "+tt.args[2], func(t *testing.T) {
			code, out, errOut := reclave(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s%s", code, tt.wantCode, tt.want, out, errOut)
			}
		})
	}
}

// TestInputBeforeExpectedFiles: reclave workloads input prints an input whose expected-output
// file does not exist yet (it is computed from that input); check then says it is missing.
func TestInputBeforeExpectedFiles(t *testing.T) {
	dir := t.TempDir()
	wasm, err := os.ReadFile(filepath.Join(watSum, "sum.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "sum/sum.wasm", string(wasm))
	write(t, dir, "sum/workload.yaml", "name: sum\nkind: reactor\nmodule: sum.wasm\nstub_imports: [bench.start, bench.stop]\n"+
		"inputs:\n  test: {json: '[1]', expect: {file: expected/test.json}}\n")
	if code, out, errOut := reclave(t, "workloads", "input", "sum", "--workloads", dir); code != 0 || out != "[1]" {
		t.Fatalf("input: exit %d, %q %s", code, out, errOut)
	}
	code, out, _ := reclave(t, "workloads", "check", "--workloads", dir)
	if code != 1 || !strings.Contains(out, "expectation: workload sum: inputs.test.expect.file: open "+filepath.Join(dir, "sum", "expected", "test.json")) {
		t.Fatalf("check: exit %d\n%s", code, out)
	}
}

// TestWorkloadsBuildNeedsBuildLibLine: a build script that sources ../buildlib.sh literally
// cannot work outside the checkout; reclave says how to write the line instead of running it.
func TestWorkloadsBuildNeedsBuildLibLine(t *testing.T) {
	dir := copyWorkload(t, watSum, t.TempDir(), func(s string) string { return s })
	write(t, dir, "wat-sum/build.sh", "#!/usr/bin/env bash\nsource ../buildlib.sh\nbuild_c reactor sum.wasm sum.c\n")
	code, _, errOut := reclave(t, "workloads", "build", "--workloads", dir)
	if code != 1 || !strings.Contains(errOut, `source "${RECLAVE_BUILDLIB:-../buildlib.sh}"`) || !strings.Contains(errOut, "1 of 1 failed: wat-sum") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
}

// requireTools skips the test when a tool it needs is missing, unless RECLAVE_REQUIRE_TOOLS
// is set (CI installs them), where it fails.
func requireTools(t *testing.T, why string, have bool) {
	t.Helper()
	if have {
		return
	}
	if os.Getenv("RECLAVE_REQUIRE_TOOLS") != "" {
		t.Fatalf("%s, and RECLAVE_REQUIRE_TOOLS is set", why)
	}
	t.Skip(why)
}

// TestOwnFolderCAndGo: a C and a Go workload written, as the docs say, in a folder outside
// the checkout are built (with the build library built into reclave), checked in every mode
// and invoked. Needs Debian's clang, lld, wasi-libc and libclang-rt-dev-wasm32 (.ci/run
// installs them) and Go.
func TestOwnFolderCAndGo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a C and a Go module")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	_, errGo := os.Stat(goCmd)
	requireTools(t, "no go command", errGo == nil)
	_, errClang := exec.LookPath("clang")
	_, errLd := exec.LookPath("wasm-ld")
	libc := false
	for _, p := range []string{"/usr/include/wasm32-wasi/wasi/api.h", "/usr/share/wasi-sysroot/include/wasi/api.h", "/usr/share/wasi-sysroot/include/wasm32-wasi/wasi/api.h"} {
		if _, err := os.Stat(p); err == nil {
			libc = true
		}
	}
	requireTools(t, "the C toolchain for wasm32-wasi is not installed (Debian: clang lld wasi-libc libclang-rt-dev-wasm32)", errClang == nil && errLd == nil && libc)
	t.Setenv("GO", goCmd)

	dir := t.TempDir()
	buildLine := "#!/usr/bin/env bash\nsource \"${RECLAVE_BUILDLIB:-../buildlib.sh}\"\n"
	write(t, dir, "count-c/count.c", `#include <stdio.h>
#include <unistd.h>

__attribute__((export_name("reclave_handle")))
int reclave_handle(void) {
    char buf[4096];
    ssize_t n, total = 0;
    while ((n = read(0, buf, sizeof buf)) > 0) total += n;
    printf("{\"bytes\":%zd}", total);
    fflush(stdout);
    return 0;
}
`)
	write(t, dir, "count-c/build.sh", buildLine+"build_c reactor count-c.wasm count.c\n")
	write(t, dir, "count-c/workload.yaml", "name: count-c\nlanguage: c\nkind: reactor\nmodule: count-c.wasm\n"+
		"inputs:\n  test: {json: '{\"a\":[1,2]}', expect: {json: '{\"bytes\":11}'}}\n")
	write(t, dir, "count-go/main_wasip1.go", `//go:build wasip1

package main

import (
	"io"
	"os"
	"strconv"
)

//go:wasmexport reclave_handle
func handle() int32 {
	in, _ := io.ReadAll(os.Stdin)
	os.Stdout.Write([]byte("{\"bytes\":" + strconv.Itoa(len(in)) + "}\n"))
	return 0
}

func main() {}
`)
	write(t, dir, "count-go/go.mod", "module example.com/count-go\n\ngo 1.24\n")
	write(t, dir, "count-go/build.sh", buildLine+"build_go count-go.wasm reactor\n")
	write(t, dir, "count-go/expected/test.txt", "{\"bytes\":11}")
	write(t, dir, "count-go/workload.yaml", "name: count-go\nlanguage: go\nkind: reactor\nmodule: count-go.wasm\n"+
		"inputs:\n  test: {json: '{\"a\":[1,2]}', expect: {lines: expected/test.txt}}\n")

	code, out, errOut := reclave(t, "workloads", "build", "--workloads", dir)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s%s", code, out, errOut)
	}
	for _, f := range []string{"count-c/count-c.wasm", "count-c/toolchain.txt", "count-go/count-go.wasm", "count-go/toolchain.txt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("build wrote no %s: %v\n%s", f, err, out)
		}
	}
	code, out, errOut = reclave(t, "workloads", "check", "--workloads", dir)
	if code != 0 || strings.Count(out, "ok (3/3 validated)") != 8 {
		t.Fatalf("check: exit %d\n%s%s", code, out, errOut)
	}
	for _, name := range []string{"count-c", "count-go"} {
		code, out, errOut = reclave(t, "invoke", name, "--workloads", dir, "--size", "test")
		if code != 0 || !strings.Contains(out, `output:   {"bytes":11}`) || !strings.Contains(out, "expected: matched") {
			t.Fatalf("invoke %s: exit %d\n%s%s", name, code, out, errOut)
		}
	}

	// Without a go.mod, build_go says what to do.
	if err := os.Remove(filepath.Join(dir, "count-go", "go.mod")); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = reclave(t, "workloads", "build", "--workloads", dir, "count-go")
	if code != 1 || !strings.Contains(errOut, "needs a go.mod of its own") {
		t.Fatalf("build without go.mod: exit %d\n%s", code, errOut)
	}
}
