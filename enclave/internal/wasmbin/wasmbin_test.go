package wasmbin

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// module assembles a binary module from sections (id, payload).
func module(secs ...[]byte) []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range secs {
		out = append(out, s[0])
		out = binary.AppendUvarint(out, uint64(len(s)-1))
		out = append(out, s[1:]...)
	}
	return out
}

func sec(id byte, payload ...byte) []byte { return append([]byte{id}, payload...) }

func name(s string) []byte { return append([]byte{byte(len(s))}, s...) }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// A module with one imported immutable global (index 0) and three own globals: mutable i32
// (1, exported as "g"), immutable i64 (2), mutable i64 (3, not exported). Function "get3"
// returns global 3.
func testModule(withExports bool) []byte {
	types := sec(1, 1, 0x60, 0, 1, 0x7E)                                             // () -> i64
	imports := sec(2, cat([]byte{1}, name("env"), name("c"), []byte{3, 0x7F, 0})...) // immutable i32
	funcs := sec(3, 1, 0)
	mem := sec(5, 1, 0, 1)
	globals := sec(6,
		3,
		0x7F, 1, 0x41, 7, 0x0B, // mutable i32 = 7
		0x7E, 0, 0x42, 1, 0x0B, // immutable i64 = 1
		0x7E, 1, 0x42, 0x2A, 0x0B, // mutable i64 = 42
	)
	body := []byte{0, 0x23, 3, 0x0B} // no locals; global.get 3; end
	code := sec(10, cat([]byte{1, byte(len(body))}, body)...)
	if !withExports {
		return module(types, imports, funcs, mem, globals, code)
	}
	exports := sec(7, cat([]byte{2}, name("g"), []byte{3, 1}, name("get3"), []byte{0, 0})...)
	return module(types, imports, funcs, mem, globals, exports, code)
}

func TestExportMutableGlobals(t *testing.T) {
	for _, withExports := range []bool{true, false} {
		t.Run(map[bool]string{true: "existing export section", false: "no export section"}[withExports], func(t *testing.T) {
			out, info, err := ExportMutableGlobals(testModule(withExports))
			if err != nil {
				t.Fatal(err)
			}
			if len(info.MutableGlobals) != 2 || info.MutableGlobals[0].Index != 1 || info.MutableGlobals[1].Index != 3 {
				t.Fatalf("mutable globals %+v, want indices 1 and 3", info.MutableGlobals)
			}
			if withExports && info.MutableGlobals[0].Export != "g" {
				t.Fatalf("global 1 exported as %q, want its existing name g", info.MutableGlobals[0].Export)
			}
			if info.MutableGlobals[1].Export != "__reclave_global_3" {
				t.Fatalf("global 3 exported as %q", info.MutableGlobals[1].Export)
			}
			if !info.HasMemory || info.MemoryMinPages != 1 || info.ImportsMemory || info.ImportedMutableGlobals != 0 {
				t.Fatalf("info %+v", info)
			}
			// The rewritten module parses again and now exports both globals.
			if _, again, err := ExportMutableGlobals(out); err != nil || again.MutableGlobals[1].Export != "__reclave_global_3" {
				t.Fatalf("rewritten module: %+v, %v", again, err)
			}
		})
	}
}

func TestRewrittenGlobalsAreTheRightOnes(t *testing.T) {
	// Without imports, so wazero can instantiate it directly.
	types := sec(1, 1, 0x60, 0, 1, 0x7E)
	funcs := sec(3, 1, 0)
	globals := sec(6, 2,
		0x7F, 0, 0x41, 5, 0x0B, // immutable i32 (0)
		0x7E, 1, 0x42, 0x2A, 0x0B, // mutable i64 (1), not exported
	)
	body := []byte{0, 0x23, 1, 0x0B}
	code := sec(10, cat([]byte{1, byte(len(body))}, body)...)
	exports := sec(7, cat([]byte{1}, name("get"), []byte{0, 0})...)
	mod := module(types, funcs, globals, exports, code)

	out, info, err := ExportMutableGlobals(mod)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	inst, err := rt.Instantiate(ctx, out)
	if err != nil {
		t.Fatalf("rewritten module does not instantiate: %v", err)
	}
	g, ok := inst.ExportedGlobal(info.MutableGlobals[0].Export).(api.MutableGlobal)
	if !ok {
		t.Fatalf("global %q is not exported as mutable", info.MutableGlobals[0].Export)
	}
	if g.Get() != 42 {
		t.Fatalf("exported global reads %d, want 42", g.Get())
	}
	g.Set(99)
	res, err := inst.ExportedFunction("get").Call(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res[0] != 99 {
		t.Fatalf("the module's own global.get sees %d after Set(99): the export names another global", res[0])
	}
}

func TestNoMutableGlobalsLeavesModuleUnchanged(t *testing.T) {
	mod := module(sec(1, 0))
	out, info, err := ExportMutableGlobals(mod)
	if err != nil || len(info.MutableGlobals) != 0 || string(out) != string(mod) {
		t.Fatalf("got %x, %+v, %v", out, info, err)
	}
}

func TestImportsCounted(t *testing.T) {
	imports := sec(2, cat([]byte{2},
		name("env"), name("mem"), []byte{2, 0, 1},
		name("env"), name("g"), []byte{3, 0x7F, 1},
	)...)
	_, info, err := ExportMutableGlobals(module(imports))
	if err != nil {
		t.Fatal(err)
	}
	if !info.ImportsMemory || info.ImportedMutableGlobals != 1 || info.HasMemory {
		t.Fatalf("info %+v", info)
	}
}

func TestMalformed(t *testing.T) {
	good := testModule(true)
	tests := map[string][]byte{
		"empty":               nil,
		"bad magic":           []byte("\x00ASM\x01\x00\x00\x00"),
		"bad version":         []byte("\x00asm\x02\x00\x00\x00"),
		"truncated section":   good[:len(good)-3],
		"section past end":    module(sec(6, 1, 0x7F, 1)),
		"bad const expr":      module(sec(6, 1, 0x7F, 1, 0x99, 0x0B)),
		"unterminated expr":   module(sec(6, 1, 0x7F, 1, 0x41, 1)),
		"bad mutability":      module(sec(6, 1, 0x7F, 2, 0x41, 1, 0x0B)),
		"bad import kind":     module(sec(2, cat([]byte{1}, name("a"), name("b"), []byte{9})...)),
		"long LEB":            module(sec(6, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F)),
		"trailing bytes":      module(sec(6, 0, 0)),
		"name past end":       module(sec(7, 1, 50, 'a')),
		"bad limits flags":    module(sec(5, 1, 0x09, 1)),
		"export idx past end": module(sec(7, cat([]byte{1}, name("g"), []byte{3})...)),
	}
	for label, mod := range tests {
		t.Run(label, func(t *testing.T) {
			if _, _, err := ExportMutableGlobals(mod); !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v, want ErrMalformed", err)
			}
		})
	}
}

func TestRealModules(t *testing.T) {
	for _, path := range []string{"../../../workloads/counter/counter.wasm", "../../../workloads/json-stats/json-stats.wasm"} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out, info, err := ExportMutableGlobals(b)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(info.MutableGlobals) == 0 {
			t.Fatalf("%s: no mutable globals found; clang's __stack_pointer should be one", path)
		}
		ctx := context.Background()
		rt := wazero.NewRuntime(ctx)
		if _, err := rt.CompileModule(ctx, out); err != nil {
			t.Fatalf("%s: rewritten module does not compile: %v", path, err)
		}
		rt.Close(ctx)
	}
}

// FuzzExportMutableGlobals checks that no input makes the rewriter panic, and that what it
// accepts it can parse again to the same result.
func FuzzExportMutableGlobals(f *testing.F) {
	f.Add(testModule(true))
	f.Add(testModule(false))
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, info, err := ExportMutableGlobals(b)
		if err != nil {
			return
		}
		out2, info2, err := ExportMutableGlobals(out)
		if err != nil {
			t.Fatalf("rewritten module does not parse: %v", err)
		}
		if string(out2) != string(out) || len(info2.MutableGlobals) != len(info.MutableGlobals) {
			t.Fatal("rewriting twice changed the module again")
		}
	})
}
