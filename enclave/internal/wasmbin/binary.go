package wasmbin

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrUnsupported is wrapped by every error about a well-formed module that uses a feature
// [Instrument] does not handle: threads and atomics, shared memory, memory64, multi-memory,
// exception handling, typed function references and GC.
var ErrUnsupported = errors.New("unsupported wasm feature")

// ErrTooLarge is wrapped by errors about a module that needs more of something than its
// caps allow (see [Options.MaxTableEntries]).
var ErrTooLarge = errors.New("module exceeds a cap")

// Section ids beyond those ExportMutableGlobals needs.
const (
	secType      = 1
	secFunction  = 3
	secTable     = 4
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
	exportFunc   = 0 // export/import kind of a function
)

// Value types.
const (
	valI32       = 0x7F
	valI64       = 0x7E
	valF32       = 0x7D
	valF64       = 0x7C
	valV128      = 0x7B
	valFuncref   = 0x70
	valExternref = 0x6F
	blockEmpty   = 0x40 // the empty block type
	funcTypeForm = 0x60 // introduces a function type in the type section
)

// isValType reports whether b is one of the value types of WebAssembly 2.0.
func isValType(b byte) bool {
	switch b {
	case valI32, valI64, valF32, valF64, valV128, valFuncref, valExternref:
		return true
	}
	return false
}

// valType reads a value type; anything else (GC reference types, for example) is unsupported.
func (r *reader) valType() byte {
	b := r.byte1()
	if r.err == nil && !isValType(b) {
		r.unsupported("value type %#x", b)
	}
	return b
}

// refType reads a reference type (funcref or externref).
func (r *reader) refType() byte {
	b := r.byte1()
	if r.err == nil && b != valFuncref && b != valExternref {
		r.unsupported("reference type %#x", b)
	}
	return b
}

// sleb reads a signed LEB128 of the given width in bits (32, 33 or 64) and checks that it fits.
func (r *reader) sleb(bits int) int64 {
	maxBytes := (bits + 6) / 7
	var v uint64
	for i := 0; i < maxBytes; i++ {
		c := r.byte1()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 != 0 {
			continue
		}
		if i == maxBytes-1 {
			// The unused high bits of the last byte must copy the sign bit.
			used := uint(bits - 7*i)
			upper := (c & 0x7f) >> used
			if sign := (c >> (used - 1)) & 1; (sign == 0 && upper != 0) || (sign == 1 && upper != 0x7f>>used) {
				r.fail("signed LEB128 out of range for %d bits", bits)
				return 0
			}
		}
		if shift := 7 * (i + 1); shift < 64 && c&0x40 != 0 {
			v |= ^uint64(0) << shift // sign-extend
		}
		return int64(v)
	}
	r.fail("signed LEB128 longer than %d bytes", maxBytes)
	return 0
}

// limitsChecked reads the limits of a memory or table and rejects shared and 64-bit ones.
func (r *reader) limitsChecked(what string) (minimum uint64) {
	if r.err == nil && r.off < len(r.b) {
		switch flags := r.b[r.off]; {
		case flags > 0x07:
			// limits reports it.
		case flags&0x04 != 0:
			r.unsupported("64-bit %s (memory64)", what)
		case flags&0x02 != 0:
			r.unsupported("shared %s (threads)", what)
		}
	}
	minimum, _, _ = r.limits()
	return minimum
}

func appendU32(b []byte, v uint32) []byte { return binary.AppendUvarint(b, uint64(v)) }

// appendS32 appends v as a signed LEB128.
func appendS32(b []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// appendSection appends a section with its id and size.
func appendSection(b []byte, id byte, payload []byte) []byte {
	b = append(b, id)
	b = appendU32(b, uint32(len(payload)))
	return append(b, payload...)
}

// vecCount reads the length of a vector and checks that it can hold that many entries of at
// least minSize bytes each, so that a corrupt count fails at once instead of after a long loop.
func (r *reader) vecCount(minSize int) uint32 {
	n := r.u32()
	if r.err == nil && uint64(n)*uint64(minSize) > uint64(len(r.b)-r.off) {
		r.fail("vector of %d entries runs past the end", n)
		return 0
	}
	return n
}

// wrapErr adds context to a decoding error: errors wrapping ErrUnsupported keep it, every other
// one wraps ErrMalformed.
func wrapErr(err error, format string, args ...any) error {
	ctx := fmt.Sprintf(format, args...)
	if errors.Is(err, ErrUnsupported) {
		return fmt.Errorf("wasmbin: %s: %w", ctx, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrMalformed, ctx, err)
}
