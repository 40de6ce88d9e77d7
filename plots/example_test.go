package plots_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/reclave/reclave/plots"
	"github.com/reclave/reclave/results"
)

// Redraw the headline figure from a summary. In practice the summary comes from
// results.ReadSummary("out/summary.json"); here it is built by hand.
func ExampleHeadline() {
	median := func(workload, mode string, ns float64) results.Result {
		r := results.Result{Key: results.Key{Workload: workload, Mode: mode}}
		r.LatencyNs.P50 = ns
		return r
	}
	s := &results.Summary{
		Env: results.Env{Backend: "sim", Simulated: true}, // captioned "simulated SGX"
		Results: []results.Result{
			median("hello", "cold", 98e6), // 98 ms: a fresh enclave per call
			median("hello", "rewind", 21e3),
			median("hello", "warm", 5e3),
			median("hello", "reinstantiate", 190e3),
		},
	}

	dir, err := os.MkdirTemp("", "plots-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	paths, err := plots.Headline(s, filepath.Join(dir, "figures"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range paths {
		fmt.Println(filepath.Base(p))
	}
	// Output:
	// cold_vs_rewind.png
	// cold_vs_rewind.svg
	// cold_vs_rewind.pdf
}

// Redraw the rewind scaling figure from a rewind benchmark. In practice the bench comes from
// results.ReadRewindBench("out/rewind_bench.json"); here it is built by hand.
func ExampleRewindScaling() {
	b := &results.RewindBench{Env: results.Env{Backend: "sim", Simulated: true}}
	for _, pages := range []int{1, 16, 256, 4096} {
		b.Rows = append(b.Rows,
			results.RewindRow{Strategy: "full", MemoryBytes: 64 << 20, DirtyPages: pages,
				RewindNsP50: 3.3e6, MemcpyNsP50: 80 * float64(pages)},
			results.RewindRow{Strategy: "tracked", MemoryBytes: 64 << 20, DirtyPages: pages,
				RewindNsP50: 1e3 + 100*float64(pages), MemcpyNsP50: 80 * float64(pages)},
		)
	}

	dir, err := os.MkdirTemp("", "plots-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	paths, err := plots.RewindScaling(b, dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range paths {
		fmt.Println(filepath.Base(p))
	}
	// Output:
	// rewind_scaling.png
	// rewind_scaling.svg
	// rewind_scaling.pdf
}
