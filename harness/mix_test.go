package harness

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/reclave/reclave/workloads"
)

func TestMixConfig(t *testing.T) {
	const head = "schema_version: 1\nname: m\n"
	tests := []struct {
		name, doc string
		wantErr   string // empty: valid
	}{
		{"mix", "mix: [{workload: noop, weight: 3}, {workload: json-stats}]\nmodes: [rewind, generic]\n", ""},
		{"generic without mix", "workloads: [noop]\nmodes: [generic]\n", ""},
		{"mix and workloads", "workloads: [noop]\nmix: [{workload: noop}]\n", "workloads: a config with a mix"},
		{"twice", "mix: [{workload: noop}, {workload: noop}]\n", `mix[1].workload: "noop" listed twice`},
		{"no workload", "mix: [{weight: 2}]\n", "mix[0].workload: missing"},
		{"bad weight", "mix: [{workload: noop, weight: -1}]\n", "mix[0].weight: -1"},
		{"seed without mix", "mix_seed: 3\n", "mix_seed: only a mix"},
		{"unknown mode", "modes: [generik]\n", `modes[0]: "generik"`},
		{"generic iterations", "modes: [generic]\nmode_iterations: {generic: 3}\n", ""},
		{"generic on openwhisk", "target: openwhisk\nopenwhisk: {image: x}\nmix: [{workload: noop}]\n", "mix: target openwhisk"},
		{"generic on process", "target: process\nmodes: [generic]\n", "modes[0]: target process"},
		{"unknown workload", "mix: [{workload: nope}]\n", `no workload "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(head+tt.doc), "m.yaml")
			if err == nil {
				_, err = cfg.LoadWorkloads()
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestMixDraws: a mix's draws follow its weights, are the same for the same round and worker
// (so every mode of a round serves the same sequence) and differ between workers.
func TestMixDraws(t *testing.T) {
	cfg, err := ParseConfig([]byte("schema_version: 1\nname: m\nmix: [{workload: a, weight: 3}, {workload: b}]\nmix_seed: 7\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts := []*target{{w: &workloads.Workload{Manifest: workloads.Manifest{Name: "a"}}}, {w: &workloads.Workload{Manifest: workloads.Manifest{Name: "b"}}}}
	m := newMix(cfg, ts)
	if m.name != "a:3,b:1" {
		t.Fatalf("name %q", m.name)
	}
	seq := func(round, worker int) []int {
		rng := m.rng(round, worker)
		var out []int
		for range 4000 {
			out = append(out, m.pick(rng))
		}
		return out
	}
	s := seq(0, 0)
	if !slices.Equal(s, seq(0, 0)) || slices.Equal(s, seq(0, 1)) || slices.Equal(s, seq(1, 0)) {
		t.Fatal("draws are not seeded by round and worker")
	}
	a := 0
	for _, i := range s {
		if i == 0 {
			a++
		}
	}
	if a < 2800 || a > 3200 { // expect 3000
		t.Fatalf("a drawn %d of 4000 times, want about 3000", a)
	}
	groups, _ := plan(cfg, 0, ts, 0)
	if len(groups) != len(cfg.Modes) || groups[0].mix != m && groups[0].mix.name != m.name {
		t.Fatalf("a mix plans one group per mode: %d groups", len(groups))
	}
}

// TestRunMix runs a mix in per-function rewind enclaves and in generic enclaves, closed with
// two workers and open: every output valid, records naming the function and the mix, generic
// records the load phases and cache hits, one enclave per worker (generic) or per function and
// worker (rewind), and the same functions in the same order per worker in both modes.
func TestRunMix(t *testing.T) {
	const doc = `schema_version: 1
name: mix
size: test
iterations: 24
warmup: 2
enclave: {memory_mib: 4}
mix: [{workload: noop, weight: 2}, {workload: json-stats}]
modes: [rewind, generic]
experiments:
  - name: closed
    load: {concurrency: [2]}
  - name: open
    load: {model: open, rate: 100, concurrency: [2]}
`
	dir, sum, err := runTiny(t, context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, dir)
	enclaves := map[string]map[string]bool{}
	order := map[string][]string{} // closed: mode/worker → workloads in sequence
	for _, r := range recs {
		if r.Dropped {
			continue
		}
		if r.Mix != "noop:2,json-stats:1" || (r.Workload != "noop" && r.Workload != "json-stats") {
			t.Fatalf("record mix %q workload %q", r.Mix, r.Workload)
		}
		if r.Error != "" || r.Valid == nil || !*r.Valid {
			t.Fatalf("%s/%s/%d: error %q valid %v", r.Workload, r.Mode, r.Seq, r.Error, r.Valid)
		}
		// One enclave per worker (generic), per worker and function (rewind).
		key := r.Experiment + "/" + r.Mode + "/" + string(rune('0'+r.Worker))
		if r.Mode == "rewind" {
			key += "/" + r.Workload
		}
		if enclaves[key] == nil {
			enclaves[key] = map[string]bool{}
		}
		enclaves[key][r.EnclaveID] = true
		if r.Experiment == "closed" {
			k := r.Mode + "/" + string(rune('0'+r.Worker))
			order[k] = append(order[k], r.Workload)
		}
		switch r.Mode {
		case ModeGeneric:
			if r.CompileCacheHit == nil || !*r.CompileCacheHit || r.SnapshotPoint != "runtime" {
				t.Fatalf("generic record: cache hit %v, snapshot point %q", r.CompileCacheHit, r.SnapshotPoint)
			}
			for _, p := range []string{"load", "instantiate", "fn_init", "invoke", "rewind"} {
				if _, ok := r.PhasesNs[p]; !ok {
					t.Fatalf("generic record without phase %s: %v", p, r.PhasesNs)
				}
			}
		case "rewind":
			if r.CompileCacheHit != nil {
				t.Fatal("a per-function record has compile_cache_hit")
			}
		}
	}
	ids := map[string]bool{}
	for key, set := range enclaves {
		if len(set) != 1 {
			t.Errorf("%s: %d enclaves, want 1", key, len(set))
		}
		for id := range set {
			if ids[id] {
				t.Errorf("%s: enclave %s serves another worker or function too", key, id)
			}
			ids[id] = true
		}
	}
	if len(enclaves) < 6 { // at least the 4 generic workers and a function per rewind worker
		t.Errorf("enclaves of %d worker (and function) keys: %v", len(enclaves), enclaves)
	}
	for w := range 2 {
		k := string(rune('0' + w))
		// Closed workers draw in turn, but the split of the 24 between them is not fixed:
		// compare the shorter prefix.
		g, r := order["generic/"+k], order["rewind/"+k]
		n := min(len(g), len(r))
		if n < 2 || !slices.Equal(g[:n], r[:n]) { // each worker warms up twice
			t.Errorf("worker %d: generic drew %v, rewind %v", w, g, r)
		}
	}
	var mixes int
	for _, res := range sum.Results {
		if res.Key.Mix == "noop:2,json-stats:1" {
			mixes++
		}
	}
	if mixes < 8 { // 2 experiments × 2 modes × 2 functions
		t.Fatalf("%d results of the mix, want 8", mixes)
	}
}

// TestEstimateMix: a mix plans one configuration per mode, and a per-function worker holds an
// enclave per function of the mix, a generic worker one.
func TestEstimateMix(t *testing.T) {
	est := func(mode string) *PlanEstimate {
		t.Helper()
		cfg, err := ParseConfig([]byte("schema_version: 1\nname: m\niterations: 10\nwarmup: 0\nmodes: ["+mode+"]\n"+
			"enclave: {measure_runtime: false}\nload: {concurrency: [2]}\n"+
			"mix: [{workload: noop}, {workload: json-stats}, {workload: counter}]\n"), "m.yaml")
		if err != nil {
			t.Fatal(err)
		}
		e, err := cfg.Estimate(2)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	rw, gen := est("rewind"), est(ModeGeneric)
	if rw.Invocations != 10 || gen.Invocations != 10 {
		t.Fatalf("invocations %v and %v, want 10", rw.Invocations, gen.Invocations)
	}
	if rw.EnclaveBytes < 3*gen.EnclaveBytes*0.9 {
		t.Fatalf("enclave memory: per-function %v, generic %v: want about 3× or more", rw.EnclaveBytes, gen.EnclaveBytes)
	}
}
