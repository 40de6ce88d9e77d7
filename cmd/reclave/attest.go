package main

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/reclave/reclave/enclave/attest"
)

func cmdAttest(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: attest needs a subcommand: root or verify", errUsage)
	}
	switch args[0] {
	case "root":
		return cmdAttestRoot(args[1:], stdout, stderr)
	case "verify":
		return cmdAttestVerify(args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: unknown attest subcommand %q: want root or verify", errUsage, args[0])
}

// cmdAttestRoot writes the simulated platform's root certificate, creating the platform when
// its folder holds none.
func cmdAttestRoot(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("attest root", stderr)
	dir := fs.String("platform", defaultPlatformDir, "simulated platform `DIR` (created if missing)")
	out := fs.String("out", "", "write the certificate (PEM) to `FILE` instead of stdout")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: attest root takes no arguments", errUsage)
	}
	p, err := attest.LoadSimulatedPlatform(*dir)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := attest.WriteSimulatedRoot(&buf, p); err != nil {
		return err
	}
	if *out == "" {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "reclave: wrote the SIMULATED platform root of %s to %s\n", *dir, *out)
	return nil
}

// cmdAttestVerify verifies a bundle. Exit codes: 0 accepted, 1 refused (any attest.Refusal,
// a malformed bundle included, and a bundle with a duplicate or case-variant key:
// duplicate_key), 2 unusable flags or files (missing or unreadable bundle, root or policy; a
// policy that does not parse, duplicate or case-variant keys included; bad hex).
func cmdAttestVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("attest verify", stderr)
	rootFile := fs.String("root", "", "trusted platform root certificate `FILE` (PEM; reclave attest root)")
	policyFile := fs.String("policy", "", "policy `FILE` (JSON; invoke --attest writes BUNDLE.policy.json)")
	nonceHex := fs.String("nonce", "", "the nonce sent with the invocation: 64 hex `digits` (without it freshness is not checked)")
	inputArg := fs.String("input", "", "the input sent with the invocation: inline `JSON` or @FILE (default: empty)")
	allowSim := fs.Bool("allow-simulated", false, "accept simulated evidence")
	if err := parse(fs, splitArgs(fs, args)); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 1:
		return fmt.Errorf("%w: attest verify needs one bundle file", errUsage)
	case *policyFile == "":
		return fmt.Errorf("%w: attest verify needs --policy FILE: the mrenclave, module, clean state (and signer) to accept; "+
			"reclave invoke --attest --bundle B writes one as B.policy.json", errUsage)
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("%w: bundle: %v", errInput, err)
	}
	// The bundle is parsed once: the parse that is verified is the one whose output is
	// printed (package attest: "What was verified is what is shown"). A bundle that does not
	// parse is refused (exit 1) where Verify would refuse it, after the flags and files.
	bundle, parseErr := attest.ParseBundle(data)
	// Hardware evidence (an SGX remote report) chains to the manufacturer, checked by the
	// hardware verifier; simulated evidence to the root the verifier brings.
	hardware := parseErr == nil && bundle.Evidence.Format == attest.FormatEGo
	var root *x509.Certificate
	switch {
	case *rootFile != "":
		if root, err = attest.LoadRoot(*rootFile); err != nil {
			return fmt.Errorf("%w: %v", errInput, err)
		}
	case !hardware:
		return fmt.Errorf("%w: attest verify needs --root FILE (the platform's root certificate: reclave attest root --out FILE)", errUsage)
	}
	policy, err := attest.LoadPolicy(*policyFile)
	if err != nil {
		return fmt.Errorf("%w: %v", errInput, err)
	}
	opts := attest.VerifyOptions{Root: root, Policy: policy, AllowSimulated: *allowSim, Hardware: hardwareVerifier()}
	if *inputArg != "" {
		if opts.Input, err = readInput("--input", *inputArg); err != nil {
			return err
		}
	}
	nonceChecked := *nonceHex != ""
	if nonceChecked {
		if opts.Nonce, err = parseNonce("--nonce", *nonceHex); err != nil {
			return err
		}
	}
	if parseErr != nil {
		return refusalError(parseErr)
	}
	if !nonceChecked {
		// No nonce to check: expect the bundle's own (its signature is still verified).
		if in, err := attest.ParseInnerFields(bundle.Inner.Report); err == nil {
			opts.Nonce = in.Nonce
		} // else VerifyBundle refuses the bundle
	}

	res, err := attest.VerifyBundle(bundle, opts)
	if err != nil {
		return refusalError(err)
	}
	yes := map[bool]string{true: "yes", false: "no"}
	fmt.Fprintf(stdout, "accepted\n")
	fmt.Fprintf(stdout, "  mrenclave:   %x\n", res.Report.MRENCLAVE)
	fmt.Fprintf(stdout, "  mrsigner:    %x\n", res.Report.MRSIGNER)
	fmt.Fprintf(stdout, "  module:      %x\n", res.Inner.ModuleHash)
	fmt.Fprintf(stdout, "  clean state: %x\n", res.Inner.CleanStateHash)
	fmt.Fprintf(stdout, "  epoch:       %d\n", res.Inner.Epoch)
	fmt.Fprintf(stdout, "  enclave:     %s\n", displayText([]byte(res.Inner.EnclaveID)))
	fmt.Fprintf(stdout, "  simulated:   %s\n", yes[res.Simulated])
	if nonceChecked {
		fmt.Fprintf(stdout, "  nonce:       %x (matches)\n", res.Inner.Nonce)
	} else {
		fmt.Fprintf(stdout, "  nonce:       NOT CHECKED (no --nonce): the bundle may be a replay\n")
	}
	// The verified output (res.Output), never the file read again.
	fmt.Fprintf(stdout, "  output:      %s\n", displayText(bytes.TrimRight(res.Output, "\n")))
	return nil
}

// outputIndent continues a multi-line value under the column the values start at, so that
// no line of it can pass for another field of the report.
const outputIndent = "               "

// displayText returns b for a terminal: as it is when it is valid UTF-8 without control
// characters (tabs and line breaks allowed, later lines indented under the first), else Go
// quoted ("..." with escapes), so that a function's output cannot move the cursor, rewrite
// the report's lines or hide behind bidirectional overrides.
func displayText(b []byte) string {
	if !utf8.Valid(b) {
		return strconv.Quote(string(b))
	}
	for _, r := range string(b) {
		if r == '\n' || r == '\t' {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return strconv.Quote(string(b))
		}
	}
	return strings.ReplaceAll(string(b), "\n", "\n"+outputIndent)
}

// refusalError turns a verification error into "refused: <reason> (<code>)".
func refusalError(err error) error {
	var r *attest.Refusal
	if !errors.As(err, &r) {
		return err
	}
	return fmt.Errorf("refused: %s (%s)", strings.TrimPrefix(err.Error(), "attest: "), r.Code)
}
