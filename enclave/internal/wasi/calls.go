package wasi

import (
	"context"
	"fmt"
	"math/bits"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// Host-call accounting. Every call the guest makes to a function of the host module is
// counted, always, with the bytes it moved across the boundary of linear memory: bytes in
// (what the host wrote into guest memory: the data fd_read delivers, random bytes, clock
// values, result counts and structs — exactly what Config.OnWrite sees) and bytes out (what
// the host read from guest memory: iovec arrays, the data fd_write takes, poll_oneoff's
// subscriptions). Checking that a range lies within memory reads nothing and counts nothing.
//
// The account is kept in a fixed array indexed by the function's id (its index in the sorted
// functions table) with a bit mask of the functions called, so that a call costs a few
// additions and taking the account visits only the functions called: no map, no allocation.
// [Host.TakeCalls] returns the account since the last one and starts a new one, so the caller
// decides the windows (an invocation, a reset, an enclave's creation).
//
// Durations are measured only when tracing is on ([Config.Trace]): then every call also
// becomes an [Event], taken with [Host.TakeTrace]. A budget ([Host.Budget]) caps the calls
// and bytes of the current invocation.

// numFunctions is the number of functions the host module exports: WASI preview1, with
// sock_accept.
const numFunctions = 46

// Every function has a bit in Host.touched, a uint64: this fails to compile otherwise.
var _ [64 - numFunctions]struct{}

// MaxTraceEvents is the number of events a Host keeps between two [Host.TakeTrace] calls;
// the events of calls beyond it are counted as dropped. A million events are about 64 MB.
const MaxTraceEvents = 1 << 20

// Why a traced call did not return ([Event].Result, with Errno -1).
const (
	// ResultExit: proc_exit, which ends the call.
	ResultExit = "exit"
	// ResultBudget: the call was refused, or ended the invocation after it ran, because the
	// invocation's budget was exceeded (see [BudgetError]).
	ResultBudget = "budget"
	// ResultAborted: the call was aborted (poll_oneoff's sleep interrupted by the end of the
	// call's context).
	ResultAborted = "aborted"
)

// counter is one function's account in the current window.
type counter struct{ calls, in, out uint64 }

// Count is the account of the guest's calls to one host function in one window (see
// [Host.TakeCalls]).
type Count struct {
	// Function is the function's name, e.g. "fd_write".
	Function string
	// Calls counts the calls, including one refused by the budget and one that did not
	// return (proc_exit).
	Calls uint64
	// BytesIn counts the bytes the host wrote into guest memory, BytesOut those it read from
	// guest memory.
	BytesIn, BytesOut uint64
}

// Event is one traced host call ([Config.Trace]).
type Event struct {
	// Function is the function called.
	Function string
	// BytesIn and BytesOut are the bytes the call wrote into and read from guest memory.
	BytesIn, BytesOut uint64
	// Duration is the time the host took to serve the call.
	Duration time.Duration
	// Errno is the errno the call returned to the guest, or -1 when it did not return.
	Errno int32
	// Result is the errno's name (ESUCCESS, EBADF, ...), or, for a call that did not return,
	// why: [ResultExit], [ResultBudget] or [ResultAborted].
	Result string
}

// BudgetError is the error, wrapped, that api.Function.Call returns when the guest's host
// calls exceeded the budget set with [Host.Budget]. As with [ExitError], only the call ends:
// the module stays open. Find it with errors.As.
type BudgetError struct {
	// Function is the call that exceeded the budget.
	Function string
	// Bytes is false when the call budget was exceeded (the call was refused before it ran),
	// true when the byte budget was (the call ran, and took the bytes past the budget).
	Bytes bool
	// Limit is the budget that was exceeded: calls or bytes per invocation.
	Limit uint64
}

func (e *BudgetError) Error() string {
	if e.Bytes {
		return fmt.Sprintf("wasi: host-call bytes exceed the budget of %d per invocation (at %s)", e.Limit, e.Function)
	}
	return fmt.Sprintf("wasi: host calls exceed the budget of %d per invocation (%s refused)", e.Limit, e.Function)
}

// wrap returns the Go function that serves function id of the host module: it accounts for
// the call, then runs the function; with tracing on or a budget set, through slowCall.
func (h *Host) wrap(id int) api.GoModuleFunc {
	fn, noResult := functions[id].fn, functions[id].noResult
	bit := uint64(1) << id
	if !accounting {
		return func(ctx context.Context, mod api.Module, stack []uint64) {
			e := fn(h, ctx, mod, stack)
			if !noResult {
				stack[0] = uint64(e)
			}
		}
	}
	return func(ctx context.Context, mod api.Module, stack []uint64) {
		c := &h.counts[id]
		c.calls++
		h.touched |= bit
		h.cur = c
		if h.slow {
			h.slowCall(id, ctx, mod, stack)
			return
		}
		e := fn(h, ctx, mod, stack)
		if !noResult {
			stack[0] = uint64(e)
		}
	}
}

// slowCall runs function id, already counted, under the budget and with tracing as they are
// set.
func (h *Host) slowCall(id int, ctx context.Context, mod api.Module, stack []uint64) {
	f := &functions[id]
	c := h.cur
	in0, out0 := c.in, c.out
	if h.budgeted {
		if h.budgetCalls++; h.budgetCalls > h.maxCalls {
			if h.trace {
				h.addEvent(Event{Function: f.name, Errno: -1, Result: ResultBudget})
			}
			panic(&BudgetError{Function: f.name, Limit: h.maxCalls})
		}
	}
	var e errno
	if h.trace {
		start := time.Now()
		defer func() {
			ev := Event{Function: f.name, BytesIn: c.in - in0, BytesOut: c.out - out0, Duration: time.Since(start)}
			p := recover()
			if p == nil {
				ev.Errno, ev.Result = int32(e), e.String()
			} else {
				ev.Errno, ev.Result = -1, panicResult(p)
			}
			h.addEvent(ev)
			if p != nil {
				panic(p) // wazero turns it into the call's error, as without tracing
			}
		}()
	}
	e = f.fn(h, ctx, mod, stack)
	if h.budgeted {
		if h.budgetBytes += (c.in - in0) + (c.out - out0); h.budgetBytes > h.maxBytes {
			panic(&BudgetError{Function: f.name, Bytes: true, Limit: h.maxBytes})
		}
	}
	if !f.noResult {
		stack[0] = uint64(e)
	}
}

// panicResult says why a call that panicked did not return.
func panicResult(p any) string {
	switch p.(type) {
	case *ExitError:
		return ResultExit
	case *BudgetError:
		return ResultBudget
	}
	return ResultAborted
}

func (h *Host) addEvent(ev Event) {
	if len(h.events) >= MaxTraceEvents {
		h.dropped++
		return
	}
	h.events = append(h.events, ev)
}

// TakeCalls appends to dst the account of the host calls made since the last TakeCalls (or
// Instantiate) — one [Count] per function called, in name order — and starts a new account.
// Without calls it appends nothing and costs a comparison.
//
//	h.TakeCalls(nil)          // forget what came before
//	... the invocation ...
//	calls := h.TakeCalls(nil) // its host calls
func (h *Host) TakeCalls(dst []Count) []Count {
	for t := h.touched; t != 0; t &= t - 1 {
		i := bits.TrailingZeros64(t)
		c := &h.counts[i]
		dst = append(dst, Count{Function: functions[i].name, Calls: c.calls, BytesIn: c.in, BytesOut: c.out})
		*c = counter{}
	}
	h.touched = 0
	return dst
}

// TakeTrace appends to dst the events of the host calls made since the last TakeTrace, in
// the order of the calls, and returns it with the number of events dropped because there
// were more than [MaxTraceEvents]. Without [Config.Trace] there are none.
func (h *Host) TakeTrace(dst []Event) ([]Event, uint64) {
	dst = append(dst, h.events...)
	clear(h.events) // function names only, but the buffer is kept
	h.events = h.events[:0]
	dropped := h.dropped
	h.dropped = 0
	return dst, dropped
}

// Budget caps the host calls of the current invocation, from now until [Host.End]: at most
// calls calls and bytes bytes crossing either way (0: no cap). The call past the call budget
// is refused before it runs; the call that takes the bytes past the byte budget runs (its
// bytes have moved) and then ends the invocation. Either way the guest's call into the
// host fails with a [*BudgetError], and the module stays open (the caller resets it, as
// after a trap).
func (h *Host) Budget(calls, bytes uint64) {
	h.maxCalls, h.maxBytes = noCap(calls), noCap(bytes)
	h.budgetCalls, h.budgetBytes = 0, 0
	h.budgeted = calls != 0 || bytes != 0
	h.slow = h.trace || h.budgeted
}

func noCap(v uint64) uint64 {
	if v == 0 {
		return ^uint64(0)
	}
	return v
}
