package sgx

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"testing"
	"time"
)

// stream builds, record by record, the byte stream a measurement of pages hashes: the
// ECREATE record, then for each page its EADD record and 16 EEXTEND records with their chunks.
// It is written independently of Measurement, from the SDM's record layouts.
func stream(ssaFrameSize uint32, size uint64, offsets []uint64, flags []uint64, pages [][]byte) []byte {
	out := make([]byte, 0, 64+len(pages)*PageStreamSize)
	rec := func(tag string, a, b uint64, bSize int) {
		var r [64]byte
		copy(r[:], tag)
		binary.LittleEndian.PutUint64(r[8:], a)
		switch bSize {
		case 4: // ECREATE: SSAFRAMESIZE is 4 bytes, SIZE follows at byte 12
			binary.LittleEndian.PutUint32(r[8:], uint32(a))
			binary.LittleEndian.PutUint64(r[12:], b)
		case 8:
			binary.LittleEndian.PutUint64(r[16:], b)
		}
		out = append(out, r[:]...)
	}
	rec("ECREATE\x00", uint64(ssaFrameSize), size, 4)
	for i, p := range pages {
		rec("EADD\x00\x00\x00\x00", offsets[i], flags[i], 8)
		for c := 0; c < PageSize; c += ChunkSize {
			rec("EEXTEND\x00", offsets[i]+uint64(c), 0, 0)
			out = append(out, p[c:c+ChunkSize]...)
		}
	}
	return out
}

// benchLayout is one heap segment of n pages, zero or filled with a pattern.
func benchLayout(n int, data bool) (seg Segment, ref []byte) {
	seg = Segment{Name: "heap", Flags: PageTypeREG | PermR | PermW, Pages: n}
	if data {
		seg.Data = make([]byte, n*PageSize)
		for i := range seg.Data {
			seg.Data[i] = byte(i*131 + i>>12)
		}
	}
	offs := make([]uint64, n)
	flags := make([]uint64, n)
	pages := make([][]byte, n)
	zero := make([]byte, PageSize)
	for p := range n {
		offs[p], flags[p], pages[p] = uint64(p*PageSize), seg.Flags, zero
		if data {
			pages[p] = seg.Data[p*PageSize : (p+1)*PageSize]
		}
	}
	return seg, stream(1, uint64(n*PageSize), offs, flags, pages)
}

func TestStreamMatchesLoad(t *testing.T) {
	for _, data := range []bool{false, true} {
		const n = 64
		seg, ref := benchLayout(n, data)
		region := make([]byte, n*PageSize)
		m := ECreate(1, n*PageSize)
		if _, err := Load(m, region, []Segment{seg}); err != nil {
			t.Fatal(err)
		}
		if got, want := m.Finalize(), sha256.Sum256(ref); got != want {
			t.Fatalf("data=%v: Load's MRENCLAVE %x, hash of the stream %x", data, got, want)
		}
		if len(ref) != 64+n*PageStreamSize {
			t.Fatalf("stream of %d bytes, want %d", len(ref), 64+n*PageStreamSize)
		}
	}
}

// BenchmarkMeasureVsSHA256 times, in the same run and alternating within each iteration, the
// eadd_eextend path (Load: copy every page into the region and measure it) and crypto/sha256
// over the very byte stream that path hashes (records + page bytes), and reports
// ratio = eadd_eextend throughput / sha256 throughput over the stream (medians of the
// per-iteration times). zero_pages is the heap (most of an enclave); data_pages has every page
// filled, so each one is copied.
func BenchmarkMeasureVsSHA256(b *testing.B) {
	const size = 32 << 20
	r, err := NewRegion(size)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Free()
	for _, data := range []bool{false, true} {
		name := "zero_pages"
		if data {
			name = "data_pages"
		}
		seg, ref := benchLayout(size/PageSize, data)
		segs := []Segment{seg}
		b.Run(name, func(b *testing.B) {
			var tl, th []time.Duration
			i := 0
			for b.Loop() {
				load := func() {
					start := time.Now()
					m := ECreate(1, size)
					if _, err := Load(m, r.Bytes(), segs); err != nil {
						b.Fatal(err)
					}
					m.Finalize()
					tl = append(tl, time.Since(start))
				}
				hash := func() {
					start := time.Now()
					sha256.Sum256(ref)
					th = append(th, time.Since(start))
				}
				if i%2 == 0 {
					load()
					hash()
				} else {
					hash()
					load()
				}
				i++
			}
			ml, mh := median(tl), median(th)
			mb := float64(len(ref)) / 1e6
			b.ReportMetric(mb/ml.Seconds(), "eadd_eextend_MB/s")
			b.ReportMetric(mb/mh.Seconds(), "sha256_MB/s")
			b.ReportMetric(mh.Seconds()/ml.Seconds(), "ratio")
		})
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
