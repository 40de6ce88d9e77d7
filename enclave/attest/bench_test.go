package attest_test

import (
	"slices"
	"testing"
	"time"

	"github.com/reclave/reclave/enclave/attest"
)

// BenchmarkAttestation measures, side by side, the per-invocation costs of the nested chain:
// sign_inner is the enclave's (encode and sign an inner report with the L0 key), verify_inner
// the client's once it has verified the outer evidence (check the L0 signature and decode),
// verify_bundle the whole verification of a bundle's JSON (certificate chain, quote
// signature, inner signature, policy, hashes). Each reports the median and 99th percentile
// of the per-operation times besides the mean (ns/op).
func BenchmarkAttestation(b *testing.B) {
	f := newFixture(b)
	nonce := attest.NewNonce()
	inv := f.invocation(1, nonce)
	inner, err := f.l0.SignInner(inv.fields)
	if err != nil {
		b.Fatal(err)
	}
	raw := marshal(b, attest.NewBundle(f.ev, f.l0.PublicKeyDER(), inner, inv.output))
	opts := f.opts(nonce, inv.input)

	timed := func(b *testing.B, op func() error) {
		d := make([]time.Duration, 0, 1024)
		for b.Loop() {
			start := time.Now()
			if err := op(); err != nil {
				b.Fatal(err)
			}
			d = append(d, time.Since(start))
		}
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Nanoseconds()), "median-ns")
		b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds()), "p99-ns")
	}
	b.Run("sign_inner", func(b *testing.B) {
		timed(b, func() error { _, err := f.l0.SignInner(inv.fields); return err })
	})
	b.Run("verify_inner", func(b *testing.B) {
		pub := f.l0.Public()
		timed(b, func() error { _, err := attest.VerifyInner(inner, pub); return err })
	})
	b.Run("verify_bundle", func(b *testing.B) {
		timed(b, func() error { _, err := attest.Verify(raw, opts); return err })
	})
}
