//go:build ego

package egoquote

import (
	"fmt"

	"github.com/edgelesssys/ego/enclave"

	"github.com/reclave/reclave/enclave/attest"
)

// Quoter gets SGX remote reports through EGo, inside an EGo enclave. The zero value is ready
// to use.
type Quoter struct{}

// New returns a Quoter.
func New() *Quoter { return &Quoter{} }

var _ attest.IdentityQuoter = (*Quoter)(nil)

// Quote asks the platform for a remote report over r.ReportData (all 64 bytes: see
// attest.ReportDataFor) and returns it as evidence of format attest.FormatEGo. r's other
// fields are ignored: the hardware writes the identity of the enclave this process runs in
// (see Identity). Outside an EGo enclave, or without quoting infrastructure, it fails.
func (*Quoter) Quote(r attest.Report) (*attest.Evidence, error) {
	raw, err := enclave.GetRemoteReport(r.ReportData[:])
	if err != nil {
		return nil, fmt.Errorf("egoquote: ego remote report: %w", err)
	}
	return &attest.Evidence{Format: attest.FormatEGo, Report: raw}, nil
}

// Identity returns the identity of the enclave this process runs in (MRENCLAVE, MRSIGNER,
// ISVPRODID, ISVSVN, DEBUG), from its own local report, mapped by attest.ReportFromEGo: the
// identity its remote reports carry, which the reclave enclave puts into its inner reports.
func (*Quoter) Identity() (attest.Report, error) {
	self, err := enclave.GetSelfReport()
	if err != nil {
		return attest.Report{}, fmt.Errorf("egoquote: ego self report: %w", err)
	}
	return attest.ReportFromEGo(self.UniqueID, self.SignerID, self.ProductID, self.SecurityVersion, self.Debug, self.Data, uint(self.TCBStatus))
}

// NewQuoter returns the EGo quoter: this build has the ego tag.
func NewQuoter() (attest.Quoter, error) { return New(), nil }
