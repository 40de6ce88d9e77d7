package wasmbin

import (
	"os"
	"strings"
	"testing"
)

// TestDecodeAllOpcodes decodes a function holding every instruction of the supported
// instruction set once (testdata/all_ops.wat, assembled by wabt, an independent encoder): the
// decoder must find exactly as many instructions as the source has lines, and the
// instrumentation must find every store, bulk write and state change.
func TestDecodeAllOpcodes(t *testing.T) {
	wat, err := os.ReadFile("testdata/all_ops.wat")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("testdata/all_ops.wasm")
	if err != nil {
		t.Fatal(err)
	}
	// The body's instructions are the lines between "(func (type 0)" and the closing "  )".
	src := string(wat)
	src = src[strings.Index(src, "(func (type"):]
	src = src[strings.Index(src, "\n")+1 : strings.Index(src, "\n  )")]
	want := len(strings.Split(src, "\n")) + 1 // and the final end

	secs, err := sections(mod)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if s.id != secCode {
			continue
		}
		r := &reader{b: s.payload, base: s.off}
		r.u32() // one function
		size := r.u32()
		body := &reader{b: r.b[r.off : r.off+int(size)], base: r.base + r.off}
		n := body.vecCount(2)
		for range n {
			body.u32()
			body.valType()
		}
		got := 0
		for body.err == nil && body.off < len(body.b) {
			body.instr()
			got++
		}
		if body.err != nil {
			t.Fatalf("after %d instructions: %v", got, body.err)
		}
		if got != want {
			t.Fatalf("decoded %d instructions, want %d", got, want)
		}
	}

	in, err := Instrument(mod, optsAll)
	if err != nil {
		t.Fatal(err)
	}
	if in.StoreSites != 14 || in.BulkSites != 3 || in.StateSites != 7 || in.InterruptSites != 2 {
		t.Fatalf("%d store, %d bulk, %d state and %d interrupt sites, want 14, 3, 7 and 2 (an entry and a loop)",
			in.StoreSites, in.BulkSites, in.StateSites, in.InterruptSites)
	}
}
