package enclave_test

import (
	"context"
	"testing"
	"time"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/workloads"
)

// benchWorkload returns a built-in workload's function, as the harness makes it from its
// manifest, and input.
func benchWorkload(b *testing.B, name, size string) (enclave.Function, []byte) {
	b.Helper()
	all, err := workloads.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	for _, w := range all {
		if w.Name != name {
			continue
		}
		fn, err := harness.FunctionOf(w)
		if err != nil {
			b.Fatal(err)
		}
		in, err := w.Input(size)
		if err != nil {
			b.Fatal(err)
		}
		return fn, in
	}
	b.Fatalf("no built-in workload %s", name)
	return enclave.Function{}, nil
}

// BenchmarkInvokeCompartments is the target: one invocation of a compute-bound
// workload (json-stats, input small), reset included, with compartments on and off, for the
// modes warm and rewind, attestation off; and attested rewound invocations, which cross one
// gate each. crossings/op is the number of L0 gates an invocation crossed.
func BenchmarkInvokeCompartments(b *testing.B) {
	fn, in := benchWorkload(b, "json-stats", "small")
	platform, err := attest.NewSimulatedPlatform()
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []struct {
		name     string
		reset    enclave.Reset
		attested bool
	}{
		{"warm", enclave.ResetNone, false},
		{"rewind", enclave.ResetRewind, false},
		{"rewind-attested", enclave.ResetRewind, true},
	} {
		for _, comp := range []enclave.Compartments{enclave.CompartmentsOff, enclave.CompartmentsOn} {
			b.Run(mode.name+"/compartments="+string(comp), func(b *testing.B) {
				cfg := enclave.Config{MemoryBytes: 16 << 20, Reset: mode.reset, Compartments: comp, Cache: cache}
				if mode.attested {
					cfg.Quoter = platform
				}
				e, err := enclave.Create(context.Background(), cfg, fn)
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close(context.Background())
				ctx := context.Background()
				before := e.GateCrossings()
				for b.Loop() {
					if mode.attested {
						_, err = e.InvokeAttested(ctx, in, attest.NewNonce())
					} else {
						_, err = e.Invoke(ctx, in)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(e.GateCrossings()-before)/float64(b.N), "crossings/op")
			})
		}
	}
}

// BenchmarkCompartmentsOverhead measures the same as BenchmarkInvokeCompartments, paired:
// every iteration invokes an enclave with compartments off and one with them on, in
// alternating order, so that both see the same machine load (the shared machines' load
// drifts more than the effect). It reports each one's time per invocation and the overhead
// of compartments in percent: the target is ≤ 5% without attestation.
func BenchmarkCompartmentsOverhead(b *testing.B) {
	fn, in := benchWorkload(b, "json-stats", "small")
	ctx := context.Background()
	for _, mode := range []struct {
		name  string
		reset enclave.Reset
	}{{"warm", enclave.ResetNone}, {"rewind", enclave.ResetRewind}} {
		b.Run(mode.name, func(b *testing.B) {
			var es [2]*enclave.Enclave
			for i, comp := range []enclave.Compartments{enclave.CompartmentsOff, enclave.CompartmentsOn} {
				e, err := enclave.Create(ctx, enclave.Config{MemoryBytes: 16 << 20, Reset: mode.reset, Compartments: comp, Cache: cache}, fn)
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close(ctx)
				es[i] = e
			}
			var ns [2]time.Duration
			n := 0
			for b.Loop() {
				for k := range 2 {
					i := (n + k) % 2
					start := time.Now()
					if _, err := es[i].Invoke(ctx, in); err != nil {
						b.Fatal(err)
					}
					ns[i] += time.Since(start)
				}
				n++
			}
			off, on := float64(ns[0])/float64(n), float64(ns[1])/float64(n)
			b.ReportMetric(off, "off-ns/op")
			b.ReportMetric(on, "on-ns/op")
			b.ReportMetric(100*(on-off)/off, "overhead-%")
		})
	}
}
