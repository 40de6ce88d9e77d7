package enclave

import (
	"context"
	"os"
	"strings"
	"testing"
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
