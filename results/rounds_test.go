package results

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestPairRatio checks paired ratios and their intervals against values computed by hand.
// The ratio is the geometric mean of the round ratios; its 95% interval is
// exp(m ± t·s/√n), m and s the mean and sample standard deviation of the logarithms of the
// ratios, t Student's 0.975 quantile with n − 1 degrees of freedom (4.302653 for n = 3).
func TestPairRatio(t *testing.T) {
	tests := []struct {
		name        string
		num, den    []float64 // round medians
		rounds      int
		ratio       float64
		lo, hi      float64 // 0, 0: no interval
		roundRatios []float64
		warns       []string // substrings, in order
	}{
		{
			// Ratios 1.1, 1.05, 1.2: geometric mean ∛(1.1·1.05·1.2) = ∛1.386 = 1.114947. Logs
			// 0.095310, 0.048790, 0.182322: mean 0.108807, deviations −0.013497, −0.060017,
			// 0.073514, Σd² = 0.0091886, s = √(0.0091886/2) = 0.067781, s/√3 = 0.039134,
			// t·s/√3 = 0.168378: exp(0.108807 ∓ 0.168378) = [0.942169, 1.319411], reaching
			// 18.3% above the ratio: wider than ±5%.
			name: "three rounds", num: []float64{110, 210, 480}, den: []float64{100, 200, 400},
			rounds: 3, ratio: 1.114947, lo: 0.942169, hi: 1.319411,
			roundRatios: []float64{1.1, 1.05, 1.2}, warns: []string{"reaches 18.3% from it"},
		},
		{
			// The same ratio in every round: s = 0, the interval is the point 1.02.
			name: "constant ratio", num: []float64{102, 204, 51}, den: []float64{100, 200, 50},
			rounds: 3, ratio: 1.02, lo: 1.02, hi: 1.02, roundRatios: []float64{1.02, 1.02, 1.02},
		},
		{
			// Two rounds: √(1.1·1.05) = 1.074709, and no interval.
			name: "two rounds", num: []float64{110, 210}, den: []float64{100, 200},
			rounds: 2, ratio: 1.074709, roundRatios: []float64{1.1, 1.05},
			warns: []string{"2 round(s): no confidence interval", "at least 3 rounds"},
		},
		{
			// Round 1 of the denominator had no success (median 0): its ratio is 0 and left
			// out. Ratios 0.9, 1.1, 1.0: ∛0.99 = 0.996655; logs −0.105361, 0.095310, 0: mean
			// −0.003350, s = 0.100377, t·s/√3 = 0.249351: [0.776700, 1.278901].
			name: "a round without success", num: []float64{90, 50, 440, 200}, den: []float64{100, 0, 400, 200},
			rounds: 3, ratio: 0.996655, lo: 0.776700, hi: 1.278901,
			roundRatios: []float64{0.9, 0, 1.1, 1}, warns: []string{"more than ±5%"},
		},
		{
			// The numerator has a round fewer: the last ratio is 0.
			name: "unequal rounds", num: []float64{110, 210}, den: []float64{100, 200, 300},
			rounds: 2, ratio: 1.074709, roundRatios: []float64{1.1, 1.05, 0},
			warns: []string{"no confidence interval"},
		},
		{
			name: "no round in common", num: []float64{0, 5}, den: []float64{5, 0},
			roundRatios: []float64{0, 0}, warns: []string{"no round in which both"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			num := &Result{Key: Key{Workload: "w", Mode: "rewind"}, RoundP50Ns: tt.num}
			den := &Result{Key: Key{Workload: "w", Mode: "warm"}, RoundP50Ns: tt.den}
			p := PairRatio(PairRewindWarm, num, den)
			if p.Kind != PairRewindWarm || p.Numerator != num.Key || p.Denominator != den.Key {
				t.Errorf("kind %q, numerator %+v, denominator %+v", p.Kind, p.Numerator, p.Denominator)
			}
			if p.Rounds != tt.rounds || !nearRel(p.Ratio, tt.ratio, 1e-6) {
				t.Errorf("rounds %d ratio %.6f, want %d and %.6f", p.Rounds, p.Ratio, tt.rounds, tt.ratio)
			}
			if len(p.RoundRatios) != len(tt.roundRatios) {
				t.Fatalf("round ratios %v, want %v", p.RoundRatios, tt.roundRatios)
			}
			for i := range p.RoundRatios {
				if !nearRel(p.RoundRatios[i], tt.roundRatios[i], 1e-12) {
					t.Errorf("round ratios %v, want %v", p.RoundRatios, tt.roundRatios)
				}
			}
			switch {
			case tt.lo == 0 && (p.CI95Lo != nil || p.CI95Hi != nil):
				t.Errorf("interval [%v, %v], want none", *p.CI95Lo, *p.CI95Hi)
			case tt.lo != 0 && (p.CI95Lo == nil || p.CI95Hi == nil):
				t.Errorf("no interval, want [%g, %g]", tt.lo, tt.hi)
			case tt.lo != 0 && (!nearRel(*p.CI95Lo, tt.lo, 1e-5) || !nearRel(*p.CI95Hi, tt.hi, 1e-5)):
				t.Errorf("interval [%.6f, %.6f], want [%.6f, %.6f]", *p.CI95Lo, *p.CI95Hi, tt.lo, tt.hi)
			}
			checkWarnings(t, p.Warnings, tt.warns)
		})
	}
}

// nearRel reports whether a is within rel (relative) of b, or both are 0.
func nearRel(a, b, rel float64) bool {
	if b == 0 {
		return a == 0
	}
	return math.Abs(a/b-1) <= rel
}

// checkWarnings checks that each of want is a substring of one of got, in order, and that
// got has no warning when want has none.
func checkWarnings(t *testing.T, got, want []string) {
	t.Helper()
	joined := strings.Join(got, "\n")
	if len(want) == 0 && len(got) > 0 {
		t.Errorf("warnings %q, want none", got)
	}
	for _, w := range want {
		i := strings.Index(joined, w)
		if i < 0 {
			t.Errorf("warnings %q lack %q", got, w)
			continue
		}
		joined = joined[i+len(w):]
	}
}

// TestPairs: compartments on pairs with the same configuration off; rewind with warm of the
// same workload, parameters and compartments; never across experiments or concurrency
// levels. They come in the order of their numerators.
func TestPairs(t *testing.T) {
	res := func(exp, w, mode string, comp bool, conc int) Result {
		r := Result{Key: Key{Target: "embedded", Experiment: exp, Workload: w, Mode: mode, Size: "small",
			Compartments: comp, Load: "closed", Concurrency: conc}, RoundP50Ns: []float64{100, 100, 100}}
		if mode == "rewind" {
			r.Strategy, r.SnapshotPoint = "tracked", "function"
		}
		return r
	}
	rs := []Result{
		res("overhead", "a", "warm", false, 1),
		res("overhead", "a", "warm", true, 1),
		res("overhead", "a", "rewind", false, 1),
		res("overhead", "a", "rewind", true, 1),
		res("headline", "a", "warm", true, 1),   // another experiment: no compartments twin
		res("headline", "a", "cold", true, 1),   // cold pairs with nothing
		res("headline", "b", "rewind", true, 2), // warm at another concurrency only
		res("headline", "b", "warm", true, 1),
	}
	var got []string
	for _, p := range Pairs(rs) {
		n, d := p.Numerator, p.Denominator
		got = append(got, p.Kind+" "+n.Experiment+" "+n.Workload+" "+n.Mode+on(n.Compartments)+" / "+d.Mode+on(d.Compartments))
	}
	want := []string{
		"compartments overhead a warm+c / warm",
		"rewind_vs_warm overhead a rewind / warm",
		"compartments overhead a rewind+c / rewind",
		"rewind_vs_warm overhead a rewind+c / warm+c",
	}
	if !slices.Equal(got, want) {
		t.Errorf("pairs\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func on(c bool) string {
	if c {
		return "+c"
	}
	return ""
}

// TestRoundMedians: the Summarizer gives each configuration the median of each of its rounds
// when the rounds of several configurations interleave in the stream, a round without a
// success gets 0, and a record of a round already closed is left out of the medians with a
// warning.
func TestRoundMedians(t *testing.T) {
	var rs []Record
	add := func(w string, round int, lats ...int64) {
		for i, l := range lats {
			r := rec(w, "rewind", i, int64(len(rs))*1000, l)
			r.Round, r.Repetition = round, round
			rs = append(rs, r)
		}
	}
	// Round 0: a then b; round 1: b then a; round 2: a (one failure only) then b.
	add("a", 0, 10, 30, 20)
	add("b", 0, 5, 5)
	add("b", 1, 7, 9, 8, 100)
	add("a", 1, 40, 50, 60)
	fail := rec("a", "rewind", 9, 0, 1)
	fail.Round, fail.Error = 2, "trap"
	rs = append(rs, fail)
	add("b", 2, 3)
	warm := rec("a", "rewind", 10, 0, 1)
	warm.Round, warm.Warmup = 1, true // warm-up: ignored
	rs = append(rs, warm)

	got := Summarize(rs)
	want := map[string][]float64{"a": {20, 50, 0}, "b": {5, 8, 3}}
	for _, r := range got {
		if !slices.Equal(r.RoundP50Ns, want[r.Workload]) {
			t.Errorf("%s: round medians %v, want %v", r.Workload, r.RoundP50Ns, want[r.Workload])
		}
		if strings.Contains(strings.Join(r.Warnings, "\n"), "round") {
			t.Errorf("%s: warnings %q", r.Workload, r.Warnings)
		}
	}

	// A record of round 0 after round 1 began: left out of the medians, with a warning.
	late := rec("b", "rewind", 20, 0, 1000)
	rs = append(rs, late)
	for _, r := range Summarize(rs) {
		if r.Workload != "b" {
			continue
		}
		if !slices.Equal(r.RoundP50Ns, want["b"]) {
			t.Errorf("round medians %v after a stray record, want %v", r.RoundP50Ns, want["b"])
		}
		checkWarnings(t, r.Warnings, []string{"1 invocations arrived after a later round"})
	}
}

// TestRecordRound: records carry round; one written before rounds (no round) reads with its
// repetition as its round.
func TestRecordRound(t *testing.T) {
	r := rec("w", "warm", 0, 1, 2)
	r.Repetition, r.Round = 2, 2
	b := AppendRecord(nil, &r)
	if !strings.Contains(string(b), `"repetition":2,"round":2,`) {
		t.Errorf("record %s lacks round", b)
	}
	for _, tt := range []struct {
		line  string
		round int
	}{
		{`{"schema_version":3,"workload":"w","mode":"warm","repetition":2}`, 2},
		{`{"schema_version":2,"workload":"w","mode":"warm","repetition":1}`, 1},
		{`{"schema_version":1,"workload":"w","mode":"warm"}`, 0},
		{`{"schema_version":3,"workload":"w","mode":"warm","repetition":4,"round":4}`, 4},
	} {
		recs, err := DecodeRecords(strings.NewReader(tt.line + "\n"))
		if err != nil || len(recs) != 1 {
			t.Fatalf("%s: %v", tt.line, err)
		}
		if recs[0].Round != tt.round {
			t.Errorf("%s: round %d, want %d", tt.line, recs[0].Round, tt.round)
		}
	}
}

// TestNoise: the noise indicator's median and spread of the calibration timings, and its
// warnings beyond each threshold.
func TestNoise(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	cal := func(ns ...int64) []CalibrationSample {
		var out []CalibrationSample
		for i, n := range ns {
			out = append(out, CalibrationSample{TNs: int64(i) * 1e9, Ns: n})
		}
		return out
	}
	tests := []struct {
		name         string
		cal          []CalibrationSample
		steal, other *float64
		p50, spread  float64
		warns        []string
	}{
		// 3.0, 3.1, 3.06 ms: median 3.06, spread 3.1/3.0 − 1 = 3.3%: quiet.
		{name: "quiet", cal: cal(3_000_000, 3_100_000, 3_060_000), steal: f(0), other: f(0.01), p50: 3_060_000, spread: 0.1 / 3},
		// 3 and 6 ms: spread 100%; steal 2%; others busy 40%.
		{name: "noisy", cal: cal(3_000_000, 6_000_000), steal: f(0.02), other: f(0.4), p50: 3_000_000, spread: 1,
			warns: []string{"spread by 100%", "2.0% of the CPU time was stolen", "other processes used 40%"}},
		// One timing: no spread; /proc unreadable: no fractions, no warnings.
		{name: "one timing", cal: cal(3_000_000), p50: 3_000_000},
		{name: "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := NewNoise(tt.cal, tt.steal, tt.other)
			if n.CalibrationP50Ns != tt.p50 || !nearRel(n.CalibrationSpread, tt.spread, 1e-9) {
				t.Errorf("p50 %v spread %v, want %v and %v", n.CalibrationP50Ns, n.CalibrationSpread, tt.p50, tt.spread)
			}
			checkWarnings(t, n.Warnings(), tt.warns)
			b, err := json.Marshal(n)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{`"calibration":`, `"calibration_spread":`, `"steal_fraction":`, `"other_busy_fraction":`} {
				if !strings.Contains(string(b), k) {
					t.Errorf("%s lacks %s", b, k)
				}
			}
		})
	}
	var nilNoise *Noise
	if nilNoise.Warnings() != nil {
		t.Error("a nil noise indicator warns")
	}
}
