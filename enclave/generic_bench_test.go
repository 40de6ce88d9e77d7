package enclave_test

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/reclave/reclave/enclave"
)

// BenchmarkGeneric measures, per built-in reactor workload (input test), one invocation with
// its reset in a generic enclave whose compile cache holds the module (generic) beside the
// same function in per-function enclaves of the same size and strategy (diff): warm (no
// reset: the lower bound, the reference of the same run), rewound to a function-point
// snapshot (rewind-function) and to a runtime-point snapshot (rewind-runtime, which
// re-instantiates and re-initialises after every invocation, as a generic enclave does before
// it); and a generic invocation whose module misses the cache (generic-miss: a new module
// every time, compiled without a shared compilation cache). load-ns/op is the load phase
// (compile or cache lookup and checks), init-ns/op instantiate + fn_init.
//
//	go test -run XXX -bench BenchmarkGeneric -benchtime 300ms ./enclave/
func BenchmarkGeneric(b *testing.B) {
	ctx := context.Background()
	for _, c := range builtinCases(b) {
		if c.fn.Kind != enclave.KindReactor {
			continue
		}
		perFunction := func(name string, cfg enclave.Config) {
			b.Run(c.w.Name+"/"+name, func(b *testing.B) {
				cfg.MemoryBytes, cfg.Strategy, cfg.Cache = genericMemory, enclave.StrategyDiff, cache
				e, err := enclave.Create(ctx, cfg, c.fn)
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close(ctx)
				for b.Loop() {
					if _, err := e.Invoke(ctx, c.input); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		perFunction("warm", enclave.Config{Reset: enclave.ResetNone})
		perFunction("rewind-function", enclave.Config{Reset: enclave.ResetRewind, SnapshotPoint: enclave.PointFunction})
		perFunction("rewind-runtime", enclave.Config{Reset: enclave.ResetRewind, SnapshotPoint: enclave.PointRuntime})
		generic := func(name string, miss bool) {
			b.Run(c.w.Name+"/"+name, func(b *testing.B) {
				cfg := enclave.Config{MemoryBytes: genericMemory, Cache: cache}
				if miss {
					cfg.Cache = nil // every miss compiles for real
				}
				e, err := enclave.CreateGeneric(ctx, cfg)
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close(ctx)
				fn := c.fn
				if !miss { // warm the cache
					if _, err := e.InvokeFunction(ctx, fn, c.input); err != nil {
						b.Fatal(err)
					}
				}
				var n uint64
				var load, init int64
				for b.Loop() {
					if miss {
						fn.Wasm = withCustomSection(c.fn.Wasm, n)
						n++
					}
					inv, err := e.InvokeFunction(ctx, fn, c.input)
					if err != nil {
						b.Fatal(err)
					}
					if inv.Load.CacheHit == miss {
						b.Fatalf("cache hit %v, want %v", inv.Load.CacheHit, !miss)
					}
					for _, p := range inv.Phases {
						switch p.Name {
						case "load":
							load += int64(p.Duration)
						case "instantiate", "fn_init":
							init += int64(p.Duration)
						}
					}
				}
				b.ReportMetric(float64(load)/float64(b.N), "load-ns/op")
				b.ReportMetric(float64(init)/float64(b.N), "init-ns/op")
			})
		}
		generic("generic", false)
		generic("generic-miss", true)
	}
}

// withCustomSection returns wasm with a custom section "reclave" holding n appended: a
// module that behaves the same under another hash.
func withCustomSection(wasm []byte, n uint64) []byte {
	const name = "reclave"
	sec := append([]byte{0, byte(1 + len(name) + 8), byte(len(name))}, name...)
	sec = binary.LittleEndian.AppendUint64(sec, n)
	return append(append([]byte(nil), wasm...), sec...)
}
