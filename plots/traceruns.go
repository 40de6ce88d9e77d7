package plots

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/reclave/reclave/results"
)

// A run folder's trace experiments (a config's experiments of kind trace, run by `reclave
// run` after its invocation experiments) each have a folder RUN/trace/<name> with simulate/
// and, optionally, replay/: the outputs of `reclave trace simulate` and `replay`. [All] draws
// each of those folders as it draws one given alone (its policy figures, in its own plots/),
// [WriteReport] writes each one's report.md, and the run's report.md links them in its
// section "Platform policies over a trace".

// TraceOutcome is what [All] did with the folder of a trace experiment's simulation or replay.
type TraceOutcome struct {
	// Experiment is the trace experiment's name, Engine simulate or replay, Dir the folder.
	Experiment, Engine, Dir string
	// Outcome is what [All] did with the folder's figures.
	Outcome *Outcome
}

// traceFolders returns the simulate and replay folders of the trace experiments of the run
// folder dir that hold a summary.json, by experiment name and simulate before replay.
func traceFolders(dir string) []TraceOutcome {
	var out []TraceOutcome
	entries, err := os.ReadDir(filepath.Join(dir, results.TraceDir))
	if err != nil {
		return nil // no trace experiments
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		for _, engine := range []string{results.TraceSimulateDir, results.TraceReplayDir} {
			sub := filepath.Join(dir, results.TraceDir, e.Name(), engine)
			if _, err := os.Stat(filepath.Join(sub, summaryFile)); err == nil {
				out = append(out, TraceOutcome{Experiment: e.Name(), Engine: engine, Dir: sub})
			}
		}
	}
	return out
}

// drawTraces draws the trace experiments' folders of dir into out.Traces and returns their
// errors.
func drawTraces(dir string, formats []string, out *Outcome) []error {
	var failed []error
	for _, t := range traceFolders(dir) {
		o, err := drawAll(t.Dir, formats)
		t.Outcome = o
		if err != nil {
			failed = append(failed, err)
		}
		out.Traces = append(out.Traces, t)
	}
	return failed
}

// writeTraceReports writes the report.md of every trace folder of o that drew a figure.
func writeTraceReports(o *Outcome) error {
	for _, t := range o.Traces {
		if t.Outcome == nil || len(t.Outcome.Drawn()) == 0 {
			continue
		}
		if _, err := WriteReport(t.Dir, t.Outcome); err != nil {
			return err
		}
	}
	return nil
}

// agreementClaim is the claim a replay's agreement table tests.
const agreementClaim = "The simulator's model of when an invocation pays a cold start holds on real enclaves: " +
	"the same policy driving this machine's enclaves over a slice of the trace (sped up) gives a cold-start " +
	"fraction within 2 percentage points of the simulator's over the same slice, with the same measured costs."

// writeTraceSection writes the run report's section "Platform policies over a trace": per
// trace experiment, links to its folders' reports and figures, the claims they test, the
// simulated policies' table and the replay's verdict.
func writeTraceSection(b *bytes.Buffer, dir string, o *Outcome) {
	if len(o.Traces) == 0 {
		return
	}
	b.WriteString("## Platform policies over a trace\n\n")
	b.WriteString("The config's trace experiments evaluate keep-alive and pre-warming policies combined with enclave " +
		"reuse over a serverless trace, with the costs of starting and resetting an enclave measured on this " +
		"machine (trace/doc.go). Each has a folder under `trace/`: `simulate/` (a discrete-event simulation of " +
		"every policy × reuse technique over the whole trace) and, with a replay, `replay/` (one policy driving " +
		"real enclaves over a slice of the trace, checked against the simulator). Each folder has its own " +
		"`report.md` and figures; the claims they test:\n\n")
	specs := map[string]figureSpec{}
	for _, s := range policyFigureSpecs() {
		specs[s.base] = s
	}
	for _, base := range []string{PolicyTradeoffBase, PolicyCDFBase, PolicyTimelineBase} {
		fmt.Fprintf(b, "- `%s` (%s): %s\n", base, mdText(specs[base].title), specs[base].claim)
	}
	fmt.Fprintf(b, "- the agreement table (replay/report.md, \"Simulator vs. replay\"): %s\n\n", agreementClaim)
	for i, t := range o.Traces {
		if i == 0 || o.Traces[i-1].Experiment != t.Experiment {
			fmt.Fprintf(b, "### Trace experiment %s\n\n", mdText(t.Experiment))
		}
		rel := relPath(dir, t.Dir)
		what := "Simulation"
		if t.Engine == results.TraceReplayDir {
			what = "Replay on real enclaves"
		}
		fmt.Fprintf(b, "**%s** (`%s/`): [report](%s)", what, rel, filepath.ToSlash(filepath.Join(rel, ReportFile)))
		var links []string
		var skipped []string
		if t.Outcome != nil {
			for _, f := range t.Outcome.Figures {
				if !strings.HasPrefix(f.Base, "policy_") {
					continue // a trace folder has none of a run's results
				}
				if f.Skipped != "" {
					skipped = append(skipped, fmt.Sprintf("`%s` (%s)", f.Base, mdText(f.Skipped)))
					continue
				}
				if p := cmp.Or(pathWithExt(f.Paths, ".png"), pathWithExt(f.Paths, ".svg")); p != "" {
					links = append(links, fmt.Sprintf("[%s](%s)", f.Base, relPath(dir, p)))
				}
			}
		}
		if len(links) > 0 {
			fmt.Fprintf(b, " · figures: %s", strings.Join(links, ", "))
		}
		b.WriteString("\n\n")
		if len(skipped) > 0 {
			fmt.Fprintf(b, "Not drawn: %s.\n\n", strings.Join(skipped, "; "))
		}
		s, err := readPolicies(filepath.Join(t.Dir, summaryFile))
		if err != nil {
			fmt.Fprintf(b, "%s\n\n", mdText(err.Error()))
			continue
		}
		if t.Engine == results.TraceSimulateDir {
			if o := t.Outcome; o != nil {
				if f := slices.IndexFunc(o.Figures, func(f FigureOutcome) bool { return f.Base == PolicyTradeoffBase && f.Skipped == "" }); f >= 0 {
					if img := cmp.Or(pathWithExt(o.Figures[f].Paths, ".png"), pathWithExt(o.Figures[f].Paths, ".svg")); img != "" {
						fmt.Fprintf(b, "![%s](%s)\n\n", mdText(o.Figures[f].Title), relPath(dir, img))
					}
				}
			}
			writePolicyRows(b, s)
			continue
		}
		if r := s.Replay; r != nil {
			a := &r.Agreement
			verdict := "agree"
			if !a.ColdOK {
				verdict = "**disagree**"
			}
			fmt.Fprintf(b, "%s + %s, %d invocations sped up %g×: cold-start fraction replay %s, simulator %s "+
				"(%+.2f percentage points, bound ±%g): %s. Memory-time (GiB × s of the replay's time) busy/idle: "+
				"replay %s/%s, simulator %s/%s.\n\n", mdCell(r.Policy), mdCell(r.Reuse), r.Result.Invocations, r.SpeedUp,
				formatFraction(a.ColdFractionReplay), formatFraction(a.ColdFractionSim), a.ColdDiffPP, a.BoundPP, verdict,
				formatSig3(r.Result.MemoryGBs.Busy), formatSig3(r.Result.MemoryGBs.Idle),
				formatSig3(firstPolicy(s).MemoryGBs.Busy), formatSig3(firstPolicy(s).MemoryGBs.Idle))
		}
	}
}

// firstPolicy is the first policy of s (a replay's simulation of its slice), or a zero one.
func firstPolicy(s *policySummary) policyEntry {
	if len(s.Policies) == 0 {
		return policyEntry{}
	}
	return s.Policies[0]
}

// pathWithExt returns the path of paths ending in ext, or "".
func pathWithExt(paths []string, ext string) string {
	if i := slices.IndexFunc(paths, func(p string) bool { return strings.HasSuffix(p, ext) }); i >= 0 {
		return paths[i]
	}
	return ""
}
