// Package sgx models the parts of Intel SGX's enclave life cycle that the embedded (simulated)
// backend performs for real: the enclave's memory region, its measurement (MRENCLAVE) as the
// Intel SDM (Vol. 3D, ch. 34/38 and the ECREATE/EADD/EEXTEND/EINIT instruction pages)
// specifies it, and EINIT's check of the enclave's signature structure (SIGSTRUCT), which
// yields MRSIGNER. The instructions themselves are simulated; the work they do — copying every
// page into enclave memory, hashing it with SHA-256, verifying the RSA-3072 signature — is done.
//
// # Measurement
//
// MRENCLAVE is SHA-256 over a stream of 64-byte records (integers little-endian):
//
//	ECREATE  "ECREATE\0" ‖ SSAFRAMESIZE (u32) ‖ SIZE (u64) ‖ 44 zero bytes
//	EADD     "EADD\0\0\0\0" ‖ page offset (u64) ‖ SECINFO[0:48] (FLAGS u64 ‖ 40 zero bytes)
//	EEXTEND  "EEXTEND\0" ‖ chunk offset (u64) ‖ 48 zero bytes, followed by the chunk's 256 bytes
//
// Offsets are relative to the enclave's base. A measured page is one EADD followed by 16
// EEXTENDs, one per 256-byte chunk in order, as the SGX SDK's loader does. EINIT finalises the
// hash. testdata/mrenclave.py computes the same values independently (Python, standard library
// only); testdata/mrenclave_vectors.json holds its output, which the tests compare against.
//
// # Speed
//
// A page's 17 records and its 4 KiB are hashed with one Write of 5184 bytes (see
// [Measurement.AddPage]), not 33 small ones, so the measurement runs at the speed of SHA-256
// itself: BenchmarkMeasureVsSHA256 reports the ratio to crypto/sha256 over the same bytes.
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

// recordSize is the size of a measurement record (one SHA-256 block).
const recordSize = 64

// chunksPerPage is the number of EEXTENDs that measure a whole page.
const chunksPerPage = PageSize / ChunkSize

// PageStreamSize is the number of bytes a measured page adds to the hashed stream: the EADD
// record, then 16 EEXTEND records each followed by its 256-byte chunk.
const PageStreamSize = recordSize + chunksPerPage*(recordSize+ChunkSize)

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
	h hash.Hash
	// page is the stream of one measured page, written with one Write. The record headers'
	// constant parts are set once; AddPage fills in the offsets, the flags and the chunks.
	page [PageStreamSize]byte
	// pageZero says the chunk areas of page hold only zeros, so a zero page need not be
	// copied in.
	pageZero bool
}

// ECreate starts a measurement as ECREATE does: SHA-256 over the 64-byte record
// "ECREATE\0" ‖ SSAFRAMESIZE (4 bytes, little-endian) ‖ SIZE (8 bytes) ‖ 44 zero bytes.
func ECreate(ssaFrameSize uint32, size uint64) *Measurement {
	m := &Measurement{h: sha256.New(), pageZero: true}
	var rec [recordSize]byte
	copy(rec[:8], "ECREATE\x00")
	binary.LittleEndian.PutUint32(rec[8:], ssaFrameSize)
	binary.LittleEndian.PutUint64(rec[12:], size)
	m.h.Write(rec[:])
	copy(m.page[:8], "EADD\x00\x00\x00\x00")
	for i := range chunksPerPage {
		copy(m.page[eextendAt(i):], "EEXTEND\x00")
	}
	return m
}

// eextendAt is the position of the i-th EEXTEND record in a page's stream.
func eextendAt(i int) int { return recordSize + i*(recordSize+ChunkSize) }

// EAdd measures the addition of the page at offset (relative to the enclave base) with the
// given SECINFO flags: SHA-256 over "EADD\0\0\0\0" ‖ offset (8 bytes) ‖ the first 48 bytes of
// SECINFO (the 8-byte flags and 40 reserved zero bytes). Use it alone for a page added
// without being measured (EADD without EEXTEND); [Measurement.AddPage] measures a page.
func (m *Measurement) EAdd(offset, secinfoFlags uint64) {
	var rec [recordSize]byte
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
	var rec [recordSize + ChunkSize]byte
	copy(rec[:8], "EEXTEND\x00")
	binary.LittleEndian.PutUint64(rec[8:], offset)
	copy(rec[recordSize:], chunk)
	m.h.Write(rec[:])
	return nil
}

// ExtendPage measures a whole page with 16 EEXTENDs, as the SGX SDK's loader does for
// measured pages.
func (m *Measurement) ExtendPage(offset uint64, page []byte) error {
	if len(page) != PageSize {
		return fmt.Errorf("extend page: %d bytes, want %d", len(page), PageSize)
	}
	if offset%PageSize != 0 {
		return fmt.Errorf("extend page: offset %#x not page aligned", offset)
	}
	for c := 0; c < PageSize; c += ChunkSize {
		if err := m.EExtend(offset+uint64(c), page[c:c+ChunkSize]); err != nil {
			return err
		}
	}
	return nil
}

// AddPage measures the addition of a measured page: EADD at offset with the SECINFO flags,
// then 16 EEXTENDs of its content. The result is the same as EAdd followed by ExtendPage, but
// the page's 5184 bytes of stream are hashed with a single Write.
func (m *Measurement) AddPage(offset, secinfoFlags uint64, page []byte) error {
	if len(page) != PageSize {
		return fmt.Errorf("add page: %d bytes, want %d", len(page), PageSize)
	}
	if offset%PageSize != 0 {
		return fmt.Errorf("add page: offset %#x not page aligned", offset)
	}
	m.addPage(offset, secinfoFlags, page)
	return nil
}

// addPage is AddPage without the checks; a nil page is a zero page.
func (m *Measurement) addPage(offset, secinfoFlags uint64, page []byte) {
	p := &m.page
	binary.LittleEndian.PutUint64(p[8:], offset)
	binary.LittleEndian.PutUint64(p[16:], secinfoFlags)
	switch {
	case page != nil:
		for i := range chunksPerPage {
			at := eextendAt(i)
			binary.LittleEndian.PutUint64(p[at+8:], offset+uint64(i*ChunkSize))
			copy(p[at+recordSize:at+recordSize+ChunkSize], page[i*ChunkSize:])
		}
		m.pageZero = false
	case !m.pageZero:
		for i := range chunksPerPage {
			at := eextendAt(i)
			binary.LittleEndian.PutUint64(p[at+8:], offset+uint64(i*ChunkSize))
			clear(p[at+recordSize : at+recordSize+ChunkSize])
		}
		m.pageZero = true
	default:
		for i := range chunksPerPage {
			binary.LittleEndian.PutUint64(p[eextendAt(i)+8:], offset+uint64(i*ChunkSize))
		}
	}
	m.h.Write(p[:])
}

// Finalize ends the measurement as EINIT does and returns MRENCLAVE.
func (m *Measurement) Finalize() [32]byte {
	var out [32]byte
	m.h.Sum(out[:0])
	return out
}
