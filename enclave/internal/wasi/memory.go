package wasi

import (
	"encoding/binary"
	"math"

	"github.com/tetratelabs/wazero/api"
)

// Guest memory access. Guest pointers are checked against the memory's current size before
// use; slices of guest memory are used only within the host call that obtained them (memory
// may move when it grows between calls). An empty range is valid wherever it points: it is
// never dereferenced.

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

// view returns guest memory [off, off+n) to read during the current host call.
func view(mem api.Memory, off uint32, n uint64) ([]byte, bool) {
	if n == 0 {
		return nil, true
	}
	if mem == nil || n > math.MaxUint32 {
		return nil, false
	}
	return mem.Read(off, uint32(n))
}

// put is the only way the host writes into guest memory: it copies src to off if the whole
// range lies within memory, reports the range to Config.OnWrite, and returns false (nothing
// written) otherwise.
func (h *Host) put(mem api.Memory, off uint32, src []byte) bool {
	if len(src) == 0 {
		return true
	}
	if mem == nil || uint64(len(src)) > math.MaxUint32 || !mem.Write(off, src) {
		return false
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
