package results

// SchemaVersion is the version of the record and summary schemas written by this package.
// It is bumped only on purpose, with the documentation in doc.go and a migration in the
// readers (see [DecodeRecords] and [ReadSummary]).
const SchemaVersion = 1

// Record is one invocation, as one line of records.jsonl. Every duration is in nanoseconds,
// every size in bytes, as the field names say. See doc.go for the meaning of each field.
type Record struct {
	SchemaVersion int    `json:"schema_version"`
	Workload      string `json:"workload"`
	Mode          string `json:"mode"`
	Strategy      string `json:"strategy,omitempty"`
	SnapshotPoint string `json:"snapshot_point,omitempty"`
	Size          string `json:"size"`
	MemoryBytes   int64  `json:"memory_bytes"`
	Seq           int    `json:"seq"`
	Warmup        bool   `json:"warmup"`

	StartNs    int64            `json:"start_ns"`
	LatencyNs  int64            `json:"latency_ns"`
	ResponseNs int64            `json:"response_ns"`
	RewindNs   int64            `json:"rewind_ns"`
	PhasesNs   map[string]int64 `json:"phases_ns"`

	Reset         string `json:"reset"`
	EnclaveID     string `json:"enclave_id"`
	Epoch         uint64 `json:"epoch"`
	MemoryPages   uint32 `json:"memory_pages"`
	PagesRestored int    `json:"pages_restored"`
	BytesRestored int64  `json:"bytes_restored"`

	InputBytes   int    `json:"input_bytes"`
	OutputBytes  int    `json:"output_bytes"`
	OutputSHA256 string `json:"output_sha256,omitempty"`

	Error     string `json:"error,omitempty"`
	ErrorKind string `json:"error_kind,omitempty"`
}

// Key identifies the configuration a record belongs to; the summary has one [Result] per key.
type Key struct {
	Workload      string `json:"workload"`
	Mode          string `json:"mode"`
	Strategy      string `json:"strategy,omitempty"`
	SnapshotPoint string `json:"snapshot_point,omitempty"`
	Size          string `json:"size"`
	MemoryBytes   int64  `json:"memory_bytes"`
}

// Key returns the configuration the record belongs to.
func (r *Record) Key() Key {
	return Key{Workload: r.Workload, Mode: r.Mode, Strategy: r.Strategy, SnapshotPoint: r.SnapshotPoint, Size: r.Size, MemoryBytes: r.MemoryBytes}
}

// EndNs is the record's end on the run's clock: StartNs + LatencyNs.
func (r *Record) EndNs() int64 { return r.StartNs + r.LatencyNs }
