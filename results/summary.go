package results

import (
	"encoding/json"
	"fmt"
	"os"
)

// Summary is the content of summary.json: the environment of a run and one [Result] per
// configuration (workload, mode and parameters). See doc.go for every field.
type Summary struct {
	SchemaVersion int      `json:"schema_version"`
	Env           Env      `json:"env"`
	Config        Config   `json:"config"`
	Results       []Result `json:"results"`
	// Schedule says, per experiment, in what order its configurations ran (rounds).
	Schedule []Schedule `json:"schedule,omitempty"`
	// Paired are the comparisons made round by round (see [Pairs]).
	Paired []Paired `json:"paired,omitempty"`
	// Noise is the run's noise indicator; nil in summaries written before it.
	Noise *Noise `json:"noise,omitempty"`
	// ExitCost is the per-exit cost report.md's estimated enclave-exit cost uses (the config's
	// exit_cost); nil in summaries written before it, which the default applies to.
	ExitCost *ExitCost `json:"exit_cost,omitempty"`
	Warnings []string  `json:"warnings,omitempty"`
}

// Env describes where and how a run was made.
type Env struct {
	CPU          string            `json:"cpu"`
	Cores        int               `json:"cores"`
	Kernel       string            `json:"kernel"`
	OS           string            `json:"os"`
	Arch         string            `json:"arch"`
	GoVersion    string            `json:"go_version"`
	Dependencies map[string]string `json:"dependencies"`
	Commit       string            `json:"commit"`
	Backend      string            `json:"backend"`
	Simulated    bool              `json:"simulated"`
	ConfigSHA256 string            `json:"config_sha256"`
	// RuntimeImageBytes and RuntimeImageSHA256 describe the runtime image the enclaves
	// measured (reclave-enclave); zero and empty when none was.
	RuntimeImageBytes  int64  `json:"runtime_image_bytes,omitempty"`
	RuntimeImageSHA256 string `json:"runtime_image_sha256,omitempty"`
	StartedAt          string `json:"started_at"`
	FinishedAt         string `json:"finished_at,omitempty"`
}

// Config names the experiment configuration a run used.
type Config struct {
	Name string `json:"name"`
	File string `json:"file"`
}

// Result is the summary of one configuration's measured (non-warm-up) invocations.
type Result struct {
	Key
	N                        int              `json:"n"`
	Errors                   int              `json:"errors"`
	ErrorKinds               map[string]int   `json:"error_kinds,omitempty"`
	Dropped                  int              `json:"dropped"`
	Late                     int              `json:"late"`
	Valid                    int              `json:"valid"`
	Invalid                  int              `json:"invalid"`
	Repetitions              int              `json:"repetitions"`
	Quantiles                string           `json:"quantiles"`
	QuantileRelError         float64          `json:"quantile_rel_error,omitempty"`
	Reservoir                int              `json:"reservoir,omitempty"`
	LatencyNs                Dist             `json:"latency_ns"`
	ResponseNs               Dist             `json:"response_ns"`
	RewindNs                 Dist             `json:"rewind_ns"`
	ExecNs                   Dist             `json:"exec_ns"`
	StartupNs                Dist             `json:"startup_ns"`
	ThroughputPerS           float64          `json:"throughput_per_s"`
	RepetitionThroughputPerS []float64        `json:"repetition_throughput_per_s,omitempty"`
	RoundP50Ns               []float64        `json:"round_p50_ns,omitempty"`
	WallNs                   int64            `json:"wall_ns"`
	PhasesP50Ns              map[string]int64 `json:"phases_p50_ns"`
	Resets                   map[string]int   `json:"resets"`
	Strategies               map[string]int   `json:"strategies,omitempty"`
	StrategyChoice           string           `json:"strategy_choice,omitempty"`
	PagesRestoredP50         float64          `json:"pages_restored_p50"`
	BytesRestoredP50         float64          `json:"bytes_restored_p50"`
	DistinctOutput           int              `json:"distinct_outputs"`
	DistinctOutputsCapped    bool             `json:"distinct_outputs_capped"`
	// HostCalls summarises the host calls of the successful invocations (version 3); nil
	// when no record carried them.
	HostCalls *HostCallsSummary `json:"host_calls,omitempty"`
	Warnings  []string          `json:"warnings,omitempty"`
}

// Dist summarises a sample of durations in nanoseconds. Quantiles are of the raw samples
// (nearest rank), or within [QuantileRelError] of them when the result's quantiles are "hdr";
// P50CI95Lo and P50CI95Hi bound the median with at least 95% confidence (order statistics, no
// distributional assumption; of the reservoir with "hdr") and are nil when n is too small for
// one.
type Dist struct {
	P50       float64  `json:"p50"`
	P90       float64  `json:"p90"`
	P99       float64  `json:"p99"`
	P999      float64  `json:"p999"`
	Mean      float64  `json:"mean"`
	Stddev    float64  `json:"stddev"`
	Min       float64  `json:"min"`
	Max       float64  `json:"max"`
	P50CI95Lo *float64 `json:"p50_ci95_lo"`
	P50CI95Hi *float64 `json:"p50_ci95_hi"`
}

// Find returns the result for workload and mode (the first one, if parameters differ), or nil.
func (s *Summary) Find(workload, mode string) *Result {
	for i := range s.Results {
		if s.Results[i].Workload == workload && s.Results[i].Mode == mode {
			return &s.Results[i]
		}
	}
	return nil
}

// Workloads returns the workloads of the summary in order of first appearance.
func (s *Summary) Workloads() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range s.Results {
		if !seen[r.Workload] {
			seen[r.Workload] = true
			out = append(out, r.Workload)
		}
	}
	return out
}

// Modes returns the modes of the summary in order of first appearance.
func (s *Summary) Modes() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range s.Results {
		if !seen[r.Mode] {
			seen[r.Mode] = true
			out = append(out, r.Mode)
		}
	}
	return out
}

// WriteSummary writes s as indented JSON to path, through a temporary file and a rename so
// that a reader never sees half a summary.
func WriteSummary(path string, s *Summary) error { return writeJSON(path, s) }

// writeJSON writes v as indented JSON through a temporary file and a rename.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ReadSummary reads a summary.json. A summary of a newer schema version than this build
// knows is refused rather than misread; an older one is migrated ([Summary.Migrate]).
func ReadSummary(path string) (*Summary, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read summary: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read summary %s: %w", path, err)
	}
	if s.SchemaVersion < 1 || s.SchemaVersion > SchemaVersion {
		return nil, fmt.Errorf("read summary %s: schema_version %d not supported (this build reads 1..%d)", path, s.SchemaVersion, SchemaVersion)
	}
	s.Migrate()
	return &s, nil
}

// Migrate fills in what a summary of an older schema version lacks, as far as it is known:
// versions 1 and 2 computed every statistic from every sample, so their results get
// quantiles "exact" (and distinct_outputs_capped false: they counted every output). What an
// older version did not measure at all (exec_ns in version 1) stays zero, and schema_version
// keeps the version the summary was written with.
func (s *Summary) Migrate() {
	if s.SchemaVersion >= 3 {
		return
	}
	for i := range s.Results {
		if s.Results[i].Quantiles == "" {
			s.Results[i].Quantiles = QuantilesExact
		}
	}
}
