package trace

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/reclave/reclave/results"
)

// SimulateAll simulates every policy of policies with every reuse technique of reuses
// (policy none once, with reuse none), in that order, and returns their results.
func SimulateAll(ctx context.Context, t *Trace, c *Costs, policies, reuses []string, opts SimOptions) ([]PolicyResult, error) {
	var out []PolicyResult
	for _, name := range policies {
		rs := reuses
		if name == PolicyNone {
			rs = []string{ReuseNone}
		}
		for _, reuse := range rs {
			if reuse != ReuseNone && !validReuse(reuse) {
				return nil, fmt.Errorf("reuse %q: want one of %s", reuse, strings.Join(Techniques, ", "))
			}
			p, err := NewPolicy(name, opts.Policy)
			if err != nil {
				return nil, err
			}
			r, err := Simulate(ctx, t, c, p, reuse, opts)
			if err != nil {
				return nil, fmt.Errorf("simulate %s/%s: %w", name, reuse, err)
			}
			out = append(out, *r)
		}
	}
	return out, nil
}

func validReuse(r string) bool {
	for _, x := range Techniques {
		if r == x {
			return true
		}
	}
	return false
}

// Info describes t for a summary, with the functions each workload was mapped onto.
func Info(path string, t *Trace, c *Costs, m Mapping) (TraceInfo, error) {
	o := t.Options
	info := TraceInfo{Path: path, Format: t.Format, Functions: len(t.Functions), Invocations: t.Invocations(),
		LengthNs: t.Length, Arrivals: o.Arrivals, Seed: o.Seed, Top: o.Top, Random: o.Random,
		FromNs: int64(o.From), ToNs: int64(o.To), SpeedUp: o.SpeedUp, Workloads: map[string]int{}}
	wl, err := m.Map(t, c)
	if err != nil {
		return info, err
	}
	for _, i := range wl {
		info.Workloads[c.Workloads[i].Workload]++
	}
	return info, nil
}

// WriteTable prints the policies of s as a table: numbers with at most three significant
// digits.
func WriteTable(w io.Writer, s *Summary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "policy\treuse\tinvocations\tcold\tp50\tp99\tp99.9\tstart-up p50\tstart-up p99\tbusy GB-s\tidle GB-s\tenclaves created\tpeak memory\tpolicy/inv\tsimulated/s")
	for _, r := range s.Policies {
		reuse := r.Reuse
		if r.Insecure {
			reuse += " (insecure)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.Policy, reuse, r.Invocations,
			formatFraction(r.ColdFraction), results.FormatNs(float64(r.LatencyNs.P50)),
			results.FormatNs(float64(r.LatencyNs.P99)), results.FormatNs(float64(r.LatencyNs.P999)),
			results.FormatNs(float64(r.StartupNs.P50)), results.FormatNs(float64(r.StartupNs.P99)),
			formatSig3(r.MemoryGBs.Busy), formatSig3(r.MemoryGBs.Idle), r.EnclavesCreated,
			formatMiB(r.PeakMemoryBytes), results.FormatNs(r.PolicyNsPerInvocation), formatRate(r.SimInvocationsPerS))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "— latency: from arrival to response (queueing, cold start or reuse overhead, the trace's duration); start-up: latency less the duration; HDR histograms, 3 significant digits\n")
	fmt.Fprintf(w, "— costs: %s\n", s.Costs.Source)
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	return nil
}

// formatFraction formats a fraction as a percentage with at most three significant digits.
func formatFraction(f float64) string {
	if f == 0 {
		return "0%"
	}
	return formatSig3(f*100) + "%"
}

// formatSig3 formats x with at most three significant digits.
func formatSig3(x float64) string {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return fmt.Sprint(x)
	}
	scale := math.Pow(10, math.Floor(math.Log10(math.Abs(x)))-2)
	r := math.Round(x/scale) * scale
	if math.Abs(r) >= 1000 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.3g", r)
}

func formatMiB(b int64) string { return formatSig3(float64(b)/(1<<20)) + " MiB" }

func formatRate(r float64) string {
	if r >= 1e6 {
		return formatSig3(r/1e6) + "M"
	}
	return formatSig3(r/1e3) + "k"
}
