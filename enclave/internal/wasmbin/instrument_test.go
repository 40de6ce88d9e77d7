package wasmbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// marks is the host module MarkModule: its mark_dirty records the pages it is told about in a
// bitmap, as a runtime would, and its poll returns stop. Both are registered without
// reflection so that benchmarks see a realistic cost.
type marks struct {
	bits  []uint64 // one bit per 4 KiB page of the 4 GiB address space
	list  []uint32 // the marked pages, in the order they were marked
	calls int
	stop  atomic.Bool  // what poll returns
	polls atomic.Int64 // calls of poll
}

// reset forgets the marked pages.
func (m *marks) reset() {
	for _, p := range m.list {
		m.bits[p/64] &^= 1 << (p % 64)
	}
	m.list, m.calls = m.list[:0], 0
}

func (m *marks) has(p uint32) bool { return m.bits != nil && m.bits[p/64]&(1<<(p%64)) != 0 }

// mark records a call mark_dirty(base, mask): the pages of base's group whose bit is set in
// mask. It panics on a base that is not a group's, or an empty mask: the call of the collect
// export then fails with the panic's message.
func (m *marks) mark(base uint32, mask uint64) {
	m.calls++
	if base%(GroupPages*TrackedPageSize) != 0 || mask == 0 {
		panic(fmt.Sprintf("mark_dirty(%#x, %#x): want a group's base and a non-empty mask", base, mask))
	}
	first := base / TrackedPageSize
	for b := mask; b != 0; b &= b - 1 {
		m.markPage(first + uint32(bits.TrailingZeros64(b)))
	}
}

// markRange records the pages [addr, addr+n) overlaps, as the host does for its own writes.
func (m *marks) markRange(addr, n uint32) {
	if n == 0 {
		return
	}
	last := min((uint64(addr)+uint64(n)-1)/TrackedPageSize, 1<<32/TrackedPageSize-1) // not past 4 GiB
	for p := addr / TrackedPageSize; uint64(p) <= last; p++ {
		m.markPage(p)
	}
}

func (m *marks) markPage(p uint32) {
	if m.bits == nil {
		m.bits = make([]uint64, (1<<32)/TrackedPageSize/64)
	}
	if !m.has(p) {
		m.bits[p/64] |= 1 << (p % 64)
		m.list = append(m.list, p)
	}
}

// instantiate instantiates the host module MarkModule with m's functions.
func (m *marks) instantiate(ctx context.Context, rt wazero.Runtime) error {
	i32 := api.ValueTypeI32
	_, err := rt.NewHostModuleBuilder(MarkModule).
		NewFunctionBuilder().
		WithGoFunction(api.GoFunc(func(_ context.Context, stack []uint64) {
			m.mark(uint32(stack[0]), stack[1])
		}), []api.ValueType{i32, api.ValueTypeI64}, nil).
		Export(MarkName).
		NewFunctionBuilder().
		WithGoFunction(api.GoFunc(func(_ context.Context, stack []uint64) {
			m.polls.Add(1)
			stack[0] = 0
			if m.stop.Load() {
				stack[0] = 1
			}
		}), nil, []api.ValueType{i32}).
		Export(PollName).
		Instantiate(ctx)
	return err
}

func (m *marks) sorted() []uint32 { return slices.Sorted(slices.Values(m.list)) }

const testFeatures = api.CoreFeaturesV2 | experimental.CoreFeaturesTailCall | experimental.CoreFeaturesExtendedConst

var engines = map[string]func() wazero.RuntimeConfig{
	"compiler":    wazero.NewRuntimeConfigCompiler,
	"interpreter": wazero.NewRuntimeConfigInterpreter,
}

// testMemoryPages caps the memories of the test runtimes, in 64 KiB pages; testTrackedPages is
// the same cap in 4 KiB pages.
const (
	testMemoryPages  = 64
	testTrackedPages = testMemoryPages * 16
)

// Option sets the tests use.
var (
	optsAll       = Options{TrackStores: true, TrackedPages: testTrackedPages, Interrupt: true}
	optsTrack     = Options{TrackStores: true, TrackedPages: testTrackedPages}
	optsInterrupt = Options{Interrupt: true}
)

// newTestRuntime returns a runtime with the host module "env" (mix: (i32, i32) -> i32) and,
// when mk is not nil, the host module MarkModule.
func newTestRuntime(t testing.TB, config wazero.RuntimeConfig, mk *marks) wazero.Runtime {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, config.WithCoreFeatures(testFeatures).WithMemoryLimitPages(testMemoryPages))
	t.Cleanup(func() { rt.Close(ctx) })
	_, err := rt.NewHostModuleBuilder("env").
		NewFunctionBuilder().WithFunc(func(a, b uint32) uint32 { return a*31 + b }).Export("mix").
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if mk != nil {
		if err := mk.instantiate(ctx, rt); err != nil {
			t.Fatal(err)
		}
	}
	return rt
}

// testCall is one call of an exported function and what must hold after it.
type testCall struct {
	fn       string
	args     []uint64
	state    bool     // the state global must read 1
	pages    []uint32 // when not nil, exactly the pages that must be marked
	maxCalls int      // when > 0, at most this many mark_dirty calls (one per group of pages)
	trap     bool     // the call must trap
}

// memCopy returns a copy of the memory a module exports as "memory".
func memCopy(m api.Module) []byte {
	mem := m.ExportedMemory("memory")
	if mem == nil {
		return nil
	}
	b, _ := mem.Read(0, mem.Size())
	return bytes.Clone(b)
}

// changedPages returns the 4 KiB pages that differ between two memory images. Pages the
// memory grew by count as changed when they are no longer all zero.
func changedPages(before, after []byte) []uint32 {
	var out []uint32
	zero := make([]byte, TrackedPageSize)
	for off := 0; off < len(after); off += TrackedPageSize {
		a := zero
		if off < len(before) {
			a = before[off : off+TrackedPageSize]
		}
		if !bytes.Equal(a, after[off:off+TrackedPageSize]) {
			out = append(out, uint32(off/TrackedPageSize))
		}
	}
	return out
}

// collect does what the host does after an invocation: it calls the collect export, which
// reports the dirty pages to mk and empties the tables.
func collect(t testing.TB, m api.Module, in *Instrumented) {
	if _, err := m.ExportedFunction(in.CollectExport).Call(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// clearAll empties the tables without reporting.
func clearAll(t testing.TB, m api.Module, in *Instrumented) {
	if _, err := m.ExportedFunction(in.ClearAllExport).Call(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// trackingVariants are the option sets checkInstrumented runs, the first with dirty tracking.
var trackingVariants = []struct {
	name string
	opts Options
}{
	{"tracking+interrupt", optsAll},
	{"interrupt", optsInterrupt},
	{"state", Options{}},
}

// checkInstrumented instruments mod with each of trackingVariants and runs calls on the
// original and on the instrumented module side by side, with both engines: results, traps and
// memory must be identical, every page the original changed must have been marked (when
// tracking), and the state global must say whether a table or segment changed. Without
// tracking, the module must have neither the import nor the dirty table. It returns the
// instrumented module of the first variant.
func checkInstrumented(t *testing.T, mod []byte, calls []testCall) *Instrumented {
	t.Helper()
	var first *Instrumented
	for _, v := range trackingVariants {
		in, err := Instrument(mod, v.opts)
		if err != nil {
			t.Fatalf("Instrument(%s): %v", v.name, err)
		}
		if first == nil {
			first = in
		}
		t.Run(v.name, func(t *testing.T) { checkVariant(t, mod, in, v.opts, calls) })
	}
	return first
}

func checkVariant(t *testing.T, mod []byte, in *Instrumented, opts Options, calls []testCall) {
	ctx := context.Background()
	track := opts.TrackStores
	if !track {
		if imported, wantTables := importsMark(t, in.Module), tableCount(t, mod); imported || tableCount(t, in.Module) != wantTables {
			t.Fatalf("without tracking: imports mark_dirty %v, %d tables (want %d)", imported, tableCount(t, in.Module), wantTables)
		}
		if in.CollectExport != "" || in.ClearAllExport != "" || in.StoreSites != 0 || in.BulkSites != 0 {
			t.Fatalf("without tracking: %+v", in)
		}
	}
	if (in.InterruptGlobal != "") != opts.Interrupt || (in.InterruptSites > 0 && !opts.Interrupt) {
		t.Fatalf("interrupt global %q, %d sites with Interrupt %v", in.InterruptGlobal, in.InterruptSites, opts.Interrupt)
	}
	for engine, config := range engines {
		t.Run(engine, func(t *testing.T) {
			plain, err := newTestRuntime(t, config(), nil).Instantiate(ctx, mod)
			if err != nil {
				t.Fatalf("original module: %v", err)
			}
			mk := &marks{}
			inst, err := newTestRuntime(t, config(), mk).Instantiate(ctx, in.Module)
			if err != nil {
				t.Fatalf("instrumented module: %v", err)
			}
			if !bytes.Equal(memCopy(plain), memCopy(inst)) {
				t.Fatal("memories differ after instantiation")
			}
			for i, c := range calls {
				label := fmt.Sprintf("%s%v", c.fn, c.args)
				before := memCopy(plain)
				want, wantErr := plain.ExportedFunction(c.fn).Call(ctx, c.args...)
				changed := changedPages(before, memCopy(plain))

				if track && i%2 == 1 {
					clearAll(t, inst, in) // a no-op: the last collect emptied the tables
				}
				mk.reset()
				inst.ExportedGlobal(in.StateGlobal).(api.MutableGlobal).Set(0)
				got, gotErr := inst.ExportedFunction(c.fn).Call(ctx, c.args...)
				if track {
					collect(t, inst, in)
				}
				if (wantErr != nil) != c.trap || (gotErr != nil) != c.trap {
					t.Fatalf("%s: original error %v, instrumented error %v, want trap %v", label, wantErr, gotErr, c.trap)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s: instrumented returns %v, original %v", label, got, want)
				}
				if !bytes.Equal(memCopy(inst), memCopy(plain)) {
					t.Fatalf("%s: memories differ", label)
				}
				if state := inst.ExportedGlobal(in.StateGlobal).Get(); state != map[bool]uint64{false: 0, true: 1}[c.state] {
					t.Fatalf("%s: state global %d, want %v", label, state, c.state)
				}
				if !track {
					continue
				}
				for _, p := range changed {
					if !mk.has(p) {
						t.Fatalf("%s: page %d changed but was not marked (marked %v)", label, p, mk.sorted())
					}
				}
				if c.pages != nil && !slices.Equal(mk.sorted(), c.pages) {
					t.Fatalf("%s: marked pages %v, want %v", label, mk.sorted(), c.pages)
				}
				if c.maxCalls > 0 && mk.calls > c.maxCalls {
					t.Fatalf("%s: %d mark_dirty calls, want at most %d", label, mk.calls, c.maxCalls)
				}
			}
		})
	}
}

// importsMark reports whether a module imports mark_dirty.
func importsMark(t testing.TB, mod []byte) bool {
	rt := wazero.NewRuntimeWithConfig(context.Background(), wazero.NewRuntimeConfigInterpreter().WithCoreFeatures(testFeatures))
	defer rt.Close(context.Background())
	cm, err := rt.CompileModule(context.Background(), mod)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range cm.ImportedFunctions() {
		if m, n, _ := f.Import(); m == MarkModule && n == MarkName {
			return true
		}
	}
	return false
}

// tableCount returns the number of tables a module imports and defines.
func tableCount(t testing.TB, mod []byte) uint32 {
	secs, err := sections(mod)
	if err != nil {
		t.Fatal(err)
	}
	n := uint32(0)
	for _, s := range secs {
		r := &reader{b: s.payload}
		switch s.id {
		case secImport:
			for range r.u32() {
				r.name()
				r.name()
				switch r.byte1() {
				case 0:
					r.u32()
				case 1:
					r.byte1()
					r.limits()
					n++
				case 2:
					r.limits()
				case 3:
					r.byte1()
					r.byte1()
				}
			}
		case secTable:
			n += r.u32()
		}
		if r.err != nil {
			t.Fatal(r.err)
		}
	}
	return n
}

// pagesOf returns the pages [addr, addr+n) overlaps.
func pagesOf(addr, n uint64) []uint32 {
	out := []uint32{}
	for p := addr / TrackedPageSize; n > 0 && p*TrackedPageSize < addr+n; p++ {
		out = append(out, uint32(p))
	}
	return out
}

func TestInstrumentStores(t *testing.T) {
	stores := []struct {
		op    string
		value string
		size  uint64
	}{
		{"i32.store", "i32.const 0x5A5B5C5D", 4},
		{"i64.store", "i64.const 0x123456789ABCDEF0", 8},
		{"f32.store", "f32.const 1.5", 4},
		{"f64.store", "f64.const -2.25", 8},
		{"i32.store8", "i32.const 0x7B", 1},
		{"i32.store16", "i32.const 0x7B7C", 2},
		{"i64.store8", "i64.const 0x11", 1},
		{"i64.store16", "i64.const 0x1122", 2},
		{"i64.store32", "i64.const 0x11223344", 4},
		{"v128.store", "v128.const 1 2 3 4", 16},
		{"v128.store8_lane", "v128.const 0x01020304 5 6 7", 1},
		{"v128.store16_lane", "v128.const 0x01020304 5 6 7", 2},
		{"v128.store32_lane", "v128.const 1 0x05060708 6 7", 4},
		{"v128.store64_lane", "v128.const 1 2 3 0x7FFFFFFF", 8},
	}
	const memPages = 4 // 64 KiB pages
	m := &modSpec{types: []string{"i32 ->"}, memory: []byte{0, memPages}}
	var calls []testCall
	for _, s := range stores {
		for _, offset := range []uint64{0, 3, 4096, 70000} {
			lane := ""
			if strings.HasSuffix(s.op, "_lane") {
				lane = "1"
			}
			fn := fmt.Sprintf("%s_off%d", s.op, offset)
			m.funcs = append(m.funcs, testFunc{
				body:   fmt.Sprintf("local.get 0 %s %s offset=%d %s", s.value, s.op, offset, lane),
				export: fn,
			})
			// Aligned, unaligned and crossing into the next page.
			for _, addr := range []uint64{0, 4094, 12287, 4096*5 - 1} {
				calls = append(calls, testCall{fn: fn, args: []uint64{addr}, pages: pagesOf(addr+offset, s.size)})
			}
			// Out of bounds: the store traps, nothing is written or marked.
			end := uint64(memPages * 65536)
			calls = append(calls, testCall{fn: fn, args: []uint64{end - offset - s.size + 1}, trap: true, pages: []uint32{}})
		}
	}
	in := checkInstrumented(t, m.bytes(), calls)
	if in.StoreSites != len(m.funcs) || in.BulkSites != 0 || in.StateSites != 0 {
		t.Fatalf("sites %d/%d/%d, want %d stores", in.StoreSites, in.BulkSites, in.StateSites, len(m.funcs))
	}
}

func TestInstrumentControlFlow(t *testing.T) {
	m := &modSpec{
		types: []string{
			"i32 i32 -> ",     // 0
			"i32 i32 i32 -> ", // 1
			"i32 -> ",         // 2
			"i32 i32 -> i32",  // 3: storer
			"i32 i32 -> i32",  // 4
			"i32 i32 -> i32",  // 5: a block type
		},
		memory: []byte{0, 2},
		tables: [][]byte{{0x70, 0, 2}},
		// table 0 = [storer, storer]
		elems: [][]byte{cat([]byte{0}, asm("i32.const 0 end"), vec([][]byte{{0}, {0}}))},
		funcs: []testFunc{
			{typ: 3, export: "storer", locals: "i64 f64", // 0: stores val at addr+8, returns what it loads back
				body: "local.get 0 local.get 1 i32.store offset=8  local.get 0 i32.load offset=8"},
			{typ: 0, export: "loop", locals: "i32", // stores i at base+4i for i < n
				body: `loop void
				         local.get 0 local.get 2 i32.const 4 i32.mul i32.add  local.get 2 i32.store
				         local.get 2 i32.const 1 i32.add local.tee 2  local.get 1 i32.lt_u br_if 0
				       end`},
			{typ: 1, export: "alternate", // n times: store to a, store to b
				body: `block void loop void
				         local.get 2 i32.eqz br_if 1
				         local.get 0 local.get 2 i32.store8  local.get 1 local.get 2 i64.extend_i32_u i64.store
				         local.get 2 i32.const 1 i32.sub local.set 2 br 0
				       end end`},
			{typ: 2, export: "nested",
				body: `block void
				         block void
				           local.get 0 i32.eqz br_if 0
				           i32.const 100 i32.const 1 i32.store
				           local.get 0 i32.const 1 i32.eq br_if 1
				         end
				         i32.const 5000 i32.const 2 i32.store
				         local.get 0 i32.const 2 i32.gt_u
				         if void
				           i32.const 9000 i32.const 3 i32.store16
				         else
				           i32.const 13000 i64.const 4 i64.store
				         end
				       end`},
			{typ: 2, export: "br_table",
				body: `block void block void block void
				         local.get 0 br_table 0 1 2
				       end
				       i32.const 16384 f32.const 3.5 f32.store  br 1
				       end
				       i32.const 20480 f64.const 7.25 f64.store
				       end
				       i32.const 24576 local.get 0 i32.store offset=4`},
			{typ: 2, export: "unreachable_code", locals: "v128",
				body: `block void br 0 i32.store end
				       block void br 0 i32.const 1 i32.const 2 i32.store8 memory.fill end
				       block void i32.const 30000 local.get 0 i32.store return i64.store offset=9 v128.store end`},
			{typ: 2, export: "trap_before_store",
				body: "local.get 0 i32.eqz if void unreachable i32.store offset=4 end  i32.const 40000 local.get 0 i32.store"},
			{typ: 4, export: "via_table", // call_indirect storer through the table
				body: "local.get 0 local.get 1 i32.const 1 call_indirect 3 0"},
			{typ: 4, export: "tail", body: "local.get 0 i32.const 4 i32.add local.get 1 return_call 0"},
			{typ: 4, export: "tail_indirect", body: "local.get 0 local.get 1 i32.const 0 return_call_indirect 3 0"},
			{typ: 4, export: "typed_block", // a block that takes the store's operands as parameters
				body: "local.get 0 local.get 1 block type=5 i32.store16 offset=1 local.get 0 end"},
			{typ: 4, export: "select", locals: "i32",
				body: `local.get 0 local.get 1 local.get 0 i32.const 50000 i32.lt_u select_t i32 local.tee 2
				       local.get 1 i32.store16 offset=2 local.get 2`},
		},
	}
	calls := []testCall{
		{fn: "storer", args: []uint64{4086, 77}, pages: []uint32{0, 1}},
		{fn: "loop", args: []uint64{4000, 300}, maxCalls: 1},
		{fn: "loop", args: []uint64{0, 4096}, maxCalls: 1, pages: []uint32{0, 1, 2, 3}},
		{fn: "loop", args: []uint64{2, 2000}, maxCalls: 1}, // unaligned: crosses pages
		{fn: "alternate", args: []uint64{10, 70000, 500}, maxCalls: 2, pages: []uint32{0, 17}},
		{fn: "nested", args: []uint64{0}, pages: []uint32{1, 3}},
		{fn: "nested", args: []uint64{1}, pages: []uint32{0}},
		{fn: "nested", args: []uint64{2}, pages: []uint32{0, 1, 3}},
		{fn: "nested", args: []uint64{3}, pages: []uint32{0, 1, 2}},
		{fn: "br_table", args: []uint64{0}, pages: []uint32{4, 6}},
		{fn: "br_table", args: []uint64{1}, pages: []uint32{5, 6}},
		{fn: "br_table", args: []uint64{2}, pages: []uint32{6}},
		{fn: "br_table", args: []uint64{9}, pages: []uint32{6}},
		{fn: "unreachable_code", args: []uint64{5}, pages: []uint32{7}},
		{fn: "trap_before_store", args: []uint64{0}, trap: true, pages: []uint32{}},
		{fn: "trap_before_store", args: []uint64{3}, pages: []uint32{9}},
		{fn: "via_table", args: []uint64{8192, 5}, pages: []uint32{2}},
		{fn: "tail", args: []uint64{12274, 6}, pages: []uint32{2, 3}},
		{fn: "tail_indirect", args: []uint64{16000, 7}, pages: []uint32{3}},
		{fn: "typed_block", args: []uint64{8190, 9}, pages: []uint32{1, 2}},
		{fn: "select", args: []uint64{100, 9}, pages: []uint32{0}},
		{fn: "select", args: []uint64{60000, 9}, pages: []uint32{0}},
	}
	checkInstrumented(t, m.bytes(), calls)
}

func TestInstrumentBulkMemory(t *testing.T) {
	m := &modSpec{
		types:     []string{"i32 i32 i32 -> ", " -> "},
		memory:    []byte{0, 2},
		dataCount: true,
		datas: [][]byte{
			cat([]byte{1}, uleb(20), []byte("0123456789abcdefghij")), // passive
		},
		funcs: []testFunc{
			{export: "fill", body: "local.get 0 local.get 1 local.get 2 memory.fill"},
			{export: "copy", body: "local.get 0 local.get 1 local.get 2 memory.copy"},
			{export: "init", body: "local.get 0 local.get 1 local.get 2 memory.init 0"},
			{typ: 1, export: "drop", body: "data.drop 0"},
		},
	}
	calls := []testCall{
		{fn: "fill", args: []uint64{4000, 0xAB, 10000}, pages: []uint32{0, 1, 2, 3}},
		{fn: "fill", args: []uint64{100, 1, 0}, pages: []uint32{}},
		{fn: "fill", args: []uint64{131000, 1, 1000}, trap: true, pages: []uint32{}},
		{fn: "copy", args: []uint64{65530, 4000, 200}, pages: []uint32{15, 16}},
		{fn: "copy", args: []uint64{4000, 4010, 8000}, pages: []uint32{0, 1, 2}}, // overlapping
		{fn: "init", args: []uint64{8190, 3, 10}, pages: []uint32{1, 2}},
		{fn: "init", args: []uint64{8190, 15, 10}, trap: true, pages: []uint32{}},
		{fn: "drop", state: true},
		{fn: "init", args: []uint64{8190, 3, 10}, trap: true, pages: []uint32{}},
	}
	in := checkInstrumented(t, m.bytes(), calls)
	if in.BulkSites != 3 || in.StateSites != 1 || in.StoreSites != 0 {
		t.Fatalf("sites %+v", in)
	}
}

func TestInstrumentStateOps(t *testing.T) {
	m := &modSpec{
		types:  []string{" -> ", " -> i32"},
		memory: []byte{0, 1},
		tables: [][]byte{{0x70, 0, 4}, {0x6F, 0, 2}},
		elems: [][]byte{
			cat([]byte{0}, asm("i32.const 0 end"), vec([][]byte{{0}})),                              // active: table 0 = [f0]
			cat([]byte{5, 0x70}, vec([][]byte{asm("ref.func 1 end"), asm("ref.null funcref end")})), // passive exprs
		},
		dataCount: true,
		datas:     [][]byte{cat([]byte{1, 3}, []byte("abc"))},
		funcs: []testFunc{
			{body: "nop"},
			{typ: 1, body: "i32.const 42"},
			{export: "set", body: "i32.const 1 ref.func 1 table.set 0"},
			{typ: 1, export: "grow", body: "ref.null funcref i32.const 3 table.grow 0"},
			{typ: 1, export: "grow_fails", body: "ref.null externref i32.const -1 table.grow 1"},
			{export: "fill", body: "i32.const 1 ref.func 0 i32.const 2 table.fill 0"},
			{export: "copy", body: "i32.const 2 i32.const 0 i32.const 2 table.copy 0 0"},
			{export: "init", body: "i32.const 2 i32.const 0 i32.const 2 table.init 1 0"},
			{export: "elem_drop", body: "elem.drop 1"},
			{export: "data_drop", body: "data.drop 0"},
			{typ: 1, export: "reads_only", // a table read, a store and a memory.grow: no state change
				body: "i32.const 0 table.get 0 ref.is_null i32.const 8 i32.const 1 i32.store table.size 0 i32.add i32.const 0 memory.grow i32.add"},
			{typ: 1, export: "call_slot1", body: "i32.const 1 call_indirect 1 0"},
		},
	}
	calls := []testCall{
		{fn: "reads_only"},
		{fn: "set", state: true},
		{fn: "call_slot1"},
		{fn: "grow", state: true},
		{fn: "grow_fails", state: true},
		{fn: "reads_only"},
		{fn: "fill", state: true},
		{fn: "copy", state: true},
		{fn: "init", state: true},
		{fn: "elem_drop", state: true},
		{fn: "init", state: false, trap: true}, // the segment is dropped: traps before table.init completes
		{fn: "data_drop", state: true},
	}
	in := checkInstrumented(t, m.bytes(), calls)
	if in.StateSites != 8 {
		t.Fatalf("%d state sites, want 8", in.StateSites)
	}
}

// TestInstrumentIndices checks that renumbering the functions keeps every reference right: a
// module with imported functions, exports (a re-exported import too), a start function,
// element segments in several encodings, ref.func in code and globals, and a name section.
func TestInstrumentIndices(t *testing.T) {
	start := uint32(4) // defined function 2
	m := &modSpec{
		types: []string{"i32 i32 -> i32", " -> ", " -> i32"},
		imports: [][]byte{
			funcImport("env", "mix", 0),                 // function 0
			cat(name("env"), name("mix"), []byte{0, 0}), // function 1: the same again
		},
		memory: []byte{0, 1},
		tables: [][]byte{{0x70, 0, 8}},
		globals: []string{
			"mut i32 = i32.const 0",                 // 0: set by the start function
			"funcref = ref.func 3",                  // 1: defined function 1
			"mut funcref = ref.func 0",              // 2: the import
			"i32 = i32.const 2 i32.const 3 i32.add", // 3: extended-const
		},
		elems: [][]byte{
			cat([]byte{0}, asm("i32.const 0 end"), vec([][]byte{{2}, {3}, {0}})),                                      // funcidx vector
			cat([]byte{4}, asm("i32.const 3 end"), vec([][]byte{asm("ref.func 6 end"), asm("ref.null funcref end")})), // expression vector
			cat([]byte{6, 0}, asm("global.get 3 end"), []byte{0x70}, vec([][]byte{asm("ref.func 10 end")})),           // at 5
			cat([]byte{2, 0}, asm("i32.const 6 end"), []byte{0}, vec([][]byte{{8}})),                                  // explicit table
			cat([]byte{3, 0}, vec([][]byte{{7}})),                                                                     // declarative, for ref.func 7
		},
		start: &start,
		exports: [][]byte{
			cat(name("mix_again"), []byte{0, 1}),
			cat(name("g0"), []byte{3, 0}),
		},
		names: true,
		funcs: []testFunc{
			{typ: 0, export: "f2", name: "f2", locals: "i32", body: "local.get 0 local.get 1 call 0 i32.const 1 i32.add"},
			{typ: 2, export: "f3", name: "f3", body: "i32.const 3 i32.const 4 call 2"},
			{typ: 1, name: "start", body: "i32.const 77 global.set 0 i32.const 64 i32.const 9 i32.store"},
			{typ: 2, export: "call_all", name: "call_all", // calls through every table slot
				body: `i32.const 1 i32.const 2 i32.const 0 call_indirect 0 0
				       i32.const 1 i32.const 2 i32.const 2 call_indirect 0 0 i32.add
				       i32.const 3 call_indirect 2 0 i32.add
				       i32.const 5 call_indirect 2 0 i32.add
				       i32.const 6 call_indirect 2 0 i32.add
				       call 3 i32.add global.get 0 i32.add`},
			{typ: 2, name: "five", body: "i32.const 5"},
			{typ: 2, name: "six", body: "i32.const 6"},
			{typ: 2, name: "seven", body: "i32.const 7"},
			{typ: 2, export: "refs", name: "refs", locals: "i32", // ref.func in code, into the table, then called
				body: `i32.const 7 ref.func 7 table.set 0  i32.const 7 call_indirect 2 0
				       i32.const 4 global.get 1 table.set 0  i32.const 4 call_indirect 2 0 i32.add
				       i32.const 1 global.get 2 ref.is_null call 0 i32.add`},
			{typ: 2, name: "nine", body: "i32.const 9 return_call 8"},
		},
	}
	calls := []testCall{
		{fn: "f2", args: []uint64{3, 4}},
		{fn: "f3"},
		{fn: "mix_again", args: []uint64{5, 6}},
		{fn: "call_all"},
		{fn: "refs", state: true},
	}
	mod := m.bytes()
	in := checkInstrumented(t, mod, calls)

	// The function names still name the same functions.
	ctx := context.Background()
	for _, withMarks := range []bool{false, true} {
		rt := newTestRuntime(t, wazero.NewRuntimeConfigInterpreter(), map[bool]*marks{true: {}}[withMarks])
		b := map[bool][]byte{false: mod, true: in.Module}[withMarks]
		cm, err := rt.CompileModule(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, fn := range []string{"f2", "f3", "call_all", "refs"} {
			if got := cm.ExportedFunctions()[fn].Name(); got != fn {
				t.Fatalf("instrumented=%v: exported function %q is named %q", withMarks, fn, got)
			}
		}
	}
	// Local names are keyed by the new indices.
	got := nameSubsections(t, in.Module)
	// (Two imports added: mark_dirty and poll.)
	if want := cat(uleb(2), uleb(4), uleb(1), uleb(0), name("f2_l0"), uleb(11), uleb(1), uleb(0), name("refs_l0")); !bytes.Equal(got[nameLocals], want) {
		t.Fatalf("local names %x, want %x", got[nameLocals], want)
	}
	if in.Info.MutableGlobals[0].Index != 0 || in.Info.MutableGlobals[0].Export != "g0" ||
		in.Info.MutableGlobals[1].Index != 2 || len(in.Info.MutableGlobals) != 2 {
		t.Fatalf("mutable globals %+v", in.Info.MutableGlobals)
	}
}

// nameSubsections returns the subsections of a module's name section by id.
func nameSubsections(t *testing.T, mod []byte) map[byte][]byte {
	secs, err := sections(mod)
	if err != nil {
		t.Fatal(err)
	}
	out := map[byte][]byte{}
	for _, s := range secs {
		r := &reader{b: s.payload}
		if s.id != secCustom || r.name() != "name" {
			continue
		}
		for r.off < len(r.b) && r.err == nil {
			id := r.byte1()
			n := r.u32()
			start := r.off
			r.bytesN(int(n))
			out[id] = r.b[start:r.off]
		}
	}
	return out
}

func TestInstrumentResult(t *testing.T) {
	// Existing exports called like what Instrument adds, no type of the right signatures, a
	// DWARF section and a name section with a broken subsection.
	m := &modSpec{
		types:   []string{" -> i64"},
		memory:  []byte{0, 1},
		globals: []string{"mut i64 = i64.const 5", "i32 = i32.const 1"},
		funcs:   []testFunc{{export: StateGlobalName, body: "global.get 0"}},
		exports: [][]byte{cat(name(CollectExportName), []byte{0, 0}), cat(name(InterruptGlobalName), []byte{3, 1})},
		customs: [][]byte{
			cat(name(".debug_info"), []byte{1, 2, 3}),
			cat(name("producers"), []byte{0}),
			cat(name("name"), []byte{1, 3, 1, 0, 5}, []byte{7, 1, 0}), // function names (broken), global names
		},
	}
	in, err := Instrument(m.bytes(), optsAll)
	if err != nil {
		t.Fatal(err)
	}
	if in.StateGlobal != StateGlobalName+"_" || in.InterruptGlobal != InterruptGlobalName+"_" ||
		in.CollectExport != CollectExportName+"_" || in.ClearAllExport != ClearAllExportName {
		t.Fatalf("export names %q %q %q %q", in.StateGlobal, in.InterruptGlobal, in.CollectExport, in.ClearAllExport)
	}
	if len(in.Info.MutableGlobals) != 1 || in.Info.MutableGlobals[0].Index != 0 || !in.Info.HasMemory {
		t.Fatalf("info %+v", in.Info)
	}
	secs, _ := sections(in.Module)
	var customs []string
	for _, s := range secs {
		if s.id == secCustom {
			customs = append(customs, (&reader{b: s.payload}).name())
		}
	}
	if !slices.Equal(customs, []string{"producers", "name"}) {
		t.Fatalf("custom sections %q", customs)
	}
	if subs := nameSubsections(t, in.Module); len(subs) != 1 || !bytes.Equal(subs[7], []byte{0}) {
		t.Fatalf("name subsections %x, want only the global names", subs)
	}
	ctx := context.Background()
	inst, err := newTestRuntime(t, wazero.NewRuntimeConfig(), &marks{}).Instantiate(ctx, in.Module)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]uint64{in.StateGlobal: 0, in.InterruptGlobal: PollBudget} {
		g, ok := inst.ExportedGlobal(name).(api.MutableGlobal)
		if !ok || g.Get() != want || g.Type() != api.ValueTypeI32 {
			t.Fatalf("global %q: %v, want %d", name, g, want)
		}
	}
	defs := inst.ExportedFunctionDefinitions()
	if d := defs[in.CollectExport]; d == nil || len(d.ParamTypes()) != 0 || len(d.ResultTypes()) != 0 {
		t.Fatalf("collect export %v", d)
	}
	if d := defs[in.ClearAllExport]; d == nil || len(d.ParamTypes()) != 0 || len(d.ResultTypes()) != 0 {
		t.Fatalf("clear-all export %v", d)
	}
	if res, err := inst.ExportedFunction(StateGlobalName).Call(ctx); err != nil || res[0] != 5 {
		t.Fatalf("the module's own export: %v, %v", res, err)
	}
	if res, err := inst.ExportedFunction(CollectExportName).Call(ctx); err != nil || res[0] != 5 {
		t.Fatalf("the module's own export: %v, %v", res, err)
	}

	// Instrumenting again is refused, whatever the options of either pass.
	for _, first := range []Options{optsAll, optsTrack, optsInterrupt, {}} {
		out, err := Instrument(m.bytes(), first)
		if err != nil {
			t.Fatal(err)
		}
		for _, second := range []Options{optsAll, {}} {
			if _, err := Instrument(out.Module, second); !errors.Is(err, ErrUnsupported) {
				t.Fatalf("instrumenting with %+v after %+v: %v", second, first, err)
			}
		}
	}
	// Bad options.
	for _, opts := range []Options{{TrackStores: true}, {TrackStores: true, TrackedPages: MaxTrackedPages + 1}} {
		if _, err := Instrument(m.bytes(), opts); err == nil {
			t.Fatalf("options %+v accepted", opts)
		}
	}
}

func TestInstrumentWithoutMemory(t *testing.T) {
	// No memory, no sections but a type and a function: the module gets the import, the table
	// and the globals all the same.
	m := &modSpec{types: []string{" -> i32"}, funcs: []testFunc{{export: "f", body: "i32.const 3"}}}
	in := checkInstrumented(t, m.bytes(), []testCall{{fn: "f"}})
	if in.Info.HasMemory || len(in.Info.MutableGlobals) != 0 {
		t.Fatalf("info %+v", in.Info)
	}
	// An empty module.
	for _, opts := range []Options{optsAll, {}} {
		in, err := Instrument(module(), opts)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := newTestRuntime(t, wazero.NewRuntimeConfig(), &marks{}).Instantiate(context.Background(), in.Module)
		if err != nil {
			t.Fatal(err)
		}
		if opts.TrackStores {
			if _, err := inst.ExportedFunction(in.ClearAllExport).Call(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestInstrumentRejects(t *testing.T) {
	withBody := func(body []byte) []byte {
		code := cat([]byte{0}, body, []byte{0x0B})
		return module(sec(1, 1, 0x60, 0, 0), sec(3, 1, 0), sec(5, 1, 0, 1), sec(10, cat([]byte{1, byte(len(code))}, code)...))
	}
	unsupported := map[string][]byte{
		"atomics":                 withBody([]byte{0x41, 0, 0xFE, 0x10, 2, 0, 0x1A}),
		"atomic fence":            withBody([]byte{0xFE, 0x03, 0}),
		"shared memory":           module(sec(5, 1, 0x03, 1, 2)),
		"imported shared memory":  module(sec(2, cat([]byte{1}, name("env"), name("m"), []byte{2, 3, 1, 2})...)),
		"memory64":                module(sec(5, 1, 0x04, 1)),
		"two memories":            module(sec(5, 2, 0, 1, 0, 1)),
		"imported and own memory": module(sec(2, cat([]byte{1}, name("env"), name("m"), []byte{2, 0, 1})...), sec(5, 1, 0, 1)),
		"multi-memory memarg":     withBody([]byte{0x41, 0, 0x28, 0x40, 1, 0, 0x1A}),
		"memory.size 1":           withBody([]byte{0x3F, 1, 0x1A}),
		"memory.copy 1 0":         withBody([]byte{0x41, 0, 0x41, 0, 0x41, 0, 0xFC, 10, 1, 0}),
		"try":                     withBody([]byte{0x06, 0x40, 0x0B}),
		"throw":                   withBody([]byte{0x08, 0}),
		"try_table":               withBody([]byte{0x1F, 0x40, 0, 0x0B}),
		"tag section":             module(sec(13, 1, 0, 0)),
		"tag import":              module(sec(2, cat([]byte{1}, name("env"), name("t"), []byte{4, 0, 0})...)),
		"GC opcode":               withBody([]byte{0xFB, 0x00, 0}),
		"call_ref":                withBody([]byte{0x14, 0}),
		"GC type":                 module(sec(1, 1, 0x5F, 0)),
		"GC value type":           module(sec(6, 1, 0x64, 0x70, 0, 0xD0, 0x70, 0x0B)),
		"relaxed SIMD":            withBody([]byte{0xFD, 0x80, 0x02}),
		"table64":                 module(sec(4, 1, 0x70, 0x04, 1)),
	}
	for label, mod := range unsupported {
		t.Run(label, func(t *testing.T) {
			if _, err := Instrument(mod, optsAll); !errors.Is(err, ErrUnsupported) || errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v, want ErrUnsupported", err)
			}
		})
	}
	malformed := map[string][]byte{
		"unknown opcode":         withBody([]byte{0xC5}),
		"unknown 0xFC":           withBody([]byte{0xFC, 18}),
		"SIMD hole":              withBody([]byte{0xFD, 154, 1}),
		"SIMD past the end":      withBody([]byte{0xFD, 0x90, 0x03}),
		"truncated body":         module(sec(1, 1, 0x60, 0, 0), sec(3, 1, 0), sec(10, 1, 3, 0, 0x41)),
		"bytes after end":        module(sec(1, 1, 0x60, 0, 0), sec(3, 1, 0), sec(10, 1, 3, 0, 0x0B, 0x01)),
		"no end":                 module(sec(1, 1, 0x60, 0, 0), sec(3, 1, 0), sec(10, 1, 2, 0, 0x01)),
		"code count":             module(sec(1, 1, 0x60, 0, 0), sec(3, 1, 0), sec(10, 0)),
		"bad function type":      module(sec(1, 1, 0x60, 0, 0), sec(3, 1, 5)),
		"sections out of order":  module(sec(3, 0), sec(1, 0)),
		"unknown section":        module(sec(14, 0)),
		"bad element flags":      module(sec(9, 1, 8)),
		"i32.const too long":     withBody([]byte{0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1A}),
		"i32.const out of range": withBody([]byte{0x41, 0x80, 0x80, 0x80, 0x80, 0x10, 0x1A}),
		"huge br_table":          withBody([]byte{0x41, 0, 0x0E, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F}),
		"huge locals":            module(sec(1, 1, 0x60, 0, 0), sec(3, 1, 0), sec(10, 1, 7, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x7F)),
		"trailing in import":     module(sec(2, 0, 0)),
		// Indices one past the end: in the rewritten module they would name what Instrument
		// adds (the dirty tables, the state global, the functions it adds).
		"call out of range":       withBody([]byte{0x10, 1}),
		"ref.func out of range":   withBody([]byte{0xD2, 1, 0x1A}),
		"global.set out of range": withBody([]byte{0x41, 0, 0x24, 0}),
		"global.get out of range": withBody([]byte{0x23, 0, 0x1A}),
		"table.set out of range":  withBody([]byte{0x41, 0, 0xD0, 0x70, 0x26, 0}),
		"table.fill out of range": withBody([]byte{0x41, 0, 0xD0, 0x70, 0x41, 1, 0xFC, 17, 0}),
		"table.copy out of range": withBody([]byte{0x41, 0, 0x41, 0, 0x41, 0, 0xFC, 14, 0, 0}),
		"call_indirect table":     withBody([]byte{0x41, 0, 0x11, 0, 0}),
		"element into no table":   module(sec(1, 1, 0x60, 0, 0), sec(3, 1, 0), sec(9, cat([]byte{1, 0}, asm("i32.const 0 end"), []byte{1, 0})...), sec(10, 1, 2, 0, 0x0B)),
		"element function":        module(sec(1, 1, 0x60, 0, 0), sec(3, 1, 0), sec(9, 1, 1, 0, 1, 1), sec(10, 1, 2, 0, 0x0B)),
		"exported function":       module(sec(7, cat([]byte{1}, name("f"), []byte{0, 0})...)),
		"exported global":         module(sec(7, cat([]byte{1}, name("g"), []byte{3, 0})...)),
		"start function":          module(sec(8, 0)),
		"global ref.func":         module(sec(6, 1, 0x70, 0, 0xD2, 0, 0x0B)),
	}
	for label, mod := range malformed {
		t.Run(label, func(t *testing.T) {
			if _, err := Instrument(mod, optsAll); !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v, want ErrMalformed", err)
			}
		})
	}
}

func TestInstrumentErrorContext(t *testing.T) {
	// The second defined function (index 2: one import) holds an atomic at its byte 3.
	body := []byte{0, 0x01, 0xFE, 0x03, 0, 0x0B}
	mod := module(
		sec(1, 1, 0x60, 0, 0),
		sec(2, cat([]byte{1}, name("env"), name("f"), []byte{0, 0})...),
		sec(3, 2, 0, 0),
		sec(10, cat([]byte{2, 2, 0, 0x0B, byte(len(body))}, body)...),
	)
	_, err := Instrument(mod, optsAll)
	at := bytes.Index(mod, body) + 2
	if want := fmt.Sprintf("function 2: at byte %d:", at); err == nil || !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Fatalf("error %q, want it to contain %q", err, want)
	}
}
