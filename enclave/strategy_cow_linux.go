package enclave

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/reclave/reclave/enclave/internal/l0"
)

// cowRewinder keeps the snapshot in a memfd and maps it privately (copy-on-write) over the
// start of the heap, where linear memory lives. A write faults and copies one page; a restore
// is one madvise(MADV_DONTNEED) over the memory, which drops the private copies so the pages
// read the snapshot again, and zero-fills the pages past it (anonymous memory). The copy cost
// moves from the rewind to the next invocation's first write to each page (a page fault).
// With compartments on, the memfd is sealed against writes once the snapshot is in it (L0's
// read-only snapshot): private mappings never write to it, and nothing else can.
type cowRewinder struct {
	fd      int
	size    int
	protect bool
}

func newCOWRewinder(protect bool) Rewinder { return &cowRewinder{fd: -1, protect: protect} }

func (*cowRewinder) Tracking() bool { return false }

func (r *cowRewinder) Snapshot(heap []byte, size int) error {
	if err := r.Close(); err != nil {
		return err
	}
	if size == 0 {
		return nil // runtime snapshot point: the clean memory is empty, all anonymous
	}
	if size%unix.Getpagesize() != 0 {
		return fmt.Errorf("cow snapshot: size %d is not a multiple of the OS page size", size)
	}
	fd, err := l0.FreezeFile("reclave-snapshot", heap[:size], r.protect)
	if err != nil {
		return fmt.Errorf("cow snapshot: %w", err)
	}
	// Map the snapshot over the memory, at the same address: compiled code holds it.
	addr := uintptr(unsafe.Pointer(&heap[0]))
	got, _, errno := unix.Syscall6(unix.SYS_MMAP, addr, uintptr(size), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_FIXED, uintptr(fd), 0)
	if errno != 0 || got != addr {
		unix.Close(fd)
		return fmt.Errorf("cow snapshot: mmap over the heap: %w", errno)
	}
	r.fd, r.size = fd, size
	return nil
}

func (r *cowRewinder) Restore(heap []byte, size int, _ []uint32) (Restored, error) {
	if size == 0 {
		return Restored{}, nil
	}
	if err := unix.Madvise(heap[:size], unix.MADV_DONTNEED); err != nil {
		return Restored{}, fmt.Errorf("cow restore: madvise: %w", err)
	}
	return Restored{Pages: pagesIn(size)}, nil
}

// Close drops the memfd. The mapping over the heap stays until the enclave region is unmapped;
// a new Snapshot maps over it again.
func (r *cowRewinder) Close() error {
	if r.fd < 0 {
		return nil
	}
	err := unix.Close(r.fd)
	r.fd = -1
	if err != nil {
		return fmt.Errorf("cow: close memfd: %w", err)
	}
	return nil
}
