package harness

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/internal/strictyaml"
	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/workloads"
)

// ConfigSchemaVersion is the version of the experiment config schema this build reads.
const ConfigSchemaVersion = 1

// Modes are the invocation modes, in the order runs and reports use.
var Modes = []string{"cold", "warm", "reinstantiate", "rewind"}

// Targets a run can drive.
const (
	// TargetEmbedded is reclave's enclave runtime in the driver's process.
	TargetEmbedded = "embedded"
	// TargetProcess runs every enclave in a reclave-enclave process the driver starts (under
	// EGo: `ego run reclave-enclave`, one real enclave launch per cold start) and invokes it
	// over loopback HTTP with OpenWhisk's action proxy protocol.
	TargetProcess = "process"
	// TargetOpenWhisk drives an OpenWhisk deployment: every workload is an action of a
	// blackbox image running reclave serve; the platform decides cold or warm.
	TargetOpenWhisk = "openwhisk"
)

// Targets are the targets a config may name.
var Targets = []string{TargetEmbedded, TargetProcess, TargetOpenWhisk}

// Config is an experiment configuration (configs/*.yaml), parsed strictly: an unknown key or
// a bad value is an error naming the key. The schema, version 1:
//
//	schema_version: 1          # required
//	name: default              # required: names the run in reports
//	description: text          # optional
//	workloads: [json-stats]    # optional: workload names (at least one); default every workload found
//	workloads_dir: path        # optional: an existing folder of workload folders, relative to the config
//	                           # file; default the workloads built into reclave
//	modes: [cold, rewind]      # optional (at least one): default cold, warm, reinstantiate, rewind;
//	                           # generic (target embedded only, never a default) serves each
//	                           # worker's invocations from one generic enclave (measured without
//	                           # any function, rewound to its runtime snapshot after every
//	                           # invocation, loading whatever function comes next: records
//	                           # phases load, instantiate, fn_init, invoke, rewind and
//	                           # compile_cache_hit). Each worker's generic enclave compiles every
//	                           # function it serves once before the warm-up, as the other modes'
//	                           # enclaves compile theirs at creation
//	mix:                       # optional, target embedded only: draw every invocation from
//	  - {workload: json-stats, weight: 3}  # these workloads (instead of workloads:, which it
//	  - {workload: matmul, weight: 1}      # replaces), each with probability weight / Σ weights
//	                           # (weight a whole number ≥ 1, default 1; each workload once). The
//	                           # experiment's configurations are then one per mode (× compartment
//	                           # settings × concurrency levels) for the whole mix, not one per
//	                           # workload: in mode generic each worker's one generic enclave
//	                           # serves whatever the mix draws; in the other modes each worker
//	                           # keeps one enclave per workload (rewind: one per function per
//	                           # worker, the per-function pool). Records name the function that
//	                           # ran (workload) and the mix ("json-stats:3,matmul:1"); a dropped
//	                           # arrival names the mix as its workload
//	mix_seed: 1                # optional, with mix: seed of the draws; each worker draws its own
//	                           # sequence (PCG seeded with mix_seed, the round and the worker), so
//	                           # every mode of a round sees the same functions in the same order
//	                           # per worker; default 1
//	size: small                # optional: input size test | small | large; default small
//	iterations: 100            # optional: measured invocations per (workload, mode); default 100;
//	                           # as many as the machine's disk holds the records of (Limits)
//	warmup: 5                  # optional: invocations before measuring, excluded; default 5
//	mode_iterations:           # optional: per-mode override of iterations (cold is slow)
//	  cold: 20
//	repetitions: 1             # optional: run each group this many times (each with its own
//	                           # enclaves and warm-up); default 1; bounded like iterations.
//	                           # summary.json's paired ratios get a 95% CI from 3 on
//	order: round-robin         # optional: how an experiment's configurations (workloads × modes
//	                           # × compartment settings × concurrency levels) share the run:
//	                           # round-robin (in rounds, a round being one repetition of every
//	                           # configuration, in this order) | random (in rounds, each round
//	                           # shuffled, seed 1) | random:SEED (the same with another seed) |
//	                           # sequential (each configuration's repetitions back to back, one
//	                           # configuration after another: a burst of noise then lands on
//	                           # one of them); default round-robin
//	target: embedded           # optional: embedded (reclave's runtime in this process) |
//	                           # process (every enclave in a reclave-enclave process, invoked
//	                           # over loopback HTTP; mode cold starts one per invocation);
//	                           # default embedded
//	openwhisk:                 # target openwhisk only (the deployment: ~/.wskprops, __OW_*):
//	  image: docker.io/you/reclave-serve  # required: the blackbox image running reclave serve
//	  action_prefix: reclave-  # optional: action name = prefix + workload; default reclave-
//	  memory_mb: 256           # optional: the actions' memory limit
//	  timeout: 60s             # optional: the actions' time limit
//	                           # With target openwhisk, modes is not given: the platform decides
//	                           # cold or warm and every record says which
//	process:                   # target process only:
//	  command: [ego, run, bin/reclave-enclave]  # the enclave's command, reclave-enclave's
//	                           # flags appended; default the runtime image (enclave.runtime_image)
//	load:                      # optional: how invocations are issued; default closed, [1]
//	  model: closed            # closed: each worker starts its next invocation when its last one
//	                           #   ended; open: arrivals on a schedule, issued whether or not
//	                           #   earlier ones finished; burst: groups of arrivals at once
//	  concurrency: [1, 2]      # closed: workers; open, burst: the most invocations in flight
//	                           # (an arrival finding all busy is dropped and counted). Each value
//	                           # is its own group; each worker (slot) has its own enclave
//	  duration: 10s            # closed only, optional: run each group's measured phase this long
//	                           # instead of for `iterations` invocations
//	  rate: 200                # open: arrivals per second (required)
//	  arrivals: constant       # open: constant | poisson (exponential gaps); default constant
//	  seed: 1                  # open poisson: seed of the arrival times; default 1
//	  burst_size: 8            # burst: arrivals per burst (required)
//	  burst_interval: 100ms    # burst: time from one burst to the next (required)
//	                           # open and burst: `iterations` is the number of arrivals measured
//	enclave:
//	  memory_mib: 64           # optional: enclave memory in MiB besides the runtime image
//	                           # (stack, module, heap); default 64
//	  measure_runtime: true    # optional: load and measure the runtime image as the enclave's
//	                           # code, as an EGo enclave measures its binary (adds its size to
//	                           # the enclave); default true
//	  runtime_image: ../bin/reclave-enclave  # optional: the runtime image, a build of
//	                           # cmd/reclave-enclave (what runs inside an enclave), relative to
//	                           # the config file: cold starts measure it (unless
//	                           # measure_runtime: false), target process starts it; default
//	                           # reclave-enclave beside the running reclave (./run.sh builds
//	                           # bin/reclave-enclave beside bin/reclave). Run-wide: experiments
//	                           # cannot set it
//	  strategy: auto           # optional: rewind strategy auto | full | diff | cow | tracked; default
//	                           # auto: the enclave measures diff and tracked on the function's own
//	                           # invocations and keeps the cheaper (records: strategy is what ran,
//	                           # strategy_configured this key)
//	  snapshot_point: function # optional: function (after the function's init) | runtime
//	                           # (before the module is instantiated) | warmed (after the init
//	                           # and warmup_invocations invocations with the manifest's public
//	                           # warmup_input: lazily initialised runtime state, such as Go's
//	                           # first-call costs, is then clean state; reactors with a
//	                           # warmup_input only); default function. Mode rewind only: the
//	                           # other modes' enclaves take no snapshot and run no warm-up
//	  warmup_invocations: 3    # optional: the warm-up invocations of snapshot_point warmed;
//	                           # default 3
//	  signer_key: path         # optional: the enclave signer's private key (PEM, RSA-3072,
//	                           # exponent 3), relative to the config file; default reclave's
//	                           # committed TEST key
//	  attestation: outer       # optional: none | outer (each enclave gets outer evidence from
//	                           # a simulated platform, phase quote of every cold start) | inner
//	                           # (outer, and every invocation an inner report, phase attest);
//	                           # default outer
//	  quoter: simulated        # optional: who quotes the outer evidence: simulated (a simulated
//	                           # platform, its root in the run folder) | ego (the SGX platform
//	                           # through EGo: a reclave built with -tags ego, run under ego run;
//	                           # with target process, passed to reclave-enclave); default simulated
//	  compartments: on         # optional: on (L0 protection and the import allow-list) | off |
//	                           # both (every group twice, off then on: the overhead figure);
//	                           # per-function caps and deadlines are always on; default on
//	  compile_cache: false     # optional: cold starts reuse compiled code, as an ahead-of-time
//	                           # compiled module would (true), or compile every time (false);
//	                           # default false. The other modes always reuse it
//	expected_errors: [dropped] # optional: what the experiment produces by design and reclave
//	                           # run (exit 3) and reclave compare (exit 1) do not count as
//	                           # failures: error kinds (trap, deadline, canceled, exit, function,
//	                           # output_limit, host_call_limit, internal: a record's error_kind)
//	                           # and dropped
//	                           # (arrivals of the open and burst models not issued); default
//	                           # none: every failure counts
//	records: full              # optional: what the run writes of its records: full
//	                           # (records.jsonl) | gzip (records.jsonl.gz, the same lines
//	                           # compressed: for soaks) | none (no records; summary.json and
//	                           # resources.jsonl are written all the same); default full. A
//	                           # run-wide key: experiments cannot set it
//	trace_host_calls: false    # optional: write host_calls.jsonl, one line per host call of the
//	                           # enclaves (target embedded only): function, bytes, duration, errno
//	                           # (results/doc.go). Host calls are counted in the records either
//	                           # way; tracing adds two clock reads per call. Default false
//	exit_cost:                 # optional: the cost per enclave exit of report.md's "estimated
//	                           # enclave-exit cost on SGX hardware" (host calls × this; an
//	                           # estimate, never mixed into measured latencies). Run-wide
//	  cycles: 8200             # cycles per exit; default 8200, the low end of 8,200–17,000
//	                           # cycles per SGX SDK ECALL/OCALL measured by Weisse et al.,
//	                           # "Regaining Lost Cycles with HotCalls", ISCA 2017
//	  ghz: 3                   # the clock that turns cycles into time; default 3
//	experiments:               # optional: several experiments in one run, one after another,
//	  - name: headline         # into the same records and summary. Each item needs a name
//	  - name: throughput       # (recorded as the records' experiment) and overrides any of the
//	    modes: [warm, rewind]  # keys above but schema_version: mappings (enclave, load) key by
//	    load: {concurrency: [1, 2, 4]}  # key, everything else replaced. Without experiments
//	                           # the config is one experiment with no name
//	    kind: invocations      # optional: the kind of the experiment: invocations (the default:
//	                           # workloads × modes × load, everything above) | trace (below)
//
// Trace experiments. An item of experiments with kind: trace evaluates platform policies
// (keep-alive, pre-warming) with enclave reuse over a serverless trace (package trace,
// trace/doc.go). It takes name, kind and trace only: a key of the invocation experiments in it
// is an error naming the key, and the keys of the document above are not merged into it
// (they are ignored for it). `reclave run` runs the trace experiments after the invocation
// ones ([Runner.Run] runs those only), each into RUN/trace/<name>/: synth/ (the synthetic
// trace), simulate/ (summary.json) and replay/ (records.jsonl, summary.json) — the files of
// `reclave trace synth`, `simulate` and `replay`, whose flags these keys mirror (capacity_mib
// is --capacity-mib) with the same defaults (internal/tracespec). A config of trace
// experiments only runs no invocation: reclave run then writes an empty records.jsonl and a
// summary.json with the environment and no results, beside the trace folders. Names of
// policies, reuse techniques, arrivals and workloads are checked when the config is loaded;
// the traces and cost folders the experiments read, when reclave run starts
// ([Config.CheckTracePaths]): both before anything runs.
//
//	experiments:
//	  - name: policies
//	    kind: trace
//	    trace:
//	      synth: {functions: 200, days: 1, seed: 1}  # a synthetic trace (defaults 1000, 1, 1), or
//	      path: traces/azure2019  # a trace file or folder (Azure 2019 or 2021, Huawei), relative
//	                           # to the config file: exactly one of synth and path
//	      policies: [none, keepalive]  # optional: default every policy: none, keepalive,
//	                           # hybrid-histogram, greedy-dual, predictive
//	      reuse: [rewind]      # optional: rewind | generic | reinstantiate | warm (insecure);
//	                           # default [rewind]; policy none runs once, with reuse none
//	      nodes: 1             # optional: nodes of the simulated cluster; default 1
//	      capacity_mib: 0      # optional: enclave memory per node, MiB; default 0 (unbounded)
//	      costs: ../out/costs  # optional: a run folder whose summary.json gives the costs
//	                           # (relative to the config file); default: measured at start
//	      measure: [noop]      # optional: without costs, the built-in workloads measured at
//	                           # start (16 MiB enclaves); default [noop]
//	      workload: noop       # optional: map every function onto this (measured) workload;
//	                           # default: by duration, the nearest measured workload
//	      trace_memory: false  # optional: size enclaves by the trace's memory; default false
//	      keepalive: 10m       # optional: TTL of policy keepalive (negative: forever); default 10m
//	      arrivals: poisson    # optional: arrivals within a minute: uniform | poisson | even;
//	                           # default poisson
//	      seed: 1              # optional: seed of arrivals, durations, random selection; default 1
//	      top: 0               # optional: keep the N functions with the most invocations
//	      random: 0            # optional: keep N functions drawn at random (seeded)
//	      from: 0s             # optional: the window of the trace; to 0 is the trace's end
//	      to: 0s
//	      replay:              # optional: the live check on real enclaves (reclave trace replay)
//	        synth: {functions: 20}  # optional: its own trace, synth or path; default the
//	                           # experiment's
//	        policy: keepalive  # optional: default keepalive
//	        reuse: rewind      # optional: rewind | reinstantiate | warm; default rewind
//	        speed_up: 60       # optional: divides arrival times and durations; default 60
//	        capacity_mib: 1024 # optional: enclave memory the replay may hold; default 1024
//	        to: 10m            # optional: the window replayed (trace time); default 0 to 10m
//	        max_invocations: 200000  # optional: refuse a larger slice (0: no limit)
//	        top: 4             # and from, random: as above, defaults 0. keepalive, arrivals,
//	                           # seed, workload and measure: default the experiment's
//
// Limits. An integer key takes a whole number that fits an int (3.5, 1e3, "3" and
// 99999999999999999999 are errors naming the key and its line). A key given empty (no value,
// ~, [] or {}) is an error: leave it out for its default (workloads: every workload; modes:
// every mode). workloads_dir must be an existing folder. Besides enclave.memory_mib (2 to
// 16384) and load.concurrency (1 to 1024) no key has a fixed maximum; instead reclave run
// refuses, before it creates anything, a plan that cannot fit the machine, judged from an
// estimate ([Config.Estimate], [Config.CheckResources]):
//   - disk: the records, against the space free on the file system of the output folder.
//     Records = Σ over workloads × modes × compartment settings × concurrency levels of
//     repetitions × (iterations of the mode + warmup × concurrency); with load.duration, as
//     many as min(concurrency, CPUs) workers can make at 10⁶ a second (cold: one per
//     measurement of memory_bytes at 2 GB/s). Each is the JSON line of a record with every
//     field filled at its widest (its phases, output hash, enclave identifier, a reactor's
//     host calls: 700 to 1000 bytes); a quarter of that with records: gzip, nothing with
//     records: none.
//   - memory: what the run holds at once, against MemAvailable: the largest group's enclaves,
//     concurrency × (memory_mib + the runtime image when measured + a snapshot of up to
//     memory_mib in modes cold and rewind), plus the plan (an entry, about 128 bytes, per
//     repetition of each configuration) and the runtime image read once.
//
// The error names the key that weighs most (repetitions, iterations, mode_iterations.M,
// warmup, load.duration, load.concurrency or enclave.memory_mib), with its line. Outside Linux
// neither the free disk nor the available memory is read, and nothing is refused for them.
type Config struct {
	SchemaVersion  int            `yaml:"schema_version"`
	Name           string         `yaml:"name"`
	Description    string         `yaml:"description"`
	Workloads      []string       `yaml:"workloads"`
	Mix            []MixItem      `yaml:"mix"`
	MixSeed        uint64         `yaml:"mix_seed"`
	WorkloadsDir   string         `yaml:"workloads_dir"`
	Modes          []string       `yaml:"modes"`
	Size           string         `yaml:"size"`
	Iterations     *int           `yaml:"iterations"`
	Warmup         *int           `yaml:"warmup"`
	ModeIterations map[string]int `yaml:"mode_iterations"`
	Repetitions    int            `yaml:"repetitions"`
	Order          string         `yaml:"order"`
	Target         string         `yaml:"target"`
	Load           LoadSpec       `yaml:"load"`
	Process        ProcessSpec    `yaml:"process"`
	OpenWhisk      OpenWhiskSpec  `yaml:"openwhisk"`
	Enclave        EnclaveConfig  `yaml:"enclave"`
	Experiments    []yaml.Node    `yaml:"experiments"`
	Kind           string         `yaml:"kind"`
	Records        string         `yaml:"records"`
	TraceHostCalls bool           `yaml:"trace_host_calls"`
	ExitCost       ExitCostSpec   `yaml:"exit_cost"`
	ExpectedErrors []string       `yaml:"expected_errors"`

	// Experiment names the experiment this config is, for a config made from an item of
	// another's experiments list; empty otherwise.
	Experiment string `yaml:"-"`
	// runs are the configs of the invocation experiments, base keys merged with each
	// item's; traces the trace experiments.
	runs   []*Config
	traces []*TraceExperiment
	// lines are the lines of the keys the file gives, by path (enclave.memory_mib,
	// modes[1]): errors name them. An experiment's are those of its merged document.
	lines map[string]int

	// File is the path the config was read from; Raw its bytes (copied into the run's folder
	// and hashed into the summary).
	File string `yaml:"-"`
	Raw  []byte `yaml:"-"`
}

// EnclaveConfig configures the enclaves of a run.
type EnclaveConfig struct {
	MemoryMiB      int    `yaml:"memory_mib"`
	MeasureRuntime *bool  `yaml:"measure_runtime"`
	RuntimeImage   string `yaml:"runtime_image"`
	Strategy       string `yaml:"strategy"`
	SnapshotPoint  string `yaml:"snapshot_point"`
	// WarmupInvocations is the number of warm-up invocations of snapshot point warmed.
	WarmupInvocations int    `yaml:"warmup_invocations"`
	SignerKey         string `yaml:"signer_key"`
	Attestation       string `yaml:"attestation"`
	Quoter            string `yaml:"quoter"`
	Compartments      string `yaml:"compartments"`
	CompileCache      bool   `yaml:"compile_cache"`
}

// LoadSpec says how a run issues invocations: the load model and its parameters.
type LoadSpec struct {
	Model         string        `yaml:"model"`
	Concurrency   []int         `yaml:"concurrency"`
	Duration      time.Duration `yaml:"duration"`
	Rate          float64       `yaml:"rate"`
	Arrivals      string        `yaml:"arrivals"`
	Seed          uint64        `yaml:"seed"`
	BurstSize     int           `yaml:"burst_size"`
	BurstInterval time.Duration `yaml:"burst_interval"`
}

// ExitCostSpec is a config's exit_cost: the per-exit cost of report.md's estimate
// ([results.ExitCost]). Zero fields take the defaults.
type ExitCostSpec struct {
	Cycles float64 `yaml:"cycles"`
	GHz    float64 `yaml:"ghz"`
}

// ProcessSpec configures target process.
type ProcessSpec struct {
	// Command starts an enclave process: reclave-enclave's flags (those of reclave serve)
	// are appended. Default: the runtime image, [Config.RuntimeImagePath]. Under EGo:
	// [ego, run, path/to/signed/reclave-enclave].
	Command []string `yaml:"command"`
}

// OpenWhiskSpec configures target openwhisk. The deployment is the one ~/.wskprops (or
// WSK_CONFIG_FILE) and the __OW_API_HOST, __OW_API_KEY, __OW_NAMESPACE variables name.
type OpenWhiskSpec struct {
	// Image is the blackbox image running reclave serve (see the Dockerfile). Required.
	Image string `yaml:"image"`
	// ActionPrefix prefixes the workload's name to name its action. Default "reclave-".
	ActionPrefix string `yaml:"action_prefix"`
	// MemoryMB and Timeout are the action's limits; zero leaves the platform's defaults.
	MemoryMB int           `yaml:"memory_mb"`
	Timeout  time.Duration `yaml:"timeout"`
}

// ExpectableErrors are what a config's expected_errors may name: the error kinds of records
// (enclave.ErrorKind) and "dropped", an arrival of the open or burst model that was not issued.
var ExpectableErrors = []string{
	string(enclave.KindTrap), string(enclave.KindDeadline), string(enclave.KindCanceled),
	string(enclave.KindExit), string(enclave.KindFunction), string(enclave.KindOutputLimit),
	string(enclave.KindHostCallLimit), string(enclave.KindInternal), "dropped", // results.Dropped
}

// Load models.
const (
	LoadClosed = "closed"
	LoadOpen   = "open"
	LoadBurst  = "burst"
)

// CompartmentSettings returns the compartment settings the run's groups use, in order: [false]
// for off, [true] for on, [false, true] for both.
func (c *Config) CompartmentSettings() []bool {
	switch c.Enclave.Compartments {
	case "off":
		return []bool{false}
	case "both":
		return []bool{false, true}
	}
	return []bool{true}
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
	root, err := strictyaml.Parse(b, "config "+file)
	if err != nil {
		return nil, err
	}
	return parseConfig(root, b, file)
}

// parseConfig decodes and validates the config whose document is root (the file's, or an
// experiment's merged from the file's nodes: either way the nodes carry the file's lines).
func parseConfig(root *yaml.Node, b []byte, file string) (*Config, error) {
	c := &Config{File: file, Raw: b}
	if err := strictyaml.DecodeNode(root, "config "+file, c); err != nil {
		return nil, err
	}
	c.lines = make(map[string]int)
	for _, k := range strictyaml.Keys(root) {
		c.lines[k.Path] = k.Line
	}
	bad := c.keyError
	if err := c.checkGiven(root); err != nil {
		return nil, err
	}
	if c.SchemaVersion != ConfigSchemaVersion {
		return nil, bad("schema_version", "%d: this build reads version %d", c.SchemaVersion, ConfigSchemaVersion)
	}
	if c.Name == "" {
		return nil, bad("name", "missing")
	}
	switch c.Kind {
	case "":
		c.Kind = KindInvocations
	case KindInvocations:
	case KindTrace:
		return nil, bad("kind", "a trace experiment is an item of experiments (with its name and trace keys)")
	default:
		return nil, bad("kind", "%q: want %s or %s", c.Kind, KindInvocations, KindTrace)
	}
	if c.Target == TargetOpenWhisk {
		if len(c.Modes) > 0 {
			return nil, bad("modes", "target openwhisk: the platform decides whether an activation is cold or warm; leave modes out")
		}
		if c.OpenWhisk.Image == "" {
			return nil, bad("openwhisk.image", "target openwhisk needs the blackbox image running reclave serve")
		}
		if c.OpenWhisk.ActionPrefix == "" {
			c.OpenWhisk.ActionPrefix = "reclave-"
		}
		if c.OpenWhisk.MemoryMB < 0 {
			return nil, bad("openwhisk.memory_mb", "%d: must not be negative", c.OpenWhisk.MemoryMB)
		}
		if c.OpenWhisk.Timeout < 0 {
			return nil, bad("openwhisk.timeout", "%v: must not be negative", c.OpenWhisk.Timeout)
		}
		if c.Enclave.Attestation == "inner" {
			return nil, bad("enclave.attestation", "target openwhisk does not ask for inner reports: want none or outer")
		}
	} else if c.OpenWhisk != (OpenWhiskSpec{}) {
		return nil, bad("openwhisk", "only target openwhisk uses it")
	}
	if len(c.Modes) == 0 {
		c.Modes = slices.Clone(Modes)
	}
	for i, m := range c.Modes {
		if !validMode(m) {
			return nil, bad(fmt.Sprintf("modes[%d]", i), "%q: want one of %v", m, append(slices.Clone(Modes), ModeGeneric))
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
		if !validMode(m) {
			return nil, bad("mode_iterations."+m, "unknown mode: want one of %v", append(slices.Clone(Modes), ModeGeneric))
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
		c.Enclave.Strategy = string(enclave.DefaultStrategy)
	}
	if !slices.Contains(enclave.Strategies(), enclave.Strategy(c.Enclave.Strategy)) {
		return nil, bad("enclave.strategy", "%q: want one of %v", c.Enclave.Strategy, enclave.Strategies())
	}
	if c.Enclave.SnapshotPoint == "" {
		c.Enclave.SnapshotPoint = string(enclave.PointFunction)
	}
	if p := enclave.SnapshotPoint(c.Enclave.SnapshotPoint); p != enclave.PointFunction && p != enclave.PointRuntime && p != enclave.PointWarmed {
		return nil, bad("enclave.snapshot_point", "%q: want function, runtime or warmed", c.Enclave.SnapshotPoint)
	}
	if c.Enclave.WarmupInvocations == 0 {
		c.Enclave.WarmupInvocations = enclave.DefaultWarmupInvocations
	}
	if c.Enclave.WarmupInvocations < 0 || c.Enclave.WarmupInvocations > 1000 {
		return nil, bad("enclave.warmup_invocations", "%d: want 1 to 1000", c.Enclave.WarmupInvocations)
	}
	if c.Enclave.MeasureRuntime == nil {
		c.Enclave.MeasureRuntime = ptr(true)
	}
	if c.Enclave.Attestation == "" {
		c.Enclave.Attestation = "outer"
	}
	if c.Enclave.Quoter == "" {
		c.Enclave.Quoter = "simulated"
	}
	if c.Enclave.Quoter != "simulated" && c.Enclave.Quoter != "ego" {
		return nil, bad("enclave.quoter", "%q: want simulated or ego", c.Enclave.Quoter)
	}
	if !slices.Contains([]string{"none", "outer", "inner"}, c.Enclave.Attestation) {
		return nil, bad("enclave.attestation", "%q: want none, outer or inner", c.Enclave.Attestation)
	}
	if c.Enclave.Compartments == "" {
		c.Enclave.Compartments = "on"
	}
	if !slices.Contains([]string{"on", "off", "both"}, c.Enclave.Compartments) {
		return nil, bad("enclave.compartments", "%q: want on, off or both", c.Enclave.Compartments)
	}
	if c.Repetitions == 0 {
		c.Repetitions = 1
	}
	if c.Repetitions < 1 {
		return nil, bad("repetitions", "%d: must be at least 1", c.Repetitions)
	}
	if c.Order == "" {
		c.Order = OrderRoundRobin
	}
	if _, _, err := parseOrder(c.Order); err != nil {
		return nil, bad("order", "%w", err)
	}
	if c.Records == "" {
		c.Records = RecordsFull
	}
	if !slices.Contains(RecordsModes, c.Records) {
		return nil, bad("records", "%q: want one of %v", c.Records, RecordsModes)
	}
	if c.ExitCost.Cycles == 0 {
		c.ExitCost.Cycles = results.DefaultExitCostCycles
	}
	if c.ExitCost.GHz == 0 {
		c.ExitCost.GHz = results.DefaultExitCostGHz
	}
	for _, v := range []struct {
		key string
		x   float64
	}{{"exit_cost.cycles", c.ExitCost.Cycles}, {"exit_cost.ghz", c.ExitCost.GHz}} {
		if !results.ValidExitCost(v.x) {
			return nil, bad(v.key, "%v: want a positive number", v.x)
		}
	}
	if c.Target == "" {
		c.Target = "embedded"
	}
	if !slices.Contains(Targets, c.Target) {
		return nil, bad("target", "%q: want one of %v", c.Target, Targets)
	}
	if c.TraceHostCalls && c.Target != TargetEmbedded {
		return nil, bad("trace_host_calls", "target %s: host calls are counted and traced in the driver's own enclaves (target embedded) only", c.Target)
	}
	if len(c.Process.Command) > 0 && c.Target != TargetProcess {
		return nil, bad("process.command", "only target process starts processes")
	}
	if c.Target == TargetProcess {
		// reclave serve always attests its enclaves (outer evidence at /init) and keeps its
		// compartments on.
		switch {
		case c.Enclave.Attestation == "none":
			return nil, bad("enclave.attestation", "target process: reclave serve always attests its enclaves: want outer or inner")
		case c.Enclave.Compartments != "on":
			return nil, bad("enclave.compartments", "target process: reclave serve keeps its compartments on")
		}
	}
	if err := c.Load.validate(bad); err != nil {
		return nil, err
	}
	if err := c.validateMix(bad); err != nil {
		return nil, err
	}
	for i, kind := range c.ExpectedErrors {
		if !slices.Contains(ExpectableErrors, kind) {
			return nil, bad(fmt.Sprintf("expected_errors[%d]", i), "%q: want one of %v", kind, ExpectableErrors)
		}
		if slices.Index(c.ExpectedErrors, kind) != i {
			return nil, bad(fmt.Sprintf("expected_errors[%d]", i), "%q listed twice", kind)
		}
	}
	if err := c.parseExperiments(root, file); err != nil {
		return nil, err
	}
	if c.Target == TargetOpenWhisk {
		c.Modes = []string{ModePlatform}
	}
	if c.Enclave.SignerKey != "" && !filepath.IsAbs(c.Enclave.SignerKey) {
		c.Enclave.SignerKey = filepath.Join(filepath.Dir(file), c.Enclave.SignerKey)
	}
	if c.Enclave.RuntimeImage != "" && !filepath.IsAbs(c.Enclave.RuntimeImage) {
		c.Enclave.RuntimeImage = filepath.Join(filepath.Dir(file), c.Enclave.RuntimeImage)
	}
	for _, r := range c.runs {
		if r.Enclave.RuntimeImage != c.Enclave.RuntimeImage {
			return nil, fmt.Errorf("config %s: experiment %s: enclave.runtime_image: an experiment cannot set it (a run measures one image): set it at the top level", r.fileAt("enclave.runtime_image"), r.Experiment)
		}
	}
	if c.WorkloadsDir != "" && !filepath.IsAbs(c.WorkloadsDir) {
		c.WorkloadsDir = filepath.Join(filepath.Dir(file), c.WorkloadsDir)
	}
	if c.WorkloadsDir != "" {
		if st, err := os.Stat(c.WorkloadsDir); err != nil {
			return nil, bad("workloads_dir", "folder %s: %w", c.WorkloadsDir, err)
		} else if !st.IsDir() {
			return nil, bad("workloads_dir", "%s is not a folder", c.WorkloadsDir)
		}
	}
	return c, nil
}

// keyError returns the error of the config's key (a path such as enclave.memory_mib or
// modes[1]): "config FILE:LINE: KEY: ...", the line the file gives the key on (without it
// when the file leaves the key out: its value is the default). format and args follow
// fmt.Errorf (%w wraps).
func (c *Config) keyError(key, format string, args ...any) error {
	return fmt.Errorf("config %s: %s: "+format, append([]any{c.fileAt(key), key}, args...)...)
}

// fileAt is the config's file with the line of key, "FILE:LINE", or the file alone when the
// file does not give the key.
func (c *Config) fileAt(key string) string {
	if line, ok := c.lines[key]; ok && line > 0 {
		return fmt.Sprintf("%s:%d", c.File, line)
	}
	return c.File
}

// checkGiven refuses a key given without a value: empty, ~ or null, an empty list [] or an
// empty mapping {}. Left out, a key has its default (every workload, every mode, ...); given
// empty, it would silently mean the same, which is rarely what was meant.
func (c *Config) checkGiven(root *yaml.Node) error {
	var keys []strictyaml.Key
	for _, k := range strictyaml.Keys(root) {
		if !strings.HasPrefix(k.Path, "experiments[") {
			keys = append(keys, k) // an experiment's are checked with its own document
		}
	}
	return checkGivenKeys(keys, c.keyError)
}

// checkGivenKeys is [Config.checkGiven] over keys; keyError makes the error of a key.
func checkGivenKeys(keys []strictyaml.Key, keyError func(key, format string, args ...any) error) error {
	for _, k := range keys {
		v := k.Value
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		switch {
		case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null":
			return keyError(k.Path, "no value: give one, or leave the key out for its default")
		case v.Kind == yaml.SequenceNode && len(v.Content) == 0:
			what, ok := emptyListDefaults[k.Path]
			if !ok {
				what = "its default"
			}
			return keyError(k.Path, "an empty list: name at least one item, or leave the key out for %s", what)
		case v.Kind == yaml.MappingNode && len(v.Content) == 0:
			return keyError(k.Path, "an empty mapping: give at least one key, or leave the key out for its defaults")
		}
	}
	return nil
}

// emptyListDefaults says what leaving out each list key means, for the error of an empty one.
var emptyListDefaults = map[string]string{
	"workloads":        "every workload",
	"modes":            "every mode " + fmt.Sprint(Modes),
	"load.concurrency": "one worker [1]",
	"process.command":  "the runtime image (enclave.runtime_image)",
	"experiments":      "one experiment, the document itself",
	"trace.policies":   "every policy",
	"trace.reuse":      "rewind",
	"trace.measure":    "noop",
}

func (l *LoadSpec) validate(bad func(key, format string, args ...any) error) error {
	if l.Model == "" {
		l.Model = LoadClosed
	}
	if len(l.Concurrency) == 0 {
		l.Concurrency = []int{1}
	}
	for i, n := range l.Concurrency {
		if n < 1 || n > 1024 {
			return bad(fmt.Sprintf("load.concurrency[%d]", i), "%d: want 1 to 1024", n)
		}
		if slices.Index(l.Concurrency, n) != i {
			return bad(fmt.Sprintf("load.concurrency[%d]", i), "%d listed twice", n)
		}
	}
	if l.Duration < 0 {
		return bad("load.duration", "%v: must not be negative", l.Duration)
	}
	open, burst := l.Model == LoadOpen, l.Model == LoadBurst
	switch {
	case !slices.Contains([]string{LoadClosed, LoadOpen, LoadBurst}, l.Model):
		return bad("load.model", "%q: want closed, open or burst", l.Model)
	case l.Duration != 0 && l.Model != LoadClosed:
		return bad("load.duration", "only the closed model runs for a duration (open and burst run `iterations` arrivals)")
	case open && !(l.Rate > 0 && l.Rate <= 1e6):
		return bad("load.rate", "%v: the open model needs a rate in arrivals per second, above 0 and at most 1e6", l.Rate)
	case !open && l.Rate != 0:
		return bad("load.rate", "only the open model has a rate")
	case !open && (l.Arrivals != "" || l.Seed != 0):
		return bad("load.arrivals", "arrivals and seed belong to the open model")
	case burst && (l.BurstSize < 1 || l.BurstInterval <= 0):
		return bad("load.burst_size", "the burst model needs burst_size ≥ 1 and burst_interval > 0 (got %d, %v)", l.BurstSize, l.BurstInterval)
	case !burst && (l.BurstSize != 0 || l.BurstInterval != 0):
		return bad("load.burst_size", "burst_size and burst_interval belong to the burst model")
	}
	if open {
		if l.Arrivals == "" {
			l.Arrivals = "constant"
		}
		if l.Arrivals != "constant" && l.Arrivals != "poisson" {
			return bad("load.arrivals", "%q: want constant or poisson", l.Arrivals)
		}
		if l.Seed == 0 {
			l.Seed = 1
		}
	}
	return nil
}

// Runs returns the invocation experiments the config runs, in order: the configs of the
// items of its experiments list of kind invocations (none when every item is of kind trace),
// or the config itself when it has no experiments list.
func (c *Config) Runs() []*Config {
	if len(c.Experiments) == 0 {
		return []*Config{c}
	}
	return c.runs
}

// TraceExperiments returns the experiments of kind trace of the config, in order.
func (c *Config) TraceExperiments() []*TraceExperiment { return c.traces }

// parseExperiments makes a config of each item of the experiments list: the document's keys
// (root) with the item's merged over them (mappings key by key, anything else replaced),
// parsed and validated like a config of its own. The merged document is made of the file's
// nodes, so its errors give the file's lines: the item's key's, or the document's where the
// item does not set the key.
func (c *Config) parseExperiments(root *yaml.Node, file string) error {
	if len(c.Experiments) == 0 {
		return nil
	}
	base := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i].Value; k != "experiments" && k != "name" && k != "description" {
			base.Content = append(base.Content, root.Content[i], root.Content[i+1])
		}
	}
	for i := range c.Experiments {
		item := &c.Experiments[i]
		where := fmt.Sprintf("experiments[%d]", i)
		if item.Kind != yaml.MappingNode {
			return fmt.Errorf("config %s: %s (line %d): want a mapping with a name", file, where, item.Line)
		}
		name := ""
		kind, kindLine := itemKind(item)
		for j := 0; j+1 < len(item.Content); j += 2 {
			switch k := item.Content[j].Value; k {
			case "name":
				name = item.Content[j+1].Value
			case "schema_version", "experiments", "records", "exit_cost":
				return fmt.Errorf("config %s: %s.%s (line %d): an experiment cannot set %s", file, where, k, item.Content[j].Line, k)
			case "trace":
				if kind != KindTrace {
					return fmt.Errorf("config %s: %s.trace (line %d): only an experiment of kind trace takes it (add kind: trace)", file, where, item.Content[j].Line)
				}
			}
		}
		if !experimentName.MatchString(name) {
			return fmt.Errorf("config %s: %s.name (line %d): %q: want lower-case letters, digits and '-'", file, where, item.Line, name)
		}
		if slices.ContainsFunc(c.runs, func(r *Config) bool { return r.Experiment == name }) ||
			slices.ContainsFunc(c.traces, func(t *TraceExperiment) bool { return t.Name == name }) {
			return fmt.Errorf("config %s: %s.name (line %d): experiment %q listed twice", file, where, item.Line, name)
		}
		switch kind {
		case KindTrace:
			t, err := parseTraceExperiment(item, i, file)
			if err != nil {
				return err
			}
			c.traces = append(c.traces, t)
			continue
		case KindInvocations:
		default:
			return fmt.Errorf("config %s: %s.kind (line %d): %q: want %s (the default) or %s", file, where, kindLine, kind, KindInvocations, KindTrace)
		}
		sub, err := parseConfig(mergeNodes(base, item), c.Raw, file)
		if err != nil {
			// The keys named are the merged document's; the lines are the file's.
			return fmt.Errorf("%s: in %s (%s, merged with the keys above): %w", file, where, name, err)
		}
		sub.Experiment, sub.Name, sub.Description = name, c.Name, c.Description
		sub.Raw = c.Raw
		c.runs = append(c.runs, sub)
	}
	return nil
}

var experimentName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// mergeNodes returns base with over's keys merged in: a key whose values are both mappings is
// merged recursively; any other value of over replaces base's.
func mergeNodes(base, over *yaml.Node) *yaml.Node {
	out := &yaml.Node{Kind: yaml.MappingNode, Content: slices.Clone(base.Content)}
	for i := 0; i+1 < len(over.Content); i += 2 {
		k, v := over.Content[i], over.Content[i+1]
		j := slices.IndexFunc(out.Content, func(n *yaml.Node) bool { return n.Value == k.Value })
		for j >= 0 && j%2 == 1 { // a value equal to the key's name: look further among keys
			next := slices.IndexFunc(out.Content[j+1:], func(n *yaml.Node) bool { return n.Value == k.Value })
			if next < 0 {
				j = -1
				break
			}
			j += 1 + next
		}
		switch {
		case j < 0:
			out.Content = append(out.Content, k, v)
		case out.Content[j+1].Kind == yaml.MappingNode && v.Kind == yaml.MappingNode:
			out.Content[j+1] = mergeNodes(out.Content[j+1], v)
		default:
			out.Content[j+1] = v
		}
	}
	return out
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
		all, err = workloads.LoadDir(c.WorkloadsDir)
		// A broken manifest blocks only a run that needs it: one naming every workload, or
		// the workload named after its folder.
		var skipped *workloads.SkippedError
		if errors.As(err, &skipped) && len(c.Workloads) > 0 {
			for i, name := range c.Workloads {
				if e := skipped.Find(name); e != nil {
					return nil, c.keyError(fmt.Sprintf("workloads[%d]", i), "%s: %w", name, e)
				}
			}
			err = nil
		}
		if err != nil {
			return nil, c.keyError("workloads_dir", "folder %s: %w", c.WorkloadsDir, err)
		}
	} else if all, err = workloads.Builtin(); err != nil {
		return nil, fmt.Errorf("config %s: built-in workloads: %w", c.File, err)
	}
	if len(c.Workloads) == 0 {
		if len(all) == 0 {
			if c.WorkloadsDir != "" {
				return nil, c.keyError("workloads_dir", "no workloads found in folder %s", c.WorkloadsDir)
			}
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
			return nil, c.keyError(fmt.Sprintf("workloads[%d]", i), "no workload %q (found %v)", name, names)
		}
		if _, err := all[j].Input(c.Size); err != nil {
			return nil, c.keyError(fmt.Sprintf("workloads[%d]", i), "%w", err)
		}
		out = append(out, all[j])
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }
