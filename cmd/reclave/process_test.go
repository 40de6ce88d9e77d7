package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/reclave/reclave/internal/runtimeimage"
	"github.com/reclave/reclave/internal/servecmd"
	"github.com/reclave/reclave/results"
)

// asMainEnv makes the test binary run as reclave itself (see TestMain): tests that need
// reclave processes start the test binary with it set, so no separate build is needed.
const asMainEnv = "RECLAVE_TEST_AS_MAIN"

// TestMain runs the test binary as reclave (asMainEnv), or runs the tests after building the
// runtime image, reclave-enclave, beside the test binary, where runs find it by default
// (harness.Config.RuntimeImagePath): their enclaves measure it, target process starts it.
func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		ctx, stop := servecmd.SignalContext()
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	if _, err := runtimeimage.BuildBesideExecutable(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// TestTargetProcess: target process runs every enclave in a reclave-enclave process (by
// default the runtime image, here the one TestMain built) — one per cold start, one per
// worker otherwise — and the records say what each invocation cost and returned, as with the
// embedded target.
func TestTargetProcess(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, dir, "process.yaml", `schema_version: 1
name: process
target: process
workloads: [counter, noop]
modes: [cold, warm, rewind]
size: test
iterations: 3
warmup: 1
mode_iterations: {cold: 2}
enclave: {memory_mib: 8}
`)
	out := filepath.Join(dir, "run")
	if code, _, stderr := reclave(t, "run", "--config", cfg, "--out", out, "--quiet"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := os.Open(filepath.Join(out, "records.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := results.DecodeRecords(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2*(3+2*4) {
		t.Fatalf("%d records, want 22", len(recs))
	}
	outputs := map[string]map[string]bool{}
	servers := map[string]map[string]bool{}
	for _, r := range recs {
		if r.Target != "process" || r.Error != "" || r.LatencyNs <= 0 || r.PhasesNs["run"] <= 0 {
			t.Fatalf("record %+v", r)
		}
		if r.Mode == "cold" && (r.PhasesNs["launch"] <= 0 || r.PhasesNs["init"] <= 0 || r.Reset != "create") {
			t.Fatalf("cold record without the process's launch and init: %+v", r)
		}
		key := r.Workload + "/" + r.Mode
		if outputs[key] == nil {
			outputs[key], servers[key] = map[string]bool{}, map[string]bool{}
		}
		outputs[key][r.OutputSHA256] = true
		servers[key][r.EnclaveID] = true
	}
	// The counter's state leaks without a reset and never after one; every cold start is a
	// process of its own, the other modes keep one.
	for key, want := range map[string]int{"counter/warm": 4, "counter/rewind": 1, "counter/cold": 1, "noop/rewind": 1} {
		if got := len(outputs[key]); got != want {
			t.Errorf("%s: %d distinct outputs, want %d", key, got, want)
		}
	}
	if len(servers["noop/cold"]) != 3 || len(servers["noop/rewind"]) != 1 {
		t.Errorf("enclave processes: cold %d (want one per invocation, 3), rewind %d (want 1)", len(servers["noop/cold"]), len(servers["noop/rewind"]))
	}
}
