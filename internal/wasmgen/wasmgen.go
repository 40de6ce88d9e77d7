package wasmgen

import "encoding/binary"

// PageToucher returns a reactor module (see the function ABI in workloads/README.md) whose
// linear memory starts at memPages 64 KiB pages and whose reclave_handle writes one byte with
// value 1 into each of touch 4 KiB pages, spread evenly over the memory. It imports nothing.
// touch is clipped to the number of 4 KiB pages in the memory.
func PageToucher(memPages uint32, touch int) []byte {
	pages4k := int(memPages) * 16
	touch = max(0, min(touch, pages4k))
	stride := 1
	if touch > 0 {
		stride = pages4k / touch
	}
	// body: (local $i i32)
	//   block loop
	//     local.get $i; i32.const touch; i32.ge_u; br_if 1
	//     local.get $i; i32.const stride*4096; i32.mul; i32.const 1; i32.store8
	//     local.get $i; i32.const 1; i32.add; local.set $i; br 0
	//   end end
	var code []byte
	code = append(code, 1, 1, 0x7F) // one local of type i32
	code = append(code, 0x02, 0x40, 0x03, 0x40)
	code = append(code, 0x20, 0)
	code = i32Const(code, int32(touch))
	code = append(code, 0x4F, 0x0D, 1)
	code = append(code, 0x20, 0)
	code = i32Const(code, int32(stride*4096))
	code = append(code, 0x6C)
	code = i32Const(code, 1)
	code = append(code, 0x3A, 0, 0) // i32.store8 align=0 offset=0
	code = append(code, 0x20, 0)
	code = i32Const(code, 1)
	code = append(code, 0x6A, 0x21, 0, 0x0C, 0)
	code = append(code, 0x0B, 0x0B, 0x0B)

	var m []byte
	m = append(m, "\x00asm\x01\x00\x00\x00"...)
	m = section(m, 1, []byte{1, 0x60, 0, 0})                                // type 0: () -> ()
	m = section(m, 3, []byte{1, 0})                                         // one function of type 0
	m = section(m, 5, binary.AppendUvarint([]byte{1, 0}, uint64(memPages))) // memory: min memPages
	exports := []byte{2}
	exports = appendName(exports, "memory")
	exports = append(exports, 2, 0)
	exports = appendName(exports, "reclave_handle")
	exports = append(exports, 0, 0)
	m = section(m, 7, exports)
	body := binary.AppendUvarint(nil, uint64(len(code)))
	m = section(m, 10, append([]byte{1}, append(body, code...)...))
	return m
}

func section(m []byte, id byte, payload []byte) []byte {
	m = append(m, id)
	m = binary.AppendUvarint(m, uint64(len(payload)))
	return append(m, payload...)
}

func appendName(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// i32Const appends i32.const v, its immediate in signed LEB128.
func i32Const(b []byte, v int32) []byte {
	b = append(b, 0x41)
	x := int64(v)
	for {
		c := byte(x & 0x7F)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
