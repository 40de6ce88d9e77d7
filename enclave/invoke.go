package enclave

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"
)

// snapshotPage is the unit of the diff strategy's comparison and of reported dirty pages.
const snapshotPage = 4096

// Invocation is the outcome of one call to [Enclave.Invoke].
type Invocation struct {
	// Output is what the function wrote to stdout (see the function ABI).
	Output []byte
	// Log is what the function wrote to stderr, truncated to 64 KiB.
	Log []byte
	// Response is the time from the start of the invocation until its output was available.
	Response time.Duration
	// Total is the time from the start until the enclave was ready for the next invocation:
	// Response plus the reset.
	Total time.Duration
	// Phases are "invoke" and the reset done after it ("rewind", "reinstantiate", "recycle").
	Phases []Phase
	// Reset is what was done after the invocation.
	Reset Reset
	// Epoch is the number of resets the enclave had done before this invocation.
	Epoch uint64
	// MemoryPages is the size of linear memory, in 64 KiB pages, when the handler returned.
	MemoryPages uint32
	// DirtyPages is the number of 4 KiB pages of linear memory the reset restored.
	DirtyPages int
	// RestoredBytes is the number of bytes the reset copied back (memory and globals).
	RestoredBytes int64
}

// Invoke runs the function once with input on its stdin and returns its stdout, then resets
// the enclave as configured, so that the returned Invocation accounts for the whole cost of
// the invocation. A failed invocation returns an *InvokeError together with the Invocation;
// the enclave has been rewound or recycled by then. If it could not be, the error wraps
// ErrUnusable and the enclave must be closed.
func (e *Enclave) Invoke(ctx context.Context, input []byte) (*Invocation, error) {
	if e.unusable != nil {
		return nil, fmt.Errorf("invoke %s: %w: %v", e.fn.Name, ErrUnusable, e.unusable)
	}
	inv := &Invocation{Epoch: e.epoch}
	start := time.Now()

	callCtx, cancel := context.WithTimeout(ctx, e.fn.Deadline)
	e.stdio.begin(input)
	res, callErr := e.inst.entry.Call(callCtx)
	cancel()
	inv.Output = bytes.Clone(e.stdio.out.buf)
	inv.Log = bytes.Clone(e.stdio.log.buf)
	overflow := e.stdio.out.overflow
	e.stdio.end()
	inv.Response = time.Since(start)
	inv.Phases = append(inv.Phases, Phase{"invoke", inv.Response})
	inv.MemoryPages = uint32(len(e.heap.bytes()) / wasmPageSize)

	// What state is the instance in, and what reset does that call for?
	var err error
	dead := e.inst.mod.IsClosed() // an exit or a deadline closes a wazero module
	reset := e.cfg.Reset
	switch {
	case callErr != nil:
		err = classify(callCtx, callErr)
		var exit *sys.ExitError
		if errors.As(callErr, &exit) && exit.ExitCode() == 0 && e.fn.Kind == KindCommand {
			err = nil // a command that called exit(0) succeeded
		}
		if reset == ResetNone {
			reset = ResetRecycle // a trap leaves the instance in an unknown state
		}
	case overflow:
		err = &InvokeError{Kind: KindOutputLimit, Err: fmt.Errorf("output exceeds max_output_bytes (%d)", e.fn.MaxOutputBytes)}
	case e.inst.hasStatus && uint32(res[0]) != 0:
		err = &InvokeError{Kind: KindFunction, Err: fmt.Errorf("%s returned status %d", exportHandle, int32(uint32(res[0])))}
	}
	if dead {
		reset = ResetRecycle
	}
	if e.cfg.OneShot {
		reset = ResetNone
		e.unusable = errors.New("one-shot enclave already served its invocation")
	}

	resetStart := time.Now()
	var resetErr error
	switch reset {
	case ResetNone:
	case ResetRewind:
		reset, resetErr = e.rewind(ctx, inv)
	case ResetReinstantiate, ResetRecycle:
		resetErr = e.recreate(ctx, inv)
	}
	if reset != ResetNone {
		inv.Phases = append(inv.Phases, Phase{string(reset), time.Since(resetStart)})
		e.epoch++
	}
	inv.Reset = reset
	inv.Total = time.Since(start)
	if resetErr != nil {
		e.unusable = resetErr
		return inv, errors.Join(err, &InvokeError{Kind: KindInternal, Err: fmt.Errorf("%w: %s: %v", ErrUnusable, reset, resetErr)})
	}
	if err != nil {
		return inv, fmt.Errorf("invoke %s: %w", e.fn.Name, err)
	}
	return inv, nil
}

// rewind restores the instance to the snapshot. Linear memory that grew cannot shrink in
// wazero, so then the instance is re-created from the snapshot instead (a recycle).
func (e *Enclave) rewind(ctx context.Context, inv *Invocation) (Reset, error) {
	mem := e.heap.bytes()
	snap := e.snap.memory
	if len(mem) != len(snap) {
		return ResetRecycle, e.recreate(ctx, inv)
	}
	switch e.cfg.Strategy {
	case StrategyFull:
		copy(mem, snap)
		inv.DirtyPages = (len(mem) + snapshotPage - 1) / snapshotPage
		inv.RestoredBytes = int64(len(mem))
	case StrategyDiff:
		for off := 0; off < len(mem); off += snapshotPage {
			end := min(off+snapshotPage, len(mem))
			if !bytes.Equal(mem[off:end], snap[off:end]) {
				copy(mem[off:end], snap[off:end])
				inv.DirtyPages++
				inv.RestoredBytes += int64(end - off)
			}
		}
	}
	for i, g := range e.inst.globals {
		if g.Get() != e.snap.globals[i] {
			g.Set(e.snap.globals[i])
			inv.RestoredBytes += 8
		}
	}
	return ResetRewind, nil
}

// recreate replaces the instance by a new one: restored from the snapshot when there is one
// (rewinding enclaves), otherwise initialised by running the function's init again.
func (e *Enclave) recreate(ctx context.Context, inv *Invocation) error {
	ctx = context.WithoutCancel(ctx) // a cancelled invocation still leaves a clean enclave
	if err := e.inst.mod.Close(ctx); err != nil {
		return fmt.Errorf("close instance: %w", err)
	}
	inst, err := e.instantiate(ctx)
	if err != nil {
		return err
	}
	e.inst = inst
	if e.snap == nil {
		return e.initFunction(ctx, inst)
	}
	mem := inst.mod.Memory()
	cur := mem.Size() / wasmPageSize
	want := uint32(len(e.snap.memory) / wasmPageSize)
	if want > cur {
		if _, ok := mem.Grow(want - cur); !ok {
			return fmt.Errorf("grow restored memory to %d pages failed", want)
		}
	}
	buf := e.heap.bytes()
	if len(buf) != len(e.snap.memory) {
		return fmt.Errorf("restored memory has %d bytes, snapshot %d", len(buf), len(e.snap.memory))
	}
	copy(buf, e.snap.memory)
	for i, g := range inst.globals {
		g.Set(e.snap.globals[i])
	}
	inv.DirtyPages = (len(buf) + snapshotPage - 1) / snapshotPage
	inv.RestoredBytes = int64(len(buf)) + 8*int64(len(inst.globals))
	return nil
}

// heapMemory places an instance's linear memory in the enclave's heap. One instance at a
// time uses it; newly exposed bytes are zeroed, as Wasm requires.
type heapMemory struct {
	buf   []byte
	limit uint64
	n     uint64
}

var _ experimental.MemoryAllocator = (*heapMemory)(nil)

func (h *heapMemory) Allocate(_, _ uint64) experimental.LinearMemory {
	h.n = 0
	return h
}

func (h *heapMemory) Reallocate(size uint64) []byte {
	if size > h.limit {
		return nil
	}
	if size > h.n {
		clear(h.buf[h.n:size])
	}
	h.n = size
	return h.buf[:size:size]
}

func (h *heapMemory) Free() {}

func (h *heapMemory) reset() { h.n = 0 }

func (h *heapMemory) bytes() []byte { return h.buf[:h.n:h.n] }

// stdio is the host side of the function's standard streams: the input of the current
// invocation on stdin, its output and log collected from stdout and stderr. It is emptied
// after every invocation so nothing of one reaches the next through the host.
type stdio struct {
	in  inputReader
	out capBuffer
	log capBuffer
}

func newStdio(maxOutput int) *stdio {
	return &stdio{out: capBuffer{limit: maxOutput}, log: capBuffer{limit: 64 << 10, truncate: true}}
}

func (s *stdio) begin(input []byte) {
	s.in = inputReader{data: input}
	s.out.reset()
	s.log.reset()
}

func (s *stdio) end() {
	s.in = inputReader{}
	s.out.reset()
	s.log.reset()
}

type inputReader struct {
	data []byte
	off  int
}

func (r *inputReader) Read(p []byte) (int, error) {
	if r.off >= len(r.data) {
		return 0, io.EOF // wazero reports it to the guest as a read of zero bytes
	}
	n := copy(p, r.data[r.off:])
	r.off += n
	return n, nil
}

// errOutputLimit is returned to the guest's write when its output passes the limit.
var errOutputLimit = errors.New("output limit reached")

type capBuffer struct {
	buf      []byte
	limit    int
	truncate bool // drop what passes the limit silently (logs) instead of failing the write
	overflow bool
}

func (b *capBuffer) Write(p []byte) (int, error) {
	room := b.limit - len(b.buf)
	if len(p) <= room {
		b.buf = append(b.buf, p...)
		return len(p), nil
	}
	b.buf = append(b.buf, p[:max(room, 0)]...)
	b.overflow = true
	if b.truncate {
		return len(p), nil
	}
	return max(room, 0), errOutputLimit
}

func (b *capBuffer) reset() {
	clear(b.buf)
	b.buf = b.buf[:0]
	b.overflow = false
}
