package main

import (
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/workloads"
)

// writeRun writes a run folder with records.jsonl: 40 measured invocations (and a warm-up one)
// of noop/warm (median 10 µs) and json-stats/rewind (median 50 µs) with ±5% uniform noise,
// every output valid and the same per configuration, the latencies of the configurations in
// slow multiplied by their factor.
func writeRun(t *testing.T, dir string, seed uint64, slow map[string]float64) string {
	t.Helper()
	return writeRunWith(t, dir, seed, slow, nil)
}

// writeRunWith is writeRun with edit applied to every measured record (i counts a
// configuration's measured records from 0); a record edit returns false for is left out.
func writeRunWith(t *testing.T, dir string, seed uint64, slow map[string]float64, edit func(i int, r *results.Record) bool) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, harness.RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	enc := results.NewEncoder(f)
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, c := range []struct {
		workload, mode string
		median         float64
	}{{"noop", "warm", 10e3}, {"json-stats", "rewind", 50e3}} {
		factor := slow[c.workload+"/"+c.mode]
		if factor == 0 {
			factor = 1
		}
		for i := range 41 {
			lat := int64(c.median * factor * (1 + 0.1*(rng.Float64()-0.5)))
			r := results.Record{SchemaVersion: results.SchemaVersion, Target: "embedded", Workload: c.workload, Mode: c.mode,
				Size: "test", Load: "closed", Concurrency: 1, Seq: i, Warmup: i == 0, StartNs: int64(i) * 1e6,
				IntendedStartNs: int64(i) * 1e6, LatencyNs: lat, ResponseNs: lat, ExecNs: lat / 2, Reset: "rewind",
				PhasesNs: map[string]int64{"invoke": lat / 2, "rewind": lat / 2}, OutputSHA256: "out-" + c.workload}
			ok := true
			r.Valid = &ok
			if c.mode == "rewind" {
				r.Strategy = "tracked"
			}
			if edit != nil && i > 0 && !edit(i-1, &r) {
				continue
			}
			if err := enc.Encode(&r); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func TestCompareExitStatus(t *testing.T) {
	dir := t.TempDir()
	base := writeRun(t, filepath.Join(dir, "base"), 1, nil)
	same := writeRun(t, filepath.Join(dir, "same"), 1, nil)
	rerun := writeRun(t, filepath.Join(dir, "rerun"), 9, nil)
	slowed := writeRun(t, filepath.Join(dir, "slowed"), 3, map[string]float64{"json-stats/rewind": 1.3})
	slightly := writeRun(t, filepath.Join(dir, "slightly"), 1, map[string]float64{"noop/warm": 1.02})
	other := filepath.Join(dir, "other")
	write(t, other, harness.RecordsFile, `{"schema_version":2,"workload":"hello","mode":"cold","latency_ns":5}`+"\n")
	bad := filepath.Join(dir, "bad")
	write(t, bad, harness.RecordsFile, `{"schema_version":2,"workload":"noop","mode":"warm"}`+"\n{oops\n")
	empty := filepath.Join(dir, "empty")
	write(t, empty, "summary.json", "{}")

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"identical runs", []string{base, same}, 0, []string{"no regression", "noop        warm", "~"}, ""},
		{"another run of the same", []string{base, rerun}, 0, []string{"no regression"}, ""},
		{"slowed by 30%", []string{base, slowed}, 1, []string{"1 regression(s):\n  json-stats rewind"}, "1 of 2 configurations regressed: regression 1 (slower by more than 5%)"},
		{"flags after the folders", []string{base, slowed, "--threshold", "40%"}, 0, []string{"slower by more than 40%", "no regression"}, ""},
		{"slower by less than the threshold", []string{base, slightly}, 0, []string{"slower", "no regression"}, ""},
		{"same, threshold 1%", []string{"--threshold", "1%", base, slightly}, 1, []string{"noop warm: median +"}, "regressed"},
		{"alpha and metric", []string{"--alpha=0.01", base, slowed, "--metric", "exec"}, 1, []string{"exec_ns: median", "p < 0.01"}, ""},
		{"missing folder", []string{base, filepath.Join(dir, "nowhere")}, 2, nil, "nowhere"},
		{"folder without records", []string{base, empty}, 2, nil, harness.RecordsFile},
		{"malformed records", []string{base, bad}, 2, nil, "line 2"},
		{"no common configuration", []string{base, other}, 2, nil, "share no configuration"},
		{"one folder", []string{base}, 2, nil, "two run folders"},
		{"threshold without %", []string{base, same, "--threshold", "5"}, 2, nil, "percentage"},
		{"alpha out of range", []string{base, same, "--alpha", "2"}, 2, nil, "--alpha 2"},
		{"unknown metric", []string{base, same, "--metric", "speed"}, 2, nil, `metric "speed"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := reclave(t, append([]string{"compare"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.stderr)
			}
			if tt.name == "identical runs" && strings.Count(stdout, "  ~  ") != 2 {
				t.Errorf("identical runs: want ~ in both rows:\n%s", stdout)
			}
		})
	}
}

// TestCompareCorrectnessExitStatus: a new run that fails more often than the base, answers
// wrongly, gives a new output of a deterministic workload or lacks a configuration of the base
// makes reclave compare exit 1 and say why; failures of a kind the new run's config expects
// (its config.yaml's expected_errors) do not.
func TestCompareCorrectnessExitStatus(t *testing.T) {
	dir := t.TempDir()
	base := writeRun(t, filepath.Join(dir, "base"), 1, nil)
	is := func(config string, pick func(i int) bool, f func(r *results.Record)) func(int, *results.Record) bool {
		return func(i int, r *results.Record) bool {
			if r.Workload+"/"+r.Mode == config && pick(i) {
				f(r)
			}
			return true
		}
	}
	half := func(i int) bool { return i%2 == 0 }
	every := func(int) bool { return true }
	trap := func(r *results.Record) {
		no := false
		r.Error, r.ErrorKind, r.Valid, r.Invalid, r.OutputSHA256 = "trap: unreachable", "trap", &no, "the invocation failed", ""
	}
	wrong := func(r *results.Record) {
		no := false
		r.Valid, r.Invalid, r.OutputSHA256 = &no, "at $.count: got 2, want 5", "another"
	}
	leak := func(r *results.Record) { r.Valid, r.OutputSHA256 = nil, "another" }
	traps := writeRunWith(t, filepath.Join(dir, "traps"), 2, nil, is("json-stats/rewind", half, trap))
	expected := writeRunWith(t, filepath.Join(dir, "expected"), 2, nil, is("json-stats/rewind", half, trap))
	write(t, expected, harness.ConfigFile, "schema_version: 1\nname: x\nexpected_errors: [deadline, trap]\n")
	otherExpected := writeRunWith(t, filepath.Join(dir, "other-expected"), 2, nil, is("json-stats/rewind", half, trap))
	write(t, otherExpected, harness.ConfigFile, "schema_version: 1\nname: x\nexpected_errors: [deadline]\n")
	invalid := writeRunWith(t, filepath.Join(dir, "invalid"), 2, nil, is("json-stats/rewind", every, wrong))
	leaks := writeRunWith(t, filepath.Join(dir, "leaks"), 2, nil, is("noop/warm", half, leak))
	missing := writeRunWith(t, filepath.Join(dir, "missing"), 2, nil, func(_ int, r *results.Record) bool { return r.Workload != "json-stats" })
	// wat-sum (cmd/reclave/testdata) is not built in: its outputs are judged only with
	// --workloads naming its folder, whose manifest makes it deterministic (every input expected).
	asWatSum := func(_ int, r *results.Record) bool {
		if r.Workload == "noop" {
			r.Workload = "wat-sum"
		}
		return true
	}
	watBase := writeRunWith(t, filepath.Join(dir, "wat-base"), 1, nil, asWatSum)
	watLeaks := writeRunWith(t, filepath.Join(dir, "wat-leaks"), 2, nil, func(i int, r *results.Record) bool {
		asWatSum(i, r)
		if r.Workload == "wat-sum" && half(i) {
			leak(r)
		}
		return true
	})

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"half the rewinds trap", []string{base, traps}, 1,
			[]string{"0+20", "errors", "json-stats rewind strategy=tracked: unexpected failures 0 of 40 → 20 of 40 (trap 20)"}, "1 of 2 configurations regressed: errors 1"},
		{"the traps are expected", []string{base, expected}, 0,
			[]string{"new: 20 of 40 arrivals failed or were dropped as the config expects (trap 20)", "no regression"}, ""},
		{"another kind is expected", []string{base, otherExpected}, 1, []string{"(trap 20)"}, "errors 1"},
		{"every rewind invalid, another output", []string{base, invalid}, 1,
			[]string{"0+40", "1+1", "invalid,outputs", "invalid outputs 0 of 40 → 40 of 40", "distinct outputs 1 → 1 (1 the base run never gave)"}, "invalid 1, outputs 1"},
		{"a second output of a deterministic workload", []string{base, leaks}, 1,
			[]string{"1+2", "noop warm: distinct outputs 1 → 2"}, "outputs 1"},
		{"a configuration missing", []string{base, missing}, 1,
			[]string{"missing", "json-stats rewind strategy=tracked: missing from the new run (40 arrivals in the base run)"}, "missing 1"},
		{"outputs of a workload not built in", []string{watBase, watLeaks}, 0, []string{"no regression"}, ""},
		{"outputs of a workload of --workloads", []string{watBase, watLeaks, "--workloads", "testdata"}, 1,
			[]string{"wat-sum warm: distinct outputs 1 → 2"}, "outputs 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := reclave(t, append([]string{"compare"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.stderr)
			}
		})
	}
}

// TestRunExpectedErrors: compare reads a run's expected_errors from its config.yaml, by
// experiment, leniently (a workloads_dir that does not resolve from the run's folder is no
// error), and a run without config.yaml expects nothing.
func TestRunExpectedErrors(t *testing.T) {
	tests := []struct {
		name, config string // config "" writes no config.yaml
		want         map[string][]string
	}{
		{"no config.yaml", "", nil},
		{"none expected", "schema_version: 1\nname: x\nworkloads_dir: elsewhere\n", map[string][]string{"": nil}},
		{"the document's", "schema_version: 1\nname: x\nexpected_errors: [trap]\n", map[string][]string{"": {"trap"}}},
		{"per experiment", "schema_version: 1\nname: x\nexpected_errors: [trap]\nexperiments:\n  - name: a\n  - name: open\n    expected_errors: [dropped]\n",
			map[string][]string{"": {"trap"}, "a": {"trap"}, "open": {"dropped"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.config != "" {
				write(t, dir, harness.ConfigFile, tt.config)
			}
			got, err := runExpectedErrors(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for exp, kinds := range tt.want {
				if !slices.Equal(got[exp], kinds) {
					t.Errorf("experiment %q: %v, want %v", exp, got[exp], kinds)
				}
			}
		})
	}
	dir := t.TempDir()
	write(t, dir, harness.ConfigFile, "expected_errors: [trap\n")
	if _, err := runExpectedErrors(dir); err == nil || !strings.Contains(err.Error(), harness.ConfigFile) {
		t.Fatalf("malformed config.yaml: %v", err)
	}
}

// trappingWorkloads writes a folder of workloads built from the built-in ones' modules: trapper
// (counter, whose input makes it trap), looper (counter, whose input makes it loop past a
// 100 ms deadline) and liar (noop, whose expected output it does not give). It returns the
// folder.
func trappingWorkloads(t *testing.T, dir string) string {
	t.Helper()
	ws, err := workloads.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	wasm := map[string][]byte{}
	for _, w := range ws {
		if w.Name == "counter" || w.Name == "noop" {
			if wasm[w.Name], err = w.Wasm(); err != nil {
				t.Fatal(err)
			}
		}
	}
	wl := filepath.Join(dir, "wl")
	for name, m := range map[string]struct{ module, limits, input string }{
		"trapper": {"counter", "deadline: 2s", `{json: '{"trap":true}'}`},
		"looper":  {"counter", "deadline: 100ms", `{json: '{"loop":true}'}`},
		"liar":    {"noop", "deadline: 1s", `{json: '{}', expect: {json: '{"ok":true}'}}`},
	} {
		write(t, wl, name+"/"+m.module+".wasm", string(wasm[m.module]))
		write(t, wl, name+"/workload.yaml", "name: "+name+"\nkind: reactor\nmodule: "+m.module+".wasm\nlimits: {"+m.limits+"}\n"+
			"inputs:\n  test: "+m.input+"\n  small: "+m.input+"\n")
	}
	return wl
}

// TestRunExitStatus: reclave run writes its records and summary, then exits 3 when
// invocations failed or gave invalid outputs in ways the config does not expect, naming the
// configurations on stderr; 0 when every failure's kind is declared expected for its
// experiment.
func TestRunExitStatus(t *testing.T) {
	dir := t.TempDir()
	trappingWorkloads(t, dir)
	const head = "schema_version: 1\nname: x\nworkloads_dir: wl\nsize: test\nmodes: [rewind]\niterations: 3\nwarmup: 0\n" +
		"enclave: {memory_mib: 4, measure_runtime: false, attestation: none}\n"
	tests := []struct {
		name, config string
		code         int
		stderr       []string
	}{
		{"traps", head + "workloads: [trapper]\n", 3,
			[]string{"1 of 1 configurations had unexpected failures or invalid outputs", "trapper rewind: 3 of 3 failed unexpectedly (trap 3)"}},
		{"traps expected", head + "workloads: [trapper]\nexpected_errors: [trap]\n", 0, nil},
		{"deadlines, traps expected", head + "workloads: [looper]\nexpected_errors: [trap]\n", 3,
			[]string{"looper rewind: 3 of 3 failed unexpectedly (deadline 3)"}},
		{"deadlines expected", head + "workloads: [looper]\nexpected_errors: [deadline]\n", 0, nil},
		{"invalid outputs", head + "workloads: [liar]\nexpected_errors: [trap, deadline]\n", 3,
			[]string{"liar rewind: 3 of 3 invalid outputs"}},
		{"expected in the experiment that traps", head + "workloads: [liar]\nexperiments:\n  - name: fine\n    workloads: [trapper]\n    expected_errors: [trap]\n  - name: slow\n    workloads: [looper]\n    expected_errors: [deadline]\n", 0, nil},
		{"expected in another experiment", head + "experiments:\n  - name: fine\n    workloads: [looper]\n    expected_errors: [trap]\n  - name: slow\n    workloads: [trapper]\n    expected_errors: [deadline]\n", 3,
			[]string{"2 of 2 configurations", "looper rewind experiment=fine: 3 of 3 failed unexpectedly (deadline 3)", "trapper rewind experiment=slow: 3 of 3 failed unexpectedly (trap 3)"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := write(t, dir, "c"+strconv.Itoa(i)+".yaml", tt.config)
			out := filepath.Join(dir, "out"+strconv.Itoa(i))
			code, stdout, stderr := reclave(t, "run", "--config", cfg, "--out", out, "--quiet")
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			// Everything is written whatever the verdict.
			for _, f := range []string{harness.RecordsFile, harness.SummaryFile, harness.ConfigFile} {
				if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
					t.Errorf("%s: %v", f, err)
				}
			}
		})
	}
}

// TestRunExitStatusProcess: the process's own exit status is 3 (what run.sh passes on).
func TestRunExitStatusProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	trappingWorkloads(t, dir)
	cfg := write(t, dir, "c.yaml", "schema_version: 1\nname: x\nworkloads_dir: wl\nworkloads: [trapper]\nsize: test\nmodes: [rewind]\n"+
		"iterations: 2\nwarmup: 0\nenclave: {memory_mib: 4, measure_runtime: false, attestation: none}\n")
	cmd := exec.Command(exe, "run", "--config", cfg, "--out", filepath.Join(dir, "out"), "--quiet")
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	b, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("exit %v, want status 3:\n%s", err, b)
	}
	if !strings.Contains(string(b), "trapper rewind: 2 of 2 failed unexpectedly (trap 2)") {
		t.Fatalf("output does not name the failures:\n%s", b)
	}
}
