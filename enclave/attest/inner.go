package attest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// InnerFields is what an inner report binds, per invocation.
type InnerFields struct {
	// MRENCLAVE is the runtime's measurement; it must equal the outer report's.
	MRENCLAVE [32]byte
	// ModuleHash is SHA-256 of the function's WebAssembly module, as given to the runtime.
	ModuleHash [32]byte
	// CleanStateHash identifies the published clean state (the snapshot) the enclave was
	// rewound to before this invocation.
	CleanStateHash [32]byte
	// Epoch counts the enclave's resets; every invocation of a rewinding enclave runs in a
	// new epoch, so one epoch attested twice means an invocation saw another's state.
	Epoch uint64
	// Nonce is the client's challenge.
	Nonce [32]byte
	// InputHash and OutputHash are SHA-256 of the invocation's input and output.
	InputHash  [32]byte
	OutputHash [32]byte
	// EnclaveID names the enclave (1 to 256 bytes); the outer REPORTDATA binds it.
	EnclaveID string
}

const (
	innerTag       = "reclave-inner/1\x00"
	innerFixedSize = 218
)

// Marshal encodes the inner report: 218 fixed bytes then the enclave id (integers
// little-endian). These are the bytes the L0 key signs.
//
//	offset size field
//	     0   16 "reclave-inner/1\0"
//	    16   32 MRENCLAVE
//	    48   32 module hash
//	    80   32 clean-state hash
//	   112    8 epoch (u64)
//	   120   32 nonce
//	   152   32 SHA-256 of the input
//	   184   32 SHA-256 of the output
//	   216    2 n = length of the enclave id (u16, 1..256)
//	   218    n enclave id
func (f InnerFields) Marshal() ([]byte, error) {
	if n := len(f.EnclaveID); n == 0 || n > maxIDLength {
		return nil, fmt.Errorf("enclave id of %d bytes, want 1..%d", n, maxIDLength)
	}
	b := make([]byte, innerFixedSize+len(f.EnclaveID))
	copy(b, innerTag)
	copy(b[16:], f.MRENCLAVE[:])
	copy(b[48:], f.ModuleHash[:])
	copy(b[80:], f.CleanStateHash[:])
	binary.LittleEndian.PutUint64(b[112:], f.Epoch)
	copy(b[120:], f.Nonce[:])
	copy(b[152:], f.InputHash[:])
	copy(b[184:], f.OutputHash[:])
	binary.LittleEndian.PutUint16(b[216:], uint16(len(f.EnclaveID)))
	copy(b[218:], f.EnclaveID)
	return b, nil
}

// ParseInnerFields decodes Marshal's encoding, strictly: tag, exact length.
func ParseInnerFields(b []byte) (InnerFields, error) {
	var f InnerFields
	if len(b) < innerFixedSize {
		return f, fmt.Errorf("inner report of %d bytes, want at least %d", len(b), innerFixedSize)
	}
	if string(b[:16]) != innerTag {
		return f, fmt.Errorf("inner report tag %q", b[:16])
	}
	n := int(binary.LittleEndian.Uint16(b[216:]))
	if n == 0 || n > maxIDLength || len(b) != innerFixedSize+n {
		return f, fmt.Errorf("inner report: enclave id of %d bytes in %d bytes", n, len(b))
	}
	copy(f.MRENCLAVE[:], b[16:])
	copy(f.ModuleHash[:], b[48:])
	copy(f.CleanStateHash[:], b[80:])
	f.Epoch = binary.LittleEndian.Uint64(b[112:])
	copy(f.Nonce[:], b[120:])
	copy(f.InputHash[:], b[152:])
	copy(f.OutputHash[:], b[184:])
	f.EnclaveID = string(b[218:])
	return f, nil
}

// InnerReport is a signed inner report.
type InnerReport struct {
	// Report is the InnerFields encoding (InnerFields.Marshal).
	Report []byte `json:"report"`
	// Signature is the L0 key's ECDSA P-256 signature (ASN.1 DER) over SHA-256(Report).
	Signature []byte `json:"signature"`
}

// L0Key is an enclave's attestation key (layer 0 of the nested chain): an ECDSA P-256 key
// generated inside the enclave when it is created, whose public half the outer evidence binds
// and whose private half signs the inner reports. It never leaves the enclave.
//
// A monitor that keeps the private half in protected memory seals the key ([L0Key.Seal]):
// the key then holds only its public half, and the monitor signs with
// [L0Key.SignInnerWith], passing the private scalar back inside its gate.
type L0Key struct {
	priv   *ecdsa.PrivateKey // nil once sealed
	pub    *ecdsa.PublicKey
	pubDER []byte
}

// ScalarSize is the size of an L0 key's private scalar (P-256), as Seal hands it out.
const ScalarSize = 32

// NewL0Key generates an L0 key.
func NewL0Key() (*L0Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("l0 key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("l0 key: %w", err)
	}
	return &L0Key{priv: priv, pub: &priv.PublicKey, pubDER: der}, nil
}

// PublicKeyDER returns the L0 public key, PKIX DER: the bytes REPORTDATA hashes and bundles
// carry.
func (k *L0Key) PublicKeyDER() []byte { return slices.Clone(k.pubDER) }

// Public returns the L0 public key.
func (k *L0Key) Public() *ecdsa.PublicKey { return k.pub }

// Seal hands the private scalar (ScalarSize bytes, big-endian) to keep, which must copy it
// (the slice is zeroed when keep returns), and then drops the key's own copy: SignInner fails
// from then on and signing goes through SignInnerWith. Go's crypto API keeps the scalar in
// heap values the garbage collector frees but does not erase; Seal zeroes the big.Int it
// controls, the rest becomes unreachable garbage.
func (k *L0Key) Seal(keep func(scalar []byte) error) error {
	if k.priv == nil {
		return errors.New("l0 key: already sealed")
	}
	scalar, err := k.priv.Bytes()
	if err != nil {
		return fmt.Errorf("l0 key: seal: %w", err)
	}
	defer clear(scalar)
	if err := keep(scalar); err != nil {
		return fmt.Errorf("l0 key: seal: %w", err)
	}
	clear(k.priv.D.Bits()) // erase the one copy this package owns
	k.priv = nil
	return nil
}

// Sealed reports whether the key's private half was handed to a keeper with Seal.
func (k *L0Key) Sealed() bool { return k.priv == nil }

// OuterFields is what the enclave puts in its outer report: its identity as EINIT established
// it, and its id (bound in REPORTDATA with the L0 key).
type OuterFields struct {
	MRENCLAVE [32]byte
	MRSIGNER  [32]byte
	ISVProdID uint16
	ISVSVN    uint16
	Debug     bool
	EnclaveID string
}

// OuterEvidence produces the enclave's outer evidence, once per enclave: a Report with
// REPORTDATA = ReportDataFor(L0 public key, enclave id), quoted by q. With a
// [SimulatedPlatform] the evidence is simulated.
func (k *L0Key) OuterEvidence(q Quoter, f OuterFields) (*Evidence, error) {
	if q == nil {
		return nil, errors.New("outer evidence: no quoter")
	}
	if n := len(f.EnclaveID); n == 0 || n > maxIDLength {
		return nil, fmt.Errorf("outer evidence: enclave id of %d bytes, want 1..%d", n, maxIDLength)
	}
	return q.Quote(Report{
		MRENCLAVE:  f.MRENCLAVE,
		MRSIGNER:   f.MRSIGNER,
		ISVProdID:  f.ISVProdID,
		ISVSVN:     f.ISVSVN,
		Debug:      f.Debug,
		ReportData: ReportDataFor(k.pubDER, f.EnclaveID),
	})
}

// SignInner encodes and signs an inner report. A sealed key refuses: see SignInnerWith.
func (k *L0Key) SignInner(f InnerFields) (InnerReport, error) {
	if k.priv == nil {
		return InnerReport{}, errors.New("inner report: the l0 key is sealed; its keeper signs with SignInnerWith")
	}
	return signInner(k.priv, f)
}

// SignInnerWith encodes and signs an inner report with the private scalar Seal handed out,
// for a keeper that holds it in protected memory and passes it only inside its gate. The
// scalar is not kept. A scalar that is not the key's own makes a signature verifiers refuse.
func (k *L0Key) SignInnerWith(scalar []byte, f InnerFields) (InnerReport, error) {
	if len(scalar) != ScalarSize {
		return InnerReport{}, fmt.Errorf("inner report: private scalar of %d bytes, want %d", len(scalar), ScalarSize)
	}
	// Built from its fields rather than with ecdsa.ParseRawPrivateKey, which recomputes the
	// public point (a scalar multiplication, ~25 µs here) on every signature.
	d := new(big.Int).SetBytes(scalar)
	defer clear(d.Bits())
	priv := &ecdsa.PrivateKey{PublicKey: *k.pub, D: d}
	return signInner(priv, f)
}

func signInner(priv *ecdsa.PrivateKey, f InnerFields) (InnerReport, error) {
	raw, err := f.Marshal()
	if err != nil {
		return InnerReport{}, fmt.Errorf("inner report: %w", err)
	}
	digest := sha256.Sum256(raw)
	sig, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	if err != nil {
		return InnerReport{}, fmt.Errorf("inner report: %w", err)
	}
	return InnerReport{Report: raw, Signature: sig}, nil
}

// VerifyInner checks an inner report's signature with an L0 public key and decodes it: the
// per-invocation cost for a client that verified the enclave's outer evidence once. It
// checks nothing else; Verify does the whole chain and the policy.
func VerifyInner(r InnerReport, l0 *ecdsa.PublicKey) (InnerFields, error) {
	digest := sha256.Sum256(r.Report)
	if l0 == nil || !ecdsa.VerifyASN1(l0, digest[:], r.Signature) {
		return InnerFields{}, refuse(ErrBadInnerSignature, "%d-byte signature", len(r.Signature))
	}
	f, err := ParseInnerFields(r.Report)
	if err != nil {
		return InnerFields{}, refuse(ErrMalformedBundle, "%v", err)
	}
	return f, nil
}
