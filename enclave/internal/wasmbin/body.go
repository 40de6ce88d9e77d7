package wasmbin

import "math"

// The rewrite of function bodies, and the bodies of the functions Instrument adds.
//
// wazero's compiler spills the values a function keeps in registers around every call it can
// make, so a call on a cold path inside a loop costs on every iteration (the loop-carried
// values go to the stack and back), and one at the entry of a small function costs on every
// call of it. The instrumentation therefore makes no call after a store (a store marks its
// pages in the dirty table, which the host reads afterwards through the collect export), and
// an interrupt check's call to $poll_slow sits outside the loop: the loop is wrapped so that
// the check branches out of it, polls, and re-enters it from the top. Leaf functions (no loop,
// no call) get no check at their entry; their callers' checks are charged for them instead.

// code returns the code section with every function body instrumented and the bodies of the
// functions Instrument adds last.
func (rw *rewriter) code(r *reader) ([]byte, error) {
	n := r.vecCount(2)
	if r.err == nil && int(n) != len(rw.funcTypes) {
		r.fail("%d function bodies for %d functions", n, len(rw.funcTypes))
	}
	if r.err != nil {
		return nil, wrapErr(r.err, "code section")
	}
	type body struct{ start, end int }
	bodies := make([]body, n)
	for i := range bodies {
		size := r.u32()
		start := r.off
		r.bytesN(int(size))
		if r.err != nil {
			return nil, wrapErr(r.err, "function %d", rw.importedFuncs+uint32(i))
		}
		bodies[i] = body{start, r.off}
	}
	// First pass: what each function does, for the costs of the interrupt checks, and which
	// stores need a check of their own.
	infos := make([]funcInfo, n)
	for i, b := range bodies {
		br := &reader{b: r.b[b.start:b.end], base: r.base + b.start}
		if err := infos[i].scan(br, rw, rw.typeParams[rw.funcTypes[i]]); err != nil {
			return nil, wrapErr(err, "function %d", rw.importedFuncs+uint32(i))
		}
	}
	rw.costs(infos)
	for i := range infos {
		if p := infos[i].plan; p != nil {
			rw.stackSpan = max(rw.stackSpan, p.stackSpan)
		}
	}
	rw.res.StackSpan = rw.stackSpan

	helpers := rw.helperBodies()
	out := appendU32(make([]byte, 0, 2*len(r.b)), n+uint32(len(helpers))) // instrumented code is up to about twice the size
	var buf []byte                                                        // reused for the instructions of each function
	for i, b := range bodies {
		f := &funcRewriter{rw: rw, out: buf[:0], info: &infos[i]}
		locals, code, err := f.function(&reader{b: r.b[b.start:b.end], base: r.base + b.start}, rw.typeParams[rw.funcTypes[i]])
		if err != nil {
			return nil, wrapErr(err, "function %d", rw.importedFuncs+uint32(i))
		}
		out = appendU32(out, uint32(len(locals)+len(code)))
		out = append(out, locals...)
		out = append(out, code...)
		buf = f.out
	}
	for _, h := range helpers {
		out = appendU32(out, uint32(len(h)))
		out = append(out, h...)
	}
	return out, nil
}

// funcInfo is what the first pass learns of a function body.
type funcInfo struct {
	cost     uint32 // the number of instructions in the body
	leaf     bool   // no loop and no call of any kind
	hasStore bool
	plan     *storePlan // with tracking, for a function that stores; nil: check every store
	loops    []span     // the instruction ranges of the loops' bodies, in the order of their loop opcodes
	calls    []callSite // calls, call_indirect, return_call, return_call_indirect

	entryCost uint32   // the charges of the interrupt checks: at the entry,
	loopCost  []uint32 // and at each loop header
}

type span struct{ start, end uint32 }

type callSite struct {
	pos      uint32 // the instruction's number in the body
	callee   uint32 // for a direct call
	indirect bool
}

// scan reads a function body with params parameters: its locals and its instructions, up to
// its final end; when rw tracks stores, it plans them too (see plan.go).
func (fi *funcInfo) scan(r *reader, rw *rewriter, params uint32) error {
	n := r.vecCount(2)
	locals := uint64(params)
	for i := uint32(0); i < n && r.err == nil; i++ {
		locals += uint64(r.u32())
		r.valType()
	}
	var pl *planner
	if rw.opts.TrackStores {
		pl = rw.newPlanner(params, locals)
	}
	var open []int // per open block: the index in fi.loops of a loop, -1 for a block or an if
	for {
		in := r.instr()
		if r.err != nil {
			return r.err
		}
		if pl != nil {
			pl.visit(in, r.b[in.start:in.end])
		}
		pos := fi.cost
		fi.cost++
		if _, _, ok := in.storeAccess(); ok {
			fi.hasStore = true
		}
		switch in.op {
		case opCall, opReturnCall:
			fi.calls = append(fi.calls, callSite{pos: pos, callee: in.funcIdx})
		case opCallIndirect, opReturnCallIn:
			fi.calls = append(fi.calls, callSite{pos: pos, indirect: true})
		case opLoop:
			open = append(open, len(fi.loops))
			fi.loops = append(fi.loops, span{start: fi.cost})
		case opBlock, opIf:
			open = append(open, -1)
		case opEnd:
			if len(open) == 0 {
				fi.leaf = len(fi.loops) == 0 && len(fi.calls) == 0
				if pl != nil && fi.hasStore {
					fi.plan = pl.finish()
				}
				return nil
			}
			if l := open[len(open)-1]; l >= 0 {
				fi.loops[l].end = fi.cost
			}
			open = open[:len(open)-1]
		}
	}
}

// costs computes the charges of the interrupt checks: the instructions of the function body or
// of the loop's body, plus, for every call of a leaf function in it, the leaf's (for
// call_indirect, the largest leaf's), each charge between 1 and MaxCheckCost.
func (rw *rewriter) costs(infos []funcInfo) {
	clamp := func(c uint64) uint32 { return uint32(min(max(c, 1), MaxCheckCost)) }
	maxLeaf := uint32(0)
	for i := range infos {
		if infos[i].leaf {
			maxLeaf = max(maxLeaf, clamp(uint64(infos[i].cost)))
		}
	}
	charge := func(c callSite) uint64 {
		switch {
		case c.indirect:
			return uint64(maxLeaf)
		case c.callee < rw.importedFuncs || c.callee >= rw.funcs(): // an import runs in Go
			return 0
		case infos[c.callee-rw.importedFuncs].leaf:
			return uint64(clamp(uint64(infos[c.callee-rw.importedFuncs].cost)))
		}
		return 0 // a function with a check of its own
	}
	for i := range infos {
		fi := &infos[i]
		total := uint64(fi.cost)
		for _, c := range fi.calls {
			total += charge(c)
		}
		fi.entryCost = clamp(total)
		fi.loopCost = make([]uint32, len(fi.loops))
		for l, sp := range fi.loops {
			total := uint64(sp.end - sp.start)
			for _, c := range fi.calls {
				if c.pos >= sp.start && c.pos < sp.end {
					total += charge(c)
				}
			}
			fi.loopCost[l] = clamp(total)
		}
	}
}

// helperBodies returns the bodies of the functions Instrument adds, in the order of plan:
// $touch_range, $clear_all and $collect (when tracking), and $poll_slow (with Interrupt).
func (rw *rewriter) helperBodies() [][]byte {
	var bodies [][]byte
	f := &funcRewriter{rw: rw}
	if rw.opts.TrackStores {
		// $touch_range(d, n): unless n is 0, mark the pages of [d, d+n) in both tables.
		f.out = []byte{0} // no locals
		f.op(opLocalGet, 1)
		f.out = append(f.out, opI32Eqz, opIf, blockEmpty, opReturn, opEnd)
		for _, t := range []struct {
			table, shift uint32
		}{{rw.dirtyTable, pageShift}, {rw.summaryTable, groupShift}} {
			// table.fill $t (d >> shift) marker (((d+n-1) >> shift) - (d >> shift) + 1)
			f.op(opLocalGet, 0)
			f.i32Const(t.shift)
			f.out = append(f.out, opI32ShrU)
			f.op(opGlobalGet, rw.markerGlobal)
			f.op(opLocalGet, 0)
			f.op(opLocalGet, 1)
			f.out = append(f.out, opI32Add)
			f.i32Const(1)
			f.out = append(f.out, opI32Sub)
			f.i32Const(t.shift)
			f.out = append(f.out, opI32ShrU)
			f.op(opLocalGet, 0)
			f.i32Const(t.shift)
			f.out = append(f.out, opI32ShrU, opI32Sub)
			f.i32Const(1)
			f.out = append(f.out, opI32Add, opPrefixMisc, miscTableFill)
			f.out = appendU32(f.out, t.table)
		}
		f.out = append(f.out, opEnd)
		bodies = append(bodies, f.out)

		// $clear_all(): both tables null, the cache global empty.
		f.out = []byte{0}
		f.emptyCache()
		for _, t := range []struct{ table, size uint32 }{{rw.dirtyTable, rw.opts.TrackedPages}, {rw.summaryTable, rw.groups()}} {
			f.i32Const(0)
			f.out = append(f.out, opRefNull, valFuncref)
			f.i32Const(t.size)
			f.out = append(f.out, opPrefixMisc, miscTableFill)
			f.out = appendU32(f.out, t.table)
		}
		f.out = append(f.out, opEnd)
		bodies = append(bodies, f.out)

		bodies = append(bodies, rw.collectBody())
	}
	if rw.opts.Interrupt {
		// $poll_slow() -> i32: if poll() { unreachable }; budget = PollBudget; return PollBudget
		f.out = []byte{0}
		f.op(opCall, rw.pollFunc)
		f.out = append(f.out, opIf, blockEmpty, opUnreachable, opEnd)
		f.i32Const(PollBudget)
		f.op(opGlobalSet, rw.budgetGlobal)
		f.i32Const(PollBudget)
		f.out = append(f.out, opEnd)
		bodies = append(bodies, f.out)
	}
	return bodies
}

// collectBody returns the body of $collect(): it empties the cache global, then, for every
// group of 64 pages whose summary entry is set, it clears the entry and the entries of the
// group's dirty pages, and calls mark_dirty once with the group's base address and a mask of
// those pages (bit i: page i of the group), if there are any.
//
//	(local $g $p $end i32) (local $mask i64)
//	i32.const emptyPageBase ; global.set $cache
//	block $done loop $groups
//	  local.get $g ; i32.const groups ; i32.ge_u ; br_if $done
//	  local.get $g ; table.get $summary ; ref.is_null ; i32.eqz
//	  if
//	    local.get $g ; ref.null func ; table.set $summary
//	    local.get $g ; i32.const 6 ; i32.shl ; local.tee $p
//	    i32.const 64 ; i32.add ; local.tee $end ; i32.const pages ; i32.gt_u
//	    if  i32.const pages ; local.set $end  end
//	    i64.const 0 ; local.set $mask
//	    block $pages_done loop $pages
//	      local.get $p ; local.get $end ; i32.ge_u ; br_if $pages_done
//	      local.get $p ; table.get $dirty ; ref.is_null ; i32.eqz
//	      if
//	        local.get $p ; ref.null func ; table.set $dirty
//	        local.get $mask ; i64.const 1 ; local.get $p ; i64.extend_i32_u ; i64.shl ; i64.or
//	        local.set $mask                                    ;; i64.shl takes $p mod 64
//	      end
//	      local.get $p ; i32.const 1 ; i32.add ; local.set $p ; br $pages
//	    end end
//	    local.get $mask ; i64.eqz ; i32.eqz
//	    if  local.get $g ; i32.const 18 ; i32.shl ; local.get $mask ; call $mark_dirty  end
//	  end
//	  local.get $g ; i32.const 1 ; i32.add ; local.set $g ; br $groups
//	end end
//
// A call into the host costs about 40 ns here, as much as copying a page back: one per group,
// rather than one per run of pages, spares a few hundred nanoseconds per rewind of a Go
// reactor, whose dirty pages are scattered over a few groups.
func (rw *rewriter) collectBody() []byte {
	const g, p, end, mask = 0, 1, 2, 3
	f := &funcRewriter{rw: rw}
	f.out = []byte{2, 3, valI32, 1, valI64} // three i32 locals, one i64
	f.emptyCache()
	f.out = append(f.out, opBlock, blockEmpty, opLoop, blockEmpty) // $done, $groups
	f.op(opLocalGet, g)
	f.i32Const(rw.groups())
	f.out = append(f.out, opI32GeU, opBrIf, 1)
	f.op(opLocalGet, g)
	f.op(opTableGet, rw.summaryTable)
	f.out = append(f.out, opRefIsNull, opI32Eqz, opIf, blockEmpty)
	f.op(opLocalGet, g)
	f.out = append(f.out, opRefNull, valFuncref)
	f.op(opTableSet, rw.summaryTable)
	f.op(opLocalGet, g)
	f.i32Const(groupShift - pageShift)
	f.out = append(f.out, opI32Shl)
	f.op(opLocalTee, p)
	f.i32Const(1 << (groupShift - pageShift))
	f.out = append(f.out, opI32Add)
	f.op(opLocalTee, end)
	f.i32Const(rw.opts.TrackedPages)
	f.out = append(f.out, opI32GtU, opIf, blockEmpty)
	f.i32Const(rw.opts.TrackedPages)
	f.op(opLocalSet, end)
	f.out = append(f.out, opEnd)
	f.out = append(f.out, opI64Const, 0)
	f.op(opLocalSet, mask)
	f.out = append(f.out, opBlock, blockEmpty, opLoop, blockEmpty) // $pages_done, $pages
	f.op(opLocalGet, p)
	f.op(opLocalGet, end)
	f.out = append(f.out, opI32GeU, opBrIf, 1)
	f.op(opLocalGet, p)
	f.op(opTableGet, rw.dirtyTable)
	f.out = append(f.out, opRefIsNull, opI32Eqz, opIf, blockEmpty)
	f.op(opLocalGet, p)
	f.out = append(f.out, opRefNull, valFuncref)
	f.op(opTableSet, rw.dirtyTable)
	f.op(opLocalGet, mask)
	f.out = append(f.out, opI64Const, 1)
	f.op(opLocalGet, p)
	f.out = append(f.out, opI64ExtendI32U, opI64Shl, opI64Or)
	f.op(opLocalSet, mask)
	f.out = append(f.out, opEnd)
	f.op(opLocalGet, p)
	f.i32Const(1)
	f.out = append(f.out, opI32Add)
	f.op(opLocalSet, p)
	f.out = append(f.out, opBr, 0, opEnd, opEnd) // br $pages; end $pages, $pages_done
	f.op(opLocalGet, mask)
	f.out = append(f.out, opI64Eqz, opI32Eqz, opIf, blockEmpty)
	f.op(opLocalGet, g)
	f.i32Const(groupShift)
	f.out = append(f.out, opI32Shl)
	f.op(opLocalGet, mask)
	f.op(opCall, rw.markFunc)
	f.out = append(f.out, opEnd)
	f.out = append(f.out, opEnd) // the if
	f.op(opLocalGet, g)
	f.i32Const(1)
	f.out = append(f.out, opI32Add)
	f.op(opLocalSet, g)
	f.out = append(f.out, opBr, 0, opEnd, opEnd, opEnd) // br $groups; end $groups, $done, the function
	return f.out
}

// emptyCache appends i32.const emptyPageBase ; global.set $cache: after the tables are
// emptied, the cache global must not name a page as marked.
func (f *funcRewriter) emptyCache() {
	f.i32Const(emptyPageBase)
	f.op(opGlobalSet, f.rw.cacheGlobal)
	if f.rw.hasStackGlobal {
		f.i32Const(emptyStackWindow)
		f.op(opGlobalSet, f.rw.stackCacheGlobal)
	}
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
	slotPage   // the base of the page last marked
	slotBudget // the budget of the interrupt checks
	slotStack  // a value of the stack global
	numSlots
)

var slotTypes = [numSlots]byte{valI32, valI32, valI32, valI64, valF32, valF64, valV128, valI32, valI32, valI32}

// funcRewriter instruments one function body.
type funcRewriter struct {
	rw        *rewriter
	info      *funcInfo
	out       []byte // the instrumented instructions
	slots     [numSlots]uint32
	hasSlot   [numSlots]bool
	nextLocal uint32 // index of the next local to add
	added     []byte // types of the added locals, in index order
	frames    []frame
	plan      *storePlan // nil: every store gets its own check
}

// frame is a block, loop or if open in the function being rewritten.
type frame struct {
	wrapped bool // a loop wrapped in three more blocks (see loopCheck)
}

type localRun struct {
	n  uint32
	vt byte
}

// function instruments the body r holds and returns its new local declarations and
// instructions.
func (f *funcRewriter) function(r *reader, params uint32) (locals, body []byte, err error) {
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
		return nil, nil, r.err
	}
	f.nextLocal = uint32(total)
	if f.rw.opts.Interrupt && !f.info.leaf {
		f.entryCheck()
	}
	if f.rw.opts.TrackStores && f.info.hasStore {
		if f.plan = f.info.plan; f.plan != nil {
			f.rw.res.GroupedStores += f.plan.grouped
			f.rw.res.HoistedStores += f.plan.hoisted
			f.rw.res.StackStores += f.plan.stack
		}
		if f.plan == nil || f.plan.checks {
			f.op(opGlobalGet, f.rw.cacheGlobal)
			f.op(opLocalSet, f.local(slotPage))
		}
	}
	if err := f.expr(r); err != nil {
		return nil, nil, err
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
	return locals, f.out, nil
}

// expr instruments the instructions of a function body up to its final end.
func (f *funcRewriter) expr(r *reader) error {
	rw := f.rw
	track, interrupt := rw.opts.TrackStores, rw.opts.Interrupt
	loops, stores := 0, 0
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
		switch {
		case in.op == opCall || in.op == opReturnCall || in.op == opRefFunc:
			f.out = append(f.out, in.op)
			f.out = appendU32(f.out, rw.fn(r, in.funcIdx))
			if r.err != nil {
				return r.err
			}
			if in.op == opCall {
				f.afterCall()
			}
		case in.op == opCallIndirect:
			f.out = append(f.out, raw...)
			f.afterCall()
		case in.op == opBr || in.op == opBrIf:
			f.out = append(f.out, in.op)
			f.out = appendU32(f.out, f.label(in.label))
		case in.op == opBrTable:
			f.brTable(raw)
		case in.op == opLoop:
			if f.plan != nil {
				for _, h := range f.plan.hoists[loops] {
					f.loopEntryCheck(h)
				}
			}
			if interrupt {
				f.loopCheck(raw, in.typeIdx, f.info.loopCost[loops])
			} else {
				f.out = append(f.out, raw...)
				f.frames = append(f.frames, frame{})
			}
			loops++
		case in.op == opBlock || in.op == opIf:
			f.out = append(f.out, raw...)
			f.frames = append(f.frames, frame{})
		case in.op == opGlobalSet && rw.stackSpan > 0 && in.globalIdx == rw.stackGlobal:
			f.stackSet()
		case in.op == opEnd:
			if len(f.frames) == 0 {
				f.out = append(f.out, opEnd)
				if r.off != len(r.b) {
					r.fail("%d bytes after the function's end", len(r.b)-r.off)
					return r.err
				}
				return nil
			}
			fr := f.frames[len(f.frames)-1]
			f.frames = f.frames[:len(f.frames)-1]
			if fr.wrapped {
				f.endWrappedLoop()
			} else {
				f.out = append(f.out, opEnd)
			}
		default:
			if vt, size, ok := in.storeAccess(); ok && track {
				act := storeAct{kind: actCheck}
				if f.plan != nil {
					act = f.plan.acts[stores]
				}
				f.store(raw, in.offset, vt, size, act)
				stores++
				rw.res.StoreSites++
			} else if track && in.bulkWrite() {
				if interrupt {
					f.chargeSize(in.sizeShift())
				}
				f.bulkWrite(raw)
				rw.res.BulkSites++
			} else if in.changesState() {
				if interrupt && in.sized() {
					f.chargeSize(in.sizeShift())
				}
				f.out = append(f.out, raw...)
				f.out = append(f.out, opI32Const, 1)
				f.op(opGlobalSet, rw.stateGlobal)
				rw.res.StateSites++
			} else {
				if interrupt && in.sized() {
					f.chargeSize(in.sizeShift())
				}
				f.out = append(f.out, raw...)
			}
		}
	}
}

// label returns the relative depth of a branch's label in the rewritten code: deeper by 3 for
// every wrapped loop the branch leaves.
func (f *funcRewriter) label(depth uint32) uint32 {
	if uint64(depth) > uint64(len(f.frames)) {
		return depth // invalid; wazero rejects it
	}
	out := depth
	for _, fr := range f.frames[len(f.frames)-int(depth):] {
		if fr.wrapped {
			out += 3
		}
	}
	return out
}

// brTable appends br_table with its labels renumbered.
func (f *funcRewriter) brTable(raw []byte) {
	r := &reader{b: raw, off: 1}
	n := r.u32()
	f.out = append(f.out, opBrTable)
	f.out = appendU32(f.out, n)
	for i := uint64(0); i <= uint64(n); i++ { // the labels and the default
		f.out = appendU32(f.out, f.label(r.u32()))
	}
}

// entryCheck appends the interrupt check at the start of a function body:
//
//	global.get $b ; i32.const cost ; i32.sub ; local.tee $budget ; global.set $b
//	local.get $budget ; i32.const 0 ; i32.le_s
//	if  call $poll_slow ; local.set $budget  end
func (f *funcRewriter) entryCheck() {
	rw := f.rw
	budget := f.local(slotBudget)
	f.op(opGlobalGet, rw.budgetGlobal)
	f.spend(f.info.entryCost)
	f.out = append(f.out, opIf, blockEmpty)
	f.op(opCall, rw.slowFunc)
	f.op(opLocalSet, budget)
	f.out = append(f.out, opEnd)
	rw.res.InterruptSites++
}

// spend appends, the budget on the stack:
//
//	i32.const cost ; i32.sub ; local.tee $budget ; global.set $b
//	local.get $budget ; i32.const 0 ; i32.le_s
func (f *funcRewriter) spend(cost uint32) {
	budget := f.local(slotBudget)
	f.i32Const(cost)
	f.out = append(f.out, opI32Sub)
	f.op(opLocalTee, budget)
	f.op(opGlobalSet, f.rw.budgetGlobal)
	f.op(opLocalGet, budget)
	f.i32Const(0)
	f.out = append(f.out, opI32LeS)
}

// loopCheck appends the loop instruction raw, of the given block type, with its interrupt
// check. A loop without parameters is wrapped so that the check's call is outside it:
//
//	block bt                      ;; $exit
//	  loop                        ;; $retry
//	    block                     ;; $slow
//	      loop bt                 ;; the loop
//	        local.get $budget ; <spend cost> ; br_if $slow
//	        ...                   ;; its body: branches out of the loop go 3 levels deeper
//	      end
//	      br $exit
//	    end
//	    [i32.const empty ; local.set $page]   ;; when tracking: the page cache starts afresh
//	    call $poll_slow ; local.set $budget
//	    br $retry
//	  end
//	  unreachable
//	end
//
// A loop with parameters (on the stack at its start) gets "if call $poll_slow ... end" after
// the check instead. Nothing the loop computes needs to survive the call but its locals: its
// operand stack is empty at the check (the loop has no parameters), and the page cache, which
// would otherwise be one more value wazero keeps on the stack, is reset.
func (f *funcRewriter) loopCheck(raw []byte, typeIdx int64, cost uint32) {
	rw := f.rw
	budget := f.local(slotBudget)
	bt := raw[1:]
	if typeIdx >= 0 && (typeIdx >= int64(len(rw.typeParams)) || rw.typeParams[typeIdx] > 0) {
		f.out = append(f.out, raw...)
		f.frames = append(f.frames, frame{})
		f.op(opLocalGet, budget)
		f.spend(cost)
		f.out = append(f.out, opIf, blockEmpty)
		if f.rw.opts.TrackStores && f.info.hasStore {
			f.i32Const(emptyPageBase)
			f.op(opLocalSet, f.local(slotPage))
		}
		f.op(opCall, rw.slowFunc)
		f.op(opLocalSet, budget)
		f.out = append(f.out, opEnd)
		rw.res.InterruptSites++
		return
	}
	f.out = append(f.out, opBlock)
	f.out = append(f.out, bt...)
	f.out = append(f.out, opLoop, blockEmpty, opBlock, blockEmpty, opLoop)
	f.out = append(f.out, bt...)
	f.frames = append(f.frames, frame{wrapped: true})
	f.op(opLocalGet, budget)
	f.spend(cost)
	f.out = append(f.out, opBrIf, 1)
	rw.res.InterruptSites++
}

// endWrappedLoop appends the end of a wrapped loop (see loopCheck).
func (f *funcRewriter) endWrappedLoop() {
	f.out = append(f.out, opEnd, opBr, 2, opEnd)
	if f.rw.opts.TrackStores && f.info.hasStore {
		// The page cache may start afresh, so its value need not survive the call.
		f.i32Const(emptyPageBase)
		f.op(opLocalSet, f.local(slotPage))
	}
	f.op(opCall, f.rw.slowFunc)
	f.op(opLocalSet, f.local(slotBudget))
	f.out = append(f.out, opBr, 0, opEnd, opUnreachable, opEnd)
}

// afterCall appends, in a function with loops and interrupt checks, the reload of the budget
// after a call: the callee may have spent some of it, or polled.
func (f *funcRewriter) afterCall() {
	if f.rw.opts.Interrupt && len(f.info.loops) > 0 {
		f.op(opGlobalGet, f.rw.budgetGlobal)
		f.op(opLocalSet, f.local(slotBudget))
	}
}

// chargeSize appends, before an instruction whose last operand (on top of the stack) is a
// size n — memory.fill, memory.copy, memory.init, table.grow, table.fill, table.copy,
// table.init — a charge of n >> shift to the budget and a poll when it is spent, for sizes of
// at least [BulkChargeMin] budget units (smaller ones cost less than the check: the loop
// around them is charged anyway):
//
//	local.set $len ; local.get $len ; i32.const BulkChargeMin<<shift ; i32.ge_u
//	if
//	  global.get $b ; local.get $len ; i32.const shift ; i32.shr_u ; i32.sub
//	  local.tee $budget ; global.set $b
//	  local.get $budget ; i32.const 0 ; i32.le_s
//	  if  call $poll_slow ; local.set $budget  end
//	end
//	local.get $len
//
// So one instruction that moves megabytes costs what the work costs (see [BulkShift]), and a
// deadline ends a loop of them: the check comes before the work. It reads the budget global,
// so it sees the host's request to poll now, and keeps $budget, the copy a function with
// loops works on, in step.
func (f *funcRewriter) chargeSize(shift uint32) {
	rw := f.rw
	n, budget := f.local(slotLen), f.local(slotBudget)
	f.op(opLocalSet, n)
	f.op(opLocalGet, n)
	f.i32Const(BulkChargeMin << shift)
	f.out = append(f.out, opI32GeU, opIf, blockEmpty)
	f.op(opGlobalGet, rw.budgetGlobal)
	f.op(opLocalGet, n)
	f.i32Const(shift)
	f.out = append(f.out, opI32ShrU)
	f.out = append(f.out, opI32Sub)
	f.op(opLocalTee, budget)
	f.op(opGlobalSet, rw.budgetGlobal)
	f.op(opLocalGet, budget)
	f.i32Const(0)
	f.out = append(f.out, opI32LeS, opIf, blockEmpty)
	f.op(opCall, rw.slowFunc)
	f.op(opLocalSet, budget)
	f.out = append(f.out, opEnd, opEnd)
	f.op(opLocalGet, n)
	rw.res.SizedSites++
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

// op appends an instruction with one u32 immediate (a local, global, table or function index).
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
// its address operand plus offset, and what the plan's act says to record the write (see
// [Instrument]): nothing (actSkip), or
//
//	local.set $v ; local.tee $a ; local.get $v ; <store>
//	local.get $a ; [i32.const lo ; i32.add ; local.tee $a]   ;; $a = ea (lo = offset), or the group's start
//	local.get $page ; i32.sub ; i32.const 4096-span ; i32.gt_u   ;; span = size, or the group's
//	if  <mark the pages of [$a, $a+span), see markSlow>  end
//
// The store comes first, so a store that traps records nothing; one that does not trap has an
// effective address below 2^32, so the i32 sum of address and offset does not wrap, nor does
// that of a group's start (lo is at most the first store's offset).
func (f *funcRewriter) store(raw []byte, offset uint32, vt byte, size uint32, act storeAct) {
	if act.kind == actSkip {
		f.out = append(f.out, raw...)
		return
	}
	lo, span := offset, size
	if act.kind == actLead {
		lo, span = act.lo, act.span
	}
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
	v, a, page := f.local(valSlot), f.local(slotAddr), f.local(slotPage)
	f.op(opLocalSet, v)
	f.op(opLocalTee, a)
	f.op(opLocalGet, v)
	f.out = append(f.out, raw...)

	f.op(opLocalGet, a)
	if lo != 0 {
		f.i32Const(lo)
		f.out = append(f.out, opI32Add)
		f.op(opLocalTee, a)
	}
	f.op(opLocalGet, page)
	f.out = append(f.out, opI32Sub)
	f.i32Const(TrackedPageSize - span)
	f.out = append(f.out, opI32GtU, opIf, blockEmpty)
	f.markSlow(a, span, act.kind == actLead)
	f.out = append(f.out, opEnd)
}

// loopEntryCheck appends, before a loop, the check of h: the pages of [$L+lo, $L+lo+span),
// which the loop's stores off the local $L may write, unless they are cached or at or beyond
// the tracked pages (where every one of those stores traps):
//
//	local.get $L ; [i32.const lo ; i32.add] ; local.tee $a
//	local.get $page ; i32.sub ; i32.const 4096-span ; i32.gt_u
//	local.get $a ; i32.const TrackedPages*4096 ; i32.lt_u ; i32.and
//	if  <mark the pages of [$a, $a+span) below TrackedPages*4096, see markSlow>  end
//
// The sum may wrap: then every one of the stores traps, and the page it names is marked for
// nothing.
func (f *funcRewriter) loopEntryCheck(h hoist) {
	a, page := f.local(slotAddr), f.local(slotPage)
	f.op(opLocalGet, h.local)
	if h.lo != 0 {
		f.i32Const(h.lo)
		f.out = append(f.out, opI32Add)
	}
	f.op(opLocalTee, a)
	f.op(opLocalGet, page)
	f.out = append(f.out, opI32Sub)
	f.i32Const(TrackedPageSize - h.span)
	f.out = append(f.out, opI32GtU)
	f.op(opLocalGet, a)
	f.i32Const(f.rw.opts.TrackedPages * TrackedPageSize)
	f.out = append(f.out, opI32LtU, opI32And, opIf, blockEmpty)
	f.markSlow(a, h.span, true)
	f.out = append(f.out, opEnd)
	f.rw.res.LoopChecks++
}

// stackSet appends global.set of the stack global G and the marks of the pages its new value
// v may be the base of (see [Instrument], "the stack"): [v, v+K) for the module's stack span
// K. The stack cache names a window of two marked pages, [c, c+8192); when [v, v+K) is not in
// it, both pages of the window at v's page are marked, when tracked, and become the window:
//
//	local.tee $s ; global.set G
//	local.get $s ; global.get $stack_cache ; i32.sub ; i32.const 8192-K ; i32.gt_u
//	if  local.get $s ; i32.const TrackedPages*4096 ; i32.lt_u
//	  if
//	    <mark $s's page and its group>
//	    local.get $s ; i32.const TrackedPages*4096-4096 ; i32.lt_u
//	    if  <mark the next page and its group> ; local.get $s ; i32.const -4096 ; i32.and ; global.set $stack_cache  end
//	  end
//	end
//
// A value at or beyond the tracked pages marks nothing: a store off it traps, or wraps into
// page 0, which the host marks. The marks never trap.
func (f *funcRewriter) stackSet() {
	rw := f.rw
	sv := f.local(slotStack)
	limit := rw.opts.TrackedPages * TrackedPageSize
	f.op(opLocalTee, sv)
	f.op(opGlobalSet, rw.stackGlobal)
	f.op(opLocalGet, sv)
	f.op(opGlobalGet, rw.stackCacheGlobal)
	f.out = append(f.out, opI32Sub)
	f.i32Const(stackWindow - rw.stackSpan)
	f.out = append(f.out, opI32GtU, opIf, blockEmpty)
	// A value in the window is below limit: the window's pages are tracked.
	f.op(opLocalGet, sv)
	f.i32Const(limit)
	f.out = append(f.out, opI32LtU, opIf, blockEmpty)
	mark := func(delta uint32) {
		for _, t := range [2]struct{ table, shift uint32 }{{rw.dirtyTable, pageShift}, {rw.summaryTable, groupShift}} {
			f.op(opLocalGet, sv)
			if delta != 0 {
				f.i32Const(delta)
				f.out = append(f.out, opI32Add)
			}
			f.i32Const(t.shift)
			f.out = append(f.out, opI32ShrU)
			f.op(opGlobalGet, rw.markerGlobal)
			f.op(opTableSet, t.table)
		}
	}
	mark(0)
	if rest := uint32(stackWindow - TrackedPageSize); limit > rest { // the window's other pages
		f.op(opLocalGet, sv)
		f.i32Const(limit - rest)
		f.out = append(f.out, opI32LtU, opIf, blockEmpty)
		for d := uint32(TrackedPageSize); d < stackWindow; d += TrackedPageSize {
			mark(d)
		}
		f.op(opLocalGet, sv)
		f.i32Const(^uint32(TrackedPageSize - 1))
		f.out = append(f.out, opI32And)
		f.op(opGlobalSet, rw.stackCacheGlobal)
		f.out = append(f.out, opEnd)
	}
	f.out = append(f.out, opEnd, opEnd)
	rw.res.StackSites++
}

// markSlow appends the slow path of a write of size bytes (1 to 4096) at the address in local
// a that the page cache does not cover: it marks the pages of [a, a+size) and makes the first
// one the cached page, in $page and in the cache global:
//
//	local.get $a ; i32.const 12 ; i32.shr_u ; global.get $marker ; table.set $dirty
//	local.get $a ; local.get $page ; i32.xor ; i32.const 1<<18 ; i32.ge_u   ;; another group?
//	if  local.get $a ; i32.const 18 ; i32.shr_u ; global.get $marker ; table.set $summary  end
//	[local.get $a ; i32.const 4095 ; i32.and ; i32.const 4096-size ; i32.gt_u   ;; size > 1:
//	 [local.get $a ; i32.const size-1 ; i32.add ; i32.const TrackedPages*4096 ; i32.lt_u ; i32.and]
//	 if  <the same two marks for $a+size-1, unconditionally>  end]           ;; crosses a page?
//	local.get $a ; i32.const -4096 ; i32.and ; local.tee $page ; global.set $cache
//
// The cached page's group is marked (see [Instrument]), so the summary entry of a page in the
// same group is already set: one table.set in the common case instead of four. With guarded,
// the second page is marked only when it is tracked: a group's or a loop's check covers
// stores that may trap before they write, and must not trap in their stead.
func (f *funcRewriter) markSlow(a, size uint32, guarded bool) {
	rw := f.rw
	page := f.local(slotPage)
	markAt := func(delta, table, shift uint32) {
		f.op(opLocalGet, a)
		if delta != 0 {
			f.i32Const(delta)
			f.out = append(f.out, opI32Add)
		}
		f.i32Const(shift)
		f.out = append(f.out, opI32ShrU)
		f.op(opGlobalGet, rw.markerGlobal)
		f.op(opTableSet, table)
	}
	markAt(0, rw.dirtyTable, pageShift)
	f.op(opLocalGet, a)
	f.op(opLocalGet, page)
	f.out = append(f.out, opI32Xor)
	f.i32Const(1 << groupShift)
	f.out = append(f.out, opI32GeU, opIf, blockEmpty)
	markAt(0, rw.summaryTable, groupShift)
	f.out = append(f.out, opEnd)
	if size > 1 {
		f.op(opLocalGet, a)
		f.i32Const(TrackedPageSize - 1)
		f.out = append(f.out, opI32And)
		f.i32Const(TrackedPageSize - size)
		f.out = append(f.out, opI32GtU)
		if guarded {
			f.op(opLocalGet, a)
			f.i32Const(size - 1)
			f.out = append(f.out, opI32Add)
			f.i32Const(rw.opts.TrackedPages * TrackedPageSize)
			f.out = append(f.out, opI32LtU, opI32And)
		}
		f.out = append(f.out, opIf, blockEmpty)
		markAt(size-1, rw.dirtyTable, pageShift)
		markAt(size-1, rw.summaryTable, groupShift)
		f.out = append(f.out, opEnd)
	}
	f.op(opLocalGet, a)
	f.i32Const(^uint32(TrackedPageSize - 1))
	f.out = append(f.out, opI32And)
	f.op(opLocalTee, page)
	f.op(opGlobalSet, rw.cacheGlobal)
}

// bulkWrite appends memory.fill, memory.copy or memory.init (operands d, x, n) and the code
// that records the write of [d, d+n):
//
//	local.set $n ; local.set $x ; local.tee $d ; local.get $x ; local.get $n ; <instruction>
//	local.get $d ; local.get $n ; call $touch_range
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
	f.op(opCall, f.rw.touchRangeFunc)
}
