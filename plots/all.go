package plots

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/reclave/reclave/results"
)

// Subdir is the folder of a run folder into which [All] writes the figures.
const Subdir = "plots"

// Input files of a run folder (results.SummaryFile and results.RecordsFile; the records may
// also be compressed, results.RecordsGzipFile, and are then read from it).
const (
	summaryFile = results.SummaryFile
	recordsFile = results.RecordsFile
)

// inputHint returns the command that writes an input file, for the reason of a skipped
// figure.
func inputHint(name string) string {
	if name == results.RewindBenchFile {
		return "reclave bench rewind --out DIR"
	}
	if name == policiesInput {
		return "reclave trace simulate --out DIR"
	}
	return "reclave run"
}

// inputs are the input files of a run folder, each read once, on first use.
type inputs struct {
	dir     string
	read    map[string]bool
	errs    map[string]error // per file: fs.ErrNotExist when missing, or why it is unreadable
	summary *results.Summary
	records []results.Record
	bench   *results.RewindBench
	// policies: the policies of a trace simulation's summary.json (policy figures).
	policies *policySummary
}

// load reads the input file name, once, and returns why it cannot be used, if it cannot.
func (in *inputs) load(name string) error {
	if in.read[name] {
		return in.errs[name]
	}
	in.read[name] = true
	path := filepath.Join(in.dir, name)
	if name == recordsFile {
		if p, err := results.FindRecords(in.dir); err == nil {
			path = p // records.jsonl, or records.jsonl.gz
		}
	}
	if name == policiesInput {
		path = filepath.Join(in.dir, summaryFile)
	}
	var err error
	if _, err = os.Stat(path); err == nil {
		switch name {
		case summaryFile:
			in.summary, err = results.ReadSummary(path)
		case recordsFile:
			in.records, err = readRecords(path)
		case results.RewindBenchFile:
			in.bench, err = results.ReadRewindBench(path)
		case policiesInput:
			in.policies, err = readPolicies(path)
		default:
			err = fmt.Errorf("unknown input %s", name)
		}
	}
	in.errs[name] = err
	return err
}

// env returns the environment of the run: that of its summary, or else of its rewind
// benchmark, or else none.
func (in *inputs) env() results.Env {
	if in.load(summaryFile) == nil {
		return in.summary.Env
	}
	if in.load(results.RewindBenchFile) == nil {
		return in.bench.Env
	}
	return results.Env{}
}

// maxRecordsPerConfig is the number of records per configuration [All] keeps for the
// figures drawn from records (the cdf): beyond it, a uniform sample of that many (Vitter's
// algorithm R, seeded: the same records give the same figure), so that a run of any length
// can be drawn in bounded memory. The cdf draws a distribution through 401 quantiles; those
// of a uniform sample of 100,000 are within a fraction of a percent in rank of the full one's.
const maxRecordsPerConfig = results.ExactLimit

// readRecords reads the records of records.jsonl (or records.jsonl.gz) that the figures
// drawn from records use: measured, successful and not dropped, without their phases, at
// most maxRecordsPerConfig per configuration.
func readRecords(path string) ([]results.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	defer f.Close()
	type kept struct {
		idx  []int // indexes in recs
		seen int64
	}
	var recs []results.Record
	byKey := map[results.Key]*kept{}
	rng := rand.New(rand.NewPCG(results.ReservoirSeed, 0))
	err = results.ScanRecords(f, func(r *results.Record) error {
		if r.Warmup || r.Error != "" || r.Dropped {
			return nil
		}
		r.PhasesNs = nil
		k := r.Key()
		kp := byKey[k]
		if kp == nil {
			kp = &kept{}
			byKey[k] = kp
		}
		kp.seen++
		if len(kp.idx) < maxRecordsPerConfig {
			kp.idx = append(kp.idx, len(recs))
			recs = append(recs, *r)
		} else if j := rng.Int64N(kp.seen); j < maxRecordsPerConfig {
			recs[kp.idx[j]] = *r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read records %s: %w", path, err)
	}
	return recs, nil
}

// figureSpec is a figure [All] draws: from which input, how, and what [WriteReport] says of
// it.
type figureSpec struct {
	base  string
	title string // the figure's title, the heading of its section of the report
	input string // the file it is drawn from
	// prepare prepares the figure from the inputs, its input loaded without error.
	prepare func(in *inputs) (figure, error)
	// claim is the claim of the paper the figure reproduces; read says how to read it.
	claim, read string
}

// figureSpecs are the figures of [All], in the order drawn and reported.
func figureSpecs() []figureSpec {
	return append([]figureSpec{
		{
			base: HeadlineBase, title: "Fresh enclave vs. snapshot rewind", input: summaryFile,
			prepare: func(in *inputs) (figure, error) { return nilIfErr(newHeadlineFigure(in.summary)) },
			claim: "Rewinding a reused enclave to its clean snapshot after every invocation isolates " +
				"invocations from each other at a cost orders of magnitude below creating a fresh " +
				"enclave for every invocation (a cold start).",
			read: "One group of bars per workload, one bar per mode, on a logarithmic time axis: the " +
				"claim is the number of decades between the cold and the rewind bar. Reinstantiate " +
				"(enclave kept, Wasm instance re-created) is the middle ground; warm (no reset, state " +
				"leaks) is an insecure lower bound, for reference only. A bar is the median latency " +
				"of the invocation, reset or creation included; its whisker is the 95% confidence " +
				"interval of the median, which needs at least 6 invocations: the caption names the " +
				"bars drawn without one (typically cold, of which configs run few).",
		},
		{
			base: BreakdownBase, title: breakdownTitle, input: summaryFile,
			prepare: func(in *inputs) (figure, error) { return nilIfErr(newBreakdownFigure(in.summary)) },
			claim: "A cold start is dominated by creating the enclave (EADD/EEXTEND of every page, " +
				"measured) and loading the runtime and the function, not by the function itself: " +
				"the work that snapshot and rewind take off the path of every invocation.",
			read: "One bar per workload, its cold-start phases in life-cycle order as shares of their " +
				"sum (100%); the total in brackets is that sum of phase medians (the median cold latency " +
				"is in the table above). Everything but invoke is what a reused enclave does not pay again.",
		},
		{
			base: CDFBase, title: cdfTitle, input: recordsFile,
			prepare: func(in *inputs) (figure, error) { return nilIfErr(newCDFFigure(in.records, in.env())) },
			claim: "Reusing and rewinding enclaves shortens the whole latency distribution, tail " +
				"included, not only the median.",
			read: "One panel per workload, one curve per mode: the fraction of invocations (Y) that " +
				"took at most a latency (X, logarithmic). A curve further left is faster; a steeper " +
				"one varies less; where a curve meets 0.99 is its 99th percentile, for a curve of at " +
				"least 100 invocations (below, that is its maximum: the caption says which curves).",
		},
		{
			base: RewindScalingBase, title: "Rewind latency vs. pages dirtied", input: results.RewindBenchFile,
			prepare: func(in *inputs) (figure, error) { return nilIfErr(newScalingFigure(in.bench)) },
			claim: "The cost of a rewind is bounded by the memory an invocation changed: restoring " +
				"only the dirty pages keeps rewinds cheap in large enclaves, where copying or " +
				"scanning the whole memory does not.",
			read: "One panel per linear memory size, both axes logarithmic. Strategies that copy or " +
				"scan all memory (full, diff) are flat lines climbing from panel to panel; those that " +
				"restore dirty pages only (cow, tracked) climb within a panel. The dashed line is a " +
				"plain copy of the same pages, the physical lower bound. A point under 1 µs includes " +
				"the tens of nanoseconds of the clock reads around it (the table above gives no ratio " +
				"over such a copy).",
		},
		{
			base: ThroughputBase, title: throughputTitle, input: summaryFile,
			prepare: func(in *inputs) (figure, error) { return nilIfErr(newThroughputFigure(in.summary)) },
			claim: "Reusable enclaves serve many times more invocations per second than fresh " +
				"enclaves, at every level of concurrency.",
			read: "One panel per workload, one line per mode: successful invocations per second " +
				"(logarithmic) against the number of closed-loop workers. Lines flatten once the " +
				"workers outnumber the cores (see the caption); the vertical distance between two " +
				"lines is the ratio of their throughputs, between cold and rewind (when both are " +
				"drawn) the gain of reuse.",
		},
		{
			base: OverheadBase, title: overheadTitle, input: summaryFile,
			prepare: func(in *inputs) (figure, error) { return nilIfErr(newOverheadFigure(in.summary)) },
			claim: "Multi-layer intra-enclave compartmentalisation (the monitor L0 guarding the " +
				"snapshot and keys from the runtime L1, the import allow-list confining the function " +
				"L2) costs little on top of a rewound invocation.",
			read: "Per workload, median latency divided by that of warm without compartments (the " +
				"dashed line at 1). Warm to rewind is the price of the reset; a bar to its " +
				"+ compartments neighbour is the price of the compartments.",
		},
		{
			base: AttestationBase, title: "Cost of attestation", input: summaryFile,
			prepare: func(in *inputs) (figure, error) { return nilIfErr(newAttestationFigure(in.summary)) },
			claim: "Nested attestation makes attesting every invocation cheap: an inner report signed " +
				"by the enclave's L0 key costs far less than the fresh quote (outer evidence) a cold " +
				"start needs.",
			read: "Per workload, on a logarithmic time axis: the cold start for context, the outer " +
				"evidence (once per enclave), the inner report (once per invocation) and the rewind " +
				"for context. The inner report is what attestation adds to a rewound invocation; a " +
				"workload without that bar was not measured with inner attestation (the caption " +
				"names those that were).",
		},
		{
			base: HostCallsBase, title: hostCallsTitle, input: summaryFile,
			prepare: func(in *inputs) (figure, error) { return nilIfErr(newHostCallsFigure(in.summary)) },
			claim: "Every host call a function makes would be an enclave exit (an OCALL) on SGX hardware, and the " +
				"pattern of exits is what an untrusted OS observes; resetting a reused enclave by rewinding it to " +
				"its snapshot makes no host call at all, unlike re-creating its instance or the enclave.",
			read: "One bar per workload and mode: the median calls per invocation of each host function, stacked, " +
				"the total in brackets; the grey segment is the reset's (in mode cold the creation's): the start " +
				"function and init of a new instance, absent for a rewind. report.md turns the calls into an " +
				"estimated exit cost, kept apart from the measured latencies.",
		},
		{
			base: MixBase, title: mixTitle, input: recordsFile,
			prepare: func(in *inputs) (figure, error) {
				var s *results.Summary
				if in.load(summaryFile) == nil {
					s = in.summary
				}
				return nilIfErr(newMixFigure(in.records, s, in.env()))
			},
			claim: "The paper's nested attestation exists so that one attested runtime enclave can serve any " +
				"function: a platform can then keep one warm pool of generic enclaves for all its functions " +
				"instead of one per function, at the price of loading the function on every invocation.",
			read: "Top: per mix of workloads (an experiment's mix), load and pool, the median latency of every " +
				"measured invocation whichever function ran: per-function rewind enclaves (one per function per " +
				"worker) against a pool of generic enclaves (one per worker). Bottom: per workload, where a generic " +
				"invocation's time goes — load (the module hashed and found in the enclave's compile cache), " +
				"instantiate, fn_init, invoke, rewind to the runtime snapshot — as shares of their sum; load, " +
				"instantiate and fn_init are what a per-function snapshot saves.",
		},
	}, policyFigureSpecs()...)
}

// nilIfErr returns fig as a figure, or a nil figure with err: a nil *F in an interface would
// not be nil.
func nilIfErr[F figure](fig F, err error) (figure, error) {
	if err != nil {
		return nil, err
	}
	return fig, nil
}

// Outcome is what [All] did with every figure it knows, in the order drawn.
type Outcome struct {
	Figures []FigureOutcome
	// Traces are the folders of the run's trace experiments (RUN/trace/<name>/simulate and
	// replay), each drawn as a folder of its own.
	Traces []TraceOutcome
}

// FigureOutcome is what [All] did with one figure: the files it wrote, or why it skipped it.
type FigureOutcome struct {
	Base  string   // file name without extension, e.g. "cold_vs_rewind"
	Title string   // the figure's title
	Paths []string // the files written (PNG, SVG, PDF); none when skipped
	// Skipped says why the figure was not drawn (its input is missing, unreadable or holds
	// nothing to draw); empty when it was drawn.
	Skipped string
}

// Paths returns the paths of every file written, in order.
func (o *Outcome) Paths() []string {
	var paths []string
	for _, f := range o.Figures {
		paths = append(paths, f.Paths...)
	}
	return paths
}

// Drawn returns the figures drawn, in order.
func (o *Outcome) Drawn() []FigureOutcome {
	var out []FigureOutcome
	for _, f := range o.Figures {
		if f.Skipped == "" {
			out = append(out, f)
		}
	}
	return out
}

// All draws every figure whose input is in the run folder dir into dir/plots (creating it
// when there is a figure to write), and returns what it did with each, in this order:
//
//   - [Headline] (cold_vs_rewind) from summary.json, written by `reclave run`;
//   - [Breakdown] (breakdown) from summary.json, when the run has mode cold;
//   - [CDF] (cdf) from records.jsonl, written by `reclave run`;
//   - [RewindScaling] (rewind_scaling) from rewind_bench.json, written by
//     `reclave bench rewind`;
//   - [Throughput] (throughput) from summary.json, when the run swept concurrency;
//   - [Overhead] (overhead) from summary.json, when the run measured compartments on and off;
//   - [Attestation] (attestation) from summary.json, when the run measured attestation
//     (phases quote and attest);
//   - [HostCalls] (host_calls) from summary.json, when its records carried host calls
//     (schema version 3, target embedded);
//   - mix (mix.go) from records.jsonl and summary.json, when the run drew from a mix of
//     workloads or had mode generic (a config's mix, generic enclaves);
//   - policy_tradeoff, policy_cdf and policy_timeline from the summary.json of
//     `reclave trace simulate` (its policies; see policy.go);
//   - then, in a run folder with trace experiments, each folder RUN/trace/<name>/simulate
//     and RUN/trace/<name>/replay as if given alone (into its own plots/), in
//     [Outcome.Traces] (traceruns.go).
//
// A figure whose input is missing, or holds nothing to draw, is skipped with the reason in
// its [FigureOutcome]. An input that is present but unreadable, or a figure that cannot be
// written, is an error, returned with the outcome of the other figures, which are drawn
// anyway. All fails too when it drew nothing; the outcome then says why each figure was
// skipped.
func All(dir string) (*Outcome, error) { return drawAll(dir, formats) }

// drawAll is [All], writing each figure in formats.
func drawAll(dir string, formats []string) (*Outcome, error) {
	outDir := filepath.Join(dir, Subdir)
	in := &inputs{dir: dir, read: map[string]bool{}, errs: map[string]error{}}
	out := &Outcome{}
	var failed []error
	reported := map[string]bool{} // unreadable inputs already in failed
	for _, spec := range figureSpecs() {
		fo := FigureOutcome{Base: spec.base, Title: spec.title}
		if err := in.load(spec.input); errors.Is(err, fs.ErrNotExist) {
			fo.Skipped = fmt.Sprintf("no %s in the run folder (written by %s)", spec.input, inputHint(spec.input))
		} else if err != nil {
			fo.Skipped = fmt.Sprintf("%s unreadable: %v", spec.input, err)
			if !reported[spec.input] {
				reported[spec.input] = true
				failed = append(failed, err)
			}
		} else if fig, err := spec.prepare(in); err != nil {
			fo.Skipped = fmt.Sprintf("nothing to draw in %s: %v", spec.input, err)
		} else {
			paths, err := writeFigure(fig, outDir, spec.base, formats)
			fo.Paths = paths
			if err != nil {
				fo.Skipped = fmt.Sprintf("cannot write: %v", err)
				failed = append(failed, fmt.Errorf("%s figure: %w", spec.base, err))
			}
		}
		out.Figures = append(out.Figures, fo)
	}
	failed = append(failed, drawTraces(dir, formats, out)...)
	if len(out.Traces) > 0 {
		// A run folder with trace experiments: its policy figures are its trace folders'.
		out.Figures = slices.DeleteFunc(out.Figures, func(f FigureOutcome) bool {
			return f.Skipped != "" && slices.ContainsFunc(policyFigureSpecs(), func(s figureSpec) bool { return s.base == f.Base })
		})
	}
	if len(failed) > 0 {
		return out, fmt.Errorf("plots of %s: %w", dir, errors.Join(failed...))
	}
	if len(out.Drawn()) == 0 && !slices.ContainsFunc(out.Traces, func(t TraceOutcome) bool {
		return t.Outcome != nil && len(t.Outcome.Drawn()) > 0
	}) {
		return out, fmt.Errorf("plots of %s: no figure to draw (see the reasons given for each)", dir)
	}
	return out, nil
}
