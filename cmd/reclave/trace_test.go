package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reclave/reclave/trace"
)

// costsRun writes a run folder whose summary.json has the results the simulator needs.
func costsRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	res := func(mode string, resp, exec, rewind float64) map[string]any {
		return map[string]any{"target": "embedded", "workload": "noop", "mode": mode, "size": "test",
			"memory_bytes": 16 << 20, "attestation": "none", "load": "closed", "concurrency": 1, "n": 10,
			"response_ns": map[string]any{"p50": resp}, "exec_ns": map[string]any{"p50": exec},
			"rewind_ns": map[string]any{"p50": rewind}, "phases_p50_ns": map[string]int64{"eadd_eextend": 5e6, "compile": 1e6}}
	}
	sum := map[string]any{"schema_version": 3, "env": map[string]any{}, "config": map[string]any{},
		"results": []any{res("cold", 20e6, 1e3, 1e6), res("rewind", 3e3, 1e3, 2e3), res("reinstantiate", 3e3, 1e3, 20e3),
			res("warm", 2e3, 1e3, 0)}}
	b, _ := json.Marshal(sum)
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestTraceSynthSimulatePlot(t *testing.T) {
	dir := t.TempDir()
	tr, out := filepath.Join(dir, "trace"), filepath.Join(dir, "sim")
	if code, _, stderr := reclave(t, "trace", "synth", "--out", tr, "--functions", "40", "--seed", "2"); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := reclave(t, "trace", "simulate", "--trace", tr, "--costs", costsRun(t), "--top", "20",
		"--to", "3h", "--reuse", "rewind,generic,warm", "--capacity-mib", "256", "--out", out)
	if code != 0 {
		t.Fatalf("simulate: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "warm (insecure)") {
		t.Errorf("table without the insecure label:\n%s", stdout)
	}
	s, err := trace.ReadSummary(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Policies) != 1+4*3 || s.Policies[0].Policy != "none" || s.Policies[0].ColdFraction != 1 {
		t.Errorf("%d policies, first %+v", len(s.Policies), s.Policies[0].Policy)
	}
	if code, stdout, stderr := reclave(t, "plot", out); !strings.Contains(stdout, "policy_tradeoff.png") ||
		!strings.Contains(stdout, "policy_cdf.png") || !strings.Contains(stdout, "policy_timeline.png") {
		t.Errorf("plot: exit %d, %s\n%s", code, stdout, stderr)
	}
	if code, _, _ := reclave(t, "trace", "simulate", "--trace", tr, "--costs", costsRun(t), "--policies", "lru"); code != 2 {
		t.Errorf("unknown policy: exit %d, want 2", code)
	}
}

// TestTraceUsageNamesRealFlags: the trace subcommands' flags are all in the usage text.
func TestTraceUsageNamesRealFlags(t *testing.T) {
	for _, sub := range []string{"trace synth", "trace simulate", "trace replay"} {
		i := strings.Index(usage, "  reclave "+sub)
		if i < 0 {
			t.Fatalf("usage text lacks reclave %s", sub)
		}
		entry := usage[i+2:]
		if j := strings.Index(entry, "\n  reclave "); j >= 0 {
			entry = entry[:j]
		}
		for _, f := range flagsOf(t, sub) {
			if !strings.Contains(entry, "--"+f) {
				t.Errorf("usage text of reclave %s does not mention --%s", sub, f)
			}
		}
	}
}

// TestTraceReplay: replay writes records and a summary with the agreement, and report.md
// gets the agreement table; bad flags are usage errors.
func TestTraceReplay(t *testing.T) {
	dir := t.TempDir()
	tr, out := filepath.Join(dir, "trace"), filepath.Join(dir, "replay")
	if code, _, stderr := reclave(t, "trace", "synth", "--out", tr, "--functions", "20", "--seed", "1"); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := reclave(t, "trace", "replay", "--trace", tr, "--top", "3", "--to", "2m", "--speed-up", "120",
		"--out", out)
	if code != 0 {
		t.Fatalf("replay: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "cold-start fraction: replay − simulator") || !strings.Contains(stdout, "CPU queueing") {
		t.Errorf("no agreement printed:\n%s", stdout)
	}
	s, err := trace.ReadSummary(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Replay == nil || len(s.Policies) != 1 || s.Replay.Result.Invocations != s.Policies[0].Invocations ||
		s.Replay.Agreement.BoundPP != trace.ColdBoundPP {
		t.Fatalf("summary: replay %+v, %d policies", s.Replay, len(s.Policies))
	}
	if _, err := os.Stat(filepath.Join(out, "records.jsonl")); err != nil {
		t.Error(err)
	}
	if code, _, stderr := reclave(t, "plot", out); code != 0 {
		t.Fatalf("plot: exit %d: %s", code, stderr)
	}
	report, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil || !strings.Contains(string(report), "## Simulator vs. replay") || !strings.Contains(string(report), "| replay |") {
		t.Errorf("report.md without the agreement table (%v)", err)
	}
	for _, args := range [][]string{
		{"--trace", tr, "--speed-up", "0"},
		{"--trace", tr, "--from", "5m", "--to", "1m"},
		{"--trace", tr, "--to", "1440m", "--max-invocations", "10"},
		{"--speed-up", "10"},
	} {
		if code, _, _ := reclave(t, append([]string{"trace", "replay"}, args...)...); code != 2 {
			t.Errorf("trace replay %v: exit %d, want 2", args, code)
		}
	}
}
