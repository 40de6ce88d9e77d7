package wasmbin

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// MarkModule and MarkName name the host function that tracking code calls to report writes:
// mark_dirty(addr, len i32) -> (). The host records every 4 KiB page that overlaps
// [addr, addr+len) (none when len is 0). It may be told about a page more than once in an
// invocation (page-crossing stores, bulk writes), so recording must be idempotent.
const (
	MarkModule = "reclave"
	MarkName   = "mark_dirty"
)

// Export names of what Instrument adds. When the module already exports a name, "_" is
// appended until it is unique; [Instrumented] holds the names used.
const (
	StateGlobalName     = "__reclave_state_dirty"
	InterruptGlobalName = "__reclave_interrupt"
	ClearExportName     = "__reclave_clear_dirty"
	ClearAllExportName  = "__reclave_clear_all_dirty"
)

// TrackedPageSize is the granularity of dirty tracking in bytes.
const TrackedPageSize = 4096

// MaxTrackedPages is the largest [Options.TrackedPages]: 4 GiB of 4 KiB pages.
const MaxTrackedPages = 1 << 20

// Options selects what [Instrument] adds.
type Options struct {
	// TrackStores adds dirty-page tracking: a dirty table, the mark_dirty import and code after
	// every write to memory (see [Instrument]). TrackedPages must then be > 0: the number of
	// 4 KiB pages the linear memory can ever have (the host's cap), at most [MaxTrackedPages];
	// the dirty table gets exactly that many entries.
	TrackStores  bool
	TrackedPages uint32
	// Interrupt adds an i32 global the host sets to 1 (from another goroutine) to stop the
	// running invocation: code checks it at every loop header and at every function entry and
	// executes unreachable when it is non-zero.
	Interrupt bool
}

// Instrumented is a module rewritten by [Instrument] and what the host needs to run it.
//
// The state global: the host sets it to 0 before every invocation; a 1 after it means the
// invocation changed a table or dropped a segment, which only a new instance can undo.
//
// Dirty tracking (with [Options.TrackStores]): the dirty table has one entry per 4 KiB page,
// non-null once instrumented code has reported the page to mark_dirty; stores to a page whose
// entry is non-null do not call the host (page-crossing stores always do). So the host must
// keep every non-null entry's page in its set of dirty pages: whenever it forgets pages (after
// it has rewound them, say), it must set their entries back to null by calling ClearExport
// for each of them or ClearAllExport once. That includes the writes of the module's start
// function and of anything (_initialize) run before the snapshot: clear before the first
// tracked invocation. A new instance starts with a null table. Pages the host writes itself
// (WASI's fd_read, for example) never reach the table; the host records them on its own. The
// host must cap linear memory at TrackedPages*4096 bytes: a store beyond the cap makes the
// table access trap ("out of bounds table access"), which is safe but fails the invocation.
//
// Interrupt (with [Options.Interrupt]): to stop a running invocation, set InterruptGlobal to 1
// through api.MutableGlobal.Set, from any goroutine; the guest traps ("unreachable") at its
// next loop iteration or function entry. The module is not closed: after the rewind it can be
// called again. The host must set the global back to 0 before the next invocation, after it
// has made sure that no timer of the previous invocation can still set it (time.AfterFunc's
// Stop does not wait for a callback that has started). A call into the host (a blocking WASI
// function) is not interrupted before it returns to the guest. The global reads 1 after a trap
// when the host asked to stop (the guest's own unreachable could have raced with the request).
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
	// InterruptGlobal is the export name of the mutable i32 interrupt global,
	// [InterruptGlobalName] unless taken; "" without [Options.Interrupt].
	InterruptGlobal string
	// ClearExport is the export name of the function (page i32) -> () that sets the dirty
	// table's entry for the 4 KiB page (the address >> 12) back to null, and ClearAllExport
	// that of the function () -> () that sets every entry to null; [ClearExportName] and
	// [ClearAllExportName] unless taken, "" without [Options.TrackStores].
	ClearExport, ClearAllExport string
	// StoreSites, BulkSites, StateSites and InterruptSites count the instrumented places:
	// stores and memory.fill, memory.copy and memory.init (with TrackStores, else 0); the
	// state-changing instructions above; the interrupt checks at function entries and loops.
	StoreSites, BulkSites, StateSites, InterruptSites int
}

// Instrument rewrites module so that the host learns which 4 KiB pages of linear memory each
// invocation writes (with [Options.TrackStores]), can stop a running invocation (with
// [Options.Interrupt]), and learns whether an invocation changed state it cannot restore
// (always). [Instrumented] describes what the host must do.
//
// It always adds a mutable i32 global, the state global, set to 1 after table.set,
// table.grow, table.fill, table.copy, table.init, elem.drop and data.drop.
//
// With TrackStores it adds an import of [MarkModule].[MarkName], (i32, i32) -> (), after the
// module's imports (so every defined function's index goes up by one, and every reference to
// one is renumbered: calls, ref.func, exports, the start function, element segments and the
// "name" section); a funcref table, the dirty table, after the module's tables (so the
// module's code cannot name it), of TrackedPages entries, all null; and three functions at
// the end of the function index space: $touch(ea, s), which calls mark_dirty(ea, s) and sets
// the entries of the pages of ea and ea+s-1 to ref.func $touch (declared by a declarative
// element segment), and the two clearing functions of [Instrumented]. After every store of s
// bytes at effective address ea it adds
//
//	local.get $ea ; i32.const 12 ; i32.shr_u ; table.get $dirty ; ref.is_null
//	[local.get $ea ; i32.const 4095 ; i32.and ; i32.const 4096-s ; i32.gt_u ; i32.or]  ;; s > 1
//	if  local.get $ea ; i32.const s ; call $touch  end
//
// so that the host hears of a page on the first store to it in an invocation, and of every
// store that crosses into the next page; and after memory.fill, memory.copy and memory.init to
// [d, d+n) it calls mark_dirty(d, n).
//
// With Interrupt it adds a mutable i32 global, initially 0, and the check
// "global.get $interrupt ; if ; unreachable ; end" at the start of every function body and
// right after every loop opcode.
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
	sigAddrLen = string([]byte{valI32, valI32, 0}) // mark_dirty and $touch
	sigPage    = string([]byte{valI32, 0})         // the clearing of one entry
	sigNone    = string([]byte{0})                 // the clearing of the table
)

// rewriter holds what Instrument learns of a module and the indices it assigns.
type rewriter struct {
	opts          Options
	types         []string // signature of each type: parameter types, 0, result types
	typeParams    []uint32 // number of parameters of each type
	funcTypes     []uint32 // type index of each defined function
	importedFuncs uint32   // also the index of the mark_dirty import when there is one
	tables        uint32   // imported and defined
	globals       uint32   // imported and defined
	memories      int      // imported and defined
	exportNames   map[string]bool
	addTypes      []string // signatures of the types to add to the type section

	shift                                uint32 // added to defined functions' indices: 1 with the import
	touchFunc, clearFunc, clearAllFunc   uint32
	markType, clearType, clearAllType    uint32
	dirtyTable, stateGlobal, interruptGl uint32
	res                                  Instrumented
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
				r.limitsChecked("table")
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
				r.valType()
				r.byte1()
				r.constExpr()
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
	return nil
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
			if mod == MarkModule && name == MarkName {
				r.unsupported("the module is already instrumented (it imports %s.%s)", mod, name)
			}
			if t := r.u32(); r.err == nil && int(t) >= len(rw.typeParams) {
				r.fail("imported function %s.%s has type %d of %d", mod, name, t, len(rw.typeParams))
			}
			rw.importedFuncs++
		case 1: // table
			r.refType()
			r.limitsChecked("table")
			rw.tables++
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
	rw.stateGlobal = rw.globals
	rw.res.StateGlobal = unique(StateGlobalName)
	if rw.opts.Interrupt {
		rw.interruptGl = rw.globals + 1
		rw.res.InterruptGlobal = unique(InterruptGlobalName)
	}
	if rw.opts.TrackStores {
		rw.shift = 1
		rw.markType = rw.typeIndex(sigAddrLen)
		rw.clearType = rw.typeIndex(sigPage)
		rw.clearAllType = rw.typeIndex(sigNone)
		end := rw.funcs() + 1 // the first index after the module's functions and the import
		rw.touchFunc, rw.clearFunc, rw.clearAllFunc = end, end+1, end+2
		rw.dirtyTable = rw.tables
		rw.res.ClearExport = unique(ClearExportName)
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
		secType: len(rw.addTypes) > 0, secImport: track, secFunction: track, secTable: track,
		secGlobal: true, secExport: true, secElement: track, secCode: track,
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

// imports returns the import section, with mark_dirty imported last when tracking.
func (rw *rewriter) imports(r *reader) []byte {
	if !rw.opts.TrackStores {
		return copyVec(r, 0)
	}
	out := copyVec(r, 1)
	out = appendName(out, MarkModule)
	out = appendName(out, MarkName)
	out = append(out, exportFunc)
	return appendU32(out, rw.markType)
}

// functions returns the function section, with the types of the added functions when tracking.
func (rw *rewriter) functions(r *reader) []byte {
	if !rw.opts.TrackStores {
		return copyVec(r, 0)
	}
	out := copyVec(r, 3)
	for _, t := range []uint32{rw.markType, rw.clearType, rw.clearAllType} { // $touch has mark_dirty's type
		out = appendU32(out, t)
	}
	return out
}

// tableSection returns the table section, with the dirty table last when tracking.
func (rw *rewriter) tableSection(r *reader) []byte {
	if !rw.opts.TrackStores {
		return copyVec(r, 0)
	}
	out := copyVec(r, 1)
	out = append(out, valFuncref, 1) // limits with a maximum
	out = appendU32(out, rw.opts.TrackedPages)
	return appendU32(out, rw.opts.TrackedPages)
}

// globalSection returns the global section with ref.func renumbered and the state global (and
// the interrupt global) added last.
func (rw *rewriter) globalSection(r *reader) []byte {
	n := r.u32()
	added := uint32(1)
	if rw.opts.Interrupt {
		added++
	}
	out := appendU32(nil, n+added)
	fn := func(idx uint32) uint32 { return rw.fn(r, idx) }
	for i := uint32(0); i < n && r.err == nil; i++ {
		out = append(out, r.byte1(), r.byte1()) // value type, mutability
		out = r.rewriteConstExpr(out, fn)
	}
	for range added {
		out = append(out, valI32, 1) // mutable i32
		out = appendI32Const(out, 0)
		out = append(out, opEnd)
	}
	return out
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
		{rw.res.InterruptGlobal, exportGlobal, rw.interruptGl, rw.opts.Interrupt},
		{rw.res.ClearExport, exportFunc, rw.clearFunc, rw.opts.TrackStores},
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
// encodings of a segment, and, when tracking, a declarative segment for ref.func $touch last.
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
		out = appendU32(out, rw.touchFunc)
	}
	return out
}

// code returns the code section with every function body instrumented and, when tracking, the
// bodies of the added functions last.
func (rw *rewriter) code(r *reader) ([]byte, error) {
	n := r.vecCount(2)
	if r.err == nil && int(n) != len(rw.funcTypes) {
		r.fail("%d function bodies for %d functions", n, len(rw.funcTypes))
	}
	if r.err != nil {
		return nil, wrapErr(r.err, "code section")
	}
	var bodies [][]byte
	if rw.opts.TrackStores {
		bodies = rw.helperBodies()
	}
	out := appendU32(make([]byte, 0, 2*len(r.b)), n+uint32(len(bodies))) // instrumented code is up to about twice the size
	var buf []byte                                                       // reused for the instructions of each function
	for i := uint32(0); i < n; i++ {
		idx := rw.importedFuncs + i // in the original module
		size := r.u32()
		start := r.off
		r.bytesN(int(size))
		if r.err != nil {
			return nil, wrapErr(r.err, "function %d", idx)
		}
		f := &funcRewriter{rw: rw, out: buf[:0]}
		locals, err := f.function(&reader{b: r.b[start:r.off], base: r.base + start}, rw.typeParams[rw.funcTypes[i]])
		if err != nil {
			return nil, wrapErr(err, "function %d", idx)
		}
		out = appendU32(out, uint32(len(locals)+len(f.out)))
		out = append(out, locals...)
		out = append(out, f.out...)
		buf = f.out
	}
	for _, b := range bodies {
		out = appendU32(out, uint32(len(b)))
		out = append(out, b...)
	}
	return out, nil
}

// helperBodies returns the bodies of $touch, of the clearing of one entry and of the clearing
// of the whole dirty table.
func (rw *rewriter) helperBodies() [][]byte {
	f := &funcRewriter{rw: rw}
	tableOp := func(op byte) {
		f.out = append(f.out, op)
		f.out = appendU32(f.out, rw.dirtyTable)
	}
	// $touch(ea, s): mark_dirty(ea, s); dirty[ea>>12] = dirty[(ea+s-1)>>12] = ref.func $touch
	f.out = append(f.out, 0) // no locals
	f.op(opLocalGet, 0)
	f.op(opLocalGet, 1)
	f.op(opCall, rw.importedFuncs)
	f.op(opLocalGet, 0)
	f.i32Const(12)
	f.out = append(f.out, opI32ShrU)
	f.op(opRefFunc, rw.touchFunc)
	tableOp(opTableSet)
	f.op(opLocalGet, 0)
	f.op(opLocalGet, 1)
	f.out = append(f.out, opI32Add)
	f.i32Const(1)
	f.out = append(f.out, opI32Sub)
	f.i32Const(12)
	f.out = append(f.out, opI32ShrU)
	f.op(opRefFunc, rw.touchFunc)
	tableOp(opTableSet)
	f.out = append(f.out, opEnd)
	touch := f.out

	// (page): dirty[page] = null
	f.out = []byte{0}
	f.op(opLocalGet, 0)
	f.out = append(f.out, opRefNull, valFuncref)
	tableOp(opTableSet)
	f.out = append(f.out, opEnd)
	clearOne := f.out

	// (): table.fill $dirty from 0, null, TrackedPages entries
	f.out = []byte{0}
	f.i32Const(0)
	f.out = append(f.out, opRefNull, valFuncref)
	f.i32Const(rw.opts.TrackedPages)
	f.out = append(f.out, opPrefixMisc, miscTableFill)
	f.out = appendU32(f.out, rw.dirtyTable)
	f.out = append(f.out, opEnd)
	return [][]byte{touch, clearOne, f.out}
}

// Scratch locals a function may get, one of each at most.
const (
	slotAddr = iota // the address of a store, the destination of a bulk write
	slotI32         // an i32 operand
	slotLen         // the length of a bulk write
	slotI64
	slotF32
	slotF64
	slotV128
	numSlots
)

var slotTypes = [numSlots]byte{valI32, valI32, valI32, valI64, valF32, valF64, valV128}

// funcRewriter instruments one function body.
type funcRewriter struct {
	rw        *rewriter
	out       []byte // the instrumented instructions
	slots     [numSlots]uint32
	hasSlot   [numSlots]bool
	nextLocal uint32 // index of the next local to add
	added     []byte // types of the added locals, in index order
}

type localRun struct {
	n  uint32
	vt byte
}

// function instruments the body r holds into f.out and returns its new local declarations.
func (f *funcRewriter) function(r *reader, params uint32) (locals []byte, err error) {
	var runs []localRun
	total := uint64(params)
	n := r.vecCount(2)
	for i := uint32(0); i < n && r.err == nil; i++ {
		var run localRun
		run.n = r.u32()
		run.vt = r.valType()
		runs = append(runs, run)
		total += uint64(run.n)
	}
	if r.err == nil && total+numSlots > math.MaxUint32 {
		r.fail("%d locals", total)
	}
	if r.err != nil {
		return nil, r.err
	}
	f.nextLocal = uint32(total)
	if err := f.expr(r); err != nil {
		return nil, err
	}

	for _, vt := range f.added {
		if len(runs) > 0 && runs[len(runs)-1].vt == vt {
			runs[len(runs)-1].n++
		} else {
			runs = append(runs, localRun{n: 1, vt: vt})
		}
	}
	locals = appendU32(nil, uint32(len(runs)))
	for _, run := range runs {
		locals = append(appendU32(locals, run.n), run.vt)
	}
	return locals, nil
}

// expr instruments the instructions of a function body up to its final end.
func (f *funcRewriter) expr(r *reader) error {
	rw := f.rw
	track, interrupt := rw.opts.TrackStores, rw.opts.Interrupt
	if interrupt {
		f.interruptCheck()
	}
	depth := 0
	for {
		in := r.instr()
		if r.err != nil {
			return r.err
		}
		if (in.op == opGlobalGet || in.op == opGlobalSet) && in.globalIdx >= rw.globals {
			r.fail("global index %d out of range (%d globals)", in.globalIdx, rw.globals)
			return r.err
		}
		for _, t := range in.tables[:in.ntables] {
			if rw.checkTable(r, t); r.err != nil {
				return r.err
			}
		}
		raw := r.b[in.start:in.end]
		if in.op == opCall || in.op == opReturnCall || in.op == opRefFunc {
			f.out = append(f.out, in.op)
			f.out = appendU32(f.out, rw.fn(r, in.funcIdx))
			if r.err != nil {
				return r.err
			}
		} else if vt, size, ok := in.storeAccess(); ok && track {
			f.store(raw, in.offset, vt, size)
			rw.res.StoreSites++
		} else if track && in.bulkWrite() {
			f.bulkWrite(raw)
			rw.res.BulkSites++
		} else if in.changesState() {
			f.out = append(f.out, raw...)
			f.out = append(f.out, opI32Const, 1)
			f.op(opGlobalSet, rw.stateGlobal)
			rw.res.StateSites++
		} else {
			f.out = append(f.out, raw...)
		}
		switch in.op {
		case opLoop:
			if interrupt {
				f.interruptCheck()
			}
			depth++
		case opBlock, opIf:
			depth++
		case opEnd:
			if depth == 0 {
				if r.off != len(r.b) {
					r.fail("%d bytes after the function's end", len(r.b)-r.off)
					return r.err
				}
				return nil
			}
			depth--
		}
	}
}

// interruptCheck appends global.get $interrupt ; if ; unreachable ; end. It neither pops nor
// pushes, so it fits anywhere, after a loop opcode whose parameters are on the stack too.
func (f *funcRewriter) interruptCheck() {
	f.op(opGlobalGet, f.rw.interruptGl)
	f.out = append(f.out, opIf, blockEmpty, opUnreachable, opEnd)
	f.rw.res.InterruptSites++
}

// local returns the index of the scratch local slot, adding it on first use.
func (f *funcRewriter) local(slot int) uint32 {
	if !f.hasSlot[slot] {
		f.slots[slot], f.hasSlot[slot] = f.nextLocal, true
		f.nextLocal++
		f.added = append(f.added, slotTypes[slot])
	}
	return f.slots[slot]
}

// op appends an instruction with one u32 immediate (a local, global or function index).
func (f *funcRewriter) op(op byte, idx uint32) {
	f.out = append(f.out, op)
	f.out = appendU32(f.out, idx)
}

func (f *funcRewriter) i32Const(v uint32) { f.out = appendI32Const(f.out, v) }

// appendI32Const appends i32.const v.
func appendI32Const(b []byte, v uint32) []byte {
	return appendS32(append(b, opI32Const), int32(v))
}

// store appends the store instruction raw, which writes size bytes of a value of type vt at
// its address operand plus offset, and the code that reports the write:
//
//	local.set $v ; local.tee $a ; local.get $v ; <store>
//	local.get $a ; [i32.const offset ; i32.add ; local.tee $a]   ;; $a = ea
//	i32.const 12 ; i32.shr_u ; table.get $dirty ; ref.is_null
//	[local.get $a ; i32.const 4095 ; i32.and ; i32.const 4096-size ; i32.gt_u ; i32.or]  ;; size > 1
//	if
//	  local.get $a ; i32.const size ; call $touch
//	end
//
// The store comes first, so a store that traps reports nothing; one that does not trap has an
// effective address below 2^32, so the i32 sum of address and offset does not wrap.
func (f *funcRewriter) store(raw []byte, offset uint32, vt byte, size uint32) {
	rw := f.rw
	var valSlot int
	switch vt {
	case valI32:
		valSlot = slotI32
	case valI64:
		valSlot = slotI64
	case valF32:
		valSlot = slotF32
	case valF64:
		valSlot = slotF64
	default:
		valSlot = slotV128
	}
	v, a := f.local(valSlot), f.local(slotAddr)
	f.op(opLocalSet, v)
	f.op(opLocalTee, a)
	f.op(opLocalGet, v)
	f.out = append(f.out, raw...)

	f.op(opLocalGet, a)
	if offset != 0 {
		f.i32Const(offset)
		f.out = append(f.out, opI32Add)
		f.op(opLocalTee, a)
	}
	f.i32Const(12)
	f.out = append(f.out, opI32ShrU)
	f.op(opTableGet, rw.dirtyTable)
	f.out = append(f.out, opRefIsNull)
	if size > 1 {
		f.op(opLocalGet, a)
		f.i32Const(TrackedPageSize - 1)
		f.out = append(f.out, opI32And)
		f.i32Const(TrackedPageSize - size)
		f.out = append(f.out, opI32GtU, opI32Or)
	}
	f.out = append(f.out, opIf, blockEmpty)
	f.op(opLocalGet, a)
	f.i32Const(size)
	f.op(opCall, rw.touchFunc)
	f.out = append(f.out, opEnd)
}

// bulkWrite appends memory.fill, memory.copy or memory.init (operands d, x, n) and the code
// that reports the write of [d, d+n):
//
//	local.set $n ; local.set $x ; local.tee $d ; local.get $x ; local.get $n ; <instruction>
//	local.get $d ; local.get $n ; call $mark_dirty
func (f *funcRewriter) bulkWrite(raw []byte) {
	n, x, d := f.local(slotLen), f.local(slotI32), f.local(slotAddr)
	f.op(opLocalSet, n)
	f.op(opLocalSet, x)
	f.op(opLocalTee, d)
	f.op(opLocalGet, x)
	f.op(opLocalGet, n)
	f.out = append(f.out, raw...)
	f.op(opLocalGet, d)
	f.op(opLocalGet, n)
	f.op(opCall, f.rw.importedFuncs)
}
