package enclave

import (
	"slices"
	"strings"
	"time"

	"github.com/reclave/reclave/enclave/internal/wasi"
)

// HostCallCount is the account of a function's calls to one host function (a function of
// reclave's WASI host, wasi_snapshot_preview1) in one invocation or reset:
//
//	Function  the host function's name, e.g. "fd_write"
//	Calls     the calls made (one the budget refused, and proc_exit, included)
//	BytesIn   bytes the host wrote into linear memory: the data fd_read delivers, random
//	          bytes, clock values, result counts and structs
//	BytesOut  bytes the host read from linear memory: iovec arrays, the data fd_write takes,
//	          poll_oneoff's subscriptions
//
// On SGX hardware each host call that leaves the enclave is an OCALL; see
// [Invocation.HostCalls].
type HostCallCount = wasi.Count

// HostCallEvent is one host call, traced ([Config.TraceHostCalls]).
type HostCallEvent struct {
	// Phase is where the call was made: "invoke" (the function's own call), "reset" (the
	// reset after the invocation, or a re-creation of the instance before it) or "create"
	// (the enclave's creation: the function's start function and init).
	Phase string
	// Function is the host function called, e.g. "fd_write".
	Function string
	// BytesIn and BytesOut are the bytes the call wrote into and read from linear memory.
	BytesIn, BytesOut uint64
	// Duration is the time the host took to serve the call.
	Duration time.Duration
	// Errno is the WASI errno the call returned, or -1 when it did not return (Result says
	// why).
	Errno int32
	// Result is the errno's name (ESUCCESS, EBADF, ...) or, for a call that did not return,
	// "exit" (proc_exit), "budget" (the invocation's host-call budget was exceeded) or
	// "aborted" (interrupted).
	Result string
}

// hostCallsInline is how many functions' accounts an Invocation holds without allocating:
// a reactor typically calls fd_read, fd_write and a clock.
const hostCallsInline = 4

// takeHostCalls returns the host calls made since the last take, in buf's storage while they
// fit, or nil when there were none.
func (e *Enclave) takeHostCalls(buf []HostCallCount) []HostCallCount {
	c := e.host.TakeCalls(buf[:0])
	if len(c) == 0 {
		return nil
	}
	return c
}

// takeHostCallTrace appends the events traced since the last take to dst, in phase phase,
// when the enclave traces host calls; it returns dst unchanged otherwise.
func (e *Enclave) takeHostCallTrace(dst []HostCallEvent, phase string) []HostCallEvent {
	if !e.cfg.TraceHostCalls {
		return dst
	}
	evs, dropped := e.host.TakeTrace(nil)
	for _, ev := range evs {
		dst = append(dst, HostCallEvent{Phase: phase, Function: ev.Function, BytesIn: ev.BytesIn,
			BytesOut: ev.BytesOut, Duration: ev.Duration, Errno: ev.Errno, Result: ev.Result})
	}
	e.traceDropped += dropped
	return dst
}

// CreationHostCalls returns the host calls the enclave's creation made: those of the
// function's start function and init (none for a command, whose _start runs per invocation).
// A cold start pays them as part of its invocation.
func (e *Enclave) CreationHostCalls() []HostCallCount { return e.creationCalls }

// CreationHostCallTrace returns the host calls of the enclave's creation as events (phase
// "create"), when the enclave traces host calls ([Config.TraceHostCalls]); nil otherwise.
func (e *Enclave) CreationHostCallTrace() []HostCallEvent { return e.creationTrace }

// HostCallEventsDropped returns how many host-call events the enclave did not keep because an
// invocation (or its creation) made more than a million host calls while tracing.
func (e *Enclave) HostCallEventsDropped() uint64 { return e.traceDropped }

// mergeHostCalls sorts accounts by function and adds up those of the same function (two
// windows taken one after the other), in place.
func mergeHostCalls(c []HostCallCount) []HostCallCount {
	slices.SortStableFunc(c, func(a, b HostCallCount) int { return strings.Compare(a.Function, b.Function) })
	out := c[:0]
	for _, x := range c {
		if n := len(out); n > 0 && out[n-1].Function == x.Function {
			out[n-1].Calls += x.Calls
			out[n-1].BytesIn += x.BytesIn
			out[n-1].BytesOut += x.BytesOut
			continue
		}
		out = append(out, x)
	}
	return out
}
