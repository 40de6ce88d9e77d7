// Command reclave-enclave is what runs inside a reclave enclave: the enclave runtime, the
// WASI layer, L0, attestation signing and the OpenWhisk action proxy server — the same server
// as `reclave serve`, with the same flags — and nothing of the harness, its statistics,
// plots, configs or clients. It is the enclave's trusted computing base and its runtime
// image: cold starts add and measure this binary (a config's enclave.runtime_image, default
// bin/reclave-enclave beside bin/reclave), target process starts it, EGo signs it
// (enclave.json), and the Dockerfile packages it as an OpenWhisk action image.
//
//	reclave-enclave [--addr :8080] [--mode rewind|reinstantiate|warm|cold] [--memory-mib MiB]
//	                [--strategy S] [--platform DIR] [--signer-key FILE] [--quoter simulated|ego]
//	                [--read-timeout 30s]
//
// It serves POST /init and POST /run (see package actionproxy and docs/openwhisk.md) until
// SIGINT or SIGTERM: an activation in flight may then finish within 30 s; a second signal
// ends it at once. Exit status: 0 after a graceful stop, 1 on a failure, 2 for unusable flags.
//
// Build it reproducibly (two builds of one commit are byte-identical), as ./run.sh does:
//
//	CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o bin/reclave-enclave ./cmd/reclave-enclave
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/reclave/reclave/internal/servecmd"
)

// name names the command in its messages.
const name = "reclave-enclave"

// usage is the usage text: the flags are those of reclave serve (servecmd.Synopsis).
var usage = "usage: " + name + " " +
	strings.ReplaceAll(servecmd.Synopsis, "\n", "\n"+strings.Repeat(" ", len("usage: "+name+" "))) + "\n" +
	"  serves a WebAssembly function from a reclave enclave as an OpenWhisk action runtime\n" +
	"  (POST /init, POST /run) until SIGINT or SIGTERM; " + name + " -h describes each flag\n"

func main() {
	ctx, stop := servecmd.SignalContext()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command; it returns the process exit code: 0 success (or -h), 1 failure,
// 2 unusable flags or files.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := servecmd.Run(ctx, name, args, stdout, stderr)
	var usageErr *servecmd.UsageError
	var inputErr *servecmd.InputError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usageErr):
		fmt.Fprintf(stderr, "%s: %v\n%s", name, err, usage)
		return 2
	case errors.As(err, &inputErr):
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	default:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
}
