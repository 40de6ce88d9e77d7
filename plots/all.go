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

// source is a figure of [All] and the input it is drawn from.
type source struct {
	input string // file name in the run folder
	base  string // file name of the figure, without extension
	// load reads the input at path and prepares its figure; a figure with nothing to draw is
	// a nothingToDraw error.
	load func(path string) (figure, error)
}

// sources are the figures of [All], in the order of the paths it returns.
var sources = []source{
	{summaryFile, HeadlineBase, func(path string) (figure, error) {
		s, err := results.ReadSummary(path)
		if err != nil {
			return nil, err
		}
		f, err := newHeadlineFigure(s)
		if err != nil {
			return nil, nothingToDraw{fmt.Errorf("headline figure from %s: %w", path, err)}
		}
		return f, nil
	}},
	{results.RewindBenchFile, RewindScalingBase, func(path string) (figure, error) {
		b, err := results.ReadRewindBench(path)
		if err != nil {
			return nil, err
		}
		f, err := newScalingFigure(b)
		if err != nil {
			return nil, nothingToDraw{fmt.Errorf("rewind scaling figure from %s: %w", path, err)}
		}
		return f, nil
	}},
}

// nothingToDraw is the error of an input that was read but holds nothing to draw.
type nothingToDraw struct{ error }

func (e nothingToDraw) Unwrap() error { return e.error }

// All draws every figure whose input is in the run folder dir into dir/plots (creating it
// when there is a figure to write), and returns the paths written:
//
//   - [Headline] (cold_vs_rewind) from summary.json, written by `reclave run`;
//   - [RewindScaling] (rewind_scaling) from rewind_bench.json, written by
//     `reclave bench rewind`.
//
// A missing input is skipped. A present input that cannot be read (or whose figure cannot
// be written) is an error, returned with the paths of the other figures, which are drawn
// anyway. An input that holds nothing to draw (no positive latency) is skipped too, unless no
// figure at all could be drawn: All fails only when it wrote nothing or something present
// was unreadable.
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
		fig, err := src.load(in)
		if errors.As(err, new(nothingToDraw)) {
			skipped = append(skipped, err)
			continue
		}
		if err != nil {
			failed = append(failed, err)
			continue
		}
		written, err := writeFigure(fig, outDir, src.base)
		paths = append(paths, written...)
		if err != nil {
			failed = append(failed, fmt.Errorf("%s figure: %w", src.base, err))
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
