package results

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"golang.org/x/perf/benchmath"
)

// metricOf returns the record field a metric name stands for, and its JSON name: latency
// (latency_ns, the default), response (response_ns) or exec (exec_ns).
func metricOf(name string) (func(*Record) int64, string, error) {
	switch name {
	case "latency", "":
		return func(r *Record) int64 { return r.LatencyNs }, "latency_ns", nil
	case "response":
		return func(r *Record) int64 { return r.ResponseNs }, "response_ns", nil
	case "exec":
		return func(r *Record) int64 { return r.ExecNs }, "exec_ns", nil
	}
	return nil, "", fmt.Errorf("metric %q: want latency, response or exec", name)
}

// CompareOptions configures [Compare].
type CompareOptions struct {
	// Alpha is the significance level: a difference whose Mann–Whitney U p-value is below it is
	// significant. 0 means 0.05.
	Alpha float64
	// Threshold is the slow-down, as a fraction of the base median (0.05 for 5%), beyond which
	// a significant difference is a regression. 0 makes every significant slow-down one.
	Threshold float64
	// Metric is the record field compared: latency (latency_ns), response (response_ns) or
	// exec (exec_ns); "" means latency.
	Metric string
	// Unit is what one sample is: UnitInvocation (the default: every measured invocation) or
	// UnitRepetition (the median of each repetition of the configuration). Invocations of one
	// run are not independent of the machine's state during that run: on a shared machine two
	// runs of the same build differ by more than their invocations' spread suggests, and the
	// invocation test calls that a change. With repetitions (the config's repetitions, each
	// with fresh enclaves and warm-up, at different times) as the unit, that drift is part of
	// each side's spread; at least 4 repetitions per side are needed for a p-value below 0.05.
	Unit string
	// ExpectedErrors returns what a configuration produces by design and is not counted as a
	// failure: error kinds (a record's error_kind) and "dropped" for dropped arrivals (a
	// config's expected_errors). nil: nothing is expected, every failure counts.
	ExpectedErrors func(Key) []string
	// RepeatsOutput reports whether every invocation of a configuration must give the same
	// output for its input (a deterministic workload, in a mode that runs each invocation on
	// clean state: see workloads.Manifest.RepeatsOutput); only such configurations' outputs
	// are compared. nil: none is.
	RepeatsOutput func(Key) bool
}

// Units of [CompareOptions.Unit].
const (
	UnitInvocation = "invocation"
	UnitRepetition = "repetition"
)

// Verdicts of a [ComparisonRow].
const (
	// VerdictSame: the difference is not significant (p ≥ alpha; the delta is shown as "~"),
	// or the medians are equal.
	VerdictSame = "~"
	// VerdictFaster: significantly faster.
	VerdictFaster = "faster"
	// VerdictSlower: significantly slower, but by no more than the threshold.
	VerdictSlower = "slower"
	// VerdictRegression: significantly slower by more than the threshold.
	VerdictRegression = "regression"
	// VerdictFailed: the base run has successful invocations and the new run none; counted
	// as a regression.
	VerdictFailed = "failed"
	// VerdictNoData: the base run has no successful invocation to compare with.
	VerdictNoData = "no data"
	// VerdictMissing: the configuration is in the base run only; counted as a regression.
	VerdictMissing = "missing"
)

// Reasons a [ComparisonRow] fails the regression gate ([ComparisonRow.Reasons]), as the
// table's verdict column names them. Latency is judged by the median; the others are judged
// whatever the latency says, because a build that fails or answers wrongly is broken however
// fast it is.
const (
	// ReasonSlower: significantly slower by more than the threshold ([VerdictRegression]).
	ReasonSlower = VerdictRegression
	// ReasonFailed: no successful invocation where the base run had some ([VerdictFailed]).
	ReasonFailed = VerdictFailed
	// ReasonErrors: more unexpected failures (failed invocations whose error kind is not
	// expected, and dropped arrivals unless dropped is expected) than the base run's rate
	// allows (see [ExceedsRate]).
	ReasonErrors = "errors"
	// ReasonInvalid: more successful invocations whose output did not match the workload's
	// expected output (valid false) than the base run's rate allows (see [ExceedsRate]).
	ReasonInvalid = "invalid"
	// ReasonOutputs: a configuration whose outputs must repeat
	// ([CompareOptions.RepeatsOutput]) gave an output the base run never gave: a new
	// distinct output (state leaking across invocations, randomness, a changed result).
	ReasonOutputs = "outputs"
	// ReasonMissing: the configuration is in the base run and not in the new one
	// ([VerdictMissing]): what is not measured cannot pass.
	ReasonMissing = VerdictMissing
)

// Dropped is the word for a dropped arrival wherever error kinds are counted or declared
// expected: [ComparisonRow]'s failures, [RunFailure.Errors], a config's expected_errors.
const Dropped = "dropped"

// ExceedsRate reports whether count of n in the new run is more than the base run's rate,
// baseCount of baseN, allows: more than baseCount·n/baseN rounded up to a whole invocation.
// Failures are compared as rates because the two runs may differ in their number of
// invocations (a closed loop run for a duration, a different config); rounding up keeps a
// single failure in both runs from failing a slightly shorter new run, and with equal n the
// rule is a plain count: more failures than the base run had. With a base rate of 0, any
// failure exceeds it.
func ExceedsRate(baseCount, baseN, count, n int) bool {
	if count <= 0 {
		return false
	}
	if baseN <= 0 {
		return true
	}
	allowed := (int64(baseCount)*int64(n) + int64(baseN) - 1) / int64(baseN)
	return int64(count) > allowed
}

// Comparison is the result of [Compare]: one row per configuration of the base run.
type Comparison struct {
	// Metric is the record field compared (latency_ns, response_ns or exec_ns).
	Metric    string
	Alpha     float64
	Threshold float64
	// Unit is what one sample was: UnitInvocation or UnitRepetition.
	Unit string
	// Rows are the configurations of the base run, in its order: those of both runs, and
	// those missing from the new run (Missing, verdict [VerdictMissing]).
	Rows []ComparisonRow
	// OnlyBase and OnlyNew are the configurations present in one run only: OnlyBase's are
	// also rows (missing), OnlyNew's are not compared.
	OnlyBase, OnlyNew []Key
}

// ComparisonRow compares one configuration's successful measured invocations in two runs.
type ComparisonRow struct {
	Key       Key
	Base, New Dist
	// BaseN and NewN are the successful measured invocations compared; BaseErrors and
	// NewErrors the failed ones, left out.
	BaseN, NewN           int
	BaseErrors, NewErrors int
	// Delta is the change of the median, New.P50 / Base.P50 − 1 (NaN when either side has no
	// sample or the base median is 0).
	Delta float64
	// P is the Mann–Whitney U test's p-value of the hypothesis that both samples come from the
	// same distribution (1 when a side has no sample).
	P       float64
	Verdict string
	// Warnings are benchmath's and the samples' warnings: too few samples, high variance,
	// failures.
	Warnings []string

	// BaseArrivals and NewArrivals are the measured arrivals: invocations issued (failed ones
	// included) and dropped. They are the denominators of the failure and invalid rates.
	BaseArrivals, NewArrivals int
	// BaseFailures and NewFailures are the unexpected failures by error kind ([Dropped] for
	// dropped arrivals): what [CompareOptions.ExpectedErrors] does not name.
	BaseFailures, NewFailures map[string]int
	// BaseInvalid and NewInvalid are the successful invocations whose output did not match
	// the workload's expected output (valid false).
	BaseInvalid, NewInvalid int
	// BaseOutputs and NewOutputs are the distinct outputs of the successful invocations,
	// counted up to [MaxDistinctOutputs] (Capped: there were more).
	BaseOutputs, NewOutputs             int
	BaseOutputsCapped, NewOutputsCapped bool
	// OutputsJudged: the configuration's outputs must repeat ([CompareOptions.RepeatsOutput]),
	// so a new distinct output fails it.
	OutputsJudged bool
	// NewOutputsUnseen is the distinct outputs of the new run the base run never gave
	// (counted when OutputsJudged and the base's outputs were counted in full).
	NewOutputsUnseen int
	// Missing: the configuration is in the base run only.
	Missing bool
	// Reasons are why the row fails the gate, in the order ReasonMissing, ReasonSlower or
	// ReasonFailed, ReasonErrors, ReasonInvalid, ReasonOutputs; empty when it passes.
	Reasons []string
}

// Regression reports whether the row fails the regression gate: missing from the new run,
// significantly slower by more than the threshold, failing every invocation where the base
// run did not, failing or answering wrongly more often than the base run, or giving an
// output the base run never gave where outputs must repeat (see [ComparisonRow.Reasons]).
func (r *ComparisonRow) Regression() bool { return len(r.Reasons) > 0 }

// total is the sum of counts.
func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// formatKinds writes counts by kind, sorted by kind: "deadline 3, trap 12".
func formatKinds(counts map[string]int) string {
	parts := make([]string, 0, len(counts))
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		name := k
		if name == "" {
			name = "unknown"
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, counts[k]))
	}
	return strings.Join(parts, ", ")
}

// Regressions returns the rows that are regressions ([ComparisonRow.Regression]).
func (c *Comparison) Regressions() []ComparisonRow {
	var out []ComparisonRow
	for _, r := range c.Rows {
		if r.Regression() {
			out = append(out, r)
		}
	}
	return out
}

// sideSamples is one run's samples of one configuration, held within bounded memory: every
// sample up to [ExactLimit], then a histogram and a reservoir (see [Summarizer]); the
// failures by kind, the invalid outputs and up to [MaxDistinctOutputs] output hashes.
type sideSamples struct {
	s        *series
	reps     map[int]*series // per repetition, with UnitRepetition
	errors   int
	arrivals int            // measured records, dropped arrivals included
	failures map[string]int // failed invocations by error kind; Dropped: dropped arrivals
	invalid  int            // successful invocations with valid false
	outputs  distinctSet    // output hashes of the successful invocations
}

// side is one run's configurations, in order of first appearance.
type side struct {
	order  []Key
	groups map[Key]*sideSamples
}

// Comparer compares two runs streamed record by record ([Comparer.AddBase],
// [Comparer.AddNew]) within bounded memory, so that runs of any length can be compared:
// each configuration's samples are held exactly up to [ExactLimit], beyond which the medians
// come from an HDR histogram (within [QuantileRelError]) and the Mann–Whitney U test and the
// medians' confidence intervals from a seeded uniform reservoir of [ReservoirSize] samples
// (a row's warnings say so). [Compare] is the same for records in memory.
type Comparer struct {
	opts         CompareOptions
	metric       func(*Record) int64
	name         string
	byRepetition bool
	base, cur    side
	limit, k     int
}

// NewComparer returns a Comparer, or an error for options [Compare] would refuse.
func NewComparer(opts CompareOptions) (*Comparer, error) {
	if opts.Alpha == 0 {
		opts.Alpha = 0.05
	}
	if !(opts.Alpha > 0 && opts.Alpha < 1) {
		return nil, fmt.Errorf("compare: alpha %v: want a level between 0 and 1", opts.Alpha)
	}
	if !(opts.Threshold >= 0) || math.IsInf(opts.Threshold, 0) {
		return nil, fmt.Errorf("compare: threshold %v: want a non-negative fraction", opts.Threshold)
	}
	metric, name, err := metricOf(opts.Metric)
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	c := &Comparer{opts: opts, metric: metric, name: name, limit: ExactLimit, k: ReservoirSize,
		base: side{groups: map[Key]*sideSamples{}}, cur: side{groups: map[Key]*sideSamples{}}}
	switch opts.Unit {
	case "", UnitInvocation:
	case UnitRepetition:
		c.byRepetition = true
	default:
		return nil, fmt.Errorf("compare: unit %q: want %s or %s", opts.Unit, UnitInvocation, UnitRepetition)
	}
	return c, nil
}

// AddBase accounts for a record of the base run; AddNew for one of the new run. Warm-up
// records are skipped; dropped arrivals and failed invocations are counted apart (by kind),
// the outputs of successful invocations checked (valid, distinct hashes).
func (c *Comparer) AddBase(r *Record) { c.add(&c.base, r) }

// AddNew accounts for a record of the new run: see [Comparer.AddBase].
func (c *Comparer) AddNew(r *Record) { c.add(&c.cur, r) }

func (c *Comparer) add(sd *side, r *Record) {
	if r.Warmup {
		return
	}
	k := r.Key()
	g := sd.groups[k]
	if g == nil {
		g = &sideSamples{s: newSeries(c.limit, c.k), reps: map[int]*series{}, failures: map[string]int{}}
		sd.groups[k] = g
		sd.order = append(sd.order, k)
	}
	g.arrivals++
	if r.Dropped {
		g.failures[Dropped]++
		return
	}
	if r.Error != "" {
		g.errors++
		g.failures[r.ErrorKind]++
		return
	}
	if r.Valid != nil && !*r.Valid {
		g.invalid++
	}
	g.outputs.add(r.OutputSHA256)
	x := float64(c.metric(r))
	if !c.byRepetition {
		g.s.add(x)
		return
	}
	rs := g.reps[r.Repetition]
	if rs == nil {
		rs = newSeries(c.limit, 0)
		g.reps[r.Repetition] = rs
	}
	rs.add(x)
}

// samples returns a configuration's samples as compared: the series itself, or with
// UnitRepetition a series of the medians of its repetitions, in repetition order.
func (c *Comparer) samples(g *sideSamples) *series {
	if !c.byRepetition {
		return g.s
	}
	s := newSeries(c.limit, c.k)
	for _, rep := range slices.Sorted(maps.Keys(g.reps)) {
		s.add(g.reps[rep].median())
	}
	return s
}

// Comparison compares the records added so far, as [Compare] does.
func (c *Comparer) Comparison() (*Comparison, error) {
	if len(c.base.order) == 0 {
		return nil, errors.New("compare: the base run has no measured records")
	}
	if len(c.cur.order) == 0 {
		return nil, errors.New("compare: the new run has no measured records")
	}
	cmp := &Comparison{Metric: c.name, Alpha: c.opts.Alpha, Threshold: c.opts.Threshold, Unit: UnitInvocation}
	if c.byRepetition {
		cmp.Unit = UnitRepetition
	}
	thresholds := &benchmath.Thresholds{CompareAlpha: c.opts.Alpha}
	shared := 0
	for _, k := range c.base.order {
		bg := c.base.groups[k]
		ng, ok := c.cur.groups[k]
		if !ok {
			cmp.OnlyBase = append(cmp.OnlyBase, k)
			cmp.Rows = append(cmp.Rows, c.missingRow(k, bg))
			continue
		}
		shared++
		row := compareRow(k, c.samples(bg), c.samples(ng), bg.errors, ng.errors, thresholds, c.opts.Threshold)
		c.judge(&row, bg, ng)
		cmp.Rows = append(cmp.Rows, row)
	}
	for _, k := range c.cur.order {
		if _, ok := c.base.groups[k]; !ok {
			cmp.OnlyNew = append(cmp.OnlyNew, k)
		}
	}
	if shared == 0 {
		return cmp, fmt.Errorf("compare: the runs share no configuration (base has %d, new has %d; %s)",
			len(c.base.order), len(c.cur.order), describeKeyDifference(c.base.order[0], c.cur.order[0]))
	}
	return cmp, nil
}

// split splits a side's failures by kind into those the configuration does not expect and
// those it does.
func (c *Comparer) split(k Key, g *sideSamples) (unexpected, expected map[string]int) {
	var kinds []string
	if c.opts.ExpectedErrors != nil {
		kinds = c.opts.ExpectedErrors(k)
	}
	unexpected, expected = map[string]int{}, map[string]int{}
	for kind, n := range g.failures {
		if slices.Contains(kinds, kind) {
			expected[kind] = n
		} else {
			unexpected[kind] = n
		}
	}
	return unexpected, expected
}

// missingRow is the row of a configuration of the base run that the new run lacks.
func (c *Comparer) missingRow(k Key, bg *sideSamples) ComparisonRow {
	b := c.samples(bg)
	row := ComparisonRow{Key: k, BaseN: int(b.n), BaseErrors: bg.errors, Delta: math.NaN(), P: 1,
		Verdict: VerdictMissing, Missing: true, Reasons: []string{ReasonMissing},
		BaseArrivals: bg.arrivals, BaseInvalid: bg.invalid,
		BaseOutputs: len(bg.outputs.seen), BaseOutputsCapped: bg.outputs.capped}
	row.Base, _ = b.describe()
	row.BaseFailures, _ = c.split(k, bg)
	return row
}

// judge fills in a row's failures, invalid outputs and distinct outputs on both sides and
// its reasons to fail the gate.
func (c *Comparer) judge(row *ComparisonRow, bg, ng *sideSamples) {
	k := row.Key
	row.BaseArrivals, row.NewArrivals = bg.arrivals, ng.arrivals
	row.BaseInvalid, row.NewInvalid = bg.invalid, ng.invalid
	row.BaseOutputs, row.BaseOutputsCapped = len(bg.outputs.seen), bg.outputs.capped
	row.NewOutputs, row.NewOutputsCapped = len(ng.outputs.seen), ng.outputs.capped
	var bExpected, nExpected map[string]int
	row.BaseFailures, bExpected = c.split(k, bg)
	row.NewFailures, nExpected = c.split(k, ng)
	for _, sd := range []struct {
		name     string
		expected map[string]int
		arrivals int
	}{{"base", bExpected, bg.arrivals}, {"new", nExpected, ng.arrivals}} {
		if n := total(sd.expected); n > 0 {
			row.Warnings = append(row.Warnings, fmt.Sprintf("%s: %d of %d arrivals failed or were dropped as the config expects (%s): not counted as failures",
				sd.name, n, sd.arrivals, formatKinds(sd.expected)))
		}
	}
	if c.opts.RepeatsOutput != nil && c.opts.RepeatsOutput(k) {
		row.OutputsJudged = true
		if !bg.outputs.capped {
			for h := range ng.outputs.seen {
				if _, ok := bg.outputs.seen[h]; !ok {
					row.NewOutputsUnseen++
				}
			}
		}
	}

	switch row.Verdict {
	case VerdictRegression:
		row.Reasons = append(row.Reasons, ReasonSlower)
	case VerdictFailed:
		row.Reasons = append(row.Reasons, ReasonFailed)
	}
	if ExceedsRate(total(row.BaseFailures), row.BaseArrivals, total(row.NewFailures), row.NewArrivals) {
		row.Reasons = append(row.Reasons, ReasonErrors)
	}
	if ExceedsRate(row.BaseInvalid, row.BaseArrivals, row.NewInvalid, row.NewArrivals) {
		row.Reasons = append(row.Reasons, ReasonInvalid)
	}
	// Judged against what the base gave: with no base output there is nothing to repeat,
	// and beyond the cap the base's outputs are not all known.
	if row.OutputsJudged && row.BaseOutputs > 0 && !row.BaseOutputsCapped &&
		(row.NewOutputsCapped || row.NewOutputsUnseen > 0) {
		row.Reasons = append(row.Reasons, ReasonOutputs)
	}
}

// Compare compares two runs, the base and the new (current) one, configuration by
// configuration, as benchstat compares benchmarks: the median of the metric with its 95%
// confidence interval on each side, the change of the median, and the Mann–Whitney U test
// (benchmath's AssumeNothing) for whether the change is significant. Warm-up records, dropped
// arrivals and failed invocations are left out of the latency. Besides the latency, each
// configuration's correctness is judged ([ComparisonRow.Reasons]): unexpected failures and
// invalid outputs against the base run's rates ([ExceedsRate]), distinct outputs where they
// must repeat, and a configuration of the base run missing from the new one. It is an error
// when a run has no measured record or when the runs share no configuration. A configuration
// with more than [ExactLimit] samples on a side is compared within bounded memory: see
// [Comparer], which compares runs streamed from disk.
func Compare(base, current []Record, opts CompareOptions) (*Comparison, error) {
	c, err := NewComparer(opts)
	if err != nil {
		return nil, err
	}
	for i := range base {
		c.AddBase(&base[i])
	}
	for i := range current {
		c.AddNew(&current[i])
	}
	return c.Comparison()
}

// describeKeyDifference names the parameters in which two keys differ, to say why two runs
// share no configuration.
func describeKeyDifference(a, b Key) string {
	var diffs []string
	for _, p := range keyParams(a) {
		for _, q := range keyParams(b) {
			if p.name == q.name && p.value != q.value {
				diffs = append(diffs, fmt.Sprintf("%s %q vs %q", p.name, p.value, q.value))
			}
		}
	}
	if len(diffs) == 0 {
		return "for example they differ in workload or mode"
	}
	return "for example " + strings.Join(diffs, ", ")
}

// compareRow compares one configuration's samples of the two runs.
func compareRow(k Key, b, n *series, baseErrors, newErrors int, th *benchmath.Thresholds, threshold float64) ComparisonRow {
	row := ComparisonRow{Key: k, BaseN: int(b.n), NewN: int(n.n), BaseErrors: baseErrors, NewErrors: newErrors,
		Delta: math.NaN(), P: 1}
	var bw, nw []string
	row.Base, bw = b.describe()
	row.New, nw = n.describe()
	for _, w := range bw {
		row.Warnings = append(row.Warnings, "base: "+w)
	}
	for _, w := range nw {
		row.Warnings = append(row.Warnings, "new: "+w)
	}
	for _, sd := range []struct {
		name string
		s    *series
	}{{"base", b}, {"new", n}} {
		if sd.s.sampled() {
			row.Warnings = append(row.Warnings, fmt.Sprintf("%s: %d samples: median within %s (HDR histogram); interval and U test on a uniform sample of %d",
				sd.name, sd.s.n, formatThreshold(QuantileRelError), len(sd.s.res)))
		}
	}
	if baseErrors > 0 {
		row.Warnings = append(row.Warnings, fmt.Sprintf("base: %d of %d invocations failed and are left out", baseErrors, baseErrors+row.BaseN))
	}
	if newErrors > 0 {
		row.Warnings = append(row.Warnings, fmt.Sprintf("new: %d of %d invocations failed and are left out", newErrors, newErrors+row.NewN))
	}
	switch {
	case b.n == 0:
		row.Verdict = VerdictNoData
		return row
	case n.n == 0:
		row.Verdict = VerdictFailed
		return row
	}
	if row.Base.P50 != 0 {
		row.Delta = row.New.P50/row.Base.P50 - 1
	}
	// testSample returns copies, sorted: NewSample sorts its values in place.
	cmp := benchmath.AssumeNothing.Compare(benchmath.NewSample(b.testSample(), th), benchmath.NewSample(n.testSample(), th))
	row.P = cmp.P
	for _, w := range cmp.Warnings {
		row.Warnings = append(row.Warnings, w.Error())
	}
	switch {
	case row.P >= th.CompareAlpha || row.New.P50 == row.Base.P50:
		// Not significant, or the distributions differ but not their medians.
		row.Verdict = VerdictSame
	case row.New.P50 < row.Base.P50:
		row.Verdict = VerdictFaster
	case row.Base.P50 == 0 || row.Delta > threshold:
		row.Verdict = VerdictRegression
	default:
		row.Verdict = VerdictSlower
	}
	return row
}

// param is one parameter of a [Key] besides workload and mode, by its JSON name.
type param struct{ name, value string }

// keyParams lists a key's parameters besides workload and mode, in the order of [Key]'s
// fields, by their JSON names; memory_bytes is shown in MiB. It reflects over Key so that a
// parameter added to Key appears in comparisons without changes here.
func keyParams(k Key) []param {
	v := reflect.ValueOf(k)
	t := v.Type()
	out := make([]param, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "workload" || name == "mode" || name == "" || name == "-" {
			continue
		}
		var value string
		switch f := v.Field(i); {
		case name == "memory_bytes":
			value = formatBytes(f.Int())
		case f.Kind() == reflect.String:
			value = f.String()
		case f.CanInt():
			value = strconv.FormatInt(f.Int(), 10)
		case f.Kind() == reflect.Bool:
			value = strconv.FormatBool(f.Bool())
		default:
			value = fmt.Sprint(f.Interface())
		}
		out = append(out, param{name, value})
	}
	return out
}

// formatBytes writes a size in MiB when it is a whole number of them, else in bytes.
func formatBytes(n int64) string {
	if n != 0 && n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + "MiB"
	}
	return strconv.FormatInt(n, 10)
}

// paramColumns splits the parameters of the keys into those equal in every key (common) and
// the names of those that vary, so the table shows each varying one per row and the rest once.
func paramColumns(keys []Key) (common []param, varying map[string]bool) {
	varying = map[string]bool{}
	if len(keys) == 0 {
		return nil, varying
	}
	first := keyParams(keys[0])
	for _, k := range keys[1:] {
		for i, p := range keyParams(k) {
			if p.value != first[i].value {
				varying[p.name] = true
			}
		}
	}
	for _, p := range first {
		if !varying[p.name] && p.value != "" {
			common = append(common, p)
		}
	}
	return common, varying
}

// formatParams writes the parameters of k that vary, as name=value (empty values left out).
func formatParams(k Key, varying map[string]bool) string {
	var parts []string
	for _, p := range keyParams(k) {
		if varying[p.name] && p.value != "" {
			parts = append(parts, p.name+"="+p.value)
		}
	}
	return strings.Join(parts, " ")
}

// rowName names a configuration in the lines below the table: workload, mode and the
// parameters that vary.
func rowName(k Key, varying map[string]bool) string {
	name := k.Workload + " " + k.Mode
	if p := formatParams(k, varying); p != "" {
		name += " " + p
	}
	return name
}

// formatMedianCI writes a median with the half-width of its confidence interval relative to
// it, as benchstat does: "21.3 µs ± 2%", "± ∞" when the sample is too small for an interval.
func formatMedianCI(d Dist, n int) string {
	if n == 0 {
		return NoValue
	}
	if d.P50CI95Lo == nil || d.P50CI95Hi == nil {
		return FormatNs(d.P50) + " ± ∞"
	}
	w := CIHalfWidth(d.P50, *d.P50CI95Lo, *d.P50CI95Hi)
	if math.IsInf(w, 0) {
		return FormatNs(d.P50) + " ± ∞"
	}
	return fmt.Sprintf("%s ± %.0f%%", FormatNs(d.P50), w*100)
}

// formatDelta writes the change of the median of a row: "~" when not significant, else a
// signed percentage with three significant digits ("+30.1%"), "?" when the base median is 0
// and [NoValue] when a side has no sample.
func formatDelta(r *ComparisonRow, alpha float64) string {
	switch {
	case r.Verdict == VerdictNoData || r.Verdict == VerdictFailed || r.Missing:
		return NoValue
	case r.P >= alpha:
		return "~"
	case math.IsNaN(r.Delta):
		return "?"
	}
	return FormatPercent(r.Delta)
}

// formatThreshold writes a fraction as a percentage with no more digits than it needs: "5%".
func formatThreshold(f float64) string {
	return strconv.FormatFloat(f*100, 'f', -1, 64) + "%"
}

// formatPair writes a base and a new count as "base+new", [NoValue] for a row missing from
// the new run.
func formatPair(r *ComparisonRow, base, cur int) string {
	if r.Missing {
		return NoValue
	}
	return strconv.Itoa(base) + "+" + strconv.Itoa(cur)
}

// formatOutputs writes the distinct outputs of a row as "base+new" (≥N when counting stopped
// at the cap), [NoValue] when they are not judged.
func formatOutputs(r *ComparisonRow) string {
	if !r.OutputsJudged || r.Missing {
		return NoValue
	}
	return formatCount(r.BaseOutputs, r.BaseOutputsCapped) + "+" + formatCount(r.NewOutputs, r.NewOutputsCapped)
}

// verdictWords writes the verdict column of a row: the latency verdict (empty when "~"),
// then each other reason the row fails the gate.
func verdictWords(r *ComparisonRow) string {
	var words []string
	if r.Verdict != VerdictSame {
		words = append(words, r.Verdict)
	}
	for _, reason := range r.Reasons {
		if !slices.Contains(words, reason) {
			words = append(words, reason)
		}
	}
	return strings.Join(words, ",")
}

// explain says why a row fails the gate, one clause per reason.
func explain(r *ComparisonRow, alpha float64) string {
	var parts []string
	for _, reason := range r.Reasons {
		switch reason {
		case ReasonMissing:
			parts = append(parts, fmt.Sprintf("missing from the new run (%d arrivals in the base run)", r.BaseArrivals))
		case ReasonSlower:
			parts = append(parts, fmt.Sprintf("median %s (p=%.3f)", formatDelta(r, alpha), r.P))
		case ReasonFailed:
			parts = append(parts, "failed every invocation")
		case ReasonErrors:
			parts = append(parts, fmt.Sprintf("unexpected failures %d of %d → %d of %d (%s)",
				total(r.BaseFailures), r.BaseArrivals, total(r.NewFailures), r.NewArrivals, formatKinds(r.NewFailures)))
		case ReasonInvalid:
			parts = append(parts, fmt.Sprintf("invalid outputs %d of %d → %d of %d",
				r.BaseInvalid, r.BaseArrivals, r.NewInvalid, r.NewArrivals))
		case ReasonOutputs:
			what := fmt.Sprintf("%d the base run never gave", r.NewOutputsUnseen)
			if r.NewOutputsCapped {
				what = fmt.Sprintf("at least %d, counting stopped", r.NewOutputs)
			}
			parts = append(parts, fmt.Sprintf("distinct outputs %s → %s (%s) where outputs must repeat",
				formatCount(r.BaseOutputs, r.BaseOutputsCapped), formatCount(r.NewOutputs, r.NewOutputsCapped), what))
		}
	}
	return strings.Join(parts, "; ")
}

// formatCount writes a count of distinct outputs, "≥N" when counting stopped at N.
func formatCount(n int, capped bool) string {
	if capped {
		return "≥" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// WriteComparison writes a comparison as a benchstat-style table: per configuration the base
// and new medians with their confidence intervals, the change of the median ("~" when not
// significant), the p-value and the sample sizes, the unexpected failures, invalid outputs
// and distinct outputs of both runs, and the verdict of the regression gate (one word per
// reason: [ComparisonRow.Reasons]); parameters shared by every row are written once above
// the table. Warnings follow as numbered notes, then the configurations present in the new
// run only and the closing verdict: each failing configuration with why.
func WriteComparison(w io.Writer, c *Comparison) error {
	keys := make([]Key, 0, len(c.Rows)+len(c.OnlyNew))
	for _, r := range c.Rows {
		keys = append(keys, r.Key)
	}
	keys = append(keys, c.OnlyNew...)
	common, varying := paramColumns(keys)

	fmt.Fprintf(w, "%s: median ± 95%% CI; delta of the medians where p < %g (Mann–Whitney U), ~ otherwise; regression beyond +%s\n",
		c.Metric, c.Alpha, formatThreshold(c.Threshold))
	fmt.Fprintln(w, "errors, invalid: unexpected failures, invalid outputs (base+new; above the base run's rate fails); outputs: distinct outputs where they must repeat (a new one fails; — not judged)")
	if c.Unit == UnitRepetition {
		fmt.Fprintln(w, "samples: the median of each repetition (n counts repetitions)")
	}
	if len(common) > 0 {
		parts := make([]string, len(common))
		for i, p := range common {
			parts[i] = p.name + "=" + p.value
		}
		fmt.Fprintf(w, "every configuration: %s\n", strings.Join(parts, " "))
	}
	fmt.Fprintln(w)

	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "workload\tmode\tparameters\tbase\tnew\tdelta\tp\tn\terrors\tinvalid\toutputs\tverdict\tnotes")
	var notes []string
	for _, r := range c.Rows {
		var refs []string
		for _, note := range r.Warnings {
			i := slices.Index(notes, note)
			if i < 0 {
				notes = append(notes, note)
				i = len(notes) - 1
			}
			refs = append(refs, "("+strconv.Itoa(i+1)+")")
		}
		p := fmt.Sprintf("%.3f", r.P)
		if r.Missing {
			p = NoValue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d+%d\t%s\t%s\t%s\t%s\t%s\n", r.Key.Workload, r.Key.Mode,
			formatParams(r.Key, varying), formatMedianCI(r.Base, r.BaseN), formatMedianCI(r.New, r.NewN),
			formatDelta(&r, c.Alpha), p, r.BaseN, r.NewN,
			formatPair(&r, total(r.BaseFailures), total(r.NewFailures)), formatPair(&r, r.BaseInvalid, r.NewInvalid),
			formatOutputs(&r), verdictWords(&r), strings.Join(refs, ""))
	}
	tw.Flush() // into a buffer: cannot fail
	for line := range strings.Lines(table.String()) {
		// Padding of empty trailing cells is noise in logs and diffs.
		fmt.Fprintln(w, strings.TrimRight(line, " \n"))
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for i, n := range notes {
			fmt.Fprintf(w, "(%d) %s\n", i+1, n)
		}
	}
	if len(c.OnlyNew) > 0 {
		fmt.Fprintf(w, "\nonly in the new run (not compared):\n")
		for _, k := range c.OnlyNew {
			fmt.Fprintf(w, "  %s\n", rowName(k, varying))
		}
	}
	regs := c.Regressions()
	fmt.Fprintln(w)
	if len(regs) == 0 {
		_, err := fmt.Fprintf(w, "no regression: no configuration is significantly slower by more than %s, fails or answers wrongly more often, gives a new output where outputs must repeat, or is missing\n",
			formatThreshold(c.Threshold))
		return err
	}
	fmt.Fprintf(w, "%d regression(s):\n", len(regs))
	for _, r := range regs {
		fmt.Fprintf(w, "  %s: %s\n", rowName(r.Key, varying), explain(&r, c.Alpha))
	}
	return nil
}

// RunFailure is a configuration of a run whose invocations failed, or whose outputs did not
// match the workload's expected output, in ways its experiment does not expect: what makes
// `reclave run` exit 3 ([RunFailures]).
type RunFailure struct {
	Key Key
	// Name names the configuration in a message: workload, mode and the parameters that vary
	// among the run's configurations.
	Name string
	// Arrivals is the measured arrivals: invocations issued (Result.N) and dropped.
	Arrivals int
	// Errors are the unexpected failures by error kind, [Dropped] for dropped arrivals.
	Errors map[string]int
	// Invalid is the successful invocations whose output did not match: the result's invalid
	// less its errors (a failed invocation whose output was to be validated counts as
	// invalid too). Exact when every failed invocation was validated; otherwise (a stateful
	// workload in mode warm) a lower bound, which matters only when every failure is
	// expected.
	Invalid int
}

// String says what failed: "counter rewind: 30 of 30 failed unexpectedly (trap 30)",
// ", 3 of 30 invalid outputs".
func (f RunFailure) String() string {
	var parts []string
	if n := total(f.Errors); n > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d failed unexpectedly (%s)", n, f.Arrivals, formatKinds(f.Errors)))
	}
	if f.Invalid > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d invalid outputs", f.Invalid, f.Arrivals))
	}
	return f.Name + ": " + strings.Join(parts, ", ")
}

// RunFailures returns the configurations of a run's summary, in its order, that have failed
// invocations or dropped arrivals of a kind expected does not name for them (expected
// returns a configuration's expected error kinds and [Dropped]; nil expects nothing), or
// successful invocations whose output did not match the workload's expected output (never
// expected). A healthy build has none.
func RunFailures(s *Summary, expected func(Key) []string) []RunFailure {
	keys := make([]Key, len(s.Results))
	for i := range s.Results {
		keys[i] = s.Results[i].Key
	}
	_, varying := paramColumns(keys)
	var out []RunFailure
	for i := range s.Results {
		r := &s.Results[i]
		var kinds []string
		if expected != nil {
			kinds = expected(r.Key)
		}
		f := RunFailure{Key: r.Key, Name: rowName(r.Key, varying), Arrivals: r.N + r.Dropped,
			Errors: map[string]int{}, Invalid: max(0, r.Invalid-r.Errors)}
		for kind, n := range r.ErrorKinds {
			if n > 0 && !slices.Contains(kinds, kind) {
				f.Errors[kind] += n
			}
		}
		if r.Dropped > 0 && !slices.Contains(kinds, Dropped) {
			f.Errors[Dropped] = r.Dropped
		}
		if len(f.Errors) > 0 || f.Invalid > 0 {
			out = append(out, f)
		}
	}
	return out
}
