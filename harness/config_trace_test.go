package harness

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reclave/reclave/internal/tracespec"
)

// traceConfig is a config with an invocation experiment and the trace experiment item.
func traceConfig(item string) string {
	return "schema_version: 1\nname: x\nworkloads: [noop]\nmodes: [rewind]\nexperiments:\n  - name: inv\n" + item
}

func TestParseConfigTraceExperiment(t *testing.T) {
	c, err := ParseConfig([]byte(traceConfig(`  - name: policies
    kind: trace
    trace:
      synth: {functions: 200, seed: 3}
      policies: [none, keepalive]
      keepalive: 5m
      workload: noop
      replay:
        synth: {functions: 20}
        top: 4
        to: 4m
        speed_up: 80
  - name: azure
    kind: trace
    trace:
      path: traces/azure2019
      reuse: [rewind, generic]
      nodes: 2
      capacity_mib: 0
`)), "configs/x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if runs := c.Runs(); len(runs) != 1 || runs[0].Experiment != "inv" {
		t.Fatalf("invocation experiments %v", runs)
	}
	tx := c.TraceExperiments()
	if len(tx) != 2 || tx[0].Name != "policies" || tx[1].Name != "azure" {
		t.Fatalf("trace experiments %+v", tx)
	}
	p := tx[0]
	want := tracespec.DefaultSimulate()
	want.Policies, want.KeepAlive, want.Workload = []string{"none", "keepalive"}, 5*time.Minute, "noop"
	if *p.Synth != (tracespec.Synth{Functions: 200, Days: 1, Seed: 3}) || p.Path != "" ||
		!slices.Equal(p.Simulate.Policies, want.Policies) || !slices.Equal(p.Simulate.Reuse, want.Reuse) ||
		p.Simulate.Nodes != 1 || p.Simulate.Select.KeepAlive != 5*time.Minute || p.Simulate.Arrivals != "poisson" {
		t.Errorf("simulate %+v synth %+v", p.Simulate, p.Synth)
	}
	r := p.Replay
	if r == nil || *r.Synth != (tracespec.Synth{Functions: 20, Days: 1, Seed: 1}) || r.Top != 4 || r.To != 4*time.Minute ||
		r.SpeedUp != 80 || r.Policy != "keepalive" || r.Reuse != "rewind" || r.CapacityMiB != 1024 ||
		r.Replay.KeepAlive != 5*time.Minute || r.Replay.Workload != "noop" || r.MaxInvocations != 200000 {
		t.Errorf("replay %+v", r)
	}
	a := tx[1]
	if a.Path != filepath.Join("configs", "traces", "azure2019") || a.Synth != nil || a.Replay != nil ||
		a.Simulate.Nodes != 2 || !slices.Equal(a.Simulate.Reuse, []string{"rewind", "generic"}) ||
		len(a.Simulate.Policies) != len(tracespec.Policies) {
		t.Errorf("azure %+v", a)
	}

	// Only trace experiments: no invocation experiment runs.
	c, err = ParseConfig([]byte("schema_version: 1\nname: x\nexperiments:\n  - name: t\n    kind: trace\n    trace: {path: t.csv}\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Runs()) != 0 || len(c.TraceExperiments()) != 1 {
		t.Errorf("runs %d, traces %d", len(c.Runs()), len(c.TraceExperiments()))
	}
	// kind invocations, explicitly, is the default kind.
	if c, err = ParseConfig([]byte(traceConfig("    kind: invocations\n")), "x.yaml"); err != nil || len(c.Runs()) != 1 {
		t.Errorf("kind invocations: %v", err)
	}
}

func TestParseConfigTraceExperimentErrors(t *testing.T) {
	item := func(trace string) string {
		return traceConfig("  - name: p\n    kind: trace\n    trace:\n" + trace)
	}
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown key", item("      synth: {functions: 5}\n      polices: [none]\n"),
			`experiments[1]: unknown key "trace.polices" (line 11)`},
		{"unknown replay key", item("      path: t.csv\n      replay: {speedup: 5}\n"), `unknown key "trace.replay.speedup"`},
		{"invocation key", traceConfig("  - name: p\n    kind: trace\n    modes: [cold]\n    trace: {path: t.csv}\n"),
			"config x.yaml:9: experiments[1].modes: a key of invocation experiments"},
		{"bad policy", item("      path: t.csv\n      policies: [none, lru]\n"),
			`config x.yaml:11: experiments[1].trace.policies[1]: "lru": want one of none, keepalive`},
		{"bad reuse", item("      path: t.csv\n      reuse: [rewnd]\n"), `experiments[1].trace.reuse[0]: "rewnd"`},
		{"bad arrivals", item("      path: t.csv\n      arrivals: bursty\n"), `experiments[1].trace.arrivals: "bursty"`},
		{"bad replay policy", item("      path: t.csv\n      replay: {policy: lru}\n"), `experiments[1].trace.replay.policy: "lru"`},
		{"replay generic", item("      path: t.csv\n      replay: {reuse: generic}\n"), "generic is simulated only"},
		{"both", item("      path: t.csv\n      synth: {functions: 5}\n"), "config x.yaml:10: experiments[1].trace.path: give synth or path, not both"},
		{"neither", item("      nodes: 2\n"), "experiments[1].trace: give the trace: synth"},
		{"no trace", traceConfig("  - name: p\n    kind: trace\n"), "experiments[1].trace: missing"},
		{"empty list", item("      path: t.csv\n      policies: []\n"), "trace.policies: an empty list"},
		{"bad synth", item("      synth: {functions: 0}\n"), "experiments[1].trace.synth.functions: 0"},
		{"bad measure", item("      path: t.csv\n      measure: [nope]\n"), `trace.measure[0]: "nope": not a built-in workload`},
		{"workload not measured", item("      path: t.csv\n      workload: sort\n"), `trace.workload: "sort": not measured`},
		{"bad kind", traceConfig("  - name: p\n    kind: soak\n"), `experiments[1].kind (line 8): "soak"`},
		{"trace without kind", traceConfig("  - name: p\n    trace: {path: t.csv}\n"), "add kind: trace"},
		{"kind trace at the top", "schema_version: 1\nname: x\nkind: trace\n", "config x.yaml:3: kind: a trace experiment is an item"},
		{"duplicate name", traceConfig("  - name: inv\n    kind: trace\n    trace: {path: t.csv}\n"), `experiment "inv" listed twice`},
		{"bad window", item("      path: t.csv\n      replay: {from: 5m, to: 1m}\n"), "trace.replay.to: 1m0s: a replay needs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.yaml), "x.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// TestParseConfigTraceIgnoresBaseKeys: the document's keys (an invocation experiment's) are
// not merged into a trace experiment, which parses as it would alone.
func TestParseConfigTraceIgnoresBaseKeys(t *testing.T) {
	c, err := ParseConfig([]byte("schema_version: 1\nname: x\niterations: 5\nload: {concurrency: [2]}\nexperiments:\n  - name: t\n    kind: trace\n    trace: {path: t.csv}\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TraceExperiments()) != 1 || len(c.Runs()) != 0 {
		t.Errorf("traces %d runs %d", len(c.TraceExperiments()), len(c.Runs()))
	}
}
