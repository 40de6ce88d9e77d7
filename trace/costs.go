package trace

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/internal/tracespec"
	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/workloads"
)

// Reuse techniques: what a kept enclave does between two invocations (their names are
// internal/tracespec's, which configs are validated against).
const (
	// ReuseRewind keeps a function's enclave and rewinds it to its snapshot after each
	// invocation (reclave's reusable enclave).
	ReuseRewind = tracespec.ReuseRewind
	// ReuseGeneric keeps one shared pool of generic runtime enclaves that serve any function.
	// Its costs are modelled from the other techniques' measurements (see the package doc).
	ReuseGeneric = tracespec.ReuseGeneric
	// ReuseReinstantiate keeps a function's enclave and re-creates its Wasm instance after
	// each invocation.
	ReuseReinstantiate = tracespec.ReuseReinstantiate
	// ReuseWarm keeps the enclave and resets nothing: INSECURE (state leaks to the next
	// caller), for reference only.
	ReuseWarm = tracespec.ReuseWarm
	// ReuseNone is the reuse of policy none: every invocation gets a fresh enclave.
	ReuseNone = tracespec.ReuseNone
)

// Techniques are the reuse techniques, in the order reported.
var Techniques = tracespec.Techniques

// Insecure reports whether reuse technique r leaks state between invocations.
func Insecure(r string) bool { return r == ReuseWarm }

// ReuseCosts are what an invocation on a kept enclave costs with one technique: StartNs
// before the function runs and until its output is out (the response less the function's
// own execution), ResetNs after the response, keeping the enclave busy.
type ReuseCosts struct {
	StartNs float64 `json:"start_ns"`
	ResetNs float64 `json:"reset_ns"`
}

// WorkloadCosts are the measured costs of one reclave workload's enclaves, medians.
type WorkloadCosts struct {
	Workload    string `json:"workload"`
	MemoryBytes int64  `json:"memory_bytes"`
	// ExecNs is the function's own execution in the measurements (used by the mapping).
	ExecNs float64 `json:"exec_ns"`
	// CreateNs is a cold start's response less the function's execution: creating,
	// measuring and initialising the enclave, loading the function, taking the snapshot.
	// EaddEextendNs is the part of it that adds and measures the pages (it scales with the
	// enclave's size); CompileNs its compile phase; DestroyNs the destruction.
	CreateNs      float64 `json:"create_ns"`
	EaddEextendNs float64 `json:"eadd_eextend_ns"`
	CompileNs     float64 `json:"compile_ns"`
	DestroyNs     float64 `json:"destroy_ns"`
	// Reuse holds the costs per reuse technique measured (rewind, reinstantiate, warm) or
	// modelled (generic).
	Reuse map[string]ReuseCosts `json:"reuse"`
}

// Costs are the measured costs the simulator uses.
type Costs struct {
	// Source says where they come from: the run folder read, or "measured at start".
	Source    string          `json:"source"`
	Workloads []WorkloadCosts `json:"workloads"`
	Warnings  []string        `json:"warnings,omitempty"`
}

// Workload returns the costs of the named workload, or nil.
func (c *Costs) Workload(name string) *WorkloadCosts {
	for i := range c.Workloads {
		if c.Workloads[i].Workload == name {
			return &c.Workloads[i]
		}
	}
	return nil
}

// LoadCosts reads the costs from the summary.json of a run folder (`reclave run`): per
// workload, the results of modes cold and rewind (needed), reinstantiate and warm (needed
// for those techniques).
func LoadCosts(dir string) (*Costs, error) {
	sum, err := results.ReadSummary(filepath.Join(dir, results.SummaryFile))
	if err != nil {
		return nil, fmt.Errorf("costs: %w", err)
	}
	c, err := CostsFromResults(sum.Results, dir)
	if err != nil {
		return nil, fmt.Errorf("costs of %s: %w", dir, err)
	}
	return c, nil
}

// CostsFromResults derives the costs from run results; source names where they come from.
// For each workload the first successful result of each mode is used.
func CostsFromResults(rs []results.Result, source string) (*Costs, error) {
	byWorkload := map[string]map[string]*results.Result{}
	var order []string
	for i := range rs {
		r := &rs[i]
		if r.Successful() == 0 || r.Target != "" && r.Target != "embedded" {
			continue
		}
		m := byWorkload[r.Workload]
		if m == nil {
			m = map[string]*results.Result{}
			byWorkload[r.Workload] = m
			order = append(order, r.Workload)
		}
		if m[r.Mode] == nil {
			m[r.Mode] = r
		}
	}
	c := &Costs{Source: source}
	for _, w := range order {
		m := byWorkload[w]
		cold, rew := m["cold"], m["rewind"]
		if cold == nil || rew == nil {
			c.Warnings = append(c.Warnings, fmt.Sprintf("workload %s: no successful cold and rewind results: not used", w))
			continue
		}
		wc := WorkloadCosts{
			Workload: w, MemoryBytes: cold.MemoryBytes, ExecNs: rew.ExecNs.P50,
			CreateNs:      math.Max(cold.ResponseNs.P50-cold.ExecNs.P50, 0),
			EaddEextendNs: float64(cold.PhasesP50Ns["eadd_eextend"]),
			CompileNs:     float64(cold.PhasesP50Ns["compile"]),
			DestroyNs:     float64(cold.PhasesP50Ns["destroy"]),
			Reuse:         map[string]ReuseCosts{},
		}
		for _, mode := range []string{ReuseRewind, ReuseReinstantiate, ReuseWarm} {
			if r := m[mode]; r != nil {
				wc.Reuse[mode] = ReuseCosts{
					StartNs: math.Max(r.ResponseNs.P50-r.ExecNs.P50, 0),
					ResetNs: math.Max(r.RewindNs.P50, 0),
				}
			}
		}
		if ri, ok := wc.Reuse[ReuseReinstantiate]; ok {
			// A generic enclave is rewound to its runtime snapshot after each invocation and
			// instantiates and initialises the next function before it runs (the
			// reinstantiate reset). Compiling a function it did not serve last is added per
			// switch by the simulator (CompileNs).
			r := wc.Reuse[ReuseRewind]
			wc.Reuse[ReuseGeneric] = ReuseCosts{StartNs: r.StartNs + ri.ResetNs, ResetNs: r.ResetNs}
		}
		c.Workloads = append(c.Workloads, wc)
	}
	if len(c.Workloads) == 0 {
		return nil, fmt.Errorf("no workload with successful cold and rewind results")
	}
	return c, nil
}

// MeasureOptions configure [MeasureCosts].
type MeasureOptions struct {
	// Workloads are the built-in workloads to measure; nil means noop.
	Workloads []string
	// MemoryBytes is the size of the enclaves; 0 means 16 MiB.
	MemoryBytes int64
	// Cold is the number of cold starts, N the invocations of each reusing mode (after 2
	// warm-up invocations); 0 means 3 and 30.
	Cold, N int
}

// MeasureCosts measures the costs on this machine with the embedded enclave runtime: per
// workload, Cold cold starts and N invocations in modes rewind, reinstantiate and warm,
// summarised as a run's records would be ([CostsFromResults]).
func MeasureCosts(ctx context.Context, opts MeasureOptions) (*Costs, error) {
	if len(opts.Workloads) == 0 {
		opts.Workloads = []string{"noop"}
	}
	if opts.MemoryBytes == 0 {
		opts.MemoryBytes = 16 << 20
	}
	if opts.Cold == 0 {
		opts.Cold = 3
	}
	if opts.N == 0 {
		opts.N = 30
	}
	all, err := workloads.Builtin()
	if err != nil {
		return nil, fmt.Errorf("measure costs: %w", err)
	}
	sum := results.NewSummarizer()
	for _, name := range opts.Workloads {
		i := slices.IndexFunc(all, func(w *workloads.Workload) bool { return w.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("measure costs: no built-in workload %q", name)
		}
		w := all[i]
		fn, err := harness.FunctionOf(w)
		if err != nil {
			return nil, fmt.Errorf("measure costs: %w", err)
		}
		input, err := w.Input("test")
		if err != nil {
			return nil, fmt.Errorf("measure costs: %w", err)
		}
		for _, mode := range []string{"cold", ReuseRewind, ReuseReinstantiate, ReuseWarm} {
			n := opts.N
			if mode == "cold" {
				n = opts.Cold
			}
			if err := measureMode(ctx, sum, mode, w.Name, fn, input, opts.MemoryBytes, n); err != nil {
				return nil, fmt.Errorf("measure costs of %s, mode %s: %w", name, mode, err)
			}
		}
	}
	return CostsFromResults(sum.Results(), "measured at start")
}

// measureMode runs n measured invocations (after warm-up ones) of fn in mode and adds their
// records to sum.
func measureMode(ctx context.Context, sum *results.Summarizer, mode, workload string, fn enclave.Function,
	input []byte, memBytes int64, n int) error {
	s, err := harness.NewSession(mode, enclave.Config{MemoryBytes: memBytes}, fn)
	if err != nil {
		return err
	}
	defer s.Close(context.WithoutCancel(ctx))
	if err := s.Prepare(ctx); err != nil {
		return err
	}
	warm := 2
	if mode == "cold" {
		warm = 1 // the first cold start signs the measurement
	}
	for i := 0; i < warm+n; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		call, err := s.Invoke(ctx, input, nil)
		if err != nil {
			return err
		}
		if call.Err != nil {
			return call.Err
		}
		rec := results.Record{Target: "embedded", Workload: workload, Mode: mode, MemoryBytes: memBytes,
			Seq: i, Warmup: i < warm, Load: "closed", Concurrency: 1, StartNs: int64(i)}
		call.Fill(&rec, mode)
		sum.Add(&rec)
	}
	return nil
}

// Mapping maps trace functions onto workloads.
type Mapping struct {
	// Workload maps every function onto this workload when set.
	Workload string
}

// Map returns, for every function of t, the index in c.Workloads of the workload it runs:
// Mapping.Workload when set, else the workload whose execution time is nearest, on a log
// scale, to the function's mean (or median) duration in the trace — functions fall into
// duration classes around the measured workloads.
func (m Mapping) Map(t *Trace, c *Costs) ([]int, error) {
	out := make([]int, len(t.Functions))
	if m.Workload != "" {
		i := slices.IndexFunc(c.Workloads, func(w WorkloadCosts) bool { return w.Workload == m.Workload })
		if i < 0 {
			return nil, fmt.Errorf("map: no costs for workload %q (have %s)", m.Workload, c.names())
		}
		for j := range out {
			out[j] = i
		}
		return out, nil
	}
	type ex struct {
		i int
		l float64
	}
	var ws []ex
	for i, w := range c.Workloads {
		ws = append(ws, ex{i, math.Log(math.Max(w.ExecNs, 1))})
	}
	sort.Slice(ws, func(a, b int) bool { return ws[a].l < ws[b].l })
	for j := range t.Functions {
		f := &t.Functions[j]
		d := f.MeanDurationNs
		if d <= 0 && f.Duration != nil {
			d = float64(f.Duration.Median())
		}
		if d <= 0 {
			d = float64(t.Options.DefaultDuration)
		}
		l := math.Log(math.Max(d, 1))
		best := 0
		for k := range ws {
			if math.Abs(ws[k].l-l) < math.Abs(ws[best].l-l) {
				best = k
			}
		}
		out[j] = ws[best].i
	}
	return out, nil
}

func (c *Costs) names() string {
	var s []string
	for _, w := range c.Workloads {
		s = append(s, w.Workload)
	}
	return fmt.Sprint(s)
}
