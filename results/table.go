package results

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
)

// FormatNs formats a duration in nanoseconds with a unit that keeps three significant digits:
// ns, µs, ms or s.
func FormatNs(ns float64) string {
	abs := math.Abs(ns)
	switch {
	case math.IsNaN(ns):
		return "-"
	case abs < 1e3:
		return fmt.Sprintf("%.0fns", ns)
	case abs < 1e6:
		return fmt.Sprintf("%.3gµs", ns/1e3)
	case abs < 1e9:
		return fmt.Sprintf("%.3gms", ns/1e6)
	default:
		return fmt.Sprintf("%.3gs", ns/1e9)
	}
}

// WriteTable writes a short text table of a summary: per workload and mode the median and
// 99th percentile latency, errors, and the speed-up of the median over mode cold of the same
// workload ("-" where there is no cold result).
func WriteTable(w io.Writer, s *Summary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "workload\tmode\tn\terrors\tp50\tp99\tp50 vs cold")
	for _, r := range s.Results {
		speedup := "-"
		if cold := s.Find(r.Workload, "cold"); cold != nil && r.LatencyNs.P50 > 0 && cold.LatencyNs.P50 > 0 {
			speedup = FormatRatio(cold.LatencyNs.P50 / r.LatencyNs.P50)
			if r.Mode == "cold" {
				speedup = "1×"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", r.Workload, r.Mode, r.N, r.Errors,
			FormatNs(r.LatencyNs.P50), FormatNs(r.LatencyNs.P99), speedup)
	}
	return tw.Flush()
}

// FormatRatio formats a speed-up: "2.5×", "37×", "1234×".
func FormatRatio(x float64) string {
	if x < 10 {
		return fmt.Sprintf("%.1f×", x)
	}
	return fmt.Sprintf("%.0f×", x)
}
