package wasmbin

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// MarkModule and MarkName name the host function through which the collect export reports
// the pages written: mark_dirty(base i32, mask i64) -> (), once per group of 64 pages (256
// KiB) with pages written. base is the group's first address, a multiple of 1<<18, and bit i
// of mask (never 0) is set when the 4 KiB page at base + i*4096 was written; the host records
// those pages (see [GroupPages]).
//
// PollName names the host function, in the same module, that interrupt checks call now and
// then: poll() -> i32. It returns non-zero to stop the running invocation (the guest then
// executes unreachable), zero to let it go on. Besides, a call into Go is what lets the Go
// runtime preempt the goroutine: native code never is, so without polls a long-running
// invocation would hold up every stop-the-world phase of the garbage collector, and with it
// the whole process (including the goroutine that would ask it to stop).
const (
	MarkModule = "reclave"
	MarkName   = "mark_dirty"
	PollName   = "poll"
)

// Export names of what Instrument adds. When the module already exports a name, "_" is
// appended until it is unique; [Instrumented] holds the names used.
const (
	StateGlobalName     = "__reclave_state_dirty"
	InterruptGlobalName = "__reclave_interrupt"
	CollectExportName   = "__reclave_collect_dirty"
	ClearAllExportName  = "__reclave_clear_all_dirty"
)

// TrackedPageSize is the granularity of dirty tracking in bytes.
const TrackedPageSize = 4096

// GroupPages is the number of pages one call of mark_dirty reports on: a group, whose base
// address is a multiple of GroupPages*TrackedPageSize (256 KiB). It is also the granularity of
// the summary table that the collect export scans.
//
// A host records a call mark_dirty(base, mask) as
//
//	first := base / TrackedPageSize
//	for m := mask; m != 0; m &= m - 1 {
//		page := first + uint32(bits.TrailingZeros64(m))
//		// page was written
//	}
const GroupPages = 1 << (groupShift - pageShift)

// pageShift and groupShift turn an address into the index of its page in the dirty table and
// of its group of 64 pages in the summary table.
const (
	pageShift  = 12
	groupShift = 18
)

// MaxTrackedPages is the largest [Options.TrackedPages]: 4 GiB minus one group of 64 pages
// (256 KiB): the last page's base is what an empty page cache holds (see [Instrument]), and
// no tracked page may share its group.
const MaxTrackedPages = 1<<20 - 1<<(groupShift-pageShift)

// PollBudget is how much work instrumented code does between two calls of poll: interrupt
// checks charge each pass through a loop header with the number of instructions in the
// loop's body, and each function entry with the number in the function's body, plus for every
// call in there of a leaf function (no loop, no call: it has no check of its own) the leaf's
// (the largest leaf's for call_indirect), each charge between 1 and [MaxCheckCost]; when the
// charges since the last poll reach PollBudget, the guest calls poll. About a million
// instructions: well under a millisecond of work between polls in all but contrived code (a
// loop body of more than MaxCheckCost instructions executed from end to end), while a poll (a
// call into Go) costs some 100 ns.
const PollBudget = 1 << 20

// BulkShift converts the size of a bulk instruction into budget units (see [PollBudget]):
// memory.fill, memory.copy and memory.init of n bytes cost n >> BulkShift, the table
// instructions of n entries (8 bytes each) n >> (BulkShift-3). Copying 16 bytes costs about
// what an instruction does, so a budget is about 16 MiB of memory moved, around a
// millisecond here.
const BulkShift = 4

// BulkChargeMin is the least charge, in budget units, that a bulk instruction is charged at
// all: sizes below BulkChargeMin << BulkShift (1 KiB of memory) cost less than the check, and
// a loop of them is charged by its loop check.
const BulkChargeMin = 64

// MaxCheckCost caps the charge of one interrupt check (see [PollBudget]), so that a large loop
// body that is mostly skipped (a switch inside a loop) does not make the guest poll at every
// iteration.
const MaxCheckCost = 1024

// emptyPageBase is what the page cache of instrumented code holds when it holds no page: the
// base of the last 4 KiB page of the 32-bit address space, in a group of 64 pages that no
// tracked memory reaches (see [MaxTrackedPages]).
const emptyPageBase = 1<<32 - TrackedPageSize

// stackWindow is the size of the window of marked pages the stack cache names (see
// [Instrument], "the stack"), and emptyStackWindow what the cache holds when it names none:
// the last two pages of the address space, in a group no tracked memory reaches.
const (
	stackWindow      = 2 * TrackedPageSize
	emptyStackWindow = 1<<32 - stackWindow
)

// Options selects what [Instrument] adds.
type Options struct {
	// TrackStores adds dirty-page tracking: a dirty table, the mark_dirty import and code after
	// every write to memory (see [Instrument]). TrackedPages must then be > 0: the number of
	// 4 KiB pages the linear memory can ever have (the host's cap), at most [MaxTrackedPages];
	// the dirty table gets exactly that many entries.
	TrackStores  bool
	TrackedPages uint32
	// Interrupt adds a way to stop a running invocation: the poll import and checks at every
	// loop header and at the entry of every function but leaves, that call it every
	// [PollBudget] instructions or so (see [PollName]) and stop the invocation with
	// unreachable when it says so.
	Interrupt bool
	// MaxTableEntries, when not 0, caps the entries of the module's tables together: a table
	// without a maximum, or with a larger one than its share, gets a maximum (its minimum plus
	// an equal share of what the minima leave), so that table.grow fails (returns -1) instead
	// of allocating gigabytes of references in the host; a module whose tables need more at
	// instantiation is refused ([ErrTooLarge]). Imported tables cannot be capped and are
	// refused with a cap.
	MaxTableEntries uint32
}

// Instrumented is a module rewritten by [Instrument] and what the host needs to run it.
//
// The state global: the host sets it to 0 before every invocation; a 1 after it means the
// invocation changed a table or dropped a segment, which only a new instance can undo.
//
// Dirty tracking (with [Options.TrackStores]): instrumented code records the pages it writes
// in two tables the module's own code cannot name, without calling the host. After an
// invocation (whether it returned or trapped) the host calls CollectExport, which calls
// [MarkModule].[MarkName] once per group of 64 pages with dirty pages (a mask of them) and
// leaves the tables empty for the next invocation. The host adds the pages it writes itself
// (WASI's fd_read, for example), which never reach the tables. The pages written before the
// first tracked invocation (by the start function, _initialize) are in the tables too: the
// host collects them or empties the tables with ClearAllExport before that invocation. A new
// instance starts with empty tables. The host must not collect or clear while an invocation
// runs (from a host function the guest calls, say): a function remembers the last page it
// marked, and would not mark it again. The host must cap linear memory at TrackedPages*4096
// bytes: a store beyond the cap makes the table access trap ("invalid table access"), which is
// safe but fails the invocation.
//
// Interrupt (with [Options.Interrupt]): the host provides [MarkModule].[PollName], which
// returns non-zero when the invocation must stop, say when the context of the call (poll's
// ctx argument) is done or a flag the host sets from another goroutine is. The guest then
// traps with "unreachable" within about [PollBudget] instructions, without the runtime closing
// the module: after the rewind it can serve the next invocation. To make the guest poll sooner
// the host can also set InterruptGlobal, the i32 budget global, to 0 (api.MutableGlobal.Set,
// from any goroutine, after it has made poll return non-zero): the guest reads it at the entry
// of every function that is not a leaf, after every call and at every charged bulk
// instruction; a loop without calls or bulk instructions may overwrite it and poll only when
// its own budget is spent, after at most PollBudget charged units — about a million
// instructions, or PollBudget/MaxCheckCost iterations of a loop whose body is longer than
// MaxCheckCost instructions. Poll must keep returning non-zero until
// the invocation has returned, and must return 0 again before the next one starts, whatever a
// late timer of the previous one does. A call into the host (a blocking WASI function) is not
// interrupted before it returns to the guest.
type Instrumented struct {
	// Module is the rewritten module.
	Module []byte
	// Info is what ExportMutableGlobals returns for the rewritten module, minus the globals
	// Instrument added: they are not guest state, and the host resets them itself.
	Info *Info
	// StateGlobal is the export name of the i32 global that instrumented code sets to 1 after
	// table.set, table.grow, table.fill, table.copy, table.init, elem.drop and data.drop;
	// [StateGlobalName] unless the module already exported that name. Always present.
	StateGlobal string
	// InterruptGlobal is the export name of the mutable i32 budget global of the interrupt
	// checks (the guest polls when it falls to 0 or below), [InterruptGlobalName] unless
	// taken; "" without [Options.Interrupt].
	InterruptGlobal string
	// CollectExport is the export name of the function () -> () that reports the dirty pages
	// to mark_dirty and empties the tables, and ClearAllExport that of the function () -> ()
	// that empties them without reporting; [CollectExportName] and [ClearAllExportName] unless
	// taken, "" without [Options.TrackStores].
	CollectExport, ClearAllExport string
	// StoreSites, BulkSites, StateSites and InterruptSites count the instrumented places:
	// stores and memory.fill, memory.copy and memory.init (with TrackStores, else 0); the
	// state-changing instructions above; the interrupt checks at function entries and loops.
	// SizedSites counts the instructions charged by their size (with Interrupt).
	StoreSites, BulkSites, StateSites, InterruptSites, SizedSites int
	// GroupedStores, HoistedStores and StackStores count the stores among StoreSites left
	// without a check of their own (a group's first store covers the group; a check at a
	// loop's entry covers a store whose address the loop does not change; the marks of the
	// stack global's values cover a store off one of them), LoopChecks the checks at loop
	// entries and StackSites those after global.set of the stack global (see [Instrument]).
	GroupedStores, HoistedStores, StackStores, LoopChecks, StackSites int
	// StackGlobal is the index of the stack global, the first mutable i32 global the module
	// defines, and StackSpan the stack span K: the host must mark the pages of [v, v+K) for
	// the stack global's value v at the start of every invocation, and page 0 (see
	// [Instrument], "the stack"). StackSpan is 0 when no store relies on the stack (then the
	// host marks nothing).
	StackGlobal, StackSpan uint32
}

// StackGlobalExport returns the export name of the stack global when stores rely on it
// (StackSpan > 0), "" otherwise. At the start of every invocation the host then marks the
// pages of [v, v+StackSpan) for the global's value v, and page 0, as it marks its own writes.
func (in *Instrumented) StackGlobalExport() string {
	if in.StackSpan == 0 || in.Info == nil {
		return ""
	}
	for _, g := range in.Info.MutableGlobals {
		if g.Index == in.StackGlobal {
			return g.Export
		}
	}
	return ""
}

// Instrument rewrites module so that the host learns which 4 KiB pages of linear memory each
// invocation writes (with [Options.TrackStores]), can stop a running invocation (with
// [Options.Interrupt]), and learns whether an invocation changed state it cannot restore
// (always). [Instrumented] describes what the host must do.
//
// It always adds a mutable i32 global, the state global, set to 1 after table.set,
// table.grow, table.fill, table.copy, table.init, elem.drop and data.drop.
//
// With TrackStores it adds an import of [MarkModule].[MarkName], (i32, i64) -> (), after the
// module's imports (so every defined function's index goes up, and every reference to one is
// renumbered: calls, ref.func, exports, the start function, element segments and the "name"
// section); two funcref tables after the module's tables (so the module's code cannot name
// them): the dirty table, one entry per tracked page, and the summary table, one entry per
// group of 64 pages, all null; an immutable funcref global, the marker, holding ref.func of an
// added function (declared by a declarative element segment); and three functions at the end
// of the function index space: $touch_range(d, n), which marks the pages of [d, d+n) with
// table.fill, and the collect and clear-all functions of [Instrumented]; and a mutable i32
// global, the page cache, the base of a page that is marked and whose group is marked
// (initially, and after every collect and clear-all, that of the last page of the address
// space, in a group no tracked memory reaches; an entry, once set, stays set until the host
// collects, which it does between invocations); when the module defines a mutable i32 global,
// a second one, the stack cache (see "The stack" below). Every function with a store that
// keeps a check copies the page cache into a local, $page, at its entry, and after a store of
// s bytes at effective address ea it checks
//
//	local.get $ea ; local.get $page ; i32.sub ; i32.const 4096-s ; i32.gt_u   ;; not all in $page?
//	if
//	  local.get $ea ; i32.const 12 ; i32.shr_u ; global.get $marker ; table.set $dirty
//	  [the same in $summary when ea's group is not $page's]
//	  [the same in both for ea+s-1, when the store crosses into the next page]
//	  local.get $ea ; i32.const -4096 ; i32.and ; local.tee $page ; global.set $cache
//	end
//
// unless another check covers the store (see plan.go): a group of stores off the same local,
// unchanged, the first of which dominates the others, gets one check of its hull (at most a
// page) after its first store; a store in a loop whose address local the loop never writes
// is covered by a check of its page(s) before the loop opcode. Those checks never trap: they
// skip pages past the tracked ones, where the stores they cover would trap.
//
// and after memory.fill, memory.copy and memory.init to [d, d+n) a call of $touch_range(d, n).
//
// The stack: the first mutable i32 global the module defines is its stack global G (clang's
// __stack_pointer, Go's SP; any choice is sound, this one is what compilers emit). A store off
// a value G has held during the invocation, plus a constant, is covered without a check of
// its own when its constant, offset and size add up to at most [MaxStackSpan] (see plan.go
// for what the pass accepts as such a value); K, the stack span, is the largest such sum in
// the module. Instead, every global.set G is followed by a check that the pages of [v, v+K)
// of its value v are marked, using a second cache, the stack cache global (a window of two
// marked pages; see stackSet in body.go), and the host marks at the start of every
// invocation the pages of [v, v+K) of G's value v then, and page 0 (a stack local's value
// before its first write is 0; a value whose sum wraps past 2^32 lands below K). Functions
// set G once or twice per call and store to their frames several times per set, so this
// spares most checks in code that keeps its stack in linear memory, such as Go's.
//
// With Interrupt it adds an import of [MarkModule].[PollName], () -> i32 (after mark_dirty), a
// mutable i32 global, the budget, initially [PollBudget], and a function $poll_slow at the end
// of the function index space, which calls poll, executes unreachable if it returns non-zero,
// and else sets the budget back to PollBudget. At the start of every function body but those
// of leaves (no loop, no call) and right after every loop opcode it subtracts the check's cost
// (see [PollBudget]) from the budget, and calls $poll_slow when the result is 0 or less. A
// function with loops keeps the budget in a local, $budget, that it stores to the global at
// every check and reloads after every call (reading the global at every loop iteration
// instead costs up to 28% on tight loops here):
//
//	global.get $b (entry) | local.get $budget (loop) ; i32.const cost ; i32.sub
//	local.tee $budget ; global.set $b
//	local.get $budget ; i32.const 0 ; i32.le_s
//	if  call $poll_slow ; local.set $budget  end          ;; at the entry
//	br_if $slow                                          ;; in a loop, see below
//
// Before every instruction whose work grows with an operand — memory.fill, memory.copy,
// memory.init, table.grow, table.fill, table.copy, table.init — it charges that size (see
// [BulkShift], [BulkChargeMin]) to the global and $budget and polls when the budget is spent,
// before the work is done.
//
// A loop without parameters is wrapped in three blocks so that the call is outside it: the
// check branches out, polls and starts the loop again (wazero's compiler would otherwise keep
// the loop's values on the stack around a call inside it). A loop with parameters gets the
// "if" form.
//
// Finally it exports every mutable global as [ExportMutableGlobals] does.
//
// A module without linear memory is instrumented all the same. Custom sections named
// ".debug_*" (DWARF) are dropped, since they describe code offsets the rewrite changes; other
// custom sections than "name" are kept as they are (a sourceMappingURL goes stale the same way).
// A function, table or global index out of range is an error, since in the rewritten module it
// could name what Instrument added.
//
// Errors about the module wrap [ErrMalformed], or [ErrUnsupported] for threads and atomics,
// shared memory, memory64, multi-memory, exception handling, typed function references and
// GC, relaxed SIMD, and a module that is already instrumented.
func Instrument(module []byte, opts Options) (*Instrumented, error) {
	if opts.TrackStores && (opts.TrackedPages == 0 || opts.TrackedPages > MaxTrackedPages) {
		return nil, fmt.Errorf("wasmbin: Options.TrackedPages %d: want 1 to %d with TrackStores", opts.TrackedPages, MaxTrackedPages)
	}
	secs, err := sections(module)
	if err != nil {
		return nil, err
	}
	rw := &rewriter{opts: opts, exportNames: map[string]bool{}}
	if err := rw.scan(secs); err != nil {
		return nil, err
	}
	rw.plan()
	secs, err = rw.rewrite(secs)
	if err != nil {
		return nil, err
	}
	size := 8
	for _, s := range secs {
		size += 1 + 5 + len(s.payload)
	}
	out := append(make([]byte, 0, size), module[:8]...)
	for _, s := range secs {
		out = appendSection(out, s.id, s.payload)
	}

	out, info, err := ExportMutableGlobals(out)
	if err != nil {
		return nil, fmt.Errorf("wasmbin: the instrumented module does not parse: %w", err)
	}
	info.MutableGlobals = slices.DeleteFunc(info.MutableGlobals, func(g Global) bool {
		return g.Index >= rw.stateGlobal
	})
	res := rw.res
	res.Module, res.Info = out, info
	return &res, nil
}

// Signatures of the functions Instrument adds, in the form rewriter.types holds.
var (
	sigAddrLen = string([]byte{valI32, valI32, 0}) // $touch_range
	sigMark    = string([]byte{valI32, valI64, 0}) // mark_dirty
	sigNone    = string([]byte{0})                 // $clear_all and $collect
	sigPoll    = string([]byte{0, valI32})         // poll and $poll_slow
)

// rewriter holds what Instrument learns of a module and the indices it assigns.
type rewriter struct {
	opts          Options
	types         []string // signature of each type: parameter types, 0, result types
	typeParams    []uint32 // number of parameters of each type
	funcTypes     []uint32 // type index of each defined function
	importTypes   []uint32 // type index of each imported function
	importedFuncs uint32   // also the index of the first import Instrument adds
	tables        uint32   // imported and defined
	tableMins     []uint64 // minimum of each defined table
	importedTabs  uint32   // imported tables
	globals       uint32   // imported and defined
	memories      int      // imported and defined
	exportNames   map[string]bool
	addTypes      []string // signatures of the types to add to the type section

	addImports                                []uint32 // the type indices of the imports to add
	addFuncs                                  []uint32 // the type indices of the functions to add
	shift                                     uint32   // added to defined functions' indices: len(addImports)
	markFunc, pollFunc                        uint32
	touchRangeFunc, clearAllFunc, collectFunc uint32
	slowFunc                                  uint32
	dirtyTable, summaryTable                  uint32
	stateGlobal, budgetGlobal, markerGlobal   uint32
	cacheGlobal                               uint32
	stackGlobal, stackCacheGlobal             uint32 // with hasStackGlobal
	hasStackGlobal                            bool
	stackSpan                                 uint32 // the stack span K; 0 while planning
	res                                       Instrumented
	planner                                   *planner // reused from one function body to the next
}

// funcs returns the number of functions of the original module.
func (rw *rewriter) funcs() uint32 { return rw.importedFuncs + uint32(len(rw.funcTypes)) }

// fn maps a function index of the original module to the rewritten one; an index out of range
// is an error, reported through r.
func (rw *rewriter) fn(r *reader, idx uint32) uint32 {
	if idx >= rw.funcs() {
		r.fail("function index %d out of range (%d functions)", idx, rw.funcs())
		return idx
	}
	return rw.fnName(idx)
}

// fnName maps a function index without checking its range (for the "name" section).
func (rw *rewriter) fnName(idx uint32) uint32 {
	if idx >= rw.importedFuncs {
		return idx + rw.shift
	}
	return idx
}

func (rw *rewriter) checkTable(r *reader, idx uint32) {
	if idx >= rw.tables {
		r.fail("table index %d out of range (%d tables)", idx, rw.tables)
	}
}

// scan reads the sections that say what the rewrite needs to know.
func (rw *rewriter) scan(secs []section) error {
	last := 0
	for _, s := range secs {
		if s.id == secCustom {
			continue
		}
		if s.id > secTag {
			return fmt.Errorf("%w: unknown section id %d", ErrMalformed, s.id)
		}
		if s.id == secTag {
			return fmt.Errorf("wasmbin: %w: tag section (exception handling)", ErrUnsupported)
		}
		if order(s.id) <= last {
			return fmt.Errorf("%w: section %d out of order or repeated", ErrMalformed, s.id)
		}
		last = order(s.id)
		r := &reader{b: s.payload, base: s.off}
		switch s.id {
		case secType:
			rw.scanTypes(r)
		case secImport:
			rw.scanImports(r)
		case secFunction:
			n := r.vecCount(1)
			for i := uint32(0); i < n && r.err == nil; i++ {
				if t := r.u32(); r.err == nil && int(t) >= len(rw.typeParams) {
					r.fail("function %d has type %d of %d", i, t, len(rw.typeParams))
				} else {
					rw.funcTypes = append(rw.funcTypes, t)
				}
			}
		case secTable:
			n := r.vecCount(2)
			for i := uint32(0); i < n && r.err == nil; i++ {
				r.refType()
				rw.tableMins = append(rw.tableMins, r.limitsChecked("table"))
				rw.tables++
			}
		case secMemory:
			n := r.vecCount(2)
			for i := uint32(0); i < n && r.err == nil; i++ {
				r.limitsChecked("memory")
				rw.memories++
			}
		case secGlobal:
			n := r.vecCount(3)
			for i := uint32(0); i < n && r.err == nil; i++ {
				vt, mut := r.valType(), r.byte1()
				r.constExpr()
				if vt == valI32 && mut == 1 && !rw.hasStackGlobal && rw.opts.TrackStores {
					rw.stackGlobal, rw.hasStackGlobal = rw.globals, true
				}
				rw.globals++
			}
		case secExport:
			n := r.vecCount(3)
			for i := uint32(0); i < n && r.err == nil; i++ {
				name := r.name()
				if kind := r.byte1(); kind == exportGlobal && strings.TrimRight(name, "_") == StateGlobalName {
					r.unsupported("the module is already instrumented (it exports the global %s)", name)
				}
				r.u32()
				rw.exportNames[name] = true
			}
		default:
			continue
		}
		if r.err == nil && r.off != len(r.b) {
			r.fail("%d trailing bytes", len(r.b)-r.off)
		}
		if r.err != nil {
			return wrapErr(r.err, "section %d", s.id)
		}
	}
	if rw.memories > 1 {
		return fmt.Errorf("wasmbin: %w: %d memories (multi-memory)", ErrUnsupported, rw.memories)
	}
	if c := uint64(rw.opts.MaxTableEntries); c > 0 {
		if rw.importedTabs > 0 {
			return fmt.Errorf("wasmbin: %w: the module imports %d tables, which cannot be capped", ErrTooLarge, rw.importedTabs)
		}
		var sum uint64
		for _, m := range rw.tableMins {
			sum += m
		}
		if sum > c {
			return fmt.Errorf("wasmbin: %w: the module's tables start with %d entries; the cap is %d", ErrTooLarge, sum, c)
		}
	}
	return nil
}

// tableMax returns the maximum a defined table of the given limits gets under
// [Options.MaxTableEntries] (see there).
func (rw *rewriter) tableMax(minimum, maximum uint64, hasMax bool) uint64 {
	c := uint64(rw.opts.MaxTableEntries)
	var sum uint64
	for _, m := range rw.tableMins {
		sum += m
	}
	share := minimum + (c-sum)/uint64(len(rw.tableMins))
	if hasMax && maximum < share {
		return max(maximum, minimum)
	}
	return share
}

func (rw *rewriter) scanTypes(r *reader) {
	n := r.vecCount(1)
	for i := uint32(0); i < n && r.err == nil; i++ {
		if form := r.byte1(); r.err == nil && form != funcTypeForm {
			r.unsupported("type form %#x (GC)", form)
			return
		}
		var sig []byte
		np := r.vecCount(1)
		for j := uint32(0); j < np && r.err == nil; j++ {
			sig = append(sig, r.valType())
		}
		sig = append(sig, 0) // separates the parameters from the results
		nr := r.vecCount(1)
		for j := uint32(0); j < nr && r.err == nil; j++ {
			sig = append(sig, r.valType())
		}
		rw.types = append(rw.types, string(sig))
		rw.typeParams = append(rw.typeParams, np)
	}
}

func (rw *rewriter) scanImports(r *reader) {
	n := r.vecCount(4)
	for i := uint32(0); i < n && r.err == nil; i++ {
		mod, name := r.name(), r.name()
		switch kind := r.byte1(); kind {
		case exportFunc:
			if mod == MarkModule && (name == MarkName || name == PollName) {
				r.unsupported("the module is already instrumented (it imports %s.%s)", mod, name)
			}
			if t := r.u32(); r.err == nil && int(t) >= len(rw.typeParams) {
				r.fail("imported function %s.%s has type %d of %d", mod, name, t, len(rw.typeParams))
			} else {
				rw.importTypes = append(rw.importTypes, t)
			}
			rw.importedFuncs++
		case 1: // table
			r.refType()
			r.limitsChecked("table")
			rw.tables++
			rw.importedTabs++
		case 2: // memory
			r.limitsChecked("memory")
			rw.memories++
		case exportGlobal:
			r.valType()
			r.byte1()
			rw.globals++
		case 4:
			r.unsupported("tag import (exception handling)")
		default:
			r.fail("import kind %#x", kind)
		}
	}
}

// typeIndex returns the index of a type of signature sig, adding it unless the module has it.
func (rw *rewriter) typeIndex(sig string) uint32 {
	if i := slices.Index(rw.types, sig); i >= 0 {
		return uint32(i)
	}
	i := slices.Index(rw.addTypes, sig)
	if i < 0 {
		i = len(rw.addTypes)
		rw.addTypes = append(rw.addTypes, sig)
	}
	return uint32(len(rw.types) + i)
}

// plan assigns the indices and export names of what the rewrite adds.
func (rw *rewriter) plan() {
	unique := func(name string) string {
		for rw.exportNames[name] {
			name += "_"
		}
		rw.exportNames[name] = true
		return name
	}
	track, interrupt := rw.opts.TrackStores, rw.opts.Interrupt
	// Imports, after the module's.
	addImport := func(sig string) uint32 {
		rw.addImports = append(rw.addImports, rw.typeIndex(sig))
		return rw.importedFuncs + uint32(len(rw.addImports)) - 1
	}
	if track {
		rw.markFunc = addImport(sigMark)
	}
	if interrupt {
		rw.pollFunc = addImport(sigPoll)
	}
	rw.shift = uint32(len(rw.addImports))
	// Functions, after the module's.
	addFunc := func(sig string) uint32 {
		rw.addFuncs = append(rw.addFuncs, rw.typeIndex(sig))
		return rw.funcs() + rw.shift + uint32(len(rw.addFuncs)) - 1
	}
	if track {
		rw.touchRangeFunc = addFunc(sigAddrLen)
		rw.clearAllFunc = addFunc(sigNone)
		rw.collectFunc = addFunc(sigNone)
		rw.dirtyTable, rw.summaryTable = rw.tables, rw.tables+1
	}
	if interrupt {
		rw.slowFunc = addFunc(sigPoll)
	}
	// Globals, after the module's: the state global, the budget, the marker, the page cache.
	g := rw.globals
	rw.stateGlobal, g = g, g+1
	rw.res.StateGlobal = unique(StateGlobalName)
	if interrupt {
		rw.budgetGlobal, g = g, g+1
		rw.res.InterruptGlobal = unique(InterruptGlobalName)
	}
	if track {
		rw.markerGlobal, rw.cacheGlobal, g = g, g+1, g+2
		if rw.hasStackGlobal {
			rw.stackCacheGlobal = g
			rw.res.StackGlobal = rw.stackGlobal
		}
		rw.res.CollectExport = unique(CollectExportName)
		rw.res.ClearAllExport = unique(ClearAllExportName)
	}
}

// rewrite returns the rewritten sections, adding the sections the module lacks.
func (rw *rewriter) rewrite(secs []section) ([]section, error) {
	var out []section
	have := map[byte]bool{}
	for _, s := range secs {
		have[s.id] = true
		payload, keep, err := rw.section(s.id, &reader{b: s.payload, base: s.off})
		if err != nil {
			return nil, err
		}
		if keep {
			out = append(out, section{id: s.id, payload: payload})
		}
	}
	track := rw.opts.TrackStores
	needed := map[byte]bool{
		secType: len(rw.addTypes) > 0, secImport: len(rw.addImports) > 0, secFunction: len(rw.addFuncs) > 0,
		secTable: track, secGlobal: true, secExport: true, secElement: track, secCode: len(rw.addFuncs) > 0,
	}
	for _, id := range []byte{secType, secImport, secFunction, secTable, secGlobal, secExport, secElement, secCode} {
		if needed[id] && !have[id] {
			payload, _, err := rw.section(id, &reader{b: []byte{0}}) // from an empty vector
			if err != nil {
				return nil, err
			}
			out = insertSection(out, section{id: id, payload: payload})
		}
	}
	return out, nil
}

// section returns the rewritten payload of a section, which r holds; keep is false when the
// section is to be dropped.
func (rw *rewriter) section(id byte, r *reader) (payload []byte, keep bool, err error) {
	switch id {
	case secType:
		payload = rw.typeSection(r)
	case secImport:
		payload = rw.imports(r)
	case secFunction:
		payload = rw.functions(r)
	case secTable:
		payload = rw.tableSection(r)
	case secGlobal:
		payload = rw.globalSection(r)
	case secExport:
		payload = rw.exports(r)
	case secStart:
		payload = appendU32(nil, rw.fn(r, r.u32()))
	case secElement:
		payload = rw.elements(r)
	case secCode:
		payload, err = rw.code(r)
		if err != nil {
			return nil, false, err
		}
	case secCustom:
		switch name := r.name(); {
		case r.err != nil:
		case strings.HasPrefix(name, ".debug_"):
			return nil, false, nil // DWARF describes the original code
		case name == "name":
			if payload = rw.names(r); payload == nil {
				return nil, false, nil
			}
		default:
			payload, r.off = r.b, len(r.b)
		}
	default:
		payload, r.off = r.b, len(r.b)
	}
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d trailing bytes", len(r.b)-r.off)
	}
	if r.err != nil {
		return nil, false, wrapErr(r.err, "section %d", id)
	}
	return payload, true, nil
}

// insertSection inserts s before the first non-custom section that must follow it.
func insertSection(secs []section, s section) []section {
	at := len(secs)
	for i, t := range secs {
		if t.id != secCustom && order(t.id) > order(s.id) {
			at = i
			break
		}
	}
	return slices.Insert(secs, at, s)
}

// copyVec reads the count of a vector, returns it plus extra followed by the vector's entries,
// which it copies unread.
func copyVec(r *reader, extra uint32) []byte {
	n := r.u32()
	if r.err == nil && uint64(n)+uint64(extra) > math.MaxUint32 {
		r.fail("vector of %d entries", n)
	}
	out := append(appendU32(nil, n+extra), r.b[r.off:]...)
	r.off = len(r.b)
	return out
}

// typeSection returns the type section with the types Instrument needs and the module lacks.
func (rw *rewriter) typeSection(r *reader) []byte {
	out := copyVec(r, uint32(len(rw.addTypes)))
	for _, sig := range rw.addTypes {
		params, results, _ := strings.Cut(sig, "\x00")
		out = append(out, funcTypeForm)
		out = append(appendU32(out, uint32(len(params))), params...)
		out = append(appendU32(out, uint32(len(results))), results...)
	}
	return out
}

// imports returns the import section with the imports Instrument adds last.
func (rw *rewriter) imports(r *reader) []byte {
	out := copyVec(r, uint32(len(rw.addImports)))
	for i, t := range rw.addImports {
		name := MarkName
		if rw.importedFuncs+uint32(i) == rw.pollFunc && rw.opts.Interrupt {
			name = PollName
		}
		out = appendName(out, MarkModule)
		out = appendName(out, name)
		out = append(out, exportFunc)
		out = appendU32(out, t)
	}
	return out
}

// functions returns the function section with the types of the functions Instrument adds.
func (rw *rewriter) functions(r *reader) []byte {
	out := copyVec(r, uint32(len(rw.addFuncs)))
	for _, t := range rw.addFuncs {
		out = appendU32(out, t)
	}
	return out
}

// tableSection returns the table section, with the dirty and summary tables last when
// tracking.
func (rw *rewriter) tableSection(r *reader) []byte {
	extra := uint32(0)
	if rw.opts.TrackStores {
		extra = 2
	}
	var out []byte
	if rw.opts.MaxTableEntries == 0 {
		out = copyVec(r, extra)
	} else {
		n := r.u32()
		out = appendU32(nil, n+extra)
		for i := uint32(0); i < n && r.err == nil; i++ {
			out = append(out, r.refType())
			minimum, maximum, hasMax := r.limits()
			out = append(out, 1) // limits with a maximum
			out = appendU32(out, uint32(minimum))
			out = appendU32(out, uint32(rw.tableMax(minimum, maximum, hasMax)))
		}
	}
	if !rw.opts.TrackStores {
		return out
	}
	for _, size := range []uint32{rw.opts.TrackedPages, rw.groups()} {
		out = append(out, valFuncref, 1) // limits with a maximum
		out = appendU32(out, size)
		out = appendU32(out, size)
	}
	return out
}

// groups returns the size of the summary table: one entry per 64 tracked pages.
func (rw *rewriter) groups() uint32 {
	return uint32((uint64(rw.opts.TrackedPages) + 1<<(groupShift-pageShift) - 1) >> (groupShift - pageShift))
}

// globalSection returns the global section with ref.func renumbered and the globals
// Instrument adds last: the state global, the budget, the marker, the page cache.
func (rw *rewriter) globalSection(r *reader) []byte {
	n := r.u32()
	var added []byte
	added = append(added, valI32, 1) // the state global: mutable i32 = 0
	added = appendI32Const(added, 0)
	added = append(added, opEnd)
	count := uint32(1)
	if rw.opts.Interrupt {
		added = append(added, valI32, 1) // the budget: mutable i32 = PollBudget
		added = appendI32Const(added, PollBudget)
		added = append(added, opEnd)
		count++
	}
	if rw.opts.TrackStores {
		added = append(added, valFuncref, 0, opRefFunc) // the marker: funcref = ref.func $touch_range
		added = appendU32(added, rw.touchRangeFunc)
		added = append(added, opEnd)
		added = append(added, valI32, 1) // the page cache: mutable i32 = emptyPageBase
		added = appendI32Const(added, emptyPageBase)
		added = append(added, opEnd)
		count += 2
		if rw.hasStackGlobal {
			added = append(added, valI32, 1) // the stack cache: mutable i32 = emptyStackWindow
			added = appendI32Const(added, emptyStackWindow)
			added = append(added, opEnd)
			count++
		}
	}
	out := appendU32(nil, n+count)
	fn := func(idx uint32) uint32 { return rw.fn(r, idx) }
	for i := uint32(0); i < n && r.err == nil; i++ {
		out = append(out, r.byte1(), r.byte1()) // value type, mutability
		out = r.rewriteConstExpr(out, fn)
	}
	return append(out, added...)
}

// exports returns the export section with function indices renumbered and what Instrument
// adds exported.
func (rw *rewriter) exports(r *reader) []byte {
	n := r.u32()
	type export struct {
		name      string
		kind      byte
		idx       uint32
		condition bool
	}
	added := []export{
		{rw.res.StateGlobal, exportGlobal, rw.stateGlobal, true},
		{rw.res.InterruptGlobal, exportGlobal, rw.budgetGlobal, rw.opts.Interrupt},
		{rw.res.CollectExport, exportFunc, rw.collectFunc, rw.opts.TrackStores},
		{rw.res.ClearAllExport, exportFunc, rw.clearAllFunc, rw.opts.TrackStores},
	}
	added = slices.DeleteFunc(added, func(e export) bool { return !e.condition })
	out := appendU32(nil, n+uint32(len(added)))
	for i := uint32(0); i < n && r.err == nil; i++ {
		out = appendName(out, r.name())
		kind, idx := r.byte1(), r.u32()
		switch kind {
		case exportFunc:
			idx = rw.fn(r, idx)
		case 1: // table
			rw.checkTable(r, idx)
		case exportGlobal:
			if idx >= rw.globals {
				r.fail("global index %d out of range (%d globals)", idx, rw.globals)
			}
		}
		out = append(out, kind)
		out = appendU32(out, idx)
	}
	for _, e := range added {
		out = appendName(out, e.name)
		out = append(out, e.kind)
		out = appendU32(out, e.idx)
	}
	return out
}

// elements returns the element section with function indices renumbered, in all eight
// encodings of a segment, and, when tracking, a declarative segment for the marker's
// ref.func last.
func (rw *rewriter) elements(r *reader) []byte {
	n := r.vecCount(2)
	extra := uint32(0)
	if rw.opts.TrackStores {
		extra = 1
	}
	out := appendU32(nil, n+extra)
	fn := func(idx uint32) uint32 { return rw.fn(r, idx) }
	for i := uint32(0); i < n && r.err == nil; i++ {
		start := r.off
		flags := r.u32()
		if flags > 7 {
			r.fail("element segment flags %d", flags)
			break
		}
		active, exprs := flags&1 == 0, flags&4 != 0
		if active {
			table := uint32(0)
			if flags&2 != 0 {
				table = r.u32()
			}
			rw.checkTable(r, table)
			r.constExpr() // the offset, an i32
		}
		if flags&3 != 0 { // an element kind or reference type follows
			if exprs {
				r.refType()
			} else if kind := r.byte1(); r.err == nil && kind != 0 {
				r.fail("element kind %#x", kind)
			}
		}
		out = append(out, r.b[start:r.off]...)
		m := r.vecCount(1)
		out = appendU32(out, m)
		for j := uint32(0); j < m && r.err == nil; j++ {
			if exprs {
				out = r.rewriteConstExpr(out, fn)
			} else {
				out = appendU32(out, rw.fn(r, r.u32()))
			}
		}
	}
	if rw.opts.TrackStores {
		out = append(out, 3, 0, 1) // declarative, function indices, one of them
		out = appendU32(out, rw.touchRangeFunc)
	}
	return out
}
