package results

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strconv"
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
			out:      []string{"-30%", "faster", "no regression"},
		},
		{
			name: "every invocation failed", new: failing,
			verdicts: map[string]string{"counter/cold": VerdictFailed},
			regress:  []string{"counter cold"},
			out:      []string{"new: 60 of 60 invocations failed", "failed every invocation"},
		},
		{
			// A configuration of the base run missing from the new one fails: what is not
			// measured cannot pass. One only in the new run is listed, not compared.
			name: "configurations in one run only", new: runOf(4, 60, 1, 1, "noop/warm", "counter/cold", "hello/warm"),
			verdicts: map[string]string{"noop/warm": VerdictSame, "json-stats/rewind": VerdictMissing},
			regress:  []string{"json-stats rewind"},
			out:      []string{"missing from the new run (60 arrivals in the base run)", "only in the new run (not compared):\n  hello warm"},
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

// inject returns a copy of rs with f applied to the measured records of one configuration
// ("workload/mode") whose index among them satisfies pick.
func inject(rs []Record, config string, pick func(i int) bool, f func(r *Record)) []Record {
	out := make([]Record, len(rs))
	copy(out, rs)
	i := 0
	for j := range out {
		r := &out[j]
		if r.Workload+"/"+r.Mode != config || r.Warmup {
			continue
		}
		if pick(i) {
			f(r)
		}
		i++
	}
	return out
}

func every(int) bool  { return true }
func half(i int) bool { return i%2 == 0 }

// valid marks every record's output valid: the workload expects an output and got it.
func valid(rs []Record) []Record {
	return inject(inject(inject(rs, "noop/warm", every, setValid), "json-stats/rewind", every, setValid), "counter/cold", every, setValid)
}

func setValid(r *Record) { ok := true; r.Valid = &ok }

// TestCompareCorrectness: besides latency, the gate fails a configuration that fails more
// often than the base run (unless the failures' kind is expected), answers wrongly more often,
// gives an output the base run never gave where outputs must repeat, or is missing; the
// table says why, per configuration.
func TestCompareCorrectness(t *testing.T) {
	all := []string{"noop/warm", "json-stats/rewind", "counter/cold"}
	base := valid(runOf(1, 60, 1, 1, all...))
	cur := valid(runOf(2, 60, 1, 1, all...))
	trap := func(r *Record) {
		no := false
		r.Error, r.ErrorKind, r.Valid, r.Invalid, r.OutputSHA256 = "trap: unreachable", "trap", &no, "the invocation failed", ""
	}
	wrong := func(r *Record) {
		no := false
		r.Valid, r.Invalid, r.OutputSHA256 = &no, "at $.count: got 2, want 1", "other"
	}
	unvalidated := func(r *Record) { r.Valid, r.OutputSHA256 = nil, "other" }
	drop := func(r *Record) {
		*r = Record{SchemaVersion: r.SchemaVersion, Target: r.Target, Workload: r.Workload, Mode: r.Mode, Strategy: r.Strategy,
			SnapshotPoint: r.SnapshotPoint, Size: r.Size, MemoryBytes: r.MemoryBytes, Load: r.Load, Concurrency: r.Concurrency, Seq: r.Seq, Dropped: true}
	}
	unique := func() func(r *Record) {
		n := 0
		return func(r *Record) { n++; r.Valid, r.OutputSHA256 = nil, strconv.Itoa(n) }
	}
	repeats := func(k Key) bool { return k.Workload != "counter" }
	expectTrap := func(Key) []string { return []string{"trap"} }
	expectDropped := func(Key) []string { return []string{Dropped} }
	tests := []struct {
		name    string
		base    []Record // default: base
		new     []Record
		opts    CompareOptions
		reasons map[string][]string // workload/mode → reasons; configurations not named pass
		out     []string            // substrings of the table
	}{
		{name: "healthy", new: cur, opts: CompareOptions{RepeatsOutput: repeats},
			out: []string{"errors  invalid  outputs  verdict", "0+0     0+0      1+1", "no regression"}},
		{name: "half the rewinds trap", new: inject(cur, "json-stats/rewind", half, trap),
			reasons: map[string][]string{"json-stats/rewind": {ReasonErrors}},
			out:     []string{"0+30", "errors", "json-stats rewind strategy=tracked snapshot_point=function: unexpected failures 0 of 60 → 30 of 60 (trap 30)"}},
		{name: "the traps are expected", new: inject(cur, "json-stats/rewind", half, trap), opts: CompareOptions{ExpectedErrors: expectTrap},
			out: []string{"new: 30 of 60 arrivals failed or were dropped as the config expects (trap 30)", "no regression"}},
		{name: "as many traps as the base run", base: inject(base, "json-stats/rewind", half, trap), new: inject(cur, "json-stats/rewind", half, trap),
			out: []string{"30+30", "no regression"}},
		{name: "every rewind invalid with another output", new: inject(cur, "json-stats/rewind", every, wrong),
			reasons: map[string][]string{"json-stats/rewind": {ReasonInvalid}},
			out:     []string{"snapshot_point=function: invalid outputs 0 of 60 → 60 of 60"}},
		{name: "invalid, outputs judged", new: inject(cur, "json-stats/rewind", every, wrong), opts: CompareOptions{RepeatsOutput: repeats},
			reasons: map[string][]string{"json-stats/rewind": {ReasonInvalid, ReasonOutputs}},
			out:     []string{"invalid,outputs", "distinct outputs 1 → 1 (1 the base run never gave) where outputs must repeat"}},
		{name: "a second output where outputs must repeat", new: inject(cur, "json-stats/rewind", half, unvalidated), opts: CompareOptions{RepeatsOutput: repeats},
			reasons: map[string][]string{"json-stats/rewind": {ReasonOutputs}},
			out:     []string{"1+2", "outputs", "distinct outputs 1 → 2"}},
		{name: "a second output where outputs may vary", new: inject(cur, "counter/cold", half, unvalidated), opts: CompareOptions{RepeatsOutput: repeats},
			out: []string{"no regression"}},
		{name: "more distinct outputs than are counted", base: valid(runOf(1, MaxDistinctOutputs+10, 1, 1, "json-stats/rewind")),
			new:  inject(valid(runOf(2, MaxDistinctOutputs+10, 1, 1, "json-stats/rewind")), "json-stats/rewind", every, unique()),
			opts: CompareOptions{RepeatsOutput: repeats}, reasons: map[string][]string{"json-stats/rewind": {ReasonOutputs}},
			out: []string{"1+≥1024", "distinct outputs 1 → ≥1024 (at least 1024, counting stopped)"}},
		{name: "the base's outputs not all counted", base: inject(valid(runOf(1, MaxDistinctOutputs+10, 1, 1, "json-stats/rewind")), "json-stats/rewind", every, unique()),
			new:  inject(valid(runOf(2, MaxDistinctOutputs+10, 1, 1, "json-stats/rewind")), "json-stats/rewind", every, unique()),
			opts: CompareOptions{RepeatsOutput: repeats}, out: []string{"≥1024+≥1024", "no regression"}},
		{name: "dropped arrivals", new: inject(cur, "noop/warm", half, drop),
			reasons: map[string][]string{"noop/warm": {ReasonErrors}},
			out:     []string{"noop warm: unexpected failures 0 of 60 → 30 of 60 (dropped 30)"}},
		{name: "dropped arrivals expected", new: inject(cur, "noop/warm", half, drop), opts: CompareOptions{ExpectedErrors: expectDropped},
			out: []string{"no regression"}},
		{name: "missing and failing", new: inject(valid(runOf(2, 60, 1, 1, "noop/warm", "counter/cold")), "counter/cold", every, trap),
			reasons: map[string][]string{"json-stats/rewind": {ReasonMissing}, "counter/cold": {ReasonFailed, ReasonErrors}},
			out:     []string{"missing", "failed,errors", "counter cold: failed every invocation; unexpected failures 0 of 60 → 60 of 60 (trap 60)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Threshold = 0.05
			b := base
			if tt.base != nil {
				b = tt.base
			}
			c, err := Compare(b, tt.new, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := WriteComparison(&buf, c); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, r := range c.Rows {
				config := r.Key.Workload + "/" + r.Key.Mode
				if want := tt.reasons[config]; !slices.Equal(r.Reasons, want) || r.Regression() != (len(want) > 0) {
					t.Errorf("%s: reasons %v, want %v\n%s", config, r.Reasons, want, out)
				}
			}
			if len(c.Regressions()) != len(tt.reasons) {
				t.Errorf("%d regressions, want %d:\n%s", len(c.Regressions()), len(tt.reasons), out)
			}
			for _, want := range tt.out {
				if !strings.Contains(out, want) {
					t.Errorf("table lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestExceedsRate: failures are compared as rates, rounded up to a whole invocation, so that
// runs of different lengths compare fairly and equal lengths compare counts.
func TestExceedsRate(t *testing.T) {
	tests := []struct {
		name                       string
		baseCount, baseN, count, n int
		want                       bool
	}{
		{"none", 0, 100, 0, 100, false},
		{"one where there was none", 0, 100, 1, 100, true},
		{"as many", 3, 100, 3, 100, false},
		{"one more", 3, 100, 4, 100, true},
		{"fewer", 5, 100, 2, 100, false},
		{"one failure, a slightly shorter run", 1, 1000, 1, 990, false},
		{"one failure, a run ten times shorter", 1, 1000, 1, 100, false},
		{"two failures, a run ten times shorter", 1, 1000, 2, 100, true},
		{"fewer failures, a higher rate", 10, 10000, 5, 1000, true},
		{"more failures, the same rate", 10, 1000, 20, 2000, false},
		{"no base arrivals", 0, 0, 1, 10, true},
		{"no new failure, no base arrivals", 0, 0, 0, 10, false},
	}
	for _, tt := range tests {
		if got := ExceedsRate(tt.baseCount, tt.baseN, tt.count, tt.n); got != tt.want {
			t.Errorf("%s: ExceedsRate(%d, %d, %d, %d) = %v, want %v", tt.name, tt.baseCount, tt.baseN, tt.count, tt.n, got, tt.want)
		}
	}
}

// TestRunFailures: what makes reclave run exit 3, from a summary: failures of a kind the
// configuration does not expect, dropped arrivals unless expected, and invalid outputs of
// successful invocations (a failed invocation's own invalid is not counted twice).
func TestRunFailures(t *testing.T) {
	var rs []Record
	add := func(experiment, workload string, n int, f func(i int, r *Record)) {
		for i := range n {
			r := rec(workload, "rewind", i, int64(i)*1e6, 1e4)
			r.Experiment = experiment
			ok := true
			r.Valid = &ok
			f(i, &r)
			rs = append(rs, r)
		}
	}
	no := false
	add("a", "healthy", 10, func(int, *Record) {})
	add("a", "traps", 10, func(i int, r *Record) {
		if i < 4 {
			r.Error, r.ErrorKind, r.Valid = "trap: unreachable", "trap", &no
		}
	})
	add("a", "wrong", 10, func(i int, r *Record) {
		if i < 3 {
			r.Valid, r.OutputSHA256 = &no, "other"
		}
	})
	add("b", "deadlines", 10, func(i int, r *Record) {
		if i < 5 {
			r.Error, r.ErrorKind, r.Valid = "deadline: 1ms", "deadline", &no
		}
	})
	add("b", "drops", 10, func(i int, r *Record) {
		if i < 2 {
			r.Dropped, r.Valid = true, nil
		}
	})
	s := &Summary{Results: Summarize(rs)}
	tests := []struct {
		name     string
		expected map[string][]string // by experiment
		want     []string            // String of each failure
	}{
		{"nothing expected", nil, []string{
			"traps rewind experiment=a: 4 of 10 failed unexpectedly (trap 4)",
			"wrong rewind experiment=a: 3 of 10 invalid outputs",
			"deadlines rewind experiment=b: 5 of 10 failed unexpectedly (deadline 5)",
			"drops rewind experiment=b: 2 of 10 failed unexpectedly (dropped 2)",
		}},
		{"deadlines and drops expected in b", map[string][]string{"b": {"deadline", Dropped}}, []string{
			"traps rewind experiment=a: 4 of 10 failed unexpectedly (trap 4)",
			"wrong rewind experiment=a: 3 of 10 invalid outputs",
		}},
		{"traps expected in b only", map[string][]string{"b": {"trap"}}, []string{
			"traps rewind experiment=a: 4 of 10 failed unexpectedly (trap 4)",
			"wrong rewind experiment=a: 3 of 10 invalid outputs",
			"deadlines rewind experiment=b: 5 of 10 failed unexpectedly (deadline 5)",
			"drops rewind experiment=b: 2 of 10 failed unexpectedly (dropped 2)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range RunFailures(s, func(k Key) []string { return tt.expected[k.Experiment] }) {
				got = append(got, f.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
