package results

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func ptrTo[T any](v T) *T { return &v }

// TestDescribe checks every statistic against values computed by hand. Quantiles are nearest
// rank: the p-th percentile of n sorted values is the one of rank ⌈n·p/100⌉. The median's 95%
// interval [x(l), x(h)] is the narrowest band of order statistics around the median whose
// binomial coverage P(l ≤ B(n, ½) < h) reaches 0.95 (benchmath's rule: exact sums up to n = 30,
// the normal approximation with continuity correction above).
func TestDescribe(t *testing.T) {
	seq := func(n int, scale float64) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[n-1-i] = float64(i+1) * scale // descending: Describe must sort
		}
		return xs
	}
	tests := []struct {
		name   string
		xs     []float64
		want   Dist // CI bounds in lo, hi below
		lo, hi float64
		noCI   bool
		warns  []string // substrings, one per expected warning, in order
	}{
		{
			// n=10: p50 rank ⌈5⌉=5 → 50, p90 rank 9 → 90, p99 rank ⌈9.9⌉=10 → 100.
			// mean 550/10 = 55; deviations ±5, ±15, ±25, ±35, ±45: Σd² = 2·(25+225+625+1225+2025)
			// = 8250, population variance 825, stddev √825 = 28.7228.
			// CI: PMF of B(10,½) ×1024 = 1 10 45 120 210 252 210 120 45 10 1; [x(3), x(8)] covers
			// 1 − 2·(1+10+45)/1024 = 0.891 < 0.95, [x(2), x(9)] covers 1 − 2·11/1024 = 0.979:
			// [20, 90], reaching max(90/50−1, 1−20/50) = 80% from the median: high variance.
			name: "ten spread", xs: []float64{100, 10, 90, 20, 80, 30, 70, 40, 60, 50},
			want: Dist{P50: 50, P90: 90, P99: 100, P999: 100, Mean: 55, Stddev: math.Sqrt(825), Min: 10, Max: 100},
			lo:   20, hi: 90, warns: []string{"high variance", "reaches 80% from the median"},
		},
		{
			// n=10 sorted 96 97 98 99 100 100 101 102 103 104: p50 rank 5 → 100, p90 rank 9 → 103,
			// p99 → 104; mean 1000/10 = 100; Σd² = 16+9+4+1+0+0+1+4+9+16 = 60, stddev √6.
			// CI [x(2), x(9)] = [97, 103]: 3% from the median, no warning.
			name: "ten tight", xs: []float64{104, 96, 100, 103, 97, 102, 98, 101, 99, 100},
			want: Dist{P50: 100, P90: 103, P99: 104, P999: 104, Mean: 100, Stddev: math.Sqrt(6), Min: 96, Max: 104},
			lo:   97, hi: 103,
		},
		{
			// n=6: PMF ×64 = 1 6 15 20 15 6 1; [x(1), x(6)] covers 1 − 2/64 = 0.969 (the smallest
			// n with an interval). p50 rank 3 → 3, p90 rank ⌈5.4⌉=6 → 6; mean 3.5; Σd² = 2·(6.25
			// + 2.25 + 0.25) = 17.5, stddev √(17.5/6). CI [1, 6]: 100% from the median.
			name: "six", xs: []float64{6, 5, 4, 3, 2, 1},
			want: Dist{P50: 3, P90: 6, P99: 6, P999: 6, Mean: 3.5, Stddev: math.Sqrt(17.5 / 6), Min: 1, Max: 6},
			lo:   1, hi: 6, warns: []string{"high variance"},
		},
		{
			// n=5: even [x(1), x(5)] covers only 1 − 2/32 = 0.9375: no interval. p50 rank ⌈2.5⌉=3
			// → 3, p90 rank ⌈4.5⌉=5 → 5; mean 3; Σd² = 4+1+0+1+4 = 10, stddev √2.
			name: "five", xs: []float64{5, 1, 4, 2, 3},
			want: Dist{P50: 3, P90: 5, P99: 5, P999: 5, Mean: 3, Stddev: math.Sqrt2, Min: 1, Max: 5},
			noCI: true, warns: []string{"need >= 6 samples for confidence interval at level 0.95"},
		},
		{
			name: "single", xs: []float64{7},
			want: Dist{P50: 7, P90: 7, P99: 7, P999: 7, Mean: 7, Min: 7, Max: 7},
			noCI: true, warns: []string{"need >= 6 samples"},
		},
		{
			name: "empty", noCI: true, warns: []string{"no successful invocations"},
		},
		{
			// Twenty equal values: an interval of zero width, no warning.
			name: "constant", xs: slices.Repeat([]float64{1000}, 20),
			want: Dist{P50: 1000, P90: 1000, P99: 1000, P999: 1000, Mean: 1000, Min: 1000, Max: 1000},
			lo:   1000, hi: 1000,
		},
		{
			// 1..100 µs: p50 rank 50, p90 rank 90, p99 rank 99, p99.9 rank ⌈99.9⌉ = 100; mean
			// 50.5 µs; population stddev of 1..n is √((n²−1)/12) = √(9999/12) = 28.866 µs.
			// CI, normal approximation of B(100,½) (μ 50, σ 5): 50 ∓ 1.96·5 = [40.2, 59.8],
			// rounded out to the band [40, 61) with coverage Φ(2.1) − Φ(−2.1) = 0.964; the
			// left-biased band [40, 60) still covers Φ(1.9) − Φ(−2.1) = 0.953 ≥ 0.95 and is
			// taken: [x(40), x(60)] = [40, 60] µs, 20% from the median: high variance.
			name: "hundred", xs: seq(100, 1000),
			want: Dist{P50: 50000, P90: 90000, P99: 99000, P999: 100000, Mean: 50500, Stddev: 1000 * math.Sqrt(9999.0/12), Min: 1000, Max: 100000},
			lo:   40000, hi: 60000, warns: []string{"high variance", "reaches 20% from the median 50 µs"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.xs)
			d, warns := Describe(in)
			if !slices.Equal(in, tt.xs) {
				t.Errorf("Describe modified its input: %v", in)
			}
			got := d
			got.P50CI95Lo, got.P50CI95Hi = nil, nil
			if math.Abs(got.Stddev-tt.want.Stddev) < 1e-9*max(1, tt.want.Stddev) {
				got.Stddev = tt.want.Stddev
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			switch {
			case tt.noCI && (d.P50CI95Lo != nil || d.P50CI95Hi != nil):
				t.Errorf("interval [%v, %v], want none", *d.P50CI95Lo, *d.P50CI95Hi)
			case !tt.noCI && (d.P50CI95Lo == nil || d.P50CI95Hi == nil):
				t.Errorf("no interval, want [%v, %v]", tt.lo, tt.hi)
			case !tt.noCI && (*d.P50CI95Lo != tt.lo || *d.P50CI95Hi != tt.hi):
				t.Errorf("interval [%v, %v], want [%v, %v]", *d.P50CI95Lo, *d.P50CI95Hi, tt.lo, tt.hi)
			}
			all := strings.Join(warns, "\n")
			for _, w := range tt.warns {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q lack %q", warns, w)
				}
			}
			if len(tt.warns) == 0 && len(warns) > 0 {
				t.Errorf("unexpected warnings %q", warns)
			}
		})
	}
}

func TestCIHalfWidth(t *testing.T) {
	tests := []struct{ c, lo, hi, want float64 }{
		{100, 97, 103, 0.03},
		{50, 20, 90, 0.8},
		{100, 99, 120, 0.2},
		{0, 0, 0, 0},
		{0, 0, 1, math.Inf(1)},
	}
	for _, tt := range tests {
		if got := CIHalfWidth(tt.c, tt.lo, tt.hi); math.Abs(got-tt.want) > 1e-12 && got != tt.want {
			t.Errorf("CIHalfWidth(%v, %v, %v) = %v, want %v", tt.c, tt.lo, tt.hi, got, tt.want)
		}
	}
}

// TestSummarizeCounts checks the counts, the repetitions and the throughput of a summary
// against values computed by hand. Times are in µs (×1000 ns).
func TestSummarizeCounts(t *testing.T) {
	const us = 1000
	mk := func(rep, worker int, start, lat int64, mut ...func(*Record)) Record {
		r := Record{SchemaVersion: SchemaVersion, Target: "embedded", Workload: "w", Mode: "warm", Size: "test",
			Load: "closed", Concurrency: 2, Worker: worker, Repetition: rep, StartNs: start * us, IntendedStartNs: start * us,
			LatencyNs: lat * us, ResponseNs: lat * us, ExecNs: lat * us / 4, Reset: "none",
			PhasesNs: map[string]int64{"invoke": lat * us / 2}, OutputSHA256: "x"}
		for _, m := range mut {
			m(&r)
		}
		return r
	}
	failed := func(r *Record) { r.Error, r.ErrorKind = "trap", "trap" }
	valid := func(v bool) func(*Record) { return func(r *Record) { r.Valid = &v } }
	lateBy := func(us int64) func(*Record) { return func(r *Record) { r.IntendedStartNs = r.StartNs - us*1000 } }
	dropped := func(r *Record) { r.Dropped, r.LatencyNs, r.ResponseNs = true, 0, 0 }
	warmup := func(r *Record) { r.Warmup = true }

	tests := []struct {
		name    string
		records []Record
		want    Result // the fields compared; see check
		warns   []string
	}{
		{
			// Repetition 0: two workers from 0 to 200 µs, three successes: 3 / 200 µs =
			// 15000/s. Repetition 1: 1000 to 1300 µs, one success (the failure counts in the
			// wall time, not in the throughput): 1 / 300 µs = 3333.3/s. Pooled: 4 / 500 µs =
			// 8000/s. Latencies of the successes 100 200 100 100: p50 rank 2 → 100 µs, mean
			// 125 µs, Σd² = 3·25² + 75² = 7500, stddev √(7500/4) = 43.30 µs. exec_ns a quarter.
			name: "repetitions",
			records: []Record{
				mk(0, 0, 0, 5000, warmup),
				mk(0, 0, 0, 100, valid(true)), mk(0, 1, 0, 200, valid(true)), mk(0, 0, 100, 100, valid(false)),
				mk(1, 0, 1000, 100), mk(1, 1, 1000, 300, failed),
			},
			want: Result{N: 5, Errors: 1, Valid: 2, Invalid: 1, Repetitions: 2, WallNs: 500 * us,
				ThroughputPerS: 8000, RepetitionThroughputPerS: []float64{15000, 1e6 / 300.0},
				LatencyNs: Dist{P50: 100 * us, P90: 200 * us, P99: 200 * us, P999: 200 * us, Mean: 125 * us, Stddev: us * math.Sqrt(7500.0/4), Min: 100 * us, Max: 200 * us},
				ExecNs:    Dist{P50: 25 * us, P90: 50 * us, P99: 50 * us, P999: 50 * us, Mean: 31.25 * us, Stddev: us * math.Sqrt(7500.0/4) / 4, Min: 25 * us, Max: 50 * us},
			},
			warns: []string{"latency_ns: need >= 6", "1 of 5 invocations failed", "1 of 5 outputs did not match"},
		},
		{
			// Open load: 0.5 ms behind schedule is on time, 2 ms is late (LateNs = 1 ms); a
			// dropped arrival is counted apart and is not in n, the wall time or the latencies.
			name: "late and dropped",
			records: []Record{
				mk(0, 0, 0, 10, lateBy(500)), mk(0, 1, 10, 10, lateBy(2000)), mk(0, 0, 20, 10), mk(0, 0, 5000, 0, dropped),
			},
			want: Result{N: 3, Dropped: 1, Late: 1, Repetitions: 1, WallNs: 30 * us, ThroughputPerS: 1e5,
				RepetitionThroughputPerS: []float64{1e5},
				LatencyNs:                Dist{P50: 10 * us, P90: 10 * us, P99: 10 * us, P999: 10 * us, Mean: 10 * us, Min: 10 * us, Max: 10 * us},
				ExecNs:                   Dist{P50: 2.5 * us, P90: 2.5 * us, P99: 2.5 * us, P999: 2.5 * us, Mean: 2.5 * us, Min: 2.5 * us, Max: 2.5 * us},
			},
			warns: []string{"1 arrivals dropped", "1 of 3 invocations started more than 1 ms after their intended start"},
		},
		{
			name:    "all failed",
			records: []Record{mk(0, 0, 0, 10, failed), mk(0, 0, 10, 10, failed)},
			want:    Result{N: 2, Errors: 2, Repetitions: 1, WallNs: 20 * us, RepetitionThroughputPerS: []float64{0}},
			warns:   []string{"latency_ns: no successful invocations", "2 of 2 invocations failed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Summarize(tt.records)
			if len(res) != 1 {
				t.Fatalf("%d results, want 1", len(res))
			}
			r := res[0]
			if r.Key != tt.records[len(tt.records)-1].Key() {
				t.Errorf("key %+v", r.Key)
			}
			type counts struct{ N, Errors, Dropped, Late, Valid, Invalid, Repetitions int }
			if got, want := (counts{r.N, r.Errors, r.Dropped, r.Late, r.Valid, r.Invalid, r.Repetitions}),
				(counts{tt.want.N, tt.want.Errors, tt.want.Dropped, tt.want.Late, tt.want.Valid, tt.want.Invalid, tt.want.Repetitions}); got != want {
				t.Errorf("counts %+v, want %+v", got, want)
			}
			if r.WallNs != tt.want.WallNs || !near(r.ThroughputPerS, tt.want.ThroughputPerS) {
				t.Errorf("wall %d throughput %v, want %d %v", r.WallNs, r.ThroughputPerS, tt.want.WallNs, tt.want.ThroughputPerS)
			}
			if len(r.RepetitionThroughputPerS) != len(tt.want.RepetitionThroughputPerS) {
				t.Errorf("per-repetition throughput %v, want %v", r.RepetitionThroughputPerS, tt.want.RepetitionThroughputPerS)
			}
			for i := range min(len(r.RepetitionThroughputPerS), len(tt.want.RepetitionThroughputPerS)) {
				if !near(r.RepetitionThroughputPerS[i], tt.want.RepetitionThroughputPerS[i]) {
					t.Errorf("per-repetition throughput %v, want %v", r.RepetitionThroughputPerS, tt.want.RepetitionThroughputPerS)
				}
			}
			for name, pair := range map[string][2]Dist{"latency": {r.LatencyNs, tt.want.LatencyNs}, "exec": {r.ExecNs, tt.want.ExecNs}} {
				got, want := pair[0], pair[1]
				got.P50CI95Lo, got.P50CI95Hi = nil, nil
				if near(got.Stddev, want.Stddev) {
					got.Stddev = want.Stddev
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s %+v\nwant %+v", name, got, want)
				}
			}
			all := strings.Join(r.Warnings, "\n")
			for _, w := range tt.warns {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q lack %q", r.Warnings, w)
				}
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// TestSummarizerStreams checks that a Summarizer fed one record at a time gives what Summarize
// gives, and that Results may be called again after more records.
func TestSummarizerStreams(t *testing.T) {
	var rs []Record
	for i := range 40 {
		r := rec("w", []string{"warm", "rewind"}[i%2], i, int64(i)*100, int64(100+i%7))
		r.Repetition = i / 20
		rs = append(rs, r)
	}
	s := NewSummarizer()
	for i := range rs[:20] {
		s.Add(&rs[i])
	}
	if first := s.Results(); first[0].N != 10 {
		t.Fatalf("n %d after 20 records of two configurations, want 10", first[0].N)
	}
	for i := range rs[20:] {
		s.Add(&rs[20+i])
	}
	if got, want := s.Results(), Summarize(rs); !reflect.DeepEqual(got, want) {
		t.Fatalf("streamed %+v\nwant %+v", got, want)
	}
}
