package attest

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"testing"
)

// Evidence signed by a simulated platform's quoting key is simulated even when its report
// claims otherwise: the host holds the simulated keys and could sign such a report.
func TestSimulatedRootOverridesFlag(t *testing.T) {
	p, err := NewSimulatedPlatform()
	if err != nil {
		t.Fatal(err)
	}
	raw := Report{TCBStatus: TCBUpToDate}.Marshal() // Simulated: false
	d := sha256.Sum256(raw)
	sig, err := ecdsa.SignASN1(rand.Reader, p.quoteKey, d[:])
	if err != nil {
		t.Fatal(err)
	}
	r, simulated, err := VerifyEvidence(&Evidence{Report: raw, QuotingCert: p.quoteCert.Raw, Signature: sig}, p.Root(), p.Root().NotBefore.Add(2*3600e9))
	if err != nil {
		t.Fatal(err)
	}
	if r.Simulated || !simulated {
		t.Fatalf("report flag %v, verdict %v: want the verdict simulated", r.Simulated, simulated)
	}
}

// An inner report the L0 key signed but that does not decode is malformed, not forged.
func TestSignedGarbageInner(t *testing.T) {
	k, err := NewL0Key()
	if err != nil {
		t.Fatal(err)
	}
	garbage := []byte("reclave-inner/1\x00 but far too short")
	d := sha256.Sum256(garbage)
	sig, _ := ecdsa.SignASN1(rand.Reader, k.priv, d[:])
	if _, err := VerifyInner(InnerReport{Report: garbage, Signature: sig}, k.Public()); !errors.Is(err, ErrMalformedBundle) {
		t.Fatalf("got %v", err)
	}
	if _, err := VerifyInner(InnerReport{Report: garbage, Signature: sig}, nil); !errors.Is(err, ErrBadInnerSignature) {
		t.Fatalf("nil key: %v", err)
	}
}
