package plots

import (
	"bytes"
	"strings"
	"testing"

	"github.com/reclave/reclave/results"
)

// mixSummary is a summary of a run with modes generic, rewind and cold of two workloads and
// a mix of them in rewind and generic with two workers.
func mixSummary() *results.Summary {
	res := func(w, mix, mode string, conc int, p50 float64, phases map[string]int64) results.Result {
		return results.Result{
			Key: results.Key{Target: "embedded", Workload: w, Mix: mix, Mode: mode, Size: "test",
				MemoryBytes: 64 << 20, Load: "closed", Concurrency: conc},
			N: 10, LatencyNs: results.Dist{P50: p50}, PhasesP50Ns: phases,
		}
	}
	gen := map[string]int64{"load": 2000, "instantiate": 20000, "fn_init": 3000, "invoke": 5000, "rewind": 2000}
	return &results.Summary{Results: []results.Result{
		res("noop", "", "generic", 1, 40000, gen),
		res("noop", "", "rewind", 1, 30000, nil),
		res("noop", "", "cold", 1, 1.6e8, nil),
		res("json-stats", "", "generic", 1, 80000, gen),
		res("json-stats", "", "rewind", 1, 35000, nil),
		res("noop", "noop:1,json-stats:1", "generic", 2, 50000, gen),
		res("json-stats", "noop:1,json-stats:1", "rewind", 2, 40000, nil),
	}}
}

func TestMixFigure(t *testing.T) {
	recs := []results.Record{
		{Experiment: "m", Workload: "noop", Mix: "noop:1,json-stats:1", Mode: "rewind", Load: "closed", Concurrency: 2, LatencyNs: 40000},
		{Experiment: "m", Workload: "json-stats", Mix: "noop:1,json-stats:1", Mode: "rewind", Load: "closed", Concurrency: 2, LatencyNs: 60000},
		{Experiment: "m", Workload: "noop", Mix: "noop:1,json-stats:1", Mode: "generic", Load: "closed", Concurrency: 2, LatencyNs: 90000},
		{Workload: "noop", Mode: "rewind", Load: "closed", Concurrency: 1, LatencyNs: 1},
	}
	tests := []struct {
		name      string
		recs      []results.Record
		sum       *results.Summary
		rows, bar int
		wantErr   string
	}{
		{"nothing", recs[3:], &results.Summary{}, 0, 0, "no record of a mix"},
		{"mix only", recs, nil, 2, 0, ""},
		{"generic only", nil, mixSummary(), 0, 2, ""},
		{"both", recs, mixSummary(), 2, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fig, err := newMixFigure(tt.recs, tt.sum, results.Env{Simulated: true})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(fig.rows) != tt.rows || len(fig.bars) != tt.bar {
				t.Fatalf("%d rows, %d bars; want %d, %d", len(fig.rows), len(fig.bars), tt.rows, tt.bar)
			}
			if tt.rows > 0 && (fig.rows[0].mode != "rewind" || fig.rows[0].p50 != 50000 || fig.rows[1].n != 1) {
				t.Fatalf("rows %+v", fig.rows)
			}
			if _, err := writeFigure(fig, t.TempDir(), MixBase, []string{"svg"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestWriteGeneric(t *testing.T) {
	var b bytes.Buffer
	writeGeneric(&b, &results.Summary{Results: mixSummary().Results[1:3]})
	if b.Len() != 0 {
		t.Fatalf("a run without mode generic has no section:\n%s", b.String())
	}
	writeGeneric(&b, mixSummary())
	out := b.String()
	for _, want := range []string{
		"## Generic enclaves",
		"| noop | 40 µs | 2 µs | 30 µs | — | 160 ms | 1.33× |",
		"| json-stats | 80 µs | 2 µs | 35 µs | — | — | 2.29× |",
		"2 functions and 2 workers (computed, not measured",
		"| one enclave per function per worker | 4 | 256 MiB |",
		"| generic enclaves, one per worker | 2 | 128 MiB |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}
