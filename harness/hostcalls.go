package harness

import (
	"bufio"
	"fmt"
	"os"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/results"
)

// hostCalls converts an enclave's host-call accounts into a record's; never nil, so that a
// record of an invocation served here says it made none ({}) rather than not knowing.
func hostCalls(c []enclave.HostCallCount) results.HostCalls {
	out := make(results.HostCalls, 0, len(c))
	for _, x := range c {
		out = append(out, results.HostCallCount{Function: x.Function, N: int64(x.Calls), In: int64(x.BytesIn), Out: int64(x.BytesOut)})
	}
	return out
}

// fillHostCalls sets the record's host_calls and reset_host_calls: the invocation's, and the
// reset's together with the creation's when the call created its enclave (mode cold, or a
// re-creation).
func (c *Call) fillHostCalls(rec *results.Record) {
	inv := c.Invocation
	rec.HostCalls = hostCalls(inv.HostCalls)
	var reset results.HostCalls
	if c.Creation != nil && c.Enclave != nil {
		reset = hostCalls(c.Enclave.CreationHostCalls())
	}
	if len(inv.ResetHostCalls) > 0 {
		reset = reset.Add(hostCalls(inv.ResetHostCalls))
	}
	if len(reset) > 0 {
		rec.ResetHostCalls = reset
	}
}

// HostCallEvents returns the call's traced host calls as trace lines, in order: the
// creation's when the call created its enclave (phase create), then the invocation's and its
// reset's. base gives the lines' identity (record, experiment, workload, mode, invocation,
// warmup); Phase, Seq and the call's fields are set here. It returns none when the enclave
// did not trace (enclave.Config.TraceHostCalls) or the function did not run.
func (c *Call) HostCallEvents(base results.HostCallEvent) []results.HostCallEvent {
	if c.Invocation == nil {
		return nil
	}
	var evs []enclave.HostCallEvent
	if c.Creation != nil && c.Enclave != nil {
		evs = c.Enclave.CreationHostCallTrace()
	}
	out := make([]results.HostCallEvent, 0, len(evs)+len(c.Invocation.HostCallTrace))
	for _, list := range [][]enclave.HostCallEvent{evs, c.Invocation.HostCallTrace} {
		for _, ev := range list {
			line := base
			line.SchemaVersion = results.SchemaVersion
			line.Phase, line.Seq, line.Function = ev.Phase, len(out), ev.Function
			line.In, line.Out = int64(ev.BytesIn), int64(ev.BytesOut)
			line.DurationNs, line.Errno, line.Result = ev.Duration.Nanoseconds(), ev.Errno, ev.Result
			out = append(out, line)
		}
	}
	return out
}

// TraceWriter writes a host-call trace (results.HostCallTraceFile's format), buffered.
type TraceWriter struct {
	f   *os.File
	w   *bufio.Writer
	buf []byte
}

// CreateTrace creates the trace file path.
func CreateTrace(path string) (*TraceWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("host-call trace: %w", err)
	}
	return &TraceWriter{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// Write writes the events, one line each.
func (t *TraceWriter) Write(evs []results.HostCallEvent) error {
	for i := range evs {
		t.buf = append(results.AppendHostCallEvent(t.buf[:0], &evs[i]), '\n')
		if _, err := t.w.Write(t.buf); err != nil {
			return fmt.Errorf("host-call trace: %w", err)
		}
	}
	return nil
}

// Flush writes what is buffered through to the file.
func (t *TraceWriter) Flush() error {
	if err := t.w.Flush(); err != nil {
		return fmt.Errorf("host-call trace: %w", err)
	}
	return nil
}

// Close flushes and closes the file.
func (t *TraceWriter) Close() error {
	err := t.Flush()
	if cerr := t.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("host-call trace: %w", cerr)
	}
	return err
}
