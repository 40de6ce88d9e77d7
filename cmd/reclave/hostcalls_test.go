package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reclave/reclave/results"
)

// TestInvokeHostCalls: invoke prints each invocation's host calls, --json carries them as a
// record does, and --trace-host-calls writes one line per call that adds up to them.
func TestInvokeHostCalls(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "calls.jsonl")
	args := append([]string{"invoke", "counter", "-n", "2", "--mode", "reinstantiate", "--json", "--trace-host-calls", trace}, small...)
	code, stdout, stderr := reclave(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var printed []results.HostCalls
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var rec invocationRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.HostCalls.Get("fd_read").N == 0 || rec.HostCalls.Get("fd_write").N == 0 {
			t.Errorf("invocation %d: host calls %v", rec.Seq, rec.HostCalls)
		}
		printed = append(printed, rec.HostCalls)
	}
	f, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	traced := make([]results.HostCalls, len(printed))
	err = results.ScanHostCallTrace(f, func(ev *results.HostCallEvent) error {
		if ev.Record != nil || ev.Workload != "counter" || ev.Mode != "reinstantiate" || ev.Invocation < 1 || ev.Invocation > len(printed) {
			t.Fatalf("event %+v", ev)
		}
		if ev.Phase == "invoke" {
			traced[ev.Invocation-1] = traced[ev.Invocation-1].Add(results.HostCalls{{Function: ev.Function, N: 1, In: ev.In, Out: ev.Out}})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range printed {
		a, _ := json.Marshal(printed[i])
		b, _ := json.Marshal(traced[i])
		if string(a) != string(b) {
			t.Errorf("invocation %d: printed %s, traced %s", i+1, a, b)
		}
	}

	code, stdout, _ = reclave(t, append([]string{"invoke", "counter"}, small...)...)
	if code != 0 || !strings.Contains(stdout, "host calls: 3 (fd_read 2, fd_write 1)") || !strings.Contains(stdout, "reset: none") {
		t.Errorf("text output (exit %d):\n%s", code, stdout)
	}
	if code, _, stderr := reclave(t, "invoke", "counter", "--trace-host-calls", filepath.Join(t.TempDir(), "no", "such", "dir")); code != 2 ||
		!strings.Contains(stderr, "--trace-host-calls") {
		t.Errorf("an uncreatable trace file: exit %d, %s", code, stderr)
	}
}
