package plots

import (
	"bytes"
	"strings"
	"testing"

	"github.com/reclave/reclave/results"
)

// TestRewindWarmSection: report.md's "Rewind against warm" shows each rewind-versus-warm pair
// with both medians, their difference, the paired ratio and its interval, "~" exactly when
// the interval holds 1, why a ratio has no interval, and the failures of either side; and
// nothing when the run has no such pair.
func TestRewindWarmSection(t *testing.T) {
	result := func(workload, mode string, p50 float64, rounds []float64) results.Result {
		r := results.Result{Key: results.Key{Experiment: "e", Workload: workload, Mode: mode, Size: "small"}, N: 60,
			LatencyNs: results.Dist{P50: p50}, RoundP50Ns: rounds}
		if mode == "rewind" {
			r.Strategy, r.Strategies = "auto", map[string]int{"tracked": 60}
		}
		return r
	}
	rs := []results.Result{
		result("same", "warm", 1000e3, []float64{1000e3, 1010e3, 990e3}),
		result("same", "rewind", 1004e3, []float64{1012e3, 1000e3, 1004e3}),
		result("slower", "warm", 10e3, []float64{10e3, 10.1e3, 9.9e3}),
		result("slower", "rewind", 15e3, []float64{15e3, 15.3e3, 14.9e3}),
		result("short", "warm", 10e3, []float64{10e3, 10e3}),
		result("short", "rewind", 12e3, []float64{12e3, 12e3}),
	}
	rs[3].Errors = 2
	s := &results.Summary{Results: rs, Paired: results.Pairs(rs)}
	var b bytes.Buffer
	writeRewindWarm(&b, s)
	out := b.String()
	for _, want := range []string{
		"## Rewind against warm",
		"| e | same |  | auto (tracked) | 1 ms | 1 ms | +4 µs | 1.01× (0.973×–1.04×) ~ |",
		"| e | slower |  | auto (tracked) | 10 µs | 15 µs | +5 µs | 1.51× (1.49×–1.53×) |",
		"| e | short |  | auto (tracked) | 10 µs | 12 µs | +2 µs | 1.2× (no interval: 2 round(s), it needs 3) |",
		"- e slower rewind: of 60 invocations, 2 failed (not in its medians) and 0 gave an invalid output",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("section lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "| same |") != strings.HasSuffix(line, " ~ |") {
			t.Errorf("\"~\" wrong in %q: only the pair whose interval holds 1 has it", line)
		}
	}
	// Two loads of one workload: a column of the parameters that differ tells them apart.
	byLoad := func(mode string, c int, p50 float64) results.Result {
		r := result("conc", mode, p50, []float64{p50, p50, p50})
		r.Load, r.Concurrency = "closed", c
		return r
	}
	rs2 := []results.Result{byLoad("warm", 1, 10e3), byLoad("rewind", 1, 11e3), byLoad("warm", 4, 12e3), byLoad("rewind", 4, 14e3)}
	b.Reset()
	writeRewindWarm(&b, &results.Summary{Results: rs2, Paired: results.Pairs(rs2)})
	for _, want := range []string{"| snapshot point | parameters | strategy |", "| load=closed×1 | auto (tracked) | 10 µs | 11 µs |",
		"| load=closed×4 | auto (tracked) | 12 µs | 14 µs |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("section lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(out, "| parameters |") {
		t.Errorf("a parameters column where no parameter differs:\n%s", out)
	}
	b.Reset()
	writeRewindWarm(&b, &results.Summary{Results: rs[:1]})
	if b.Len() != 0 {
		t.Errorf("a run without a pair got a section:\n%s", b.String())
	}
}
