package plots

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reclave/reclave/results"
)

// roundsSummary is a summary of workload w in modes warm and rewind with compartments off and
// on, each with the given round medians (round_p50_ns); its medians (p50) are those of round 0.
func roundsSummary(warmOff, warmOn, rewindOff, rewindOn []float64) *results.Summary {
	s := &results.Summary{SchemaVersion: results.SchemaVersion}
	s.Env.Simulated, s.Env.Backend = true, "embedded"
	for _, r := range []struct {
		mode   string
		comp   bool
		rounds []float64
	}{{"warm", false, warmOff}, {"warm", true, warmOn}, {"rewind", false, rewindOff}, {"rewind", true, rewindOn}} {
		res := sweepResult("w", r.mode, 1, r.comp, r.rounds[0], 1)
		res.RoundP50Ns = r.rounds
		s.Results = append(s.Results, res)
	}
	return s
}

// TestOverheadPaired: with round medians, each bar of the overhead figure is the geometric mean
// of the per-round ratios to warm without compartments, its whisker the 95% CI across rounds
// (hand-computed: see results.TestPairRatio), none with fewer than 3 rounds; a round in which
// the machine was three times slower for everything does not move the ratios.
func TestOverheadPaired(t *testing.T) {
	tests := []struct {
		name    string
		s       *results.Summary
		bars    []float64    // per series: warm, warm + compartments, rewind, rewind + compartments
		ci      [][2]float64 // per series, the whisker; {0, 0} for none
		caption []string
	}{
		{
			// Round 1 was slow for every configuration alike (×3): the paired ratios are
			// 1.02 and 2.1 in every round, intervals of a point. Rewind without compartments:
			// ratios 2, 1.5, 2: ∛6 = 1.817121, interval exp(m ± 4.302653·s/√3) =
			// [1.202803, 2.745194].
			name: "three rounds, one noisy",
			s:    roundsSummary([]float64{100, 300, 100}, []float64{102, 306, 102}, []float64{200, 450, 200}, []float64{210, 630, 210}),
			bars: []float64{1, 1.02, 1.817121, 2.1},
			ci:   [][2]float64{{0, 0}, {1.02, 1.02}, {1.202803, 2.745194}, {2.1, 2.1}},
			caption: []string{"geometric mean over 3 rounds of the ratio of round medians", "whiskers: 95% CI across rounds",
				"baseline (dashed, 1×): warm without compartments"},
		},
		{
			// Two rounds: √(1.02·1.04) = 1.029951, no whiskers.
			name:    "two rounds",
			s:       roundsSummary([]float64{100, 100}, []float64{102, 104}, []float64{200, 200}, []float64{210, 210}),
			bars:    []float64{1, 1.029951, 2, 2.1},
			ci:      [][2]float64{{0, 0}, {0, 0}, {0, 0}, {0, 0}},
			caption: []string{"geometric mean over 2 rounds", "no whiskers: a CI needs 3 rounds"},
		},
		{
			// No round medians (a summary written before rounds): the ratio of the medians.
			name: "no rounds",
			s:    roundsSummary([]float64{100}, []float64{103}, []float64{250}, []float64{260}),
			bars: []float64{1, 1.03, 2.5, 2.6},
			ci:   [][2]float64{{0, 0}, {0, 0}, {0, 0}, {0, 0}},
		},
	}
	tests[2].s.Results[0].RoundP50Ns = nil
	tests[2].caption = []string{"bar: ratio of medians (no rounds recorded)"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fig, err := newOverheadFigure(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			if len(fig.series) != 4 {
				t.Fatalf("%d series, want 4", len(fig.series))
			}
			for i, lb := range fig.series {
				if len(lb.bars) != 1 {
					t.Fatalf("%s: %d bars, want 1", lb.name, len(lb.bars))
				}
				b := lb.bars[0]
				if math.Abs(b.median/tt.bars[i]-1) > 1e-6 {
					t.Errorf("%s: bar %.6f, want %.6f", lb.name, b.median, tt.bars[i])
				}
				want := tt.ci[i]
				switch {
				case want == [2]float64{} && b.ci:
					t.Errorf("%s: whisker [%g, %g], want none", lb.name, b.lo, b.hi)
				case want != [2]float64{} && (!b.ci || math.Abs(b.lo/want[0]-1) > 1e-5 || math.Abs(b.hi/want[1]-1) > 1e-5):
					t.Errorf("%s: whisker %v [%.6f, %.6f], want [%.6f, %.6f]", lb.name, b.ci, b.lo, b.hi, want[0], want[1])
				}
			}
			for _, c := range tt.caption {
				if !strings.Contains(fig.caption, c) {
					t.Errorf("caption %q lacks %q", fig.caption, c)
				}
			}
		})
	}
}

// TestReportWideCI: report.md warns under a figure whose whiskers reach more than ±5% from
// their bars (the median's interval, or a paired ratio's), naming them, and says nothing when
// every whisker is within ±5% (exactly ±5% included).
func TestReportWideCI(t *testing.T) {
	specs := map[string]figureSpec{}
	for _, s := range figureSpecs() {
		specs[s.base] = s
	}
	noisy := roundsSummary([]float64{100, 300, 100}, []float64{102, 306, 102}, []float64{200, 450, 200}, []float64{210, 630, 210})
	quiet := roundsSummary([]float64{100, 300, 100}, []float64{102, 306, 102}, []float64{200, 600, 200}, []float64{210, 630, 210})
	wideMedian := sweep(true)
	for i := range wideMedian.Results {
		if r := &wideMedian.Results[i]; r.Workload == "hello" && r.Mode == "cold" {
			r.LatencyNs.P50CI95Lo, r.LatencyNs.P50CI95Hi = ptr(r.LatencyNs.P50*0.8), ptr(r.LatencyNs.P50*1.1)
		}
	}
	tests := []struct {
		name string
		base string
		s    *results.Summary
		want []string // substrings of the warning; nil for none
	}{
		{"paired ratio", OverheadBase, noisy, []string{"**Wide confidence intervals.** 1 of the 3 whiskers", "w rewind ±51.1%", "paired ratio", "repetitions (rounds)"}},
		{"paired ratios within 5%", OverheadBase, quiet, nil},
		{"median", HeadlineBase, wideMedian, []string{"1 of the", "hello cold ±20%", "the median"}},
		{"medians of exactly ±5%", HeadlineBase, sweep(true), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wideCIWarning(specs[tt.base], &inputs{summary: tt.s})
			if tt.want == nil && got != "" {
				t.Fatalf("warning %q, want none", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("warning %q lacks %q", got, w)
				}
			}
		})
	}

	// In report.md, under the figure.
	dir := writeRun(t, noisy, nil, false)
	o, err := All(dir)
	if err != nil {
		t.Fatal(err)
	}
	path, err := WriteReport(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	report := string(b)
	i, j := strings.Index(report, "(`"+OverheadBase+"`)"), strings.Index(report, "> **Wide confidence intervals.**")
	if i < 0 || j < i {
		t.Fatalf("report.md has no warning under the overhead figure:\n%s", report)
	}
	if filepath.Base(path) != ReportFile {
		t.Errorf("report written to %s", path)
	}
}
