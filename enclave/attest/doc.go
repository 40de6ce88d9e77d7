// Package attest is reclave's attestation: the evidence an enclave produces so that a client
// — who trusts neither the cloud provider nor the operating system — can check, for every
// invocation, which runtime ran (MRENCLAVE), which function it ran (the module's hash), and
// that the enclave had been rewound to the published clean state first. The producer side is
// used by the enclave runtime; the verifier side ([Verify]) is for clients and imports
// nothing of reclave's but internal/jsonstrict, a JSON checker built on encoding/json.
//
// # The nested chain
//
//	platform root CA ──issues──▶ quoting key certificate
//	                                 │ signs (once per enclave)
//	                                 ▼
//	                   outer report: MRENCLAVE, MRSIGNER, ISVPRODID, ISVSVN, DEBUG,
//	                                 REPORTDATA = SHA-256(L0 public key) ‖ SHA-256(enclave id)
//	                                 │ binds
//	                                 ▼
//	                   L0 key (ECDSA P-256, generated inside the enclave, never leaves it)
//	                                 │ signs (per invocation, on request)
//	                                 ▼
//	                   inner report: MRENCLAVE, module hash, clean-state hash, epoch, nonce,
//	                                 SHA-256(input), SHA-256(output), enclave id
//
// The outer evidence costs one quote per enclave; each invocation then costs one ECDSA
// signature inside the enclave ([L0Key.SignInner]) and one verification at the client.
// The rewind epoch counts the enclave's resets and grows with every rewind: a client that
// never accepts the same epoch twice for an enclave ([Sequence]) knows that no other
// invocation ran between the rewind to the clean state and its own.
//
// # What is simulated
//
// On SGX hardware, the outer report would be an SGX REPORT (EREPORT) turned into a quote by
// Intel's quoting enclave, its key certified through Intel's provisioning certificates up to
// Intel's root. The embedded backend has no SGX: a [SimulatedPlatform] creates (or loads from
// a directory) a root CA key and certificate and issues a quoting key certificate, all as
// ordinary keys on the host. Its evidence is simulated: the report's Simulated flag is set,
// its TCB status is Unknown, the certificates say SIMULATED, and a verifier treats evidence
// that chains to a simulated root as simulated whatever the flag says — the host holds that
// root's key and could sign anything. Verify refuses simulated evidence unless the policy or
// the options allow it ([ErrSimulatedRefused]). The inner chain (L0 key, inner reports,
// epochs, nonces) is the same with or without hardware.
//
// # Outer report and ego
//
// The outer [Report] maps one-to-one onto github.com/edgelesssys/ego/attestation.Report, the
// report ego's VerifyRemoteReport returns for SGX evidence:
//
//	reclave Report   ego attestation.Report   SGX
//	--------------   ----------------------   --------------------------------------------
//	MRENCLAVE        UniqueID  []byte         MRENCLAVE (32 bytes)
//	MRSIGNER         SignerID  []byte         MRSIGNER (32 bytes)
//	ISVProdID        ProductID []byte         ISVPRODID (ego: 16 bytes, little-endian u16 first)
//	ISVSVN           SecurityVersion uint     ISVSVN
//	Debug            Debug bool               ATTRIBUTES.DEBUG
//	ReportData       Data []byte              REPORTDATA (64 bytes)
//	TCBStatus        TCBStatus tcbstatus.Status  platform TCB level (same numbering)
//	Simulated        —                        (ego verifies hardware evidence only)
//
// REPORTDATA = SHA-256(L0 public key, PKIX DER) ‖ SHA-256(enclave id, its UTF-8 bytes): see
// [ReportDataFor].
//
// # Binary encodings
//
// Signatures are over exact bytes, so both reports have a deterministic, fixed binary layout
// (integers little-endian), documented at [Report.Marshal] (152 bytes, tag
// "reclave-report/1") and [InnerFields.Marshal] (218 bytes + the enclave id, tag
// "reclave-inner/1\0"). The quoting key signs SHA-256 of the outer report, the L0 key SHA-256
// of the inner report, both ECDSA P-256 with ASN.1 DER signatures. Parsers are strict: exact
// lengths, known tags, zero padding.
//
// # Bundle
//
// An attested invocation returns a [Bundle], JSON; binary values are base64 (standard
// alphabet, padded):
//
//	{
//	  "schema_version": 1,                 must be 1
//	  "evidence": {                        outer evidence, the same for every invocation of an enclave
//	    "report":       "<base64>",        the outer report's 152 bytes
//	    "quoting_cert": "<base64>",        the quoting key's X.509 certificate, DER (never the root)
//	    "signature":    "<base64>"         quoting key's ECDSA P-256 signature over SHA-256(report)
//	  },
//	  "l0_public_key": "<base64>",         the enclave's L0 public key, PKIX DER
//	  "inner": {
//	    "report":    "<base64>",           the inner report's bytes
//	    "signature": "<base64>"            L0 key's ECDSA P-256 signature over SHA-256(report)
//	  },
//	  "output": "<base64>"                 the invocation's output (its SHA-256 is in the inner report)
//	}
//
// Unknown fields, missing binary values, base64 in any but this canonical form and trailing
// data are refused ([ErrMalformedBundle]), and so, before anything else, is an object that
// holds a key twice or two keys that differ only in case ("output" beside "Output", or
// "out\u0070ut"), at any level ([ErrDuplicateKey]). Policies are read the same way
// ([ParsePolicy]: [ErrPolicyInvalid], also [ErrDuplicateKey] for such keys).
//
// # What was verified is what is shown
//
// encoding/json keeps the last of duplicate keys and matches keys case-insensitively; other
// parsers keep the first, or match exactly. A verifier that accepted
// {"output": "<fake>", "output": "<real>"} after checking "<real>" would let any other
// program reading the accepted file show "<fake>": a parser differential. Refusing
// duplicate and case-variant keys (package internal/jsonstrict, which folds case as
// encoding/json does) gives an accepted bundle one meaning for every parser. Then the
// bytes shown to a caller are the bytes that were verified:
//
//   - [Verify] parses the bundle once ([ParseBundle]) and verifies that parse; [Result]
//     carries the verified values, its Output a copy of the exact bytes whose SHA-256 the
//     inner report binds, taken before the hash was compared ([VerifyBundle] copies the
//     bundle's values first, so later changes to the [Bundle] do not reach the Result);
//   - show the output from Result.Output, never from the bundle's JSON read again (with
//     another parser, or another version of this one); `reclave attest verify` parses the
//     file once and prints Result.Output, escaped if it holds control characters;
//   - the input is the caller's own ([VerifyOptions].Input): only its hash is compared.
//
// # Verifying
//
//	root, _ := attest.LoadRoot("platform-root.pem")   // the client's own copy
//	policy, _ := attest.LoadPolicy("policy.json")      // see Policy
//	seq := attest.NewSequence()                        // kept across invocations
//	nonce := attest.NewNonce()                         // sent with the input
//	res, err := attest.Verify(bundleJSON, attest.VerifyOptions{
//		Root: root, Policy: policy, Nonce: nonce, Input: input, Sequence: seq,
//	})
//	var r *attest.Refusal
//	if errors.As(err, &r) { log.Print(r.Code) }        // e.g. "epoch_replay"
//
// Every refusal is one of the Err* values, a *[Refusal] with a stable Code; [VerifyBundle]
// lists the checks in order.
package attest
