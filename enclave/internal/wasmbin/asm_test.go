package wasmbin

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A test-only assembler: function bodies in a WAT-like flat syntax (one token stream of
// mnemonics and their immediates, "end" written out), and modules from a small description.
//
//	local.get 0  i32.const 7  i32.store offset=3  block void  br 0  end  end
//
// Immediates: numbers; memory accesses take optional "offset=N" and "align=N"; block types are
// void, i32, i64, f32, f64, v128, funcref, externref or type=N; lane stores take the lane
// number after the memarg; v128.const takes four i32 lanes; br_table takes every following
// number (the last one is the default).

// testOp is how to encode one mnemonic: its opcode bytes and the kinds of its immediates.
type testOp struct {
	code []byte
	imm  string // u u32, s s32, S s64, f f32, d f64, b block type, m memarg, z zero byte, l lane, x 4×i32 lanes, V labels, t types, r reftype
}

var testOps = map[string]testOp{}

func init() {
	def := func(name, imm string, code ...byte) { testOps[name] = testOp{code, imm} }
	def("unreachable", "", 0x00)
	def("nop", "", 0x01)
	def("block", "b", 0x02)
	def("loop", "b", 0x03)
	def("if", "b", 0x04)
	def("else", "", 0x05)
	def("end", "", 0x0B)
	def("br", "u", 0x0C)
	def("br_if", "u", 0x0D)
	def("br_table", "V", 0x0E)
	def("return", "", 0x0F)
	def("call", "u", 0x10)
	def("call_indirect", "uu", 0x11) // type, table
	def("return_call", "u", 0x12)
	def("return_call_indirect", "uu", 0x13)
	def("drop", "", 0x1A)
	def("select", "", 0x1B)
	def("select_t", "t", 0x1C)
	def("local.get", "u", 0x20)
	def("local.set", "u", 0x21)
	def("local.tee", "u", 0x22)
	def("global.get", "u", 0x23)
	def("global.set", "u", 0x24)
	def("table.get", "u", 0x25)
	def("table.set", "u", 0x26)
	for i, name := range []string{"i32.load", "i64.load", "f32.load", "f64.load", "i32.load8_s", "i32.load8_u",
		"i32.load16_s", "i32.load16_u", "i64.load8_s", "i64.load8_u", "i64.load16_s", "i64.load16_u",
		"i64.load32_s", "i64.load32_u", "i32.store", "i64.store", "f32.store", "f64.store", "i32.store8",
		"i32.store16", "i64.store8", "i64.store16", "i64.store32"} {
		def(name, "m", byte(0x28+i))
	}
	def("memory.size", "z", 0x3F)
	def("memory.grow", "z", 0x40)
	def("i32.const", "s", 0x41)
	def("i64.const", "S", 0x42)
	def("f32.const", "f", 0x43)
	def("f64.const", "d", 0x44)
	for op, name := range map[byte]string{0x45: "i32.eqz", 0x46: "i32.eq", 0x47: "i32.ne", 0x49: "i32.lt_u",
		0x4B: "i32.gt_u", 0x4D: "i32.le_u", 0x4F: "i32.ge_u", 0x50: "i64.eqz", 0x6A: "i32.add", 0x6B: "i32.sub",
		0x6C: "i32.mul", 0x6E: "i32.div_u", 0x70: "i32.rem_u", 0x71: "i32.and", 0x72: "i32.or", 0x73: "i32.xor", 0x74: "i32.shl",
		0x76: "i32.shr_u", 0x7C: "i64.add", 0x7E: "i64.mul", 0xA7: "i32.wrap_i64", 0xAD: "i64.extend_i32_u",
		0xB3: "f32.convert_i32_u", 0xB8: "f64.convert_i32_u", 0xC0: "i32.extend8_s"} {
		def(name, "", op)
	}
	def("ref.null", "r", 0xD0)
	def("ref.is_null", "", 0xD1)
	def("ref.func", "u", 0xD2)
	def("i32.trunc_sat_f32_s", "", 0xFC, 0)
	def("memory.init", "uz", 0xFC, 8)
	def("data.drop", "u", 0xFC, 9)
	def("memory.copy", "zz", 0xFC, 10)
	def("memory.fill", "z", 0xFC, 11)
	def("table.init", "uu", 0xFC, 12) // elem, table
	def("elem.drop", "u", 0xFC, 13)
	def("table.copy", "uu", 0xFC, 14)
	def("table.grow", "u", 0xFC, 15)
	def("table.size", "u", 0xFC, 16)
	def("table.fill", "u", 0xFC, 17)
	def("v128.load", "m", 0xFD, 0)
	def("v128.store", "m", 0xFD, 11)
	def("v128.const", "x", 0xFD, 12)
	def("i32x4.splat", "", 0xFD, 17)
	def("i32x4.extract_lane", "l", 0xFD, 27)
	def("v128.store8_lane", "ml", 0xFD, 88)
	def("v128.store16_lane", "ml", 0xFD, 89)
	def("v128.store32_lane", "ml", 0xFD, 90)
	def("v128.store64_lane", "ml", 0xFD, 91)
}

var testValTypes = map[string]byte{"i32": 0x7F, "i64": 0x7E, "f32": 0x7D, "f64": 0x7C, "v128": 0x7B, "funcref": 0x70, "externref": 0x6F}

// asm assembles a flat instruction sequence; it panics on a mistake in the test's source.
func asm(src string) []byte {
	toks := strings.Fields(src)
	var out []byte
	next := func() string {
		if len(toks) == 0 {
			panic("asm: missing immediate in " + src)
		}
		t := toks[0]
		toks = toks[1:]
		return t
	}
	num := func(s string) int64 {
		v, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			u, uerr := strconv.ParseUint(s, 0, 64)
			if uerr != nil {
				panic(fmt.Sprintf("asm: bad number %q in %s", s, src))
			}
			v = int64(u)
		}
		return v
	}
	isNum := func() bool {
		if len(toks) == 0 {
			return false
		}
		_, err := strconv.ParseInt(toks[0], 0, 64)
		return err == nil
	}
	for len(toks) > 0 {
		mn := next()
		op, ok := testOps[mn]
		if !ok {
			panic("asm: unknown mnemonic " + mn)
		}
		out = append(out, op.code...)
		for _, k := range op.imm {
			switch k {
			case 'u':
				out = binary.AppendUvarint(out, uint64(num(next())))
			case 's', 'S':
				out = testSLEB(out, num(next()))
			case 'f':
				v, _ := strconv.ParseFloat(next(), 32)
				out = binary.LittleEndian.AppendUint32(out, math.Float32bits(float32(v)))
			case 'd':
				v, _ := strconv.ParseFloat(next(), 64)
				out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
			case 'b':
				t := next()
				if vt, ok := testValTypes[t]; ok {
					out = append(out, vt)
				} else if t == "void" {
					out = append(out, 0x40)
				} else if idx, ok := strings.CutPrefix(t, "type="); ok {
					out = testSLEB(out, num(idx))
				} else {
					panic("asm: bad block type " + t)
				}
			case 'm':
				var align, offset int64
				for len(toks) > 0 {
					if v, ok := strings.CutPrefix(toks[0], "offset="); ok {
						offset = num(v)
					} else if v, ok := strings.CutPrefix(toks[0], "align="); ok {
						align = num(v)
					} else {
						break
					}
					toks = toks[1:]
				}
				out = binary.AppendUvarint(out, uint64(align))
				out = binary.AppendUvarint(out, uint64(offset))
			case 'z':
				out = append(out, 0)
			case 'l':
				out = append(out, byte(num(next())))
			case 'x':
				for range 4 {
					out = binary.LittleEndian.AppendUint32(out, uint32(num(next())))
				}
			case 'V':
				var labels []int64
				for isNum() {
					labels = append(labels, num(next()))
				}
				out = binary.AppendUvarint(out, uint64(len(labels)-1))
				for _, l := range labels {
					out = binary.AppendUvarint(out, uint64(l))
				}
			case 't':
				out = append(out, 1, testValTypes[next()])
			case 'r':
				out = append(out, testValTypes[next()])
			}
		}
	}
	return out
}

// testSLEB appends a signed LEB128 (written independently of the package's encoder).
func testSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func uleb(v uint32) []byte { return binary.AppendUvarint(nil, uint64(v)) }

// testFunc is a function defined by a modSpec.
type testFunc struct {
	typ    uint32
	locals string // value types of its locals, one each, e.g. "i32 i64"
	body   string // asm source; "end" is added
	export string
	name   string // for the "name" section
}

// modSpec describes a module; bytes assembles it.
type modSpec struct {
	types     []string // "i32 i32 -> i32"
	imports   [][]byte // encoded import entries (see funcImport)
	funcs     []testFunc
	tables    [][]byte // encoded table types, e.g. {0x70, 0, 4}
	memory    []byte   // encoded limits of memory 0, nil for none
	globals   []string // "mut i32 = i32.const 5" or "i32 = ..."
	exports   [][]byte // extra encoded export entries
	start     *uint32  // index of the start function
	elems     [][]byte // encoded element segments
	datas     [][]byte // encoded data segments
	dataCount bool
	names     bool     // emit a "name" section with function and local names
	customs   [][]byte // extra custom section payloads (name included)
}

func funcImport(mod, field string, typ uint32) []byte {
	return cat(name(mod), name(field), []byte{0}, uleb(typ))
}

func vec(entries [][]byte) []byte {
	out := uleb(uint32(len(entries)))
	for _, e := range entries {
		out = append(out, e...)
	}
	return out
}

func (m *modSpec) importedFuncs() uint32 {
	n := uint32(0)
	for _, imp := range m.imports {
		r := &reader{b: imp}
		r.name()
		r.name()
		if r.byte1() == 0 {
			n++
		}
	}
	return n
}

func (m *modSpec) bytes() []byte {
	var secs [][]byte
	add := func(id byte, payload []byte) { secs = append(secs, append([]byte{id}, payload...)) }
	var types [][]byte
	for _, t := range m.types {
		params, results, _ := strings.Cut(t, "->")
		e := []byte{0x60}
		for _, part := range []string{params, results} {
			var vts []byte
			for _, f := range strings.Fields(part) {
				vts = append(vts, testValTypes[f])
			}
			e = append(append(e, uleb(uint32(len(vts)))...), vts...)
		}
		types = append(types, e)
	}
	if len(types) > 0 {
		add(1, vec(types))
	}
	if len(m.imports) > 0 {
		add(2, vec(m.imports))
	}
	var fsec, code, exports [][]byte
	nimp := m.importedFuncs()
	for i, f := range m.funcs {
		fsec = append(fsec, uleb(f.typ))
		var locals [][]byte
		for _, l := range strings.Fields(f.locals) {
			locals = append(locals, []byte{1, testValTypes[l]})
		}
		body := append(vec(locals), asm(f.body+" end")...)
		code = append(code, append(uleb(uint32(len(body))), body...))
		if f.export != "" {
			exports = append(exports, cat(name(f.export), []byte{0}, uleb(nimp+uint32(i))))
		}
	}
	if len(fsec) > 0 {
		add(3, vec(fsec))
	}
	if len(m.tables) > 0 {
		add(4, vec(m.tables))
	}
	if m.memory != nil {
		add(5, vec([][]byte{m.memory}))
		exports = append(exports, cat(name("memory"), []byte{2, 0}))
	}
	if len(m.globals) > 0 {
		var gs [][]byte
		for _, g := range m.globals {
			decl, init, _ := strings.Cut(g, "=")
			f := strings.Fields(decl)
			mut := byte(0)
			if f[0] == "mut" {
				mut, f = 1, f[1:]
			}
			gs = append(gs, cat([]byte{testValTypes[f[0]], mut}, asm(init+" end")))
		}
		add(6, vec(gs))
	}
	exports = append(exports, m.exports...)
	if len(exports) > 0 {
		add(7, vec(exports))
	}
	if m.start != nil {
		add(8, uleb(*m.start))
	}
	if len(m.elems) > 0 {
		add(9, vec(m.elems))
	}
	if m.dataCount {
		add(12, uleb(uint32(len(m.datas))))
	}
	if len(code) > 0 {
		add(10, vec(code))
	}
	if len(m.datas) > 0 {
		add(11, vec(m.datas))
	}
	if m.names {
		var fnames, lnames [][]byte
		for i, f := range m.funcs {
			if f.name != "" {
				fnames = append(fnames, cat(uleb(nimp+uint32(i)), name(f.name)))
			}
			var ls [][]byte
			for j := range strings.Fields(f.locals) {
				ls = append(ls, cat(uleb(uint32(j)), name(fmt.Sprintf("%s_l%d", f.name, j))))
			}
			if len(ls) > 0 {
				lnames = append(lnames, cat(uleb(nimp+uint32(i)), vec(ls)))
			}
		}
		sub := func(id byte, p []byte) []byte { return cat([]byte{id}, uleb(uint32(len(p))), p) }
		add(0, cat(name("name"), sub(0, name("testmod")), sub(1, vec(fnames)), sub(2, vec(lnames))))
	}
	for _, c := range m.customs {
		add(0, c)
	}
	return module(secs...)
}
