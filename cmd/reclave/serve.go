package main

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/reclave/reclave/actionproxy"
	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/enclave/egoquote"
	"github.com/reclave/reclave/harness"
)

// cmdServe runs the OpenWhisk action proxy (package actionproxy) until ctx is done (SIGINT or
// SIGTERM), then shuts down gracefully. The activation logs and their sentinel lines go to
// stdout and stderr, as an action container's do.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	addr := fs.String("addr", ":8080", "listen `ADDR`ess (host:port; OpenWhisk's action containers listen on :8080)")
	mode := fs.String("mode", "rewind", "`MODE` after each activation: rewind, reinstantiate, warm (no reset) or cold (a fresh enclave per activation)")
	memoryMiB := fs.Int("memory-mib", 64, "enclave memory region in `MiB`")
	strategy := fs.String("strategy", string(enclave.StrategyTracked), "rewind `STRATEGY`: full, diff, cow or tracked")
	platform := fs.String("platform", "", "keep the simulated attestation platform's root in `DIR` (reclave attest root --platform DIR prints it); default a new in-memory root")
	quoter := fs.String("quoter", "simulated", "who quotes the enclaves' outer evidence: simulated, or ego (the SGX platform through EGo: a reclave built with -tags ego, run under ego run)")
	signerKey := fs.String("signer-key", "", "enclave signer's private key `FILE` (PEM, RSA-3072, exponent 3); default reclave's committed TEST key")
	readTimeout := fs.Duration("read-timeout", actionproxy.DefaultReadTimeout, "how long a client has to send a request's body (`DURATION`); a slower one is answered 408")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: serve takes no arguments", errUsage)
	}
	cfg := enclave.Config{MemoryBytes: int64(*memoryMiB) << 20, Strategy: enclave.Strategy(*strategy)}
	var err error
	if cfg.Reset, cfg.OneShot, err = harness.ResetFor(*mode); err != nil {
		return fmt.Errorf("%w: --mode: %v", errUsage, err)
	}
	switch {
	case *memoryMiB < 2:
		return fmt.Errorf("%w: --memory-mib %d: must be at least 2", errUsage, *memoryMiB)
	case !slices.Contains(enclave.Strategies(), cfg.Strategy):
		return fmt.Errorf("%w: --strategy %q: want one of %v", errUsage, *strategy, enclave.Strategies())
	case *readTimeout <= 0:
		return fmt.Errorf("%w: --read-timeout %v: must be positive", errUsage, *readTimeout)
	}
	if *signerKey != "" {
		if cfg.Signer, err = enclave.LoadSigner(*signerKey); err != nil {
			return fmt.Errorf("%w: --signer-key: %v", errInput, err)
		}
	}
	// Every enclave is quoted by a simulated platform: /init attests the enclave, and a /run
	// may ask for an inner report.
	switch {
	case *quoter == "ego":
		cfg.Quoter, err = egoquote.NewQuoter()
	case *quoter != "simulated":
		return fmt.Errorf("%w: --quoter %q: want simulated or ego", errUsage, *quoter)
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
	fmt.Fprintf(stderr, "reclave serve: mode %s, %d MiB enclaves, SIMULATED SGX life cycle, %s\n", *mode, *memoryMiB, platformKind)
	opts := actionproxy.Options{Enclave: cfg, Stdout: stdout, Stderr: stderr, ReadTimeout: *readTimeout}
	return actionproxy.ListenAndServe(ctx, *addr, opts, stderr)
}
