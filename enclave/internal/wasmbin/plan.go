package wasmbin

import (
	"math"
	"slices"
)

// The store plan: a first pass over a function body that finds the stores whose page check
// another check makes redundant, so that the rewrite can leave them unchecked (see
// [Instrument]). Every store whose check it drops is covered by a check that marks a superset
// of the bytes it writes, before it writes them or right after the first store of its group:
//
//   - a group: stores whose address operand is the value of the same local, unchanged in
//     between (local.get of the same local, with no local.set or local.tee of it in between),
//     in the same innermost loop, the first of which dominates the others: they come after
//     it in its block or in blocks opened after it (not in the else arm of its if), so every
//     path to them runs it first. Its check covers the hull of the group, [$L+lo,
//     $L+lo+span), span at most one page, right after it has stored (so without wrapping: lo
//     is at most its offset). A later store that never runs (a branch, a trap or an exit in
//     between) was marked for nothing; a hull page past the tracked pages is not marked (the
//     stores there trap), so the check never traps in their stead.
//   - a loop: a store inside a loop whose address operand is the value of a local that
//     nothing inside the loop writes (no local.set or local.tee of it anywhere in the loop,
//     nested blocks and loops included) has the same address on every iteration, the
//     address it has at the loop's entry. A check right before the loop opcode covers it (and
//     the loop's other stores off the same local, their hull at most one page), whether or
//     not the store then runs: an extra mark costs a page copy, never correctness. The check
//     must not trap where the store would not: it marks nothing when the address is at or
//     beyond the tracked pages (the store would trap), and a wrapped sum marks a page the
//     store cannot write (it traps too).
//
//   - the stack: a store whose address operand is a value the stack global G has held during
//     the invocation, plus a constant delta, with delta + offset + size at most
//     [MaxStackSpan], needs no check (see [Instrument], "the stack"). Such a value is the
//     result of global.get G, or the value of a stack local: a local that is not a parameter
//     and whose every write in the function is either of the result of global.get G
//     (global.get G ; local.set or local.tee L) or a local.tee L right before global.set G
//     (local.tee L ; global.set G, the prologue of clang's and Go's functions), so that it
//     holds 0 (before its first write) or a value G held. The constant delta is added by
//     i32.add or i64.add of a constant (subtracted by their sub) and kept through
//     i64.extend_i32_u/s and i32.wrap_i64: the low 32 bits of the value are the local's plus
//     delta, modulo 2^32 (Go addresses its frame as i32.wrap_i64(i64.extend_i32_u(SP) + k)).
//     Every value G takes (global.set G) has its pages marked; the host marks those of G's
//     value at the start of every invocation and page 0, which covers 0 + delta and every sum
//     that wraps (below delta + offset + size <= MaxStackSpan).
//
// Nothing here is trusted about the values: the pass tracks, per operand-stack slot, only
// "the value of local L at version V, plus delta" (V counts the writes of L so far) or a
// constant, and forgets everything (an empty stack that yields unknown values) at every
// control instruction. An instruction whose stack effect it does not model (SIMD, say)
// empties the stack too.

// Limits that keep the plan cheap on pathological bodies; past them, stores keep their own
// checks.
const (
	maxPlanLocals    = 1 << 16 // locals of a function, parameters included
	maxLoopHoists    = 8       // loop-entry checks per loop
	maxPlanLoopDepth = 64      // nesting of the loops a hoist looks through
)

// Store actions.
const (
	actCheck = iota // the store's own page check
	actLead         // the check of its group's hull
	actSkip         // no check: its group's first store or a loop-entry check covers it
)

// storeAct is what the rewrite appends after a store.
type storeAct struct {
	kind uint8
	lo   uint32 // actLead: the hull is [address operand + lo, + lo + span)
	span uint32
}

// hoist is a check at a loop's entry of [$local+lo, $local+lo+span), span at most one page.
type hoist struct {
	local, lo, span uint32
}

// storePlan is the plan of one function body.
type storePlan struct {
	acts   []storeAct // per store, in the order of the body
	hoists [][]hoist  // per loop, in the order of the loop opcodes
	// grouped, hoisted and stack count the stores left unchecked: covered by their group's
	// first store, by a loop's entry check, and by the marks of the stack global's values.
	grouped, hoisted, stack int
	// stackSpan is the largest delta + offset + size of the stores the stack covers (0: none).
	stackSpan uint32
	// checks reports whether any store or loop entry keeps a check (the body then needs the
	// page cache).
	checks bool
}

// MaxStackSpan bounds delta + offset + size of a store the stack covers (see plan.go): its
// largest value in a module, the stack span K, is how far past each value of the stack
// global its pages are marked, and the window of two pages that the stack cache names must
// hold [v, v+K) for most values v for the cache to spare marks.
const MaxStackSpan = 2048

// stackLocal is the pseudo-local of a symVal that is the value of the stack global.
const stackLocal = math.MaxUint32

// symVal is what the plan knows of a value on the operand stack: the value of a local at a
// version (or of the stack global, local stackLocal) plus delta in its low 32 bits, a
// constant (konst, its low 32 bits in delta), or nothing.
type symVal struct {
	known, konst bool
	conv         bool // converted (i32.wrap_i64, i64.extend_i32_*): only the low 32 bits are known
	local, ver   uint32
	delta        uint32
}

// plain reports whether v is the value of a local, unchanged: what groups and hoists use.
func (v symVal) plain() bool {
	return v.known && !v.konst && !v.conv && v.delta == 0 && v.local != stackLocal
}

// stackRead reports whether v is global.get of the stack global, unchanged.
func (v symVal) stackRead() bool {
	return v.known && !v.konst && !v.conv && v.delta == 0 && v.local == stackLocal
}

// planStore is a store as the pass sees it.
type planStore struct {
	addr         symVal
	offset, size uint32
	loop         int32 // the innermost loop around it, -1 for none
	lead         int   // the store whose check covers it (itself when it leads)
}

// groupKey identifies the stores that may share a check: the same local at the same version,
// in the same innermost loop.
type groupKey struct {
	v    symVal
	loop int32
}

// undoEntry restores a group's leader when the block that made it ends.
type undoEntry struct {
	k    groupKey
	prev int // -1: none
}

// planner is the pass: it sees the instructions of one function body in order (see visit)
// and decides at the body's final end (see finish).
//
// A group's first store dominates the others: they come after it in its block (or in blocks
// nested in it, opened after it, not in the else arm of its if), in the same innermost loop,
// so that every path to them runs it first; its check covers the group's hull.
type planner struct {
	rw         *rewriter
	ver        []uint32 // per local, the number of writes so far
	stack      []symVal
	stores     []planStore
	loopParent []int32         // per loop, the loop around it or -1
	open       []int32         // per open block: its loop index, -1 for a block or an if
	marks      []int           // per open block: the length of undo when it opened
	inner      int32           // the innermost open loop, -1 for none
	writes     map[uint64]bool // loop<<32 | local: the local is written inside the loop
	leads      map[groupKey]int
	undo       []undoEntry
	params     uint32   // the function's parameters: locals below it are not stack locals
	nonStack   []uint32 // per local, its writes that do not make it a stack local
	pendingTee uint32   // 1 + the local the last instruction tee'd a value into (not of G), else 0
}

// newPlanner returns the planner of a function body with locals locals in all, params
// parameters included; nil when it has too many for the plan. It reuses the rewriter's
// planner, so the plan of the last body must be finished.
func (rw *rewriter) newPlanner(params uint32, locals uint64) *planner {
	if locals > maxPlanLocals {
		return nil
	}
	p := rw.planner
	if p == nil {
		p = &planner{rw: rw, writes: map[uint64]bool{}, leads: map[groupKey]int{}}
		rw.planner = p
	}
	p.ver = slices.Grow(p.ver[:0], int(locals))[:locals]
	clear(p.ver)
	p.nonStack = slices.Grow(p.nonStack[:0], int(locals))[:locals]
	clear(p.nonStack)
	p.params, p.pendingTee = params, 0
	p.stack, p.stores, p.loopParent, p.open, p.marks, p.undo = p.stack[:0], p.stores[:0], p.loopParent[:0], p.open[:0], p.marks[:0], p.undo[:0]
	p.inner = -1
	clear(p.writes)
	clear(p.leads)
	return p
}

func (p *planner) pop() symVal {
	if len(p.stack) == 0 {
		return symVal{}
	}
	v := p.stack[len(p.stack)-1]
	p.stack = p.stack[:len(p.stack)-1]
	return v
}

func (p *planner) popN(n int) { p.stack = p.stack[:max(0, len(p.stack)-n)] }

func (p *planner) pushN(n int) {
	for range n {
		p.stack = append(p.stack, symVal{})
	}
}

// write records a local.set or local.tee of local l.
func (p *planner) write(l uint32) {
	if int(l) >= len(p.ver) {
		return // invalid; wazero rejects it
	}
	p.ver[l]++
	for lp := p.inner; lp >= 0; lp = p.loopParent[lp] {
		k := uint64(lp)<<32 | uint64(l)
		if p.writes[k] {
			break // the loops around it have it too
		}
		p.writes[k] = true
	}
}

// rollback forgets the leaders found since undo had length n.
func (p *planner) rollback(n int) {
	for i := len(p.undo) - 1; i >= n; i-- {
		if u := p.undo[i]; u.prev < 0 {
			delete(p.leads, u.k)
		} else {
			p.leads[u.k] = u.prev
		}
	}
	p.undo = p.undo[:n]
}

// call pops the parameters and pushes the results of a function of type typ.
func (p *planner) call(typ uint32) {
	rw := p.rw
	if int(typ) >= len(rw.types) {
		p.stack = p.stack[:0]
		return
	}
	params := int(rw.typeParams[typ])
	p.popN(params)
	p.pushN(len(rw.types[typ]) - params - 1)
}

// visit reads the next instruction, in, whose bytes are raw; the body's final end included.
func (p *planner) visit(in instr, raw []byte) {
	rw, op := p.rw, in.op
	tee := p.pendingTee
	p.pendingTee = 0
	if _, size, ok := in.storeAccess(); ok {
		s := planStore{offset: in.offset, size: size, loop: p.inner, lead: len(p.stores)}
		if op != opPrefixSIMD {
			p.pop() // the value
			s.addr = p.pop()
		} else {
			p.stack = p.stack[:0] // not modelled
		}
		if s.addr.plain() {
			k := groupKey{s.addr, p.inner}
			if l, ok := p.leads[k]; ok && p.stores[l].join(s) {
				s.lead = l
			} else {
				prev := -1
				if ok {
					prev = l
				}
				p.undo = append(p.undo, undoEntry{k, prev})
				p.leads[k] = len(p.stores)
			}
		}
		p.stores = append(p.stores, s)
		return
	}
	switch {
	case op == opLocalGet || op == opLocalSet || op == opLocalTee:
		l := localIndex(raw[1:])
		if op != opLocalGet {
			if v := p.pop(); !v.stackRead() && int(l) < len(p.nonStack) {
				p.nonStack[l]++ // unless a global.set of the stack global follows the tee
				if op == opLocalTee {
					p.pendingTee = l + 1
				}
			}
			p.write(l)
		}
		if op != opLocalSet {
			v := symVal{}
			if int(l) < len(p.ver) {
				v = symVal{known: true, local: l, ver: p.ver[l]}
			}
			p.stack = append(p.stack, v)
		}
	case op == opBlock || op == opIf || op == opLoop:
		p.stack = p.stack[:0]
		p.marks = append(p.marks, len(p.undo))
		if op == opLoop {
			p.loopParent = append(p.loopParent, p.inner)
			p.inner = int32(len(p.loopParent) - 1)
			p.open = append(p.open, p.inner)
		} else {
			p.open = append(p.open, -1)
		}
	case op == opElse:
		p.stack = p.stack[:0]
		if len(p.marks) > 0 {
			p.rollback(p.marks[len(p.marks)-1]) // the then arm's stores do not dominate the else arm
		}
	case op == opEnd:
		p.stack = p.stack[:0]
		if len(p.open) == 0 {
			return // the body's end
		}
		if p.open[len(p.open)-1] >= 0 {
			p.inner = p.loopParent[p.inner]
		}
		p.rollback(p.marks[len(p.marks)-1])
		p.open, p.marks = p.open[:len(p.open)-1], p.marks[:len(p.marks)-1]
	case op == opCall:
		if in.funcIdx < rw.importedFuncs {
			p.call(rw.importTypes[in.funcIdx])
		} else if i := in.funcIdx - rw.importedFuncs; int(i) < len(rw.funcTypes) {
			p.call(rw.funcTypes[i])
		} else {
			p.stack = p.stack[:0]
		}
	case op == opCallIndirect:
		p.pop() // the table slot
		p.call(uint32(in.typeIdx))
	case (op == opGlobalGet || op == opGlobalSet) && rw.hasStackGlobal && in.globalIdx == rw.stackGlobal:
		if op == opGlobalGet {
			p.stack = append(p.stack, symVal{known: true, local: stackLocal})
			return
		}
		p.pop()
		if tee != 0 {
			p.nonStack[tee-1]-- // local.tee L ; global.set G: L holds a value of G
		}
	case op == opI32Const || op == opI64Const:
		c := (&reader{b: raw[1:]}).sleb(64)
		p.stack = append(p.stack, symVal{known: true, konst: true, delta: uint32(c)})
	case op == opI32Add || op == opI64Add || op == opI32Sub || op == opI64Sub:
		b, a := p.pop(), p.pop()
		switch sub := op == opI32Sub || op == opI64Sub; {
		case !a.known || !b.known || (!b.konst && (sub || !a.konst)):
			a = symVal{} // unknown: two locals, or a constant minus a local
		case !b.konst: // constant + local
			b.delta += a.delta
			a = b
		case sub:
			a.delta -= b.delta
		default:
			a.delta += b.delta
		}
		p.stack = append(p.stack, a)
	case op == opI32WrapI64 || op == opI64ExtendI32S || op == opI64ExtendI32U:
		// The low 32 bits stay the same; the type changes.
		if n := len(p.stack); n > 0 && p.stack[n-1].known {
			p.stack[n-1].conv = true
		}
	default:
		pops, pushes, ok := stackEffect(in)
		if !ok {
			p.stack = p.stack[:0] // br, br_table, return, unreachable, SIMD, ...
			return
		}
		p.popN(pops)
		p.pushN(pushes)
	}
}

// join extends the hull of the group that l (its leader) leads by store s and reports
// whether the hull is still at most a page; it is unchanged when not.
func (l *planStore) join(s planStore) bool {
	lo := min(l.offset, s.offset)
	end := max(uint64(l.offset)+uint64(l.size), uint64(s.offset)+uint64(s.size))
	if end-uint64(lo) > TrackedPageSize {
		return false
	}
	l.offset, l.size = lo, uint32(end-uint64(lo))
	return true
}

// localIndex decodes the index immediate of local.get, local.set or local.tee.
func localIndex(b []byte) uint32 {
	r := &reader{b: b}
	return r.u32()
}

// finish returns the plan of the body visited. A leader's offset and size are its group's
// hull by now.
func (pl *planner) finish() *storePlan {
	stores, loopParent, writes := pl.stores, pl.loopParent, pl.writes
	p := &storePlan{acts: make([]storeAct, len(stores)), hoists: make([][]hoist, len(loopParent))}
	// The stack covers a store off a value of the stack global (see the top of this file),
	// unless the store leads a group one of whose stores it does not cover.
	onStack := make([]bool, len(stores))
	for i, s := range stores {
		onStack[i] = pl.onStack(s)
	}
	for i, s := range stores {
		if s.lead != i && !onStack[i] {
			onStack[s.lead] = false
		}
	}
	// Loop-invariant addresses: the outermost loop around the store that does not write the
	// local, looking outward from the innermost while none does. A group's stores share the
	// local and the innermost loop, so they are hoisted together: the leader carries the
	// hull.
	hoisted := make([]bool, len(stores))
	for i, s := range stores {
		if !s.addr.plain() || s.loop < 0 || s.lead != i || onStack[i] {
			continue
		}
		target, depth := int32(-1), 0
		for lp := s.loop; lp >= 0 && depth < maxPlanLoopDepth; lp, depth = loopParent[lp], depth+1 {
			if writes[uint64(lp)<<32|uint64(s.addr.local)] {
				break
			}
			target = lp
		}
		if target >= 0 && p.hoist(target, s) {
			hoisted[i] = true
		}
	}
	for i, s := range stores {
		switch {
		case hoisted[s.lead]:
			p.acts[i].kind = actSkip
			p.hoisted++
		case onStack[i]:
			p.acts[i].kind = actSkip
			p.stack++
			p.stackSpan = max(p.stackSpan, s.addr.delta+s.offset+s.size) // at most MaxStackSpan
		case s.lead != i:
			p.acts[i].kind = actSkip
			p.grouped++
			l := &p.acts[s.lead]
			*l = storeAct{kind: actLead, lo: stores[s.lead].offset, span: stores[s.lead].size}
		}
	}
	for _, a := range p.acts {
		p.checks = p.checks || a.kind != actSkip
	}
	for _, hs := range p.hoists {
		p.checks = p.checks || len(hs) > 0
	}
	return p
}

// onStack reports whether the stack covers store s: its address operand is a value the stack
// global held plus a delta, with delta + offset + size at most MaxStackSpan.
func (pl *planner) onStack(s planStore) bool {
	a := s.addr
	if !a.known || a.konst || uint64(a.delta)+uint64(s.offset)+uint64(s.size) > MaxStackSpan {
		return false
	}
	return a.local == stackLocal || (a.local >= pl.params && int(a.local) < len(pl.nonStack) && pl.nonStack[a.local] == 0)
}

// hoist adds store s to the checks at the entry of loop lp, merging it into one off the same
// local when the hull stays within a page; false when the loop has its maximum of checks.
func (p *storePlan) hoist(lp int32, s planStore) bool {
	hs := p.hoists[lp]
	for i := range hs {
		h := &hs[i]
		if h.local != s.addr.local {
			continue
		}
		lo := min(h.lo, s.offset)
		end := max(uint64(h.lo)+uint64(h.span), uint64(s.offset)+uint64(s.size))
		if end-uint64(lo) <= TrackedPageSize {
			h.lo, h.span = lo, uint32(end-uint64(lo))
			return true
		}
	}
	if len(hs) >= maxLoopHoists {
		return false
	}
	p.hoists[lp] = append(hs, hoist{local: s.addr.local, lo: s.offset, span: s.size})
	return true
}

// stackEffect returns how many values an instruction that is not a control instruction, a
// call, a store or a local instruction pops and pushes; ok is false for those it does not
// model.
func stackEffect(in instr) (pops, pushes int, ok bool) {
	op := in.op
	switch {
	case op == 0x01: // nop
		return 0, 0, true
	case op == opDrop:
		return 1, 0, true
	case op == 0x1B || op == opSelectT:
		return 3, 1, true
	case op == opGlobalGet:
		return 0, 1, true
	case op == opGlobalSet:
		return 1, 0, true
	case op == opTableGet:
		return 1, 1, true
	case op == opTableSet:
		return 2, 0, true
	case op >= 0x28 && op <= 0x35: // loads
		return 1, 1, true
	case op == 0x3F: // memory.size
		return 0, 1, true
	case op == 0x40: // memory.grow
		return 1, 1, true
	case op >= opI32Const && op <= 0x44: // constants
		return 0, 1, true
	case op == opI32Eqz || op == 0x50: // i32.eqz, i64.eqz
		return 1, 1, true
	case op >= 0x46 && op <= 0x66: // comparisons
		return 2, 1, true
	case op >= 0x67 && op <= 0x69, op >= 0x79 && op <= 0x7B, op >= 0x8B && op <= 0x91, op >= 0x99 && op <= 0x9F:
		return 1, 1, true // clz, ctz, popcnt; float unary operators
	case op >= 0x6A && op <= 0x78, op >= 0x7C && op <= 0x8A, op >= 0x92 && op <= 0x98, op >= 0xA0 && op <= 0xA6:
		return 2, 1, true // binary operators
	case op >= 0xA7 && op <= 0xC4: // conversions, reinterpretations, sign extension
		return 1, 1, true
	case op == opRefNull || op == opRefFunc:
		return 0, 1, true
	case op == opRefIsNull:
		return 1, 1, true
	case op == opPrefixMisc:
		switch in.sub {
		case 0, 1, 2, 3, 4, 5, 6, 7: // saturating truncations
			return 1, 1, true
		case miscMemoryInit, miscMemoryCopy, miscMemoryFill, miscTableInit, miscTableCopy, miscTableFill:
			return 3, 0, true
		case miscDataDrop, miscElemDrop:
			return 0, 0, true
		case miscTableGrow:
			return 2, 1, true
		case miscTableSize:
			return 0, 1, true
		}
	}
	return 0, 0, false
}
