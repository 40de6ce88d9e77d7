package harness

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/reclave/reclave/results"
)

// console writes a run's log lines and, when asked, a progress bar redrawn in place on its
// own line below them. It is safe for concurrent use.
type console struct {
	log io.Writer // log lines; nil for none
	bar io.Writer // the progress bar; nil for none

	mu     sync.Mutex
	total  int // planned records; 0 when unknown (a run for a duration)
	count  int
	label  string
	began  time.Time
	drawn  time.Time
	onLine bool // the bar is on the current line (a log line must clear it first)
}

func (c *console) start(total int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total, c.began = total, time.Now()
}

// status names what runs now, shown in the bar.
func (c *console) status(label string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.label = label
	c.draw(false)
}

// done counts n records written.
func (c *console) done(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.count += n
	c.draw(false)
}

// logf writes a log line, above the bar.
func (c *console) logf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.log == nil {
		return
	}
	c.clearBar()
	fmt.Fprintf(c.log, format, args...)
	c.draw(true)
}

// result logs a configuration's summary line.
func (c *console) result(s results.Result) {
	params := ""
	if s.Concurrency > 1 || s.Load != LoadClosed {
		params += fmt.Sprintf(" %s c=%d", s.Load, s.Concurrency)
	}
	if !s.Compartments {
		params += " compartments=off"
	}
	name := s.Workload
	if s.Experiment != "" {
		name = s.Experiment + "/" + name
	}
	// Outputs checked against the workload's expectation: how many were invalid (a failed
	// invocation's included), beside the errors.
	invalid := ""
	if checked := s.Valid + s.Invalid; checked > 0 {
		invalid = fmt.Sprintf("invalid=%d/%d ", s.Invalid, checked)
	}
	c.logf("%-24s %-14s n=%-4d errors=%-3d %sp50=%-10s p99=%-10s%s\n", name, s.Mode, s.N, s.Errors, invalid,
		quantile(s.LatencyNs.P50, 50, &s), quantile(s.LatencyNs.P99, 99, &s), params)
}

// quantile formats the p-th percentile v of s's latencies, or [results.NoValue] when s has
// too few successful invocations to support it (p99 needs 100: with fewer it is the maximum).
func quantile(v float64, p float64, s *results.Result) string {
	if !results.QuantileSupported(p, s.Successful()) {
		return results.NoValue
	}
	return results.FormatNs(v)
}

// stop draws the final bar and ends its line.
func (c *console) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bar == nil {
		return
	}
	c.draw(true)
	if c.onLine {
		fmt.Fprintln(c.bar)
		c.onLine = false
	}
}

func (c *console) clearBar() {
	if c.bar != nil && c.onLine {
		fmt.Fprint(c.bar, "\r\033[K")
		c.onLine = false
	}
}

// draw redraws the bar, at most ten times a second unless forced.
func (c *console) draw(force bool) {
	if c.bar == nil {
		return
	}
	now := time.Now()
	if !force && now.Sub(c.drawn) < 100*time.Millisecond {
		return
	}
	c.drawn = now
	elapsed := now.Sub(c.began).Truncate(time.Second)
	var line string
	if c.total > 0 {
		const width = 30
		frac := min(float64(c.count)/float64(c.total), 1)
		full := int(frac * width)
		eta := "?"
		if c.count > 0 {
			eta = (time.Duration(float64(now.Sub(c.began))/frac) - now.Sub(c.began)).Truncate(time.Second).String()
		}
		line = fmt.Sprintf("[%s%s] %3.0f%% %d/%d  %s elapsed, ~%s left  %s", strings.Repeat("=", full),
			strings.Repeat(" ", width-full), 100*frac, c.count, c.total, elapsed, eta, c.label)
	} else {
		line = fmt.Sprintf("%d invocations  %s elapsed  %s", c.count, elapsed, c.label)
	}
	fmt.Fprintf(c.bar, "\r\033[K%s", line)
	c.onLine = true
}
