package wasmbin

import (
	"errors"
	"os"
	"testing"
)

func TestImports(t *testing.T) {
	b, err := os.ReadFile("../../../workloads/counter/counter.wasm")
	if err != nil {
		t.Fatal(err)
	}
	imps, err := Imports(b)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, i := range imps {
		names[i.String()] = true
		if i.Kind != 0 {
			t.Errorf("%s: kind %d, want a function", i, i.Kind)
		}
	}
	if !names["wasi_snapshot_preview1.fd_read"] || !names["wasi_snapshot_preview1.fd_write"] || len(imps) != 2 {
		t.Fatalf("imports %v", imps)
	}
	if _, err := Imports([]byte("\x00asm\x01\x00\x00\x00\x02\x03\x01\x05a")); !errors.Is(err, ErrMalformed) {
		t.Fatalf("truncated import section: %v", err)
	}
}
