package wasmbin

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
)

// fuzzRuntime compiles modules for FuzzInstrument; it is shared because creating a runtime per
// input would dominate the fuzzer's time.
var fuzzRuntime = sync.OnceValue(func() wazero.Runtime {
	return wazero.NewRuntimeWithConfig(context.Background(), wazero.NewRuntimeConfigInterpreter().WithCoreFeatures(testFeatures))
})

// FuzzInstrument checks, with every option on, that no input makes Instrument panic, that
// every error it returns wraps ErrMalformed or ErrUnsupported, that what it returns parses
// again (and is refused as instrumented already), and that when wazero accepts the input (of
// up to 4 KiB) it accepts the output too.
func FuzzInstrument(f *testing.F) {
	for _, m := range fuzzSeeds() {
		f.Add(m)
	}
	for _, path := range realModules[:1] {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	if b, err := os.ReadFile("testdata/all_ops.wasm"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := Instrument(b, optsAll)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v wraps neither ErrMalformed nor ErrUnsupported", err)
			}
			return
		}
		if _, err := Instrument(in.Module, optsAll); !errors.Is(err, ErrUnsupported) {
			t.Fatalf("instrumenting the output again: %v, want ErrUnsupported", err)
		}
		if len(b) > 4096 {
			return // compiling large inputs would make the fuzzer crawl while it minimises them
		}
		ctx := context.Background()
		rt := fuzzRuntime()
		orig, err := rt.CompileModule(ctx, b)
		if err != nil {
			return
		}
		orig.Close(ctx)
		out, err := rt.CompileModule(ctx, in.Module)
		if err != nil {
			t.Fatalf("wazero accepts the module but not its instrumented form: %v", err)
		}
		out.Close(ctx)
	})
}

// fuzzSeeds returns small valid modules that use most of what Instrument rewrites.
func fuzzSeeds() [][]byte {
	return [][]byte{
		testModule(true),
		(&modSpec{
			types:     []string{"i32 i32 -> i32", " -> "},
			imports:   [][]byte{funcImport("env", "mix", 0)},
			memory:    []byte{0, 1},
			tables:    [][]byte{{0x70, 0, 2}},
			globals:   []string{"mut i32 = i32.const 1", "funcref = ref.func 1"},
			elems:     [][]byte{cat([]byte{0}, asm("i32.const 0 end"), vec([][]byte{{1}})), cat([]byte{5, 0x70}, vec([][]byte{asm("ref.func 2 end")}))},
			dataCount: true,
			datas:     [][]byte{cat([]byte{1, 2}, []byte("hi"))},
			names:     true,
			funcs: []testFunc{
				{export: "f", name: "f", locals: "i64", body: `local.get 0 local.get 1 i32.store offset=4 local.get 0 i64.const 5 i64.store8
					block void loop void local.get 0 br_if 1 br 0 end end local.get 0 local.get 1 call 0`},
				{typ: 1, name: "g", body: `i32.const 0 i32.const 1 i32.const 2 memory.fill i32.const 0 i32.const 0 i32.const 2 memory.init 0
					data.drop 0 i32.const 0 ref.func 2 table.set 0 ref.null funcref i32.const 1 table.grow 0 drop
					i32.const 0 v128.const 1 2 3 4 v128.store16_lane offset=3 1`},
			},
		}).bytes(),
	}
}
