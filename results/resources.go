package results

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

// ResourceSample is one line of resources.jsonl: the resources of the driver's process at
// one moment of a run, sampled off the invocations' path every few seconds. See doc.go.
type ResourceSample struct {
	SchemaVersion int `json:"schema_version"`
	// TNs is when the sample was taken, on the run's clock (the records' start_ns clock).
	TNs int64 `json:"t_ns"`
	// Running names the group running when the sample was taken ("experiment: workload/mode",
	// or "workload/mode"); empty before the first and after the last.
	Running string `json:"running,omitempty"`
	// Records is the number of records (warm-up included) the run had consumed so far.
	Records int64 `json:"records"`
	// RSSBytes is the resident set size (VmRSS of /proc/self/status); -1 where unknown.
	RSSBytes int64 `json:"rss_bytes"`
	// FDs is the number of open file descriptors (entries of /proc/self/fd, less the one
	// reading it); -1 where unknown.
	FDs int `json:"fds"`
	// Goroutines is runtime.NumGoroutine().
	Goroutines int `json:"goroutines"`
	// HeapBytes is the Go heap's live and not yet swept objects
	// (runtime/metrics /memory/classes/heap/objects:bytes).
	HeapBytes uint64 `json:"heap_bytes"`
}

// ReadResources reads a resources.jsonl. A line that is not a sample, or a sample of a newer
// schema version than this build knows, is an error naming its line.
func ReadResources(path string) ([]ResourceSample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read resources: %w", err)
	}
	defer f.Close()
	var out []ResourceSample
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var s ResourceSample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return out, fmt.Errorf("read resources %s line %d: %w", path, line, err)
		}
		if s.SchemaVersion < 3 || s.SchemaVersion > SchemaVersion {
			return out, fmt.Errorf("read resources %s line %d: schema_version %d not supported (this build reads 3..%d)", path, line, s.SchemaVersion, SchemaVersion)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read resources %s: %w", path, err)
	}
	return out, nil
}
