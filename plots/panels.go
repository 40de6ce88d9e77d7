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

	drawPanelGrid(c, y, panelGrid{
		rows: f.rows, cols: f.cols, n: len(f.panels), gap: panelsGap,
		plot:   f.plot,
		title:  func(i int) string { return f.panels[i].title },
		ylabel: f.ylabel, xlabel: f.xlabel,
	})
}

// panelGrid describes the panels of a figure laid out in a grid below its header: n panels
// of rows × cols, gap apart, each drawn by plot(i) with title(i) above it, and a Y label and
// an X label shared by all.
type panelGrid struct {
	rows, cols, n  int
	gap            vg.Length
	plot           func(i int) *plot.Plot
	title          func(i int) string
	ylabel, xlabel string
}

// Gaps of every panel grid.
const (
	panelTitleGap  = vg.Length(3) // between a panel and its title
	panelXLabelGap = vg.Length(3) // between the X tick labels and the X label
)

// drawPanelGrid draws g's panels on c below y, aligned so that their data areas line up, each
// titled, with the shared Y label left of them and the shared X label below them.
func drawPanelGrid(c draw.Canvas, y vg.Length, g panelGrid) {
	yl := axisLabelStyle()
	yl.Rotation = math.Pi / 2
	lh := yl.Height(g.ylabel)
	descent := yl.FontExtents().Descent
	xl := axisLabelStyle()
	xlh := xl.Height(g.xlabel)
	titles := textStyle(8.5, color.Black)
	titles.YAlign = draw.YBottom
	th := titles.Height("Xg") + panelTitleGap

	// Room for the labels on the left and at the bottom, for the panel titles on top of
	// every row.
	pc := draw.Crop(c, lh+descent+4, 0, xlh+panelXLabelGap, y-c.Max.Y)
	grid := make([][]*plot.Plot, g.rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, g.cols)
		for col := range grid[r] {
			if i := r*g.cols + col; i < g.n {
				grid[r][col] = g.plot(i)
			}
		}
	}
	tiles := draw.Tiles{Rows: g.rows, Cols: g.cols, PadX: g.gap, PadY: th + 10, PadTop: th}
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
			c.FillText(titles, vg.Point{X: dc.Center().X, Y: dc.Max.Y + panelTitleGap}, g.title(r*g.cols+col))
		}
	}

	c.FillText(yl, vg.Point{X: c.Min.X + lh - descent, Y: (bottom + top) / 2}, g.ylabel)
	xl.YAlign = draw.YBottom
	c.FillText(xl, vg.Point{X: (left + right) / 2, Y: c.Min.Y}, g.xlabel)
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
