package plots

import (
	"errors"
	"fmt"
	"image/color"
	"strconv"

	"github.com/reclave/reclave/results"
)

// OverheadBase is the file name, without extension, of the figure written by [Overhead].
const OverheadBase = "overhead"

// Labels of the overhead figure.
const (
	overheadTitle = "Cost of compartments"
	// overheadYLabel is the Y label on a linear axis; on a logarithmic one, overheadLogNote
	// is appended.
	overheadYLabel  = "median latency ÷ baseline"
	overheadLogNote = " (log scale)"
)

// overheadLogAbove is the largest ratio drawn on a linear axis: beyond it, the bars near 1
// would be too short to compare, and the axis is logarithmic.
const overheadLogAbove = 8

// overheadSeries are the bars of a workload in the overhead figure, in the order drawn: each
// mode without, then with compartments.
var overheadSeries = []struct {
	name         string
	mode         string
	compartments bool
	color        color.Color
}{
	{"warm", "warm", false, modeColors["warm"]},
	{"warm + compartments", "warm", true, rgb(0x55, 0x55, 0x55)},    // dark grey
	{"rewind", "rewind", false, rgb(0x56, 0xB4, 0xE9)},              // sky blue
	{"rewind + compartments", "rewind", true, modeColors["rewind"]}, // blue
}

// Overhead writes the overhead figure, what compartments cost, to
// dir/overhead.{png,svg,pdf}, creating dir if needed, and returns the paths written. See the
// package documentation for what the figure shows.
//
// For every workload with a result of mode warm without compartments, it draws the median
// latency of modes warm and rewind, with compartments off and on, divided by that of warm
// without compartments (whose bar is therefore 1); each is the reference result of its
// workload, mode and compartments setting (see the package documentation). The division is
// paired by round: a bar is the geometric mean, over the rounds both results ran in, of the
// ratio of their medians in that round, and its whisker the 95% confidence interval of that
// mean across rounds ([results.PairRatio]; none with fewer than [results.MinPairedRounds]
// rounds), so that noise that hit one round hits both sides of its ratio. A summary without
// round medians (written before rounds) gets the ratio of the medians, without whiskers.
// Missing bars are left out. A nil summary, one without a result with compartments on or
// without one with compartments off, or without a positive median latency of mode warm
// without compartments, is an error, and then nothing is written; if writing a file fails,
// the error comes with the paths written before it.
func Overhead(s *results.Summary, dir string) ([]string, error) {
	fig, err := newOverheadFigure(s)
	return drawFigure("overhead figure", fig, err, dir, OverheadBase)
}

// overheadResult returns the reference result of workload w in mode m with compartments on
// or off that has a positive median latency, or nil. With a baseline, only results measured
// like it (the same experiment, size, memory, load and attestation: every parameter but the
// mode, its rewind parameters and the compartments) are considered, so that the ratios
// compare like with like.
func overheadResult(s *results.Summary, w, m string, compartments bool, baseline *results.Key) *results.Result {
	return reference(s, w, m, func(r *results.Result) bool {
		return r.Compartments == compartments && positive(r.LatencyNs.P50) &&
			(baseline == nil || sameButModeAndCompartments(r.Key, *baseline))
	})
}

// sameButModeAndCompartments reports whether a and b are the same configuration but for
// the mode (with its strategy and snapshot point) and the compartments.
func sameButModeAndCompartments(a, b results.Key) bool {
	for _, k := range []*results.Key{&a, &b} {
		k.Mode, k.Strategy, k.SnapshotPoint, k.Compartments = "", "", "", false
	}
	return a == b
}

// overheadBar is the bar of result r against the baseline base: the paired ratio of their
// round medians (see [results.PairRatio]) with its 95% confidence interval when it has one,
// and the number of rounds paired; for results without round medians (summaries written
// before rounds), the ratio of their medians, rounds 0.
func overheadBar(r, base *results.Result) (b bar, rounds int) {
	if r == base {
		return bar{median: 1}, 0
	}
	p := results.PairRatio("", r, base)
	if p.Rounds == 0 || !positive(p.Ratio) {
		return bar{median: r.LatencyNs.P50 / base.LatencyNs.P50}, 0
	}
	b = bar{median: p.Ratio}
	if p.CI95Lo != nil && p.CI95Hi != nil && positive(*p.CI95Hi) && *p.CI95Lo <= *p.CI95Hi {
		b.ci, b.lo, b.hi = true, *p.CI95Lo, *p.CI95Hi
	}
	return b, p.Rounds
}

func newOverheadFigure(s *results.Summary) (*headlineFigure, error) {
	if s == nil {
		return nil, errors.New("nil summary")
	}
	var on, off bool
	for _, r := range s.Results {
		on = on || r.Compartments
		off = off || !r.Compartments
	}
	switch {
	case !on:
		return nil, errors.New("no result with compartments on: run a config with enclave compartments on and off")
	case !off:
		return nil, errors.New("no result with compartments off: run a config with enclave compartments on and off")
	}

	type row struct {
		workload string
		bars     []*bar // per series, nil when missing
	}
	var rows []row
	hi := 0.0
	minRounds, maxRounds, withCI, paired := 0, 0, 0, 0
	for _, w := range s.Workloads() {
		// The baseline: warm without compartments, from a configuration that was also
		// measured with them.
		var base *results.Result
		for i := range s.Results {
			r := &s.Results[i]
			if r.Workload != w || r.Mode != "warm" || r.Compartments || !positive(r.LatencyNs.P50) {
				continue
			}
			if overheadResult(s, w, "warm", true, &r.Key) == nil && overheadResult(s, w, "rewind", true, &r.Key) == nil {
				continue
			}
			if base == nil || preferred(r.Key, base.Key) {
				base = r
			}
		}
		if base == nil {
			continue
		}
		rw := row{workload: w, bars: make([]*bar, len(overheadSeries))}
		for i, sr := range overheadSeries {
			r := overheadResult(s, w, sr.mode, sr.compartments, &base.Key)
			if r == nil {
				continue
			}
			b, rounds := overheadBar(r, base)
			if !positive(b.median) {
				continue
			}
			if r != base {
				paired++
				if rounds > 0 && (minRounds == 0 || rounds < minRounds) {
					minRounds = rounds
				}
				maxRounds = max(maxRounds, rounds)
				if b.ci {
					withCI++
				}
			}
			rw.bars[i] = &b
			hi = max(hi, b.top())
		}
		rows = append(rows, rw)
	}
	if len(rows) == 0 {
		return nil, errors.New("no workload has a result of mode warm with compartments off, the baseline")
	}

	fig := &headlineFigure{
		title:  overheadTitle,
		ylabel: overheadYLabel,
		ref:    1,
		narrow: true,
	}
	if hi <= overheadLogAbove {
		fig.linear = true
		fig.yTicks = ratioTicks{}
	} else {
		fig.ylabel += overheadLogNote
		fig.yTicks = decadeTicks{label: func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) + "×" }}
	}
	for _, rw := range rows {
		fig.workloads = append(fig.workloads, rw.workload)
	}
	// A series keeps its slot in every workload, unless no workload has it.
	for i, sr := range overheadSeries {
		lb := &logBars{name: sr.name, color: sr.color, groups: len(rows), format: formatRatio}
		for g, rw := range rows {
			if b := rw.bars[i]; b != nil {
				b.group = g
				lb.bars = append(lb.bars, *b)
			}
		}
		if len(lb.bars) > 0 {
			fig.series = append(fig.series, lb)
		}
	}
	for i, lb := range fig.series {
		lb.slot, lb.nSlots = i, len(fig.series)
	}
	fig.layout()

	notes := []string{"baseline (dashed, 1×): warm without compartments"}
	switch {
	case maxRounds == 0:
		notes = append(notes, "bar: ratio of medians (no rounds recorded)")
	case minRounds == maxRounds:
		notes = append(notes, fmt.Sprintf("bar: geometric mean over %d rounds of the ratio of round medians", maxRounds))
	default:
		notes = append(notes, fmt.Sprintf("bar: geometric mean over %d to %d rounds of the ratio of round medians", minRounds, maxRounds))
	}
	switch {
	case maxRounds == 0:
	case withCI == paired:
		notes = append(notes, "whiskers: 95% CI across rounds")
	case withCI == 0:
		notes = append(notes, fmt.Sprintf("no whiskers: a CI needs %d rounds (repetitions)", results.MinPairedRounds))
	default:
		notes = append(notes, fmt.Sprintf("whiskers: 95%% CI across rounds (needs %d rounds)", results.MinPairedRounds))
	}
	fig.caption = captionText(s.Env, true, notes...)
	return fig, nil
}
