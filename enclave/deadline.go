package enclave

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// callContext is the context guest code runs under: the caller's, with the call's deadline.
// Every call of an enclave reuses the one callContext and its timer, so that a call allocates
// nothing for its deadline: a context.WithTimeout and a context.AfterFunc per call were a
// fifth of a rewound no-op's cost.
//
// The deadline is enforced as before: the timer sets the guest's interrupt budget to 0, so the
// guest polls at its next check (a loop header or function entry), and poll sees Err. A
// context's Done should close at its deadline; this one's Done is the caller's, and closes
// only when the caller's context ends. The one host function that blocks, poll_oneoff's
// sleep, waits no longer than [callContext.Deadline]. A caller that cancels without a deadline
// of its own is noticed at the guest's next poll (every [wasmbin.PollBudget] units of work, or
// at the call's deadline for contrived code), not at once.
type callContext struct {
	context.Context // the caller's; set by arm

	deadline time.Time // the call's: the function's deadline or the caller's, whichever is first

	// Shared with the timer's goroutine.
	expiresNs atomic.Int64 // deadline as nanoseconds since base (monotonic)
	expired   atomic.Bool
	budget    atomic.Pointer[budgetRef]

	base  time.Time
	timer *time.Timer

	// polls counts the guest's calls of poll since it was last cleared: with the budget global
	// before and after a call, it gives the call's work (see Enclave.settle). Only the guest's
	// goroutine touches it (the budget global itself the timer may zero from another one).
	polls int64
}

// budgetRef is the interrupt budget global of one instance, for the timer to zero.
type budgetRef struct{ g api.MutableGlobal }

func newCallContext() *callContext {
	c := &callContext{base: time.Now()}
	c.expiresNs.Store(-1)
	c.timer = time.AfterFunc(time.Hour, c.fire)
	c.timer.Stop()
	return c
}

// now returns the current time read from the monotonic clock alone: time.Since(base) is one
// clock read where time.Now is two (the wall clock's and the monotonic one's), which made
// the clock reads a fifth of a rewound no-op's cost here (43 ns each, against 29 ns for
// this). Its wall-clock reading is base's plus the time elapsed, which drifts from the wall
// clock when that is set: use it for durations (Sub, Since, Before) and deadlines, never as a
// timestamp (Invocation.Start reads the wall clock).
func (c *callContext) now() time.Time { return c.base.Add(time.Since(c.base)) }

// arm prepares c for a call under parent with the function's deadline d from now (a reading
// of c.now or time.Now), interrupting the instance whose budget global is budget when it
// passes.
func (c *callContext) arm(parent context.Context, d time.Duration, budget *budgetRef, now time.Time) {
	dl := now.Add(d)
	if pd, ok := parent.Deadline(); ok && pd.Before(dl) {
		dl = pd
	}
	c.Context, c.deadline = parent, dl
	c.expired.Store(false)
	c.budget.Store(budget)
	c.expiresNs.Store(int64(dl.Sub(c.base)))
	c.timer.Reset(dl.Sub(now))
}

// disarm ends the call: the timer is stopped, and a firing already under way does nothing.
func (c *callContext) disarm() {
	c.timer.Stop()
	c.expiresNs.Store(-1)
	c.budget.Store(nil)
	c.Context = nil
}

// fire runs on the timer's goroutine. A late firing for an earlier call finds the deadline
// of the current call still ahead (or no call armed) and does nothing.
func (c *callContext) fire() {
	exp := c.expiresNs.Load()
	if exp < 0 || int64(time.Since(c.base)) < exp {
		return
	}
	c.expired.Store(true)
	if b := c.budget.Load(); b != nil {
		b.g.Set(0) // poll at the next check
	}
}

// Deadline returns the call's deadline.
func (c *callContext) Deadline() (time.Time, bool) { return c.deadline, true }

// Err returns the caller's error, or context.DeadlineExceeded once the call's deadline has
// passed (by the timer, or by the clock when the timer is late).
func (c *callContext) Err() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if c.expired.Load() || !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}
