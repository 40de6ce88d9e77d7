package l0

import (
	"testing"

	"github.com/reclave/reclave/enclave/attest"
)

// BenchmarkGate is the cost of one gate crossing that reads and writes a byte of the vault,
// per mechanism: none (the bookkeeping alone, the reference), mprotect (two mprotects and
// the TLB shootdown the touched page costs) and procmem (a read and a write of
// /proc/self/mem).
func BenchmarkGate(b *testing.B) {
	for _, mech := range mechanisms(b) {
		b.Run(string(mech), func(b *testing.B) {
			v := testVault(b, mech)
			f := func(w []byte) error { w[40]++; return nil }
			for b.Loop() {
				if err := v.Gate(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignInner is signing one inner report: with the key's private half sealed in a
// vault (one gate, the key rebuilt inside), per gate mechanism, beside the reference, an
// unsealed attest.L0Key (what the enclave did before L0 had a vault).
func BenchmarkSignInner(b *testing.B) {
	f := attest.InnerFields{EnclaveID: "0123456789abcdef"}
	b.Run("reference=unsealed-key", func(b *testing.B) {
		k, err := attest.NewL0Key()
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := k.SignInner(f); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, mech := range mechanisms(b) {
		b.Run("monitor/"+string(mech), func(b *testing.B) {
			m := testMonitor(b, mech, false)
			for b.Loop() {
				if _, err := m.SignInner(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
