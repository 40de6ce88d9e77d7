package harness

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/results"
)

const tinyConfig = `schema_version: 1
name: tiny
workloads: [counter, json-stats]
size: test
iterations: 8
warmup: 2
mode_iterations: {cold: 2}
enclave: {memory_mib: 4}
`

func runTiny(t *testing.T, ctx context.Context, yaml string) (string, *results.Summary, error) {
	t.Helper()
	cfg, err := ParseConfig([]byte(yaml), filepath.Join(t.TempDir(), "tiny.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	sum, err := Run(ctx, cfg, dir, nil)
	return dir, sum, err
}

func readRecords(t *testing.T, dir string) []results.Record {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := results.DecodeRecords(f)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestRun(t *testing.T) {
	dir, sum, err := runTiny(t, context.Background(), tinyConfig)
	if err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, dir)
	// 2 workloads × (cold 2+2, three modes × (8+2)).
	if want := 2 * (4 + 3*10); len(recs) != want {
		t.Fatalf("%d records, want %d", len(recs), want)
	}
	if b, err := os.ReadFile(filepath.Join(dir, ConfigFile)); err != nil || string(b) != tinyConfig {
		t.Fatalf("config copy: %q, %v", b, err)
	}
	if _, err := attest.LoadRoot(filepath.Join(dir, PlatformRootFile)); err != nil {
		t.Fatalf("platform root of the run: %v", err)
	}
	onDisk, err := results.ReadSummary(filepath.Join(dir, SummaryFile))
	if err != nil || len(onDisk.Results) != 8 || len(sum.Results) != 8 {
		t.Fatalf("summary: %v results on disk, %v", len(onDisk.Results), err)
	}
	if !onDisk.Env.Simulated || onDisk.Env.Backend != "embedded" || onDisk.Env.ConfigSHA256 == "" || onDisk.Env.GoVersion == "" {
		t.Fatalf("env %+v", onDisk.Env)
	}
	for _, r := range recs {
		if r.Error != "" {
			t.Fatalf("record %s/%s/%d failed: %s", r.Workload, r.Mode, r.Seq, r.Error)
		}
		if r.LatencyNs < r.ResponseNs || r.ResponseNs <= 0 {
			t.Fatalf("%s/%s/%d: latency %d < response %d", r.Workload, r.Mode, r.Seq, r.LatencyNs, r.ResponseNs)
		}
		wantReset := map[string]string{"cold": "create", "warm": "none", "reinstantiate": "reinstantiate", "rewind": "rewind"}[r.Mode]
		if r.Reset != wantReset && !(r.Mode == "rewind" && r.Reset == "recycle") {
			t.Fatalf("%s/%s/%d: reset %q, want %q", r.Workload, r.Mode, r.Seq, r.Reset, wantReset)
		}
		if r.Mode == "cold" {
			for _, p := range []string{"ecreate", "eadd_eextend", "einit", "runtime_init", "compile", "instantiate", "fn_init", "snapshot", "quote", "invoke", "destroy"} {
				if _, ok := r.PhasesNs[p]; !ok {
					t.Fatalf("cold record lacks phase %s: %v", p, r.PhasesNs)
				}
			}
		}
		if r.Mode == "rewind" && r.PhasesNs[r.Reset] <= 0 {
			t.Fatalf("rewind record does not time its reset: %v", r.PhasesNs)
		}
	}
	// The counter's state leaks in warm mode (every output differs) and never after a reset.
	distinct := map[string]int{}
	for _, r := range onDisk.Results {
		if r.Workload == "counter" {
			distinct[r.Mode] = r.DistinctOutput
		}
	}
	if distinct["warm"] != 8 || distinct["rewind"] != 1 || distinct["reinstantiate"] != 1 || distinct["cold"] != 1 {
		t.Fatalf("distinct counter outputs by mode %v, want warm 8 and 1 elsewhere", distinct)
	}
}

func TestRunInterruptedKeepsWhatWasWritten(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir, sum, err := runTiny(t, ctx, tinyConfig)
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("error %v, want interrupted", err)
	}
	if sum == nil || len(sum.Warnings) == 0 {
		t.Fatal("the summary of an interrupted run carries no warning")
	}
	if _, err := results.ReadSummary(filepath.Join(dir, SummaryFile)); err != nil {
		t.Fatal(err)
	}
	readRecords(t, dir)
}

func TestRunMalformedModule(t *testing.T) {
	wl := t.TempDir()
	os.MkdirAll(filepath.Join(wl, "broken"), 0o755)
	os.WriteFile(filepath.Join(wl, "broken", "workload.yaml"), []byte("name: broken\nkind: reactor\nmodule: broken.wasm\ninputs:\n  small: {json: '{}'}\n"), 0o644)
	os.WriteFile(filepath.Join(wl, "broken", "broken.wasm"), []byte("\x00asm\x01\x00\x00\x00\x0a\x04\x01\x02"), 0o644)
	cfg := "schema_version: 1\nname: b\nworkloads_dir: " + wl + "\niterations: 1\nwarmup: 0\n"
	dir, _, err := runTiny(t, context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("error %v, want one naming the workload", err)
	}
	if _, err := results.ReadSummary(filepath.Join(dir, SummaryFile)); err != nil {
		t.Fatalf("no valid summary after a failed run: %v", err)
	}
}

func TestNewRunDir(t *testing.T) {
	base := t.TempDir()
	a, err := NewRunDir(base, fixedTime)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewRunDir(base, fixedTime)
	if err != nil || a == b {
		t.Fatalf("second run dir %q (first %q), %v", b, a, err)
	}
	target, err := os.Readlink(filepath.Join(base, "latest"))
	if err != nil || target != filepath.Base(b) {
		t.Fatalf("latest -> %q, want %q (%v)", target, filepath.Base(b), err)
	}
}

var fixedTime = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// TestRunInnerAttestation: with attestation inner, every invocation signs an inner report,
// timed as phase attest.
func TestRunInnerAttestation(t *testing.T) {
	cfg := strings.Replace(tinyConfig, "enclave: {memory_mib: 4}", "enclave: {memory_mib: 4, attestation: inner}", 1)
	cfg = strings.Replace(cfg, "workloads: [counter, json-stats]", "workloads: [counter]", 1)
	dir, _, err := runTiny(t, context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range readRecords(t, dir) {
		if r.PhasesNs["attest"] <= 0 {
			t.Fatalf("%s/%d has no attest phase: %v", r.Mode, r.Seq, r.PhasesNs)
		}
	}
}

// TestRunSignerKey: a config may name the signer's key; a key that is not RSA-3072 with
// exponent 3 is refused before anything runs.
func TestRunSignerKey(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(tinyConfig, "enclave: {memory_mib: 4}", "enclave: {memory_mib: 4, signer_key: "+bad+"}", 1)
	_, _, err := runTiny(t, context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "signer_key") {
		t.Fatalf("error %v, want one naming signer_key", err)
	}
	good, err := filepath.Abs("../enclave/internal/sgx/testdata/test_signer_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	cfg = strings.Replace(tinyConfig, "enclave: {memory_mib: 4}", "enclave: {memory_mib: 4, signer_key: "+good+"}", 1)
	cfg = strings.Replace(cfg, "workloads: [counter, json-stats]", "workloads: [counter]", 1)
	if _, _, err := runTiny(t, context.Background(), cfg); err != nil {
		t.Fatalf("run with a signer key file: %v", err)
	}
}

// TestRunEGoQuoterNeedsEGoBuild: enclave.quoter ego in a build without the ego tag is refused
// before anything runs, saying how to build one that has it.
func TestRunEGoQuoterNeedsEGoBuild(t *testing.T) {
	cfg := strings.Replace(tinyConfig, "enclave: {memory_mib: 4}", "enclave: {memory_mib: 4, quoter: ego}", 1)
	_, _, err := runTiny(t, context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "-tags ego") {
		t.Fatalf("error %v, want one saying reclave lacks -tags ego", err)
	}
	if _, err := ParseConfig([]byte("schema_version: 1\nname: x\nenclave: {quoter: tpm}\n"), "x.yaml"); err == nil || !strings.Contains(err.Error(), "enclave.quoter") {
		t.Fatalf("bad quoter: %v", err)
	}
}

// TestTargetProcessRefusesStubs: reclave serve cannot stub imports, so a workload that needs
// stubs is refused by target process before anything runs, naming the workload.
func TestTargetProcessRefusesStubs(t *testing.T) {
	wl := t.TempDir()
	if err := os.CopyFS(filepath.Join(wl, "wat-sum"), os.DirFS("../cmd/reclave/testdata/wat-sum")); err != nil {
		t.Fatal(err)
	}
	cfg := "schema_version: 1\nname: p\ntarget: process\nworkloads_dir: " + wl + "\nsize: test\niterations: 1\nwarmup: 0\nmodes: [rewind]\n"
	_, _, err := runTiny(t, context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "wat-sum") || !strings.Contains(err.Error(), "stubs") {
		t.Fatalf("error %v, want one naming the workload and its stubs", err)
	}
}
