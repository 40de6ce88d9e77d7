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

// realisticBench returns a rewind bench shaped like a real run: memory 1, 16, 64 and 256 MiB,
// 1, 16, 256 and 4096 dirty pages (not more than the memory has), and per strategy
//
//   - full: copies the whole memory, ~0.15 ms + 50 µs per MiB, flat in the pages dirtied;
//   - diff: scans the whole memory, ~45 µs per MiB, plus a copy of the dirty pages;
//   - cow: ~2 µs + 10 µs per dirty page (madvise and the faults that refill the pages);
//   - tracked: ~1 µs + 0.1 µs per dirty page;
//
// beside a memcpy of 0.08 µs per page. The strategies are listed in a non-canonical order.
func realisticBench(simulated bool) *results.RewindBench {
	b := &results.RewindBench{SchemaVersion: results.SchemaVersion}
	b.Env.Simulated = simulated
	b.Env.Backend = "sgx"
	if simulated {
		b.Env.Backend = "sim"
	}
	cost := map[string]func(mib, pages float64) float64{
		"tracked": func(_, pages float64) float64 { return 1e3 + 100*pages },
		"cow":     func(_, pages float64) float64 { return 2e3 + 10e3*pages },
		"diff":    func(mib, pages float64) float64 { return 45e3*mib + 80*pages },
		"full":    func(mib, _ float64) float64 { return 150e3 + 50e3*mib },
	}
	for _, s := range []string{"tracked", "cow", "diff", "full"} {
		for _, mib := range []int{1, 16, 64, 256} {
			for _, pages := range []int{1, 16, 256, 4096} {
				if pages > mib*256 {
					continue
				}
				ns := cost[s](float64(mib), float64(pages))
				b.Rows = append(b.Rows, results.RewindRow{
					Strategy:         s,
					MemoryBytes:      int64(mib) << 20,
					DirtyPages:       pages,
					N:                200,
					RewindNsP50:      ns,
					RewindNsP99:      ns * 1.4,
					MemcpyNsP50:      80 * float64(pages) * (1 + 0.02*float64(len(s)%3)),
					InvokeNsP50:      5e3 + 300*float64(pages),
					PagesRestoredP50: float64(pages),
				})
			}
		}
	}
	return b
}

// checkSVG checks the SVG of a figure: "simulated SGX" in it exactly when simulated, texts
// in it in this order, absent not in it.
func checkSVG(t *testing.T, svg string, simulated bool, texts, absent []string) {
	t.Helper()
	if !strings.HasPrefix(svg, "<?xml") || !strings.Contains(svg, "<svg") {
		t.Errorf("SVG does not look like SVG: %.60q", svg)
	}
	if got := strings.Contains(svg, "simulated SGX"); got != simulated {
		t.Errorf("SVG contains %q: %v, want %v", "simulated SGX", got, simulated)
	}
	at := 0
	for _, s := range texts {
		i := strings.Index(svg[at:], s)
		if i < 0 {
			t.Errorf("SVG lacks %q after offset %d (texts must appear in order %q)", s, at, texts)
			break
		}
		at += i + len(s)
	}
	for _, s := range absent {
		if strings.Contains(svg, s) {
			t.Errorf("SVG contains %q", s)
		}
	}
}

func TestRewindScaling(t *testing.T) {
	broken := realisticBench(true)
	broken.Rows = append(broken.Rows,
		results.RewindRow{Strategy: "broken", MemoryBytes: 1 << 20, DirtyPages: 1, RewindNsP50: 0, MemcpyNsP50: 80},
		results.RewindRow{Strategy: "broken", MemoryBytes: 1 << 20, DirtyPages: 16, RewindNsP50: -5, MemcpyNsP50: 80},
		results.RewindRow{Strategy: "broken", MemoryBytes: 16 << 20, DirtyPages: 16, RewindNsP50: math.NaN()},
		results.RewindRow{Strategy: "broken", MemoryBytes: 16 << 20, DirtyPages: 16, RewindNsP50: math.Inf(1)},
		results.RewindRow{Strategy: "tracked", MemoryBytes: 0, DirtyPages: 16, RewindNsP50: 1e3, MemcpyNsP50: 80},
		results.RewindRow{Strategy: "tracked", MemoryBytes: 2 << 20, DirtyPages: 0, RewindNsP50: 1e3, MemcpyNsP50: 80},
		results.RewindRow{Strategy: "tracked", MemoryBytes: 2 << 20, DirtyPages: -1, RewindNsP50: 1e3, MemcpyNsP50: 80},
	)

	noMemcpy := realisticBench(false)
	for i := range noMemcpy.Rows {
		noMemcpy.Rows[i].MemcpyNsP50 = 0
	}

	// Six memory sizes (two rows of three panels) and a strategy outside the canonical ones.
	six := realisticBench(true)
	for _, r := range slices.Clone(six.Rows) {
		if r.MemoryBytes == 1<<20 {
			r.MemoryBytes = 1 << 30
			six.Rows = append(six.Rows, r)
			if r.DirtyPages <= 128 {
				r.MemoryBytes = 512 << 10
				six.Rows = append(six.Rows, r)
			}
		}
		if r.Strategy == "cow" {
			r.Strategy = "zygote"
			six.Rows = append(six.Rows, r)
		}
	}

	one := &results.RewindBench{Rows: []results.RewindRow{
		{Strategy: "tracked", MemoryBytes: 64 << 20, DirtyPages: 16, RewindNsP50: 3e3},
	}}

	legend := []string{">full<", ">diff<", ">cow<", ">tracked<", ">memcpy (lower bound)<"}
	tests := []struct {
		name          string
		bench         *results.RewindBench
		width, height int // of the PNG
		simulated     bool
		texts         []string // in the SVG, in this order
		absent        []string // not in the SVG
	}{
		{
			name:  "simulated",
			bench: realisticBench(true), width: 2100, height: 1020,
			simulated: true,
			texts: append(slices.Clone(legend), ">1 MiB memory<", ">16 MiB memory<", ">64 MiB memory<",
				">256 MiB memory<", ">"+scalingYLabel+"<", ">"+scalingXLabel+"<"),
		},
		{
			name:  "hardware",
			bench: realisticBench(false), width: 2100, height: 1020,
			texts:  append([]string{">backend: sgx"}, legend...),
			absent: []string{"simulated"},
		},
		{
			name:  "non-positive values",
			bench: broken, width: 2100, height: 1020,
			simulated: true,
			texts:     append(slices.Clone(legend), ">1 MiB memory<", ">256 MiB memory<"),
			absent:    []string{">broken<", ">0 B memory<", ">2 MiB memory<"},
		},
		{
			name:  "no memcpy",
			bench: noMemcpy, width: 2100, height: 1020,
			texts:  []string{">full<", ">diff<", ">cow<", ">tracked<"},
			absent: []string{"memcpy"},
		},
		{
			name:  "six memory sizes, unknown strategy",
			bench: six, width: 1800, height: 1665,
			simulated: true,
			texts: append(slices.Clone(legend[:4]), ">zygote<", ">memcpy (lower bound)<", ">512 KiB memory<",
				">1 MiB memory<", ">256 MiB memory<", ">1 GiB memory<"),
		},
		{
			name:  "one point",
			bench: one, width: 1800, height: 1020,
			texts:  []string{">tracked<", ">1 µs<", ">10 µs<", ">64 MiB memory<"},
			absent: []string{"memcpy", "beyond memory"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fig, err := newScalingFigure(tt.bench) // the files: TestFigureFiles
			if err != nil {
				t.Fatalf("RewindScaling: %v", err)
			}
			if w, h := pngSize(fig); w != tt.width || h != tt.height {
				t.Errorf("PNG is %dx%d, want %dx%d", w, h, tt.width, tt.height)
			}
			texts := append([]string{">Rewind latency vs. pages dirtied<"}, tt.texts...)
			checkSVG(t, svgOf(t, fig), tt.simulated, texts, tt.absent)
		})
	}
}

func TestRewindScalingErrors(t *testing.T) {
	allZero := realisticBench(true)
	for i := range allZero.Rows {
		allZero.Rows[i].RewindNsP50 = 0
	}
	noMemory := realisticBench(true)
	for i := range noMemory.Rows {
		noMemory.Rows[i].MemoryBytes = 0
	}
	tests := []struct {
		name  string
		bench *results.RewindBench
	}{
		{"nil", nil},
		{"empty", &results.RewindBench{}},
		{"no positive rewind time", allZero},
		{"no positive memory size", noMemory},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDrawsNothing(t, func(dir string) ([]string, error) { return RewindScaling(tt.bench, dir) })
		})
	}
}

func TestRewindScalingUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := RewindScaling(realisticBench(true), filepath.Join(file, "sub")); err == nil {
		t.Fatal("RewindScaling under a regular file: want an error")
	}
}

func TestAll(t *testing.T) {
	headline := []string{"cold_vs_rewind.svg"}
	scaling := []string{"rewind_scaling.svg"}
	const garbage = "{not json"
	tests := []struct {
		name    string
		summary any // *results.Summary, a string written as is, or nil for no file
		bench   any // *results.RewindBench, a string, or nil
		want    []string
		wantErr bool
	}{
		{name: "summary only", summary: fourModes(true), want: headline},
		{name: "rewind bench only", bench: realisticBench(true), want: scaling},
		{name: "both", summary: fourModes(false), bench: realisticBench(false), want: append(slices.Clone(headline), scaling...)},
		{name: "neither", wantErr: true},
		{name: "unreadable summary", summary: garbage, bench: realisticBench(true), want: scaling, wantErr: true},
		{name: "unreadable bench", summary: fourModes(true), bench: garbage, want: headline, wantErr: true},
		{name: "bench of a future schema", bench: &results.RewindBench{SchemaVersion: results.SchemaVersion + 1, Rows: realisticBench(true).Rows}, wantErr: true},
		{name: "empty summary", summary: &results.Summary{SchemaVersion: results.SchemaVersion}, bench: realisticBench(true), want: scaling},
		{name: "empty bench", summary: fourModes(true), bench: &results.RewindBench{SchemaVersion: results.SchemaVersion}, want: headline},
		{name: "both empty", summary: &results.Summary{SchemaVersion: results.SchemaVersion}, bench: &results.RewindBench{SchemaVersion: results.SchemaVersion}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write := func(name string, v any) {
				var err error
				switch v := v.(type) {
				case nil:
					return
				case string:
					err = os.WriteFile(filepath.Join(dir, name), []byte(v), 0o644)
				case *results.Summary:
					err = results.WriteSummary(filepath.Join(dir, name), v)
				case *results.RewindBench:
					err = results.WriteRewindBench(filepath.Join(dir, name), v)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			write("summary.json", tt.summary)
			write(results.RewindBenchFile, tt.bench)

			outcome, err := drawAll(dir, []string{"svg"}) // the formats: TestAllFiles
			if (err != nil) != tt.wantErr {
				t.Fatalf("All: error %v, want error: %v", err, tt.wantErr)
			}
			paths := outcome.Paths()
			var want []string
			for _, name := range tt.want {
				want = append(want, filepath.Join(dir, "plots", name))
			}
			if !slices.Equal(paths, want) {
				t.Fatalf("paths = %q, want %q", paths, want)
			}
			for _, p := range paths {
				if fi, err := os.Stat(p); err != nil {
					t.Error(err)
				} else if fi.Size() == 0 {
					t.Errorf("%s is empty", p)
				}
			}
			if len(paths) == 0 {
				if _, err := os.Stat(filepath.Join(dir, "plots")); !os.IsNotExist(err) {
					t.Errorf("All created plots/ without drawing anything")
				}
			}
		})
	}
}

func TestPageTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		labels []string
		n      int // ticks, labelled or not
	}{
		{0.7, 5800, []string{"1", "16", "256", "4096"}, 7}, // 1, 4, ..., 4096
		{0.7, 400, []string{"1", "16", "256"}, 5},          // 1, 4, 16, 64, 256
		{3, 40, []string{"4", "8", "16", "32"}, 4},         // a short axis: powers of 2
		{1, 1, nil, 0},  // empty range
		{0, 16, nil, 0}, // not a log range
	}
	for _, tt := range tests {
		ticks := pageTicks{}.Ticks(tt.lo, tt.hi)
		var labels []string
		for _, tk := range ticks {
			if tk.Value < tt.lo || tk.Value > tt.hi {
				t.Errorf("Ticks(%g, %g): tick %g outside the range", tt.lo, tt.hi, tk.Value)
			}
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if !slices.Equal(labels, tt.labels) || len(ticks) != tt.n {
			t.Errorf("Ticks(%g, %g): %d ticks labelled %q, want %d labelled %q", tt.lo, tt.hi, len(ticks), labels, tt.n, tt.labels)
		}
	}
}

func TestMajorOnly(t *testing.T) {
	for _, tk := range (majorOnly{durationTicks{}}).Ticks(1e3, 1e6) {
		if tk.Label != "" || math.Mod(math.Log10(tk.Value), 1) > 1e-9 {
			t.Errorf("tick %+v: want an unlabelled power of ten", tk)
		}
	}
	if n := len((majorOnly{durationTicks{}}).Ticks(1e3, 1e6)); n != 4 {
		t.Errorf("%d ticks, want 4", n)
	}
}

func TestOrderStrategies(t *testing.T) {
	tests := []struct {
		in, want []string
	}{
		{nil, nil},
		{[]string{"tracked", "cow", "diff", "full"}, []string{"full", "diff", "cow", "tracked"}},
		{[]string{"zeta", "tracked", "alpha", "full"}, []string{"full", "tracked", "alpha", "zeta"}},
	}
	for _, tt := range tests {
		if got := orderStrategies(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("orderStrategies(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{512, "512 B"},
		{512 << 10, "512 KiB"},
		{1 << 20, "1 MiB"},
		{256 << 20, "256 MiB"},
		{3 << 29, "1.5 GiB"},
		{4 << 40, "4096 GiB"},
	}
	for _, tt := range tests {
		if got := formatBytes(tt.n); got != tt.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestMedian(t *testing.T) {
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median = %g, want 2", got)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median = %g, want 2.5", got)
	}
}
