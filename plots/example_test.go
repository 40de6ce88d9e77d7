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
