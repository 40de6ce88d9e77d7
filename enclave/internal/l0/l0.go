// Package l0 is the enclave's monitor layer (L0): the memory that L1 — the Wasm runtime and
// the host functions, Go code in the same address space — must not read or change except
// through L0's gates, and the gates themselves.
//
// Without memory protection keys (this CPU has none) the only wall inside one process is the
// page table. Changing it is dear: one mprotect costs ≈ 5–8 µs in the virtual machines
// reclave runs on, and taking a page back from readable to PROT_NONE after it was touched
// also shoots down the other CPUs' TLB entries — an inter-processor interrupt, which in a
// loaded virtual machine made a gate cost 90–160 µs (BenchmarkGate). The rewind path takes a
// few microseconds in all and can afford none of that, so L0 guards two kinds of memory
// differently:
//
//   - [Frozen]: a copy L0 takes once and only ever reads afterwards — the snapshot of linear
//     memory. It is mapped writable while L0 takes it, then PROT_READ for good: rewinds read
//     it without any gate, and a write to it from anywhere faults. ([FreezeFile] does the same
//     for a snapshot kept in a memfd, with write seals instead of page protection.)
//   - [Vault]: VaultSize bytes of secrets — the attestation key's private scalar and the
//     last attested epoch — in a page that is PROT_NONE outside gates ([Vault.Gate]): a read
//     or write from anywhere outside a gate faults. A gate restores the protection when it
//     returns, also when the code inside it panics.
//
// A vault's gate is one of two mechanisms ([Mechanism]). Where the kernel allows it
// (Linux), the page stays PROT_NONE for good and the gate reads it through /proc/self/mem —
// which the kernel serves whatever the page's protection, as it does for debuggers — into a
// working copy, runs, writes the copy back and erases it: two syscalls (≈ 4–5 µs a crossing
// on a quiet machine: BenchmarkSignInner), no page-table change, and no moment in which another thread could read the
// page. Elsewhere the gate is the classic pair of mprotects around the code. Both are a wall
// against stray and overrunning accesses by L1 code — the bugs a compromised function would
// exploit — not against L1 code that makes system calls on purpose: such code could call
// mprotect, or read /proc/self/mem, itself. Only hardware (SGX's own EPC, protection keys)
// or a separate address space would stop that.
//
// [Monitor] puts the L0 key and the epoch in a vault and signs inner reports in one gate:
// an attested invocation crosses exactly one gate, a plain invocation and a rewind none.
//
// What the epoch check protects: the runtime (L1) counts its resets in ordinary memory and
// passes that count as the epoch of each report it asks L0 to sign; the rewind path cannot
// afford a gate to count them in the vault. L0 keeps the last epoch it signed in the vault
// and, inside the signing gate, refuses an epoch lower than it, and — for an enclave that
// resets after every invocation — an epoch equal to it. So the signed epochs of such an
// enclave strictly increase whatever L1's memory holds: corrupting the count can make L0
// refuse to sign, or skip numbers, never sign an epoch twice. What it cannot prove is that
// the reset L1 counted really restored the state: that rests on the snapshot (frozen, so L1
// cannot change the clean state it restores from) and on the runtime's code, which the
// measurement (MRENCLAVE) covers. A warm enclave (no resets) signs the same epoch again, and
// a verifier's attest.Sequence refuses the repeat, which is the point.
//
// Protection can be switched off (protect false, [MechanismNone]) to measure its cost: the
// same code runs with no protection, no seals, and the secrets in an ordinary page. On
// systems without mprotect (non-unix builds) protection is never enforced; [Supported] says
// which.
//
// Go's crypto API needs the private key as heap values while it signs: those transient
// copies, made inside the gate, become unreachable garbage when it closes (the collector
// frees but does not erase them). The vault holds the only long-lived copy.
package l0

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// VaultSize is how many bytes of a vault's page a gate hands over.
const VaultSize = 64

// Mechanism is how a vault's gate reaches its protected page.
type Mechanism string

// Gate mechanisms.
const (
	// MechanismProcMem keeps the page PROT_NONE for good; a gate reads the vault through
	// /proc/self/mem (which the kernel serves regardless of the page's protection, as for a
	// debugger) into a working copy, runs, writes the copy back and erases it: two syscalls,
	// no page-table change, no TLB shootdown, and no window in which the page is readable.
	// Linux only, where the kernel allows it (proc_mem.force_override).
	MechanismProcMem Mechanism = "procmem"
	// MechanismMprotect makes the page readable and writable for the gate and PROT_NONE again
	// after it: two mprotects, plus a TLB shootdown of the other CPUs when the page was
	// touched, which is dear in a virtual machine. The page is readable by every thread while
	// a gate runs.
	MechanismMprotect Mechanism = "mprotect"
	// MechanismNone is no protection: compartments off, or no mprotect.
	MechanismNone Mechanism = "none"
)

// Vault is one page of L0 secrets, unreadable outside [Vault.Gate] when protected. It is
// not safe for concurrent use.
type Vault struct {
	mem       []byte // the whole page
	mech      Mechanism
	procMem   *os.File        // MechanismProcMem
	work      [VaultSize]byte // MechanismProcMem: the working copy, zero outside gates
	crossings atomic.Uint64
	broken    error
}

// NewVault maps a page, protected unless protect is false or protection is not
// [Supported]: with MechanismProcMem where the kernel allows it, else MechanismMprotect.
func NewVault(protect bool) (*Vault, error) {
	switch {
	case !protect || !Supported():
		return newVault(MechanismNone)
	}
	if v, err := newVault(MechanismProcMem); err == nil {
		return v, nil
	}
	return newVault(MechanismMprotect)
}

// newVault makes a vault with the given mechanism, or fails if it is not available.
func newVault(mech Mechanism) (*Vault, error) {
	mem, err := mapPages(pageSize())
	if err != nil {
		return nil, fmt.Errorf("l0 vault: %w", err)
	}
	v := &Vault{mem: mem, mech: mech}
	if mech == MechanismNone {
		return v, nil
	}
	if err := setProt(mem, protNone); err != nil {
		unmapPages(mem)
		return nil, fmt.Errorf("l0 vault: %w", err)
	}
	if mech == MechanismProcMem {
		if v.procMem, err = openProcMem(mem); err != nil {
			unmapPages(mem)
			return nil, fmt.Errorf("l0 vault: %w", err)
		}
	}
	return v, nil
}

// Gate hands the vault's VaultSize bytes to f and protects them again when f returns — also
// when f panics (the panic then continues). f must not keep the slice. If protection cannot
// be restored, the vault's contents are erased, the vault refuses every later gate and
// Gate returns the error.
func (v *Vault) Gate(f func(vault []byte) error) (err error) {
	switch {
	case v.mem == nil:
		return errors.New("l0 gate: vault closed")
	case v.broken != nil:
		return v.broken
	}
	v.crossings.Add(1)
	switch v.mech {
	case MechanismMprotect:
		if err := setProt(v.mem, protRW); err != nil {
			return fmt.Errorf("l0 gate: open: %w", err)
		}
		defer func() {
			if perr := setProt(v.mem, protNone); perr != nil {
				clear(v.mem)
				v.broken = fmt.Errorf("l0 gate: close: %w (vault erased)", perr)
				err = errors.Join(err, v.broken)
			}
		}()
		return f(v.mem[:VaultSize:VaultSize])
	case MechanismProcMem:
		w := v.work[:]
		if err := procMemRead(v.procMem, v.mem, w); err != nil {
			return fmt.Errorf("l0 gate: open: %w", err)
		}
		defer func() {
			if werr := procMemWrite(v.procMem, v.mem, w); werr != nil {
				v.broken = fmt.Errorf("l0 gate: close: %w (vault erased)", werr)
				clear(w)
				procMemWrite(v.procMem, v.mem, w)
				err = errors.Join(err, v.broken)
			}
			clear(w)
		}()
		return f(w)
	}
	return f(v.mem[:VaultSize:VaultSize])
}

// Crossings returns how many gates the vault has run.
func (v *Vault) Crossings() uint64 { return v.crossings.Load() }

// Protected reports whether the vault is unreadable outside gates.
func (v *Vault) Protected() bool { return v.mech != MechanismNone }

// Mechanism returns how the vault's gates reach it.
func (v *Vault) Mechanism() Mechanism { return v.mech }

// Page returns the page itself, for tests that check that touching it outside a gate
// faults. Nothing else may use it.
func (v *Vault) Page() []byte { return v.mem }

// Close erases and unmaps the page.
func (v *Vault) Close() error {
	if v.mem == nil {
		return nil
	}
	var errs []error
	if v.mech != MechanismNone {
		if err := setProt(v.mem, protRW); err != nil {
			errs = append(errs, err) // unmapping it drops it anyway
		}
	}
	if len(errs) == 0 {
		clear(v.mem)
	}
	if v.procMem != nil {
		errs = append(errs, v.procMem.Close())
	}
	errs = append(errs, unmapPages(v.mem))
	v.mem = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("l0 vault: close: %w", err)
	}
	return nil
}

// Frozen is a copy of memory that L0 took and that nobody writes afterwards: read-only
// mapped when protected. It is not safe for concurrent use with Free.
type Frozen struct {
	mem     []byte // whole pages
	n       int
	protect bool
}

// Freeze copies src into memory of its own (outside the Go heap) and, when protect is true
// and protection is [Supported], makes it read-only. An empty src freezes nothing.
func Freeze(src []byte, protect bool) (*Frozen, error) {
	f := &Frozen{n: len(src), protect: protect && Supported()}
	if len(src) == 0 {
		return f, nil
	}
	ps := pageSize()
	mem, err := mapPages((len(src) + ps - 1) / ps * ps)
	if err != nil {
		return nil, fmt.Errorf("l0 freeze: %w", err)
	}
	copy(mem, src)
	if f.protect {
		if err := setProt(mem, protRead); err != nil {
			unmapPages(mem)
			return nil, fmt.Errorf("l0 freeze: %w", err)
		}
	}
	f.mem = mem
	return f, nil
}

// Bytes returns the frozen copy (nil when empty). Writing to it faults when it is protected.
func (f *Frozen) Bytes() []byte {
	if f == nil || f.mem == nil {
		return nil
	}
	return f.mem[:f.n:f.n]
}

// Protected reports whether the copy is mapped read-only.
func (f *Frozen) Protected() bool { return f != nil && f.protect && f.mem != nil }

// Free unmaps the copy.
func (f *Frozen) Free() error {
	if f == nil || f.mem == nil {
		return nil
	}
	err := unmapPages(f.mem)
	f.mem, f.n = nil, 0
	if err != nil {
		return fmt.Errorf("l0 free: %w", err)
	}
	return nil
}
