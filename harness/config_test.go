package harness

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseConfigDefaults(t *testing.T) {
	c, err := ParseConfig([]byte("schema_version: 1\nname: x\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Modes, ",") != "cold,warm,reinstantiate,rewind" || c.Size != "small" ||
		*c.Iterations != 100 || *c.Warmup != 5 || c.Enclave.MemoryMiB != 64 || c.Enclave.Strategy != "auto" ||
		c.Enclave.SnapshotPoint != "function" || c.Enclave.WarmupInvocations != 3 {
		t.Fatalf("defaults %+v", c)
	}
	c, err = ParseConfig([]byte("schema_version: 1\nname: x\niterations: 7\nwarmup: 0\nmode_iterations: {cold: 2}\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.IterationsFor("cold") != 2 || c.IterationsFor("rewind") != 7 || *c.Warmup != 0 {
		t.Fatalf("iterations cold %d rewind %d warmup %d", c.IterationsFor("cold"), c.IterationsFor("rewind"), *c.Warmup)
	}
}

func TestParseConfigErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "schema_version: 1\nname: x\niteratons: 5\n", `unknown key "iteratons" (line 3)`},
		{"unknown nested key", "schema_version: 1\nname: x\nenclave:\n  memory: 64\n", `unknown key "enclave.memory"`},
		{"bad type", "schema_version: 1\nname: x\niterations: many\n", `key "iterations"`},
		{"bad nested type", "schema_version: 1\nname: x\nenclave:\n  memory_mib: big\n", `key "enclave.memory_mib"`},
		{"missing version", "name: x\n", "schema_version"},
		{"future version", "schema_version: 2\nname: x\n", "schema_version: 2"},
		{"missing name", "schema_version: 1\n", "config x.yaml: name: missing"},
		{"bad mode", "schema_version: 1\nname: x\nmodes: [cold, lukewarm]\n", `config x.yaml:3: modes[1]: "lukewarm"`},
		{"duplicate mode", "schema_version: 1\nname: x\nmodes: [cold, cold]\n", "listed twice"},
		{"bad size", "schema_version: 1\nname: x\nsize: huge\n", `size: "huge"`},
		{"zero iterations", "schema_version: 1\nname: x\niterations: 0\n", "config x.yaml:3: iterations: 0: must be at least 1"},
		{"negative warmup", "schema_version: 1\nname: x\nwarmup: -1\n", "warmup: -1"},
		{"bad mode override", "schema_version: 1\nname: x\nmode_iterations: {tepid: 3}\n", "mode_iterations.tepid"},
		{"bad strategy", "schema_version: 1\nname: x\nenclave: {strategy: magic}\n", "enclave.strategy"},
		{"tiny enclave", "schema_version: 1\nname: x\nenclave: {memory_mib: 1}\n", "enclave.memory_mib"},
		{"bad attestation", "schema_version: 1\nname: x\nenclave: {attestation: always}\n", "enclave.attestation"},
		{"bad snapshot point", "schema_version: 1\nname: x\nenclave: {snapshot_point: lunch}\n", "enclave.snapshot_point"},
		{"not yaml", "schema_version: [1\n", "config x.yaml"},
		{"empty", "", "empty document"},
		{"two documents", "schema_version: 1\nname: x\n---\nname: y\n", "more than one"},
		{"duplicate key", "schema_version: 1\nname: x\nname: y\n", "already defined"},
		{"bad target", "schema_version: 1\nname: x\ntarget: cloud\n", `target: "cloud"`},
		{"openwhisk without image", "schema_version: 1\nname: x\ntarget: openwhisk\n", "openwhisk.image"},
		{"openwhisk with modes", "schema_version: 1\nname: x\ntarget: openwhisk\nopenwhisk: {image: i}\nmodes: [cold]\n", "leave modes out"},
		{"openwhisk with inner attestation", "schema_version: 1\nname: x\ntarget: openwhisk\nopenwhisk: {image: i}\nenclave: {attestation: inner}\n", "inner reports"},
		{"openwhisk keys elsewhere", "schema_version: 1\nname: x\nopenwhisk: {image: i}\n", "only target openwhisk"},
		{"process command elsewhere", "schema_version: 1\nname: x\nprocess: {command: [x]}\n", "only target process"},
		{"process without attestation", "schema_version: 1\nname: x\ntarget: process\nenclave: {attestation: none}\n", "always attests"},
		{"bad compartments", "schema_version: 1\nname: x\nenclave: {compartments: maybe}\n", "enclave.compartments"},
		{"bad load model", "schema_version: 1\nname: x\nload: {model: chaos}\n", "load.model"},
		{"open without rate", "schema_version: 1\nname: x\nload: {model: open}\n", "load.rate"},
		{"burst without size", "schema_version: 1\nname: x\nload: {model: burst}\n", "load.burst_size"},
		{"duration with open", "schema_version: 1\nname: x\nload: {model: open, rate: 5, duration: 1s}\n", "load.duration"},
		{"zero concurrency", "schema_version: 1\nname: x\nload: {concurrency: [0]}\n", "load.concurrency[0]"},
		{"zero repetitions", "schema_version: 1\nname: x\nrepetitions: -1\n", "repetitions"},
		{"unknown expected error", "schema_version: 1\nname: x\nexpected_errors: [deadline, oops]\n", `config x.yaml:3: expected_errors[1]: "oops": want one of [trap deadline`},
		{"expected error twice", "schema_version: 1\nname: x\nexpected_errors: [dropped, dropped]\n", `expected_errors[1]: "dropped" listed twice`},
		{"empty expected errors", "schema_version: 1\nname: x\nexpected_errors: []\n", "expected_errors: an empty list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.yaml), "x.yaml")
			if err == nil {
				t.Fatal("parsed; want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestShippedConfigsParse(t *testing.T) {
	files, _ := filepath.Glob("../configs/*.yaml")
	if len(files) < 2 {
		t.Fatalf("found %d configs, want at least paper and quick", len(files))
	}
	for _, f := range files {
		c, err := LoadConfig(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, run := range c.Runs() {
			if _, err := run.LoadWorkloads(); err != nil {
				t.Fatalf("%s: experiment %q: %v", f, run.Experiment, err)
			}
		}
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	_, err := LoadConfig(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("error %v, want a not-exist error naming the file", err)
	}
}

func TestUnknownWorkload(t *testing.T) {
	c, err := ParseConfig([]byte("schema_version: 1\nname: x\nworkloads: [counter, nope]\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.LoadWorkloads(); err == nil || !strings.Contains(err.Error(), `workloads[1]: no workload "nope"`) {
		t.Fatalf("error %v", err)
	}
}

// TestExperiments: each item of experiments is the document's keys with the item's merged
// over them; mistakes in an item name the item.
func TestExperiments(t *testing.T) {
	const doc = `schema_version: 1
name: paper
size: test
iterations: 50
modes: [cold, warm, rewind]
enclave: {memory_mib: 8, attestation: outer}
experiments:
  - name: headline
  - name: throughput
    modes: [warm]
    load: {concurrency: [1, 2]}
    enclave: {attestation: none}
`
	c, err := ParseConfig([]byte(doc), "paper.yaml")
	if err != nil {
		t.Fatal(err)
	}
	runs := c.Runs()
	if len(runs) != 2 {
		t.Fatalf("%d runs", len(runs))
	}
	h, tp := runs[0], runs[1]
	if h.Experiment != "headline" || h.Name != "paper" || len(h.Modes) != 3 || *h.Iterations != 50 || h.Enclave.Attestation != "outer" {
		t.Fatalf("headline: %+v", h)
	}
	if tp.Experiment != "throughput" || !slices.Equal(tp.Modes, []string{"warm"}) || !slices.Equal(tp.Load.Concurrency, []int{1, 2}) ||
		tp.Enclave.Attestation != "none" || tp.Enclave.MemoryMiB != 8 || tp.Size != "test" {
		t.Fatalf("throughput: modes %v load %+v enclave %+v size %s", tp.Modes, tp.Load, tp.Enclave, tp.Size)
	}
	if one, _ := ParseConfig([]byte("schema_version: 1\nname: x\n"), "x.yaml"); len(one.Runs()) != 1 || one.Runs()[0] != one {
		t.Fatal("a config without experiments is its own single run")
	}
	for _, tc := range []struct{ item, want string }{
		{"  - modes: [warm]", "name"},
		{"  - name: a\n  - name: a", "listed twice"},
		{"  - name: a\n    schema_version: 1", "cannot set schema_version"},
		{"  - name: a\n    lod: {}", `unknown key "lod"`},
		{"  - name: a\n    load: {model: open}", "load.rate"},
		{"  - just a string", "mapping"},
	} {
		_, err := ParseConfig([]byte("schema_version: 1\nname: x\nexperiments:\n"+tc.item+"\n"), "x.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.item, err, tc.want)
		}
	}
}

// TestExpectedErrors: expected_errors is set per experiment, an experiment's list replacing
// the document's; left out, nothing is expected.
func TestExpectedErrors(t *testing.T) {
	const doc = `schema_version: 1
name: x
expected_errors: [deadline]
experiments:
  - name: inherits
  - name: open
    expected_errors: [dropped, trap]
`
	c, err := ParseConfig([]byte(doc), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range c.Runs() {
		got[r.Experiment] = r.ExpectedErrors
	}
	if !slices.Equal(got["inherits"], []string{"deadline"}) || !slices.Equal(got["open"], []string{"dropped", "trap"}) {
		t.Fatalf("expected errors by experiment: %v", got)
	}
	if one, _ := ParseConfig([]byte("schema_version: 1\nname: x\n"), "x.yaml"); one.ExpectedErrors != nil {
		t.Fatalf("default: %v, want none", one.ExpectedErrors)
	}
}
