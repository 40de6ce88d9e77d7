package enclave

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/enclave/internal/wasi"
	"github.com/reclave/reclave/enclave/internal/wzmem"
)

// snapshotPage is the unit of dirty tracking, comparison and reported pages: 4 KiB.
const snapshotPage = 4096

// Invocation is the outcome of one call to [Enclave.Invoke].
type Invocation struct {
	// Output is what the function wrote to stdout (see the function ABI).
	Output []byte
	// Log is what the function wrote to stderr, truncated to 64 KiB.
	Log []byte
	// Start is when the invocation started; Response and Total count from it.
	Start time.Time
	// Exec is the function's own execution: the Wasm call, inside the "invoke" phase (which
	// adds delivering the input and collecting the output).
	Exec time.Duration
	// Response is the time from the start of the invocation until its output was available.
	Response time.Duration
	// Total is the time from the start until the enclave was ready for the next invocation:
	// Response plus the reset.
	Total time.Duration
	// Phases are "invoke" and the reset done after it ("rewind", "reinstantiate", "recycle";
	// at the runtime snapshot point a rewind is followed by "instantiate" and "fn_init"). A
	// generic enclave's invocation starts with "load", "instantiate" and "fn_init" instead.
	Phases []Phase
	// Reset is what was done after the invocation.
	Reset Reset
	// Strategy is the rewind strategy the invocation ran under (mode rewind): the configured
	// one, or for strategy auto the variant it ran (diff or tracked).
	Strategy Strategy
	// StrategyNote is set when strategy auto decided after this invocation, or switched
	// variants (Reset is then recycle, and the note starts "switched to"): the reason, as
	// [Enclave.StrategyChoice] gives it.
	StrategyNote string
	// Epoch is the number of resets the enclave had done before this invocation.
	Epoch uint64
	// MemoryPages is the size of linear memory, in 64 KiB pages, when the handler returned.
	MemoryPages uint32
	// PagesRestored is the number of 4 KiB pages of linear memory the reset restored.
	PagesRestored int
	// BytesRestored is the number of bytes the reset copied or zeroed (memory and globals).
	BytesRestored int64
	// Bundle is the attestation bundle (outer evidence, inner report, output) of an
	// invocation made with InvokeAttested; nil otherwise.
	Bundle *attest.Bundle
	// HostCalls accounts for the function's host calls during the invocation (the Wasm
	// call): one [HostCallCount] per host function called, in name order; nil when it made
	// none. Always counted; on SGX hardware each would be an enclave exit (OCALL).
	HostCalls []HostCallCount
	// ResetHostCalls accounts the same way for the host calls of the reset that belongs to
	// the invocation — the start function and init of a re-created instance (reinstantiate,
	// recycle, a rewind to the runtime snapshot point), and of a re-creation before the
	// invocation when the last reset was interrupted. A rewind to a function-point snapshot
	// makes none. Nil when there were none.
	ResetHostCalls []HostCallCount
	// HostCallTrace holds every host call of the invocation and its reset, in order, when the
	// enclave traces host calls ([Config.TraceHostCalls]); nil otherwise.
	HostCallTrace []HostCallEvent
	// Load says which function a generic enclave's invocation ran and how its module was
	// loaded ([Enclave.InvokeFunction]); nil for an enclave created for one function.
	Load *ModuleLoad

	hostCalls [hostCallsInline]HostCallCount // HostCalls' storage while it fits
	phases    [6]Phase                       // Phases' storage while it fits
}

// Invoke runs the function once with input on its stdin and returns its stdout, then resets
// the enclave as configured, so that the returned Invocation accounts for the whole cost of
// the invocation. A failed invocation returns an *InvokeError together with the Invocation;
// the enclave has been rewound or recycled by then. If it could not be, Invocation.Reset is
// ResetRetire and the enclave must be closed (it refuses further invocations with
// ErrUnusable); the invocation's own outcome stands, and the error of a failed one also
// wraps ErrUnusable.
//
//	inv, err := e.Invoke(ctx, input)
//	if inv != nil && inv.Reset == enclave.ResetRetire {
//		e.Close(ctx) // and create a new enclave for the next caller
//	}
func (e *Enclave) Invoke(ctx context.Context, input []byte) (*Invocation, error) {
	return e.invoke(ctx, input, nil)
}

// InvokeAttested is Invoke with an inner attestation report: after the function returned and
// before the reset, the enclave's L0 key signs the runtime measurement, the module hash, the
// clean-state hash, the epoch, the client's nonce and the hashes of input and output (phase
// "attest", part of the response). Inv.Bundle carries it with the outer evidence and the
// output, for attest.Verify. The enclave must have been created with a Quoter.
func (e *Enclave) InvokeAttested(ctx context.Context, input []byte, nonce [32]byte) (*Invocation, error) {
	if e.l0 == nil {
		return nil, fmt.Errorf("invoke %s attested: the enclave has no attestation key (create it with a Quoter)", e.fn.Name)
	}
	return e.invoke(ctx, input, &nonce)
}

func (e *Enclave) invoke(ctx context.Context, input []byte, nonce *[32]byte) (*Invocation, error) {
	if e.generic != nil {
		return nil, fmt.Errorf("invoke: %w", errNoFunction)
	}
	if e.unusable != nil {
		return nil, fmt.Errorf("invoke %s: %w: %v", e.fn.Name, ErrUnusable, e.unusable)
	}
	start := time.Now()
	inv := &Invocation{Epoch: e.epoch, Start: start}
	inv.Phases = inv.phases[:0]
	return e.invokeFrom(ctx, inv, start, input, nonce)
}

// invokeFrom runs the invocation inv, started at inv.Start, from callStart on: the function's
// call (phase invoke, from callStart), the inner report, the reset. A generic enclave calls it
// once it has loaded the function (see generic.go).
func (e *Enclave) invokeFrom(ctx context.Context, inv *Invocation, callStart time.Time, input []byte, nonce *[32]byte) (*Invocation, error) {
	start := inv.Start
	name := e.fn.Name // a generic enclave's reset unloads the function
	if e.inst == nil {
		// The last reset was interrupted before it re-created the instance (the heap is
		// clean): re-create it now, under this invocation's context.
		if err := e.rebuild(ctx, inv, true); err != nil {
			e.unusable = fmt.Errorf("re-create the instance: %w", err)
			return nil, fmt.Errorf("invoke %s: %w: %w", e.fn.Name, ErrUnusable, e.unusable)
		}
		if e.inst == nil {
			return nil, fmt.Errorf("invoke %s: %w", e.fn.Name, &InvokeError{Kind: KindCanceled, Err: context.Cause(ctx)})
		}
		callStart = e.cc.now() // the invoke phase starts after the re-creation
		if e.rew != nil && e.cfg.SnapshotPoint.afterInit() {
			inv.timedPhase(string(ResetRecycle), start, callStart)
		}
	}
	resetCalls := e.takeHostCalls(nil) // a re-creation's, if one ran: part of the reset
	inv.HostCallTrace = e.takeHostCallTrace(nil, "reset")

	e.host.Begin(input)
	e.host.Budget(uint64(e.fn.MaxHostCalls), uint64(e.fn.MaxHostBytes))
	execStart := e.cc.now()
	res, callErr := e.inst.call(ctx, e.inst.entry, e.fn.Deadline, execStart)
	inv.Exec = e.cc.now().Sub(execStart)
	inv.Output = bytes.Clone(e.host.Output())
	inv.Log = bytes.Clone(e.host.Log())
	overflow := e.host.OutputOverflow()
	if n := e.host.ReadsAtEOF(); callErr != nil && n >= eofReadsNoted {
		noteEOFReads(callErr, n)
	}
	e.host.End()
	inv.HostCalls = e.takeHostCalls(inv.hostCalls[:])
	inv.HostCallTrace = e.takeHostCallTrace(inv.HostCallTrace, "invoke")
	invoked := e.cc.now()
	inv.Phases = append(inv.Phases, Phase{"invoke", invoked.Sub(callStart)})
	inv.Response = invoked.Sub(start)
	resetStart := invoked // what comes between takes nanoseconds: one clock reading less
	if nonce != nil && callErr == nil {
		report, err := e.l0.SignInner(attest.InnerFields{ // L0's one gate of the invocation
			MRENCLAVE:      e.mrenclave,
			ModuleHash:     e.moduleSum,
			CleanStateHash: e.clean,
			Epoch:          e.epoch,
			Nonce:          *nonce,
			InputHash:      sha256.Sum256(input),
			OutputHash:     sha256.Sum256(inv.Output),
			EnclaveID:      e.id,
		})
		if err != nil {
			// L0 refused or failed to sign: the instance is left as the call left it, and
			// the enclave is not used again.
			e.unusable = fmt.Errorf("inner report: %w", err)
			return nil, fmt.Errorf("invoke %s: %w: %w", e.fn.Name, ErrUnusable, e.unusable)
		}
		inv.Bundle = attest.NewBundle(e.evidence, e.l0.Key().PublicKeyDER(), report, inv.Output)
		resetStart = inv.timedPhase("attest", invoked, e.cc.now())
		inv.Response = resetStart.Sub(start)
	}
	inv.MemoryPages = uint32(e.heap.n / wasmPageSize)

	// What state is the instance in, and what reset does that call for?
	var err error
	reset := e.cfg.Reset
	switch {
	case callErr != nil:
		err = callErr
		var exit *wasi.ExitError
		if errors.As(callErr, &exit) && exit.Code == 0 && e.fn.Kind == KindCommand {
			err = nil // a command that called exit(0) succeeded
		}
		if reset == ResetNone {
			reset = ResetRecycle // a trap or an exit leaves the instance in an unknown state
		}
	case overflow:
		err = &InvokeError{Kind: KindOutputLimit, Err: fmt.Errorf("output exceeds max_output_bytes (%d)", e.fn.MaxOutputBytes)}
	case e.inst.hasStatus && uint32(res[0]) != 0:
		err = &InvokeError{Kind: KindFunction, Err: fmt.Errorf("%s returned status %d", exportHandle, int32(uint32(res[0])))}
	}
	if e.inst.mod.IsClosed() { // nothing should close it, but never reuse a closed module
		reset = ResetRecycle
	}
	if reset == ResetNone && e.fn.Kind == KindCommand {
		// A command runs once per instance (upstream wasi-libc's _start traps when it runs
		// again): without a reset, the next invocation gets a new instance (see ResetNone).
		reset = ResetRecycle
	}
	if e.cfg.OneShot {
		reset = ResetNone
		e.unusable = errors.New("one-shot enclave already served its invocation")
	}

	var resetErr error
	if e.rew != nil {
		inv.Strategy = e.Strategy()
	}
	switch reset {
	case ResetNone:
	case ResetRewind:
		if e.auto != nil && e.auto.afterExec(inv.Exec) {
			reset, resetErr = ResetRecycle, e.switchVariant(ctx, inv)
			break
		}
		n0 := len(inv.Phases)
		reset, resetErr = e.rewind(ctx, inv, resetStart)
		if e.auto != nil && reset == ResetRewind && resetErr == nil {
			var d time.Duration // the reset's phases: rewind, and at the runtime point the re-creation
			for _, p := range inv.Phases[n0:] {
				d += p.Duration
			}
			e.auto.afterReset(d)
		}
		if e.auto != nil && e.auto.noted {
			inv.StrategyNote, e.auto.noted = e.auto.reason, false
		}
	case ResetReinstantiate, ResetRecycle:
		resetErr = e.recreate(ctx, inv)
	}
	if reset != ResetNone {
		e.epoch++
	}
	inv.Reset = reset
	if c := e.host.TakeCalls(resetCalls); len(c) > 0 {
		inv.ResetHostCalls = mergeHostCalls(c)
	}
	inv.HostCallTrace = e.takeHostCallTrace(inv.HostCallTrace, "reset")
	inv.Total = time.Since(start)
	if resetErr != nil {
		// The invocation ran on a clean state, so its outcome stands; the enclave retires.
		e.unusable = fmt.Errorf("%s after an invocation: %w", reset, resetErr)
		inv.Reset = ResetRetire
		if err != nil {
			return inv, errors.Join(fmt.Errorf("invoke %s: %w", name, err), &InvokeError{Kind: KindInternal, Err: fmt.Errorf("%w: %w", ErrUnusable, e.unusable)})
		}
		return inv, nil
	}
	if err != nil {
		return inv, fmt.Errorf("invoke %s: %w", name, err)
	}
	return inv, nil
}

// eofReadsNoted is how many reads of stdin at end-of-file make a deadline error say that the
// function kept reading after the end of its input.
const eofReadsNoted = 10

// noteEOFReads adds to the error of an invocation stopped at its deadline that the function
// read end-of-file from stdin n times: the usual cause is a read loop that does not take a
// read of 0 bytes as the end of the input.
func noteEOFReads(err error, n uint64) {
	var ie *InvokeError
	if errors.As(err, &ie) && ie.Kind == KindDeadline {
		ie.Err = fmt.Errorf("%w; the function kept reading after the end of its input: %d reads of stdin returned end-of-file (0 bytes). Does it loop until read returns a negative value, or wait for more input? A read of 0 bytes is the end", ie.Err, n)
	}
}

// timedPhase appends the duration from start to now as phase name and returns now. Both are
// readings of the enclave's clock (callContext.now) or of time.Now.
func (inv *Invocation) timedPhase(name string, start, now time.Time) time.Time {
	inv.Phases = append(inv.Phases, Phase{name, now.Sub(start)})
	return now
}

// rewind restores the instance to the snapshot, its phase timed from start. It falls back to
// re-creating the instance (a recycle) when the instance holds state a rewind cannot restore:
// tables or segments the function changed, or memory that grew when it cannot be shrunk in
// place.
func (e *Enclave) rewind(ctx context.Context, inv *Invocation, start time.Time) (Reset, error) {
	if e.cfg.SnapshotPoint == PointRuntime {
		return ResetRewind, e.rewindToRuntime(ctx, inv)
	}
	if (e.inst.state != nil && e.inst.state.Get() != 0) || (int(e.heap.n) > e.snapSize && !e.canShrink) {
		return ResetRecycle, e.recreate(ctx, inv)
	}
	size := int(e.heap.n)
	var dirty []uint32
	if e.dirty != nil && e.inst.collect != nil { // not strategy auto's diff variant: a comparison
		if err := e.collectDirty(ctx); err != nil {
			return ResetRewind, err
		}
		dirty = e.dirty.list
	}
	r, err := e.rew.Restore(e.heap.buf, size, dirty)
	if err != nil {
		return ResetRewind, err
	}
	if size > e.snapSize {
		if err := wzmem.Shrink(e.inst.mod.Memory(), uint32(e.snapSize/wasmPageSize)); err != nil {
			return ResetRewind, err
		}
		e.heap.n = uint64(e.snapSize)
	}
	for i, g := range e.inst.globals {
		if g.Get() != e.snapGlobals[i] {
			g.Set(e.snapGlobals[i])
			r.Bytes += 8
		}
	}
	e.host.Restore(e.snapHost)
	// What resetTracking does, without its call into the guest to empty the dirty tables: the
	// collection above emptied them (and a variant without them has nothing to empty).
	e.inst.state.Set(0)
	if e.dirty != nil {
		e.newEpoch() // the globals are the snapshot's again: the stack global's value included
	}
	inv.PagesRestored, inv.BytesRestored = r.Pages, r.Bytes
	inv.timedPhase("rewind", start, e.cc.now())
	return ResetRewind, nil
}

// rewindToRuntime drops the instance, restores the heap to the runtime snapshot (no linear
// memory at all) and the host state, then instantiates and initialises the function afresh
// for the next invocation (see [Enclave.rebuild]).
func (e *Enclave) rewindToRuntime(ctx context.Context, inv *Invocation) error {
	start := e.cc.now()
	var dirty []uint32
	if e.dirty != nil && e.inst != nil && e.inst.collect != nil && !e.inst.mod.IsClosed() {
		if err := e.collectDirty(context.WithoutCancel(ctx)); err == nil {
			dirty = e.dirty.list
		} // else restore everything (dirty nil)
	}
	if err := e.dropInstance(ctx); err != nil {
		return err
	}
	r, err := e.rew.Restore(e.heap.buf, int(e.heap.n), dirty)
	if err != nil {
		return err
	}
	e.heap.n = 0
	e.host.Restore(e.snapHost)
	if e.dirty != nil {
		e.dirty.clear()
	}
	inv.PagesRestored, inv.BytesRestored = r.Pages, r.Bytes
	if e.generic != nil {
		// A generic enclave keeps nothing of the function; it loads the next one when it is
		// invoked (see generic.go).
		err := e.unloadFunction(ctx)
		inv.timedPhase("rewind", start, e.cc.now())
		return err
	}
	inv.timedPhase("rewind", start, e.cc.now())
	return e.rebuild(ctx, inv, true)
}

// dropInstance closes the instance, if there is one. Closing runs no guest code.
func (e *Enclave) dropInstance(ctx context.Context) error {
	if e.inst == nil {
		return nil
	}
	err := e.inst.mod.Close(context.WithoutCancel(ctx))
	e.inst = nil
	if err != nil {
		return fmt.Errorf("close instance: %w", err)
	}
	return nil
}

// recreate replaces the instance by a new one (mode reinstantiate, or a recycle): the old
// instance is closed and its memory zeroed before anything of the new one runs, then
// [Enclave.rebuild] makes the new one.
func (e *Enclave) recreate(ctx context.Context, inv *Invocation) error {
	if e.rew != nil && e.cfg.SnapshotPoint == PointRuntime {
		return e.rewindToRuntime(ctx, inv) // re-creates the instance anyway
	}
	start := e.cc.now()
	name := string(ResetReinstantiate)
	if e.cfg.Reset != ResetReinstantiate {
		name = string(ResetRecycle)
	}
	if err := e.dropInstance(ctx); err != nil {
		return err
	}
	// Nothing of the last invocation may be visible to the new instance: its start function
	// runs during the instantiation and can read every byte of its memory.
	inv.PagesRestored, inv.BytesRestored = pagesIn(int(e.heap.n)), int64(e.heap.n)
	e.heap.dropZeroed()
	if e.dirty != nil {
		e.dirty.clear()
	}
	err := e.rebuild(ctx, inv, false)
	inv.timedPhase(name, start, e.cc.now())
	return err
}

// errNotRebuildable is wrapped by the error of a function-point recycle that cannot rebuild
// the clean instance from the snapshot (see [Enclave.rebuild]); the enclave is retired.
var errNotRebuildable = errors.New("the instance cannot be rebuilt from the snapshot")

// rebuild makes the instance the next invocation runs in, on a heap that holds nothing but
// zeros, and brings it to the clean state:
//
//   - from a function-point snapshot (a recycle): instantiate (the start function runs, on
//     zeroed memory, as in a fresh enclave), then restore memory, size, globals and host state
//     from the snapshot. The init does not run again; so if the start function or the init
//     changed a table, dropped a segment or changed a reference-typed global — state only
//     running them again reproduces — the enclave cannot be rebuilt from its snapshot and
//     rebuild fails (errNotRebuildable), which retires it.
//   - otherwise (reinstantiate, or a runtime-point snapshot): instantiate and run the init,
//     from the host's initial state, as a fresh enclave does.
//
// All guest code runs under ctx and the function's deadline. If ctx is done before the
// instance is complete, the enclave is left without an instance and with a zeroed heap:
// clean, and the next invocation rebuilds it first (its "instantiate" and "fn_init" phases,
// or "recycle"). A start function or an init that fails or overruns its deadline makes the
// rebuild fail: the enclave is unusable. With phases, the instantiation and the init are
// recorded as phases of inv (instantiate, fn_init) when the init runs.
func (e *Enclave) rebuild(ctx context.Context, inv *Invocation, phases bool) (err error) {
	defer func() {
		if err != nil && e.inst != nil {
			e.dropInstance(ctx)
		}
		if err != nil && e.heap != nil {
			e.heap.dropZeroed()
			if e.dirty != nil {
				e.dirty.clear()
			}
			if ctx.Err() != nil {
				err = nil // the caller stopped it, not the function: rebuilt on the next invocation
			}
		}
	}()
	fromSnapshot := e.rew != nil && e.cfg.SnapshotPoint.afterInit()
	if fromSnapshot && e.initState {
		return fmt.Errorf("%w: its start function or init changed a table or dropped a segment", errNotRebuildable)
	}
	if fromSnapshot && e.initRefs {
		return fmt.Errorf("%w: its start function or init changed a funcref or externref global, whose value refers into the old instance", errNotRebuildable)
	}
	if fromSnapshot {
		e.host.Restore(e.hostInitial)
	} else if e.rew != nil {
		e.host.Restore(e.snapHost)
	} else {
		e.host.Restore(e.hostInitial)
	}
	start := e.cc.now()
	inst, err := e.instantiate(ctx)
	if err != nil {
		return err
	}
	e.inst = inst
	if !fromSnapshot {
		if phases {
			start = inv.timedPhase("instantiate", start, e.cc.now())
		}
		if err := e.initFunction(ctx, inst); err != nil {
			return err
		}
		if phases {
			inv.timedPhase("fn_init", start, e.cc.now())
		}
		// The pages the instantiation, the start function and the init wrote stay in the
		// dirty set and tables: they are not the clean state (the runtime snapshot is empty
		// memory), so the next rewind must restore them too.
		return nil
	}

	if inst.state.Get() != 0 {
		return errors.New("the start function of the new instance changed a table or dropped a segment, which it did not do when the snapshot was taken")
	}
	mem := inst.mod.Memory()
	if cur, want := mem.Size()/wasmPageSize, uint32(e.snapSize/wasmPageSize); want > cur {
		if _, ok := mem.Grow(want - cur); !ok {
			return fmt.Errorf("grow the new instance's memory to the snapshot's %d pages", want)
		}
	}
	size := int(e.heap.n)
	r, err := e.rew.Restore(e.heap.buf, size, nil)
	if err != nil {
		return err
	}
	if size > e.snapSize {
		// The start function grew the memory past the snapshot's size (it did not before).
		if !e.canShrink {
			return fmt.Errorf("the new instance's start function grew its memory to %d bytes, past the snapshot's %d", size, e.snapSize)
		}
		if err := wzmem.Shrink(mem, uint32(e.snapSize/wasmPageSize)); err != nil {
			return err
		}
		e.heap.n = uint64(e.snapSize)
	}
	for i, g := range inst.globals {
		if isRef(e.info.MutableGlobals[i].ValType) {
			// A reference into the old instance means nothing in this one; the new instance's
			// own value is what the init left (initRefs is false), and later rewinds restore it.
			e.snapGlobals[i] = g.Get()
			continue
		}
		g.Set(e.snapGlobals[i])
	}
	e.host.Restore(e.snapHost)
	inv.PagesRestored += r.Pages
	inv.BytesRestored += r.Bytes + 8*int64(len(inst.globals))
	return e.resetTracking(context.WithoutCancel(ctx))
}

// Strategy returns the rewind strategy the enclave runs now: the configured one, or for
// strategy auto the variant chosen (diff or tracked); empty for an enclave that does not
// rewind.
func (e *Enclave) Strategy() Strategy {
	switch {
	case e.rew == nil:
		return ""
	case e.auto != nil:
		return variantStrategy[e.auto.cur]
	}
	return e.cfg.Strategy
}

// StrategyChoice says why the enclave runs the strategy it runs: for strategy auto, the
// figures of its last decision (or that it is still exploring, or cannot switch); for any
// other, that it was configured.
func (e *Enclave) StrategyChoice() string {
	switch {
	case e.rew == nil:
		return ""
	case e.auto != nil:
		return e.auto.reason
	}
	return string(e.cfg.Strategy) + ": configured"
}

// switchVariant makes strategy auto's other module variant the one instances are made of and
// re-creates the instance from it, in the clean state, as a recycle does (see
// [Enclave.recreate]); the invocation's reset is then that recycle.
func (e *Enclave) switchVariant(ctx context.Context, inv *Invocation) error {
	e.auto.switched()
	v := e.variants[e.auto.cur]
	e.compiled, e.track = v.compiled, v.track
	inv.StrategyNote, e.auto.noted = "switched to "+string(variantStrategy[e.auto.cur])+": "+e.auto.reason, false
	return e.recreate(ctx, inv)
}
