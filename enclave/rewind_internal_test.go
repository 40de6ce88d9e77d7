package enclave

import (
	"bytes"
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
// of a group whose bits are set, each once, none past the tracked pages; and a report the
// collect export never makes (a base that is not a group's, a group past the tracked pages)
// panics, which wazero turns into the collection's error.
func TestDirtySetMarkGroup(t *testing.T) {
	const pages = 100 // two groups, the second of 36 pages
	for _, c := range []struct {
		name   string
		calls  [][2]uint64 // base address, mask
		want   []uint32
		panics bool
	}{
		{"one group", [][2]uint64{{0, 1<<0 | 1<<5 | 1<<63}}, []uint32{0, 5, 63}, false},
		{"twice", [][2]uint64{{64 * snapshotPage, 0b11}, {64 * snapshotPage, 0b110}}, []uint32{64, 65, 66}, false},
		{"past the tracked pages", [][2]uint64{{64 * snapshotPage, 1<<35 | 1<<36 | 1<<63}}, []uint32{99}, false},
		{"past the groups", [][2]uint64{{128 * snapshotPage, 1}}, nil, true},
		{"not a group's base", [][2]uint64{{3 * snapshotPage, 1}}, nil, true},
		{"not a page's base", [][2]uint64{{64*snapshotPage + 5, 1}}, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newDirtySet(pages * snapshotPage)
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				for _, call := range c.calls {
					d.markFn(context.Background(), []uint64{call[0], call[1]})
				}
				return false
			}()
			if panicked != c.panics {
				t.Fatalf("panicked: %v, want %v", panicked, c.panics)
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

// TestRestoreDiffZeroPages checks diff's map of the snapshot's zero pages: a written page that
// is zero in the snapshot is zeroed, the other pages compared, memory grown past the snapshot
// zeroed; and after a new snapshot, whose zero pages differ, the map is the new snapshot's.
func TestRestoreDiffZeroPages(t *testing.T) {
	const page = snapshotPage
	for _, protect := range []bool{false, true} {
		b := &snapshotBuffer{protect: protect}
		defer b.free()
		heap := make([]byte, 10*page)
		heap[2*page+7] = 1 // page 2 is not zero, the others are
		if err := b.take(heap, 8*page); err != nil {
			t.Fatal(err)
		}
		check := func(label string, wantPages int) {
			t.Helper()
			res, err := b.restoreDiff(heap, 10*page)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(heap[:8*page], b.mem) || !isZero(heap[8*page:]) || res.Pages != wantPages {
				t.Fatalf("protect %v, %s: memory differs from the snapshot after the rewind, or %d pages restored (want %d)", protect, label, res.Pages, wantPages)
			}
		}
		heap[3*page+100], heap[2*page], heap[5*page+page-1], heap[9*page] = 9, 9, 9, 9
		check("first snapshot", 4)
		if b.zero[2] != 0 || b.zero[3] != 1 {
			t.Fatalf("zero map %v: page 2 is not zero, page 3 is", b.zero)
		}
		// A new snapshot: page 3 is no longer zero, page 2 is.
		heap[2*page+7], heap[3*page+50] = 0, 4
		if err := b.take(heap, 8*page); err != nil {
			t.Fatal(err)
		}
		heap[3*page+50], heap[2*page+1] = 5, 5
		check("second snapshot", 2)
		if b.zero[2] != 1 || b.zero[3] != 0 {
			t.Fatalf("zero map %v after the second snapshot: page 2 is zero, page 3 is not", b.zero)
		}
	}
}
