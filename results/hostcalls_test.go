package results

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestHostCallsJSON(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		want string // the fields' JSON in the record line; "" for none
	}{
		{"unknown", Record{}, ""},
		{"none", Record{HostCalls: HostCalls{}}, `"host_calls":{}`},
		{"some", Record{HostCalls: HostCalls{{"fd_read", 2, 15, 16}, {"fd_write", 1, 4, 39}}},
			`"host_calls":{"fd_read":{"n":2,"in":15,"out":16},"fd_write":{"n":1,"in":4,"out":39}}`},
		{"reset", Record{HostCalls: HostCalls{}, ResetHostCalls: HostCalls{{"random_get", 1, 32, 0}}},
			`"host_calls":{},"reset_host_calls":{"random_get":{"n":1,"in":32,"out":0}}`},
		{"empty reset left out", Record{HostCalls: HostCalls{}, ResetHostCalls: HostCalls{}}, `"host_calls":{}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(AppendRecord(nil, &tc.rec))
			if want, _ := json.Marshal(&tc.rec); got != string(want) {
				t.Errorf("AppendRecord differs from json.Marshal:\n got %s\nwant %s", got, want)
			}
			has := strings.Contains(got, "host_calls")
			if tc.want == "" && has || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("line %s: want %q", got, tc.want)
			}
			var back Record
			if err := json.Unmarshal([]byte(got), &back); err != nil {
				t.Fatal(err)
			}
			wantReset := tc.rec.ResetHostCalls
			if len(wantReset) == 0 {
				wantReset = nil
			}
			if (back.HostCalls == nil) != (tc.rec.HostCalls == nil) || !equalCalls(back.HostCalls, tc.rec.HostCalls) ||
				!equalCalls(back.ResetHostCalls, wantReset) {
				t.Errorf("read back %#v / %#v, want %#v / %#v", back.HostCalls, back.ResetHostCalls, tc.rec.HostCalls, wantReset)
			}
		})
	}
	// Keys come back in name order, whatever the line's order.
	var h HostCalls
	if err := json.Unmarshal([]byte(`{"fd_write":{"n":1,"in":4,"out":9},"args_get":{"n":1,"in":0,"out":0}}`), &h); err != nil {
		t.Fatal(err)
	}
	if h[0].Function != "args_get" || h[1].Function != "fd_write" || h[1].Out != 9 {
		t.Errorf("decoded %v", h)
	}
}

func equalCalls(a, b HostCalls) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

// TestOlderRecordsHaveNoHostCalls: records of schema versions 1 and 2 read without host
// calls (unknown, not zero), and their summaries have none.
func TestOlderRecordsHaveNoHostCalls(t *testing.T) {
	lines := `{"schema_version":1,"workload":"w","mode":"rewind","seq":0,"latency_ns":5,"phases_ns":{"invoke":3}}
{"schema_version":2,"target":"embedded","workload":"w","mode":"rewind","seq":1,"latency_ns":6,"phases_ns":{"invoke":3}}
`
	var recs []Record
	if err := ScanRecords(strings.NewReader(lines), func(r *Record) error { recs = append(recs, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.HostCalls != nil || r.ResetHostCalls != nil {
			t.Errorf("version %d record read with host calls %v", r.SchemaVersion, r.HostCalls)
		}
	}
	for _, res := range Summarize(recs) {
		if res.HostCalls != nil {
			t.Errorf("summary of older records has host calls %+v", res.HostCalls)
		}
	}
	s := &Summary{Results: Summarize(recs)}
	if s.HasHostCalls() == nil {
		t.Error("HasHostCalls of older records: want an error")
	}
}

func TestHostCallsSummary(t *testing.T) {
	mk := func(seq int, ok bool, h, reset HostCalls) Record {
		r := rec("w", "reinstantiate", seq, 10, 20)
		r.HostCalls, r.ResetHostCalls = h, reset
		if !ok {
			r.Error, r.ErrorKind = "host_call_limit: over", "host_call_limit"
		}
		return r
	}
	rw := HostCalls{{"fd_read", 2, 15, 16}, {"fd_write", 1, 4, 39}}
	init := HostCalls{{"random_get", 1, 32, 0}}
	recs := []Record{
		mk(0, true, rw, init),
		mk(1, true, rw, init),
		mk(2, true, rw.Add(HostCalls{{"clock_time_get", 3, 24, 0}}), init), // a function only once, late
		mk(3, false, HostCalls{{"fd_read", 100, 1, 1}}, nil),               // a failure: left out
		mk(4, true, rw, nil),
	}
	recs = append(recs, rec("w", "reinstantiate", 5, 10, 20)) // no host-call data: left out
	res := Summarize(recs)
	if len(res) != 1 || res[0].HostCalls == nil {
		t.Fatalf("results %+v: want one with host calls", res)
	}
	got := res[0].HostCalls
	want := &HostCallsSummary{
		Invocations: 4, CallsP50: 3, CallsMean: (3 + 3 + 6 + 3) / 4.0, CallsMax: 6, InP50: 19, OutP50: 55,
		Functions: map[string]HostCallMedians{
			"clock_time_get": {0, 0, 0}, // called in 1 of 4: the median is 0
			"fd_read":        {2, 15, 16},
			"fd_write":       {1, 4, 39},
		},
		ResetCallsP50: 1, ResetCallsMax: 1,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summary\n got %+v\nwant %+v", got, want)
	}
	b, err := json.Marshal(res[0])
	if err != nil || !bytes.Contains(b, []byte(`"host_calls":{"invocations":4,"calls_p50":3,`)) ||
		!bytes.Contains(b, []byte(`"fd_read":{"n_p50":2,"in_p50":15,"out_p50":16}`)) {
		t.Errorf("JSON %s (%v)", b, err)
	}
}

// TestTally: exact nearest-rank medians while the values are few, within the histogram's
// precision beyond tallyLimit distinct values; mean and max exact throughout.
func TestTally(t *testing.T) {
	tests := []struct {
		name   string
		values []int64
		median float64
	}{
		{"one", []int64{7}, 7},
		{"odd", []int64{1, 9, 3}, 3},
		{"even: the lower middle", []int64{1, 2, 3, 4}, 2},
		{"repeated", []int64{5, 5, 5, 0}, 5},
		{"negative counts as 0", []int64{-3, -1, 4}, 0},
	}
	for _, tc := range tests {
		var ty tally
		for _, v := range tc.values {
			ty.add(v, 1)
		}
		if got := ty.median(); got != tc.median {
			t.Errorf("%s: median %v, want %v", tc.name, got, tc.median)
		}
	}
	var ty tally
	n := int64(3 * tallyLimit)
	for v := range n {
		ty.add(1000+v, 1)
	}
	if ty.freq != nil || ty.hist == nil {
		t.Fatal("the tally did not switch to a histogram")
	}
	want := float64(1000 + (n+1)/2 - 1)
	if got := ty.median(); math.Abs(got-want)/want > QuantileRelError {
		t.Errorf("median %v, want %v within %v", got, want, QuantileRelError)
	}
	if ty.max != 1000+n-1 || ty.mean() != 1000+float64(n-1)/2 {
		t.Errorf("max %d mean %v", ty.max, ty.mean())
	}
}

func TestHostCallEventLine(t *testing.T) {
	rec := int64(12)
	evs := []HostCallEvent{
		{SchemaVersion: 3, Record: &rec, Experiment: "e", Workload: "counter", Mode: "rewind", Invocation: 7, Warmup: true,
			Phase: "invoke", Seq: 2, Function: "fd_write", In: 4, Out: 39, DurationNs: 812, Errno: 0, Result: "ESUCCESS"},
		{SchemaVersion: 3, Workload: "w<&>", Mode: "cold", Invocation: 1, Phase: "create", Function: "proc_exit",
			Errno: -1, Result: "exit"},
	}
	var buf bytes.Buffer
	for i := range evs {
		want, err := json.Marshal(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		got := AppendHostCallEvent(nil, &evs[i])
		if !bytes.Equal(got, want) {
			t.Errorf("event %d:\n got %s\nwant %s", i, got, want)
		}
		buf.Write(append(got, '\n'))
	}
	var back []HostCallEvent
	if err := ScanHostCallTrace(&buf, func(ev *HostCallEvent) error { back = append(back, *ev); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, evs) {
		t.Errorf("read back %+v", back)
	}
	if err := ScanHostCallTrace(strings.NewReader(`{"schema_version":4}`), func(*HostCallEvent) error { return nil }); err == nil {
		t.Error("a newer schema version: want an error")
	}
}

func TestExitCost(t *testing.T) {
	c := DefaultExitCost()
	if got := c.Ns(3); math.Abs(got-3*8200/3.0) > 1e-9 {
		t.Errorf("3 exits: %v ns", got)
	}
	tests := []struct {
		in   *ExitCost
		want ExitCost
	}{
		{nil, c},
		{&ExitCost{17000, 2}, ExitCost{17000, 2}},
		{&ExitCost{0, 2}, ExitCost{8200, 2}},
		{&ExitCost{-1, math.Inf(1)}, c},
		{&ExitCost{math.NaN(), 0}, c},
	}
	for _, tc := range tests {
		if got := tc.in.OrDefault(); got != tc.want {
			t.Errorf("%+v.OrDefault() = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}
