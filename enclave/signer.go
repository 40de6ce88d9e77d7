package enclave

import (
	"crypto/rsa"
	"fmt"
	"sync"
	"time"

	"github.com/reclave/reclave/enclave/internal/sgx"
)

// Signer signs enclaves as their author does when building them: it produces the SIGSTRUCT
// (RSA-3072, public exponent 3) that EINIT checks against the measured enclave before it
// lets the enclave start. MRSIGNER, the SHA-256 of its modulus, identifies the author in
// attestation policies. Signatures are made once per measurement and kept, as an author ships
// one signed enclave; the first cold start of a new measurement records the signing as phase
// "sign", which is not part of a real launch. A Signer is safe for concurrent use.
type Signer struct {
	key *rsa.PrivateKey
	// ISVProdID and ISVSVN are the product id and security version signed into every enclave.
	ISVProdID, ISVSVN uint16
	// Debug signs debug enclaves (a verifier's policy refuses them unless told otherwise).
	Debug bool

	mu   sync.Mutex
	sigs map[[32]byte]*sgx.SigStruct
}

// TestSigner returns a Signer with reclave's committed TEST key (as Intel's SDK ships one):
// its MRSIGNER is stable, so policies can pin it, but anyone can sign with it. Not for
// production.
func TestSigner() *Signer { return &Signer{key: sgx.TestSignerKey()} }

// LoadSigner reads a signer's private key (PEM, RSA-3072 with exponent 3).
func LoadSigner(path string) (*Signer, error) {
	key, err := sgx.LoadSignerKey(path)
	if err != nil {
		return nil, err
	}
	return &Signer{key: key}, nil
}

// MRSigner returns the signer's identity as SGX reports it.
func (s *Signer) MRSigner() [32]byte { return sgx.MRSigner(&s.key.PublicKey) }

func (s *Signer) attributes() sgx.Attributes {
	a := sgx.Attributes{Flags: sgx.AttrInit | sgx.AttrMode64Bit, XFRM: 0x3}
	if s.Debug {
		a.Flags |= sgx.AttrDebug
	}
	return a
}

// sigstruct returns the SIGSTRUCT for mrenclave, signing it the first time (signed reports
// whether it did).
func (s *Signer) sigstruct(mrenclave [32]byte) (sig *sgx.SigStruct, signed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sig, ok := s.sigs[mrenclave]; ok {
		return sig, false, nil
	}
	attrs := s.attributes()
	sig, err = sgx.Sign(s.key, sgx.SigFields{
		Vendor:        sgx.VendorOther,
		Date:          sgx.DateBCD(time.Now()),
		Attributes:    attrs,
		AttributeMask: sgx.Attributes{Flags: ^uint64(0), XFRM: ^uint64(0)},
		EnclaveHash:   mrenclave,
		ISVProdID:     s.ISVProdID,
		ISVSVN:        s.ISVSVN,
	})
	if err != nil {
		return nil, false, fmt.Errorf("sign enclave: %w", err)
	}
	if s.sigs == nil {
		s.sigs = map[[32]byte]*sgx.SigStruct{}
	}
	s.sigs[mrenclave] = sig
	return sig, true, nil
}
