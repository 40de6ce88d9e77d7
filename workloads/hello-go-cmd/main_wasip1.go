//go:build wasip1

// Command hello-go-cmd is a reclave workload (command kind, function ABI version 1, see
// ../README.md) written in Go: a WASI preview1 command built with
//
//	GOOS=wasip1 GOARCH=wasm go build -trimpath -buildvcs=false -ldflags="-s -w" \
//	    -o hello-go-cmd.wasm .
//
// (see ../build.sh). The module exports _start, which starts the Go runtime, runs main and
// then exits through proc_exit: proc_exit(0) when main returns, proc_exit(1) after an error.
// A Go command can therefore never be reused without a reset: every invocation ends in an
// exit, and the Go runtime cannot be started twice in one instance.
//
// Same transform as hello-go (the reactor), without its reclave_init:
// Input: {"name":"...","items":["...", ...]} (both fields optional; unknown fields ignored).
// Output: {"greeting":"Hello, <name>!","count":<number of items>,"items":[<items upper-cased,
// then sorted>],"sha256":"<hex SHA-256 of the raw input bytes>"}. Input that is not such a
// JSON object gives {"error":"..."} and exit code 1.
//
// The file name ends in _wasip1.go and carries a wasip1 build constraint so that the host
// build (go build/vet/test ./... in the reclave module) ignores this package.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"slices"
	"strings"
)

type request struct {
	Name  string   `json:"name"`
	Items []string `json:"items"`
}

type response struct {
	Greeting string   `json:"greeting"`
	Count    int      `json:"count"`
	Items    []string `json:"items"`
	SHA256   string   `json:"sha256"`
}

func handle(in []byte) (any, error) {
	var req request
	if err := json.Unmarshal(in, &req); err != nil {
		return nil, err
	}
	items := make([]string, len(req.Items))
	for i, s := range req.Items {
		items[i] = strings.ToUpper(s)
	}
	slices.Sort(items)
	sum := sha256.Sum256(in)
	return response{
		Greeting: "Hello, " + req.Name + "!",
		Count:    len(items),
		Items:    items,
		SHA256:   hex.EncodeToString(sum[:]),
	}, nil
}

func writeJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error":"encoding the output failed"}`)
	}
	os.Stdout.Write(b)
}

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		writeJSON(map[string]string{"error": "read from stdin: " + err.Error()})
		os.Exit(1)
	}
	out, err := handle(in)
	if err != nil {
		writeJSON(map[string]string{"error": err.Error()})
		os.Exit(1)
	}
	writeJSON(out)
}
