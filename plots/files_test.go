package plots

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gonum.org/v1/plot/vg"
)

// checkFigureFiles checks that paths are dir/base.{png,svg,pdf}, each non-empty, the PNG
// decodable and the PDF a PDF; it returns the files by extension and the PNG's bounds.
func checkFigureFiles(t *testing.T, paths []string, dir, base string) (map[string][]byte, image.Rectangle) {
	t.Helper()
	want := []string{
		filepath.Join(dir, base+".png"),
		filepath.Join(dir, base+".svg"),
		filepath.Join(dir, base+".pdf"),
	}
	if !slices.Equal(paths, want) {
		t.Fatalf("paths = %q, want %q", paths, want)
	}
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			t.Fatalf("%s is empty", p)
		}
		files[filepath.Ext(p)] = b
	}
	img, err := png.Decode(bytes.NewReader(files[".png"]))
	if err != nil {
		t.Fatalf("decode PNG: %v", err)
	}
	if !bytes.HasPrefix(files[".pdf"], []byte("%PDF-")) {
		t.Errorf("PDF does not start with %%PDF-")
	}
	return files, img.Bounds()
}

// checkDrawsNothing checks that draw fails on input it cannot draw, returns no paths and
// creates no folder.
func checkDrawsNothing(t *testing.T, draw func(dir string) ([]string, error)) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out")
	paths, err := draw(dir)
	if err == nil {
		t.Fatalf("drawn as %q, nil; want an error", paths)
	}
	if len(paths) != 0 {
		t.Errorf("paths = %q, want none", paths)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("created %s for input it cannot draw", dir)
	}
}

// svgOf renders fig as SVG, the cheapest format, and returns it.
func svgOf(t *testing.T, fig figure) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fig.svg")
	if err := saveFigure(fig, path, "svg"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pngSize returns the size in pixels of the PNG of fig.
func pngSize(fig figure) (width, height int) {
	w, h := fig.size()
	return int(math.Round(float64(w/vg.Inch) * PNGDPI)), int(math.Round(float64(h/vg.Inch) * PNGDPI))
}

// TestFigureFiles writes every figure in every format through its exported function, once
// (PNG and PDF are slow to write: the other tests check the SVG and the size), and checks the
// files and the PNG's size.
func TestFigureFiles(t *testing.T) {
	env := sweep(true).Env
	tests := []struct {
		base  string
		draw  func(dir string) ([]string, error)
		fig   func() (figure, error)
		width int // pixels, 0: not checked
	}{
		{HeadlineBase, func(dir string) ([]string, error) { return Headline(fourModes(true), dir) },
			func() (figure, error) { return nilIfErr(newHeadlineFigure(fourModes(true))) }, 1800},
		{BreakdownBase, func(dir string) ([]string, error) { return Breakdown(sweep(true), dir) },
			func() (figure, error) { return nilIfErr(newBreakdownFigure(sweep(true))) }, columnPixels},
		{CDFBase, func(dir string) ([]string, error) { return CDF(runRecords(), env, dir) },
			func() (figure, error) { return nilIfErr(newCDFFigure(runRecords(), env)) }, textPixels},
		{RewindScalingBase, func(dir string) ([]string, error) { return RewindScaling(realisticBench(true), dir) },
			func() (figure, error) { return nilIfErr(newScalingFigure(realisticBench(true))) }, textPixels},
		{ThroughputBase, func(dir string) ([]string, error) { return Throughput(sweep(true), dir) },
			func() (figure, error) { return nilIfErr(newThroughputFigure(sweep(true))) }, 0},
		{OverheadBase, func(dir string) ([]string, error) { return Overhead(sweep(true), dir) },
			func() (figure, error) { return nilIfErr(newOverheadFigure(sweep(true))) }, columnPixels},
		{AttestationBase, func(dir string) ([]string, error) { return Attestation(attested(true), dir) },
			func() (figure, error) { return nilIfErr(newAttestationFigure(attested(true))) }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "figs", "nested") // created by the function
			paths, err := tt.draw(dir)
			if err != nil {
				t.Fatal(err)
			}
			files, b := checkFigureFiles(t, paths, dir, tt.base)
			fig, err := tt.fig()
			if err != nil {
				t.Fatal(err)
			}
			if w, h := pngSize(fig); b.Dx() != w || b.Dy() != h {
				t.Errorf("PNG is %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
			}
			if tt.width > 0 && b.Dx() != tt.width {
				t.Errorf("PNG is %d pixels wide, want %d", b.Dx(), tt.width)
			}
			if svg := string(files[".svg"]); svg != svgOf(t, fig) {
				t.Errorf("the SVG written differs from the SVG of the figure")
			}
		})
	}
}

// Widths of the PNG of a figure a column wide (3.4 in) and the text width wide (7 in).
const (
	columnPixels = 1020
	textPixels   = 2100
)
