package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/reclave/reclave/internal/servecmd"
)

// cmdServe runs the OpenWhisk action proxy (package actionproxy) until ctx is done (SIGINT or
// SIGTERM), then shuts down gracefully. It is the command reclave-enclave runs (package
// internal/servecmd: the same flags, the same server), inside the harness's CLI.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := servecmd.Run(ctx, "reclave serve", args, stdout, stderr)
	var usageErr *servecmd.UsageError
	var inputErr *servecmd.InputError
	switch {
	case errors.As(err, &usageErr):
		return fmt.Errorf("%w: %v", errUsage, usageErr.Err)
	case errors.As(err, &inputErr):
		return fmt.Errorf("%w: %v", errInput, inputErr.Err)
	}
	return err
}
