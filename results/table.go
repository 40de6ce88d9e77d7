package results

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
)

// FormatNs formats a duration in nanoseconds with three significant digits and the largest
// unit (ns, µs, ms, s) that keeps the number at least 1: "98.2 ms", "21 µs", "1 ms".
func FormatNs(ns float64) string {
	if math.IsNaN(ns) || math.IsInf(ns, 0) {
		return "-"
	}
	if ns <= 0 {
		return strconv.FormatFloat(ns, 'g', 3, 64) + " ns"
	}
	e := math.Floor(math.Log10(ns))
	scale := math.Pow(10, e-2)
	r := math.Round(ns/scale) * scale
	format := func(v float64, unit string) string {
		if v >= 1000 { // 'g' would switch to an exponent
			return strconv.FormatFloat(v, 'f', 0, 64) + " " + unit
		}
		return strconv.FormatFloat(v, 'g', 3, 64) + " " + unit
	}
	for _, u := range []struct {
		ns   float64
		name string
	}{{1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}} {
		if r >= u.ns*(1-1e-9) {
			return format(r/u.ns, u.name)
		}
	}
	return format(r, "ns")
}

// WriteTable writes a short text table of a summary: per workload and mode the median and
// 99th percentile latency, errors, the speed-up of the median latency over mode cold of the
// same workload, and the same for the start-up cost (latency minus the function's own
// execution); "-" where there is no cold result.
func WriteTable(w io.Writer, s *Summary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "workload\tmode\tn\terrors\tp50\tp99\tp50 vs cold\tstart-up p50\tstart-up vs cold")
	speedup := func(cold, x float64) string {
		if cold <= 0 || x <= 0 {
			return "-"
		}
		return FormatRatio(cold / x)
	}
	for _, r := range s.Results {
		lat, start := "-", "-"
		if cold := s.Find(r.Workload, "cold"); cold != nil {
			lat = speedup(cold.LatencyNs.P50, r.LatencyNs.P50)
			start = speedup(cold.StartupNs.P50, r.StartupNs.P50)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", r.Workload, r.Mode, r.N, r.Errors,
			FormatNs(r.LatencyNs.P50), FormatNs(r.LatencyNs.P99), lat, FormatNs(r.StartupNs.P50), start)
	}
	return tw.Flush()
}

// FormatRatio formats a speed-up: "1×", "2.5×", "37×", "1234×".
func FormatRatio(x float64) string {
	if x == 1 {
		return "1×"
	}
	if x < 10 {
		return fmt.Sprintf("%.1f×", x)
	}
	return fmt.Sprintf("%.0f×", x)
}

// WriteRewindTable writes the rewind benchmark as a text table: per strategy, memory size and
// dirty pages, the median rewind, the median copy of the same pages, their ratio and the
// median invocation.
func WriteRewindTable(w io.Writer, b *RewindBench) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "strategy\tmemory\tdirty pages\trewind p50\tmemcpy p50\trewind/memcpy\tinvoke p50")
	for _, r := range b.Rows {
		ratio := "-"
		if r.MemcpyNsP50 > 0 {
			ratio = FormatRatio(r.RewindNsP50 / r.MemcpyNsP50)
		}
		fmt.Fprintf(tw, "%s\t%d MiB\t%d\t%s\t%s\t%s\t%s\n", r.Strategy, r.MemoryBytes>>20, r.DirtyPages,
			FormatNs(r.RewindNsP50), FormatNs(r.MemcpyNsP50), ratio, FormatNs(r.InvokeNsP50))
	}
	return tw.Flush()
}
