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
// It compiles and is vetted in CI and has never run: this project's machines have no SGX
// and no EGo toolchain. Its logic outside ego's calls (the mapping of ego's report, the
// hardware branch of attest's verifier, the enclave taking the hardware's identity) is tested
// with stand-ins for ego (enclave TestInvokeAttestedHardware, attest TestHardwareEvidence).
//
// # Building
//
// Everything but this file is behind the build tag ego, and needs cgo (EGo's enclave package
// includes a C header). Without the tag the package is empty and reclave builds and runs as
// before, simulated. To run it, build with EGo's toolchain and run under EGo, on SGX
// hardware or in EGo's simulation mode (OE_SIMULATION=1, which gives no hardware guarantee
// and, as far as EGo documents, no quote either):
//
//	ego-go build -tags ego -trimpath -o bin/reclave-enclave ./cmd/reclave-enclave
//	ego sign enclave.json
//	ego run bin/reclave-enclave --addr 127.0.0.1:8080
//	OE_SIMULATION=1 ego run bin/reclave-enclave --addr 127.0.0.1:8080
//
// The enclave runs reclave-enclave, the runtime image (the action-proxy server over the
// enclave runtime), never the harness: the driver (bin/reclave run, target process) starts
// it from outside, as README.md shows.
//
// CI only checks that it compiles: CGO_ENABLED=1 go vet -tags ego ./... (gcc suffices; no
// EGo installation is needed to compile). A plain go build -tags ego binary is not an
// enclave: outside EGo, GetRemoteReport fails.
//
// # Hardware evidence
//
// Quote returns [attest.Evidence] of format [attest.FormatEGo]: the raw remote report, with
// no quoting certificate (the report's signature chains to Intel through collateral that Open
// Enclave fetches and checks itself). The Quoter also implements [attest.IdentityQuoter]:
// the reclave enclave takes its MRENCLAVE and MRSIGNER from the platform (GetSelfReport) —
// those of the signed EGo binary, not of the simulated enclave layout it measures — so that
// its inner reports carry the MRENCLAVE the evidence does.
//
// A client verifies such a bundle with attest.VerifyOptions.Hardware set to
// [VerifyRemoteReport] (file verify.go, build tag egoclient: ego's
// eclient.VerifyRemoteReport, outside any enclave, needing cgo, EGo's headers and libraries
// and libcrypto). `reclave attest verify` built with -tags egoclient does so, and needs no
// --root for hardware evidence; built without it, it refuses hardware evidence with
// attest.ErrNoHardwareVerifier. ego's report is mapped by [attest.ReportFromEGo]; a TCB
// level that is not up to date is kept as the report's TCB status for the policy to judge.
// The policy pins the signed binary's identity (ego uniqueid / ego signerid
// bin/reclave-enclave).
// CI vets verify.go with ego's mock eclient: -tags egoclient,ego_mock_eclient.
//
// # What EGo does not allow
//
//   - Memory-mapped files: EGo supports mmap only partially, not of files. The cow rewind
//     strategy maps a memfd copy-on-write under linear memory, so it is unavailable; use
//     tracked, diff or full.
//   - Signals: os/signal receives nothing inside an enclave, so Ctrl-C and SIGTERM do not
//     cancel a run; the host's ego process is what gets killed.
//   - Processes: no os/exec inside the enclave; the driver runs outside it.
//   - The file system is an empty in-enclave memfs unless enclave.json mounts host folders,
//     and only environment variables named there or starting with EDG_ reach the enclave.
//
// # Cold starts
//
// On hardware, a cold start is a real enclave launch: one `ego run` (ECREATE, EADD/EEXTEND of
// the whole signed binary and heap, EINIT) per cold start. The harness does that with target
// process (harness.TargetProcess): the driver runs outside EGo and starts every enclave as
// `ego run bin/reclave-enclave ...` (process.command in the config), one per cold start, and
// times it from the host (phases launch, init, run, destroy). See README.md, "Running on SGX
// hardware (EGo)".
package egoquote
