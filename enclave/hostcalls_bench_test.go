package enclave_test

import (
	"context"
	"testing"

	"github.com/reclave/reclave/enclave"
)

// BenchmarkHostCallAccounting is one rewound invocation (strategy diff, reset included) of
// built-in workloads: noop, counter and json-stats (C reactors: 3 host calls), hello-go (a Go
// reactor: 3) and hello-go-cmd (a Go command, whose runtime starts every invocation: about
// 25, of ten functions), each with its small input. calls/op is the host calls per
// invocation.
//
// Host calls are always counted; what that costs is measured against a build without it
// (the tag reclave_nohostcalls compiles the counting out), interleaved so that both see the
// same machine:
//
//	go test -c -o /tmp/on.test ./enclave
//	go test -c -tags reclave_nohostcalls -o /tmp/off.test ./enclave
//	for i in $(seq 10); do for v in on off; do
//	  /tmp/$v.test -test.run '^$' -test.bench 'HostCallAccounting|RewoundNoop/diff' -test.count 1 | sed "s/^Benchmark/$v:&/"
//	done; done
func BenchmarkHostCallAccounting(b *testing.B) {
	for _, name := range []string{"noop", "counter", "json-stats", "hello-go", "hello-go-cmd"} {
		b.Run(name, func(b *testing.B) {
			fn, in := benchWorkload(b, name, "small")
			ctx := context.Background()
			e, err := enclave.Create(ctx, enclave.Config{MemoryBytes: 64 << 20, Reset: enclave.ResetRewind, Strategy: enclave.StrategyDiff, Cache: cache}, fn)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close(ctx)
			var calls uint64
			for b.Loop() {
				inv, err := e.Invoke(ctx, in)
				if err != nil {
					b.Fatal(err)
				}
				for _, c := range inv.HostCalls {
					calls += c.Calls
				}
			}
			b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
		})
	}
}
