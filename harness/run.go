package harness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/workloads"
)

// Names of the files a run writes into its folder.
const (
	RecordsFile = "records.jsonl"
	SummaryFile = "summary.json"
	ConfigFile  = "config.yaml"
	// PlatformRootFile holds the simulated platform's root certificate (PEM) of a run with
	// attestation: the root a verifier of the run's evidence trusts.
	PlatformRootFile = "platform_root.pem"
)

// Backend is the enclave backend this build drives.
const Backend = "embedded"

// Run runs the experiment cfg describes and writes its records (streamed, one line per
// invocation), its summary and a copy of cfg into outDir. Progress lines go to log. When ctx
// is cancelled or an enclave cannot be created, the records written so far stay valid and the
// summary covers them, with a warning; the error is returned.
func Run(ctx context.Context, cfg *Config, outDir string, log io.Writer) (*results.Summary, error) {
	wls, err := cfg.LoadWorkloads()
	if err != nil {
		return nil, err
	}
	plan := make([]*target, 0, len(wls))
	for _, w := range wls {
		t, err := newTarget(w, cfg)
		if err != nil {
			return nil, err
		}
		plan = append(plan, t)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	if err := os.WriteFile(filepath.Join(outDir, ConfigFile), cfg.Raw, 0o644); err != nil {
		return nil, fmt.Errorf("copy config: %w", err)
	}
	f, err := os.Create(filepath.Join(outDir, RecordsFile))
	if err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	defer f.Close()

	started := time.Now()
	sum := &results.Summary{
		SchemaVersion: results.SchemaVersion,
		Env:           CaptureEnv(ctx, cfg),
		Config:        results.Config{Name: cfg.Name, File: cfg.File},
	}
	// Enclaves of the modes other than cold share compiled code: their creation is not
	// measured, and Go modules take a second to compile. Every cold start compiles.
	cache := enclave.NewCompilationCache()
	defer cache.Close(context.WithoutCancel(ctx))
	r := &runner{cfg: cfg, start: started, log: log, cache: cache, signer: enclave.TestSigner()}
	if cfg.Enclave.SignerKey != "" {
		if r.signer, err = enclave.LoadSigner(cfg.Enclave.SignerKey); err != nil {
			return nil, fmt.Errorf("config %s: enclave.signer_key: %w", cfg.File, err)
		}
	}
	if *cfg.Enclave.MeasureRuntime {
		exe, err := os.Executable()
		if err == nil {
			r.image, err = os.ReadFile(exe)
		}
		if err != nil {
			return nil, fmt.Errorf("runtime image: %w", err)
		}
	}
	if cfg.Enclave.Attestation != "none" {
		// A simulated platform for the run; its root goes into the run folder so that the
		// evidence can be verified against it.
		platform, err := attest.NewSimulatedPlatform()
		if err != nil {
			return nil, fmt.Errorf("simulated platform: %w", err)
		}
		root, err := os.Create(filepath.Join(outDir, PlatformRootFile))
		if err == nil {
			err = errors.Join(attest.WriteSimulatedRoot(root, platform), root.Close())
		}
		if err != nil {
			return nil, fmt.Errorf("platform root: %w", err)
		}
		r.quoter = platform
	}

	// The run is a stream of records: the driver produces them, the encoder writes each one
	// as it arrives, and the summary is computed from the same records at the end.
	stream := make(chan results.Record, 64)
	runErr := make(chan error, 1)
	go func() {
		defer close(stream)
		runErr <- r.run(ctx, plan, stream)
	}()
	enc := results.NewEncoder(f)
	var recs []results.Record
	var writeErr error
	for rec := range stream {
		if writeErr == nil {
			writeErr = enc.Encode(&rec)
		}
		recs = append(recs, rec)
	}
	err = errors.Join(<-runErr, writeErr)
	if cerr := f.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("records: %w", cerr))
	}

	sum.Results = results.Summarize(recs)
	sum.Warnings = append(sum.Warnings, r.warnings...)
	sum.Env.FinishedAt = time.Now().UTC().Format(time.RFC3339)
	if err != nil {
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("run incomplete: %v", err))
	}
	if werr := results.WriteSummary(filepath.Join(outDir, SummaryFile), sum); werr != nil {
		err = errors.Join(err, werr)
	}
	return sum, err
}

// target is a workload ready to run: its module, its input and the function limits.
type target struct {
	w     *workloads.Workload
	fn    enclave.Function
	input []byte
}

func newTarget(w *workloads.Workload, cfg *Config) (*target, error) {
	fn, err := FunctionOf(w)
	if err != nil {
		return nil, err
	}
	input, err := w.Input(cfg.Size)
	if err != nil {
		return nil, err
	}
	return &target{w: w, input: input, fn: fn}, nil
}

// FunctionOf is the enclave function a workload describes: its module, kind, limits and import
// allow-list (the enclave's default plus what the manifest adds).
func FunctionOf(w *workloads.Workload) (enclave.Function, error) {
	wasm, err := w.Wasm()
	if err != nil {
		return enclave.Function{}, err
	}
	fn := enclave.Function{
		Name:           w.Name,
		Wasm:           wasm,
		Kind:           enclave.Kind(w.Kind),
		MemoryPages:    w.Limits.MemoryPages,
		MaxOutputBytes: w.Limits.MaxOutputBytes,
		Deadline:       w.Limits.Deadline,
	}
	if len(w.Imports) > 0 {
		fn.Imports = append(slices.Clone(enclave.DefaultImports), w.Imports...)
	}
	return fn, nil
}

type runner struct {
	cfg      *Config
	cache    *enclave.CompilationCache
	signer   *enclave.Signer
	image    []byte // the runtime image every enclave loads and measures
	quoter   attest.Quoter
	start    time.Time
	log      io.Writer
	warnings []string
}

// warn records a run-wide warning once and shows it in the progress log.
func (r *runner) warn(w string) {
	if slices.Contains(r.warnings, w) {
		return
	}
	r.warnings = append(r.warnings, w)
	if r.log != nil {
		fmt.Fprintf(r.log, "warning: %s\n", w)
	}
}

func (r *runner) run(ctx context.Context, plan []*target, out chan<- results.Record) error {
	for _, t := range plan {
		for _, mode := range r.cfg.Modes {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("interrupted: %w", err)
			}
			var group []results.Record
			emit := func(rec results.Record) {
				group = append(group, rec)
				out <- rec
			}
			err := r.group(ctx, t, mode, emit)
			r.progress(t.w.Name, mode, group)
			if err != nil {
				return fmt.Errorf("%s/%s: %w", t.w.Name, mode, err)
			}
		}
	}
	return nil
}

func (r *runner) enclaveConfig(mode string) enclave.Config {
	c := enclave.Config{
		MemoryBytes:   int64(r.cfg.Enclave.MemoryMiB)<<20 + int64(len(r.image)+4095)&^4095,
		RuntimeImage:  r.image,
		Strategy:      enclave.Strategy(r.cfg.Enclave.Strategy),
		SnapshotPoint: enclave.SnapshotPoint(r.cfg.Enclave.SnapshotPoint),
		Signer:        r.signer,
		Quoter:        r.quoter,
	}
	c.Reset, c.OneShot, _ = ResetFor(mode) // modes were validated with the config
	if !c.OneShot {
		c.Cache = r.cache // creation is measured only in mode cold, where every start compiles
	}
	return c
}

// ResetFor returns how an enclave serving invocations of mode resets after each: cold uses a
// one-shot enclave (created for one invocation and destroyed), warm none, reinstantiate a new
// instance, rewind the snapshot.
func ResetFor(mode string) (reset enclave.Reset, oneShot bool, err error) {
	switch mode {
	case "cold":
		return enclave.ResetNone, true, nil
	case "warm":
		return enclave.ResetNone, false, nil
	case "reinstantiate":
		return enclave.ResetReinstantiate, false, nil
	case "rewind":
		return enclave.ResetRewind, false, nil
	}
	return "", false, fmt.Errorf("mode %q: want one of %v", mode, Modes)
}

// group runs the warm-up and measured invocations of one (workload, mode).
func (r *runner) group(ctx context.Context, t *target, mode string, emit func(results.Record)) error {
	ecfg := r.enclaveConfig(mode)
	warmup, n := *r.cfg.Warmup, r.cfg.IterationsFor(mode)
	base := results.Record{
		SchemaVersion: results.SchemaVersion,
		Workload:      t.w.Name,
		Mode:          mode,
		Size:          r.cfg.Size,
		MemoryBytes:   ecfg.MemoryBytes,
		InputBytes:    len(t.input),
	}
	if mode == "rewind" {
		base.Strategy = string(ecfg.Strategy)
		base.SnapshotPoint = string(ecfg.SnapshotPoint)
	}

	var enc *enclave.Enclave
	defer func() {
		if enc != nil {
			enc.Close(context.WithoutCancel(ctx))
		}
	}()
	for i := 0; i < warmup+n; i++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
		rec := base
		rec.Seq, rec.Warmup = i, i < warmup
		start := time.Now()
		rec.StartNs = start.Sub(r.start).Nanoseconds()
		rec.PhasesNs = map[string]int64{}

		var created time.Duration
		if enc == nil {
			var err error
			enc, err = enclave.Create(ctx, ecfg, t.fn)
			if err != nil {
				return err
			}
			for _, w := range enc.Warnings() {
				r.warn(w)
			}
			if mode == "cold" {
				created = time.Since(start)
				for _, p := range enc.CreationPhases() {
					rec.PhasesNs[p.Name] = p.Duration.Nanoseconds()
				}
			}
		}
		rec.EnclaveID = enc.ID()
		var inv *enclave.Invocation
		var err error
		if r.cfg.Enclave.Attestation == "inner" {
			inv, err = enc.InvokeAttested(ctx, t.input, attest.NewNonce())
		} else {
			inv, err = enc.Invoke(ctx, t.input)
		}
		if mode == "cold" {
			d := time.Now()
			cerr := enc.Close(context.WithoutCancel(ctx))
			rec.PhasesNs["destroy"] = time.Since(d).Nanoseconds()
			enc = nil
			if cerr != nil {
				return fmt.Errorf("destroy enclave: %w", cerr)
			}
		} else if errors.Is(err, enclave.ErrUnusable) {
			enc.Close(context.WithoutCancel(ctx))
			enc = nil // the next invocation creates a new one
		}
		rec.LatencyNs = time.Since(start).Nanoseconds()
		if inv != nil {
			rec.ResponseNs = (created + inv.Response).Nanoseconds()
			rec.RewindNs = rec.LatencyNs - rec.ResponseNs
			for _, p := range inv.Phases {
				rec.PhasesNs[p.Name] = p.Duration.Nanoseconds()
			}
			rec.Reset = string(inv.Reset)
			rec.Epoch = inv.Epoch
			rec.MemoryPages = inv.MemoryPages
			rec.PagesRestored = inv.PagesRestored
			rec.BytesRestored = inv.BytesRestored
			rec.OutputBytes = len(inv.Output)
			h := sha256.Sum256(inv.Output)
			rec.OutputSHA256 = hex.EncodeToString(h[:])
		}
		if mode == "cold" {
			rec.Reset = string(enclave.ResetCreate)
		}
		if err != nil {
			rec.Error = err.Error()
			rec.ErrorKind = string(enclave.KindOf(err))
		}
		emit(rec)
	}
	return nil
}

func (r *runner) progress(workload, mode string, group []results.Record) {
	if r.log == nil {
		return
	}
	res := results.Summarize(group)
	if len(res) == 0 {
		fmt.Fprintf(r.log, "%-16s %-14s no measured invocations\n", workload, mode)
		return
	}
	s := res[0]
	fmt.Fprintf(r.log, "%-16s %-14s n=%-4d errors=%-3d p50=%-10s p99=%-10s\n", workload, mode, s.N, s.Errors,
		results.FormatNs(s.LatencyNs.P50), results.FormatNs(s.LatencyNs.P99))
}
