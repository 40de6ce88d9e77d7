package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// HostCallCount is one host function's account in one invocation: the calls the function
// made to it (N) and the bytes they moved into (In: written by the host into linear memory)
// and out of (Out: read by the host from linear memory) the function's memory.
type HostCallCount struct {
	Function string
	N        int64
	In       int64
	Out      int64
}

// HostCalls are the host calls of one invocation, one [HostCallCount] per function called, in
// name order. In JSON (a record's host_calls) it is an object keyed by function:
//
//	{"fd_read":{"n":2,"in":15,"out":16},"fd_write":{"n":1,"in":4,"out":39}}
//
// A nil HostCalls means not known (a record of schema version 1 or 2, a target that does not
// report them) and is left out of a record; an empty one means none and is written {}.
type HostCalls []HostCallCount

// hostCallJSON is a [HostCallCount] in JSON, without its function (the key).
type hostCallJSON struct {
	N   int64 `json:"n"`
	In  int64 `json:"in"`
	Out int64 `json:"out"`
}

// MarshalJSON writes h as an object keyed by function, in h's order ({} when empty).
func (h HostCalls) MarshalJSON() ([]byte, error) { return appendHostCalls(nil, h), nil }

// UnmarshalJSON reads the object MarshalJSON writes; the result is in name order and not nil.
func (h *HostCalls) UnmarshalJSON(b []byte) error {
	var m map[string]hostCallJSON
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("host calls: %w", err)
	}
	out := make(HostCalls, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		c := m[name]
		out = append(out, HostCallCount{Function: name, N: c.N, In: c.In, Out: c.Out})
	}
	*h = out
	return nil
}

// appendHostCalls appends h as MarshalJSON writes it.
func appendHostCalls(dst []byte, h HostCalls) []byte {
	dst = append(dst, '{')
	for i, c := range h {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, c.Function)
		dst = append(dst, `:{"n":`...)
		dst = strconv.AppendInt(dst, c.N, 10)
		dst = append(dst, `,"in":`...)
		dst = strconv.AppendInt(dst, c.In, 10)
		dst = append(dst, `,"out":`...)
		dst = strconv.AppendInt(dst, c.Out, 10)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// Total returns the calls and bytes of every function together.
func (h HostCalls) Total() (n, in, out int64) {
	for _, c := range h {
		n, in, out = n+c.N, in+c.In, out+c.Out
	}
	return n, in, out
}

// Get returns the account of function name (zero when it was not called).
func (h HostCalls) Get(name string) HostCallCount {
	for _, c := range h {
		if c.Function == name {
			return c
		}
	}
	return HostCallCount{Function: name}
}

// Add returns the accounts of h and o together, by function, in name order. Neither is
// changed.
func (h HostCalls) Add(o HostCalls) HostCalls {
	out := make(HostCalls, 0, len(h)+len(o))
	out = append(append(out, h...), o...)
	slices.SortStableFunc(out, func(a, b HostCallCount) int { return strings.Compare(a.Function, b.Function) })
	merged := out[:0]
	for _, c := range out {
		if k := len(merged); k > 0 && merged[k-1].Function == c.Function {
			merged[k-1].N += c.N
			merged[k-1].In += c.In
			merged[k-1].Out += c.Out
			continue
		}
		merged = append(merged, c)
	}
	return merged
}

// HostCallsSummary summarises the host calls of a configuration's successful measured
// invocations that carried them (see doc.go, summary.json's host_calls).
type HostCallsSummary struct {
	// Invocations is the number of invocations summarised.
	Invocations int `json:"invocations"`
	// CallsP50, CallsMean and CallsMax describe the host calls per invocation, every
	// function together; InP50 and OutP50 are the median bytes in and out.
	CallsP50  float64 `json:"calls_p50"`
	CallsMean float64 `json:"calls_mean"`
	CallsMax  float64 `json:"calls_max"`
	InP50     float64 `json:"in_p50"`
	OutP50    float64 `json:"out_p50"`
	// Functions holds, per function called in any of the invocations, the medians of its
	// calls and bytes per invocation (an invocation that did not call it counts as 0).
	Functions map[string]HostCallMedians `json:"functions"`
	// ResetCallsP50 and ResetCallsMax describe the host calls of the reset (or, in mode cold,
	// the creation) that belongs to each invocation: 0 for a rewind.
	ResetCallsP50 float64 `json:"reset_calls_p50"`
	ResetCallsMax float64 `json:"reset_calls_max"`
}

// HostCallMedians are one function's medians per invocation.
type HostCallMedians struct {
	N   float64 `json:"n_p50"`
	In  float64 `json:"in_p50"`
	Out float64 `json:"out_p50"`
}

// hostCallsAcc accumulates a configuration's host calls within bounded memory: a [tally] per
// statistic, and three per function called.
type hostCallsAcc struct {
	n                    int64
	calls, in, out, rest tally
	fns                  map[string]*[3]tally // n, in, out
}

// add accounts for one successful invocation's host calls and its reset's.
func (a *hostCallsAcc) add(h, reset HostCalls) {
	n, in, out := h.Total()
	a.calls.add(n, 1)
	a.in.add(in, 1)
	a.out.add(out, 1)
	rn, _, _ := reset.Total()
	a.rest.add(rn, 1)
	for _, c := range h {
		if a.fns[c.Function] == nil {
			if a.fns == nil {
				a.fns = map[string]*[3]tally{}
			}
			t := &[3]tally{}
			for i := range t {
				t[i].add(0, a.n) // the invocations before did not call it
			}
			a.fns[c.Function] = t
		}
	}
	for name, t := range a.fns {
		c := h.Get(name)
		t[0].add(c.N, 1)
		t[1].add(c.In, 1)
		t[2].add(c.Out, 1)
	}
	a.n++
}

// summary returns the summary, or nil when no invocation carried host calls.
func (a *hostCallsAcc) summary() *HostCallsSummary {
	if a.n == 0 {
		return nil
	}
	s := &HostCallsSummary{Invocations: int(a.n), CallsP50: a.calls.median(), CallsMean: a.calls.mean(),
		CallsMax: float64(a.calls.max), InP50: a.in.median(), OutP50: a.out.median(),
		Functions: map[string]HostCallMedians{}, ResetCallsP50: a.rest.median(), ResetCallsMax: float64(a.rest.max)}
	for name, t := range a.fns {
		s.Functions[name] = HostCallMedians{N: t[0].median(), In: t[1].median(), Out: t[2].median()}
	}
	return s
}

// tallyLimit is the number of distinct values a [tally] counts exactly.
const tallyLimit = 4096

// tally holds a sample of non-negative integers (host calls or bytes per invocation) as the
// count of each distinct value — a configuration's invocations make the same calls over and
// over, so this is a handful of entries however long the run — exactly up to [tallyLimit]
// distinct values, beyond in an HDR histogram like a [series]' ([QuantileDigits]): its median
// is then within [QuantileRelError]. Mean and max stay exact.
type tally struct {
	n    int64
	sum  float64
	max  int64
	freq map[int64]int64
	hist *hdrhistogram.Histogram
}

// add counts value v k times (negative values count as 0).
func (t *tally) add(v, k int64) {
	if k <= 0 {
		return
	}
	v = max(v, 0)
	t.n += k
	t.sum += float64(v) * float64(k)
	t.max = max(t.max, v)
	if t.hist == nil {
		if t.freq == nil {
			t.freq = map[int64]int64{}
		}
		if _, ok := t.freq[v]; ok || len(t.freq) < tallyLimit {
			t.freq[v] += k
			return
		}
		t.hist = hdrhistogram.New(1, histHighest, QuantileDigits)
		for x, c := range t.freq {
			t.record(x, c)
		}
		t.freq = nil
	}
	t.record(v, k)
}

func (t *tally) record(v, k int64) {
	if err := t.hist.RecordValues(min(v, histHighest), k); err != nil {
		panic(fmt.Sprintf("results: histogram refused %d: %v", v, err)) // 0 ≤ v ≤ histHighest
	}
}

// median is the nearest-rank median: the value of rank ⌈n/2⌉.
func (t *tally) median() float64 {
	if t.n == 0 {
		return 0
	}
	if t.hist != nil {
		return float64(min(t.hist.ValueAtQuantile(50), t.max))
	}
	rank := (t.n + 1) / 2
	var cum int64
	for _, v := range slices.Sorted(maps.Keys(t.freq)) {
		if cum += t.freq[v]; cum >= rank {
			return float64(v)
		}
	}
	return float64(t.max)
}

func (t *tally) mean() float64 {
	if t.n == 0 {
		return 0
	}
	return t.sum / float64(t.n)
}

// HostCallTraceFile is the trace a run writes when its config says trace_host_calls: true:
// one [HostCallEvent] per host call, one JSON object per line (see doc.go).
const HostCallTraceFile = "host_calls.jsonl"

// HostCallEvent is one line of a host-call trace (host_calls.jsonl of a run, or the file of
// `reclave invoke --trace-host-calls`). See doc.go.
type HostCallEvent struct {
	SchemaVersion int `json:"schema_version"`
	// Record is the 0-based index of the invocation's record among the run's records (its
	// line in records.jsonl, warm-up included); nil in the trace of reclave invoke.
	Record     *int64 `json:"record,omitempty"`
	Experiment string `json:"experiment,omitempty"`
	Workload   string `json:"workload"`
	Mode       string `json:"mode"`
	// Invocation is the record's seq in a run, the invocation's number (from 1, as printed)
	// with reclave invoke.
	Invocation int  `json:"invocation"`
	Warmup     bool `json:"warmup,omitempty"`
	// Phase is create (the enclave's creation that served the invocation: mode cold, or a
	// re-creation), invoke (the function's own call) or reset (the reset after it).
	Phase string `json:"phase"`
	// Seq is the call's 0-based index in the invocation, every phase together, in order.
	Seq        int    `json:"seq"`
	Function   string `json:"function"`
	In         int64  `json:"in"`
	Out        int64  `json:"out"`
	DurationNs int64  `json:"duration_ns"`
	// Errno is the WASI errno returned, -1 for a call that did not return; Result names it
	// (ESUCCESS, EBADF, ...) or says why it did not return (exit, budget, aborted).
	Errno  int32  `json:"errno"`
	Result string `json:"result"`
}

// AppendHostCallEvent appends ev as one JSON object, without a newline, to dst: the bytes of
// json.Marshal(ev).
func AppendHostCallEvent(dst []byte, ev *HostCallEvent) []byte {
	dst = append(dst, `{"schema_version":`...)
	dst = strconv.AppendInt(dst, int64(ev.SchemaVersion), 10)
	if ev.Record != nil {
		dst = appendIntField(dst, `,"record":`, *ev.Record)
	}
	if ev.Experiment != "" {
		dst = appendStringField(dst, `,"experiment":`, ev.Experiment)
	}
	dst = appendStringField(dst, `,"workload":`, ev.Workload)
	dst = appendStringField(dst, `,"mode":`, ev.Mode)
	dst = appendIntField(dst, `,"invocation":`, int64(ev.Invocation))
	if ev.Warmup {
		dst = append(dst, `,"warmup":true`...)
	}
	dst = appendStringField(dst, `,"phase":`, ev.Phase)
	dst = appendIntField(dst, `,"seq":`, int64(ev.Seq))
	dst = appendStringField(dst, `,"function":`, ev.Function)
	dst = appendIntField(dst, `,"in":`, ev.In)
	dst = appendIntField(dst, `,"out":`, ev.Out)
	dst = appendIntField(dst, `,"duration_ns":`, ev.DurationNs)
	dst = appendIntField(dst, `,"errno":`, int64(ev.Errno))
	dst = appendStringField(dst, `,"result":`, ev.Result)
	return append(dst, '}')
}

// ScanHostCallTrace reads a host-call trace, calling fn with each event (the same value,
// overwritten: copy what must outlive the call). An event of a newer schema version than
// this build knows is an error naming its line.
func ScanHostCallTrace(r io.Reader, fn func(*HostCallEvent) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	var ev HostCallEvent
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		ev = HostCallEvent{}
		if err := json.Unmarshal(b, &ev); err != nil {
			return fmt.Errorf("host-call trace line %d: %w", line, err)
		}
		if ev.SchemaVersion < 3 || ev.SchemaVersion > SchemaVersion {
			return fmt.Errorf("host-call trace line %d: schema_version %d not supported (this build reads 3..%d)", line, ev.SchemaVersion, SchemaVersion)
		}
		if err := fn(&ev); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("host-call trace line %d: %w", line+1, err)
	}
	return nil
}

// ExitCost is the cost per enclave exit that report.md multiplies the host calls by, to give
// an estimated enclave-exit cost on SGX hardware (never a measurement): a config's exit_cost.
type ExitCost struct {
	// Cycles is the cost of one exit (an OCALL and its return) in CPU cycles.
	Cycles float64 `json:"cycles"`
	// GHz is the clock that turns cycles into time.
	GHz float64 `json:"ghz"`
}

// The default [ExitCost]: the lower end of the range Weisse, Bertacco and Austin measured for
// a call through the SGX SDK's ECALL/OCALL interface, 8,200 to 17,000 cycles ("Regaining Lost
// Cycles with HotCalls: A Fast Interface for SGX Secure Enclaves", ISCA 2017, ACM SIGARCH
// Computer Architecture News 45(2), doi:10.1145/3140659.3080208), at an assumed 3 GHz; the
// report also says what the upper end would give.
const (
	DefaultExitCostCycles = 8200
	MaxExitCostCycles     = 17000 // the upper end of the published range
	DefaultExitCostGHz    = 3.0
	// ExitCostSource cites the measurement the default comes from.
	ExitCostSource = `Weisse, Bertacco, Austin, "Regaining Lost Cycles with HotCalls: A Fast Interface for SGX Secure Enclaves", ISCA 2017 (ACM SIGARCH Computer Architecture News 45(2), doi:10.1145/3140659.3080208): 8,200–17,000 cycles per SGX SDK ECALL/OCALL, against 150 for a system call`
)

// DefaultExitCost returns the default exit cost.
func DefaultExitCost() ExitCost {
	return ExitCost{Cycles: DefaultExitCostCycles, GHz: DefaultExitCostGHz}
}

// ValidExitCost reports whether x can be an exit cost's cycles or GHz: positive and finite.
func ValidExitCost(x float64) bool { return x > 0 && !math.IsInf(x, 0) }

// OrDefault returns c, or the default for what c leaves invalid (a summary written before
// exit_cost, or by hand).
func (c *ExitCost) OrDefault() ExitCost {
	d := DefaultExitCost()
	if c == nil {
		return d
	}
	if ValidExitCost(c.Cycles) {
		d.Cycles = c.Cycles
	}
	if ValidExitCost(c.GHz) {
		d.GHz = c.GHz
	}
	return d
}

// Ns returns the cost of calls exits in nanoseconds.
func (c ExitCost) Ns(calls float64) float64 { return calls * c.Cycles / c.GHz }

// errNoHostCalls is wrapped when a summary has no host-call data to draw or report.
var errNoHostCalls = errors.New("no host-call data (records of schema version 3 from target embedded carry it)")

// HasHostCalls reports whether any result of s has host-call data; the error says why not.
func (s *Summary) HasHostCalls() error {
	for i := range s.Results {
		if s.Results[i].HostCalls != nil {
			return nil
		}
	}
	return errNoHostCalls
}
