package sgx

import (
	"crypto/sha256"
	"testing"
)

// BenchmarkLoad measures adding and measuring a 64 MiB enclave (EADD + 16 EEXTEND per page),
// beside two references measured in the same run: hashing the same number of bytes in one
// stream, and copying 64 MiB.
func BenchmarkLoad(b *testing.B) {
	const size = 64 << 20
	r, err := NewRegion(size)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Free()
	segs := []Segment{{Name: "heap", Flags: PageTypeREG | PermR | PermW, Pages: size / PageSize}}
	b.Run("eadd_eextend", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			m := ECreate(1, size)
			if _, err := Load(m, r.Bytes(), segs); err != nil {
				b.Fatal(err)
			}
			m.Finalize()
		}
	})
	b.Run("reference_sha256_same_bytes", func(b *testing.B) {
		buf := make([]byte, size/PageSize*(PageSize+16*64+64))
		b.SetBytes(size)
		for b.Loop() {
			sha256.Sum256(buf)
		}
	})
	b.Run("reference_copy", func(b *testing.B) {
		src := make([]byte, size)
		b.SetBytes(size)
		for b.Loop() {
			copy(r.Bytes(), src)
		}
	})
}
