package trace

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/reclave/reclave/results"
)

// Kind is the value of the summary's kind field: what wrote the summary.json.
const Kind = "trace-simulation"

// Summary is the summary.json of `reclave trace simulate` (see the package doc, "Output",
// for every field). Its fields do not collide with those of a run's results.Summary, so that
// a reader of either can tell them apart by kind and policies.
type Summary struct {
	SchemaVersion int            `json:"schema_version"`
	Kind          string         `json:"kind"`
	Env           results.Env    `json:"env"`
	Trace         TraceInfo      `json:"trace"`
	Cluster       ClusterInfo    `json:"cluster"`
	Costs         *Costs         `json:"costs"`
	Policies      []PolicyResult `json:"policies"`
	// Replay is set in the summary of `reclave trace replay`: the replay's outcome and its
	// agreement with the simulation of the same slice (Policies' only entry).
	Replay   *ReplayReport `json:"replay,omitempty"`
	Warnings []string      `json:"warnings,omitempty"`
}

// TraceInfo describes the trace simulated.
type TraceInfo struct {
	Path        string   `json:"path"`
	Format      string   `json:"format"`
	Functions   int      `json:"functions"`
	Invocations int64    `json:"invocations"`
	LengthNs    int64    `json:"length_ns"`
	Arrivals    Arrivals `json:"arrivals"`
	Seed        uint64   `json:"seed"`
	Top         int      `json:"top,omitempty"`
	Random      int      `json:"random,omitempty"`
	FromNs      int64    `json:"from_ns,omitempty"`
	ToNs        int64    `json:"to_ns,omitempty"`
	SpeedUp     float64  `json:"speed_up"`
	// Workloads counts the functions mapped onto each workload.
	Workloads map[string]int `json:"workloads"`
}

// ClusterInfo describes the simulated cluster.
type ClusterInfo struct {
	Nodes         int   `json:"nodes"`
	CapacityBytes int64 `json:"capacity_bytes"`
	TraceMemory   bool  `json:"trace_memory"`
	KeepAliveNs   int64 `json:"keepalive_ns"`
}

// PolicyResult is the outcome of one policy × reuse technique.
type PolicyResult struct {
	Policy   string `json:"policy"`
	Reuse    string `json:"reuse"`
	Insecure bool   `json:"insecure"`

	Invocations     int64      `json:"invocations"`
	ColdStarts      int64      `json:"cold_starts"`
	ColdFraction    float64    `json:"cold_fraction"`
	Queued          int64      `json:"queued"`
	LatencyNs       Latency    `json:"latency_ns"`
	LatencyCDF      []CDFPoint `json:"latency_cdf"`
	StartupNs       Latency    `json:"startup_ns"`
	StartupCDF      []CDFPoint `json:"startup_cdf"`
	MemoryGBs       MemoryGBs  `json:"memory_gb_s"`
	EnclavesCreated int64      `json:"enclaves_created"`
	Prewarmed       int64      `json:"prewarmed"`
	PrewarmsSkipped int64      `json:"prewarms_skipped,omitempty"`
	Evictions       int64      `json:"evictions"`
	PeakMemoryBytes int64      `json:"peak_memory_bytes"`

	PolicyNsPerInvocation float64  `json:"policy_ns_per_invocation"`
	SimWallNs             int64    `json:"sim_wall_ns"`
	SimInvocationsPerS    float64  `json:"sim_invocations_per_s"`
	Timeline              Timeline `json:"timeline"`
}

// Latency summarises latencies, in ns (HDR histogram, 3 significant digits).
type Latency struct {
	P50  int64   `json:"p50"`
	P99  int64   `json:"p99"`
	P999 int64   `json:"p999"`
	Mean float64 `json:"mean"`
	Max  int64   `json:"max"`
}

// CDFPoint is a point of a latency CDF: the fraction Q of invocations took at most Ns.
type CDFPoint struct {
	Q  float64 `json:"q"`
	Ns int64   `json:"ns"`
}

// MemoryGBs is enclave memory-time in GB-s (GiB × seconds): while serving, being created or
// reset (busy), and while kept idle.
type MemoryGBs struct {
	Busy float64 `json:"busy"`
	Idle float64 `json:"idle"`
}

// Timeline samples the cluster at the start of every bin of BinNs.
type Timeline struct {
	BinNs        int64   `json:"bin_ns"`
	LiveEnclaves []int64 `json:"live_enclaves"`
	BusyEnclaves []int64 `json:"busy_enclaves"`
	MemoryBytes  []int64 `json:"memory_bytes"`
}

// WriteSummary writes s to path as indented JSON, through a temporary file beside it that is
// renamed over path, so that a reader never sees half a summary.
func WriteSummary(path string, s *Summary) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".summary-*.json")
	if err != nil {
		return fmt.Errorf("write trace summary: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("write trace summary %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write trace summary %s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}

// ReadSummary reads a trace simulation's summary.json, refusing another kind or a schema
// version newer than this build knows.
func ReadSummary(path string) (*Summary, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read trace summary: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read trace summary %s: %w", path, err)
	}
	if s.Kind != Kind {
		return nil, fmt.Errorf("read trace summary %s: kind %q, want %q", path, s.Kind, Kind)
	}
	if s.SchemaVersion < 3 || s.SchemaVersion > results.SchemaVersion {
		return nil, fmt.Errorf("read trace summary %s: schema_version %d not supported (this build reads 3..%d)", path, s.SchemaVersion, results.SchemaVersion)
	}
	return &s, nil
}
