package results

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/montanaflynn/stats"
	"golang.org/x/perf/benchmath"
)

// Confidence is the confidence level of the median's interval in every [Dist].
const Confidence = 0.95

// Summarize groups the measured records (warm-up excluded) by [Key], in order of first
// appearance, and summarises each group. It depends on nothing but the records, so a summary
// can always be recomputed from records.jsonl.
func Summarize(records []Record) []Result {
	var order []Key
	groups := map[Key][]*Record{}
	for i := range records {
		r := &records[i]
		if r.Warmup {
			continue
		}
		k := r.Key()
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	out := make([]Result, 0, len(order))
	for _, k := range order {
		out = append(out, summarizeGroup(k, groups[k]))
	}
	return out
}

func summarizeGroup(k Key, rs []*Record) Result {
	res := Result{Key: k, N: len(rs), Resets: map[string]int{}, PhasesP50Ns: map[string]int64{}}
	var lat, resp, rew, startup, pages, restored []float64
	phases := map[string][]float64{}
	outputs := map[string]bool{}
	minStart, maxEnd := int64(math.MaxInt64), int64(math.MinInt64)
	for _, r := range rs {
		minStart = min(minStart, r.StartNs)
		maxEnd = max(maxEnd, r.EndNs())
		res.Resets[r.Reset]++
		if r.Error != "" {
			res.Errors++
			if res.ErrorKinds == nil {
				res.ErrorKinds = map[string]int{}
			}
			res.ErrorKinds[r.ErrorKind]++
			continue
		}
		lat = append(lat, float64(r.LatencyNs))
		resp = append(resp, float64(r.ResponseNs))
		rew = append(rew, float64(r.RewindNs))
		startup = append(startup, float64(r.LatencyNs-r.PhasesNs["invoke"]))
		pages = append(pages, float64(r.PagesRestored))
		restored = append(restored, float64(r.BytesRestored))
		for name, d := range r.PhasesNs {
			phases[name] = append(phases[name], float64(d))
		}
		outputs[r.OutputSHA256] = true
	}
	res.DistinctOutput = len(outputs)
	if len(rs) > 0 && maxEnd > minStart {
		res.WallNs = maxEnd - minStart
		res.ThroughputPerS = float64(len(rs)-res.Errors) / (float64(res.WallNs) / 1e9)
	}
	var warn []string
	res.LatencyNs, warn = Describe(lat)
	res.Warnings = append(res.Warnings, warn...)
	res.ResponseNs, _ = Describe(resp)
	res.RewindNs, _ = Describe(rew)
	res.StartupNs, _ = Describe(startup)
	res.PagesRestoredP50 = median(pages)
	res.BytesRestoredP50 = median(restored)
	names := make([]string, 0, len(phases))
	for name := range phases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		res.PhasesP50Ns[name] = int64(median(phases[name]))
	}
	if res.Errors > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d of %d invocations failed and are not in the latency distribution", res.Errors, res.N))
	}
	return res
}

// Describe summarises a sample: nearest-rank quantiles, mean, population standard deviation,
// and the median's confidence interval at [Confidence] from benchmath (order statistics, no
// assumption about the distribution). Warnings say when the sample is too small for the
// interval; the interval's bounds are then nil.
func Describe(xs []float64) (Dist, []string) {
	var d Dist
	if len(xs) == 0 {
		return d, []string{"no successful invocations"}
	}
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	q := func(p float64) float64 {
		v, _ := stats.PercentileNearestRank(sorted, p) // errs only on an empty sample
		return v
	}
	d.P50, d.P90, d.P99, d.P999 = q(50), q(90), q(99), q(99.9)
	d.Mean, _ = stats.Mean(sorted)
	d.Stddev, _ = stats.StandardDeviationPopulation(sorted)
	d.Min, d.Max = sorted[0], sorted[len(sorted)-1]

	sample := benchmath.NewSample(sorted, &benchmath.DefaultThresholds)
	sum := benchmath.AssumeNothing.Summary(sample, Confidence)
	// benchmath's center is the sample median (mean of the two middle values for even n);
	// keep the nearest-rank P50 so every quantile is an observed value, and the interval.
	var warns []string
	for _, w := range sum.Warnings {
		warns = append(warns, w.Error())
	}
	if !math.IsInf(sum.Lo, 0) && !math.IsInf(sum.Hi, 0) && !math.IsNaN(sum.Lo) && !math.IsNaN(sum.Hi) {
		lo, hi := sum.Lo, sum.Hi
		d.P50CI95Lo, d.P50CI95Hi = &lo, &hi
	}
	return d, warns
}

// median is the nearest-rank median, like every P50 in a summary: an observed value.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	m, err := stats.PercentileNearestRank(xs, 50)
	if err != nil {
		return 0
	}
	return m
}
