package plots

import (
	"cmp"
	"errors"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/reclave/reclave/results"
)

// RewindScalingBase is the file name, without extension, of the figure written by
// [RewindScaling].
const RewindScalingBase = "rewind_scaling"

// PageSize is the size of the pages the rewind benchmark dirties, in bytes.
const PageSize = 4096

// CanonicalStrategies is the order in which rewind strategies are drawn and listed in
// legends: from the one that restores the most memory to the one that restores the least.
// Strategies not listed here follow, alphabetically. Read it, do not modify it.
var CanonicalStrategies = []string{"full", "diff", "cow", "tracked"}

// strategyStyles are the fixed colours (Okabe–Ito, colour-blind safe) and markers of the
// strategies; the markers tell the lines apart in greyscale too. tracked, the default
// strategy and so the one behind mode rewind in the headline figure, has rewind's blue. The
// memcpy reference is black.
var strategyStyles = map[string]seriesStyle{
	"full":    {color: rgb(0xE6, 0x9F, 0x00), glyph: draw.BoxGlyph{}},     // orange, square
	"diff":    {color: rgb(0xCC, 0x79, 0xA7), glyph: diamondGlyph{}},      // reddish purple, diamond
	"cow":     {color: rgb(0x00, 0x9E, 0x73), glyph: draw.PyramidGlyph{}}, // bluish green, triangle
	"tracked": {color: rgb(0x00, 0x72, 0xB2), glyph: draw.CircleGlyph{}},  // blue, circle
}

// extraStrategyStyles style strategies outside [CanonicalStrategies], in turn.
var extraStrategyStyles = []seriesStyle{
	{color: rgb(0xD5, 0x5E, 0x00), glyph: draw.RingGlyph{}},     // vermillion, ring
	{color: rgb(0x56, 0xB4, 0xE9), glyph: draw.SquareGlyph{}},   // sky blue, open square
	{color: rgb(0x99, 0x99, 0x99), glyph: draw.TriangleGlyph{}}, // grey, open triangle
	{color: rgb(0x33, 0x33, 0x33), glyph: draw.CrossGlyph{}},    // near black, cross
}

// memcpyName is the legend entry of the memcpy reference.
const memcpyName = "memcpy (lower bound)"

// Geometry of the rewind scaling figure.
const (
	scalingMaxCols     = 4              // panels per row
	scalingPanelWidth  = 1.55 * vg.Inch // per column
	scalingFixedWidth  = 0.8 * vg.Inch  // Y axis, its label and margins
	scalingMinWidth    = 6 * vg.Inch    //
	scalingMaxWidth    = 7 * vg.Inch    // the text width of a two-column paper
	scalingRowHeight   = 2.15 * vg.Inch // per row of panels
	scalingFixedHeight = 1.25 * vg.Inch // title, caption, legend, X label
	scalingPanelGap    = vg.Length(6)   // between two panels
	scalingMinPages    = 1              // the X axis covers at least 1 ...
	scalingMaxPages    = 4096           // ... to 4096 pages
	scalingMargin      = 0.15           // decades of room around the data, at least ...
	scalingMaxMargin   = 0.4            // ... and at most, on the Y axis
	scalingLineWidth   = vg.Length(1.3) // of a strategy's line
	scalingGlyphRadius = vg.Length(2.3) // of its markers
	scalingMemcpyWidth = vg.Length(1.1) // of the memcpy reference
	scalingThumbWidth  = vg.Length(20)  // of a line in the legend
	scalingYLabel      = "median rewind time (log scale)"
	scalingXLabel      = "4 KiB pages dirtied per invocation (log scale)"
)

// RewindScaling writes the rewind scaling figure, the median rewind time of every strategy
// against the number of 4 KiB pages the invocation dirtied, to
// dir/rewind_scaling.{png,svg,pdf}, creating dir if needed, and returns the paths written.
//
// Both axes are logarithmic. There is one panel per linear memory size of the benchmark, side
// by side (in balanced rows of up to four), all on the same axes; in each, one line with
// markers per strategy, and dashed, the time a plain copy of the same dirty pages took in the
// same run (the median, over the strategies' rows, of memcpy_ns_p50): the physical lower
// bound of a rewind. A strategy whose cost grows with the memory size (full, diff) is a flat
// line that climbs from panel to panel; one whose cost grows with the pages dirtied (cow,
// tracked) climbs within a panel and follows the memcpy line at a distance. Where a memory
// has fewer pages than the axis shows, the part of the axis beyond it is shaded.
//
// Rows whose memory size, dirty pages, rewind or memcpy time is not positive are left out of
// the line they belong to (a row with a positive rewind time but no memcpy time still draws
// its rewind point); when a bench holds several rows for one strategy, memory and page count,
// the first one is drawn. A nil bench, or one with no rewind time to draw, is an error, and
// then nothing is written; if writing a file fails, the error comes with the paths written
// before it.
func RewindScaling(b *results.RewindBench, dir string) ([]string, error) {
	fig, err := newScalingFigure(b)
	return drawFigure("rewind scaling figure", fig, err, dir, RewindScalingBase)
}

// seriesStyle is the colour and marker of a line.
type seriesStyle struct {
	color color.Color
	glyph draw.GlyphDrawer
}

// scalingFigure is the data of the rewind scaling figure, independent of the output format.
type scalingFigure struct {
	title, caption         string
	panels                 []scalingPanel
	series                 []legendEntry // the legend
	cols, rows             int
	xmin, xmax, ymin, ymax float64
	// maxPages is the largest page count of the X axis, data or not: panels of a memory
	// with fewer pages shade the part of the axis beyond it.
	maxPages      float64
	width, height vg.Length
}

// scalingPanel is one panel: the lines of one memory size.
type scalingPanel struct {
	memoryBytes int64
	lines       []*logLine // the memcpy reference first, if any, then the strategies
}

func newScalingFigure(b *results.RewindBench) (*scalingFigure, error) {
	if b == nil {
		return nil, errors.New("nil rewind bench")
	}
	if len(b.Rows) == 0 {
		return nil, errors.New("rewind bench has no rows")
	}

	type cell struct {
		memory int64
		pages  int
	}
	rewind := map[string]map[cell]float64{} // per strategy, the first drawable row of a cell
	memcpy := map[cell][]float64{}
	var strategies []string
	var memories []int64
	for _, r := range b.Rows {
		if r.MemoryBytes <= 0 || r.DirtyPages <= 0 {
			continue
		}
		c := cell{r.MemoryBytes, r.DirtyPages}
		if positive(r.MemcpyNsP50) {
			memcpy[c] = append(memcpy[c], r.MemcpyNsP50)
		}
		if !positive(r.RewindNsP50) {
			continue
		}
		if rewind[r.Strategy] == nil {
			rewind[r.Strategy] = map[cell]float64{}
			strategies = append(strategies, r.Strategy)
		}
		if _, dup := rewind[r.Strategy][c]; !dup {
			rewind[r.Strategy][c] = r.RewindNsP50
		}
		if !slices.Contains(memories, r.MemoryBytes) {
			memories = append(memories, r.MemoryBytes)
		}
	}
	if len(strategies) == 0 {
		return nil, errors.New("rewind bench has no row with a positive memory size, page count and rewind time")
	}
	strategies = orderStrategies(strategies)
	slices.Sort(memories)

	fig := &scalingFigure{
		title: "Rewind latency vs. pages dirtied",
		xmin:  scalingMinPages,
		xmax:  scalingMaxPages,
	}
	fig.cols = min(len(memories), scalingMaxCols)
	fig.rows = (len(memories) + fig.cols - 1) / fig.cols
	fig.cols = (len(memories) + fig.rows - 1) / fig.rows // balance the rows
	fig.width = scalingFixedWidth + vg.Length(fig.cols)*scalingPanelWidth
	fig.width = min(max(fig.width, scalingMinWidth), scalingMaxWidth)
	fig.height = scalingFixedHeight + vg.Length(fig.rows)*scalingRowHeight

	styles := map[string]seriesStyle{}
	extra := 0
	for _, s := range strategies {
		st, ok := strategyStyles[s]
		if !ok {
			st = extraStrategyStyles[extra%len(extraStrategyStyles)]
			extra++
		}
		styles[s] = st
	}
	memcpyLine := func() *logLine {
		return &logLine{
			name: memcpyName,
			line: draw.LineStyle{
				Color:  color.Black,
				Width:  scalingMemcpyWidth,
				Dashes: []vg.Length{vg.Points(4), vg.Points(2.5)},
			},
		}
	}
	strategyLine := func(s string) *logLine {
		st := styles[s]
		return &logLine{
			name:  s,
			line:  draw.LineStyle{Color: st.color, Width: scalingLineWidth},
			glyph: draw.GlyphStyle{Color: st.color, Radius: scalingGlyphRadius, Shape: st.glyph},
		}
	}

	lo, hi := math.Inf(1), math.Inf(-1)
	include := func(l *logLine) {
		for _, pt := range l.points {
			fig.xmin, fig.xmax = min(fig.xmin, pt.x), max(fig.xmax, pt.x)
			lo, hi = min(lo, pt.y), max(hi, pt.y)
		}
	}
	anyMemcpy := false
	for _, m := range memories {
		panel := scalingPanel{memoryBytes: m}
		ref := memcpyLine()
		for c, vs := range memcpy {
			if c.memory == m {
				ref.points = append(ref.points, xy{float64(c.pages), median(vs)})
			}
		}
		if len(ref.points) > 0 {
			ref.sortPoints()
			panel.lines = append(panel.lines, ref)
			include(ref)
			anyMemcpy = true
		}
		for _, s := range strategies {
			l := strategyLine(s)
			for c, v := range rewind[s] {
				if c.memory == m {
					l.points = append(l.points, xy{float64(c.pages), v})
				}
			}
			if len(l.points) > 0 {
				l.sortPoints()
				panel.lines = append(panel.lines, l)
				include(l)
			}
		}
		fig.panels = append(fig.panels, panel)
	}

	for _, s := range strategies {
		fig.series = append(fig.series, legendEntry{name: s, thumb: strategyLine(s), width: scalingThumbWidth})
	}
	if anyMemcpy {
		fig.series = append(fig.series, legendEntry{name: memcpyName, thumb: memcpyLine(), width: scalingThumbWidth})
	}

	// Some room around the data; on the Y axis, up to the next decade (so that the end of
	// the axis is labelled) unless that leaves more than scalingMaxMargin empty, or unless
	// the axis would then have fewer than two labels.
	margin := math.Pow(10, scalingMargin)
	fig.maxPages = fig.xmax
	fig.xmin, fig.xmax = fig.xmin/margin, fig.xmax*margin
	lowDecade := math.Floor(math.Log10(lo) - scalingMargin)
	highDecade := math.Ceil(math.Log10(hi) + scalingMargin)
	fig.ymin = max(math.Pow(10, lowDecade), lo/math.Pow(10, scalingMaxMargin))
	fig.ymax = min(math.Pow(10, highDecade), hi*math.Pow(10, scalingMaxMargin))
	if math.Floor(math.Log10(fig.ymax)+1e-9)-math.Ceil(math.Log10(fig.ymin)-1e-9) < 1 {
		fig.ymin, fig.ymax = math.Pow(10, lowDecade), math.Pow(10, highDecade)
	}

	// The environment on a line, what is drawn on the next: on one line they are wider than
	// the figure.
	notes := []string{"points: median rewind time"}
	if anyMemcpy {
		notes = append(notes, "dashed: median memcpy of the same pages")
	}
	fig.caption = strings.Join(notes, "  ·  ")
	if env := envCaption(b.Env); len(env) > 0 {
		fig.caption = strings.Join(env, "  ·  ") + "\n" + fig.caption
	}
	return fig, nil
}

// orderStrategies returns strategies in the canonical order, unknown ones after,
// alphabetically.
func orderStrategies(strategies []string) []string {
	return canonicalOrder(CanonicalStrategies, strategies)
}

// median returns the median of vs, which is not empty.
func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// formatBytes formats a memory size in binary units: "1 MiB", "1.5 GiB", "512 KiB".
func formatBytes(n int64) string {
	v := float64(n)
	for _, u := range []string{"B", "KiB", "MiB", "GiB"} {
		if v < 1024 || u == "GiB" {
			return strconv.FormatFloat(v, 'f', -1, 64) + " " + u
		}
		v /= 1024
	}
	panic("unreachable")
}

// size implements figure.
func (f *scalingFigure) size() (width, height vg.Length) { return f.width, f.height }

// plot builds the gonum plot of panel i, without its title (see draw).
func (f *scalingFigure) plot(i int) *plot.Plot {
	panel := f.panels[i]
	p := plot.New()
	p.BackgroundColor = nil // the whole canvas is filled by draw

	tick := tickStyle()
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = pageTicks{}
	p.X.Tick.Label = tick
	p.X.Padding = 0
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = durationTicks{}
	p.Y.Tick.Label = tick
	p.Y.Tick.Label.XAlign = draw.XRight
	p.Y.Tick.Label.YAlign = draw.YCenter
	p.Y.Padding = 0
	if i%f.cols != 0 {
		// The panels of a row share the Y axis: only the first one is labelled, the others
		// only mark the decades.
		p.Y.Tick.Marker = majorOnly{durationTicks{}}
	}

	if pages := float64(panel.memoryBytes) / PageSize; pages < f.maxPages {
		p.Add(&beyond{from: pages, label: "beyond memory"})
	}
	p.Add(&gridLines{x: pageTicks{}, y: durationTicks{}})
	for _, l := range panel.lines {
		p.Add(l)
	}
	// Adding the lines widened the ranges to their data; restore the figure's.
	p.X.Min, p.X.Max = f.xmin, f.xmax
	p.Y.Min, p.Y.Max = f.ymin, f.ymax
	return p
}

// draw renders the figure on c: title, caption and legend above the panels, a shared Y label
// left of them and a shared X label below them.
func (f *scalingFigure) draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	c = draw.Crop(c, 4, -8, 4, -6)

	center := c.Center().X
	y := c.Max.Y
	y -= drawHeader(c, center, y, f.title, f.caption)
	y -= drawLegendRow(c, center, y, f.series) + 6

	drawPanelGrid(c, y, panelGrid{
		rows: f.rows, cols: f.cols, n: len(f.panels), gap: scalingPanelGap,
		plot:   f.plot,
		title:  func(i int) string { return formatBytes(f.panels[i].memoryBytes) + " memory" },
		ylabel: scalingYLabel, xlabel: scalingXLabel,
	})
}

// xy is a point of a logLine, in data units.
type xy struct{ x, y float64 }

// logLine is a line through points (X: pages, Y: ns), with a marker on every point when
// glyph has a shape.
//
// logLine implements plot.Plotter, plot.DataRanger and plot.Thumbnailer (for the legend).
type logLine struct {
	name   string
	points []xy
	line   draw.LineStyle
	glyph  draw.GlyphStyle
}

var (
	_ plot.Plotter     = (*logLine)(nil)
	_ plot.DataRanger  = (*logLine)(nil)
	_ plot.Thumbnailer = (*logLine)(nil)
)

func (l *logLine) sortPoints() {
	slices.SortFunc(l.points, func(a, b xy) int { return cmp.Compare(a.x, b.x) })
}

// Plot implements plot.Plotter.
func (l *logLine) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	pts := make([]vg.Point, len(l.points))
	for i, pt := range l.points {
		pts[i] = vg.Point{X: trX(pt.x), Y: trY(pt.y)}
	}
	if len(pts) > 1 {
		c.StrokeLines(l.line, c.ClipLinesXY(pts)...)
	}
	if l.glyph.Shape == nil {
		return
	}
	for _, pt := range pts {
		if c.Contains(pt) {
			c.DrawGlyph(l.glyph, pt)
		}
	}
}

// DataRange implements plot.DataRanger.
func (l *logLine) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, pt := range l.points {
		xmin, xmax = min(xmin, pt.x), max(xmax, pt.x)
		ymin, ymax = min(ymin, pt.y), max(ymax, pt.y)
	}
	return xmin, xmax, ymin, ymax
}

// Thumbnail implements plot.Thumbnailer: a stretch of the line with a marker in its middle.
func (l *logLine) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(l.line, c.Min.X, y, c.Max.X, y)
	if l.glyph.Shape != nil {
		c.DrawGlyph(l.glyph, c.Center())
	}
}

// diamondGlyph is a filled diamond, a square on its corner of the area of a BoxGlyph.
type diamondGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (diamondGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius * 1.15
	var p vg.Path
	p.Move(vg.Point{X: pt.X, Y: pt.Y + r})
	p.Line(vg.Point{X: pt.X + r, Y: pt.Y})
	p.Line(vg.Point{X: pt.X, Y: pt.Y - r})
	p.Line(vg.Point{X: pt.X - r, Y: pt.Y})
	p.Close()
	c.Fill(p)
}

// pageTicks marks a logarithmic axis of page counts: a labelled tick at every power of 16 (1,
// 16, 256, 4096), or of 2 on a short axis, and unlabelled minor ticks at the powers of 4 (or
// 2) in between.
type pageTicks struct{}

// Ticks implements plot.Ticker.
func (pageTicks) Ticks(lo, hi float64) []plot.Tick {
	if !positive(lo) || !positive(hi) || lo >= hi {
		return nil
	}
	major, minor := 16.0, 4.0
	if math.Log(hi/lo)/math.Log(16) < 2 {
		major, minor = 2, 2
	}
	var ticks []plot.Tick
	for v := math.Pow(minor, math.Ceil(math.Log(lo)/math.Log(minor)-1e-9)); v <= hi*(1+1e-9); v *= minor {
		t := plot.Tick{Value: v}
		if e := math.Log(v) / math.Log(major); math.Abs(e-math.Round(e)) < 1e-9 {
			t.Label = strconv.FormatFloat(v, 'f', -1, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// majorOnly keeps the major ticks of a ticker, without their labels, for an axis shared
// with a labelled one.
type majorOnly struct{ plot.Ticker }

// Ticks implements plot.Ticker.
func (m majorOnly) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for _, t := range m.Ticker.Ticks(lo, hi) {
		if !t.IsMinor() {
			ticks = append(ticks, plot.Tick{Value: t.Value})
		}
	}
	return ticks
}

// gridLines draws light lines at the labelled ticks of x and y, whatever the axes label.
type gridLines struct{ x, y plot.Ticker }

// Plot implements plot.Plotter.
func (g *gridLines) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := draw.LineStyle{Color: rgb(0xDD, 0xDD, 0xDD), Width: vg.Points(0.5)}
	for _, t := range g.x.Ticks(p.X.Min, p.X.Max) {
		if x := trX(t.Value); !t.IsMinor() && x >= c.Min.X && x <= c.Max.X {
			c.StrokeLine2(sty, x, c.Min.Y, x, c.Max.Y)
		}
	}
	for _, t := range g.y.Ticks(p.Y.Min, p.Y.Max) {
		if y := trY(t.Value); !t.IsMinor() && y >= c.Min.Y && y <= c.Max.Y {
			c.StrokeLine2(sty, c.Min.X, y, c.Max.X, y)
		}
	}
}

// beyond shades the part of a panel right of X = from: page counts the memory of the panel
// does not have.
type beyond struct {
	from  float64
	label string
}

// Plot implements plot.Plotter.
func (b *beyond) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x := max(trX(max(b.from, p.X.Min)), c.Min.X)
	if x >= c.Max.X {
		return
	}
	rect := []vg.Point{{X: x, Y: c.Min.Y}, {X: x, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
	c.FillPolygon(rgb(0xF2, 0xF2, 0xF2), rect)

	sty := textStyle(6.5, rgb(0x88, 0x88, 0x88))
	sty.Rotation = math.Pi / 2
	sty.YAlign = draw.YCenter
	if sty.Height(b.label) < (c.Max.X-x)*0.9 {
		c.FillText(sty, vg.Point{X: (x + c.Max.X) / 2, Y: (c.Min.Y + c.Max.Y) / 2}, b.label)
	}
}
