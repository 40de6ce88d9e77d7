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
)

// Comparison is the result of [Compare]: one row per configuration present in both runs.
type Comparison struct {
	// Metric is the record field compared (latency_ns, response_ns or exec_ns).
	Metric    string
	Alpha     float64
	Threshold float64
	// Unit is what one sample was: UnitInvocation or UnitRepetition.
	Unit string
	// Rows are the configurations of both runs, in the base run's order.
	Rows []ComparisonRow
	// OnlyBase and OnlyNew are the configurations present in one run only.
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
}

// Regression reports whether the row fails a regression gate: significantly slower by more
// than the threshold, or failing every invocation where the base run did not.
func (r *ComparisonRow) Regression() bool {
	return r.Verdict == VerdictRegression || r.Verdict == VerdictFailed
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
// sample up to [ExactLimit], then a histogram and a reservoir (see [Summarizer]).
type sideSamples struct {
	s      *series
	reps   map[int]*series // per repetition, with UnitRepetition
	errors int
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
// records and dropped arrivals are skipped, failed invocations counted apart.
func (c *Comparer) AddBase(r *Record) { c.add(&c.base, r) }

// AddNew accounts for a record of the new run: see [Comparer.AddBase].
func (c *Comparer) AddNew(r *Record) { c.add(&c.cur, r) }

func (c *Comparer) add(sd *side, r *Record) {
	if r.Warmup || r.Dropped {
		return
	}
	k := r.Key()
	g := sd.groups[k]
	if g == nil {
		g = &sideSamples{s: newSeries(c.limit, c.k), reps: map[int]*series{}}
		sd.groups[k] = g
		sd.order = append(sd.order, k)
	}
	if r.Error != "" {
		g.errors++
		return
	}
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
	for _, k := range c.base.order {
		ng, ok := c.cur.groups[k]
		if !ok {
			cmp.OnlyBase = append(cmp.OnlyBase, k)
			continue
		}
		bg := c.base.groups[k]
		cmp.Rows = append(cmp.Rows, compareRow(k, c.samples(bg), c.samples(ng), bg.errors, ng.errors, thresholds, c.opts.Threshold))
	}
	for _, k := range c.cur.order {
		if _, ok := c.base.groups[k]; !ok {
			cmp.OnlyNew = append(cmp.OnlyNew, k)
		}
	}
	if len(cmp.Rows) == 0 {
		return cmp, fmt.Errorf("compare: the runs share no configuration (base has %d, new has %d; %s)",
			len(c.base.order), len(c.cur.order), describeKeyDifference(c.base.order[0], c.cur.order[0]))
	}
	return cmp, nil
}

// Compare compares two runs, the base and the new (current) one, configuration by
// configuration, as benchstat compares benchmarks: the median of the metric with its 95%
// confidence interval on each side, the change of the median, and the Mann–Whitney U test
// (benchmath's AssumeNothing) for whether the change is significant. Warm-up records, dropped
// arrivals and failed invocations are left out. It is an error when a run has no measured
// record or when the runs share no configuration. A configuration with more than
// [ExactLimit] samples on a side is compared within bounded memory: see [Comparer], which
// compares runs streamed from disk.
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
		return "-"
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
// signed percentage ("+30.12%"), "?" when the base median is 0 and "-" when a side has no
// sample.
func formatDelta(r *ComparisonRow, alpha float64) string {
	switch {
	case r.Verdict == VerdictNoData || r.Verdict == VerdictFailed:
		return "-"
	case r.P >= alpha:
		return "~"
	case math.IsNaN(r.Delta):
		return "?"
	}
	return fmt.Sprintf("%+.2f%%", r.Delta*100)
}

// formatThreshold writes a fraction as a percentage with no more digits than it needs: "5%".
func formatThreshold(f float64) string {
	return strconv.FormatFloat(f*100, 'f', -1, 64) + "%"
}

// WriteComparison writes a comparison as a benchstat-style table: per configuration the base
// and new medians with their confidence intervals, the change of the median ("~" when not
// significant), the p-value and the sample sizes, and the verdict of the regression gate;
// parameters shared by every row are written once above the table. Warnings follow as
// numbered notes, then the configurations present in one run only and a closing verdict line.
func WriteComparison(w io.Writer, c *Comparison) error {
	keys := make([]Key, 0, len(c.Rows)+len(c.OnlyBase)+len(c.OnlyNew))
	for _, r := range c.Rows {
		keys = append(keys, r.Key)
	}
	keys = append(append(keys, c.OnlyBase...), c.OnlyNew...)
	common, varying := paramColumns(keys)

	fmt.Fprintf(w, "%s: median ± 95%% CI; delta of the medians where p < %g (Mann–Whitney U), ~ otherwise; regression beyond +%s\n",
		c.Metric, c.Alpha, formatThreshold(c.Threshold))
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
	fmt.Fprintln(tw, "workload\tmode\tparameters\tbase\tnew\tdelta\tp\tn\tverdict\tnotes")
	var notes []string
	for _, r := range c.Rows {
		verdict := ""
		if r.Verdict != VerdictSame {
			verdict = r.Verdict
		}
		var refs []string
		for _, note := range r.Warnings {
			i := slices.Index(notes, note)
			if i < 0 {
				notes = append(notes, note)
				i = len(notes) - 1
			}
			refs = append(refs, "("+strconv.Itoa(i+1)+")")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.3f\t%d+%d\t%s\t%s\n", r.Key.Workload, r.Key.Mode,
			formatParams(r.Key, varying), formatMedianCI(r.Base, r.BaseN), formatMedianCI(r.New, r.NewN),
			formatDelta(&r, c.Alpha), r.P, r.BaseN, r.NewN, verdict, strings.Join(refs, ""))
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
	for _, only := range []struct {
		what string
		keys []Key
	}{{"only in the base run (not compared)", c.OnlyBase}, {"only in the new run (not compared)", c.OnlyNew}} {
		if len(only.keys) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", only.what)
		for _, k := range only.keys {
			fmt.Fprintf(w, "  %s\n", rowName(k, varying))
		}
	}
	regs := c.Regressions()
	fmt.Fprintln(w)
	if len(regs) == 0 {
		_, err := fmt.Fprintf(w, "no regression: no configuration is significantly slower by more than %s\n",
			formatThreshold(c.Threshold))
		return err
	}
	fmt.Fprintf(w, "%d regression(s):\n", len(regs))
	for _, r := range regs {
		what := "failed every invocation"
		if r.Verdict == VerdictRegression {
			what = fmt.Sprintf("median %s (p=%.3f)", formatDelta(&r, c.Alpha), r.P)
		}
		fmt.Fprintf(w, "  %s: %s\n", rowName(r.Key, varying), what)
	}
	return nil
}
