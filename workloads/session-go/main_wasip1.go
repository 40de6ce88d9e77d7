//go:build wasip1

// Command session-go is a reclave workload (reactor kind, function ABI version 1, see
// ../README.md) written in Go that hands out session identifiers, as many functions do, from
// math/rand/v2's top-level generator. The Go runtime seeds that generator from WASI random_get
// while it starts, in _initialize: so when an enclave is rewound to a snapshot taken after the
// function's init (snapshot point "function"), every invocation starts from the same seed and
// hands out the same "random" identifier. reclave detects this (random bytes drawn during
// init) and warns; the snapshot point "runtime" re-runs the init per invocation and avoids it.
// crypto/rand, which calls random_get on every use, is not affected: the output shows both.
//
// Input: {"user":"..."} (optional). Output: {"user":"...","session":"<16 hex digits from
// math/rand/v2>","nonce":"<16 hex digits from crypto/rand>"}.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false \
// -ldflags="-s -w" -o session-go.wasm . (see ../build.sh)
package main

import (
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
)

type response struct {
	User    string `json:"user"`
	Session string `json:"session"`
	Nonce   string `json:"nonce"`
}

//go:wasmexport reclave_handle
func reclaveHandle() int32 {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		os.Stdout.Write([]byte(`{"error":"read input"}`))
		return 1
	}
	var req struct {
		User string `json:"user"`
	}
	if len(in) > 0 {
		if err := json.Unmarshal(in, &req); err != nil {
			b, _ := json.Marshal(map[string]string{"error": err.Error()})
			os.Stdout.Write(b)
			return 1
		}
	}
	var nonce [8]byte
	crand.Read(nonce[:])
	b, _ := json.Marshal(response{
		User:    req.User,
		Session: fmt.Sprintf("%016x", rand.Uint64()),
		Nonce:   hex.EncodeToString(nonce[:]),
	})
	os.Stdout.Write(b)
	return 0
}

func main() {}
