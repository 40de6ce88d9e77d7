// Package egoquote is the outer-attestation half of reclave's EGo backend: an
// [attest.Quoter] for real SGX hardware. Where the default backend's
// [attest.SimulatedPlatform] signs reclave's own 152-byte outer report with a host-held key,
// this Quoter asks the SGX platform, through EGo
// (github.com/edgelesssys/ego/enclave.GetRemoteReport), for a remote report (an SGX quote in
// Open Enclave's format) whose REPORTDATA is the report's 64 bytes:
// SHA-256(L0 public key, PKIX DER) ‖ SHA-256(enclave id), as [attest.ReportDataFor] builds
// them. The other fields of the [attest.Report] it is given (MRENCLAVE, MRSIGNER, ISVPRODID,
// ISVSVN, DEBUG) are ignored: the hardware writes its own, those of the signed EGo binary
// (its enclave.json and private.pem), not those of reclave's simulated enclave layout.
//
// This package is a skeleton. It compiles, is vetted in CI, and has never run: this
// project's machines have no SGX and no EGo toolchain.
//
// # Building
//
// Everything but this file is behind the build tag ego, and needs cgo (EGo's enclave package
// includes a C header). Without the tag the package is empty and reclave builds and runs as
// before, simulated. To run it, build with EGo's toolchain and run under EGo, on SGX
// hardware or in EGo's simulation mode (OE_SIMULATION=1, which gives no hardware guarantee
// and, as far as EGo documents, no quote either):
//
//	ego-go build -tags ego -o bin/reclave ./cmd/reclave
//	ego sign enclave.json
//	ego run bin/reclave run --config configs/quick.yaml
//	OE_SIMULATION=1 ego run bin/reclave run --config configs/quick.yaml
//
// CI only checks that it compiles: CGO_ENABLED=1 go vet -tags ego ./... (gcc suffices; no
// EGo installation is needed to compile). A plain go build -tags ego binary is not an
// enclave: outside EGo, GetRemoteReport fails.
//
// # What attest lacks, and why Quote always returns an error
//
// [attest.Evidence] cannot carry an EGo remote report so that it verifies. Its Report field
// is defined as reclave's 152-byte encoding ([attest.Report.Marshal]), signed by the key of
// QuotingCert, a certificate that chains to a root the client brings; EGo's report is a
// different, variable-length structure whose signature chains to Intel through collateral
// that Open Enclave fetches and checks itself. [attest.VerifyEvidence] therefore refuses it
// (malformed bundle: no quoting certificate). So Quote returns the raw remote report in the
// closest field, Evidence.Report, with QuotingCert and Signature empty, together with
// ErrUnverifiable; callers that want the bytes check errors.Is(err, ErrUnverifiable). The
// enclave package treats any Quote error as a failed "quote" phase, so an enclave configured
// with this Quoter is not created: hardware attestation stays off until attest gains:
//
//   - an evidence format in [attest.Evidence] (for example a "format" field, "reclave-sim/1"
//     or "ego-remote-report/1", and a field for the raw remote report), so that a bundle
//     says which verification applies;
//   - a hardware branch in [attest.VerifyEvidence]: verify the remote report with EGo's
//     VerifyRemoteReport — on the client, outside any enclave, that is
//     github.com/edgelesssys/ego/eclient.VerifyRemoteReport (cgo, linked against EGo's
//     liboehostverify and libcrypto); inside an enclave, enclave.VerifyRemoteReport — passed
//     in through VerifyOptions as a function, so that attest itself keeps importing nothing
//     beyond the standard library and the default build needs neither cgo nor EGo;
//   - the mapping of ego's attestation.Report onto [attest.Report] that attest's package
//     documentation tables (UniqueID → MRENCLAVE, SignerID → MRSIGNER, the first two bytes of
//     ProductID little-endian → ISVProdID, SecurityVersion → ISVSVN, refusing values over
//     65535, Debug, Data → ReportData, TCBStatus with the same numbering), Simulated false;
//     ego's ErrTCBLevelInvalid turned into the report's TCB status for the [attest.Policy] to
//     judge rather than a hard failure;
//   - a policy for hardware: the trusted MRENCLAVE or MRSIGNER/ISVPRODID/ISVSVN are now those
//     of the signed EGo binary (ego uniqueid / ego signerid bin/reclave), VerifyOptions.Root
//     does not apply, and the TCB statuses to accept must be stated.
//
// The enclave package must change too: the inner report's MRENCLAVE has to equal the outer
// one, so on hardware the enclave must take its identity from the platform
// (enclave.GetSelfReport) instead of its simulated measurement.
//
// # What EGo does not allow
//
//   - Memory-mapped files: EGo supports mmap only partially, not of files. The cow rewind
//     strategy maps a memfd copy-on-write under linear memory, so it is unavailable; use
//     tracked, diff or full.
//   - Signals: os/signal receives nothing inside an enclave, so Ctrl-C and SIGTERM do not
//     cancel a run; the host's ego process is what gets killed.
//   - Processes: no os/exec, so the harness cannot ask git for the commit (it falls back to
//     the binary's VCS stamp, or unknown).
//   - The file system is an empty in-enclave memfs unless enclave.json mounts host folders,
//     and only environment variables named there or starting with EDG_ reach the enclave.
//
// # Cold starts
//
// On hardware, a cold start is a real enclave launch: one `ego run` (ECREATE, EADD/EEXTEND of
// the whole signed binary and heap, EINIT) per cold start, not the in-process simulated
// creation the enclave package measures today. The driver that would launch one `ego run`
// per cold start, hand it the function and its input, and time it from the host does not
// exist yet: it is future work. Until then, running reclave under EGo measures the simulated
// backend's modes inside one real enclave.
package egoquote
