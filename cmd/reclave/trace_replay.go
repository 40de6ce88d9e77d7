package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/reclave/reclave/internal/tracespec"
	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/trace"
)

// cmdTraceReplay is `reclave trace replay`: a policy driving real enclaves over a slice of a
// trace, then the simulator over the same slice, and their agreement (trace.RunReplay).
func cmdTraceReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("trace replay", stderr)
	o := tracespec.DefaultReplay()
	path := fs.String("trace", "", "the trace: a `PATH` to a folder of trace files or one file (Azure 2019, Azure 2021, Huawei)")
	fs.StringVar(&o.Policy, "policy", o.Policy, "the `POLICY`: none, keepalive, hybrid-histogram, greedy-dual or predictive")
	fs.StringVar(&o.Reuse, "reuse", o.Reuse, "the reuse technique `R`: rewind, reinstantiate or warm (insecure)")
	fs.Float64Var(&o.SpeedUp, "speed-up", o.SpeedUp, "divide the trace's arrival times and durations by `X`")
	fs.Int64Var(&o.CapacityMiB, "capacity-mib", o.CapacityMiB, "enclave memory the replay may hold, in `MiB` (0: unbounded)")
	out := fs.String("out", "", "output `DIR` (default out/<timestamp>, linked as out/latest)")
	selectFlags(fs, &o.Select, "TTL of policy keepalive in the trace's time (divided by the speed-up; negative: forever)",
		"start of the window of the trace replayed (trace time)",
		"end of the window (trace time; with --speed-up 60 the default replays for 10 s)")
	fs.Int64Var(&o.MaxInvocations, "max-invocations", o.MaxInvocations, "refuse a slice with more than `N` invocations (0: no limit)")
	fs.Var(listFlag{&o.Measure}, "measure", "the `LIST` of built-in workloads whose costs are measured at start (16 MiB enclaves)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: trace replay needs --trace PATH and no arguments", errUsage)
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("%w: trace replay: %v", errUsage, flagError(err))
	}
	dir, err := traceOutDir(*out)
	if err != nil {
		return err
	}
	if _, err := trace.RunReplay(ctx, *path, o, dir, stdout, stderr); err != nil {
		return traceError(err)
	}
	fmt.Fprintf(stdout, "records: %s\nsummary: %s\n", filepath.Join(dir, results.RecordsFile), filepath.Join(dir, results.SummaryFile))
	return nil
}
