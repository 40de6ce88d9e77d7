package harness

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/internal/wasmgen"
	"github.com/reclave/reclave/results"
)

// RewindBenchOptions configures [RewindBench]. Zero fields take the defaults of the full
// benchmark: every strategy, memory 1, 16, 64 and 256 MiB, 1, 16, 256 and 4096 dirty pages.
type RewindBenchOptions struct {
	Strategies  []enclave.Strategy
	MemoryMiB   []int
	DirtyPages  []int
	Iterations  int           // measured invocations per cell; default 200
	MaxCellTime time.Duration // stop a cell early after this long (at least 20 invocations); default 2s
	Log         io.Writer     // progress lines, may be nil
}

// RewindBench measures the rewind of a function that writes a given number of 4 KiB pages of
// a linear memory of a given size, for each strategy, beside a plain copy of the same pages
// measured in the same run (the physical limit of a rewind).
func RewindBench(ctx context.Context, opts RewindBenchOptions) (*results.RewindBench, error) {
	if len(opts.Strategies) == 0 {
		// Every mechanism; auto is a choice between two of them (diff and tracked), measured
		// on the function's own invocations, not a mechanism of its own.
		opts.Strategies = slices.DeleteFunc(enclave.Strategies(), func(s enclave.Strategy) bool { return s == enclave.StrategyAuto })
	}
	if len(opts.MemoryMiB) == 0 {
		opts.MemoryMiB = []int{1, 16, 64, 256}
	}
	if len(opts.DirtyPages) == 0 {
		opts.DirtyPages = []int{1, 16, 256, 4096}
	}
	if opts.Iterations <= 0 {
		opts.Iterations = 200
	}
	if opts.MaxCellTime <= 0 {
		opts.MaxCellTime = 2 * time.Second
	}
	out := &results.RewindBench{SchemaVersion: results.SchemaVersion}
	for _, s := range opts.Strategies {
		for _, mib := range opts.MemoryMiB {
			for _, dirty := range opts.DirtyPages {
				if dirty > mib*256 {
					continue // more pages than the memory has
				}
				if err := ctx.Err(); err != nil {
					return out, fmt.Errorf("rewind bench interrupted: %w", err)
				}
				row, err := benchCell(ctx, s, mib, dirty, opts)
				if err != nil {
					return out, fmt.Errorf("rewind bench %s %d MiB %d pages: %w", s, mib, dirty, err)
				}
				out.Rows = append(out.Rows, row)
				if opts.Log != nil {
					fmt.Fprintf(opts.Log, "%-8s %5d MiB %5d pages  rewind p50 %-9s memcpy p50 %-9s invoke p50 %s\n",
						s, mib, dirty, results.FormatNs(row.RewindNsP50), results.FormatNs(row.MemcpyNsP50), results.FormatNs(row.InvokeNsP50))
				}
			}
		}
	}
	return out, nil
}

func benchCell(ctx context.Context, s enclave.Strategy, mib, dirty int, opts RewindBenchOptions) (results.RewindRow, error) {
	row := results.RewindRow{Strategy: string(s), MemoryBytes: int64(mib) << 20, DirtyPages: dirty}
	memPages := uint32(mib * 16)
	fn := enclave.Function{Name: "page-toucher", Wasm: wasmgen.PageToucher(memPages, dirty), MemoryPages: memPages}
	cfg := enclave.Config{MemoryBytes: int64(mib+4) << 20, Reset: enclave.ResetRewind, Strategy: s}
	e, err := enclave.Create(ctx, cfg, fn)
	if err != nil {
		return row, err
	}
	defer e.Close(context.WithoutCancel(ctx))

	// The reference: copy the same pages between two buffers of the memory's size.
	src, dst := make([]byte, row.MemoryBytes), make([]byte, row.MemoryBytes)
	for i := range src {
		src[i] = byte(i)
	}
	stride := mib * 256 / dirty * 4096
	var rewind, memcpy, invoke, pages []float64
	deadline := time.Now().Add(opts.MaxCellTime)
	for i := 0; i < opts.Iterations+5; i++ {
		inv, err := e.Invoke(ctx, nil)
		if err != nil {
			return row, err
		}
		if inv.Reset != enclave.ResetRewind {
			return row, fmt.Errorf("invocation %d was reset by %s, not rewound", i, inv.Reset)
		}
		start := time.Now()
		for p := 0; p < dirty; p++ {
			off := p * stride
			copy(dst[off:off+4096], src[off:off+4096])
		}
		copied := time.Since(start)
		if i < 5 {
			continue // warm-up
		}
		for _, ph := range inv.Phases {
			switch ph.Name {
			case "rewind":
				rewind = append(rewind, float64(ph.Duration))
			case "invoke":
				invoke = append(invoke, float64(ph.Duration))
			}
		}
		memcpy = append(memcpy, float64(copied))
		pages = append(pages, float64(inv.PagesRestored))
		if len(rewind) >= 20 && time.Now().After(deadline) {
			break
		}
	}
	rd, _ := results.Describe(rewind)
	md, _ := results.Describe(memcpy)
	id, _ := results.Describe(invoke)
	pd, _ := results.Describe(pages)
	row.N = len(rewind)
	row.RewindNsP50, row.RewindNsP99 = rd.P50, rd.P99
	row.MemcpyNsP50, row.InvokeNsP50, row.PagesRestoredP50 = md.P50, id.P50, pd.P50
	return row, nil
}
