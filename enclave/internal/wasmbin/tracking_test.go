package wasmbin

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// TestDirtyTable checks the dirty table: a page written many times is reported once, pages
// are reported again after they have been collected and not after the tables are cleared,
// both pages of a store that crosses a page boundary are reported even when the first page
// is marked already, the pages of a group of 64 make one mark_dirty call, and a store
// beyond the tracked pages traps.
func TestDirtyTable(t *testing.T) {
	m := &modSpec{
		types:  []string{"i32 i32 -> ", "i32 -> ", " -> ", "i32 i32 i32 -> "},
		memory: []byte{0, 5},
		funcs: []testFunc{
			{typ: 0, export: "fill_page", locals: "i32", // n times: store8 at base + i%4096
				body: `loop void
				         local.get 0 local.get 2 i32.const 4095 i32.and i32.add  local.get 2 i32.store8
				         local.get 2 i32.const 1 i32.add local.tee 2  local.get 1 i32.lt_u br_if 0
				       end`},
			{typ: 0, export: "store8_store64", // one activation: store8 at a, i64.store at b
				body: "local.get 0 i32.const 1 i32.store8  local.get 1 i64.const -1 i64.store"},
			{typ: 3, export: "three", // store8 at a, b, c
				body: "local.get 0 i32.const 1 i32.store8  local.get 1 i32.const 1 i32.store8  local.get 2 i32.const 1 i32.store8"},
			{typ: 0, export: "fill", body: "local.get 0 i32.const 7 local.get 1 memory.fill"},
			{typ: 1, export: "grow_and_store", // grows memory by n pages and stores at the end of it
				body: "local.get 0 memory.grow drop  memory.size i32.const 65536 i32.mul i32.const 4 i32.sub i32.const 7 i32.store"},
		},
	}
	in, err := Instrument(m.bytes(), optsAll)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for engine, config := range engines {
		t.Run(engine, func(t *testing.T) {
			mk := &marks{}
			inst, err := newTestRuntime(t, config(), mk).Instantiate(ctx, in.Module)
			if err != nil {
				t.Fatal(err)
			}
			call := func(fn string, args ...uint64) {
				t.Helper()
				if _, err := inst.ExportedFunction(fn).Call(ctx, args...); err != nil {
					t.Fatal(err)
				}
			}
			// expect collects and checks the pages reported and the mark_dirty calls made.
			expect := func(label string, calls int, pages ...uint32) {
				t.Helper()
				mk.reset()
				collect(t, inst, in)
				if mk.calls != calls || !slices.Equal(mk.sorted(), pages) {
					t.Fatalf("%s: %d mark_dirty calls for pages %v, want %d for %v", label, mk.calls, mk.sorted(), calls, pages)
				}
			}
			// A page written 100000 times, in two invocations: one page, one call.
			call("fill_page", 8192, 100000)
			call("fill_page", 8192, 10)
			expect("fill_page", 1, 2)
			// Collected, it is reported again when written again; not after a clear.
			call("fill_page", 8192, 10)
			expect("fill_page after collecting", 1, 2)
			call("fill_page", 8192, 10)
			clearAll(t, inst, in)
			expect("fill_page and clear", 0)
			expect("nothing", 0)

			// A store crossing from page 4 into 5 after a store to page 4, in one activation.
			call("store8_store64", 4*4096+10, 5*4096-3)
			expect("across, first page marked", 1, 4, 5)
			// Crossing into a marked page from an unmarked one.
			call("store8_store64", 7*4096, 7*4096-1)
			expect("across, second page marked", 1, 6, 7)
			// The last bytes of a page and the first of the next, without crossing.
			call("store8_store64", 3*4096-1, 3*4096)
			expect("page edges", 1, 2, 3)
			call("store8_store64", 3*4096-1, 3*4096-8)
			expect("one page", 1, 2)
			// The page cache: away and back.
			call("three", 2*4096, 9*4096+5, 2*4096+1)
			expect("away and back", 1, 2, 9)
			// Runs: pages 60 to 67 span two groups of 64 pages.
			call("fill", 60*4096, 8*4096)
			expect("fill across groups", 2, 60, 61, 62, 63, 64, 65, 66, 67)
			call("fill", 60*4096+1, 0)
			expect("empty fill", 0)
			call("three", 0, 2*4096, 3*4096)
			expect("runs", 1, 0, 2, 3)
			// One call per group, whatever the runs in it.
			call("three", 70*4096, 0, 4096)
			expect("two groups", 2, 0, 1, 70)

			// A store in the last tracked page.
			call("grow_and_store", testMemoryPages-5)
			expect("grow_and_store", 1, testTrackedPages-1)
		})
	}

	// With a memory larger than the table, the store traps rather than go unreported.
	small := Options{TrackStores: true, TrackedPages: 80} // 320 KiB: the initial memory
	in, err = Instrument(m.bytes(), small)
	if err != nil {
		t.Fatal(err)
	}
	for engine, config := range engines {
		t.Run(engine+"/beyond the cap", func(t *testing.T) {
			mk := &marks{}
			inst, err := newTestRuntime(t, config(), mk).Instantiate(ctx, in.Module)
			if err != nil {
				t.Fatal(err)
			}
			// The last group is partial (pages 64 to 79): reported in one call all the same.
			if _, err := inst.ExportedFunction("three").Call(ctx, 79*4096, 64*4096, 70*4096+4095); err != nil {
				t.Fatal(err)
			}
			mk.reset()
			collect(t, inst, in)
			if got := mk.sorted(); mk.calls != 1 || !slices.Equal(got, []uint32{64, 70, 79}) {
				t.Fatalf("partial last group: %d mark_dirty calls for pages %v, want 1 for [64 70 79]", mk.calls, got)
			}
			_, err = inst.ExportedFunction("grow_and_store").Call(ctx, 1)
			if err == nil || !strings.Contains(err.Error(), "table") {
				t.Fatalf("store beyond the tracked pages: error %v, want an invalid table access", err)
			}
		})
	}
}

// TestInterrupt checks that an endless invocation stops with a trap once poll says so (with
// the budget global set to 0 from another goroutine, or not), that it keeps running while poll
// says 0, that a garbage collection can stop the world while it runs, and that the instance
// works again afterwards.
func TestInterrupt(t *testing.T) {
	m := &modSpec{
		types:  []string{" -> ", "i32 -> i32"},
		memory: []byte{0, 1},
		funcs: []testFunc{
			{export: "spin", body: "loop void br 0 end"},
			{export: "recurse", body: "return_call 1"},
			{typ: 1, body: "local.get 0 i32.const 1 i32.add"}, // 2: a leaf
			{export: "busy", locals: "i32", // calls the leaf forever, and stores
				body: "loop void local.get 0 call 2 local.set 0 i32.const 64 local.get 0 i32.store br 0 end"},
			{typ: 1, export: "count", locals: "i32", // a loop with a parameter: counts to n
				body: `i32.const 0 loop type=1 i32.const 1 i32.add local.tee 1 local.get 1 local.get 0 i32.lt_u br_if 0 end`},
		},
	}
	ctx := context.Background()
	for _, opts := range []Options{optsAll, optsInterrupt} {
		in, err := Instrument(m.bytes(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if in.InterruptSites != 4+3 { // 4 function entries (not the leaf's), 3 loops
			t.Fatalf("%d interrupt sites, want 7", in.InterruptSites)
		}
		for engine, config := range engines {
			if engine == "interpreter" && raceEnabled {
				// The interpreter reads the budget global in Go, racing with Set: benign, but
				// the race detector reports it. The compiler reads it in machine code.
				continue
			}
			t.Run(engine, func(t *testing.T) {
				mk := &marks{}
				inst, err := newTestRuntime(t, config(), mk).Instantiate(ctx, in.Module)
				if err != nil {
					t.Fatal(err)
				}
				budget := inst.ExportedGlobal(in.InterruptGlobal).(api.MutableGlobal)
				for _, fn := range []string{"spin", "recurse", "busy"} {
					for _, setGlobal := range []bool{false, true} {
						label := fmt.Sprintf("%s (set the global: %v)", fn, setGlobal)
						done := make(chan error, 1)
						go func() {
							_, err := inst.ExportedFunction(fn).Call(ctx)
							done <- err
						}()
						select {
						case err := <-done:
							t.Fatalf("%s returned before the interrupt: %v", label, err)
						case <-time.After(20 * time.Millisecond):
						}
						// The world can stop: the guest polls.
						gc := make(chan struct{})
						go func() {
							runtime.GC()
							close(gc)
						}()
						select {
						case <-gc:
						case <-time.After(20 * time.Second):
							t.Fatalf("%s: a garbage collection did not complete within 20 s", label)
						}
						polls := mk.polls.Load()
						for deadline := time.Now().Add(20 * time.Second); mk.polls.Load() == polls; time.Sleep(time.Millisecond) {
							if time.Now().After(deadline) {
								t.Fatalf("%s: no poll in 20 s", label)
							}
						}
						mk.stop.Store(true)
						if setGlobal {
							budget.Set(0)
						}
						select {
						case err := <-done:
							if err == nil || !strings.Contains(err.Error(), "unreachable") {
								t.Fatalf("%s: error %v, want an unreachable trap", label, err)
							}
						case <-time.After(20 * time.Second):
							t.Fatalf("%s did not stop within 20 s of the interrupt", label)
						}
						// With poll saying stop and the budget at 0, the next call stops at once.
						budget.Set(0)
						if _, err := inst.ExportedFunction("count").Call(ctx, 10); err == nil {
							t.Fatal("count ran with the interrupt set")
						}
						mk.stop.Store(false)
						if res, err := inst.ExportedFunction("count").Call(ctx, 1000); err != nil || res[0] != 1000 {
							t.Fatalf("after the interrupt: count returns %v, %v", res, err)
						}
					}
				}
			})
		}
	}
}

// TestInterruptUnchanged checks that the checks change nothing else: loops with parameters
// and results (one value or several), nested loops, and branches out of loops to every kind of
// label (the wrapped loops move them three levels deeper), br_table among them, give the
// original's results.
func TestInterruptUnchanged(t *testing.T) {
	m := &modSpec{
		types: []string{
			"i32 -> i32",         // 0
			"i32 -> i32 i32",     // 1
			"i32 i32 -> i32",     // 2
			" -> i32 i64",        // 3
			"i32 -> i64",         // 4
			"i32 i32 -> i32 i32", // 5
			"i32 i32 i32 -> i32", // 6
		},
		memory: []byte{0, 1},
		funcs: []testFunc{
			{export: "count", locals: "i32", // a loop with a parameter
				body: `i32.const 0 loop type=0 i32.const 1 i32.add local.tee 1 local.get 1 local.get 0 i32.lt_u br_if 0 end`},
			{export: "nested", locals: "i32 i32", // sum over i < n, j < i of j, stored at 16
				body: `loop void
				         i32.const 0 local.set 2
				         loop void
				           block void local.get 2 local.get 1 i32.ge_u br_if 0
				             i32.const 16 i32.const 16 i32.load local.get 2 i32.add i32.store
				             local.get 2 i32.const 1 i32.add local.set 2 br 1
				           end
				         end
				         local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_u br_if 0
				       end
				       i32.const 16 i32.load`},
			{typ: 2, export: "loop_value", body: "local.get 0 loop type=0 local.get 1 i32.add end"},
			{typ: 0, export: "loop_result", locals: "i32", // a loop with a result and no parameter
				body: `loop i32 local.get 1 i32.const 3 i32.add local.tee 1 local.get 1 local.get 0 i32.lt_u br_if 0 end`},
			{typ: 4, export: "loop_results", locals: "i32 i64", // a loop with two results, type index
				body: `loop type=3 local.get 1 i32.const 1 i32.add local.tee 1 local.get 2 i64.const 5 i64.add local.tee 2
				         local.get 1 local.get 0 i32.lt_u br_if 0 end
				       local.set 2 i64.extend_i32_u local.get 2 i64.add`},
			{typ: 6, export: "exits", locals: "i32", // branches out of nested loops to every level
				body: `block i32
				         block void
				           loop void
				             loop void
				               local.get 3 i32.const 1 i32.add local.set 3
				               local.get 3 i32.const 3 i32.rem_u i32.const 1 i32.eq br_if 0
				               local.get 3 i32.const 100 i32.gt_u br_if 2
				               local.get 3 local.get 0 i32.eq if void local.get 3 br 4 end
				               local.get 3 local.get 1 i32.eq if void local.get 3 i32.const 7 i32.add br 5 end
				               local.get 3 local.get 2 i32.eq if void local.get 3 i32.const 1000 i32.add return end
				               local.get 3 i32.const 13 i32.rem_u br_table 1 0 1 1
				             end
				           end
				         end
				         local.get 3 i32.const 10000 i32.add
				       end`},
		},
	}
	checkInstrumented(t, m.bytes(), []testCall{
		{fn: "count", args: []uint64{5}},
		{fn: "nested", args: []uint64{30}, pages: []uint32{0}, maxCalls: 1},
		{fn: "loop_value", args: []uint64{3, 4}},
		{fn: "loop_result", args: []uint64{20}},
		{fn: "loop_results", args: []uint64{9}},
		{fn: "exits", args: []uint64{3, 0, 0}},
		{fn: "exits", args: []uint64{0, 6, 0}},
		{fn: "exits", args: []uint64{0, 0, 9}},
		{fn: "exits", args: []uint64{0, 0, 0}},
	})
}

// TestInstrumentTrackingOptions checks that the options add only what they say.
func TestInstrumentTrackingOptions(t *testing.T) {
	m := &modSpec{
		types:  []string{"i32 -> "},
		memory: []byte{0, 1},
		tables: [][]byte{{0x70, 0, 1}},
		funcs:  []testFunc{{export: "f", body: "loop void end local.get 0 i32.const 1 i32.store  i32.const 0 i32.const 0 i32.const 4 memory.fill"}},
	}
	mod := m.bytes()
	for _, opts := range []Options{optsAll, optsTrack, optsInterrupt, {}} {
		in, err := Instrument(mod, opts)
		if err != nil {
			t.Fatal(err)
		}
		track := opts.TrackStores
		if got := importsMark(t, in.Module); got != track {
			t.Fatalf("%+v: imports mark_dirty %v", opts, got)
		}
		if got, want := tableCount(t, in.Module), map[bool]uint32{false: 1, true: 3}[track]; got != want {
			t.Fatalf("%+v: %d tables, want %d", opts, got, want)
		}
		wantSites := [4]int{0, 0, 0, 0}
		if track {
			wantSites[0], wantSites[1] = 1, 1
		}
		if opts.Interrupt {
			wantSites[3] = 2
		}
		if got := [4]int{in.StoreSites, in.BulkSites, in.StateSites, in.InterruptSites}; got != wantSites {
			t.Fatalf("%+v: sites %v, want %v", opts, got, wantSites)
		}
		if (in.CollectExport != "") != track || (in.ClearAllExport != "") != track || (in.InterruptGlobal != "") != opts.Interrupt || in.StateGlobal == "" {
			t.Fatalf("%+v: exports %+v", opts, in)
		}
		// The module compiles and runs.
		mk := &marks{}
		inst, err := newTestRuntime(t, wazero.NewRuntimeConfigInterpreter(), mk).Instantiate(context.Background(), in.Module)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inst.ExportedFunction("f").Call(context.Background(), 4096); err != nil {
			t.Fatal(err)
		}
		if track {
			collect(t, inst, in)
			if !slices.Equal(mk.sorted(), []uint32{0, 1}) {
				t.Fatalf("marked %v", mk.sorted())
			}
		}

	}
	// Without anything but the state global, a module without state-changing instructions
	// keeps its code as it is.
	in, err := Instrument(mod, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if codeSize(t, in.Module) != codeSize(t, mod) {
		t.Fatalf("code %d -> %d bytes", codeSize(t, mod), codeSize(t, in.Module))
	}
}

// TestInterruptChargesBulkBySize: an instruction that moves megabytes is charged for its
// size, so that a loop of memory.fill (or a straight run of them, or table.fill) polls about
// every PollBudget<<BulkShift bytes instead of every million iterations; the red team's loop
// of 58 MB fills ran 306 s under a 10 s deadline. The count of polls is exact arithmetic, not
// timing.
func TestInterruptChargesBulkBySize(t *testing.T) {
	const pages = 16 // 1 MiB of linear memory
	m := &modSpec{
		types:  []string{" -> ", "i32 -> "},
		memory: []byte{0, pages},
		tables: [][]byte{{0x70, 0, 0}},
		funcs: []testFunc{
			// fill_loop(n): n fills of the whole memory in a loop without calls.
			{typ: 1, export: "fill_loop", body: `loop void
				i32.const 0 i32.const 7 i32.const 1048576 memory.fill
				local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0 end`},
			// fill_once: one fill of the whole memory, in a leaf (no check of its own).
			{export: "fill_once", body: "i32.const 0 i32.const 7 i32.const 1048576 memory.fill"},
			// copy_loop(n): n copies of half the memory.
			{typ: 1, export: "copy_loop", body: `loop void
				i32.const 0 i32.const 524288 i32.const 524288 memory.copy
				local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0 end`},
			// grow_table: table.grow by 2^20 null entries, then table.fill them.
			{export: "grow_table", body: `ref.null funcref i32.const 1048576 table.grow 0 drop
				i32.const 0 ref.null funcref i32.const 1048576 table.fill 0`},
		},
	}
	ctx := context.Background()
	for _, opts := range []Options{optsAll, optsInterrupt} {
		in, err := Instrument(m.bytes(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if in.SizedSites != 5 {
			t.Fatalf("%d sized sites, want 5", in.SizedSites)
		}
		for engine, config := range engines {
			t.Run(engine, func(t *testing.T) {
				mk := &marks{}
				inst, err := newTestRuntime(t, config(), mk).Instantiate(ctx, in.Module)
				if err != nil {
					t.Fatal(err)
				}
				budget := inst.ExportedGlobal(in.InterruptGlobal).(api.MutableGlobal)
				tests := []struct {
					fn    string
					args  []uint64
					bytes int64 // bytes moved (8 per table entry)
				}{
					{"fill_loop", []uint64{64}, 64 << 20},
					{"copy_loop", []uint64{128}, 128 << 19},
					{"fill_once", nil, 1 << 20},
					{"grow_table", nil, 2 * 8 << 20},
				}
				for _, tt := range tests {
					budget.Set(PollBudget)
					before := mk.polls.Load()
					if _, err := inst.ExportedFunction(tt.fn).Call(ctx, tt.args...); err != nil {
						t.Fatalf("%s: %v", tt.fn, err)
					}
					// The charges alone spend the budget this many times (the loop checks add a
					// little): without them, none of these calls polls at all.
					want := (tt.bytes >> BulkShift) / PollBudget
					if got := mk.polls.Load() - before; got < want {
						t.Errorf("%s: %d polls for %d MiB moved, want at least %d", tt.fn, got, tt.bytes>>20, want)
					}
				}
				// A poll that says stop ends a loop of fills at its next fill.
				mk.stop.Store(true)
				budget.Set(0)
				if _, err := inst.ExportedFunction("fill_once").Call(ctx); err == nil || !strings.Contains(err.Error(), "unreachable") {
					t.Fatalf("fill_once with the interrupt set: %v, want an unreachable trap", err)
				}
				mk.stop.Store(false)
			})
		}
	}
}

// TestMaxTableEntries: tables without a maximum get one within the cap, so table.grow by
// 2^31 entries fails (-1) instead of allocating 16 GiB in the host; tables that start above
// the cap are refused.
func TestMaxTableEntries(t *testing.T) {
	grow := testFunc{typ: 1, export: "grow", body: "ref.null funcref local.get 0 table.grow 0"}
	size := testFunc{typ: 2, export: "size", body: "table.size 1"}
	tests := []struct {
		name    string
		tables  [][]byte
		cap     uint32
		grows   []uint64 // table.grow deltas on table 0, in order
		want    []int32  // their results
		size1   int32    // table.size of table 1
		refused bool
	}{
		{"no maximum", [][]byte{{0x70, 0, 2}, {0x70, 0, 3}}, 1000, []uint64{1 << 31, 497, 1}, []int32{-1, 2, -1}, 3, false},
		{"small maximum kept", [][]byte{{0x70, 1, 2, 10}, {0x70, 0, 3}}, 1000, []uint64{8, 1}, []int32{2, -1}, 3, false},
		{"large maximum capped", [][]byte{{0x70, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, {0x70, 0, 0}}, 1 << 20, []uint64{1<<19 + 1, 1 << 19}, []int32{-1, 0}, 0, false},
		{"minimum over the cap", [][]byte{{0x70, 0, 0x80, 0x80, 0x04}, {0x70, 0, 0}}, 1000, nil, nil, 0, true},
		{"no cap", [][]byte{{0x70, 0, 0}, {0x70, 0, 0}}, 0, []uint64{1 << 20}, []int32{0}, 0, false},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &modSpec{types: []string{" -> ", "i32 -> i32", " -> i32"}, memory: []byte{0, 1}, tables: tt.tables,
				funcs: []testFunc{grow, size}}
			in, err := Instrument(m.bytes(), Options{Interrupt: true, MaxTableEntries: tt.cap})
			if tt.refused {
				if !errors.Is(err, ErrTooLarge) {
					t.Fatalf("err %v, want ErrTooLarge", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			inst, err := newTestRuntime(t, wazero.NewRuntimeConfigCompiler(), &marks{}).Instantiate(ctx, in.Module)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range tt.grows {
				res, err := inst.ExportedFunction("grow").Call(ctx, d)
				if err != nil || int32(res[0]) != tt.want[i] {
					t.Fatalf("table.grow %d: %v, %v; want %d", d, res, err, tt.want[i])
				}
			}
			if res, err := inst.ExportedFunction("size").Call(ctx); err != nil || int32(res[0]) != tt.size1 {
				t.Fatalf("table.size 1: %v, %v; want %d", res, err, tt.size1)
			}
		})
	}
}
