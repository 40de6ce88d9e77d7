package plots

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"
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
