package plots

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reclave/reclave/results"
)

func ptr(v float64) *float64 { return &v }

// result returns a result of workload w in mode m with median p50 ns and, if ci, a 95% CI of
// ±5% around it.
func result(w, m string, p50 float64, ci bool) results.Result {
	r := results.Result{Key: results.Key{Workload: w, Mode: m}, N: 100}
	r.LatencyNs = results.Dist{P50: p50, P90: p50 * 1.1, P99: p50 * 1.3}
	if ci {
		r.LatencyNs.P50CI95Lo = ptr(p50 * 0.95)
		r.LatencyNs.P50CI95Hi = ptr(p50 * 1.05)
	}
	return r
}

// fourModes returns a summary of 2 workloads in the 4 modes, with realistic medians: cold
// ~100 ms, reinstantiate ~200 µs, rewind ~20 µs, warm ~5 µs, all with a CI. The modes are
// listed in a non-canonical order on purpose.
func fourModes(simulated bool) *results.Summary {
	s := &results.Summary{SchemaVersion: results.SchemaVersion}
	s.Env.Simulated = simulated
	s.Env.Backend = "sgx"
	if simulated {
		s.Env.Backend = "sim"
	}
	for i, w := range []string{"hello", "json-parse"} {
		k := 1 + float64(i)/2
		s.Results = append(s.Results,
			result(w, "warm", 5e3*k, true),
			result(w, "rewind", 20e3*k, true),
			result(w, "cold", 100e6*k, true),
			result(w, "reinstantiate", 200e3*k, true),
		)
	}
	return s
}

func TestHeadline(t *testing.T) {
	nilCIZero := fourModes(true)
	nilCIZero.Results[0].LatencyNs.P50CI95Lo = nil // warm/hello: half a CI
	nilCIZero.Results[1].LatencyNs.P50CI95Lo = nil // rewind/hello: no CI
	nilCIZero.Results[1].LatencyNs.P50CI95Hi = nil
	nilCIZero.Results[2].LatencyNs.P50 = 0            // cold/hello: zero median, skipped
	nilCIZero.Results[3].LatencyNs.P50 = -1           // reinstantiate/hello: negative, skipped
	nilCIZero.Results[4].LatencyNs.P50 = math.NaN()   // warm/json-parse: NaN, skipped
	nilCIZero.Results[5].LatencyNs.P50CI95Lo = ptr(0) // rewind/json-parse: CI from 0
	nilCIZero.Results = append(nilCIZero.Results, result("only-zero", "cold", 0, false))

	missing := fourModes(false)
	missing.Results = slices.DeleteFunc(missing.Results, func(r results.Result) bool {
		return r.Workload == "hello" && r.Mode == "rewind"
	})
	missing.Results = append(missing.Results, result("hello", "zygote", 1e6, false))

	tests := []struct {
		name      string
		summary   *results.Summary
		simulated bool     // the figure must say "simulated SGX"
		texts     []string // in the SVG, in this order
		absent    []string // not in the SVG
	}{
		{
			name:      "simulated",
			summary:   fourModes(true),
			simulated: true,
			texts:     []string{">cold<", ">reinstantiate<", ">rewind<", ">warm<", ">hello<", ">json-parse<"},
		},
		{
			name:    "hardware",
			summary: fourModes(false),
			texts:   []string{"backend: sgx", ">cold<", ">reinstantiate<", ">rewind<", ">warm<"},
		},
		{
			name:      "nil CI and non-positive medians",
			summary:   nilCIZero,
			simulated: true,
			texts:     []string{">cold<", ">rewind<", ">hello<", ">json-parse<"},
			absent:    []string{">only-zero<"},
		},
		{
			name:    "missing combination and unknown mode",
			summary: missing,
			texts:   []string{">cold<", ">reinstantiate<", ">rewind<", ">warm<", ">zygote<"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fig, err := newHeadlineFigure(tt.summary) // the files: TestFigureFiles
			if err != nil {
				t.Fatalf("Headline: %v", err)
			}
			// 6 in × 3.5 in at 300 dpi, or wider.
			if w, h := pngSize(fig); w < 1800 || h != 1050 || w > 3600 {
				t.Errorf("PNG is %dx%d, want 1800..3600 x 1050", w, h)
			}

			svg := svgOf(t, fig)
			if !strings.HasPrefix(svg, "<?xml") || !strings.Contains(svg, "<svg") {
				t.Errorf("SVG does not look like SVG: %.60q", svg)
			}
			if got := strings.Contains(svg, "simulated SGX"); got != tt.simulated {
				t.Errorf("SVG contains %q: %v, want %v", "simulated SGX", got, tt.simulated)
			}
			for _, s := range []string{"Fresh enclave vs. snapshot rewind", "median latency (log scale)"} {
				if !strings.Contains(svg, s) {
					t.Errorf("SVG lacks %q", s)
				}
			}
			at := 0
			for _, s := range tt.texts {
				i := strings.Index(svg[at:], s)
				if i < 0 {
					t.Errorf("SVG lacks %q after offset %d (texts must appear in order %q)", s, at, tt.texts)
					break
				}
				at += i + len(s)
			}
			for _, s := range tt.absent {
				if strings.Contains(svg, s) {
					t.Errorf("SVG contains %q", s)
				}
			}
		})
	}
}

func TestHeadlineErrors(t *testing.T) {
	allZero := fourModes(true)
	for i := range allZero.Results {
		allZero.Results[i].LatencyNs.P50 = 0
	}
	tests := []struct {
		name    string
		summary *results.Summary
	}{
		{"nil", nil},
		{"empty", &results.Summary{}},
		{"no positive median", allZero},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDrawsNothing(t, func(dir string) ([]string, error) { return Headline(tt.summary, dir) })
		})
	}
}

func TestHeadlineUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Headline(fourModes(true), filepath.Join(file, "sub")); err == nil {
		t.Fatal("Headline under a regular file: want an error")
	}
}

func TestOrderModes(t *testing.T) {
	tests := []struct {
		in, want []string
	}{
		{nil, nil},
		{[]string{"warm", "rewind", "cold", "reinstantiate"}, []string{"cold", "reinstantiate", "rewind", "warm"}},
		{[]string{"zeta", "rewind", "alpha", "cold"}, []string{"cold", "rewind", "alpha", "zeta"}},
	}
	for _, tt := range tests {
		if got := orderModes(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("orderModes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDurationTicks(t *testing.T) {
	ticks := durationTicks{}.Ticks(1e3, 1e9)
	var labels []string
	for _, tk := range ticks {
		if tk.Value < 1e3 || tk.Value > 1e9 {
			t.Errorf("tick %g outside [1e3, 1e9]", tk.Value)
		}
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	want := []string{"1 µs", "10 µs", "100 µs", "1 ms", "10 ms", "100 ms", "1 s"}
	if !slices.Equal(labels, want) {
		t.Errorf("labels = %q, want %q", labels, want)
	}
	if n := len(ticks); n != 6*9+1 {
		t.Errorf("%d ticks, want %d", n, 6*9+1)
	}
	if got := (durationTicks{}).Ticks(0, 10); got != nil {
		t.Errorf("Ticks(0, 10) = %v, want nil", got)
	}
}

func TestToCP1252(t *testing.T) {
	if got, want := toCP1252("12 µs · a—b ✓"), "12 \xb5s \xb7 a\x97b \x1a"; got != want {
		t.Errorf("toCP1252 = %q, want %q", got, want)
	}
}
