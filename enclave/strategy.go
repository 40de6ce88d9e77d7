package enclave

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/reclave/reclave/enclave/internal/l0"
)

// Rewinder is a rewind strategy: how linear memory is brought back to the snapshot. Adding a
// strategy is one file with a type implementing Rewinder and one entry in [rewinders].
//
// The snapshot is L0's: a strategy keeps it in memory L1 cannot write, taken through package
// l0 (l0.Freeze, or l0.FreezeFile for a memfd), which makes it read-only once taken when
// compartments are on. Restore only reads it: the rewind path crosses no gate.
//
// Linear memory lives at the start of the enclave heap; the heap bytes past the current memory
// size are always zero (the allocator relies on it when memory grows). A Rewinder sees the
// heap, the memory's current size and, if it asked for tracking, the pages written since the
// last restore.
type Rewinder interface {
	// Tracking reports whether the strategy needs to know which 4 KiB pages an invocation
	// wrote. The runtime then instruments the module's stores and reports its own writes.
	Tracking() bool
	// Snapshot records heap[:size] as the clean state. size is 0 for the runtime snapshot
	// point (clean = no linear memory at all).
	Snapshot(heap []byte, size int) error
	// Restore makes heap[:snapshot size] equal to the snapshot and heap[snapshot size:size]
	// zero. size is at least the snapshot size. dirty lists the pages written since the last
	// Snapshot or Restore when the strategy tracks, in no particular order; it is nil when the
	// strategy does not track or when the runtime lost track (after re-creating an instance),
	// and the strategy must then restore everything.
	Restore(heap []byte, size int, dirty []uint32) (Restored, error)
	// Close releases what Snapshot acquired.
	Close() error
}

// Restored tells what a restore did.
type Restored struct {
	// Pages is the number of 4 KiB pages restored (copied back, zeroed or dropped).
	Pages int
	// Bytes is the number of bytes copied or zeroed during the restore (a strategy that defers
	// the copy to page faults, like cow, copies none here).
	Bytes int64
}

// rewinders are the strategies by name; protect is whether compartments are on (the
// snapshot read-only).
var rewinders = map[Strategy]func(protect bool) Rewinder{
	StrategyFull:    func(p bool) Rewinder { return &fullRewinder{snapshotBuffer{protect: p}} },
	StrategyDiff:    func(p bool) Rewinder { return &diffRewinder{snapshotBuffer{protect: p}} },
	StrategyCOW:     newCOWRewinder,
	StrategyTracked: func(p bool) Rewinder { return &trackedRewinder{snapshotBuffer{protect: p}} },
	StrategyAuto:    func(p bool) Rewinder { return &autoRewinder{snapshotBuffer{protect: p}} },
}

// Strategies returns the names of the available rewind strategies, sorted.
func Strategies() []Strategy {
	var out []Strategy
	for s := range rewinders {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// snapshotBuffer holds a copy of the clean linear memory in memory of its own, outside the
// heap the guest's memory lives in: L0's, read-only once taken when protect is set. With it,
// equally frozen, which of its 4 KiB pages are all zero: a comparison with such a page needs
// to read only linear memory's (see restoreDiff). That map is made at the first comparison,
// from the frozen copy: an enclave that never compares (mode cold, strategy tracked) does not
// pay for the scan.
type snapshotBuffer struct {
	protect bool
	frozen  *l0.Frozen
	mem     []byte // frozen.Bytes()
	zf      *l0.Frozen
	zero    []byte // zf.Bytes(), once made: 1 for each page of mem that is all zero, else 0
}

func (b *snapshotBuffer) take(heap []byte, size int) error {
	if err := b.free(); err != nil {
		return err
	}
	f, err := l0.Freeze(heap[:size], b.protect)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	b.frozen, b.mem = f, f.Bytes()
	return nil
}

// zeroPages returns the map of the snapshot's zero pages, making it the first time.
func (b *snapshotBuffer) zeroPages() ([]byte, error) {
	if b.zero != nil || len(b.mem) == 0 {
		return b.zero, nil
	}
	zero := make([]byte, pagesIn(len(b.mem)))
	for i := range zero {
		if isZero(b.mem[i*snapshotPage : min((i+1)*snapshotPage, len(b.mem))]) {
			zero[i] = 1
		}
	}
	zf, err := l0.Freeze(zero, b.protect)
	if err != nil {
		return nil, fmt.Errorf("snapshot zero pages: %w", err)
	}
	b.zf, b.zero = zf, zf.Bytes()
	return b.zero, nil
}

func (b *snapshotBuffer) free() error {
	err := errors.Join(b.frozen.Free(), b.zf.Free())
	b.frozen, b.mem, b.zf, b.zero = nil, nil, nil, nil
	return err
}

// copyBack restores every page: the snapshot copied over heap[:len(snapshot)], the grown part
// zeroed.
func (b *snapshotBuffer) copyBack(heap []byte, size int) Restored {
	n := copy(heap, b.mem)
	clear(heap[n:size])
	return Restored{Pages: pagesIn(size), Bytes: int64(size)}
}

func pagesIn(n int) int { return (n + snapshotPage - 1) / snapshotPage }

// fullRewinder copies the whole snapshot back: the paper artifact's approach, without its
// memset of the whole heap.
type fullRewinder struct{ snapshotBuffer }

func (*fullRewinder) Tracking() bool { return false }

func (r *fullRewinder) Snapshot(heap []byte, size int) error { return r.take(heap, size) }

func (r *fullRewinder) Restore(heap []byte, size int, _ []uint32) (Restored, error) {
	return r.copyBack(heap, size), nil
}

func (r *fullRewinder) Close() error { return r.free() }

// diffRewinder compares memory with the snapshot page by page and copies back the pages that
// differ; grown pages are zeroed where they are not already zero.
type diffRewinder struct{ snapshotBuffer }

func (*diffRewinder) Tracking() bool { return false }

func (r *diffRewinder) Snapshot(heap []byte, size int) error { return r.take(heap, size) }

func (r *diffRewinder) Restore(heap []byte, size int, _ []uint32) (Restored, error) {
	return r.restoreDiff(heap, size)
}

func (r *diffRewinder) Close() error { return r.free() }

// restoreDiff compares heap[:size] with the snapshot page by page and copies back the pages
// that differ; grown pages, and pages that are zero in the snapshot (see zeroPages), are
// zeroed where they are not already zero.
func (b *snapshotBuffer) restoreDiff(heap []byte, size int) (Restored, error) {
	var res Restored
	snap := b.mem
	zero, err := b.zeroPages()
	if err != nil {
		return res, err
	}
	for off := 0; off < size; off += snapshotPage {
		end := min(off+snapshotPage, size)
		page := heap[off:end]
		if off < len(snap) {
			if zero[off/snapshotPage] == 1 { // read linear memory's page only
				if !isZero(page) {
					clear(page)
					res.Pages++
					res.Bytes += int64(len(page))
				}
			} else if want := snap[off:end]; !bytes.Equal(page, want) {
				copy(page, want)
				res.Pages++
				res.Bytes += int64(len(page))
			}
		} else if !isZero(page) {
			clear(page)
			res.Pages++
			res.Bytes += int64(len(page))
		}
	}
	return res, nil
}

// trackedRewinder restores exactly the pages the instrumented module and the host reported
// written: no scan, no fault.
type trackedRewinder struct{ snapshotBuffer }

func (*trackedRewinder) Tracking() bool { return true }

func (r *trackedRewinder) Snapshot(heap []byte, size int) error { return r.take(heap, size) }

func (r *trackedRewinder) Restore(heap []byte, size int, dirty []uint32) (Restored, error) {
	if dirty == nil {
		return r.copyBack(heap, size), nil
	}
	return r.restorePages(heap, size, dirty), nil
}

func (r *trackedRewinder) Close() error { return r.free() }

// restorePages restores exactly the pages listed in dirty: copied back from the snapshot,
// zeroed past it.
func (b *snapshotBuffer) restorePages(heap []byte, size int, dirty []uint32) Restored {
	var res Restored
	snap := b.mem
	for _, p := range dirty {
		off := int(p) * snapshotPage
		if off >= size {
			continue // past the memory: it was zeroed when the memory shrank before
		}
		end := min(off+snapshotPage, size)
		n := 0
		if off < len(snap) {
			n = copy(heap[off:end], snap[off:])
		}
		clear(heap[off+n : end])
		res.Pages++
		res.Bytes += int64(end - off)
	}
	return res
}

// autoRewinder is strategy auto's (see auto.go): the pages written when the module variant
// running tracked them, a comparison with the snapshot otherwise. The runtime passes dirty only
// when the instance that ran was the tracked variant.
type autoRewinder struct{ snapshotBuffer }

func (*autoRewinder) Tracking() bool { return true }

func (r *autoRewinder) Snapshot(heap []byte, size int) error { return r.take(heap, size) }

func (r *autoRewinder) Restore(heap []byte, size int, dirty []uint32) (Restored, error) {
	if dirty == nil {
		return r.restoreDiff(heap, size)
	}
	return r.restorePages(heap, size, dirty), nil
}

func (r *autoRewinder) Close() error { return r.free() }
