package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// small keeps enclaves small so the tests stay fast.
var small = []string{"--memory-mib", "4"}

func TestSplitArgs(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.String("mode", "", "")
	fs.Int("n", 1, "")
	fs.Bool("json", false, "")
	tests := []struct {
		in, want []string
	}{
		{[]string{"counter", "--mode", "warm"}, []string{"--mode", "warm", "--", "counter"}},
		{[]string{"--json", "counter", "-n", "3"}, []string{"--json", "-n", "3", "--", "counter"}},
		{[]string{"counter", "--mode=cold", "--json"}, []string{"--mode=cold", "--json", "--", "counter"}},
		{[]string{"a", "--", "-b"}, []string{"--", "a", "-b"}},
		{[]string{"--unknown", "a"}, []string{"--unknown", "--", "a"}},
	}
	for _, tt := range tests {
		if got := splitArgs(fs, tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestInvoke(t *testing.T) {
	dir := t.TempDir()
	in := write(t, dir, "in.json", `{"user":"dave"}`)
	tests := []struct {
		name string
		args []string
		want []string // in stdout, in order
	}{
		{"cold", []string{"counter", "--mode", "cold", "-n", "2"},
			[]string{`#1 counter (cold)`, `"count":1,`, "reset: create", "eadd_eextend", "destroy", `#2 counter (cold)`, `"count":1,`}},
		{"warm leaks state", []string{"counter", "--mode", "warm", "-n", "2"},
			[]string{`"count":1,`, "reset: none", `"count":2,"previous_input":"{\"user\":\"alice\"}"`}},
		{"reinstantiate", []string{"counter", "--mode", "reinstantiate", "-n", "2"},
			[]string{`"count":1,`, "reset: reinstantiate", `"count":1,`}},
		{"rewind (default)", []string{"counter", "-n", "2"},
			[]string{"(rewind)", `"count":1,`, "reset: rewind", "pages restored:", "phases:   invoke", `"count":1,`}},
		{"flags after the positional", []string{"counter", "--mode", "warm", "-n", "2", "--size", "small"},
			[]string{"(warm)", `"count":2,"previous_input":"{\"user\":\"bob\"`}},
		{"inline input", []string{"--mode", "warm", "-n", "2", "counter", "--input", `{"user":"eve"}`},
			[]string{`"count":2,"previous_input":"{\"user\":\"eve\"}"`}},
		{"input file", []string{"counter", "--mode", "warm", "-n", "2", "--input", "@" + in},
			[]string{`"count":2,"previous_input":"{\"user\":\"dave\"}"`}},
		{"bare module", []string{"../../workloads/noop/noop.wasm"}, []string{"#1 noop (rewind)", "output:   {}"}},
		{"workloads dir", []string{"noop", "--workloads", "../../workloads"}, []string{"#1 noop", "output:   {}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := reclave(t, append(append([]string{"invoke"}, tt.args...), small...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			rest := stdout
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order):\n%s", w, stdout)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestInvokeJSON(t *testing.T) {
	code, stdout, stderr := reclave(t, append([]string{"invoke", "counter", "--json", "--mode", "warm", "-n", "3"}, small...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	n := 0
	for sc.Scan() {
		n++
		var rec invocationRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d: %v: %s", n, err, sc.Text())
		}
		var out struct{ Count int }
		if err := json.Unmarshal([]byte(rec.Output), &out); err != nil {
			t.Fatalf("line %d: output %q: %v", n, rec.Output, err)
		}
		if rec.Seq != n || rec.Mode != "warm" || out.Count != n || rec.Reset != "none" || rec.ResponseNs <= 0 || rec.TotalNs < rec.ResponseNs || rec.PhasesNs["invoke"] <= 0 {
			t.Errorf("line %d: %+v", n, rec)
		}
	}
	if n != 3 {
		t.Fatalf("%d JSON lines, want 3:\n%s", n, stdout)
	}
}

func TestInvokeErrors(t *testing.T) {
	dir := t.TempDir()
	nonce := strings.Repeat("ab", 32)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no target", []string{"invoke"}, 2, "workload name or .wasm path"},
		{"unknown workload", []string{"invoke", "nope"}, 2, `no workload "nope"`},
		{"missing input file", []string{"invoke", "counter", "--input", "@" + filepath.Join(dir, "none.json")}, 2, "--input: open"},
		{"bad inline JSON", []string{"invoke", "counter", "--input", "{user"}, 2, "not valid JSON"},
		{"missing module", []string{"invoke", filepath.Join(dir, "none.wasm")}, 2, "none.wasm"},
		{"bad mode", []string{"invoke", "counter", "--mode", "hot"}, 2, `--mode "hot"`},
		{"unknown size", []string{"invoke", "counter", "--size", "huge"}, 1, `no input of size "huge"`},
		{"attest without nonce", []string{"invoke", "counter", "--attest", "--bundle", filepath.Join(dir, "b")}, 2, "--nonce"},
		{"attest without bundle", []string{"invoke", "counter", "--attest", "--nonce", nonce}, 2, "--bundle"},
		{"attest bad nonce", []string{"invoke", "counter", "--attest", "--nonce", "xyz", "--bundle", filepath.Join(dir, "b")}, 2, "64 hex digits"},
		{"attest several", []string{"invoke", "counter", "--attest", "-n", "2", "--nonce", nonce, "--bundle", filepath.Join(dir, "b")}, 2, "one invocation"},
		{"trap", []string{"invoke", "counter", "--input", `{"trap":true}`, "--memory-mib", "4"}, 1, "1 of 1 invocations failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := reclave(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Fatalf("stderr %q does not contain %q", stderr, tt.want)
			}
		})
	}
}
