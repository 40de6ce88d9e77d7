// Package wasmbin reads and rewrites WebAssembly binary modules at the level reclave needs.
// Its jobs:
//
//   - make every piece of guest state that a rewind must restore reachable through wazero's
//     public API: wazero can set only exported mutable globals, so [ExportMutableGlobals]
//     exports the ones the module keeps to itself (C's __stack_pointer, for example);
//   - let the runtime learn which 4 KiB pages of linear memory an invocation wrote, without
//     scanning memory or taking page faults: [Instrument] rewrites every function so that each
//     write to memory marks its page in a table the guest cannot name (after a one-compare
//     check against the page marked last; one check for a run of stores off the same local,
//     and one before a loop for its stores at an address the loop does not change), which the
//     host reads after the invocation; and flags the changes to tables and segments that a
//     rewind of memory and globals cannot undo;
//   - let the runtime stop a running invocation, and let the Go runtime stop the world while
//     one runs: [Instrument] adds budget checks at loop headers and function entries that call
//     the host now and then.
//
// It follows the WebAssembly core specification 2.0 binary format, with the extended-constant
// and memory64 limits encodings, and for [Instrument] the full instruction set of 2.0 (sign
// extension, non-trapping conversions, bulk memory, reference types, fixed-width SIMD) plus
// tail calls. The layers: sections and the reader (this file and binary.go), the instruction
// decoder (instr.go), and the rewrites on top (instrument.go for the module, body.go for
// function bodies, plan.go for the stores whose check another covers, names.go). It
// validates only what it parses; wazero validates the rest when it compiles the rewritten
// module.
package wasmbin

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Section ids.
const (
	secCustom    = 0
	secImport    = 2
	secGlobal    = 6
	secMemory    = 5
	secExport    = 7
	exportGlobal = 3 // export/import kind of a global
)

// ErrMalformed is wrapped by every error about a module that cannot be parsed.
var ErrMalformed = errors.New("malformed wasm module")

// Global is a mutable global defined by the module, as exported by [ExportMutableGlobals].
type Global struct {
	Index   uint32 // index in the module's global index space (imported globals first)
	Export  string // the export name to reach it by
	ValType byte   // 0x7F i32, 0x7E i64, 0x7D f32, 0x7C f64, 0x7B v128, 0x70 funcref, 0x6F externref
}

// Info is what reclave needs to know of a module before it compiles it.
type Info struct {
	// ImportedMutableGlobals are imported globals declared mutable (their state is the host's).
	ImportedMutableGlobals int
	// ImportsMemory is true when the module imports its linear memory instead of defining it.
	ImportsMemory bool
	// MemoryMinPages is the initial size of the module's own linear memory, in 64 KiB pages;
	// HasMemory is false when the module defines none.
	MemoryMinPages uint64
	HasMemory      bool
	// MutableGlobals are the module's own mutable globals and their export names in the
	// rewritten module.
	MutableGlobals []Global
}

type section struct {
	id      byte
	payload []byte
	off     int // offset of the payload in the module
}

// ExportMutableGlobals returns a copy of module in which every mutable global the module
// defines is exported: under its existing export name if it has one, otherwise under
// "__reclave_global_<index>". Nothing else changes.
func ExportMutableGlobals(module []byte) ([]byte, *Info, error) {
	secs, err := sections(module)
	if err != nil {
		return nil, nil, err
	}
	info := &Info{}
	var importedGlobals uint32
	var globals []Global
	exportIdx := -1
	existing := map[uint32]string{} // global index -> export name
	names := map[string]bool{}
	var exportEntries [][]byte
	for i, s := range secs {
		r := &reader{b: s.payload, base: s.off}
		switch s.id {
		case secImport:
			n := r.u32()
			for j := uint32(0); j < n && r.err == nil; j++ {
				r.name()
				r.name()
				switch kind := r.byte1(); kind {
				case 0: // func
					r.u32()
				case 1: // table
					r.byte1()
					r.limits()
				case 2: // memory
					r.limits()
					info.ImportsMemory = true
				case 3: // global
					r.byte1()
					if r.byte1() == 1 {
						info.ImportedMutableGlobals++
					}
					importedGlobals++
				case 4: // tag
					r.byte1()
					r.u32()
				default:
					r.fail("import kind %#x", kind)
				}
			}
		case secMemory:
			n := r.u32()
			for j := uint32(0); j < n && r.err == nil; j++ {
				minPages, _, _ := r.limits()
				if j == 0 {
					info.HasMemory, info.MemoryMinPages = true, minPages
				}
			}
		case secGlobal:
			n := r.u32()
			for j := uint32(0); j < n && r.err == nil; j++ {
				vt := r.byte1()
				mut := r.byte1()
				r.constExpr()
				if mut == 1 {
					globals = append(globals, Global{Index: importedGlobals + j, ValType: vt})
				} else if mut != 0 {
					r.fail("global mutability %#x", mut)
				}
			}
		case secExport:
			exportIdx = i
			n := r.u32()
			for j := uint32(0); j < n && r.err == nil; j++ {
				start := r.off
				name := r.name()
				kind := r.byte1()
				idx := r.u32()
				exportEntries = append(exportEntries, s.payload[start:r.off])
				names[name] = true
				if kind == exportGlobal {
					if _, ok := existing[idx]; !ok {
						existing[idx] = name
					}
				}
			}
		default:
			continue
		}
		if r.err == nil && r.off != len(r.b) {
			r.fail("%d trailing bytes in section %d", len(r.b)-r.off, s.id)
		}
		if r.err != nil {
			return nil, nil, fmt.Errorf("%w: section %d: %v", ErrMalformed, s.id, r.err)
		}
	}

	added := 0
	for i := range globals {
		g := &globals[i]
		if name, ok := existing[g.Index]; ok {
			g.Export = name
			continue
		}
		g.Export = fmt.Sprintf("__reclave_global_%d", g.Index)
		for names[g.Export] {
			g.Export += "_"
		}
		names[g.Export] = true
		var e []byte
		e = appendName(e, g.Export)
		e = append(e, exportGlobal)
		e = binary.AppendUvarint(e, uint64(g.Index))
		exportEntries = append(exportEntries, e)
		added++
	}
	info.MutableGlobals = globals
	if added == 0 {
		return bytes.Clone(module), info, nil
	}

	payload := binary.AppendUvarint(nil, uint64(len(exportEntries)))
	for _, e := range exportEntries {
		payload = append(payload, e...)
	}
	exp := section{id: secExport, payload: payload}
	if exportIdx >= 0 {
		secs[exportIdx] = exp
	} else {
		// Insert before the first non-custom section that must follow the export section.
		at := len(secs)
		for i, s := range secs {
			if s.id != secCustom && order(s.id) > order(secExport) {
				at = i
				break
			}
		}
		secs = slices.Insert(secs, at, exp)
	}
	out := append([]byte(nil), module[:8]...)
	for _, s := range secs {
		out = append(out, s.id)
		out = binary.AppendUvarint(out, uint64(len(s.payload)))
		out = append(out, s.payload...)
	}
	return out, info, nil
}

// order is a section's position in the order the specification requires.
func order(id byte) int {
	switch id {
	case 13: // tag: after memory, before global
		return 55
	case 12: // data count: after element, before code
		return 95
	case 10:
		return 100
	case 11:
		return 110
	}
	return int(id) * 10
}

func sections(module []byte) ([]section, error) {
	if len(module) < 8 || !bytes.Equal(module[:4], []byte("\x00asm")) {
		return nil, fmt.Errorf("%w: no \\0asm magic number", ErrMalformed)
	}
	if v := binary.LittleEndian.Uint32(module[4:8]); v != 1 {
		return nil, fmt.Errorf("%w: binary version %d, want 1", ErrMalformed, v)
	}
	var out []section
	r := &reader{b: module, off: 8}
	for r.off < len(r.b) && r.err == nil {
		id := r.byte1()
		size := r.u32()
		if r.err == nil && uint64(r.off)+uint64(size) > uint64(len(r.b)) {
			r.fail("section %d of %d bytes runs past the end", id, size)
			break
		}
		if r.err != nil {
			break
		}
		out = append(out, section{id: id, payload: r.b[r.off : r.off+int(size)], off: r.off})
		r.off += int(size)
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, r.err)
	}
	return out, nil
}

func appendName(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader decodes the binary format; the first error sticks and later reads return zero.
type reader struct {
	b    []byte
	off  int
	base int // offset of b in the module, for error messages
	err  error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("at byte %d: "+format, append([]any{r.base + r.off}, args...)...)
	}
}

// unsupported records an error wrapping [ErrUnsupported]: the module is well-formed but uses a
// feature the instrumentation does not handle.
func (r *reader) unsupported(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("at byte %d: %w: "+format, append([]any{r.base + r.off, ErrUnsupported}, args...)...)
	}
}

func (r *reader) byte1() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) bytesN(n int) {
	if r.err != nil {
		return
	}
	if n < 0 || r.off+n > len(r.b) {
		r.fail("unexpected end")
		return
	}
	r.off += n
}

// leb reads an unsigned or signed LEB128 of at most maxBytes bytes and returns it unsigned.
func (r *reader) leb(maxBytes int) uint64 {
	var v uint64
	for i := 0; i < maxBytes; i++ {
		c := r.byte1()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v
		}
	}
	r.fail("LEB128 longer than %d bytes", maxBytes)
	return 0
}

func (r *reader) u32() uint32 {
	v := r.leb(5)
	if v > math.MaxUint32 {
		r.fail("u32 out of range")
		return 0
	}
	return uint32(v)
}

func (r *reader) name() string {
	n := r.u32()
	start := r.off
	r.bytesN(int(n))
	if r.err != nil {
		return ""
	}
	return string(r.b[start:r.off])
}

// limits reads a limits structure (min, optional max; u32, or u64 for memory64).
func (r *reader) limits() (minimum, maximum uint64, hasMax bool) {
	flags := r.byte1()
	if flags > 0x07 {
		r.fail("limits flags %#x", flags)
		return 0, 0, false
	}
	minimum = r.leb(10)
	if flags&1 != 0 {
		maximum, hasMax = r.leb(10), true
	}
	return minimum, maximum, hasMax
}

// constExpr skips a constant expression up to and including its end opcode.
func (r *reader) constExpr() { r.rewriteConstExpr(nil, nil) }

// rewriteConstExpr reads a constant expression up to and including its end opcode and, when fn
// is not nil, appends it to dst with the function index of every ref.func mapped by fn.
func (r *reader) rewriteConstExpr(dst []byte, fn func(uint32) uint32) []byte {
	for r.err == nil {
		start := r.off
		op := r.byte1()
		switch op {
		case 0x0B: // end
		case 0x41: // i32.const
			r.sleb(32)
		case 0x42: // i64.const
			r.sleb(64)
		case 0x43: // f32.const
			r.bytesN(4)
		case 0x44: // f64.const
			r.bytesN(8)
		case 0x23: // global.get
			r.u32()
		case 0xD2: // ref.func
			idx := r.u32()
			if fn != nil && r.err == nil {
				dst = append(dst, op)
				dst = appendU32(dst, fn(idx))
				continue
			}
		case 0xD0: // ref.null t
			r.byte1()
		case 0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E: // extended-const: i32/i64 add, sub, mul
		case 0xFD: // v128.const
			if sub := r.u32(); sub != 12 {
				r.fail("opcode 0xFD %d in a constant expression", sub)
				return dst
			}
			r.bytesN(16)
		default:
			r.fail("opcode %#x in a constant expression", op)
			return dst
		}
		if fn != nil && r.err == nil {
			dst = append(dst, r.b[start:r.off]...)
		}
		if op == 0x0B {
			break
		}
	}
	return dst
}
