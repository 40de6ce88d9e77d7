package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/results"
)

// defaultPlatformDir is where invoke --attest and attest root keep the simulated platform's
// root (certificate and key), relative to the current directory.
var defaultPlatformDir = filepath.Join(".reclave", "platform")

// errInput marks input the command cannot use (an unreadable file, bad hex): exit code 2, like
// errUsage, but without the usage text.
var errInput = errors.New("unusable input")

// splitArgs moves the positional arguments of args behind the flags, so that flags may come
// after a positional argument (flag.Parse stops at the first one). A flag's value is the next
// argument unless the flag is boolean or written -flag=value. The positionals follow a "--".
func splitArgs(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // unknown: Parse reports it
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return append(append(flags, "--"), pos...)
}

// readInput returns the bytes of an --input flag: inline JSON, or @FILE read as it is.
func readInput(flagName, v string) ([]byte, error) {
	if name, ok := strings.CutPrefix(v, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", errInput, flagName, err)
		}
		return b, nil
	}
	if !json.Valid([]byte(v)) {
		return nil, fmt.Errorf("%w: %s %q is not valid JSON (give other bytes as @FILE)", errInput, flagName, v)
	}
	return []byte(v), nil
}

// parseNonce decodes a nonce of 64 hex digits.
func parseNonce(flagName, v string) ([32]byte, error) {
	var n [32]byte
	b, err := hex.DecodeString(v)
	if err != nil || len(b) != len(n) {
		return n, fmt.Errorf("%w: %s %q: want 64 hex digits (for example from: openssl rand -hex 32)", errInput, flagName, v)
	}
	copy(n[:], b)
	return n, nil
}

// invokeOpts are the parsed flags of reclave invoke.
type invokeOpts struct {
	target    string
	input     string
	inputSet  bool
	size      string
	mode      string
	n         int
	dir       string
	memoryMiB int
	attest    bool
	nonce     string
	bundle    string
	platform  string
	json      bool

	// Drop-in: imports to stub or allow, the deadline, where and how the enclave rewinds.
	stubs         importList
	allow         importList
	deadline      time.Duration
	strategy      string
	snapshotPoint string

	// traceHostCalls is --trace-host-calls: the file of the host-call trace; "" for none.
	traceHostCalls string

	// generic is --generic: the workloads one generic enclave serves; "" for none.
	generic string
}

func cmdInvoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("invoke", stderr)
	var o invokeOpts
	fs.StringVar(&o.input, "input", "", "the input: inline `JSON`, or @FILE (default: the workload's input of --size; empty for a bare module)")
	fs.StringVar(&o.size, "size", "test", "the workload input `SIZE` used without --input: test, small or large")
	fs.StringVar(&o.mode, "mode", "rewind", "invocation `MODE`: cold (a fresh enclave per invocation), warm, reinstantiate or rewind")
	fs.IntVar(&o.n, "n", 1, "number of invocations")
	fs.StringVar(&o.dir, "workloads", "", "look the workload up in `DIR` instead of the built-in workloads")
	fs.IntVar(&o.memoryMiB, "memory-mib", 64, "enclave memory region in `MiB`")
	fs.BoolVar(&o.attest, "attest", false, "attested invocation on a simulated platform: needs --nonce and --bundle; only with -n 1")
	fs.StringVar(&o.nonce, "nonce", "", "the client's nonce for --attest: 64 hex `digits`")
	fs.StringVar(&o.bundle, "bundle", "", "with --attest, write the attestation bundle to `FILE` (and FILE.policy.json, FILE.input)")
	fs.StringVar(&o.platform, "platform", defaultPlatformDir, "simulated platform `DIR` for --attest (created if missing)")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per invocation")
	fs.StringVar(&o.traceHostCalls, "trace-host-calls", "", "write one JSON line per host call (function, bytes, duration, errno; results/doc.go) to `FILE`")
	fs.Var(&o.stubs, "stub", "stub the imports `MODULE.NAME[,...]` with host functions that do nothing and return zeros (timing hooks such as bench.start); repeatable")
	fs.Var(&o.allow, "allow-import", "allow the host functions `MODULE.NAME[,...]` beyond the default allow-list (such as wasi_snapshot_preview1.path_open); repeatable")
	fs.DurationVar(&o.deadline, "deadline", 0, "per-invocation `DEADLINE` (default: the workload's limits.deadline, else 10s)")
	fs.StringVar(&o.strategy, "strategy", string(enclave.DefaultStrategy), "rewind `STRATEGY`: "+strings.Join(strategyNames(), ", "))
	fs.StringVar(&o.snapshotPoint, "snapshot-point", string(enclave.PointFunction), "snapshot `POINT`, as a config's enclave.snapshot_point: function (after the function's init), runtime (before the module is loaded: a fresh instance and init per invocation) or warmed (after the init and 3 invocations with the manifest's public warmup_input); the enclave refuses an unknown one")
	fs.StringVar(&o.generic, "generic", "", "serve the workloads `W1,W2,...` round-robin in one generic enclave, measured without any function (each invocation brings its module); -n is the number of rounds")
	if err := parse(fs, splitArgs(fs, args)); err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) { o.inputSet = o.inputSet || f.Name == "input" })
	if o.generic != "" {
		return cmdInvokeGeneric(ctx, fs, o, stdout, stderr)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: invoke needs one workload name or .wasm path", errUsage)
	}
	o.target = fs.Arg(0)
	switch {
	case !slices.Contains(harness.Modes, o.mode):
		return fmt.Errorf("%w: --mode %q: want one of %v", errUsage, o.mode, harness.Modes)
	case o.n < 1:
		return fmt.Errorf("%w: -n %d: must be at least 1", errUsage, o.n)
	case o.memoryMiB < 2:
		return fmt.Errorf("%w: --memory-mib %d: must be at least 2", errUsage, o.memoryMiB)
	case o.deadline < 0:
		return fmt.Errorf("%w: --deadline %v: must not be negative", errUsage, o.deadline)
	case !slices.Contains(enclave.Strategies(), enclave.Strategy(o.strategy)):
		return fmt.Errorf("%w: --strategy %q: want one of %s", errUsage, o.strategy, strings.Join(strategyNames(), ", "))
	case !o.attest && (o.nonce != "" || o.bundle != ""):
		return fmt.Errorf("%w: --nonce and --bundle only go with --attest", errUsage)
	case o.attest && o.n != 1:
		return fmt.Errorf("%w: --attest makes one invocation (one nonce, one bundle): drop -n %d", errUsage, o.n)
	case o.attest && o.nonce == "":
		return fmt.Errorf("%w: --attest needs --nonce HEX (64 hex digits, for example from: openssl rand -hex 32)", errUsage)
	case o.attest && o.bundle == "":
		return fmt.Errorf("%w: --attest needs --bundle FILE", errUsage)
	}
	var nonce [32]byte
	if o.attest {
		var err error
		if nonce, err = parseNonce("--nonce", o.nonce); err != nil {
			return err
		}
	}
	t, err := loadTarget(ctx, o, stderr)
	if err != nil {
		return err
	}
	fn, input := t.fn, t.input

	cfg := enclave.Config{MemoryBytes: int64(o.memoryMiB) << 20,
		Strategy: enclave.Strategy(o.strategy), SnapshotPoint: enclave.SnapshotPoint(o.snapshotPoint)}
	if o.attest {
		p, err := attest.LoadSimulatedPlatform(o.platform)
		if err != nil {
			return err
		}
		cfg.Quoter = p
	}
	cfg.TraceHostCalls = o.traceHostCalls != ""
	trace, err := createHostCallTrace(o.traceHostCalls)
	if err != nil {
		return err
	}
	defer trace.Close()
	sess, err := harness.NewSession(o.mode, cfg, fn)
	if err != nil {
		return fmt.Errorf("%w: --mode: %v", errUsage, err)
	}
	sess.OnWarning = func(w string) {
		if strings.Contains(w, "snapshot point runtime") {
			w += " (--snapshot-point runtime)"
		}
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if o.mode == "warm" && fn.Kind == enclave.KindCommand {
		fmt.Fprintf(stderr, "note: %s is a command, which runs once per instance: in mode warm each invocation gets a new instance of the kept enclave (reset: recycle)\n", fn.Name)
	}
	defer sess.Close(context.WithoutCancel(ctx))
	if err := sess.Prepare(ctx); err != nil { // the enclave of a mode other than cold, not timed
		return withImportHint(err, t.w != nil)
	}
	failed, invalid := 0, 0
	for i := range o.n {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
		var n *[32]byte
		if o.attest {
			n = &nonce
		}
		c, err := sess.Invoke(ctx, input, n)
		if err != nil {
			return withImportHint(err, t.w != nil)
		}
		rec := invocationRecord{Seq: i + 1, Function: fn.Name, Mode: o.mode}
		rec.fill(c, o.mode)
		if err := writeHostCallTrace(trace, c, fn.Name, o.mode, i+1); err != nil {
			return err
		}
		if rec.checkExpected(t, c) {
			invalid++
		}
		if t.looksC && c.Invocation != nil && len(c.Invocation.Output) == 0 {
			rec.Hint = emptyOutputHint
		}
		if c.Invocation != nil && c.Invocation.Bundle != nil {
			if rec.Attestation, err = writeAttestation(c.Enclave, c.Invocation.Bundle, input, o); err != nil {
				return err
			}
		}
		if c.Err != nil {
			failed++
		}
		if err := rec.print(stdout, o.json); err != nil {
			return err
		}
	}
	switch {
	case failed > 0 && invalid > failed:
		return fmt.Errorf("%d of %d invocations failed, and %d outputs did not match the expectation", failed, o.n, invalid-failed)
	case failed > 0:
		return fmt.Errorf("%d of %d invocations failed", failed, o.n)
	case invalid > 0:
		return fmt.Errorf("%d of %d outputs did not match the expectation", invalid, o.n)
	}
	return nil
}

// strategyNames are the rewind strategies, for usage errors and flag help.
func strategyNames() []string {
	var names []string
	for _, s := range enclave.Strategies() {
		names = append(names, string(s))
	}
	return names
}

// loadTarget finds the function to invoke, its input and, for a workload, its expected
// output; --stub, --allow-import and --deadline apply to either.
func loadTarget(ctx context.Context, o invokeOpts, warn io.Writer) (invokeTarget, error) {
	var t invokeTarget
	if o.inputSet {
		var err error
		if t.input, err = readInput("--input", o.input); err != nil {
			return t, err
		}
	}
	if strings.HasSuffix(o.target, ".wasm") {
		wasm, err := os.ReadFile(o.target)
		if err != nil {
			return t, fmt.Errorf("%w: module: %v", errInput, err)
		}
		kind, err := moduleKind(ctx, wasm)
		if err != nil {
			return t, fmt.Errorf("module %s: %w", o.target, err)
		}
		name := strings.TrimSuffix(filepath.Base(o.target), ".wasm")
		t.fn = enclave.Function{Name: name, Wasm: wasm, Kind: kind}
		t.looksC = looksLikeC(nil, wasm)
		applyDropIn(&t.fn, o)
		return t, nil
	}
	w, err := loadWorkloadTarget(o, warn)
	if err != nil {
		return t, err
	}
	if t.fn, err = harness.FunctionOf(w); err != nil {
		return t, err
	}
	t.w, t.looksC = w, looksLikeC(w, t.fn.Wasm)
	applyDropIn(&t.fn, o)
	if !o.inputSet {
		if t.input, err = w.Input(o.size); err != nil {
			return t, err
		}
		if t.expect, err = w.Expectation(o.size); err != nil {
			return t, err
		}
	}
	return t, nil
}

// moduleKind tells a bare module's kind from its exports: a command if it exports _start and
// not reclave_handle, otherwise a reactor.
func moduleKind(ctx context.Context, wasm []byte) (enclave.Kind, error) {
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	m, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return "", err
	}
	exports := m.ExportedFunctions()
	_, start := exports["_start"]
	_, handle := exports["reclave_handle"]
	if start && !handle {
		return enclave.KindCommand, nil
	}
	return enclave.KindReactor, nil
}

// invocationRecord is what invoke prints for one invocation; its JSON form is --json's.
type invocationRecord struct {
	Seq           int              `json:"seq"`
	Function      string           `json:"function"`
	Mode          string           `json:"mode"`
	Output        string           `json:"output"`
	Log           string           `json:"log,omitempty"`
	ResponseNs    int64            `json:"response_ns"`
	ExecNs        int64            `json:"exec_ns"`
	TotalNs       int64            `json:"total_ns"`
	PhasesNs      map[string]int64 `json:"phases_ns"`
	Reset         string           `json:"reset"`
	Epoch         uint64           `json:"epoch"`
	MemoryPages   uint32           `json:"memory_pages"`
	PagesRestored int              `json:"pages_restored"`
	BytesRestored int64            `json:"bytes_restored"`
	Error         string           `json:"error,omitempty"`
	ErrorKind     string           `json:"error_kind,omitempty"`
	// HostCalls and ResetHostCalls are the invocation's and its reset's host calls, as in a
	// record (host_calls, reset_host_calls).
	HostCalls      results.HostCalls `json:"host_calls,omitzero"`
	ResetHostCalls results.HostCalls `json:"reset_host_calls,omitempty"`
	// Valid says whether the output matched the workload's expectation for the input (absent
	// when there is none, or the input came from --input); Invalid says how it differs.
	Valid   *bool  `json:"valid,omitempty"`
	Invalid string `json:"invalid,omitempty"`
	// Hint explains a suspicious output: an empty one from a C function (unflushed stdio).
	Hint        string             `json:"hint,omitempty"`
	Attestation *attestationRecord `json:"attestation,omitempty"`

	phaseOrder []string
	expectKind string // the expectation's kind, for the text
	expectNote string // why the output was not checked against it
}

// fill takes the call's output, log and timings (the driver's record of it, so that invoke
// and a run report the same figures).
func (r *invocationRecord) fill(c *harness.Call, mode string) {
	var rec results.Record
	c.Fill(&rec, mode)
	r.ResponseNs, r.PhasesNs = rec.ResponseNs, rec.PhasesNs
	r.Reset, r.Epoch, r.MemoryPages = rec.Reset, rec.Epoch, rec.MemoryPages
	r.PagesRestored, r.BytesRestored = rec.PagesRestored, rec.BytesRestored
	r.HostCalls, r.ResetHostCalls = rec.HostCalls, rec.ResetHostCalls
	r.Error, r.ErrorKind = rec.Error, rec.ErrorKind
	// Total: the invocation and its reset, or in mode cold the enclave's whole life.
	r.TotalNs = rec.LatencyNs
	if inv := c.Invocation; inv != nil {
		r.Output, r.Log = string(inv.Output), string(inv.Log)
		r.ExecNs = inv.Exec.Nanoseconds()
		if mode != "cold" {
			r.TotalNs = inv.Total.Nanoseconds()
		}
	}
	for _, p := range c.Creation {
		r.phaseOrder = append(r.phaseOrder, p.Name)
	}
	if c.Creation != nil && mode != "cold" {
		r.phaseOrder = []string{"recreate"}
	}
	if inv := c.Invocation; inv != nil {
		for _, p := range inv.Phases {
			r.phaseOrder = append(r.phaseOrder, p.Name)
		}
	}
	if mode == "cold" {
		r.phaseOrder = append(r.phaseOrder, "destroy")
	}
}

func (r *invocationRecord) print(w io.Writer, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(r)
	}
	ns := func(v int64) string { return results.FormatNs(float64(v)) }
	fmt.Fprintf(w, "#%d %s (%s)\n", r.Seq, r.Function, r.Mode)
	fmt.Fprintf(w, "  output:   %s\n", strings.TrimRight(r.Output, "\n"))
	if r.Log != "" {
		fmt.Fprintf(w, "  log:      %s\n", strings.TrimRight(r.Log, "\n"))
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  error:    %s (%s)\n", r.Error, r.ErrorKind)
	}
	switch {
	case r.Valid != nil && *r.Valid:
		fmt.Fprintf(w, "  expected: matched (%s)\n", r.expectKind)
	case r.Valid != nil:
		fmt.Fprintf(w, "  expected: DID NOT MATCH (%s): %s\n", r.expectKind, r.Invalid)
	case r.expectNote != "":
		fmt.Fprintf(w, "  expected: %s\n", r.expectNote)
	}
	if r.Hint != "" {
		fmt.Fprintf(w, "  hint:     %s\n", r.Hint)
	}
	if r.HostCalls != nil {
		fmt.Fprintf(w, "  host calls: %s\n", hostCallsText(r.HostCalls, r.ResetHostCalls))
	}
	fmt.Fprintf(w, "  response: %s  exec: %s  total: %s  reset: %s  epoch: %d  pages restored: %d\n",
		ns(r.ResponseNs), ns(r.ExecNs), ns(r.TotalNs), r.Reset, r.Epoch, r.PagesRestored)
	var phases []string
	for _, name := range r.phaseOrder {
		phases = append(phases, name+" "+ns(r.PhasesNs[name]))
	}
	fmt.Fprintf(w, "  phases:   %s\n", strings.Join(phases, ", "))
	if a := r.Attestation; a != nil {
		fmt.Fprintf(w, "  attestation (SIMULATED platform %s):\n", a.Platform)
		fmt.Fprintf(w, "    mrenclave:        %s\n    mrsigner:         %s\n    module hash:      %s\n    clean-state hash: %s\n",
			a.MRENCLAVE, a.MRSIGNER, a.ModuleHash, a.CleanStateHash)
		fmt.Fprintf(w, "    bundle: %s\n    policy: %s\n    input:  %s\n", a.Bundle, a.Policy, a.Input)
		fmt.Fprintf(w, "  verify with:\n    %s\n", strings.Join(a.VerifyCommand, " "))
	}
	return nil
}

// attestationRecord names what invoke --attest wrote and the values a policy pins.
type attestationRecord struct {
	Platform       string        `json:"platform"`
	Bundle         string        `json:"bundle"`
	Policy         string        `json:"policy"`
	Input          string        `json:"input"`
	MRENCLAVE      attest.Digest `json:"mrenclave"`
	MRSIGNER       attest.Digest `json:"mrsigner"`
	ModuleHash     attest.Digest `json:"module_hash"`
	CleanStateHash attest.Digest `json:"clean_state_hash"`
	VerifyCommand  []string      `json:"verify_command"`
}

// writeAttestation writes the bundle to o.bundle, a policy accepting this enclave to
// o.bundle+".policy.json" and the input to o.bundle+".input" (attest verify checks the
// input's hash).
func writeAttestation(enc *enclave.Enclave, b *attest.Bundle, input []byte, o invokeOpts) (*attestationRecord, error) {
	a := &attestationRecord{
		Platform:       o.platform,
		Bundle:         o.bundle,
		Policy:         o.bundle + ".policy.json",
		Input:          o.bundle + ".input",
		MRENCLAVE:      enc.MREnclave(),
		MRSIGNER:       enc.MRSigner(),
		ModuleHash:     enc.ModuleSHA256(),
		CleanStateHash: enc.CleanStateHash(),
	}
	// The policy does not allow simulated evidence: the verifier says so (--allow-simulated).
	pol := &attest.Policy{
		MRENCLAVE:      []attest.Digest{a.MRENCLAVE},
		MRSIGNER:       []attest.Digest{a.MRSIGNER},
		ModuleHash:     []attest.Digest{a.ModuleHash},
		CleanStateHash: []attest.Digest{a.CleanStateHash},
	}
	bj, err := b.Marshal()
	if err != nil {
		return nil, err
	}
	pj, err := pol.Marshal()
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		path string
		data []byte
	}{{a.Bundle, bj}, {a.Policy, append(pj, '\n')}, {a.Input, input}} {
		if err := os.WriteFile(f.path, f.data, 0o644); err != nil {
			return nil, err
		}
	}
	a.VerifyCommand = []string{"reclave", "attest", "verify", a.Bundle,
		"--root", filepath.Join(o.platform, attest.RootCertFile), "--policy", a.Policy,
		"--nonce", o.nonce, "--input", "@" + a.Input, "--allow-simulated"}
	return a, nil
}
