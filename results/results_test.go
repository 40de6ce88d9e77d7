package results

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func rec(workload, mode string, seq int, startNs, latencyNs int64) Record {
	return Record{SchemaVersion: SchemaVersion, Workload: workload, Mode: mode, Size: "small", Seq: seq,
		StartNs: startNs, LatencyNs: latencyNs, ResponseNs: latencyNs / 2, Reset: "rewind",
		PhasesNs: map[string]int64{"invoke": latencyNs / 2, "rewind": latencyNs / 2}, OutputSHA256: "same"}
}

func TestSummarize(t *testing.T) {
	var rs []Record
	// Warm-up records are excluded; 100 measured records of 1..100 µs, one failure.
	rs = append(rs, rec("w", "rewind", 0, 0, 1e9))
	rs[0].Warmup = true
	start := int64(1e6)
	for i := 1; i <= 100; i++ {
		r := rec("w", "rewind", i, start, int64(i)*1000)
		start += r.LatencyNs
		rs = append(rs, r)
	}
	bad := rec("w", "rewind", 101, start, 5000)
	bad.Error, bad.ErrorKind = "trap: unreachable", "trap"
	rs = append(rs, bad)
	rs = append(rs, rec("w", "cold", 0, start+5000, 1e8))

	got := Summarize(rs)
	if len(got) != 2 || got[0].Mode != "rewind" || got[1].Mode != "cold" {
		t.Fatalf("results %+v, want rewind then cold", got)
	}
	r := got[0]
	if r.N != 101 || r.Errors != 1 || r.ErrorKinds["trap"] != 1 {
		t.Fatalf("n=%d errors=%d kinds=%v, want 101, 1, trap:1", r.N, r.Errors, r.ErrorKinds)
	}
	d := r.LatencyNs
	if d.P50 != 50000 || d.P90 != 90000 || d.P99 != 99000 || d.P999 != 100000 || d.Min != 1000 || d.Max != 100000 {
		t.Fatalf("quantiles %+v", d)
	}
	if math.Abs(d.Mean-50500) > 1e-9 {
		t.Fatalf("mean %v, want 50500", d.Mean)
	}
	if d.P50CI95Lo == nil || d.P50CI95Hi == nil || *d.P50CI95Lo > d.P50 || *d.P50CI95Hi < d.P50 || *d.P50CI95Lo < 40000 || *d.P50CI95Hi > 61000 {
		t.Fatalf("median CI [%v, %v] does not bracket the median tightly", d.P50CI95Lo, d.P50CI95Hi)
	}
	wantWall := start + 5000 - 1e6
	if r.WallNs != wantWall {
		t.Fatalf("wall %d, want %d", r.WallNs, wantWall)
	}
	if want := 100 / (float64(wantWall) / 1e9); math.Abs(r.ThroughputPerS-want) > 1e-6 {
		t.Fatalf("throughput %v, want %v", r.ThroughputPerS, want)
	}
	if r.PhasesP50Ns["invoke"] != 25000 || r.Resets["rewind"] != 101 || r.DistinctOutput != 1 {
		t.Fatalf("phases %v resets %v distinct %d", r.PhasesP50Ns, r.Resets, r.DistinctOutput)
	}
}

func TestDescribeSmallSample(t *testing.T) {
	d, warns := Describe([]float64{3, 1, 2})
	if d.P50 != 2 || d.P50CI95Lo != nil || d.P50CI95Hi != nil {
		t.Fatalf("%+v: want median 2 and no interval", d)
	}
	if len(warns) == 0 {
		t.Fatal("no warning about the sample being too small for a confidence interval")
	}
	if _, warns := Describe(nil); len(warns) == 0 {
		t.Fatal("an empty sample gives no warning")
	}
	// The summary must stay valid JSON (no NaN or Inf) whatever the sample.
	if _, err := json.Marshal(d); err != nil {
		t.Fatal(err)
	}
}

func TestRecordsRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	in := []Record{rec("a", "warm", 0, 1, 2), rec("b", "cold", 1, 3, 4)}
	for i := range in {
		if err := enc.Encode(&in[i]); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Fatalf("%d lines, want 2", n)
	}
	out, err := DecodeRecords(&buf)
	if err != nil || len(out) != 2 || out[1].Workload != "b" || out[1].PhasesNs["rewind"] != 2 {
		t.Fatalf("decoded %+v, %v", out, err)
	}
}

func TestDecodeRecordsErrors(t *testing.T) {
	good := `{"schema_version":1,"workload":"a","mode":"warm"}`
	tests := map[string]string{
		"malformed line":   good + "\n{not json\n",
		"truncated line":   good + "\n{\"schema_version\":1,\"work",
		"future version":   `{"schema_version":99}`,
		"missing version":  `{"workload":"a"}`,
		"wrong field type": `{"schema_version":1,"latency_ns":"fast"}`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := DecodeRecords(strings.NewReader(in))
			if err == nil || !strings.Contains(err.Error(), "line") {
				t.Fatalf("error %v, want one naming the line", err)
			}
			if strings.HasPrefix(in, good) && len(out) != 1 {
				t.Fatalf("the good record before the bad line was lost: %d records", len(out))
			}
		})
	}
}

func TestSummaryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "summary.json")
	s := &Summary{SchemaVersion: SchemaVersion, Results: Summarize([]Record{rec("w", "rewind", 0, 0, 10)})}
	if err := WriteSummary(path, s); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSummary(path)
	if err != nil || got.Find("w", "rewind") == nil || got.Find("w", "cold") != nil {
		t.Fatalf("read back %+v, %v", got, err)
	}
	for name, content := range map[string]string{"bad json": "{", "future": `{"schema_version":99}`} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		if _, err := ReadSummary(p); err == nil {
			t.Errorf("%s: read without error", name)
		}
	}
	if _, err := ReadSummary(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing summary read without error")
	}
}
