package enclave_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
)

// TestCompartmentsSetting: the zero value is on; off switches the walls off; anything else
// is refused.
func TestCompartmentsSetting(t *testing.T) {
	tests := []struct {
		set     enclave.Compartments
		want    bool
		wantErr bool
	}{
		{"", true, false},
		{enclave.CompartmentsOn, true, false},
		{enclave.CompartmentsOff, false, false},
		{"sideways", false, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.set), func(t *testing.T) {
			e, err := enclave.Create(context.Background(), enclave.Config{MemoryBytes: testMemory, Compartments: tt.set}, counter(t))
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "compartments") {
					e.Close(context.Background())
					t.Fatalf("Compartments %q: error %v, want a refusal", tt.set, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close(context.Background())
			if e.Compartments() != tt.want {
				t.Fatalf("Compartments() = %v, want %v", e.Compartments(), tt.want)
			}
		})
	}
}

// TestGateCrossings: an enclave with an attestation key crosses one of L0's gates to make it
// and one per attested invocation; plain invocations and rewinds cross none; an enclave
// without a key crosses none at all. The same with compartments off (the gates run without
// mprotect).
func TestGateCrossings(t *testing.T) {
	platform, err := attest.NewSimulatedPlatform()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		quoter     bool
		attested   bool
		atCreation uint64
		perCall    uint64
	}{
		{"no key", false, false, 0, 0},
		{"key, plain invocations", true, false, 1, 0},
		{"key, attested invocations", true, true, 1, 1},
	}
	for _, comp := range []enclave.Compartments{enclave.CompartmentsOn, enclave.CompartmentsOff} {
		for _, tt := range tests {
			t.Run(string(comp)+"/"+tt.name, func(t *testing.T) {
				cfg := enclave.Config{MemoryBytes: testMemory, Compartments: comp}
				if tt.quoter {
					cfg.Quoter = platform
				}
				e, err := enclave.Create(context.Background(), cfg, counter(t))
				if err != nil {
					t.Fatal(err)
				}
				defer e.Close(context.Background())
				if got := e.GateCrossings(); got != tt.atCreation {
					t.Fatalf("after creation: %d crossings, want %d", got, tt.atCreation)
				}
				const calls = 3
				for i := 0; i < calls; i++ {
					var inv *enclave.Invocation
					if tt.attested {
						inv, err = e.InvokeAttested(context.Background(), []byte(`{}`), attest.NewNonce())
					} else {
						inv, err = e.Invoke(context.Background(), []byte(`{}`))
					}
					if err != nil {
						t.Fatal(err)
					}
					if inv.Reset != enclave.ResetRewind {
						t.Fatalf("reset %s, want rewind", inv.Reset)
					}
				}
				if got, want := e.GateCrossings(), tt.atCreation+calls*tt.perCall; got != want {
					t.Fatalf("after %d invocations: %d crossings, want %d", calls, got, want)
				}
			})
		}
	}
}

// TestImportNotGranted: with compartments on, a module importing a host function its
// allow-list does not grant is refused at load, naming it; with them off it loads, and the
// host function answers as reclave's host does (path_open: no file system).
func TestImportNotGranted(t *testing.T) {
	wasm, err := os.ReadFile("testdata/opens_file.wasm")
	if err != nil {
		t.Fatal(err)
	}
	fn := enclave.Function{Name: "opens-file", Wasm: wasm}
	for _, comp := range []enclave.Compartments{enclave.CompartmentsOn, enclave.CompartmentsOff} {
		t.Run(string(comp), func(t *testing.T) {
			e, err := enclave.Create(context.Background(), enclave.Config{MemoryBytes: testMemory, Compartments: comp}, fn)
			if comp == enclave.CompartmentsOn {
				if err == nil || !strings.Contains(err.Error(), "wasi_snapshot_preview1.path_open") {
					t.Fatalf("error %v, want a refusal naming wasi_snapshot_preview1.path_open", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("without the allow-list: %v", err)
			}
			defer e.Close(context.Background())
			if _, err := e.Invoke(context.Background(), nil); enclave.KindOf(err) != enclave.KindFunction {
				t.Fatalf("path_open without preopens: %v, want a non-zero status", err)
			}
		})
	}
}

// TestStubs: imports named in Function.Stubs are provided as host functions of the imported
// type that return zeros, with compartments on (where the allow-list grants them) and off;
// a module importing one that is not stubbed is refused; a stub shadowing a host function
// reclave implements, or in the runtime's own modules, is refused with a clear error.
func TestStubs(t *testing.T) {
	wasm, err := os.ReadFile("testdata/stubs.wasm")
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"env.get_time", "bench.start", "bench.end"}
	tests := []struct {
		name    string
		stubs   []string
		comp    enclave.Compartments
		wantErr string // "" for success: output of 12 zero bytes
	}{
		{"all stubbed", all, enclave.CompartmentsOn, ""},
		{"all stubbed, compartments off", all, enclave.CompartmentsOff, ""},
		{"extra stub the module does not import", append([]string{"env.unused"}, all...), enclave.CompartmentsOn, ""},
		{"none stubbed", nil, enclave.CompartmentsOn, "module imports 3 host function(s) the function is not allowed: env.get_time, bench.start, bench.end ("},
		{"none stubbed, compartments off", nil, enclave.CompartmentsOff, "module imports 3 host function(s) that nothing provides (reclave's WASI host has no such function): env.get_time, bench.start, bench.end; stub them"},
		{"one missing", all[:2], enclave.CompartmentsOn, "module imports 1 host function(s) the function is not allowed: bench.end ("},
		{"a real WASI function", append([]string{"wasi_snapshot_preview1.fd_write"}, all...), enclave.CompartmentsOn, "is a host function reclave implements"},
		{"in the WASI module", append([]string{"wasi_snapshot_preview1.get_time"}, all...), enclave.CompartmentsOn, "reclave's WASI host"},
		{"in the runtime's module", append([]string{"reclave.poll"}, all...), enclave.CompartmentsOn, "runtime's own"},
		{"not module.name", append([]string{"get_time"}, all...), enclave.CompartmentsOn, `want "module.name"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := enclave.Function{Name: "stubs", Wasm: wasm, Stubs: tt.stubs}
			e, err := enclave.Create(context.Background(), enclave.Config{MemoryBytes: testMemory, Compartments: tt.comp}, fn)
			if tt.wantErr != "" {
				if err == nil {
					e.Close(context.Background())
					t.Fatalf("created; want an error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
				}
				var ie *enclave.ImportError
				if strings.HasPrefix(tt.wantErr, "module imports") && (!errors.As(err, &ie) || len(ie.Refused) == 0 || !strings.Contains(err.Error(), "stub them")) {
					t.Fatalf("error %v: want an *ImportError that says how to stub", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close(context.Background())
			for i := 0; i < 2; i++ {
				inv, err := e.Invoke(context.Background(), nil)
				if err != nil {
					t.Fatal(err)
				}
				if want := string(make([]byte, 12)); string(inv.Output) != want {
					t.Fatalf("output %x, want 12 zero bytes (get_time() and bench.end(1, -1) stubbed)", inv.Output)
				}
			}
		})
	}
}
