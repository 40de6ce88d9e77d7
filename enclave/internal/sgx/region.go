package sgx

import (
	"fmt"
	"syscall"
)

// Region is an enclave's memory: an anonymous private mapping the runtime owns, standing in
// for the EPC pages of an SGX enclave.
type Region struct {
	mem []byte
}

// NewRegion maps size bytes (a multiple of [PageSize]) of zeroed memory. On Linux the pages
// are populated up front (MAP_POPULATE), as an enclave's EPC pages are physical memory reserved
// for it, rather than faulted in one by one while they are added.
func NewRegion(size int) (*Region, error) {
	if size <= 0 || size%PageSize != 0 {
		return nil, fmt.Errorf("enclave region: size %d is not a positive multiple of %d", size, PageSize)
	}
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|populate)
	if err != nil {
		return nil, fmt.Errorf("enclave region: mmap %d bytes: %w", size, err)
	}
	return &Region{mem: mem}, nil
}

// Bytes returns the whole region.
func (r *Region) Bytes() []byte { return r.mem }

// Free unmaps the region. It is safe to call twice.
func (r *Region) Free() error {
	if r.mem == nil {
		return nil
	}
	err := syscall.Munmap(r.mem)
	r.mem = nil
	if err != nil {
		return fmt.Errorf("enclave region: munmap: %w", err)
	}
	return nil
}

// Segment is a run of pages with the same SECINFO flags, loaded into the region by [Load].
type Segment struct {
	Name  string
	Flags uint64 // SECINFO flags: page type | permissions
	Data  []byte // initial content; the rest of the segment is zero
	Pages int    // length of the segment in pages; at least enough to hold Data
}

// SECSSize is the enclave size SECS records: the smallest power of two holding size bytes,
// as SGX requires.
func SECSSize(size uint64) uint64 {
	s := uint64(PageSize)
	for s < size {
		s <<= 1
	}
	return s
}

// Load adds the segments to the region one after the other, from offset 0, as EADD does:
// each page's content is copied into the region, the EADD record is measured, then the page's
// content as it now is in the region is measured with EEXTEND. It returns the offset of each
// segment.
func Load(m *Measurement, region []byte, segs []Segment) ([]int, error) {
	offsets := make([]int, len(segs))
	off := 0
	for i, s := range segs {
		if s.Pages < 0 {
			return nil, fmt.Errorf("segment %s: %d pages", s.Name, s.Pages)
		}
		if need := (len(s.Data) + PageSize - 1) / PageSize; s.Pages < need {
			return nil, fmt.Errorf("segment %s: %d pages cannot hold %d bytes", s.Name, s.Pages, len(s.Data))
		}
		if off+s.Pages*PageSize > len(region) {
			return nil, fmt.Errorf("segment %s: %d pages at offset %#x do not fit the %d-byte region", s.Name, s.Pages, off, len(region))
		}
		offsets[i] = off
		for p := 0; p < s.Pages; p++ {
			page := region[off : off+PageSize]
			if lo := p * PageSize; lo < len(s.Data) {
				n := copy(page, s.Data[lo:min(lo+PageSize, len(s.Data))])
				clear(page[n:])
				m.addPage(uint64(off), s.Flags, page)
			} else {
				// A zero page: the region is cleared and the measurement hashes zeros
				// without copying them in again.
				clear(page)
				m.addPage(uint64(off), s.Flags, nil)
			}
			off += PageSize
		}
	}
	return offsets, nil
}
