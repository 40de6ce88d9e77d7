package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunConfigRefusedUpFront: reclave run refuses a config that is misread or that cannot
// fit the machine at once, exit status 1, naming the key and its line, and creates no run
// folder. A plan of billions of invocations is judged from its estimate, not built.
func TestRunConfigRefusedUpFront(t *testing.T) {
	const head = "schema_version: 1\nname: x\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"billions of repetitions", head + "workloads: [noop]\nrepetitions: 2000000000\n", "x.yaml:4: repetitions: 2000000000: the run would"},
		{"trillions of iterations", head + "workloads: [noop]\niterations: 1000000000000\n", "x.yaml:4: iterations: 1000000000000: the run would write about"},
		{"fractional iterations", head + "iterations: 3.5\n", `bad value "3.5" for key "iterations" (line 3): want an integer`},
		{"overflowing iterations", head + "iterations: 99999999999999999999\n", `bad value "99999999999999999999" for key "iterations" (line 3): out of range`},
		{"missing workloads_dir", head + "workloads_dir: /nonexistent\n", "x.yaml:3: workloads_dir: folder /nonexistent: "},
		{"empty workloads", head + "workloads: []\n", "x.yaml:3: workloads: an empty list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := write(t, dir, "x.yaml", tt.yaml)
			out := filepath.Join(dir, "out")
			start := time.Now()
			code, _, stderr := reclave(t, "run", "--config", cfg, "--out", out, "--quiet")
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v: a plan must be refused before it is built", d)
			}
			if code != 1 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 1 and %q", code, stderr, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a refused run created %s", out)
			}
		})
	}
}
