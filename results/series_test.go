package results

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// distributions are the samples the bounded statistics are checked on: latencies of several
// shapes, including heavy-tailed ones whose p99.9 is far from the median, and a signed one
// (startup_ns = latency − invoke can be negative for a remote target).
var distributions = []struct {
	name string
	gen  func(r *rand.Rand) float64
}{
	{"uniform", func(r *rand.Rand) float64 { return 1000 + 9000*r.Float64() }},
	{"exponential", func(r *rand.Rand) float64 { return 5000 * r.ExpFloat64() }},
	{"lognormal", func(r *rand.Rand) float64 { return math.Exp(8.5 + 0.8*r.NormFloat64()) }},
	// Pareto, shape 1.1: an infinite-variance tail, the harshest case for the mean's
	// rounding and for the high quantiles.
	{"pareto", func(r *rand.Rand) float64 { return 2000 / math.Pow(1-r.Float64(), 1/1.1) }},
	{"bimodal", func(r *rand.Rand) float64 {
		if r.IntN(10) == 0 {
			return 3e6 + 1e5*r.NormFloat64() // a slow path: 10% at 3 ms
		}
		return 4000 + 300*r.NormFloat64()
	}},
	{"constant", func(r *rand.Rand) float64 { return 4242 }},
	{"small integers", func(r *rand.Rand) float64 { return float64(r.IntN(50)) }},
	{"signed", func(r *rand.Rand) float64 { return 2000 * r.NormFloat64() }},
}

// stream returns n records of configuration k whose latency (and, scaled, every other series)
// follows gen, seeded with seed.
func stream(n int, seed uint64, gen func(r *rand.Rand) float64) []Record {
	r := rand.New(rand.NewPCG(seed, 2))
	out := make([]Record, n)
	for i := range out {
		lat := int64(math.Round(gen(r)))
		out[i] = Record{SchemaVersion: SchemaVersion, Workload: "w", Mode: "rewind", Size: "test", Seq: i,
			StartNs: int64(i) * 10_000, LatencyNs: lat, ResponseNs: lat / 2, RewindNs: lat - lat/2, ExecNs: lat / 4,
			PhasesNs: map[string]int64{"invoke": lat / 2, "rewind": lat - lat/2}, Reset: "rewind",
			PagesRestored: int(r.IntN(40)), BytesRestored: int64(r.IntN(1 << 20)), OutputSHA256: "same"}
	}
	return out
}

// within reports whether got is within rel of want, relative to |want| (exactly equal when
// want is 0).
func within(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)
}

// TestBoundedSummarizerAgreesWithExact feeds more samples than ExactLimit and checks every
// statistic against that of the raw samples: quantiles within QuantileRelError (nearest
// rank), min and max equal, mean and stddev to floating-point rounding, the median's interval
// from the reservoir near the exact median, and the result marked "hdr".
func TestBoundedSummarizerAgreesWithExact(t *testing.T) {
	n := ExactLimit + ExactLimit/2
	if testing.Short() {
		n = ExactLimit + 1000
	}
	for i, d := range distributions {
		t.Run(d.name, func(t *testing.T) {
			recs := stream(n, uint64(i), d.gen)
			got := Summarize(recs)
			if len(got) != 1 {
				t.Fatalf("%d results, want 1", len(got))
			}
			res := got[0]
			var worst float64 // the largest relative error of a quantile
			defer func() { t.Logf("largest relative error of a quantile: %.2g", worst) }()
			if res.N != n || res.Quantiles != QuantilesHDR || res.QuantileRelError != QuantileRelError || res.Reservoir != ReservoirSize {
				t.Fatalf("n %d quantiles %q rel error %v reservoir %d, want %d, hdr, %v, %d",
					res.N, res.Quantiles, res.QuantileRelError, res.Reservoir, n, QuantileRelError, ReservoirSize)
			}
			for _, tc := range []struct {
				name string
				got  Dist
				of   func(*Record) int64
			}{
				{"latency_ns", res.LatencyNs, func(r *Record) int64 { return r.LatencyNs }},
				{"response_ns", res.ResponseNs, func(r *Record) int64 { return r.ResponseNs }},
				{"rewind_ns", res.RewindNs, func(r *Record) int64 { return r.RewindNs }},
				{"exec_ns", res.ExecNs, func(r *Record) int64 { return r.ExecNs }},
				{"startup_ns", res.StartupNs, func(r *Record) int64 { return r.LatencyNs - r.PhasesNs["invoke"] }},
			} {
				xs := make([]float64, len(recs))
				for j := range recs {
					xs[j] = float64(tc.of(&recs[j]))
				}
				want, _ := Describe(xs)
				g := tc.got
				for _, q := range []struct {
					name      string
					got, want float64
				}{{"p50", g.P50, want.P50}, {"p90", g.P90, want.P90}, {"p99", g.P99, want.P99}, {"p999", g.P999, want.P999}} {
					worst = max(worst, math.Abs(q.got-q.want)/max(math.Abs(q.want), 1e-300))
					if !within(q.got, q.want, QuantileRelError) {
						t.Errorf("%s %s = %v, exact %v: relative error %.2g > %v", tc.name, q.name, q.got, q.want,
							math.Abs(q.got-q.want)/math.Abs(q.want), QuantileRelError)
					}
				}
				if g.Min != want.Min || g.Max != want.Max {
					t.Errorf("%s min, max = %v, %v, want exactly %v, %v", tc.name, g.Min, g.Max, want.Min, want.Max)
				}
				if !within(g.Mean, want.Mean, 1e-9) && math.Abs(g.Mean-want.Mean) > 1e-9*want.Stddev {
					t.Errorf("%s mean %v, exact %v", tc.name, g.Mean, want.Mean)
				}
				if !within(g.Stddev, want.Stddev, 1e-9) {
					t.Errorf("%s stddev %v, exact %v", tc.name, g.Stddev, want.Stddev)
				}
				// The reservoir's interval covers the median with 95% confidence; twice its
				// width around it covers it with near certainty.
				if g.P50CI95Lo == nil || g.P50CI95Hi == nil {
					t.Fatalf("%s: no interval from a reservoir of %d", tc.name, ReservoirSize)
				}
				lo, hi := *g.P50CI95Lo, *g.P50CI95Hi
				if w := hi - lo; want.P50 < lo-w || want.P50 > hi+w {
					t.Errorf("%s: exact median %v far outside the reservoir's interval [%v, %v]", tc.name, want.P50, lo, hi)
				}
			}
			for name, p50 := range res.PhasesP50Ns {
				xs := make([]float64, len(recs))
				for j := range recs {
					xs[j] = float64(recs[j].PhasesNs[name])
				}
				if want := median(xs); !within(float64(p50), want, QuantileRelError) && math.Abs(float64(p50)-want) > 1 {
					t.Errorf("phase %s median %d, exact %v", name, p50, want)
				}
			}
			pages := make([]float64, len(recs))
			for j := range recs {
				pages[j] = float64(recs[j].PagesRestored)
			}
			if want := median(pages); res.PagesRestoredP50 != want {
				t.Errorf("pages_restored_p50 %v, exact %v (small integers are exact in the histogram)", res.PagesRestoredP50, want)
			}
		})
	}
}

// TestSummarizerExactBelowLimit checks that up to ExactLimit samples a summary is exactly
// that of the samples, as in schema version 2, and marked so.
func TestSummarizerExactBelowLimit(t *testing.T) {
	recs := stream(5000, 7, distributions[2].gen)
	res := Summarize(recs)[0]
	xs := make([]float64, len(recs))
	for i := range recs {
		xs[i] = float64(recs[i].LatencyNs)
	}
	want, _ := Describe(xs)
	if !reflect.DeepEqual(res.LatencyNs, want) {
		t.Fatalf("latency %+v, want exactly %+v", res.LatencyNs, want)
	}
	if res.Quantiles != QuantilesExact || res.QuantileRelError != 0 || res.Reservoir != 0 {
		t.Fatalf("quantiles %q rel error %v reservoir %d, want exact, 0, 0", res.Quantiles, res.QuantileRelError, res.Reservoir)
	}
}

// TestSummarizerMemoryBounded adds 2,000,000 records to one configuration and checks the heap
// the Summarizer holds (HeapAlloc after a GC, against before) at every 250,000: bounded by
// 20 MB however many records, where keeping every sample took 150 bytes a record (300 MB).
func TestSummarizerMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("adds 2,000,000 records")
	}
	const n, every, bound = 2_000_000, 250_000, 20 << 20
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	rng := rand.New(rand.NewPCG(1, 1))
	hashes := make([]string, 4*MaxDistinctOutputs) // more distinct outputs than are counted
	for i := range hashes {
		hashes[i] = fmt.Sprintf("%064x", i)
	}
	r := Record{SchemaVersion: SchemaVersion, Workload: "w", Mode: "warm", Size: "test", Reset: "none",
		PhasesNs: map[string]int64{"invoke": 0, "rewind": 0}}
	before := heap()
	s := NewSummarizer()
	var held []uint64 // after every `every` records
	var peakExact uint64
	for i := range n {
		lat := int64(3000 + rng.ExpFloat64()*2000)
		r.Seq, r.StartNs, r.LatencyNs, r.ResponseNs, r.ExecNs = i, int64(i)*5000, lat, lat/2, lat/4
		r.PhasesNs["invoke"], r.PhasesNs["rewind"] = lat/2, lat-lat/2
		r.OutputSHA256 = hashes[i%len(hashes)]
		s.Add(&r)
		switch {
		case i+1 == ExactLimit: // the most held exactly, just before the switch
			h := heap()
			peakExact = h - min(h, before)
		case (i+1)%every == 0:
			h := heap()
			held = append(held, h-min(h, before))
		}
	}
	res := s.Results()
	runtime.KeepAlive(s)
	t.Logf("heap held: %d bytes at %d records (exact samples), then after every %d records: %v bytes", peakExact, ExactLimit, every, held)
	if peakExact > bound {
		t.Errorf("with %d exact samples per series the Summarizer holds %d bytes, want < %d", ExactLimit, peakExact, bound)
	}
	for i, h := range held {
		if h > bound {
			t.Errorf("after %d records the Summarizer holds %d bytes, want < %d", (i+1)*every, h, bound)
		}
	}
	// Past the switch to histograms, nothing grows: the last figure is no larger than the
	// first one after the switch (with 1 MB of slack for the runtime's own bookkeeping).
	if last, first := held[len(held)-1], held[0]; last > first+1<<20 {
		t.Errorf("held memory grew from %d to %d bytes between %d and %d records", first, last, every, n)
	}
	if res[0].N != n || res[0].DistinctOutput != MaxDistinctOutputs || !res[0].DistinctOutputsCapped {
		t.Errorf("n %d distinct %d capped %v, want %d, %d, true", res[0].N, res[0].DistinctOutput, res[0].DistinctOutputsCapped, n, MaxDistinctOutputs)
	}
}

// TestSummarizerDeterministic checks that the same records give the same summary, reservoir
// and interval included, and that asking for results midway changes nothing.
func TestSummarizerDeterministic(t *testing.T) {
	recs := stream(ExactLimit+20_000, 3, distributions[3].gen)
	a, b := NewSummarizer(), NewSummarizer()
	for i := range recs {
		a.Add(&recs[i])
		b.Add(&recs[i])
		if i == ExactLimit/2 || i == ExactLimit+10 {
			b.Results() // must not disturb what b holds
		}
	}
	ra, rb := a.Results(), b.Results()
	if !reflect.DeepEqual(ra, rb) {
		t.Fatalf("same records, different summaries:\n%+v\n%+v", ra[0].LatencyNs, rb[0].LatencyNs)
	}
	if again := a.Results(); !reflect.DeepEqual(ra, again) {
		t.Fatal("Results called twice differs")
	}
	if ra[0].Quantiles != QuantilesHDR {
		t.Fatalf("quantiles %q, want hdr", ra[0].Quantiles)
	}
}

func TestDistinctOutputs(t *testing.T) {
	tests := []struct {
		name       string
		distinct   int
		want       int
		wantCapped bool
	}{
		{"one", 1, 1, false},
		{"some", 37, 37, false},
		{"at the limit", MaxDistinctOutputs, MaxDistinctOutputs, false},
		{"beyond", MaxDistinctOutputs + 1, MaxDistinctOutputs, true},
		{"far beyond", 5 * MaxDistinctOutputs, MaxDistinctOutputs, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSummarizer()
			for i := range 2 * tt.distinct {
				r := rec("w", "warm", i, int64(i)*1000, 500)
				r.OutputSHA256 = fmt.Sprintf("%064x", i%tt.distinct)
				s.Add(&r)
			}
			res := s.Results()[0]
			if res.DistinctOutput != tt.want || res.DistinctOutputsCapped != tt.wantCapped {
				t.Fatalf("distinct %d capped %v, want %d, %v", res.DistinctOutput, res.DistinctOutputsCapped, tt.want, tt.wantCapped)
			}
		})
	}
}

// TestReadSummaryOldSchemas reads summaries of every schema version this build knows: older
// ones are migrated (their statistics were exact), newer ones refused.
func TestReadSummaryOldSchemas(t *testing.T) {
	const result = `"workload":"counter","mode":"rewind","n":10,"errors":0,"latency_ns":{"p50":4000,"p90":5000,"p99":6000,"p999":6000,"mean":4100,"stddev":10,"min":3000,"max":6000,"p50_ci95_lo":3900,"p50_ci95_hi":4100},"distinct_outputs":1`
	tests := []struct {
		name        string
		json        string
		wantErr     string
		wantVersion int
		wantQ       string
		wantCapped  bool
	}{
		{"version 1", `{"schema_version":1,"results":[{` + result + `}]}`, "", 1, QuantilesExact, false},
		{"version 2", `{"schema_version":2,"results":[{"target":"embedded","load":"closed","concurrency":1,"repetitions":1,"exec_ns":{"p50":1},` + result + `}]}`, "", 2, QuantilesExact, false},
		{"version 3 hdr", `{"schema_version":3,"results":[{"quantiles":"hdr","quantile_rel_error":0.001,"reservoir":16384,"distinct_outputs_capped":true,` + result + `}]}`, "", 3, QuantilesHDR, true},
		{"version 4", `{"schema_version":4,"results":[]}`, "schema_version 4 not supported", 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "summary.json")
			if err := os.WriteFile(path, []byte(tt.json), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := ReadSummary(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := s.Find("counter", "rewind")
			if s.SchemaVersion != tt.wantVersion || r == nil || r.Quantiles != tt.wantQ || r.DistinctOutputsCapped != tt.wantCapped {
				t.Fatalf("version %d result %+v, want version %d quantiles %q capped %v", s.SchemaVersion, r, tt.wantVersion, tt.wantQ, tt.wantCapped)
			}
			if r.LatencyNs.P50 != 4000 || *r.LatencyNs.P50CI95Hi != 4100 || r.DistinctOutput != 1 {
				t.Fatalf("values misread: %+v", r)
			}
		})
	}
}

// TestSummaryRoundTrip writes a version 3 summary with sampled statistics and reads it back.
func TestSummaryRoundTrip(t *testing.T) {
	sum := &Summary{SchemaVersion: SchemaVersion, Results: Summarize(stream(ExactLimit+10, 5, distributions[0].gen))}
	path := filepath.Join(t.TempDir(), "summary.json")
	if err := WriteSummary(path, sum); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSummary(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sum) {
		t.Fatalf("read back %+v\nwant %+v", got.Results[0], sum.Results[0])
	}
	b, _ := os.ReadFile(path)
	for _, field := range []string{`"quantiles": "hdr"`, `"quantile_rel_error": 0.001`, `"reservoir": 16384`, `"distinct_outputs_capped": false`} {
		if !bytes.Contains(b, []byte(field)) {
			t.Errorf("summary.json lacks %s", field)
		}
	}
}

// TestScanRecordsGzip reads the same records from plain and gzip-compressed lines, and
// reports a compressed stream cut short.
func TestScanRecordsGzip(t *testing.T) {
	recs := stream(500, 9, distributions[1].gen)
	var plain, zipped bytes.Buffer
	enc := NewEncoder(&plain)
	zw := gzip.NewWriter(&zipped)
	zenc := NewEncoder(zw)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			t.Fatal(err)
		}
		if err := zenc.Encode(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    []byte
		want    int
		wantErr string
	}{
		{"plain", plain.Bytes(), len(recs), ""},
		{"gzip", zipped.Bytes(), len(recs), ""},
		{"gzip cut short", zipped.Bytes()[:zipped.Len()/2], -1, "cut short"},
		{"empty", nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeRecords(bytes.NewReader(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want || (tt.want > 0 && !reflect.DeepEqual(got, recs)) {
				t.Fatalf("%d records read, want %d equal to those written", len(got), tt.want)
			}
		})
	}
}

func TestFindRecords(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  string // "" for none
	}{
		{"plain", []string{RecordsFile}, RecordsFile},
		{"gzip", []string{RecordsGzipFile}, RecordsGzipFile},
		{"both: plain first", []string{RecordsGzipFile, RecordsFile}, RecordsFile},
		{"none", []string{SummaryFile}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := FindRecords(dir)
			if tt.want == "" {
				if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "records: none") {
					t.Fatalf("FindRecords = %q, %v; want an error wrapping fs.ErrNotExist", got, err)
				}
				return
			}
			if err != nil || got != filepath.Join(dir, tt.want) {
				t.Fatalf("FindRecords = %q, %v; want %s", got, err, tt.want)
			}
		})
	}
}

// TestCompareBeyondExactLimit compares runs longer than ExactLimit: the U test runs on the
// reservoirs, the medians come from the histograms, and the verdicts are those of the shift.
func TestCompareBeyondExactLimit(t *testing.T) {
	n := ExactLimit + 30_000
	base := stream(n, 11, distributions[2].gen)
	tests := []struct {
		name  string
		scale float64
		want  string
	}{
		{"same distribution", 1, VerdictSame},
		{"10% slower", 1.10, VerdictRegression},
		{"4% slower", 1.04, VerdictSlower},
		{"10% faster", 0.90, VerdictFaster},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := stream(n, 12, func(r *rand.Rand) float64 { return tt.scale * distributions[2].gen(r) })
			c, err := Compare(base, cur, CompareOptions{Threshold: 0.05})
			if err != nil {
				t.Fatal(err)
			}
			row := c.Rows[0]
			if row.Verdict != tt.want || row.BaseN != n || row.NewN != n {
				t.Fatalf("verdict %q (delta %+.3f, p %.3g), n %d+%d; want %q, %d+%d", row.Verdict, row.Delta, row.P, row.BaseN, row.NewN, tt.want, n, n)
			}
			if !slices.ContainsFunc(row.Warnings, func(w string) bool { return strings.Contains(w, "uniform sample of 16384") }) {
				t.Fatalf("warnings %q do not say the test ran on a sample", row.Warnings)
			}
		})
	}
}

// TestSummarizerBytes: the estimate's formula at hand-computed points.
func TestSummarizerBytes(t *testing.T) {
	for _, tc := range []struct {
		n      int64
		phases int
		want   float64
	}{
		{0, 2, 0},
		{3000, 2, 9*2*8*3000 + 64*1024}, // exact: 9 series of 3000 float64s, twice over
		{ExactLimit, 0, 7*2*8*ExactLimit + 64*1024},                             // the last exact size
		{ExactLimit + 1, 2, 9*34*1024*8 + 5*8*ReservoirSize + 64*1024},          // histograms and reservoirs
		{1 << 40, 11, 18*34*1024*8 + 5*8*ReservoirSize + 64*MaxDistinctOutputs}, // bounded, however many
	} {
		if got := SummarizerBytes(tc.n, tc.phases); got != tc.want {
			t.Errorf("SummarizerBytes(%d, %d) = %v, want %v", tc.n, tc.phases, got, tc.want)
		}
	}
}
