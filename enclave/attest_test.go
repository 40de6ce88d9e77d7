package enclave_test

import (
	"context"
	"errors"
	"testing"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
)

// TestInvokeAttested: every rewound invocation returns a bundle that a client verifies
// against the platform root and a policy pinning runtime, signer, function and clean state;
// epochs never repeat; a warm (never reset) enclave cannot pass for a rewound one.
func TestInvokeAttested(t *testing.T) {
	platform, err := attest.NewSimulatedPlatform()
	if err != nil {
		t.Fatal(err)
	}
	signer := enclave.TestSigner()
	newEnclave := func(reset enclave.Reset) *enclave.Enclave {
		e, err := enclave.Create(context.Background(), enclave.Config{MemoryBytes: testMemory, Reset: reset, Signer: signer, Quoter: platform}, counter(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close(context.Background()) })
		return e
	}
	e := newEnclave(enclave.ResetRewind)
	if other := newEnclave(enclave.ResetRewind); other.CleanStateHash() != e.CleanStateHash() {
		t.Fatal("two rewinding enclaves of the same C module publish different clean states")
	}
	policy := &attest.Policy{
		MRENCLAVE:      []attest.Digest{e.MREnclave()},
		MRSIGNER:       []attest.Digest{signer.MRSigner()},
		ModuleHash:     []attest.Digest{e.ModuleSHA256()},
		CleanStateHash: []attest.Digest{e.CleanStateHash()},
		AllowSimulated: true,
	}
	seq := attest.NewSequence()
	input := []byte(`{"user":"alice"}`)
	var last uint64
	for i := 0; i < 3; i++ {
		nonce := attest.NewNonce()
		inv, err := e.InvokeAttested(context.Background(), input, nonce)
		if err != nil {
			t.Fatal(err)
		}
		b, err := inv.Bundle.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		res, err := attest.Verify(b, attest.VerifyOptions{Root: platform.Root(), Policy: policy, Nonce: nonce, Input: input, Sequence: seq})
		if err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
		if string(res.Output) != string(inv.Output) || !res.Simulated {
			t.Fatalf("invocation %d: verified output %q, simulated %v", i, res.Output, res.Simulated)
		}
		if i > 0 && res.Inner.Epoch <= last {
			t.Fatalf("epoch %d after %d", res.Inner.Epoch, last)
		}
		last = res.Inner.Epoch
		// The same bundle presented again is a replay.
		if _, err := attest.Verify(b, attest.VerifyOptions{Root: platform.Root(), Policy: policy, Nonce: nonce, Input: input, Sequence: seq}); err == nil {
			t.Fatalf("invocation %d: a replayed bundle was accepted", i)
		}
	}

	warm := newEnclave(enclave.ResetNone)
	nonce := attest.NewNonce()
	inv, err := warm.InvokeAttested(context.Background(), input, nonce)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := inv.Bundle.Marshal()
	_, err = attest.Verify(b, attest.VerifyOptions{Root: platform.Root(), Policy: policy, Nonce: nonce, Input: input})
	if !errors.Is(err, attest.ErrPolicyCleanState) {
		t.Fatalf("a warm enclave's report: %v, want ErrPolicyCleanState", err)
	}

	plain, err := enclave.Create(context.Background(), enclave.Config{MemoryBytes: testMemory}, counter(t))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close(context.Background())
	if _, err := plain.InvokeAttested(context.Background(), input, nonce); err == nil {
		t.Fatal("an enclave without an attestation key produced a report")
	}
}

// fakeHardware stands in for egoquote.Quoter on SGX hardware: it "quotes" by keeping the
// report data it is asked to bind, and reports a fixed identity — that of the binary a real
// enclave would run — which is not the simulated layout's measurement.
type fakeHardware struct {
	identity attest.Report
	quoted   [][64]byte
}

func (h *fakeHardware) Quote(r attest.Report) (*attest.Evidence, error) {
	h.quoted = append(h.quoted, r.ReportData)
	return &attest.Evidence{Format: attest.FormatEGo, Report: []byte{byte(len(h.quoted) - 1)}}, nil
}

func (h *fakeHardware) Identity() (attest.Report, error) { return h.identity, nil }

// verifier returns what ego's VerifyRemoteReport would for the quotes h made.
func (h *fakeHardware) verifier(raw []byte) (attest.Report, error) {
	if len(raw) != 1 || int(raw[0]) >= len(h.quoted) {
		return attest.Report{}, errors.New("not a quote of this platform")
	}
	r := h.identity
	r.ReportData = h.quoted[raw[0]]
	return r, nil
}

// TestInvokeAttestedHardware: with a quoter that writes the hardware's identity into its
// evidence (attest.IdentityQuoter), the enclave takes that identity, so that its inner
// reports carry the same MRENCLAVE as the evidence, and a client with a hardware verifier
// accepts its bundles without a root and without allowing simulated evidence.
func TestInvokeAttestedHardware(t *testing.T) {
	hw := &fakeHardware{identity: attest.Report{ISVProdID: 1, ISVSVN: 1}}
	hw.identity.MRENCLAVE[0], hw.identity.MRSIGNER[0] = 0xaa, 0xbb
	e, err := enclave.Create(context.Background(), enclave.Config{MemoryBytes: testMemory, Reset: enclave.ResetRewind, Quoter: hw}, counter(t))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	if e.MREnclave() != hw.identity.MRENCLAVE || e.MRSigner() != hw.identity.MRSIGNER {
		t.Fatalf("enclave identity %x/%x, want the hardware's", e.MREnclave(), e.MRSigner())
	}
	nonce := attest.NewNonce()
	input := []byte(`{"user":"alice"}`)
	inv, err := e.InvokeAttested(context.Background(), input, nonce)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := inv.Bundle.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	policy := &attest.Policy{
		MRENCLAVE:      []attest.Digest{hw.identity.MRENCLAVE},
		ModuleHash:     []attest.Digest{e.ModuleSHA256()},
		CleanStateHash: []attest.Digest{e.CleanStateHash()},
	}
	res, err := attest.Verify(raw, attest.VerifyOptions{Policy: policy, Nonce: nonce, Input: input, Hardware: hw.verifier})
	if err != nil {
		t.Fatal(err)
	}
	if res.Simulated {
		t.Fatal("hardware evidence reported as simulated")
	}
	if _, err := attest.Verify(raw, attest.VerifyOptions{Policy: policy, Nonce: nonce, Input: input}); !errors.Is(err, attest.ErrNoHardwareVerifier) {
		t.Fatalf("without a hardware verifier: %v, want ErrNoHardwareVerifier", err)
	}
}
