package enclave

import (
	"context"
	"testing"
	"time"

	"github.com/reclave/reclave/workloads"
)

// BenchmarkDiffZeroPages measures what diff's zero-page shortcut spares (see
// [StrategyDiff]): per Go reactor, warmed, the scan of its memory after an invocation with
// the snapshot's zero pages known (zero-ns) and unknown (compared with the snapshot like any
// other, nozero-ns), the two interleaved in one process. Each round invokes the function
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
			wasm, err := w.Wasm()
			if err != nil {
				b.Fatal(err)
			}
			in, err := w.Input("small")
			if err != nil {
				b.Fatal(err)
			}
			fn := Function{Name: w.Name, Wasm: wasm, Kind: Kind(w.Kind), MemoryPages: w.Limits.MemoryPages,
				Imports: w.Imports, Stubs: w.StubImports}
			if fn.WarmupInput, err = w.WarmupInput(); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			e, err := Create(ctx, Config{Strategy: StrategyDiff, MemoryBytes: 64 << 20, SnapshotPoint: PointWarmed}, fn)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close(ctx)
			r := e.rew.(*diffRewinder)
			known, err := r.zeroPages()
			if err != nil {
				b.Fatal(err)
			}
			defer func() { r.zero = known }()
			zeros := 0
			for _, z := range known {
				zeros += int(z)
			}
			variants := [2][]byte{known, make([]byte, len(known))}
			var took [2]time.Duration
			for b.Loop() {
				for i, z := range variants {
					if _, err := e.Invoke(ctx, in); err != nil {
						b.Fatal(err)
					}
					heap := e.heap.bytes()
					for p := 0; p < len(heap); p += 64 * snapshotPage {
						heap[p]++
					}
					r.zero = z
					start := time.Now()
					if _, err := r.restoreDiff(heap, len(heap)); err != nil {
						b.Fatal(err)
					}
					took[i] += time.Since(start)
				}
			}
			b.ReportMetric(float64(took[0].Nanoseconds())/float64(b.N), "zero-ns")
			b.ReportMetric(float64(took[1].Nanoseconds())/float64(b.N), "nozero-ns")
			b.ReportMetric(float64(zeros)/float64(len(known)), "zero-fraction")
		})
	}
}
