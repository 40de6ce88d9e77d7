package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// panelsFigure is a figure of line panels, one per workload, side by side on the same axes,
// with one legend for all: the layout of the cdf and throughput figures. One panel is a
// column wide (columnWidth); more are laid out in balanced rows of up to panelsMaxCols, up
// to the text width of a two-column paper.
type panelsFigure struct {
	title, caption string
	xlabel, ylabel string
	panels         []linePanel
	legend         []legendEntry
	x, y           axisSpec
	cols, rows     int
	legendRows     [][]legendEntry
	width, height  vg.Length
}

// linePanel is one panel of a panelsFigure: its title (a workload) and its lines.
type linePanel struct {
	title string
	lines []*logLine
}

// axisSpec is an axis of the panels: its range, scale and ticks.
type axisSpec struct {
	min, max float64
	log      bool
	ticks    plot.Ticker
}

// Geometry of a panelsFigure.
const (
	panelsMaxCols     = 3
	panelsColWidth    = 2.1 * vg.Inch  // per column
	panelsFixedWidth  = 0.75 * vg.Inch // Y axis, its label and margins
	panelsRowHeight   = 1.85 * vg.Inch // per row of panels
	panelsFixedHeight = 0.95 * vg.Inch // title, caption (one line), X label; the legend adds its rows
	panelsGap         = vg.Length(8)   // between two panels
	panelsTitleGap    = vg.Length(3)   // between a panel and its title
	panelsXLabelGap   = vg.Length(3)   // between the X tick labels and the X label
	panelsLineWidth   = vg.Length(1.2)
	panelsGlyphRadius = vg.Length(2.2)
	panelsThumbWidth  = vg.Length(18)
)

// layout sizes f for its panels and legend.
func (f *panelsFigure) layout() {
	n := len(f.panels)
	f.cols = min(n, panelsMaxCols)
	f.rows = (n + f.cols - 1) / f.cols
	f.cols = (n + f.rows - 1) / f.rows // balance the rows
	f.width = panelsFixedWidth + vg.Length(f.cols)*panelsColWidth
	f.width = min(max(f.width, columnWidth), textWidth)
	f.legendRows = legendRows(f.legend, f.width-vg.Points(16))
	f.height = panelsFixedHeight + vg.Length(f.rows)*panelsRowHeight +
		vg.Length(len(f.legendRows))*legendRowHeight()
	f.height += vg.Length(lineCount(f.caption)-1) * textStyle(8, textGrey).Height("Xg")
}

// lineCount returns the number of lines of s.
func lineCount(s string) int {
	n := 1
	for _, r := range s {
		if r == '\n' {
			n++
		}
	}
	return n
}

// size implements figure.
func (f *panelsFigure) size() (width, height vg.Length) { return f.width, f.height }

// plot builds the gonum plot of panel i, without its title (see draw).
func (f *panelsFigure) plot(i int) *plot.Plot {
	p := plot.New()
	p.BackgroundColor = nil // the whole canvas is filled by draw

	tick := tickStyle()
	setAxis := func(a *plot.Axis, spec axisSpec) {
		a.Scale = plot.LinearScale{}
		if spec.log {
			a.Scale = plot.LogScale{}
		}
		a.Tick.Marker = spec.ticks
		a.Tick.Label = tick
		a.Padding = 0
	}
	setAxis(&p.X, f.x)
	setAxis(&p.Y, f.y)
	p.Y.Tick.Label.XAlign = draw.XRight
	p.Y.Tick.Label.YAlign = draw.YCenter
	if i%f.cols != 0 {
		// The panels of a row share the Y axis: only the first one is labelled.
		p.Y.Tick.Marker = majorOnly{f.y.ticks}
	}

	p.Add(&gridLines{x: f.x.ticks, y: f.y.ticks})
	for _, l := range f.panels[i].lines {
		p.Add(l)
	}
	// Adding the lines widened the ranges to their data; restore the figure's.
	p.X.Min, p.X.Max = f.x.min, f.x.max
	p.Y.Min, p.Y.Max = f.y.min, f.y.max
	return p
}

// draw renders the figure on c: title, caption and legend above the panels, a shared Y label
// left of them and a shared X label below them.
func (f *panelsFigure) draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	c = draw.Crop(c, 4, -8, 4, -6)

	center := c.Center().X
	y := c.Max.Y
	y -= drawHeader(c, center, y, f.title, f.caption)
	y -= drawLegendRows(c, center, y, f.legendRows) + 6

	yl := axisLabelStyle()
	yl.Rotation = math.Pi / 2
	lh := yl.Height(f.ylabel)
	descent := yl.FontExtents().Descent
	xl := axisLabelStyle()
	xlh := xl.Height(f.xlabel)
	titles := textStyle(8.5, color.Black)
	titles.YAlign = draw.YBottom
	th := titles.Height("Xg") + panelsTitleGap

	pc := draw.Crop(c, lh+descent+4, 0, xlh+panelsXLabelGap, y-c.Max.Y)
	grid := make([][]*plot.Plot, f.rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, f.cols)
		for col := range grid[r] {
			if i := r*f.cols + col; i < len(f.panels) {
				grid[r][col] = f.plot(i)
			}
		}
	}
	tiles := draw.Tiles{Rows: f.rows, Cols: f.cols, PadX: panelsGap, PadY: th + 10, PadTop: th}
	canvases := plot.Align(grid, tiles, pc)

	var left, right, bottom vg.Length = math.MaxFloat32, -math.MaxFloat32, math.MaxFloat32
	var top vg.Length = -math.MaxFloat32
	for r, row := range grid {
		for col, p := range row {
			if p == nil {
				continue
			}
			pc := canvases[r][col]
			dc := p.DataCanvas(pc)
			left, right = min(left, dc.Min.X), max(right, dc.Max.X)
			bottom, top = min(bottom, dc.Min.Y), max(top, dc.Max.Y)
			p.Draw(pc)
			c.FillText(titles, vg.Point{X: dc.Center().X, Y: dc.Max.Y + panelsTitleGap}, f.panels[r*f.cols+col].title)
		}
	}

	c.FillText(yl, vg.Point{X: c.Min.X + lh - descent, Y: (bottom + top) / 2}, f.ylabel)
	xl.YAlign = draw.YBottom
	c.FillText(xl, vg.Point{X: (left + right) / 2, Y: c.Min.Y}, f.xlabel)
}

// modeStyles returns the line style of every mode of modes (in canonical order): the colours
// of the headline figure and a marker per mode, so that the lines are told apart in
// greyscale too.
func modeStyles(modes []string) map[string]seriesStyle {
	glyphs := map[string]draw.GlyphDrawer{
		"cold":          draw.BoxGlyph{},
		"reinstantiate": draw.PyramidGlyph{},
		"rewind":        draw.CircleGlyph{},
		"warm":          diamondGlyph{},
	}
	extraGlyphs := []draw.GlyphDrawer{draw.RingGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}}
	out := map[string]seriesStyle{}
	extra := 0
	for _, m := range orderModes(modes) {
		c, ok := modeColors[m]
		g, gok := glyphs[m]
		if !ok || !gok {
			c = extraColors[extra%len(extraColors)]
			g = extraGlyphs[extra%len(extraGlyphs)]
			extra++
		}
		out[m] = seriesStyle{color: c, glyph: g}
	}
	return out
}

// modeLine returns an empty line of mode m in style st, with markers when glyphs is set.
func modeLine(m string, st seriesStyle, glyphs bool) *logLine {
	l := &logLine{name: m, line: draw.LineStyle{Color: st.color, Width: panelsLineWidth}}
	if glyphs {
		l.glyph = draw.GlyphStyle{Color: st.color, Radius: panelsGlyphRadius, Shape: st.glyph}
	}
	return l
}
