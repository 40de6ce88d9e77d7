package wasmgen

import (
	"encoding/binary"
	"math"
)

// A minimal WebAssembly encoder: an emitter for instruction sequences and a builder for the
// sections of one module. It knows only what the generators of this package use; it checks
// nothing (wazero's validation, in the tests, does).

// valType is a value type (or reference type) in its binary encoding.
type valType byte

const (
	tI32     valType = 0x7F
	tI64     valType = 0x7E
	tF32     valType = 0x7D
	tF64     valType = 0x7C
	tFuncref valType = 0x70
)

func (t valType) String() string {
	switch t {
	case tI32:
		return "i32"
	case tI64:
		return "i64"
	case tF32:
		return "f32"
	case tF64:
		return "f64"
	case tFuncref:
		return "funcref"
	}
	return "?"
}

// Opcodes, named as in the text format with '.' and '_' dropped.
const (
	opUnreachable  = 0x00
	opBlock        = 0x02
	opLoop         = 0x03
	opIf           = 0x04
	opElse         = 0x05
	opEnd          = 0x0B
	opBr           = 0x0C
	opBrIf         = 0x0D
	opCall         = 0x10
	opCallIndirect = 0x11
	opDrop         = 0x1A
	opSelect       = 0x1B
	opLocalGet     = 0x20
	opLocalSet     = 0x21
	opLocalTee     = 0x22
	opGlobalGet    = 0x23
	opGlobalSet    = 0x24
	opTableGet     = 0x25
	opTableSet     = 0x26

	opI32Load    = 0x28
	opI64Load    = 0x29
	opF32Load    = 0x2A
	opF64Load    = 0x2B
	opI32Load8S  = 0x2C
	opI32Load8U  = 0x2D
	opI32Load16U = 0x2F
	opI64Load8U  = 0x31
	opI64Load16S = 0x32
	opI64Load32U = 0x35
	opI32Store   = 0x36
	opI64Store   = 0x37
	opF32Store   = 0x38
	opF64Store   = 0x39
	opI32Store8  = 0x3A
	opI32Store16 = 0x3B
	opI64Store8  = 0x3C
	opI64Store16 = 0x3D
	opI64Store32 = 0x3E
	opMemorySize = 0x3F
	opMemoryGrow = 0x40

	opI32Const = 0x41
	opI64Const = 0x42
	opF32Const = 0x43
	opF64Const = 0x44

	opI32Eqz    = 0x45
	opI32Eq     = 0x46
	opI32Ne     = 0x47
	opI32LtU    = 0x49
	opI32GtU    = 0x4B
	opI32GeU    = 0x4F
	opI32Clz    = 0x67
	opI32Popcnt = 0x69
	opI32Add    = 0x6A
	opI32Sub    = 0x6B
	opI32Mul    = 0x6C
	opI32DivS   = 0x6D
	opI32DivU   = 0x6E
	opI32RemU   = 0x70
	opI32And    = 0x71
	opI32Or     = 0x72
	opI32Xor    = 0x73
	opI32Shl    = 0x74
	opI32ShrU   = 0x76
	opI32Rotl   = 0x77
	opI64Add    = 0x7C
	opI64Mul    = 0x7E
	opI64DivS   = 0x7F
	opI64RemU   = 0x82
	opI64Or     = 0x84
	opI64Xor    = 0x85
	opI64Shl    = 0x86
	opI64ShrU   = 0x88
	opI64Rotl   = 0x89

	opI32WrapI64      = 0xA7
	opI64ExtendI32U   = 0xAD
	opF32ConvertI32S  = 0xB2
	opF64ConvertI32S  = 0xB7
	opI32ReinterpretF = 0xBC
	opI64ReinterpretF = 0xBD
	opF32ReinterpretI = 0xBE
	opF64ReinterpretI = 0xBF
	opI32Extend8S     = 0xC0
	opRefNull         = 0xD0
	opRefIsNull       = 0xD1
	opRefFunc         = 0xD2
	opPrefixFC        = 0xFC
)

// blockVoid is the block type of a block without results.
const blockVoid byte = 0x40

// Sub-opcodes after the 0xFC prefix.
const (
	fcMemoryInit = 8
	fcDataDrop   = 9
	fcMemoryCopy = 10
	fcMemoryFill = 11
	fcTableInit  = 12
	fcElemDrop   = 13
	fcTableCopy  = 14
	fcTableGrow  = 15
	fcTableSize  = 16
	fcTableFill  = 17
)

// emitter appends instructions to a function body or a constant expression.
type emitter struct{ b []byte }

func (e *emitter) op(ops ...byte) { e.b = append(e.b, ops...) }

func (e *emitter) u32(v uint32) { e.b = binary.AppendUvarint(e.b, uint64(v)) }

// sleb appends v in signed LEB128.
func (e *emitter) sleb(v int64) {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			e.b = append(e.b, c)
			return
		}
		e.b = append(e.b, c|0x80)
	}
}

// opIdx appends an instruction with one index immediate (local.get, call, br, …).
func (e *emitter) opIdx(op byte, idx uint32) { e.op(op); e.u32(idx) }

func (e *emitter) i32c(v int32) { e.op(opI32Const); e.sleb(int64(v)) }
func (e *emitter) i64c(v int64) { e.op(opI64Const); e.sleb(v) }
func (e *emitter) f32c(bits uint32) {
	e.op(opF32Const)
	e.b = binary.LittleEndian.AppendUint32(e.b, bits)
}
func (e *emitter) f64c(bits uint64) {
	e.op(opF64Const)
	e.b = binary.LittleEndian.AppendUint64(e.b, bits)
}

// u32c appends i32.const with the bits of v.
func (e *emitter) u32c(v uint32) { e.i32c(int32(v)) }

func (e *emitter) localGet(i uint32)  { e.opIdx(opLocalGet, i) }
func (e *emitter) localSet(i uint32)  { e.opIdx(opLocalSet, i) }
func (e *emitter) localTee(i uint32)  { e.opIdx(opLocalTee, i) }
func (e *emitter) globalGet(i uint32) { e.opIdx(opGlobalGet, i) }
func (e *emitter) globalSet(i uint32) { e.opIdx(opGlobalSet, i) }
func (e *emitter) call(f uint32)      { e.opIdx(opCall, f) }

// mem appends a load or store with its memarg (alignment as a power of two, offset).
func (e *emitter) mem(op byte, align, offset uint32) { e.op(op); e.u32(align); e.u32(offset) }

// fc appends a 0xFC-prefixed instruction and its index immediates.
func (e *emitter) fc(sub uint32, imms ...uint32) {
	e.op(opPrefixFC)
	e.u32(sub)
	for _, x := range imms {
		e.u32(x)
	}
}

func (e *emitter) memorySize()                { e.op(opMemorySize, 0) }
func (e *emitter) memoryGrow()                { e.op(opMemoryGrow, 0) }
func (e *emitter) memoryFill()                { e.fc(fcMemoryFill, 0) }
func (e *emitter) memoryCopy()                { e.fc(fcMemoryCopy, 0, 0) }
func (e *emitter) memoryInit(seg uint32)      { e.fc(fcMemoryInit, seg, 0) }
func (e *emitter) dataDrop(seg uint32)        { e.fc(fcDataDrop, seg) }
func (e *emitter) tableGet(t uint32)          { e.opIdx(opTableGet, t) }
func (e *emitter) tableSet(t uint32)          { e.opIdx(opTableSet, t) }
func (e *emitter) tableSize(t uint32)         { e.fc(fcTableSize, t) }
func (e *emitter) tableGrow(t uint32)         { e.fc(fcTableGrow, t) }
func (e *emitter) tableFill(t uint32)         { e.fc(fcTableFill, t) }
func (e *emitter) tableCopy(dst, src uint32)  { e.fc(fcTableCopy, dst, src) }
func (e *emitter) tableInit(seg, t uint32)    { e.fc(fcTableInit, seg, t) }
func (e *emitter) elemDrop(seg uint32)        { e.fc(fcElemDrop, seg) }
func (e *emitter) refNull()                   { e.op(opRefNull, byte(tFuncref)) }
func (e *emitter) refFunc(f uint32)           { e.opIdx(opRefFunc, f) }
func (e *emitter) callIndirect(typ, t uint32) { e.op(opCallIndirect); e.u32(typ); e.u32(t) }

// memBytes appends memory.size in bytes (pages << 16).
func (e *emitter) memBytes() { e.memorySize(); e.i32c(16); e.op(opI32Shl) }

// funcType is a function signature.
type funcType struct{ params, results []valType }

func (t funcType) key() string { return string(t.params) + "|" + string(t.results) }

type importDef struct {
	module, name string
	typ          uint32
}

type funcDef struct {
	typ    uint32
	locals []valType // after the parameters
	body   []byte    // without the final end
}

type limits struct {
	min, max uint32
	hasMax   bool
}

type globalDef struct {
	t    valType
	mut  bool
	init []byte // constant expression without its end
}

// Export kinds.
const (
	extFunc   = 0
	extTable  = 1
	extMemory = 2
	extGlobal = 3
)

type exportDef struct {
	name string
	kind byte
	idx  uint32
}

// builder collects the parts of a module that defines at most one memory.
type builder struct {
	types    []funcType
	imports  []importDef // functions only
	funcs    []funcDef
	tables   []limits // funcref
	memory   *limits
	globals  []globalDef
	exports  []exportDef
	start    int      // function index, or -1
	elems    [][]byte // encoded element segments
	datas    [][]byte // encoded data segments
	useCount bool     // emit a data count section
}

// typeIdx returns the index of the type params -> results, adding it when new.
func (b *builder) typeIdx(params, results []valType) uint32 {
	t := funcType{params, results}
	for i, u := range b.types {
		if u.key() == t.key() {
			return uint32(i)
		}
	}
	b.types = append(b.types, t)
	return uint32(len(b.types) - 1)
}

func appendVec[T any](out []byte, items []T, enc func([]byte, T) []byte) []byte {
	out = binary.AppendUvarint(out, uint64(len(items)))
	for _, it := range items {
		out = enc(out, it)
	}
	return out
}

func appendLimits(out []byte, l limits) []byte {
	if l.hasMax {
		out = append(out, 1)
		out = binary.AppendUvarint(out, uint64(l.min))
		return binary.AppendUvarint(out, uint64(l.max))
	}
	return binary.AppendUvarint(append(out, 0), uint64(l.min))
}

func appendBytes(out, b []byte) []byte {
	return append(binary.AppendUvarint(out, uint64(len(b))), b...)
}

// encode returns the module's binary encoding.
func (b *builder) encode() []byte {
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = section(m, 1, appendVec(nil, b.types, func(o []byte, t funcType) []byte {
		o = append(o, 0x60)
		o = appendBytes(o, valBytes(t.params))
		return appendBytes(o, valBytes(t.results))
	}))
	if len(b.imports) > 0 {
		m = section(m, 2, appendVec(nil, b.imports, func(o []byte, im importDef) []byte {
			o = appendName(o, im.module)
			o = appendName(o, im.name)
			return binary.AppendUvarint(append(o, extFunc), uint64(im.typ))
		}))
	}
	m = section(m, 3, appendVec(nil, b.funcs, func(o []byte, f funcDef) []byte {
		return binary.AppendUvarint(o, uint64(f.typ))
	}))
	if len(b.tables) > 0 {
		m = section(m, 4, appendVec(nil, b.tables, func(o []byte, l limits) []byte {
			return appendLimits(append(o, byte(tFuncref)), l)
		}))
	}
	if b.memory != nil {
		m = section(m, 5, appendLimits([]byte{1}, *b.memory))
	}
	if len(b.globals) > 0 {
		m = section(m, 6, appendVec(nil, b.globals, func(o []byte, g globalDef) []byte {
			o = append(o, byte(g.t), 0)
			if g.mut {
				o[len(o)-1] = 1
			}
			return append(append(o, g.init...), opEnd)
		}))
	}
	m = section(m, 7, appendVec(nil, b.exports, func(o []byte, x exportDef) []byte {
		return binary.AppendUvarint(append(appendName(o, x.name), x.kind), uint64(x.idx))
	}))
	if b.start >= 0 {
		m = section(m, 8, binary.AppendUvarint(nil, uint64(b.start)))
	}
	if len(b.elems) > 0 {
		m = section(m, 9, appendVec(nil, b.elems, func(o, seg []byte) []byte { return append(o, seg...) }))
	}
	if b.useCount {
		m = section(m, 12, binary.AppendUvarint(nil, uint64(len(b.datas))))
	}
	m = section(m, 10, appendVec(nil, b.funcs, func(o []byte, f funcDef) []byte {
		var body []byte
		// Locals, run-length encoded.
		var groups [][2]int
		for _, t := range f.locals {
			if n := len(groups); n > 0 && groups[n-1][1] == int(t) {
				groups[n-1][0]++
			} else {
				groups = append(groups, [2]int{1, int(t)})
			}
		}
		body = appendVec(body, groups, func(o []byte, g [2]int) []byte {
			return append(binary.AppendUvarint(o, uint64(g[0])), byte(g[1]))
		})
		body = append(append(body, f.body...), opEnd)
		return appendBytes(o, body)
	}))
	if len(b.datas) > 0 {
		m = section(m, 11, appendVec(nil, b.datas, func(o, seg []byte) []byte { return append(o, seg...) }))
	}
	return m
}

func valBytes(ts []valType) []byte {
	b := make([]byte, len(ts))
	for i, t := range ts {
		b[i] = byte(t)
	}
	return b
}

// Element segment encodings (the flags field of the binary format).
const (
	elemActive0Funcs  = 0 // active in table 0, offset, vec(funcidx)
	elemPassiveFuncs  = 1 // passive, elemkind, vec(funcidx)
	elemActiveFuncs   = 2 // active in table x, offset, elemkind, vec(funcidx)
	elemDeclaredFuncs = 3 // declarative, elemkind, vec(funcidx)
	elemPassiveExprs  = 5 // passive, reftype, vec(expr)
	elemActiveExprs   = 6 // active in table x, offset, reftype, vec(expr)
)

// nullFunc stands for ref.null in an element segment's list of functions.
const nullFunc = math.MaxUint32

// Data segment encodings.
const (
	dataActive0        = 0 // active in memory 0, offset, bytes
	dataPassive        = 1 // passive, bytes
	dataActiveExplicit = 2 // active in memory x, offset, bytes
)

// elemSegment encodes an element segment. funcs holds function indices, nullFunc for
// ref.null (only with the expression encodings).
func elemSegment(flags byte, table, offset uint32, funcs []uint32) []byte {
	o := []byte{flags}
	if flags == elemActiveFuncs || flags == elemActiveExprs {
		o = binary.AppendUvarint(o, uint64(table))
	}
	if flags == elemActive0Funcs || flags == elemActiveFuncs || flags == elemActiveExprs {
		e := emitter{b: o}
		e.u32c(offset)
		o = append(e.b, opEnd)
	}
	switch flags {
	case elemPassiveFuncs, elemActiveFuncs, elemDeclaredFuncs:
		o = append(o, 0) // elemkind funcref
	case elemPassiveExprs, elemActiveExprs:
		o = append(o, byte(tFuncref))
	}
	exprs := flags == elemPassiveExprs || flags == elemActiveExprs
	return appendVec(o, funcs, func(o []byte, f uint32) []byte {
		if !exprs {
			return binary.AppendUvarint(o, uint64(f))
		}
		e := emitter{b: o}
		if f == nullFunc {
			e.refNull()
		} else {
			e.refFunc(f)
		}
		return append(e.b, opEnd)
	})
}

// dataSegment encodes a data segment: passive, or active at offset in memory 0.
func dataSegment(flags byte, offset uint32, bytes []byte) []byte {
	o := []byte{flags}
	if flags == dataActiveExplicit {
		o = append(o, 0)
	}
	if flags != dataPassive {
		e := emitter{b: o}
		e.u32c(offset)
		o = append(e.b, opEnd)
	}
	return appendBytes(o, bytes)
}
