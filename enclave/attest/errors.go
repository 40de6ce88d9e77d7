package attest

import (
	"errors"
	"fmt"

	"github.com/reclave/reclave/internal/jsonstrict"
)

// Refusal is the type of every error Verify (and the policy loader) returns for evidence it
// refuses. Each refusal is one of the Err* values below, wrapped with details: test with
// errors.Is(err, attest.ErrNonceMismatch), or errors.As(err, &r) for its Code, a stable
// snake_case word suitable for logs and records.
//
// A duplicate or case-variant JSON key is two refusals at once, so that errors.Is matches
// both: in a bundle, ErrDuplicateKey and ErrMalformedBundle (errors.As finds
// ErrDuplicateKey, Code "duplicate_key"); in a policy, ErrPolicyInvalid and ErrDuplicateKey
// (errors.As finds ErrPolicyInvalid, Code "policy_invalid": the verifier's own
// configuration is unusable). The key itself is a *jsonstrict.DuplicateKeyError in the same
// error, for errors.As.
type Refusal struct {
	Code   string
	Reason string
}

func (r *Refusal) Error() string { return "attest: " + r.Reason }

func refuse(r *Refusal, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{r}, args...)...)
}

// multiRefusal is an error that is several refusals at once: errors.Is matches each of errs,
// errors.As finds the first that fits.
type multiRefusal struct {
	msg  string
	errs []error
}

func (e *multiRefusal) Error() string   { return e.msg }
func (e *multiRefusal) Unwrap() []error { return e.errs }

// jsonRefusal turns an error from reading JSON (package jsonstrict, or encoding/json) into a
// refusal of kind (ErrMalformedBundle or ErrPolicyInvalid), keeping err in the chain. A
// duplicate or case-variant key is also ErrDuplicateKey: first for a bundle, second for a
// policy (see Refusal).
func jsonRefusal(kind *Refusal, err error) error {
	var dup *jsonstrict.DuplicateKeyError
	if !errors.As(err, &dup) {
		return fmt.Errorf("%w: %w", kind, err)
	}
	if kind == ErrPolicyInvalid {
		return &multiRefusal{
			msg:  fmt.Sprintf("%v: %s: %v", kind, ErrDuplicateKey.Reason, err),
			errs: []error{kind, ErrDuplicateKey, err},
		}
	}
	return &multiRefusal{
		msg:  fmt.Sprintf("%v (%s): %v", ErrDuplicateKey, kind.Reason, err),
		errs: []error{ErrDuplicateKey, kind, err},
	}
}

// Refusals, in the order Verify checks them.
var (
	// ErrMalformedBundle: the bundle is not valid JSON of the documented form (unknown,
	// duplicate or missing fields, values of the wrong type, base64 that is bad or not in
	// its canonical form, trailing data, nesting deeper than 16 levels), or one of its
	// binary parts (outer report, inner report, certificate, L0 public key) does not
	// decode.
	ErrMalformedBundle = &Refusal{"malformed_bundle", "malformed bundle"}
	// ErrDuplicateKey: a JSON object in the bundle (or the policy) holds a key twice, or two
	// keys that differ only in case ("output" and "Output"), at any nesting level. Parsers
	// disagree about which one counts, so the document has no single meaning: refused
	// before anything else is read from it. Such a bundle is also ErrMalformedBundle, such a
	// policy also ErrPolicyInvalid (see Refusal).
	ErrDuplicateKey = &Refusal{"duplicate_key", "duplicate or case-variant JSON key"}
	// ErrSchemaVersion: the bundle's schema_version is not 1.
	ErrSchemaVersion = &Refusal{"schema_version", "unsupported bundle schema_version"}
	// ErrNoTrustedRoot: VerifyOptions.Root is nil; nothing can be trusted.
	ErrNoTrustedRoot = &Refusal{"no_trusted_root", "no trusted root certificate given"}
	// ErrUntrustedRoot: the quoting certificate does not chain to the trusted root (another
	// platform, expired, or the certificate is itself a CA).
	ErrUntrustedRoot = &Refusal{"untrusted_root", "quoting certificate does not chain to the trusted root"}
	// ErrBadQuoteSignature: the outer report's signature does not verify with the quoting
	// certificate's key.
	ErrBadQuoteSignature = &Refusal{"bad_quote_signature", "outer report signature does not verify with the quoting key"}
	// ErrReportDataMismatch: the outer report's REPORTDATA does not hold SHA-256 of the L0
	// public key carried in the bundle.
	ErrReportDataMismatch = &Refusal{"report_data_mismatch", "outer REPORTDATA does not bind the bundle's L0 public key"}
	// ErrBadInnerSignature: the inner report's signature does not verify with the L0 key.
	ErrBadInnerSignature = &Refusal{"bad_inner_signature", "inner report signature does not verify with the L0 key"}
	// ErrEnclaveIDMismatch: the inner report names another enclave than the one the outer
	// REPORTDATA binds.
	ErrEnclaveIDMismatch = &Refusal{"enclave_id_mismatch", "inner report's enclave id differs from the one in the outer REPORTDATA"}
	// ErrInnerMeasurement: the inner report's MRENCLAVE differs from the outer report's.
	ErrInnerMeasurement = &Refusal{"inner_measurement_mismatch", "inner report's MRENCLAVE differs from the outer report's"}
	// ErrSimulatedRefused: the evidence is simulated (its report says so, or it chains to a
	// simulated root) and neither the policy nor the options allow simulated evidence.
	ErrSimulatedRefused = &Refusal{"simulated_refused", "simulated evidence refused"}
	// ErrDebugRefused: the enclave runs in debug mode (its memory is readable by the host)
	// and the policy does not allow it.
	ErrDebugRefused = &Refusal{"debug_refused", "debug enclave refused"}
	// ErrPolicyMRENCLAVE: the runtime's measurement is not one the policy accepts.
	ErrPolicyMRENCLAVE = &Refusal{"policy_mrenclave", "MRENCLAVE not accepted by the policy"}
	// ErrPolicyMRSIGNER: the enclave's signer is not one the policy accepts.
	ErrPolicyMRSIGNER = &Refusal{"policy_mrsigner", "MRSIGNER not accepted by the policy"}
	// ErrPolicyProductID: ISVPRODID differs from the policy's.
	ErrPolicyProductID = &Refusal{"policy_isv_prod_id", "ISVPRODID not accepted by the policy"}
	// ErrPolicyISVSVN: ISVSVN is below the policy's minimum.
	ErrPolicyISVSVN = &Refusal{"policy_isvsvn", "ISVSVN below the policy's minimum"}
	// ErrPolicyTCBStatus: the platform's TCB status is not one the policy accepts.
	ErrPolicyTCBStatus = &Refusal{"policy_tcb_status", "TCB status not accepted by the policy"}
	// ErrPolicyModule: the function's module hash is not one the policy accepts (another
	// function's report).
	ErrPolicyModule = &Refusal{"policy_module_hash", "module hash not accepted by the policy"}
	// ErrPolicyCleanState: the clean-state (snapshot) hash is not the published one.
	ErrPolicyCleanState = &Refusal{"policy_clean_state_hash", "clean-state hash not accepted by the policy"}
	// ErrInputMismatch: the inner report's input hash is not SHA-256 of the client's input.
	ErrInputMismatch = &Refusal{"input_mismatch", "inner report's input hash differs from the client's input"}
	// ErrOutputMismatch: the inner report's output hash is not SHA-256 of the bundled output.
	ErrOutputMismatch = &Refusal{"output_mismatch", "inner report's output hash differs from the bundled output"}
	// ErrNonceMismatch: the inner report's nonce is not the client's.
	ErrNonceMismatch = &Refusal{"nonce_mismatch", "inner report's nonce differs from the client's"}
	// ErrNonceReplay: the Sequence has already accepted a report with this nonce.
	ErrNonceReplay = &Refusal{"nonce_replay", "nonce already used"}
	// ErrEpochReplay: the epoch is not greater than the last one the Sequence accepted for
	// this enclave: the enclave was not rewound since (or the report is replayed).
	ErrEpochReplay = &Refusal{"epoch_replay", "rewind epoch not greater than the last seen for this enclave"}
	// ErrPolicyInvalid: the policy is missing, does not parse (unknown keys, duplicate or
	// case-variant keys, bad hex, trailing data) or lacks a required field.
	ErrPolicyInvalid = &Refusal{"policy_invalid", "invalid policy"}
	// ErrNoHardwareVerifier: the evidence is hardware evidence (FormatEGo) and
	// VerifyOptions.Hardware is nil: this verifier cannot check it (reclave built without
	// the egoclient tag).
	ErrNoHardwareVerifier = &Refusal{"no_hardware_verifier", "hardware evidence, and no hardware verifier"}
	// ErrBadHardwareEvidence: VerifyOptions.Hardware refused the hardware evidence (its
	// signature does not chain to the manufacturer, or it does not parse), or its fields do
	// not map onto a report.
	ErrBadHardwareEvidence = &Refusal{"bad_hardware_evidence", "hardware evidence does not verify"}
)

// Refusals lists every refusal, for documentation and tests.
var Refusals = []*Refusal{
	ErrMalformedBundle, ErrDuplicateKey, ErrSchemaVersion, ErrNoTrustedRoot, ErrUntrustedRoot,
	ErrBadQuoteSignature, ErrReportDataMismatch, ErrBadInnerSignature, ErrEnclaveIDMismatch,
	ErrInnerMeasurement, ErrSimulatedRefused, ErrDebugRefused, ErrPolicyMRENCLAVE,
	ErrPolicyMRSIGNER, ErrPolicyProductID, ErrPolicyISVSVN, ErrPolicyTCBStatus, ErrPolicyModule,
	ErrPolicyCleanState, ErrInputMismatch, ErrOutputMismatch, ErrNonceMismatch, ErrNonceReplay,
	ErrEpochReplay, ErrPolicyInvalid, ErrNoHardwareVerifier, ErrBadHardwareEvidence,
}
