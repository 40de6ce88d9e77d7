package plots

import (
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/reclave/reclave/results"
)

// writeRecords writes recs into dir as records.jsonl, or compressed as records.jsonl.gz.
func writeRecords(t *testing.T, dir string, recs []results.Record, compressed bool) {
	t.Helper()
	name := results.RecordsFile
	if compressed {
		name = results.RecordsGzipFile
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	enc := results.NewEncoder(f)
	if compressed {
		enc = results.NewEncoder(zw)
	}
	for i := range recs {
		enc.Append(&recs[i])
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	if compressed {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReadRecordsInputs reads the cdf's records from plain and compressed files: the same
// drawable records (measured, successful, not dropped), phases left out.
func TestReadRecordsInputs(t *testing.T) {
	recs := runRecords()
	for i := range recs {
		recs[i].PhasesNs = map[string]int64{"invoke": 1}
	}
	var want []results.Record
	for _, r := range recs {
		if !r.Warmup && r.Error == "" && !r.Dropped {
			r.PhasesNs = nil
			want = append(want, r)
		}
	}
	for _, tt := range []struct {
		name       string
		compressed bool
	}{{"records.jsonl", false}, {"records.jsonl.gz", true}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeRecords(t, dir, recs, tt.compressed)
			in := &inputs{dir: dir, read: map[string]bool{}, errs: map[string]error{}}
			if err := in.load(recordsFile); err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(in.records, want, func(a, b results.Record) bool {
				return a.Key() == b.Key() && a.Seq == b.Seq && a.LatencyNs == b.LatencyNs && a.PhasesNs == nil
			}) {
				t.Fatalf("%d records read, want the %d drawable ones in order", len(in.records), len(want))
			}
			if _, err := newCDFFigure(in.records, results.Env{}); err != nil {
				t.Fatalf("cdf from %s: %v", tt.name, err)
			}
		})
	}
}

// TestReadRecordsBounded checks that a configuration with more records than
// maxRecordsPerConfig is kept as a uniform sample of that many, the same one every time,
// while a small configuration keeps every record.
func TestReadRecordsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,000 records")
	}
	n := maxRecordsPerConfig + maxRecordsPerConfig/4
	recs := slices.Concat(invocations("big", "rewind", 1, n, 1), invocations("small", "warm", 1, 30, 1000))
	dir := t.TempDir()
	writeRecords(t, dir, recs, true)
	path := filepath.Join(dir, results.RecordsGzipFile)
	a, err := readRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := readRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	late := 0 // records of the big configuration from beyond the first maxRecordsPerConfig
	for _, r := range a {
		count[r.Workload]++
		if r.Workload == "big" && r.Seq >= maxRecordsPerConfig {
			late++
		}
	}
	if count["big"] != maxRecordsPerConfig || count["small"] != 30 {
		t.Fatalf("kept %v, want big %d and small 30", count, maxRecordsPerConfig)
	}
	// A uniform sample holds about n/5 of its records from the last fifth of the stream.
	if want := maxRecordsPerConfig / 5; late < want*9/10 || late > want*11/10 {
		t.Fatalf("%d kept records from the last %d, want about %d", late, n-maxRecordsPerConfig, want)
	}
	if !slices.EqualFunc(a, b, func(x, y results.Record) bool { return x.Key() == y.Key() && x.Seq == y.Seq }) {
		t.Fatal("the same records gave different samples")
	}
}
