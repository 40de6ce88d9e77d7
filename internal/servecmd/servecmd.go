// Package servecmd is the command that serves a WebAssembly function from a reclave enclave
// as an OpenWhisk action runtime (package actionproxy): its flags, their checks, the
// enclave configuration they make and the server's life until its context ends.
//
// Two binaries run it, so that they take the same flags and serve the same way: `reclave
// serve`, a command of the harness's CLI, and reclave-enclave (cmd/reclave-enclave), the
// minimal binary that runs inside an enclave — what cold starts measure as the runtime image,
// what EGo signs, what target process starts. This package must therefore stay free of the
// harness, its statistics, plots, YAML and clients: it imports actionproxy and the enclave
// packages only (a test of cmd/reclave-enclave checks the whole dependency list).
package servecmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/reclave/reclave/actionproxy"
	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/enclave/egoquote"
)

// Synopsis lists the command's flags, for usage texts.
const Synopsis = `[--addr :8080] [--mode rewind|reinstantiate|warm|cold] [--memory-mib MiB]
[--strategy S] [--platform DIR] [--signer-key FILE] [--quoter simulated|ego]
[--read-timeout 30s] [--generic]`

// UsageError is an unusable flag or argument: the caller's mistake (exit status 2, with the
// usage text).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// InputError is a file a flag names that cannot be used, such as an unreadable signer key
// (exit status 2, without the usage text).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func usageErr(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// Run parses args (flags only; name names the command in messages, such as "reclave serve")
// and serves until ctx is done (SIGINT or SIGTERM), then shuts down gracefully: an activation
// in flight may finish within 30 s. The activation logs and their sentinel lines go to
// stdout and stderr, as an action container's do; stderr also gets the flags' help and the
// line, actionproxy.ListeningPrefix and the address, that says the server listens.
//
// It returns flag.ErrHelp for -h, a *UsageError or *InputError for what the caller must
// fix, and any other error for a failure (the attestation platform, listening, serving).
func Run(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", ":8080", "listen `ADDR`ess (host:port; OpenWhisk's action containers listen on :8080)")
	mode := fs.String("mode", "rewind", "`MODE` after each activation: rewind, reinstantiate, warm (no reset) or cold (a fresh enclave per activation)")
	memoryMiB := fs.Int("memory-mib", 64, "enclave memory region in `MiB`")
	strategy := fs.String("strategy", string(enclave.DefaultStrategy), "rewind `STRATEGY`: auto (measure diff and tracked, keep the cheaper), full, diff, cow or tracked")
	point := fs.String("snapshot-point", string(enclave.PointFunction), "where mode rewind takes its snapshot (`POINT`): function (after the function's init) or runtime (before the module is instantiated)")
	platform := fs.String("platform", "", "keep the simulated attestation platform's root in `DIR` (reclave attest root --platform DIR prints it); default a new in-memory root")
	quoter := fs.String("quoter", "simulated", "who quotes the enclaves' outer evidence: simulated, or ego (the SGX platform through EGo: a binary built with -tags ego, run under ego run)")
	signerKey := fs.String("signer-key", "", "enclave signer's private key `FILE` (PEM, RSA-3072, exponent 3); default reclave's committed TEST key")
	readTimeout := fs.Duration("read-timeout", actionproxy.DefaultReadTimeout, "how long a client has to send a request's body (`DURATION`); a slower one is answered 408")
	generic := fs.Bool("generic", false, "serve generic enclaves: /init creates one enclave measured without any function, every /run brings its function in value."+actionproxy.FunctionKey+" (or runs /init's code) and the enclave is rewound to its runtime snapshot after it; mode rewind only")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &UsageError{Err: err}
	}
	if fs.NArg() > 0 {
		return usageErr("%s takes no arguments", name)
	}
	cfg := enclave.Config{MemoryBytes: int64(*memoryMiB) << 20, Strategy: enclave.Strategy(*strategy), SnapshotPoint: enclave.SnapshotPoint(*point)}
	var err error
	if cfg.Reset, cfg.OneShot, err = actionproxy.ResetFor(*mode); err != nil {
		return usageErr("--mode: %v", err)
	}
	switch {
	case *memoryMiB < 2:
		return usageErr("--memory-mib %d: must be at least 2", *memoryMiB)
	case !slices.Contains(enclave.Strategies(), cfg.Strategy):
		return usageErr("--strategy %q: want one of %v", *strategy, enclave.Strategies())
	case cfg.SnapshotPoint != enclave.PointFunction && cfg.SnapshotPoint != enclave.PointRuntime:
		return usageErr("--snapshot-point %q: want function or runtime", *point)
	case *readTimeout <= 0:
		return usageErr("--read-timeout %v: must be positive", *readTimeout)
	case *generic && *mode != "rewind":
		return usageErr("--generic: a generic enclave is rewound to its runtime snapshot after every activation: drop --mode %s", *mode)
	case *generic && cfg.SnapshotPoint == enclave.PointFunction && given(fs, "snapshot-point"):
		return usageErr("--generic: the clean state of a generic enclave is the runtime's: drop --snapshot-point function")
	}
	if *generic {
		cfg.SnapshotPoint = enclave.PointRuntime
	}
	if *signerKey != "" {
		if cfg.Signer, err = enclave.LoadSigner(*signerKey); err != nil {
			return &InputError{Err: fmt.Errorf("--signer-key: %w", err)}
		}
	}
	// Every enclave is quoted: /init attests the enclave, and a /run may ask for an inner
	// report.
	switch {
	case *quoter == "ego":
		cfg.Quoter, err = egoquote.NewQuoter()
	case *quoter != "simulated":
		return usageErr("--quoter %q: want simulated or ego", *quoter)
	case *platform != "":
		cfg.Quoter, err = attest.LoadSimulatedPlatform(*platform)
	default:
		cfg.Quoter, err = attest.NewSimulatedPlatform()
	}
	if err != nil {
		return fmt.Errorf("attestation platform: %w", err)
	}
	platformKind := "SIMULATED attestation platform"
	if *quoter == "ego" {
		platformKind = "outer evidence from the SGX platform (EGo)"
	}
	fmt.Fprintf(stderr, "%s: mode %s, %d MiB enclaves, SIMULATED SGX life cycle, %s\n", name, *mode, *memoryMiB, platformKind)
	opts := actionproxy.Options{Enclave: cfg, Stdout: stdout, Stderr: stderr, ReadTimeout: *readTimeout, Generic: *generic}
	return actionproxy.ListenAndServe(ctx, *addr, opts, stderr)
}

// given reports whether the flag name was set on the command line.
func given(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// SignalContext returns a context that the first SIGINT or SIGTERM cancels: invocations stop
// at once (the enclave's interrupt checks), reclave run keeps what it recorded, a server
// lets an activation in flight finish within its grace. A second signal ends the process at
// once: after the first, the signals get their default action back. reclave and
// reclave-enclave both start with it.
func SignalContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	return ctx, stop
}
