// Package wzmem shrinks a wazero linear memory in place, which wazero's API does not offer:
// a Wasm memory never shrinks, but a rewind must give the guest back exactly the memory size
// of the snapshot without throwing the instance away.
//
// It reaches into wazero's internals — the memory instance's Buffer and Cap fields, and the
// module engine's MemoryGrown hook that refreshes the base and length the compiled code
// caches — through reflection, for the wazero version reclave pins (see go.mod). [Supported]
// checks the internals it needs once; callers fall back to re-creating the instance when it
// reports false, so a wazero upgrade that moves these internals degrades speed, not safety.
package wzmem

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/tetratelabs/wazero/api"
)

// ErrUnsupported is returned when the memory does not have the internals Shrink relies on.
var ErrUnsupported = errors.New("wzmem: this wazero memory cannot be shrunk in place")

// Shrink sets mem's size to pages 64 KiB pages, which must not exceed its current size. The
// bytes past the new size stay in the backing buffer; the caller owns clearing them (the
// allocator hands out zeroed bytes when the memory grows again only if they are zero).
func Shrink(mem api.Memory, pages uint32) error {
	v, err := instance(mem)
	if err != nil {
		return err
	}
	buf := v.FieldByName("Buffer")
	size := uint64(pages) * 65536
	if size > uint64(buf.Len()) {
		return fmt.Errorf("wzmem: shrink to %d pages: memory has only %d bytes", pages, buf.Len())
	}
	if size == uint64(buf.Len()) {
		return nil
	}
	buf.SetLen(int(size))
	v.FieldByName("Cap").SetUint(uint64(pages))
	eng := v.FieldByName("ownerModuleEngine")
	eng = reflect.NewAt(eng.Type(), unsafe.Pointer(eng.UnsafeAddr())).Elem()
	if eng.IsNil() {
		return nil // no compiled code caches the length (a memory not owned by a module engine)
	}
	grown := eng.MethodByName("MemoryGrown")
	if !grown.IsValid() {
		return ErrUnsupported
	}
	grown.Call(nil)
	return nil
}

// Supported reports whether Shrink can work on mem: it has the fields and hook Shrink uses,
// with the types it expects, and is not shared.
func Supported(mem api.Memory) bool {
	v, err := instance(mem)
	if err != nil {
		return false
	}
	eng := v.FieldByName("ownerModuleEngine")
	if !eng.IsValid() || eng.Kind() != reflect.Interface {
		return false
	}
	if _, ok := eng.Type().MethodByName("MemoryGrown"); !ok {
		return false
	}
	shared := v.FieldByName("Shared")
	return shared.IsValid() && shared.Kind() == reflect.Bool && !shared.Bool()
}

func instance(mem api.Memory) (reflect.Value, error) {
	if mem == nil {
		return reflect.Value{}, ErrUnsupported
	}
	p := reflect.ValueOf(mem)
	if p.Kind() != reflect.Pointer || p.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, ErrUnsupported
	}
	v := p.Elem()
	buf, c := v.FieldByName("Buffer"), v.FieldByName("Cap")
	if !buf.IsValid() || buf.Type() != reflect.TypeFor[[]byte]() || !buf.CanSet() ||
		!c.IsValid() || c.Kind() != reflect.Uint32 || !c.CanSet() {
		return reflect.Value{}, ErrUnsupported
	}
	return v, nil
}
