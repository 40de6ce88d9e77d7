package harness

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reclave/reclave/results"
)

// TestRunHostCalls: records carry the invocations' host calls and their resets' (the
// creation's in mode cold), summaries their medians, and trace_host_calls writes one trace
// line per counted call, each naming its record.
func TestRunHostCalls(t *testing.T) {
	const cfg = `schema_version: 1
name: hostcalls
workloads: [hello-go, counter]
modes: [cold, reinstantiate, rewind]
size: test
iterations: 3
warmup: 1
mode_iterations: {cold: 2}
trace_host_calls: true
exit_cost: {cycles: 17000}
enclave: {memory_mib: 16, strategy: diff, compile_cache: true}
`
	dir, sum, err := runTiny(t, context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, dir)
	for _, r := range recs {
		if r.HostCalls == nil || r.HostCalls.Get("fd_read").N == 0 || r.HostCalls.Get("fd_write").N == 0 {
			t.Errorf("%s/%s/%d: host calls %v: want fd_read and fd_write", r.Workload, r.Mode, r.Seq, r.HostCalls)
		}
		// A Go reactor's init calls the host; a C reactor's does not; a rewind runs no init.
		wantReset := r.Workload == "hello-go" && r.Mode != "rewind"
		if got := len(r.ResetHostCalls) > 0; got != wantReset {
			t.Errorf("%s/%s/%d: reset host calls %v, want some: %v", r.Workload, r.Mode, r.Seq, r.ResetHostCalls, wantReset)
		}
	}
	for _, res := range sum.Results {
		hc := res.HostCalls
		if hc == nil || hc.Invocations != res.N || hc.CallsP50 < 3 || hc.Functions["fd_read"].N < 1 {
			t.Errorf("%s/%s: summary host calls %+v", res.Workload, res.Mode, hc)
			continue
		}
		if res.Mode == "rewind" && hc.ResetCallsMax != 0 {
			t.Errorf("%s/rewind: %v host calls during a reset, want none", res.Workload, hc.ResetCallsMax)
		}
	}
	if sum.ExitCost == nil || *sum.ExitCost != (results.ExitCost{Cycles: 17000, GHz: results.DefaultExitCostGHz}) {
		t.Errorf("summary exit cost %+v", sum.ExitCost)
	}

	// The trace adds up to the records' accounts, record by record and phase by phase.
	f, err := os.Open(filepath.Join(dir, results.HostCallTraceFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type key struct {
		record int64
		reset  bool // phases reset and create
	}
	traced := map[key]results.HostCalls{}
	lastSeq := map[int64]int{}
	err = results.ScanHostCallTrace(f, func(ev *results.HostCallEvent) error {
		if ev.Record == nil || *ev.Record < 0 || *ev.Record >= int64(len(recs)) {
			t.Fatalf("event %+v: no record", ev)
		}
		r := recs[*ev.Record]
		if ev.Workload != r.Workload || ev.Mode != r.Mode || ev.Invocation != r.Seq || ev.Warmup != r.Warmup {
			t.Fatalf("event %+v names record %d: %s/%s/%d", ev, *ev.Record, r.Workload, r.Mode, r.Seq)
		}
		if prev, ok := lastSeq[*ev.Record]; ok && ev.Seq != prev+1 || !ok && ev.Seq != 0 {
			t.Errorf("record %d: event seq %d after %d", *ev.Record, ev.Seq, prev)
		}
		lastSeq[*ev.Record] = ev.Seq
		k := key{*ev.Record, ev.Phase != "invoke"}
		traced[k] = traced[k].Add(results.HostCalls{{Function: ev.Function, N: 1, In: ev.In, Out: ev.Out}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		for _, reset := range []bool{false, true} {
			want := r.HostCalls
			if reset {
				want = r.ResetHostCalls
			}
			got := traced[key{int64(i), reset}]
			if !slices.Equal(got, want) {
				t.Errorf("record %d (%s/%s) reset %v: trace adds up to %v, the record says %v", i, r.Workload, r.Mode, reset, got, want)
			}
		}
	}
}

func TestConfigHostCallKeys(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"defaults", "", ""},
		{"negative cycles", "exit_cost: {cycles: -1}\n", "exit_cost.cycles: -1: want a positive number"},
		{"zero clock takes the default", "exit_cost: {ghz: 0}\n", ""},
		{"bad clock", "exit_cost: {ghz: .inf}\n", "exit_cost.ghz"},
		{"unknown key", "exit_cost: {cycle: 1}\n", `unknown key "exit_cost.cycle"`},
		{"trace", "trace_host_calls: true\n", ""},
		{"experiment traces", "experiments: [{name: a, trace_host_calls: true}]\n", ""},
		{"experiment sets exit cost", "experiments: [{name: a, exit_cost: {cycles: 1}}]\n", "an experiment cannot set exit_cost"},
		{"expected budget errors", "expected_errors: [host_call_limit]\n", ""},
		{"trace outside embedded", "target: process\ntrace_host_calls: true\n", "trace_host_calls: target process"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig([]byte("schema_version: 1\nname: x\n"+tc.yaml), "x.yaml")
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.ExitCost.Cycles <= 0 || c.ExitCost.GHz <= 0 {
					t.Errorf("exit cost %+v", c.ExitCost)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
