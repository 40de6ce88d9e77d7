package wasi

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// goBuild builds the Go command in dir for GOOS=wasip1 GOARCH=wasm, with the local toolchain
// and no network.
func goBuild(dir, out string) ([]byte, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goTool, "build", "-o", out, "main.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOTOOLCHAIN=local", "GOWORK=off", "GOFLAGS=", "GOPROXY=off", "CGO_ENABLED=0")
	return cmd.CombinedOutput()
}
