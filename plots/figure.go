package plots

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"

	"github.com/reclave/reclave/results"
)

// This file holds what the figures of the package share: output formats, typography, the
// header (title and caption), the legend row and the duration ticks.

// formats are the formats every figure is written in, in the order of the paths returned.
var formats = []string{"png", "svg", "pdf"}

// PNGDPI is the resolution of the PNG files written by this package.
const PNGDPI = 300

func rgb(r, g, b uint8) color.Color { return color.RGBA{R: r, G: g, B: b, A: 0xFF} }

var (
	sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	textGrey = rgb(0x44, 0x44, 0x44)
)

// textStyle returns a centred, top-aligned style of the regular sans-serif font. Bold and
// italic are not used: the PDF backend of gonum/plot v0.17 cannot select them.
func textStyle(size vg.Length, c color.Color) text.Style {
	return text.Style{
		Color:   c,
		Font:    font.From(sansFont, size),
		XAlign:  draw.XCenter,
		YAlign:  draw.YTop,
		Handler: plot.DefaultTextHandler,
	}
}

func tickStyle() text.Style { return textStyle(8, color.Black) }

func axisLabelStyle() text.Style {
	sty := textStyle(9, color.Black)
	sty.YAlign = draw.YBottom
	return sty
}

func positive(v float64) bool { return v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) }

// figure is a figure ready to be drawn, independent of the output format.
type figure interface {
	// size returns the size of the figure.
	size() (width, height vg.Length)
	// draw renders the whole figure, background included, on c.
	draw(c draw.Canvas)
}

// drawFigure writes fig as dir/base.{png,svg,pdf}, or returns buildErr, the error that kept
// the figure from being prepared; errors are prefixed with what. Nothing is written, not even
// dir, when the figure could not be prepared.
func drawFigure(what string, fig figure, buildErr error, dir, base string) ([]string, error) {
	if buildErr != nil {
		return nil, fmt.Errorf("%s: %w", what, buildErr)
	}
	paths, err := writeFigure(fig, dir, base, formats)
	if err != nil {
		return paths, fmt.Errorf("%s: %w", what, err)
	}
	return paths, nil
}

// writeFigure writes f to dir/base.EXT for every format of formats (EXT being the format),
// creating dir if needed, and returns the paths written; if writing a file fails, the error
// comes with the paths written before it.
func writeFigure(f figure, dir, base string, formats []string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, format := range formats {
		path := filepath.Join(dir, base+"."+format)
		if err := saveFigure(f, path, format); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// saveFigure writes f in format to path.
func saveFigure(f figure, path, format string) (err error) {
	w, h := f.size()
	var cw vg.CanvasWriterTo
	switch format {
	case "png":
		cw = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(PNGDPI))}
	case "svg":
		cw = vgsvg.New(w, h)
	case "pdf":
		cw = cp1252Canvas{vgpdf.New(w, h)}
	default:
		return fmt.Errorf("unsupported format %q", format)
	}
	if err := drawSafely(f, cw); err != nil {
		return fmt.Errorf("draw %s: %w", path, err)
	}
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write figure: %w", err)
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write figure: %w", cerr)
		}
	}()
	if _, err := cw.WriteTo(out); err != nil {
		return fmt.Errorf("write figure %s: %w", path, err)
	}
	return nil
}

// drawSafely draws f on cw, turning a panic of the plotting library (which panics rather than
// returning errors, for instance on a font it cannot load) into an error.
func drawSafely(f figure, cw vg.CanvasWriterTo) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plot library: %v", r)
		}
	}()
	f.draw(draw.New(cw))
	return nil
}

// drawHeader draws the title and, under it, the caption, centred on center with the top of
// the title at y, and returns the height they take, the space before what follows included.
func drawHeader(c draw.Canvas, center, y vg.Length, title, caption string) vg.Length {
	top := y
	ts := textStyle(11.5, color.Black)
	c.FillText(ts, vg.Point{X: center, Y: y}, title)
	y -= ts.Height(title) + 4

	cs := textStyle(8, textGrey)
	c.FillText(cs, vg.Point{X: center, Y: y}, caption)
	y -= cs.Height(caption) + 6
	return top - y
}

// legendEntry is one entry of a legend row: a thumbnail width wide, then the name.
type legendEntry struct {
	name  string
	thumb plot.Thumbnailer
	width vg.Length
}

// Geometry of a legend row: the height of the thumbnails, the space between a thumbnail and
// its name, and between an entry and the next.
const (
	legendSwatchHeight = vg.Length(8)
	legendGap          = vg.Length(3)
	legendSpacing      = vg.Length(14)
)

// legendTextStyle is the style of the names of a legend.
func legendTextStyle() text.Style {
	sty := textStyle(8.5, color.Black)
	sty.XAlign = draw.XLeft
	sty.YAlign = draw.YCenter
	return sty
}

// drawLegendRow draws entries as one row centred on center whose top is at y, and returns its
// height.
func drawLegendRow(c draw.Canvas, center, y vg.Length, entries []legendEntry) vg.Length {
	sty := legendTextStyle()
	swatch := legendSwatchHeight
	gap := legendGap
	spacing := legendSpacing

	var total vg.Length
	for i, e := range entries {
		if i > 0 {
			total += spacing
		}
		total += e.width + gap + sty.Width(e.name)
	}
	h := max(swatch, sty.Height("Xg"))
	x := center - total/2
	for _, e := range entries {
		box := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: x, Y: y - h/2 - swatch/2},
			Max: vg.Point{X: x + e.width, Y: y - h/2 + swatch/2},
		}}
		e.thumb.Thumbnail(&box)
		x += e.width + gap
		c.FillText(sty, vg.Point{X: x, Y: y - h/2}, e.name)
		x += sty.Width(e.name) + spacing
	}
	return h
}

// durationTicks marks a logarithmic axis of nanoseconds: a labelled tick at every power of
// ten ("1 µs", "10 µs", "100 µs", "1 ms", ...) and unlabelled minor ticks in between.
type durationTicks struct{}

// Ticks implements plot.Ticker.
func (durationTicks) Ticks(lo, hi float64) []plot.Tick {
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
				t.Label = results.FormatNs(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// cp1252Canvas passes text to the PDF canvas in the Windows-1252 encoding its fonts are
// embedded with: gonum/plot v0.17 hands it UTF-8, which turns "µs" into "Âµs". Runes outside
// Windows-1252 become '?'.
type cp1252Canvas struct {
	*vgpdf.Canvas
}

// FillString implements vg.Canvas.
func (c cp1252Canvas) FillString(f font.Face, pt vg.Point, s string) {
	c.Canvas.FillString(f, pt, toCP1252(s))
}

// toCP1252 encodes s in Windows-1252; runes it lacks become its substitute byte.
func toCP1252(s string) string {
	out, err := encoding.ReplaceUnsupported(charmap.Windows1252.NewEncoder()).String(s)
	if err != nil {
		return s
	}
	return out
}

// canonicalOrder returns items in the order of canonical, the others after, alphabetically.
func canonicalOrder(canonical, items []string) []string {
	rank := func(s string) int {
		if i := slices.Index(canonical, s); i >= 0 {
			return i
		}
		return len(canonical)
	}
	out := slices.Clone(items)
	slices.SortStableFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
	})
	return out
}

// envCaption starts a figure's caption: "simulated SGX (no hardware)" when the data are
// simulated, and the backend.
func envCaption(env results.Env) []string {
	var caption []string
	if env.Simulated {
		caption = append(caption, "simulated SGX (no hardware)")
	}
	if env.Backend != "" {
		caption = append(caption, "backend: "+env.Backend)
	}
	return caption
}

// Widths of the figures sized for a paper: a column and the text width of a two-column
// paper. The figures of one panel are a column wide, those of several panels up to the text
// width; their text (8 to 11.5 points) stays readable when printed at that size.
const (
	columnWidth = 3.4 * vg.Inch
	textWidth   = 7 * vg.Inch
)

// Geometry of a bar chart sized for a column (headlineFigure.narrow).
const (
	narrowHeight   = 2.8 * vg.Inch
	narrowPerBar   = 0.17 * vg.Inch
	narrowPerGroup = 0.12 * vg.Inch
)

// refLineStyle is the style of a reference line: dashed black.
var refLineStyle = draw.LineStyle{Color: color.Black, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(4), vg.Points(2.5)}}

// hline draws a horizontal line across the plot at Y = y.
type hline struct {
	y     float64
	style draw.LineStyle
}

// Plot implements plot.Plotter.
func (h *hline) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	if h.y < p.Y.Min || h.y > p.Y.Max {
		return
	}
	y := trY(h.y)
	c.StrokeLine2(h.style, c.Min.X, y, c.Max.X, y)
}

// legendRows splits entries into rows no wider than width, in order; every row has at least
// one entry.
func legendRows(entries []legendEntry, width vg.Length) [][]legendEntry {
	sty := legendTextStyle()
	var rows [][]legendEntry
	var row []legendEntry
	var used vg.Length
	for _, e := range entries {
		w := e.width + legendGap + sty.Width(e.name)
		if len(row) > 0 && used+legendSpacing+w > width {
			rows = append(rows, row)
			row, used = nil, 0
		}
		if len(row) > 0 {
			used += legendSpacing
		}
		row = append(row, e)
		used += w
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	return rows
}

// legendRowHeight is the height of a row of a legend, the gap between two rows included.
func legendRowHeight() vg.Length {
	return max(legendSwatchHeight, legendTextStyle().Height("Xg")) + legendRowGap
}

// legendRowGap is the space between two rows of a legend.
const legendRowGap = vg.Length(3)

// drawLegendRows draws rows (see legendRows), each centred on center, the top of the first
// at y, and returns their height.
func drawLegendRows(c draw.Canvas, center, y vg.Length, rows [][]legendEntry) vg.Length {
	top := y
	for i, row := range rows {
		if i > 0 {
			y -= legendRowGap
		}
		y -= drawLegendRow(c, center, y, row)
	}
	return top - y
}

// formatRatio formats a ratio near 1 with two decimals, so that an overhead of a few percent
// shows: "0.98×", "1.00×", "1.04×"; from 10 on, like the tables ([results.FormatRatio]: three
// significant digits), "12.5×", "37×", "1.23k×". Never more than three significant digits.
func formatRatio(x float64) string {
	if r := math.Round(x*100) / 100; r < 10 {
		return strconv.FormatFloat(r, 'f', 2, 64) + "×"
	}
	return results.FormatRatio(x)
}

// ratioTicks marks a linear axis of ratios at multiples of a round step (0.1, 0.2, 0.25, 0.5,
// 1, 2, 5, 10, ...: the first that gives at most ratioMaxTicks labels), so that 1× is always
// labelled: "0×", "0.5×", "1×", "1.5×", ...
type ratioTicks struct{}

// ratioMaxTicks is the largest number of labelled ticks of ratioTicks.
const ratioMaxTicks = 6

// Ticks implements plot.Ticker.
func (ratioTicks) Ticks(lo, hi float64) []plot.Tick {
	if hi <= lo || math.IsNaN(lo) || math.IsInf(lo, 0) || math.IsNaN(hi) || math.IsInf(hi, 0) {
		return nil
	}
	var step float64
	for e := math.Floor(math.Log10(hi-lo)) - 1; step == 0; e++ {
		for _, m := range []float64{1, 2, 2.5, 5} {
			if s := m * math.Pow(10, e); (hi-lo)/s <= ratioMaxTicks {
				step = s
				break
			}
		}
	}
	var ticks []plot.Tick
	for k := math.Ceil(lo/step - 1e-9); k*step <= hi*(1+1e-9); k++ {
		v := k * step
		if v == 0 {
			v = 0 // not -0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', 4, 64) + "×"})
	}
	return ticks
}

// captionText returns the caption of a figure: the environment (see envCaption) and then
// notes on one line, separated by dots, or, for a narrow figure, the environment on the
// first line and every note on a line of its own.
func captionText(env results.Env, narrow bool, notes ...string) string {
	if !narrow {
		return strings.Join(append(envCaption(env), notes...), "  ·  ")
	}
	var lines []string
	if e := envCaption(env); len(e) > 0 {
		lines = append(lines, strings.Join(e, "  ·  "))
	}
	return strings.Join(append(lines, notes...), "\n")
}
