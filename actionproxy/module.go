package actionproxy

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reclave/reclave/enclave"
)

// Keys of /init's value.env that configure the function; see the package documentation.
const (
	EnvMemoryPages    = "RECLAVE_MEMORY_PAGES"
	EnvMaxOutputBytes = "RECLAVE_MAX_OUTPUT_BYTES"
	EnvDeadline       = "RECLAVE_DEADLINE"
	EnvImports        = "RECLAVE_IMPORTS"
)

// maxModuleBytes bounds a module taken out of a zip archive.
const maxModuleBytes = 256 << 20

var (
	wasmMagic = []byte("\x00asm")
	zipMagic  = []byte("PK\x03\x04")
)

// initValue is the value of an /init request.
type initValue struct {
	Name   string         `json:"name"`
	Main   string         `json:"main"`
	Code   string         `json:"code"`
	Binary bool           `json:"binary"`
	Env    map[string]any `json:"env"`
}

// function turns an /init value into the function to load: the module (base64, a bare .wasm
// or a zip archive holding one), its kind from main, and its limits from env.
func (v *initValue) function() (enclave.Function, error) {
	if !v.Binary {
		return enclave.Function{}, fmt.Errorf("code is not binary: want a base64 WebAssembly module or a zip archive holding one (binary: true)")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v.Code))
	if err != nil {
		return enclave.Function{}, fmt.Errorf("cannot decode the code (base64): %w", err)
	}
	fn := enclave.Function{Name: v.Name}
	if fn.Name == "" {
		fn.Name = "action"
	}
	switch v.Main {
	case "", "main", "reclave_handle":
		fn.Kind = enclave.KindReactor
	case "_start":
		fn.Kind = enclave.KindCommand
	default:
		return enclave.Function{}, fmt.Errorf("main %q: want reclave_handle (a reactor; also the default, main) or _start (a command)", v.Main)
	}
	if fn.Wasm, err = extractModule(raw, v.Main); err != nil {
		return enclave.Function{}, err
	}
	if err := applyEnv(&fn, v.Env); err != nil {
		return enclave.Function{}, err
	}
	return fn, nil
}

// extractModule returns the WebAssembly module in code: code itself when it starts with the
// Wasm magic, else the one .wasm file of a zip archive (or, when it holds several, the one
// named main.wasm after the main given).
func extractModule(code []byte, main string) ([]byte, error) {
	switch {
	case bytes.HasPrefix(code, wasmMagic):
		return code, nil
	case bytes.HasPrefix(code, zipMagic):
	default:
		return nil, fmt.Errorf("code is neither a WebAssembly module nor a zip archive")
	}
	zr, err := zip.NewReader(bytes.NewReader(code), int64(len(code)))
	if err != nil {
		return nil, fmt.Errorf("code: zip archive: %w", err)
	}
	var found []*zip.File
	for _, f := range zr.File {
		if !f.FileInfo().IsDir() && strings.HasSuffix(f.Name, ".wasm") {
			found = append(found, f)
		}
	}
	if len(found) > 1 {
		found = slices.DeleteFunc(found, func(f *zip.File) bool { return path.Base(f.Name) != main+".wasm" })
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("code: the zip archive must hold exactly one .wasm file (or one named after main)")
	}
	rc, err := found[0].Open()
	if err != nil {
		return nil, fmt.Errorf("code: %s: %w", found[0].Name, err)
	}
	defer rc.Close()
	wasm, err := io.ReadAll(io.LimitReader(rc, maxModuleBytes+1))
	if err != nil {
		return nil, fmt.Errorf("code: %s: %w", found[0].Name, err)
	}
	if len(wasm) > maxModuleBytes {
		return nil, fmt.Errorf("code: %s: larger than %d bytes", found[0].Name, maxModuleBytes)
	}
	if !bytes.HasPrefix(wasm, wasmMagic) {
		return nil, fmt.Errorf("code: %s is not a WebAssembly module", found[0].Name)
	}
	return wasm, nil
}

// maxMemoryPages is the most linear memory a function may have: 4 GiB, all of Wasm32's.
const maxMemoryPages = 65536

// applyEnv sets the function's limits from the RECLAVE_* keys of /init's env. OpenWhisk passes
// env values as strings; numbers are accepted too. Other keys (__OW_* and the action's own)
// are ignored; an unknown RECLAVE_ key is an error, so a misspelt limit is not silently lost.
// Every value is checked here, so that a bad one is the caller's error (400, naming the key),
// not the enclave's failure to start: RECLAVE_MEMORY_PAGES 1 to 65536, RECLAVE_MAX_OUTPUT_BYTES
// and RECLAVE_DEADLINE positive, RECLAVE_IMPORTS a comma-separated list of "module.name".
func applyEnv(fn *enclave.Function, env map[string]any) error {
	for k, v := range env {
		if !strings.HasPrefix(k, "RECLAVE_") {
			continue
		}
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case float64:
			s = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			return fmt.Errorf("env %s: want a string, got %v", k, v)
		}
		var err error
		switch k {
		case EnvMemoryPages:
			var n uint64
			n, err = strconv.ParseUint(s, 10, 32)
			if err == nil && (n == 0 || n > maxMemoryPages) {
				err = fmt.Errorf("want 1 to %d pages of 64 KiB", maxMemoryPages)
			}
			fn.MemoryPages = uint32(n)
		case EnvMaxOutputBytes:
			fn.MaxOutputBytes, err = strconv.Atoi(s)
			if err == nil && fn.MaxOutputBytes <= 0 {
				err = errors.New("must be positive")
			}
		case EnvDeadline:
			fn.Deadline, err = time.ParseDuration(s)
			if err == nil && fn.Deadline <= 0 {
				err = errors.New("must be positive")
			}
		case EnvImports:
			fn.Imports = slices.Clone(enclave.DefaultImports)
			for imp := range strings.SplitSeq(s, ",") {
				if imp = strings.TrimSpace(imp); imp == "" {
					continue
				}
				if mod, name, ok := strings.Cut(imp, "."); !ok || mod == "" || name == "" {
					err = fmt.Errorf("import %q: want module.name", imp)
					break
				}
				fn.Imports = append(fn.Imports, imp)
			}
		default:
			return fmt.Errorf("env %s: unknown (want %s, %s, %s or %s)", k, EnvMemoryPages, EnvMaxOutputBytes, EnvDeadline, EnvImports)
		}
		if err != nil {
			return fmt.Errorf("env %s=%q: %w", k, s, err)
		}
	}
	return nil
}
