// Package tracespec holds the options of the trace commands — `reclave trace synth`,
// `simulate` and `replay` — and of a config's trace experiment (harness.Config, kind trace):
// their names, their defaults and their validation, in one place that both package harness
// (which parses configs) and package trace (which runs them, and imports harness) can import.
// The CLI's flags take their defaults from [DefaultSynth], [DefaultSimulate] and
// [DefaultReplay]; a config's trace experiment is decoded over the same defaults.
//
// The names of the policies, reuse techniques and arrival patterns live here too (package
// trace re-exports them): a config naming an unknown one is refused when it is loaded.
package tracespec

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Policy names (package trace implements each; see trace/doc.go).
const (
	PolicyNone       = "none"
	PolicyKeepAlive  = "keepalive"
	PolicyHistogram  = "hybrid-histogram"
	PolicyGreedyDual = "greedy-dual"
	PolicyPredictive = "predictive"
)

// Policies are the policies, in the order reported.
var Policies = []string{PolicyNone, PolicyKeepAlive, PolicyHistogram, PolicyGreedyDual, PolicyPredictive}

// Reuse techniques.
const (
	// ReuseRewind keeps an enclave per function and rewinds it after every invocation.
	ReuseRewind = "rewind"
	// ReuseGeneric keeps a shared pool of generic runtime enclaves (simulated only).
	ReuseGeneric = "generic"
	// ReuseReinstantiate keeps the enclave and re-creates the Wasm instance.
	ReuseReinstantiate = "reinstantiate"
	// ReuseWarm reuses without reset: insecure, for reference only.
	ReuseWarm = "warm"
	// ReuseNone is policy none's: a fresh enclave per invocation.
	ReuseNone = "none"
)

// Techniques are the reuse techniques, in the order reported.
var Techniques = []string{ReuseRewind, ReuseGeneric, ReuseReinstantiate, ReuseWarm}

// ReplayTechniques are the reuse techniques a replay drives on real enclaves (generic is
// simulated only).
var ReplayTechniques = []string{ReuseRewind, ReuseReinstantiate, ReuseWarm}

// Arrival patterns within a minute of a per-minute trace (trace.Arrivals).
const (
	ArrivalsUniform = "uniform"
	ArrivalsPoisson = "poisson"
	ArrivalsEven    = "even"
)

// ArrivalPatterns are the arrival patterns.
var ArrivalPatterns = []string{ArrivalsUniform, ArrivalsPoisson, ArrivalsEven}

// Synth are the options of `reclave trace synth` (and of a trace experiment's synth key).
type Synth struct {
	Functions int    `yaml:"functions"`
	Days      int    `yaml:"days"`
	Seed      uint64 `yaml:"seed"`
}

// DefaultSynth are the defaults of [Synth]: 1000 functions, 1 day, seed 1.
func DefaultSynth() Synth { return Synth{Functions: 1000, Days: 1, Seed: 1} }

// Select are the options shared by simulate and replay: how a trace's arrivals are spread
// and cut, how its functions are mapped onto workloads and which workloads' costs are
// measured.
type Select struct {
	// KeepAlive is the TTL of policy keepalive, in the trace's time; negative: forever.
	KeepAlive time.Duration `yaml:"keepalive"`
	// Arrivals spreads a minute's invocations: uniform, poisson or even.
	Arrivals string `yaml:"arrivals"`
	// Seed seeds arrivals, durations and random selection.
	Seed uint64 `yaml:"seed"`
	// Top keeps the functions with the most invocations, Random functions drawn at random
	// (0: all).
	Top    int `yaml:"top"`
	Random int `yaml:"random"`
	// From and To cut a window of the trace (To 0: the trace's end).
	From time.Duration `yaml:"from"`
	To   time.Duration `yaml:"to"`
	// Workload maps every function onto one workload ("" : by duration).
	Workload string `yaml:"workload"`
	// Measure are the built-in workloads whose costs are measured at start.
	Measure []string `yaml:"measure"`
}

// Simulate are the options of `reclave trace simulate` (and of a trace experiment).
type Simulate struct {
	// Policies and Reuse: every policy with every reuse technique (policy none once).
	Policies []string `yaml:"policies"`
	Reuse    []string `yaml:"reuse"`
	// Nodes of the cluster and the enclave memory of each (0: unbounded).
	Nodes       int   `yaml:"nodes"`
	CapacityMiB int64 `yaml:"capacity_mib"`
	// Costs is a run folder whose summary.json gives the costs ("": measure them).
	Costs string `yaml:"costs"`
	// TraceMemory sizes enclaves by the trace's memory when larger than the measured one.
	TraceMemory bool `yaml:"trace_memory"`
	Select      `yaml:",inline"`
}

// DefaultSimulate are the defaults of [Simulate]: every policy, reuse rewind, one node of
// unbounded capacity, keepalive 10 minutes, Poisson arrivals, seed 1, the whole trace,
// costs of noop measured at start.
func DefaultSimulate() Simulate {
	return Simulate{Policies: slices.Clone(Policies), Reuse: []string{ReuseRewind}, Nodes: 1,
		Select: Select{KeepAlive: 10 * time.Minute, Arrivals: ArrivalsPoisson, Seed: 1, Measure: []string{"noop"}}}
}

// Replay are the options of `reclave trace replay` (and of a trace experiment's replay key).
type Replay struct {
	Policy string `yaml:"policy"`
	Reuse  string `yaml:"reuse"`
	// SpeedUp divides the trace's arrival times and durations.
	SpeedUp float64 `yaml:"speed_up"`
	// CapacityMiB is the enclave memory the replay may hold (0: unbounded).
	CapacityMiB int64 `yaml:"capacity_mib"`
	// MaxInvocations refuses a larger slice (0: no limit).
	MaxInvocations int64 `yaml:"max_invocations"`
	Select         `yaml:",inline"`
}

// DefaultReplay are the defaults of [Replay]: keepalive with rewind, sped up 60×, the first
// 10 minutes of the trace, 1 GiB of enclaves, at most 200,000 invocations.
func DefaultReplay() Replay {
	return Replay{Policy: PolicyKeepAlive, Reuse: ReuseRewind, SpeedUp: 60, CapacityMiB: 1024, MaxInvocations: 200000,
		Select: Select{KeepAlive: 10 * time.Minute, Arrivals: ArrivalsPoisson, Seed: 1, To: 10 * time.Minute,
			Measure: []string{"noop"}}}
}

// KeyError is an invalid option: Key names it as a config key (speed_up, policies[1]).
type KeyError struct {
	Key string
	Err error
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Err.Error() }

func (e *KeyError) Unwrap() error { return e.Err }

func bad(key, format string, args ...any) error {
	return &KeyError{Key: key, Err: fmt.Errorf(format, args...)}
}

// Validate checks s: a *KeyError naming the first bad option.
func (s *Synth) Validate() error {
	switch {
	case s.Functions <= 0:
		return bad("functions", "%d: must be positive", s.Functions)
	case s.Days <= 0:
		return bad("days", "%d: must be positive", s.Days)
	}
	return nil
}

func (s *Select) validate() error {
	switch {
	case !slices.Contains(ArrivalPatterns, s.Arrivals):
		return bad("arrivals", "%q: want one of %s", s.Arrivals, strings.Join(ArrivalPatterns, ", "))
	case s.Top < 0:
		return bad("top", "%d: must not be negative", s.Top)
	case s.Random < 0:
		return bad("random", "%d: must not be negative", s.Random)
	case s.From < 0:
		return bad("from", "%v: must not be negative", s.From)
	case s.To < 0:
		return bad("to", "%v: must not be negative", s.To)
	case s.To != 0 && s.To <= s.From:
		return bad("to", "%v: must be after from (%v)", s.To, s.From)
	case len(s.Measure) == 0:
		return bad("measure", "name at least one workload")
	}
	return nil
}

// checkList checks the list of key: at least one item (what), each one of valid, none twice.
func checkList(key, what string, list, valid []string) error {
	if len(list) == 0 {
		return bad(key, "name at least one %s", what)
	}
	for i, x := range list {
		if !slices.Contains(valid, x) {
			return bad(fmt.Sprintf("%s[%d]", key, i), "%q: want one of %s", x, strings.Join(valid, ", "))
		}
		if slices.Index(list, x) != i {
			return bad(fmt.Sprintf("%s[%d]", key, i), "%q listed twice", x)
		}
	}
	return nil
}

// Validate checks s: a *KeyError naming the first bad option.
func (s *Simulate) Validate() error {
	if err := checkList("policies", "policy", s.Policies, Policies); err != nil {
		return err
	}
	if err := checkList("reuse", "reuse technique", s.Reuse, Techniques); err != nil {
		return err
	}
	switch {
	case s.Nodes < 1:
		return bad("nodes", "%d: want at least 1", s.Nodes)
	case s.CapacityMiB < 0:
		return bad("capacity_mib", "%d: must not be negative (0: unbounded)", s.CapacityMiB)
	}
	return s.Select.validate()
}

// Validate checks r: a *KeyError naming the first bad option.
func (r *Replay) Validate() error {
	switch {
	case !slices.Contains(Policies, r.Policy):
		return bad("policy", "%q: want one of %s", r.Policy, strings.Join(Policies, ", "))
	case r.Policy != PolicyNone && !slices.Contains(ReplayTechniques, r.Reuse):
		return bad("reuse", "%q: want one of %s (generic is simulated only)", r.Reuse, strings.Join(ReplayTechniques, ", "))
	case !(r.SpeedUp > 0):
		return bad("speed_up", "%v: must be positive", r.SpeedUp)
	case r.CapacityMiB < 0:
		return bad("capacity_mib", "%d: must not be negative (0: unbounded)", r.CapacityMiB)
	case r.MaxInvocations < 0:
		return bad("max_invocations", "%d: must not be negative (0: no limit)", r.MaxInvocations)
	case r.To <= r.From:
		return bad("to", "%v: a replay needs the end of its window, after from (%v)", r.To, r.From)
	}
	return r.Select.validate()
}
