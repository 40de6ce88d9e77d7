package results

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
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

// WriteTable writes a short text table of a summary: per configuration the median and 99th
// percentile latency, errors, the speed-up of the median latency over mode cold of the same
// workload in the same experiment and input size, and the same for the start-up cost
// (latency minus the function's own execution); "-" where there is no such cold result. A
// column names the experiment when the run had several, and a column the parameters that
// differ between the run's configurations: load (model×concurrency), comp (compartments on
// or off), att (attestation), size, memory, strategy.
func WriteTable(w io.Writer, s *Summary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	experiments := false
	for _, r := range s.Results {
		experiments = experiments || r.Experiment != ""
	}
	params := varyingParams(s.Results)
	head := "workload\tmode\tn\terrors\tp50\tp99\tp50 vs cold\tstart-up p50\tstart-up vs cold"
	if len(params) > 0 {
		head = "workload\tmode\tparameters\tn\terrors\tp50\tp99\tp50 vs cold\tstart-up p50\tstart-up vs cold"
	}
	if experiments {
		head = "experiment\t" + head
	}
	fmt.Fprintln(tw, head)
	speedup := func(cold, x float64) string {
		if cold <= 0 || x <= 0 {
			return "-"
		}
		return FormatRatio(cold / x)
	}
	for _, r := range s.Results {
		lat, start := "-", "-"
		if cold := coldOf(s.Results, &r); cold != nil {
			lat = speedup(cold.LatencyNs.P50, r.LatencyNs.P50)
			start = speedup(cold.StartupNs.P50, r.StartupNs.P50)
		}
		if experiments {
			fmt.Fprintf(tw, "%s\t", r.Experiment)
		}
		fmt.Fprintf(tw, "%s\t%s\t", r.Workload, r.Mode)
		if len(params) > 0 {
			var ps []string
			for _, p := range params {
				ps = append(ps, p.name+"="+p.value(&r.Key))
			}
			fmt.Fprintf(tw, "%s\t", strings.Join(ps, " "))
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\n", r.N, r.Errors,
			FormatNs(r.LatencyNs.P50), FormatNs(r.LatencyNs.P99), lat, FormatNs(r.StartupNs.P50), start)
	}
	return tw.Flush()
}

// coldOf returns the result of mode cold that r compares with: the same workload, experiment,
// target and input size, and the same load and concurrency when there is one; nil when there
// is none.
func coldOf(rs []Result, r *Result) *Result {
	var loose *Result
	for i := range rs {
		c := &rs[i]
		if c.Mode != "cold" || c.Workload != r.Workload || c.Experiment != r.Experiment || c.Target != r.Target || c.Size != r.Size {
			continue
		}
		if c.Load == r.Load && c.Concurrency == r.Concurrency {
			return c
		}
		if loose == nil {
			loose = c
		}
	}
	return loose
}

// tableParam is a configuration parameter the table may show.
type tableParam struct {
	name  string
	value func(*Key) string
}

// varyingParams returns the parameters whose values differ between the results.
func varyingParams(rs []Result) []tableParam {
	all := []tableParam{
		{"load", func(k *Key) string { return k.Load + "×" + strconv.Itoa(k.Concurrency) }},
		{"comp", func(k *Key) string {
			if k.Compartments {
				return "on"
			}
			return "off"
		}},
		{"att", func(k *Key) string { return k.Attestation }},
		{"size", func(k *Key) string { return k.Size }},
		{"memory", func(k *Key) string { return strconv.FormatInt(k.MemoryBytes>>20, 10) + "MiB" }},
		{"strategy", func(k *Key) string { return k.Strategy }},
	}
	var out []tableParam
	for _, p := range all {
		seen := map[string]bool{}
		for i := range rs {
			if p.name == "strategy" && rs[i].Mode != "rewind" {
				continue // only rewind has a strategy
			}
			seen[p.value(&rs[i].Key)] = true
		}
		if len(seen) > 1 {
			out = append(out, p)
		}
	}
	return out
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
