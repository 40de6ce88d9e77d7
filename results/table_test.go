package results

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestFormatNs(t *testing.T) {
	tests := []struct {
		ns   float64
		want string
	}{
		{0.5, "0.5 ns"},
		{1, "1 ns"},
		{999, "999 ns"},
		{999.4, "999 ns"}, // three significant digits: rounds down ...
		{999.5, "1 µs"},   // ... or up into the next unit
		{999.6, "1 µs"},
		{1000, "1 µs"},
		{1234, "1.23 µs"},
		{1235, "1.24 µs"},
		{4800, "4.8 µs"}, // trailing zeros dropped
		{9994, "9.99 µs"},
		{9995, "10 µs"},
		{21_000, "21 µs"},
		{99_949, "99.9 µs"},
		{99_950, "100 µs"},
		{187_400, "187 µs"},
		{999_499, "999 µs"},
		{999_500, "1 ms"},
		{1e6, "1 ms"},
		{98_200_000, "98.2 ms"},
		{339_123_456, "339 ms"},
		{1e9, "1 s"},
		{2_345e9, "2350 s"}, // an integer, not an exponent
		{0, "0 ns"},
		{-1234, "-1.23 µs"},
		{math.NaN(), NoValue},
		{math.Inf(1), NoValue},
	}
	for _, tt := range tests {
		if got := FormatNs(tt.ns); got != tt.want {
			t.Errorf("FormatNs(%g) = %q, want %q", tt.ns, got, tt.want)
		}
	}
}

func TestFormatRatio(t *testing.T) {
	tests := []struct {
		x    float64
		want string
	}{
		{1, "1×"},
		{0.5, "0.5×"},
		{0.98, "0.98×"},
		{2.54, "2.54×"},
		{2.546, "2.55×"},
		{9.994, "9.99×"},
		{9.996, "10×"},
		{37, "37×"},
		{99.96, "100×"},
		{177.4, "177×"},
		{999.4, "999×"},
		{999.5, "1k×"}, // three significant digits: 1000
		{1000, "1k×"},
		{1234, "1.23k×"},
		{4084, "4.08k×"},
		{82_036, "82k×"},
		{177_838, "178k×"},
		{999_499, "999k×"},
		{999_500, "1M×"},
		{3_761_785, "3.76M×"}, // issue 13: "3761785×"
		{17_686_721, "17.7M×"},
		{2.5e9, "2.5G×"},
		{0, NoValue},
		{-2, NoValue},
		{math.NaN(), NoValue},
		{math.Inf(1), NoValue},
	}
	for _, tt := range tests {
		if got := FormatRatio(tt.x); got != tt.want {
			t.Errorf("FormatRatio(%g) = %q, want %q", tt.x, got, tt.want)
		}
		if got := FormatRatio(tt.x); got != NoValue && significantDigits(got) > 3 {
			t.Errorf("FormatRatio(%g) = %q: more than 3 significant digits", tt.x, got)
		}
	}
}

// significantDigits counts the significant digits of a formatted number: its digits, less
// leading zeros and, in an integer, trailing zeros.
func significantDigits(s string) int {
	var digits []byte
	point := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '.':
			point = true
		}
	}
	d := strings.TrimLeft(string(digits), "0")
	if !point {
		d = strings.TrimRight(d, "0")
	}
	return len(d)
}

func TestQuantileMinN(t *testing.T) {
	tests := []struct {
		p    float64
		want int
	}{
		{50, 1},
		{75, 4},
		{90, 10},
		{95, 20},
		{99, 100},
		{99.9, 1000}, // 100 − 99.9 is not exactly 0.1
		{99.99, 10000},
		{100, math.MaxInt},
	}
	for _, tt := range tests {
		if got := QuantileMinN(tt.p); got != tt.want {
			t.Errorf("QuantileMinN(%g) = %d, want %d", tt.p, got, tt.want)
		}
	}
}

// TestQuantileSupported checks, for every n around the thresholds, that a quantile is
// supported exactly when its nearest rank is not the sample's maximum (the median aside,
// supported from one sample).
func TestQuantileSupported(t *testing.T) {
	for _, p := range []float64{90, 99, 99.9} {
		for n := 1; n <= 2000; n++ {
			rank := int(math.Ceil(float64(n) * p / 100 * (1 - 1e-12)))
			if got, want := QuantileSupported(p, n), rank < n; got != want {
				t.Errorf("QuantileSupported(%g, %d) = %v, want %v (rank %d)", p, n, got, want, rank)
			}
		}
	}
	for n, want := range map[int]bool{0: false, 1: true, 2: true} {
		if got := QuantileSupported(50, n); got != want {
			t.Errorf("QuantileSupported(50, %d) = %v, want %v", n, got, want)
		}
	}
}

// TestMedianCIMinN checks the constant against benchmath: no interval below it, one from it.
func TestMedianCIMinN(t *testing.T) {
	for n := 1; n <= MedianCIMinN+2; n++ {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(1000 + i)
		}
		d, _ := Describe(xs)
		if got, want := d.P50CI95Lo != nil && d.P50CI95Hi != nil, n >= MedianCIMinN; got != want {
			t.Errorf("n = %d: interval %v, want %v", n, got, want)
		}
	}
}

// tableRow is a result of the summary table tests: n invocations, errors failed, median
// latency p50 and start-up su, other quantiles above the median.
func tableRow(exp, w, m string, n, errors int, p50, su float64) Result {
	return Result{
		Key: Key{Experiment: exp, Workload: w, Mode: m, Load: "closed", Concurrency: 1, Size: "test"},
		N:   n, Errors: errors,
		LatencyNs: Dist{P50: p50, P90: p50 * 1.5, P99: p50 * 2, P999: p50 * 3},
		StartupNs: Dist{P50: su},
	}
}

// tableLine returns the cells of the line of workload w and mode m of a table (see
// tableCells), or nil.
func tableLine(out, w, m string) []string {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == w && f[1] == m || len(f) >= 3 && f[1] == w && f[2] == m {
			return tableCells(l)
		}
	}
	return nil
}

// tableCells splits a line of a table into its cells, separated by two spaces or more.
func tableCells(line string) []string {
	var cells []string
	for _, c := range strings.Split(line, "  ") {
		if c = strings.TrimSpace(c); c != "" {
			cells = append(cells, c)
		}
	}
	return cells
}

func TestWriteTable(t *testing.T) {
	// Columns without experiment and parameters: workload mode n errors p50 p90 p99
	// p50-vs-cold start-up-p50 start-up-vs-cold.
	tests := []struct {
		name    string
		results []Result
		rows    map[[2]string][]string // workload, mode → cells
		notes   []string               // lines under the table
		absent  []string
	}{
		{
			name: "quantiles per n",
			results: []Result{
				tableRow("", "w", "cold", 4, 0, 300e6, 290e6),
				tableRow("", "w", "rewind", 9, 0, 30e3, 2e3),
				tableRow("", "w", "warm", 10, 0, 10e3, 1.5e3),
				tableRow("", "w", "reinstantiate", 100, 0, 50e3, 20e3),
				tableRow("", "v", "rewind", 105, 6, 40e3, 5e3), // 99 successful
			},
			rows: map[[2]string][]string{
				{"w", "cold"}:          {"w", "cold", "4", "0", "300 ms", NoValue, NoValue, "1×", "290 ms", "1×"},
				{"w", "rewind"}:        {"w", "rewind", "9", "0", "30 µs", NoValue, NoValue, "10k×", "2 µs", "145k×"},
				{"w", "warm"}:          {"w", "warm", "10", "0", "10 µs", "15 µs", NoValue, "30k×", "1.5 µs", "193k×"},
				{"w", "reinstantiate"}: {"w", "reinstantiate", "100", "0", "50 µs", "75 µs", "100 µs", "6k×", "20 µs", "14.5k×"},
				{"v", "rewind"}:        {"v", "rewind", "105", "6", "40 µs", "60 µs", NoValue, NoValue, "5 µs", NoValue},
			},
			notes: []string{
				NoValue + " p90 needs n ≥ 10, p99 needs n ≥ 100 successful invocations",
				NoValue + " vs cold: " + reasonNoCold,
			},
		},
		{
			name: "ratios: few samples and the timer floor",
			results: []Result{
				tableRow("", "w", "cold", 3, 0, 100e6, 100e6),
				tableRow("", "w", "warm", 30, 0, 1.5e3, 90),      // start-up under 1 µs
				tableRow("", "w", "rewind", 30, 0, 999.4, 999.6), // 999 ns and 1 µs as shown
				tableRow("", "x", "cold", 2, 0, 100e6, 100e6),    // a median of 2
				tableRow("", "x", "rewind", 30, 28, 20e3, 3e3),   // a median of 2
				tableRow("", "y", "cold", 5, 3, 100e6, 100e6),    // 2 successful
				tableRow("", "y", "rewind", 0, 0, 0, 0),          // nothing at all
			},
			rows: map[[2]string][]string{
				{"w", "cold"}:   {"w", "cold", "3", "0", "100 ms", NoValue, NoValue, "1×", "100 ms", "1×"},
				{"w", "warm"}:   {"w", "warm", "30", "0", "1.5 µs", "2.25 µs", NoValue, "66.7k×", "90 ns", NoValue},
				{"w", "rewind"}: {"w", "rewind", "30", "0", "999 ns", "1.5 µs", NoValue, NoValue, "1 µs", "100k×"},
				{"x", "cold"}:   {"x", "cold", "2", "0", "100 ms", NoValue, NoValue, NoValue, "100 ms", NoValue},
				{"x", "rewind"}: {"x", "rewind", "30", "28", "20 µs", NoValue, NoValue, NoValue, "3 µs", NoValue},
				{"y", "rewind"}: {"y", "rewind", "0", "0", NoValue, NoValue, NoValue, NoValue, NoValue, NoValue},
			},
			notes: []string{
				NoValue + " p90 needs n ≥ 10, p99 needs n ≥ 100",
				NoValue + " vs cold: " + reasonFloor + "; or " + reasonFewN,
			},
			absent: []string{reasonNoCold},
		},
		{
			name: "enough everywhere: no notes",
			results: []Result{
				tableRow("", "w", "cold", 100, 0, 200e6, 200e6),
				tableRow("", "w", "rewind", 100, 0, 20e3, 2e3),
			},
			rows: map[[2]string][]string{
				{"w", "rewind"}: {"w", "rewind", "100", "0", "20 µs", "30 µs", "40 µs", "10k×", "2 µs", "100k×"},
			},
			absent: []string{NoValue},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteTable(&buf, &Summary{Results: tt.results}); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			head := "workload|mode|n|errors|p50|p90|p99|p50 vs cold|start-up p50|start-up vs cold"
			if got := strings.Join(tableCells(strings.SplitN(out, "\n", 2)[0]), "|"); got != head {
				t.Errorf("header %q, want %q", got, head)
			}
			for wm, want := range tt.rows {
				if got := tableLine(out, wm[0], wm[1]); strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("%s/%s:\n got %q\nwant %q\n%s", wm[0], wm[1], got, want, out)
				}
			}
			for _, n := range tt.notes {
				if !strings.Contains(out, "\n"+n) {
					t.Errorf("no note %q:\n%s", n, out)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(out, s) {
					t.Errorf("table contains %q:\n%s", s, out)
				}
			}
		})
	}
}

// TestWriteTableColumns checks the experiment and parameters columns and that a mode is
// compared with the cold result of its own experiment.
func TestWriteTableColumns(t *testing.T) {
	cold := tableRow("a", "w", "cold", 10, 0, 200e6, 200e6)
	rewind := tableRow("a", "w", "rewind", 10, 0, 20e3, 2e3)
	other := tableRow("b", "w", "rewind", 10, 0, 20e3, 2e3)
	other.Compartments = true
	var buf bytes.Buffer
	if err := WriteTable(&buf, &Summary{Results: []Result{cold, rewind, other}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	head := "experiment|workload|mode|parameters|n|errors|p50|p90|p99|p50 vs cold|start-up p50|start-up vs cold"
	if got := strings.Join(tableCells(strings.SplitN(out, "\n", 2)[0]), "|"); got != head {
		t.Errorf("header %q, want %q", got, head)
	}
	lines := strings.Split(out, "\n")
	if !strings.Contains(lines[2], "comp=off") || !strings.Contains(lines[2], "10k×") {
		t.Errorf("rewind of a: %q", lines[2])
	}
	if !strings.Contains(lines[3], "comp=on") || strings.Contains(lines[3], "×") {
		t.Errorf("rewind of b, which has no cold result, shows a speed-up: %q", lines[3])
	}
}

func TestWriteRewindTable(t *testing.T) {
	b := &RewindBench{Rows: []RewindRow{
		{Strategy: "tracked", MemoryBytes: 1 << 20, DirtyPages: 1, N: 50, RewindNsP50: 351, MemcpyNsP50: 50, InvokeNsP50: 842},
		{Strategy: "tracked", MemoryBytes: 64 << 20, DirtyPages: 16, N: 50, RewindNsP50: 4640, MemcpyNsP50: 1020, InvokeNsP50: 981},
		{Strategy: "full", MemoryBytes: 64 << 20, DirtyPages: 256, N: 2, RewindNsP50: 2.69e6, MemcpyNsP50: 16e3, InvokeNsP50: 9970},
	}}
	var buf bytes.Buffer
	if err := WriteRewindTable(&buf, b); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(out, "\n")
	for i, want := range []string{
		"strategy  memory  dirty pages  n   rewind p50  memcpy p50  rewind/memcpy  invoke p50",
		"tracked   1 MiB   1            50  351 ns      50 ns       " + NoValue + "              842 ns",
		"tracked   64 MiB  16           50  4.64 µs     1.02 µs     4.55×          981 ns",
		"full      64 MiB  256          2   2.69 ms     16 µs       " + NoValue + "              9.97 µs",
		NoValue + " rewind/memcpy: " + reasonFloor + "; or " + reasonFewN,
	} {
		if i >= len(lines) || strings.TrimRight(lines[i], " ") != want {
			t.Errorf("line %d:\n got %q\nwant %q", i, lines[min(i, len(lines)-1)], want)
		}
	}
}

// TestFormatPercent: signed, at most three significant digits, no trailing zeros.
func TestFormatPercent(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{0.3012, "+30.1%"}, {0.2998, "+30%"}, {-0.04234, "-4.23%"}, {0.005, "+0.5%"}, {0, "+0%"},
		{12.345, "+1230%"}, {math.NaN(), NoValue}, {math.Inf(1), NoValue},
	} {
		if got := FormatPercent(tc.f); got != tc.want {
			t.Errorf("FormatPercent(%v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}
