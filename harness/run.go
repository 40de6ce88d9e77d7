package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/enclave/egoquote"
	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/workloads"
)

// Names of the files a run writes into its folder.
const (
	// RecordsFile holds the records (records: full, the default); RecordsGzipFile the same
	// compressed (records: gzip). A run with records: none writes neither.
	RecordsFile     = results.RecordsFile
	RecordsGzipFile = results.RecordsGzipFile
	SummaryFile     = results.SummaryFile
	// ResourcesFile holds the run's resource samples, one JSON line every ResourceInterval.
	ResourcesFile = results.ResourcesFile
	ConfigFile    = "config.yaml"
	// PlatformRootFile holds the simulated platform's root certificate (PEM) of a run with
	// attestation: the root a verifier of the run's evidence trusts.
	PlatformRootFile = "platform_root.pem"
)

// Backend is the enclave backend this build drives.
const Backend = "embedded"

// target is a workload ready to run: its module, its input and the function limits.
type target struct {
	w      *workloads.Workload
	fn     enclave.Function
	input  []byte
	expect *workloads.Expect // the expected output for the run's input size; nil for none
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
	expect, err := w.Expectation(cfg.Size)
	if err != nil {
		return nil, err
	}
	return &target{w: w, input: input, fn: fn, expect: expect}, nil
}

// FunctionOf is the enclave function a workload describes: its module, kind, limits, import
// allow-list (the enclave's default plus what the manifest adds) and the imports to stub.
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
	fn.Stubs = slices.Clone(w.StubImports)
	return fn, nil
}

// Runner runs experiments. The zero Runner is silent; [Run] is Runner{Log: log}.Run.
type Runner struct {
	// Log receives a line per finished configuration and the run's warnings; nil for none.
	Log io.Writer
	// Progress, when set, receives a progress bar redrawn in place (use it only for a
	// terminal: see [IsTerminal]).
	Progress io.Writer
}

// Run runs the experiment cfg describes and writes its records (streamed, one line per
// invocation, as cfg's records key says), its summary, its resource samples and a copy of
// cfg into outDir. Progress lines go to log. When ctx is cancelled or an enclave cannot be
// created, the records written so far stay valid and the summary covers them, with a
// warning; the error is returned.
func Run(ctx context.Context, cfg *Config, outDir string, log io.Writer) (*results.Summary, error) {
	return Runner{Log: log}.Run(ctx, cfg, outDir)
}

// Run runs the experiment cfg describes into outDir: see the function [Run].
//
// The run is a stream of records: workers produce them, one goroutine encodes each to
// records.jsonl as it arrives and accounts for it in the configuration's [results.Summarizer],
// whose memory is bounded however many invocations the configuration has; the summary of a
// configuration is computed when its last record has arrived. So the run's memory does not
// grow with its length. resources.jsonl samples the process's memory, file descriptors and
// goroutines every [ResourceInterval] to show it.
func (rn Runner) Run(ctx context.Context, cfg *Config, outDir string) (*results.Summary, error) {
	var groups []group
	for _, exp := range cfg.Runs() {
		wls, err := exp.LoadWorkloads()
		if err != nil {
			return nil, err
		}
		targets := make([]*target, 0, len(wls))
		for _, w := range wls {
			t, err := newTarget(w, exp)
			if err != nil {
				return nil, err
			}
			targets = append(targets, t)
		}
		next := 0
		if len(groups) > 0 {
			next = groups[len(groups)-1].config + 1
		}
		groups = append(groups, plan(exp, targets, next)...)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	if err := os.WriteFile(filepath.Join(outDir, ConfigFile), cfg.Raw, 0o644); err != nil {
		return nil, fmt.Errorf("copy config: %w", err)
	}
	rw, err := createRecords(outDir, cfg.Records)
	if err != nil {
		return nil, err
	}
	recordsOpen := true
	defer func() {
		if recordsOpen {
			rw.close()
		}
	}()

	started := time.Now()
	sum := &results.Summary{
		SchemaVersion: results.SchemaVersion,
		Env:           CaptureEnv(ctx, cfg),
		Config:        results.Config{Name: cfg.Name, File: cfg.File},
	}
	out := &console{log: rn.Log, bar: rn.Progress}
	// Enclaves of the modes other than cold share compiled code: their creation is not
	// measured, and Go modules take a second to compile. Cold starts compile unless the config
	// says they reuse it (compile_cache).
	cache := enclave.NewCompilationCache()
	defer cache.Close(context.WithoutCancel(ctx))
	r := &runner{cfg: cfg, start: started, out: out, cache: cache, signer: enclave.TestSigner()}
	if cfg.Enclave.SignerKey != "" {
		if r.signer, err = enclave.LoadSigner(cfg.Enclave.SignerKey); err != nil {
			return nil, fmt.Errorf("config %s: enclave.signer_key: %w", cfg.File, err)
		}
	}
	if slices.ContainsFunc(cfg.Runs(), func(c *Config) bool { return *c.Enclave.MeasureRuntime }) {
		exe, err := os.Executable()
		if err == nil {
			r.image, err = os.ReadFile(exe)
		}
		if err != nil {
			return nil, fmt.Errorf("runtime image: %w", err)
		}
	}
	if slices.ContainsFunc(cfg.Runs(), func(c *Config) bool {
		return c.Target == TargetEmbedded && c.Enclave.Attestation != "none" && c.Enclave.Quoter == "simulated"
	}) {
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
	if slices.ContainsFunc(cfg.Runs(), func(c *Config) bool {
		return c.Target == TargetEmbedded && c.Enclave.Attestation != "none" && c.Enclave.Quoter == "ego"
	}) {
		if r.egoQuoter, err = egoquote.NewQuoter(); err != nil {
			return nil, fmt.Errorf("config %s: enclave.quoter ego: %w", cfg.File, err)
		}
	}
	if slices.ContainsFunc(cfg.Runs(), func(c *Config) bool { return c.Target == TargetOpenWhisk }) {
		if r.whisk, err = newWhisk(); err != nil {
			return nil, err
		}
	}
	out.start(planned(groups))
	if r.res, err = startResources(filepath.Join(outDir, ResourcesFile), started, ResourceInterval); err != nil {
		return nil, err
	}

	stream := make(chan []pending, 16)
	runErr := make(chan error, 1)
	go func() {
		defer close(stream)
		runErr <- r.run(ctx, groups, stream)
	}()
	var writeErr error
	// The configuration being run is summarised from its samples, not its records, within
	// bounded memory (see results.Summarizer); one configuration at a time.
	var summ *results.Summarizer
	batchConfig := -1
	flush := func() {
		if summ == nil {
			return
		}
		res := summ.Results()
		sum.Results = append(sum.Results, res...)
		for _, s := range res {
			out.result(s)
		}
		summ = nil
	}
	for recs := range stream {
		for i := range recs {
			rec := recs[i].record()
			if writeErr == nil {
				rw.append(&rec)
			}
			if c := recs[i].gr.g.config; c != batchConfig || summ == nil {
				flush()
				batchConfig, summ = c, results.NewSummarizer()
			}
			summ.Add(&rec)
		}
		if writeErr == nil {
			writeErr = rw.flush() // a batch's records reach the file together
		}
		r.res.consumed(len(recs))
		out.done(len(recs))
	}
	flush()
	out.stop()
	err = errors.Join(<-runErr, writeErr)
	recordsOpen = false
	err = errors.Join(err, rw.close(), r.res.close())

	sum.Warnings = append(sum.Warnings, r.warnings()...)
	sum.Env.FinishedAt = time.Now().UTC().Format(time.RFC3339)
	if err != nil {
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("run incomplete: %v", err))
	}
	if werr := results.WriteSummary(filepath.Join(outDir, SummaryFile), sum); werr != nil {
		err = errors.Join(err, werr)
	}
	return sum, err
}

type runner struct {
	cfg       *Config
	cache     *enclave.CompilationCache
	signer    *enclave.Signer
	image     []byte        // the runtime image every enclave loads and measures
	quoter    attest.Quoter // the simulated platform
	egoQuoter attest.Quoter // the SGX platform through EGo (enclave.quoter ego)
	whisk     *whisk        // target openwhisk's connection; nil without it
	start     time.Time
	out       *console
	res       *resourceSampler // resources.jsonl; nil outside Runner.Run

	mu    sync.Mutex
	warns []string
}

// warn records a run-wide warning once and shows it in the log.
func (r *runner) warn(w string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.warns, w) {
		return
	}
	r.warns = append(r.warns, w)
	r.out.logf("warning: %s\n", w)
}

func (r *runner) warnings() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.warns)
}

// group is one configuration's repetition: the unit the load models run.
type group struct {
	config       int     // the configuration's index in the plan; its repetitions share it
	cfg          *Config // the experiment's config
	t            *target
	mode         string
	compartments bool
	concurrency  int
	repetition   int
}

// plan lists the groups of an experiment in the order they run: per workload, per mode, per
// compartment setting, per concurrency, the repetitions one after another (so that a
// configuration's records arrive together and are summarised when its last one has). The
// configurations are numbered from first.
func plan(cfg *Config, targets []*target, first int) []group {
	var plan []group
	config := first
	for _, t := range targets {
		for _, mode := range cfg.Modes {
			for _, comp := range cfg.CompartmentSettings() {
				for _, c := range cfg.Load.Concurrency {
					for rep := range cfg.Repetitions {
						plan = append(plan, group{config: config, cfg: cfg, t: t, mode: mode, compartments: comp, concurrency: c, repetition: rep})
					}
					config++
				}
			}
		}
	}
	return plan
}

// planned is the number of records a plan will produce, or 0 when it runs for a duration.
func planned(plan []group) int {
	n := 0
	for _, g := range plan {
		if g.cfg.Load.Duration > 0 {
			return 0
		}
		n += g.cfg.IterationsFor(g.mode) + g.concurrency**g.cfg.Warmup
	}
	return n
}

func (r *runner) run(ctx context.Context, plan []group, out chan<- []pending) error {
	for _, g := range plan {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
		label := g.t.w.Name + "/" + g.mode
		if g.cfg.Experiment != "" {
			label = g.cfg.Experiment + ": " + label
		}
		r.out.status(label)
		r.res.setRunning(label)
		if err := r.group(ctx, g, out); err != nil {
			return fmt.Errorf("%s/%s: %w", g.t.w.Name, g.mode, err)
		}
	}
	return nil
}

// newInvoker returns a worker for group g: an embedded session, or a worker of the config's
// target.
func (r *runner) newInvoker(ctx context.Context, g group, ecfg enclave.Config) (invoker, error) {
	switch g.cfg.Target {
	case TargetProcess:
		return newProcessWorker(g.cfg, g.mode, g.t, ecfg)
	case TargetOpenWhisk:
		name, err := r.whisk.deploy(ctx, g.cfg.OpenWhisk, g.t)
		if err != nil {
			return nil, err
		}
		return &whiskWorker{t: r.whisk.t, action: name}, nil
	}
	s, err := NewSession(g.mode, ecfg, g.t.fn)
	if err != nil {
		return nil, err
	}
	s.OnWarning = r.warn
	return s, nil
}

func (r *runner) enclaveConfig(cfg *Config, mode string, compartments bool) enclave.Config {
	c := enclave.Config{
		MemoryBytes:   int64(cfg.Enclave.MemoryMiB) << 20,
		Strategy:      enclave.Strategy(cfg.Enclave.Strategy),
		SnapshotPoint: enclave.SnapshotPoint(cfg.Enclave.SnapshotPoint),
		Signer:        r.signer,
	}
	if *cfg.Enclave.MeasureRuntime {
		c.RuntimeImage = r.image
		c.MemoryBytes += int64(len(r.image)+4095) &^ 4095
	}
	if cfg.Enclave.Attestation != "none" {
		c.Quoter = r.quoter
		if cfg.Enclave.Quoter == "ego" {
			c.Quoter = r.egoQuoter
		}
	}
	setCompartments(&c, compartments)
	if mode != "cold" || cfg.Enclave.CompileCache {
		c.Cache = r.cache
	}
	return c
}

// ResetFor returns how an enclave serving invocations of mode resets after each: cold uses a
// one-shot enclave (created for one invocation and destroyed), warm none, reinstantiate a new
// instance, rewind the snapshot. A cold start is that of a reusable-enclave platform: the
// one-shot enclave is created as a rewinding one, so its creation takes the snapshot (phase
// snapshot) that later requests would be rewound to, then serves its one invocation.
func ResetFor(mode string) (reset enclave.Reset, oneShot bool, err error) {
	switch mode {
	case "cold":
		return enclave.ResetRewind, true, nil
	case "warm":
		return enclave.ResetNone, false, nil
	case "reinstantiate":
		return enclave.ResetReinstantiate, false, nil
	case "rewind":
		return enclave.ResetRewind, false, nil
	}
	return "", false, fmt.Errorf("mode %q: want one of %v", mode, Modes)
}
