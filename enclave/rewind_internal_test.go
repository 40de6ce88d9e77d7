package enclave

import (
	"bytes"
	"context"
	"os"
	"testing"
)

// TestRewindRestoresEveryByteAndGlobal checks the rewind invariant directly: after every
// invocation — successful, trapping, growing memory — linear memory (contents and size) and
// every mutable global, exported or not, equal the snapshot.
func TestRewindRestoresEveryByteAndGlobal(t *testing.T) {
	wasm, err := os.ReadFile("../workloads/counter/counter.wasm")
	if err != nil {
		t.Fatal(err)
	}
	for _, strategy := range []Strategy{StrategyDiff, StrategyFull} {
		t.Run(string(strategy), func(t *testing.T) {
			e, err := Create(context.Background(), Config{MemoryBytes: 4 << 20, Reset: ResetRewind, Strategy: strategy}, Function{Name: "counter", Wasm: wasm})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close(context.Background())
			if len(e.inst.globals) == 0 {
				t.Fatal("no mutable globals found; the C stack pointer at least should be one")
			}
			for _, in := range []string{`{"user":"a"}`, `{"trap":true}`, `{"grow":3}`, `{"user":"b"}`, `{"trap":true,"grow":1}`} {
				if _, err := e.Invoke(context.Background(), []byte(in)); err != nil && KindOf(err) != KindTrap {
					t.Fatalf("%s: %v", in, err)
				}
				if got := e.heap.bytes(); !bytes.Equal(got, e.snap.memory) {
					t.Fatalf("after %s: linear memory (%d bytes) differs from the snapshot (%d bytes)", in, len(got), len(e.snap.memory))
				}
				for i, g := range e.inst.globals {
					if g.Get() != e.snap.globals[i] {
						t.Fatalf("after %s: global %s is %#x, snapshot %#x", in, e.info.MutableGlobals[i].Export, g.Get(), e.snap.globals[i])
					}
				}
			}
		})
	}
}
