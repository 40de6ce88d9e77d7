package enclave

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"testing"
)

// guestState hashes the guest state the host can read: linear memory (its contents and size)
// and every mutable global. Tables and data segments, which wazero does not expose, are
// observed by the probe invocation below.
func guestState(e *Enclave) [32]byte {
	h := sha256.New()
	mem := e.heap.bytes()
	binary.Write(h, binary.LittleEndian, uint64(len(mem)))
	h.Write(mem)
	for _, g := range e.inst.globals {
		binary.Write(h, binary.LittleEndian, g.Get())
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Operation codes of testdata/statefuzz.wat.
const (
	opStore8 = iota
	opStore64
	opGrow
	opSetG0
	opSetG1
	opSetG2
	opSetG3
	opSetG4
	opTrap
	opFill
	opCopy
	opTableSet
	opDataDrop
	// The two below observe state that lives outside memory and globals.
	opObserveTable
	opInitSegment

	numOps = opDataDrop + 1 // the operations drawn at random
)

// probe is an invocation that observes the table and the passive data segment: it writes "1"
// while table slot 1 is still null, and traps if the segment was dropped.
var probe = func() []byte {
	b := make([]byte, 26)
	b[0], b[13] = opObserveTable, opInitSegment
	return b
}()

// checkProbe runs probe and fails if state outside memory and globals survived a rewind.
func checkProbe(t *testing.T, e *Enclave, i int) {
	t.Helper()
	inv, err := e.Invoke(context.Background(), probe)
	if err != nil {
		t.Fatalf("after invocation %d the probe failed (a dropped data segment survived the rewind?): %v", i, err)
	}
	if string(inv.Output) != "1" {
		t.Fatalf("after invocation %d the probe saw table slot 1 set (%q): a table change survived the rewind", i, inv.Output)
	}
}

// ops encodes a random sequence of n operations, biased towards memory writes; a trap, a
// table or segment change ends up in about one sequence in five.
func ops(r *rand.Rand, n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		op := byte(r.IntN(numOps))
		if (op == opTrap || op == opTableSet || op == opDataDrop) && r.IntN(8) != 0 {
			op = opStore64
		}
		var rec [13]byte
		rec[0] = op
		binary.LittleEndian.PutUint32(rec[1:], r.Uint32())
		binary.LittleEndian.PutUint64(rec[5:], r.Uint64())
		b = append(b, rec[:]...)
	}
	return b
}

func newStateFuzz(t testing.TB, strategy Strategy) *Enclave {
	t.Helper()
	wasm, err := os.ReadFile("testdata/statefuzz.wasm")
	if err != nil {
		t.Fatal(err)
	}
	e, err := Create(context.Background(), Config{MemoryBytes: 8 << 20, Reset: ResetRewind, Strategy: strategy},
		Function{Name: "statefuzz", Wasm: wasm, MemoryPages: 48})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// TestRewindPropertyEveryStrategy drives random sequences of stores, fills, copies, grows,
// global sets, traps and table/segment changes, and after every invocation checks that the
// guest state equals the snapshot's, byte for byte, for every strategy.
func TestRewindPropertyEveryStrategy(t *testing.T) {
	for _, s := range Strategies() {
		t.Run(string(s), func(t *testing.T) {
			e := newStateFuzz(t, s)
			want := guestState(e)
			r := rand.New(rand.NewPCG(1, uint64(len(s))))
			resets := map[Reset]int{}
			for i := 0; i < 300; i++ {
				in := ops(r, 1+r.IntN(40))
				inv, err := e.Invoke(context.Background(), in)
				if err != nil && KindOf(err) != KindTrap {
					t.Fatalf("invocation %d: %v", i, err)
				}
				resets[inv.Reset]++
				if got := guestState(e); got != want {
					t.Fatalf("invocation %d (%d ops, reset %s): guest state differs from the snapshot", i, len(in)/13, inv.Reset)
				}
				checkProbe(t, e, i)
			}
			if resets[ResetRewind] == 0 || resets[ResetRecycle] == 0 {
				t.Fatalf("resets %v: want both rewinds and recycles exercised", resets)
			}
		})
	}
}

// FuzzRewind checks the same property for operation streams the fuzzer makes up.
func FuzzRewind(f *testing.F) {
	r := rand.New(rand.NewPCG(2, 2))
	for i := 0; i < 8; i++ {
		f.Add(ops(r, 1+i*5))
	}
	e := newStateFuzz(f, StrategyTracked)
	want := guestState(e)
	f.Fuzz(func(t *testing.T, in []byte) {
		if _, err := e.Invoke(context.Background(), in); err != nil && KindOf(err) != KindTrap {
			t.Fatal(err)
		}
		if guestState(e) != want {
			t.Fatal("guest state differs from the snapshot after a rewind")
		}
		checkProbe(t, e, 0)
	})
}
