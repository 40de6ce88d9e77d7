package enclave_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/internal/wasmgen"
)

// BenchmarkRewind measures one rewound invocation of a function that writes `dirty` 4 KiB
// pages of a linear memory of `mib` MiB, per strategy, and reports the rewind alone
// (rewind-ns/op) beside a copy of the same pages measured in the same run (memcpy-ns/op).
// `reclave bench rewind` sweeps the same space and writes it as data.
func BenchmarkRewind(b *testing.B) {
	for _, s := range enclave.Strategies() {
		for _, mib := range []int{1, 64} {
			for _, dirty := range []int{1, 16, 256} {
				b.Run(fmt.Sprintf("%s/%dMiB/%dpages", s, mib, dirty), func(b *testing.B) {
					memPages := uint32(mib * 16)
					fn := enclave.Function{Name: "toucher", Wasm: wasmgen.PageToucher(memPages, dirty), MemoryPages: memPages}
					e, err := enclave.Create(context.Background(), enclave.Config{MemoryBytes: int64(mib+4) << 20, Reset: enclave.ResetRewind, Strategy: s}, fn)
					if err != nil {
						b.Fatal(err)
					}
					defer e.Close(context.Background())
					src, dst := make([]byte, mib<<20), make([]byte, mib<<20)
					stride := mib * 256 / dirty * 4096
					var rewind, copying int64
					for b.Loop() {
						inv, err := e.Invoke(context.Background(), nil)
						if err != nil {
							b.Fatal(err)
						}
						for _, p := range inv.Phases {
							if p.Name == "rewind" {
								rewind += int64(p.Duration)
							}
						}
						b.StopTimer()
						start := time.Now()
						for p := 0; p < dirty; p++ {
							copy(dst[p*stride:p*stride+4096], src[p*stride:p*stride+4096])
						}
						copying += int64(time.Since(start))
						b.StartTimer()
					}
					b.ReportMetric(float64(rewind)/float64(b.N), "rewind-ns/op")
					b.ReportMetric(float64(copying)/float64(b.N), "memcpy-ns/op")
				})
			}
		}
	}
}

// BenchmarkRewoundNoop measures a rewound no-op invocation, reset included: the
// per-invocation overhead of the runtime. invocations/s = 1e9 / ns/op.
func BenchmarkRewoundNoop(b *testing.B) {
	for _, s := range enclave.Strategies() {
		b.Run(string(s), func(b *testing.B) {
			t := &testing.T{}
			e, err := enclave.Create(context.Background(), enclave.Config{MemoryBytes: 64 << 20, Reset: enclave.ResetRewind, Strategy: s},
				enclave.Function{Name: "noop", Wasm: readModule(t, "noop")})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close(context.Background())
			in := []byte(`{}`)
			for b.Loop() {
				if _, err := e.Invoke(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "invocations/s")
		})
	}
}
