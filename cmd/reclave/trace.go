package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/internal/tracespec"
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
	o := tracespec.DefaultSynth()
	out := fs.String("out", "", "write the trace into `DIR`")
	fs.IntVar(&o.Functions, "functions", o.Functions, "number of `N` functions")
	fs.IntVar(&o.Days, "days", o.Days, "number of `D` days")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "seed `S`: the same seed writes the same files")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 || o.Validate() != nil {
		return fmt.Errorf("%w: trace synth needs --out DIR, positive --functions and --days, and no arguments", errUsage)
	}
	files, fns, err := trace.Synthesize(ctx, *out, o)
	if err != nil {
		return err
	}
	classes := map[string]int{}
	for _, f := range fns {
		classes[f.Class]++
	}
	fmt.Fprintf(stderr, "reclave: synthetic Azure 2019 trace, %d functions (%d periodic, %d diurnal, %d bursty, %d rare, %d heavy-tailed), %d days, seed %d\n",
		len(fns), classes[trace.ClassPeriodic], classes[trace.ClassDiurnal], classes[trace.ClassBursty],
		classes[trace.ClassRare], classes[trace.ClassHeavyTailed], o.Days, o.Seed)
	for _, f := range files {
		fmt.Fprintln(stdout, f)
	}
	return nil
}

// listFlag is a comma-separated list flag: its value replaces the default.
type listFlag struct{ list *[]string }

func (l listFlag) String() string {
	if l.list == nil {
		return ""
	}
	return strings.Join(*l.list, ",")
}

func (l listFlag) Set(s string) error {
	*l.list = nil
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			*l.list = append(*l.list, x)
		}
	}
	return nil
}

// selectFlags defines the flags of the options simulate and replay share, over sel's
// values (the defaults); window describes --from and --to.
func selectFlags(fs *flag.FlagSet, sel *tracespec.Select, keepAlive, from, to string) {
	fs.DurationVar(&sel.KeepAlive, "keepalive", sel.KeepAlive, keepAlive)
	fs.StringVar(&sel.Arrivals, "arrivals", sel.Arrivals, "arrivals within a minute: uniform, poisson or even")
	fs.Uint64Var(&sel.Seed, "seed", sel.Seed, "seed of arrivals, durations and random selection")
	fs.IntVar(&sel.Top, "top", sel.Top, "keep the `N` functions with the most invocations (0: all)")
	fs.IntVar(&sel.Random, "random", sel.Random, "keep `N` functions drawn at random, seeded (0: all)")
	fs.DurationVar(&sel.From, "from", sel.From, from)
	fs.DurationVar(&sel.To, "to", sel.To, to)
	fs.StringVar(&sel.Workload, "workload", sel.Workload, "map every function onto this `WORKLOAD` (default: by duration, nearest measured workload)")
}

// traceError is the CLI's error of a trace command: an error of the trace or the options
// (trace.InputError) exits 2.
func traceError(err error) error {
	var in *trace.InputError
	if errors.As(err, &in) {
		return fmt.Errorf("%w: %v", errInput, err)
	}
	return err
}

func cmdTraceSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("trace simulate", stderr)
	o := tracespec.DefaultSimulate()
	path := fs.String("trace", "", "the trace: a `PATH` to a folder of trace files or one file (Azure 2019, Azure 2021, Huawei)")
	fs.Var(listFlag{&o.Policies}, "policies", "comma-separated `LIST` of policies")
	fs.Var(listFlag{&o.Reuse}, "reuse", "comma-separated `LIST` of reuse techniques: rewind, generic, reinstantiate, warm (insecure)")
	fs.IntVar(&o.Nodes, "nodes", o.Nodes, "number of `N` nodes")
	fs.Int64Var(&o.CapacityMiB, "capacity-mib", o.CapacityMiB, "enclave memory of each node in `MiB` (0: unbounded)")
	fs.StringVar(&o.Costs, "costs", o.Costs, "read the costs from the summary.json of a `RUN_DIR` of reclave run (default: measure them now)")
	out := fs.String("out", "", "output `DIR` (default out/<timestamp>, linked as out/latest)")
	selectFlags(fs, &o.Select, "TTL of policy keepalive (negative: forever)", "start of the time window of the trace",
		"end of the time window (0: the trace's end)")
	fs.Var(listFlag{&o.Measure}, "measure", "without --costs: the `LIST` of built-in workloads to measure")
	fs.BoolVar(&o.TraceMemory, "trace-memory", o.TraceMemory, "size enclaves by the trace's memory when larger than the measured enclave")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: trace simulate needs --trace PATH and no arguments", errUsage)
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("%w: trace simulate: %v", errUsage, flagError(err))
	}
	dir, err := traceOutDir(*out)
	if err != nil {
		return err
	}
	if _, err := trace.RunSimulate(ctx, *path, o, dir, stdout, stderr); err != nil {
		return traceError(err)
	}
	fmt.Fprintf(stdout, "summary: %s\n", filepath.Join(dir, results.SummaryFile))
	return nil
}

// flagError names the flag of an invalid option (a tracespec.KeyError names its config key:
// capacity_mib is --capacity-mib).
func flagError(err error) error {
	var ke *tracespec.KeyError
	if errors.As(err, &ke) {
		key, _, _ := strings.Cut(ke.Key, "[")
		return fmt.Errorf("--%s: %w", strings.ReplaceAll(key, "_", "-"), ke.Err)
	}
	return err
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
