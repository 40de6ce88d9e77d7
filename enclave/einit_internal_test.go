package enclave

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/reclave/reclave/enclave/internal/sgx"
)

// TestEInitRefuses: an enclave whose SIGSTRUCT does not match its measurement, or whose
// signature is broken, does not start.
func TestEInitRefuses(t *testing.T) {
	wasm, err := os.ReadFile("../workloads/counter/counter.wasm")
	if err != nil {
		t.Fatal(err)
	}
	fn := Function{Name: "counter", Wasm: wasm}
	s := TestSigner()
	cfg := Config{MemoryBytes: 4 << 20, Reset: ResetNone, Signer: s}
	e, err := Create(context.Background(), cfg, fn)
	if err != nil {
		t.Fatal(err)
	}
	mr := e.MREnclave()
	e.Close(context.Background())

	other := mr
	other[0] ^= 1
	otherSig, _, err := s.sigstruct(other)
	if err != nil {
		t.Fatal(err)
	}
	broken := *s.sigs[mr]
	broken.Signature[7] ^= 0x40
	for name, tt := range map[string]struct {
		sig  *sgx.SigStruct
		want error
	}{
		"measurement of another enclave": {otherSig, sgx.ErrInvalidMeasurement},
		"broken signature":               {&broken, sgx.ErrInvalidSignature},
	} {
		t.Run(name, func(t *testing.T) {
			s.sigs[mr] = tt.sig
			e, err := Create(context.Background(), cfg, fn)
			if err == nil {
				e.Close(context.Background())
				t.Fatal("the enclave started")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
}
