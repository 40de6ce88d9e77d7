package main

import (
	"fmt"
	"strings"

	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/results"
)

// createHostCallTrace creates the file of invoke --trace-host-calls; nil (whose Close does
// nothing) without one.
func createHostCallTrace(path string) (*hostCallTrace, error) {
	if path == "" {
		return nil, nil
	}
	w, err := harness.CreateTrace(path)
	if err != nil {
		return nil, fmt.Errorf("%w: --trace-host-calls: %v", errInput, err)
	}
	return &hostCallTrace{w: w}, nil
}

// hostCallTrace is invoke's host-call trace.
type hostCallTrace struct{ w *harness.TraceWriter }

// Close closes the trace; on nil it does nothing.
func (t *hostCallTrace) Close() error {
	if t == nil {
		return nil
	}
	return t.w.Close()
}

// writeHostCallTrace writes the call's traced host calls as invocation number n, and flushes
// them, so that an interrupted invoke leaves the trace of every invocation it printed.
func writeHostCallTrace(t *hostCallTrace, c *harness.Call, function, mode string, n int) error {
	if t == nil {
		return nil
	}
	if err := t.w.Write(c.HostCallEvents(results.HostCallEvent{Workload: function, Mode: mode, Invocation: n})); err != nil {
		return err
	}
	return t.w.Flush()
}

// hostCallsText is the host calls of an invocation as invoke prints them:
// "3 (fd_read 2, fd_write 1), 22 B in, 58 B out; reset: none".
func hostCallsText(h, reset results.HostCalls) string {
	text := func(h results.HostCalls) string {
		n, in, out := h.Total()
		if n == 0 {
			return "none"
		}
		fns := make([]string, 0, len(h))
		for _, c := range h {
			fns = append(fns, fmt.Sprintf("%s %d", c.Function, c.N))
		}
		return fmt.Sprintf("%d (%s), %d B in, %d B out", n, strings.Join(fns, ", "), in, out)
	}
	return text(h) + "; reset: " + text(reset)
}
