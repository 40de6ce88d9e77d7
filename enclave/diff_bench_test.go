package enclave_test

import (
	"context"
	"testing"
	"time"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/workloads"
)

// BenchmarkDiffZeroPages measures what diff's zero-page shortcut spares (see
// [enclave.StrategyDiff]): per Go reactor, warmed, the scan of its memory after an invocation
// with the snapshot's zero pages known (zero-ns) and unknown (compared with the snapshot like
// any other, nozero-ns), the two interleaved in one process. Each round invokes the function
// (which dirties its pages and rewinds them), writes one byte in every 64th page, and times
// the scan that restores them. ns/op is meaningless. About 10 s:
//
//	go test ./enclave -run '^$' -bench DiffZeroPages -benchtime 400x
func BenchmarkDiffZeroPages(b *testing.B) {
	all, err := workloads.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	for _, w := range all {
		if w.Language != "go" || w.Kind != "reactor" {
			continue
		}
		b.Run(w.Name, func(b *testing.B) {
			fn, in := benchWorkload(b, w.Name, "small")
			ctx := context.Background()
			e, err := enclave.Create(ctx, enclave.Config{Strategy: enclave.StrategyDiff, MemoryBytes: 64 << 20,
				SnapshotPoint: enclave.PointWarmed, Cache: cache}, fn)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close(ctx)
			var took [2]time.Duration
			var zeros float64
			for b.Loop() {
				for i, zeroMap := range [2]bool{true, false} {
					if _, err := e.Invoke(ctx, in); err != nil {
						b.Fatal(err)
					}
					d, z, err := e.TimeDiffScan(zeroMap)
					if err != nil {
						b.Fatal(err)
					}
					took[i], zeros = took[i]+d, z
				}
			}
			b.ReportMetric(float64(took[0].Nanoseconds())/float64(b.N), "zero-ns")
			b.ReportMetric(float64(took[1].Nanoseconds())/float64(b.N), "nozero-ns")
			b.ReportMetric(zeros, "zero-fraction")
		})
	}
}
