package results

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// This file writes the tables of a run (the summary's, the rewind benchmark's) and formats
// their numbers. The conventions, shared by the figures of package plots:
//
//   - Durations and ratios carry at most three significant digits ([FormatNs],
//     [FormatRatio]): no statistic of a benchmark run is known better than that, and most
//     are known worse (see [HighVariance]).
//   - A quantile is shown only when the sample supports it ([QuantileMinN]): p50 from one
//     invocation, p90 from 10, p99 from 100, p99.9 from 1000; the median's 95% confidence
//     interval exists from [MedianCIMinN] (6) invocations.
//   - A ratio of two medians is shown only when both come from at least [RatioMinN] (3)
//     invocations and its denominator is at least [RatioFloorNs] (1 µs).
//   - Where a value is not shown, the table says [NoValue] ("—") and a note under the table
//     says why.

// NoValue is what a table shows in place of a value it does not show: no such value, or one
// the data do not support (see [QuantileMinN], [RatioMinN], [RatioFloorNs]).
const NoValue = "—"

// MedianCIMinN is the smallest sample for which the median has a 95% confidence interval
// ([Confidence]): benchmath's distribution-free interval is a pair of order statistics whose
// binomial coverage reaches the level, and with n < 6 even the smallest and the largest
// sample cover the median with probability 1 − 2·2⁻ⁿ < 95% (93.75% for n = 5). A summary's
// p50_ci95_lo and p50_ci95_hi are null below it, and a figure draws no whisker.
const MedianCIMinN = 6

// RatioMinN is the smallest number of successful invocations each of the two medians of a
// ratio must come from: with n ≥ 3 the nearest-rank median has a sample on either side of it;
// with n = 2 it is the smaller sample, with n = 1 the only one, an extreme rather than a
// centre. It is below [MedianCIMinN] on purpose: cold starts are expensive and few (configs
// run 3 or 4), and their spread is small next to the orders of magnitude a ratio to them
// shows; the table's n column says how many there were.
const RatioMinN = 3

// RatioFloorNs is the smallest median, in nanoseconds, that a ratio is computed over (its
// denominator): 1 µs. Each duration the harness records is the difference of two clock reads
// (time.Now, about 40 ns apart when back to back on a 2-core virtual machine, in steps of
// 10 ns), with the harness's own bookkeeping between them: the start-up of a warm invocation,
// 100–250 ns, is nothing but that. Under 1 µs this overhead is more than a few percent of the
// value and varies from run to run by as much, so that a ratio over it (a cold start over
// 140 ns: "1.06M×") has no significant digit; the value itself is still shown.
const RatioFloorNs = 1_000

// QuantileMinN returns the smallest number of samples that supports the p-th percentile
// (50 ≤ p < 100) of a summary: 1 for the median, and above it ⌈100/(100−p)⌉ — 10 for p90, 100
// for p99, 1000 for p99.9. Quantiles are nearest rank, the sample of rank ⌈n·p/100⌉; with
// fewer than 100/(100−p) samples that rank is n, so the "quantile" is the sample's maximum,
// whatever lies beyond it, and is not shown. The median is shown for any n ≥ 1 beside its n
// (its confidence interval needs [MedianCIMinN]). p ≥ 100 returns the largest int: no
// sample supports a 100th percentile.
func QuantileMinN(p float64) int {
	switch {
	case p <= 50:
		return 1
	case p >= 100 || math.IsNaN(p):
		return math.MaxInt
	}
	// The factor absorbs the rounding of 100 − p (100 − 99.9 is 0.09999999999999432).
	return int(math.Ceil(100 / (100 - p) * (1 - 1e-9)))
}

// QuantileSupported reports whether a sample of n supports its p-th percentile: n ≥
// [QuantileMinN](p), and n ≥ 1.
func QuantileSupported(p float64, n int) bool { return n >= 1 && n >= QuantileMinN(p) }

// roundSig rounds x > 0 to three significant digits.
func roundSig(x float64) float64 {
	scale := math.Pow(10, math.Floor(math.Log10(x))-2)
	return math.Round(x/scale) * scale
}

// formatSig formats v, already rounded to three significant digits, without trailing zeros
// ("1", "4.8", "187") and without an exponent from 1000 on ("2350").
func formatSig(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// FormatNs formats a duration in nanoseconds with at most three significant digits and the
// largest unit (ns, µs, ms, s) that keeps the number at least 1: "98.2 ms", "21 µs", "1 ms",
// "999 ns", and 999.5 ns rounds to "1 µs". Trailing zeros are dropped ("4.8 µs", not
// "4.80 µs"); beyond 1000 s the integer is written out ("2350 s"). NaN and infinities are
// [NoValue]; a negative duration is formatted as its magnitude with a minus sign.
func FormatNs(ns float64) string {
	if math.IsNaN(ns) || math.IsInf(ns, 0) {
		return NoValue
	}
	if ns < 0 {
		return "-" + FormatNs(-ns)
	}
	if ns == 0 {
		return "0 ns"
	}
	r := roundSig(ns)
	for _, u := range []struct {
		ns   float64
		name string
	}{{1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}} {
		if r >= u.ns*(1-1e-9) {
			return formatSig(r/u.ns) + " " + u.name
		}
	}
	return formatSig(r) + " ns"
}

// FormatPercent formats a relative change f (0.3012 for +30.12%) as a signed percentage with at
// most three significant digits: "+30.1%", "-4.23%", "+0.5%", "+0%"; NaN and infinities are
// [NoValue].
func FormatPercent(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return NoValue
	}
	sign := "+"
	if f < 0 {
		sign, f = "-", -f
	}
	if f == 0 {
		return "+0%"
	}
	return sign + formatSig(roundSig(f*100)) + "%"
}

// FormatRatio formats a speed-up or a ratio of durations with at most three significant
// digits, followed by "×". From a thousand on, a decimal prefix keeps the number short, as in
// the throughput figure's "1k/s": k for 10³, M for 10⁶, G for 10⁹. So "1×", "2.54×", "37×",
// "177×", "999×", then "1k×" (999.5 and up), "4.08k×", "82k×", "178k×", "3.76M×", "17.7M×".
// Trailing zeros are dropped. A ratio that is not a positive finite number is [NoValue].
//
// Three digits are an upper bound, not a claim: a ratio is only as precise as the two
// medians it divides, and whether it is shown at all is the caller's decision (see
// [RatioMinN] and [RatioFloorNs], which [WriteTable] applies).
func FormatRatio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) || x <= 0 {
		return NoValue
	}
	r := roundSig(x)
	for _, u := range []struct {
		v      float64
		prefix string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if r >= u.v*(1-1e-9) {
			return formatSig(r/u.v) + u.prefix + "×"
		}
	}
	return formatSig(r) + "×"
}

// tableNotes collects why a table shows [NoValue] in some of its cells, to write the notes
// under it.
type tableNotes struct {
	quantiles []float64           // percentiles not shown somewhere for want of samples
	ratios    []string            // the ratio columns with a cell not shown, in order
	reasons   map[string][]string // per ratio column, why, in order
}

// Why a ratio is not shown, as the notes under a table say it.
var (
	reasonNoCold = "no cold result of the same experiment, workload and size to compare with"
	reasonFewN   = fmt.Sprintf("a median of fewer than %d invocations", RatioMinN)
	reasonFloor  = fmt.Sprintf("a divisor under %s (the clock reads and bookkeeping around a measurement are a large share of it)", FormatNs(RatioFloorNs))
)

// quantile notes that percentile p was not shown.
func (t *tableNotes) quantile(p float64) {
	if !slices.Contains(t.quantiles, p) {
		t.quantiles = append(t.quantiles, p)
	}
}

// ratio notes that a ratio of column col was not shown, for reason.
func (t *tableNotes) ratio(col, reason string) {
	if t.reasons == nil {
		t.reasons = map[string][]string{}
	}
	if !slices.Contains(t.ratios, col) {
		t.ratios = append(t.ratios, col)
	}
	if !slices.Contains(t.reasons[col], reason) {
		t.reasons[col] = append(t.reasons[col], reason)
	}
}

// write writes the notes, one per line, each starting with NoValue.
func (t *tableNotes) write(w io.Writer) error {
	var lines []string
	if len(t.quantiles) > 0 {
		slices.Sort(t.quantiles)
		var need []string
		for _, p := range t.quantiles {
			need = append(need, fmt.Sprintf("%s needs n ≥ %d", percentileName(p), QuantileMinN(p)))
		}
		lines = append(lines, fmt.Sprintf("%s %s successful invocations (with fewer, the nearest-rank quantile is the maximum)",
			NoValue, strings.Join(need, ", ")))
	}
	for _, col := range t.ratios {
		lines = append(lines, fmt.Sprintf("%s %s: %s", NoValue, col, strings.Join(t.reasons[col], "; or ")))
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

// ratioCell returns num/den formatted by [FormatRatio], or [NoValue] with the reason noted
// under column col when the data do not support it: either median from fewer than
// [RatioMinN] invocations (nNum, nDen), or a divisor that is not positive or, as shown (three
// significant digits), under [RatioFloorNs].
func ratioCell(col string, num, den float64, nNum, nDen int, notes *tableNotes) string {
	switch {
	case nNum < RatioMinN || nDen < RatioMinN:
		notes.ratio(col, reasonFewN)
		return NoValue
	case !(den > 0) || roundSig(den) < RatioFloorNs*(1-1e-9) || !(num > 0):
		notes.ratio(col, reasonFloor)
		return NoValue
	}
	return FormatRatio(num / den)
}

// percentileName names the p-th percentile as the tables do: "p50", "p99", "p99.9".
func percentileName(p float64) string { return "p" + strconv.FormatFloat(p, 'f', -1, 64) }

// tableQuantiles are the percentiles of latency the summary table shows, in its columns.
var tableQuantiles = []float64{50, 90, 99}

// WriteTable writes a short text table of a summary: per configuration the number of
// invocations, errors, the median, 90th and 99th percentile latency, the speed-up of the
// median latency over mode cold of the same workload in the same experiment and input size,
// and the same for the start-up cost (latency minus the function's own execution). A column
// names the experiment when the run had several, and a column the parameters that differ
// between the run's configurations: load (model×concurrency), comp (compartments on or off),
// att (attestation), size, memory, strategy.
//
// Numbers follow the conventions of this file: at most three significant digits; a
// quantile only where the successful invocations (n − errors) support it ([QuantileMinN]);
// a speed-up only where there is a cold result, both medians come from at least [RatioMinN]
// invocations and the divisor is at least [RatioFloorNs]. Elsewhere the cell is [NoValue],
// and a line under the table says why.
func WriteTable(w io.Writer, s *Summary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	experiments := false
	for _, r := range s.Results {
		experiments = experiments || r.Experiment != ""
	}
	params := varyingParams(s.Results)
	head := []string{"workload", "mode"}
	if experiments {
		head = append([]string{"experiment"}, head...)
	}
	if len(params) > 0 {
		head = append(head, "parameters")
	}
	head = append(head, "n", "errors")
	for _, p := range tableQuantiles {
		head = append(head, percentileName(p))
	}
	head = append(head, "p50 vs cold", "start-up p50", "start-up vs cold")
	fmt.Fprintln(tw, strings.Join(head, "\t"))

	var notes tableNotes
	for _, r := range s.Results {
		ok := r.Successful()
		row := []string{r.Workload, r.Mode}
		if experiments {
			row = append([]string{r.Experiment}, row...)
		}
		if len(params) > 0 {
			row = append(row, paramsLabel(params, &r.Key))
		}
		row = append(row, strconv.Itoa(r.N), strconv.Itoa(r.Errors))
		for _, p := range tableQuantiles {
			row = append(row, quantileCell(&r.LatencyNs, p, ok, &notes))
		}
		lat, start := NoValue, NoValue
		if cold := coldOf(s.Results, &r); cold != nil {
			nc := cold.Successful()
			lat = ratioCell("vs cold", cold.LatencyNs.P50, r.LatencyNs.P50, nc, ok, &notes)
			start = ratioCell("vs cold", cold.StartupNs.P50, r.StartupNs.P50, nc, ok, &notes)
		} else {
			notes.ratio("vs cold", reasonNoCold)
		}
		row = append(row, lat, quantileCell(&r.StartupNs, 50, ok, &notes), start)
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return notes.write(w)
}

// Successful returns the number of samples of r's distributions: its successful invocations
// (n − errors), the n that [QuantileSupported] and [MedianCIMinN] speak of.
func (r *Result) Successful() int { return max(r.N-r.Errors, 0) }

// quantileCell returns the p-th percentile of d, a distribution of n samples, formatted, or
// [NoValue] (noted) when n does not support it.
func quantileCell(d *Dist, p float64, n int, notes *tableNotes) string {
	if !QuantileSupported(p, n) {
		if n > 0 {
			notes.quantile(p)
		}
		return NoValue
	}
	var v float64
	switch p {
	case 50:
		v = d.P50
	case 90:
		v = d.P90
	case 99:
		v = d.P99
	case 99.9:
		v = d.P999
	default:
		return NoValue
	}
	return FormatNs(v)
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

// ParametersLabel returns the label of a configuration of rs by the parameters whose values
// differ between them, as [WriteTable]'s column "parameters" shows it ("load=closed×4
// comp=on"), leaving out the parameters named in omit; "" for every configuration when none
// differ.
func ParametersLabel(rs []Result, omit ...string) func(*Key) string {
	params := slices.DeleteFunc(varyingParams(rs), func(p tableParam) bool { return slices.Contains(omit, p.name) })
	return func(k *Key) string { return paramsLabel(params, k) }
}

// paramsLabel joins name=value of each parameter of k.
func paramsLabel(params []tableParam, k *Key) string {
	var ps []string
	for _, p := range params {
		ps = append(ps, p.name+"="+p.value(k))
	}
	return strings.Join(ps, " ")
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

// WriteRewindTable writes the rewind benchmark as a text table: per strategy, memory size and
// dirty pages, the number of invocations measured, the median rewind, the median copy of the
// same pages, their ratio and the median invocation. The ratio follows [WriteTable]'s rule: it
// is [NoValue] when the memcpy's median is under [RatioFloorNs] or the row has fewer than
// [RatioMinN] invocations, and a line under the table says so.
func WriteRewindTable(w io.Writer, b *RewindBench) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "strategy\tmemory\tdirty pages\tn\trewind p50\tmemcpy p50\trewind/memcpy\tinvoke p50")
	var notes tableNotes
	for _, r := range b.Rows {
		ratio := ratioCell("rewind/memcpy", r.RewindNsP50, r.MemcpyNsP50, r.N, r.N, &notes)
		fmt.Fprintf(tw, "%s\t%d MiB\t%d\t%d\t%s\t%s\t%s\t%s\n", r.Strategy, r.MemoryBytes>>20, r.DirtyPages, r.N,
			FormatNs(r.RewindNsP50), FormatNs(r.MemcpyNsP50), ratio, FormatNs(r.InvokeNsP50))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return notes.write(w)
}
