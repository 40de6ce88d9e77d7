package plots

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"

	"github.com/reclave/reclave/results"
)

// CDFBase is the file name, without extension, of the figure written by [CDF].
const CDFBase = "cdf"

// Labels of the cdf figure.
const (
	cdfTitle  = "Latency distribution per mode"
	cdfXLabel = "invocation latency (log scale)"
	cdfYLabel = "fraction of invocations"
)

// cdfMaxLabels is the largest number of labelled decades on the X axis of a panel.
const cdfMaxLabels = 4

// cdfMaxPoints is the number of points above which a distribution is drawn through
// cdfMaxPoints of its quantiles rather than as a staircase of every sample: the files stay
// small and the curve is the same at any printable resolution.
const cdfMaxPoints = 400

// CDF writes the latency distribution figure, the empirical cumulative distribution function
// of the latency of every mode, one panel per workload, to dir/cdf.{png,svg,pdf}, creating dir
// if needed, and returns the paths written. env is the environment of the run (from its
// summary), for the caption. See the package documentation for what the figure shows.
//
// The records drawn are the measured ones (no warm-up) that succeeded and were not dropped,
// of the reference configuration of each workload and mode (see the package documentation).
// The latency of an invocation is latency_ns; in the open and burst load models it counts
// from the intended start (end − intended_start_ns), so that an invocation that waited for a
// free slot shows its wait. Records with no such latency, or nothing to draw at all, are an
// error, and then nothing is written; if writing a file fails, the error comes with the paths
// written before it.
//
// A curve of fewer than 100 invocations ([results.QuantileMinN] of 99) crosses 0.99 at its
// maximum: it shows no 99th percentile, and the caption names such curves.
func CDF(records []results.Record, env results.Env, dir string) ([]string, error) {
	fig, err := newCDFFigure(records, env)
	return drawFigure("cdf figure", fig, err, dir, CDFBase)
}

// cdfLatency returns the latency of r drawn by the cdf figure: latency_ns, which the driver
// counts from the intended start in the open and burst load models (results/doc.go).
func cdfLatency(r *results.Record) float64 { return float64(r.LatencyNs) }

// cdfSamples groups the latencies of the drawable records by configuration and returns, per
// workload (in order of first appearance) and mode, those of the reference configuration.
func cdfSamples(records []results.Record) (workloads []string, samples map[string]map[string][]float64) {
	type wm struct{ w, m string }
	byKey := map[results.Key][]float64{}
	best := map[wm]results.Key{}
	for i := range records {
		r := &records[i]
		if r.Warmup || r.Error != "" || r.Dropped {
			continue
		}
		lat := cdfLatency(r)
		if !positive(lat) {
			continue
		}
		k := r.Key()
		byKey[k] = append(byKey[k], lat)
		id := wm{r.Workload, r.Mode}
		if b, ok := best[id]; !ok {
			best[id] = k
			if !slices.Contains(workloads, r.Workload) {
				workloads = append(workloads, r.Workload)
			}
		} else if preferred(k, b) {
			best[id] = k
		}
	}
	samples = map[string]map[string][]float64{}
	for id, k := range best {
		if samples[id.w] == nil {
			samples[id.w] = map[string][]float64{}
		}
		samples[id.w][id.m] = byKey[k]
	}
	return workloads, samples
}

func newCDFFigure(records []results.Record, env results.Env) (*panelsFigure, error) {
	workloads, samples := cdfSamples(records)
	if len(workloads) == 0 {
		return nil, errors.New("no measured invocation succeeded with a positive latency")
	}
	var modes []string
	for _, w := range workloads {
		for m := range samples[w] {
			if !slices.Contains(modes, m) {
				modes = append(modes, m)
			}
		}
	}
	modes = orderModes(modes)
	styles := modeStyles(modes)

	fig := &panelsFigure{
		title:  cdfTitle,
		xlabel: cdfXLabel,
		ylabel: cdfYLabel,
		y:      axisSpec{min: 0, max: 1, ticks: fractionTicks{}},
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	curves := map[string]int{}   // per mode, the curves drawn
	few := map[string][]string{} // per mode, the workloads whose curve is too short for a p99
	for _, w := range workloads {
		panel := linePanel{title: w}
		for _, m := range modes {
			xs := samples[w][m]
			if len(xs) == 0 {
				continue
			}
			curves[m]++
			if !results.QuantileSupported(99, len(xs)) {
				few[m] = append(few[m], w)
			}
			slices.Sort(xs)
			lo, hi = min(lo, xs[0]), max(hi, xs[len(xs)-1])
			l := modeLine(m, styles[m], false)
			l.points = ecdf(xs, cdfMaxPoints)
			panel.lines = append(panel.lines, l)
		}
		fig.panels = append(fig.panels, panel)
	}
	for _, m := range modes {
		fig.legend = append(fig.legend, legendEntry{name: m, thumb: modeLine(m, styles[m], false), width: panelsThumbWidth})
	}
	// Whole decades around the data, so that both ends of the axis are labelled.
	fig.x = axisSpec{
		min: math.Pow(10, math.Floor(math.Log10(lo)-0.05)),
		max: math.Pow(10, math.Ceil(math.Log10(hi)+0.05)),
		log: true,
	}
	// At most cdfMaxLabels labelled decades, so that the labels of a panel do not collide.
	decades := int(math.Round(math.Log10(fig.x.max / fig.x.min)))
	fig.x.ticks = everyNthDecade{durationTicks{}, (decades + cdfMaxLabels - 1) / cdfMaxLabels}
	notes := []string{"successful measured invocations; open and burst loads: latency from the intended start"}
	if n := tailNote(modes, few, curves); n != "" {
		notes = append(notes, n)
	}
	fig.caption = captionText(env, true, notes...)
	fig.layout()
	return fig, nil
}

// tailNote returns the caption's note on the curves too short to show a 99th percentile
// (fewer than results.QuantileMinN(99) = 100 invocations: the top step of such a curve, from
// 0.99 or lower to 1, is the sample's maximum), or "" when there are none. few holds, per mode,
// the workloads whose curve is short, curves the number of curves of every mode. The short
// curves are named by mode when every curve of the mode is short, else as "mode of workload,
// ...".
func tailNote(modes []string, few map[string][]string, curves map[string]int) string {
	n := results.QuantileMinN(99)
	short, total := 0, 0
	var names []string
	for _, m := range modes {
		ws := few[m]
		short += len(ws)
		total += curves[m]
		switch {
		case len(ws) == 0:
		case len(ws) == curves[m]:
			names = append(names, m)
		default:
			names = append(names, m+" of "+strings.Join(ws, ", "))
		}
	}
	switch {
	case short == 0:
		return ""
	case short == total:
		return fmt.Sprintf("every curve has fewer than %d invocations: no p99 (the top step is the maximum)", n)
	case len(names) > maxCaptionItems:
		return fmt.Sprintf("%d curves have fewer than %d invocations: no p99 (the top step is the maximum)", short, n)
	}
	return fmt.Sprintf("fewer than %d invocations, no p99 (the top step is the maximum): %s", n, strings.Join(names, "; "))
}

// ecdf returns the points of the empirical cumulative distribution function of sorted (not
// empty, in increasing order): a staircase through every sample when there are at most
// maxPoints, else the staircase's corners at maxPoints+1 evenly spaced ranks, the smallest
// and the largest sample included.
func ecdf(sorted []float64, maxPoints int) []xy {
	n := len(sorted)
	if n <= maxPoints {
		pts := make([]xy, 0, 2*n)
		for i, x := range sorted {
			pts = append(pts, xy{x, float64(i) / float64(n)}, xy{x, float64(i+1) / float64(n)})
		}
		return pts
	}
	pts := make([]xy, 0, maxPoints+1)
	for k := 0; k <= maxPoints; k++ {
		i := k * (n - 1) / maxPoints
		pts = append(pts, xy{sorted[i], float64(i+1) / float64(n)})
	}
	return pts
}

// fractionTicks marks a linear axis from 0 to 1 every quarter.
type fractionTicks struct{}

// Ticks implements plot.Ticker.
func (fractionTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for v := 0.0; v <= 1; v += 0.25 {
		if v >= lo-1e-9 && v <= hi+1e-9 {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
		}
	}
	return ticks
}

// everyNthDecade keeps the labels of a decade ticker (durationTicks, decadeTicks) at every
// n-th power of ten only (10⁰, 10ⁿ, 10²ⁿ, ...); the other ticks stay, unlabelled.
type everyNthDecade struct {
	plot.Ticker
	n int
}

// Ticks implements plot.Ticker.
func (e everyNthDecade) Ticks(lo, hi float64) []plot.Tick {
	ticks := e.Ticker.Ticks(lo, hi)
	if e.n <= 1 {
		return ticks
	}
	for i, t := range ticks {
		if t.Label == "" {
			continue
		}
		if exp := int(math.Round(math.Log10(t.Value))); exp%e.n != 0 {
			ticks[i].Label = ""
		}
	}
	return ticks
}
