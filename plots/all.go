package plots

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/reclave/reclave/results"
)

// Subdir is the folder of a run folder into which [All] writes the figures.
const Subdir = "plots"

// summaryFile is the name of the summary in a run folder (harness.SummaryFile; this package
// does not import the harness).
const summaryFile = "summary.json"

// source is an input of [All] and the figures drawn from it.
type source struct {
	input string // file name in the run folder
	// load reads the input at path and prepares its figures, in the order drawn. An error
	// is an input that cannot be read; a figure with nothing to draw is a nil figure with a
	// nothingToDraw error in its place.
	load func(path string) ([]drawing, error)
}

// drawing is a figure of a source, ready to be written, or the reason it cannot be drawn.
type drawing struct {
	base string
	fig  figure
	err  error
}

// prepare returns the drawing of the figure base: fig, or err as a nothingToDraw.
func prepare[F figure](base, path string, fig F, err error) drawing {
	if err != nil {
		return drawing{base: base, err: nothingToDraw{fmt.Errorf("%s figure from %s: %w", base, path, err)}}
	}
	return drawing{base: base, fig: fig}
}

// sources are the inputs of [All], in the order of the paths it returns.
var sources = []source{
	{summaryFile, func(path string) ([]drawing, error) {
		s, err := results.ReadSummary(path)
		if err != nil {
			return nil, err
		}
		headline, herr := newHeadlineFigure(s)
		attestation, aerr := newAttestationFigure(s)
		return []drawing{
			prepare(HeadlineBase, path, headline, herr),
			prepare(AttestationBase, path, attestation, aerr),
		}, nil
	}},
	{results.RewindBenchFile, func(path string) ([]drawing, error) {
		b, err := results.ReadRewindBench(path)
		if err != nil {
			return nil, err
		}
		f, err := newScalingFigure(b)
		return []drawing{prepare(RewindScalingBase, path, f, err)}, nil
	}},
}

// nothingToDraw is the error of an input that was read but holds nothing to draw.
type nothingToDraw struct{ error }

func (e nothingToDraw) Unwrap() error { return e.error }

// All draws every figure whose input is in the run folder dir into dir/plots (creating it
// when there is a figure to write), and returns the paths written:
//
//   - [Headline] (cold_vs_rewind) from summary.json, written by `reclave run`;
//   - [Attestation] (attestation) from summary.json too, when the run measured attestation
//     (phases quote and attest);
//   - [RewindScaling] (rewind_scaling) from rewind_bench.json, written by
//     `reclave bench rewind`.
//
// A missing input is skipped. A present input that cannot be read (or whose figure cannot
// be written) is an error, returned with the paths of the other figures, which are drawn
// anyway. A figure whose input holds nothing to draw (no positive latency, no attestation
// phase) is skipped too, unless no figure at all could be drawn: All fails only when it wrote
// nothing or something present was unreadable.
func All(dir string) ([]string, error) {
	outDir := filepath.Join(dir, Subdir)
	var (
		paths   []string
		failed  []error // unreadable inputs, unwritable figures
		skipped []error // inputs with nothing to draw
		found   []string
	)
	for _, src := range sources {
		in := filepath.Join(dir, src.input)
		if _, err := os.Stat(in); errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			failed = append(failed, err)
			continue
		}
		found = append(found, src.input)
		drawings, err := src.load(in)
		if err != nil {
			failed = append(failed, err)
			continue
		}
		for _, d := range drawings {
			if d.err != nil {
				skipped = append(skipped, d.err)
				continue
			}
			written, err := writeFigure(d.fig, outDir, d.base)
			paths = append(paths, written...)
			if err != nil {
				failed = append(failed, fmt.Errorf("%s figure: %w", d.base, err))
			}
		}
	}
	if len(failed) > 0 {
		return paths, fmt.Errorf("plots of %s: %w", dir, errors.Join(failed...))
	}
	if len(paths) == 0 {
		if len(found) == 0 {
			var names []string
			for _, src := range sources {
				names = append(names, src.input)
			}
			return nil, fmt.Errorf("plots of %s: no figure input (%s)", dir, strings.Join(names, ", "))
		}
		return nil, fmt.Errorf("plots of %s: nothing to draw: %w", dir, errors.Join(skipped...))
	}
	return paths, nil
}
