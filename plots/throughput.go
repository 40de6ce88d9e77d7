package plots

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"

	"github.com/reclave/reclave/results"
)

// ThroughputBase is the file name, without extension, of the figure written by [Throughput].
const ThroughputBase = "throughput"

// Labels of the throughput figure.
const (
	throughputTitle  = "Throughput vs. concurrency"
	throughputXLabel = "concurrent workers (closed loop, log scale)"
	throughputYLabel = "successful invocations/s (log scale)"
)

// Throughput writes the throughput figure, successful invocations per second against the
// number of concurrent workers of a closed loop, one line per mode and one panel per
// workload, to dir/throughput.{png,svg,pdf}, creating dir if needed, and returns the paths
// written. See the package documentation for what the figure shows.
//
// Only results of the closed loop model are drawn (an open or burst load sets its own
// rate). The line of a workload and mode goes through the results that share every
// parameter of its reference result (see the package documentation) but the concurrency.
// A summary whose closed loop results have fewer than two concurrency levels (no sweep) is
// an error, as is a nil summary, and then nothing is written; if writing a file fails, the
// error comes with the paths written before it.
func Throughput(s *results.Summary, dir string) ([]string, error) {
	fig, err := newThroughputFigure(s)
	return drawFigure("throughput figure", fig, err, dir, ThroughputBase)
}

// sameButConcurrency reports whether a and b are the same configuration but for the
// concurrency.
func sameButConcurrency(a, b results.Key) bool {
	a.Concurrency, b.Concurrency = 0, 0
	if closedLoad(a.Load) && closedLoad(b.Load) {
		a.Load, b.Load = "", ""
	}
	return a == b
}

func newThroughputFigure(s *results.Summary) (*panelsFigure, error) {
	if s == nil {
		return nil, errors.New("nil summary")
	}
	closed := func(r *results.Result) bool { return closedLoad(r.Load) && positive(r.ThroughputPerS) }
	var levels []int
	for i := range s.Results {
		if r := &s.Results[i]; closed(r) && !slices.Contains(levels, concurrencyOf(r.Key)) {
			levels = append(levels, concurrencyOf(r.Key))
		}
	}
	slices.Sort(levels)
	switch len(levels) {
	case 0:
		return nil, errors.New("no closed loop result with a positive throughput")
	case 1:
		return nil, fmt.Errorf("closed loop results at one concurrency only (%d): configure a concurrency sweep to draw it", levels[0])
	}

	modes := orderModes(s.Modes())
	styles := modeStyles(modes)
	fig := &panelsFigure{
		title:  throughputTitle,
		xlabel: throughputXLabel,
		ylabel: throughputYLabel,
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	var used []string // modes with a line
	for _, w := range s.Workloads() {
		panel := linePanel{title: w}
		for _, m := range modes {
			// The sweep: of the configurations of this workload and mode that differ only in
			// their concurrency, the one measured at the most levels (a run may also measure
			// the workload at one level only, e.g. in another experiment).
			var best []xy
			for i := range s.Results {
				ref := &s.Results[i]
				if ref.Workload != w || ref.Mode != m || !closed(ref) {
					continue
				}
				var points []xy
				seen := map[int]bool{}
				for j := range s.Results {
					r := &s.Results[j]
					c := concurrencyOf(r.Key)
					if r.Workload != w || r.Mode != m || !closed(r) || !sameButConcurrency(r.Key, ref.Key) || seen[c] {
						continue
					}
					seen[c] = true
					points = append(points, xy{float64(c), r.ThroughputPerS})
				}
				if len(points) > len(best) {
					best = points
				}
			}
			if len(best) < 2 {
				continue // no sweep of this workload and mode
			}
			l := modeLine(m, styles[m], true)
			l.points = best
			for _, p := range best {
				lo, hi = min(lo, p.y), max(hi, p.y)
			}
			l.sortPoints()
			panel.lines = append(panel.lines, l)
			if !slices.Contains(used, m) {
				used = append(used, m)
			}
		}
		if len(panel.lines) > 0 {
			fig.panels = append(fig.panels, panel)
		}
	}
	if len(fig.panels) == 0 {
		return nil, errors.New("no workload and mode measured at several concurrency levels under otherwise equal parameters")
	}
	for _, m := range orderModes(used) {
		fig.legend = append(fig.legend, legendEntry{name: m, thumb: modeLine(m, styles[m], true), width: panelsThumbWidth})
	}
	fig.x = axisSpec{
		min:   float64(levels[0]) / 1.3,
		max:   float64(levels[len(levels)-1]) * 1.3,
		log:   true,
		ticks: levelTicks(levels),
	}
	fig.y = axisSpec{
		min:   math.Pow(10, math.Floor(math.Log10(lo)-0.1)),
		max:   math.Pow(10, math.Ceil(math.Log10(hi)+0.1)),
		log:   true,
		ticks: decadeTicks{label: formatRate}, // 1/s, 10/s, ..., 1k/s, ...
	}
	notes := []string{"successful invocations ÷ wall time of the measured phase"}
	if s.Env.Cores > 0 {
		notes[0] += fmt.Sprintf(" (%d cores)", s.Env.Cores)
	}
	if sc := strategyCaption(s.Results); sc != "" {
		notes = append(notes, sc)
	}
	fig.caption = captionText(s.Env, true, notes...)
	fig.layout()
	return fig, nil
}

// levelTicks marks an axis at the concurrency levels of a sweep, each labelled.
type levelTicks []int

// Ticks implements plot.Ticker.
func (t levelTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for _, c := range t {
		if v := float64(c); v >= lo && v <= hi {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.Itoa(c)})
		}
	}
	return ticks
}

// decadeTicks marks a logarithmic axis: a tick at every power of ten, labelled by label,
// and unlabelled minor ticks in between.
type decadeTicks struct{ label func(float64) string }

// Ticks implements plot.Ticker.
func (d decadeTicks) Ticks(lo, hi float64) []plot.Tick {
	if !positive(lo) || !positive(hi) || lo >= hi {
		return nil
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		decade := math.Pow(10, e)
		for i := 1; i < 10; i++ {
			v := decade * float64(i)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if i == 1 {
				t.Label = d.label(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// formatRate formats a rate per second with an SI prefix: "0.1/s", "1/s", "10/s", "1k/s",
// "2.5M/s".
func formatRate(v float64) string {
	for _, u := range []struct {
		scale  float64
		prefix string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if v >= u.scale*(1-1e-9) {
			return strconv.FormatFloat(v/u.scale, 'g', 3, 64) + u.prefix + "/s"
		}
	}
	return strconv.FormatFloat(v, 'g', 3, 64) + "/s"
}
