package sgx

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// SIGSTRUCT and EINIT, as the Intel SDM describes them (Vol. 3D, "Enclave Signature Structure
// (SIGSTRUCT)", Table 38-19, and the EINIT instruction page).
//
// Layout of the 1808 bytes (integers little-endian; MODULUS, SIGNATURE, Q1 and Q2 are
// little-endian 384-byte integers, as SGX stores them):
//
//	offset size field          signed
//	     0   16 HEADER         Y  06000000E10000000000010000000000h as a byte stream
//	    16    4 VENDOR         Y  0 (non-Intel) or 00008086h (Intel)
//	    20    4 DATE           Y  build date, BCD yyyymmdd (e.g. 20260115h)
//	    24   16 HEADER2        Y  01010000600000006000000001000000h as a byte stream
//	    40    4 SWDEFINED      Y
//	    44   84 reserved       Y  zero
//	   128  384 MODULUS        N  the signer's RSA-3072 public modulus
//	   512    4 EXPONENT       N  3
//	   516  384 SIGNATURE      N  RSASSA-PKCS1-v1_5 / SHA-256 over the signed bytes
//	   900    4 MISCSELECT     Y
//	   904    4 MISCMASK       Y
//	   908   20 reserved       Y  zero (later SDMs: 4 reserved, 16 ISVFAMILYID; not modelled)
//	   928   16 ATTRIBUTES     Y  FLAGS (u64) ‖ XFRM (u64)
//	   944   16 ATTRIBUTEMASK  Y
//	   960   32 ENCLAVEHASH    Y  MRENCLAVE
//	   992   32 reserved       Y  zero (later SDMs: 16 ISVEXTPRODID, 16 reserved; not modelled)
//	  1024    2 ISVPRODID      Y
//	  1026    2 ISVSVN         Y
//	  1028   12 reserved       N  zero
//	  1040  384 Q1             N  floor(SIGNATURE² / MODULUS)
//	  1424  384 Q2             N  floor((SIGNATURE³ − Q1·SIGNATURE·MODULUS) / MODULUS)
//
// The signed bytes are bytes 0–127 followed by bytes 900–1027 (256 bytes). MRSIGNER is the
// SHA-256 of the 384 MODULUS bytes as stored (little-endian).

// SigStructSize is the size of a marshalled SIGSTRUCT.
const SigStructSize = 1808

// SignerKeyBits is the size of a SIGSTRUCT signing key; SignerKeyExponent its public exponent.
const (
	SignerKeyBits     = 3072
	SignerKeyExponent = 3
)

const keyBytes = SignerKeyBits / 8

// Byte offsets in a marshalled SIGSTRUCT.
const (
	offHeader        = 0
	offVendor        = 16
	offDate          = 20
	offHeader2       = 24
	offSwDefined     = 40
	offReserved1     = 44
	offModulus       = 128
	offExponent      = 512
	offSignature     = 516
	offMiscSelect    = 900
	offMiscMask      = 904
	offReserved2     = 908
	offAttributes    = 928
	offAttributeMask = 944
	offEnclaveHash   = 960
	offReserved3     = 992
	offISVProdID     = 1024
	offISVSVN        = 1026
	offReserved4     = 1028
	offQ1            = 1040
	offQ2            = 1424
)

// Header and Header2 are the constant byte streams a SIGSTRUCT starts with.
var (
	Header  = [16]byte{0x06, 0, 0, 0, 0xE1, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0}
	Header2 = [16]byte{0x01, 0x01, 0, 0, 0x60, 0, 0, 0, 0x60, 0, 0, 0, 0x01, 0, 0, 0}
)

// Vendors.
const (
	VendorOther uint32 = 0
	VendorIntel uint32 = 0x8086
)

// ATTRIBUTES.FLAGS bits (SDM Table 38-3).
const (
	AttrInit          uint64 = 1 << 0
	AttrDebug         uint64 = 1 << 1
	AttrMode64Bit     uint64 = 1 << 2
	AttrProvisionKey  uint64 = 1 << 4
	AttrEInitTokenKey uint64 = 1 << 5
	AttrKSS           uint64 = 1 << 7
)

// Attributes is SGX's 16-byte ATTRIBUTES: the FLAGS (DEBUG, MODE64BIT, ...) and XFRM.
type Attributes struct {
	Flags uint64
	XFRM  uint64
}

// And returns a & mask, field by field.
func (a Attributes) And(mask Attributes) Attributes {
	return Attributes{a.Flags & mask.Flags, a.XFRM & mask.XFRM}
}

// Debug reports whether the DEBUG flag is set.
func (a Attributes) Debug() bool { return a.Flags&AttrDebug != 0 }

// SigFields are the SIGSTRUCT fields the enclave's signer chooses; all are signed.
type SigFields struct {
	Vendor        uint32 // VendorOther or VendorIntel
	Date          uint32 // BCD yyyymmdd; see DateBCD
	SwDefined     uint32
	MiscSelect    uint32
	MiscMask      uint32
	Attributes    Attributes // the attributes the enclave must have, where AttributeMask is set
	AttributeMask Attributes
	EnclaveHash   [32]byte // MRENCLAVE
	ISVProdID     uint16
	ISVSVN        uint16
}

// SigStruct is a SIGSTRUCT: the signer's fields, the constant headers, the signer's public
// key, the signature and EINIT's helper values Q1 and Q2. Reserved bytes are not kept: they
// are zero when marshalled and must be zero to unmarshal.
type SigStruct struct {
	Header  [16]byte
	Header2 [16]byte
	SigFields
	Modulus   [keyBytes]byte // little-endian
	Exponent  uint32
	Signature [keyBytes]byte // little-endian
	Q1        [keyBytes]byte // little-endian
	Q2        [keyBytes]byte // little-endian
}

// Marshal returns the SIGSTRUCT's 1808 bytes.
func (s *SigStruct) Marshal() []byte {
	b := make([]byte, SigStructSize)
	le := binary.LittleEndian
	copy(b[offHeader:], s.Header[:])
	le.PutUint32(b[offVendor:], s.Vendor)
	le.PutUint32(b[offDate:], s.Date)
	copy(b[offHeader2:], s.Header2[:])
	le.PutUint32(b[offSwDefined:], s.SwDefined)
	copy(b[offModulus:], s.Modulus[:])
	le.PutUint32(b[offExponent:], s.Exponent)
	copy(b[offSignature:], s.Signature[:])
	le.PutUint32(b[offMiscSelect:], s.MiscSelect)
	le.PutUint32(b[offMiscMask:], s.MiscMask)
	putAttributes(b[offAttributes:], s.Attributes)
	putAttributes(b[offAttributeMask:], s.AttributeMask)
	copy(b[offEnclaveHash:], s.EnclaveHash[:])
	le.PutUint16(b[offISVProdID:], s.ISVProdID)
	le.PutUint16(b[offISVSVN:], s.ISVSVN)
	copy(b[offQ1:], s.Q1[:])
	copy(b[offQ2:], s.Q2[:])
	return b
}

// Unmarshal parses a SIGSTRUCT's 1808 bytes. It refuses another length and non-zero
// reserved bytes with ErrInvalidSigStruct; the headers, the exponent and the signature are
// checked by EInit.
func (s *SigStruct) Unmarshal(b []byte) error {
	if len(b) != SigStructSize {
		return fmt.Errorf("%w: %d bytes, want %d", ErrInvalidSigStruct, len(b), SigStructSize)
	}
	for _, r := range [][2]int{{offReserved1, offModulus}, {offReserved2, offAttributes}, {offReserved3, offISVProdID}, {offReserved4, offQ1}} {
		if !allZero(b[r[0]:r[1]]) {
			return fmt.Errorf("%w: reserved bytes %d..%d are not zero", ErrInvalidSigStruct, r[0], r[1]-1)
		}
	}
	le := binary.LittleEndian
	*s = SigStruct{}
	copy(s.Header[:], b[offHeader:])
	s.Vendor = le.Uint32(b[offVendor:])
	s.Date = le.Uint32(b[offDate:])
	copy(s.Header2[:], b[offHeader2:])
	s.SwDefined = le.Uint32(b[offSwDefined:])
	copy(s.Modulus[:], b[offModulus:])
	s.Exponent = le.Uint32(b[offExponent:])
	copy(s.Signature[:], b[offSignature:])
	s.MiscSelect = le.Uint32(b[offMiscSelect:])
	s.MiscMask = le.Uint32(b[offMiscMask:])
	s.Attributes = attributesAt(b[offAttributes:])
	s.AttributeMask = attributesAt(b[offAttributeMask:])
	copy(s.EnclaveHash[:], b[offEnclaveHash:])
	s.ISVProdID = le.Uint16(b[offISVProdID:])
	s.ISVSVN = le.Uint16(b[offISVSVN:])
	copy(s.Q1[:], b[offQ1:])
	copy(s.Q2[:], b[offQ2:])
	return nil
}

// SignedBytes returns the 256 bytes the signature covers: bytes 0–127 and 900–1027.
func (s *SigStruct) SignedBytes() []byte {
	b := s.Marshal()
	return append(b[offHeader:offModulus:offModulus], b[offMiscSelect:offReserved4]...)
}

// MRSigner returns the MRSIGNER EINIT derives from this SIGSTRUCT: SHA-256 of MODULUS.
func (s *SigStruct) MRSigner() [32]byte { return sha256.Sum256(s.Modulus[:]) }

func putAttributes(b []byte, a Attributes) {
	binary.LittleEndian.PutUint64(b, a.Flags)
	binary.LittleEndian.PutUint64(b[8:], a.XFRM)
}

func attributesAt(b []byte) Attributes {
	return Attributes{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// DateBCD returns t's date as SIGSTRUCT.DATE: yyyymmdd in binary-coded decimal
// (2026-01-15 is 0x20260115).
func DateBCD(t time.Time) uint32 {
	var v uint32
	for _, c := range t.Format("20060102") {
		v = v<<4 | uint32(c-'0')
	}
	return v
}

// Sign builds the SIGSTRUCT for fields and signs it with key, an RSA-3072 key with public
// exponent 3, as the SGX SDK's signing tool does: RSASSA-PKCS1-v1_5 with SHA-256 over the
// signed bytes. Q1 and Q2 are computed.
func Sign(key *rsa.PrivateKey, fields SigFields) (*SigStruct, error) {
	if err := checkSignerKey(key); err != nil {
		return nil, err
	}
	s := &SigStruct{Header: Header, Header2: Header2, SigFields: fields, Exponent: SignerKeyExponent}
	putLE(s.Modulus[:], key.N)
	digest := sha256.Sum256(s.SignedBytes())
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		return nil, fmt.Errorf("sign sigstruct: %w", err)
	}
	sigInt := new(big.Int).SetBytes(sig)
	putLE(s.Signature[:], sigInt)
	q1, q2 := q1q2(sigInt, key.N)
	putLE(s.Q1[:], q1)
	putLE(s.Q2[:], q2)
	return s, nil
}

// q1q2 computes EINIT's helper values for signature s and modulus n.
func q1q2(s, n *big.Int) (q1, q2 *big.Int) {
	s2 := new(big.Int).Mul(s, s)
	q1 = new(big.Int).Quo(s2, n)
	s3 := new(big.Int).Mul(s2, s)
	t := new(big.Int).Mul(q1, s)
	t.Mul(t, n)
	q2 = s3.Sub(s3, t)
	q2.Quo(q2, n)
	return q1, q2
}

// putLE writes x into b as a little-endian integer of len(b) bytes.
func putLE(b []byte, x *big.Int) {
	x.FillBytes(b)
	reverse(b)
}

// fromLE reads a little-endian integer.
func fromLE(b []byte) *big.Int {
	be := bytes.Clone(b)
	reverse(be)
	return new(big.Int).SetBytes(be)
}

func reverse(b []byte) {
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
}

// EInitError is a refusal by EInit. Code is the error code the SDM's EINIT returns in RAX.
// Each refusal is one of the Err* values below, wrapped with details: test with errors.Is.
type EInitError struct {
	Code   string
	Reason string
}

func (e *EInitError) Error() string { return "einit: " + e.Reason + " (" + e.Code + ")" }

// EINIT's refusals.
var (
	// ErrInvalidSigStruct: wrong HEADER, HEADER2 or VENDOR, non-zero reserved bytes, or not
	// 1808 bytes.
	ErrInvalidSigStruct = &EInitError{"SGX_INVALID_SIG_STRUCT", "malformed SIGSTRUCT"}
	// ErrInvalidExponent: the signer's public exponent is not 3 (the SDM reports it as
	// SGX_INVALID_SIG_STRUCT too).
	ErrInvalidExponent = &EInitError{"SGX_INVALID_SIG_STRUCT", "SIGSTRUCT exponent is not 3"}
	// ErrInvalidSignature: the signature does not verify with the enclosed modulus (any
	// signed field, the modulus or the signature was changed), the modulus is not 3072 bits,
	// or Q1/Q2 do not match the signature.
	ErrInvalidSignature = &EInitError{"SGX_INVALID_SIGNATURE", "SIGSTRUCT signature does not verify"}
	// ErrInvalidMeasurement: the enclave's MRENCLAVE differs from SIGSTRUCT.ENCLAVEHASH.
	ErrInvalidMeasurement = &EInitError{"SGX_INVALID_MEASUREMENT", "MRENCLAVE differs from SIGSTRUCT.ENCLAVEHASH"}
	// ErrInvalidAttribute: the enclave's attributes, where ATTRIBUTEMASK is set, differ from
	// SIGSTRUCT.ATTRIBUTES (for example DEBUG set when the signer required it clear).
	ErrInvalidAttribute = &EInitError{"SGX_INVALID_ATTRIBUTE", "enclave attributes outside the SIGSTRUCT's mask"}
	// ErrInvalidMiscSelect: the enclave's MISCSELECT, where MISCMASK is set, differs from
	// SIGSTRUCT.MISCSELECT (the SDM reports it as SGX_INVALID_ATTRIBUTE too).
	ErrInvalidMiscSelect = &EInitError{"SGX_INVALID_ATTRIBUTE", "enclave MISCSELECT outside the SIGSTRUCT's mask"}
)

// EInit checks a SIGSTRUCT as EINIT does before it lets an enclave run, and returns the
// enclave's MRSIGNER. mrenclave is the finalised measurement ([Measurement.Finalize]) and
// attrs the enclave's ATTRIBUTES (its SECS). The simulated enclave's SECS.MISCSELECT is 0.
//
// In the SDM's order: the headers and vendor (ErrInvalidSigStruct), the exponent
// (ErrInvalidExponent), the signature with the enclosed key, and Q1/Q2
// (ErrInvalidSignature), the measurement (ErrInvalidMeasurement), the attributes and
// MISCSELECT under their masks (ErrInvalidAttribute, ErrInvalidMiscSelect). Launch control
// (EINITTOKEN) is not modelled: any signer may launch an enclave, as on flexible launch
// control platforms.
func EInit(sig *SigStruct, mrenclave [32]byte, attrs Attributes) (mrsigner [32]byte, err error) {
	const miscSelect = 0
	switch {
	case sig == nil:
		return mrsigner, fmt.Errorf("%w: no SIGSTRUCT", ErrInvalidSigStruct)
	case sig.Header != Header:
		return mrsigner, fmt.Errorf("%w: HEADER %x", ErrInvalidSigStruct, sig.Header)
	case sig.Header2 != Header2:
		return mrsigner, fmt.Errorf("%w: HEADER2 %x", ErrInvalidSigStruct, sig.Header2)
	case sig.Vendor != VendorOther && sig.Vendor != VendorIntel:
		return mrsigner, fmt.Errorf("%w: VENDOR %#x", ErrInvalidSigStruct, sig.Vendor)
	case sig.Exponent != SignerKeyExponent:
		return mrsigner, fmt.Errorf("%w: exponent %d", ErrInvalidExponent, sig.Exponent)
	}
	n := fromLE(sig.Modulus[:])
	if n.BitLen() != SignerKeyBits {
		return mrsigner, fmt.Errorf("%w: modulus of %d bits", ErrInvalidSignature, n.BitLen())
	}
	s := fromLE(sig.Signature[:])
	digest := sha256.Sum256(sig.SignedBytes())
	pub := &rsa.PublicKey{N: n, E: SignerKeyExponent}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], s.FillBytes(make([]byte, keyBytes))); err != nil {
		return mrsigner, fmt.Errorf("%w: %v", ErrInvalidSignature, err)
	}
	q1, q2 := q1q2(s, n)
	if fromLE(sig.Q1[:]).Cmp(q1) != 0 || fromLE(sig.Q2[:]).Cmp(q2) != 0 {
		return mrsigner, fmt.Errorf("%w: Q1/Q2 do not match the signature", ErrInvalidSignature)
	}
	if mrenclave != sig.EnclaveHash {
		return mrsigner, fmt.Errorf("%w: MRENCLAVE %x, ENCLAVEHASH %x", ErrInvalidMeasurement, mrenclave, sig.EnclaveHash)
	}
	if attrs.And(sig.AttributeMask) != sig.Attributes.And(sig.AttributeMask) {
		return mrsigner, fmt.Errorf("%w: enclave %+v, required %+v under mask %+v", ErrInvalidAttribute, attrs, sig.Attributes, sig.AttributeMask)
	}
	if miscSelect&sig.MiscMask != sig.MiscSelect&sig.MiscMask {
		return mrsigner, fmt.Errorf("%w: enclave %#x, required %#x under mask %#x", ErrInvalidMiscSelect, miscSelect, sig.MiscSelect, sig.MiscMask)
	}
	return sig.MRSigner(), nil
}

// MRSigner returns the MRSIGNER of an enclave signed with key: SHA-256 of its modulus as a
// 384-byte little-endian integer, as SIGSTRUCT stores it.
func MRSigner(key *rsa.PublicKey) [32]byte {
	var mod [keyBytes]byte
	putLE(mod[:], key.N)
	return sha256.Sum256(mod[:])
}

// ErrSignerKey is wrapped by errors about a signing key that SGX cannot use: not RSA, not
// 3072 bits, or a public exponent other than 3.
var ErrSignerKey = errors.New("unusable SGX signer key")

func checkSignerKey(key *rsa.PrivateKey) error {
	switch {
	case key == nil:
		return fmt.Errorf("%w: no key", ErrSignerKey)
	case key.E != SignerKeyExponent:
		return fmt.Errorf("%w: public exponent %d, SGX requires %d", ErrSignerKey, key.E, SignerKeyExponent)
	case key.N.BitLen() != SignerKeyBits:
		return fmt.Errorf("%w: %d-bit modulus, SGX requires %d", ErrSignerKey, key.N.BitLen(), SignerKeyBits)
	}
	return nil
}

// GenerateSignerKey generates an RSA-3072 key with public exponent 3, as SGX requires
// (crypto/rsa.GenerateKey always uses 65537). The primes p and q are such that 3 divides
// neither p−1 nor q−1, so that 3 is invertible.
func GenerateSignerKey() (*rsa.PrivateKey, error) {
	e := big.NewInt(SignerKeyExponent)
	one := big.NewInt(1)
	prime := func() (*big.Int, error) {
		for {
			p, err := rand.Prime(rand.Reader, SignerKeyBits/2)
			if err != nil {
				return nil, err
			}
			if new(big.Int).Mod(p, e).Int64() == 2 { // p ≡ 2 (mod 3): 3 ∤ p−1
				return p, nil
			}
		}
	}
	for {
		p, err := prime()
		if err != nil {
			return nil, fmt.Errorf("generate signer key: %w", err)
		}
		q, err := prime()
		if err != nil {
			return nil, fmt.Errorf("generate signer key: %w", err)
		}
		n := new(big.Int).Mul(p, q)
		if p.Cmp(q) == 0 || n.BitLen() != SignerKeyBits {
			continue
		}
		pm1 := new(big.Int).Sub(p, one)
		qm1 := new(big.Int).Sub(q, one)
		phi := new(big.Int).Mul(pm1, qm1)
		d := new(big.Int).ModInverse(e, phi)
		if d == nil {
			continue
		}
		if p.Cmp(q) < 0 {
			p, q = q, p
		}
		key := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: SignerKeyExponent}, D: d, Primes: []*big.Int{p, q}}
		key.Precompute()
		if err := key.Validate(); err != nil {
			return nil, fmt.Errorf("generate signer key: %w", err)
		}
		return key, nil
	}
}
