package results

import (
	"encoding/json"
	"fmt"
	"os"
)

// RewindBench is the content of rewind_bench.json, written by `reclave bench rewind`: rewind
// latency per strategy against memory size and pages dirtied, each beside a plain copy of the
// same dirty bytes measured in the same run.
//
//	schema_version   1
//	env              as in summary.json
//	rows             one per (strategy, memory_bytes, dirty_pages):
//	  strategy         rewind strategy
//	  memory_bytes     linear memory size at the snapshot
//	  dirty_pages      4 KiB pages the function wrote per invocation
//	  n                measured invocations
//	  rewind_ns_p50    median time of the rewind after the invocation
//	  rewind_ns_p99    99th percentile of the same
//	  memcpy_ns_p50    median time to copy dirty_pages 4 KiB pages (the same offsets) from one
//	                   buffer to another: the physical lower bound of a rewind
//	  invoke_ns_p50    median time of the invocation itself (what tracking or copy-on-write
//	                   faults cost the function)
//	  pages_restored_p50  median pages the rewind restored
//	warnings         as data
type RewindBench struct {
	SchemaVersion int         `json:"schema_version"`
	Env           Env         `json:"env"`
	Rows          []RewindRow `json:"rows"`
	Warnings      []string    `json:"warnings,omitempty"`
}

// RewindRow is one cell of the rewind benchmark.
type RewindRow struct {
	Strategy         string  `json:"strategy"`
	MemoryBytes      int64   `json:"memory_bytes"`
	DirtyPages       int     `json:"dirty_pages"`
	N                int     `json:"n"`
	RewindNsP50      float64 `json:"rewind_ns_p50"`
	RewindNsP99      float64 `json:"rewind_ns_p99"`
	MemcpyNsP50      float64 `json:"memcpy_ns_p50"`
	InvokeNsP50      float64 `json:"invoke_ns_p50"`
	PagesRestoredP50 float64 `json:"pages_restored_p50"`
}

// RewindBenchFile is the name of the rewind benchmark's output in a run folder.
const RewindBenchFile = "rewind_bench.json"

// WriteRewindBench writes b as indented JSON to path.
func WriteRewindBench(path string, b *RewindBench) error {
	return writeJSON(path, b)
}

// ReadRewindBench reads a rewind_bench.json, refusing a schema version it does not know.
func ReadRewindBench(path string) (*RewindBench, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rewind bench: %w", err)
	}
	var b RewindBench
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("read rewind bench %s: %w", path, err)
	}
	if b.SchemaVersion < 1 || b.SchemaVersion > SchemaVersion {
		return nil, fmt.Errorf("read rewind bench %s: schema_version %d not supported (this build reads 1..%d)", path, b.SchemaVersion, SchemaVersion)
	}
	return &b, nil
}
