package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/reclave/reclave/results"
)

// HeadlineBase is the file name, without extension, of the figure written by [Headline].
const HeadlineBase = "cold_vs_rewind"

// CanonicalModes is the order in which modes are drawn and listed in legends: the cold start
// baseline first, then the resets from the most to the least expensive, then the insecure
// warm lower bound. Modes not listed here follow, alphabetically. Read it, do not modify it.
var CanonicalModes = []string{"cold", "reinstantiate", "rewind", "warm"}

// modeColors is the fixed palette (Okabe–Ito, colour-blind safe): cold and rewind are the two
// contrasting hues of the headline claim, warm is grey because it is a reference, not a
// secure mode.
var modeColors = map[string]color.Color{
	"cold":          rgb(0xD5, 0x5E, 0x00), // vermillion
	"reinstantiate": rgb(0x00, 0x9E, 0x73), // bluish green
	"rewind":        rgb(0x00, 0x72, 0xB2), // blue
	"warm":          rgb(0x99, 0x99, 0x99), // grey
}

// extraColors colour modes outside [CanonicalModes], in turn.
var extraColors = []color.Color{
	rgb(0xCC, 0x79, 0xA7), // reddish purple
	rgb(0x56, 0xB4, 0xE9), // sky blue
	rgb(0xE6, 0x9F, 0x00), // orange
	rgb(0xF0, 0xE4, 0x42), // yellow
	rgb(0x33, 0x33, 0x33), // near black
}

// Figure geometry and typography.
const (
	figHeight     = 3.5 * vg.Inch
	figMinWidth   = 6 * vg.Inch
	figMaxWidth   = 12 * vg.Inch
	figPerBar     = 0.36 * vg.Inch // horizontal room per bar when there are many
	figPerGroup   = 0.25 * vg.Inch // extra room per workload (gap between groups)
	figFixedWidth = 0.9 * vg.Inch  // Y axis, its label and margins
	groupFraction = 0.82           // share of a workload's slot covered by its bars
	barFraction   = 0.86           // share of a mode's slot covered by its bar
	maxSlotWidth  = 0.5 * vg.Inch  // bars of few workloads and modes are not wider than this
)

// Headline writes the headline figure of the paper reproduction, median invocation latency
// per workload and mode on a logarithmic axis, to dir/cold_vs_rewind.{png,svg,pdf}, creating
// dir if needed, and returns the paths written. See the package documentation for what the
// figure shows and how to read it.
//
// Results whose median is not a positive finite number are skipped, as are workloads and
// modes left without any bar. When a summary holds several results for one workload and mode
// (different parameters), the reference one is drawn: the closed loop at the lowest
// concurrency, the first of those in the summary (see the package documentation). A nil
// summary, or one with nothing to draw, is an error, and then nothing is written; if writing
// a file fails, the error comes with the paths written before it.
//
// A bar's whisker is the 95% confidence interval of its median, which needs
// [results.MedianCIMinN] (6) successful invocations; the caption names the bars drawn without
// one, and mentions no whisker when none is drawn.
func Headline(s *results.Summary, dir string) ([]string, error) {
	fig, err := newHeadlineFigure(s)
	return drawFigure("headline figure", fig, err, dir, HeadlineBase)
}

// headlineFigure is the data of the headline figure, independent of the output format.
type headlineFigure struct {
	title     string
	caption   string
	ylabel    string // the Y axis label
	workloads []string
	series    []*logBars
	ymin      float64
	ymax      float64
	width     vg.Length
	height    vg.Length
	// slantNames slants the workload names, which are too wide to stand side by side.
	slantNames bool
	// linear sets a linear Y axis from 0 instead of a logarithmic one; yTicks, when set,
	// marks the Y axis instead of durationTicks. The figures of ratios use them.
	linear bool
	yTicks plot.Ticker
	// ref, when positive, is drawn as a dashed horizontal line: the value the bars are
	// relative to.
	ref float64
	// narrow sizes the figure for a column of a two-column paper rather than for a page.
	narrow bool
}

func newHeadlineFigure(s *results.Summary) (*headlineFigure, error) {
	if s == nil {
		return nil, errors.New("nil summary")
	}
	if len(s.Results) == 0 {
		return nil, errors.New("summary has no results")
	}

	// Keep only the workloads and modes that have at least one drawable bar.
	modes := orderModes(s.Modes())
	var workloads []string
	for _, w := range s.Workloads() {
		for _, m := range modes {
			if _, ok := barOf(s, w, m); ok {
				workloads = append(workloads, w)
				break
			}
		}
	}
	modes = slices.DeleteFunc(modes, func(m string) bool {
		for _, w := range workloads {
			if _, ok := barOf(s, w, m); ok {
				return false
			}
		}
		return true
	})
	if len(workloads) == 0 || len(modes) == 0 {
		return nil, errors.New("summary has no result with a positive median latency")
	}

	fig := &headlineFigure{
		title:     "Fresh enclave vs. snapshot rewind",
		ylabel:    yLabel,
		workloads: workloads,
	}
	extra := 0
	missing := map[string][]string{} // per mode, the workloads whose bar has none
	for slot, m := range modes {
		c, ok := modeColors[m]
		if !ok {
			c = extraColors[extra%len(extraColors)]
			extra++
		}
		lb := &logBars{
			name:   m,
			color:  c,
			slot:   slot,
			nSlots: len(modes),
			groups: len(workloads),
		}
		for g, w := range workloads {
			b, ok := barOf(s, w, m)
			if !ok {
				continue
			}
			b.group = g
			lb.bars = append(lb.bars, b)
			if !b.ci {
				missing[m] = append(missing[m], w)
			}
		}
		fig.series = append(fig.series, lb)
	}
	fig.layout()

	caption := append(envCaption(s.Env), whiskerCaption(fig.series, missing))
	if sc := strategyCaption(s.Results); sc != "" {
		caption = append(caption, sc)
	}
	fig.caption = strings.Join(caption, "  ·  ")
	return fig, nil
}

// whiskerCaption returns the note of the headline figure's caption on its bars and whiskers,
// true to what is drawn: a whisker is the median's 95% confidence interval, which needs
// results.MedianCIMinN (6) successful invocations, so the note names the bars drawn without
// one (missing: per mode, the workloads whose bar has none), by mode when a mode has none at
// all ("none on cold"), else as "mode of workload, ...", followed by their n when that is
// why ("none on cold, n = 4"). When no bar has a whisker it does not mention whiskers, unless
// to say that no result had enough invocations for one.
func whiskerCaption(series []*logBars, missing map[string][]string) string {
	total, without, few := 0, 0, 0
	nmin, nmax := math.MaxInt, 0 // of the bars without a whisker
	for _, lb := range series {
		for _, b := range lb.bars {
			total++
			if !b.ci {
				without++
				nmin, nmax = min(nmin, b.n), max(nmax, b.n)
				if b.n < results.MedianCIMinN {
					few++
				}
			}
		}
	}
	switch {
	case without == 0:
		return "bar: median, whiskers: 95% CI of the median"
	case without == total && few == total:
		return fmt.Sprintf("bar: median (no 95%% CI: fewer than %d invocations)", results.MedianCIMinN)
	case without == total:
		return "bar: median"
	}
	var none []string
	for _, lb := range series {
		ws := missing[lb.name]
		switch {
		case len(ws) == 0:
		case len(ws) == len(lb.bars):
			none = append(none, lb.name)
		default:
			none = append(none, lb.name+" of "+strings.Join(ws, ", "))
		}
	}
	list := strings.Join(none, "; ")
	if len(none) > maxCaptionItems {
		list = fmt.Sprintf("%d bars", without)
	}
	switch {
	case few < without: // some lack one for another reason: n would not explain it
	case nmin == nmax:
		list += fmt.Sprintf(", n = %d", nmin)
	default:
		list += fmt.Sprintf(", n = %d–%d", nmin, nmax)
	}
	// No "≥": the PDF's fonts are embedded in Windows-1252, which lacks it (see toCP1252).
	return fmt.Sprintf("bar: median, whiskers: 95%% CI of the median (needs %d invocations; none on %s)", results.MedianCIMinN, list)
}

// maxCaptionItems is the largest number of bars, or modes, a caption names one by one.
const maxCaptionItems = 3

// layout sizes f for its workloads and series, which must have at least one bar: the width,
// the Y range, whether the value labels fit above the bars and whether the workload names
// are slanted.
func (f *headlineFigure) layout() {
	f.height = figHeight
	nSlots := len(f.series)
	nBars := len(f.workloads) * nSlots
	if f.narrow {
		f.height = narrowHeight
		f.width = figFixedWidth + vg.Length(nBars)*narrowPerBar + vg.Length(len(f.workloads))*narrowPerGroup
		f.width = min(max(f.width, columnWidth), textWidth)
	} else {
		f.width = figFixedWidth + vg.Length(nBars)*figPerBar + vg.Length(len(f.workloads))*figPerGroup
		f.width = min(max(f.width, figMinWidth), figMaxWidth)
	}

	lo, hi := math.Inf(1), math.Inf(-1)
	for _, lb := range f.series {
		_, _, ymin, ymax := lb.DataRange()
		lo, hi = min(lo, ymin), max(hi, ymax)
	}
	if f.linear {
		// From zero, with room above the tallest bar (and the reference line) for its label.
		f.ymin, f.ymax = 0, max(hi, f.ref)*1.12
	} else {
		// Decades around the data: at least 0.3 of a decade below the smallest value so
		// that the shortest bar is visible, and a little room above the tallest.
		f.ymin = math.Pow(10, math.Floor(math.Log10(lo)-0.3))
		f.ymax = math.Pow(10, math.Ceil(math.Log10(hi)+0.1))
	}

	// Value labels above the bars, if they fit in a bar's slot at this width.
	labels := textStyle(6.5, textGrey)
	labels.YAlign = draw.YBottom
	groupWidth := (f.width - figFixedWidth) / vg.Length(len(f.workloads))
	slotWidth := min(groupWidth*groupFraction/vg.Length(nSlots), maxSlotWidth)
	fit := true
	for _, lb := range f.series {
		for _, b := range lb.bars {
			if labels.Width(lb.label(b.median)) > slotWidth*0.98 {
				fit = false
			}
		}
	}
	for _, lb := range f.series {
		lb.labels = labels
		lb.showLabels = fit
	}

	// Workload names are slanted when the widest does not fit under its group.
	tick := tickStyle()
	f.slantNames = false
	for _, w := range f.workloads {
		if tick.Width(w) > groupWidth*0.95 {
			f.slantNames = true
		}
	}
}

// orderModes returns modes in the canonical order, unknown modes after, alphabetically.
func orderModes(modes []string) []string { return canonicalOrder(CanonicalModes, modes) }

// barOf returns the bar of workload w in mode m, and whether there is one to draw.
func barOf(s *results.Summary, w, m string) (bar, bool) {
	r := reference(s, w, m, nil)
	if r == nil {
		return bar{}, false
	}
	d := r.LatencyNs
	if !positive(d.P50) {
		return bar{}, false
	}
	b := bar{median: d.P50, n: max(r.N-r.Errors, 0)}
	if d.P50CI95Lo != nil && d.P50CI95Hi != nil {
		lo, hi := *d.P50CI95Lo, *d.P50CI95Hi
		if !math.IsNaN(lo) && positive(hi) && lo <= hi {
			b.ci, b.lo, b.hi = true, lo, hi
		}
	}
	return b, true
}

// plot builds the gonum plot of the figure, without title, caption or legend (see draw).
func (f *headlineFigure) plot() *plot.Plot {
	p := plot.New()
	p.BackgroundColor = nil // the whole canvas is filled by draw

	tick := tickStyle()
	label := axisLabelStyle()

	names := make([]plot.Tick, len(f.workloads))
	for i, w := range f.workloads {
		names[i] = plot.Tick{Value: float64(i), Label: w}
	}
	p.X.Min, p.X.Max = -0.5, float64(len(f.workloads))-0.5
	p.X.Tick.Marker = plot.ConstantTicks(names)
	p.X.Tick.Length = 0
	p.X.Tick.Label = tick
	p.X.Tick.Label.YAlign = draw.YTop
	if f.slantNames {
		// Each name ends under its workload, hanging from an invisible tick that keeps it
		// clear of the axis line.
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YTop
		p.X.Tick.Length = 3
		p.X.Tick.LineStyle = draw.LineStyle{Color: color.Transparent, Width: vg.Points(0.5)}
	}
	p.X.Label.Text = "workload"
	p.X.Label.TextStyle = label
	p.X.Padding = 0

	p.Y.Min, p.Y.Max = f.ymin, f.ymax
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = durationTicks{}
	if f.linear {
		p.Y.Scale = plot.LinearScale{}
	}
	if f.yTicks != nil {
		p.Y.Tick.Marker = f.yTicks
	}
	p.Y.Tick.Label = tick
	p.Y.Tick.Label.XAlign = draw.XRight
	p.Y.Tick.Label.YAlign = draw.YCenter
	// The Y label is drawn by draw: gonum places the glyph box of a centred Y label at the
	// arithmetic middle of the range, near the top on a log axis, and shrinks the plot for it.
	p.Y.Padding = 0

	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal.Color = rgb(0xDD, 0xDD, 0xDD)
	grid.Horizontal.Width = vg.Points(0.5)
	p.Add(grid)
	for _, lb := range f.series {
		p.Add(lb)
	}
	if f.ref > 0 {
		p.Add(&hline{y: f.ref, style: refLineStyle})
	}
	// Adding the bars widened the ranges to their data; restore the figure's.
	p.X.Min, p.X.Max = -0.5, float64(len(f.workloads))-0.5
	p.Y.Min, p.Y.Max = f.ymin, f.ymax
	return p
}

// yLabel is the text of the Y axis label of the headline figure.
const yLabel = "median latency (log scale)"

// size implements figure.
func (f *headlineFigure) size() (width, height vg.Length) { return f.width, f.height }

// draw renders the figure on c: title, caption and legend above the plot.
func (f *headlineFigure) draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	c = draw.Crop(c, 4, -8, 4, -6)

	center := c.Center().X
	y := c.Max.Y

	y -= drawHeader(c, center, y, f.title, f.caption)

	y -= f.drawLegend(c, center, y) + 4

	// The Y label, rotated, left of the plot and centred on its data area.
	label := axisLabelStyle()
	label.Rotation = math.Pi / 2
	lh := label.Height(f.ylabel)
	descent := label.FontExtents().Descent
	pc := draw.Crop(c, lh+descent+4, 0, 0, y-c.Max.Y)
	p := f.plot()
	dc := p.DataCanvas(pc)
	c.FillText(label, vg.Point{X: c.Min.X + lh - descent, Y: dc.Center().Y}, f.ylabel)

	p.Draw(pc)
}

// drawLegend draws the legend as centred rows (one when it fits) whose top is at y, and
// returns their height.
func (f *headlineFigure) drawLegend(c draw.Canvas, center, y vg.Length) vg.Length {
	entries := make([]legendEntry, len(f.series))
	for i, lb := range f.series {
		entries[i] = legendEntry{name: lb.name, thumb: lb, width: vg.Points(8)}
	}
	return drawLegendRows(c, center, y, legendRows(entries, c.Max.X-c.Min.X))
}

// bar is one bar of a logBars: a median with, when ci is set, its 95% confidence interval
// (drawn as a whisker), and n, the number of samples of the median, when known.
type bar struct {
	group  int
	median float64
	ci     bool
	lo, hi float64
	n      int
}

// top returns the value above which the label of b is drawn.
func (b bar) top() float64 {
	if b.ci {
		return max(b.median, b.hi)
	}
	return b.median
}

// logBars draws the bars of one mode of a grouped bar chart on a logarithmic Y axis. Unlike
// plotter.BarChart, which draws bars from zero (a value a log axis cannot show), each bar
// rises from the bottom of the Y axis to its value. Workload g is centred on X = g; the bars
// of its nSlots modes share groupFraction of the distance between two workloads, each mode in
// its slot, a slot being at most maxSlotWidth wide.
//
// logBars implements plot.Plotter, plot.DataRanger, plot.GlyphBoxer (so that value labels are
// not clipped) and plot.Thumbnailer (for the legend).
type logBars struct {
	name         string
	color        color.Color
	slot, nSlots int
	groups       int
	bars         []bar
	labels       text.Style
	showLabels   bool
	// format formats the value labels; nil formats durations ([results.FormatNs]).
	format func(float64) string
}

// label returns the value label of v.
func (lb *logBars) label(v float64) string {
	if lb.format != nil {
		return lb.format(v)
	}
	return results.FormatNs(v)
}

var (
	_ plot.Plotter     = (*logBars)(nil)
	_ plot.DataRanger  = (*logBars)(nil)
	_ plot.GlyphBoxer  = (*logBars)(nil)
	_ plot.Thumbnailer = (*logBars)(nil)
)

// slotWidth returns the width of a mode's slot, given the distance between two workloads.
func (lb *logBars) slotWidth(unit vg.Length) vg.Length {
	return min(unit*groupFraction/vg.Length(lb.nSlots), maxSlotWidth)
}

// offset returns the distance from the centre of a workload to the centre of this mode's bar.
func (lb *logBars) offset(slotWidth vg.Length) vg.Length {
	return (vg.Length(lb.slot) + 0.5 - vg.Length(lb.nSlots)/2) * slotWidth
}

// Plot implements plot.Plotter.
func (lb *logBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	outline := draw.LineStyle{Color: rgb(0x22, 0x22, 0x22), Width: vg.Points(0.4)}
	whisker := draw.LineStyle{Color: color.Black, Width: vg.Points(0.8)}
	clampY := func(v float64) float64 { return min(max(v, p.Y.Min), p.Y.Max) }
	slot := lb.slotWidth(trX(1) - trX(0))
	half := slot * barFraction / 2

	for _, b := range lb.bars {
		x := trX(float64(b.group)) + lb.offset(slot)
		bottom, top := trY(p.Y.Min), trY(clampY(b.median))
		rect := []vg.Point{{X: x - half, Y: bottom}, {X: x - half, Y: top}, {X: x + half, Y: top}, {X: x + half, Y: bottom}}
		c.FillPolygon(lb.color, c.ClipPolygonXY(rect))
		c.StrokeLines(outline, c.ClipLinesXY(append(rect, rect[0]))...)

		if b.ci {
			// A whisker that leaves the axis has no cap on that side.
			ylo, yhi := trY(clampY(b.lo)), trY(clampY(b.hi))
			capw := min(half*0.4, vg.Points(4))
			c.StrokeLine2(whisker, x, ylo, x, yhi)
			if b.lo >= p.Y.Min {
				c.StrokeLine2(whisker, x-capw, ylo, x+capw, ylo)
			}
			if b.hi <= p.Y.Max {
				c.StrokeLine2(whisker, x-capw, yhi, x+capw, yhi)
			}
		}

		if s := lb.label(b.median); lb.showLabels && lb.labels.Width(s) <= slot {
			c.FillText(lb.labels, vg.Point{X: x, Y: trY(clampY(b.top())) + labelGap}, s)
		}
	}
}

// labelGap is the space between the top of a bar (or of its whisker) and its value label.
const labelGap = vg.Length(2)

// DataRange implements plot.DataRanger: the X range of the groups, the Y range of the values.
func (lb *logBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = -0.5, float64(lb.groups)-0.5
	ymin, ymax = math.Inf(1), math.Inf(-1)
	for _, b := range lb.bars {
		ymin, ymax = min(ymin, b.median), max(ymax, b.top())
		if b.ci && b.lo > 0 {
			ymin = min(ymin, b.lo)
		}
	}
	return xmin, xmax, ymin, ymax
}

// GlyphBoxes implements plot.GlyphBoxer: the boxes of the value labels, so that the plot
// leaves room above the tallest bars for their labels. The boxes are centred on their
// workload: the slot offset depends on the canvas, which GlyphBoxes does not know, and only
// their height matters (workloads are half a unit away from the plot's sides).
func (lb *logBars) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	if !lb.showLabels {
		return nil
	}
	var boxes []plot.GlyphBox
	for _, b := range lb.bars {
		s := lb.label(b.median)
		w, h := lb.labels.Width(s), lb.labels.Height(s)
		boxes = append(boxes, plot.GlyphBox{
			X: p.X.Norm(float64(b.group)),
			Y: p.Y.Norm(min(max(b.top(), p.Y.Min), p.Y.Max)),
			Rectangle: vg.Rectangle{
				Min: vg.Point{X: -w / 2, Y: labelGap},
				Max: vg.Point{X: w / 2, Y: labelGap + h},
			},
		})
	}
	return boxes
}

// Thumbnail implements plot.Thumbnailer: a filled square in the mode's colour.
func (lb *logBars) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y},
		{X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y},
	}
	c.FillPolygon(lb.color, pts)
	c.StrokeLines(draw.LineStyle{Color: rgb(0x22, 0x22, 0x22), Width: vg.Points(0.4)}, append(pts, pts[0]))
}
