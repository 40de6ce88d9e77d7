package enclave

import (
	"context"
	"os"
	"slices"
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

// TestDirtySetMarkGroup checks how the host records what the collect export reports: the pages
// of a group whose bits are set, each once, none past the tracked pages, and nothing for a
// base that is not a group's.
func TestDirtySetMarkGroup(t *testing.T) {
	const pages = 100 // two groups, the second of 36 pages
	for _, c := range []struct {
		name  string
		calls [][2]uint64 // first page, mask
		want  []uint32
	}{
		{"one group", [][2]uint64{{0, 1<<0 | 1<<5 | 1<<63}}, []uint32{0, 5, 63}},
		{"twice", [][2]uint64{{64, 0b11}, {64, 0b110}}, []uint32{64, 65, 66}},
		{"past the tracked pages", [][2]uint64{{64, 1<<35 | 1<<36 | 1<<63}}, []uint32{99}},
		{"past the groups", [][2]uint64{{128, 1}}, nil},
		{"not a group's base", [][2]uint64{{3, 1}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newDirtySet(pages * snapshotPage)
			for _, call := range c.calls {
				d.markFn(context.Background(), []uint64{call[0] * snapshotPage, call[1]})
			}
			if !slices.Equal(d.list, c.want) {
				t.Fatalf("marked %v, want %v", d.list, c.want)
			}
			for _, p := range c.want {
				if d.bits[p/64]&(1<<(p%64)) == 0 {
					t.Fatalf("page %d listed but not in the bitmap", p)
				}
			}
			d.clear()
			if len(d.list) != 0 || slices.ContainsFunc(d.bits, func(w uint64) bool { return w != 0 }) {
				t.Fatal("clear left pages marked")
			}
		})
	}
}
