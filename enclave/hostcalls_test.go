package enclave_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/reclave/reclave/enclave"
)

// callsOf returns the account of function name in c (zero when it was not called).
func callsOf(c []enclave.HostCallCount, name string) enclave.HostCallCount {
	for _, x := range c {
		if x.Function == name {
			return x
		}
	}
	return enclave.HostCallCount{}
}

// TestHostCallsResetPaths: every invocation accounts for its host calls; a rewind to a
// function-point snapshot makes none, whatever the strategy, while the paths that run the
// function's init again (reinstantiate, a rewind to the runtime point) report the init's.
func TestHostCallsResetPaths(t *testing.T) {
	input := []byte(`{"name":"x"}`)
	tests := []struct {
		name      string
		cfg       enclave.Config
		wantReset bool
	}{
		{"rewind/full", enclave.Config{Reset: enclave.ResetRewind, Strategy: enclave.StrategyFull}, false},
		{"rewind/diff", enclave.Config{Reset: enclave.ResetRewind, Strategy: enclave.StrategyDiff}, false},
		{"rewind/cow", enclave.Config{Reset: enclave.ResetRewind, Strategy: enclave.StrategyCOW}, false},
		{"rewind/tracked", enclave.Config{Reset: enclave.ResetRewind, Strategy: enclave.StrategyTracked}, false},
		{"rewind/runtime-point", enclave.Config{Reset: enclave.ResetRewind, SnapshotPoint: enclave.PointRuntime}, true},
		{"reinstantiate", enclave.Config{Reset: enclave.ResetReinstantiate}, true},
		{"warm", enclave.Config{Reset: enclave.ResetNone}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := createWith(t, tc.cfg, module(t, "hello-go"))
			if len(e.CreationHostCalls()) == 0 {
				t.Error("the creation (a Go runtime's init) made no host calls")
			}
			for i := range 3 {
				inv, err := e.Invoke(context.Background(), input)
				if err != nil {
					t.Fatal(err)
				}
				read, write := callsOf(inv.HostCalls, "fd_read"), callsOf(inv.HostCalls, "fd_write")
				if read.Calls == 0 || read.BytesIn < uint64(len(input)) || write.Calls == 0 || write.BytesOut < uint64(len(inv.Output)) {
					t.Errorf("invocation %d: host calls %v: want fd_read taking the %d input bytes in and fd_write the %d output bytes out",
						i, inv.HostCalls, len(input), len(inv.Output))
				}
				if !slices.IsSortedFunc(inv.HostCalls, func(a, b enclave.HostCallCount) int { return strings.Compare(a.Function, b.Function) }) {
					t.Errorf("host calls not in name order: %v", inv.HostCalls)
				}
				if got := len(inv.ResetHostCalls) > 0; got != tc.wantReset {
					t.Errorf("invocation %d (reset %s): reset host calls %v, want some: %v", i, inv.Reset, inv.ResetHostCalls, tc.wantReset)
				}
				if inv.HostCallTrace != nil {
					t.Error("a trace without Config.TraceHostCalls")
				}
			}
		})
	}
}

// TestHostCallBudget: an invocation past its host-call budget ends with the error kind
// host_call_limit, the enclave is reset as after a trap, and the next invocation's output is
// the one a fresh enclave gives (counter's output shows any state left behind).
func TestHostCallBudget(t *testing.T) {
	small := `{"a":1}` // counter: 3 host calls (fd_read ×2, fd_write), 74 bytes
	big := `{"a":"` + strings.Repeat("x", 20000) + `"}`
	budgets := []struct {
		name         string
		calls, bytes int64
	}{
		{"calls", 4, 0},
		{"bytes", 0, 1000},
	}
	modes := []struct {
		cfg       enclave.Config
		wantReset enclave.Reset
	}{
		{enclave.Config{Reset: enclave.ResetRewind}, enclave.ResetRewind},
		{enclave.Config{Reset: enclave.ResetRewind, Strategy: enclave.StrategyTracked}, enclave.ResetRewind},
		{enclave.Config{Reset: enclave.ResetReinstantiate}, enclave.ResetReinstantiate},
		{enclave.Config{Reset: enclave.ResetNone}, enclave.ResetRecycle},
	}
	for _, b := range budgets {
		for _, m := range modes {
			t.Run(b.name+"/"+string(m.cfg.Reset)+"/"+string(m.cfg.Strategy), func(t *testing.T) {
				fn := counter(t)
				fn.MaxHostCalls, fn.MaxHostBytes = b.calls, b.bytes
				e := createWith(t, m.cfg, fn)
				fresh := createWith(t, enclave.Config{Reset: enclave.ResetRewind}, fn)
				want, _ := invokeCounter(t, fresh, small)

				inv, err := e.Invoke(context.Background(), []byte(big))
				if enclave.KindOf(err) != enclave.KindHostCallLimit {
					t.Fatalf("over the budget: error %v (kind %q), want kind %s", err, enclave.KindOf(err), enclave.KindHostCallLimit)
				}
				if errors.Is(err, enclave.ErrUnusable) || inv == nil || inv.Reset != m.wantReset {
					t.Fatalf("over the budget: reset %v, error %v: want the enclave reset by %s", inv, err, m.wantReset)
				}
				total := uint64(0)
				for _, c := range inv.HostCalls {
					total += c.Calls
				}
				if b.calls > 0 && total != uint64(b.calls)+1 {
					t.Errorf("host calls %v: want the budget's %d and the refused one", inv.HostCalls, b.calls)
				}
				for i := range 2 {
					got, inv := invokeCounter(t, e, small)
					if got != want {
						t.Errorf("invocation %d after the budget stop: output %+v, a fresh enclave's %+v", i, got, want)
					}
					if inv.Reset != m.cfg.Reset {
						t.Errorf("invocation %d: reset %s, want %s", i, inv.Reset, m.cfg.Reset)
					}
					if m.cfg.Reset == enclave.ResetNone {
						break // warm: the next one sees this one's state, by design
					}
				}
			})
		}
	}
}

// TestHostCallTrace: with tracing, every counted call is an event, in order, with its phase,
// bytes and result; a call the budget refuses is the last event, with result "budget".
func TestHostCallTrace(t *testing.T) {
	fn := module(t, "hello-go")
	e := createWith(t, enclave.Config{Reset: enclave.ResetReinstantiate, TraceHostCalls: true}, fn)
	if got, want := len(e.CreationHostCallTrace()), sumCalls(e.CreationHostCalls()); got != int(want) || got == 0 {
		t.Errorf("creation: %d events for %d calls", got, want)
	}
	inv, err := e.Invoke(context.Background(), []byte(`{"name":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	phases := map[string][]enclave.HostCallCount{}
	for _, ev := range inv.HostCallTrace {
		if ev.Errno < 0 || ev.Result == "" || ev.Duration < 0 {
			t.Errorf("event %+v: want an errno, its name and a duration", ev)
		}
		phases[ev.Phase] = append(phases[ev.Phase], enclave.HostCallCount{Function: ev.Function, Calls: 1, BytesIn: ev.BytesIn, BytesOut: ev.BytesOut})
	}
	for phase, want := range map[string][]enclave.HostCallCount{"invoke": inv.HostCalls, "reset": inv.ResetHostCalls} {
		if got := sumByFunction(phases[phase]); !slices.Equal(got, want) {
			t.Errorf("phase %s: events add up to %v, the account is %v", phase, got, want)
		}
	}
	if i := slices.IndexFunc(inv.HostCallTrace, func(ev enclave.HostCallEvent) bool { return ev.Phase == "reset" }); i >= 0 &&
		slices.ContainsFunc(inv.HostCallTrace[i:], func(ev enclave.HostCallEvent) bool { return ev.Phase == "invoke" }) {
		t.Error("events out of order: a reset event before an invoke event")
	}

	fn = counter(t)
	fn.MaxHostCalls = 1
	e = createWith(t, enclave.Config{TraceHostCalls: true}, fn)
	inv, err = e.Invoke(context.Background(), []byte(`{}`))
	if enclave.KindOf(err) != enclave.KindHostCallLimit {
		t.Fatalf("error %v, want kind %s", err, enclave.KindHostCallLimit)
	}
	if n := len(inv.HostCallTrace); n != 2 || inv.HostCallTrace[1].Result != "budget" || inv.HostCallTrace[1].Errno != -1 {
		t.Errorf("trace %+v: want the allowed call, then the refused one (result budget)", inv.HostCallTrace)
	}
}

func sumCalls(c []enclave.HostCallCount) uint64 {
	var n uint64
	for _, x := range c {
		n += x.Calls
	}
	return n
}

// sumByFunction adds up accounts by function, in name order.
func sumByFunction(c []enclave.HostCallCount) []enclave.HostCallCount {
	var out []enclave.HostCallCount
	for _, x := range c {
		i := slices.IndexFunc(out, func(o enclave.HostCallCount) bool { return o.Function == x.Function })
		if i < 0 {
			out = append(out, x)
			continue
		}
		out[i].Calls += x.Calls
		out[i].BytesIn += x.BytesIn
		out[i].BytesOut += x.BytesOut
	}
	slices.SortFunc(out, func(a, b enclave.HostCallCount) int { return strings.Compare(a.Function, b.Function) })
	return out
}
