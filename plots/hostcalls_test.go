package plots

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reclave/reclave/results"
)

// hostCallsSummary is a run's summary whose results carry host calls: a C reactor (3 calls,
// none on any reset) and a Go reactor whose init calls the host on re-creation.
func hostCallsSummary(exitCost *results.ExitCost) *results.Summary {
	s := fourModes(true)
	s.ExitCost = exitCost
	for i := range s.Results {
		r := &s.Results[i]
		hc := &results.HostCallsSummary{Invocations: 10, CallsP50: 3, CallsMean: 3, CallsMax: 3,
			Functions: map[string]results.HostCallMedians{"fd_read": {N: 2, In: 15, Out: 16}, "fd_write": {N: 1, In: 4, Out: 39}}}
		if r.Mode == "cold" || r.Mode == "reinstantiate" {
			hc.ResetCallsP50, hc.ResetCallsMax = 19, 19
			hc.Functions["clock_time_get"] = results.HostCallMedians{}
		}
		r.HostCalls = hc
	}
	return s
}

func TestHostCallsFigure(t *testing.T) {
	fig, err := newHostCallsFigure(hostCallsSummary(nil))
	if err != nil {
		t.Fatal(err)
	}
	wantRows := len(fourModes(true).Results)
	if len(fig.rows) != wantRows {
		t.Fatalf("%d rows, want one per workload and mode (%d)", len(fig.rows), wantRows)
	}
	// Functions never called in the median (clock_time_get) are not stacked; the reset is last.
	if got := strings.Join(fig.segments, ","); got != "fd_read,fd_write,"+hostCallsReset {
		t.Errorf("segments %s", got)
	}
	for _, r := range fig.rows {
		want := 3.0
		if strings.HasSuffix(r.label, "· cold") || strings.HasSuffix(r.label, "· reinstantiate") {
			want += 19
		}
		if r.total != want {
			t.Errorf("row %s: total %v, want %v", r.label, r.total, want)
		}
	}
	paths, err := HostCalls(hostCallsSummary(nil), t.TempDir())
	if err != nil || len(paths) != len(formats) {
		t.Fatalf("paths %v, %v", paths, err)
	}

	for name, s := range map[string]*results.Summary{"nil": nil, "no host calls": fourModes(true)} {
		if _, err := newHostCallsFigure(s); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

// TestReportExitCost: report.md estimates the exit cost from the host calls, labelled as an
// estimate with its source, at the configured cost; a run without host calls says why not,
// and the figure is skipped with the reason.
func TestReportExitCost(t *testing.T) {
	tests := []struct {
		name    string
		summary *results.Summary
		want    []string
		drawn   bool
	}{
		{"default cost", hostCallsSummary(nil), []string{
			"## Estimated enclave-exit cost on SGX hardware", "**An estimate, not a measurement**",
			"8200 cycles per exit", "at 3 GHz", "Regaining Lost Cycles with HotCalls", "doi:10.1145/3140659.3080208",
			"17000 cycles", // the range's high end
			// rewind: 3 calls × 8200 cycles = 24600 cycles, 8.2 µs at 3 GHz; cold adds 19 reset calls
			"rewind                    3            0            24600", "8.2 µs",
			"cold                      3           19           180400",
		}, true},
		{"configured cost", hostCallsSummary(&results.ExitCost{Cycles: 17000, GHz: 2}), []string{
			"17000 cycles per exit", "at 2 GHz", "rewind                    3            0            51000", "25.5 µs",
		}, true},
		{"no host calls", fourModes(true), []string{"Not estimated: no host-call data"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeRun(t, tc.summary, nil, false)
			o, _ := drawAll(dir, []string{"svg"})
			for _, f := range o.Figures {
				if f.Base == HostCallsBase && (f.Skipped == "") != tc.drawn {
					t.Errorf("host_calls figure drawn %v (skipped: %q), want %v", f.Skipped == "", f.Skipped, tc.drawn)
				}
			}
			path, err := WriteReport(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			report := string(b)
			for _, w := range tc.want {
				if !strings.Contains(report, w) {
					t.Errorf("report lacks %q", w)
				}
			}
			// The estimate stays out of the measured results.
			results := report[strings.Index(report, "## Results"):strings.Index(report, "## Estimated")]
			if strings.Contains(results, "cycles") {
				t.Error("the results section mentions cycles")
			}
			if !tc.drawn && !strings.Contains(report, "- `"+HostCallsBase+"` (") {
				t.Error("the report does not say why host_calls was skipped")
			}
			if _, err := os.Stat(filepath.Join(dir, Subdir, HostCallsBase+".svg")); (err == nil) != tc.drawn {
				t.Errorf("host_calls.svg written: %v", err == nil)
			}
		})
	}
}
