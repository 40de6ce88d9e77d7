package plots

import (
	"bytes"
	"encoding/xml"
	"slices"
	"strings"
	"testing"

	"github.com/reclave/reclave/results"
)

// checkCaption checks what every caption must be: drawn (in the SVG, line by line) and
// representable in Windows-1252, the encoding of the PDF's fonts (toCP1252 writes 0x1a for
// a rune it lacks).
func checkCaption(t *testing.T, fig figure, caption string) {
	t.Helper()
	if strings.ContainsRune(toCP1252(caption), 0x1a) {
		t.Errorf("caption %q has a rune the PDF cannot show", caption)
	}
	svg := svgOf(t, fig)
	for _, line := range strings.Split(caption, "\n") {
		var esc bytes.Buffer
		xml.EscapeText(&esc, []byte(line))
		if !strings.Contains(svg, esc.String()) {
			t.Errorf("caption line %q not drawn", line)
		}
	}
}

// withN returns r with n invocations, errors of them failed, and a 95% CI of the median when
// ci is set.
func withN(r results.Result, n, errors int, ci bool) results.Result {
	r.N, r.Errors = n, errors
	r.LatencyNs.P50CI95Lo, r.LatencyNs.P50CI95Hi = nil, nil
	if ci {
		r.LatencyNs.P50CI95Lo, r.LatencyNs.P50CI95Hi = ptr(r.LatencyNs.P50*0.95), ptr(r.LatencyNs.P50*1.05)
	}
	return r
}

// TestHeadlineWhiskerCaption checks that the caption of the headline figure says what its
// whiskers are only where they are drawn: bars without one (fewer than 6 invocations, as
// results.MedianCIMinN says, or a summary without the interval) are named.
func TestHeadlineWhiskerCaption(t *testing.T) {
	// mode → (n, errors, ci) for both workloads; modes not listed keep n = 100 with a CI.
	type spec struct {
		n, errors int
		ci        bool
	}
	tests := []struct {
		name   string
		modes  map[string]spec
		only   map[[2]string]spec // workload, mode → spec, after modes
		want   string
		absent []string
	}{
		{
			name:   "every bar has a whisker",
			want:   "bar: median, whiskers: 95% CI of the median",
			absent: []string{"none on", "needs"},
		},
		{
			name:  "cold starts are few (quick config)",
			modes: map[string]spec{"cold": {4, 0, false}},
			want:  "bar: median, whiskers: 95% CI of the median (needs 6 invocations; none on cold, n = 4)",
		},
		{
			name:  "failures count out of n",
			modes: map[string]spec{"cold": {8, 3, false}},
			want:  "(needs 6 invocations; none on cold, n = 5)",
		},
		{
			name:  "cold and one rewind bar",
			modes: map[string]spec{"cold": {3, 0, false}},
			only:  map[[2]string]spec{{"json-parse", "rewind"}: {4, 0, false}},
			want:  "(needs 6 invocations; none on cold; rewind of json-parse, n = 3–4)",
		},
		{
			name:   "a bar without an interval for another reason",
			only:   map[[2]string]spec{{"hello", "warm"}: {100, 0, false}, {"hello", "cold"}: {4, 0, false}},
			want:   "(needs 6 invocations; none on cold of hello; warm of hello)",
			absent: []string{"n = "},
		},
		{
			name:   "no bar has a whisker: too few everywhere",
			modes:  map[string]spec{"cold": {3, 0, false}, "reinstantiate": {5, 0, false}, "rewind": {5, 0, false}, "warm": {2, 0, false}},
			want:   "bar: median (no 95% CI: fewer than 6 invocations)",
			absent: []string{"whiskers"},
		},
		{
			name:   "no bar has a whisker: a summary without intervals",
			modes:  map[string]spec{"cold": {100, 0, false}, "reinstantiate": {100, 0, false}, "rewind": {100, 0, false}, "warm": {100, 0, false}},
			want:   "bar: median",
			absent: []string{"whiskers", "95%"},
		},
		{
			name:  "many bars without: counted",
			modes: map[string]spec{"cold": {4, 0, false}},
			only: map[[2]string]spec{{"hello", "warm"}: {4, 0, false}, {"hello", "rewind"}: {4, 0, false},
				{"json-parse", "reinstantiate"}: {4, 0, false}},
			want: "(needs 6 invocations; none on 5 bars, n = 4)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fourModes(true)
			for i := range s.Results {
				r := &s.Results[i]
				sp, ok := tt.only[[2]string{r.Workload, r.Mode}]
				if !ok {
					sp, ok = tt.modes[r.Mode]
				}
				if ok {
					*r = withN(*r, sp.n, sp.errors, sp.ci)
				}
			}
			fig, err := newHeadlineFigure(s)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(fig.caption, tt.want) {
				t.Errorf("caption %q lacks %q", fig.caption, tt.want)
			}
			for _, a := range tt.absent {
				if strings.Contains(fig.caption, a) {
					t.Errorf("caption %q contains %q", fig.caption, a)
				}
			}
			// Whatever the case: whiskers are captioned if and only if one is drawn, and
			// every mode with a bar drawn without one is named.
			anyCI := false
			for _, lb := range fig.series {
				for _, b := range lb.bars {
					anyCI = anyCI || b.ci
				}
			}
			if got := strings.Contains(fig.caption, "whiskers"); got != anyCI {
				t.Errorf("caption %q mentions whiskers: %v, whiskers drawn: %v", fig.caption, got, anyCI)
			}
			if anyCI && !strings.Contains(fig.caption, "bars") {
				_, none, _ := strings.Cut(fig.caption, "none on ")
				for _, lb := range fig.series {
					if slices.ContainsFunc(lb.bars, func(b bar) bool { return !b.ci }) && !strings.Contains(none, lb.name) {
						t.Errorf("caption %q does not name %s, drawn without a whisker", fig.caption, lb.name)
					}
				}
			}
			checkCaption(t, fig, fig.caption)
		})
	}
}

// TestAttestationCaption checks that the caption of the attestation figure names the kinds
// of evidence drawn, and only those, and where the inner report is when not every workload
// has one; and that a workload measured with inner attestation in one experiment and
// without in another is drawn from the attested one.
func TestAttestationCaption(t *testing.T) {
	outerOnly := attested(true)
	for i := range outerOnly.Results {
		delete(outerOnly.Results[i].PhasesP50Ns, "attest")
	}
	// The quick config: every workload with outer evidence in the headline experiment (listed
	// first), one of them again with inner attestation in an experiment of its own.
	mixed := attested(true)
	for i := range mixed.Results {
		r := &mixed.Results[i]
		r.Experiment, r.Attestation = "headline", "outer"
		delete(r.PhasesP50Ns, "attest")
	}
	for _, m := range []string{"cold", "rewind"} {
		r := result("hello", m, 0, false)
		r.Experiment, r.Attestation, r.N = "attestation", "inner", 30
		r.LatencyNs.P50 = 1e6
		r.PhasesP50Ns = map[string]int64{"attest": 25e3, "quote": 150e3, "rewind": 1.5e3, "invoke": 1e3}
		if m == "cold" {
			r.LatencyNs.P50 = 125e6
		}
		mixed.Results = append(mixed.Results, r)
	}

	tests := []struct {
		name    string
		summary *results.Summary
		want    []string
		absent  []string
		inner   map[string]float64 // workload → inner report drawn
		cold    map[string]float64 // workload → cold start drawn
	}{
		{
			name:    "simulated, both kinds",
			summary: attested(true),
			want:    []string{attestationOuterSimulated, attestationInner},
			absent:  []string{attestationOuterHardware, "measured for"},
			inner:   map[string]float64{"hello": 30e3, "json-parse": 36e3},
		},
		{
			name:    "hardware",
			summary: attested(false),
			want:    []string{attestationOuterHardware, attestationInner},
			absent:  []string{attestationOuterSimulated},
		},
		{
			name:    "outer evidence only",
			summary: outerOnly,
			want:    []string{attestationOuterSimulated},
			absent:  []string{attestationInner, "measured for"},
		},
		{
			name:    "inner attestation in an experiment of its own",
			summary: mixed,
			want:    []string{attestationOuterSimulated, attestationInner, "inner report measured for hello"},
			inner:   map[string]float64{"hello": 25e3},
			cold:    map[string]float64{"hello": 125e6, "json-parse": 170e6 * 1.2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fig, err := newAttestationFigure(tt.summary)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(fig.caption, w) {
					t.Errorf("caption %q lacks %q", fig.caption, w)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(fig.caption, a) {
					t.Errorf("caption %q contains %q", fig.caption, a)
				}
			}
			drawn := map[string]map[string]float64{} // series → workload → value
			for _, lb := range fig.series {
				drawn[lb.name] = map[string]float64{}
				for _, b := range lb.bars {
					drawn[lb.name][fig.workloads[b.group]] = b.median
				}
			}
			inner := drawn[attestationSeries[innerSeries].name]
			if got := strings.Contains(fig.caption, attestationInner); got != (len(inner) > 0) {
				t.Errorf("caption names the inner report: %v, inner bars drawn: %d", got, len(inner))
			}
			for w, v := range tt.inner {
				if inner[w] != v {
					t.Errorf("inner report of %s = %g, want %g", w, inner[w], v)
				}
			}
			for w, v := range tt.cold {
				if got := drawn["cold start (total)"][w]; got != v {
					t.Errorf("cold start of %s = %g, want %g", w, got, v)
				}
			}
			checkCaption(t, fig, fig.caption)
		})
	}
}

// TestCDFTailNote checks the caption of the cdf figure on the curves too short for a 99th
// percentile (results.QuantileMinN(99) = 100 invocations).
func TestCDFTailNote(t *testing.T) {
	tests := []struct {
		name   string
		n      map[[2]string]int // workload, mode → invocations
		want   string
		absent bool
	}{
		{
			name:   "every curve long enough",
			n:      map[[2]string]int{{"a", "cold"}: 100, {"a", "rewind"}: 1000},
			absent: true,
		},
		{
			name: "every curve short",
			n:    map[[2]string]int{{"a", "cold"}: 4, {"a", "rewind"}: 99},
			want: "every curve has fewer than 100 invocations: no p99 (the top step is the maximum)",
		},
		{
			name: "a mode short everywhere",
			n:    map[[2]string]int{{"a", "cold"}: 4, {"a", "rewind"}: 200, {"b", "cold"}: 3, {"b", "rewind"}: 200},
			want: "fewer than 100 invocations, no p99 (the top step is the maximum): cold",
		},
		{
			name: "a mode short in one workload",
			n:    map[[2]string]int{{"a", "cold"}: 4, {"a", "rewind"}: 200, {"b", "cold"}: 3, {"b", "rewind"}: 30},
			want: "fewer than 100 invocations, no p99 (the top step is the maximum): cold; rewind of b",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var recs []results.Record
			for wm, n := range tt.n {
				recs = append(recs, invocations(wm[0], wm[1], 1, n, 1000)...)
			}
			slices.SortStableFunc(recs, func(a, b results.Record) int { return strings.Compare(a.Workload, b.Workload) })
			fig, err := newCDFFigure(recs, results.Env{Simulated: true, Backend: "embedded"})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(fig.caption, "p99"); got == tt.absent {
				t.Errorf("caption %q mentions p99: %v", fig.caption, got)
			}
			if !tt.absent && !strings.Contains(fig.caption, tt.want) {
				t.Errorf("caption %q lacks %q", fig.caption, tt.want)
			}
			checkCaption(t, fig, fig.caption)
		})
	}
}

// TestFormatRatioLabels checks the value labels of the figures of ratios: two decimals near
// 1, never more than three significant digits.
func TestFormatRatioLabels(t *testing.T) {
	tests := []struct {
		x    float64
		want string
	}{
		{0.98, "0.98×"},
		{1, "1.00×"},
		{1.044, "1.04×"},
		{9.99, "9.99×"},
		{9.996, "10×"},
		{12.5, "12.5×"},
		{1234, "1.23k×"},
	}
	for _, tt := range tests {
		if got := formatRatio(tt.x); got != tt.want {
			t.Errorf("formatRatio(%g) = %q, want %q", tt.x, got, tt.want)
		}
	}
}

// TestRewindScalingCaption checks that the caption of the rewind scaling figure fits: the
// environment and the notes on lines of their own.
func TestRewindScalingCaption(t *testing.T) {
	for _, simulated := range []bool{true, false} {
		fig, err := newScalingFigure(realisticBench(simulated))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(fig.caption, "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[1], "points: median rewind time") {
			t.Errorf("caption %q: want the environment, then the notes", fig.caption)
		}
		w, _ := fig.size()
		for _, l := range lines {
			if lw := textStyle(8, textGrey).Width(l); lw > w-8 {
				t.Errorf("caption line %q is %v wide, the figure %v", l, lw, w)
			}
		}
		checkCaption(t, fig, fig.caption)
	}
}
