package results

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// runOf makes the records of a run: n invocations per configuration (workload, mode), each
// latency the configuration's median times factor times uniform noise of ±5%, plus a warm-up
// invocation 100 times slower that every comparison must ignore. exec_ns is a tenth of the
// latency times execFactor.
func runOf(seed uint64, n int, factor, execFactor float64, configs ...string) []Record {
	rng := rand.New(rand.NewPCG(seed, 1))
	medians := map[string]float64{"noop/warm": 10e3, "json-stats/rewind": 50e3, "counter/cold": 5e6}
	var out []Record
	for _, c := range configs {
		w, m, _ := strings.Cut(c, "/")
		for i := -1; i < n; i++ {
			lat := int64(medians[c] * factor * (1 + 0.1*(rng.Float64()-0.5)))
			r := rec(w, m, i+1, int64(i)*1e6, lat)
			r.Target, r.Load, r.Concurrency, r.MemoryBytes = "embedded", "closed", 1, 80<<20
			r.ExecNs = int64(float64(lat) / 10 * execFactor)
			if m == "rewind" {
				r.Strategy, r.SnapshotPoint = "tracked", "function"
			}
			if i < 0 {
				r.Warmup, r.LatencyNs = true, lat*100
			}
			out = append(out, r)
		}
	}
	return out
}

// scale multiplies the latencies of the records of one configuration ("workload/mode") by f.
func scale(rs []Record, config string, f float64) []Record {
	out := make([]Record, len(rs))
	copy(out, rs)
	for i := range out {
		if out[i].Workload+"/"+out[i].Mode == config {
			out[i].LatencyNs = int64(float64(out[i].LatencyNs) * f)
		}
	}
	return out
}

func TestCompare(t *testing.T) {
	all := []string{"noop/warm", "json-stats/rewind", "counter/cold"}
	base := runOf(1, 60, 1, 1, all...)
	failing := runOf(2, 60, 1, 1, all...)
	for i := range failing {
		if failing[i].Workload == "counter" && !failing[i].Warmup {
			failing[i].Error, failing[i].ErrorKind = "trap: unreachable", "trap"
		}
	}
	tests := []struct {
		name     string
		base     []Record // default: base
		new      []Record
		opts     CompareOptions
		verdicts map[string]string // workload/mode → verdict
		regress  []string          // configurations named as regressions in the table's last lines
		out      []string          // substrings of the table
	}{
		{
			name: "identical", new: base,
			verdicts: map[string]string{"noop/warm": VerdictSame, "json-stats/rewind": VerdictSame, "counter/cold": VerdictSame},
			out:      []string{"no regression", "every configuration: target=embedded"},
		},
		{
			name: "another run of the same", new: runOf(7, 60, 1, 1, all...),
			verdicts: map[string]string{"noop/warm": VerdictSame, "json-stats/rewind": VerdictSame, "counter/cold": VerdictSame},
		},
		{
			name: "slowed by 30% with noise", new: scale(runOf(3, 60, 1, 1, all...), "json-stats/rewind", 1.3),
			verdicts: map[string]string{"noop/warm": VerdictSame, "json-stats/rewind": VerdictRegression},
			regress:  []string{"json-stats rewind"},
			out:      []string{"1 regression(s)", "median +3"},
		},
		{
			// 2% slower: significant with 60 samples of ±5% noise, but under the 5% threshold.
			name: "slowed by less than the threshold", new: scale(base, "noop/warm", 1.02),
			verdicts: map[string]string{"noop/warm": VerdictSlower, "json-stats/rewind": VerdictSame},
			out:      []string{"slower", "no regression"},
		},
		{
			name: "same slow-down, threshold 1%", new: scale(base, "noop/warm", 1.02), opts: CompareOptions{Threshold: 0.01},
			verdicts: map[string]string{"noop/warm": VerdictRegression},
			regress:  []string{"noop warm"},
		},
		{
			name: "faster", new: scale(base, "counter/cold", 0.7),
			verdicts: map[string]string{"counter/cold": VerdictFaster, "noop/warm": VerdictSame},
			out:      []string{"-30.", "faster", "no regression"},
		},
		{
			name: "every invocation failed", new: failing,
			verdicts: map[string]string{"counter/cold": VerdictFailed},
			regress:  []string{"counter cold"},
			out:      []string{"new: 60 of 60 invocations failed", "failed every invocation"},
		},
		{
			name: "configurations in one run only", new: runOf(4, 60, 1, 1, "noop/warm", "counter/cold", "hello/warm"),
			verdicts: map[string]string{"noop/warm": VerdictSame},
			out:      []string{"only in the base run (not compared):\n  json-stats rewind", "only in the new run (not compared):\n  hello warm"},
		},
		{
			name: "exec slower, latency compared", new: runOf(5, 60, 1, 1.5, all...),
			verdicts: map[string]string{"json-stats/rewind": VerdictSame},
		},
		{
			name: "exec slower, exec compared", new: runOf(5, 60, 1, 1.5, all...), opts: CompareOptions{Metric: "exec"},
			verdicts: map[string]string{"json-stats/rewind": VerdictRegression, "noop/warm": VerdictRegression},
			regress:  []string{"noop warm", "json-stats rewind", "counter cold"},
			out:      []string{"exec_ns: median", "+5"},
		},
		{
			// Three against three, twice as slow: the U test cannot reach p < 0.05 with n = 3.
			name: "too few samples", base: runOf(6, 3, 1, 1, "noop/warm"), new: scale(runOf(6, 3, 1, 1, "noop/warm"), "noop/warm", 2),
			verdicts: map[string]string{"noop/warm": VerdictSame},
			out:      []string{"need >= 4 samples to detect a difference", "new: need >= 6 samples for confidence interval", "± ∞"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Threshold == 0 {
				tt.opts.Threshold = 0.05
			}
			b := base
			if tt.base != nil {
				b = tt.base
			}
			c, err := Compare(b, tt.new, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, r := range c.Rows {
				got[r.Key.Workload+"/"+r.Key.Mode] = r.Verdict
			}
			for config, want := range tt.verdicts {
				if got[config] != want {
					t.Errorf("%s: verdict %q, want %q (all: %v)", config, got[config], want, got)
				}
			}
			var buf bytes.Buffer
			if err := WriteComparison(&buf, c); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if len(c.Regressions()) != len(tt.regress) {
				t.Errorf("%d regressions, want %d:\n%s", len(c.Regressions()), len(tt.regress), out)
			}
			_, tail, _ := strings.Cut(out, "regression(s):\n")
			for _, name := range tt.regress {
				if !strings.Contains(tail, "  "+name) {
					t.Errorf("the regression %s is not named at the end:\n%s", name, out)
				}
			}
			for _, want := range tt.out {
				if !strings.Contains(out, want) {
					t.Errorf("table lacks %q:\n%s", want, out)
				}
			}
			if tt.name == "identical" && strings.Count(out, "  ~  ") != 3 {
				t.Errorf("identical runs: not every delta is ~:\n%s", out)
			}
		})
	}
}

func TestCompareErrors(t *testing.T) {
	base := runOf(1, 10, 1, 1, "noop/warm")
	other := runOf(1, 10, 1, 1, "noop/warm")
	for i := range other {
		other[i].Size = "large"
	}
	tests := []struct {
		name      string
		base, new []Record
		opts      CompareOptions
		want      string
	}{
		{"no common configuration", base, other, CompareOptions{}, `share no configuration (base has 1, new has 1; for example size "small" vs "large")`},
		{"empty base", nil, base, CompareOptions{}, "base run has no measured records"},
		{"only warm-up in new", base, base[:1], CompareOptions{}, "new run has no measured records"},
		{"bad metric", base, base, CompareOptions{Metric: "speed"}, `metric "speed"`},
		{"bad alpha", base, base, CompareOptions{Alpha: 1.5}, "alpha 1.5"},
		{"negative threshold", base, base, CompareOptions{Threshold: -0.1}, "threshold -0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compare(tt.base, tt.new, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// repsOf makes a run of noop/warm with reps repetitions of n invocations; each repetition's
// level is drift × a factor drawn per repetition (±6%), each invocation ±1% around it: the
// shape of a shared machine, whose state moves between runs and repetitions more than
// within one.
func repsOf(seed uint64, reps, n int, drift float64) []Record {
	rng := rand.New(rand.NewPCG(seed, 2))
	var out []Record
	for rep := range reps {
		level := 10e3 * drift * (1 + 0.12*(rng.Float64()-0.5))
		for i := range n {
			r := rec("noop", "warm", i, int64(i)*1e6, int64(level*(1+0.02*(rng.Float64()-0.5))))
			r.Repetition = rep
			out = append(out, r)
		}
	}
	return out
}

// TestCompareByRepetition: between two runs of the same build whose machine drifted by 4%,
// every invocation counts as a sample of a difference and the invocation unit calls it
// significant; with the repetition as the unit, the drift is within each side's spread and
// the verdict is "~". A real slow-down of 30% is a regression in both units.
func TestCompareByRepetition(t *testing.T) {
	base := repsOf(1, 6, 200, 1)
	drifted := repsOf(1, 6, 200, 1.04)
	slower := repsOf(1, 6, 200, 1.3)
	for _, tc := range []struct {
		name    string
		cur     []Record
		unit    string
		verdict string
		n       int
	}{
		{"drift by invocation", drifted, UnitInvocation, VerdictSlower, 1200},
		{"drift by repetition", drifted, UnitRepetition, VerdictSame, 6},
		{"slower by invocation", slower, UnitInvocation, VerdictRegression, 1200},
		{"slower by repetition", slower, UnitRepetition, VerdictRegression, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Compare(base, tc.cur, CompareOptions{Threshold: 0.05, Unit: tc.unit})
			if err != nil {
				t.Fatal(err)
			}
			r := c.Rows[0]
			if r.Verdict != tc.verdict || r.BaseN != tc.n || r.NewN != tc.n || c.Unit != tc.unit {
				t.Fatalf("verdict %q (p %.4f, delta %+.3f), n %d+%d, unit %s; want %q with n %d", r.Verdict, r.P, r.Delta, r.BaseN, r.NewN, c.Unit, tc.verdict, tc.n)
			}
			var out bytes.Buffer
			if err := WriteComparison(&out, c); err != nil {
				t.Fatal(err)
			}
			if tc.unit == UnitRepetition && !strings.Contains(out.String(), "median of each repetition") {
				t.Fatalf("the table does not say what a sample is:\n%s", out.String())
			}
		})
	}
	if _, err := Compare(base, drifted, CompareOptions{Unit: "week"}); err == nil || !strings.Contains(err.Error(), "unit") {
		t.Fatalf("unknown unit: %v", err)
	}
}
