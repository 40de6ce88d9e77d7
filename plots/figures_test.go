package plots

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/reclave/reclave/results"
)

// This file tests the figures breakdown, cdf, throughput and overhead, and what they share.

// sweepResult returns a result of workload w in mode m, closed loop at concurrency c, with
// compartments on or off, median latency p50 and throughput tput.
func sweepResult(w, m string, c int, compartments bool, p50, tput float64) results.Result {
	r := result(w, m, p50, true)
	r.Load, r.Concurrency, r.Compartments = "closed", c, compartments
	r.ThroughputPerS = tput
	return r
}

// coldPhases are the phase medians of a cold start of workload factor k: 100 ms in all,
// 70% of it eadd_eextend, and the signer's build step.
func coldPhases(k float64) map[string]int64 {
	return map[string]int64{
		"ecreate": int64(5e6 * k), "eadd_eextend": int64(70e6 * k), "einit": int64(1e6 * k),
		"runtime_init": int64(2e6 * k), "compile": int64(15e6 * k), "instantiate": int64(1e6 * k),
		"fn_init": int64(1e6 * k), "quote": int64(1e6 * k), "invoke": int64(2e6 * k),
		"destroy": int64(2e6 * k), "sign": int64(3e6 * k),
	}
}

// sweep returns a summary of workloads hello and json-parse (twice as slow) in modes cold,
// rewind and warm, closed loop at concurrency 1, 2 and 4 with compartments off, at
// concurrency 1 with compartments on, and an open loop result that no figure of a closed
// loop may draw. Throughput scales up to the 2 cores; compartments cost 5% (rewind) and 2%
// (warm).
func sweep(simulated bool) *results.Summary {
	s := &results.Summary{SchemaVersion: results.SchemaVersion}
	s.Env.Simulated, s.Env.Backend, s.Env.Cores = simulated, "embedded", 2
	for i, w := range []string{"hello", "json-parse"} {
		k := float64(1 + i)
		for _, c := range []int{1, 2, 4} {
			par := float64(min(c, 2))
			cold := sweepResult(w, "cold", c, false, 100e6*k, 10*par/k)
			cold.PhasesP50Ns = coldPhases(k)
			s.Results = append(s.Results,
				cold,
				sweepResult(w, "rewind", c, false, 20e3*k, 50e3*par/k),
				sweepResult(w, "warm", c, false, 10e3*k, 100e3*par/k),
			)
		}
		s.Results = append(s.Results,
			sweepResult(w, "rewind", 1, true, 21e3*k, 47.6e3/k),
			sweepResult(w, "warm", 1, true, 10.2e3*k, 98e3/k),
		)
		open := sweepResult(w, "rewind", 8, false, 1e9, 1e6)
		open.Load = "open"
		s.Results = append(s.Results, open)
	}
	return s
}

func TestReference(t *testing.T) {
	s := &results.Summary{Results: []results.Result{
		{Key: results.Key{Workload: "w", Mode: "m", Load: "open", Concurrency: 1}, N: 1},
		{Key: results.Key{Workload: "w", Mode: "m", Load: "closed", Concurrency: 4}, N: 2},
		{Key: results.Key{Workload: "w", Mode: "m", Load: "closed", Concurrency: 2}, N: 3},
		{Key: results.Key{Workload: "w", Mode: "m", Load: "closed", Concurrency: 2, Compartments: true}, N: 4},
		{Key: results.Key{Workload: "w", Mode: "other"}, N: 5}, // before load models: closed, 1
		{Key: results.Key{Workload: "w", Mode: "other", Load: "closed", Concurrency: 1}, N: 6},
	}}
	tests := []struct {
		mode  string
		keep  func(*results.Result) bool
		wantN int // 0: none
	}{
		{"m", nil, 3}, // closed beats open, then the lowest concurrency, then the first
		{"m", func(r *results.Result) bool { return r.Compartments }, 4},
		{"m", func(r *results.Result) bool { return r.Load == "open" }, 1},
		{"other", nil, 5},
		{"missing", nil, 0},
	}
	for _, tt := range tests {
		got := reference(s, "w", tt.mode, tt.keep)
		if (got == nil) != (tt.wantN == 0) || (got != nil && got.N != tt.wantN) {
			t.Errorf("reference(%s) = %+v, want result n=%d", tt.mode, got, tt.wantN)
		}
	}
}

func TestBreakdown(t *testing.T) {
	unknown := sweep(false)
	for i := range unknown.Results {
		if r := &unknown.Results[i]; r.Mode == "cold" {
			r.PhasesP50Ns["zygote"] = 1e6   // not canonical: after them all
			r.PhasesP50Ns["snapshot"] = 0   // not positive: left out
			delete(r.PhasesP50Ns, "sign")   // no build step: no note
			r.PhasesP50Ns["ecreate"] = -1e6 // not positive: left out
		}
	}
	unknown.Results = append(unknown.Results, result("warm-only", "warm", 5e3, false))

	canonical := []string{">ecreate<", ">eadd_eextend<", ">einit<", ">runtime_init<", ">compile<",
		">instantiate<", ">fn_init<", ">quote<", ">invoke<", ">destroy<"}
	tests := []struct {
		name      string
		summary   *results.Summary
		simulated bool
		phases    []string // stacked, in order
		totals    []float64
		texts     []string // in the SVG, in this order
		absent    []string
	}{
		{
			name: "simulated", summary: sweep(true), simulated: true,
			phases: []string{"ecreate", "eadd_eextend", "einit", "runtime_init", "compile", "instantiate", "fn_init", "quote", "invoke", "destroy"},
			totals: []float64{100e6, 200e6},
			texts: slices.Concat([]string{breakdownTitle, "not shown: sign"}, canonical,
				[]string{breakdownXLabel, breakdownYLabel, ">hello (100 ms)<", ">json-parse (200 ms)<", ">70%<"}),
			absent: []string{">sign<"},
		},
		{
			name: "unknown and non-positive phases", summary: unknown,
			phases: []string{"eadd_eextend", "einit", "runtime_init", "compile", "instantiate", "fn_init", "quote", "invoke", "destroy", "zygote"},
			totals: []float64{96e6, 191e6},
			texts:  []string{">eadd_eextend<", ">destroy<", ">zygote<", ">hello (96 ms)<", ">json-parse (191 ms)<"},
			absent: []string{">ecreate<", ">snapshot<", "not shown: sign", ">warm-only"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fig, err := newBreakdownFigure(tt.summary)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(fig.phases, tt.phases) {
				t.Errorf("phases = %q, want %q", fig.phases, tt.phases)
			}
			var totals []float64
			for _, b := range fig.bars {
				totals = append(totals, b.total)
				sum := 0.0
				for _, v := range b.phases {
					sum += v
				}
				if sum != b.total {
					t.Errorf("%s: phases sum to %g, total %g", b.workload, sum, b.total)
				}
			}
			if !slices.Equal(totals, tt.totals) {
				t.Errorf("totals = %v, want %v", totals, tt.totals)
			}
			checkSVG(t, svgOf(t, fig), tt.simulated, tt.texts, tt.absent)
		})
	}
}

func TestBreakdownErrors(t *testing.T) {
	noPhases := sweep(true)
	for i := range noPhases.Results {
		noPhases.Results[i].PhasesP50Ns = map[string]int64{"sign": 5e6, "invoke": 0}
	}
	for _, tt := range []struct {
		name    string
		summary *results.Summary
	}{
		{"nil", nil},
		{"no cold result", fourModesWithout("cold")},
		{"cold without positive phases", noPhases},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkDrawsNothing(t, func(dir string) ([]string, error) { return Breakdown(tt.summary, dir) })
		})
	}
}

// fourModesWithout returns fourModes(true) without the results of mode.
func fourModesWithout(mode string) *results.Summary {
	s := fourModes(true)
	s.Results = slices.DeleteFunc(s.Results, func(r results.Result) bool { return r.Mode == mode })
	return s
}

// invocations returns n measured records of workload w in mode m, closed loop at
// concurrency c, with latencies base, 2·base, ..., n·base.
func invocations(w, m string, c, n int, base int64) []results.Record {
	var out []results.Record
	for i := range n {
		out = append(out, results.Record{SchemaVersion: results.SchemaVersion, Workload: w, Mode: m,
			Load: "closed", Concurrency: c, Seq: i, StartNs: int64(i) * 1e6, LatencyNs: base * int64(i+1)})
	}
	return out
}

// runRecords returns the records of a run: hello and json-parse in modes warm, rewind and
// cold, with records the cdf figure must leave out (warm-up, failed, dropped, another
// concurrency), and workload queued measured by an open loop whose invocations started 5 µs
// late.
func runRecords() []results.Record {
	var rs []results.Record
	for i, w := range []string{"hello", "json-parse"} {
		k := int64(1 + i)
		rs = slices.Concat(rs,
			invocations(w, "warm", 1, 50, 1e3*k),
			invocations(w, "rewind", 1, 50, 2e3*k),
			invocations(w, "cold", 1, 5, 100e6*k),
			invocations(w, "rewind", 4, 10, 1e9), // not the reference configuration
		)
	}
	warm := invocations("hello", "rewind", 1, 1, 1e12)
	warm[0].Warmup = true
	failed := invocations("hello", "rewind", 1, 1, 1e11)
	failed[0].Error, failed[0].ErrorKind = "trap", "trap"
	dropped := invocations("hello", "rewind", 1, 1, 0)
	dropped[0].Dropped = true
	open := invocations("queued", "warm", 4, 20, 1e3)
	for i := range open {
		// Issued 5 µs late: the driver counts latency from the intended start.
		open[i].Load = "open"
		open[i].IntendedStartNs = open[i].StartNs - 5e3
		open[i].LatencyNs += 5e3
	}
	return slices.Concat(rs, warm, failed, dropped, open)
}

func TestCDF(t *testing.T) {
	fig, err := newCDFFigure(runRecords(), results.Env{Simulated: true, Backend: "embedded"})
	if err != nil {
		t.Fatal(err)
	}
	type line struct {
		mode     string
		n        int // points
		min, max float64
	}
	want := map[string][]line{
		"hello":      {{"cold", 10, 100e6, 500e6}, {"rewind", 100, 2e3, 100e3}, {"warm", 100, 1e3, 50e3}},
		"json-parse": {{"cold", 10, 200e6, 1000e6}, {"rewind", 100, 4e3, 200e3}, {"warm", 100, 2e3, 100e3}},
		"queued":     {{"warm", 40, 6e3, 25e3}}, // latency from the intended start: + 5 µs
	}
	var panels []string
	for _, p := range fig.panels {
		panels = append(panels, p.title)
		var got []line
		for _, l := range p.lines {
			got = append(got, line{l.name, len(l.points), l.points[0].x, l.points[len(l.points)-1].x})
			if l.points[0].y != 0 || l.points[len(l.points)-1].y != 1 {
				t.Errorf("%s/%s: CDF from %g to %g, want 0 to 1", p.title, l.name, l.points[0].y, l.points[len(l.points)-1].y)
			}
		}
		if !slices.Equal(got, want[p.title]) {
			t.Errorf("%s: lines %v, want %v", p.title, got, want[p.title])
		}
	}
	if !slices.Equal(panels, []string{"hello", "json-parse", "queued"}) {
		t.Errorf("panels = %q", panels)
	}
	// The decades around 1 µs .. 1 s; not up to the warm-up, the failure or concurrency 4.
	if fig.x.min != 100 || fig.x.max != 1e10 {
		t.Errorf("X axis %g..%g, want 1e2..1e10", fig.x.min, fig.x.max)
	}
	checkSVG(t, svgOf(t, fig), true,
		[]string{cdfTitle, ">cold<", ">rewind<", ">warm<", ">hello<", ">json-parse<", ">queued<", cdfYLabel, cdfXLabel},
		[]string{">reinstantiate<"})
}

func TestCDFErrors(t *testing.T) {
	failed := invocations("hello", "rewind", 1, 3, 1e3)
	for i := range failed {
		failed[i].Error = "trap"
	}
	warmup := invocations("hello", "rewind", 1, 3, 1e3)
	for i := range warmup {
		warmup[i].Warmup = true
	}
	for _, tt := range []struct {
		name    string
		records []results.Record
	}{
		{"none", nil},
		{"all failed", failed},
		{"all warm-up", warmup},
		{"zero latency", invocations("hello", "rewind", 1, 3, 0)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkDrawsNothing(t, func(dir string) ([]string, error) { return CDF(tt.records, results.Env{}, dir) })
		})
	}
}

func TestECDF(t *testing.T) {
	got := ecdf([]float64{1, 2, 4}, 10)
	want := []xy{{1, 0}, {1, 1.0 / 3}, {2, 1.0 / 3}, {2, 2.0 / 3}, {4, 2.0 / 3}, {4, 1}}
	if !slices.Equal(got, want) {
		t.Errorf("staircase = %v, want %v", got, want)
	}
	many := make([]float64, 1001)
	for i := range many {
		many[i] = float64(i)
	}
	got = ecdf(many, 10)
	if len(got) != 11 || got[0] != (xy{0, 1.0 / 1001}) || got[10] != (xy{1000, 1}) || got[5] != (xy{500, 501.0 / 1001}) {
		t.Errorf("downsampled = %v", got)
	}
}

func TestThroughput(t *testing.T) {
	fig, err := newThroughputFigure(sweep(true))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string][]xy{
		"hello": {
			"cold":   {{1, 10}, {2, 20}, {4, 20}},
			"rewind": {{1, 50e3}, {2, 100e3}, {4, 100e3}}, // compartments off: the reference's
			"warm":   {{1, 100e3}, {2, 200e3}, {4, 200e3}},
		},
		"json-parse": {
			"cold":   {{1, 5}, {2, 10}, {4, 10}},
			"rewind": {{1, 25e3}, {2, 50e3}, {4, 50e3}},
			"warm":   {{1, 50e3}, {2, 100e3}, {4, 100e3}},
		},
	}
	for _, p := range fig.panels {
		var modes []string
		for _, l := range p.lines {
			modes = append(modes, l.name)
			if !slices.Equal(l.points, want[p.title][l.name]) {
				t.Errorf("%s/%s: points %v, want %v", p.title, l.name, l.points, want[p.title][l.name])
			}
		}
		if !slices.Equal(modes, []string{"cold", "rewind", "warm"}) {
			t.Errorf("%s: modes %q", p.title, modes)
		}
	}
	if len(fig.panels) != 2 {
		t.Errorf("%d panels, want 2", len(fig.panels))
	}
	if !slices.Equal(fig.x.ticks.(levelTicks), levelTicks{1, 2, 4}) {
		t.Errorf("X ticks %v, want the levels 1, 2, 4 (open loop's 8 left out)", fig.x.ticks)
	}
	checkSVG(t, svgOf(t, fig), true,
		[]string{throughputTitle, "(2 cores)", ">cold<", ">rewind<", ">warm<", ">1<", ">2<", ">4<", ">10/s<", ">1k/s<", ">100k/s<", ">hello<", ">json-parse<", throughputYLabel, throughputXLabel},
		[]string{">8<"})
}

// TestThroughputAcrossExperiments: a run that also measured the workloads at one
// concurrency level (another experiment) draws the sweep, not the single points; a workload
// never swept gets no panel.
func TestThroughputAcrossExperiments(t *testing.T) {
	s := sweep(true)
	var extra []results.Result
	for _, w := range []string{"hello", "solo"} {
		for _, m := range []string{"cold", "rewind", "warm"} {
			r := sweepResult(w, m, 1, true, 1e3, 7)
			r.Experiment = "headline"
			extra = append(extra, r)
		}
	}
	s.Results = append(extra, s.Results...)
	fig, err := newThroughputFigure(s)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, p := range fig.panels {
		titles = append(titles, p.title)
		for _, l := range p.lines {
			if len(l.points) != 3 {
				t.Errorf("%s/%s: points %v, want the sweep's three", p.title, l.name, l.points)
			}
		}
	}
	if !slices.Equal(titles, []string{"hello", "json-parse"}) {
		t.Errorf("panels %q, want hello and json-parse (solo was never swept)", titles)
	}
}

func TestThroughputErrors(t *testing.T) {
	one := sweep(true)
	one.Results = slices.DeleteFunc(one.Results, func(r results.Result) bool { return r.Concurrency != 1 })
	zero := sweep(true)
	for i := range zero.Results {
		if zero.Results[i].Concurrency == 4 {
			zero.Results[i].ThroughputPerS = 0
		}
		if zero.Results[i].Concurrency == 2 {
			zero.Results[i].Load = "burst"
		}
	}
	for _, tt := range []struct {
		name    string
		summary *results.Summary
		want    string
	}{
		{"nil", nil, "nil summary"},
		{"one concurrency", one, "one concurrency only (1)"},
		{"one concurrency before load models", fourModes(true), "positive throughput"},
		{"others zero or not closed", zero, "one concurrency only (1)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newThroughputFigure(tt.summary); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
			checkDrawsNothing(t, func(dir string) ([]string, error) { return Throughput(tt.summary, dir) })
		})
	}
}

func TestOverhead(t *testing.T) {
	noWarmOn := sweep(false)
	noWarmOn.Results = slices.DeleteFunc(noWarmOn.Results, func(r results.Result) bool { return r.Mode == "warm" && r.Compartments })
	steep := sweep(false) // rewind 100× warm: a logarithmic axis
	for i := range steep.Results {
		if r := &steep.Results[i]; r.Mode == "rewind" {
			r.LatencyNs.P50 *= 50
		}
	}
	steep.Results = append(steep.Results, sweepResult("no-baseline", "rewind", 1, true, 1e6, 1))
	// Another experiment measured the same workloads and modes with compartments on only, at
	// another input size and far faster: its results must not be divided by the baseline.
	mixed := sweep(false)
	for _, w := range []string{"json-parse", "hello"} { // prepended: hello ends up first
		for _, m := range []string{"warm", "rewind"} {
			r := sweepResult(w, m, 1, true, 1, 1)
			r.Experiment, r.Size = "headline", "test"
			mixed.Results = append([]results.Result{r}, mixed.Results...)
		}
	}

	tests := []struct {
		name   string
		s      *results.Summary
		series []string
		values [][]float64 // per series, per workload
		linear bool
		texts  []string
	}{
		{
			name: "all four", s: sweep(true),
			series: []string{"warm", "warm + compartments", "rewind", "rewind + compartments"},
			values: [][]float64{{1, 1}, {1.02, 1.02}, {2, 2}, {2.1, 2.1}},
			linear: true,
			texts:  []string{overheadTitle, ">warm<", ">warm + compartments<", ">rewind<", ">rewind + compartments<", overheadYLabel, ">hello<", ">json-parse<", ">1×<", ">1.00×<", ">1.02×<", ">2.00×<", ">2.10×<"},
		},
		{
			name: "experiments mixed", s: mixed,
			series: []string{"warm", "warm + compartments", "rewind", "rewind + compartments"},
			values: [][]float64{{1, 1}, {1.02, 1.02}, {2, 2}, {2.1, 2.1}},
			linear: true,
		},
		{
			name: "no warm with compartments", s: noWarmOn,
			series: []string{"warm", "rewind", "rewind + compartments"},
			values: [][]float64{{1, 1}, {2, 2}, {2.1, 2.1}},
			linear: true,
			texts:  []string{">warm<", ">rewind<", ">rewind + compartments<"},
		},
		{
			name: "steep", s: steep,
			series: []string{"warm", "warm + compartments", "rewind", "rewind + compartments"},
			values: [][]float64{{1, 1}, {1.02, 1.02}, {100, 100}, {105, 105}},
			texts:  []string{overheadYLabel + overheadLogNote, ">1×<", ">10×<", ">100×<"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fig, err := newOverheadFigure(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for i, lb := range fig.series {
				names = append(names, lb.name)
				var vs []float64
				for _, b := range lb.bars {
					vs = append(vs, math.Round(b.median*1000)/1000)
				}
				if i < len(tt.values) && !slices.Equal(vs, tt.values[i]) {
					t.Errorf("%s: values %v, want %v", lb.name, vs, tt.values[i])
				}
			}
			if !slices.Equal(names, tt.series) {
				t.Errorf("series %q, want %q", names, tt.series)
			}
			if !slices.Equal(fig.workloads, []string{"hello", "json-parse"}) {
				t.Errorf("workloads %q", fig.workloads)
			}
			if fig.linear != tt.linear || fig.ref != 1 {
				t.Errorf("linear %v ref %g, want linear %v ref 1", fig.linear, fig.ref, tt.linear)
			}
			checkSVG(t, svgOf(t, fig), tt.s.Env.Simulated, tt.texts, nil)
		})
	}
}

func TestOverheadErrors(t *testing.T) {
	allOn := sweep(true)
	allOff := sweep(true)
	for i := range allOn.Results {
		allOn.Results[i].Compartments = true
		allOff.Results[i].Compartments = false
	}
	noBaseline := sweep(true)
	noBaseline.Results = slices.DeleteFunc(noBaseline.Results, func(r results.Result) bool { return r.Mode == "warm" && !r.Compartments })
	for _, tt := range []struct {
		name    string
		summary *results.Summary
		want    string
	}{
		{"nil", nil, "nil summary"},
		{"compartments on only", allOn, "no result with compartments off"},
		{"compartments off only", allOff, "no result with compartments on"},
		{"no warm without compartments", noBaseline, "baseline"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newOverheadFigure(tt.summary); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
			checkDrawsNothing(t, func(dir string) ([]string, error) { return Overhead(tt.summary, dir) })
		})
	}
}

func TestFormatRate(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{{0.1, "0.1/s"}, {1, "1/s"}, {10, "10/s"}, {999, "999/s"}, {1000, "1k/s"}, {2.5e6, "2.5M/s"}, {1e9, "1G/s"}} {
		if got := formatRate(tt.v); got != tt.want {
			t.Errorf("formatRate(%g) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestEveryNthDecade(t *testing.T) {
	var labels []string
	for _, tk := range (everyNthDecade{durationTicks{}, 2}).Ticks(1e3, 1e9) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if want := []string{"10 µs", "1 ms", "100 ms"}; !slices.Equal(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
}

func TestLegendRows(t *testing.T) {
	entry := func(name string) legendEntry { return legendEntry{name: name, width: 8} }
	entries := []legendEntry{entry("ecreate"), entry("eadd_eextend"), entry("einit"), entry("runtime_init")}
	sty := legendTextStyle()
	rowWidth := func(row []legendEntry) vg.Length {
		var w vg.Length
		for i, e := range row {
			if i > 0 {
				w += legendSpacing
			}
			w += e.width + legendGap + sty.Width(e.name)
		}
		return w
	}
	for _, tt := range []struct {
		width vg.Length
		rows  int // 0: between 2 and 3
	}{{1000, 1}, {rowWidth(entries[:2]), 0}, {1, 4}} {
		rows := legendRows(entries, tt.width)
		var flat []legendEntry
		for _, r := range rows {
			if len(r) > 1 && rowWidth(r) > tt.width {
				t.Errorf("width %v: row %v is %v wide", tt.width, r, rowWidth(r))
			}
			flat = append(flat, r...)
		}
		if len(flat) != len(entries) || flat[0].name != "ecreate" || flat[3].name != "runtime_init" {
			t.Errorf("width %v: entries %v, want them all in order", tt.width, flat)
		}
		if n := len(rows); (tt.rows > 0 && n != tt.rows) || (tt.rows == 0 && (n < 2 || n > 3)) {
			t.Errorf("width %v: %d rows, want %d", tt.width, n, tt.rows)
		}
	}
}

// TestFiguresLook writes the breakdown, cdf, throughput and overhead figures of synthetic
// data to $PLOTS_LOOK_DIR, to look at.
func TestFiguresLook(t *testing.T) {
	dir := os.Getenv("PLOTS_LOOK_DIR")
	if dir == "" {
		t.Skip("PLOTS_LOOK_DIR not set")
	}
	env := sweep(true).Env
	for _, draw := range []func() ([]string, error){
		func() ([]string, error) { return Breakdown(sweep(true), dir) },
		func() ([]string, error) { return CDF(runRecords(), env, dir) },
		func() ([]string, error) { return Throughput(sweep(true), dir) },
		func() ([]string, error) { return Overhead(sweep(true), dir) },
	} {
		if _, err := draw(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRatioTicks(t *testing.T) {
	for _, tt := range []struct {
		lo, hi float64
		want   []string
	}{
		{0, 1.8, []string{"0×", "0.5×", "1×", "1.5×"}},
		{0, 2.35, []string{"0×", "0.5×", "1×", "1.5×", "2×"}},
		{0, 1.12, []string{"0×", "0.2×", "0.4×", "0.6×", "0.8×", "1×"}},
		{0, 7.5, []string{"0×", "2×", "4×", "6×"}},
		{0, 0, nil},
		{0, math.NaN(), nil},
	} {
		var got []string
		for _, tk := range (ratioTicks{}).Ticks(tt.lo, tt.hi) {
			got = append(got, tk.Label)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ratioTicks(%g, %g) = %q, want %q", tt.lo, tt.hi, got, tt.want)
		}
	}
}
