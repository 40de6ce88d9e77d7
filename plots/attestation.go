package plots

import (
	"errors"
	"fmt"
	"image/color"
	"strings"

	"github.com/reclave/reclave/results"
)

// AttestationBase is the file name, without extension, of the figure written by
// [Attestation].
const AttestationBase = "attestation"

// How the two kinds of evidence of the attestation figure are made, for its caption: the outer
// evidence of a simulated platform, or of SGX hardware, and the inner report.
const (
	attestationOuterSimulated = "outer: simulated quote (ECDSA P-256)"
	attestationOuterHardware  = "outer: the platform's SGX quote"
	attestationInner          = "inner: L0 key signature"
)

// attestationYLabel is the text of the Y axis label of the attestation figure.
const attestationYLabel = "median time (log scale)"

// attestationSeries are the bars of a workload in the attestation figure, in the order they
// are drawn (which is also, in practice, from the most to the least expensive): the cold start
// for context, the two costs of attestation, and the rewind for context. Cold start and rewind
// have their colours of the headline figure.
var attestationSeries = []struct {
	name  string
	color color.Color
	value func(s *results.Summary, workload string) (float64, bool)
}{
	{"cold start (total)", modeColors["cold"], func(s *results.Summary, w string) (float64, bool) {
		if r := attestedRef(s, w, "cold"); r != nil && positive(r.LatencyNs.P50) {
			return r.LatencyNs.P50, true
		}
		return 0, false
	}},
	{"outer evidence (per cold start)", rgb(0xE6, 0x9F, 0x00), outerEvidence}, // orange
	{"inner report (per invocation)", rgb(0xCC, 0x79, 0xA7), innerReport},     // reddish purple
	{"rewind", modeColors["rewind"], func(s *results.Summary, w string) (float64, bool) {
		return phaseOf(attestedRef(s, w, "rewind"), "rewind")
	}},
}

// Indexes of the outer evidence and the inner report in attestationSeries.
const (
	outerSeries = 1
	innerSeries = 2
)

// attestedRef returns the result of workload w in mode m the attestation figure draws: the
// reference result (see the package documentation) among those measured with inner
// attestation, when there is one, else the reference result. A run that measures a workload
// with outer evidence only (say, in its headline experiment) and with inner attestation (in an
// attestation experiment) thus draws every bar of it from the attested configuration, the one
// with an inner report.
func attestedRef(s *results.Summary, w, m string) *results.Result {
	inner := func(r *results.Result) bool { return r.Attestation == "inner" }
	if r := reference(s, w, m, inner); r != nil {
		return r
	}
	return reference(s, w, m, nil)
}

// phaseOf returns the median of phase of r, and whether r has a positive one.
func phaseOf(r *results.Result, phase string) (float64, bool) {
	if r == nil {
		return 0, false
	}
	v, ok := r.PhasesP50Ns[phase]
	if !ok || v <= 0 {
		return 0, false
	}
	return float64(v), true
}

// outerEvidence returns the median cost of the outer evidence of workload w, the phase quote
// of its cold result, paid once per enclave.
func outerEvidence(s *results.Summary, w string) (float64, bool) {
	return phaseOf(attestedRef(s, w, "cold"), "quote")
}

// innerReport returns the median cost of the inner report of workload w, the phase attest,
// paid on every invocation: that of its rewind result, or else that of the first other
// non-cold mode (canonical order) that has one.
func innerReport(s *results.Summary, w string) (float64, bool) {
	if v, ok := phaseOf(attestedRef(s, w, "rewind"), "attest"); ok {
		return v, true
	}
	for _, m := range orderModes(s.Modes()) {
		if m == "cold" || m == "rewind" {
			continue
		}
		if v, ok := phaseOf(attestedRef(s, w, m), "attest"); ok {
			return v, true
		}
	}
	return 0, false
}

// Attestation writes the attestation figure, what attesting costs per workload, to
// dir/attestation.{png,svg,pdf}, creating dir if needed, and returns the paths written. See
// the package documentation for what the figure shows.
//
// A workload is drawn when it has an outer evidence (phase quote of its cold result) or an
// inner report (phase attest of its rewind result, or else of another non-cold mode); bars
// whose value is missing or not positive are left out. A workload's results are those
// measured with inner attestation when the run has some (see attestedRef). The caption says
// how each kind of evidence drawn is made and, when only some workloads have an inner report,
// which. A nil summary, or one in which no workload has either phase (a run without
// attestation), is an error, and then nothing is written; if writing a file fails, the error
// comes with the paths written before it.
func Attestation(s *results.Summary, dir string) ([]string, error) {
	fig, err := newAttestationFigure(s)
	return drawFigure("attestation figure", fig, err, dir, AttestationBase)
}

// newAttestationFigure prepares the attestation figure of s, drawn by the code of the
// headline figure.
func newAttestationFigure(s *results.Summary) (*headlineFigure, error) {
	if s == nil {
		return nil, errors.New("nil summary")
	}
	var workloads []string
	for _, w := range s.Workloads() {
		_, outer := outerEvidence(s, w)
		_, inner := innerReport(s, w)
		if outer || inner {
			workloads = append(workloads, w)
		}
	}
	if len(workloads) == 0 {
		return nil, errors.New("summary has no attestation phase (quote or attest): run with attestation to draw it")
	}

	fig := &headlineFigure{
		title:     "Cost of attestation",
		ylabel:    attestationYLabel,
		workloads: workloads,
	}
	// Every series keeps its slot, so that a bar is always at the same place in its group,
	// unless no workload has it at all.
	var innerOf []string // the workloads with an inner report
	var evidence []string
	for i, sr := range attestationSeries {
		lb := &logBars{name: sr.name, color: sr.color, groups: len(workloads)}
		for g, w := range workloads {
			if v, ok := sr.value(s, w); ok {
				lb.bars = append(lb.bars, bar{group: g, median: v})
				if i == innerSeries {
					innerOf = append(innerOf, w)
				}
			}
		}
		if len(lb.bars) == 0 {
			continue
		}
		fig.series = append(fig.series, lb)
		switch {
		case i == outerSeries && s.Env.Simulated:
			evidence = append(evidence, attestationOuterSimulated)
		case i == outerSeries:
			evidence = append(evidence, attestationOuterHardware)
		case i == innerSeries:
			evidence = append(evidence, attestationInner)
		}
	}
	for i, lb := range fig.series {
		lb.slot, lb.nSlots = i, len(fig.series)
	}
	fig.layout()

	// The notes on a line of their own: with the environment, they are wider than the figure.
	caption := strings.Join(append(envCaption(s.Env), "bar: median"), "  ·  ")
	notes := strings.Join(evidence, ", ")
	if len(innerOf) > 0 && len(innerOf) < len(workloads) {
		// Say where the inner report is, so that its absence elsewhere is not read as zero.
		of := strings.Join(innerOf, ", ")
		if len(innerOf) > maxCaptionItems {
			of = fmt.Sprintf("%d of %d workloads", len(innerOf), len(workloads))
		}
		notes += "  ·  inner report measured for " + of
	}
	fig.caption = caption + "\n" + notes
	return fig, nil
}
