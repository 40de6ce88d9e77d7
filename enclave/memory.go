package enclave

import (
	"context"
	"fmt"
	"math/bits"

	"github.com/tetratelabs/wazero/experimental"
)

// heapMemory places an instance's linear memory at the start of the enclave heap. One
// instance at a time uses it. Invariant: heap bytes past the memory's current size are zero,
// so memory that grows needs no clearing; whoever shrinks the memory or drops an instance
// re-establishes it.
type heapMemory struct {
	buf   []byte
	limit uint64 // most bytes linear memory may have
	n     uint64 // current size
}

var _ experimental.MemoryAllocator = (*heapMemory)(nil)

// Allocate starts a new instance's memory. Whatever heap[:n] holds is the caller's to fix.
func (h *heapMemory) Allocate(_, _ uint64) experimental.LinearMemory {
	h.n = 0
	return h
}

// Reallocate grows (or, for a new instance, sets) the memory; nil refuses past the limit.
func (h *heapMemory) Reallocate(size uint64) []byte {
	if size > h.limit {
		return nil
	}
	h.n = size
	return h.buf[:size:size]
}

// Free does nothing: the heap belongs to the enclave.
func (h *heapMemory) Free() {}

// bytes returns the memory as it is now.
func (h *heapMemory) bytes() []byte { return h.buf[:h.n:h.n] }

// dropZeroed clears the current memory and forgets it, so the next instance starts from a
// zeroed heap, as a fresh Wasm memory must.
func (h *heapMemory) dropZeroed() {
	clear(h.buf[:h.n])
	h.n = 0
}

// dirtySet records which 4 KiB pages of linear memory were written since it was last
// cleared: by the instrumented module (through mark_dirty) and by the host.
type dirtySet struct {
	bits  []uint64
	list  []uint32
	pages uint32 // pages covered
}

func newDirtySet(limitBytes uint64) *dirtySet {
	pages := uint32((limitBytes + snapshotPage - 1) / snapshotPage)
	return &dirtySet{bits: make([]uint64, (pages+63)/64), pages: pages}
}

// mark records the pages overlapping [addr, addr+n) (none when n is 0).
func (d *dirtySet) mark(addr, n uint32) {
	if n == 0 {
		return
	}
	last := uint32((uint64(addr) + uint64(n) - 1) / snapshotPage)
	for p := addr / snapshotPage; p <= last && p < d.pages; p++ {
		if w, b := p/64, uint64(1)<<(p%64); d.bits[w]&b == 0 {
			d.bits[w] |= b
			d.list = append(d.list, p)
		}
	}
}

// markGroup records the pages of the group of 64 that starts at page first (a multiple of 64)
// whose bit is set in mask. The collect export reports only such groups, within the tracked
// pages (the bitmap covers them all): anything else is a bug in the instrumentation that
// would leave pages unrestored, so it panics, which fails the collection (wazero returns a
// host function's panic as the call's error) and with it the rewind, and the enclave is not
// reused.
func (d *dirtySet) markGroup(first uint32, mask uint64) {
	w := first / 64
	if first%64 != 0 || int(w) >= len(d.bits) {
		panic(fmt.Sprintf("mark_dirty: page %d is not the first of a tracked group of 64 (%d pages tracked)", first, d.pages))
	}
	if n := d.pages - first; n < 64 {
		mask &= 1<<n - 1
	}
	added := mask &^ d.bits[w]
	d.bits[w] |= added
	for ; added != 0; added &= added - 1 {
		d.list = append(d.list, first+uint32(bits.TrailingZeros64(added)))
	}
}

// markFn is the wazero host function [wasmbin.MarkName] through which the collect export of
// instrumented code reports a group's dirty pages: (i32 base, i64 mask).
func (d *dirtySet) markFn(_ context.Context, stack []uint64) {
	base := uint32(stack[0])
	if base%(64*snapshotPage) != 0 {
		panic(fmt.Sprintf("mark_dirty: base %#x is not a group's (a multiple of 256 KiB)", base))
	}
	d.markGroup(base/snapshotPage, stack[1])
}

// onWrite is mark for the host's own writes into guest memory.
func (d *dirtySet) onWrite(offset, length uint32) { d.mark(offset, length) }

func (d *dirtySet) clear() {
	for _, p := range d.list {
		d.bits[p/64] &^= 1 << (p % 64)
	}
	d.list = d.list[:0]
}
