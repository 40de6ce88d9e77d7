package trace

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// testCosts are round costs: a cold start of 100 ms, a free reuse.
func testCosts() *Costs {
	zero := ReuseCosts{}
	return &Costs{Source: "test", Workloads: []WorkloadCosts{{Workload: "noop", MemoryBytes: 16 << 20, ExecNs: 1000,
		CreateNs: 100e6, EaddEextendNs: 50e6, CompileNs: 1e6, DestroyNs: 1e6,
		Reuse: map[string]ReuseCosts{ReuseRewind: zero, ReuseReinstantiate: {ResetNs: 20e3}, ReuseWarm: zero,
			ReuseGeneric: {StartNs: 20e3}}}}}
}

// trace21 loads an Azure 2021 trace of rows "func start duration" (seconds).
func trace21(t testing.TB, rows ...string) *Trace {
	t.Helper()
	var b strings.Builder
	b.WriteString("app,func,end_timestamp,duration\n")
	for _, r := range rows {
		var fn string
		var start, dur float64
		if _, err := fmt.Sscan(r, &fn, &start, &dur); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "a,%s,%g,%g\n", fn, start+dur, dur)
	}
	tr, err := Load(context.Background(), writeFiles(t, map[string]string{"t.txt": b.String()}), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// decisions simulates and returns "c" (cold) or "w" (warm) per invocation, in order served.
func decisions(t *testing.T, tr *Trace, p Policy, reuse string, opts SimOptions) (string, *PolicyResult) {
	t.Helper()
	var d strings.Builder
	opts.OnServe = func(inv Invocation, cold bool) {
		if cold {
			d.WriteByte('c')
		} else {
			d.WriteByte('w')
		}
	}
	r, err := Simulate(context.Background(), tr, testCosts(), p, reuse, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d.String(), r
}

func TestKeepAliveTTLBoundaries(t *testing.T) {
	// f runs 0–1 s after a 0.1 s cold start: idle from 1.1 s, kept 10 s, until 21.1 s... with
	// the cold start; a TTL of 10 s.
	tests := []struct {
		second float64
		want   string
	}{
		{11.0, "cw"},  // before 1.1 + 10
		{11.05, "cw"}, // still before
		{11.1, "cc"},  // at 1.1 + 10: gone
		{12, "cc"},    // after
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.second), func(t *testing.T) {
			tr := trace21(t, "f 0 1", fmt.Sprintf("f %g 1", tc.second))
			got, _ := decisions(t, tr, &KeepAlive{TTL: int64(10 * time.Second)}, ReuseRewind, SimOptions{})
			if got != tc.want {
				t.Errorf("decisions %s, want %s", got, tc.want)
			}
		})
	}
}

func TestGreedyDualEvictionOrder(t *testing.T) {
	// Room for two 16 MiB enclaves. A is used three times, B once; C then evicts B (lowest
	// frequency), B evicts C (C's priority: the clock B left + 1 < A's 3), and A is still warm.
	// LRU (keepalive) evicts A for C instead, and A comes back cold.
	tr := trace21(t, "A 0 0.5", "A 1 0.5", "A 2 0.5", "B 3 0.5", "C 4 0.5", "B 5 0.5", "A 6 0.5")
	opts := SimOptions{CapacityBytes: 32 << 20}
	got, r := decisions(t, tr, &GreedyDual{}, ReuseRewind, opts)
	if got != "cwwcccw" || r.Evictions != 2 {
		t.Errorf("greedy-dual: decisions %s, %d evictions; want cwwcccw, 2", got, r.Evictions)
	}
	got, _ = decisions(t, tr, &KeepAlive{TTL: Forever}, ReuseRewind, opts)
	if got != "cwwccwc" {
		t.Errorf("keepalive (LRU): decisions %s, want cwwccwc", got)
	}
	// The priorities, by hand: clock + frequency × cold cost (ms) / size (MiB).
	g := &GreedyDual{}
	g.Start(PolicyEnv{Pools: 2, ColdNs: []float64{100e6, 100e6}, Bytes: []int64{16 << 20, 32 << 20}})
	g.Arrive(0, 0)
	g.Arrive(0, 0)
	g.Arrive(1, 0)
	if a, b := g.Idle(0, 0).Priority, g.Idle(1, 0).Priority; a != 2*100.0/16 || b != 100.0/32 {
		t.Errorf("priorities %v, %v; want %v, %v", a, b, 2*100.0/16, 100.0/32)
	}
	g.Evicted(1, 100.0/32)
	if got := g.Idle(0, 0).Priority; got != 100.0/32+2*100.0/16 {
		t.Errorf("after an eviction: %v", got)
	}
}

// view is a View with fixed numbers.
type view struct{ busy, live int }

func (v view) Busy(int) int { return v.busy }
func (v view) Live(int) int { return v.live }

func TestHybridHistogramWindows(t *testing.T) {
	m := Minute
	tests := []struct {
		name   string
		its    []int64 // idle times, in order
		pw, ka int64
	}{
		{"no history: keep for the range", nil, 0, 240 * m},
		{"concentrated at 10 min", []int64{10*m + 5, 10*m + 30e9, 10 * m}, 9 * m, int64(float64(11*m)*1.1) - 9*m},
		{"at 0 min: keep only", []int64{1e9, 2e9, 3e9}, 0, int64(float64(m) * 1.1)},
		{"spread over the range (CV 0): keep for the range", func() []int64 {
			var its []int64
			for b := int64(0); b < 240; b++ {
				its = append(its, b*m+1)
			}
			return its
		}(), 0, 240 * m},
		{"mostly out of bounds: 85% and 30% of their mean", []int64{5 * 60 * m, 7 * 60 * m, 1 * m}, int64(0.85 * float64(6*60*m)), int64(0.30 * float64(6*60*m))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHybridHistogram()
			h.Start(PolicyEnv{Pools: 1, View: view{}})
			now := int64(0)
			h.Idle(0, now)
			for _, it := range tc.its {
				now += it
				h.Arrive(0, now)
				h.Idle(0, now)
			}
			pw, ka := h.Windows(0)
			if pw != tc.pw || ka != tc.ka {
				t.Errorf("windows %v, %v; want %v, %v", time.Duration(pw), time.Duration(ka), time.Duration(tc.pw), time.Duration(tc.ka))
			}
			k := h.Idle(0, now)
			if tc.pw > 0 && (k.Until != now || k.PrewarmAt != now+tc.pw || k.PrewarmUntil != now+tc.pw+tc.ka) {
				t.Errorf("decision %+v: want destroy now, pre-warm at +%v until +%v", k, tc.pw, tc.pw+tc.ka)
			}
			if tc.pw == 0 && (k.Until != now+tc.ka || k.PrewarmAt != 0) {
				t.Errorf("decision %+v: want keep until +%v", k, tc.ka)
			}
		})
	}
}

func TestPredictiveTicks(t *testing.T) {
	p := NewPredictive()
	p.Start(PolicyEnv{Pools: 1, View: view{}})
	// Minute 1: demand 1, forecast 0 → error 1 (state [0.5, 2)); forecast 0.5, no transition
	// yet: target ⌈0.5⌉ = 1.
	p.Arrive(0, 0)
	if got := p.Tick(0, Minute); got != 1 {
		t.Errorf("minute 1: target %d, want 1", got)
	}
	// Minute 2: demand 1 → error 0.5 (the same state), mean error of the state 0.75; forecast
	// 0.75, correction 0.75: target ⌈1.5⌉ = 2.
	p.Arrive(0, Minute)
	if got := p.Tick(0, 2*Minute); got != 2 {
		t.Errorf("minute 2: target %d, want 2", got)
	}
	// Minute 3: no demand → error −0.75 (state [−2, −0.5)), never left: forecast 0.375, no
	// correction: target 1.
	if got := p.Tick(0, 3*Minute); got != 1 {
		t.Errorf("minute 3: target %d, want 1", got)
	}
}

func TestSimulatorInvariants(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, _, err := Synthesize(ctx, dir, SynthOptions{Functions: 60, Days: 1, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	tr, err := Load(ctx, dir, LoadOptions{Seed: 5, Top: 30, To: 6 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("none: every invocation cold", func(t *testing.T) {
		// Capacity for 3 enclaves on 2 nodes: some invocations wait, none reuses an enclave.
		r, err := Simulate(ctx, tr, testCosts(), &None{}, ReuseRewind, SimOptions{CapacityBytes: 24 << 20, Nodes: 2})
		if err != nil {
			t.Fatal(err)
		}
		if r.Invocations != tr.Invocations() || r.ColdFraction != 1 || r.EnclavesCreated != r.Invocations ||
			r.MemoryGBs.Idle != 0 || r.Queued == 0 {
			t.Errorf("%d invocations of %d, cold fraction %v, %d created, idle %v GB-s, %d queued", r.Invocations,
				tr.Invocations(), r.ColdFraction, r.EnclavesCreated, r.MemoryGBs.Idle, r.Queued)
		}
	})
	t.Run("keepalive forever, no overlap: one cold start per function", func(t *testing.T) {
		tr := trace21(t, "f 0 1", "g 0.5 2", "f 5 1", "h 6 0.1", "g 100 1", "f 3600 1", "h 7200 3")
		r, err := Simulate(ctx, tr, testCosts(), &KeepAlive{TTL: Forever}, ReuseRewind, SimOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.ColdStarts != 3 || r.EnclavesCreated != 3 {
			t.Errorf("%d cold starts, %d enclaves; want 3", r.ColdStarts, r.EnclavesCreated)
		}
	})
	t.Run("same seed, same result", func(t *testing.T) {
		for _, name := range Policies {
			run := func() string {
				p, _ := NewPolicy(name, PolicyOptions{})
				r, err := Simulate(ctx, tr, testCosts(), p, ReuseRewind, SimOptions{CapacityBytes: 256 << 20})
				if err != nil {
					t.Fatal(err)
				}
				r.SimWallNs, r.SimInvocationsPerS, r.PolicyNsPerInvocation = 0, 0, 0
				b, _ := json.Marshal(r)
				return string(b)
			}
			if a, b := run(), run(); a != b {
				t.Errorf("%s: two runs differ", name)
			}
		}
	})
	t.Run("queueing when capacity is exhausted", func(t *testing.T) {
		// One 16 MiB enclave fits: g waits for f's enclave to finish and be evicted.
		tr := trace21(t, "f 0 1", "g 0.5 1")
		got, r := decisions(t, tr, &KeepAlive{TTL: int64(10 * time.Minute)}, ReuseRewind, SimOptions{CapacityBytes: 16 << 20})
		if got != "cc" || r.Queued != 1 || r.LatencyNs.Max < int64(1.6e9) {
			t.Errorf("decisions %s, %d queued, max latency %v", got, r.Queued, time.Duration(r.LatencyNs.Max))
		}
	})
	t.Run("generic: one pool serves every function", func(t *testing.T) {
		tr := trace21(t, "f 0 1", "g 2 1", "h 4 1")
		got, _ := decisions(t, tr, &KeepAlive{TTL: int64(10 * time.Minute)}, ReuseGeneric, SimOptions{})
		if got != "cww" {
			t.Errorf("decisions %s, want cww", got)
		}
	})
}

// BenchmarkSimulate simulates a synthetic day of 1,000 functions with Azure-like skew under
// keepalive and rewind, beside streaming the same trace alone (the reference).
func BenchmarkSimulate(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	if _, _, err := Synthesize(ctx, dir, SynthOptions{Functions: 1000, Days: 1, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	tr, err := Load(ctx, dir, LoadOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	n := float64(tr.Invocations())
	b.Run("stream", func(b *testing.B) {
		for b.Loop() {
			collect(b, tr)
		}
		b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "invocations/s")
	})
	for _, name := range Policies {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				p, _ := NewPolicy(name, PolicyOptions{})
				if _, err := Simulate(ctx, tr, testCosts(), p, ReuseRewind, SimOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "invocations/s")
		})
	}
}
