package plots

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reclave/reclave/results"
)

// attested returns fourModes with realistic attestation phases: quote ~150 µs in every cold
// result, attest ~30 µs in every result, rewind ~3 µs in every rewind result, and cold starts
// of ~170 ms.
func attested(simulated bool) *results.Summary {
	s := fourModes(simulated)
	for i := range s.Results {
		r := &s.Results[i]
		k := 1 + 0.2*float64(i/4) // workload
		r.PhasesP50Ns = map[string]int64{"invoke": int64(15e3 * k), "attest": int64(30e3 * k)}
		switch r.Mode {
		case "cold":
			r.LatencyNs.P50 = 170e6 * k
			r.PhasesP50Ns["einit"] = int64(20e6 * k)
			r.PhasesP50Ns["quote"] = int64(150e3 * k)
		case "rewind":
			r.PhasesP50Ns["rewind"] = int64(3e3 * k)
		}
	}
	return s
}

func TestAttestation(t *testing.T) {
	// hello: the rewind result lacks attest, taken from reinstantiate; json-parse: no cold
	// result at all.
	fallback := attested(false)
	fallback.Results = slices.DeleteFunc(fallback.Results, func(r results.Result) bool {
		return r.Workload == "json-parse" && r.Mode == "cold"
	})
	for i := range fallback.Results {
		if r := &fallback.Results[i]; r.Workload == "hello" && r.Mode == "rewind" {
			delete(r.PhasesP50Ns, "attest")
		}
	}
	// A workload measured without attestation is left out.
	partial := attested(true)
	partial.Results = append(partial.Results, result("noattest", "cold", 90e6, false), result("noattest", "rewind", 20e3, false))

	// Only the outer evidence: no rewind result, no inner report.
	outerOnly := attested(true)
	outerOnly.Results = slices.DeleteFunc(outerOnly.Results, func(r results.Result) bool { return r.Mode != "cold" })
	for i := range outerOnly.Results {
		delete(outerOnly.Results[i].PhasesP50Ns, "attest")
	}

	all := []string{">cold start (total)<", ">outer evidence (per cold start)<", ">inner report (per invocation)<", ">rewind<"}
	tests := []struct {
		name      string
		summary   *results.Summary
		simulated bool
		texts     []string // in the SVG, in this order
		absent    []string // not in the SVG
	}{
		{"simulated", attested(true), true, append(slices.Clone(all), ">hello<", ">json-parse<", ">170 ms<", ">150 µs<", ">30 µs<", ">3 µs<"), nil},
		{"hardware", attested(false), false, append([]string{"backend: sgx"}, all...), nil},
		{"fallback and missing cold", fallback, false, append(slices.Clone(all), ">hello<", ">json-parse<"), nil},
		{"workload without attestation", partial, true, []string{">hello<", ">json-parse<"}, []string{">noattest<"}},
		{"outer evidence only", outerOnly, true, []string{">cold start (total)<", ">outer evidence (per cold start)<"},
			[]string{">inner report (per invocation)<", ">rewind<"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fig, err := newAttestationFigure(tt.summary) // the files: TestFigureFiles
			if err != nil {
				t.Fatalf("Attestation: %v", err)
			}
			if w, h := pngSize(fig); w < 1800 || h != 1050 || w > 3600 {
				t.Errorf("PNG is %dx%d, want 1800..3600 x 1050", w, h)
			}

			svg := svgOf(t, fig)
			if got := strings.Contains(svg, "simulated SGX"); got != tt.simulated {
				t.Errorf("SVG contains %q: %v, want %v", "simulated SGX", got, tt.simulated)
			}
			for _, s := range []string{"Cost of attestation", "median time (log scale)"} {
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

func TestAttestationValues(t *testing.T) {
	s := attested(true)
	fig, err := newAttestationFigure(s)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fig.workloads, []string{"hello", "json-parse"}) {
		t.Fatalf("workloads = %q", fig.workloads)
	}
	want := map[string][]float64{
		"cold start (total)":              {170e6, 204e6},
		"outer evidence (per cold start)": {150e3, 180e3},
		"inner report (per invocation)":   {30e3, 36e3},
		"rewind":                          {3e3, 3.6e3},
	}
	if len(fig.series) != len(want) {
		t.Fatalf("%d series, want %d", len(fig.series), len(want))
	}
	for _, lb := range fig.series {
		var got []float64
		for _, b := range lb.bars {
			got = append(got, b.median)
		}
		if !slices.Equal(got, want[lb.name]) {
			t.Errorf("%s = %v, want %v", lb.name, got, want[lb.name])
		}
	}
}

func TestAttestationErrors(t *testing.T) {
	zero := attested(true)
	for i := range zero.Results {
		zero.Results[i].PhasesP50Ns["quote"] = 0
		zero.Results[i].PhasesP50Ns["attest"] = 0
	}
	// The inner report is taken from no cold result.
	coldAttest := fourModes(true)
	for i := range coldAttest.Results {
		coldAttest.Results[i].PhasesP50Ns = map[string]int64{"attest": 30e3}
		if coldAttest.Results[i].Mode != "cold" {
			coldAttest.Results[i].PhasesP50Ns = nil
		}
	}
	tests := []struct {
		name    string
		summary *results.Summary
	}{
		{"nil", nil},
		{"empty", &results.Summary{}},
		{"no attestation phase", fourModes(true)},
		{"zero phases", zero},
		{"attest of cold only", coldAttest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDrawsNothing(t, func(dir string) ([]string, error) { return Attestation(tt.summary, dir) })
		})
	}
}

func TestAllAttestation(t *testing.T) {
	headline := []string{"cold_vs_rewind.svg"}
	attestation := []string{"attestation.svg"}
	scaling := []string{"rewind_scaling.svg"}
	breakdown := []string{"breakdown.svg"} // attested has cold phases
	onlyAttest := &results.Summary{SchemaVersion: results.SchemaVersion}
	onlyAttest.Results = []results.Result{{Key: results.Key{Workload: "hello", Mode: "rewind"},
		PhasesP50Ns: map[string]int64{"attest": 30e3}}} // no positive latency: no headline
	tests := []struct {
		name    string
		summary *results.Summary
		bench   *results.RewindBench
		want    []string
	}{
		{"with attestation", attested(true), nil, slices.Concat(headline, breakdown, attestation)},
		{"without attestation", fourModes(true), nil, headline},
		{"with attestation and bench", attested(false), realisticBench(false), slices.Concat(headline, breakdown, scaling, attestation)},
		{"attestation without latency", onlyAttest, nil, attestation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := results.WriteSummary(filepath.Join(dir, "summary.json"), tt.summary); err != nil {
				t.Fatal(err)
			}
			if tt.bench != nil {
				if err := results.WriteRewindBench(filepath.Join(dir, results.RewindBenchFile), tt.bench); err != nil {
					t.Fatal(err)
				}
			}
			outcome, err := drawAll(dir, []string{"svg"}) // the formats: TestAllFiles
			if err != nil {
				t.Fatalf("All: %v", err)
			}
			paths := outcome.Paths()
			var want []string
			for _, name := range tt.want {
				want = append(want, filepath.Join(dir, "plots", name))
			}
			if !slices.Equal(paths, want) {
				t.Fatalf("paths = %q, want %q", paths, want)
			}
			if !slices.Contains(tt.want, "attestation.svg") {
				if _, err := os.Stat(filepath.Join(dir, "plots", "attestation.svg")); !os.IsNotExist(err) {
					t.Errorf("All drew the attestation figure without attestation data")
				}
			}
		})
	}
}

// TestAttestationLook writes the figure of realistic data to $PLOTS_LOOK_DIR, to look at.
func TestAttestationLook(t *testing.T) {
	dir := os.Getenv("PLOTS_LOOK_DIR")
	if dir == "" {
		t.Skip("PLOTS_LOOK_DIR not set")
	}
	if _, err := Attestation(attested(true), dir); err != nil {
		t.Fatal(err)
	}
}
