//go:build linux

package enclave

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/reclave/reclave/enclave/attest"
)

// l1TouchEnv names the case TestL1CannotTouchL0 runs in its child process.
const l1TouchEnv = "RECLAVE_L1_TOUCH_CASE"

// l1Touch is an access by L1 code (this package's Go code, outside any gate) to what L0
// guards in a real enclave after an attested, rewound invocation.
type l1Touch struct {
	name     string
	strategy Strategy
	touch    func(e *Enclave) *byte // returns the address it touches, touches it
}

var l1Touches = []l1Touch{
	{"write the snapshot (full)", StrategyFull, writeSnapshot},
	{"write the snapshot (diff)", StrategyDiff, writeSnapshot},
	{"write the snapshot (tracked)", StrategyTracked, writeSnapshot},
	{"read the L0 key", StrategyDiff, readKey},
}

func snapshotOf(e *Enclave) []byte {
	switch r := e.rew.(type) {
	case *fullRewinder:
		return r.mem
	case *diffRewinder:
		return r.mem
	case *trackedRewinder:
		return r.mem
	}
	panic(fmt.Sprintf("no snapshot buffer in %T", e.rew))
}

func writeSnapshot(e *Enclave) *byte {
	snap := snapshotOf(e)
	p := &snap[len(snap)/2]
	announce(p)
	*p ^= 0xff
	return p
}

func readKey(e *Enclave) *byte {
	p := &e.l0.Vault().Page()[0]
	announce(p)
	fmt.Printf("read %d\n", *p)
	return p
}

func announce(p *byte) {
	fmt.Printf("touching %#x\n", uintptr(unsafe.Pointer(p)))
	os.Stdout.Sync()
}

// TestL1CannotTouchL0: in a real enclave with compartments on, L1 code outside L0's gates
// that writes the snapshot — every strategy keeping one in memory — or reads the attestation
// key faults at exactly the address it touched (a child process, with debug.SetPanicOnFault);
// with compartments off the same accesses go through, which shows the test can fail.
func TestL1CannotTouchL0(t *testing.T) {
	if c := os.Getenv(l1TouchEnv); c != "" {
		l1TouchChild(t, c)
		return
	}
	for _, tc := range l1Touches {
		for _, comp := range []Compartments{CompartmentsOn, CompartmentsOff} {
			t.Run(tc.name+"/"+string(comp), func(t *testing.T) {
				cmd := exec.Command(os.Args[0], "-test.run=^TestL1CannotTouchL0$", "-test.count=1")
				cmd.Env = append(os.Environ(), l1TouchEnv+"="+tc.name+"|"+string(comp))
				out, err := cmd.CombinedOutput()
				var addr string
				if _, err := fmt.Sscanf(string(out[bytes.Index(out, []byte("touching")):]), "touching %s", &addr); err != nil {
					t.Fatalf("the child did not reach the touch: %v\n%s", err, out)
				}
				want := "no fault"
				if comp == CompartmentsOn {
					want = "recovered fault at " + addr
				}
				if err != nil || !strings.Contains(string(out), want) {
					t.Fatalf("child: %v, want %q\n%s", err, want, out)
				}
			})
		}
	}
}

func l1TouchChild(t *testing.T, c string) {
	name, comp, _ := strings.Cut(c, "|")
	i := -1
	for j, tc := range l1Touches {
		if tc.name == name {
			i = j
		}
	}
	if i < 0 {
		t.Fatalf("no case %q", name)
	}
	e := attestedEnclave(t, l1Touches[i].strategy, Compartments(comp))
	debug.SetPanicOnFault(true)
	defer func() {
		if r := recover(); r != nil {
			fa, ok := r.(interface{ Addr() uintptr })
			if !ok {
				panic(r)
			}
			fmt.Printf("recovered fault at %#x\n", fa.Addr())
		}
	}()
	l1Touches[i].touch(e)
	fmt.Println("no fault")
}

// attestedEnclave is a rewinding enclave with an L0 key, after one attested invocation.
func attestedEnclave(t *testing.T, s Strategy, comp Compartments) *Enclave {
	t.Helper()
	wasm, err := os.ReadFile("../workloads/counter/counter.wasm")
	if err != nil {
		t.Fatal(err)
	}
	platform, err := attest.NewSimulatedPlatform()
	if err != nil {
		t.Fatal(err)
	}
	e, err := Create(context.Background(), Config{MemoryBytes: 4 << 20, Strategy: s, Compartments: comp, Quoter: platform}, Function{Name: "counter", Wasm: wasm})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	if _, err := e.InvokeAttested(context.Background(), []byte(`{}`), attest.NewNonce()); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestCOWSnapshotSealed: the cow strategy keeps its snapshot in a memfd; with compartments on
// it is sealed, so a write to it fails (EPERM), and rewinds still work; off, it is not.
func TestCOWSnapshotSealed(t *testing.T) {
	for _, comp := range []Compartments{CompartmentsOn, CompartmentsOff} {
		t.Run(string(comp), func(t *testing.T) {
			e := attestedEnclave(t, StrategyCOW, comp)
			r := e.rew.(*cowRewinder)
			_, err := unix.Pwrite(r.fd, []byte{1}, 0)
			if comp == CompartmentsOn && !errors.Is(err, unix.EPERM) {
				t.Fatalf("write to the sealed snapshot: %v, want EPERM", err)
			}
			if comp == CompartmentsOff && err != nil {
				t.Fatalf("write to the unsealed snapshot: %v", err)
			}
			if comp == CompartmentsOff {
				return // the snapshot was just changed
			}
			for i := 0; i < 2; i++ {
				if _, err := e.InvokeAttested(context.Background(), []byte(`{}`), attest.NewNonce()); err != nil {
					t.Fatal(err)
				}
				if e.StateHash() != e.CleanStateHash() {
					t.Fatal("a rewind from the sealed snapshot is not clean")
				}
			}
		})
	}
}
