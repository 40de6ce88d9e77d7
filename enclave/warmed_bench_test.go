package enclave_test

import (
	"context"
	"testing"
	"time"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/workloads"
)

// BenchmarkWarmedRewind measures what a warmed snapshot leaves to pay per rewound invocation
// of the Go reactors: per workload and warm-up input (the manifest's, and its test input for
// comparison), a warm enclave and rewinding enclaves under diff and tracked, all at snapshot
// point warmed with the small input, each invoked in blocks of 50 (10 unmeasured), the blocks
// interleaved, so that each runs with its own state in the caches as a platform's pool would.
// It reports the median latency (execution plus reset) of each, warm-ns, diff-ns and
// tracked-ns, and their execution alone, *-exec-ns. See docs/design.md, "Why settle the
// warm-up". ns/op is meaningless. About 40 s:
//
//	go test ./enclave -run '^$' -bench WarmedRewind -benchtime 1x
func BenchmarkWarmedRewind(b *testing.B) {
	all, err := workloads.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"hello-go", "session-go", "regex", "deflate", "sha-aes"} {
		fn, in := benchWorkload(b, name, "small")
		var test []byte
		for _, w := range all {
			if w.Name == name {
				if test, err = w.Input("test"); err != nil {
					b.Fatal(err)
				}
			}
		}
		for _, warmup := range []struct {
			name  string
			input []byte
		}{{"manifest", fn.WarmupInput}, {"test", test}} {
			b.Run(name+"/warmup="+warmup.name, func(b *testing.B) {
				fn := fn
				fn.WarmupInput = warmup.input
				benchWarmedRewind(b, fn, in)
			})
		}
	}
}

func benchWarmedRewind(b *testing.B, fn enclave.Function, in []byte) {
	ctx := context.Background()
	modes := []struct {
		name string
		cfg  enclave.Config
	}{
		{"warm", enclave.Config{Reset: enclave.ResetNone}},
		{"diff", enclave.Config{Strategy: enclave.StrategyDiff}},
		{"tracked", enclave.Config{Strategy: enclave.StrategyTracked}},
	}
	es := make([]*enclave.Enclave, len(modes))
	for i, m := range modes {
		cfg := m.cfg
		cfg.MemoryBytes, cfg.SnapshotPoint, cfg.Cache = 64<<20, enclave.PointWarmed, cache
		e, err := enclave.Create(ctx, cfg, fn)
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close(ctx)
		es[i] = e
	}
	const block, skip, blocks = 50, 10, 4
	total := make([][]time.Duration, len(modes))
	exec := make([][]time.Duration, len(modes))
	for b.Loop() {
		for range blocks {
			for i, e := range es {
				for j := range block {
					inv, err := e.Invoke(ctx, in)
					if err != nil {
						b.Fatal(err)
					}
					if j >= skip {
						total[i] = append(total[i], inv.Total)
						exec[i] = append(exec[i], inv.Exec)
					}
				}
			}
		}
	}
	for i, m := range modes {
		b.ReportMetric(median(total[i]), m.name+"-ns")
		b.ReportMetric(median(exec[i]), m.name+"-exec-ns")
	}
}
