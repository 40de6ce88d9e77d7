// Package runtimeimage builds reclave's enclave runtime image: the binary of
// cmd/reclave-enclave, what runs inside an enclave (the enclave runtime, WASI layer, L0,
// attestation signing, the action proxy server) and nothing of the harness. Cold starts add
// and measure it as the enclave's code (a config's enclave.runtime_image), target process
// starts it, EGo signs it.
//
// It is built reproducibly — no cgo, -trimpath, no VCS stamp, no symbol table, no build ID —
// so that two builds of the same sources with one Go toolchain are byte-identical, and so are
// the enclaves' measurements; without the VCS stamp a commit that changes none of the image's
// sources (a plot, a config) leaves the image, and what cold starts measure, as it was.
// ./run.sh, the Dockerfile, CI and the tests build it with the same flags ([BuildCommand],
// [BuildArgs]; a test of cmd/reclave-enclave checks that they agree).
package runtimeimage

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Name is the image's file name: ./run.sh writes bin/reclave-enclave beside bin/reclave.
const Name = "reclave-enclave"

// Package is the image's main package.
const Package = "github.com/reclave/reclave/cmd/reclave-enclave"

// BuildCommand builds the image as ./run.sh does, from the repository's root, into
// bin/reclave-enclave.
const BuildCommand = "CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o bin/" + Name + " ./cmd/reclave-enclave"

// BuildCommandFor is [BuildCommand] with the image written to out instead, for a shell.
func BuildCommandFor(out string) string {
	if strings.ContainsAny(out, " \t\n'\"$`\\*?[]{}()<>|&;#~") {
		out = "'" + strings.ReplaceAll(out, "'", `'\''`) + "'"
	}
	return strings.Replace(BuildCommand, "-o bin/"+Name, "-o "+out, 1)
}

// BuildArgs returns the go command's arguments that build the image into out; run them with
// CGO_ENABLED=0 in the environment, in a folder of reclave's module.
func BuildArgs(out string) []string {
	return []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out, Package}
}

// Build builds the image into out with the go command found on PATH, run in dir (a folder of
// reclave's module; "" is the current one).
func Build(ctx context.Context, dir, out string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("build %s: the go command: %w", Name, err)
	}
	cmd := exec.CommandContext(ctx, gobin, BuildArgs(out)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s into %s: %w: %s", Name, out, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}

// Beside returns where the image sits beside the executable exe: in its folder, named Name
// (with exe's extension, .exe on Windows).
func Beside(exe string) string {
	return filepath.Join(filepath.Dir(exe), Name+filepath.Ext(exe))
}

var (
	besideOnce sync.Once
	besidePath string
	besideErr  error
)

// BuildBesideExecutable builds the image beside the running executable (see [Beside]), once
// per process, and returns its path. It is for test binaries, whose TestMain calls it: the
// harness's default runtime image is the one beside the running executable, so that runs
// made by the tests measure a fresh build of the image, as runs made by bin/reclave measure
// bin/reclave-enclave. go test links every test binary into a folder of its own.
func BuildBesideExecutable() (string, error) {
	besideOnce.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			besideErr = fmt.Errorf("build %s: the running executable: %w", Name, err)
			return
		}
		besidePath = Beside(exe)
		besideErr = Build(context.Background(), "", besidePath)
	})
	return besidePath, besideErr
}
