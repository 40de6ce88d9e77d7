package harness

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reclave/reclave/results"
)

// ResourceInterval is how often a run samples its process's resources (RSS, open file
// descriptors, goroutines, Go heap) into resources.jsonl. A sample reads two files of /proc
// and a runtime metric, tens of microseconds on a goroutine of its own, so every 5 s costs
// the invocations nothing measurable while a soak of minutes still gets a curve.
const ResourceInterval = 5 * time.Second

// resourceSampler writes a [results.ResourceSample] to a run's resources.jsonl when started,
// every interval, and when closed.
type resourceSampler struct {
	f       *os.File
	start   time.Time // the run's clock
	running atomic.Pointer[string]
	records atomic.Int64

	mu   sync.Mutex // one sample written at a time
	w    *bufio.Writer
	err  error // the first write error
	stop chan struct{}
	done chan struct{}
	heap []metrics.Sample
}

// startResources creates path and starts sampling into it every interval.
func startResources(path string, start time.Time, interval time.Duration) (*resourceSampler, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("resources: %w", err)
	}
	s := &resourceSampler{f: f, start: start, w: bufio.NewWriter(f), stop: make(chan struct{}), done: make(chan struct{}),
		heap: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				s.sample()
			case <-s.stop:
				return
			}
		}
	}()
	return s, nil
}

// setRunning names the group that runs now. A nil sampler ignores it.
func (s *resourceSampler) setRunning(label string) {
	if s != nil {
		s.running.Store(&label)
	}
}

// consumed counts n more records consumed by the run. A nil sampler ignores it.
func (s *resourceSampler) consumed(n int) {
	if s != nil {
		s.records.Add(int64(n))
	}
}

// sample takes one sample and writes it as a line.
func (s *resourceSampler) sample() {
	smp := results.ResourceSample{
		SchemaVersion: results.SchemaVersion,
		TNs:           time.Since(s.start).Nanoseconds(),
		Records:       s.records.Load(),
		RSSBytes:      readRSS(),
		FDs:           countFDs(),
		Goroutines:    runtime.NumGoroutine(),
	}
	if l := s.running.Load(); l != nil {
		smp.Running = *l
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	metrics.Read(s.heap)
	if v := s.heap[0].Value; v.Kind() == metrics.KindUint64 {
		smp.HeapBytes = v.Uint64()
	}
	b, _ := json.Marshal(smp) // plain numbers and a string: cannot fail
	if s.err == nil {
		_, s.err = s.w.Write(append(b, '\n'))
	}
	if s.err == nil {
		s.err = s.w.Flush() // a line per sample reaches the file: a killed run keeps its curve
	}
}

// close takes a last sample, stops the sampling and closes the file.
func (s *resourceSampler) close() error {
	close(s.stop)
	<-s.done
	s.setRunning("")
	s.sample()
	err := errors.Join(s.err, s.f.Close())
	if err != nil {
		return fmt.Errorf("resources: %w", err)
	}
	return nil
}

// readRSS returns the process's resident set size from /proc/self/status (VmRSS, in kB), or
// -1 where there is none (not Linux).
func readRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	return procKB(b, "VmRSS:")
}

// countFDs returns the number of open file descriptors from /proc/self/fd, less the one
// that reads it, or -1 where there is none (not Linux).
func countFDs() int {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return -1
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return -1
	}
	return len(names) - 1
}
