package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/internal/strictyaml"
	"github.com/reclave/reclave/workloads"
)

// ConfigSchemaVersion is the version of the experiment config schema this build reads.
const ConfigSchemaVersion = 1

// Modes are the invocation modes, in the order runs and reports use.
var Modes = []string{"cold", "warm", "reinstantiate", "rewind"}

// Config is an experiment configuration (configs/*.yaml), parsed strictly: an unknown key or
// a bad value is an error naming the key. The schema, version 1:
//
//	schema_version: 1          # required
//	name: default              # required: names the run in reports
//	description: text          # optional
//	workloads: [json-stats]    # optional: workload names; default every workload found
//	workloads_dir: path        # optional: a folder of workload folders, relative to the config
//	                           # file; default the workloads built into reclave
//	modes: [cold, rewind]      # optional: default cold, warm, reinstantiate, rewind
//	size: small                # optional: input size test | small | large; default small
//	iterations: 100            # optional: measured invocations per (workload, mode); default 100
//	warmup: 5                  # optional: invocations before measuring, excluded; default 5
//	mode_iterations:           # optional: per-mode override of iterations (cold is slow)
//	  cold: 20
//	enclave:
//	  memory_mib: 64           # optional: enclave memory in MiB besides the runtime image
//	                           # (stack, module, heap); default 64
//	  measure_runtime: true    # optional: load and measure reclave's own executable as the
//	                           # enclave's runtime image, as an EGo enclave measures its binary
//	                           # (adds its size to the enclave); default true
//	  strategy: tracked        # optional: rewind strategy full | diff | cow | tracked; default tracked
//	  snapshot_point: function # optional: function (after the function's init) | runtime
//	                           # (before the module is instantiated); default function
//	  signer_key: path         # optional: the enclave signer's private key (PEM, RSA-3072,
//	                           # exponent 3), relative to the config file; default reclave's
//	                           # committed TEST key
//	  attestation: outer       # optional: none | outer (each enclave gets outer evidence from
//	                           # a simulated platform, phase quote of every cold start) | inner
//	                           # (outer, and every invocation an inner report, phase attest);
//	                           # default outer
type Config struct {
	SchemaVersion  int            `yaml:"schema_version"`
	Name           string         `yaml:"name"`
	Description    string         `yaml:"description"`
	Workloads      []string       `yaml:"workloads"`
	WorkloadsDir   string         `yaml:"workloads_dir"`
	Modes          []string       `yaml:"modes"`
	Size           string         `yaml:"size"`
	Iterations     *int           `yaml:"iterations"`
	Warmup         *int           `yaml:"warmup"`
	ModeIterations map[string]int `yaml:"mode_iterations"`
	Enclave        EnclaveConfig  `yaml:"enclave"`

	// File is the path the config was read from; Raw its bytes (copied into the run's folder
	// and hashed into the summary).
	File string `yaml:"-"`
	Raw  []byte `yaml:"-"`
}

// EnclaveConfig configures the enclaves of a run.
type EnclaveConfig struct {
	MemoryMiB      int    `yaml:"memory_mib"`
	MeasureRuntime *bool  `yaml:"measure_runtime"`
	Strategy       string `yaml:"strategy"`
	SnapshotPoint  string `yaml:"snapshot_point"`
	SignerKey      string `yaml:"signer_key"`
	Attestation    string `yaml:"attestation"`
}

// LoadConfig reads and validates a config file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := ParseConfig(b, path)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ParseConfig parses and validates a config; file names it in errors and anchors
// workloads_dir.
func ParseConfig(b []byte, file string) (*Config, error) {
	c := &Config{File: file, Raw: b}
	if err := strictyaml.Decode(b, "config "+file, c); err != nil {
		return nil, err
	}
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("config %s: %s: %s", file, key, fmt.Sprintf(format, args...))
	}
	if c.SchemaVersion != ConfigSchemaVersion {
		return nil, bad("schema_version", "%d: this build reads version %d", c.SchemaVersion, ConfigSchemaVersion)
	}
	if c.Name == "" {
		return nil, bad("name", "missing")
	}
	if len(c.Modes) == 0 {
		c.Modes = slices.Clone(Modes)
	}
	for i, m := range c.Modes {
		if !slices.Contains(Modes, m) {
			return nil, bad(fmt.Sprintf("modes[%d]", i), "%q: want one of %v", m, Modes)
		}
		if slices.Index(c.Modes, m) != i {
			return nil, bad(fmt.Sprintf("modes[%d]", i), "%q listed twice", m)
		}
	}
	if c.Size == "" {
		c.Size = "small"
	}
	if !slices.Contains(workloads.Sizes, c.Size) {
		return nil, bad("size", "%q: want one of %v", c.Size, workloads.Sizes)
	}
	if c.Iterations == nil {
		c.Iterations = ptr(100)
	}
	if *c.Iterations < 1 {
		return nil, bad("iterations", "%d: must be at least 1", *c.Iterations)
	}
	if c.Warmup == nil {
		c.Warmup = ptr(5)
	}
	if *c.Warmup < 0 {
		return nil, bad("warmup", "%d: must not be negative", *c.Warmup)
	}
	for m, n := range c.ModeIterations {
		if !slices.Contains(Modes, m) {
			return nil, bad("mode_iterations."+m, "unknown mode: want one of %v", Modes)
		}
		if n < 1 {
			return nil, bad("mode_iterations."+m, "%d: must be at least 1", n)
		}
	}
	if c.Enclave.MemoryMiB == 0 {
		c.Enclave.MemoryMiB = 64
	}
	if c.Enclave.MemoryMiB < 2 || c.Enclave.MemoryMiB > 16384 {
		return nil, bad("enclave.memory_mib", "%d: want 2 to 16384", c.Enclave.MemoryMiB)
	}
	if c.Enclave.Strategy == "" {
		c.Enclave.Strategy = string(enclave.StrategyTracked)
	}
	if !slices.Contains(enclave.Strategies(), enclave.Strategy(c.Enclave.Strategy)) {
		return nil, bad("enclave.strategy", "%q: want one of %v", c.Enclave.Strategy, enclave.Strategies())
	}
	if c.Enclave.SnapshotPoint == "" {
		c.Enclave.SnapshotPoint = string(enclave.PointFunction)
	}
	if p := enclave.SnapshotPoint(c.Enclave.SnapshotPoint); p != enclave.PointFunction && p != enclave.PointRuntime {
		return nil, bad("enclave.snapshot_point", "%q: want function or runtime", c.Enclave.SnapshotPoint)
	}
	if c.Enclave.MeasureRuntime == nil {
		c.Enclave.MeasureRuntime = ptr(true)
	}
	if c.Enclave.Attestation == "" {
		c.Enclave.Attestation = "outer"
	}
	if !slices.Contains([]string{"none", "outer", "inner"}, c.Enclave.Attestation) {
		return nil, bad("enclave.attestation", "%q: want none, outer or inner", c.Enclave.Attestation)
	}
	if c.Enclave.SignerKey != "" && !filepath.IsAbs(c.Enclave.SignerKey) {
		c.Enclave.SignerKey = filepath.Join(filepath.Dir(file), c.Enclave.SignerKey)
	}
	if c.WorkloadsDir != "" && !filepath.IsAbs(c.WorkloadsDir) {
		c.WorkloadsDir = filepath.Join(filepath.Dir(file), c.WorkloadsDir)
	}
	return c, nil
}

// IterationsFor returns the number of measured invocations of a mode.
func (c *Config) IterationsFor(mode string) int {
	if n, ok := c.ModeIterations[mode]; ok {
		return n
	}
	return *c.Iterations
}

// LoadWorkloads returns the workloads the config names, in its order (all of them, sorted by
// name, when it names none).
func (c *Config) LoadWorkloads() ([]*workloads.Workload, error) {
	var all []*workloads.Workload
	var err error
	if c.WorkloadsDir != "" {
		all, err = workloads.Load(os.DirFS(c.WorkloadsDir))
	} else {
		all, err = workloads.Builtin()
	}
	if err != nil {
		return nil, err
	}
	if len(c.Workloads) == 0 {
		if len(all) == 0 {
			return nil, fmt.Errorf("config %s: no workloads found", c.File)
		}
		return all, nil
	}
	var out []*workloads.Workload
	for i, name := range c.Workloads {
		j := slices.IndexFunc(all, func(w *workloads.Workload) bool { return w.Name == name })
		if j < 0 {
			var names []string
			for _, w := range all {
				names = append(names, w.Name)
			}
			return nil, fmt.Errorf("config %s: workloads[%d]: no workload %q (found %v)", c.File, i, name, names)
		}
		if _, err := all[j].Input(c.Size); err != nil {
			return nil, fmt.Errorf("config %s: workloads[%d]: %w", c.File, i, err)
		}
		out = append(out, all[j])
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }
