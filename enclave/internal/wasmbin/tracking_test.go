package wasmbin

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// TestDirtyTable checks the dirty table: the host hears of a page once per invocation however
// often it is written, again after the table is cleared, and of both pages of a store that
// crosses a page boundary, even when the first is marked already.
func TestDirtyTable(t *testing.T) {
	m := &modSpec{
		types:  []string{"i32 i32 -> ", "i32 -> ", " -> "},
		memory: []byte{0, 2},
		funcs: []testFunc{
			{typ: 0, export: "fill_page", locals: "i32", // n times: store8 at base + i%4096
				body: `loop void
				         local.get 0 local.get 2 i32.const 4095 i32.and i32.add  local.get 2 i32.store8
				         local.get 2 i32.const 1 i32.add local.tee 2  local.get 1 i32.lt_u br_if 0
				       end`},
			{typ: 0, export: "store64", body: "local.get 0 local.get 1 i64.extend_i32_u i64.store"},
			{typ: 0, export: "store8", body: "local.get 0 local.get 1 i32.store8"},
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
			call := func(fn string, args ...uint64) error {
				_, err := inst.ExportedFunction(fn).Call(ctx, args...)
				return err
			}
			expect := func(label string, calls int, pages ...uint32) {
				t.Helper()
				if mk.calls != calls || !slices.Equal(mk.sorted(), pages) {
					t.Fatalf("%s: %d mark_dirty calls for pages %v, want %d for %v", label, mk.calls, mk.sorted(), calls, pages)
				}
			}
			// (a) One page written 100000 times: one call.
			if err := call("fill_page", 8192, 100000); err != nil {
				t.Fatal(err)
			}
			expect("fill_page", 1, 2)
			// Without clearing the table, the host does not hear of the page again.
			mk.reset()
			if err := call("fill_page", 8192, 10); err != nil {
				t.Fatal(err)
			}
			expect("fill_page without clearing", 0)
			// (b) After clearing (entry by entry, then all at once), it does.
			for _, all := range []bool{false, true} {
				mk.list = append(mk.list, 2) // what the host remembers from the first run
				clearDirty(t, inst, in, mk, all)
				if err := call("fill_page", 8192, 10); err != nil {
					t.Fatal(err)
				}
				expect("fill_page after clearing", 1, 2)
			}
			clearDirty(t, inst, in, mk, true)

			// (c) A store crossing from page 4 into 5 while page 4 is marked: both pages.
			if err := call("store8", 4*4096+10, 1); err != nil {
				t.Fatal(err)
			}
			expect("store8", 1, 4)
			if err := call("store64", 5*4096-3, 1); err != nil {
				t.Fatal(err)
			}
			expect("store64 across", 2, 4, 5)
			// Once both are marked, a crossing store still calls the host (it cannot know).
			if err := call("store64", 5*4096-3, 2); err != nil {
				t.Fatal(err)
			}
			expect("store64 across again", 3, 4, 5)
			// Crossing into a marked page from an unmarked one.
			if err := call("store8", 7*4096, 1); err != nil {
				t.Fatal(err)
			}
			if err := call("store64", 7*4096-1, 1); err != nil {
				t.Fatal(err)
			}
			expect("store64 into a marked page", 5, 4, 5, 6, 7)
			// The last byte of a page and the first of the next, without crossing.
			clearDirty(t, inst, in, mk, true)
			if err := call("store64", 3*4096-8, 1); err != nil {
				t.Fatal(err)
			}
			if err := call("store64", 3*4096, 1); err != nil {
				t.Fatal(err)
			}
			expect("store64 at page edges", 2, 2, 3)

			// A store beyond the tracked pages traps: the runtime here allows more memory than
			// the table covers (64 KiB pages: 2 now, up to testMemoryPages; the table covers
			// testTrackedPages 4 KiB pages, i.e. all of them; grow to the cap and past it fails).
			clearDirty(t, inst, in, mk, true)
			if err := call("grow_and_store", testMemoryPages-2); err != nil {
				t.Fatalf("store in the last tracked page: %v", err)
			}
			expect("grow_and_store", 1, testTrackedPages-1)
		})
	}

	// With a memory larger than the table, the store traps rather than go unreported.
	small := Options{TrackStores: true, TrackedPages: 32} // 128 KiB: the initial memory
	in, err = Instrument(m.bytes(), small)
	if err != nil {
		t.Fatal(err)
	}
	for engine, config := range engines {
		t.Run(engine+"/beyond the cap", func(t *testing.T) {
			inst, err := newTestRuntime(t, config(), &marks{}).Instantiate(ctx, in.Module)
			if err != nil {
				t.Fatal(err)
			}
			_, err = inst.ExportedFunction("grow_and_store").Call(ctx, 1)
			if err == nil || !strings.Contains(err.Error(), "table") {
				t.Fatalf("store beyond the tracked pages: error %v, want an out of bounds table access", err)
			}
		})
	}
}

// TestInterrupt checks that setting the interrupt global from another goroutine stops an
// endless invocation with a trap, that the invocation keeps running while it is 0, and that
// the instance works again once it is back to 0.
func TestInterrupt(t *testing.T) {
	m := &modSpec{
		types:  []string{" -> ", "i32 -> i32", "i32 -> i32 i32"},
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
		if in.InterruptSites != 5+3 { // 5 function entries, 3 loops
			t.Fatalf("%d interrupt sites, want 8", in.InterruptSites)
		}
		for engine, config := range engines {
			if engine == "interpreter" && raceEnabled {
				// The interpreter reads the global in Go, racing with Set: benign, but the race
				// detector reports it. The compiler reads it in machine code.
				continue
			}
			t.Run(engine, func(t *testing.T) {
				var mk *marks
				if opts.TrackStores {
					mk = &marks{}
				}
				inst, err := newTestRuntime(t, config(), mk).Instantiate(ctx, in.Module)
				if err != nil {
					t.Fatal(err)
				}
				flag := inst.ExportedGlobal(in.InterruptGlobal).(api.MutableGlobal)
				for _, fn := range []string{"spin", "recurse", "busy"} {
					done := make(chan error, 1)
					go func() {
						_, err := inst.ExportedFunction(fn).Call(ctx)
						done <- err
					}()
					select {
					case err := <-done:
						t.Fatalf("%s returned before the interrupt: %v", fn, err)
					case <-time.After(50 * time.Millisecond):
					}
					flag.Set(1)
					select {
					case err := <-done:
						if err == nil || !strings.Contains(err.Error(), "unreachable") {
							t.Fatalf("%s: error %v, want an unreachable trap", fn, err)
						}
					case <-time.After(20 * time.Second):
						t.Fatalf("%s did not stop within 20 s of the interrupt", fn)
					}
					if flag.Get() != 1 {
						t.Fatalf("%s: the interrupt global reads %d", fn, flag.Get())
					}
					// Set while nothing runs, it stops the next call at once.
					if _, err := inst.ExportedFunction("count").Call(ctx, 10); err == nil {
						t.Fatal("count ran with the interrupt set")
					}
					flag.Set(0)
					if res, err := inst.ExportedFunction("count").Call(ctx, 1000); err != nil || res[0] != 1000 {
						t.Fatalf("after the interrupt: count returns %v, %v", res, err)
					}
				}
			})
		}
	}
}

// TestInterruptUnchanged checks that the checks change nothing else: a loop with parameters
// and results, nested loops, and a block in a loop give the original's results.
func TestInterruptUnchanged(t *testing.T) {
	m := &modSpec{
		types:  []string{"i32 -> i32", "i32 -> i32 i32", "i32 i32 -> i32"},
		memory: []byte{0, 1},
		funcs: []testFunc{
			{export: "count", locals: "i32",
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
		},
	}
	checkInstrumented(t, m.bytes(), []testCall{
		{fn: "count", args: []uint64{5}},
		{fn: "nested", args: []uint64{30}, pages: []uint32{0}, maxCalls: 1},
		{fn: "loop_value", args: []uint64{3, 4}},
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
		if got, want := tableCount(t, in.Module), map[bool]uint32{false: 1, true: 2}[track]; got != want {
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
		if (in.ClearExport != "") != track || (in.ClearAllExport != "") != track || (in.InterruptGlobal != "") != opts.Interrupt || in.StateGlobal == "" {
			t.Fatalf("%+v: exports %+v", opts, in)
		}
		// The module compiles and runs.
		var mk *marks
		if track {
			mk = &marks{}
		}
		inst, err := newTestRuntime(t, wazero.NewRuntimeConfigInterpreter(), mk).Instantiate(context.Background(), in.Module)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inst.ExportedFunction("f").Call(context.Background(), 4096); err != nil {
			t.Fatal(err)
		}
		if track && !slices.Equal(mk.sorted(), []uint32{0, 1}) {
			t.Fatalf("marked %v", mk.sorted())
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
