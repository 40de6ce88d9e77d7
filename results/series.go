package results

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Bounds of what a [Summarizer] (and [Compare]) holds per series of samples, so that the
// memory of a run does not grow with its length. A series is one statistic of one
// configuration: latency_ns, response_ns, rewind_ns, exec_ns, startup_ns, one phase,
// pages_restored or bytes_restored.
const (
	// ExactLimit is the number of samples a series holds exactly: up to it, every statistic of
	// the series is computed from the samples themselves, as version 2 summaries were (quantile
	// "exact"). 100,000 float64 samples are 800 KB per series, a few MB per configuration, and
	// cover every configuration of configs/paper.yaml many times over; beyond it the series
	// switches to an HDR histogram and a reservoir (quantiles "hdr").
	ExactLimit = 100_000
	// ReservoirSize is the size of the uniform sample (Vitter's algorithm R, seeded with
	// [ReservoirSeed], so the same records give the same sample) that a series of a
	// distribution keeps beyond [ExactLimit]: the median's confidence interval and the
	// Mann–Whitney U test of `reclave compare` are computed from it. 16,384 samples put the
	// median's 95% interval within ±0.8% of the sample in rank (1.96·½/√16384), at 128 KB a
	// series.
	ReservoirSize = 16_384
	// ReservoirSeed seeds every reservoir's random choices (a PCG generator with this seed).
	ReservoirSeed = 1
	// QuantileDigits is the number of significant decimal digits the HDR histogram keeps: 3,
	// so that values are resolved to 1 part in 2048 (a power of two above 2·10³).
	QuantileDigits = 3
	// QuantileRelError bounds the relative error of a quantile computed from the histogram
	// (quantiles "hdr") against the nearest-rank quantile of the raw samples: 0.1%. A
	// histogram bucket holding values from v to v+w−1 has w ≤ v/1024, and the quantile is
	// reported as the bucket's middle (clamped to the exact min and max), so it is within
	// w/2 ≤ v/2048 (≈ 0.05%) of the true sample value; 0.1% is the documented bound.
	QuantileRelError = 0.001
	// MaxDistinctOutputs is the number of distinct output hashes a configuration counts
	// exactly. Beyond it the count stops and the summary says distinct_outputs_capped: the
	// count is then a lower bound ("at least 1024").
	MaxDistinctOutputs = 1024
)

// How the statistics of a [Result] were computed ([Result.Quantiles]).
const (
	// QuantilesExact: from every sample (each series held at most [ExactLimit]).
	QuantilesExact = "exact"
	// QuantilesHDR: quantiles from an HDR histogram within [QuantileRelError]; the median's
	// confidence interval from a reservoir of [ReservoirSize] samples; n, min, max, mean and
	// stddev still exact.
	QuantilesHDR = "hdr"
)

// histHighest is the largest value a series' histogram tracks: 2^43 − 1 (8.8·10¹² ns, 2.4
// hours; 8 TiB). Larger values are counted as histHighest in the quantiles, with a warning;
// min, max, mean and stddev stay exact. The histogram's counts take 34 × 1024 int64s
// (278 KB).
const histHighest = 1<<43 - 1

// series accumulates one statistic's samples within bounded memory: exactly while it has at
// most limit samples, then in an HDR histogram (quantiles), a reservoir of k samples (the
// median's confidence interval, significance tests) and running moments (Welford: mean and
// variance), with exact min and max throughout. The same samples in the same order always
// give the same statistics.
type series struct {
	limit, k int
	exact    []float64 // every sample, in arrival order, until the switch; nil after it

	n         int64
	mean, m2  float64 // Welford's running mean and sum of squared deviations
	min, max  float64
	hist, neg *hdrhistogram.Histogram // non-negative values; negated negative ones (lazily)
	clamped   int64                   // values beyond histHighest, counted as it

	res  []float64 // the reservoir, once switched; nil when k is 0
	seen int64     // samples offered to the reservoir
	rng  *rand.Rand
}

// histBytes is what one series' histogram holds: 34 × 1024 int64 counts (see [histHighest]).
const histBytes = 34 * 1024 * 8

// SummarizerBytes estimates the memory a [Summarizer] holds for one configuration of n
// measured invocations whose records carry phases phases: its 7 series of distributions
// (latency, response, rewind, exec, start-up, pages and bytes restored) and one per phase,
// each n float64 samples up to [ExactLimit] (twice over while the slice grows by appending),
// beyond it an HDR histogram plus, for the five that keep one, a reservoir of
// [ReservoirSize]; and the distinct output hashes, at most [MaxDistinctOutputs]. Maps,
// per-repetition spans and round medians are a few words per repetition and not counted.
// The harness adds it up over an experiment's configurations, which a run holds at once.
func SummarizerBytes(n int64, phases int) float64 {
	series := float64(7 + phases)
	var per float64
	if n <= ExactLimit {
		per = series * 2 * 8 * float64(n)
	} else {
		per = series*histBytes + 5*8*ReservoirSize
	}
	return per + 64*float64(min(n, MaxDistinctOutputs))
}

// newSeries returns a series holding up to limit samples exactly and, beyond, a reservoir
// of k samples (none when k is 0: for statistics that need no more than quantiles).
func newSeries(limit, k int) *series { return &series{limit: limit, k: k} }

// add accounts for one sample.
func (s *series) add(x float64) {
	s.n++
	if s.n == 1 {
		s.min, s.max = x, x
	} else {
		s.min, s.max = min(s.min, x), max(s.max, x)
	}
	d := x - s.mean
	s.mean += d / float64(s.n)
	s.m2 += d * (x - s.mean)
	if s.hist == nil {
		if len(s.exact) < s.limit {
			s.exact = append(s.exact, x)
			return
		}
		s.spill()
	}
	s.record(x)
	s.sample(x)
}

// sampled reports whether the series switched from exact samples to the histogram.
func (s *series) sampled() bool { return s.hist != nil }

// spill switches the series from exact samples to the histogram and the reservoir, feeding
// them the samples held so far in arrival order (so the reservoir is algorithm R's over every
// sample).
func (s *series) spill() {
	s.hist = hdrhistogram.New(1, histHighest, QuantileDigits)
	if s.k > 0 {
		s.res = make([]float64, 0, s.k)
		s.rng = rand.New(rand.NewPCG(ReservoirSeed, 0))
	}
	for _, x := range s.exact {
		s.record(x)
		s.sample(x)
	}
	s.exact = nil
}

// record counts x in the histogram, rounded to an integer (samples are nanoseconds, pages or
// bytes).
func (s *series) record(x float64) {
	h := s.hist
	if x < 0 {
		if s.neg == nil {
			s.neg = hdrhistogram.New(1, histHighest, QuantileDigits)
		}
		h, x = s.neg, -x
	}
	v := int64(histHighest)
	if x < histHighest {
		v = int64(math.Round(x))
	} else {
		s.clamped++
	}
	if err := h.RecordValue(v); err != nil {
		panic(fmt.Sprintf("results: histogram refused %d: %v", v, err)) // 0 ≤ v ≤ histHighest
	}
}

// sample offers x to the reservoir: Vitter's algorithm R. The i-th sample replaces a
// uniformly chosen slot with probability k/i, so the reservoir is a uniform sample of all.
func (s *series) sample(x float64) {
	if s.k == 0 {
		return
	}
	s.seen++
	if len(s.res) < s.k {
		s.res = append(s.res, x)
		return
	}
	if j := s.rng.Int64N(s.seen); j < int64(s.k) {
		s.res[j] = x
	}
}

// testSample returns a sorted copy of the samples statistical tests use: every sample while
// the series is exact, else the reservoir.
func (s *series) testSample() []float64 {
	if s.hist == nil {
		return sortFloats(slices.Clone(s.exact))
	}
	return sortFloats(slices.Clone(s.res))
}

// describe summarises the series as [Describe] does: from the samples while the series is
// exact (the same result as Describe of them), else nearest-rank quantiles from the histogram
// (within [QuantileRelError]), exact min, max, Welford's mean and population stddev, and the
// median's confidence interval of the reservoir (benchmath's, as Describe).
func (s *series) describe() (Dist, []string) {
	if s.hist == nil {
		return describeSorted(sortFloats(slices.Clone(s.exact)))
	}
	var d Dist
	q := s.quantiles(50, 90, 99, 99.9)
	d.P50, d.P90, d.P99, d.P999 = q[0], q[1], q[2], q[3]
	d.Mean = s.mean
	d.Stddev = math.Sqrt(max(s.m2, 0) / float64(s.n))
	d.Min, d.Max = s.min, s.max
	var warns []string
	if s.clamped > 0 {
		warns = append(warns, fmt.Sprintf("%d values above %d counted as %d in the quantiles", s.clamped, int64(histHighest), int64(histHighest)))
	}
	if s.k == 0 {
		return d, warns
	}
	lo, hi, ok, warn := medianCI(s.testSample())
	if warn != "" {
		warns = append(warns, warn)
	}
	if ok {
		d.P50CI95Lo, d.P50CI95Hi = &lo, &hi
		warns = append(warns, highVariance(d.P50, lo, hi)...)
	}
	return d, warns
}

// median is the series' nearest-rank median: exact, or from the histogram.
func (s *series) median() float64 {
	if s.n == 0 {
		return 0
	}
	if s.hist == nil {
		return median(s.exact)
	}
	return s.quantiles(50)[0]
}

// quantiles returns the nearest-rank quantiles ps (percent, ascending) of a switched series
// from its histograms: the p-th is the middle of the histogram bucket holding the sample of
// rank ⌈n·p/100⌉ (rank 1 and n are the exact min and max), clamped to [min, max].
func (s *series) quantiles(ps ...float64) []float64 {
	ranks := make([]int64, len(ps))
	for i, p := range ps {
		ranks[i] = min(max(int64(math.Ceil(float64(s.n)*p/100)), 1), s.n)
	}
	out := make([]float64, len(ps))
	var cum int64
	i := 0
	visit := func(b hdrhistogram.Bar, sign float64) {
		if b.Count == 0 {
			return
		}
		cum += b.Count
		for ; i < len(ranks) && cum >= ranks[i]; i++ {
			mid := float64(b.From + (b.To-b.From+1)/2)
			switch ranks[i] {
			case 1:
				out[i] = s.min
			case s.n:
				out[i] = s.max
			default:
				out[i] = min(max(sign*mid, s.min), s.max)
			}
		}
	}
	if s.neg != nil {
		bars := s.neg.Distribution()
		for j := len(bars) - 1; j >= 0; j-- {
			visit(bars[j], -1)
		}
	}
	for _, b := range s.hist.Distribution() {
		visit(b, 1)
	}
	return out
}

// distinctSet counts distinct output hashes exactly up to [MaxDistinctOutputs], then stops:
// capped says the count is a lower bound.
type distinctSet struct {
	seen   map[string]struct{}
	capped bool
}

func (d *distinctSet) add(h string) {
	if _, ok := d.seen[h]; ok {
		return
	}
	if len(d.seen) >= MaxDistinctOutputs {
		d.capped = true
		return
	}
	if d.seen == nil {
		d.seen = map[string]struct{}{}
	}
	d.seen[strings.Clone(h)] = struct{}{}
}
