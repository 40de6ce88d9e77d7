package plots

import (
	"errors"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/reclave/reclave/results"
)

// BreakdownBase is the file name, without extension, of the figure written by [Breakdown].
const BreakdownBase = "breakdown"

// Labels of the breakdown figure.
const (
	breakdownTitle  = "Where a cold start goes"
	breakdownXLabel = "share of the cold start (%)"
	breakdownYLabel = "workload (total)"
	breakdownSign   = "sign" // the signer's build step, not part of a launch: not drawn
)

// CanonicalPhases is the order in which the phases of a cold start are stacked and listed in
// the legend: the life cycle of an enclave. Phases not listed here follow, alphabetically.
// Read it, do not modify it.
var CanonicalPhases = []string{
	"ecreate", "eadd_eextend", "einit", // SGX creation
	"runtime_init", "compile", "instantiate", "fn_init", "snapshot", // the runtime and the function
	"quote", "attest", // evidence
	"invoke", "destroy",
}

// phaseColors colour the phases: reds and purples for the creation of the enclave, blues and
// greens for the runtime and the function, sand for evidence, dark grey for the function's
// own invocation, light grey for the destruction (Paul Tol's colour-blind safe palettes).
var phaseColors = map[string]color.Color{
	"ecreate":      rgb(0x88, 0x22, 0x55), // wine
	"eadd_eextend": rgb(0xCC, 0x66, 0x77), // rose
	"einit":        rgb(0xAA, 0x44, 0x99), // purple
	"runtime_init": rgb(0x33, 0x22, 0x88), // indigo
	"compile":      rgb(0x88, 0xCC, 0xEE), // cyan
	"instantiate":  rgb(0x44, 0xAA, 0x99), // teal
	"fn_init":      rgb(0x11, 0x77, 0x33), // green
	"snapshot":     rgb(0x99, 0x99, 0x33), // olive
	"quote":        rgb(0xDD, 0xCC, 0x77), // sand
	"attest":       rgb(0xE6, 0x9F, 0x00), // orange
	"invoke":       rgb(0x44, 0x44, 0x44), // dark grey
	"destroy":      rgb(0xBB, 0xBB, 0xBB), // light grey
}

// Geometry of the breakdown figure.
const (
	breakdownRowHeight   = 0.3 * vg.Inch  // per workload
	breakdownFixedHeight = 1.25 * vg.Inch // title, caption, X axis and its label; the legend adds its rows
	breakdownBarFraction = 0.7            // share of a row covered by its bar
	breakdownThumbWidth  = vg.Length(8)
)

// Breakdown writes the breakdown figure, the phases of a cold start per workload, to
// dir/breakdown.{png,svg,pdf}, creating dir if needed, and returns the paths written. See the
// package documentation for what the figure shows.
//
// Each workload's bar is its reference result of mode cold (see the package documentation):
// the median of every phase but sign, stacked in the order of [CanonicalPhases] and
// normalised to 100%, labelled with its total, the sum of the medians drawn. Phases whose
// median is not positive are left out, as are workloads left without any. A nil summary, or
// one without a cold result with phases, is an error, and then nothing is written; if writing
// a file fails, the error comes with the paths written before it.
func Breakdown(s *results.Summary, dir string) ([]string, error) {
	fig, err := newBreakdownFigure(s)
	return drawFigure("breakdown figure", fig, err, dir, BreakdownBase)
}

// breakdownFigure is the data of the breakdown figure, independent of the output format.
type breakdownFigure struct {
	title, caption string
	bars           []phaseBar // from the top of the figure
	phases         []string   // in the order stacked, the legend's
	colors         map[string]color.Color
	legendRows     [][]legendEntry
	width, height  vg.Length
}

// phaseBar is the bar of one workload: the median of each of its phases.
type phaseBar struct {
	workload string
	phases   map[string]float64
	total    float64 // sum of phases
}

func newBreakdownFigure(s *results.Summary) (*breakdownFigure, error) {
	if s == nil {
		return nil, errors.New("nil summary")
	}
	fig := &breakdownFigure{title: breakdownTitle, colors: map[string]color.Color{}}
	signed := false
	for _, w := range s.Workloads() {
		r := reference(s, w, "cold", nil)
		if r == nil {
			continue
		}
		b := phaseBar{workload: w, phases: map[string]float64{}}
		for name, ns := range r.PhasesP50Ns {
			if name == breakdownSign {
				signed = signed || ns > 0
				continue
			}
			if ns <= 0 {
				continue
			}
			b.phases[name] = float64(ns)
			b.total += float64(ns)
			if !slices.Contains(fig.phases, name) {
				fig.phases = append(fig.phases, name)
			}
		}
		if b.total > 0 {
			fig.bars = append(fig.bars, b)
		}
	}
	if len(fig.bars) == 0 {
		return nil, errors.New("no result of mode cold with a positive phase median: run mode cold to draw it")
	}
	fig.phases = canonicalOrder(CanonicalPhases, fig.phases)
	legend := colorPhases(fig.phases, phaseColors, fig.colors)

	notes := []string{"bar: median of each phase, as a share of their sum (in brackets)"}
	if signed {
		notes = append(notes, "not shown: sign, the signer's build step (once per measurement)")
	}
	fig.caption = captionText(s.Env, true, notes...)
	fig.width = columnWidth
	fig.legendRows = legendRows(legend, fig.width-vg.Points(16))
	fig.height = rowFigureHeight(len(fig.bars), len(fig.legendRows), fig.caption)
	return fig, nil
}

// colorPhases gives each phase its colour from palette (the extra colours, in turn, to those
// it lacks) into colors, and returns their legend entries, in the order of phases.
func colorPhases(phases []string, palette, colors map[string]color.Color) []legendEntry {
	extra := 0
	var legend []legendEntry
	for _, p := range phases {
		c, ok := palette[p]
		if !ok {
			c = extraColors[extra%len(extraColors)]
			extra++
		}
		colors[p] = c
		legend = append(legend, legendEntry{name: p, thumb: swatch{c}, width: breakdownThumbWidth})
	}
	return legend
}

// rowFigureHeight is the height of a figure of horizontal bars, a column wide: its rows, its
// legend rows and its caption's lines.
func rowFigureHeight(rows, legendRowCount int, caption string) vg.Length {
	return breakdownFixedHeight + vg.Length(rows)*breakdownRowHeight +
		vg.Length(legendRowCount)*legendRowHeight() +
		vg.Length(lineCount(caption)-1)*textStyle(8, textGrey).Height("Xg")
}

// rowLabel returns the label of bar b on the Y axis: the workload and its total.
func (b phaseBar) rowLabel() string {
	return b.workload + " (" + results.FormatNs(b.total) + ")"
}

// size implements figure.
func (f *breakdownFigure) size() (width, height vg.Length) { return f.width, f.height }

// plot builds the gonum plot of the figure, without title, caption or legend (see draw).
func (f *breakdownFigure) plot() *plot.Plot {
	p := plot.New()
	p.BackgroundColor = nil

	tick := tickStyle()
	n := len(f.bars)
	labels := make([]string, n)
	for i, b := range f.bars {
		labels[i] = b.rowLabel()
	}
	rowAxis(p, labels, breakdownYLabel)

	var percent []plot.Tick
	for v := 0; v <= 100; v += 25 {
		percent = append(percent, plot.Tick{Value: float64(v), Label: strconv.Itoa(v)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(percent)
	p.X.Tick.Label = tick
	p.X.Label.Text = breakdownXLabel
	p.X.Label.TextStyle = axisLabelStyle()
	p.X.Padding = 0

	p.Add(&stackedBars{fig: f})
	p.X.Min, p.X.Max = 0, 100
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
	return p
}

// draw renders the figure on c: title, caption and legend above the plot.
func (f *breakdownFigure) draw(c draw.Canvas) {
	drawRowFigure(c, f.title, f.caption, f.legendRows, f.plot())
}

// rowAxis makes p's Y axis one row per label, the first at the top (Y = n−1), labelled
// ylabel: the Y axis of the figures of horizontal stacked bars.
func rowAxis(p *plot.Plot, labels []string, ylabel string) {
	n := len(labels)
	names := make([]plot.Tick, n)
	for i, l := range labels {
		names[i] = plot.Tick{Value: float64(n - 1 - i), Label: l}
	}
	p.Y.Tick.Marker = plot.ConstantTicks(names)
	p.Y.Tick.Length = 0
	p.Y.Tick.Label = tickStyle()
	p.Y.Tick.Label.XAlign = draw.XRight
	p.Y.Tick.Label.YAlign = draw.YCenter
	p.Y.Label.Text = ylabel
	p.Y.Label.TextStyle = axisLabelStyle()
	p.Y.Padding = 0
}

// drawRowFigure renders a figure of horizontal stacked bars on c: white background, title,
// caption and legend rows above the plot p.
func drawRowFigure(c draw.Canvas, title, caption string, legend [][]legendEntry, p *plot.Plot) {
	p.Draw(drawRowHeader(c, title, caption, legend))
}

// drawRowHeader renders the white background, title, caption and legend rows of a figure of
// horizontal bars on c and returns the canvas left below them for its plots.
func drawRowHeader(c draw.Canvas, title, caption string, legend [][]legendEntry) draw.Canvas {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	c = draw.Crop(c, 4, -8, 4, -6)
	center := c.Center().X
	y := c.Max.Y
	y -= drawHeader(c, center, y, title, caption)
	y -= drawLegendRows(c, center, y, legend) + 6
	return draw.Crop(c, 0, 0, 0, y-c.Max.Y)
}

// fillSegment draws one segment of a stacked bar, from x0 to x1 around yc (half its height
// on either side), in colour col with a white outline, labelled in its middle when the label
// fits.
func fillSegment(c draw.Canvas, x0, x1, yc, half vg.Length, col color.Color, label string) {
	rect := []vg.Point{{X: x0, Y: yc - half}, {X: x0, Y: yc + half}, {X: x1, Y: yc + half}, {X: x1, Y: yc - half}}
	c.FillPolygon(col, rect)
	c.StrokeLines(draw.LineStyle{Color: color.White, Width: vg.Points(0.4)}, append(rect, rect[0]))
	sty := textStyle(6.5, contrastText(col))
	sty.YAlign = draw.YCenter
	if sty.Width(label)+vg.Points(3) <= x1-x0 {
		c.FillText(sty, vg.Point{X: (x0 + x1) / 2, Y: yc}, label)
	}
}

// stackedBars draws the bars of a breakdownFigure: workload i (from the top) at Y = n−1−i,
// its phases side by side from X = 0 to 100, each labelled with its share when the label
// fits in it.
type stackedBars struct{ fig *breakdownFigure }

// Plot implements plot.Plotter.
func (s *stackedBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	half := (trY(1) - trY(0)) * breakdownBarFraction / 2
	n := len(s.fig.bars)
	for i, b := range s.fig.bars {
		yc := trY(float64(n - 1 - i))
		at := 0.0
		for _, name := range s.fig.phases {
			v, ok := b.phases[name]
			if !ok {
				continue
			}
			share := 100 * v / b.total
			x0, x1 := trX(at), trX(at+share)
			at += share
			fillSegment(c, x0, x1, yc, half, s.fig.colors[name], strconv.Itoa(int(math.Round(share)))+"%")
		}
	}
}

// DataRange implements plot.DataRanger.
func (s *stackedBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	return 0, 100, -0.5, float64(len(s.fig.bars)) - 0.5
}

// contrastText returns black or white, whichever reads better on background c.
func contrastText(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	// Relative luminance, roughly (sRGB weights on the gamma-encoded values).
	if 0.299*float64(r>>8)+0.587*float64(g>>8)+0.114*float64(b>>8) < 128 {
		return color.White
	}
	return color.Black
}

// swatch is the thumbnail of a legend entry: a filled square of colour c.
type swatch struct{ c color.Color }

// Thumbnail implements plot.Thumbnailer.
func (s swatch) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y},
		{X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y},
	}
	c.FillPolygon(s.c, pts)
}
