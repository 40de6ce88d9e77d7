// Package sgx models the parts of Intel SGX's enclave life cycle that the embedded (simulated)
// backend performs for real: the enclave's memory region, and its measurement (MRENCLAVE) as
// the Intel SDM (Vol. 3D, ch. 38 and the ECREATE/EADD/EEXTEND/EINIT instruction pages)
// specifies it. The instructions themselves are simulated; the work they do — copying every page
// into enclave memory and hashing it with SHA-256 — is done.
package sgx

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
)

// PageSize is the size of an enclave page (EPC page).
const PageSize = 4096

// ChunkSize is the unit EEXTEND measures.
const ChunkSize = 256

// SECINFO flag bits (SDM Table 38-12): permissions in bits 0..2, page type in bits 8..15.
const (
	PermR uint64 = 1 << 0
	PermW uint64 = 1 << 1
	PermX uint64 = 1 << 2

	PageTypeSECS uint64 = 0 << 8
	PageTypeTCS  uint64 = 1 << 8
	PageTypeREG  uint64 = 2 << 8
)

// Measurement accumulates MRENCLAVE. The zero value is not usable; start with [ECreate].
type Measurement struct {
	h   hash.Hash
	buf [64 + ChunkSize]byte
}

// ECreate starts a measurement as ECREATE does: SHA-256 over the 64-byte record
// "ECREATE\0" ‖ SSAFRAMESIZE (4 bytes, little-endian) ‖ SIZE (8 bytes) ‖ 44 zero bytes.
func ECreate(ssaFrameSize uint32, size uint64) *Measurement {
	m := &Measurement{h: sha256.New()}
	var rec [64]byte
	copy(rec[:8], "ECREATE\x00")
	binary.LittleEndian.PutUint32(rec[8:], ssaFrameSize)
	binary.LittleEndian.PutUint64(rec[12:], size)
	m.h.Write(rec[:])
	return m
}

// EAdd measures the addition of the page at offset (relative to the enclave base) with the
// given SECINFO flags: SHA-256 over "EADD\0\0\0\0" ‖ offset (8 bytes) ‖ the first 48 bytes of
// SECINFO (the 8-byte flags and 40 reserved zero bytes).
func (m *Measurement) EAdd(offset, secinfoFlags uint64) {
	var rec [64]byte
	copy(rec[:8], "EADD\x00\x00\x00\x00")
	binary.LittleEndian.PutUint64(rec[8:], offset)
	binary.LittleEndian.PutUint64(rec[16:], secinfoFlags)
	m.h.Write(rec[:])
}

// EExtend measures one 256-byte chunk at offset: SHA-256 over "EEXTEND\0" ‖ offset (8 bytes) ‖
// 48 zero bytes ‖ the 256 bytes of the chunk.
func (m *Measurement) EExtend(offset uint64, chunk []byte) error {
	if len(chunk) != ChunkSize {
		return fmt.Errorf("eextend: chunk of %d bytes, want %d", len(chunk), ChunkSize)
	}
	if offset%ChunkSize != 0 {
		return fmt.Errorf("eextend: offset %#x not 256-byte aligned", offset)
	}
	b := m.buf[:]
	clear(b[:64])
	copy(b[:8], "EEXTEND\x00")
	binary.LittleEndian.PutUint64(b[8:], offset)
	copy(b[64:], chunk)
	m.h.Write(b)
	return nil
}

// ExtendPage measures a whole page with 16 EEXTENDs, as the SGX SDK's loader does for
// measured pages.
func (m *Measurement) ExtendPage(offset uint64, page []byte) error {
	if len(page) != PageSize {
		return fmt.Errorf("extend page: %d bytes, want %d", len(page), PageSize)
	}
	for c := 0; c < PageSize; c += ChunkSize {
		if err := m.EExtend(offset+uint64(c), page[c:c+ChunkSize]); err != nil {
			return err
		}
	}
	return nil
}

// Finalize ends the measurement as EINIT does and returns MRENCLAVE.
func (m *Measurement) Finalize() [32]byte {
	var out [32]byte
	m.h.Sum(out[:0])
	return out
}
