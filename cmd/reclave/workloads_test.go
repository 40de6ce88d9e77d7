package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/reclave/reclave/results"
)

// watSum is the hand-written WAT workload of testdata: its source, the module wat2wasm built
// from it, its manifest and an expected output file, all committed.
const watSum = "testdata/wat-sum"

// copyWorkload copies the folder src into dir/<base of src>, with edit applied to the
// manifest, and returns dir.
func copyWorkload(t *testing.T, src, dir string, edit func(string) string) string {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if rel == "workload.yaml" {
			b = []byte(edit(string(b)))
		}
		write(t, filepath.Join(dir, filepath.Base(src)), rel, string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestWorkloadsCheckWAT: a workload from another toolchain (WAT), copied into a folder of its
// own, is listed and runs in every mode with its outputs validated; a wrong expectation or a
// missing stub fails the check with the reason.
func TestWorkloadsCheckWAT(t *testing.T) {
	same := func(s string) string { return s }
	tests := []struct {
		name     string
		edit     func(string) string
		wantCode int
		want     []string // in stdout
	}{
		{"as committed", same, 0, []string{"wat-sum   ok (3/3 validated)  ok (3/3 validated)  ok (3/3 validated)  ok (3/3 validated)"}},
		{"wrong expectation", func(s string) string {
			return strings.Replace(s, `"sum": 1452`, `"sum": 1453`, 1)
		}, 1, []string{"wat-sum   FAIL", "FAIL wat-sum/rewind: invocation 1: invalid output (23 bytes", "FAIL wat-sum/cold: invocation 3: invalid output"}},
		{"no expectation", func(s string) string {
			return strings.Replace(s, `, expect: {json: '{"sum": 1452, "bytes": 18}'}`, "", 1)
		}, 0, []string{"wat-sum   no expectation  no expectation  no expectation  no expectation"}},
		{"stubs not granted", func(s string) string {
			return strings.Replace(s, "stub_imports: [bench.start, bench.stop]\n", "", 1)
		}, 1, []string{"FAIL wat-sum/warm: 0 of 3 invocations ran:", "bench.start"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyWorkload(t, watSum, t.TempDir(), tt.edit)
			code, out, errOut := reclave(t, "workloads", "check", "--workloads", dir)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if code == 1 && !strings.Contains(errOut, "pairs failed") {
				t.Errorf("stderr: %s", errOut)
			}
		})
	}
}

func TestWorkloadsListWAT(t *testing.T) {
	dir := copyWorkload(t, watSum, t.TempDir(), func(s string) string { return s })
	wasm, err := os.ReadFile(filepath.Join(watSum, "sum.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	// Flags after the positional argument, too.
	code, out, errOut := reclave(t, "workloads", "list", "wat-sum", "--workloads", dir, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []listEntry
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(got) != 1 {
		t.Fatalf("%d entries:\n%s", len(got), out)
	}
	e := got[0]
	want := []listInput{{"test", "json", "json"}, {"small", "generate", "sha256"}, {"large", "generate", "file"}}
	if e.Name != "wat-sum" || e.Language != "wat" || e.Kind != "reactor" || e.ModuleBytes == nil ||
		*e.ModuleBytes != len(wasm) || e.Stateful || strings.Join(e.StubImports, ",") != "bench.start,bench.stop" ||
		e.Build != "" || len(e.Sizes) != 3 || e.Sizes[0] != want[0] || e.Sizes[1] != want[1] || e.Sizes[2] != want[2] {
		t.Fatalf("entry %+v", e)
	}

	code, out, _ = reclave(t, "workloads", "list", "--workloads", dir)
	if code != 0 || !strings.Contains(out, "wat-sum   wat       reactor  569 B") ||
		!strings.Contains(out, "test:json small:sha256 large:file") {
		t.Fatalf("exit %d, table:\n%s", code, out)
	}
}

// TestWATModuleIsBuiltFromSource: every committed .wasm beside a .wat of the same name, in the
// whole repository (test workloads, hostile modules, the proxy's test functions), is what
// wat2wasm makes of the .wat, with the flags its header names ("wat2wasm --no-check … x.wat").
// It needs wat2wasm (Debian package wabt); .ci/run installs it and sets RECLAVE_REQUIRE_TOOLS,
// so that CI never skips it.
func TestWATModuleIsBuiltFromSource(t *testing.T) {
	wat2wasm, err := exec.LookPath("wat2wasm")
	if err != nil {
		if os.Getenv("RECLAVE_REQUIRE_TOOLS") != "" {
			t.Fatal("wat2wasm not installed (Debian package wabt), and RECLAVE_REQUIRE_TOOLS is set")
		}
		t.Skip("wat2wasm not installed (Debian package wabt)")
	}
	flagsRe := regexp.MustCompile("wat2wasm((?: --[a-z-]+)*) [^ ]+\\.wat")
	var checked int
	err = filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "out" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if d.IsDir() || filepath.Ext(path) != ".wat" {
			return nil
		}
		committed, err := os.ReadFile(strings.TrimSuffix(path, ".wat") + ".wasm")
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		args := []string{path, "-o", filepath.Join(t.TempDir(), "out.wasm")}
		if m := flagsRe.FindSubmatch(src[:min(len(src), 1024)]); m != nil {
			args = append(strings.Fields(string(m[1])), args...)
		}
		if b, err := exec.Command(wat2wasm, args...).CombinedOutput(); err != nil {
			t.Errorf("wat2wasm %s: %v\n%s", strings.Join(args, " "), err, b)
			return nil
		}
		built, err := os.ReadFile(args[len(args)-1])
		if err != nil {
			return err
		}
		if !bytes.Equal(built, committed) {
			t.Errorf("%s (%d bytes) is not wat2wasm's build of its .wat (%d bytes): rebuild it", strings.TrimSuffix(path, ".wat")+".wasm", len(committed), len(built))
		}
		checked++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("checked %d modules, want the dozen or so committed beside their .wat", checked)
	}
}

func TestWorkloadsInput(t *testing.T) {
	dir := copyWorkload(t, watSum, t.TempDir(), func(s string) string { return s })
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string // stdout, or a part of stderr when the code is not 0
	}{
		{"built in, default size", []string{"json-stats"}, 0, `{"values":[3,1,2,5,4]}`},
		{"flags first", []string{"--size", "test", "noop"}, 0, `{}`},
		{"folder, generated", []string{"wat-sum", "--workloads", dir, "--size", "small"}, 0, ""},
		{"unknown workload", []string{"nope"}, 2, `no workload "nope"`},
		{"bad size", []string{"noop", "--size", "huge"}, 2, `--size "huge"`},
		{"two names", []string{"noop", "counter"}, 2, "one workload name"},
		{"no folder", []string{"noop", "--workloads", filepath.Join(dir, "missing")}, 2, "not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := reclave(t, append([]string{"workloads", "input"}, tt.args...)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d: %s", code, tt.wantCode, errOut)
			}
			switch {
			case code != 0 && !strings.Contains(errOut, tt.want):
				t.Fatalf("stderr %q lacks %q", errOut, tt.want)
			case code == 0 && tt.want != "" && out != tt.want:
				t.Fatalf("stdout %q, want %q", out, tt.want)
			case code == 0 && tt.want == "" && (!strings.HasPrefix(out, `{"data":"`) || len(out) != 1347):
				t.Fatalf("generated input %d bytes: %.40q", len(out), out)
			}
		})
	}
}

func TestWorkloadsBuildFindsTheCheckout(t *testing.T) {
	root := t.TempDir()
	write(t, root, "go.mod", "module "+moduleID+"\n\ngo 1.26\n")
	script := write(t, root, "workloads/build.sh", "echo \"built in $(basename \"$PWD\"):\" \"$@\"\n")
	sub := filepath.Join(root, "workloads", "noop")
	write(t, sub, "workload.yaml", "")
	other := t.TempDir()
	write(t, other, "go.mod", "module example.com/other\n")
	write(t, other, "workloads/build.sh", "echo wrong\n")

	tests := []struct {
		name, dir string
		args      []string
		wantCode  int
		want      string
	}{
		{"from the root", root, []string{"noop", "counter"}, 0, "built in " + filepath.Base(root) + ": noop counter\n"},
		{"from a subfolder", sub, nil, 0, "built in " + filepath.Base(root) + ":\n"},
		{"another module", other, nil, 2, "needs a source checkout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(tt.dir)
			code, out, errOut := reclave(t, append([]string{"workloads", "build"}, tt.args...)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d: %s", code, tt.wantCode, errOut)
			}
			if code == 0 && (out != tt.want || !strings.Contains(errOut, script)) {
				t.Fatalf("stdout %q, want %q; stderr %q", out, tt.want, errOut)
			}
			if code != 0 && !strings.Contains(errOut, tt.want) {
				t.Fatalf("stderr %q lacks %q", errOut, tt.want)
			}
		})
	}
}

func TestWorkloadsUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "needs a subcommand"},
		{[]string{"frob"}, `workloads "frob"`},
		{[]string{"check", "--iterations", "3"}, "flag provided but not defined"},
		{[]string{"check", "no-such-workload"}, `no workload "no-such-workload"`},
		{[]string{"list", "--workloads", "/nonexistent/reclave"}, "not a folder"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errOut := reclave(t, append([]string{"workloads"}, tt.args...)...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
		})
	}
	if code, out, _ := reclave(t, "workloads", "help"); code != 0 || !strings.Contains(out, "reclave workloads check") {
		t.Fatalf("help: exit %d\n%s", code, out)
	}
}

func TestJudge(t *testing.T) {
	yes, no := true, false
	rec := func(valid *bool, errText string) results.Record {
		return results.Record{Valid: valid, Error: errText, OutputBytes: 2, OutputSHA256: "ab"}
	}
	three := func(r results.Record) []results.Record { return []results.Record{r, r, r} }
	tests := []struct {
		name      string
		recs      []results.Record
		hasExpect bool
		expErr    error
		runErr    error
		wantCell  string
		wantWhy   string
	}{
		{"all valid", three(rec(&yes, "")), true, nil, nil, "ok (3/3 validated)", ""},
		{"stateful: first validated", []results.Record{rec(&yes, ""), rec(nil, ""), rec(nil, "")}, true, nil, nil, "ok (1/3 validated)", ""},
		{"no expectation", three(rec(nil, "")), false, nil, nil, "no expectation", ""},
		{"invalid", []results.Record{rec(&yes, ""), rec(&no, "")}, true, nil, nil, "FAIL", "invalid output (2 bytes, sha256 ab)"},
		{"invocation error without expectation", []results.Record{rec(nil, "trap: unreachable")}, false, nil, nil, "FAIL", "trap: unreachable"},
		{"nothing validated", three(rec(nil, "")), true, nil, nil, "FAIL", "no output was validated"},
		{"run stopped", nil, true, nil, errors.New("create enclave: boom"), "FAIL", "0 of 3 invocations ran: create enclave: boom"},
		{"unreadable expectation", three(rec(nil, "")), true, errors.New("gone"), nil, "FAIL", "expectation: gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := judge(tt.recs, tt.hasExpect, tt.expErr, tt.runErr)
			why := strings.Join(r.reasons, "; ")
			if r.cell != tt.wantCell || r.failed != (tt.wantCell == "FAIL") || !strings.Contains(why, tt.wantWhy) {
				t.Fatalf("cell %q failed %v reasons %q; want %q, %q", r.cell, r.failed, why, tt.wantCell, tt.wantWhy)
			}
		})
	}
}
