package enclave

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestWarmedSnapshot: snapshot point warmed runs the warm-up invocations at creation (a phase
// of its own), gives the outputs a fresh enclave after the same warm-up gives, binds the
// warm-up input and count into the clean-state hash, and refuses what it cannot warm.
func TestWarmedSnapshot(t *testing.T) {
	ctx := context.Background()
	wasm, err := os.ReadFile("../workloads/hello-go/hello-go.wasm")
	if err != nil {
		t.Fatal(err)
	}
	warm := []byte(`{"name":"warm-up","items":["a"]}`)
	fn := Function{Name: "hello-go", Wasm: wasm, WarmupInput: warm}
	cache := NewCompilationCache()         // compiling a Go module is most of an enclave's creation
	t.Cleanup(func() { cache.Close(ctx) }) // after the enclaves (cleanups run last-in first-out)
	create := func(cfg Config, fn Function) *Enclave {
		t.Helper()
		cfg.MemoryBytes, cfg.Cache = 32<<20, cache
		e, err := Create(ctx, cfg, fn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close(ctx) })
		return e
	}
	e := create(Config{SnapshotPoint: PointWarmed}, fn)
	if !hasPhase(e.CreationPhases(), "warmup") {
		t.Errorf("creation phases %v lack warmup", e.CreationPhases())
	}
	in := []byte(`{"name":"caller","items":["x","y"]}`)
	fresh := create(Config{Reset: ResetNone, OneShot: true, SnapshotPoint: PointWarmed}, fn)
	want, err := fresh.Invoke(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		inv, err := e.Invoke(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if string(inv.Output) != string(want.Output) {
			t.Fatalf("invocation %d: %q, a fresh warmed enclave %q", i, inv.Output, want.Output)
		}
	}

	// The clean state names the warm-up: another input, or another count, is another state.
	other := fn
	other.WarmupInput = []byte(`{"name":"other","items":[]}`)
	plain := create(Config{SnapshotPoint: PointWarmed}, other)
	twice := create(Config{SnapshotPoint: PointWarmed, WarmupInvocations: 2}, fn)
	if e.CleanStateHash() == plain.CleanStateHash() || e.CleanStateHash() == twice.CleanStateHash() {
		t.Error("the clean-state hash does not depend on the warm-up input and count")
	}

	for name, tc := range map[string]struct {
		fn   Function
		want string
	}{
		"no warm-up input": {Function{Name: "f", Wasm: wasm}, "needs a public warm-up input"},
		"a command":        {Function{Name: "f", Wasm: wasm, Kind: KindCommand, WarmupInput: warm}, "needs a reactor"},
		"a failing input":  {Function{Name: "f", Wasm: wasm, WarmupInput: []byte("not json")}, "warm-up invocation 1 of 3"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Create(ctx, Config{MemoryBytes: 32 << 20, SnapshotPoint: PointWarmed, Cache: cache}, tc.fn)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func hasPhase(ps []Phase, name string) bool {
	for _, p := range ps {
		if p.Name == name {
			return true
		}
	}
	return false
}

// TestWarmedSettle: settling keeps the first state after the warm-up whose next warm-up
// invocation does the least work (testdata/settle.wat: every fourth call spins), going back
// to it — memory, globals, and a page the evaluated invocation grew, shrunk away and zeroed —
// and a fresh enclave after the same warm-up settles on the same state; an invocation that
// changes a table, which a copy cannot undo, ends the settling where it is; and one that
// never returns ends at the deadline.
func TestWarmedSettle(t *testing.T) {
	ctx := context.Background()
	wasm, err := os.ReadFile("testdata/settle.wasm")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		warmups, kept int
		want          string // the first rewound invocation's output: n, n, the probe
		input         string // the warm-up input: "t" makes call 5 set a table slot
	}{
		{3, 4, "\x05\x05\x00", ""},   // call 4 spins: back to the state after 4, which call 5 grows
		{4, 4, "\x05\x05\x00", ""},   // call 5 is as light as any: no extra invocation is kept
		{7, 8, "\x09\x09\xff", ""},   // call 8 spins
		{1, 1, "\x02\x02\xff", ""},   // call 2 is light
		{11, 12, "\x0d\x0d\xff", ""}, // call 12 spins
		// Call 5 sets a table slot: settling stops there, keeping the state after it.
		{3, 5, "\x06\x06\xff", "t"},
	} {
		fn := Function{Name: "settle", Wasm: wasm, WarmupInput: []byte(tc.input + "w")}
		t.Run(fmt.Sprintf("warmup %d %s", tc.warmups, tc.input), func(t *testing.T) {
			for _, s := range []Strategy{StrategyDiff, StrategyTracked, StrategyAuto} {
				e, err := Create(ctx, Config{MemoryBytes: 4 << 20, SnapshotPoint: PointWarmed, WarmupInvocations: tc.warmups, Strategy: s}, fn)
				if err != nil {
					t.Fatal(err)
				}
				defer e.Close(ctx)
				if got := e.WarmupInvocations(); got != tc.kept {
					t.Errorf("%s: %d warm-up invocations kept, want %d", s, got, tc.kept)
				}
				for i := range 3 {
					inv, err := e.Invoke(ctx, nil)
					if err != nil {
						t.Fatal(err)
					}
					if string(inv.Output) != tc.want {
						t.Fatalf("%s: rewound invocation %d: % x, want % x", s, i, inv.Output, tc.want)
					}
				}
			}
			fresh, err := Create(ctx, Config{MemoryBytes: 4 << 20, Reset: ResetNone, OneShot: true, SnapshotPoint: PointWarmed, WarmupInvocations: tc.warmups}, fn)
			if err != nil {
				t.Fatal(err)
			}
			defer fresh.Close(ctx)
			inv, err := fresh.Invoke(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(inv.Output) != tc.want {
				t.Errorf("a fresh warmed enclave: % x, want % x", inv.Output, tc.want)
			}
		})
	}

	// A settling invocation runs under the function's deadline, as any other: call 5 never
	// returns, and the creation fails with kind deadline.
	t.Run("deadline", func(t *testing.T) {
		fn := Function{Name: "settle", Wasm: wasm, WarmupInput: []byte("l"), Deadline: 150 * time.Millisecond}
		start := time.Now()
		e, err := Create(ctx, Config{MemoryBytes: 4 << 20, SnapshotPoint: PointWarmed, WarmupInvocations: 4}, fn)
		if err == nil {
			e.Close(ctx)
			t.Fatal("created an enclave whose settling invocation never returns")
		}
		if KindOf(err) != KindDeadline || !strings.Contains(err.Error(), "warm-up invocation 5 (settling)") {
			t.Fatalf("err %v (kind %q), want the deadline of warm-up invocation 5 (settling)", err, KindOf(err))
		}
		if took := time.Since(start); took > 5*fn.Deadline+2*time.Second { // as deadlineBound
			t.Errorf("stopped after %v, deadline %v", took, fn.Deadline)
		}
	})
}
