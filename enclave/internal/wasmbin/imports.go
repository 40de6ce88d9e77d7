package wasmbin

import "fmt"

// Import is one import of a module.
type Import struct {
	Module, Name string
	Kind         byte // 0 function, 1 table, 2 memory, 3 global, 4 tag
}

// String returns "module.name".
func (i Import) String() string { return i.Module + "." + i.Name }

// Imports lists the imports of module, in order.
func Imports(module []byte) ([]Import, error) {
	secs, err := sections(module)
	if err != nil {
		return nil, err
	}
	var out []Import
	for _, s := range secs {
		if s.id != secImport {
			continue
		}
		r := &reader{b: s.payload}
		n := r.u32()
		for j := uint32(0); j < n && r.err == nil; j++ {
			imp := Import{Module: r.name(), Name: r.name(), Kind: r.byte1()}
			switch imp.Kind {
			case 0:
				r.u32()
			case 1:
				r.byte1()
				r.limits()
			case 2:
				r.limits()
			case 3:
				r.byte1()
				r.byte1()
			case 4:
				r.byte1()
				r.u32()
			default:
				r.fail("import kind %#x", imp.Kind)
			}
			out = append(out, imp)
		}
		if r.err != nil {
			return nil, fmt.Errorf("%w: import section: %v", ErrMalformed, r.err)
		}
	}
	return out, nil
}
