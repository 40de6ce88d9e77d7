package harness

import (
	"context"
	"testing"
	"time"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/workloads"
)

// BenchmarkDriverOverhead measures what the driver adds to an invocation on its path: the
// noop workload rewound, invoked directly through the enclave API (enclave-ns/op) and through
// the driver's session with the record filled and sent to the stream (driver-ns/op),
// alternately in the same loop. The difference, overhead-ns/op, is the driver's cost (target:
// ≤ 1 µs).
func BenchmarkDriverOverhead(b *testing.B) {
	wls, err := workloads.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	var fn enclave.Function
	for _, w := range wls {
		if w.Name == "noop" {
			if fn, err = FunctionOf(w); err != nil {
				b.Fatal(err)
			}
		}
	}
	ctx := context.Background()
	cfg := enclave.Config{MemoryBytes: 4 << 20, Reset: enclave.ResetRewind, Strategy: enclave.StrategyTracked}
	input := []byte("{}")
	enc, err := enclave.Create(ctx, cfg, fn)
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close(ctx)
	s, err := NewSession("rewind", cfg, fn)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(ctx)
	if err := s.Prepare(ctx); err != nil {
		b.Fatal(err)
	}
	out := make(chan []pending, 16)
	done := make(chan struct{})
	wls2, _ := workloads.Builtin()
	gr := &groupRun{out: out, bufs: make([]recordBuffer, 1), r: &runner{start: time.Now()}}
	for _, w := range wls2 {
		if w.Name == "noop" {
			gr.g = group{mode: "rewind", t: &target{w: w}}
			gr.base = results.Record{SchemaVersion: results.SchemaVersion, Workload: "noop", Mode: "rewind"}
		}
	}
	go func() { // the stream's consumer, off the invocation's path
		for batch := range out {
			for i := range batch {
				batch[i].record()
			}
		}
		close(done)
	}()
	// The two paths alternate, so that the machine's noise falls on both alike.
	var direct, driven time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := enc.Invoke(ctx, input); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		c, err := s.Invoke(ctx, input, nil)
		if err != nil || c.Err != nil {
			b.Fatal(err, c.Err)
		}
		gr.emit(0, pending{gr: gr, call: c, seq: int(gr.seq.Add(1) - 1)})
		t2 := time.Now()
		direct += t1.Sub(t0)
		driven += t2.Sub(t1)
	}
	gr.flush(0)
	close(out)
	<-done
	n := float64(b.N)
	b.ReportMetric(float64(direct)/n, "enclave-ns/op")
	b.ReportMetric(float64(driven)/n, "driver-ns/op")
	b.ReportMetric(float64(driven-direct)/n, "overhead-ns/op")
}
