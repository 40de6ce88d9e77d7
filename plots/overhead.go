package plots

import (
	"errors"
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
// workload, mode and compartments setting (see the package documentation). Missing bars are
// left out. A nil summary, one without a result with compartments on or without one with
// compartments off, or without a positive median latency of mode warm without compartments,
// is an error, and then nothing is written; if writing a file fails, the error comes with
// the paths written before it.
func Overhead(s *results.Summary, dir string) ([]string, error) {
	fig, err := newOverheadFigure(s)
	return drawFigure("overhead figure", fig, err, dir, OverheadBase)
}

// medianLatency returns the median latency of the reference result of workload w in mode m
// with compartments on or off, and whether it is positive. With a baseline, only results
// measured like it (the same experiment, size, memory, load and attestation: every parameter
// but the mode, its rewind parameters and the compartments) are considered, so that the
// ratios compare like with like.
func medianLatency(s *results.Summary, w, m string, compartments bool, baseline *results.Key) (float64, *results.Key, bool) {
	r := reference(s, w, m, func(r *results.Result) bool {
		return r.Compartments == compartments && positive(r.LatencyNs.P50) &&
			(baseline == nil || sameButModeAndCompartments(r.Key, *baseline))
	})
	if r == nil {
		return 0, nil, false
	}
	return r.LatencyNs.P50, &r.Key, true
}

// sameButModeAndCompartments reports whether a and b are the same configuration but for
// the mode (with its strategy and snapshot point) and the compartments.
func sameButModeAndCompartments(a, b results.Key) bool {
	for _, k := range []*results.Key{&a, &b} {
		k.Mode, k.Strategy, k.SnapshotPoint, k.Compartments = "", "", "", false
	}
	return a == b
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
		values   []float64 // per series, 0 when missing
	}
	var rows []row
	hi := 0.0
	for _, w := range s.Workloads() {
		// The baseline: warm without compartments, from a configuration that was also
		// measured with them.
		var base float64
		var baseKey *results.Key
		for i := range s.Results {
			r := &s.Results[i]
			if r.Workload != w || r.Mode != "warm" || r.Compartments || !positive(r.LatencyNs.P50) {
				continue
			}
			if _, _, ok := medianLatency(s, w, "warm", true, &r.Key); !ok {
				if _, _, ok := medianLatency(s, w, "rewind", true, &r.Key); !ok {
					continue
				}
			}
			if baseKey == nil || preferred(r.Key, *baseKey) {
				base, baseKey = r.LatencyNs.P50, &r.Key
			}
		}
		if baseKey == nil {
			continue
		}
		rw := row{workload: w, values: make([]float64, len(overheadSeries))}
		for i, sr := range overheadSeries {
			if v, _, ok := medianLatency(s, w, sr.mode, sr.compartments, baseKey); ok {
				rw.values[i] = v / base
				hi = max(hi, rw.values[i])
			}
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
			if v := rw.values[i]; v > 0 {
				lb.bars = append(lb.bars, bar{group: g, median: v})
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

	fig.caption = captionText(s.Env, true, "baseline (dashed, 1×): warm without compartments")
	return fig, nil
}
