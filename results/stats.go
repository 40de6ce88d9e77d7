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

// HighVariance is the relative half-width of the median's confidence interval above which a
// sample is reported as too noisy: a warning is added when the interval reaches more than 10%
// from the median on either side. 10% is twice the default threshold of `reclave compare`
// (5%): a configuration this noisy cannot show a 5% change reliably, and on the 2-core virtual
// machines reclave is developed on, quiet runs of a few hundred invocations stay well inside it.
const HighVariance = 0.10

// LateNs is how far after its intended start an invocation may begin before it counts as
// late (Result.Late): 1 ms. Timer and scheduler wake-ups on a busy 2-core virtual machine are
// tens to hundreds of microseconds; an invocation 1 ms behind schedule means the driver could
// not keep up with the arrival rate (every slot busy or the driver itself starved), which
// hides latency unless it is reported (coordinated omission).
const LateNs = 1_000_000

// Summarize groups the measured records (warm-up excluded) by [Key], in order of first
// appearance, and summarises each group. It depends on nothing but the records, so a summary
// can always be recomputed from records.jsonl. See [Summarizer] to summarise a stream.
func Summarize(records []Record) []Result {
	s := NewSummarizer()
	for i := range records {
		s.Add(&records[i])
	}
	return s.Results()
}

// Summarizer summarises records as they arrive, keeping per configuration a bounded
// account of each statistic rather than the records, so that a long run can stream its
// records to disk and still be summarised: memory does not grow with the run's length. Each
// series (latency, response, rewind, exec, start-up, each phase, pages and bytes restored)
// is held exactly up to [ExactLimit] samples, so that the summary of a run of ordinary length
// is exactly that of its samples ([Result.Quantiles] "exact"); beyond, quantiles come from an
// HDR histogram within [QuantileRelError], the median's confidence interval from a seeded
// reservoir of [ReservoirSize] samples, mean and standard deviation from running moments, min
// and max exact ("hdr"). Distinct outputs are counted up to [MaxDistinctOutputs]. The same
// records in the same order always give the same summary. The zero value is not usable; call
// [NewSummarizer].
type Summarizer struct {
	order  []Key
	groups map[Key]*group
	notes  map[Key]string // the last strategy note of each configuration, warm-up included
	limit  int            // samples held exactly per series: ExactLimit (tests lower it)
	k      int            // reservoir size: ReservoirSize
}

// group is what a [Summarizer] keeps of one configuration.
type group struct {
	n, errors, dropped, late, valid, invalid int
	errorKinds, resets, strategies           map[string]int
	lat, resp, rew, exec, startup            *series
	pages, restored                          *series
	phases                                   map[string]*series
	outputs                                  distinctSet
	reps                                     map[int]*span
	rounds                                   roundMedians
	hostCalls                                hostCallsAcc
	limit, k                                 int
}

// span is the extent of one repetition on the run's clock and its successful invocations.
type span struct {
	start, end int64
	ok         int
}

// NewSummarizer returns an empty Summarizer.
func NewSummarizer() *Summarizer { return newSummarizer(ExactLimit, ReservoirSize) }

// newSummarizer returns an empty Summarizer holding limit samples exactly per series and k in
// a reservoir beyond.
func newSummarizer(limit, k int) *Summarizer {
	return &Summarizer{groups: map[Key]*group{}, notes: map[Key]string{}, limit: limit, k: k}
}

func newGroup(limit, k int) *group {
	return &group{
		resets: map[string]int{}, phases: map[string]*series{}, reps: map[int]*span{},
		lat: newSeries(limit, k), resp: newSeries(limit, k), rew: newSeries(limit, k),
		exec: newSeries(limit, k), startup: newSeries(limit, k),
		pages: newSeries(limit, 0), restored: newSeries(limit, 0),
		rounds: roundMedians{limit: limit},
		limit:  limit, k: k,
	}
}

// Add accounts for one record. Warm-up records are ignored; dropped arrivals are counted, not
// measured; failed invocations are counted and kept out of the distributions.
func (s *Summarizer) Add(r *Record) {
	if r.StrategyNote != "" { // strategy auto decides mostly during the warm-up
		s.notes[r.Key()] = r.StrategyNote
	}
	if r.Warmup {
		return
	}
	k := r.Key()
	g := s.groups[k]
	if g == nil {
		g = newGroup(s.limit, s.k)
		s.groups[k] = g
		s.order = append(s.order, k)
	}
	if r.Dropped {
		g.dropped++
		return
	}
	g.n++
	g.resets[r.Reset]++
	if r.Strategy != "" {
		if g.strategies == nil {
			g.strategies = map[string]int{}
		}
		g.strategies[r.Strategy]++
	}
	if r.StartNs-r.IntendedStartNs > LateNs {
		g.late++
	}
	if r.Valid != nil {
		if *r.Valid {
			g.valid++
		} else {
			g.invalid++
		}
	}
	sp := g.reps[r.Repetition]
	if sp == nil {
		sp = &span{start: r.StartNs, end: r.EndNs()}
		g.reps[r.Repetition] = sp
	}
	sp.start, sp.end = min(sp.start, r.StartNs), max(sp.end, r.EndNs())
	g.rounds.add(r.Round, float64(r.LatencyNs), r.Error == "")
	if r.Error != "" {
		g.errors++
		if g.errorKinds == nil {
			g.errorKinds = map[string]int{}
		}
		g.errorKinds[r.ErrorKind]++
		return
	}
	sp.ok++
	g.lat.add(float64(r.LatencyNs))
	g.resp.add(float64(r.ResponseNs))
	g.rew.add(float64(r.RewindNs))
	g.exec.add(float64(r.ExecNs))
	g.startup.add(float64(r.LatencyNs - r.PhasesNs["invoke"]))
	g.pages.add(float64(r.PagesRestored))
	g.restored.add(float64(r.BytesRestored))
	for name, d := range r.PhasesNs {
		ps := g.phases[name]
		if ps == nil {
			ps = newSeries(g.limit, 0)
			g.phases[name] = ps
		}
		ps.add(float64(d))
	}
	g.outputs.add(r.OutputSHA256)
	if r.HostCalls != nil {
		g.hostCalls.add(r.HostCalls, r.ResetHostCalls)
	}
}

// Results returns one [Result] per configuration seen, in order of first appearance. It does
// not change what the Summarizer holds: adding records afterwards and calling it again gives
// the summary of every record added.
func (s *Summarizer) Results() []Result {
	out := make([]Result, 0, len(s.order))
	for _, k := range s.order {
		res := s.groups[k].result(k)
		res.StrategyChoice = s.notes[k]
		out = append(out, res)
	}
	return out
}

func (g *group) result(k Key) Result {
	res := Result{Key: k, N: g.n, Errors: g.errors, ErrorKinds: g.errorKinds, Dropped: g.dropped,
		Late: g.late, Valid: g.valid, Invalid: g.invalid, Resets: g.resets, Strategies: g.strategies,
		PhasesP50Ns: map[string]int64{}, DistinctOutput: len(g.outputs.seen),
		DistinctOutputsCapped: g.outputs.capped, Quantiles: QuantilesExact}

	reps := make([]int, 0, len(g.reps))
	for rep := range g.reps {
		reps = append(reps, rep)
	}
	sort.Ints(reps)
	res.Repetitions = len(reps)
	ok := 0
	for _, rep := range reps {
		sp := g.reps[rep]
		wall := sp.end - sp.start
		tput := 0.0
		if wall > 0 {
			tput = float64(sp.ok) / (float64(wall) / 1e9)
			res.WallNs += wall
			ok += sp.ok
		}
		res.RepetitionThroughputPerS = append(res.RepetitionThroughputPerS, tput)
	}
	if res.WallNs > 0 {
		res.ThroughputPerS = float64(ok) / (float64(res.WallNs) / 1e9)
	}

	sampled := g.lat.sampled() || g.pages.sampled() || g.restored.sampled()
	for _, ps := range g.phases {
		sampled = sampled || ps.sampled()
	}
	if sampled {
		res.Quantiles, res.QuantileRelError = QuantilesHDR, QuantileRelError
		if g.lat.sampled() {
			res.Reservoir = len(g.lat.res)
		}
	}
	var warn []string
	res.LatencyNs, warn = g.lat.describe()
	for _, w := range warn {
		res.Warnings = append(res.Warnings, "latency_ns: "+w)
	}
	res.ResponseNs, _ = g.resp.describe()
	res.RoundP50Ns = g.rounds.medians()
	res.Warnings = append(res.Warnings, g.rounds.warnings()...)
	res.RewindNs, _ = g.rew.describe()
	res.ExecNs, _ = g.exec.describe()
	res.StartupNs, _ = g.startup.describe()
	res.PagesRestoredP50 = g.pages.median()
	res.BytesRestoredP50 = g.restored.median()
	for name, ps := range g.phases {
		res.PhasesP50Ns[name] = int64(ps.median())
	}
	res.HostCalls = g.hostCalls.summary()
	if g.errors > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d of %d invocations failed and are not in the distributions", g.errors, g.n))
	}
	if g.invalid > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d of %d outputs did not match the workload's expected output", g.invalid, g.n))
	}
	if g.dropped > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d arrivals dropped: %d invocations were already in flight", g.dropped, k.Concurrency))
	}
	if g.late > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d of %d invocations started more than %s after their intended start: the driver fell behind the arrival schedule", g.late, g.n, FormatNs(LateNs)))
	}
	return res
}

// sortFloats sorts xs in place and returns it.
func sortFloats(xs []float64) []float64 {
	slices.Sort(xs)
	return xs
}

// Describe summarises a sample: nearest-rank quantiles, mean, population standard deviation,
// and the median's confidence interval at [Confidence] from benchmath (order statistics, no
// assumption about the distribution). Warnings say when the sample is too small for the
// interval (whose bounds are then nil) and when the interval is wider than [HighVariance]
// around the median. xs is not modified.
//
// Quantiles are nearest rank: the p-th percentile of n sorted values is the value of rank
// ⌈n·p/100⌉ (the first one for p = 0), always an observed value. montanaflynn/stats'
// PercentileNearestRank computes exactly that; its Percentile interpolates and is not used.
func Describe(xs []float64) (Dist, []string) {
	return describeSorted(sortFloats(slices.Clone(xs)))
}

// describeSorted is [Describe] of a sample sorted in ascending order.
func describeSorted(sorted []float64) (Dist, []string) {
	var d Dist
	if len(sorted) == 0 {
		return d, []string{"no successful invocations"}
	}
	q := func(p float64) float64 {
		v, _ := stats.PercentileNearestRank(sorted, p) // errs only on an empty sample
		return v
	}
	d.P50, d.P90, d.P99, d.P999 = q(50), q(90), q(99), q(99.9)
	d.Mean, _ = stats.Mean(sorted)
	d.Stddev, _ = stats.StandardDeviationPopulation(sorted)
	d.Min, d.Max = sorted[0], sorted[len(sorted)-1]

	var warns []string
	lo, hi, ok, warn := medianCI(sorted)
	if warn != "" {
		warns = append(warns, warn)
	}
	if ok {
		d.P50CI95Lo, d.P50CI95Hi = &lo, &hi
		warns = append(warns, highVariance(d.P50, lo, hi)...)
	}
	return d, warns
}

// highVariance returns the warning that the median's interval [lo, hi] reaches more than
// [HighVariance] from the median p50, or nothing.
func highVariance(p50, lo, hi float64) []string {
	w := CIHalfWidth(p50, lo, hi)
	if !(w > HighVariance) {
		return nil
	}
	return []string{fmt.Sprintf("high variance: the median's %.0f%% confidence interval [%s, %s] reaches %.0f%% from the median %s (more than ±%.0f%%)",
		Confidence*100, FormatNs(lo), FormatNs(hi), w*100, FormatNs(p50), HighVariance*100)}
}

// medianCI is the median's confidence interval at [Confidence] of a sorted sample, from
// benchmath (the order statistics whose binomial coverage reaches the confidence level). ok is
// false, with benchmath's warning, when the sample is too small for a finite interval.
//
// benchmath's center is the sample median (mean of the two middle values for even n); the
// summaries keep the nearest-rank P50 so every quantile is an observed value. Both lie inside
// the interval, whose bounds are observed values too.
func medianCI(sorted []float64) (lo, hi float64, ok bool, warn string) {
	sample := benchmath.NewSample(sorted, &benchmath.DefaultThresholds) // sorts in place: already sorted
	sum := benchmath.AssumeNothing.Summary(sample, Confidence)
	for _, w := range sum.Warnings {
		warn = w.Error()
	}
	if math.IsInf(sum.Lo, 0) || math.IsInf(sum.Hi, 0) || math.IsNaN(sum.Lo) || math.IsNaN(sum.Hi) {
		return 0, 0, false, warn
	}
	return sum.Lo, sum.Hi, true, warn
}

// CIHalfWidth is the relative half-width of an interval [lo, hi] around center: how far, as a
// fraction of center, the farther bound lies from it (0.03 for 100 in [97, 103]). It is +Inf
// when center is 0 and the interval is not a point.
func CIHalfWidth(center, lo, hi float64) float64 {
	if center == 0 {
		if lo == 0 && hi == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return math.Max(math.Abs(hi/center-1), math.Abs(1-lo/center))
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
