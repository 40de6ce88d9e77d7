package attest

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// TCBStatus is the platform's TCB level status, numbered as ego's tcbstatus.Status (and Open
// Enclave's claim) so that it maps one-to-one.
type TCBStatus uint8

// TCB statuses.
const (
	TCBUpToDate TCBStatus = iota
	TCBOutOfDate
	TCBRevoked
	TCBConfigurationNeeded
	TCBOutOfDateConfigurationNeeded
	TCBSWHardeningNeeded
	TCBConfigurationAndSWHardeningNeeded
	// TCBUnknown: no TCB information; simulated evidence always says this.
	TCBUnknown
)

var tcbNames = [...]string{"UpToDate", "OutOfDate", "Revoked", "ConfigurationNeeded", "OutOfDateConfigurationNeeded", "SWHardeningNeeded", "ConfigurationAndSWHardeningNeeded", "Unknown"}

func (s TCBStatus) String() string {
	if int(s) < len(tcbNames) {
		return tcbNames[s]
	}
	return fmt.Sprintf("TCBStatus(%d)", uint8(s))
}

// ParseTCBStatus returns the status named as ego names it ("UpToDate", "SWHardeningNeeded"...).
func ParseTCBStatus(name string) (TCBStatus, error) {
	for i, n := range tcbNames {
		if n == name {
			return TCBStatus(i), nil
		}
	}
	return 0, fmt.Errorf("unknown TCB status %q", name)
}

// Report is the outer evidence's body: what SGX's REPORT/quote says about an enclave, with
// fields that map one-to-one onto github.com/edgelesssys/ego/attestation.Report (see the
// package documentation's table), plus Simulated.
type Report struct {
	MRENCLAVE  [32]byte  // ego UniqueID
	MRSIGNER   [32]byte  // ego SignerID
	ISVProdID  uint16    // ego ProductID (16 bytes there, ISVPRODID little-endian in the first two)
	ISVSVN     uint16    // ego SecurityVersion
	Debug      bool      // ego Debug
	ReportData [64]byte  // ego Data: SHA-256(L0 public key, PKIX DER) ‖ SHA-256(enclave id)
	TCBStatus  TCBStatus // ego TCBStatus
	Simulated  bool      // no ego field: ego verifies hardware evidence only
}

// ReportSize is the size of an encoded outer report.
const ReportSize = 152

const (
	reportTag   = "reclave-report/1"
	flagDebug   = 1 << 0
	flagSimul   = 1 << 1
	maxIDLength = 256
)

// Marshal encodes the report in its fixed 152-byte layout (integers little-endian), the bytes
// the quoting key signs:
//
//	offset size field
//	     0   16 "reclave-report/1"
//	    16   32 MRENCLAVE
//	    48   32 MRSIGNER
//	    80    2 ISVPRODID
//	    82    2 ISVSVN
//	    84    1 flags: bit 0 DEBUG, bit 1 SIMULATED, others zero
//	    85    1 TCB status (TCBStatus)
//	    86    2 zero
//	    88   64 REPORTDATA
func (r Report) Marshal() []byte {
	b := make([]byte, ReportSize)
	copy(b, reportTag)
	copy(b[16:], r.MRENCLAVE[:])
	copy(b[48:], r.MRSIGNER[:])
	binary.LittleEndian.PutUint16(b[80:], r.ISVProdID)
	binary.LittleEndian.PutUint16(b[82:], r.ISVSVN)
	if r.Debug {
		b[84] |= flagDebug
	}
	if r.Simulated {
		b[84] |= flagSimul
	}
	b[85] = byte(r.TCBStatus)
	copy(b[88:], r.ReportData[:])
	return b
}

// ParseReport decodes Marshal's encoding, strictly: the exact length, the tag, no unknown flag,
// a known TCB status, zero padding.
func ParseReport(b []byte) (Report, error) {
	var r Report
	switch {
	case len(b) != ReportSize:
		return r, fmt.Errorf("outer report of %d bytes, want %d", len(b), ReportSize)
	case string(b[:16]) != reportTag:
		return r, fmt.Errorf("outer report tag %q", b[:16])
	case b[84]&^(flagDebug|flagSimul) != 0:
		return r, fmt.Errorf("outer report: unknown flags %#x", b[84])
	case int(b[85]) >= len(tcbNames):
		return r, fmt.Errorf("outer report: unknown TCB status %d", b[85])
	case b[86] != 0 || b[87] != 0:
		return r, fmt.Errorf("outer report: non-zero padding")
	}
	copy(r.MRENCLAVE[:], b[16:])
	copy(r.MRSIGNER[:], b[48:])
	r.ISVProdID = binary.LittleEndian.Uint16(b[80:])
	r.ISVSVN = binary.LittleEndian.Uint16(b[82:])
	r.Debug = b[84]&flagDebug != 0
	r.Simulated = b[84]&flagSimul != 0
	r.TCBStatus = TCBStatus(b[85])
	copy(r.ReportData[:], b[88:])
	return r, nil
}

// ReportDataFor returns the REPORTDATA that binds an enclave's L0 attestation key and its id:
// SHA-256(l0PublicKeyDER) ‖ SHA-256(enclaveID).
func ReportDataFor(l0PublicKeyDER []byte, enclaveID string) [64]byte {
	var d [64]byte
	k := sha256.Sum256(l0PublicKeyDER)
	id := sha256.Sum256([]byte(enclaveID))
	copy(d[:32], k[:])
	copy(d[32:], id[:])
	return d
}

// Evidence is the outer evidence, produced once per enclave: the encoded Report, the quoting
// key's certificate (issued by the platform root, which is never included: the verifier
// brings its own), and the quoting key's signature.
type Evidence struct {
	// Format says which verification applies: "" or [FormatSimulated], reclave's signed
	// report; [FormatEGo], an SGX remote report obtained through EGo.
	Format string `json:"format,omitempty"`
	// Report is the outer report's 152-byte encoding (Report.Marshal); for FormatEGo, the
	// raw remote report (an SGX quote in Open Enclave's format).
	Report []byte `json:"report"`
	// QuotingCert is the quoting key's X.509 certificate, DER (FormatSimulated only).
	QuotingCert []byte `json:"quoting_cert,omitempty"`
	// Signature is the quoting key's ECDSA P-256 signature (ASN.1 DER) over SHA-256(Report)
	// (FormatSimulated only).
	Signature []byte `json:"signature,omitempty"`
}

// Evidence formats.
const (
	// FormatSimulated is reclave's outer report signed by a platform's quoting key that chains
	// to a root the verifier trusts ([SimulatedPlatform]); the empty format means the same.
	FormatSimulated = "reclave-report/1"
	// FormatEGo is an SGX remote report from github.com/edgelesssys/ego/enclave.GetRemoteReport
	// (package egoquote), verified with ego's VerifyRemoteReport through
	// [VerifyOptions.Hardware] and mapped onto [Report] by [ReportFromEGo].
	FormatEGo = "ego-remote-report/1"
)

// IdentityQuoter is a [Quoter] on real hardware, which writes the enclave's identity into
// its evidence itself: Identity returns that identity (MRENCLAVE, MRSIGNER, ISVPRODID,
// ISVSVN, DEBUG), so that the enclave's inner reports carry the same MRENCLAVE as the
// evidence. A simulated platform quotes the identity it is given and does not implement it.
type IdentityQuoter interface {
	Quoter
	Identity() (Report, error)
}

// ReportFromEGo maps the fields of github.com/edgelesssys/ego/attestation.Report onto a
// Report, as the package documentation tables them: UniqueID → MRENCLAVE, SignerID →
// MRSIGNER (32 bytes each), the first two bytes of ProductID (little-endian; the rest must
// be zero) → ISVProdID, SecurityVersion → ISVSVN (at most 65535), Debug, Data → ReportData
// (64 bytes, or fewer, zero-padded), TCBStatus with the same numbering. Simulated is false:
// ego verifies hardware evidence only. attest does not import ego, so the caller passes the
// fields.
func ReportFromEGo(uniqueID, signerID, productID []byte, securityVersion uint, debug bool, data []byte, tcbStatus uint) (Report, error) {
	var r Report
	switch {
	case len(uniqueID) != 32:
		return r, fmt.Errorf("ego report: UniqueID of %d bytes, want 32", len(uniqueID))
	case len(signerID) != 32:
		return r, fmt.Errorf("ego report: SignerID of %d bytes, want 32", len(signerID))
	case len(productID) < 2 || len(productID) > 16:
		return r, fmt.Errorf("ego report: ProductID of %d bytes, want 2 to 16", len(productID))
	case len(data) > 64:
		return r, fmt.Errorf("ego report: Data of %d bytes, want at most 64", len(data))
	case securityVersion > 0xffff:
		return r, fmt.Errorf("ego report: SecurityVersion %d does not fit ISVSVN (16 bits)", securityVersion)
	case tcbStatus > 0xff:
		return r, fmt.Errorf("ego report: TCBStatus %d out of range", tcbStatus)
	}
	for _, b := range productID[2:] {
		if b != 0 {
			return r, fmt.Errorf("ego report: ProductID %x does not fit ISVPRODID (16 bits)", productID)
		}
	}
	copy(r.MRENCLAVE[:], uniqueID)
	copy(r.MRSIGNER[:], signerID)
	r.ISVProdID = uint16(productID[0]) | uint16(productID[1])<<8
	r.ISVSVN = uint16(securityVersion)
	r.Debug = debug
	copy(r.ReportData[:], data)
	r.TCBStatus = TCBStatus(tcbStatus)
	return r, nil
}

// Quoter signs outer reports: a platform's quoting enclave. [SimulatedPlatform] is the only
// implementation in this backend.
type Quoter interface {
	Quote(Report) (*Evidence, error)
}
