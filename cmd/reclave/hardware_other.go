//go:build !egoclient

package main

import "github.com/reclave/reclave/enclave/attest"

// hardwareVerifier is nil without the egoclient tag: reclave attest verify then refuses
// hardware evidence with attest.ErrNoHardwareVerifier, saying how to build a verifier that
// checks it.
func hardwareVerifier() func([]byte) (attest.Report, error) { return nil }
