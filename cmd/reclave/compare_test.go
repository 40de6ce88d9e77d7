package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/results"
)

// writeRun writes a run folder with records.jsonl: 40 measured invocations (and a warm-up one)
// of noop/warm (median 10 µs) and json-stats/rewind (median 50 µs) with ±5% uniform noise,
// the latencies of the configurations in slow multiplied by their factor.
func writeRun(t *testing.T, dir string, seed uint64, slow map[string]float64) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, harness.RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	enc := results.NewEncoder(f)
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, c := range []struct {
		workload, mode string
		median         float64
	}{{"noop", "warm", 10e3}, {"json-stats", "rewind", 50e3}} {
		factor := slow[c.workload+"/"+c.mode]
		if factor == 0 {
			factor = 1
		}
		for i := range 41 {
			lat := int64(c.median * factor * (1 + 0.1*(rng.Float64()-0.5)))
			r := results.Record{SchemaVersion: results.SchemaVersion, Target: "embedded", Workload: c.workload, Mode: c.mode,
				Size: "test", Load: "closed", Concurrency: 1, Seq: i, Warmup: i == 0, StartNs: int64(i) * 1e6,
				IntendedStartNs: int64(i) * 1e6, LatencyNs: lat, ResponseNs: lat, ExecNs: lat / 2, Reset: "rewind",
				PhasesNs: map[string]int64{"invoke": lat / 2, "rewind": lat / 2}}
			if c.mode == "rewind" {
				r.Strategy = "tracked"
			}
			if err := enc.Encode(&r); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func TestCompareExitStatus(t *testing.T) {
	dir := t.TempDir()
	base := writeRun(t, filepath.Join(dir, "base"), 1, nil)
	same := writeRun(t, filepath.Join(dir, "same"), 1, nil)
	rerun := writeRun(t, filepath.Join(dir, "rerun"), 9, nil)
	slowed := writeRun(t, filepath.Join(dir, "slowed"), 3, map[string]float64{"json-stats/rewind": 1.3})
	slightly := writeRun(t, filepath.Join(dir, "slightly"), 1, map[string]float64{"noop/warm": 1.02})
	other := filepath.Join(dir, "other")
	write(t, other, harness.RecordsFile, `{"schema_version":2,"workload":"hello","mode":"cold","latency_ns":5}`+"\n")
	bad := filepath.Join(dir, "bad")
	write(t, bad, harness.RecordsFile, `{"schema_version":2,"workload":"noop","mode":"warm"}`+"\n{oops\n")
	empty := filepath.Join(dir, "empty")
	write(t, empty, "summary.json", "{}")

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"identical runs", []string{base, same}, 0, []string{"no regression", "noop        warm", "~"}, ""},
		{"another run of the same", []string{base, rerun}, 0, []string{"no regression"}, ""},
		{"slowed by 30%", []string{base, slowed}, 1, []string{"1 regression(s):\n  json-stats rewind"}, "1 of 2 configurations regressed"},
		{"flags after the folders", []string{base, slowed, "--threshold", "40%"}, 0, []string{"slower by more than 40%", "no regression"}, ""},
		{"slower by less than the threshold", []string{base, slightly}, 0, []string{"slower", "no regression"}, ""},
		{"same, threshold 1%", []string{"--threshold", "1%", base, slightly}, 1, []string{"noop warm: median +"}, "regressed"},
		{"alpha and metric", []string{"--alpha=0.01", base, slowed, "--metric", "exec"}, 1, []string{"exec_ns: median", "p < 0.01"}, ""},
		{"missing folder", []string{base, filepath.Join(dir, "nowhere")}, 2, nil, "nowhere"},
		{"folder without records", []string{base, empty}, 2, nil, harness.RecordsFile},
		{"malformed records", []string{base, bad}, 2, nil, "line 2"},
		{"no common configuration", []string{base, other}, 2, nil, "share no configuration"},
		{"one folder", []string{base}, 2, nil, "two run folders"},
		{"threshold without %", []string{base, same, "--threshold", "5"}, 2, nil, "percentage"},
		{"alpha out of range", []string{base, same, "--alpha", "2"}, 2, nil, "--alpha 2"},
		{"unknown metric", []string{base, same, "--metric", "speed"}, 2, nil, `metric "speed"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := reclave(t, append([]string{"compare"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.stderr)
			}
			if tt.name == "identical runs" && strings.Count(stdout, "  ~  ") != 2 {
				t.Errorf("identical runs: want ~ in both rows:\n%s", stdout)
			}
		})
	}
}
