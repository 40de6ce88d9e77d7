//go:build wasip1

// Command sha-aes is a reclave workload (reactor kind, function ABI version 1, see
// ../README.md) written in Go: SHA-256 and AES-256-GCM over the input data. Built as a WASI
// preview1 reactor with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false \
//	    -ldflags="-s -w" -o sha-aes.wasm .
//
// (see build.sh). Exports, besides _initialize (the Go runtime):
//
//   - reclave_init: () -> (): expands the fixed AES-256 key and sets up GCM;
//   - reclave_handle: () -> i32: one invocation.
//
// Input: {"data":"<standard base64, with padding>"} (the `generate: bytes` input of the
// manifest; unknown fields ignored).
//
// One invocation hashes the decoded data with SHA-256, encrypts it with AES-256-GCM under a
// fixed key, nonce and additional data, hashes ciphertext||tag, decrypts and authenticates the
// result and compares it with the data. The constants (contract, shared with expected/gen.py):
//
//	key   = SHA-256("reclave sha-aes key v1")            (32 bytes: AES-256)
//	nonce = SHA-256("reclave sha-aes nonce v1")[0:12]    (the standard 96-bit GCM nonce)
//	aad   = "reclave sha-aes aad v1"
//
// A fixed nonce is a benchmark device: it makes the output deterministic, and it would be
// unsafe for real encryption of different messages under one key.
//
// Output: {"bytes":<data length>,"sha256":"<hex SHA-256 of the data>",
// "ciphertext_sha256":"<hex SHA-256 of ciphertext||tag>","tag":"<hex 16-byte GCM tag>",
// "ok":<decryption authenticated and gave back the data>}. ok false gives the result 1; input
// that is not such a JSON object gives {"error":"..."} and the result 1.
//
// The file name ends in _wasip1.go and carries a wasip1 build constraint so that the host
// build (go build/vet/test ./... in the reclave module) ignores this package.
package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// The fixed derivation inputs of the key, nonce and additional data (see the package comment).
const (
	keyLabel   = "reclave sha-aes key v1"
	nonceLabel = "reclave sha-aes nonce v1"
	aad        = "reclave sha-aes aad v1"
)

// suite is the AEAD and nonce, set up by reclave_init (or on first use when a host skips it).
type suite struct {
	aead  cipher.AEAD
	nonce []byte
}

var prepared *suite

func newSuite() (*suite, error) {
	key := sha256.Sum256([]byte(keyLabel))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("aes key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	n := sha256.Sum256([]byte(nonceLabel))
	return &suite{aead: aead, nonce: n[:aead.NonceSize()]}, nil
}

//go:wasmexport reclave_init
func reclaveInit() {
	s, err := newSuite()
	if err != nil {
		// Left nil: reclave_handle retries and reports the error as the output.
		return
	}
	prepared = s
}

type request struct {
	Data []byte `json:"data"` // encoding/json decodes standard base64
}

type response struct {
	Bytes            int    `json:"bytes"`
	SHA256           string `json:"sha256"`
	CiphertextSHA256 string `json:"ciphertext_sha256"`
	Tag              string `json:"tag"`
	OK               bool   `json:"ok"`
}

func handle(in []byte) (response, error) {
	var req request
	if err := json.Unmarshal(in, &req); err != nil {
		return response{}, fmt.Errorf("input: %w", err)
	}
	s := prepared
	if s == nil {
		var err error
		if s, err = newSuite(); err != nil {
			return response{}, err
		}
	}
	sum := sha256.Sum256(req.Data)
	sealed := s.aead.Seal(nil, s.nonce, req.Data, []byte(aad))
	csum := sha256.Sum256(sealed)
	tag := sealed[len(sealed)-s.aead.Overhead():]
	opened, err := s.aead.Open(nil, s.nonce, sealed, []byte(aad))
	return response{
		Bytes:            len(req.Data),
		SHA256:           hex.EncodeToString(sum[:]),
		CiphertextSHA256: hex.EncodeToString(csum[:]),
		Tag:              hex.EncodeToString(tag),
		OK:               err == nil && bytes.Equal(opened, req.Data),
	}, nil
}

func writeJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error":"encoding the output failed"}`)
	}
	os.Stdout.Write(b)
}

//go:wasmexport reclave_handle
func reclaveHandle() int32 {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		writeJSON(map[string]string{"error": "read from stdin: " + err.Error()})
		return 1
	}
	out, err := handle(in)
	if err != nil {
		writeJSON(map[string]string{"error": err.Error()})
		return 1
	}
	writeJSON(out)
	if !out.OK {
		return 1
	}
	return 0
}

// main is not called in a c-shared (reactor) build; it must exist for package main.
func main() {}
