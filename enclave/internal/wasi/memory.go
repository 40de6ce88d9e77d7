package wasi

import (
	"encoding/binary"
	"math"

	"github.com/tetratelabs/wazero/api"
)

// Guest memory access. Guest pointers are checked against the memory's current size before
// use; slices of guest memory are used only within the host call that obtained them (memory
// may move when it grows between calls). An empty range is valid wherever it points: it is
// never dereferenced. What the host reads (read) and writes (put) is counted in the host-call
// account (calls.go): checking a range (inBounds) reads nothing.

var le = binary.LittleEndian

// inBounds reports whether [off, off+n) lies within guest memory.
func inBounds(mem api.Memory, off uint32, n uint64) bool {
	if n == 0 {
		return true
	}
	if mem == nil || n > math.MaxUint32 {
		return false
	}
	_, ok := mem.Read(off, uint32(n)) // checks in 64 bits: no overflow of off+n
	return ok
}

// read is the only way the host reads guest memory: it returns guest memory [off, off+n),
// to read during the current host call, and counts the n bytes as bytes out of the guest in
// the account of the function being called ([Count].BytesOut).
func (h *Host) read(mem api.Memory, off uint32, n uint64) ([]byte, bool) {
	if n == 0 {
		return nil, true
	}
	if mem == nil || n > math.MaxUint32 {
		return nil, false
	}
	b, ok := mem.Read(off, uint32(n))
	if ok && accounting {
		h.cur.out += n
	}
	return b, ok
}

// put is the only way the host writes into guest memory: it copies src to off if the whole
// range lies within memory, counts the bytes as bytes into the guest in the account of the
// function being called ([Count].BytesIn), reports the range to Config.OnWrite, and returns
// false (nothing written) otherwise.
func (h *Host) put(mem api.Memory, off uint32, src []byte) bool {
	if len(src) == 0 {
		return true
	}
	if mem == nil || uint64(len(src)) > math.MaxUint32 || !mem.Write(off, src) {
		return false
	}
	if accounting {
		h.cur.in += uint64(len(src))
	}
	if h.onWrite != nil {
		h.onWrite(off, uint32(len(src)))
	}
	return true
}

func (h *Host) putU32(mem api.Memory, off, v uint32) bool {
	le.PutUint32(h.scratch[:4], v)
	return h.put(mem, off, h.scratch[:4])
}

func (h *Host) putU64(mem api.Memory, off uint32, v uint64) bool {
	le.PutUint64(h.scratch[:8], v)
	return h.put(mem, off, h.scratch[:8])
}
