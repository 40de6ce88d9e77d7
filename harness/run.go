package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	if cfg.Enclave.SnapshotPoint == string(enclave.PointWarmed) && slices.Contains(cfg.Modes, "rewind") && fn.WarmupInput == nil {
		return nil, fmt.Errorf("workload %s: enclave.snapshot_point warmed needs a public warm-up input: its manifest names none (warmup_input); it is a %s", w.Name, w.Kind)
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
		MaxHostCalls:   w.Limits.HostCalls,
		MaxHostBytes:   w.Limits.HostBytes,
	}
	if len(w.Imports) > 0 {
		fn.Imports = append(slices.Clone(enclave.DefaultImports), w.Imports...)
	}
	fn.Stubs = slices.Clone(w.StubImports)
	if fn.WarmupInput, err = w.WarmupInput(); err != nil {
		return enclave.Function{}, err
	}
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

// Run runs the experiment cfg describes into outDir: see the function [Run]. It runs the
// invocation experiments only (cfg.Runs()); a config's trace experiments are run by `reclave
// run` afterwards (trace.RunExperiment). A config of trace experiments only makes a run of no
// configuration: config.yaml, an empty records file and a summary.json with the environment
// and no results.
//
// The configurations of an experiment run in rounds (see [Config] key order): a round is one
// repetition of every configuration, each with its own enclaves and warm-up, so that a slow
// stretch of a shared machine hits every configuration of the round alike; between rounds a
// calibration loop is timed (the noise indicator, [results.Noise]).
//
// The run is a stream of records: workers produce them, one goroutine encodes each to
// records.jsonl as it arrives and accounts for it in the experiment's [results.Summarizer],
// keyed by configuration (the rounds of a configuration are not contiguous in the stream),
// whose memory is bounded however many invocations a configuration has; the summaries of an
// experiment's configurations, their round medians among them, are computed when its last
// record has arrived. So the run's memory does not grow with its length, only with the
// number of configurations of one experiment. resources.jsonl samples the process's memory,
// file descriptors and goroutines every [ResourceInterval] to show it.
func (rn Runner) Run(ctx context.Context, cfg *Config, outDir string) (*results.Summary, error) {
	var groups []group
	var schedule []results.Schedule
	next := 0 // the index of the next configuration planned
	for e, exp := range cfg.Runs() {
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
		expGroups, sched := plan(exp, e, targets, next)
		groups = append(groups, expGroups...)
		schedule = append(schedule, sched)
		next += sched.Configurations
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

	var trace *TraceWriter // host_calls.jsonl, when an experiment traces host calls
	if slices.ContainsFunc(cfg.Runs(), func(c *Config) bool { return c.TraceHostCalls }) {
		if trace, err = CreateTrace(filepath.Join(outDir, results.HostCallTraceFile)); err != nil {
			return nil, err
		}
		defer func() {
			if trace != nil {
				trace.Close()
			}
		}()
	}

	started := time.Now()
	sum := &results.Summary{
		SchemaVersion: results.SchemaVersion,
		Env:           CaptureEnv(ctx, cfg),
		Config:        results.Config{Name: cfg.Name, File: cfg.File},
		Schedule:      schedule,
		ExitCost:      &results.ExitCost{Cycles: cfg.ExitCost.Cycles, GHz: cfg.ExitCost.GHz},
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
	if slices.ContainsFunc(cfg.Runs(), func(c *Config) bool { return *c.Enclave.MeasureRuntime && c.Target != TargetOpenWhisk }) {
		// The runtime image every enclave adds and measures: reclave-enclave, not this binary.
		if r.image, err = cfg.loadRuntimeImage(); err != nil {
			return nil, err
		}
		sum.Env.RuntimeImageBytes, sum.Env.RuntimeImageSHA256 = int64(len(r.image)), sha256Hex(r.image)
	}
	if err := cfg.checkProcessImages(); err != nil {
		return nil, err
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

	r.noise = startNoise(started)
	stream := make(chan []pending, 16)
	runErr := make(chan error, 1)
	go func() {
		defer close(stream)
		runErr <- r.run(ctx, groups, stream)
	}()
	var writeErr error
	// The experiment being run is summarised from its samples, not its records, within
	// bounded memory (see results.Summarizer), keyed by configuration: its rounds interleave
	// the configurations in the stream. One experiment at a time; its results are listed in
	// the plan's order (workload, mode, compartments, concurrency), whatever order the rounds
	// ran them in.
	var summ *results.Summarizer
	batchExp := -1
	order := map[results.Key]int{} // the plan index of each configuration of the experiment
	var lastGroup *groupRun
	lastMode, lastWorkload := "", ""
	var nrec int64 // records consumed: the index of the next one (host_calls.jsonl's record)
	flush := func() {
		if summ == nil {
			return
		}
		res := summ.Results()
		slices.SortStableFunc(res, func(a, b results.Result) int { return order[a.Key] - order[b.Key] })
		sum.Results = append(sum.Results, res...)
		for _, s := range res {
			out.result(s)
		}
		summ, order, lastGroup = nil, map[results.Key]int{}, nil
	}
	for recs := range stream {
		for i := range recs {
			rec := recs[i].record()
			if writeErr == nil {
				rw.append(&rec)
			}
			if trace != nil && recs[i].call != nil && writeErr == nil {
				idx := nrec
				writeErr = trace.Write(recs[i].call.HostCallEvents(results.HostCallEvent{Record: &idx,
					Experiment: rec.Experiment, Workload: rec.Workload, Mode: rec.Mode, Invocation: rec.Seq, Warmup: rec.Warmup}))
			}
			nrec++
			g := &recs[i].gr.g
			if g.exp != batchExp || summ == nil {
				flush()
				batchExp, summ = g.exp, results.NewSummarizer()
			}
			if gr := recs[i].gr; gr != lastGroup || rec.Mode != lastMode || rec.Workload != lastWorkload {
				// A group's records share their key, but for target openwhisk's mode (the
				// platform's) and a mix's workload: look the key up only when one changes.
				lastGroup, lastMode, lastWorkload = gr, rec.Mode, rec.Workload
				if _, ok := order[rec.Key()]; !ok {
					order[rec.Key()] = g.config
				}
			}
			summ.Add(&rec)
		}
		if writeErr == nil {
			writeErr = rw.flush() // a batch's records reach the file together
		}
		if trace != nil && writeErr == nil {
			writeErr = trace.Flush()
		}
		r.res.consumed(len(recs))
		r.consumed.Add(int64(len(recs)))
		out.done(len(recs))
	}
	flush()
	out.stop()
	err = errors.Join(<-runErr, writeErr)
	recordsOpen = false
	err = errors.Join(err, rw.close(), r.res.close())
	if trace != nil {
		err = errors.Join(err, trace.Close())
		trace = nil
	}

	sum.Paired = results.Pairs(sum.Results)
	sum.Noise = r.noise.finish()
	for _, w := range sum.Noise.Warnings() {
		r.warn(w)
	}
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
	noise     *noiseMeter      // the noise indicator; nil outside Runner.Run

	// sent counts the records the groups sent to the stream, consumed those its consumer
	// has written: the calibration loop waits for the consumer to catch up, so that it
	// times the machine, not the encoding of the last round's records.
	sent, consumed atomic.Int64

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

// group is one configuration's repetition, run in one round: the unit the load models run.
type group struct {
	config       int     // the configuration's index in the plan; its rounds share it
	exp          int     // the experiment's index in the config's runs
	cfg          *Config // the experiment's config
	t            *target
	mix          *mix // the experiment's mix, drawn from instead of t; nil without one
	mode         string
	compartments bool
	concurrency  int
	// round is the round the group runs in, and the configuration's repetition: every round
	// runs each configuration once, so a configuration's r-th repetition is in round r.
	round int
}

// Orders of a config's key order (see [Config]).
const (
	OrderRoundRobin = results.OrderRoundRobin
	OrderRandom     = results.OrderRandom
	OrderSequential = results.OrderSequential
)

// defaultOrderSeed seeds order random when the config gives no seed.
const defaultOrderSeed = 1

// parseOrder parses a config's order: round-robin, random, random:SEED or sequential, and
// returns the order and the seed of order random.
func parseOrder(s string) (order string, seed uint64, err error) {
	switch s {
	case OrderRoundRobin, OrderSequential:
		return s, 0, nil
	case OrderRandom:
		return s, defaultOrderSeed, nil
	}
	if v, ok := strings.CutPrefix(s, OrderRandom+":"); ok {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return "", 0, fmt.Errorf("%q: the seed of random:SEED must be a non-negative integer", s)
		}
		return OrderRandom, seed, nil
	}
	return "", 0, fmt.Errorf("%q: want %s, %s, %s:SEED or %s", s, OrderRoundRobin, OrderRandom, OrderRandom, OrderSequential)
}

// plan lists the groups of experiment exp (the exp-th of the config's runs) in the order they
// run, and says how. Its configurations — per workload, per mode, per compartment setting,
// per concurrency level, in that order — are numbered from first. With order round-robin
// the groups run in rounds: round r runs the r-th repetition of every configuration, in the
// configurations' order; with random, in an order shuffled for each round (Fisher–Yates with
// a PCG generator seeded with the order's seed and the round, so the same config gives the
// same order); with sequential, each configuration's repetitions run back to back, one
// configuration after another.
func plan(cfg *Config, exp int, targets []*target, first int) ([]group, results.Schedule) {
	var confs []group
	m := newMix(cfg, targets)
	if m != nil { // one configuration per mode for the whole mix
		targets = targets[:1]
	}
	for _, t := range targets {
		for _, mode := range cfg.Modes {
			for _, comp := range cfg.CompartmentSettings() {
				for _, c := range cfg.Load.Concurrency {
					confs = append(confs, group{config: first + len(confs), exp: exp, cfg: cfg, t: t, mix: m, mode: mode, compartments: comp, concurrency: c})
				}
			}
		}
	}
	order, seed, err := parseOrder(cfg.Order)
	if err != nil { // parseConfig refused it; a Config built by hand runs round-robin
		order = OrderRoundRobin
	}
	sched := results.Schedule{Experiment: cfg.Experiment, Order: order, Seed: seed, Rounds: cfg.Repetitions, Configurations: len(confs)}
	plan := make([]group, 0, len(confs)*cfg.Repetitions)
	if order == OrderSequential {
		for _, g := range confs {
			for round := range cfg.Repetitions {
				g.round = round
				plan = append(plan, g)
			}
		}
		return plan, sched
	}
	idx := make([]int, len(confs))
	for round := range cfg.Repetitions {
		for i := range idx {
			idx[i] = i
		}
		if order == OrderRandom {
			rng := rand.New(rand.NewPCG(seed, uint64(round)))
			rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		}
		for _, i := range idx {
			g := confs[i]
			g.round = round
			plan = append(plan, g)
		}
	}
	return plan, sched
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

// run runs the groups of plan in turn. Whenever a round begins (a new experiment, or the next
// round of one), and once more at the end, it times the calibration loop for the noise
// indicator, after the stream's consumer has caught up with the records sent.
func (r *runner) run(ctx context.Context, plan []group, out chan<- []pending) error {
	prevExp, prevRound := -1, -1
	defer func() {
		r.drain()
		r.noise.calibrate()
	}()
	for _, g := range plan {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
		if g.exp != prevExp || g.round != prevRound {
			prevExp, prevRound = g.exp, g.round
			r.drain()
			r.noise.calibrate()
		}
		label := g.workload() + "/" + g.mode
		if g.cfg.Experiment != "" {
			label = g.cfg.Experiment + ": " + label
		}
		if g.cfg.Repetitions > 1 {
			label += fmt.Sprintf(" (round %d/%d)", g.round+1, g.cfg.Repetitions)
		}
		r.out.status(label)
		r.res.setRunning(label)
		if err := r.group(ctx, g, out); err != nil {
			return fmt.Errorf("%s/%s: %w", g.workload(), g.mode, err)
		}
	}
	return nil
}

// drain waits, up to a second, until the stream's consumer has written every record sent.
func (r *runner) drain() {
	for range 1000 {
		if r.consumed.Load() >= r.sent.Load() {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// newInvoker returns worker w for group g: an embedded session, a worker of a mix or of mode
// generic, or a worker of the config's target.
func (r *runner) newInvoker(ctx context.Context, g group, ecfg enclave.Config, w int) (invoker, error) {
	if g.mix != nil || g.mode == ModeGeneric {
		return r.newMixInvoker(g, ecfg, w)
	}
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

		WarmupInvocations: cfg.Enclave.WarmupInvocations,
	}
	if mode != "rewind" && c.SnapshotPoint == enclave.PointWarmed {
		// Only a rewinding enclave keeps a snapshot: the others would pay the warm-up in
		// every creation (a cold start) for nothing. Their clean state is the init's.
		c.SnapshotPoint = enclave.PointFunction
	}
	if mode == ModeGeneric {
		c.SnapshotPoint = enclave.PointRuntime // a generic enclave's only clean state
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
	c.TraceHostCalls = cfg.TraceHostCalls
	if mode != "cold" || cfg.Enclave.CompileCache {
		c.Cache = r.cache
	}
	return c
}
