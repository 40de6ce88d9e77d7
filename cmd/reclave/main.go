// Command reclave runs reusable-enclave experiments, summarises them and draws their figures.
//
//	reclave run --config FILE [--out DIR]   run an experiment (default output: out/<timestamp>)
//	reclave plot DIR                        draw the figures of a run into DIR/plots, write DIR/report.md
//	reclave report DIR                      print a run's summary table
//	reclave compare BASE_DIR NEW_DIR [flags] compare two runs; exit 1 on a regression
//	reclave export DIR --csv [--out FILE]   the records as CSV
//	reclave bench rewind [--json] [--out DIR] [--quick]
//	                                        rewind latency per strategy, memory size and dirty pages
//	reclave invoke WORKLOAD|MODULE.wasm [flags]
//	                                        invoke a function and print its output and timings
//	reclave attest root [--platform DIR] [--out FILE]
//	                                        write the simulated platform's root certificate
//	reclave attest verify BUNDLE --root FILE --policy FILE [--nonce HEX] [--input JSON|@FILE]
//	                                        verify an attestation bundle
//	reclave serve [--addr :8080] [--mode M] [flags]
//	                                        serve a function as an OpenWhisk action runtime
//	reclave workloads list|check|input|build|import
//	                                        list, validate, show inputs of, rebuild and import workloads
//	reclave trace synth|simulate|replay [flags]
//	                                        synthesise a trace; simulate platform policies over one;
//	                                        replay one on real enclaves
//
// See README.md for what the outputs mean.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/internal/servecmd"
	"github.com/reclave/reclave/plots"
	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/trace"
)

func main() {
	ctx, stop := servecmd.SignalContext()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  reclave run --config FILE [--out DIR] [--quiet]
                                          run an experiment; default output out/<timestamp>,
                                          linked as out/latest. A progress bar on stderr when
                                          it is a terminal (none with --quiet); Ctrl-C stops
                                          the run, keeping the records and a summary of them.
                                          Exit 3 when invocations failed or gave invalid outputs
                                          beyond the config's expected_errors (named on stderr).
                                          Experiments of kind trace run after the others, into
                                          DIR/trace/NAME/{synth,simulate,replay}: the files the
                                          trace subcommands write
  reclave plot DIR                        draw the figures of a run folder into DIR/plots (PNG, SVG,
                                          PDF) and write DIR/report.md: cold_vs_rewind, breakdown,
                                          throughput, overhead, attestation from summary.json, cdf
                                          from records.jsonl, rewind_scaling from rewind_bench.json;
                                          a figure without data is skipped, saying why. The
                                          folders of trace experiments (DIR/trace/NAME/simulate
                                          and replay) get their policy figures and report.md,
                                          linked from DIR/report.md
  reclave report DIR                      print the summary table of a run
  reclave compare BASE_DIR NEW_DIR [--alpha 0.05] [--threshold 5%] [--metric latency|response|exec]
                 [--unit invocation|repetition] [--workloads DIR]
                                          compare two runs per configuration (medians, 95% CIs,
                                          Mann-Whitney U; ~ when not significant): exit 0 no
                                          regression, 1 a significant slow-down beyond the
                                          threshold, more unexpected failures or invalid outputs
                                          than the base, a new output of a deterministic
                                          workload (manifests: built in, or --workloads DIR) or
                                          a configuration missing from NEW_DIR, 2 unusable runs
  reclave export DIR --csv [--out FILE]   the records of a run as CSV with a header row
  reclave bench rewind [--json] [--out DIR] [--quick]
                                          rewind latency per strategy against memory size and
                                          dirty pages, beside a copy of the same pages
  reclave invoke WORKLOAD|MODULE.wasm [--input JSON|@FILE] [--size S] [--mode M] [-n N]
                 [--workloads DIR] [--memory-mib MiB] [--json] [--deadline D]
                 [--stub MODULE.NAME,...] [--allow-import MODULE.NAME,...]
                 [--strategy S] [--snapshot-point function|runtime|warmed]
                 [--trace-host-calls FILE]
                 [--attest --nonce HEX --bundle FILE [--platform DIR]]
         or: reclave invoke --generic W1,W2,... [-n N] [--json] [--size S] [--strategy S]
                                          invoke a built-in workload (or one of --workloads DIR,
                                          a workload folder, or a bare .wasm module) N times
                                          (default 1) in mode cold, warm, reinstantiate or rewind
                                          (default); print each output, whether it matched the
                                          workload's expected output, and its timings. Input:
                                          --input, else the workload's input of --size (default
                                          test), else empty. --stub and --allow-import provide
                                          imports beyond the allow-list (a refused module names
                                          them all); --deadline replaces the workload's.
                                          --attest (only with -n 1): a simulated platform kept in
                                          --platform DIR (default .reclave/platform, created if
                                          missing) quotes the enclave; writes the bundle to FILE,
                                          a policy accepting this enclave to FILE.policy.json and
                                          the input to FILE.input, and prints the verify command.
                                          Each invocation's host calls are printed;
                                          --trace-host-calls writes one JSON line per host call
                                          (results/doc.go) to FILE. --generic serves the named
                                          workloads round-robin, N rounds, in one generic
                                          enclave (measured without any function, rewound to
                                          its runtime snapshot after each invocation); each
                                          record names the function, its module hash, the
                                          compile-cache hit or miss and the MRENCLAVE
  reclave attest root [--platform DIR] [--out FILE]
                                          write the simulated platform's root certificate (PEM)
                                          to FILE or stdout, creating the platform if missing
  reclave attest verify BUNDLE --root FILE --policy FILE [--nonce HEX] [--input JSON|@FILE]
                        [--allow-simulated]
                                          verify a bundle: exit 0 accepted, 1 refused, 2 unusable
                                          flags or files. Without --nonce freshness is not
                                          checked; without --input the input must be empty.
                                          Hardware evidence (EGo) needs no --root but a reclave
                                          built with -tags egoclient
  reclave serve [--addr :8080] [--mode rewind|reinstantiate|warm|cold] [--memory-mib MiB]
                [--strategy S] [--snapshot-point function|runtime] [--platform DIR]
                [--signer-key FILE] [--quoter simulated|ego]
                [--read-timeout 30s] [--generic]
                                          serve a function as an OpenWhisk action runtime (POST
                                          /init, POST /run; see docs/openwhisk.md) until SIGINT
                                          or SIGTERM (an activation in flight may finish within
                                          30 s; a second signal ends it at once). --generic
                                          serves generic enclaves: each /run may bring its
                                          function's code (value.__reclave_function)
  reclave workloads list [--json] [--workloads DIR] [NAME...]
  reclave workloads check [--workloads DIR] [NAME...]
  reclave workloads input NAME [--size S] [--workloads DIR]
  reclave workloads build [--workloads DIR] [NAME...]
  reclave workloads import DIR [--out DIR] [--deadline D] [--force]
                                          list the workloads; run each at size test in every
                                          mode and validate every output (exit 1 if any is
                                          invalid or fails, or a manifest is broken); print a
                                          workload's input; rebuild modules from source (the
                                          checkout's, or those of any folder); make workloads of
                                          a folder of .wasm files with NAME.stdout.expected
                                          files. See workloads/README.md
  reclave trace synth --out DIR [--functions N] [--days D] [--seed S]
                                          write a synthetic trace in the Azure Functions 2019
                                          format (periodic, diurnal, bursty, rare and
                                          heavy-tailed functions; see trace/doc.go)
  reclave trace simulate --trace PATH [--policies LIST] [--reuse LIST] [--nodes N]
                 [--capacity-mib M] [--costs RUN_DIR] [--out DIR] [--keepalive 10m]
                 [--arrivals poisson|uniform|even] [--seed S] [--top N] [--random N]
                 [--from D] [--to D] [--workload W] [--measure LIST] [--trace-memory]
                                          simulate keep-alive and pre-warming policies (none,
                                          keepalive, hybrid-histogram, greedy-dual, predictive)
                                          × reuse techniques (rewind, generic, reinstantiate,
                                          warm: insecure) over a trace (Azure 2019 or 2021,
                                          Huawei) on a cluster of nodes with enclave memory
                                          capacity, with costs measured by the runtime (a
                                          run's summary.json with --costs, else measured now);
                                          writes DIR/summary.json, drawn by reclave plot DIR
  reclave trace replay --trace PATH [--policy P] [--reuse R] [--speed-up 60]
                 [--from D] [--to 10m] [--capacity-mib 1024] [--keepalive 10m] [--out DIR]
                 [--arrivals poisson|uniform|even] [--seed S] [--top N] [--random N]
                 [--max-invocations N] [--workload W] [--measure LIST]
                                          drive real 16 MiB enclaves with one policy and reuse
                                          technique (rewind, reinstantiate, warm) over a slice
                                          of a trace sped up, latency from the intended start;
                                          then simulate the same slice with the costs measured
                                          at start and print their agreement (cold-start
                                          fraction within 2 points); writes DIR/records.jsonl
                                          and DIR/summary.json (reclave plot DIR: report.md)
`

// errUsage marks errors that are the caller's: exit code 2.
var errUsage = errors.New("usage")

// run is the whole command; it returns the process exit code: 0 success, 1 failure, 2 usage,
// 3 a run whose invocations failed beyond what its config expects (exitError).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(ctx, args[1:], stdout, stderr)
	case "plot":
		err = cmdPlot(args[1:], stdout, stderr)
	case "report":
		err = cmdReport(args[1:], stdout, stderr)
	case "compare":
		err = cmdCompare(args[1:], stdout, stderr)
	case "export":
		err = cmdExport(args[1:], stdout, stderr)
	case "bench":
		err = cmdBench(ctx, args[1:], stdout, stderr)
	case "invoke":
		err = cmdInvoke(ctx, args[1:], stdout, stderr)
	case "attest":
		err = cmdAttest(args[1:], stdout, stderr)
	case "serve":
		err = cmdServe(ctx, args[1:], stdout, stderr)
	case "workloads":
		err = cmdWorkloads(ctx, args[1:], stdout, stderr)
	case "trace":
		err = cmdTrace(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	var exit *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		fmt.Fprintf(stderr, "reclave: %v\n", err)
		return exit.code
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "reclave: %v\n%s", err, usage)
		return 2
	case errors.Is(err, errInput):
		fmt.Fprintf(stderr, "reclave: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "reclave: %v\n", err)
		return 1
	}
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("reclave "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	config := fs.String("config", "", "experiment config `FILE` (see configs/)")
	out := fs.String("out", "", "output `DIR` (default out/<timestamp>, linked as out/latest)")
	quiet := fs.Bool("quiet", false, "no progress bar and no per-configuration lines on stderr")
	if err := parse(fs, splitArgs(fs, args)); err != nil {
		return err
	}
	if *config == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: run needs --config FILE and no other arguments", errUsage)
	}
	cfg, err := harness.LoadConfig(*config)
	if err != nil {
		return err
	}
	// A plan that cannot fit this machine (records on disk, enclaves and plan in memory) is
	// refused before anything is created: planning allocates per repetition.
	where := *out
	if where == "" {
		where = "out"
	}
	if err := cfg.CheckResources(where, nil); err != nil {
		return err
	}
	if err := cfg.CheckTracePaths(); err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		if dir, err = harness.NewRunDir("out", time.Now()); err != nil {
			return err
		}
	}
	runner := harness.Runner{Log: stderr}
	if *quiet {
		runner.Log = nil
	} else if f, ok := stderr.(*os.File); ok && harness.IsTerminal(f) {
		runner.Progress = stderr // Ctrl-C stops the run; what was written stays valid
	}
	fmt.Fprintf(stderr, "reclave: running %s (%s) into %s\n", cfg.Name, *config, dir)
	sum, err := runner.Run(ctx, cfg, dir)
	if sum != nil {
		recs, ferr := results.FindRecords(dir)
		if ferr != nil {
			recs = "none (records: none)"
		}
		fmt.Fprintf(stdout, "records: %s\nsummary: %s\n", recs, filepath.Join(dir, harness.SummaryFile))
	}
	if err == nil && sum != nil {
		err = runVerdict(cfg, sum) // exit 3: failures the config does not expect
	}
	var exit *exitError
	if err != nil && !errors.As(err, &exit) {
		return err
	}
	// The trace experiments, after the invocation ones (their options were validated with
	// the config, before anything ran).
	for _, e := range cfg.TraceExperiments() {
		o, terr := trace.RunExperiment(ctx, e, dir, runner.Log)
		if terr != nil {
			return traceError(terr)
		}
		fmt.Fprintf(stdout, "trace %s: %s", e.Name, filepath.Join(o.Simulate, results.SummaryFile))
		if o.Replay != "" {
			fmt.Fprintf(stdout, ", %s", filepath.Join(o.Replay, results.SummaryFile))
		}
		fmt.Fprintln(stdout)
	}
	return err
}

func cmdPlot(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plot", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: plot needs one run folder", errUsage)
	}
	dir := fs.Arg(0)
	outcome, err := plots.All(dir)
	if outcome == nil {
		return err
	}
	drawn := len(outcome.Drawn()) > 0
	for _, f := range outcome.Figures {
		for _, p := range f.Paths {
			fmt.Fprintln(stdout, p)
		}
		if f.Skipped != "" {
			fmt.Fprintf(stderr, "reclave: skipped %s: %s\n", f.Base, f.Skipped)
		}
	}
	// The trace experiments' folders: their policy figures (a trace folder has none of a
	// run's results: the notes on the figures it skips are left out).
	for _, t := range outcome.Traces {
		if t.Outcome == nil {
			continue
		}
		for _, p := range t.Outcome.Paths() {
			fmt.Fprintln(stdout, p)
			drawn = true
		}
	}
	if drawn {
		report, rerr := plots.WriteReport(dir, outcome)
		if rerr != nil {
			return errors.Join(err, rerr)
		}
		fmt.Fprintln(stdout, report)
	}
	return err
}

func cmdReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: report needs one run folder", errUsage)
	}
	sum, err := results.ReadSummary(filepath.Join(fs.Arg(0), harness.SummaryFile))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s — backend %s", sum.Config.Name, sum.Env.Backend)
	if sum.Env.Simulated {
		fmt.Fprint(stdout, " (simulated SGX)")
	}
	fmt.Fprintf(stdout, ", %s, %d cores\n", sum.Env.CPU, sum.Env.Cores)
	if len(sum.Results) == 0 {
		fmt.Fprintln(stdout, "no invocation experiment ran (a config of trace experiments only)")
	} else if err := results.WriteTable(stdout, sum); err != nil {
		return err
	}
	for _, w := range sum.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	return reportTraces(fs.Arg(0), stdout)
}

// reportTraces prints a line per folder of the run's trace experiments (DIR/trace/NAME/
// simulate and replay).
func reportTraces(dir string, stdout io.Writer) error {
	files, err := filepath.Glob(filepath.Join(dir, results.TraceDir, "*", "*", results.SummaryFile))
	if err != nil {
		return fmt.Errorf("trace experiments: %w", err)
	}
	for _, f := range files {
		s, err := trace.ReadSummary(f)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(dir, results.TraceDir), filepath.Dir(f))
		switch r := s.Replay; {
		case r != nil:
			verdict := "agree"
			if !r.Agreement.ColdOK {
				verdict = "DISAGREE"
			}
			fmt.Fprintf(stdout, "trace experiment %s: %s + %s replayed, %d invocations: cold %.3g%% replay vs %.3g%% simulator (%+.2f pp, bound ±%g): %s\n",
				rel, r.Policy, r.Reuse, r.Result.Invocations, 100*r.Agreement.ColdFractionReplay, 100*r.Agreement.ColdFractionSim,
				r.Agreement.ColdDiffPP, r.Agreement.BoundPP, verdict)
		default:
			fmt.Fprintf(stdout, "trace experiment %s: %d policy × reuse simulated over %d invocations of %d functions (report.md there)\n",
				rel, len(s.Policies), s.Trace.Invocations, s.Trace.Functions)
		}
	}
	return nil
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rewind" {
		return fmt.Errorf("%w: bench needs a benchmark name: rewind", errUsage)
	}
	fs := newFlags("bench rewind", stderr)
	asJSON := fs.Bool("json", false, "print the rows as JSON instead of a table")
	out := fs.String("out", "", "also write `DIR`/rewind_bench.json (drawn by reclave plot DIR)")
	quick := fs.Bool("quick", false, "a small sweep: 1 and 64 MiB, 1 and 16 pages, 50 invocations")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: bench rewind takes no arguments", errUsage)
	}
	opts := harness.RewindBenchOptions{Log: stderr}
	if *quick {
		opts.MemoryMiB, opts.DirtyPages, opts.Iterations = []int{1, 64}, []int{1, 16}, 50
	}
	b, err := harness.RewindBench(ctx, opts)
	if err != nil {
		return err
	}
	b.Env = harness.CaptureEnv(ctx, nil)
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return fmt.Errorf("output folder: %w", err)
		}
		if err := results.WriteRewindBench(filepath.Join(*out, results.RewindBenchFile), b); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(b.Rows)
	}
	return results.WriteRewindTable(stdout, b)
}
