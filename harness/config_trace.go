package harness

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/reclave/reclave/internal/strictyaml"
	"github.com/reclave/reclave/internal/tracespec"
	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/workloads"
)

// Experiment kinds: the kind key of an item of a config's experiments list.
const (
	// KindInvocations is the default kind: workloads × modes × load, run by [Runner.Run].
	KindInvocations = "invocations"
	// KindTrace evaluates platform policies over a trace (package trace: simulate, and
	// optionally replay on real enclaves), run by `reclave run` after the invocation
	// experiments.
	KindTrace = "trace"
)

// TraceExperiment is an item of a config's experiments list of kind trace (see [Config],
// "Trace experiments"): its options, validated and with their defaults (those of the trace
// commands' flags, internal/tracespec), paths resolved against the config file.
type TraceExperiment struct {
	// Name names the experiment and its folder, OUT/trace/<Name>.
	Name string
	// Synth is the synthetic trace to write (into OUT/trace/<Name>/synth), or Path the trace
	// to read: exactly one is set.
	Synth *tracespec.Synth
	Path  string
	// Simulate are the options of the simulation (those of `reclave trace simulate`).
	Simulate tracespec.Simulate
	// Replay is the live check on real enclaves; nil for none.
	Replay *TraceReplay

	file  string
	where string         // experiments[i]
	lines map[string]int // by path within the item (trace.policies[1])
}

// TraceReplay is a trace experiment's replay: the options of `reclave trace replay`, and the
// trace it replays: Synth or Path, or neither for the experiment's own trace.
type TraceReplay struct {
	Synth *tracespec.Synth
	Path  string
	tracespec.Replay
}

// KeyError returns the error of the experiment's key (a path within the item, such as
// trace.replay.speed_up): "config FILE:LINE: experiments[i].KEY: ...". format and args follow
// fmt.Errorf (%w wraps).
func (t *TraceExperiment) KeyError(key, format string, args ...any) error {
	at := t.file
	if line, ok := t.lines[key]; ok && line > 0 {
		at = fmt.Sprintf("%s:%d", t.file, line)
	}
	return fmt.Errorf("config %s: %s.%s: "+format, append([]any{at, t.where, key}, args...)...)
}

// traceItem is what an item of kind trace decodes into.
type traceItem struct {
	Name  string     `yaml:"name"`
	Kind  string     `yaml:"kind"`
	Trace *traceSpec `yaml:"trace"`
}

type traceSpec struct {
	Synth              *tracespec.Synth `yaml:"synth"`
	Path               string           `yaml:"path"`
	tracespec.Simulate `yaml:",inline"`
	Replay             *traceReplaySpec `yaml:"replay"`
}

type traceReplaySpec struct {
	Synth            *tracespec.Synth `yaml:"synth"`
	Path             string           `yaml:"path"`
	tracespec.Replay `yaml:",inline"`
}

// invocationKeys are the keys of an invocation experiment (Config's yaml keys).
func invocationKeys() []string {
	var keys []string
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); k != "" && k != "-" {
			keys = append(keys, k)
		}
	}
	return keys
}

// itemKind returns the kind an item of the experiments list gives (KindInvocations when it
// gives none), with its line.
func itemKind(item *yaml.Node) (kind string, line int) {
	for j := 0; j+1 < len(item.Content); j += 2 {
		if item.Content[j].Value == "kind" {
			return item.Content[j+1].Value, item.Content[j].Line
		}
	}
	return KindInvocations, item.Line
}

// hasKey reports whether the mapping n gives key.
func hasKey(n *yaml.Node, key string) bool { return mappingValue(n, key) != nil }

// mappingValue returns the value of key in the mapping n, nil when n is no mapping or lacks
// it.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for j := 0; j+1 < len(n.Content); j += 2 {
		if n.Content[j].Value == key {
			return n.Content[j+1]
		}
	}
	return nil
}

// parseTraceExperiment parses the item experiments[index] of kind trace. Only its own keys
// count (name, kind, trace): the document's keys above are not merged into it, and the keys
// of an invocation experiment are errors.
func parseTraceExperiment(item *yaml.Node, index int, file string) (*TraceExperiment, error) {
	t := &TraceExperiment{file: file, where: fmt.Sprintf("experiments[%d]", index), lines: map[string]int{}}
	keys := strictyaml.Keys(item)
	for _, k := range keys {
		t.lines[k.Path] = k.Line
	}
	inv := invocationKeys()
	for j := 0; j+1 < len(item.Content); j += 2 {
		switch k := item.Content[j].Value; {
		case k == "name" || k == "kind" || k == "trace":
		case slices.Contains(inv, k):
			return nil, t.KeyError(k, "a key of invocation experiments: a trace experiment takes name, kind and trace only")
		}
	}
	if err := checkGivenKeys(keys, t.KeyError); err != nil {
		return nil, err
	}
	spec := mappingValue(item, "trace")
	if spec == nil {
		return nil, t.KeyError("trace", "missing: a trace experiment needs a trace mapping (synth or path, and options)")
	}
	what := fmt.Sprintf("config %s: %s", file, t.where)
	// Decoded over the defaults of the trace commands' flags: once for the experiment's own
	// options, and again with the replay's defaults taken from them (a replay maps and
	// measures as the simulation does unless it says otherwise).
	decode := func(replay *traceReplaySpec) (*traceItem, error) {
		it := &traceItem{Trace: &traceSpec{Simulate: tracespec.DefaultSimulate(), Replay: replay}}
		if hasKey(spec, "synth") {
			it.Trace.Synth = ptr(tracespec.DefaultSynth())
		}
		if err := strictyaml.DecodeNode(item, what, it); err != nil {
			return nil, err
		}
		return it, nil
	}
	it, err := decode(&traceReplaySpec{Replay: tracespec.DefaultReplay()})
	if err != nil {
		return nil, err
	}
	s := it.Trace
	if rnode := mappingValue(spec, "replay"); rnode != nil {
		r := &traceReplaySpec{Replay: tracespec.DefaultReplay()}
		sel := &r.Replay.Select
		sel.KeepAlive, sel.Arrivals, sel.Seed = s.KeepAlive, s.Arrivals, s.Seed
		sel.Workload, sel.Measure = s.Workload, slices.Clone(s.Measure)
		if hasKey(rnode, "synth") {
			r.Synth = ptr(tracespec.DefaultSynth())
		}
		if it, err = decode(r); err != nil {
			return nil, err
		}
		s = it.Trace
	} else {
		s.Replay = nil
	}
	t.Name, t.Synth, t.Path, t.Simulate = it.Name, s.Synth, s.Path, s.Simulate
	if err := t.validateTrace("trace.", s.Synth, s.Path, true); err != nil {
		return nil, err
	}
	if err := s.Simulate.Validate(); err != nil {
		return nil, t.specError("trace.", err)
	}
	if err := t.checkWorkloads("trace.", &s.Simulate.Select, s.Costs); err != nil {
		return nil, err
	}
	t.Path = t.resolve(t.Path)
	t.Simulate.Costs = t.resolve(t.Simulate.Costs)
	if r := s.Replay; r != nil {
		if err := t.validateTrace("trace.replay.", r.Synth, r.Path, false); err != nil {
			return nil, err
		}
		if err := r.Replay.Validate(); err != nil {
			return nil, t.specError("trace.replay.", err)
		}
		if err := t.checkWorkloads("trace.replay.", &r.Replay.Select, ""); err != nil {
			return nil, err
		}
		t.Replay = &TraceReplay{Synth: r.Synth, Path: t.resolve(r.Path), Replay: r.Replay}
	}
	return t, nil
}

// validateTrace checks the trace of prefix (trace. or trace.replay.): exactly one of synth
// and path, or (optional) neither.
func (t *TraceExperiment) validateTrace(prefix string, synth *tracespec.Synth, path string, required bool) error {
	switch {
	case synth != nil && path != "":
		return t.KeyError(prefix+"path", "give synth or path, not both")
	case synth == nil && path == "" && required:
		return t.KeyError(strings.TrimSuffix(prefix, "."), "give the trace: synth (a synthetic trace) or path (a downloaded one, relative to the config file)")
	case synth != nil:
		if err := synth.Validate(); err != nil {
			return t.specError(prefix+"synth.", err)
		}
	}
	return nil
}

// checkWorkloads checks the workloads measured and mapped onto: built in, and a workload the
// functions are mapped onto among those measured (unless the costs are a run's).
func (t *TraceExperiment) checkWorkloads(prefix string, s *tracespec.Select, costs string) error {
	all, err := workloads.Builtin()
	if err != nil {
		return fmt.Errorf("config %s: built-in workloads: %w", t.file, err)
	}
	for i, name := range s.Measure {
		if !slices.ContainsFunc(all, func(w *workloads.Workload) bool { return w.Name == name }) {
			return t.KeyError(fmt.Sprintf("%smeasure[%d]", prefix, i), "%q: not a built-in workload", name)
		}
	}
	if s.Workload != "" && costs == "" && !slices.Contains(s.Measure, s.Workload) {
		return t.KeyError(prefix+"workload", "%q: not measured (measure: %v)", s.Workload, s.Measure)
	}
	return nil
}

// specError turns a tracespec.KeyError into the experiment's key error under prefix.
func (t *TraceExperiment) specError(prefix string, err error) error {
	var ke *tracespec.KeyError
	if errors.As(err, &ke) {
		return t.KeyError(prefix+ke.Key, "%w", ke.Err)
	}
	return fmt.Errorf("config %s: %s: %w", t.file, t.where, err)
}

// resolve makes a path relative to the config file's folder ("" stays "").
func (t *TraceExperiment) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(t.file), p)
}

// CheckTracePaths checks that the traces and cost folders the trace experiments read exist:
// `reclave run` calls it before it runs anything. (Loading a config does not: a config may
// name a trace still to be downloaded, as configs/trace.yaml does.)
func (c *Config) CheckTracePaths() error {
	for _, t := range c.traces {
		check := func(key, path, what string) error {
			if path == "" {
				return nil
			}
			if _, err := os.Stat(path); err != nil {
				return t.KeyError(key, "%s: %w", what, err)
			}
			return nil
		}
		if err := check("trace.path", t.Path, "the trace (download it: configs/trace.yaml says how)"); err != nil {
			return err
		}
		if t.Simulate.Costs != "" {
			if err := check("trace.costs", filepath.Join(t.Simulate.Costs, results.SummaryFile), "the costs"); err != nil {
				return err
			}
		}
		if t.Replay != nil {
			if err := check("trace.replay.path", t.Replay.Path, "the trace (download it: configs/trace.yaml says how)"); err != nil {
				return err
			}
		}
	}
	return nil
}
