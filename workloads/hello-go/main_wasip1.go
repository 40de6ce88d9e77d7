//go:build wasip1

// Command hello-go is a reclave workload (reactor kind, function ABI version 1, see
// ../README.md) written in Go: a WASI preview1 reactor built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false \
//	    -ldflags="-s -w" -o hello-go.wasm .
//
// (see ../build.sh). With -buildmode=c-shared the module exports _initialize, which starts the
// Go runtime and runs package initialisation (main is not called), plus the functions marked
// //go:wasmexport below:
//
//   - reclave_init: () -> (): builds the upper-case lookup table used for ASCII items;
//   - reclave_handle: () -> i32: one invocation.
//
// Input: {"name":"...","items":["...", ...]} (both fields optional; unknown fields ignored).
// Output: {"greeting":"Hello, <name>!","count":<number of items>,"items":[<items upper-cased,
// then sorted>],"sha256":"<hex SHA-256 of the raw input bytes>","init":<whether reclave_init
// ran before this call>}. Input that is not such a JSON object gives {"error":"..."} and the
// result 1.
//
// Every call reads fd 0 to end-of-file afresh (os.Stdin is unbuffered and keeps no EOF state),
// so one instance can serve many invocations. The Go runtime seeds itself from random_get in
// _initialize; nothing here draws randomness per call.
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
	"unicode/utf8"
)

// upper maps every byte to its ASCII upper case; built by reclave_init (or lazily).
var upper *[256]byte

func buildTable() *[256]byte {
	t := new([256]byte)
	for i := range t {
		c := byte(i)
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		t[i] = c
	}
	return t
}

//go:wasmexport reclave_init
func reclaveInit() {
	upper = buildTable()
}

type request struct {
	Name  string   `json:"name"`
	Items []string `json:"items"`
}

type response struct {
	Greeting string   `json:"greeting"`
	Count    int      `json:"count"`
	Items    []string `json:"items"`
	SHA256   string   `json:"sha256"`
	Init     bool     `json:"init"`
}

// toUpper upper-cases s: through the table for ASCII, strings.ToUpper otherwise.
func toUpper(t *[256]byte, s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return strings.ToUpper(s)
		}
	}
	b := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		b[i] = t[s[i]]
	}
	return string(b)
}

func handle(in []byte) (any, error) {
	var req request
	if err := json.Unmarshal(in, &req); err != nil {
		return nil, err
	}
	initialized := upper != nil
	t := upper
	if t == nil {
		t = buildTable()
	}
	items := make([]string, len(req.Items))
	for i, s := range req.Items {
		items[i] = toUpper(t, s)
	}
	slices.Sort(items)
	sum := sha256.Sum256(in)
	return response{
		Greeting: "Hello, " + req.Name + "!",
		Count:    len(items),
		Items:    items,
		SHA256:   hex.EncodeToString(sum[:]),
		Init:     initialized,
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
	return 0
}

// main is not called in a c-shared (reactor) build; it must exist for package main.
func main() {}
