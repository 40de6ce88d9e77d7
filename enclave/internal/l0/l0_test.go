package l0

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/reclave/reclave/enclave/attest"
)

// mechanisms are the gate mechanisms this system offers.
func mechanisms(t testing.TB) []Mechanism {
	t.Helper()
	out := []Mechanism{MechanismNone}
	for _, m := range []Mechanism{MechanismMprotect, MechanismProcMem} {
		if v, err := newVault(m); err == nil {
			v.Close()
			out = append(out, m)
		} else {
			t.Logf("gate mechanism %s unavailable: %v", m, err)
		}
	}
	return out
}

func testVault(t testing.TB, mech Mechanism) *Vault {
	t.Helper()
	v, err := newVault(mech)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func testMonitor(t testing.TB, mech Mechanism, resetting bool) *Monitor {
	t.Helper()
	m, err := newMonitor(testVault(t, mech), resetting)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGate: a gate hands the page over, keeps what was written, counts itself and returns
// f's error; a panic inside passes through.
func TestGate(t *testing.T) {
	for _, mech := range mechanisms(t) {
		t.Run(string(mech), func(t *testing.T) {
			v := testVault(t, mech)
			if v.Protected() != (mech != MechanismNone) || v.Mechanism() != mech {
				t.Fatalf("Protected() = %v, Mechanism() = %s", v.Protected(), v.Mechanism())
			}
			if err := v.Gate(func(p []byte) error {
				if len(p) != VaultSize {
					t.Errorf("gate handed over %d bytes, want %d", len(p), VaultSize)
				}
				p[7] = 42
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			var got byte
			if err := v.Gate(func(p []byte) error { got = p[7]; return nil }); err != nil || got != 42 {
				t.Fatalf("second gate read %d, %v; want 42", got, err)
			}
			want := errors.New("inside")
			if err := v.Gate(func([]byte) error { return want }); !errors.Is(err, want) {
				t.Fatalf("gate error %v, want %v", err, want)
			}
			func() {
				defer func() {
					if r := recover(); r != "boom" {
						t.Fatalf("recovered %v, want the panic from inside the gate", r)
					}
				}()
				v.Gate(func([]byte) error { panic("boom") })
			}()
			if n := v.Crossings(); n != 4 {
				t.Fatalf("Crossings() = %d, want 4", n)
			}
			if err := v.Close(); err != nil {
				t.Fatal(err)
			}
			if err := v.Gate(func([]byte) error { return nil }); err == nil {
				t.Fatal("a closed vault ran a gate")
			}
		})
	}
}

// TestFreeze: the copy equals its source, lives outside it, and is protected as asked.
func TestFreeze(t *testing.T) {
	src := bytes.Repeat([]byte("clean state "), 1000) // not a whole number of pages
	for _, protect := range []bool{true, false} {
		f, err := Freeze(src, protect)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f.Bytes(), src) || &f.Bytes()[0] == &src[0] {
			t.Fatalf("protect=%v: the frozen copy differs from its source or is not a copy", protect)
		}
		if f.Protected() != (protect && Supported()) {
			t.Fatalf("protect=%v: Protected() = %v", protect, f.Protected())
		}
		src[0] = 'X' // the source may change; the copy does not
		if f.Bytes()[0] != 'c' {
			t.Fatal("the frozen copy followed its source")
		}
		src[0] = 'c'
		if err := f.Free(); err != nil || f.Bytes() != nil {
			t.Fatalf("Free: %v, Bytes() = %v", err, f.Bytes())
		}
	}
	empty, err := Freeze(nil, true)
	if err != nil || empty.Bytes() != nil || empty.Free() != nil {
		t.Fatalf("empty freeze: %v", err)
	}
}

// TestMonitorEpochs: the monitor signs reports that verify with its public key and refuses
// epochs that go back, and repeats when the enclave resets after every invocation.
func TestMonitorEpochs(t *testing.T) {
	tests := []struct {
		name      string
		resetting bool
		epochs    []uint64
		refused   []bool
	}{
		{"resetting increasing", true, []uint64{0, 1, 2, 7}, []bool{false, false, false, false}},
		{"resetting repeat", true, []uint64{0, 1, 1, 2}, []bool{false, false, true, false}},
		{"resetting back", true, []uint64{5, 4, 6}, []bool{false, true, false}},
		{"warm repeats", false, []uint64{0, 0, 0}, []bool{false, false, false}},
		{"warm back", false, []uint64{3, 2}, []bool{false, true}},
	}
	for _, tt := range tests {
		for _, mech := range mechanisms(t) {
			t.Run(tt.name+"/"+string(mech), func(t *testing.T) {
				m := testMonitor(t, mech, tt.resetting)
				if !m.Key().Sealed() {
					t.Fatal("the monitor's key is not sealed")
				}
				if _, err := m.Key().SignInner(attest.InnerFields{EnclaveID: "e"}); err == nil {
					t.Fatal("the sealed key signed outside the monitor")
				}
				for i, epoch := range tt.epochs {
					f := attest.InnerFields{Epoch: epoch, EnclaveID: "enclave", Nonce: [32]byte{byte(i)}}
					r, err := m.SignInner(f)
					if (err != nil) != tt.refused[i] {
						t.Fatalf("epoch %d (#%d): error %v, want refused %v", epoch, i, err, tt.refused[i])
					}
					if err != nil {
						continue
					}
					got, err := attest.VerifyInner(r, m.Key().Public())
					if err != nil || got != f {
						t.Fatalf("epoch %d: report %+v does not verify: %v", epoch, got, err)
					}
				}
				if want := uint64(1 + len(tt.epochs)); m.Crossings() != want {
					t.Fatalf("Crossings() = %d, want %d (one to seal the key, one per report)", m.Crossings(), want)
				}
			})
		}
	}
}

// The fault tests run in a child process (this test binary, re-executed with faultCaseEnv
// set): a fault outside a gate must kill it, or, with debug.SetPanicOnFault, panic at the
// exact address.
const faultCaseEnv = "RECLAVE_L0_FAULT_CASE"

// faultCase prepares L0 memory protected by mech and returns the address a touch reaches and
// the touch, which must fault or not.
type faultCase struct {
	name  string
	fault bool
	setup func(t testing.TB, mech Mechanism) (addr *byte, touch func())
}

func vaultRead(t testing.TB, mech Mechanism) (*byte, func()) {
	p := testVault(t, mech).Page()
	return &p[5], func() { readByte(&p[5]) }
}

func vaultWrite(t testing.TB, mech Mechanism) (*byte, func()) {
	p := testVault(t, mech).Page()
	return &p[8], func() { p[8] = 1 }
}

func vaultReadAfterPanic(t testing.TB, mech Mechanism) (*byte, func()) {
	v := testVault(t, mech)
	func() {
		defer func() { recover() }()
		v.Gate(func(p []byte) error { p[0] = 9; panic("inside the gate") })
	}()
	var got byte
	if err := v.Gate(func(p []byte) error { got = p[0]; return nil }); err != nil || got != 9 {
		t.Fatalf("after the panic, the gate read %d, %v; want 9 (what the gate wrote before it)", got, err)
	}
	p := v.Page()
	return &p[0], func() { readByte(&p[0]) }
}

func vaultReadInGate(t testing.TB, mech Mechanism) (*byte, func()) {
	v := testVault(t, mech)
	p := v.Page()
	return &p[0], func() { v.Gate(func(w []byte) error { readByte(&w[0]); return nil }) }
}

func monitorKeyRead(t testing.TB, mech Mechanism) (*byte, func()) {
	m := testMonitor(t, mech, true)
	if _, err := m.SignInner(attest.InnerFields{EnclaveID: "e"}); err != nil {
		t.Fatal(err)
	}
	p := m.Vault().Page()
	return &p[offScalar], func() { readByte(&p[offScalar]) }
}

func frozenWrite(t testing.TB, mech Mechanism) (*byte, func()) {
	f, err := Freeze(bytes.Repeat([]byte{7}, 3*pageSize()), mech != MechanismNone)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Free() })
	b := f.Bytes()
	return &b[pageSize()+5], func() { b[pageSize()+5] = 0 }
}

func frozenRead(t testing.TB, mech Mechanism) (*byte, func()) {
	f, err := Freeze(bytes.Repeat([]byte{7}, pageSize()), mech != MechanismNone)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Free() })
	b := f.Bytes()
	return &b[1], func() { readByte(&b[1]) }
}

//go:noinline
func readByte(p *byte) byte { return *p }

// faultCases fault when protected (fault true), with every mechanism; with MechanismNone
// nothing faults, which shows the test can fail.
var faultCases = []faultCase{
	{"vault read outside a gate", true, vaultRead},
	{"vault write outside a gate", true, vaultWrite},
	{"vault read after a panic in a gate", true, vaultReadAfterPanic},
	{"monitor key read after signing", true, monitorKeyRead},
	{"frozen write", true, frozenWrite},
	{"vault read inside a gate", false, vaultReadInGate},
	{"frozen read", false, frozenRead},
}

// TestProtectionFaults: outside a gate, a read of a protected vault (the key) and a write to
// a frozen copy (the snapshot) fault — the child dies of SIGSEGV with an access error at the
// address, or, with debug.SetPanicOnFault, panics at exactly that address; after a panic in
// a gate the vault is protected again. Touches inside a gate, reads of a frozen copy and
// touches of unprotected memory do not fault.
func TestProtectionFaults(t *testing.T) {
	if !Supported() {
		t.Skip("no memory protection on this system")
	}
	if c := os.Getenv(faultCaseEnv); c != "" {
		runFaultChild(t, c)
		return
	}
	for i, fc := range faultCases {
		for _, mech := range mechanisms(t) {
			for _, mode := range []string{"crash", "recover"} {
				t.Run(fc.name+"/"+string(mech)+"/"+mode, func(t *testing.T) {
					cmd := exec.Command(os.Args[0], "-test.run=^TestProtectionFaults$", "-test.count=1")
					cmd.Env = append(os.Environ(), faultCaseEnv+"="+strconv.Itoa(i)+":"+string(mech)+":"+mode)
					var stdout, stderr bytes.Buffer
					cmd.Stdout, cmd.Stderr = &stdout, &stderr
					err := cmd.Run()
					out := stdout.String() + stderr.String()
					addr := regexp.MustCompile(`touching (0x[0-9a-f]+)`).FindStringSubmatch(out)
					if addr == nil {
						t.Fatalf("the child did not reach the touch: %v\n%s", err, out)
					}
					switch {
					case !fc.fault || mech == MechanismNone:
						if err != nil || !strings.Contains(out, "no fault") {
							t.Fatalf("want no fault; child: %v\n%s", err, out)
						}
					case mode == "crash":
						var ee *exec.ExitError
						if !errors.As(err, &ee) || ee.ExitCode() != 2 {
							t.Fatalf("want the child killed by the fault (exit status 2), got %v\n%s", err, out)
						}
						// code=0x2 is SEGV_ACCERR: the page is mapped, the access not allowed.
						want := "signal SIGSEGV: segmentation violation code=0x2 addr=" + addr[1]
						if !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), "unexpected fault address "+addr[1]) {
							t.Fatalf("stderr does not report %q\n%s", want, stderr.String())
						}
					default:
						if err != nil || !strings.Contains(out, "recovered fault at "+addr[1]) {
							t.Fatalf("want a recovered fault at %s; child: %v\n%s", addr[1], err, out)
						}
					}
				})
			}
		}
	}
}

func runFaultChild(t *testing.T, c string) {
	parts := strings.Split(c, ":")
	n, err := strconv.Atoi(parts[0])
	if err != nil || n >= len(faultCases) || len(parts) != 3 {
		t.Fatalf("bad %s %q", faultCaseEnv, c)
	}
	addr, touch := faultCases[n].setup(t, Mechanism(parts[1]))
	fmt.Printf("touching %#x\n", uintptr(unsafe.Pointer(addr)))
	os.Stdout.Sync()
	if parts[2] == "recover" {
		debug.SetPanicOnFault(true)
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			fa, ok := r.(interface{ Addr() uintptr })
			if !ok {
				panic(r)
			}
			fmt.Printf("recovered fault at %#x\n", fa.Addr())
		}()
	}
	touch()
	fmt.Println("no fault")
}
