package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func reclave(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestErrorsAreClearAndExitNonZero(t *testing.T) {
	dir := t.TempDir()
	badCfg := write(t, dir, "bad.yaml", "schema_version: 1\nname: x\niterations: lots\n")
	wl := filepath.Join(dir, "wl")
	write(t, wl, "broken/workload.yaml", "name: broken\nkind: reactor\nmodule: broken.wasm\ninputs:\n  small: {json: '{}'}\n")
	write(t, wl, "broken/broken.wasm", "\x00asm\x01\x00\x00\x00\x01\xff\xff")
	brokenCfg := write(t, dir, "broken.yaml", "schema_version: 1\nname: b\nworkloads_dir: wl\niterations: 1\nwarmup: 0\n")

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "usage"},
		{"unknown command", []string{"fly"}, 2, `unknown command "fly"`},
		{"run without config", []string{"run"}, 2, "--config"},
		{"unknown flag", []string{"run", "--speed", "9"}, 2, "speed"},
		{"malformed config", []string{"run", "--config", badCfg, "--out", filepath.Join(dir, "o1")}, 1, `bad value "lots" for key "iterations"`},
		{"missing config", []string{"run", "--config", filepath.Join(dir, "none.yaml")}, 1, "no such file"},
		{"malformed wasm", []string{"run", "--config", brokenCfg, "--out", filepath.Join(dir, "o2")}, 1, "broken"},
		{"plot of a missing run", []string{"plot", filepath.Join(dir, "nowhere")}, 1, "summary"},
		{"report of a missing run", []string{"report", filepath.Join(dir, "nowhere")}, 1, "summary"},
		{"plot without folder", []string{"plot"}, 2, "run folder"},
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
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
				t.Fatalf("stderr shows a panic: %s", stderr)
			}
		})
	}
}

func TestRunPlotReport(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, dir, "c.yaml", "schema_version: 1\nname: cli\nworkloads: [counter]\nsize: test\niterations: 6\nwarmup: 1\nmode_iterations: {cold: 2}\nenclave: {memory_mib: 4}\n")
	out := filepath.Join(dir, "out")
	if code, _, stderr := reclave(t, "run", "--config", cfg, "--out", out); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := reclave(t, "plot", out)
	if code != 0 {
		t.Fatalf("plot: exit %d: %s", code, stderr)
	}
	for _, ext := range []string{"png", "svg", "pdf"} {
		p := filepath.Join(out, "plots", "cold_vs_rewind."+ext)
		if st, err := os.Stat(p); err != nil || st.Size() == 0 || !strings.Contains(stdout, p) {
			t.Fatalf("%s: %v", p, err)
		}
	}
	code, stdout, stderr = reclave(t, "report", out)
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"simulated SGX", "counter", "rewind", "p50 vs cold"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
}
