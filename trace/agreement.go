package trace

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/reclave/reclave/results"
)

// WriteAgreement prints a replay's agreement with the simulation sim of the same slice: the
// cold-start fractions (the check: within [ColdBoundPP] percentage points), latency and
// start-up latency p50/p99 and memory-time (GiB × s of the replay's time) of both (reported,
// not gated), and the CPU queueing of the real enclaves that the simulator does not model.
func WriteAgreement(w io.Writer, rep *ReplayReport, sim *PolicyResult) error {
	a := &rep.Agreement
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s + %s\tinvocations\tcold\tenclaves created\tqueued\tp50\tp99\tstart-up p50\tstart-up p99\tbusy GB-s\tidle GB-s\tpeak memory\n", rep.Policy, rep.Reuse)
	row := func(name string, r *PolicyResult) {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, r.Invocations, formatFraction(r.ColdFraction),
			r.EnclavesCreated, r.Queued, results.FormatNs(float64(r.LatencyNs.P50)), results.FormatNs(float64(r.LatencyNs.P99)),
			results.FormatNs(float64(r.StartupNs.P50)), results.FormatNs(float64(r.StartupNs.P99)),
			formatSig3(r.MemoryGBs.Busy), formatSig3(r.MemoryGBs.Idle), formatMiB(r.PeakMemoryBytes))
	}
	row("simulator", sim)
	row("replay", &rep.Result)
	if err := tw.Flush(); err != nil {
		return err
	}
	verdict := "ok"
	if !a.ColdOK {
		verdict = "FAILS"
	}
	fmt.Fprintf(w, "cold-start fraction: replay − simulator = %+.2f pp (bound ±%g pp): %s; %d decisions differ\n",
		a.ColdDiffPP, a.BoundPP, verdict, a.DecisionsDiffer)
	fmt.Fprintf(w, "given the replay's own timings (CPU queueing included) the simulator decides %s cold, %d decisions differ; memory-time busy/idle %s/%s GB-s\n",
		formatFraction(a.ColdFractionObserved), a.DecisionsDifferObserved, formatSig3(a.MemoryObservedGBs.Busy), formatSig3(a.MemoryObservedGBs.Idle))
	fmt.Fprintf(w, "CPU queueing the simulator does not model (%d cores; replay start-up less its wait for memory and the measured cost of its decision): p50 %s, p99 %s; dispatch lag p50 %s, p99 %s\n",
		rep.Cores, results.FormatNs(float64(a.CPUQueueingNs.P50)), results.FormatNs(float64(a.CPUQueueingNs.P99)),
		results.FormatNs(float64(a.DispatchLagNs.P50)), results.FormatNs(float64(a.DispatchLagNs.P99)))
	fmt.Fprintf(w, "— speed-up %g, replay wall time %s, %d errors; latency from the intended start (no coordinated omission)\n",
		rep.SpeedUp, results.FormatNs(float64(rep.WallNs)), rep.Errors)
	return nil
}
