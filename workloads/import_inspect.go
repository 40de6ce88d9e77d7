package workloads

import (
	"errors"
	"fmt"
	"strings"
)

// ModuleInfo is what [Inspect] reads from a WebAssembly module's binary: its imports, the
// functions it exports and the producers it names.
type ModuleInfo struct {
	// Imports are the module's imports, in order.
	Imports []ModuleImport
	// Exports are the names of the functions it exports, in order.
	Exports []string
	// Languages and Tools are the "language" and "processed-by" names of the producers
	// custom section (such as C99 and clang), without versions; empty without that section.
	Languages, Tools []string
}

// ModuleImport is one import of a module.
type ModuleImport struct {
	Module, Name string
	// Kind is func, table, memory, global or tag.
	Kind string
	// Params and Results are a function's value types (i32, i64, f32, f64, v128, funcref,
	// externref).
	Params, Results []string
}

// String returns "module.name".
func (i ModuleImport) String() string { return i.Module + "." + i.Name }

// Language is the manifest's language for the module, from its producers section: c, rust
// or other.
func (m *ModuleInfo) Language() string {
	for _, l := range m.Languages {
		switch {
		case strings.HasPrefix(l, "C") && !strings.HasPrefix(l, "C_plus_plus"):
			return "c"
		case l == "Rust":
			return "rust"
		}
	}
	return "other"
}

// LooksLikeC reports whether the module was compiled from C (or C++) by clang: its producers
// section says so.
func (m *ModuleInfo) LooksLikeC() bool {
	for _, l := range m.Languages {
		if strings.HasPrefix(l, "C") {
			return true
		}
	}
	return false
}

// Inspect reads the imports, exports and producers of a WebAssembly module (binary format,
// version 1). It checks only what it reads; a module it accepts may still fail to compile.
func Inspect(wasm []byte) (*ModuleInfo, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" || string(wasm[4:8]) != "\x01\x00\x00\x00" {
		return nil, errors.New("no WebAssembly binary header (version 1)")
	}
	info := &ModuleInfo{}
	var types [][2][]string
	var funcImports, funcsDefined uint32 // function indices: the imported ones first
	r := &wasmReader{b: wasm[8:]}
	for len(r.b) > 0 && r.err == nil {
		id := r.byte()
		size := r.u32()
		if r.err != nil || uint64(size) > uint64(len(r.b)) {
			return nil, errors.New("truncated section")
		}
		s := &wasmReader{b: r.b[:size]}
		r.b = r.b[size:]
		switch id {
		case 0: // custom
			if s.name() == "producers" {
				for n := s.u32(); n > 0 && s.err == nil; n-- {
					field := s.name()
					for m := s.u32(); m > 0 && s.err == nil; m-- {
						v := s.name()
						s.name() // version
						switch field {
						case "language":
							info.Languages = append(info.Languages, v)
						case "processed-by":
							info.Tools = append(info.Tools, v)
						}
					}
				}
				if s.err != nil { // a malformed custom section does not matter
					info.Languages, info.Tools = nil, nil
				}
			}
			continue
		case 1: // types
			for n := s.u32(); n > 0 && s.err == nil; n-- {
				if s.byte() != 0x60 {
					return nil, errors.New("type section: not a function type")
				}
				types = append(types, [2][]string{s.valTypes(), s.valTypes()})
			}
		case 2: // imports
			for n := s.u32(); n > 0 && s.err == nil; n-- {
				imp := ModuleImport{Module: s.name(), Name: s.name()}
				switch k := s.byte(); k {
				case 0:
					imp.Kind = "func"
					t := s.u32()
					if int(t) >= len(types) {
						return nil, fmt.Errorf("import %s: type %d out of range", imp, t)
					}
					imp.Params, imp.Results = types[t][0], types[t][1]
					funcImports++
				case 1:
					imp.Kind = "table"
					s.byte()
					s.limits()
				case 2:
					imp.Kind = "memory"
					s.limits()
				case 3:
					imp.Kind = "global"
					s.byte()
					s.byte()
				case 4:
					imp.Kind = "tag"
					s.byte()
					s.u32()
				default:
					return nil, fmt.Errorf("import %s: unknown kind %d", imp, k)
				}
				info.Imports = append(info.Imports, imp)
			}
		case 3: // functions
			for n := s.u32(); n > 0 && s.err == nil; n-- {
				s.u32() // the function's type
				funcsDefined++
			}
		case 7: // exports
			for n := s.u32(); n > 0 && s.err == nil; n-- {
				name, kind := s.name(), s.byte()
				idx := s.u32()
				if kind == 0 {
					if idx >= funcImports+funcsDefined {
						return nil, fmt.Errorf("export %s: function %d out of range", name, idx)
					}
					info.Exports = append(info.Exports, name)
				}
			}
		}
		if s.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, s.err)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return info, nil
}

// wasmReader reads the binary format; the first error sticks.
type wasmReader struct {
	b   []byte
	err error
}

func (r *wasmReader) fail() {
	if r.err == nil {
		r.err = errors.New("truncated or malformed")
	}
	r.b = nil
}

func (r *wasmReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// u32 reads an unsigned LEB128 number of at most 32 bits.
func (r *wasmReader) u32() uint32 {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if v > 0xffffffff {
				r.fail()
			}
			return uint32(v)
		}
	}
	r.fail()
	return 0
}

// u64 reads an unsigned LEB128 number of at most 64 bits (memory64 limits).
func (r *wasmReader) u64() {
	for i := 0; i < 10; i++ {
		if r.byte()&0x80 == 0 {
			return
		}
	}
	r.fail()
}

func (r *wasmReader) name() string {
	n := r.u32()
	if uint64(n) > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *wasmReader) limits() {
	flags := r.byte()
	r.u64()
	if flags&1 != 0 {
		r.u64()
	}
}

// valTypeNames are the names of the value types, by their encoding.
var valTypeNames = map[byte]string{0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref"}

func (r *wasmReader) valTypes() []string {
	n := r.u32()
	if uint64(n) > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	out := make([]string, 0, n)
	for ; n > 0 && r.err == nil; n-- {
		t := r.byte()
		name, ok := valTypeNames[t]
		if !ok {
			name = fmt.Sprintf("type 0x%02x", t)
		}
		out = append(out, name)
	}
	return out
}
