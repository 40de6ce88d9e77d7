package wasi

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// callScript makes the calls of one invocation on a probe: what each call reads and writes
// is known, so the account can be checked byte by byte.
func callScript(t *testing.T, e *env) {
	t.Helper()
	e.h.Begin([]byte("hello"))
	// fd_read reads one iovec (8 bytes out) and writes the input and nread (5 + 4 bytes in);
	// at end of input only nread.
	e.iovecs(iovPtr, bufPtr, 16)
	wantErrno(t, "fd_read", e.call("fd_read", 0, iovPtr, 1, resPtr), errSuccess)
	wantErrno(t, "fd_read at EOF", e.call("fd_read", 0, iovPtr, 1, resPtr), errSuccess)
	// fd_write reads three iovecs and 7 bytes (24 + 7 out) and writes nwritten (4 in); to a
	// descriptor that is not open it moves nothing.
	e.iovecs(iovPtr+64, bufPtr, 5, 0, 0, bufPtr+100, 2)
	wantErrno(t, "fd_write", e.call("fd_write", 1, iovPtr+64, 3, resPtr), errSuccess)
	wantErrno(t, "fd_write(7)", e.call("fd_write", 7, iovPtr+64, 3, resPtr), errBadf)
	// A timestamp and 32 random bytes in.
	wantErrno(t, "clock_time_get", e.call("clock_time_get", clockMonotonic, 0, resPtr), errSuccess)
	wantErrno(t, "random_get", e.call("random_get", bufPtr, 32), errSuccess)
	_, err := e.mod.ExportedFunction("call_proc_exit").Call(e.ctx, 3)
	var exit *ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("proc_exit: %v", err)
	}
	e.h.End()
}

// scriptCounts is the account of callScript, in name order.
var scriptCounts = []Count{
	{Function: "clock_time_get", Calls: 1, BytesIn: 8},
	{Function: "fd_read", Calls: 2, BytesIn: 13, BytesOut: 16},
	{Function: "fd_write", Calls: 2, BytesIn: 4, BytesOut: 31},
	{Function: "proc_exit", Calls: 1},
	{Function: "random_get", Calls: 1, BytesIn: 32},
}

func TestTakeCalls(t *testing.T) {
	skipWithoutAccounting(t)
	for _, trace := range []bool{false, true} {
		e := newProbe(t, Config{Trace: trace})
		if got := e.h.TakeCalls(nil); got != nil {
			t.Fatalf("trace %v: calls before any: %v", trace, got)
		}
		callScript(t, e)
		if got := e.h.TakeCalls(nil); !slices.Equal(got, scriptCounts) {
			t.Errorf("trace %v: account\n got %v\nwant %v", trace, got, scriptCounts)
		}
		if got := e.h.TakeCalls(nil); got != nil {
			t.Errorf("trace %v: the account did not start anew: %v", trace, got)
		}
		callScript(t, e) // the same again: counters were zeroed, not left to grow
		if got := e.h.TakeCalls(make([]Count, 0, 2)); !slices.Equal(got, scriptCounts) {
			t.Errorf("trace %v: second account %v", trace, got)
		}
	}
}

func TestFunctionsSorted(t *testing.T) {
	if !slices.IsSortedFunc(functions[:], func(a, b function) int { return strings.Compare(a.name, b.name) }) {
		t.Error("the functions table is not sorted by name: accounts would not come out in name order")
	}
}

func TestTakeTrace(t *testing.T) {
	skipWithoutAccounting(t)
	e := newProbe(t, Config{Trace: true})
	callScript(t, e)
	evs, dropped := e.h.TakeTrace(nil)
	type ev struct {
		fn      string
		in, out uint64
		errno   int32
		result  string
	}
	want := []ev{
		{"fd_read", 9, 8, 0, "ESUCCESS"},
		{"fd_read", 4, 8, 0, "ESUCCESS"},
		{"fd_write", 4, 31, 0, "ESUCCESS"},
		{"fd_write", 0, 0, int32(errBadf), "EBADF"},
		{"clock_time_get", 8, 0, 0, "ESUCCESS"},
		{"random_get", 32, 0, 0, "ESUCCESS"},
		{"proc_exit", 0, 0, -1, ResultExit},
	}
	var got []ev
	for _, x := range evs {
		got = append(got, ev{x.Function, x.BytesIn, x.BytesOut, x.Errno, x.Result})
		if x.Duration < 0 {
			t.Errorf("%s: negative duration", x.Function)
		}
	}
	if !slices.Equal(got, want) || dropped != 0 {
		t.Errorf("events (%d dropped)\n got %v\nwant %v", dropped, got, want)
	}
	if evs, _ := e.h.TakeTrace(nil); len(evs) != 0 {
		t.Errorf("events not taken: %v", evs)
	}
	// Without Config.Trace, no events.
	e = newProbe(t, Config{})
	callScript(t, e)
	if evs, _ := e.h.TakeTrace(nil); len(evs) != 0 {
		t.Errorf("events without tracing: %v", evs)
	}
}

func TestBudget(t *testing.T) {
	skipWithoutAccounting(t)
	// The script: fd_read moves 17 bytes (in 5 + 4, out 8), fd_read at EOF 12 (in 4, out 8),
	// fd_write 19 (in 4, out 8 + 7).
	tests := []struct {
		name         string
		calls, bytes uint64
		stop         int  // the call that fails, -1 for none
		bytesStop    bool // the byte budget stops it (else the call budget)
	}{
		{"no budget", 0, 0, -1, false},
		{"calls 2", 2, 0, 2, false},
		{"calls 3", 3, 0, -1, false},
		{"bytes 16", 0, 16, 0, true}, // the first call runs, then ends the invocation
		{"bytes 17", 0, 17, 1, true},
		{"bytes 47", 0, 47, 2, true},
		{"bytes 48", 0, 48, -1, false},
		{"calls then bytes", 10, 29, 2, true},
		{"calls 1 bytes 16", 1, 16, 0, true},
		{"calls 1 bytes 100", 1, 100, 1, false},
	}
	calls := []struct {
		name string
		args []uint64
	}{
		{"fd_read", []uint64{0, iovPtr, 1, resPtr}},
		{"fd_read", []uint64{0, iovPtr, 1, resPtr}},
		{"fd_write", []uint64{1, iovPtr + 64, 1, resPtr}},
	}
	run := func(e *env, budget bool, calls2, bytes uint64) (int, *BudgetError) {
		e.h.Begin([]byte("hello"))
		defer e.h.End()
		if budget {
			e.h.Budget(calls2, bytes)
		}
		for i, c := range calls {
			_, err := e.mod.ExportedFunction("call_"+c.name).Call(e.ctx, c.args...)
			if err != nil {
				var be *BudgetError
				if !errors.As(err, &be) {
					t.Fatalf("call %d: %v, want a *BudgetError", i, err)
				}
				return i, be
			}
		}
		return -1, nil
	}
	for _, tc := range tests {
		for _, trace := range []bool{false, true} {
			e := newProbe(t, Config{Trace: trace})
			e.iovecs(iovPtr, bufPtr, 16)
			e.poke(bufPtr+200, []byte("output!"))
			e.iovecs(iovPtr+64, bufPtr+200, 7)
			stop, be := run(e, true, tc.calls, tc.bytes)
			if stop != tc.stop || (be != nil && be.Bytes != tc.bytesStop) {
				t.Errorf("%s (trace %v): stopped at call %d by %v, want call %d (bytes %v)", tc.name, trace, stop, be, tc.stop, tc.bytesStop)
			}
			if e.mod.IsClosed() {
				t.Fatalf("%s: the budget closed the module", tc.name)
			}
			evs, _ := e.h.TakeTrace(nil)
			if trace && stop >= 0 && (len(evs) != stop+1 || evs[stop].Result != ResultBudget || evs[stop].Errno != -1) {
				t.Errorf("%s: trace %+v: want %d events, the last one's result budget", tc.name, evs, stop+1)
			}
			// End lifted the budget: the next invocation is not capped.
			if stop, be := run(e, false, 0, 0); stop >= 0 {
				t.Errorf("%s: after End: stopped at call %d by %v", tc.name, stop, be)
			}
		}
	}
}

// skipWithoutAccounting skips a test of the accounting in a build that compiles it out.
func skipWithoutAccounting(t *testing.T) {
	if !accounting {
		t.Skip("built with reclave_nohostcalls: no host-call accounting")
	}
}

// BenchmarkTakeCalls is what taking an invocation's account costs the enclave: two functions
// called (fd_read, fd_write), appended into a buffer with room, as Invocation.HostCalls is.
func BenchmarkTakeCalls(b *testing.B) {
	e := newProbe(b, Config{})
	read, write := 20, 26 // ids of fd_read and fd_write
	if functions[read].name != "fd_read" || functions[write].name != "fd_write" {
		b.Fatal("ids of fd_read and fd_write changed")
	}
	var buf [4]Count
	b.ReportAllocs()
	for b.Loop() {
		e.h.counts[read] = counter{2, 15, 16}
		e.h.counts[write] = counter{1, 4, 39}
		e.h.touched = 1<<read | 1<<write
		if c := e.h.TakeCalls(buf[:0]); len(c) != 2 {
			b.Fatal(c)
		}
	}
}
