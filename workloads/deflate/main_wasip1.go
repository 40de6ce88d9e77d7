//go:build wasip1

// Command deflate is a reclave workload (reactor kind, function ABI version 1, see
// ../README.md) written in Go: DEFLATE (RFC 1951, package compress/flate) compression and
// decompression of a text. Built as a WASI preview1 reactor with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false \
//	    -ldflags="-s -w" -o deflate.wasm .
//
// (see build.sh). Exports, besides _initialize (the Go runtime):
//
//   - reclave_init: () -> (): allocates the compressor for the default level (about 1 MiB of
//     tables and windows), which invocations at that level reuse after a Reset;
//   - reclave_handle: () -> i32: one invocation.
//
// Input: {"text":"...","level":L,"stream":B} (the `generate: text` input of the manifest;
// unknown fields ignored). level is the compress/flate level, -2 (Huffman only) to 9, default
// 6; stream true adds the compressed stream to the output (used by expected/gen.py to verify
// it with an independent inflater).
//
// One invocation compresses the UTF-8 bytes of text into a raw DEFLATE stream at the level,
// decompresses that stream again and compares the result with the text.
//
// Output: {"level":L,"input_bytes":N,"input_sha256":"<hex>","compressed_bytes":M,
// "compressed_sha256":"<hex SHA-256 of the raw DEFLATE stream>","roundtrip":<the
// decompressed bytes equal the text>} and, with stream true, "stream":"<standard base64 of the
// DEFLATE stream>". The stream is deterministic for a given build of this module (compress/flate
// keeps no randomness and no state between writers), but not across Go versions, and other
// deflaters (zlib) produce other, equally valid streams. roundtrip false gives the result 1;
// bad input gives {"error":"..."} and the result 1.
//
// The file name ends in _wasip1.go and carries a wasip1 build constraint so that the host
// build (go build/vet/test ./... in the reclave module) ignores this package.
package main

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// defaultLevel is the level used when the input names none: zlib's and gzip's default too.
const defaultLevel = 6

type request struct {
	Text   string `json:"text"`
	Level  *int   `json:"level"`
	Stream bool   `json:"stream"`
}

type response struct {
	Level            int    `json:"level"`
	InputBytes       int    `json:"input_bytes"`
	InputSHA256      string `json:"input_sha256"`
	CompressedBytes  int    `json:"compressed_bytes"`
	CompressedSHA256 string `json:"compressed_sha256"`
	Roundtrip        bool   `json:"roundtrip"`
	Stream           []byte `json:"stream,omitempty"` // encoding/json writes standard base64
}

// prepared is the compressor for defaultLevel made by reclave_init; nil until then.
var prepared *flate.Writer

//go:wasmexport reclave_init
func reclaveInit() {
	w, err := flate.NewWriter(io.Discard, defaultLevel)
	if err != nil {
		return // left nil: compress makes a writer per call and reports the error
	}
	prepared = w
}

// compress returns the raw DEFLATE stream of data at level, reusing the prepared compressor
// for the default level (Reset discards all of its earlier state, so the stream is the same).
func compress(data []byte, level int) ([]byte, error) {
	var buf bytes.Buffer
	w := prepared
	if level == defaultLevel && w != nil {
		w.Reset(&buf)
	} else {
		var err error
		if w, err = flate.NewWriter(&buf, level); err != nil {
			return nil, fmt.Errorf("level %d: %w", level, err)
		}
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	return buf.Bytes(), nil
}

func handle(in []byte) (response, error) {
	var req request
	if err := json.Unmarshal(in, &req); err != nil {
		return response{}, fmt.Errorf("input: %w", err)
	}
	level := defaultLevel
	if req.Level != nil {
		level = *req.Level
	}
	data := []byte(req.Text)
	stream, err := compress(data, level)
	if err != nil {
		return response{}, err
	}
	r := flate.NewReader(bytes.NewReader(stream))
	back, err := io.ReadAll(r)
	if err != nil {
		return response{}, fmt.Errorf("decompress: %w", err)
	}
	if err := r.Close(); err != nil {
		return response{}, fmt.Errorf("decompress: %w", err)
	}
	sum, csum := sha256.Sum256(data), sha256.Sum256(stream)
	out := response{
		Level:            level,
		InputBytes:       len(data),
		InputSHA256:      hex.EncodeToString(sum[:]),
		CompressedBytes:  len(stream),
		CompressedSHA256: hex.EncodeToString(csum[:]),
		Roundtrip:        bytes.Equal(back, data),
	}
	if req.Stream {
		out.Stream = stream
	}
	return out, nil
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
	if !out.Roundtrip {
		return 1
	}
	return 0
}

// main is not called in a c-shared (reactor) build; it must exist for package main.
func main() {}
