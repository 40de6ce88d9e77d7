package results

import (
	"fmt"
	"math"
	"slices"

	"golang.org/x/perf/benchmath"
)

// This file holds what interleaved rounds add to a summary: the median of each round of a
// configuration ([Result.RoundP50Ns]), the paired comparisons computed round by round
// ([Paired]), the order the rounds ran in ([Schedule]) and the run's noise indicator
// ([Noise]).
//
// Why rounds: on a shared machine a burst of noise lands on whatever runs at the time. When
// configurations run one after another, the burst is absorbed by one of them and a comparison
// between two configurations measures the burst. When an experiment runs in rounds — each
// round one repetition of every configuration — a slow stretch of the machine hits every
// configuration of the round alike, and the ratio of two configurations' medians within a
// round cancels it. The spread of those per-round ratios across rounds is the comparison's
// honest uncertainty.

// Kinds of paired comparison ([Paired.Kind]).
const (
	// PairCompartments compares a configuration with compartments on (numerator) to the same
	// configuration with compartments off (denominator): what the walls cost.
	PairCompartments = "compartments"
	// PairRewindWarm compares mode rewind (numerator) to mode warm (denominator) of the same
	// workload and parameters (compartments included): what the reset costs over the
	// insecure lower bound.
	PairRewindWarm = "rewind_vs_warm"
)

// MinPairedRounds is the fewest rounds with which a paired ratio gets a confidence interval:
// with 2 the t-distribution's interval is about ±13 standard errors wide (12.7 with one
// degree of freedom), so wide it says nothing; 3 (4.3) is the fewest worth reporting.
const MinPairedRounds = 3

// WideCI is the relative half-width of a 95% confidence interval ([CIHalfWidth]) beyond which
// report.md warns that a figure's interval is wide: ±5%, the default threshold of `reclave
// compare`. A median or a ratio known no better than that cannot show a 5% change.
const WideCI = 0.05

// IsWideCI reports whether a relative half-width w ([CIHalfWidth]) is wider than [WideCI],
// to a millionth: an interval of exactly ±5% computed in floating point is not wider.
func IsWideCI(w float64) bool { return math.Round(w*1e6) > WideCI*1e6 }

// Paired is a comparison of two configurations of one experiment made round by round: in each
// round r that both have a median for, the ratio of the numerator's median latency to the
// denominator's ([Result.RoundP50Ns]); then the geometric mean of those ratios and its 95%
// confidence interval across rounds (Student's t on the logarithms of the ratios, n − 1
// degrees of freedom). With fewer than [MinPairedRounds] rounds there is no interval, and a
// warning says so.
type Paired struct {
	// Kind is PairCompartments or PairRewindWarm.
	Kind string `json:"kind"`
	// Numerator and Denominator are the two configurations compared.
	Numerator   Key `json:"numerator"`
	Denominator Key `json:"denominator"`
	// Rounds is the number of rounds in which both had a successful invocation: the n of the
	// interval.
	Rounds int `json:"rounds"`
	// Ratio is the geometric mean of the round ratios (0 when no round has both medians).
	Ratio float64 `json:"ratio"`
	// CI95Lo and CI95Hi bound Ratio with 95% confidence; nil with fewer than
	// MinPairedRounds rounds.
	CI95Lo *float64 `json:"ci95_lo"`
	CI95Hi *float64 `json:"ci95_hi"`
	// RoundRatios are the ratios of each round, in round order; 0 for a round in which
	// either side had no successful invocation.
	RoundRatios []float64 `json:"round_ratios"`
	// Warnings: too few rounds for an interval, or an interval wider than ±WideCI.
	Warnings []string `json:"warnings,omitempty"`
}

// PairRatio compares num to den round by round (see [Paired]): the numerator's median latency
// over the denominator's in each round, their geometric mean and its 95% interval.
func PairRatio(kind string, num, den *Result) Paired {
	p := Paired{Kind: kind, Numerator: num.Key, Denominator: den.Key}
	n := max(len(num.RoundP50Ns), len(den.RoundP50Ns))
	var logs []float64
	for r := range n {
		ratio := 0.0
		if r < len(num.RoundP50Ns) && r < len(den.RoundP50Ns) {
			a, b := num.RoundP50Ns[r], den.RoundP50Ns[r]
			if positive(a) && positive(b) {
				ratio = a / b
				logs = append(logs, math.Log(ratio))
			}
		}
		p.RoundRatios = append(p.RoundRatios, ratio)
	}
	p.Rounds = len(logs)
	if p.Rounds == 0 {
		p.Warnings = append(p.Warnings, "no round in which both configurations had a successful invocation")
		return p
	}
	sum := benchmath.AssumeNormal.Summary(benchmath.NewSample(logs, &benchmath.DefaultThresholds), Confidence)
	p.Ratio = math.Exp(sum.Center)
	if p.Rounds < MinPairedRounds {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%d round(s): no confidence interval (it needs at least %d rounds: set repetitions to %d or more)",
			p.Rounds, MinPairedRounds, MinPairedRounds))
		return p
	}
	lo, hi := math.Exp(sum.Lo), math.Exp(sum.Hi)
	p.CI95Lo, p.CI95Hi = &lo, &hi
	if w := CIHalfWidth(p.Ratio, lo, hi); IsWideCI(w) {
		p.Warnings = append(p.Warnings, fmt.Sprintf("the ratio's 95%% confidence interval [%.3f, %.3f] reaches %.1f%% from it (more than ±%.0f%%)",
			lo, hi, w*100, WideCI*100))
	}
	return p
}

// positive reports whether x is a positive number (not NaN, not infinite).
func positive(x float64) bool { return x > 0 && !math.IsInf(x, 1) && !math.IsNaN(x) }

// Pairs returns the paired comparisons of a summary's results, in the order of their
// numerators: for every result with compartments on, the same configuration with
// compartments off ([PairCompartments]); for every result of mode rewind, mode warm of the
// same workload and parameters ([PairRewindWarm]). Both sides are of the same experiment, so
// they ran in the same rounds.
func Pairs(rs []Result) []Paired {
	var out []Paired
	for i := range rs {
		a := &rs[i]
		for j := range rs {
			if b := &rs[j]; a.Compartments && !b.Compartments && sameBut(a.Key, b.Key, false) {
				out = append(out, PairRatio(PairCompartments, a, b))
			}
		}
		if a.Mode != "rewind" {
			continue
		}
		for j := range rs {
			b := &rs[j]
			if b.Mode == "warm" && b.Compartments == a.Compartments && sameBut(a.Key, b.Key, true) {
				out = append(out, PairRatio(PairRewindWarm, a, b))
			}
		}
	}
	return out
}

// sameBut reports whether a and b are the same configuration but for the compartments and,
// when mode is set, the mode with its rewind parameters (strategy, snapshot point).
func sameBut(a, b Key, mode bool) bool {
	a.Compartments, b.Compartments = false, false
	if mode {
		a.Mode, a.Strategy, a.SnapshotPoint = "", "", ""
		b.Mode, b.Strategy, b.SnapshotPoint = "", "", ""
	}
	return a == b
}

// roundMedians keeps the median latency of each round of one configuration, the per-round
// summary a paired comparison needs, within bounded memory. The rounds of a configuration
// arrive in order (a run finishes round r of a configuration before it starts round r + 1 of
// any), so at most one round is open at a time: its latencies are held in a series (exactly up
// to the summarizer's limit, then in an HDR histogram, like every series), and when a record
// of a later round arrives, the open round's median is kept and its series dropped. What a
// configuration holds is then one float per round. A successful record of a round already
// closed (records out of round order) cannot join its median; it is counted in stray.
type roundMedians struct {
	limit  int
	rounds int             // 1 + the highest round seen
	open   map[int]*series // rounds whose records may still arrive
	closed map[int]float64 // the median of each closed round; 0 for one without success
	stray  int
}

// add accounts for a measured record of round: its latency x when ok (it succeeded).
func (m *roundMedians) add(round int, x float64, ok bool) {
	if round < 0 {
		round = 0
	}
	m.rounds = max(m.rounds, round+1)
	if _, done := m.closed[round]; done {
		if ok {
			m.stray++
		}
		return
	}
	if m.open == nil {
		m.open, m.closed = map[int]*series{}, map[int]float64{}
	}
	for r, s := range m.open {
		if r < round {
			m.closed[r] = s.median()
			delete(m.open, r)
		}
	}
	s := m.open[round]
	if s == nil {
		s = newSeries(m.limit, 0)
		m.open[round] = s
	}
	if ok {
		s.add(x)
	}
}

// medians returns the median of every round, in round order: 0 for a round without a
// successful invocation. It changes nothing.
func (m *roundMedians) medians() []float64 {
	if m.rounds == 0 {
		return nil
	}
	out := make([]float64, m.rounds)
	for r, v := range m.closed {
		out[r] = v
	}
	for r, s := range m.open {
		out[r] = s.median()
	}
	return out
}

// warnings says when records arrived out of round order.
func (m *roundMedians) warnings() []string {
	if m.stray == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%d invocations arrived after a later round of their configuration had begun (records out of round order): the round medians leave them out", m.stray)}
}

// Orders in which the configurations of an experiment run ([Schedule.Order]).
const (
	// OrderRoundRobin: in rounds, each round every configuration once, in the plan's order
	// (workload, mode, compartment setting, concurrency level).
	OrderRoundRobin = "round-robin"
	// OrderRandom: in rounds, each round every configuration once, in an order shuffled anew
	// for each round from a seed.
	OrderRandom = "random"
	// OrderSequential: no interleaving; each configuration's repetitions back to back, one
	// configuration after another (how runs were made before rounds).
	OrderSequential = "sequential"
)

// Schedule is how one experiment of a run ordered its configurations.
type Schedule struct {
	// Experiment names the experiment; empty for a config without experiments.
	Experiment string `json:"experiment,omitempty"`
	// Order is OrderRoundRobin, OrderRandom or OrderSequential.
	Order string `json:"order"`
	// Seed seeds the shuffles of OrderRandom; absent otherwise.
	Seed uint64 `json:"seed,omitempty"`
	// Rounds is the number of rounds (the config's repetitions); Configurations the number of
	// configurations each round runs.
	Rounds         int `json:"rounds"`
	Configurations int `json:"configurations"`
}

// Thresholds of [Noise.Warnings].
const (
	// NoisySpread: the calibration loop's slowest timing more than 20% above its fastest.
	// On an idle 2-core VM its timings stay within 10% of each other (measured: 7% over 13
	// timings, 10% over 13 in a run with cold starts); two CPU-bound processes competing for
	// the cores make some of them 60 to 90% slower.
	NoisySpread = 0.20
	// NoisySteal: more than 1% of the CPU time stolen by the hypervisor.
	NoisySteal = 0.01
	// NoisyOtherBusy: other processes busy for more than 5% of the machine's CPU time.
	NoisyOtherBusy = 0.05
)

// CalibrationSample is one timing of the run's calibration loop.
type CalibrationSample struct {
	// TNs is when the loop started, on the run's clock (that of the records' start_ns).
	TNs int64 `json:"t_ns"`
	// Ns is how long the loop took.
	Ns int64 `json:"ns"`
}

// Noise is a run's noise indicator: how steady the machine was while the run ran. See doc.go
// ("noise") for how each part is measured.
type Noise struct {
	// Calibration are the timings of a fixed, deterministic loop (SHA-256 of a fixed
	// buffer, about 6 ms of one core; the fastest of 3 tries) timed at the start of every
	// round and at the end of the run, in time order.
	Calibration []CalibrationSample `json:"calibration"`
	// CalibrationP50Ns is their median; CalibrationSpread how much slower the slowest was
	// than the fastest: max ÷ min − 1 (0 with fewer than 2 timings).
	CalibrationP50Ns  float64 `json:"calibration_p50_ns"`
	CalibrationSpread float64 `json:"calibration_spread"`
	// StealFraction is the CPU time the hypervisor gave to other guests during the run, as a
	// fraction of the machine's CPU time (all cores); nil where it cannot be read.
	StealFraction *float64 `json:"steal_fraction"`
	// OtherBusyFraction is the CPU time other processes of this machine were busy during the
	// run, as a fraction of the machine's CPU time (all cores); nil where it cannot be read.
	OtherBusyFraction *float64 `json:"other_busy_fraction"`
}

// NewNoise returns the noise indicator of calibration timings cal and the CPU fractions steal
// and otherBusy (nil where unknown).
func NewNoise(cal []CalibrationSample, steal, otherBusy *float64) *Noise {
	n := &Noise{Calibration: cal, StealFraction: steal, OtherBusyFraction: otherBusy}
	if len(cal) == 0 {
		return n
	}
	ns := make([]float64, len(cal))
	for i, c := range cal {
		ns[i] = float64(c.Ns)
	}
	n.CalibrationP50Ns = median(ns)
	lo, hi := slices.Min(ns), slices.Max(ns)
	if len(ns) > 1 && lo > 0 {
		n.CalibrationSpread = hi/lo - 1
	}
	return n
}

// Warnings returns a sentence for each part of the indicator beyond its threshold
// ([NoisySpread], [NoisySteal], [NoisyOtherBusy]).
func (n *Noise) Warnings() []string {
	if n == nil {
		return nil
	}
	var out []string
	if n.CalibrationSpread > NoisySpread {
		out = append(out, fmt.Sprintf("noisy machine: the calibration loop's timings spread by %.0f%% (slowest over fastest; more than %.0f%%): trust the paired ratios of summary.json over differences of medians",
			n.CalibrationSpread*100, NoisySpread*100))
	}
	if f := n.StealFraction; f != nil && *f > NoisySteal {
		out = append(out, fmt.Sprintf("noisy machine: %.1f%% of the CPU time was stolen by the hypervisor (more than %.0f%%)", *f*100, NoisySteal*100))
	}
	if f := n.OtherBusyFraction; f != nil && *f > NoisyOtherBusy {
		out = append(out, fmt.Sprintf("noisy machine: other processes used %.0f%% of the CPU time during the run (more than %.0f%%)", *f*100, NoisyOtherBusy*100))
	}
	return out
}
