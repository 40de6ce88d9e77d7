package wasmbin

// The instruction decoder: it reads one instruction of a function body, with all of its
// immediates, for the instruction set of WebAssembly 2.0 (with sign extension, non-trapping
// float-to-int conversions, bulk memory, reference types and fixed-width SIMD) plus tail calls.
// Opcodes of proposals the instrumentation does not handle are reported as unsupported.

// Opcodes the instrumentation reads or writes.
const (
	opUnreachable   = 0x00
	opBlock         = 0x02
	opLoop          = 0x03
	opIf            = 0x04
	opElse          = 0x05
	opEnd           = 0x0B
	opBr            = 0x0C
	opBrIf          = 0x0D
	opBrTable       = 0x0E
	opReturn        = 0x0F
	opCall          = 0x10
	opCallIndirect  = 0x11
	opReturnCall    = 0x12
	opReturnCallIn  = 0x13
	opDrop          = 0x1A
	opSelectT       = 0x1C
	opLocalGet      = 0x20
	opLocalSet      = 0x21
	opLocalTee      = 0x22
	opGlobalGet     = 0x23
	opGlobalSet     = 0x24
	opTableGet      = 0x25
	opTableSet      = 0x26
	opI32Const      = 0x41
	opI64Const      = 0x42
	opI32Eqz        = 0x45
	opI32Eq         = 0x46
	opI32Ne         = 0x47
	opI32LtU        = 0x49
	opI32GtU        = 0x4B
	opI32LeS        = 0x4C
	opI32GeU        = 0x4F
	opI64Eqz        = 0x50
	opI32Add        = 0x6A
	opI32Sub        = 0x6B
	opI32And        = 0x71
	opI32Xor        = 0x73
	opI32Shl        = 0x74
	opI32ShrU       = 0x76
	opI64Add        = 0x7C
	opI64Sub        = 0x7D
	opI64Or         = 0x84
	opI64Shl        = 0x86
	opI32WrapI64    = 0xA7
	opI64ExtendI32S = 0xAC
	opI64ExtendI32U = 0xAD
	opRefNull       = 0xD0
	opRefIsNull     = 0xD1
	opRefFunc       = 0xD2
	opPrefixGC      = 0xFB
	opPrefixMisc    = 0xFC
	opPrefixSIMD    = 0xFD
	opPrefixThread  = 0xFE
)

// Sub-opcodes after the 0xFC prefix.
const (
	miscMemoryInit = 8
	miscDataDrop   = 9
	miscMemoryCopy = 10
	miscMemoryFill = 11
	miscTableInit  = 12
	miscElemDrop   = 13
	miscTableCopy  = 14
	miscTableGrow  = 15
	miscTableSize  = 16
	miscTableFill  = 17
)

// Sub-opcodes after the 0xFD prefix that store to memory.
const (
	simdV128Store    = 11
	simdStore8Lane   = 88
	simdStore16Lane  = 89
	simdStore32Lane  = 90
	simdStore64Lane  = 91
	simdLastOpcode   = 0xFF  // f64x2.convert_low_i32x4_u
	simdRelaxedFirst = 0x100 // relaxed SIMD, not supported
	simdRelaxedLast  = 0x113
)

// instr is one decoded instruction.
type instr struct {
	op         byte      // the opcode, or the prefix of a prefixed opcode
	sub        uint32    // the sub-opcode after a 0xFC or 0xFD prefix
	funcIdx    uint32    // the function index of call, return_call and ref.func
	label      uint32    // the label of br and br_if
	typeIdx    int64     // the type index of call_indirect and return_call_indirect, or of the block type of block, loop and if; -1 for none
	globalIdx  uint32    // the global index of global.get and global.set
	tables     [2]uint32 // the table indices the instruction names, ntables of them
	ntables    int
	offset     uint32 // the static offset of a memory access
	start, end int    // the instruction's bytes in the function body
}

// table records a table index the instruction names.
func (in *instr) table(idx uint32) {
	in.tables[in.ntables] = idx
	in.ntables++
}

// instr reads one instruction.
func (r *reader) instr() instr {
	in := instr{start: r.off, typeIdx: -1}
	in.op = r.byte1()
	switch op := in.op; {
	case r.err != nil:
	case op == 0x00 || op == 0x01 || op == opElse || op == opEnd || op == opReturn || // unreachable, nop, else, end, return
		op == opDrop || op == 0x1B || op == 0xD1 || // drop, select, ref.is_null
		(op >= 0x45 && op <= 0xC4): // numeric instructions, sign extension included
	case op == opBlock || op == opLoop || op == opIf:
		in.typeIdx = r.blockType()
	case op == opBr || op == opBrIf:
		in.label = r.u32()
	case op == opBrTable:
		n := r.vecCount(1)
		for i := uint64(0); i <= uint64(n) && r.err == nil; i++ { // the labels and the default
			r.u32()
		}
	case op == opCall || op == opReturnCall || op == opRefFunc:
		in.funcIdx = r.u32()
	case op == opCallIndirect || op == opReturnCallIn:
		in.typeIdx = int64(r.u32())
		in.table(r.u32())
	case op == opSelectT:
		n := r.vecCount(1)
		for i := uint32(0); i < n && r.err == nil; i++ {
			r.valType()
		}
	case op >= opLocalGet && op <= opLocalTee:
		r.u32()
	case op == opGlobalGet || op == opGlobalSet:
		in.globalIdx = r.u32()
	case op == opTableGet || op == opTableSet:
		in.table(r.u32())
	case op >= 0x28 && op <= 0x3E: // loads and stores
		in.offset = r.memarg()
	case op == 0x3F || op == 0x40: // memory.size, memory.grow
		r.memIndex()
	case op == opI32Const:
		r.sleb(32)
	case op == 0x42: // i64.const
		r.sleb(64)
	case op == 0x43: // f32.const
		r.bytesN(4)
	case op == 0x44: // f64.const
		r.bytesN(8)
	case op == opRefNull:
		r.refType()
	case op == opPrefixMisc:
		in.sub = r.u32()
		r.miscImmediates(&in)
	case op == opPrefixSIMD:
		in.sub = r.u32()
		in.offset = r.simdImmediates(in.sub)
	case op == opPrefixThread:
		r.off = in.start // errors about the opcode point at it
		r.unsupported("threads and atomics (opcode 0xFE)")
	case op >= 0x06 && op <= 0x0A, op == 0x18 || op == 0x19 || op == 0x1F:
		r.off = in.start
		r.unsupported("exception handling (opcode %#x)", op)
	case op == 0x14 || op == 0x15, op >= 0xD3 && op <= 0xD6, op == opPrefixGC:
		r.off = in.start
		r.unsupported("typed function references or GC (opcode %#x)", op)
	default:
		r.off = in.start
		r.fail("unknown opcode %#x", op)
	}
	in.end = r.off
	return in
}

// blockType reads the type of a block, loop or if: empty, one value type, or a type index,
// which it returns (-1 for the others).
func (r *reader) blockType() (typeIdx int64) {
	if r.err != nil || r.off >= len(r.b) {
		r.byte1() // reports the end
		return -1
	}
	if b := r.b[r.off]; b == blockEmpty || isValType(b) {
		r.off++
		return -1
	}
	idx := r.sleb(33)
	if r.err == nil && idx < 0 {
		r.unsupported("block type %d", idx)
	}
	return idx
}

// memarg reads the alignment and offset of a memory access and returns the offset.
func (r *reader) memarg() uint32 {
	if align := r.u32(); r.err == nil && align&0x40 != 0 {
		r.unsupported("memory index in a memory access (multi-memory)")
	}
	return r.u32()
}

// memIndex reads the reserved memory index byte of memory.size, memory.grow and the bulk
// memory instructions, which is a memory index under multi-memory.
func (r *reader) memIndex() {
	if b := r.byte1(); r.err == nil && b != 0 {
		r.unsupported("memory index %d (multi-memory)", b)
	}
}

// miscImmediates reads the immediates of the instruction 0xFC in.sub.
func (r *reader) miscImmediates(in *instr) {
	switch in.sub {
	case 0, 1, 2, 3, 4, 5, 6, 7: // saturating truncations
	case miscMemoryInit:
		r.u32()
		r.memIndex()
	case miscDataDrop, miscElemDrop:
		r.u32()
	case miscTableGrow, miscTableSize, miscTableFill:
		in.table(r.u32())
	case miscMemoryCopy:
		r.memIndex()
		r.memIndex()
	case miscMemoryFill:
		r.memIndex()
	case miscTableInit:
		r.u32() // element segment
		in.table(r.u32())
	case miscTableCopy:
		in.table(r.u32())
		in.table(r.u32())
	default:
		r.fail("unknown opcode 0xFC %d", in.sub)
	}
}

// simdImmediates reads the immediates of the instruction 0xFD sub and returns the offset of its
// memory access, if any.
func (r *reader) simdImmediates(sub uint32) (offset uint32) {
	switch {
	case sub <= simdV128Store, sub == 92 || sub == 93: // loads, v128.store, load32/64_zero
		return r.memarg()
	case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
		r.bytesN(16)
	case sub >= 21 && sub <= 34: // extract_lane, replace_lane
		r.byte1()
	case sub >= 84 && sub <= simdStore64Lane: // load and store lane
		offset = r.memarg()
		r.byte1()
	case sub >= simdRelaxedFirst && sub <= simdRelaxedLast:
		r.unsupported("relaxed SIMD (opcode 0xFD %d)", sub)
	case sub > simdLastOpcode || simdHole(sub):
		r.fail("unknown opcode 0xFD %d", sub)
	}
	return offset
}

// simdHole reports whether sub is one of the unassigned opcodes among 0xFD 0..255.
func simdHole(sub uint32) bool {
	switch sub {
	case 154, 162, 165, 166, 175, 176, 178, 179, 180, 187, 194, 197, 198, 207, 208, 210, 211, 212, 226, 238:
		return true
	}
	return false
}

// storeAccess returns the value type and the size in bytes of a store instruction's access;
// ok is false when in does not store to memory.
func (in instr) storeAccess() (vt byte, size uint32, ok bool) {
	switch in.op {
	case 0x36: // i32.store
		return valI32, 4, true
	case 0x37: // i64.store
		return valI64, 8, true
	case 0x38: // f32.store
		return valF32, 4, true
	case 0x39: // f64.store
		return valF64, 8, true
	case 0x3A: // i32.store8
		return valI32, 1, true
	case 0x3B: // i32.store16
		return valI32, 2, true
	case 0x3C: // i64.store8
		return valI64, 1, true
	case 0x3D: // i64.store16
		return valI64, 2, true
	case 0x3E: // i64.store32
		return valI64, 4, true
	case opPrefixSIMD:
		switch in.sub {
		case simdV128Store:
			return valV128, 16, true
		case simdStore8Lane:
			return valV128, 1, true
		case simdStore16Lane:
			return valV128, 2, true
		case simdStore32Lane:
			return valV128, 4, true
		case simdStore64Lane:
			return valV128, 8, true
		}
	}
	return 0, 0, false
}

// bulkWrite reports whether in is memory.fill, memory.copy or memory.init, which write a range
// of memory given by the first and last of their three operands.
func (in instr) bulkWrite() bool {
	return in.op == opPrefixMisc && (in.sub == miscMemoryFill || in.sub == miscMemoryCopy || in.sub == miscMemoryInit)
}

// sized reports whether in is a bulk instruction whose last operand is a size: the number of
// bytes memory.fill, memory.copy and memory.init move, or the number of entries table.grow,
// table.fill, table.copy and table.init add or write.
func (in instr) sized() bool {
	if in.op != opPrefixMisc {
		return false
	}
	switch in.sub {
	case miscMemoryFill, miscMemoryCopy, miscMemoryInit, miscTableGrow, miscTableFill, miscTableCopy, miscTableInit:
		return true
	}
	return false
}

// sizeShift returns how a sized instruction's size converts to budget units (see
// [BulkShift]): bytes >> BulkShift, and table entries (8 bytes each) >> (BulkShift-3).
func (in instr) sizeShift() uint32 {
	switch in.sub {
	case miscMemoryFill, miscMemoryCopy, miscMemoryInit:
		return BulkShift
	}
	return BulkShift - 3
}

// changesState reports whether in changes instance state a rewind of memory and globals does
// not restore: a table's contents or size, or a dropped segment.
func (in instr) changesState() bool {
	if in.op == opTableSet {
		return true
	}
	if in.op != opPrefixMisc {
		return false
	}
	switch in.sub {
	case miscTableGrow, miscTableFill, miscTableCopy, miscTableInit, miscElemDrop, miscDataDrop:
		return true
	}
	return false
}
