package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// VerifyOptions are the client's side of a verification.
type VerifyOptions struct {
	// Root is the trusted platform root certificate (LoadRoot); the bundle never supplies it.
	Root *x509.Certificate
	// Policy says which runtime, signer, function and clean state are accepted. Required.
	Policy *Policy
	// Nonce is the challenge the client sent with this invocation (NewNonce).
	Nonce [32]byte
	// Input is the input the client sent; the inner report must bind its SHA-256.
	Input []byte
	// AllowSimulated accepts simulated evidence, as Policy.AllowSimulated does (either one
	// suffices).
	AllowSimulated bool
	// Sequence, if not nil, tracks the epochs and nonces already accepted: a report whose
	// epoch is not greater than the last accepted for its enclave, or whose nonce was already
	// accepted, is refused; an accepted report is recorded. Without it, replays across calls
	// are not detected.
	Sequence *Sequence
	// Now is the time certificates are checked at; zero means time.Now().
	Now time.Time
	// Hardware verifies hardware evidence (FormatEGo): the raw remote report's signature up
	// to the manufacturer, returning its fields as a Report (see ReportFromEGo). Built with
	// the egoclient tag, reclave attest verify passes egoquote.VerifyRemoteReport (ego's
	// eclient.VerifyRemoteReport). Nil refuses hardware evidence (ErrNoHardwareVerifier).
	// Root is not used for hardware evidence.
	Hardware func(raw []byte) (Report, error)
}

// Result is what a successful verification established. Its values are the ones that were
// verified: show these (Output above all), not values read from the bundle's JSON again.
type Result struct {
	Report Report      // the outer report
	Inner  InnerFields // the inner report
	// Output is the invocation's output, bound by the inner report: the very bytes whose
	// SHA-256 was compared, copied from the bundle before the comparison, so that changing
	// the Bundle afterwards does not change it.
	Output      []byte
	Simulated   bool // the evidence is simulated (report flag or simulated root)
	L0PublicKey *ecdsa.PublicKey
}

// NewNonce returns a fresh random nonce for an invocation.
func NewNonce() [32]byte {
	var n [32]byte
	rand.Read(n[:])
	return n
}

// Verify parses a bundle's JSON (ParseBundle: a duplicate or case-variant key anywhere is
// refused first, ErrDuplicateKey) and verifies it: see VerifyBundle. The Result's output is
// the one this parse read and the verification checked; a caller that shows the output must
// take it from the Result, not parse bundleJSON again with another parser.
func Verify(bundleJSON []byte, opts VerifyOptions) (*Result, error) {
	b, err := ParseBundle(bundleJSON)
	if err != nil {
		return nil, err
	}
	return VerifyBundle(b, opts)
}

// VerifyBundle verifies the whole chain of a bundle, in this order, and returns the first
// refusal (a *Refusal, see the Err* values):
//
//  1. the policy is valid (ErrPolicyInvalid) and a root is given (ErrNoTrustedRoot);
//  2. the quoting certificate chains to the trusted root (ErrUntrustedRoot) and the outer
//     report's signature verifies with its key (ErrBadQuoteSignature); for hardware evidence
//     (FormatEGo) instead, opts.Hardware verifies it (ErrNoHardwareVerifier without one,
//     ErrBadHardwareEvidence when it refuses) and no root is needed;
//  3. REPORTDATA[0:32] is SHA-256 of the bundle's L0 public key (ErrReportDataMismatch);
//  4. the inner report's signature verifies with that key (ErrBadInnerSignature);
//  5. REPORTDATA[32:64] is SHA-256 of the inner report's enclave id (ErrEnclaveIDMismatch),
//     and both reports carry the same MRENCLAVE (ErrInnerMeasurement);
//  6. simulated evidence only if allowed (ErrSimulatedRefused), debug only if allowed
//     (ErrDebugRefused);
//  7. the policy: MRENCLAVE, MRSIGNER, ISVPRODID, ISVSVN, TCB status, module hash, clean state;
//  8. input and output hashes (ErrInputMismatch, ErrOutputMismatch), the nonce
//     (ErrNonceMismatch);
//  9. with a Sequence: nonce not seen before (ErrNonceReplay), epoch greater than the last
//     accepted for the enclave (ErrEpochReplay); then both are recorded.
//
// VerifyBundle works on its own copy of b's binary values, taken when it starts: the Result
// holds what was checked even if the caller (or another goroutine) changes b meanwhile.
func VerifyBundle(b *Bundle, opts VerifyOptions) (*Result, error) {
	if b == nil {
		return nil, refuse(ErrMalformedBundle, "no bundle")
	}
	b = b.clone()
	if b.SchemaVersion != SchemaVersion {
		return nil, refuse(ErrSchemaVersion, "schema_version %d", b.SchemaVersion)
	}
	if err := opts.Policy.Validate(); err != nil {
		return nil, err
	}
	var report Report
	var simulated bool
	var err error
	if b.Evidence.Format == FormatEGo {
		if opts.Hardware == nil {
			return nil, refuse(ErrNoHardwareVerifier, "the evidence is an SGX remote report (%s): verify it with a reclave built with -tags egoclient", FormatEGo)
		}
		if report, err = opts.Hardware(b.Evidence.Report); err != nil {
			return nil, refuse(ErrBadHardwareEvidence, "%v", err)
		}
		report.Simulated = false
	} else if report, simulated, err = VerifyEvidence(&b.Evidence, opts.Root, opts.Now); err != nil {
		return nil, err
	}
	pubAny, err := x509.ParsePKIXPublicKey(b.L0PublicKey)
	if err != nil {
		return nil, refuse(ErrMalformedBundle, "l0_public_key: %v", err)
	}
	l0, ok := pubAny.(*ecdsa.PublicKey)
	if !ok || l0.Curve != elliptic.P256() {
		return nil, refuse(ErrMalformedBundle, "l0_public_key is not an ECDSA P-256 key")
	}
	if k := sha256.Sum256(b.L0PublicKey); !bytes.Equal(report.ReportData[:32], k[:]) {
		return nil, refuse(ErrReportDataMismatch, "REPORTDATA[0:32] %x, SHA-256 of the L0 key %x", report.ReportData[:32], k)
	}
	in, err := VerifyInner(b.Inner, l0)
	if err != nil {
		return nil, err
	}
	if id := sha256.Sum256([]byte(in.EnclaveID)); !bytes.Equal(report.ReportData[32:], id[:]) {
		return nil, refuse(ErrEnclaveIDMismatch, "inner report for enclave %q", in.EnclaveID)
	}
	if in.MRENCLAVE != report.MRENCLAVE {
		return nil, refuse(ErrInnerMeasurement, "inner %x, outer %x", in.MRENCLAVE, report.MRENCLAVE)
	}
	if simulated && !opts.AllowSimulated && !opts.Policy.AllowSimulated {
		return nil, refuse(ErrSimulatedRefused, "the evidence is simulated (no SGX hardware vouches for it)")
	}
	if report.Debug && !opts.Policy.AllowDebug {
		return nil, refuse(ErrDebugRefused, "the enclave's DEBUG attribute is set")
	}
	if err := opts.Policy.check(report, in, simulated); err != nil {
		return nil, err
	}
	if h := sha256.Sum256(opts.Input); h != in.InputHash {
		return nil, refuse(ErrInputMismatch, "inner %x, client's input %x", in.InputHash, h)
	}
	if h := sha256.Sum256(b.Output); h != in.OutputHash {
		return nil, refuse(ErrOutputMismatch, "inner %x, bundled output %x", in.OutputHash, h)
	}
	if in.Nonce != opts.Nonce {
		return nil, refuse(ErrNonceMismatch, "inner %x", in.Nonce)
	}
	if opts.Sequence != nil {
		if err := opts.Sequence.accept(in.EnclaveID, in.Epoch, in.Nonce); err != nil {
			return nil, err
		}
	}
	return &Result{Report: report, Inner: in, Output: b.Output, Simulated: simulated, L0PublicKey: l0}, nil
}

// VerifyEvidence checks outer evidence: the quoting certificate chains to root at now (zero:
// the current time), and the report's signature verifies with its key. It returns the
// decoded report and whether the evidence is simulated: the report says so, or the root or
// the quoting certificate is a simulated platform's.
func VerifyEvidence(ev *Evidence, root *x509.Certificate, now time.Time) (Report, bool, error) {
	if root == nil {
		return Report{}, false, refuse(ErrNoTrustedRoot, "VerifyOptions.Root is nil")
	}
	qc, err := x509.ParseCertificate(ev.QuotingCert)
	if err != nil {
		return Report{}, false, refuse(ErrMalformedBundle, "quoting_cert: %v", err)
	}
	if qc.IsCA {
		return Report{}, false, refuse(ErrUntrustedRoot, "the quoting certificate is a CA")
	}
	pool := x509.NewCertPool()
	pool.AddCert(root)
	if now.IsZero() {
		now = time.Now()
	}
	if _, err := qc.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return Report{}, false, refuse(ErrUntrustedRoot, "%v", err)
	}
	qk, ok := qc.PublicKey.(*ecdsa.PublicKey)
	if !ok || qk.Curve != elliptic.P256() {
		return Report{}, false, refuse(ErrBadQuoteSignature, "the quoting key is not ECDSA P-256")
	}
	digest := sha256.Sum256(ev.Report)
	if !ecdsa.VerifyASN1(qk, digest[:], ev.Signature) {
		return Report{}, false, refuse(ErrBadQuoteSignature, "%d-byte signature", len(ev.Signature))
	}
	r, err := ParseReport(ev.Report)
	if err != nil {
		return Report{}, false, refuse(ErrMalformedBundle, "%v", err)
	}
	return r, r.Simulated || isSimulated(root) || isSimulated(qc), nil
}

// Sequence tracks, for a client, the last epoch accepted per enclave id and every nonce
// accepted, so that replayed reports and invocations that did not start from a fresh rewind
// are refused. The zero value is ready to use; it is safe for concurrent use. It grows by one
// entry per enclave and per accepted nonce; persist it with encoding/json.
type Sequence struct {
	mu     sync.Mutex
	epochs map[string]uint64
	nonces map[[32]byte]struct{}
}

// NewSequence returns an empty Sequence.
func NewSequence() *Sequence { return &Sequence{} }

// Last returns the last epoch accepted for an enclave.
func (s *Sequence) Last(enclaveID string) (epoch uint64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	epoch, ok = s.epochs[enclaveID]
	return epoch, ok
}

// accept checks and records an (enclave, epoch, nonce) triple atomically.
func (s *Sequence) accept(id string, epoch uint64, nonce [32]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, seen := s.nonces[nonce]; seen {
		return refuse(ErrNonceReplay, "%x", nonce)
	}
	if last, ok := s.epochs[id]; ok && epoch <= last {
		return refuse(ErrEpochReplay, "enclave %q: epoch %d, last accepted %d", id, epoch, last)
	}
	if s.epochs == nil {
		s.epochs = map[string]uint64{}
	}
	if s.nonces == nil {
		s.nonces = map[[32]byte]struct{}{}
	}
	s.epochs[id] = epoch
	s.nonces[nonce] = struct{}{}
	return nil
}

type sequenceJSON struct {
	Epochs map[string]uint64 `json:"epochs"`
	Nonces []string          `json:"nonces"`
}

// MarshalJSON encodes the sequence as {"epochs": {"<enclave id>": n}, "nonces": ["<hex>"]}.
func (s *Sequence) MarshalJSON() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := sequenceJSON{Epochs: maps.Clone(s.epochs), Nonces: []string{}}
	if v.Epochs == nil {
		v.Epochs = map[string]uint64{}
	}
	for n := range s.nonces {
		v.Nonces = append(v.Nonces, hex.EncodeToString(n[:]))
	}
	slices.Sort(v.Nonces)
	return json.Marshal(v)
}

// UnmarshalJSON restores a sequence MarshalJSON wrote.
func (s *Sequence) UnmarshalJSON(data []byte) error {
	var v sequenceJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	nonces := make(map[[32]byte]struct{}, len(v.Nonces))
	for _, h := range v.Nonces {
		var d Digest
		if err := d.UnmarshalText([]byte(h)); err != nil {
			return fmt.Errorf("sequence nonce: %w", err)
		}
		nonces[d] = struct{}{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epochs, s.nonces = v.Epochs, nonces
	if s.epochs == nil {
		s.epochs = map[string]uint64{}
	}
	return nil
}
