package enclave

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Strategy auto: the enclave measures the cost of an invocation (its execution plus the reset
// after it) under two module variants and keeps the cheaper one.
//
//   - diff runs the module as compiled, with interrupt checks only, and restores memory by
//     comparing every page of the snapshot with linear memory: no cost in the function's own
//     execution, a reset that grows with the memory's size.
//   - tracked runs the module with its stores instrumented, and restores exactly the pages
//     written: a reset that grows with what the invocation wrote, a cost in its execution that
//     grows with how often it stores.
//
// full (never cheaper than diff but when every page is written) and cow (page faults on the
// next invocation, paid inside it) are not candidates: auto picks among the two that win on
// the built-in workloads (README, "Rewind strategies").
//
// Both variants are compiled when a reusable enclave is created (a one-shot enclave, mode cold,
// never resets, so it compiles diff's only and never switches). The enclave starts with diff:
//
//  1. explore: autoSamples invocations under the current variant, then autoSamples under the
//     other (one switch); the first invocation under a variant after the enclave's creation
//     or a switch is not a sample (its caches and pages are cold);
//  2. decide: the variant with the lower median execution + median reset wins (a second
//     switch if it is not the one running); the decision and its figures are the enclave's
//     [Enclave.StrategyChoice]. Before that, a variant whose executions were noisy — their
//     inner range, second largest minus second smallest, above autoNoise × their median and
//     above autoNoiseFloor — is measured once more (the current one first, without a switch; the other after a switch),
//     and the new samples replace the noisy ones: a burst of load on a shared machine during
//     one variant's samples would otherwise decide for a whole settled period. Each variant
//     is measured again at most once per exploration, so an exploration takes at most 23
//     invocations (12, 5 more for the current variant, 6 for the other) and 3 switches; the
//     decision's reason says which were measured again and why;
//  3. settle: a running mean of the chosen variant's cost is kept. The enclave explores again
//     after autoMinSettled invocations, then after twice as many, and so on up to
//     autoMaxSettled (a decision made during a burst of noise does not stand for ever), and
//     sooner — but not before autoMinSettled invocations — when the running cost drifts by
//     more than autoDrift from the cost at the decision (the workload's behaviour changed:
//     other inputs, a grown heap). The doubling bounds what exploring costs: about 2 switches
//     and 2·autoSamples invocations per exploration, 14 explorations in a million invocations.
//
// A switch is a recycle (Reset "recycle"): the instance is dropped, the heap zeroed, and the
// other variant instantiated and brought to the clean state, as after a trap (see
// [Enclave.rebuild]). At the function point an enclave whose start function or init changed
// state only running them again reproduces (a table, a dropped segment, a reference global)
// cannot be rebuilt from its snapshot: it never switches, and says so. Whatever the variant,
// the clean state is the same snapshot: outputs never depend on the choice, which the
// differential fuzzer checks with a picker that switches after every invocation.
const (
	// autoSamples is the number of invocations measured under each variant while exploring.
	autoSamples = 5
	// autoDrift is how far (as a factor, either way) the chosen variant's running cost may move
	// from its cost at the decision before the enclave explores again.
	autoDrift = 1.5
	// autoMinSettled is the least number of invocations between a decision and the next
	// exploration; it doubles after each exploration, up to autoMaxSettled.
	autoMinSettled = 64
	autoMaxSettled = 1 << 16
	// autoNoise is the inner range of a variant's autoSamples executions, relative to their
	// median, above which they are measured again. 5 consecutive rewound executions of the
	// built-in workloads spread this much in fewer than 1 window in 10, but for hello-go and
	// json-transform at the function point, whose runtimes collect garbage now and then (1 in
	// 4), and hello-go-cmd (1 in 7): see docs/design.md.
	autoNoise = 0.2
	// autoNoiseFloor is the least inner range that counts as noise: executions of a
	// microsecond or less (noop, counter) spread by 20% from the clock reads and the host's
	// scheduling alone, and at that scale a choice made in a burst costs nanoseconds.
	autoNoiseFloor = float64(time.Microsecond)
)

// Module variants of an enclave of strategy auto, indexes into Enclave.variants.
const (
	variantDiff    = 0
	variantTracked = 1
)

// variantStrategy is the strategy each variant restores with.
var variantStrategy = [2]Strategy{variantDiff: StrategyDiff, variantTracked: StrategyTracked}

// autoPicker decides which variant an enclave of strategy auto runs. It only sees durations,
// so that it can be tested without an enclave; the enclave does the switching.
type autoPicker struct {
	cur        int          // the variant running now
	exploring  bool         // measuring; false once settled
	explored   [2]bool      // measured in this exploration
	retried    [2]bool      // measured again in this exploration, its first samples noisy
	retries    []string     // what was measured again in this exploration, and why
	exec       [2][]float64 // ns, this exploration's samples per variant
	reset      [2][]float64 // ns
	lastExec   float64      // the execution of the invocation whose reset comes next
	cost       float64      // settled: running mean of execution + reset, ns
	decided    float64      // settled: the chosen variant's cost at the decision, ns
	since      int          // settled: invocations since the decision
	minSettled int          // invocations before drift may trigger an exploration
	reason     string       // why the current variant was chosen
	locked     string       // non-empty: switching is impossible, and why
	forceEvery int          // tests: switch after every forceEvery invocations, ignoring costs
	count      int          // invocations seen (forceEvery)
	skip       bool         // the next invocation is the first under the variant: no sample
	skipping   bool         // the current invocation is that one
	noted      bool         // reason changed since the enclave last reported it
}

// autoMedians are the medians a decision compared.
type autoMedians struct{ exec, reset float64 }

func newAutoPicker(forceEvery int) *autoPicker {
	p := &autoPicker{cur: variantDiff, exploring: true, skip: true, minSettled: autoMinSettled, forceEvery: forceEvery,
		reason: "exploring: diff and tracked are measured for " + strconv.Itoa(autoSamples) + " invocations each"}
	if forceEvery > 0 {
		p.reason = fmt.Sprintf("switching after every %d invocations (a test setting)", forceEvery)
	}
	return p
}

// lock stops the picker from ever switching, for why.
func (p *autoPicker) lock(why string) {
	p.locked, p.exploring = why, false
	p.reason = string(variantStrategy[p.cur]) + ": " + why
}

// afterExec accounts for the execution of an invocation under the current variant and reports
// whether the enclave should switch to the other variant now, instead of resetting this one.
func (p *autoPicker) afterExec(exec time.Duration) bool {
	p.lastExec = float64(exec)
	p.count++
	if p.locked != "" {
		return false
	}
	if p.forceEvery > 0 {
		return p.count%p.forceEvery == 0
	}
	if !p.exploring {
		return false
	}
	if p.skip {
		p.skip, p.skipping = false, true
		return false
	}
	p.exec[p.cur] = append(p.exec[p.cur], p.lastExec)
	if len(p.exec[p.cur]) < autoSamples {
		return false
	}
	// This variant is measured: autoSamples executions, and the resets of all but this one.
	p.explored[p.cur] = true
	if !p.explored[1-p.cur] {
		return true // measure the other one
	}
	return p.decide()
}

// decide compares the two measured variants, settles on the cheaper and reports whether that
// is not the one running.
func (p *autoPicker) decide() bool {
	for _, v := range [2]int{p.cur, 1 - p.cur} {
		if p.retried[v] {
			continue
		}
		lo, hi, med, noisy := spread(p.exec[v])
		if !noisy {
			continue
		}
		why := fmt.Sprintf("%s measured again: its %d executions spread from %s to %s around a median of %s",
			variantStrategy[v], len(p.exec[v]), fmtNs(lo), fmtNs(hi), fmtNs(med))
		p.retried[v], p.explored[v] = true, false
		p.retries = append(p.retries, why)
		p.exec[v], p.reset[v] = nil, nil
		p.reason, p.noted = "exploring: "+why, true
		// The current one is measured again from the next invocation on: the reset after this
		// one, the last of the noisy block, is not a sample (afterReset drops it). The other
		// one gets a switch, whose first invocation is not a sample either.
		p.skipping = v == p.cur
		return v != p.cur
	}
	var m [2]autoMedians
	var c [2]float64
	for v := range 2 {
		m[v] = autoMedians{exec: median(p.exec[v]), reset: median(p.reset[v])}
		c[v] = m[v].exec + m[v].reset
	}
	best := variantDiff
	if c[variantTracked] < c[variantDiff] {
		best = variantTracked
	}
	other := 1 - best
	p.reason = fmt.Sprintf("%s: execution %s + reset %s = %s, below %s: %s + %s = %s (medians of %d invocations each)",
		variantStrategy[best], fmtNs(m[best].exec), fmtNs(m[best].reset), fmtNs(c[best]),
		variantStrategy[other], fmtNs(m[other].exec), fmtNs(m[other].reset), fmtNs(c[other]), autoSamples)
	if len(p.retries) > 0 {
		p.reason += "; " + strings.Join(p.retries, "; ")
	}
	p.exploring, p.explored, p.retried, p.retries = false, [2]bool{}, [2]bool{}, nil
	p.exec, p.reset = [2][]float64{}, [2][]float64{}
	p.decided, p.cost, p.since = c[best], c[best], 0
	p.noted = true
	return best != p.cur
}

// afterReset accounts for the reset that followed the last execution (a rewind of the current
// variant; not a switch or a recycle, whose cost is not the variant's).
func (p *autoPicker) afterReset(reset time.Duration) {
	if p.locked != "" || p.forceEvery > 0 {
		return
	}
	r := float64(reset)
	if p.exploring {
		if p.skipping {
			p.skipping = false
			return
		}
		p.reset[p.cur] = append(p.reset[p.cur], r)
		return
	}
	p.since++
	p.cost += (p.lastExec + r - p.cost) / 16
	drift := p.cost > p.decided*autoDrift || p.cost*autoDrift < p.decided
	if p.since >= p.minSettled || (drift && p.since >= autoMinSettled) {
		// Explore again, starting with the variant running (no switch to measure it).
		p.reason = fmt.Sprintf("exploring again after %d invocations: %s cost %s at the decision, %s now", p.since, variantStrategy[p.cur], fmtNs(p.decided), fmtNs(p.cost))
		p.exploring, p.noted = true, true
		p.minSettled = min(2*p.minSettled, autoMaxSettled)
	}
}

// switched records that the enclave now runs the other variant.
func (p *autoPicker) switched() {
	p.cur = 1 - p.cur
	p.skip = true
}

// spread returns the second smallest and second largest of xs, its median, and whether they
// are further apart than autoNoise × the median and autoNoiseFloor (the smallest and largest
// are left out, so that one outlier, a collection cycle say, does not count as noise).
func spread(xs []float64) (lo, hi, med float64, noisy bool) {
	if len(xs) < 3 {
		return 0, 0, median(xs), false
	}
	s := slices.Sorted(slices.Values(xs))
	lo, hi, med = s[1], s[len(s)-2], median(s)
	return lo, hi, med, hi-lo > autoNoise*med && hi-lo > autoNoiseFloor
}

// median returns the median of xs (the mean of the two middle values for an even count), 0 for
// none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// fmtNs formats a duration in nanoseconds with three significant digits: "1.33 ms", "4.1 µs".
func fmtNs(ns float64) string {
	unit, div := "ns", 1.0
	switch {
	case ns >= 1e9:
		unit, div = "s", 1e9
	case ns >= 1e6:
		unit, div = "ms", 1e6
	case ns >= 1e3:
		unit, div = "µs", 1e3
	}
	v := strconv.FormatFloat(ns/div, 'g', 3, 64)
	if strings.Contains(v, "e") { // 999.6 rounds to 1e+03
		v = strconv.FormatFloat(ns/div, 'f', 0, 64)
	}
	return v + " " + unit
}
