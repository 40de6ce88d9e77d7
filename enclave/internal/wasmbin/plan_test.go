package wasmbin

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
)

// TestStorePlan checks the stores the plan leaves without a check of their own (groups off one
// local in a basic block, stores in a loop off a local the loop does not change): every page a
// call changes is marked, in particular the pages of the stores after the first of a group
// (the hull, across page boundaries), of stores that run only in a later iteration, and of the
// first store of a group whose later store traps; a check that covers stores which never run
// does not trap where they would have (bases past the tracked pages, sums that wrap); and a
// local the loop or the block changes is not taken for the same address.
func TestStorePlan(t *testing.T) {
	const end = testMemoryPages * 65536 // the memory is as large as the tracked pages
	m := &modSpec{
		types: []string{
			"i32 -> ",         // 0
			"i32 i32 -> ",     // 1
			"i32 i32 i32 -> ", // 2
			"i32 i32 -> i32",  // 3: env.mix
		},
		imports: [][]byte{funcImport("env", "mix", 3)},
		memory:  []byte{1, testMemoryPages, testMemoryPages},
		funcs: []testFunc{
			{typ: 0, export: "group", // a byte at b, 4 bytes at b+4094, 8 at b+2000: one check
				body: `local.get 0 i32.const 1 i32.store8
				       local.get 0 i32.const 2 i32.store offset=4094
				       local.get 0 i64.const 3 i64.store offset=2000`},
			{typ: 0, export: "group_down", // the first store is not the lowest: b+3000 then b+8
				body: `local.get 0 i32.const 1 i32.store offset=3000
				       local.get 0 i64.const -1 i64.store offset=8`},
			{typ: 1, export: "group_redefined", // b is set to a between its stores
				body: `local.get 0 i32.const 1 i32.store8
				       local.get 1 local.set 0
				       local.get 0 i32.const 2 i32.store8 offset=1`},
			{typ: 1, export: "group_tee", // the address of the second store sets b
				body: `local.get 0 i32.const 1 i32.store8 offset=5
				       local.get 1 local.tee 0 i32.const 2 i32.store16 offset=7
				       local.get 0 i32.const 3 i32.store8 offset=4095`},
			{typ: 1, export: "group_stack", // the new value of b is taken before the store of the old one
				body: `local.get 0 i32.const 1 i32.store8
				       local.get 0 local.get 1 local.set 0 i32.const 2 i32.store8 offset=4095
				       local.get 0 i32.const 3 i32.store8 offset=4096`},
			{typ: 1, export: "group_call", // a call between: two groups
				body: `local.get 0 i32.const 1 i32.store8
				       local.get 0 local.get 1 call 0 drop
				       local.get 0 i32.const 2 i32.store8 offset=4095`},
			{typ: 1, export: "group_branch", // a branch out between: the second store may not run
				body: `block void
				         local.get 0 i32.const 1 i32.store8
				         local.get 1 br_if 0
				         local.get 0 i32.const 2 i32.store8 offset=4095
				       end`},
			{typ: 1, export: "group_trap", // a trap (a = 0) between
				body: `local.get 0 i32.const 1 i32.store8
				       i32.const 1 local.get 1 i32.div_u drop
				       local.get 0 i32.const 2 i32.store8 offset=4095`},
			{typ: 2, export: "loop_late", locals: "i32", // n iterations; the store runs when i = k
				body: `loop void
				         local.get 2 local.get 3 i32.eq
				         if void local.get 0 local.get 3 i32.store offset=4094 end
				         local.get 3 i32.const 1 i32.add local.tee 3 local.get 1 i32.lt_u br_if 0
				       end`},
			{typ: 2, export: "loop_two", locals: "i32", // two stores off b, one on odd, one on even i
				body: `block void loop void
				         local.get 3 local.get 1 i32.ge_u br_if 1
				         local.get 3 i32.const 1 i32.and
				         if void local.get 0 local.get 3 i32.store8 offset=7
				         else local.get 0 local.get 2 i32.store16 offset=4095 end
				         local.get 3 i32.const 1 i32.add local.set 3 br 0
				       end end`},
			{typ: 2, export: "loop_moving", locals: "i32", // b moves by a each iteration: not invariant
				body: `block void loop void
				         local.get 3 local.get 1 i32.ge_u br_if 1
				         local.get 0 local.get 3 i32.store
				         local.get 0 local.get 2 i32.add local.set 0
				         local.get 3 i32.const 1 i32.add local.set 3 br 0
				       end end`},
			{typ: 2, export: "loop_nested", locals: "i32 i32", // b moves in the outer loop only
				body: `block void loop void
				         local.get 3 local.get 1 i32.ge_u br_if 1
				         i32.const 0 local.set 4
				         loop void
				           local.get 0 local.get 4 i32.store8 offset=4095
				           local.get 4 i32.const 1 i32.add local.tee 4 i32.const 3 i32.lt_u br_if 0
				         end
				         local.get 0 local.get 2 i32.add local.set 0
				         local.get 3 i32.const 1 i32.add local.set 3 br 0
				       end end`},
			{typ: 2, export: "loop_call", locals: "i32", // a call in the loop: b is still invariant
				body: `block void loop void
				         local.get 3 local.get 1 i32.ge_u br_if 1
				         local.get 0 local.get 2 local.get 3 call 0 i32.store offset=4090
				         local.get 3 i32.const 1 i32.add local.set 3 br 0
				       end end`},
		},
	}
	calls := []testCall{
		{fn: "group", args: []uint64{4096*2 + 3}, pages: []uint32{2, 3}},
		{fn: "group", args: []uint64{2}, pages: []uint32{0, 1}},             // the second store crosses
		{fn: "group", args: []uint64{4096*3 - 2000}, pages: []uint32{2, 3}}, // the third store is in the next page
		{fn: "group", args: []uint64{4096*5 + 4000}, pages: []uint32{5, 6}},
		{fn: "group", args: []uint64{end - 1}, trap: true, pages: []uint32{testTrackedPages - 1}}, // the first store ran
		{fn: "group", args: []uint64{end - 4094}, trap: true, pages: []uint32{testTrackedPages - 1}},
		{fn: "group_down", args: []uint64{4096*7 + 1100}, pages: []uint32{7, 8}},
		{fn: "group_down", args: []uint64{4096 - 10}, pages: []uint32{0, 1}},
		{fn: "group_down", args: []uint64{end - 3004}, pages: []uint32{testTrackedPages - 1}},
		{fn: "group_redefined", args: []uint64{100, 4096*9 + 50}, pages: []uint32{0, 9}},
		{fn: "group_tee", args: []uint64{100, 4096*11 + 10}, pages: []uint32{0, 11, 12}},
		{fn: "group_stack", args: []uint64{100, 4096 * 20}, pages: []uint32{0, 1, 21}},
		{fn: "group_call", args: []uint64{4096*13 + 1, 9}, pages: []uint32{13, 14}},
		{fn: "group_branch", args: []uint64{4096*15 + 1, 0}, pages: []uint32{15, 16}},
		{fn: "group_branch", args: []uint64{4096*15 + 1, 1}},
		{fn: "group_trap", args: []uint64{4096*17 + 1, 1}, pages: []uint32{17, 18}},
		{fn: "group_trap", args: []uint64{4096*17 + 1, 0}, trap: true},
		{fn: "loop_late", args: []uint64{4096*22 + 100, 6, 5}, pages: []uint32{23}},
		{fn: "loop_late", args: []uint64{4096*22 + 1, 6, 0}, pages: []uint32{22, 23}},
		{fn: "loop_late", args: []uint64{4096*22 + 1, 6, 9}}, // the store never runs
		{fn: "loop_late", args: []uint64{end - 4094, 3, 9}},  // it never runs, and would trap
		{fn: "loop_late", args: []uint64{end - 4096, 3, 9}},  // it never runs, and would cross out
		{fn: "loop_late", args: []uint64{0xFFFFFFF0, 3, 9}},  // it never runs; b + 4094 wraps
		{fn: "loop_late", args: []uint64{end - 4094, 3, 2}, trap: true},
		{fn: "loop_two", args: []uint64{4096*24 + 4000, 4, 7}, pages: []uint32{24, 25}},
		{fn: "loop_two", args: []uint64{4096*24 + 4000, 1, 7}}, // page 25; the loop's check marks 24 too
		{fn: "loop_moving", args: []uint64{4096 * 26, 4, 4096}, pages: []uint32{26, 27, 28, 29}},
		{fn: "loop_moving", args: []uint64{4096*30 + 4092, 2, 4}, pages: []uint32{30, 31}},
		{fn: "loop_nested", args: []uint64{4096 * 32, 3, 4096}, pages: []uint32{32, 33, 34}},
		{fn: "loop_call", args: []uint64{4096 * 36, 3, 5}, pages: []uint32{36}},
		{fn: "loop_call", args: []uint64{4096*36 + 4, 3, 5}, pages: []uint32{36, 37}},
		{fn: "loop_call", args: []uint64{end - 4094, 0, 5}}, // never runs
	}
	in := checkInstrumented(t, m.bytes(), calls)
	// The plan must have applied: otherwise this test checks nothing of it.
	if in.GroupedStores < 5 || in.HoistedStores < 5 || in.LoopChecks < 4 {
		t.Fatalf("grouped %d, hoisted %d stores, %d loop checks: the plan did not apply", in.GroupedStores, in.HoistedStores, in.LoopChecks)
	}
}

// TestStorePlanDecisions checks which stores the plan leaves unchecked, on bodies whose
// answer is known.
func TestStorePlanDecisions(t *testing.T) {
	for _, tc := range []struct {
		name             string
		params, locals   string
		body             string
		grouped, hoisted int
		loopChecks       int
	}{
		{"one store", "i32", "", "local.get 0 i32.const 1 i32.store", 0, 0, 0},
		{"group of three", "i32", "", "local.get 0 i32.const 1 i32.store  local.get 0 i32.const 1 i32.store offset=8  local.get 0 i32.const 1 i32.store8 offset=100", 2, 0, 0},
		{"hull over a page", "i32", "", "local.get 0 i32.const 1 i32.store  local.get 0 i32.const 1 i32.store offset=4093", 0, 0, 0},
		{"hull of a page", "i32", "", "local.get 0 i32.const 1 i32.store  local.get 0 i32.const 1 i32.store offset=4092", 1, 0, 0},
		{"two locals", "i32 i32", "", "local.get 0 i32.const 1 i32.store  local.get 1 i32.const 1 i32.store", 0, 0, 0},
		{"set between", "i32 i32", "", "local.get 0 i32.const 1 i32.store  local.get 1 local.set 0  local.get 0 i32.const 1 i32.store", 0, 0, 0},
		{"computed address", "i32", "", "local.get 0 i32.const 4 i32.add i32.const 1 i32.store  local.get 0 i32.const 4 i32.add i32.const 1 i32.store", 0, 0, 0},
		{"call between", "i32", "", "local.get 0 i32.const 1 i32.store  call 0  local.get 0 i32.const 1 i32.store", 1, 0, 0},
		{"block between", "i32", "", "local.get 0 i32.const 1 i32.store  block void end  local.get 0 i32.const 1 i32.store", 1, 0, 0},
		{"value from a call", "i32", "", "local.get 0 i32.const 1 i32.store  local.get 0 call 1 i32.store offset=4", 1, 0, 0},
		{"in a nested block", "i32", "", "local.get 0 i32.const 1 i32.store  block void local.get 0 i32.const 1 i32.store offset=4 end", 1, 0, 0},
		{"in both arms", "i32", "", "local.get 0 i32.const 1 i32.store  local.get 0 if void local.get 0 i32.const 1 i32.store offset=4 else local.get 0 i32.const 1 i32.store offset=8 end", 2, 0, 0},
		{"then arm to else arm", "i32", "", "local.get 0 if void local.get 0 i32.const 1 i32.store else local.get 0 i32.const 1 i32.store offset=8 end", 0, 0, 0},
		{"block to after it", "i32", "", "block void local.get 0 i32.const 1 i32.store end  local.get 0 i32.const 1 i32.store", 0, 0, 0},
		{"written in a block between", "i32", "", "local.get 0 i32.const 1 i32.store  block void i32.const 0 local.set 0 end  local.get 0 i32.const 1 i32.store", 0, 0, 0},
		{"before a loop to after it", "i32", "", "local.get 0 i32.const 1 i32.store  loop void end  local.get 0 i32.const 1 i32.store offset=4", 1, 0, 0},
		{"before a loop to in it", "i32", "", "local.get 0 i32.const 1 i32.store  loop void local.get 0 i32.const 1 i32.store offset=4 end", 0, 1, 1},
		{"before a loop that writes", "i32", "", "local.get 0 i32.const 1 i32.store  loop void local.get 0 i32.const 1 i32.store offset=4 i32.const 0 local.set 0 end", 0, 0, 0},
		{"loop invariant", "i32", "", "loop void local.get 0 i32.const 1 i32.store local.get 0 i32.const 1 i32.store offset=4 end", 0, 2, 1},
		{"loop written", "i32", "", "loop void local.get 0 i32.const 1 i32.store local.get 0 local.set 0 end", 0, 0, 0},
		{"loop tee", "i32", "", "loop void local.get 0 local.tee 0 i32.const 1 i32.store end", 0, 0, 0},
		{"inner loop", "i32", "", "loop void loop void local.get 0 i32.const 1 i32.store end local.get 0 local.set 0 end", 0, 1, 1},
		{"outer loop", "i32", "", "loop void loop void local.get 0 i32.const 1 i32.store end end", 0, 1, 1},
		{"loop hull over a page", "i32", "", "loop void local.get 0 i32.const 1 i32.store local.get 0 i32.const 1 i32.store offset=5000 end", 0, 2, 2},
		{"simd", "i32", "", "local.get 0 v128.const 1 2 3 4 v128.store  local.get 0 v128.const 1 2 3 4 v128.store offset=16", 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &modSpec{
				types:  []string{" -> ", " -> i32", tc.params + " -> "},
				memory: []byte{0, 1},
				funcs: []testFunc{
					{typ: 0, body: ""},
					{typ: 1, body: "i32.const 0"},
					{typ: 2, locals: tc.locals, body: tc.body, export: "f"},
				},
			}
			in, err := Instrument(m.bytes(), optsAll)
			if err != nil {
				t.Fatal(err)
			}
			if in.GroupedStores != tc.grouped || in.HoistedStores != tc.hoisted || in.LoopChecks != tc.loopChecks {
				t.Fatalf("grouped %d, hoisted %d, loop checks %d; want %d, %d, %d",
					in.GroupedStores, in.HoistedStores, in.LoopChecks, tc.grouped, tc.hoisted, tc.loopChecks)
			}
		})
	}
}

// TestStorePlanStack checks which stores the stack covers (see plan.go), on bodies whose
// answer is known, and that every instrumented body is valid (wazero compiles it).
func TestStorePlanStack(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	for _, tc := range []struct {
		name           string
		params, locals string
		body           string
		stack, sites   int // stores the stack covers, global.set sites of the stack global
		span           uint32
	}{
		{"read into a local", "", "i32", "global.get 0 local.set 0 local.get 0 i32.const 1 i32.store offset=8", 1, 0, 12},
		{"prologue", "", "i32", "global.get 0 i32.const 16 i32.sub local.tee 0 global.set 0 local.get 0 i32.const 1 i32.store offset=4", 1, 1, 8},
		{"Go's frame address", "", "i32", "global.get 0 local.set 0 local.get 0 i64.extend_i32_u i64.const 8 i64.add i32.wrap_i64 i64.const 1 i64.store offset=16", 1, 0, 32},
		{"constant first", "", "i32", "global.get 0 local.set 0 i32.const 24 local.get 0 i32.add i32.const 1 i32.store", 1, 0, 28},
		{"the global itself", "", "", "global.get 0 i32.const 1 i32.store offset=100", 1, 0, 104},
		{"at the span", "", "", "global.get 0 i32.const 1 i32.store offset=2044", 1, 0, 2048},
		{"past the span", "", "", "global.get 0 i32.const 1 i32.store offset=2045", 0, 0, 0},
		{"below the value", "", "", "global.get 0 i32.const 8 i32.sub i32.const 1 i32.store", 0, 0, 0},
		{"a parameter", "i32", "", "global.get 0 local.set 0 local.get 0 i32.const 1 i32.store", 0, 0, 0},
		{"written otherwise too", "", "i32", "global.get 0 local.set 0 i32.const 5 local.set 0 local.get 0 i32.const 1 i32.store", 0, 0, 0},
		{"tee without the set", "", "i32", "global.get 0 i32.const 16 i32.sub local.tee 0 drop local.get 0 i32.const 1 i32.store", 0, 0, 0},
		{"tee, then another global", "", "i32", "global.get 0 i32.const 16 i32.sub local.tee 0 global.set 1 local.get 0 i32.const 1 i32.store", 0, 0, 0},
		{"two locals added", "", "i32 i32", "global.get 0 local.set 0 global.get 0 local.set 1 local.get 0 local.get 1 i32.add i32.const 1 i32.store", 0, 0, 0},
		{"never written: 0", "", "i32", "local.get 0 i32.const 1 i32.store offset=64", 1, 0, 68},
		// An i64 local's low 32 bits as an address, in a loop: not a local whose value a loop
		// check could read (it is an i64), but 0 (never written) to the stack.
		{"wrapped i64 local in a loop", "", "i64", "loop void local.get 0 i32.wrap_i64 i32.const 1 i32.store end", 1, 0, 4},
		{"wrapped i64 local written", "i64", "", "loop void local.get 0 i32.wrap_i64 i32.const 1 i32.store end", 0, 0, 0},
		{"set without stores", "", "", "global.get 0 i32.const 16 i32.sub global.set 0", 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &modSpec{
				types:   []string{tc.params + " -> "},
				memory:  []byte{0, 1},
				globals: []string{"mut i32 = i32.const 1024", "mut i32 = i32.const 0"},
				funcs:   []testFunc{{typ: 0, locals: tc.locals, body: tc.body, export: "f"}},
			}
			in, err := Instrument(m.bytes(), optsAll)
			if err != nil {
				t.Fatal(err)
			}
			if in.StackStores != tc.stack || in.StackSites != tc.sites || in.StackSpan != tc.span {
				t.Fatalf("stack stores %d, global.set sites %d, span %d; want %d, %d, %d",
					in.StackStores, in.StackSites, in.StackSpan, tc.stack, tc.sites, tc.span)
			}
			if want := map[bool]string{true: in.Info.MutableGlobals[0].Export, false: ""}[tc.span > 0]; in.StackGlobalExport() != want {
				t.Fatalf("stack global export %q, want %q", in.StackGlobalExport(), want)
			}
			if _, err := rt.CompileModule(ctx, in.Module); err != nil {
				t.Fatalf("the instrumented module does not compile: %v", err)
			}
		})
	}
}
