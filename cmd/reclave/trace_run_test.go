package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/trace"
)

// TestRunTraceExperiment: reclave run runs a config's trace experiment after its invocation
// experiment into OUT/trace/NAME (the files of the trace subcommands), and reclave plot OUT
// draws the policy figures of its simulate and replay folders and links them from report.md.
func TestRunTraceExperiment(t *testing.T) {
	dir := t.TempDir()
	config := write(t, dir, "c.yaml", `schema_version: 1
name: tiny
workloads: [noop]
modes: [rewind]
iterations: 3
warmup: 0
enclave: {memory_mib: 4, measure_runtime: false, attestation: none}
experiments:
  - name: inv
  - name: pol
    kind: trace
    trace:
      synth: {functions: 10, seed: 1}
      policies: [none, keepalive]
      to: 1h
      replay:
        top: 2
        to: 1m
        speed_up: 120
`)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := reclave(t, "run", "--config", config, "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	base := filepath.Join(out, results.TraceDir, "pol")
	if !strings.Contains(stdout, "trace pol: "+filepath.Join(base, "simulate", "summary.json")) {
		t.Errorf("stdout does not name the trace summaries:\n%s", stdout)
	}
	sim, err := trace.ReadSummary(filepath.Join(base, "simulate", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sim.Policies) != 2 || sim.Policies[0].Policy != "none" || sim.Policies[1].Policy != "keepalive" ||
		sim.Trace.Functions == 0 {
		t.Errorf("simulate summary: %d policies, %+v", len(sim.Policies), sim.Trace)
	}
	rep, err := trace.ReadSummary(filepath.Join(base, "replay", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Replay
	if r == nil || r.Result.Invocations == 0 || r.Result.MemoryGBs.Busy <= 0 || len(r.Result.Timeline.MemoryBytes) < 2 {
		t.Fatalf("replay: %+v", r)
	}
	b, err := os.ReadFile(filepath.Join(base, "replay", results.RecordsFile))
	if err != nil || int64(strings.Count(string(b), "\n")) != r.Result.Invocations {
		t.Errorf("replay records: %v, %d lines for %d invocations", err, strings.Count(string(b), "\n"), r.Result.Invocations)
	}
	for _, f := range []string{"synth/invocations_per_function_md.anon.d01.csv", "../../records.jsonl"} {
		if _, err := os.Stat(filepath.Join(base, f)); err != nil {
			t.Error(err)
		}
	}

	code, stdout, stderr = reclave(t, "plot", out)
	if code != 0 {
		t.Fatalf("plot: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, f := range []string{"simulate/plots/policy_tradeoff.png", "simulate/plots/policy_cdf.png",
		"simulate/plots/policy_timeline.png", "replay/plots/policy_timeline.png", "simulate/report.md", "replay/report.md"} {
		if _, err := os.Stat(filepath.Join(base, f)); err != nil {
			t.Error(err)
		}
	}
	report, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Platform policies over a trace", "(trace/pol/simulate/report.md)",
		"(trace/pol/replay/report.md)", "(trace/pol/simulate/plots/policy_tradeoff.png)", "## Figures"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	replayReport, _ := os.ReadFile(filepath.Join(base, "replay", "report.md"))
	if !strings.Contains(string(replayReport), "busy GB-s") {
		t.Errorf("replay report.md lacks memory-time:\n%s", replayReport)
	}
}

// TestRunTraceOnlyConfig: a config of trace experiments only runs them, and reclave report
// says that no invocation experiment ran instead of printing an empty table.
func TestRunTraceOnlyConfig(t *testing.T) {
	dir := t.TempDir()
	config := write(t, dir, "c.yaml", `schema_version: 1
name: only-traces
experiments:
  - name: pol
    kind: trace
    trace:
      synth: {functions: 5, seed: 1}
      policies: [keepalive]
      to: 30m
`)
	out := filepath.Join(dir, "out")
	if code, stdout, stderr := reclave(t, "run", "--config", config, "--out", out, "--quiet"); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr := reclave(t, "report", out)
	if code != 0 {
		t.Fatalf("report: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"no invocation experiment ran", "trace experiment pol/simulate: 1 policy × reuse simulated"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "workload") {
		t.Errorf("report prints a table header for no results:\n%s", stdout)
	}
}

// TestRunTraceExperimentRefusedBeforeRunning: a bad trace option is an error of the config,
// before anything runs.
func TestRunTraceExperimentRefusedBeforeRunning(t *testing.T) {
	dir := t.TempDir()
	config := write(t, dir, "c.yaml", "schema_version: 1\nname: x\nexperiments:\n  - name: p\n    kind: trace\n    trace:\n      synth: {functions: 5}\n      policies: [lru]\n")
	out := filepath.Join(dir, "out")
	code, _, stderr := reclave(t, "run", "--config", config, "--out", out)
	if code == 0 || !strings.Contains(stderr, `experiments[0].trace.policies[0]: "lru"`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output folder made before the config was refused: %v", err)
	}
}
