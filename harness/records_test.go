package harness

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/reclave/reclave/results"
)

// TestRunRecordsModes runs a small config with each value of the records key and checks what
// the folder holds: the records plain, compressed (read back the same way) or absent, and
// always the summary and the resource samples.
func TestRunRecordsModes(t *testing.T) {
	const base = "schema_version: 1\nname: tiny\nworkloads: [counter]\nmodes: [warm, rewind]\nsize: test\niterations: 20\nwarmup: 2\nenclave: {memory_mib: 4, measure_runtime: false}\n"
	tests := []struct {
		name    string
		key     string
		file    string // the records file expected; "" for none
		absent  []string
		records int
	}{
		{"default", "", RecordsFile, []string{RecordsGzipFile}, 2 * 22},
		{"full", "records: full\n", RecordsFile, []string{RecordsGzipFile}, 2 * 22},
		{"gzip", "records: gzip\n", RecordsGzipFile, []string{RecordsFile}, 2 * 22},
		{"none", "records: none\n", "", []string{RecordsFile, RecordsGzipFile}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, sum, err := runTiny(t, context.Background(), base+tt.key)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tt.absent {
				if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s: %v, want no such file", f, err)
				}
			}
			path, err := results.FindRecords(dir)
			switch {
			case tt.file == "" && !errors.Is(err, fs.ErrNotExist):
				t.Fatalf("records %q, %v; want none", path, err)
			case tt.file != "" && path != filepath.Join(dir, tt.file):
				t.Fatalf("records %q, %v; want %s", path, err, tt.file)
			}
			if tt.file != "" {
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				recs, err := results.DecodeRecords(f)
				if err != nil || len(recs) != tt.records {
					t.Fatalf("%d records, %v; want %d", len(recs), err, tt.records)
				}
				// The records summarise to the summary the run wrote.
				if again := results.Summarize(recs); len(again) != 2 || !reflect.DeepEqual(again[1].LatencyNs, sum.Results[1].LatencyNs) {
					t.Fatalf("records summarise to %+v, the run wrote %+v", again[1].LatencyNs, sum.Results[1].LatencyNs)
				}
			}
			onDisk, err := results.ReadSummary(filepath.Join(dir, SummaryFile))
			if err != nil || len(onDisk.Results) != 2 || onDisk.SchemaVersion != results.SchemaVersion {
				t.Fatalf("summary: %v", err)
			}
			for _, r := range onDisk.Results {
				if r.N != 20 || r.Quantiles != results.QuantilesExact || r.DistinctOutputsCapped {
					t.Errorf("%s: n %d quantiles %q capped %v, want 20, exact, false", r.Mode, r.N, r.Quantiles, r.DistinctOutputsCapped)
				}
			}
			checkResources(t, dir, 2*22) // every record is consumed, written or not
		})
	}
}

// checkResources checks a run's resources.jsonl: a sample at the start and one at the end
// (which counts every record), each with the process's figures.
func checkResources(t *testing.T, dir string, records int64) {
	t.Helper()
	samples, err := results.ReadResources(filepath.Join(dir, ResourcesFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) < 2 {
		t.Fatalf("%d resource samples, want at least the first and the last", len(samples))
	}
	first, last := samples[0], samples[len(samples)-1]
	if first.Records != 0 || last.Records != records || last.Running != "" || last.TNs < first.TNs {
		t.Fatalf("first %+v last %+v: want 0 then %d records, the last after the first and running nothing", first, last, records)
	}
	for _, s := range samples {
		if s.SchemaVersion != results.SchemaVersion || s.Goroutines < 1 || s.HeapBytes == 0 ||
			(s.RSSBytes <= 0 && s.RSSBytes != -1) || (s.FDs <= 0 && s.FDs != -1) {
			t.Fatalf("sample %+v", s)
		}
		if _, err := os.Stat("/proc/self/status"); err == nil && (s.RSSBytes <= 0 || s.FDs <= 0) {
			t.Fatalf("sample %+v: want RSS and file descriptors from /proc", s)
		}
	}
}

// TestResourceSamplerInterval checks that the sampler writes a line per interval while it
// runs, names what runs, and stops when closed.
func TestResourceSamplerInterval(t *testing.T) {
	path := filepath.Join(t.TempDir(), ResourcesFile)
	s, err := startResources(path, time.Now(), 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	s.setRunning("exp: counter/rewind")
	s.consumed(7)
	time.Sleep(100 * time.Millisecond)
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	samples, err := results.ReadResources(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) < 4 {
		t.Fatalf("%d samples in 100 ms at 10 ms intervals, want several", len(samples))
	}
	named := 0
	for _, smp := range samples[1 : len(samples)-1] {
		if smp.Running == "exp: counter/rewind" && smp.Records == 7 {
			named++
		}
	}
	if named == 0 {
		t.Fatalf("no sample names the running group: %+v", samples)
	}
	b, _ := os.ReadFile(path)
	time.Sleep(30 * time.Millisecond)
	if after, _ := os.ReadFile(path); len(after) != len(b) {
		t.Fatal("the sampler wrote after close")
	}
}

func TestConfigRecordsKey(t *testing.T) {
	tests := []struct {
		name, yaml, want, wantErr string
	}{
		{"default", "", RecordsFull, ""},
		{"gzip", "records: gzip\n", RecordsGzip, ""},
		{"none", "records: none\n", RecordsNone, ""},
		{"bad value", "records: zstd\n", "", `"zstd": want one of [full gzip none]`},
		{"set by an experiment", "experiments:\n  - name: a\n    records: none\n", "", "an experiment cannot set records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte("schema_version: 1\nname: x\n"+tt.yaml), "x.yaml")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || c.Records != tt.want {
				t.Fatalf("records %q, %v; want %q", c.Records, err, tt.want)
			}
		})
	}
}
