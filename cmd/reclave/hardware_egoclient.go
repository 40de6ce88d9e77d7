//go:build egoclient

package main

import (
	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/enclave/egoquote"
)

// hardwareVerifier verifies hardware evidence (SGX remote reports from EGo) with ego's
// eclient: this build has the egoclient tag.
func hardwareVerifier() func([]byte) (attest.Report, error) { return egoquote.VerifyRemoteReport }
