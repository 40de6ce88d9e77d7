package harness

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/workloads"
)

func TestParseOrder(t *testing.T) {
	for _, tt := range []struct {
		in    string
		order string
		seed  uint64
		err   string
	}{
		{in: "round-robin", order: OrderRoundRobin},
		{in: "sequential", order: OrderSequential},
		{in: "random", order: OrderRandom, seed: 1},
		{in: "random:42", order: OrderRandom, seed: 42},
		{in: "random:0", order: OrderRandom, seed: 0},
		{in: "random:-1", err: "non-negative integer"},
		{in: "random:", err: "non-negative integer"},
		{in: "shuffled", err: "want round-robin, random, random:SEED or sequential"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			order, seed, err := parseOrder(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil || order != tt.order || seed != tt.seed {
				t.Fatalf("%q %d %v, want %q %d", order, seed, err, tt.order, tt.seed)
			}
		})
	}
	// The config names the key and its line.
	_, err := ParseConfig([]byte("schema_version: 1\nname: x\norder: backwards\n"), "x.yaml")
	if err == nil || !strings.Contains(err.Error(), "x.yaml:3: order:") {
		t.Fatalf("error %v, want one naming order and its line", err)
	}
}

// planOf plans a config of two workloads, modes warm and rewind, compartments off and on
// and two concurrency levels (16 configurations) in 3 rounds, with the given order.
func planOf(t *testing.T, order string) ([]group, results.Schedule) {
	t.Helper()
	cfg, err := ParseConfig([]byte("schema_version: 1\nname: p\nmodes: [warm, rewind]\nrepetitions: 3\n"+
		"enclave: {compartments: both}\nload: {concurrency: [1, 2]}\norder: "+order+"\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	targets := []*target{{w: &workloads.Workload{Manifest: workloads.Manifest{Name: "a"}}}, {w: &workloads.Workload{Manifest: workloads.Manifest{Name: "b"}}}}
	return plan(cfg, 1, targets, 10)
}

// name is a group's configuration, as "workload/mode/compartments/concurrency".
func (g group) name() string {
	return fmt.Sprintf("%s/%s/%v/%d", g.t.w.Name, g.mode, g.compartments, g.concurrency)
}

// TestPlanOrder: in every order, each configuration runs once per round, rounds are numbered
// from 0, configurations from the first index given in the plan's order; round-robin runs
// every round in that order, random in a seeded shuffle that is the same plan after plan and
// differs between rounds and seeds, sequential each configuration's rounds back to back.
func TestPlanOrder(t *testing.T) {
	const confs, rounds = 16, 3
	var planOrder []string // the configurations in the plan's order, from round-robin's round 0
	for _, order := range []string{"round-robin", "random", "random:7", "sequential"} {
		t.Run(order, func(t *testing.T) {
			groups, sched := planOf(t, order)
			wantOrder, wantSeed, _ := parseOrder(order)
			if sched != (results.Schedule{Order: wantOrder, Seed: wantSeed, Rounds: rounds, Configurations: confs}) {
				t.Errorf("schedule %+v", sched)
			}
			if len(groups) != confs*rounds {
				t.Fatalf("%d groups, want %d", len(groups), confs*rounds)
			}
			// Every configuration once per round, under one index from 10 on.
			index := map[string]int{}
			perRound := make([]map[string]int, rounds)
			for i := range perRound {
				perRound[i] = map[string]int{}
			}
			for _, g := range groups {
				if g.exp != 1 || g.round < 0 || g.round >= rounds {
					t.Fatalf("group %s: experiment %d round %d", g.name(), g.exp, g.round)
				}
				perRound[g.round][g.name()]++
				if i, ok := index[g.name()]; ok && i != g.config {
					t.Fatalf("%s has indexes %d and %d", g.name(), i, g.config)
				}
				index[g.name()] = g.config
			}
			for r, m := range perRound {
				for name, n := range m {
					if n != 1 {
						t.Errorf("round %d runs %s %d times", r, name, n)
					}
				}
				if len(m) != confs {
					t.Errorf("round %d runs %d configurations, want %d", r, len(m), confs)
				}
			}
			var byIndex []string
			for name, i := range index {
				if i < 10 || i >= 10+confs {
					t.Errorf("%s: index %d, want 10 to %d", name, i, 10+confs-1)
				}
				byIndex = append(byIndex, fmt.Sprintf("%02d %s", i, name))
			}
			slices.Sort(byIndex)
			if byIndex[0] != "10 a/warm/false/1" || byIndex[1] != "11 a/warm/false/2" || byIndex[2] != "12 a/warm/true/1" ||
				byIndex[4] != "14 a/rewind/false/1" || byIndex[8] != "18 b/warm/false/1" {
				t.Errorf("configurations not numbered in the plan's order: %q", byIndex)
			}

			var seq [rounds][]string // each round's configurations, in the order run
			for _, g := range groups {
				seq[g.round] = append(seq[g.round], g.name())
			}
			switch wantOrder {
			case OrderRoundRobin:
				planOrder = seq[0]
				for r := range rounds {
					for i, g := range groups[r*confs : (r+1)*confs] {
						if g.round != r || g.config != 10+i {
							t.Fatalf("round-robin: group %d of round %d is %s (round %d, index %d)", i, r, g.name(), g.round, g.config)
						}
					}
				}
			case OrderRandom:
				again, _ := planOf(t, order)
				if !slices.EqualFunc(groups, again, func(a, b group) bool { return a.name() == b.name() && a.round == b.round }) {
					t.Error("random: two plans of the same config differ")
				}
				for r := range rounds {
					if r > 0 && groups[(r-1)*confs].round != r-1 || groups[r*confs].round != r {
						t.Fatalf("random: round %d does not run after round %d", r, r-1)
					}
				}
				if slices.Equal(seq[0], seq[1]) || slices.Equal(seq[1], seq[2]) || slices.Equal(seq[0], planOrder) {
					t.Errorf("random: rounds in the same order: %q", seq)
				}
				other := "random:7"
				if order == other {
					other = "random"
				}
				o, _ := planOf(t, other)
				if slices.EqualFunc(groups, o, func(a, b group) bool { return a.name() == b.name() }) {
					t.Errorf("random: seeds %s and %s give the same order", order, other)
				}
			case OrderSequential:
				for i, g := range groups {
					if g.round != i%rounds || g.config != 10+i/rounds {
						t.Fatalf("sequential: group %d is %s round %d index %d", i, g.name(), g.round, g.config)
					}
				}
			}
		})
	}
}

// TestRunRounds: a run in rounds writes every round of every configuration before the next
// round, records carry their round (equal to their repetition), and the summary has the
// schedule, the results in the plan's order with their round medians, the paired ratios with
// an interval (3 rounds) and the noise indicator (a calibration per round and one at the end).
func TestRunRounds(t *testing.T) {
	cfg := strings.Replace(loadConfig("{model: closed}"), "iterations: 20", "iterations: 12\nrepetitions: 3\norder: random:3", 1)
	cfg = strings.Replace(cfg, "attestation: none}", "attestation: none, compartments: both}", 1)
	dir, sum, err := runTiny(t, context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, dir)
	last := 0
	rounds := map[string][]int{} // per configuration, its records' rounds
	for _, r := range recs {
		if r.Round != r.Repetition || r.Round < last || r.Round > 2 {
			t.Fatalf("%s/%s: round %d repetition %d after round %d", r.Workload, r.Mode, r.Round, r.Repetition, last)
		}
		last = r.Round
		k := fmt.Sprintf("%s/%v", r.Mode, r.Compartments)
		if rs := rounds[k]; len(rs) == 0 || rs[len(rs)-1] != r.Round {
			rounds[k] = append(rounds[k], r.Round)
		}
	}
	if len(rounds) != 4 {
		t.Fatalf("configurations %v, want 4", rounds)
	}
	for k, rs := range rounds {
		if !slices.Equal(rs, []int{0, 1, 2}) {
			t.Errorf("%s ran in rounds %v, want 0, 1, 2 once each", k, rs)
		}
	}

	if want := []results.Schedule{{Order: OrderRandom, Seed: 3, Rounds: 3, Configurations: 4}}; !slices.Equal(sum.Schedule, want) {
		t.Errorf("schedule %+v, want %+v", sum.Schedule, want)
	}
	var order []string
	for _, r := range sum.Results {
		order = append(order, fmt.Sprintf("%s/%v", r.Mode, r.Compartments))
		if r.N != 36 || r.Repetitions != 3 || len(r.RoundP50Ns) != 3 || slices.Contains(r.RoundP50Ns, 0) {
			t.Errorf("%s/%s: n %d, repetitions %d, round medians %v", r.Mode, order[len(order)-1], r.N, r.Repetitions, r.RoundP50Ns)
		}
	}
	if want := []string{"warm/false", "warm/true", "rewind/false", "rewind/true"}; !slices.Equal(order, want) {
		t.Errorf("results in order %q, want the plan's %q", order, want)
	}
	var kinds []string
	for _, p := range sum.Paired {
		kinds = append(kinds, p.Kind)
		if p.Rounds != 3 || p.CI95Lo == nil || p.CI95Hi == nil || !(*p.CI95Lo <= p.Ratio && p.Ratio <= *p.CI95Hi) {
			t.Errorf("%s %s: %d rounds, ratio %v, interval %v %v", p.Kind, p.Numerator.Mode, p.Rounds, p.Ratio, p.CI95Lo, p.CI95Hi)
		}
	}
	if want := []string{results.PairCompartments, results.PairRewindWarm, results.PairCompartments, results.PairRewindWarm}; !slices.Equal(kinds, want) {
		t.Errorf("paired %q, want %q", kinds, want)
	}
	n := sum.Noise
	if n == nil || len(n.Calibration) != 4 || n.CalibrationP50Ns <= 0 || n.CalibrationSpread < 0 {
		t.Fatalf("noise %+v, want 4 calibration timings (3 rounds and the end)", n)
	}
	for i, c := range n.Calibration {
		if c.Ns <= 0 || (i > 0 && c.TNs <= n.Calibration[i-1].TNs) {
			t.Errorf("calibration %d: %+v", i, c)
		}
	}
	if n.StealFraction == nil || n.OtherBusyFraction == nil {
		t.Errorf("steal %v, other busy %v: /proc is readable here", n.StealFraction, n.OtherBusyFraction)
	}
	onDisk, err := results.ReadSummary(dir + "/" + SummaryFile)
	if err != nil || onDisk.Noise == nil || len(onDisk.Paired) != 4 || len(onDisk.Schedule) != 1 {
		t.Fatalf("summary on disk: %v", err)
	}
}

// TestRunSequentialOrder: order sequential runs a configuration's repetitions back to back.
func TestRunSequentialOrder(t *testing.T) {
	cfg := strings.Replace(loadConfig("{model: closed}"), "iterations: 20", "iterations: 4\nrepetitions: 2\norder: sequential", 1)
	dir, sum, err := runTiny(t, context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, r := range readRecords(t, dir) {
		if k := fmt.Sprintf("%s %d", r.Mode, r.Round); len(seen) == 0 || seen[len(seen)-1] != k {
			seen = append(seen, k)
		}
	}
	if want := []string{"warm 0", "warm 1", "rewind 0", "rewind 1"}; !slices.Equal(seen, want) {
		t.Errorf("ran %q, want %q", seen, want)
	}
	if sum.Schedule[0].Order != OrderSequential || len(sum.Noise.Calibration) != 5 {
		t.Errorf("schedule %+v, %d calibrations (want one per round change and the end: 5)", sum.Schedule, len(sum.Noise.Calibration))
	}
}

func TestParseCPUTimes(t *testing.T) {
	stat := []byte("cpu  1000 10 200 5000 40 3 7 50 0 0\ncpu0 500 5 100 2500 20 1 3 25 0 0\nintr 1\n")
	self := []byte("4242 (re clave) (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 300 60 5 2 20 0 12 0\n")
	a := parseCPUTimes(stat, self)
	// busy = user + nice + system + irq + softirq = 1000+10+200+3+7 = 1220; total = busy +
	// idle + iowait + steal = 1220+5000+40+50 = 6310; self = utime+stime+cutime+cstime =
	// 300+60+5+2 = 367.
	if a != (cpuTimes{ok: true, busy: 1220, total: 6310, steal: 50, self: 367}) {
		t.Fatalf("parsed %+v", a)
	}
	b := a
	b.busy, b.total, b.steal, b.self = a.busy+600, a.total+1000, a.steal+20, a.self+400
	steal, other := a.fractions(b)
	if steal == nil || other == nil || *steal != 0.02 || *other != 0.2 {
		t.Fatalf("steal %v other %v, want 0.02 and (600−400)/1000 = 0.2", steal, other)
	}
	for _, bad := range [][2]string{{"", string(self)}, {"cpu 1 2 x 4 5 6 7 8\n", string(self)}, {string(stat), "4242 (x) S 1"}} {
		if got := parseCPUTimes([]byte(bad[0]), []byte(bad[1])); got.ok {
			t.Errorf("parsed %q %q as %+v", bad[0], bad[1], got)
		}
		if s, o := parseCPUTimes([]byte(bad[0]), []byte(bad[1])).fractions(a); s != nil || o != nil {
			t.Errorf("fractions of an unreadable reading: %v %v", s, o)
		}
	}
	if !readCPUTimes().ok {
		t.Error("/proc/stat or /proc/self/stat unreadable")
	}
}

// TestCalibrationLoop: the calibration loop does its work each time (a few ms, never zero).
func TestCalibrationLoop(t *testing.T) {
	m := startNoise(time.Now())
	m.calibrate()
	m.calibrate()
	n := m.finish()
	if len(n.Calibration) != 2 || n.Calibration[0].Ns <= 0 || n.Calibration[1].Ns <= 0 {
		t.Fatalf("calibration %+v", n.Calibration)
	}
	var nilMeter *noiseMeter
	nilMeter.calibrate()
	if nilMeter.finish() != nil {
		t.Error("a nil meter measured noise")
	}
}
