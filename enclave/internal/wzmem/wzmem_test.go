package wzmem

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// memModule exports grow(n) -> old, size() -> pages, load(addr) -> i32, store(addr, v) over one
// memory of one initial page.
func memModule() []byte {
	sec := func(id byte, payload ...byte) []byte {
		return append([]byte{id, byte(len(payload))}, payload...)
	}
	body := func(code ...byte) []byte { return append([]byte{byte(len(code) + 1), 0}, code...) }
	var code []byte
	code = append(code, 4)
	code = append(code, body(0x20, 0, 0x40, 0, 0x0B)...)             // local.get 0; memory.grow; end
	code = append(code, body(0x3F, 0, 0x0B)...)                      // memory.size; end
	code = append(code, body(0x20, 0, 0x28, 2, 0, 0x0B)...)          // local.get 0; i32.load; end
	code = append(code, body(0x20, 0, 0x20, 1, 0x36, 2, 0, 0x0B)...) // store
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	exports := []byte{5}
	for i, n := range []string{"grow", "size", "load", "store"} {
		exports = append(append(exports, name(n)...), 0, byte(i))
	}
	exports = append(append(exports, name("memory")...), 2, 0)
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, sec(1, 3, 0x60, 1, 0x7F, 1, 0x7F, 0x60, 0, 1, 0x7F, 0x60, 2, 0x7F, 0x7F, 0)...)
	m = append(m, sec(3, 4, 0, 1, 0, 2)...)
	m = append(m, sec(5, 1, 0, 1)...)
	m = append(m, sec(7, exports...)...)
	m = append(m, sec(10, code...)...)
	return m
}

func call(t *testing.T, mod api.Module, fn string, args ...uint64) (uint32, error) {
	t.Helper()
	res, err := mod.ExportedFunction(fn).Call(context.Background(), args...)
	if err != nil {
		return 0, err
	}
	if len(res) == 0 {
		return 0, nil
	}
	return uint32(res[0]), nil
}

func TestShrink(t *testing.T) {
	for name, cfg := range map[string]wazero.RuntimeConfig{
		"compiler":    wazero.NewRuntimeConfigCompiler(),
		"interpreter": wazero.NewRuntimeConfigInterpreter(),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			rt := wazero.NewRuntimeWithConfig(ctx, cfg)
			defer rt.Close(ctx)
			mod, err := rt.Instantiate(ctx, memModule())
			if err != nil {
				t.Fatal(err)
			}
			mem := mod.Memory()
			if !Supported(mem) {
				t.Fatal("Supported is false for wazero's own memory")
			}
			if old, _ := call(t, mod, "grow", 2); old != 1 {
				t.Fatalf("grow returned %d", old)
			}
			if _, err := call(t, mod, "store", 2*65536+8, 0xC0FFEE); err != nil {
				t.Fatal(err)
			}
			if err := Shrink(mem, 1); err != nil {
				t.Fatal(err)
			}
			// The guest sees the new size, and compiled code bounds-checks against it.
			if n, _ := call(t, mod, "size"); n != 1 {
				t.Fatalf("memory.size after shrink = %d, want 1", n)
			}
			if mem.Size() != 65536 {
				t.Fatalf("host sees %d bytes", mem.Size())
			}
			if _, err := call(t, mod, "load", 2*65536+8); err == nil || !strings.Contains(err.Error(), "out of bounds") {
				t.Fatalf("load past the shrunk size: %v, want an out-of-bounds trap", err)
			}
			// Growing again works from the new size.
			if old, _ := call(t, mod, "grow", 2); old != 1 {
				t.Fatalf("grow after shrink returned %d, want 1", old)
			}
			if n, _ := call(t, mod, "size"); n != 3 {
				t.Fatalf("size after regrow %d", n)
			}
			if err := Shrink(mem, 4); err == nil {
				t.Fatal("shrinking to a larger size succeeded")
			}
			if err := Shrink(mem, 3); err != nil {
				t.Fatalf("shrink to the current size: %v", err)
			}
			b, _ := mem.Read(0, 4)
			binary.LittleEndian.PutUint32(b, 7)
			if v, _ := call(t, mod, "load", 0); v != 7 {
				t.Fatalf("load(0) = %d after host write", v)
			}
		})
	}
}

func TestUnsupported(t *testing.T) {
	if Supported(nil) {
		t.Fatal("nil memory supported")
	}
	if err := Shrink(nil, 0); err == nil {
		t.Fatal("shrink of nil memory succeeded")
	}
}
