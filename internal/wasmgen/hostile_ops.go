package wasmgen

// The operations of hostile modules: statements (stack-neutral), value expressions (push one
// value), addresses (in bounds by construction) and sinks (consume an i32 into some state).
// Only the trap operations trap, each under a condition on the input, with two exceptions
// that are the point: memory.init and table.init of a segment that an earlier operation of
// the same invocation (or of an earlier one, if the reset missed it) dropped.

// kind is a kind of statement.
type kind int

const (
	kStore kind = iota
	kTransfer
	kGlobalSet
	kGrow
	kMemSize
	kFill
	kCopy
	kMemInit
	kDataDrop
	kTableSet
	kTableGet
	kTableGrow
	kTableFill
	kTableCopy
	kTableInit
	kElemDrop
	kTableSize
	kCallIndirect
	kFuncrefGlobal
	kLoop
	kIf
	kFdWrite
	kRandom
	kClock
	kFdClose
	kSetFlags
	kProcExit
	kArgsEnv
	kTrap
	kBaseStores
	numKinds
)

type kindInfo struct {
	weight int  // relative frequency among the kinds a module enables
	pct    int  // percentage of modules that enable the kind
	handle bool // in reclave_handle only: output, closing descriptors, exits, traps
	bulk   bool // preferred in loops (bulk operations, and base stores)
}

var kinds = [numKinds]kindInfo{
	kStore:         {weight: 10, pct: 100},
	kTransfer:      {weight: 4, pct: 100},
	kGlobalSet:     {weight: 3, pct: 100},
	kGrow:          {weight: 2, pct: 55, bulk: true},
	kMemSize:       {weight: 1, pct: 45},
	kFill:          {weight: 3, pct: 60, bulk: true},
	kCopy:          {weight: 3, pct: 60, bulk: true},
	kMemInit:       {weight: 3, pct: 70, bulk: true},
	kDataDrop:      {weight: 2, pct: 60},
	kTableSet:      {weight: 3, pct: 60},
	kTableGet:      {weight: 2, pct: 50},
	kTableGrow:     {weight: 2, pct: 60, bulk: true},
	kTableFill:     {weight: 2, pct: 50, bulk: true},
	kTableCopy:     {weight: 2, pct: 50, bulk: true},
	kTableInit:     {weight: 2, pct: 60, bulk: true},
	kElemDrop:      {weight: 1, pct: 50},
	kTableSize:     {weight: 1, pct: 50},
	kCallIndirect:  {weight: 2, pct: 60},
	kFuncrefGlobal: {weight: 2, pct: 80},
	kLoop:          {weight: 3, pct: 70},
	kIf:            {weight: 2, pct: 60},
	kFdWrite:       {weight: 2, pct: 50, handle: true},
	kRandom:        {weight: 1, pct: 50},
	kClock:         {weight: 1, pct: 50},
	kFdClose:       {weight: 2, pct: 45, handle: true},
	kSetFlags:      {weight: 1, pct: 50},
	kProcExit:      {weight: 2, pct: 50, handle: true},
	kArgsEnv:       {weight: 1, pct: 50},
	kTrap:          {weight: 7, pct: 80, handle: true},
	kBaseStores:    {weight: 8, pct: 85, bulk: true},
}

// trapKind is a way to trap.
type trapKind int

const (
	trUnreachable trapKind = iota
	trOOBStore
	trOOBLoad
	trDivZero
	trNullCall
	trWrongType
	trOOBBase // stores off a base, a later one out of bounds
)

var allTraps = []trapKind{trUnreachable, trOOBStore, trOOBLoad, trDivZero, trNullCall, trWrongType, trOOBBase}

// fctx is the function being generated.
type fctx struct {
	g      *gen
	e      emitter
	init   bool // an init function: no input, no output, no traps
	nparam uint32
	locals []valType
	loops  []uint32    // counters of the enclosing loops
	bases  []baseLocal // locals that hold a base address (see baseStores)
	inLen  uint32      // local holding the input's length (reclave_handle)
	depth  int         // nesting of loops and ifs
	budget int         // statements left
}

// baseLocal is a local that holds a base address: at most baseLimit (0 before it is set).
type baseLocal struct {
	local uint32
	loops int // the number of loops around its definition
}

// local declares a new local of type t and returns its index.
func (fc *fctx) local(t valType) uint32 {
	fc.locals = append(fc.locals, t)
	return fc.nparam + uint32(len(fc.locals)-1)
}

// weighted returns i with probability ws[i] / sum(ws).
func weighted(r *rng, ws ...int) int {
	total := 0
	for _, w := range ws {
		total += w
	}
	x := r.intn(total)
	for i, w := range ws {
		if x < w {
			return i
		}
		x -= w
	}
	return len(ws) - 1
}

// numeric returns the index of a random numeric global; mutable ones only when mut.
func (g *gen) numeric(mut bool) uint32 {
	var c []uint32
	for i, gl := range g.globals {
		if gl.t != tFuncref && (gl.mut || !mut) {
			c = append(c, uint32(i))
		}
	}
	return pick(g.r, c...)
}

func (g *gen) table() uint32 { return uint32(g.r.intn(len(g.tables))) }

// usableData returns the passive data segments that no init function may have dropped.
func (g *gen) usableData() []uint32 {
	var c []uint32
	for d, s := range g.datas {
		if s.passive && !g.initDropped[d] {
			c = append(c, uint32(d))
		}
	}
	return c
}

// usableElems returns the passive element segments that no init function may have dropped.
func (g *gen) usableElems() []uint32 {
	var c []uint32
	for k, s := range g.elems {
		if s.passive() && !g.initDroppedE[k] {
			c = append(c, uint32(k))
		}
	}
	return c
}

// stateAddr returns a fixed address where an access of w bytes is in bounds: in the scratch
// area or the input buffer, in an active data segment, or anywhere in the initial memory.
func (g *gen) stateAddr(w uint32) uint32 {
	r := g.r
	lim := g.memMin*65536 - w
	switch r.intn(3) {
	case 0:
		return g.scratch + uint32(r.intn(int(scratchSize+inCap-w+1)))
	case 1:
		var act []dataSeg
		for _, s := range g.datas {
			if !s.passive {
				act = append(act, s)
			}
		}
		if len(act) > 0 {
			s := pick(r, act...)
			return min(s.offset+uint32(r.intn(len(s.bytes))), lim)
		}
	}
	return uint32(r.intn(int(lim + 1)))
}

// inOffset returns the offset in the input buffer of an operand of w bytes, usually among
// the first bytes.
func (g *gen) inOffset(w uint32) uint32 {
	r := g.r
	switch r.intn(10) {
	case 0, 1, 2, 3, 4:
		return uint32(r.intn(8))
	case 5, 6, 7:
		return uint32(r.intn(32))
	}
	return uint32(r.intn(int(inCap - w + 1)))
}

// stmts emits up to n statements.
func (fc *fctx) stmts(n int) {
	for ; n > 0 && fc.budget > 0; n-- {
		fc.stmt()
	}
}

// usable reports whether a statement of kind k can be emitted here.
func (fc *fctx) usable(k kind) bool {
	g := fc.g
	if !g.enabled[k] || kinds[k].handle && fc.init {
		return false
	}
	switch k {
	case kLoop, kIf:
		return fc.depth < 2
	case kMemInit:
		return len(g.usableData()) > 0
	case kTableInit:
		return len(g.usableElems()) > 0
	case kDataDrop:
		return len(g.datas) > 0 && !(fc.init && len(fc.loops) > 0)
	case kElemDrop:
		return !(fc.init && len(fc.loops) > 0)
	case kFuncrefGlobal:
		return g.fg >= 0
	}
	return true
}

// pickKind chooses the next statement's kind, preferring bulk operations in loops.
func (fc *fctx) pickKind() kind {
	r := fc.g.r
	bulk := len(fc.loops) > 0 && r.chance(60)
	for {
		var ws [numKinds]int
		total := 0
		for k := range numKinds {
			if fc.usable(k) && (!bulk || kinds[k].bulk) {
				ws[k] = kinds[k].weight
				total += ws[k]
			}
		}
		if total > 0 {
			return kind(weighted(r, ws[:]...))
		}
		if !bulk {
			return kStore
		}
		bulk = false
	}
}

// stmt emits one statement.
func (fc *fctx) stmt() {
	g, r, e := fc.g, fc.g.r, &fc.e
	if g.stackOn && g.sr.chance(20) {
		g.r = g.sr // its decisions come from their own stream
		fc.stackFrame()
		g.r = r
	}
	fc.budget--
	k := fc.pickKind()
	if kinds[k].bulk && len(fc.loops) > 0 && k != kGrow && k != kTableGrow && k != kBaseStores {
		g.f.BulkInLoop = true
	}
	switch k {
	case kStore:
		fc.store()
	case kTransfer:
		fc.transfer()
	case kGlobalSet:
		gi := g.numeric(true)
		fc.value(g.globals[gi].t, 0)
		e.globalSet(gi)
	case kGrow:
		mask := pick[uint32](r, 1, 3, 7)
		fc.i32(1)
		e.u32c(mask)
		e.op(opI32And)
		e.memoryGrow()
		fc.sinkSimple()
		g.f.MemoryGrow = true
		g.f.MemoryGrowPastMax = g.f.MemoryGrowPastMax || g.memMin+mask > g.memMax
	case kMemSize:
		e.memorySize()
		fc.sinkI32()
		g.f.MemorySize = true
	case kFill:
		n := fc.bulkLen()
		fc.memDst(n)
		fc.i32(1)
		e.localGet(n)
		e.memoryFill()
		g.f.MemoryFill = true
	case kCopy:
		n := fc.bulkLen()
		fc.memDst(n)
		fc.memDst(n)
		e.localGet(n)
		e.memoryCopy()
		g.f.MemoryCopy = true
	case kMemInit:
		d := pick(r, g.usableData()...)
		s, n := fc.segRange(uint32(len(g.datas[d].bytes)), 0, false)
		fc.memDst(n)
		e.localGet(s)
		e.localGet(n)
		e.memoryInit(d)
		g.f.MemoryInit = true
	case kDataDrop:
		d := r.intn(len(g.datas))
		if !g.datas[d].passive && r.chance(70) {
			d = r.intn(len(g.datas)) // dropping an active segment does nothing: try again
		}
		fc.maybeCond(func() { e.dataDrop(uint32(d)) }, func() { g.initDropped[d] = true })
		g.f.DataDrop = true
	case kTableSet:
		t := g.table()
		fc.tableIdx(t, 1)
		fc.ref(1)
		e.tableSet(t)
		g.f.TableSet = true
	case kTableGet:
		t := g.table()
		fc.tableIdx(t, 1)
		e.tableGet(t)
		g.f.TableGet = true
		switch {
		case r.chance(50):
			e.op(opRefIsNull)
			fc.sinkI32()
		case g.fg >= 0 && r.chance(50):
			e.globalSet(uint32(g.fg))
		default:
			ref := fc.local(tFuncref)
			e.localSet(ref)
			t2 := g.table()
			fc.tableIdx(t2, 1)
			e.localGet(ref)
			e.tableSet(t2)
			g.f.TableSet = true
		}
	case kTableGrow:
		fc.tableGrow()
	case kTableFill:
		t := g.table()
		n := fc.local(tI32)
		fc.i32(1)
		e.tableSize(t)
		e.i32c(1)
		e.op(opI32Add, opI32RemU)
		e.localSet(n)
		fc.tableDst(t, n)
		fc.ref(1)
		e.localGet(n)
		e.tableFill(t)
		g.f.TableFill = true
	case kTableCopy:
		dt, st := g.table(), g.table()
		n := fc.local(tI32)
		fc.i32(1)
		e.tableSize(dt)
		e.i32c(1)
		e.op(opI32Add, opI32RemU)
		e.localSet(n)
		fc.clampToTable(n, st)
		fc.tableDst(dt, n)
		fc.tableDst(st, n)
		e.localGet(n)
		e.tableCopy(dt, st)
		g.f.TableCopy = true
	case kTableInit:
		k := pick(r, g.usableElems()...)
		t := g.table()
		s, n := fc.segRange(uint32(len(g.elems[k].funcs)), t, true)
		fc.tableDst(t, n)
		e.localGet(s)
		e.localGet(n)
		e.tableInit(k, t)
		g.f.TableInit = true
	case kElemDrop:
		k := r.intn(len(g.elems))
		fc.maybeCond(func() { e.elemDrop(uint32(k)) }, func() { g.initDroppedE[k] = true })
		g.f.ElemDrop = true
	case kTableSize:
		e.tableSize(g.table())
		fc.sinkI32()
		g.f.TableSize = true
	case kCallIndirect:
		t := g.table()
		idx := fc.local(tI32)
		fc.tableIdx(t, 1)
		e.localTee(idx)
		e.tableGet(t)
		e.op(opRefIsNull, opI32Eqz, opIf, blockVoid)
		e.localGet(idx)
		e.callIndirect(g.tyI32, t)
		fc.sinkI32()
		e.op(opEnd)
		g.f.CallIndirect = true
	case kFuncrefGlobal:
		if r.chance(50) {
			fc.ref(1)
			e.globalSet(uint32(g.fg))
		} else {
			t := g.table()
			fc.tableIdx(t, 1)
			e.globalGet(uint32(g.fg))
			e.tableSet(t)
			g.f.TableSet = true
		}
	case kLoop:
		fc.loop()
	case kIf:
		fc.depth++
		fc.cond()
		e.op(opIf, blockVoid)
		fc.stmts(1 + r.intn(3))
		if r.chance(50) {
			e.op(opElse)
			fc.stmts(1 + r.intn(2))
		}
		e.op(opEnd)
		fc.depth--
	case kFdWrite:
		n := fc.local(tI32)
		fc.i32(1)
		e.i32c(63)
		e.op(opI32And)
		e.i32c(1)
		e.op(opI32Add)
		e.localSet(n)
		s := g.scratch
		e.u32c(s + sIov)
		fc.memDst(n)
		e.mem(opI32Store, 2, 0)
		e.u32c(s + sIov)
		e.localGet(n)
		e.mem(opI32Store, 2, 4)
		e.i32c(1)
		e.u32c(s + sIov)
		e.i32c(1)
		e.u32c(s + sNum)
		e.call(g.wasi["fd_write"])
		fc.sinkI32()
		g.f.FdWriteMem = true
	case kRandom:
		n := fc.local(tI32)
		fc.i32(1)
		e.i32c(63)
		e.op(opI32And)
		e.i32c(1)
		e.op(opI32Add)
		e.localSet(n)
		fc.memDst(n)
		e.localGet(n)
		e.call(g.wasi["random_get"])
		fc.sinkI32()
		g.f.RandomGet = true
	case kClock:
		if r.chance(80) {
			e.i32c(pick[int32](r, 0, 1, 0, 1, 2, 3))
		} else {
			fc.i32(2)
			e.i32c(3)
			e.op(opI32And)
		}
		fc.i64(1)
		fc.ptr(8)
		e.call(g.wasi["clock_time_get"])
		fc.sinkI32()
		g.f.ClockTimeGet = true
	case kFdClose:
		fc.maybeCond(func() {
			fc.fd()
			e.call(g.wasi["fd_close"])
			fc.sinkI32()
		}, nil)
		g.f.FdClose = true
	case kSetFlags:
		fc.fd()
		if r.chance(50) {
			e.i32c(pick[int32](r, 0, 1, 4, 5, 0x1F, 0x20))
		} else {
			fc.i32(1)
			e.i32c(0x3F)
			e.op(opI32And)
		}
		e.call(g.wasi["fd_fdstat_set_flags"])
		fc.sinkI32()
		g.f.FdSetFlags = true
	case kProcExit:
		fc.trapCond()
		e.op(opIf, blockVoid)
		if r.chance(50) {
			e.i32c(pick[int32](r, 0, 1, 2, 3, 255))
		} else {
			fc.input32()
			e.i32c(3)
			e.op(opI32And)
		}
		e.call(g.wasi["proc_exit"])
		e.op(opEnd)
		g.f.ProcExit = true
	case kArgsEnv:
		fc.ptr(4)
		fc.ptr(4)
		e.call(g.wasi[pick(r, "args_sizes_get", "environ_sizes_get")])
		fc.sinkI32()
		g.f.ArgsEnvSizes = true
	case kTrap:
		fc.trap()
	case kBaseStores:
		fc.baseStores()
	}
}

// maybeCond emits body, in reclave_handle usually under a condition on the input, in an
// init function under a condition on state; then calls inInit (if any) in an init function.
func (fc *fctx) maybeCond(body func(), inInit func()) {
	g, e := fc.g, &fc.e
	if fc.init {
		fc.i32(1)
		e.i32c(1)
		e.op(opI32And, opIf, blockVoid)
		body()
		e.op(opEnd)
		if inInit != nil {
			inInit()
			g.f.InitDrop = true
		}
		return
	}
	if g.r.chance(85) {
		fc.trapCond()
		e.op(opIf, blockVoid)
		body()
		e.op(opEnd)
		return
	}
	body()
}

// loop emits a loop of at most 16 iterations whose body is a few statements; the counter is
// available to the body's expressions.
func (fc *fctx) loop() {
	g, r, e := fc.g, fc.g.r, &fc.e
	cnt, lim := fc.local(tI32), fc.local(tI32)
	e.i32c(0)
	e.localSet(cnt)
	if r.chance(50) {
		e.i32c(int32(1 + r.intn(16)))
	} else {
		fc.i32(1)
		e.i32c(pick[int32](r, 3, 7, 15))
		e.op(opI32And)
	}
	e.localSet(lim)
	based := g.enabled[kBaseStores] && r.chance(75)
	if based {
		// A base the loop's stores can use: invariant unless the body changes it.
		b := fc.local(tI32)
		fc.baseValue()
		e.localSet(b)
		fc.bases = append(fc.bases, baseLocal{b, len(fc.loops)})
	}
	e.op(opBlock, blockVoid, opLoop, blockVoid)
	e.localGet(cnt)
	e.localGet(lim)
	e.op(opI32GeU)
	e.opIdx(opBrIf, 1)
	fc.depth++
	fc.loops = append(fc.loops, cnt)
	if based && r.chance(70) {
		fc.baseStores()
	}
	fc.stmts(1 + r.intn(3))
	fc.loops = fc.loops[:len(fc.loops)-1]
	fc.depth--
	e.localGet(cnt)
	e.i32c(1)
	e.op(opI32Add)
	e.localSet(cnt)
	e.opIdx(opBr, 0)
	e.op(opEnd, opEnd)
	g.f.Loop = true
}

// store emits a store of a random width at an in-bounds address, often one that straddles a
// 4 KiB or 64 KiB boundary.
func (fc *fctx) store() {
	g, r, e := fc.g, fc.g.r, &fc.e
	stores := []struct {
		op    byte
		t     valType
		w     uint32
		align uint32
		flag  *bool
	}{
		{opI32Store, tI32, 4, 2, &g.f.I32Store}, {opI32Store8, tI32, 1, 0, &g.f.I32Store8},
		{opI32Store16, tI32, 2, 1, &g.f.I32Store16}, {opI64Store, tI64, 8, 3, &g.f.I64Store},
		{opI64Store8, tI64, 1, 0, &g.f.I64Store8}, {opI64Store16, tI64, 2, 1, &g.f.I64Store16},
		{opI64Store32, tI64, 4, 2, &g.f.I64Store32}, {opF32Store, tF32, 4, 2, &g.f.F32Store},
		{opF64Store, tF64, 8, 3, &g.f.F64Store},
	}
	s := pick(r, stores...)
	off, mode := fc.addr(s.w)
	fc.value(s.t, 0)
	e.mem(s.op, uint32(r.intn(int(s.align)+1)), off)
	*s.flag = true
	if s.w > 1 {
		g.f.Straddle4K = g.f.Straddle4K || mode == amStraddle4K
		g.f.Straddle64K = g.f.Straddle64K || mode == amStraddle64K
	}
}

// Base stores: runs of stores whose address operand is a local, the pattern that lets the
// instrumentation check a whole run at once or check a loop's stores once before the loop.
// A base is at most baseLimit(), and the offsets of its stores plus their widths at most
// baseRoom, so every base store is in bounds.
const baseRoom = 4096 + 64

// baseLimit returns the largest base: its stores end within the initial memory.
func (g *gen) baseLimit() uint32 { return g.memMin*65536 - baseRoom }

// baseValue pushes a base: usually just before a 4 KiB boundary (so that the stores off it
// straddle it), else anywhere up to baseLimit.
func (fc *fctx) baseValue() {
	g, r, e := fc.g, fc.g.r, &fc.e
	switch r.intn(4) {
	case 0, 1: // ((1 + x % (pages*16 - 2)) << 12) - k
		fc.i32(1)
		e.u32c(g.memMin*16 - 2)
		e.op(opI32RemU)
		e.i32c(1)
		e.op(opI32Add)
		e.i32c(12)
		e.op(opI32Shl)
		e.u32c(uint32(r.intn(73)))
		e.op(opI32Sub)
	case 2:
		fc.i32(1)
		e.u32c(g.baseLimit() + 1)
		e.op(opI32RemU)
	default:
		e.u32c(uint32(r.intn(int(g.baseLimit()) + 1)))
	}
}

// baseOffset returns an offset for a store of w bytes off a base: small, around 4 KiB, or
// anywhere in baseRoom.
func (fc *fctx) baseOffset(w uint32) uint32 {
	r := fc.g.r
	switch r.intn(4) {
	case 0, 1:
		return uint32(r.intn(24))
	case 2:
		return 4096 - w - 8 + uint32(r.intn(24))
	}
	return uint32(r.intn(int(baseRoom - w + 1)))
}

// baseStore emits a store of w bytes (a width of some store instruction) at $b + offset.
func (fc *fctx) baseStore(b, w, offset uint32) {
	fc.e.localGet(b)
	fc.storeValue(w, offset)
	fc.g.f.BaseStores = true
}

// baseStores emits a run of 2 to 7 stores off one base local: a new one, or one defined
// before an enclosing loop (the same on every iteration unless this run changes it). Between
// the stores: sometimes the base changes, an input byte decides to trap (the earlier stores
// have written), or another statement runs (a call, a branch, a bulk write).
func (fc *fctx) baseStores() {
	g, r, e := fc.g, fc.g.r, &fc.e
	var b uint32
	var outer []uint32 // bases defined outside the innermost loop
	for _, bl := range fc.bases {
		if bl.loops < len(fc.loops) {
			outer = append(outer, bl.local)
		}
	}
	switch {
	case len(outer) > 0 && r.chance(85):
		b = pick(r, outer...)
		g.f.BaseInLoop = true
		if r.chance(20) { // the loop changes its base: (b + stride) % (limit + 1)
			e.localGet(b)
			e.u32c(pick[uint32](r, 4, 8, 1000, 4096, 4100))
			e.op(opI32Add)
			e.u32c(g.baseLimit() + 1)
			e.op(opI32RemU)
			e.localSet(b)
			g.f.BaseRedefined = true
		}
	case len(fc.bases) > 0 && r.chance(50):
		b = pick(r, fc.bases...).local
	default:
		b = fc.local(tI32)
		fc.baseValue()
		e.localSet(b)
		fc.bases = append(fc.bases, baseLocal{b, len(fc.loops)})
	}
	for n := 2 + r.intn(6); n > 0; n-- {
		switch c := r.intn(20); {
		case c < 2:
			fc.baseValue()
			if r.chance(50) {
				e.localSet(b)
			} else { // the new base is the next store's address operand
				e.localTee(b)
				fc.value(tI32, 1)
				e.mem(opI32Store, 0, fc.baseOffset(4))
				g.f.BaseStores = true
				continue
			}
			g.f.BaseRedefined = true
		case c < 4 && !fc.init && g.enabled[kTrap]:
			fc.trapCond()
			e.op(opIf, blockVoid, opUnreachable, opEnd)
			g.f.TrapUnreachable = true
		case c < 5 && fc.budget > 0:
			fc.stmt()
		}
		w := pick[uint32](r, 1, 2, 4, 4, 8, 8)
		fc.baseStore(b, w, fc.baseOffset(w))
	}
}

// stackRoom is what the instrumentation covers of a store off a value of the stack global
// without a check of its own: constant + offset + width at most wasmbin.MaxStackSpan.
const stackRoom = 2048

// pastSpan bounds constant + offset + width of the stores off a value of the stack global
// that go past the span the instrumentation covers (they keep their own checks).
const pastSpan = 4200

// stackFrame emits what clang's and Go's code does with its stack pointer, a mutable i32
// global (global 0 here; the instrumentation takes the first one a module defines): it may
// set the global to an in-bounds base from the input (always in init code, whose stores must
// not trap) or, outside init, to a hostile value near the end of memory or of the address
// space or near 0 (then the sums wrap, into page 0), or leave it as it is (what the init or
// an earlier invocation made it); then a prologue (global.get 0 ; i32.const n ; i32.sub ;
// local.tee $sp ; global.set 0) or a read (global.get 0 ; local.set $sp); sometimes a write
// of $sp with an in-bounds base the global never held (its stores then keep their checks);
// 1 to 5 stores off $sp or off global.get 0, plus a constant in the offset, added by
// i32.add, or added as Go's code does (i64.extend_i32_u ; i64.const ; i64.add ;
// i32.wrap_i64), their constant, offset and width at most stackRoom, or, now and then off an
// in-bounds base, up to pastSpan (past the span: checked) or below it (i32.sub of a
// constant: checked), chosen so that the store is in bounds when the global's value is
// known; and sometimes an epilogue that moves the global back.
func (fc *fctx) stackFrame() {
	g, r, e := fc.g, fc.g.r, &fc.e
	sp := fc.local(tI32)
	memEnd := g.memMin * 65536
	known := true
	var base uint32 // the global's value when known, below or above memEnd when hostile
	switch {
	case fc.init || r.chance(80): // x % (memEnd - 2*stackRoom - pastSpan) + stackRoom
		fc.i32(1)
		e.u32c(memEnd - 2*stackRoom - pastSpan)
		e.op(opI32RemU)
		e.u32c(stackRoom)
		e.op(opI32Add)
		e.globalSet(0)
		base = stackRoom // the least it can be
	case r.chance(75):
		base = pick(r, memEnd-uint32(r.intn(stackRoom)), -uint32(1+r.intn(1024)), uint32(r.intn(64)))
		e.u32c(base)
		e.globalSet(0)
		g.f.StackHostile = true
	default: // the value the global has: what the init left (in bounds when it made a frame)
		known = false
	}
	n := uint32(0)
	if r.chance(60) {
		n = uint32(r.intn(1024))
		e.globalGet(0)
		e.u32c(n)
		e.op(opI32Sub)
		e.localTee(sp)
		e.globalSet(0)
	} else {
		e.globalGet(0)
		e.localSet(sp)
	}
	notOnly := r.chance(8)
	if notOnly { // an in-bounds base the global never held; stores off $sp only
		fc.baseValue()
		e.localSet(sp)
		g.f.StackNotOnly = true
		base, n = stackRoom, 0
	}
	// [lo, hi): where constant + offset + width may lie for the store to be in bounds.
	lo, hi := uint32(0), uint32(stackRoom)
	switch v := base - n; {
	case !known || fc.init:
	case v >= ^uint32(stackRoom-1): // wraps: the store lands at v + constant + offset - 2^32
		lo = -v
	case v > memEnd-stackRoom && v <= memEnd:
		hi = memEnd - v
	}
	for k := 1 + r.intn(5); k > 0; k-- {
		w := pick[uint32](r, 1, 2, 4, 8)
		from, room := lo, hi
		if base == stackRoom && r.chance(10) { // off an in-bounds base: checked, in bounds
			from, room = 0, pastSpan
		}
		if room < from+w {
			from, room = 0, stackRoom // out of bounds whatever: it traps
		}
		sum := from + uint32(r.intn(int(room-w-from)+1)) // constant + offset
		// A sum that must wrap needs the constant to reach 2^32 (lo of it): the effective
		// address (operand + offset) does not wrap, it traps.
		delta := from + uint32(r.intn(int(sum-from)+1))
		off := sum - delta
		if !notOnly && r.chance(30) {
			e.globalGet(0)
		} else {
			e.localGet(sp)
		}
		if base == stackRoom && !notOnly && r.chance(10) { // below the frame: $sp - c, c < 1025 <= $sp
			e.u32c(1 + uint32(r.intn(1024)))
			e.op(opI32Sub)
			fc.storeValue(w, uint32(r.intn(64)))
			continue
		}
		switch r.intn(3) {
		case 0:
			if from > 0 {
				e.u32c(delta)
				e.op(opI32Add)
				break
			}
			off += delta
		case 1:
			e.u32c(delta)
			e.op(opI32Add)
		default:
			e.op(opI64ExtendI32U)
			e.i64c(int64(delta))
			e.op(opI64Add, opI32WrapI64)
		}
		fc.storeValue(w, off)
	}
	if r.chance(50) {
		e.localGet(sp)
		e.u32c(n)
		e.op(opI32Add)
		e.globalSet(0)
	}
	g.f.StackFrames = true
}

// stackEntry emits 1 to 4 stores off the value global 0 has when the invocation starts
// (global.get 0 plus a constant, nothing having set it yet): the value a rewind restored,
// whose pages the host must mark, since no global.set in the invocation marks them. Global 0
// starts in bounds (with stackStart), unless the init code moved it.
func (fc *fctx) stackEntry() {
	r, e := fc.g.r, &fc.e
	for k := 1 + r.intn(4); k > 0; k-- {
		w := pick[uint32](r, 1, 2, 4, 8)
		delta := uint32(r.intn(int(stackRoom - w + 1)))
		off := uint32(r.intn(int(stackRoom - w - delta + 1)))
		e.globalGet(0)
		if delta != 0 {
			e.u32c(delta)
			e.op(opI32Add)
		}
		fc.storeValue(w, off)
	}
	fc.g.f.StackEntry = true
}

// storeValue emits a value and a store of w bytes (a width of some store instruction) of it at
// the address on the operand stack plus offset.
func (fc *fctx) storeValue(w, offset uint32) {
	r, e := fc.g.r, &fc.e
	type st struct {
		op byte
		t  valType
	}
	var c []st
	switch w {
	case 1:
		c = []st{{opI32Store8, tI32}, {opI64Store8, tI64}}
	case 2:
		c = []st{{opI32Store16, tI32}, {opI64Store16, tI64}}
	case 4:
		c = []st{{opI32Store, tI32}, {opI64Store32, tI64}, {opF32Store, tF32}}
	default:
		c = []st{{opI64Store, tI64}, {opF64Store, tF64}}
	}
	s := pick(r, c...)
	fc.value(s.t, 1)
	e.mem(s.op, 0, offset)
}

// transfer reads state (memory, a global, a table) and writes it into other state.
func (fc *fctx) transfer() {
	g, r, e := fc.g, fc.g.r, &fc.e
	switch r.intn(5) {
	case 0, 1:
		fc.load32()
	case 2:
		gi := g.numeric(false)
		e.globalGet(gi)
		fc.toI32(g.globals[gi].t)
	case 3:
		e.tableSize(g.table())
	case 4:
		t := g.table()
		fc.tableIdx(t, 2)
		e.tableGet(t)
		e.op(opRefIsNull)
	}
	fc.sinkI32()
}

// tableGrow emits table.grow by a small delta (it fails past the maximum) and keeps the result.
func (fc *fctx) tableGrow() {
	g, r, e := fc.g, fc.g.r, &fc.e
	t := g.table()
	mask := pick[int32](r, 1, 3, 7)
	if !g.tables[t].hasMax {
		mask = 3
	}
	fc.ref(1)
	fc.i32(1)
	e.i32c(mask)
	e.op(opI32And)
	e.tableGrow(t)
	fc.sinkSimple()
	g.f.TableGrow = true
	g.f.InitTableGrow = g.f.InitTableGrow || fc.init
}

// bulkLen returns a new local holding a bulk operation's length: up to 64 KiB - 1, or
// 4 KiB - 1 inside loops.
func (fc *fctx) bulkLen() uint32 {
	r, e := fc.g.r, &fc.e
	n := fc.local(tI32)
	fc.i32(1)
	if len(fc.loops) > 0 {
		e.i32c(pick[int32](r, 0x3F, 0xFF, 0xFFF))
	} else {
		e.i32c(pick[int32](r, 0x3F, 0xFFF, 0xFFFF))
	}
	e.op(opI32And)
	e.localSet(n)
	return n
}

// memDst pushes an address a where [a, a+n) is in bounds, n in local n (n < 64 KiB).
func (fc *fctx) memDst(n uint32) {
	e := &fc.e
	fc.i32(1)
	e.memBytes()
	e.localGet(n)
	e.op(opI32Sub)
	e.i32c(1)
	e.op(opI32Add, opI32RemU)
}

// tableDst pushes an index i where [i, i+n) is in table t, n in local n (n <= size).
func (fc *fctx) tableDst(t, n uint32) {
	e := &fc.e
	fc.i32(1)
	e.tableSize(t)
	e.localGet(n)
	e.op(opI32Sub)
	e.i32c(1)
	e.op(opI32Add, opI32RemU)
}

// clampToTable sets local n to min(n, size of table t).
func (fc *fctx) clampToTable(n, t uint32) {
	e := &fc.e
	e.localGet(n)
	e.tableSize(t)
	e.localGet(n)
	e.tableSize(t)
	e.op(opI32LtU, opSelect)
	e.localSet(n)
}

// segRange returns locals s and n with s+n <= size (a segment's length), and n no more than
// table t's size when forTable.
func (fc *fctx) segRange(size, t uint32, forTable bool) (s, n uint32) {
	e := &fc.e
	s, n = fc.local(tI32), fc.local(tI32)
	fc.i32(1)
	e.u32c(size + 1)
	e.op(opI32RemU)
	e.localSet(s)
	fc.i32(1)
	e.u32c(size)
	e.localGet(s)
	e.op(opI32Sub)
	e.i32c(1)
	e.op(opI32Add, opI32RemU)
	e.localSet(n)
	if forTable {
		fc.clampToTable(n, t)
	}
	return s, n
}

// tableIdx pushes an index in bounds of table t (tables never have size 0).
func (fc *fctx) tableIdx(t uint32, depth int) {
	fc.i32(depth)
	fc.e.tableSize(t)
	fc.e.op(opI32RemU)
}

// fd pushes a descriptor: 0, 1, 2, or one taken from the input.
func (fc *fctx) fd() {
	r, e := fc.g.r, &fc.e
	switch weighted(r, 4, 3, 2, 1) {
	case 3:
		if !fc.init {
			fc.input32()
			e.i32c(3)
			e.op(opI32And)
			return
		}
		e.i32c(0)
	default:
		e.i32c(int32(weighted(r, 4, 3, 2)))
	}
}

// Address modes.
type addrMode int

const (
	amStatic addrMode = iota
	amDynamic
	amStraddle4K
	amStraddle64K
)

// addr pushes an address at which an access of w bytes (with the offset returned, for the
// memarg) is in bounds.
func (fc *fctx) addr(w uint32) (uint32, addrMode) {
	g, r, e := fc.g, fc.g.r, &fc.e
	k := uint32(r.intn(2)) // how far before the boundary
	if w > 1 {
		k = 1 + uint32(r.intn(int(w-1)))
	}
	switch r.intn(10) {
	case 0, 1, 2:
		a := g.stateAddr(w)
		var off uint32
		if r.chance(40) {
			off = uint32(r.intn(int(min(a, 300)) + 1))
		}
		e.u32c(a - off)
		return off, amStatic
	case 3, 4, 5:
		fc.i32(1)
		e.memBytes()
		e.u32c(w - 1)
		e.op(opI32Sub, opI32RemU)
		return 0, amDynamic
	case 6, 7: // ((1 + x % (pages*16 - 1)) << 12) - k
		fc.i32(1)
		e.memorySize()
		e.i32c(4)
		e.op(opI32Shl)
		e.i32c(1)
		e.op(opI32Sub, opI32RemU)
		e.i32c(1)
		e.op(opI32Add)
		e.i32c(12)
		e.op(opI32Shl)
		e.u32c(k)
		e.op(opI32Sub)
		return 0, amStraddle4K
	}
	// ((1 + x % max(pages-1, 1)) << 16) - (pages == 1) << 12 - k: a 64 KiB boundary inside
	// memory, or 60 KiB with one page.
	fc.i32(1)
	e.memorySize()
	e.i32c(1)
	e.op(opI32Sub)
	e.memorySize()
	e.i32c(1)
	e.op(opI32Eq, opI32Add, opI32RemU)
	e.i32c(1)
	e.op(opI32Add)
	e.i32c(16)
	e.op(opI32Shl)
	e.memorySize()
	e.i32c(1)
	e.op(opI32Eq)
	e.i32c(12)
	e.op(opI32Shl, opI32Sub)
	e.u32c(k)
	e.op(opI32Sub)
	return 0, amStraddle64K
}

// ptr pushes an address at which w bytes are in bounds, for a host function.
func (fc *fctx) ptr(w uint32) {
	if off, _ := fc.addr(w); off != 0 {
		fc.e.u32c(off)
		fc.e.op(opI32Add)
	}
}

// sinkI32 consumes the i32 on the stack into some state: a global, memory, a table's size or
// a slot, the memory's size, or a segment (dropped when the value is odd).
func (fc *fctx) sinkI32() {
	g, r, e := fc.g, fc.g.r, &fc.e
	tgrow, cdrop := 2, 1
	if fc.init {
		tgrow, cdrop = 5, 2
	}
	if fc.init && len(fc.loops) > 0 {
		cdrop = 0
	}
	switch weighted(r, 1, 3, 3, 2, tgrow, 1, cdrop, 1) {
	case 0:
		e.op(opDrop)
	case 1:
		gi := g.numeric(true)
		fc.fromI32(g.globals[gi].t)
		e.globalSet(gi)
	case 2:
		tmp := fc.local(tI32)
		e.localSet(tmp)
		e.u32c(g.stateAddr(4))
		e.localGet(tmp)
		e.mem(opI32Store, 0, 0)
		g.f.I32Store = true
	case 3:
		tmp := fc.local(tI32)
		e.localSet(tmp)
		off, _ := fc.addr(4)
		e.localGet(tmp)
		e.mem(opI32Store, 0, off)
		g.f.I32Store = true
	case 4: // the value becomes a table's size
		tmp := fc.local(tI32)
		e.localSet(tmp)
		t := g.table()
		fc.ref(2)
		e.localGet(tmp)
		if g.tables[t].hasMax {
			e.i32c(7)
		} else {
			e.i32c(3)
		}
		e.op(opI32And)
		e.tableGrow(t)
		fc.sinkSimple()
		g.f.TableGrow = true
		g.f.InitTableGrow = g.f.InitTableGrow || fc.init
	case 5: // the value becomes the memory's size
		e.i32c(1)
		e.op(opI32And)
		e.memoryGrow()
		e.op(opDrop)
		g.f.MemoryGrow = true
		g.f.MemoryGrowPastMax = g.f.MemoryGrowPastMax || g.memMin == g.memMax
	case 6: // the value decides whether a segment survives
		e.i32c(1)
		e.op(opI32And, opIf, blockVoid)
		if len(g.datas) > 0 && r.chance(60) {
			d := r.intn(len(g.datas))
			e.dataDrop(uint32(d))
			g.f.DataDrop = true
			if fc.init {
				g.initDropped[d] = true
			}
		} else {
			k := r.intn(len(g.elems))
			e.elemDrop(uint32(k))
			g.f.ElemDrop = true
			if fc.init {
				g.initDroppedE[k] = true
			}
		}
		e.op(opEnd)
		g.f.InitDrop = g.f.InitDrop || fc.init
	case 7: // the value picks a table slot
		tmp := fc.local(tI32)
		e.localSet(tmp)
		t := g.table()
		e.localGet(tmp)
		e.tableSize(t)
		e.op(opI32RemU)
		fc.ref(2)
		e.tableSet(t)
		g.f.TableSet = true
	}
}

// sinkSimple consumes an i32 (an operation's result) into a global or memory, or drops it.
func (fc *fctx) sinkSimple() {
	g, e := fc.g, &fc.e
	switch fc.g.r.intn(3) {
	case 0:
		e.op(opDrop)
	case 1:
		e.globalSet(0) // always a mutable i32
	case 2:
		tmp := fc.local(tI32)
		e.localSet(tmp)
		e.u32c(g.stateAddr(4))
		e.localGet(tmp)
		e.mem(opI32Store, 0, 0)
		g.f.I32Store = true
	}
}

// cond pushes a condition: on an input byte (reclave_handle) or on state.
func (fc *fctx) cond() {
	g, r, e := fc.g, fc.g.r, &fc.e
	if !fc.init && r.chance(70) {
		e.u32c(g.in + g.inOffset(1))
		e.mem(opI32Load8U, 0, 0)
	} else {
		fc.i32(1)
	}
	mask := pick[int32](r, 1, 3, 7, 15, 255)
	e.i32c(mask)
	e.op(opI32And)
	e.i32c(int32(r.intn(int(mask) + 1)))
	e.op(pick[byte](r, opI32Eq, opI32Ne, opI32LtU, opI32GtU))
}

// trapCond pushes a condition on an input byte that holds for 1/4 to 1/16 of its values.
func (fc *fctx) trapCond() {
	g, r, e := fc.g, fc.g.r, &fc.e
	e.u32c(g.in + g.inOffset(1))
	e.mem(opI32Load8U, 0, 0)
	mask := pick[int32](r, 3, 7, 15)
	e.i32c(mask)
	e.op(opI32And)
	e.i32c(int32(r.intn(int(mask) + 1)))
	e.op(opI32Eq)
}

// trap emits a trap under a condition on the input.
func (fc *fctx) trap() {
	g, r, e := fc.g, fc.g.r, &fc.e
	tk := pick(r, g.traps...)
	if tk == trDivZero && r.chance(40) {
		// No branch: the divisor is an input byte's low bit.
		fc.i32(1)
		e.u32c(g.in + g.inOffset(1))
		e.mem(opI32Load8U, 0, 0)
		e.i32c(1)
		e.op(opI32And, opI32RemU, opDrop)
		g.f.TrapDivZero = true
		return
	}
	fc.trapCond()
	e.op(opIf, blockVoid)
	switch tk {
	case trUnreachable:
		e.op(opUnreachable)
		g.f.TrapUnreachable = true
	case trOOBBase:
		// Stores off one base, the first in bounds (it must be reset), a later one past the
		// end: [size-k-w0, size-k), then at size-k+j (j >= k).
		b := fc.local(tI32)
		k := uint32(r.intn(9))
		w0 := pick[uint32](r, 1, 2, 4, 8)
		e.memBytes()
		e.u32c(k + w0)
		e.op(opI32Sub)
		e.localSet(b)
		fc.baseStore(b, w0, 0)
		if r.chance(50) {
			fc.baseStore(b, 1, uint32(r.intn(int(w0))))
		}
		fc.baseStore(b, pick[uint32](r, 1, 4, 8), w0+k+uint32(r.intn(3)))
		g.f.BaseOOB, g.f.TrapOOBStore = true, true
	case trOOBStore:
		if r.chance(30) {
			// memory.fill over the end: [size-k, size-k+k+1+j)
			k := int32(r.intn(17))
			e.memBytes()
			e.i32c(k)
			e.op(opI32Sub)
			fc.i32(1)
			e.i32c(k + 1 + int32(r.intn(64)))
			e.memoryFill()
		} else {
			op, t, w := pick[byte](r, opI32Store, opI64Store, opI32Store8, opI64Store16), tI32, uint32(4)
			switch op {
			case opI64Store:
				t, w = tI64, 8
			case opI32Store8:
				w = 1
			case opI64Store16:
				t, w = tI64, 2
			}
			e.memBytes()
			e.u32c(uint32(r.intn(int(w))))
			e.op(opI32Sub)
			fc.value(t, 1)
			e.mem(op, 0, 0)
		}
		g.f.TrapOOBStore = true
	case trOOBLoad:
		if r.chance(50) {
			e.memBytes()
			e.u32c(uint32(r.intn(4)))
			e.op(opI32Sub)
			e.mem(opI32Load, 0, 0)
		} else {
			e.i32c(-1 - int32(r.intn(4)))
			e.mem(opI64Load, 0, uint32(r.intn(16)))
			e.op(opI32WrapI64)
		}
		e.op(opDrop)
		g.f.TrapOOBLoad = true
	case trDivZero:
		switch r.intn(3) {
		case 0:
			fc.i32(1)
			e.i32c(0)
			e.op(opI32DivU)
		case 1:
			fc.i64(1)
			e.i64c(0)
			e.op(opI64DivS, opI32WrapI64)
		case 2: // overflow
			e.i32c(-0x80000000)
			e.i32c(-1)
			e.op(opI32DivS)
		}
		e.op(opDrop)
		g.f.TrapDivZero = true
	case trNullCall:
		t := g.table()
		if r.chance(50) { // past the end
			e.tableSize(t)
			e.i32c(int32(r.intn(3)))
			e.op(opI32Add)
		} else { // a slot made null
			idx := fc.local(tI32)
			fc.tableIdx(t, 1)
			e.localTee(idx)
			e.refNull()
			e.tableSet(t)
			e.localGet(idx)
		}
		e.callIndirect(g.tyI32, t)
		e.op(opDrop)
		g.f.TrapNullCall = true
	case trWrongType:
		t := g.table()
		idx := fc.local(tI32)
		fc.tableIdx(t, 1)
		e.localTee(idx)
		e.refFunc(g.fnElem0 + uint32(r.intn(len(g.elemConsts))))
		e.tableSet(t)
		e.localGet(idx)
		e.callIndirect(g.tyVoid, t)
		g.f.TrapWrongType = true
	}
	e.op(opEnd)
}

// value pushes a value of type t.
func (fc *fctx) value(t valType, depth int) {
	switch t {
	case tI32:
		fc.i32(depth)
	case tI64:
		fc.i64(depth)
	case tF32:
		fc.f32(depth)
	case tF64:
		fc.f64(depth)
	}
}

// input32 pushes input bytes (reclave_handle) or memory bytes (init functions) as an i32.
func (fc *fctx) input32() {
	g, r, e := fc.g, fc.g.r, &fc.e
	if fc.init {
		fc.load32()
		return
	}
	l := pick(r, []uint32{opI32Load8U, 1}, []uint32{opI32Load16U, 2}, []uint32{opI32Load, 4}, []uint32{opI32Load8S, 1})
	k := g.inOffset(l[1])
	if r.chance(50) {
		e.u32c(g.in + k)
		e.mem(byte(l[0]), 0, 0)
	} else {
		e.u32c(g.in)
		e.mem(byte(l[0]), 0, k)
	}
}

// load32 pushes bytes of memory at a fixed address as an i32.
func (fc *fctx) load32() {
	g, r, e := fc.g, fc.g.r, &fc.e
	l := pick(r, []uint32{opI32Load8U, 1}, []uint32{opI32Load16U, 2}, []uint32{opI32Load, 4})
	e.u32c(g.stateAddr(l[1]))
	e.mem(byte(l[0]), 0, 0)
}

// i32 pushes an i32 that depends on the input (reclave_handle) or on state; depth bounds the
// nesting.
func (fc *fctx) i32(depth int) {
	g, r, e := fc.g, fc.g.r, &fc.e
	leaf := depth >= 3
	for {
		switch c := r.intn(24); {
		case c < 3:
			e.i32c(g.constI32())
		case c < 10:
			fc.input32()
		case c < 12:
			fc.load32()
		case c < 14:
			gi := g.numeric(false)
			e.globalGet(gi)
			fc.toI32(g.globals[gi].t)
		case c < 15:
			e.memorySize()
		case c < 16:
			e.tableSize(g.table())
		case c < 17:
			if leaf {
				continue
			}
			t := g.table()
			fc.tableIdx(t, depth+1)
			e.tableGet(t)
			e.op(opRefIsNull)
			g.f.TableGet = true
		case c < 19:
			switch {
			case len(fc.loops) > 0:
				e.localGet(pick(r, fc.loops...))
			case !fc.init:
				e.localGet(fc.inLen)
			default:
				continue
			}
		default:
			if leaf {
				continue
			}
			if r.chance(25) {
				fc.i32(depth + 1)
				e.op(pick[byte](r, opI32Eqz, opI32Popcnt, opI32Clz, opI32Extend8S))
				break
			}
			fc.i32(depth + 1)
			fc.i32(depth + 1)
			op := pick[byte](r, opI32Add, opI32Sub, opI32Mul, opI32Xor, opI32And, opI32Or, opI32Shl, opI32ShrU, opI32Rotl, opI32DivU, opI32RemU)
			if op == opI32DivU || op == opI32RemU {
				e.i32c(1)
				e.op(opI32Or) // never zero
			}
			e.op(op)
		}
		return
	}
}

// i64 pushes an i64.
func (fc *fctx) i64(depth int) {
	g, r, e := fc.g, fc.g.r, &fc.e
	for {
		switch r.intn(12) {
		case 0, 1:
			e.i64c(int64(r.u64()))
		case 2, 3:
			fc.i32(depth + 1)
			e.op(opI64ExtendI32U)
		case 4, 5:
			l := pick(r, []uint32{opI64Load, 8}, []uint32{opI64Load8U, 1}, []uint32{opI64Load16S, 2}, []uint32{opI64Load32U, 4})
			if fc.init {
				e.u32c(g.stateAddr(l[1]))
			} else {
				e.u32c(g.in + g.inOffset(l[1]))
			}
			e.mem(byte(l[0]), 0, 0)
		case 6:
			e.u32c(g.stateAddr(8))
			e.mem(opI64Load, 0, 0)
		case 7, 8:
			gi := g.numeric(false)
			e.globalGet(gi)
			fc.toI64(g.globals[gi].t)
		case 9:
			if depth >= 2 {
				continue
			}
			fc.i32(depth + 1)
			e.op(opI64ExtendI32U)
			e.i64c(32)
			e.op(opI64Shl)
			fc.i32(depth + 1)
			e.op(opI64ExtendI32U, opI64Or)
		default:
			if depth >= 2 {
				continue
			}
			fc.i64(depth + 1)
			fc.i64(depth + 1)
			op := pick[byte](r, opI64Add, opI64Mul, opI64Xor, opI64Rotl, opI64Shl, opI64ShrU, opI64Or, opI64RemU)
			if op == opI64RemU {
				e.i64c(1)
				e.op(opI64Or)
			}
			e.op(op)
		}
		return
	}
}

// f32 pushes an f32, made of bits (never of float arithmetic, whose NaN payloads the spec
// leaves open).
func (fc *fctx) f32(depth int) {
	g, r, e := fc.g, fc.g.r, &fc.e
	switch r.intn(6) {
	case 0:
		for i, gl := range g.globals {
			if gl.t == tF32 && r.chance(70) {
				e.globalGet(uint32(i))
				return
			}
		}
		fallthrough
	case 1:
		e.f32c(pick(r, 0x7FC00000, 0x7F800001, 0x80000000, 0x7F800000, 0x3F800000, r.u32()))
	case 2:
		fc.i32(depth + 1)
		e.op(opF32ReinterpretI)
	case 3:
		fc.i32(depth + 1)
		e.op(opF32ConvertI32S)
	default:
		if fc.init {
			e.u32c(g.stateAddr(4))
		} else {
			e.u32c(g.in + g.inOffset(4))
		}
		e.mem(opF32Load, 0, 0)
	}
}

// f64 pushes an f64, made of bits.
func (fc *fctx) f64(depth int) {
	g, r, e := fc.g, fc.g.r, &fc.e
	switch r.intn(6) {
	case 0:
		for i, gl := range g.globals {
			if gl.t == tF64 && r.chance(70) {
				e.globalGet(uint32(i))
				return
			}
		}
		fallthrough
	case 1:
		e.f64c(pick(r, 0x7FF8000000000000, 0x7FF0000000000001, 0x8000000000000000, r.u64()))
	case 2:
		fc.i64(depth + 1)
		e.op(opF64ReinterpretI)
	case 3:
		fc.i32(depth + 1)
		e.op(opF64ConvertI32S)
	default:
		if fc.init {
			e.u32c(g.stateAddr(8))
		} else {
			e.u32c(g.in + g.inOffset(8))
		}
		e.mem(opF64Load, 0, 0)
	}
}

// ref pushes a funcref: an element function, null, a table slot or the funcref global.
func (fc *fctx) ref(depth int) {
	g, r, e := fc.g, fc.g.r, &fc.e
	fgw := 0
	if g.fg >= 0 {
		fgw = 2
	}
	switch weighted(r, 4, 2, 3, fgw) {
	case 0:
		e.refFunc(g.fnElem0 + uint32(r.intn(len(g.elemConsts))))
	case 1:
		e.refNull()
	case 2:
		t := g.table()
		fc.tableIdx(t, depth+1)
		e.tableGet(t)
		g.f.TableGet = true
	case 3:
		e.globalGet(uint32(g.fg))
	}
}

// toI32 converts the value of type t on the stack to an i32 (bits, not numbers).
func (fc *fctx) toI32(t valType) {
	switch t {
	case tI64:
		fc.e.op(opI32WrapI64)
	case tF32:
		fc.e.op(opI32ReinterpretF)
	case tF64:
		fc.e.op(opI64ReinterpretF, opI32WrapI64)
	}
}

// toI64 converts the value of type t on the stack to an i64 (bits, not numbers).
func (fc *fctx) toI64(t valType) {
	switch t {
	case tI32:
		fc.e.op(opI64ExtendI32U)
	case tF32:
		fc.e.op(opI32ReinterpretF, opI64ExtendI32U)
	case tF64:
		fc.e.op(opI64ReinterpretF)
	}
}

// fromI32 converts the i32 on the stack to a value of type t.
func (fc *fctx) fromI32(t valType) {
	switch t {
	case tI64:
		fc.e.op(opI64ExtendI32U)
	case tF32:
		fc.e.op(opF32ReinterpretI)
	case tF64:
		fc.e.op(opI64ExtendI32U, opF64ReinterpretI)
	}
}
