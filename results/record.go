package results

// SchemaVersion is the version of the record and summary schemas written by this package.
// It is bumped only on purpose, with the documentation in doc.go and a migration in the
// readers (see [DecodeRecords] and [ReadSummary]).
//
// Version 2 added the load model (target, load, concurrency, worker, repetition,
// intended_start_ns, dropped), the per-invocation breakdown (exec_ns, provider_ns, init_ns,
// wait_ns), output validation (valid) and the enclave parameters compartments, attestation
// and compile_cache. Version 1 records are read with the values version 1 runs had (see
// [Record.Migrate]).
//
// Version 3 is shared by the changes made together with it; doc.go lists what it adds
// ("What version 3 adds"), and a change that belongs to version 3 appends itself there.
// Version 2 records are read unchanged; version 1 and 2 summaries are migrated by
// [Summary.Migrate].
const SchemaVersion = 3

// Record is one invocation, as one line of records.jsonl. Every duration is in nanoseconds,
// every size in bytes, as the field names say. See doc.go for the meaning of each field.
type Record struct {
	SchemaVersion int    `json:"schema_version"`
	Target        string `json:"target"`
	Experiment    string `json:"experiment,omitempty"`
	Workload      string `json:"workload"`
	// Mix names the mix of workloads the invocation was drawn from (version 3: a config's
	// mix), "W1:weight,W2:weight"; Workload is the function that ran. Empty otherwise.
	Mix      string `json:"mix,omitempty"`
	Mode     string `json:"mode"`
	Strategy string `json:"strategy,omitempty"`
	// StrategyConfigured is the strategy the config named (version 3); Strategy is the one the
	// invocation ran under, which differs for auto. Absent in older records: Strategy then.
	StrategyConfigured string `json:"strategy_configured,omitempty"`
	SnapshotPoint      string `json:"snapshot_point,omitempty"`
	Size               string `json:"size"`
	MemoryBytes        int64  `json:"memory_bytes"`
	Compartments       bool   `json:"compartments"`
	Attestation        string `json:"attestation"`
	CompileCache       bool   `json:"compile_cache"`
	// CompileCacheHit is, for an invocation of a generic enclave (mode generic, version 3),
	// whether its phase load found the module compiled in the enclave's cache; nil otherwise.
	CompileCacheHit *bool `json:"compile_cache_hit,omitempty"`

	Load        string `json:"load"`
	Concurrency int    `json:"concurrency"`
	Worker      int    `json:"worker"`
	Repetition  int    `json:"repetition"`
	Round       int    `json:"round"`
	Seq         int    `json:"seq"`
	Warmup      bool   `json:"warmup"`

	IntendedStartNs int64            `json:"intended_start_ns"`
	StartNs         int64            `json:"start_ns"`
	LatencyNs       int64            `json:"latency_ns"`
	ResponseNs      int64            `json:"response_ns"`
	RewindNs        int64            `json:"rewind_ns"`
	ExecNs          int64            `json:"exec_ns"`
	ProviderNs      int64            `json:"provider_ns,omitempty"`
	InitNs          int64            `json:"init_ns,omitempty"`
	WaitNs          int64            `json:"wait_ns,omitempty"`
	PhasesNs        map[string]int64 `json:"phases_ns"`
	Dropped         bool             `json:"dropped,omitempty"`

	Reset         string `json:"reset"`
	StrategyNote  string `json:"strategy_note,omitempty"`
	EnclaveID     string `json:"enclave_id"`
	Epoch         uint64 `json:"epoch"`
	MemoryPages   uint32 `json:"memory_pages"`
	PagesRestored int    `json:"pages_restored"`
	BytesRestored int64  `json:"bytes_restored"`
	// HostCalls and ResetHostCalls are version 3's host-call accounts: nil (absent) when
	// not known; see [HostCalls].
	HostCalls      HostCalls `json:"host_calls,omitzero"`
	ResetHostCalls HostCalls `json:"reset_host_calls,omitempty"`

	InputBytes   int    `json:"input_bytes"`
	OutputBytes  int    `json:"output_bytes"`
	OutputSHA256 string `json:"output_sha256,omitempty"`
	Valid        *bool  `json:"valid,omitempty"`
	Invalid      string `json:"invalid,omitempty"`

	Error     string `json:"error,omitempty"`
	ErrorKind string `json:"error_kind,omitempty"`

	// Policy, Decision, Queued and TraceFunction are version 3's trace replay fields
	// (`reclave trace replay`): absent in every other record.
	Policy        string `json:"policy,omitempty"`
	Decision      string `json:"decision,omitempty"`
	Queued        bool   `json:"queued,omitempty"`
	TraceFunction string `json:"trace_function,omitempty"`
}

// Key identifies the configuration a record belongs to; the summary has one [Result] per key.
// Records of different repetitions, workers and sequence numbers share a key.
type Key struct {
	Target        string `json:"target"`
	Experiment    string `json:"experiment,omitempty"`
	Workload      string `json:"workload"`
	Mix           string `json:"mix,omitempty"`
	Mode          string `json:"mode"`
	Strategy      string `json:"strategy,omitempty"`
	SnapshotPoint string `json:"snapshot_point,omitempty"`
	Size          string `json:"size"`
	MemoryBytes   int64  `json:"memory_bytes"`
	Compartments  bool   `json:"compartments"`
	Attestation   string `json:"attestation"`
	CompileCache  bool   `json:"compile_cache"`
	Load          string `json:"load"`
	Concurrency   int    `json:"concurrency"`
}

// Key returns the configuration the record belongs to.
func (r *Record) Key() Key {
	return Key{
		Target: r.Target, Experiment: r.Experiment, Workload: r.Workload, Mix: r.Mix, Mode: r.Mode, Strategy: r.ConfiguredStrategy(),
		SnapshotPoint: r.SnapshotPoint, Size: r.Size, MemoryBytes: r.MemoryBytes,
		Compartments: r.Compartments, Attestation: r.Attestation, CompileCache: r.CompileCache,
		Load: r.Load, Concurrency: r.Concurrency,
	}
}

// ConfiguredStrategy is the strategy the configuration named: StrategyConfigured, or for a
// record without it (before version 3, or not of mode rewind) Strategy. A configuration's
// [Key] carries it, so that the invocations of one configuration under strategy auto — some
// under diff, some under tracked — are summarised together.
func (r *Record) ConfiguredStrategy() string {
	if r.StrategyConfigured != "" {
		return r.StrategyConfigured
	}
	return r.Strategy
}

// EndNs is the record's end on the run's clock: StartNs + LatencyNs, or, for an arrival of
// the open and burst models whose latency counts from when it was due, IntendedStartNs +
// LatencyNs. (A record without intended_start_ns, such as one built by hand, ends at
// StartNs + LatencyNs.)
func (r *Record) EndNs() int64 {
	if r.IntendedStartNs > 0 && r.IntendedStartNs < r.StartNs {
		return r.IntendedStartNs + r.LatencyNs
	}
	return r.StartNs + r.LatencyNs
}

// Migrate brings a record decoded from an older schema version to the current one, filling in
// what the older version's runs did: version 1 runs were sequential (load closed, concurrency
// 1, one worker, one repetition) on the embedded target, started every invocation as soon as
// the previous one ended (intended_start_ns = start_ns), had the import allow-list but no L0
// protection (compartments false), compiled every cold start (compile_cache false) and did
// not validate outputs (valid absent). Records written before rounds (any version, round
// absent) get round = repetition: their configuration's repetitions ran back to back, the
// r-th being the r-th round of that configuration. Other fields of records of the current
// version are left unchanged.
func (r *Record) Migrate() {
	if r.Round == 0 {
		r.Round = r.Repetition
	}
	if r.SchemaVersion >= 2 {
		return
	}
	r.Target = "embedded"
	r.Load = "closed"
	r.Concurrency = 1
	r.IntendedStartNs = r.StartNs
	if r.Attestation == "" {
		r.Attestation = "unknown"
	}
	r.SchemaVersion = SchemaVersion
}
