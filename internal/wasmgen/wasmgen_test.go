package wasmgen

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
)

func TestPageToucher(t *testing.T) {
	tests := []struct {
		pages uint32
		touch int
		want  int // 4 KiB pages changed
	}{
		{1, 1, 1}, {1, 16, 16}, {1, 100, 16}, {4, 3, 3}, {16, 256, 256}, {2, 0, 0},
	}
	ctx := context.Background()
	for _, tt := range tests {
		rt := wazero.NewRuntime(ctx)
		mod, err := rt.Instantiate(ctx, PageToucher(tt.pages, tt.touch))
		if err != nil {
			t.Fatalf("%+v: %v", tt, err)
		}
		if got := mod.Memory().Size(); got != tt.pages*65536 {
			t.Fatalf("%+v: memory %d bytes", tt, got)
		}
		if _, err := mod.ExportedFunction("reclave_handle").Call(ctx); err != nil {
			t.Fatal(err)
		}
		mem, _ := mod.Memory().Read(0, tt.pages*65536)
		changed := 0
		for p := 0; p < len(mem); p += 4096 {
			for _, c := range mem[p : p+4096] {
				if c != 0 {
					changed++
					break
				}
			}
		}
		if changed != tt.want {
			t.Errorf("%+v: %d pages changed, want %d", tt, changed, tt.want)
		}
		rt.Close(ctx)
	}
}

func TestI32Const(t *testing.T) {
	for v, want := range map[int32]string{0: "\x41\x00", 63: "\x41\x3f", 64: "\x41\xc0\x00", -1: "\x41\x7f", 4096: "\x41\x80\x20", -65: "\x41\xbf\x7f"} {
		if got := string(i32Const(nil, v)); got != want {
			t.Errorf("i32.const %d = %x, want %x", v, got, want)
		}
	}
}
