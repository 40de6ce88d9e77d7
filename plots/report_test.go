package plots

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reclave/reclave/results"
)

// writeRun writes a run folder: summary (nil: none), records (nil: none) and, when garbage
// is set, a records.jsonl that cannot be read instead.
func writeRun(t *testing.T, s *results.Summary, records []results.Record, garbage bool) string {
	t.Helper()
	dir := t.TempDir()
	if s != nil {
		if err := results.WriteSummary(filepath.Join(dir, summaryFile), s); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, recordsFile)
	switch {
	case garbage:
		if err := os.WriteFile(path, []byte("{not json\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	case records != nil:
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		enc := results.NewEncoder(f)
		for i := range records {
			if err := enc.Encode(&records[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestAllOutcomeAndReport(t *testing.T) {
	tests := []struct {
		name     string
		summary  *results.Summary
		records  []results.Record
		garbage  bool
		drawn    []string
		skipped  map[string]string // base → part of the reason
		wantErr  bool
		inReport []string
	}{
		{
			name:    "every figure of a run",
			summary: sweep(true), records: runRecords(),
			drawn:   []string{HeadlineBase, BreakdownBase, CDFBase, ThroughputBase, OverheadBase, AttestationBase},
			skipped: map[string]string{RewindScalingBase: "no rewind_bench.json"},
			inReport: []string{"> **Simulated SGX (no hardware).**", "| backend | embedded (simulated SGX, no hardware) |",
				"p50 vs cold", "json-parse"},
		},
		{
			name:    "summary without sweep, compartments or phases, no records",
			summary: fourModes(false),
			drawn:   []string{HeadlineBase},
			skipped: map[string]string{
				BreakdownBase:     "no result of mode cold with a positive phase median",
				CDFBase:           "no records.jsonl",
				RewindScalingBase: "no rewind_bench.json",
				ThroughputBase:    "no closed loop result with a positive throughput",
				OverheadBase:      "no result with compartments on",
				AttestationBase:   "no attestation phase",
			},
			inReport: []string{"| backend | sgx |"},
		},
		{
			name:    "records only",
			records: runRecords(),
			drawn:   []string{CDFBase},
			skipped: map[string]string{HeadlineBase: "no summary.json", OverheadBase: "no summary.json"},
		},
		{
			name:    "unreadable records",
			summary: sweep(true), garbage: true,
			drawn:   []string{HeadlineBase, BreakdownBase, ThroughputBase, OverheadBase, AttestationBase},
			skipped: map[string]string{CDFBase: "records.jsonl unreadable"},
			wantErr: true,
		},
		{
			name:    "nothing",
			skipped: map[string]string{HeadlineBase: "no summary.json", CDFBase: "no records.jsonl"},
			wantErr: true,
		},
	}
	specs := figureSpecs()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeRun(t, tt.summary, tt.records, tt.garbage)
			o, err := drawAll(dir, []string{"svg"})
			if (err != nil) != tt.wantErr {
				t.Fatalf("All: error %v, want error: %v", err, tt.wantErr)
			}
			if len(o.Figures) != len(specs) {
				t.Fatalf("%d figures in the outcome, want all %d", len(o.Figures), len(specs))
			}
			var drawn []string
			for _, f := range o.Drawn() {
				drawn = append(drawn, f.Base)
				if want := []string{filepath.Join(dir, Subdir, f.Base+".svg")}; !slices.Equal(f.Paths, want) {
					t.Errorf("%s: paths %q, want %q", f.Base, f.Paths, want)
				}
			}
			if !slices.Equal(drawn, tt.drawn) {
				t.Errorf("drawn %q, want %q", drawn, tt.drawn)
			}
			for _, f := range o.Figures {
				if want, ok := tt.skipped[f.Base]; ok && !strings.Contains(f.Skipped, want) {
					t.Errorf("%s skipped because %q, want a reason containing %q", f.Base, f.Skipped, want)
				}
				if f.Skipped != "" && len(f.Paths) > 0 {
					t.Errorf("%s skipped with files %q", f.Base, f.Paths)
				}
			}
			if len(drawn) == 0 {
				if _, err := os.Stat(filepath.Join(dir, Subdir)); !os.IsNotExist(err) {
					t.Errorf("All created %s without drawing anything", Subdir)
				}
				return
			}

			path, err := WriteReport(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			if path != filepath.Join(dir, ReportFile) {
				t.Errorf("report written to %s", path)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			report := string(b)
			for _, s := range specs {
				embed := "![" + s.title + "](plots/" + s.base + ".svg)"
				if got, want := strings.Contains(report, embed), slices.Contains(tt.drawn, s.base); got != want {
					t.Errorf("report embeds %s: %v, want %v", embed, got, want)
				}
				if got, want := strings.Contains(report, s.claim), slices.Contains(tt.drawn, s.base); got != want {
					t.Errorf("report states the claim of %s: %v, want %v", s.base, got, want)
				}
			}
			for base, reason := range tt.skipped {
				if !strings.Contains(report, "- `"+base+"` (") || !strings.Contains(report, reason) {
					t.Errorf("report does not say %s was skipped because %q", base, reason)
				}
			}
			for _, s := range tt.inReport {
				if !strings.Contains(report, s) {
					t.Errorf("report lacks %q", s)
				}
			}
			if !strings.Contains(report, "USENIX Security 2023") {
				t.Errorf("report does not name the paper")
			}
			if tt.summary != nil && tt.summary.Env.Simulated != strings.Contains(report, "Simulated SGX") {
				t.Errorf("report says simulated: %v, want %v", !tt.summary.Env.Simulated, tt.summary.Env.Simulated)
			}
		})
	}
}

func TestWriteReportNil(t *testing.T) {
	if _, err := WriteReport(t.TempDir(), nil); err == nil {
		t.Fatal("WriteReport(nil outcome): want an error")
	}
}

func TestMarkdownText(t *testing.T) {
	if got := mdCell("a | b\n  c"); got != `a \| b c` {
		t.Errorf("mdCell = %q", got)
	}
	if got := relPath("/run", "/run/plots/x.png"); got != "plots/x.png" {
		t.Errorf("relPath = %q", got)
	}
	if got := relPath("/run", "/elsewhere/x.png"); got != "/elsewhere/x.png" {
		t.Errorf("relPath outside = %q", got)
	}
}

// TestAllFiles draws a run folder in every format, as reclave plot does, and checks its report
// embeds the PNG.
func TestAllFiles(t *testing.T) {
	dir := writeRun(t, nil, invocations("hello", "rewind", 1, 20, 1e3), false)
	o, err := All(dir)
	if err != nil {
		t.Fatal(err)
	}
	drawn := o.Drawn()
	if len(drawn) != 1 || drawn[0].Base != CDFBase {
		t.Fatalf("drawn %+v, want the cdf figure only", drawn)
	}
	checkFigureFiles(t, o.Paths(), filepath.Join(dir, Subdir), CDFBase)
	path, err := WriteReport(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"![" + cdfTitle + "](plots/cdf.png)", "[PNG](plots/cdf.png) · [SVG](plots/cdf.svg) · [PDF](plots/cdf.pdf)"} {
		if !strings.Contains(string(b), s) {
			t.Errorf("report lacks %q:\n%s", s, b)
		}
	}
}
