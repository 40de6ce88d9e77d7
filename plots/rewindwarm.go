package plots

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/reclave/reclave/results"
)

// writeRewindWarm writes report.md's section on what a reset costs against no reset at all:
// per paired comparison of kind [results.PairRewindWarm] in the summary, the two medians,
// their difference, and the ratio of the two configurations round by round with its 95%
// confidence interval; "~" when the interval holds 1 (no difference the run resolves).
// Nothing when the run has no such comparison (no warm and rewind of one workload).
func writeRewindWarm(b *bytes.Buffer, s *results.Summary) {
	byKey := map[results.Key]*results.Result{}
	for i := range s.Results {
		byKey[s.Results[i].Key] = &s.Results[i]
	}
	type row struct {
		p        results.Paired
		num, den *results.Result
	}
	var rows []row
	for _, p := range s.Paired {
		num, den := byKey[p.Numerator], byKey[p.Denominator]
		if p.Kind != results.PairRewindWarm || num == nil || den == nil {
			continue
		}
		rows = append(rows, row{p: p, num: num, den: den})
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## Rewind against warm\n\n")
	b.WriteString("What resetting the enclave to its clean state after every invocation costs against reusing it " +
		"without any reset (mode warm: insecure, since state leaks from one invocation to the next, and the lower " +
		"bound of any reuse). The paper claims reuse \"with a reasonable performance impact on standard execution\". " +
		"Per configuration of mode rewind and the warm one of the same experiment, workload and parameters: the " +
		"median latencies and their difference, and the ratio of the two measured round by round (the modes are " +
		"interleaved within each round): the geometric mean of the per-round ratios of the medians, with its 95% " +
		"confidence interval across rounds. `~` marks an interval that holds 1: no difference this run resolves. " +
		"The strategy column says which rewind strategy served the invocations (see \"Rewind strategy\").\n\n")
	// The parameters that tell configurations apart (load and concurrency, compartments, ...),
	// as the summary table names them; the strategy has its own column.
	label := results.ParametersLabel(s.Results, "strategy")
	params := false
	for _, r := range rows {
		params = params || label(&r.num.Key) != ""
	}
	head, rule := "| experiment | workload | snapshot point |", "|---|---|---|"
	if params {
		head, rule = head+" parameters |", rule+"---|"
	}
	b.WriteString(head + " strategy | warm p50 | rewind p50 | rewind − warm | rewind ÷ warm, 95% CI |\n" +
		rule + "---|---|---|---|---|\n")
	var notes []string
	for _, r := range rows {
		served := slices.Sorted(maps.Keys(r.num.Strategies))
		strategy := r.num.Strategy
		if len(served) > 0 && !(len(served) == 1 && served[0] == strategy) {
			strategy += " (" + strings.Join(served, ", ") + ")"
		}
		warm, rewind := r.den.LatencyNs.P50, r.num.LatencyNs.P50
		fmt.Fprintf(b, "| %s | %s | %s |", mdCell(r.num.Experiment), mdCell(r.num.Workload), mdCell(r.num.SnapshotPoint))
		if params {
			fmt.Fprintf(b, " %s |", mdCell(label(&r.num.Key)))
		}
		fmt.Fprintf(b, " %s | %s | %s | %s | %s |\n", mdCell(strategy), results.FormatNs(warm), results.FormatNs(rewind),
			signedNs(rewind-warm), pairedCell(r.p))
		for _, side := range []*results.Result{r.num, r.den} {
			if side.Errors > 0 || side.Invalid > 0 {
				notes = append(notes, fmt.Sprintf("%s %s %s: of %d invocations, %d failed (not in its medians) and %d gave an invalid output",
					side.Experiment, side.Workload, side.Mode, side.N, side.Errors, side.Invalid))
			}
		}
	}
	b.WriteString("\n")
	if len(notes) > 0 {
		b.WriteString("Failures and invalid outputs:\n\n")
		for _, n := range notes {
			fmt.Fprintf(b, "- %s\n", mdText(n))
		}
		b.WriteString("\n")
	}
}

// signedNs formats a difference of durations with its sign: "+3.4 µs", "-120 ns".
func signedNs(ns float64) string {
	if ns < 0 {
		return results.FormatNs(ns)
	}
	return "+" + results.FormatNs(ns)
}

// pairedCell formats a paired ratio and its interval, "1.04× (1.01×–1.07×)", with "~" when
// the interval holds 1 and the reason when there is no interval.
func pairedCell(p results.Paired) string {
	if p.Rounds == 0 {
		return results.NoValue + " (no round with both)"
	}
	cell := results.FormatRatio(p.Ratio)
	if p.CI95Lo == nil || p.CI95Hi == nil {
		return fmt.Sprintf("%s (no interval: %d round(s), it needs %d)", cell, p.Rounds, results.MinPairedRounds)
	}
	cell += fmt.Sprintf(" (%s–%s)", results.FormatRatio(*p.CI95Lo), results.FormatRatio(*p.CI95Hi))
	if *p.CI95Lo <= 1 && 1 <= *p.CI95Hi {
		cell += " ~"
	}
	return cell
}
