package wasmbin

// Subsections of the "name" custom section keyed by function index.
const (
	nameFunctions = 1 // name map: function index -> name
	nameLocals    = 2 // indirect name map: function index -> local index -> name
	nameLabels    = 3 // indirect name map: function index -> label index -> name
)

// names returns the payload of the "name" custom section, which r holds after its name, with
// function indices renumbered. A subsection keyed by function index that does not parse is
// dropped, and so is every subsection after one whose size runs past the end; nil means the
// whole section is dropped, since wazero rejects a module whose name section does not parse.
func (rw *rewriter) names(r *reader) []byte {
	out := appendName(nil, "name")
	kept := 0
	for r.off < len(r.b) {
		id := r.byte1()
		size := r.u32()
		start := r.off
		r.bytesN(int(size))
		if r.err != nil {
			break
		}
		sub := &reader{b: r.b[start:r.off]}
		var payload []byte
		switch id {
		case nameFunctions:
			payload = rw.nameMap(sub, nil, true)
		case nameLocals, nameLabels:
			n := sub.vecCount(2)
			payload = appendU32(nil, n)
			for i := uint32(0); i < n && sub.err == nil; i++ {
				payload = appendU32(payload, rw.fnName(sub.u32()))
				payload = rw.nameMap(sub, payload, false)
			}
		default:
			payload, sub.off = sub.b, len(sub.b)
		}
		if sub.err != nil || sub.off != len(sub.b) {
			continue // drop just this subsection
		}
		out = append(out, id)
		out = appendU32(out, uint32(len(payload)))
		out = append(out, payload...)
		kept++
	}
	r.off, r.err = len(r.b), nil
	if kept == 0 {
		return nil
	}
	return out
}

// nameMap copies a name map from r to dst, renumbering its indices as function indices when
// funcs is true.
func (rw *rewriter) nameMap(r *reader, dst []byte, funcs bool) []byte {
	n := r.vecCount(2)
	dst = appendU32(dst, n)
	for i := uint32(0); i < n && r.err == nil; i++ {
		idx := r.u32()
		if funcs {
			idx = rw.fnName(idx)
		}
		dst = appendU32(dst, idx)
		dst = appendName(dst, r.name())
	}
	return dst
}
