package enclave

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestAutoPicker: the picker explores both variants, settles on the cheaper (execution + reset
// medians), explores again when the cost drifts, and never switches when locked.
func TestAutoPicker(t *testing.T) {
	const us = time.Microsecond
	type cost struct{ exec, reset time.Duration }
	tests := []struct {
		name    string
		costs   [2]cost // per variant: what each invocation costs under it
		want    Strategy
		wantWhy string
	}{
		{"store-heavy, small memory: diff", [2]cost{{100 * us, 5 * us}, {130 * us, 1 * us}}, StrategyDiff, "diff: execution 100 µs + reset 5 µs = 105 µs, below tracked"},
		{"large memory, few stores: tracked", [2]cost{{100 * us, 90 * us}, {102 * us, 2 * us}}, StrategyTracked, "tracked: execution 102 µs + reset 2 µs = 104 µs, below diff"},
		{"a tie keeps diff", [2]cost{{10 * us, 1 * us}, {10 * us, 1 * us}}, StrategyDiff, "diff:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newAutoPicker(0)
			switches := 0
			explore := 2 * (autoSamples + 1) // each variant: one unsampled invocation, then the samples
			for i := range explore + 4 {
				c := tt.costs[p.cur]
				if p.afterExec(c.exec) {
					p.switched()
					switches++
					continue
				}
				p.afterReset(c.reset)
				if i >= explore && p.exploring {
					t.Fatalf("still exploring after %d invocations", i+1)
				}
			}
			if got := variantStrategy[p.cur]; got != tt.want {
				t.Errorf("chose %s, want %s (%s)", got, tt.want, p.reason)
			}
			if !strings.HasPrefix(p.reason, tt.wantWhy) && !strings.Contains(p.reason, tt.wantWhy) {
				t.Errorf("reason %q, want it to say %q", p.reason, tt.wantWhy)
			}
			// One switch to measure tracked, a second one back when diff won.
			if want := 1 + map[bool]int{true: 1}[tt.want == StrategyDiff]; switches != want {
				t.Errorf("%d switches, want %d", switches, want)
			}
		})
	}

	t.Run("drift explores again, at most once per autoMinSettled", func(t *testing.T) {
		p := newAutoPicker(0)
		costs := [2]cost{{100 * us, 90 * us}, {102 * us, 2 * us}} // tracked wins
		step := func() {
			c := costs[p.cur]
			if p.afterExec(c.exec) {
				p.switched()
				return
			}
			p.afterReset(c.reset)
		}
		for range 2 * (autoSamples + 1) {
			step()
		}
		if p.exploring || variantStrategy[p.cur] != StrategyTracked {
			t.Fatalf("not settled on tracked: %s", p.reason)
		}
		// The workload changes: its executions get much slower under tracking.
		costs[variantTracked] = cost{400 * us, 2 * us}
		// (The deciding invocation's own reset was the first settled one.)
		for i := range autoMinSettled - 2 {
			step()
			if p.exploring {
				t.Fatalf("explored again after %d invocations, before autoMinSettled", i+1)
			}
		}
		for range autoMinSettled + 3*(autoSamples+1) {
			step()
		}
		if variantStrategy[p.cur] != StrategyDiff || p.minSettled != 2*autoMinSettled {
			t.Errorf("after the drift: %s, minSettled %d; want diff and %d (%s)", variantStrategy[p.cur], p.minSettled, 2*autoMinSettled, p.reason)
		}
	})

	// Noise: a block of samples that spreads more than autoNoise is measured again, once.
	// burst makes the executions of variant v from its first to its last invocation (counted
	// from 1 under that variant, the unsampled ones included) noisy; the others cost base.
	type burst struct {
		v           int
		first, last int
	}
	base := [2]cost{{100 * us, 5 * us}, {110 * us, 1 * us}} // diff wins: 105 µs against 111
	noisyTests := []struct {
		name     string
		bursts   []burst
		want     Strategy
		switches int
		wantWhy  []string
	}{
		{"a burst during diff's samples: diff measured again after tracked's",
			[]burst{{variantDiff, 2, 6}}, StrategyDiff, 2,
			[]string{"diff: execution 100 µs", "diff measured again: its 5 executions spread from"}},
		{"a burst during tracked's samples: measured again without a switch",
			[]burst{{variantTracked, 2, 6}}, StrategyDiff, 2,
			[]string{"diff: execution 100 µs", "tracked measured again"}},
		{"noisy twice: decided on the second samples",
			[]burst{{variantDiff, 1, 100}}, StrategyTracked, 3,
			[]string{"tracked: execution 110 µs", "diff measured again"}},
		{"quiet: no second measurement",
			nil, StrategyDiff, 2, []string{"diff: execution 100 µs"}},
	}
	// Executions of a microsecond jitter by more than autoNoise without being noisy.
	t.Run("sub-microsecond jitter: no second measurement", func(t *testing.T) {
		p := newAutoPicker(0)
		switches := 0
		for i := range 14 {
			exec := 500*time.Nanosecond + time.Duration(i%3)*150*time.Nanosecond // 500 to 800 ns
			if p.afterExec(exec) {
				p.switched()
				switches++
				continue
			}
			p.afterReset(time.Duration(1+p.cur) * time.Microsecond)
		}
		if p.exploring || strings.Contains(p.reason, "measured again") || switches != 2 {
			t.Fatalf("after 14 invocations: exploring %v, %d switches, reason %q; want a decision after 2 switches, nothing measured again", p.exploring, switches, p.reason)
		}
	})
	for _, tt := range noisyTests {
		t.Run(tt.name, func(t *testing.T) {
			p := newAutoPicker(0)
			var n [2]int // invocations under each variant
			switches := 0
			for i := range 40 {
				v := p.cur
				n[v]++
				c := base[v]
				for _, b := range tt.bursts {
					if b.v == v && n[v] >= b.first && n[v] <= b.last {
						c.exec *= time.Duration(1 + n[v]%4) // 2x to 4x, scattered
					}
				}
				if p.afterExec(c.exec) {
					p.switched()
					switches++
					continue
				}
				p.afterReset(c.reset)
				if !p.exploring && i > 0 {
					break
				}
			}
			if p.exploring {
				t.Fatalf("still exploring after 40 invocations: %s", p.reason)
			}
			if got := variantStrategy[p.cur]; got != tt.want || switches != tt.switches {
				t.Errorf("chose %s after %d switches, want %s after %d (%s)", got, switches, tt.want, tt.switches, p.reason)
			}
			for _, w := range tt.wantWhy {
				if !strings.Contains(p.reason, w) {
					t.Errorf("reason %q, want it to say %q", p.reason, w)
				}
			}
			if strings.Count(p.reason, "measured again") != len(tt.wantWhy)-1 {
				t.Errorf("reason %q: want %d variants measured again", p.reason, len(tt.wantWhy)-1)
			}
		})
	}

	t.Run("measured again without a switch: the noisy block's last reset is not a sample", func(t *testing.T) {
		p := newAutoPicker(0)
		for range 40 {
			exec := base[p.cur].exec
			if p.cur == variantTracked {
				exec *= time.Duration(1 + len(p.exec[variantTracked])%4) // always noisy
			}
			if p.afterExec(exec) {
				p.switched()
				continue
			}
			if strings.HasPrefix(p.reason, "exploring: tracked measured again") {
				p.afterReset(time.Second) // the reset after the noisy block's last execution
				if len(p.reset[variantTracked]) != 0 || len(p.exec[variantTracked]) != 0 {
					t.Fatalf("after the retry decision: %d executions and %d resets kept, want none", len(p.exec[variantTracked]), len(p.reset[variantTracked]))
				}
				return
			}
			p.afterReset(base[p.cur].reset)
		}
		t.Fatalf("tracked never measured again: %s", p.reason)
	})

	t.Run("locked", func(t *testing.T) {
		p := newAutoPicker(0)
		p.lock("cannot rebuild")
		for range 50 {
			if p.afterExec(time.Millisecond) {
				t.Fatal("a locked picker asked for a switch")
			}
			p.afterReset(time.Millisecond)
		}
	})
}

// TestAutoEnclave: an enclave of strategy auto serves a workload under both variants, reports
// the strategy each invocation ran under and why it chose, and gives what a fresh enclave
// gives whatever the variant.
func TestAutoEnclave(t *testing.T) {
	ctx := context.Background()
	wasm, err := os.ReadFile("../workloads/counter/counter.wasm")
	if err != nil {
		t.Fatal(err)
	}
	for _, point := range []SnapshotPoint{PointFunction, PointRuntime} {
		t.Run(string(point), func(t *testing.T) {
			e, err := Create(ctx, Config{MemoryBytes: 4 << 20, SnapshotPoint: point}, Function{Name: "counter", Wasm: wasm})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close(ctx)
			if e.cfg.Strategy != StrategyAuto {
				t.Fatalf("default strategy %s, want auto", e.cfg.Strategy)
			}
			seen := map[Strategy]int{}
			var first string
			notes := 0
			for i := range 3 * (autoSamples + 1) {
				inv, err := e.Invoke(ctx, []byte("x"))
				if err != nil {
					t.Fatalf("invocation %d: %v", i, err)
				}
				if first == "" {
					first = string(inv.Output)
				} else if string(inv.Output) != first {
					t.Fatalf("invocation %d (%s) gave %q, the first %q: state survived", i, inv.Strategy, inv.Output, first)
				}
				seen[inv.Strategy]++
				if switched := strings.HasPrefix(inv.StrategyNote, "switched to "); switched != (inv.Reset == ResetRecycle) {
					t.Errorf("invocation %d: reset %s, note %q", i, inv.Reset, inv.StrategyNote)
				}
				if inv.StrategyNote != "" {
					notes++
				}
			}
			if notes < 2 { // the switch to explore tracked, and the decision
				t.Errorf("%d invocations carried a note of the choice, want at least 2", notes)
			}
			if seen[StrategyDiff] == 0 || seen[StrategyTracked] == 0 {
				t.Errorf("ran under %v; want both variants measured", seen)
			}
			if why := e.StrategyChoice(); !strings.Contains(why, "medians of") || !strings.HasPrefix(why, string(e.Strategy())) {
				t.Errorf("choice %q for %s", why, e.Strategy())
			}
		})
	}
}
