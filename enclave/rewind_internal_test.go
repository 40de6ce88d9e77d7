package enclave

import (
	"context"
	"os"
	"testing"
)

// TestRewindCounterEveryStrategy checks the rewind invariant on a real C module: after every
// invocation — successful, trapping, growing memory — linear memory (contents and size) and
// every mutable global, exported or not (C's __stack_pointer), equal the snapshot.
func TestRewindCounterEveryStrategy(t *testing.T) {
	wasm, err := os.ReadFile("../workloads/counter/counter.wasm")
	if err != nil {
		t.Fatal(err)
	}
	for _, strategy := range Strategies() {
		for _, point := range []SnapshotPoint{PointFunction, PointRuntime} {
			t.Run(string(strategy)+"/"+string(point), func(t *testing.T) {
				e, err := Create(context.Background(), Config{MemoryBytes: 4 << 20, Reset: ResetRewind, Strategy: strategy, SnapshotPoint: point}, Function{Name: "counter", Wasm: wasm})
				if err != nil {
					t.Fatal(err)
				}
				defer e.Close(context.Background())
				if len(e.inst.globals) == 0 {
					t.Fatal("no mutable globals found; the C stack pointer at least should be one")
				}
				want := guestState(e)
				for _, in := range []string{`{"user":"a"}`, `{"trap":true}`, `{"grow":3}`, `{"user":"b"}`, `{"trap":true,"grow":1}`} {
					inv, err := e.Invoke(context.Background(), []byte(in))
					if err != nil && KindOf(err) != KindTrap {
						t.Fatalf("%s: %v", in, err)
					}
					if got := guestState(e); got != want {
						t.Fatalf("after %s (reset %s): guest state differs from the snapshot", in, inv.Reset)
					}
					if point == PointFunction && inv.Reset != ResetRewind && inv.StrategyNote == "" { // auto switches by a recycle
						t.Fatalf("after %s: reset %s, want a rewind (memory shrinks in place)", in, inv.Reset)
					}
				}
			})
		}
	}
}
