//go:build egoclient

package egoquote

import (
	"errors"
	"fmt"

	"github.com/edgelesssys/ego/attestation"
	"github.com/edgelesssys/ego/eclient"

	"github.com/reclave/reclave/enclave/attest"
)

// VerifyRemoteReport verifies an SGX remote report on the client, outside any enclave, with
// ego's eclient.VerifyRemoteReport (its signature up to Intel, through the collateral Open
// Enclave fetches), and maps its fields with attest.ReportFromEGo: pass it as
// attest.VerifyOptions.Hardware. A TCB level that is not up to date is not an error here: the
// report carries its TCB status, for the policy to judge.
//
// It is built with the tag egoclient and needs cgo, EGo's headers and libraries
// (CGO_CFLAGS=-I/opt/ego/include CGO_LDFLAGS=-L/opt/ego/lib) and libcrypto; with ego's tag
// ego_mock_eclient it compiles without them and always fails (what CI vets).
func VerifyRemoteReport(raw []byte) (attest.Report, error) {
	r, err := eclient.VerifyRemoteReport(raw)
	if err != nil && !errors.Is(err, attestation.ErrTCBLevelInvalid) {
		return attest.Report{}, fmt.Errorf("egoquote: verify remote report: %w", err)
	}
	return attest.ReportFromEGo(r.UniqueID, r.SignerID, r.ProductID, r.SecurityVersion, r.Debug, r.Data, uint(r.TCBStatus))
}
