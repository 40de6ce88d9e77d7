package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/trace"
)

// cmdTrace is `reclave trace synth|simulate|replay`.
func cmdTrace(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: trace needs a subcommand: synth, simulate or replay", errUsage)
	}
	switch args[0] {
	case "synth":
		return cmdTraceSynth(ctx, args[1:], stdout, stderr)
	case "simulate":
		return cmdTraceSimulate(ctx, args[1:], stdout, stderr)
	case "replay":
		return cmdTraceReplay(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: unknown trace subcommand %q (want synth, simulate or replay)", errUsage, args[0])
}

func cmdTraceSynth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("trace synth", stderr)
	out := fs.String("out", "", "write the trace into `DIR`")
	functions := fs.Int("functions", 1000, "number of `N` functions")
	days := fs.Int("days", 1, "number of `D` days")
	seed := fs.Uint64("seed", 1, "seed `S`: the same seed writes the same files")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 || *functions <= 0 || *days <= 0 {
		return fmt.Errorf("%w: trace synth needs --out DIR, positive --functions and --days, and no arguments", errUsage)
	}
	files, fns, err := trace.Synthesize(ctx, *out, trace.SynthOptions{Functions: *functions, Days: *days, Seed: *seed})
	if err != nil {
		return err
	}
	classes := map[string]int{}
	for _, f := range fns {
		classes[f.Class]++
	}
	fmt.Fprintf(stderr, "reclave: synthetic Azure 2019 trace, %d functions (%d periodic, %d diurnal, %d bursty, %d rare, %d heavy-tailed), %d days, seed %d\n",
		len(fns), classes[trace.ClassPeriodic], classes[trace.ClassDiurnal], classes[trace.ClassBursty],
		classes[trace.ClassRare], classes[trace.ClassHeavyTailed], *days, *seed)
	for _, f := range files {
		fmt.Fprintln(stdout, f)
	}
	return nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func cmdTraceSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("trace simulate", stderr)
	path := fs.String("trace", "", "the trace: a `PATH` to a folder of trace files or one file (Azure 2019, Azure 2021, Huawei)")
	policies := fs.String("policies", strings.Join(trace.Policies, ","), "comma-separated `LIST` of policies")
	reuse := fs.String("reuse", trace.ReuseRewind, "comma-separated `LIST` of reuse techniques: rewind, generic, reinstantiate, warm (insecure)")
	nodes := fs.Int("nodes", 1, "number of `N` nodes")
	capMiB := fs.Int64("capacity-mib", 0, "enclave memory of each node in `MiB` (0: unbounded)")
	costsDir := fs.String("costs", "", "read the costs from the summary.json of a `RUN_DIR` of reclave run (default: measure them now)")
	out := fs.String("out", "", "output `DIR` (default out/<timestamp>, linked as out/latest)")
	keepAlive := fs.Duration("keepalive", 10*time.Minute, "TTL of policy keepalive (negative: forever)")
	arrivals := fs.String("arrivals", string(trace.ArrivalsPoisson), "arrivals within a minute: uniform, poisson or even")
	seed := fs.Uint64("seed", 1, "seed of arrivals, durations and random selection")
	top := fs.Int("top", 0, "keep the `N` functions with the most invocations (0: all)")
	random := fs.Int("random", 0, "keep `N` functions drawn at random, seeded (0: all)")
	from := fs.Duration("from", 0, "start of the time window of the trace")
	to := fs.Duration("to", 0, "end of the time window (0: the trace's end)")
	workload := fs.String("workload", "", "map every function onto this `WORKLOAD` (default: by duration, nearest measured workload)")
	measure := fs.String("measure", "noop", "without --costs: the `LIST` of built-in workloads to measure")
	traceMemory := fs.Bool("trace-memory", false, "size enclaves by the trace's memory when larger than the measured enclave")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: trace simulate needs --trace PATH and no arguments", errUsage)
	}
	tr, err := trace.Load(ctx, *path, trace.LoadOptions{Arrivals: trace.Arrivals(*arrivals), Seed: *seed,
		Top: *top, Random: *random, From: *from, To: *to})
	if err != nil {
		return fmt.Errorf("%w: %v", errInput, err)
	}
	fmt.Fprintf(stderr, "reclave: %s\n", tr)
	var costs *trace.Costs
	if *costsDir != "" {
		costs, err = trace.LoadCosts(*costsDir)
	} else {
		fmt.Fprintf(stderr, "reclave: measuring the costs of %s on this machine (16 MiB enclaves; --costs RUN_DIR reads a run's)\n", *measure)
		costs, err = trace.MeasureCosts(ctx, trace.MeasureOptions{Workloads: splitList(*measure)})
	}
	if err != nil {
		return err
	}
	opts := trace.SimOptions{Nodes: *nodes, CapacityBytes: *capMiB << 20, TraceMemory: *traceMemory,
		Mapping: trace.Mapping{Workload: *workload}, Policy: trace.PolicyOptions{KeepAlive: *keepAlive}}
	info, err := trace.Info(*path, tr, costs, opts.Mapping)
	if err != nil {
		return fmt.Errorf("%w: %v", errInput, err)
	}
	dir, err := traceOutDir(*out)
	if err != nil {
		return err
	}
	sum := &trace.Summary{SchemaVersion: results.SchemaVersion, Kind: trace.Kind, Env: harness.CaptureEnv(ctx, nil),
		Trace: info, Costs: costs, Warnings: costs.Warnings,
		Cluster: trace.ClusterInfo{Nodes: max(*nodes, 1), CapacityBytes: *capMiB << 20, TraceMemory: *traceMemory,
			KeepAliveNs: int64(*keepAlive)}}
	sum.Policies, err = trace.SimulateAll(ctx, tr, costs, splitList(*policies), splitList(*reuse), opts)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("%w: %v", errInput, err)
	}
	sum.Env.FinishedAt = time.Now().UTC().Format(time.RFC3339)
	file := filepath.Join(dir, results.SummaryFile)
	if err := trace.WriteSummary(file, sum); err != nil {
		return err
	}
	if err := trace.WriteTable(stdout, sum); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "summary: %s\n", file)
	return nil
}

// traceOutDir makes the output folder of a trace command: dir, or out/<timestamp> (linked as
// out/latest) when dir is empty.
func traceOutDir(dir string) (string, error) {
	if dir == "" {
		return harness.NewRunDir("out", time.Now())
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("output folder: %w", err)
	}
	return dir, nil
}
