package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/trace"
)

// cmdTraceReplay is `reclave trace replay`: a policy driving real enclaves over a slice of a
// trace, then the simulator over the same slice, and their agreement.
func cmdTraceReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("trace replay", stderr)
	path := fs.String("trace", "", "the trace: a `PATH` to a folder of trace files or one file (Azure 2019, Azure 2021, Huawei)")
	policy := fs.String("policy", trace.PolicyKeepAlive, "the `POLICY`: none, keepalive, hybrid-histogram, greedy-dual or predictive")
	reuse := fs.String("reuse", trace.ReuseRewind, "the reuse technique `R`: rewind, reinstantiate or warm (insecure)")
	speedUp := fs.Float64("speed-up", 60, "divide the trace's arrival times and durations by `X`")
	capMiB := fs.Int64("capacity-mib", 1024, "enclave memory the replay may hold, in `MiB` (0: unbounded)")
	out := fs.String("out", "", "output `DIR` (default out/<timestamp>, linked as out/latest)")
	keepAlive := fs.Duration("keepalive", 10*time.Minute, "TTL of policy keepalive in the trace's time (divided by the speed-up; negative: forever)")
	arrivals := fs.String("arrivals", string(trace.ArrivalsPoisson), "arrivals within a minute: uniform, poisson or even")
	seed := fs.Uint64("seed", 1, "seed of arrivals, durations and random selection")
	top := fs.Int("top", 0, "keep the `N` functions with the most invocations (0: all)")
	random := fs.Int("random", 0, "keep `N` functions drawn at random, seeded (0: all)")
	from := fs.Duration("from", 0, "start of the window of the trace replayed (trace time)")
	to := fs.Duration("to", 10*time.Minute, "end of the window (trace time; with --speed-up 60 the default replays for 10 s)")
	maxInv := fs.Int64("max-invocations", 200000, "refuse a slice with more than `N` invocations (0: no limit)")
	workload := fs.String("workload", "", "map every function onto this `WORKLOAD` (default: by duration, nearest measured workload)")
	measure := fs.String("measure", "noop", "the `LIST` of built-in workloads whose costs are measured at start (16 MiB enclaves)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() > 0 || *speedUp <= 0 || *to <= *from {
		return fmt.Errorf("%w: trace replay needs --trace PATH, a positive --speed-up, --from before --to, and no arguments", errUsage)
	}
	tr, err := trace.Load(ctx, *path, trace.LoadOptions{Arrivals: trace.Arrivals(*arrivals), Seed: *seed,
		Top: *top, Random: *random, From: *from, To: *to, SpeedUp: *speedUp})
	if err != nil {
		return fmt.Errorf("%w: %v", errInput, err)
	}
	if n := tr.Invocations(); *maxInv > 0 && n > *maxInv {
		return fmt.Errorf("%w: the slice has %d invocations, more than --max-invocations %d: narrow --from/--to or --top", errUsage, n, *maxInv)
	}
	fmt.Fprintf(stderr, "reclave: %s; replaying %s of it\n", tr, time.Duration(tr.Length))
	fmt.Fprintf(stderr, "reclave: measuring the costs of %s on this machine (16 MiB enclaves)\n", *measure)
	costs, err := trace.MeasureCosts(ctx, trace.MeasureOptions{Workloads: splitList(*measure)})
	if err != nil {
		return err
	}
	ttl := *keepAlive
	if ttl > 0 {
		ttl = time.Duration(float64(ttl) / *speedUp)
	}
	mapping := trace.Mapping{Workload: *workload}
	info, err := trace.Info(*path, tr, costs, mapping)
	if err != nil {
		return fmt.Errorf("%w: %v", errInput, err)
	}
	dir, err := traceOutDir(*out)
	if err != nil {
		return err
	}
	write, closeRecords, err := trace.ReplayRecords(dir)
	if err != nil {
		return err
	}
	rep, sim, err := trace.Replay(ctx, tr, costs, trace.ReplayOptions{Policy: *policy, Reuse: *reuse,
		PolicyOptions: trace.PolicyOptions{KeepAlive: ttl}, CapacityBytes: *capMiB << 20, Mapping: mapping,
		Records: write})
	if cerr := closeRecords(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "reclave: replay interrupted; records so far in %s\n", filepath.Join(dir, results.RecordsFile))
			return err
		}
		return fmt.Errorf("%w: %v", errInput, err)
	}
	sum := &trace.Summary{SchemaVersion: results.SchemaVersion, Kind: trace.Kind, Env: harness.CaptureEnv(ctx, nil),
		Trace: info, Costs: costs, Warnings: costs.Warnings, Policies: []trace.PolicyResult{*sim}, Replay: rep,
		Cluster: trace.ClusterInfo{Nodes: 1, CapacityBytes: *capMiB << 20, KeepAliveNs: int64(ttl)}}
	sum.Env.FinishedAt = time.Now().UTC().Format(time.RFC3339)
	file := filepath.Join(dir, results.SummaryFile)
	if err := trace.WriteSummary(file, sum); err != nil {
		return err
	}
	if err := trace.WriteAgreement(stdout, rep, sim); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "records: %s\nsummary: %s\n", filepath.Join(dir, results.RecordsFile), file)
	return nil
}
