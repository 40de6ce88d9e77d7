package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/reclave/reclave/results"
)

// HostCallsBase is the file name, without extension, of the figure written by [HostCalls].
const HostCallsBase = "host_calls"

// Labels of the host-calls figure.
const (
	hostCallsTitle  = "Host calls per invocation"
	hostCallsXLabel = "host calls per invocation (median)"
	hostCallsYLabel = "workload · mode (total)"
	// hostCallsReset names the segment of the reset's host calls (the creation's in mode
	// cold): what a reused enclave pays again, and a rewind does not.
	hostCallsReset = "reset / creation"
)

// hostCallsFirst are the functions stacked first, in this order: the function ABI's streams.
// The others follow alphabetically.
var hostCallsFirst = []string{"fd_read", "fd_write"}

// hostCallColors colour the functions in turn (Paul Tol's muted palette, colour-blind safe);
// the reset segment is light grey.
var hostCallColors = []color.Color{
	rgb(0x33, 0x22, 0x88), // indigo
	rgb(0x88, 0xCC, 0xEE), // cyan
	rgb(0x44, 0xAA, 0x99), // teal
	rgb(0x11, 0x77, 0x33), // green
	rgb(0x99, 0x99, 0x33), // olive
	rgb(0xDD, 0xCC, 0x77), // sand
	rgb(0xCC, 0x66, 0x77), // rose
	rgb(0x88, 0x22, 0x55), // wine
	rgb(0xAA, 0x44, 0x99), // purple
	rgb(0x77, 0xAA, 0xDD), // light blue (Paul Tol's light palette)
	rgb(0xEE, 0x88, 0x66), // orange
	rgb(0xFF, 0xAA, 0xBB), // pink
	rgb(0xBB, 0xCC, 0x33), // pear
}

var hostCallsResetColor = rgb(0xBB, 0xBB, 0xBB)

// Geometry of the host-calls figure.
const (
	hostCallsRowHeight   = 0.24 * vg.Inch // per workload and mode
	hostCallsFixedHeight = 1.35 * vg.Inch // title, caption, X axis and its label; the legend adds its rows
	hostCallsBarFraction = 0.7            // share of a row covered by its bar
	hostCallsThumbWidth  = vg.Length(8)
	hostCallsWidth       = 4.5 * vg.Inch // a column and a half: the rows' labels are long
)

// HostCalls writes the host-calls figure to dir/host_calls.{png,svg,pdf}, creating dir if
// needed, and returns the paths written.
//
// One horizontal bar per workload and mode (the reference result of each, see the package
// documentation) that carries host calls: the median calls per invocation of each function,
// stacked (fd_read and fd_write first, then alphabetically), and last, in grey, the median
// host calls of the reset that belongs to an invocation (of the enclave's creation in mode
// cold). The row's label ends with the stack's total. A nil summary, or one whose results
// carry no host calls (summaries of schema version 1 and 2, targets other than embedded), is
// an error, and then nothing is written.
func HostCalls(s *results.Summary, dir string) ([]string, error) {
	fig, err := newHostCallsFigure(s)
	return drawFigure("host-calls figure", fig, err, dir, HostCallsBase)
}

// hostCallsFigure is the data of the host-calls figure, independent of the output format.
type hostCallsFigure struct {
	title, caption string
	rows           []hostCallsRow // from the top of the figure
	segments       []string       // in the order stacked, the legend's
	colors         map[string]color.Color
	legendRows     [][]legendEntry
	width, height  vg.Length
}

// hostCallsRow is the bar of one workload and mode: calls per segment (a function, or the
// reset).
type hostCallsRow struct {
	label string
	calls map[string]float64
	total float64
}

func newHostCallsFigure(s *results.Summary) (*hostCallsFigure, error) {
	if s == nil {
		return nil, errors.New("nil summary")
	}
	if err := s.HasHostCalls(); err != nil {
		return nil, err
	}
	fig := &hostCallsFigure{title: hostCallsTitle, colors: map[string]color.Color{}}
	var fns []string
	reset := false
	modes := canonicalOrder(CanonicalModes, s.Modes())
	for _, w := range s.Workloads() {
		for _, m := range modes {
			r := reference(s, w, m, func(r *results.Result) bool { return r.HostCalls != nil })
			if r == nil {
				continue
			}
			row := hostCallsRow{label: w + " · " + m, calls: map[string]float64{}}
			for name, med := range r.HostCalls.Functions {
				if med.N > 0 {
					row.calls[name] = med.N
					if !slices.Contains(fns, name) {
						fns = append(fns, name)
					}
				}
			}
			if n := r.HostCalls.ResetCallsP50; n > 0 {
				row.calls[hostCallsReset] = n
				reset = true
			}
			for _, n := range row.calls {
				row.total += n
			}
			fig.rows = append(fig.rows, row)
		}
	}
	fig.segments = canonicalOrder(hostCallsFirst, fns)
	if reset {
		fig.segments = append(fig.segments, hostCallsReset)
	}
	var legend []legendEntry
	for i, name := range fig.segments {
		c := hostCallsResetColor
		if name != hostCallsReset {
			c = hostCallColors[i%len(hostCallColors)]
		}
		fig.colors[name] = c
		legend = append(legend, legendEntry{name: name, thumb: swatch{c}, width: hostCallsThumbWidth})
	}
	notes := []string{
		"bar: median calls of each function, stacked (total)",
		"grey: the reset's calls (cold: the creation's)",
		"on SGX each call is an enclave exit (OCALL)",
	}
	fig.caption = captionText(s.Env, true, notes...)
	fig.width = hostCallsWidth
	fig.legendRows = legendRows(legend, fig.width-vg.Points(16))
	fig.height = hostCallsFixedHeight + vg.Length(len(fig.rows))*hostCallsRowHeight +
		vg.Length(len(fig.legendRows))*legendRowHeight() +
		vg.Length(lineCount(fig.caption)-1)*textStyle(8, textGrey).Height("Xg")
	return fig, nil
}

// size implements figure.
func (f *hostCallsFigure) size() (width, height vg.Length) { return f.width, f.height }

// draw renders the figure on c: title, caption and legend above the plot.
func (f *hostCallsFigure) draw(c draw.Canvas) {
	drawRowFigure(c, f.title, f.caption, f.legendRows, f.plot())
}

// plot builds the gonum plot: one row per bar, a linear X axis of calls from 0.
func (f *hostCallsFigure) plot() *plot.Plot {
	p := plot.New()
	p.BackgroundColor = nil
	n := len(f.rows)
	labels := make([]string, n)
	hi := 0.0
	for i, r := range f.rows {
		labels[i] = r.label + " (" + formatCalls(r.total) + ")"
		hi = max(hi, r.total)
	}
	rowAxis(p, labels, hostCallsYLabel)
	p.X.Tick.Marker = countTicks{}
	p.X.Tick.Label = tickStyle()
	p.X.Label.Text = hostCallsXLabel
	p.X.Label.TextStyle = axisLabelStyle()
	p.X.Padding = 0
	p.Add(&callBars{fig: f})
	p.X.Min, p.X.Max = 0, max(hi*1.05, 1)
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
	return p
}

// countTicks marks a linear axis of counts as ratioTicks does, labelling the whole numbers
// only ("0", "5", "10", ...).
type countTicks struct{}

// Ticks implements plot.Ticker.
func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := ratioTicks{}.Ticks(lo, hi)
	for i := range ticks {
		ticks[i].Label = ""
		if v := ticks[i].Value; v == math.Trunc(v) {
			ticks[i].Label = formatCalls(v)
		}
	}
	return ticks
}

// formatCalls formats a number of calls: an integer as such, a median between two (an even
// number of invocations) with one decimal.
func formatCalls(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// callBars draws the rows of a hostCallsFigure: row i (from the top) at Y = n−1−i, its
// segments end to end from X = 0, each labelled with its calls when the label fits.
type callBars struct{ fig *hostCallsFigure }

// Plot implements plot.Plotter.
func (b *callBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	half := (trY(1) - trY(0)) * hostCallsBarFraction / 2
	n := len(b.fig.rows)
	for i, r := range b.fig.rows {
		yc := trY(float64(n - 1 - i))
		at := 0.0
		for _, name := range b.fig.segments {
			v := r.calls[name]
			if v <= 0 {
				continue
			}
			x0, x1 := trX(at), trX(at+v)
			at += v
			fillSegment(c, x0, x1, yc, half, b.fig.colors[name], formatCalls(v))
		}
	}
}

// DataRange implements plot.DataRanger.
func (b *callBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	hi := 0.0
	for _, r := range b.fig.rows {
		hi = max(hi, r.total)
	}
	return 0, hi, -0.5, float64(len(b.fig.rows)) - 0.5
}

// writeExitCost writes report.md's estimated enclave-exit cost: per workload and mode, the
// median host calls of an invocation and of its reset, times the summary's per-exit cost
// (the default when it has none), in cycles and in time at its clock; or why there is none.
// It is an estimate for SGX hardware, kept apart from the measured latencies.
func writeExitCost(b *bytes.Buffer, s *results.Summary) {
	b.WriteString("## Estimated enclave-exit cost on SGX hardware\n\n")
	if err := s.HasHostCalls(); err != nil {
		fmt.Fprintf(b, "Not estimated: %s.\n\n", mdText(err.Error()))
		return
	}
	cost := s.ExitCost.OrDefault()
	fmt.Fprintf(b, "**An estimate, not a measurement**, and not part of any latency above: on SGX hardware every host call "+
		"that leaves the enclave is an OCALL, an enclave exit and re-entry. Per invocation: the median host calls of the "+
		"invocation and of the reset that belongs to it (mode cold: of the enclave's creation), times %s cycles per exit, "+
		"converted to time at %s GHz (config key `exit_cost`).", formatNumber(cost.Cycles), formatNumber(cost.GHz))
	if cost == results.DefaultExitCost() {
		fmt.Fprintf(b, " The default is the low end of the range published by %s; at its high end (%s cycles) "+
			"the estimate is %.1f× larger.", mdText(results.ExitCostSource), formatNumber(results.MaxExitCostCycles),
			results.MaxExitCostCycles/cost.Cycles)
	}
	if s.Env.Simulated {
		b.WriteString(" The simulated enclaves measured here pay none of it.")
	}
	b.WriteString("\n\n```text\n")
	fmt.Fprintf(b, "%-20s %-14s %12s %12s %16s %14s\n", "workload", "mode", "calls (p50)", "reset (p50)", "est. cycles", "est. time")
	for _, w := range s.Workloads() {
		for _, m := range canonicalOrder(CanonicalModes, s.Modes()) {
			r := reference(s, w, m, func(r *results.Result) bool { return r.HostCalls != nil })
			if r == nil {
				continue
			}
			calls := r.HostCalls.CallsP50 + r.HostCalls.ResetCallsP50
			fmt.Fprintf(b, "%-20s %-14s %12s %12s %16s %14s\n", w, m, formatCalls(r.HostCalls.CallsP50),
				formatCalls(r.HostCalls.ResetCallsP50), formatNumber(calls*cost.Cycles), results.FormatNs(cost.Ns(calls)))
		}
	}
	b.WriteString("```\n\n")
}

// formatNumber formats a number: whole from 100 on (24600), else with at most three
// significant digits (2.5, 3).
func formatNumber(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
