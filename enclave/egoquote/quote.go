//go:build ego

package egoquote

import (
	"errors"
	"fmt"

	"github.com/edgelesssys/ego/enclave"

	"github.com/reclave/reclave/enclave/attest"
)

// ErrUnverifiable accompanies every evidence Quote produces: the EGo remote report is in
// Evidence.Report, where attest expects its own 152-byte encoding, and QuotingCert and
// Signature are empty, so attest.VerifyEvidence refuses it. See the package documentation
// for what attest must gain.
var ErrUnverifiable = errors.New("egoquote: attest.Evidence cannot carry an EGo remote report: " +
	"the raw report is in Evidence.Report but attest cannot verify it (no hardware evidence format yet)")

// Quoter gets SGX remote reports through EGo. The zero value is ready to use.
type Quoter struct{}

// New returns a Quoter.
func New() *Quoter { return &Quoter{} }

var _ attest.Quoter = (*Quoter)(nil)

// Quote asks the platform for a remote report over r.ReportData (all 64 bytes: see
// attest.ReportDataFor); r's other fields are ignored, the hardware supplies the enclave's
// identity. On success it returns the raw remote report in Evidence.Report together with
// ErrUnverifiable; on failure (not inside an EGo enclave, no quoting infrastructure) it
// returns nil and the error.
func (*Quoter) Quote(r attest.Report) (*attest.Evidence, error) {
	raw, err := enclave.GetRemoteReport(r.ReportData[:])
	if err != nil {
		return nil, fmt.Errorf("egoquote: ego remote report: %w", err)
	}
	return &attest.Evidence{Report: raw}, ErrUnverifiable
}
