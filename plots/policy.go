package plots

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/reclave/reclave/results"
)

// The policy figures draw the summary.json of `reclave trace simulate` (package trace).
// plots does not import trace: trace imports the enclave runtime and the harness, and
// plots reads result files only. It decodes the fields it draws from the documented JSON
// (trace/doc.go, "Output"; kind "trace-simulation"), as any third-party reader would.

// Names of the policy figures.
const (
	PolicyTradeoffBase = "policy_tradeoff"
	PolicyCDFBase      = "policy_cdf"
	PolicyTimelineBase = "policy_timeline"
)

// policiesInput is the input of the policy figures: the policies of a trace simulation's
// summary.json.
const policiesInput = summaryFile + " (policies)"

// policyKind is the kind of a trace simulation's summary.
const policyKind = "trace-simulation"

// policySummary is what the policy figures read of a trace simulation's summary.json.
type policySummary struct {
	Kind     string        `json:"kind"`
	Env      results.Env   `json:"env"`
	Policies []policyEntry `json:"policies"`
	// Replay is the replay object of `reclave trace replay`'s summary; nil for a simulation.
	Replay *replaySummary `json:"replay"`
}

// replaySummary is what report.md reads of a replay: its outcome and its agreement with the
// simulation of the same slice (trace/doc.go, "Output").
type replaySummary struct {
	Policy    string      `json:"policy"`
	Reuse     string      `json:"reuse"`
	SpeedUp   float64     `json:"speed_up"`
	WallNs    float64     `json:"wall_ns"`
	Cores     int         `json:"cores"`
	Errors    int64       `json:"errors"`
	Result    policyEntry `json:"result"`
	Agreement struct {
		ColdFractionSim    float64 `json:"cold_fraction_sim"`
		ColdFractionReplay float64 `json:"cold_fraction_replay"`
		ColdDiffPP         float64 `json:"cold_diff_pp"`
		BoundPP            float64 `json:"bound_pp"`
		ColdOK             bool    `json:"cold_ok"`
		DecisionsDiffer    int64   `json:"decisions_differ"`
		// The simulation of the slice with the replay's own timings.
		ColdFractionObserved    float64 `json:"cold_fraction_observed"`
		DecisionsDifferObserved int64   `json:"decisions_differ_observed"`
		MemoryObservedGBs       struct {
			Busy, Idle float64
		} `json:"memory_gb_s_observed"`
		DispatchLagNs struct {
			P50, P99 float64
		} `json:"dispatch_lag_ns"`
		CPUQueueingNs struct {
			P50, P99 float64
		} `json:"cpu_queueing_ns"`
	} `json:"agreement"`
}

type policyEntry struct {
	Policy       string  `json:"policy"`
	Reuse        string  `json:"reuse"`
	Insecure     bool    `json:"insecure"`
	ColdFraction float64 `json:"cold_fraction"`
	Invocations  int64   `json:"invocations"`
	Enclaves     int64   `json:"enclaves_created"`
	Queued       int64   `json:"queued"`
	LatencyNs    struct {
		P50, P99, P999 float64
	} `json:"latency_ns"`
	StartupNs struct {
		P50, P99 float64
	} `json:"startup_ns"`
	MemoryGBs struct {
		Busy, Idle float64
	} `json:"memory_gb_s"`
	PeakMemoryBytes float64 `json:"peak_memory_bytes"`
	StartupCDF      []struct {
		Q  float64 `json:"q"`
		Ns float64 `json:"ns"`
	} `json:"startup_cdf"`
	// engine is "replay" for a replay's own outcome drawn beside its simulation ("" else).
	engine   string
	Timeline struct {
		BinNs        float64   `json:"bin_ns"`
		LiveEnclaves []float64 `json:"live_enclaves"`
		MemoryBytes  []float64 `json:"memory_bytes"`
	} `json:"timeline"`
}

// name is the entry's legend name.
func (p *policyEntry) name() string {
	n := p.Policy
	if p.Reuse != "none" && p.Reuse != "" {
		n += " + " + p.Reuse
	}
	if p.Insecure {
		n += " (insecure)"
	}
	if p.engine != "" {
		n += ", " + p.engine
	}
	return n
}

// readPolicies reads the policies of a trace simulation's summary.json. A run's summary
// (another kind) reads as a summary without policies.
func readPolicies(path string) (*policySummary, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policies: %w", err)
	}
	var s policySummary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read policies %s: %w", path, err)
	}
	return &s, nil
}

// policies returns the drawable entries of s, or why there are none.
func (s *policySummary) entries() ([]policyEntry, error) {
	if s.Kind != policyKind || len(s.Policies) == 0 {
		return nil, errors.New("no policies: not the output of reclave trace simulate")
	}
	return s.Policies, nil
}

// Colours per policy (Okabe–Ito), line dashes and markers per reuse technique.
var (
	policyColors = map[string]color.Color{
		"none":             rgb(0x00, 0x00, 0x00),
		"keepalive":        rgb(0xE6, 0x9F, 0x00),
		"hybrid-histogram": rgb(0x56, 0xB4, 0xE9),
		"greedy-dual":      rgb(0x00, 0x9E, 0x73),
		"predictive":       rgb(0xCC, 0x79, 0xA7),
	}
	reuseGlyphs = map[string]draw.GlyphDrawer{
		"none": draw.BoxGlyph{}, "rewind": draw.CircleGlyph{}, "generic": draw.RingGlyph{},
		"reinstantiate": draw.PyramidGlyph{}, "warm": diamondGlyph{},
	}
	reuseDashes = map[string][]vg.Length{
		"generic": {vg.Points(4), vg.Points(2)}, "reinstantiate": {vg.Points(1), vg.Points(2)},
		"warm": {vg.Points(4), vg.Points(2), vg.Points(1), vg.Points(2)},
	}
)

// policyLine returns an empty line in the style of entry p.
func policyLine(p *policyEntry, glyphs bool) *logLine {
	c, ok := policyColors[p.Policy]
	if !ok {
		c = textGrey
	}
	l := &logLine{name: p.name(), line: draw.LineStyle{Color: c, Width: panelsLineWidth, Dashes: reuseDashes[p.Reuse]}}
	if glyphs {
		g := reuseGlyphs[p.Reuse]
		if g == nil {
			g = draw.CrossGlyph{}
		}
		l.glyph = draw.GlyphStyle{Color: c, Radius: panelsGlyphRadius + 1, Shape: g}
		l.line.Width = 0
	}
	return l
}

// newPolicyTradeoffFigure: cold-start fraction against idle memory-time, one point per
// policy × reuse technique.
func newPolicyTradeoffFigure(s *policySummary) (*panelsFigure, error) {
	ps, err := s.entries()
	if err != nil {
		return nil, err
	}
	fig := &panelsFigure{title: "Cold starts vs. idle enclave memory", xlabel: "idle enclave memory-time (GB-s, log scale)",
		ylabel: "cold-start fraction (log scale)"}
	panel := linePanel{title: "policy × reuse technique"}
	xlo, xhi, ylo := math.Inf(1), math.Inf(-1), 1.0
	for i := range ps {
		if positive(ps[i].MemoryGBs.Idle) {
			xlo, xhi = min(xlo, ps[i].MemoryGBs.Idle), max(xhi, ps[i].MemoryGBs.Idle)
		}
		if positive(ps[i].ColdFraction) {
			ylo = min(ylo, ps[i].ColdFraction)
		}
	}
	if math.IsInf(xlo, 1) {
		xlo, xhi = 1, 10
	}
	// Points at zero (no idle memory, no cold start) sit on the axes' lower ends.
	xfloor := math.Pow(10, math.Floor(math.Log10(xlo))-1)
	yfloor := math.Pow(10, math.Floor(math.Log10(ylo))-1)
	zeros := 0
	for i := range ps {
		p := &ps[i]
		x, y := p.MemoryGBs.Idle, p.ColdFraction
		if !positive(x) {
			x, zeros = xfloor, zeros+1
		}
		if !positive(y) {
			y, zeros = yfloor, zeros+1
		}
		l := policyLine(p, true)
		l.points = []xy{{x, y}}
		panel.lines = append(panel.lines, l)
		fig.legend = append(fig.legend, legendEntry{name: p.name(), thumb: policyLine(p, true), width: panelsThumbWidth})
	}
	fig.panels = []linePanel{panel}
	fig.x = axisSpec{min: xfloor, max: math.Pow(10, math.Ceil(math.Log10(xhi)+0.05)), log: true,
		ticks: decadeTicks{label: formatDecade}}
	fig.y = axisSpec{min: yfloor, max: 1, log: true, ticks: decadeTicks{label: formatDecade}}
	notes := []string{"lower left is better; GB-s: GiB × s"}
	if zeros > 0 {
		notes = append(notes, "0 is drawn on the lowest decade")
	}
	fig.caption = captionText(s.Env, true, notes...)
	fig.layout()
	return fig, nil
}

// formatDecade labels a power of ten.
func formatDecade(v float64) string { return fmt.Sprintf("%g", v) }

// newPolicyCDFFigure: the start-up latency CDF (latency less the function's duration), one
// panel per reuse technique, one line per policy; policy none in every panel.
func newPolicyCDFFigure(s *policySummary) (*panelsFigure, error) {
	ps, err := s.entries()
	if err != nil {
		return nil, err
	}
	fig := &panelsFigure{title: "Start-up latency per policy", xlabel: "latency less the function's duration (log scale)",
		ylabel: "fraction of invocations", y: axisSpec{min: 0, max: 1, ticks: fractionTicks{}}}
	var reuses []string
	for i := range ps {
		if r := ps[i].Reuse; r != "none" && !containsString(reuses, r) {
			reuses = append(reuses, r)
		}
	}
	if len(reuses) == 0 {
		reuses = []string{"none"}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range reuses {
		panel := linePanel{title: "reuse: " + r}
		for i := range ps {
			p := &ps[i]
			if p.Reuse != r && p.Reuse != "none" {
				continue
			}
			l := policyLine(p, false)
			for _, pt := range p.StartupCDF {
				if positive(pt.Ns) {
					l.points = append(l.points, xy{pt.Ns, pt.Q})
					lo, hi = min(lo, pt.Ns), max(hi, pt.Ns)
				}
			}
			if len(l.points) > 0 {
				panel.lines = append(panel.lines, l)
			}
		}
		fig.panels = append(fig.panels, panel)
	}
	if math.IsInf(lo, 1) {
		return nil, errors.New("no latency distribution")
	}
	seen := map[string]bool{}
	for i := range ps {
		if !seen[ps[i].Policy] {
			seen[ps[i].Policy] = true
			p := policyEntry{Policy: ps[i].Policy, Reuse: "none"}
			fig.legend = append(fig.legend, legendEntry{name: p.Policy, thumb: policyLine(&p, false), width: panelsThumbWidth})
		}
	}
	fig.x = axisSpec{min: math.Pow(10, math.Floor(math.Log10(lo)-0.05)), max: math.Pow(10, math.Ceil(math.Log10(hi)+0.05)), log: true}
	decades := int(math.Round(math.Log10(fig.x.max / fig.x.min)))
	fig.x.ticks = everyNthDecade{durationTicks{}, (decades + cdfMaxLabels - 1) / cdfMaxLabels}
	fig.caption = captionText(s.Env, true, "simulated: queueing, cold start or the reuse technique's overhead; quantiles of an HDR histogram")
	fig.layout()
	return fig, nil
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// newPolicyTimelineFigure: enclave memory and live enclaves over the trace, one line per
// policy × reuse technique.
func newPolicyTimelineFigure(s *policySummary) (figure, error) {
	ps, err := s.entries()
	if err != nil {
		return nil, err
	}
	if s.Replay != nil {
		// A replay: its simulated slice and, beside it, what the real enclaves held.
		sim, rep := ps[0], s.Replay.Result
		sim.engine, rep.engine = "simulator", "replay"
		ps = []policyEntry{sim, rep}
	}
	// The unit of time: hours for a trace day, minutes or seconds for a short slice (a
	// replay's, whose timeline is in its own sped-up time).
	span := 0.0
	for i := range ps {
		span = max(span, float64(len(ps[i].Timeline.LiveEnclaves))*ps[i].Timeline.BinNs)
	}
	unit, unitNs := "hours", 3.6e12
	switch {
	case span < 2*60e9:
		unit, unitNs = "s", 1e9
	case span < 2*3.6e12:
		unit, unitNs = "minutes", 60e9
	}
	xlabel := fmt.Sprintf("time in the trace (%s)", unit)
	if s.Replay != nil {
		xlabel = fmt.Sprintf("time in the replay (%s; the trace sped up %g×)", unit, s.Replay.SpeedUp)
	}
	mk := func(title, ylabel string, value func(p *policyEntry, i int) float64, caption string) (*panelsFigure, error) {
		fig := &panelsFigure{title: title, xlabel: xlabel, ylabel: ylabel}
		panel := linePanel{title: ""}
		xmax, ymax := 0.0, 0.0
		for i := range ps {
			p := &ps[i]
			l := timelineLine(p)
			for j := range p.Timeline.LiveEnclaves {
				x := float64(j) * p.Timeline.BinNs / unitNs
				y := value(p, j)
				l.points = append(l.points, xy{x, y})
				xmax, ymax = max(xmax, x), max(ymax, y)
			}
			if len(l.points) > 0 {
				panel.lines = append(panel.lines, l)
			}
			if caption == "" {
				continue
			}
			fig.legend = append(fig.legend, legendEntry{name: p.name(), thumb: timelineLine(p), width: panelsThumbWidth})
		}
		if len(panel.lines) == 0 || xmax == 0 {
			return nil, errors.New("no timeline")
		}
		fig.panels = []linePanel{panel}
		fig.x = axisSpec{min: 0, max: xmax, ticks: plot.DefaultTicks{}}
		fig.y = axisSpec{min: 0, max: ymax * 1.05, ticks: plot.DefaultTicks{}}
		fig.caption = caption
		fig.layout()
		return fig, nil
	}
	mem, err := mk("Enclave memory over the trace", "enclave memory (GiB)",
		func(p *policyEntry, i int) float64 { return p.Timeline.MemoryBytes[i] / (1 << 30) },
		captionText(s.Env, true, "sampled at the start of every bin; busy and idle enclaves"))
	if err != nil {
		return nil, err
	}
	live, err := mk("Live enclaves over the trace", "live enclaves",
		func(p *policyEntry, i int) float64 { return p.Timeline.LiveEnclaves[i] }, "")
	if err != nil {
		return nil, err
	}
	return &stackFigure{top: mem, bottom: live}, nil
}

// timelineLine is the line of entry p in the timeline: a replay's own is dotted.
func timelineLine(p *policyEntry) *logLine {
	l := policyLine(p, false)
	if p.engine == "replay" {
		l.line.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	}
	return l
}

// stackFigure draws two figures one above the other.
type stackFigure struct{ top, bottom figure }

func (f *stackFigure) size() (vg.Length, vg.Length) {
	w1, h1 := f.top.size()
	w2, h2 := f.bottom.size()
	return max(w1, w2), h1 + h2
}

func (f *stackFigure) draw(c draw.Canvas) {
	_, h1 := f.top.size()
	_, h2 := f.bottom.size()
	f.top.draw(draw.Crop(c, 0, 0, h2, 0))
	f.bottom.draw(draw.Crop(c, 0, 0, 0, -h1))
}

// policyFigureSpecs are the figures [All] draws from a trace simulation.
func policyFigureSpecs() []figureSpec {
	return []figureSpec{
		{
			base: PolicyTradeoffBase, title: "Cold starts vs. idle enclave memory", input: policiesInput,
			prepare: func(in *inputs) (figure, error) { return nilIfErr(newPolicyTradeoffFigure(in.policies)) },
			claim: "Under real traffic, reusable enclaves let a platform trade memory held idle for cold " +
				"starts: every keep-alive or pre-warming policy with rewind cuts the cold-start fraction of " +
				"the fresh-enclave baseline (policy none) by orders of magnitude, and the policies differ " +
				"in how much idle enclave memory they pay for it.",
			read: "One point per policy × reuse technique (colour: policy; marker: technique); both axes " +
				"logarithmic. Lower is fewer cold starts, left is less idle memory-time (GiB × s); none " +
				"keeps no idle memory and cold-starts every invocation. warm is insecure and shown for " +
				"reference only.",
		},
		{
			base: PolicyCDFBase, title: "Start-up latency per policy", input: policiesInput,
			prepare: func(in *inputs) (figure, error) { return nilIfErr(newPolicyCDFFigure(in.policies)) },
			claim: "With enclave reuse, cold starts move into the far tail: most invocations start in " +
				"microseconds, and the policy decides how far out the cold-start step lies.",
			read: "One panel per reuse technique, one line per policy (none in every panel): the fraction " +
				"of invocations (Y) whose latency less the function's own duration (queueing, cold start " +
				"or reuse overhead) was at most X. The jump of a line is its cold-start fraction.",
		},
		{
			base: PolicyTimelineBase, title: "Enclave memory over the trace", input: policiesInput,
			prepare: func(in *inputs) (figure, error) { return nilIfErr(newPolicyTimelineFigure(in.policies)) },
			claim: "A policy's memory cost follows the traffic: keep-alive holds memory after every " +
				"burst, pre-warming policies hold it ahead of the arrivals they predict.",
			read: "Top: enclave memory (busy and idle) over the trace; bottom: live enclaves; one line per " +
				"policy × reuse technique, sampled at the start of every bin.",
		},
	}
}

// writePolicies writes report.md's table of a trace simulation: per policy × reuse technique,
// the invocations, the cold-start fraction, latency and start-up latency, enclaves created and
// memory-time, as summary.json holds them.
func writePolicies(b *bytes.Buffer, s *policySummary) {
	b.WriteString("## Policies\n\n")
	b.WriteString("Per policy and reuse technique, from `summary.json` (kind `trace-simulation`): the " +
		"invocations simulated, the fraction that paid a cold start, latency from arrival (queueing " +
		"included) and start-up latency (latency less the trace's duration), the enclaves created and " +
		"the memory-time held busy and idle. `warm` reuses without reset: insecure, a reference only.\n\n")
	writePolicyRows(b, s)
}

// writePolicyRows writes the table of [writePolicies].
func writePolicyRows(b *bytes.Buffer, s *policySummary) {
	b.WriteString("| policy | reuse | invocations | cold | p50 | p99 | p99.9 | start-up p50 | start-up p99 | enclaves | busy GB-s | idle GB-s |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range s.Policies {
		reuse := p.Reuse
		if p.Insecure {
			reuse += " (insecure)"
		}
		fmt.Fprintf(b, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %d | %s | %s |\n", mdCell(p.Policy), mdCell(reuse),
			p.Invocations, formatFraction(p.ColdFraction), results.FormatNs(p.LatencyNs.P50), results.FormatNs(p.LatencyNs.P99),
			results.FormatNs(p.LatencyNs.P999), results.FormatNs(p.StartupNs.P50), results.FormatNs(p.StartupNs.P99), p.Enclaves,
			formatSig3(p.MemoryGBs.Busy), formatSig3(p.MemoryGBs.Idle))
	}
	b.WriteString("\n")
}

// formatFraction writes a fraction as a percentage with three significant digits.
func formatFraction(f float64) string {
	if f == 0 {
		return "0%"
	}
	return strconv.FormatFloat(f*100, 'g', 3, 64) + "%"
}

// formatSig3 writes x with three significant digits, without an exponent below 10⁶.
func formatSig3(x float64) string {
	if x >= 1000 && x < 1e6 {
		return strconv.FormatFloat(math.Round(x/math.Pow(10, math.Floor(math.Log10(x))-2))*math.Pow(10, math.Floor(math.Log10(x))-2), 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

// writeAgreement writes report.md's agreement table of a replay (`reclave trace replay`):
// the simulator and the replay over the same slice, the cold-start check and the CPU
// queueing the simulator does not model.
func writeAgreement(b *bytes.Buffer, s *policySummary) {
	r := s.Replay
	if r == nil || len(s.Policies) == 0 {
		return
	}
	a := &r.Agreement
	sim := &s.Policies[0]
	b.WriteString("## Simulator vs. replay\n\n")
	fmt.Fprintf(b, "Policy %s with reuse %s drove real enclaves of the embedded runtime over a slice of the trace "+
		"sped up %g× (%s of wall time on %d cores); the simulator ran the same slice with the same measured costs. "+
		"Latency counts from each invocation's intended start. The check is the cold-start fraction: the two "+
		"engines agree within %g percentage points. Latency and memory-time (GiB × s of the replay's sped-up time, "+
		"integrated over the enclaves each engine held: busy while created, serving or kept busy for the trace's "+
		"duration, idle while kept) are reported, not gated: real enclaves share the machine's cores, which the "+
		"simulator does not model.\n\n",
		mdCell(r.Policy), mdCell(r.Reuse), r.SpeedUp, results.FormatNs(r.WallNs), r.Cores, a.BoundPP)
	b.WriteString("| engine | invocations | cold | enclaves | queued | p50 | p99 | start-up p50 | start-up p99 | busy GB-s | idle GB-s | peak memory |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, row := range []struct {
		name string
		p    *policyEntry
	}{{"simulator", sim}, {"replay", &r.Result}} {
		fmt.Fprintf(b, "| %s | %d | %s | %d | %d | %s | %s | %s | %s | %s | %s | %s MiB |\n", row.name, row.p.Invocations,
			formatFraction(row.p.ColdFraction), row.p.Enclaves, row.p.Queued, results.FormatNs(row.p.LatencyNs.P50),
			results.FormatNs(row.p.LatencyNs.P99), results.FormatNs(row.p.StartupNs.P50), results.FormatNs(row.p.StartupNs.P99),
			formatSig3(row.p.MemoryGBs.Busy), formatSig3(row.p.MemoryGBs.Idle), formatSig3(row.p.PeakMemoryBytes/(1<<20)))
	}
	verdict := "**agree**"
	if !a.ColdOK {
		verdict = "**disagree**"
	}
	fmt.Fprintf(b, "\nCold-start fraction: replay − simulator = %+.2f percentage points (bound ±%g): %s; %d "+
		"invocations were served cold by one engine and not the other. Given the replay's own timings (each arrival when "+
		"the replay took it, each enclave busy as long as it was: CPU queueing included), the simulator serves %s cold "+
		"(%d decisions differ) and holds %s/%s GB-s busy/idle: the engines' decisions agree whatever the machine's "+
		"load, and a disagreement above comes from CPU time the model does not charge.\n\n", a.ColdDiffPP, a.BoundPP,
		verdict, a.DecisionsDiffer, formatFraction(a.ColdFractionObserved), a.DecisionsDifferObserved,
		formatSig3(a.MemoryObservedGBs.Busy), formatSig3(a.MemoryObservedGBs.Idle))
	fmt.Fprintf(b, "CPU queueing on %d cores, which the simulator does not model (per invocation, the replay's "+
		"start-up latency less its wait for enclave memory and less the measured cost the simulator charges for "+
		"its decision): p50 %s, p99 %s; of it, the replay's own dispatch lag (how late an arrival was issued): "+
		"p50 %s, p99 %s.", r.Cores, results.FormatNs(a.CPUQueueingNs.P50), results.FormatNs(a.CPUQueueingNs.P99),
		results.FormatNs(a.DispatchLagNs.P50), results.FormatNs(a.DispatchLagNs.P99))
	if r.Errors > 0 {
		fmt.Fprintf(b, " %d invocations failed (see records.jsonl).", r.Errors)
	}
	b.WriteString("\n\n")
}
