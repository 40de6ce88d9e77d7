package trace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/internal/tracespec"
	"github.com/reclave/reclave/results"
)

// The one code path of `reclave trace simulate`, `reclave trace replay` and a config's trace
// experiment (`reclave run`): the CLI parses its flags into the options of internal/tracespec
// (whose defaults they show) and calls [RunSimulate] or [RunReplay]; [RunExperiment] calls
// the same functions with the options of the config.

// InputError is an error of the trace, the options or the mapping of functions onto
// workloads — the caller's to fix, not the machine's (the CLI exits 2 on it).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }

func (e *InputError) Unwrap() error { return e.Err }

func inputError(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &InputError{Err: err}
}

// loadOptions are the options of Load of sel (and the replay's speed-up).
func loadOptions(sel *tracespec.Select, speedUp float64) LoadOptions {
	return LoadOptions{Arrivals: Arrivals(sel.Arrivals), Seed: sel.Seed, Top: sel.Top, Random: sel.Random,
		From: sel.From, To: sel.To, SpeedUp: speedUp}
}

// logf prints a progress line to log, if any.
func logf(log io.Writer, format string, args ...any) {
	if log != nil {
		fmt.Fprintf(log, "reclave: "+format+"\n", args...)
	}
}

// RunSimulate is `reclave trace simulate`: it loads the trace at path, reads the costs (from
// o.Costs, a run folder) or measures them, simulates every policy × reuse technique of o,
// writes dir/summary.json (creating dir) and prints the policies' table to out. Progress
// goes to log (nil: none). Errors of the trace or the options are *InputError. Cancelled, it
// writes nothing and returns ctx's error.
func RunSimulate(ctx context.Context, path string, o tracespec.Simulate, dir string, out, log io.Writer) (*Summary, error) {
	if err := o.Validate(); err != nil {
		return nil, inputError(err)
	}
	tr, err := Load(ctx, path, loadOptions(&o.Select, 0))
	if err != nil {
		return nil, inputError(err)
	}
	logf(log, "%s", tr)
	var costs *Costs
	if o.Costs != "" {
		costs, err = LoadCosts(o.Costs)
	} else {
		logf(log, "measuring the costs of %v on this machine (16 MiB enclaves; costs: RUN_DIR reads a run's)", o.Measure)
		costs, err = MeasureCosts(ctx, MeasureOptions{Workloads: o.Measure})
	}
	if err != nil {
		return nil, err
	}
	capBytes := o.CapacityMiB << 20
	opts := SimOptions{Nodes: o.Nodes, CapacityBytes: capBytes, TraceMemory: o.TraceMemory,
		Mapping: Mapping{Workload: o.Workload}, Policy: PolicyOptions{KeepAlive: o.KeepAlive}}
	info, err := Info(path, tr, costs, opts.Mapping)
	if err != nil {
		return nil, inputError(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	sum := &Summary{SchemaVersion: results.SchemaVersion, Kind: Kind, Env: harness.CaptureEnv(ctx, nil),
		Trace: info, Costs: costs, Warnings: costs.Warnings,
		Cluster: ClusterInfo{Nodes: max(o.Nodes, 1), CapacityBytes: capBytes, TraceMemory: o.TraceMemory,
			KeepAliveNs: int64(o.KeepAlive)}}
	if sum.Policies, err = SimulateAll(ctx, tr, costs, o.Policies, o.Reuse, opts); err != nil {
		return nil, inputError(err)
	}
	sum.Env.FinishedAt = time.Now().UTC().Format(time.RFC3339)
	if err := WriteSummary(filepath.Join(dir, results.SummaryFile), sum); err != nil {
		return nil, err
	}
	if out != nil {
		if err := WriteTable(out, sum); err != nil {
			return nil, err
		}
	}
	return sum, nil
}

// RunReplay is `reclave trace replay`: it loads the slice of the trace at path that o
// selects (sped up), refuses it beyond o.MaxInvocations, measures the costs of o.Measure,
// replays it on real enclaves into dir/records.jsonl (streamed; an interrupted replay keeps
// the records it wrote and writes no summary), simulates the same slice, writes
// dir/summary.json and prints the agreement to out. Progress goes to log (nil: none). Errors
// of the trace or the options are *InputError.
func RunReplay(ctx context.Context, path string, o tracespec.Replay, dir string, out, log io.Writer) (*Summary, error) {
	if err := o.Validate(); err != nil {
		return nil, inputError(err)
	}
	tr, err := Load(ctx, path, loadOptions(&o.Select, o.SpeedUp))
	if err != nil {
		return nil, inputError(err)
	}
	if n := tr.Invocations(); o.MaxInvocations > 0 && n > o.MaxInvocations {
		return nil, inputError(fmt.Errorf("the slice has %d invocations, more than max-invocations %d: narrow from/to or top", n, o.MaxInvocations))
	}
	logf(log, "%s; replaying %s of it", tr, time.Duration(tr.Length))
	logf(log, "measuring the costs of %v on this machine (16 MiB enclaves)", o.Measure)
	costs, err := MeasureCosts(ctx, MeasureOptions{Workloads: o.Measure})
	if err != nil {
		return nil, err
	}
	ttl := o.KeepAlive
	if ttl > 0 {
		ttl = time.Duration(float64(ttl) / o.SpeedUp)
	}
	mapping := Mapping{Workload: o.Workload}
	info, err := Info(path, tr, costs, mapping)
	if err != nil {
		return nil, inputError(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	write, closeRecords, err := ReplayRecords(dir)
	if err != nil {
		return nil, err
	}
	capBytes := o.CapacityMiB << 20
	rep, sim, err := Replay(ctx, tr, costs, ReplayOptions{Policy: o.Policy, Reuse: o.Reuse,
		PolicyOptions: PolicyOptions{KeepAlive: ttl}, CapacityBytes: capBytes, Mapping: mapping, Records: write})
	if cerr := closeRecords(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		if ctx.Err() != nil {
			logf(log, "replay interrupted; records so far in %s", filepath.Join(dir, results.RecordsFile))
			return nil, err
		}
		return nil, inputError(err)
	}
	sum := &Summary{SchemaVersion: results.SchemaVersion, Kind: Kind, Env: harness.CaptureEnv(ctx, nil),
		Trace: info, Costs: costs, Warnings: costs.Warnings, Policies: []PolicyResult{*sim}, Replay: rep,
		Cluster: ClusterInfo{Nodes: 1, CapacityBytes: capBytes, KeepAliveNs: int64(ttl)}}
	sum.Env.FinishedAt = time.Now().UTC().Format(time.RFC3339)
	if err := WriteSummary(filepath.Join(dir, results.SummaryFile), sum); err != nil {
		return nil, err
	}
	if out != nil {
		if err := WriteAgreement(out, rep, sim); err != nil {
			return nil, err
		}
	}
	return sum, nil
}

// ExperimentOutput is what [RunExperiment] wrote: the folders of the synthetic trace (empty
// when the experiment read a trace), the simulation and the replay (empty without one).
type ExperimentOutput struct {
	Synth, Simulate, Replay string
}

// RunExperiment runs the trace experiment e of a config into outDir/trace/<e.Name>: it
// writes the synthetic trace (synth/, and synth-replay/ for a replay's own), simulates
// (simulate/: summary.json) and replays when e says so (replay/: records.jsonl,
// summary.json) — the files `reclave trace synth`, `simulate` and `replay` write, by the
// same code. Tables and progress go to log (nil: none). On cancellation it stops, leaving
// what it wrote valid (summaries are written whole or not at all, records line by line).
func RunExperiment(ctx context.Context, e *harness.TraceExperiment, outDir string, log io.Writer) (*ExperimentOutput, error) {
	base := filepath.Join(outDir, results.TraceDir, e.Name)
	out := &ExperimentOutput{}
	fail := func(err error) (*ExperimentOutput, error) {
		return out, fmt.Errorf("trace experiment %s: %w", e.Name, err)
	}
	synth := func(o *tracespec.Synth, dir string) (string, error) {
		logf(log, "trace experiment %s: synthetic trace of %d functions, %d days, seed %d into %s", e.Name,
			o.Functions, o.Days, o.Seed, dir)
		_, _, err := Synthesize(ctx, dir, *o)
		return dir, err
	}
	path := e.Path
	if e.Synth != nil {
		var err error
		if path, err = synth(e.Synth, filepath.Join(base, results.TraceSynthDir)); err != nil {
			return fail(err)
		}
		out.Synth = path
	}
	out.Simulate = filepath.Join(base, results.TraceSimulateDir)
	logf(log, "trace experiment %s: simulate %v × %v over %s", e.Name, e.Simulate.Policies, e.Simulate.Reuse, path)
	if _, err := RunSimulate(ctx, path, e.Simulate, out.Simulate, log, log); err != nil {
		return fail(err)
	}
	if e.Replay == nil {
		return out, nil
	}
	rpath := path
	switch {
	case e.Replay.Synth != nil:
		var err error
		if rpath, err = synth(e.Replay.Synth, filepath.Join(base, results.TraceReplaySynthDir)); err != nil {
			return fail(err)
		}
	case e.Replay.Path != "":
		rpath = e.Replay.Path
	}
	out.Replay = filepath.Join(base, results.TraceReplayDir)
	logf(log, "trace experiment %s: replay %s + %s over %s on real enclaves", e.Name, e.Replay.Policy, e.Replay.Reuse, rpath)
	if _, err := RunReplay(ctx, rpath, e.Replay.Replay, out.Replay, log, log); err != nil {
		return fail(err)
	}
	return out, nil
}
