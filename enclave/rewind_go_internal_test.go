package enclave

import (
	"context"
	"testing"

	"github.com/reclave/reclave/workloads"
)

// TestRewindGoReactorsTracked checks the rewind invariant (linear memory and every mutable
// global equal the snapshot after each invocation) on the Go reactors under strategy tracked,
// at both snapshot points: the C workloads of the other tests leave out what a Go runtime does
// (its stacks in linear memory, its stack pointer set around every call and switched between
// stacks), and outputs alone would not show a page left unrestored that no later invocation
// happens to read.
func TestRewindGoReactorsTracked(t *testing.T) {
	all, err := workloads.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	cache := NewCompilationCache() // both points compile the same module
	for _, w := range all {
		if w.Language != "go" || w.Kind != "reactor" {
			continue
		}
		if testing.Short() && w.Name != "hello-go" {
			continue // -short (CI's race run, where each Go reactor takes some 20 s): one of them
		}
		wasm, err := w.Wasm()
		if err != nil {
			t.Fatal(err)
		}
		fn := Function{Name: w.Name, Wasm: wasm, Kind: Kind(w.Kind), MemoryPages: w.Limits.MemoryPages,
			MaxOutputBytes: w.Limits.MaxOutputBytes, Deadline: w.Limits.Deadline, Imports: w.Imports, Stubs: w.StubImports}
		if fn.WarmupInput, err = w.WarmupInput(); err != nil {
			t.Fatal(err)
		}
		var inputs [][]byte
		for _, size := range []string{"test", "small", "test"} {
			in, err := w.Input(size)
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, in)
		}
		for _, point := range []SnapshotPoint{PointFunction, PointWarmed} {
			t.Run(w.Name+"/"+string(point), func(t *testing.T) {
				ctx := context.Background()
				e, err := Create(ctx, Config{MemoryBytes: 32 << 20, Reset: ResetRewind, Strategy: StrategyTracked, SnapshotPoint: point, Cache: cache}, fn)
				if err != nil {
					t.Fatal(err)
				}
				defer e.Close(ctx)
				if e.track == nil || e.track.StackSites == 0 {
					t.Fatalf("no stack-pointer sets instrumented in %s: the test covers what it should not", w.Name)
				}
				want := guestState(e)
				for i, in := range inputs {
					inv, err := e.Invoke(ctx, in)
					if err != nil {
						t.Fatalf("invocation %d: %v", i, err)
					}
					if inv.Reset != ResetRewind {
						t.Fatalf("invocation %d: reset %s, want rewind", i, inv.Reset)
					}
					if got := guestState(e); got != want {
						t.Fatalf("invocation %d (%d pages restored): guest state differs from the snapshot", i, inv.PagesRestored)
					}
				}
			})
		}
	}
}
