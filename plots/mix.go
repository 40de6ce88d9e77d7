package plots

import (
	"bytes"
	"cmp"
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

// MixBase is the file name, without extension, of the mix figure: latency per mix of
// workloads, per-function rewind enclaves against a pool of generic enclaves, and the cost
// breakdown of a generic invocation.
const MixBase = "mix"

// Labels of the mix figure.
const (
	mixTitle       = "Generic enclaves vs. per-function enclaves"
	mixModeGeneric = "generic" // harness.ModeGeneric; plots reads results, not the harness
)

// genericPhases are the phases of a generic invocation, stacked in this order; others (attest,
// recreate) follow.
var genericPhases = []string{"load", "instantiate", "fn_init", "invoke", "rewind"}

// genericPhaseColors colour them (Paul Tol's palette, as the breakdown's phases).
var genericPhaseColors = map[string]color.Color{
	"load":        rgb(0x88, 0xCC, 0xEE), // cyan, the breakdown's compile
	"instantiate": phaseColors["instantiate"],
	"fn_init":     phaseColors["fn_init"],
	"invoke":      phaseColors["invoke"],
	"rewind":      rgb(0x99, 0x99, 0x33), // olive, the breakdown's snapshot
	"attest":      phaseColors["attest"],
}

// mixModeColors colour the bars of the latency panel by mode.
var mixModeColors = map[string]color.Color{
	"rewind":       rgb(0x00, 0x77, 0xBB),
	mixModeGeneric: rgb(0xEE, 0x77, 0x33),
}

// mixRow is a bar of the latency panel: one mix, load and mode.
type mixRow struct {
	label string
	mode  string
	p50   float64 // median latency of every measured invocation of the mix, all functions
	n     int
}

// mixFigure is the data of the mix figure: the latency panel (rows, none when the run has no
// mix) above the breakdown panel (bars, none when it has no result of mode generic).
type mixFigure struct {
	title, caption string
	rows           []mixRow
	bars           []phaseBar
	phases         []string
	colors         map[string]color.Color
	legendRows     [][]legendEntry
	width, height  vg.Length
}

// mixKey groups the records of one mix, mode and load.
type mixKey struct {
	exp, mix, mode, load string
	conc                 int
}

// newMixFigure prepares the mix figure from the run's measured records (the latency of each
// mix, whatever function ran) and its summary (the phase medians of mode generic per workload:
// the reference result of a run without mix, else of a mix).
func newMixFigure(recs []results.Record, s *results.Summary, env results.Env) (*mixFigure, error) {
	fig := &mixFigure{title: mixTitle, colors: map[string]color.Color{}}
	lat := map[mixKey][]float64{}
	var keys []mixKey
	for i := range recs {
		r := &recs[i]
		if r.Mix == "" {
			continue
		}
		k := mixKey{r.Experiment, r.Mix, r.Mode, r.Load, r.Concurrency}
		if _, ok := lat[k]; !ok {
			keys = append(keys, k)
		}
		lat[k] = append(lat[k], float64(r.LatencyNs))
	}
	slices.SortStableFunc(keys, func(a, b mixKey) int {
		return cmp.Or(cmp.Compare(a.exp, b.exp), cmp.Compare(a.mix, b.mix), cmp.Compare(a.load, b.load),
			cmp.Compare(a.conc, b.conc), cmp.Compare(mixModeRank(a.mode), mixModeRank(b.mode)), cmp.Compare(a.mode, b.mode))
	})
	for _, k := range keys {
		v := lat[k]
		name := k.exp
		if name == "" {
			name = k.mix
		}
		if len(name) > 24 {
			name = name[:21] + "..."
		}
		fig.rows = append(fig.rows, mixRow{
			label: fmt.Sprintf("%s %s×%d %s", name, k.load, max(k.conc, 1), mixModeLabel(k.mode)),
			mode:  k.mode, p50: median(v), n: len(v),
		})
	}
	if s != nil {
		for _, w := range s.Workloads() {
			r := reference(s, w, mixModeGeneric, func(r *results.Result) bool { return r.Mix == "" })
			if r == nil {
				r = reference(s, w, mixModeGeneric, nil)
			}
			if r == nil {
				continue
			}
			b := phaseBar{workload: w, phases: map[string]float64{}}
			for name, ns := range r.PhasesP50Ns {
				if ns > 0 && name != "recreate" {
					b.phases[name] = float64(ns)
					b.total += float64(ns)
					if !slices.Contains(fig.phases, name) {
						fig.phases = append(fig.phases, name)
					}
				}
			}
			if b.total > 0 {
				fig.bars = append(fig.bars, b)
			}
		}
	}
	if len(fig.rows) == 0 && len(fig.bars) == 0 {
		return nil, errors.New("no record of a mix and no result of mode generic: run a config with mix: and modes: [rewind, generic] (configs/generic.yaml)")
	}
	fig.phases = canonicalOrder(genericPhases, fig.phases)
	var legend []legendEntry
	for _, m := range []string{"rewind", mixModeGeneric} {
		if slices.ContainsFunc(fig.rows, func(r mixRow) bool { return r.mode == m }) {
			legend = append(legend, legendEntry{name: mixModeLabel(m), thumb: swatch{mixModeColors[m]}, width: breakdownThumbWidth})
		}
	}
	legend = append(legend, colorPhases(fig.phases, genericPhaseColors, fig.colors)...)
	var notes []string
	if len(fig.rows) > 0 {
		notes = append(notes, "top: median latency of a mix, whichever function ran",
			"per-function: a rewind enclave per function and worker",
			"generic pool: a generic enclave per worker")
	}
	if len(fig.bars) > 0 {
		notes = append(notes, "bottom: phase medians of a generic invocation",
			"(compile cache warm), as shares of their sum (in brackets)")
	}
	fig.caption = captionText(env, true, notes...)
	fig.width = columnWidth
	fig.legendRows = legendRows(legend, fig.width-vg.Points(16))
	fig.height = rowFigureHeight(len(fig.rows)+len(fig.bars), len(fig.legendRows), fig.caption)
	if len(fig.rows) > 0 && len(fig.bars) > 0 {
		fig.height += 0.6 * vg.Inch // the second panel's X axis
	}
	return fig, nil
}

// mixModeRank orders the modes of the latency panel: per-function rewind first.
func mixModeRank(m string) int {
	if m == "rewind" {
		return 0
	}
	if m == mixModeGeneric {
		return 1
	}
	return 2
}

// mixModeLabel names a mode in the latency panel.
func mixModeLabel(m string) string {
	switch m {
	case "rewind":
		return "per-function"
	case mixModeGeneric:
		return "generic pool"
	}
	return m
}

// size implements figure.
func (f *mixFigure) size() (width, height vg.Length) { return f.width, f.height }

// draw renders the figure: title, caption and legend, then the latency panel above the
// breakdown panel, each as tall as its rows.
func (f *mixFigure) draw(c draw.Canvas) {
	c = drawRowHeader(c, f.title, f.caption, f.legendRows)
	var panels []*plot.Plot
	var weights []float64
	if len(f.rows) > 0 {
		panels, weights = append(panels, f.latencyPlot()), append(weights, float64(len(f.rows))+2)
	}
	if len(f.bars) > 0 {
		panels, weights = append(panels, f.breakdownPlot()), append(weights, float64(len(f.bars))+2)
	}
	total := 0.0
	for _, w := range weights {
		total += w
	}
	h := c.Max.Y - c.Min.Y
	top := c.Max.Y
	for i, p := range panels {
		ph := vg.Length(weights[i] / total * float64(h))
		p.Draw(draw.Crop(c, 0, 0, top-ph-c.Min.Y, top-c.Max.Y))
		top -= ph
	}
}

// latencyPlot is the latency panel: one horizontal bar per mix, load and mode, its median
// latency written at its end.
func (f *mixFigure) latencyPlot() *plot.Plot {
	p := plot.New()
	p.BackgroundColor = nil
	labels := make([]string, len(f.rows))
	maxV := 0.0
	for i, r := range f.rows {
		labels[i] = r.label
		maxV = math.Max(maxV, r.p50)
	}
	rowAxis(p, labels, "mix, load, enclaves")
	p.X.Label.Text = "median latency (µs)"
	p.X.Label.TextStyle = axisLabelStyle()
	p.X.Tick.Label = tickStyle()
	p.X.Tick.Marker = microTicks{}
	p.Add(&mixBars{fig: f})
	p.X.Min, p.X.Max = 0, maxV*1.7 // room for the labels
	p.Y.Min, p.Y.Max = -0.5, float64(len(f.rows))-0.5
	return p
}

// breakdownPlot is the breakdown panel: one stacked bar per workload (mode generic), its
// phases as shares of their sum.
func (f *mixFigure) breakdownPlot() *plot.Plot {
	sub := &breakdownFigure{bars: f.bars, phases: f.phases, colors: f.colors}
	p := sub.plot()
	p.X.Label.Text = "share of a generic invocation (%)"
	p.Y.Label.Text = "workload (total)"
	return p
}

// microTicks are ticks in microseconds on a linear nanosecond axis.
type microTicks struct{}

// Ticks implements plot.Ticker.
func (microTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(min/1e3, max/1e3) {
		t.Value *= 1e3
		ts = append(ts, t)
	}
	return ts
}

// mixBars draws the latency panel's bars, row i (from the top) at Y = n−1−i.
type mixBars struct{ fig *mixFigure }

// Plot implements plot.Plotter.
func (s *mixBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	half := (trY(1) - trY(0)) * breakdownBarFraction / 2
	n := len(s.fig.rows)
	for i, r := range s.fig.rows {
		yc := trY(float64(n - 1 - i))
		x0, x1 := trX(0), trX(r.p50)
		fillSegment(c, x0, x1, yc, half, mixModeColors[r.mode], "")
		sty := textStyle(6.5, color.Black)
		sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
		c.FillText(sty, vg.Point{X: x1 + 2, Y: yc}, results.FormatNs(r.p50)+" (n "+strconv.Itoa(r.n)+")")
	}
}

// DataRange implements plot.DataRanger.
func (s *mixBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	m := 0.0
	for _, r := range s.fig.rows {
		m = math.Max(m, r.p50)
	}
	return 0, m, -0.5, float64(len(s.fig.rows)) - 0.5
}

// writeGeneric writes report.md's section on generic enclaves: per workload, the median
// latency of a generic invocation beside per-function rewind, reinstantiate and cold of the
// same run (results without a mix; cold from any experiment), and the memory a pool of
// generic enclaves needs for the run's workloads against one enclave per function — computed
// from the enclaves' memory_bytes and the workers, not measured. Nothing when the run has no
// result of mode generic.
func writeGeneric(b *bytes.Buffer, s *results.Summary) {
	if s == nil || !slices.ContainsFunc(s.Results, func(r results.Result) bool { return r.Mode == mixModeGeneric }) {
		return
	}
	solo := func(r *results.Result) bool { return r.Mix == "" }
	b.WriteString("## Generic enclaves\n\n")
	b.WriteString("Per workload, the median latency of an invocation served by a generic enclave (measured without " +
		"any function, the module loaded from its compile cache — each worker compiled every function before its " +
		"warm-up — instantiated, initialised, invoked, then the enclave rewound to its runtime snapshot) beside " +
		"the same workload's per-function enclave rewound to its snapshot, re-instantiated, and created fresh " +
		"(cold), from this run; — where the run has no such result. Latency includes the reset and, with " +
		"attestation inner, the inner report.\n\n")
	b.WriteString("| workload | generic | load | rewind | reinstantiate | cold | generic / rewind |\n|---|---|---|---|---|---|---|\n")
	cell := func(r *results.Result) string {
		if r == nil || r.N == 0 {
			return "—"
		}
		return results.FormatNs(r.LatencyNs.P50)
	}
	var workloads []string
	var memBytes int64
	workers := 1
	for _, w := range s.Workloads() {
		g := reference(s, w, mixModeGeneric, solo)
		if g == nil {
			continue
		}
		workloads = append(workloads, w)
		memBytes = max(memBytes, g.MemoryBytes)
		rw := reference(s, w, "rewind", solo)
		ratio, load := "—", "—"
		if rw != nil && rw.N > 0 && g.N > 0 && rw.LatencyNs.P50 > 0 {
			ratio = strconv.FormatFloat(g.LatencyNs.P50/rw.LatencyNs.P50, 'g', 3, 64) + "×"
		}
		if ns, ok := g.PhasesP50Ns["load"]; ok {
			load = results.FormatNs(float64(ns))
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", mdCell(w), cell(g), load, cell(rw),
			cell(reference(s, w, "reinstantiate", solo)), cell(reference(s, w, "cold", nil)), ratio)
	}
	b.WriteString("\n")
	// The pool: the run's largest mix (its functions and workers), else every workload above
	// with the run's most workers.
	fns := map[string]map[string]bool{}
	for _, r := range s.Results {
		if r.Mode == mixModeGeneric || r.Mode == "rewind" {
			workers = max(workers, r.Concurrency)
			if r.MemoryBytes > 0 {
				memBytes = max(memBytes, r.MemoryBytes)
			}
		}
		if r.Mix != "" {
			if fns[r.Mix] == nil {
				fns[r.Mix] = map[string]bool{}
			}
			fns[r.Mix][r.Workload] = true
		}
	}
	n := len(workloads)
	for _, set := range fns {
		n = max(n, len(set))
	}
	if n == 0 || memBytes == 0 {
		return
	}
	mib := func(bytes int64) string { return strconv.FormatFloat(float64(bytes)/(1<<20), 'f', 0, 64) + " MiB" }
	fmt.Fprintf(b, "Memory of a warm pool for %d functions and %d workers (computed, not measured: enclaves × "+
		"memory_bytes, the config's memory_mib plus the runtime image when measured, %s each; snapshots not counted):\n\n",
		n, workers, mib(memBytes))
	b.WriteString("| pool | enclaves | memory |\n|---|---|---|\n")
	fmt.Fprintf(b, "| one enclave per function per worker | %d | %s |\n", n*workers, mib(int64(n*workers)*memBytes))
	fmt.Fprintf(b, "| generic enclaves, one per worker | %d | %s |\n", workers, mib(int64(workers)*memBytes))
	fmt.Fprintf(b, "\nThe generic pool needs %d× less enclave memory; it pays, per invocation, the load, instantiate "+
		"and fn_init phases that a per-function enclave's snapshot holds (see the table above and figure `%s`).\n\n", n, MixBase)
}
