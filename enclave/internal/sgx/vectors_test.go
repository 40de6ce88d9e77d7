package sgx

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// The vectors are computed by testdata/mrenclave.py, independently of this package; see the
// script for the content rules.
type vectorFile struct {
	Generator string   `json:"generator"`
	Vectors   []vector `json:"vectors"`
}

type vector struct {
	Name         string       `json:"name"`
	SSAFrameSize uint32       `json:"ssaframesize"`
	Size         uint64       `json:"size"`
	Pages        []vectorPage `json:"pages"`
	MRENCLAVE    string       `json:"mrenclave"`
}

type vectorPage struct {
	Offset   uint64 `json:"offset"`
	Flags    uint64 `json:"flags"`
	Measured *bool  `json:"measured"`
	Content  struct {
		Kind string `json:"kind"`
		Byte int    `json:"byte"`
		Seed int    `json:"seed"`
		Text string `json:"text"`
	} `json:"content"`
	ContentSHA256 string `json:"content_sha256"`
}

func (p vectorPage) bytes() ([]byte, error) {
	b := make([]byte, PageSize)
	switch c := p.Content; c.Kind {
	case "zero":
	case "fill":
		for i := range b {
			b[i] = byte(c.Byte)
		}
	case "pattern":
		for i := range b {
			b[i] = byte(c.Seed + 7*i + i>>8)
		}
	case "ascii":
		copy(b, c.Text)
	default:
		return nil, fmt.Errorf("unknown content kind %q", c.Kind)
	}
	return b, nil
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	raw, err := os.ReadFile("testdata/mrenclave_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) < 8 {
		t.Fatalf("only %d vectors", len(f.Vectors))
	}
	return f.Vectors
}

// TestMRENCLAVEVectors recomputes each vector with the Go implementation, both record by
// record (EAdd + ExtendPage) and with the batched AddPage, and compares with the script's.
func TestMRENCLAVEVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			slow := ECreate(v.SSAFrameSize, v.Size)
			fast := ECreate(v.SSAFrameSize, v.Size)
			for _, p := range v.Pages {
				if p.Measured != nil && !*p.Measured {
					slow.EAdd(p.Offset, p.Flags)
					fast.EAdd(p.Offset, p.Flags)
					continue
				}
				b, err := p.bytes()
				if err != nil {
					t.Fatal(err)
				}
				if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != p.ContentSHA256 {
					t.Fatalf("page at %#x: content %x, the script's %s", p.Offset, sum, p.ContentSHA256)
				}
				slow.EAdd(p.Offset, p.Flags)
				if err := slow.ExtendPage(p.Offset, b); err != nil {
					t.Fatal(err)
				}
				if err := fast.AddPage(p.Offset, p.Flags, b); err != nil {
					t.Fatal(err)
				}
			}
			for name, m := range map[string]*Measurement{"records": slow, "batched": fast} {
				if got := hex.EncodeToString(sliceOf(m.Finalize())); got != v.MRENCLAVE {
					t.Errorf("%s: MRENCLAVE %s, want %s", name, got, v.MRENCLAVE)
				}
			}
		})
	}
}

func sliceOf(a [32]byte) []byte { return a[:] }

// TestLoadMatchesVector lays out reclave's own kind of enclave (TCS, SSA, code, heap) with
// Load and compares with the script's vector for the same pages.
func TestLoadMatchesVector(t *testing.T) {
	var v vector
	for _, x := range loadVectors(t) {
		if x.Name == "tcs_ssa_code_heap" {
			v = x
		}
	}
	if v.Name == "" {
		t.Fatal("no tcs_ssa_code_heap vector")
	}
	var code []byte
	for _, p := range v.Pages[2:4] {
		b, _ := p.bytes()
		code = append(code, b...)
	}
	segs := []Segment{
		{Name: "tcs", Flags: PageTypeTCS, Pages: 1},
		{Name: "ssa", Flags: PageTypeREG | PermR | PermW, Pages: 1},
		{Name: "code", Flags: PageTypeREG | PermR | PermX, Data: code, Pages: 2},
		{Name: "heap", Flags: PageTypeREG | PermR | PermW, Pages: 2},
	}
	region := make([]byte, 6*PageSize)
	for i := range region {
		region[i] = 0xEE // Load must overwrite stale content
	}
	m := ECreate(v.SSAFrameSize, v.Size)
	offs, err := Load(m, region, segs)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(sliceOf(m.Finalize())); got != v.MRENCLAVE {
		t.Fatalf("MRENCLAVE %s, want %s", got, v.MRENCLAVE)
	}
	if want := []int{0, 0x1000, 0x2000, 0x4000}; fmt.Sprint(offs) != fmt.Sprint(want) {
		t.Fatalf("offsets %v, want %v", offs, want)
	}
}

// TestMeasurementSensitivity checks that every input of the measurement changes it: the
// ECREATE parameters, the order of the pages, an offset, the flags, one byte of content, and
// whether a page is measured.
func TestMeasurementSensitivity(t *testing.T) {
	type pg struct {
		off, flags uint64
		data       []byte
		unmeasured bool
	}
	patterned := func(seed byte) []byte {
		b := make([]byte, PageSize)
		for i := range b {
			b[i] = seed + byte(i) + byte(i>>8)
		}
		return b
	}
	base := []pg{
		{0, PageTypeTCS, make([]byte, PageSize), false},
		{0x1000, PageTypeREG | PermR | PermX, patterned(1), false},
		{0x2000, PageTypeREG | PermR | PermW, patterned(2), false},
	}
	measure := func(ssa uint32, size uint64, pages []pg) [32]byte {
		m := ECreate(ssa, size)
		for _, p := range pages {
			if p.unmeasured {
				m.EAdd(p.off, p.flags)
				continue
			}
			if err := m.AddPage(p.off, p.flags, p.data); err != nil {
				t.Fatal(err)
			}
		}
		return m.Finalize()
	}
	clone := func() []pg {
		out := make([]pg, len(base))
		for i, p := range base {
			p.data = append([]byte(nil), p.data...)
			out[i] = p
		}
		return out
	}
	ref := measure(1, 1<<16, base)
	cases := map[string]func() (uint32, uint64, []pg){
		"ssaframesize": func() (uint32, uint64, []pg) { return 2, 1 << 16, clone() },
		"size":         func() (uint32, uint64, []pg) { return 1, 1 << 17, clone() },
		"order": func() (uint32, uint64, []pg) {
			p := clone()
			p[1], p[2] = p[2], p[1]
			return 1, 1 << 16, p
		},
		"offset": func() (ssa uint32, s uint64, p []pg) {
			p = clone()
			p[2].off = 0x3000
			return 1, 1 << 16, p
		},
		"flags_perm": func() (uint32, uint64, []pg) {
			p := clone()
			p[1].flags |= PermW
			return 1, 1 << 16, p
		},
		"flags_type": func() (uint32, uint64, []pg) {
			p := clone()
			p[0].flags = PageTypeREG
			return 1, 1 << 16, p
		},
		"content_first_byte": func() (uint32, uint64, []pg) {
			p := clone()
			p[0].data[0] ^= 1
			return 1, 1 << 16, p
		},
		"content_last_byte": func() (uint32, uint64, []pg) {
			p := clone()
			p[2].data[PageSize-1] ^= 0x80
			return 1, 1 << 16, p
		},
		"content_swap_chunks": func() (uint32, uint64, []pg) {
			p := clone()
			a, b := p[1].data[:ChunkSize], p[1].data[ChunkSize:2*ChunkSize]
			tmp := append([]byte(nil), a...)
			copy(a, b)
			copy(b, tmp)
			return 1, 1 << 16, p
		},
		"unmeasured": func() (uint32, uint64, []pg) {
			p := clone()
			p[2].unmeasured = true
			return 1, 1 << 16, p
		},
		"page_dropped": func() (uint32, uint64, []pg) { return 1, 1 << 16, clone()[:2] },
	}
	seen := map[[32]byte]string{ref: "base"}
	for name, f := range cases {
		ssa, size, pages := f()
		got := measure(ssa, size, pages)
		if prev, dup := seen[got]; dup {
			t.Errorf("%s: same MRENCLAVE as %s (%x)", name, prev, got)
		}
		seen[got] = name
	}
	if again := measure(1, 1<<16, clone()); again != ref {
		t.Fatal("measurement is not deterministic")
	}
}

// TestAddPageZeroFastPath alternates zero and non-zero pages through Load, so the batched
// buffer is reused in every state, and compares with record-by-record measurement.
func TestAddPageZeroFastPath(t *testing.T) {
	data := make([]byte, 3*PageSize)
	for i := range data {
		data[i] = byte(i * 13)
	}
	segs := []Segment{
		{Name: "a", Flags: PageTypeREG | PermR, Pages: 2},
		{Name: "b", Flags: PageTypeREG | PermR | PermX, Data: data, Pages: 4},
		{Name: "c", Flags: PageTypeREG | PermR | PermW, Pages: 2},
		{Name: "d", Flags: PageTypeREG | PermR, Data: data[:100], Pages: 1},
		{Name: "e", Flags: PageTypeREG | PermR, Pages: 1},
	}
	region := make([]byte, 10*PageSize)
	m := ECreate(1, SECSSize(uint64(len(region))))
	if _, err := Load(m, region, segs); err != nil {
		t.Fatal(err)
	}
	ref := ECreate(1, SECSSize(uint64(len(region))))
	for off := 0; off < len(region); off += PageSize {
		flags := segs[0].Flags
		switch {
		case off >= 2*PageSize && off < 6*PageSize:
			flags = segs[1].Flags
		case off >= 6*PageSize && off < 8*PageSize:
			flags = segs[2].Flags
		}
		ref.EAdd(uint64(off), flags)
		if err := ref.ExtendPage(uint64(off), region[off:off+PageSize]); err != nil {
			t.Fatal(err)
		}
	}
	if m.Finalize() != ref.Finalize() {
		t.Fatal("Load's batched measurement differs from record-by-record measurement")
	}
}

func TestMeasurementErrors(t *testing.T) {
	m := ECreate(1, PageSize)
	if err := m.AddPage(0, PageTypeREG, make([]byte, 100)); err == nil {
		t.Error("AddPage accepted a short page")
	}
	if err := m.AddPage(100, PageTypeREG, make([]byte, PageSize)); err == nil {
		t.Error("AddPage accepted an unaligned offset")
	}
	if err := m.EExtend(1, make([]byte, ChunkSize)); err == nil {
		t.Error("EExtend accepted an unaligned offset")
	}
	if err := m.ExtendPage(0, make([]byte, 10)); err == nil {
		t.Error("ExtendPage accepted a short page")
	}
	if _, err := Load(m, make([]byte, PageSize), []Segment{{Name: "x", Pages: 2}}); err == nil {
		t.Error("Load accepted a segment larger than the region")
	}
	if _, err := Load(m, make([]byte, 2*PageSize), []Segment{{Name: "x", Data: make([]byte, PageSize+1), Pages: 1}}); err == nil {
		t.Error("Load accepted data larger than its segment")
	}
}
