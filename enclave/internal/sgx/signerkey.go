package sgx

import (
	"crypto/rsa"
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"fmt"
	"os"
	"sync"
)

// testSignerKeyPEM is reclave's TEST signer key: an RSA-3072 key with exponent 3, committed in
// the repository like the SGX SDK's Enclave_private_test.pem. Its private half is public, so
// an enclave it signs proves nothing about who built it. NOT FOR PRODUCTION.
//
//go:embed testdata/test_signer_key.pem
var testSignerKeyPEM []byte

// TestSignerMRSIGNER is the MRSIGNER of [TestSignerKey], hex-encoded.
const TestSignerMRSIGNER = "79c3c0116c7968bb55626378c7a465c410e1c3a4d75c72532a63232d5ada2b6a"

var testSignerKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return ParseSignerKey(testSignerKeyPEM) })

// TestSignerKey returns reclave's TEST signer key (testdata/test_signer_key.pem, embedded),
// whose MRSIGNER is [TestSignerMRSIGNER]. It is a TEST KEY, NOT FOR PRODUCTION: its private
// half is published. The returned key is shared; do not modify it.
func TestSignerKey() *rsa.PrivateKey {
	k, err := testSignerKey()
	if err != nil {
		panic("sgx: embedded test signer key: " + err.Error())
	}
	return k
}

// LoadSignerKey reads a signer key from a PEM file (PKCS #1 "RSA PRIVATE KEY" or PKCS #8
// "PRIVATE KEY") and checks that SGX can use it: RSA, 3072 bits, public exponent 3
// (ErrSignerKey otherwise).
func LoadSignerKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load signer key: %w", err)
	}
	k, err := ParseSignerKey(data)
	if err != nil {
		return nil, fmt.Errorf("load signer key %s: %w", path, err)
	}
	return k, nil
}

// ParseSignerKey parses the first private key block of PEM data, as LoadSignerKey does. Text
// around the block (a label such as the test key's warning) is ignored.
func ParseSignerKey(data []byte) (*rsa.PrivateKey, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("%w: no PEM private key block", ErrSignerKey)
		}
		var key any
		var err error
		switch block.Type {
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSignerKey, err)
		}
		rk, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: a %T, not an RSA key", ErrSignerKey, key)
		}
		if err := checkSignerKey(rk); err != nil {
			return nil, err
		}
		rk.Precompute()
		if err := rk.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSignerKey, err)
		}
		return rk, nil
	}
}

// MarshalSignerKey encodes key as a PKCS #1 "RSA PRIVATE KEY" PEM block, the form the SGX
// SDK's signing tool reads.
func MarshalSignerKey(key *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}
