package harness

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reclave/reclave/results"
)

// loadConfig is a small run of the counter in warm and rewind mode, without the runtime
// image (faster enclaves) and without attestation.
func loadConfig(load string) string {
	return `schema_version: 1
name: load
workloads: [counter]
modes: [warm, rewind]
size: test
iterations: 20
warmup: 1
enclave: {memory_mib: 4, measure_runtime: false, attestation: none}
load: ` + load + "\n"
}

func measured(recs []results.Record) []results.Record {
	return slices.DeleteFunc(slices.Clone(recs), func(r results.Record) bool { return r.Warmup })
}

// TestClosedConcurrency: with concurrency c, c workers each with its own enclave share the
// group's invocations; every concurrency value is its own configuration in the summary.
func TestClosedConcurrency(t *testing.T) {
	dir, sum, err := runTiny(t, context.Background(), loadConfig("{model: closed, concurrency: [1, 3]}"))
	if err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, dir)
	for _, mode := range []string{"warm", "rewind"} {
		for _, c := range []int{1, 3} {
			var group []results.Record
			for _, r := range recs {
				if r.Mode == mode && r.Concurrency == c {
					group = append(group, r)
				}
			}
			if got := len(measured(group)); got != 20 {
				t.Errorf("%s c=%d: %d measured records, want 20", mode, c, got)
			}
			if got := len(group) - len(measured(group)); got != c {
				t.Errorf("%s c=%d: %d warm-up records, want one per worker (%d)", mode, c, got, c)
			}
			enclaves := map[int]string{}
			for _, r := range group {
				if r.Load != LoadClosed || r.Target != "embedded" || r.Error != "" {
					t.Fatalf("%s c=%d: record %+v", mode, c, r)
				}
				if id, ok := enclaves[r.Worker]; ok && id != r.EnclaveID {
					t.Errorf("%s c=%d: worker %d changed enclave", mode, c, r.Worker)
				}
				enclaves[r.Worker] = r.EnclaveID
			}
			ids := map[string]bool{}
			for _, id := range enclaves {
				ids[id] = true
			}
			if len(enclaves) != c || len(ids) != c {
				t.Errorf("%s c=%d: workers %v, want %d workers with their own enclave", mode, c, enclaves, c)
			}
		}
	}
	if len(sum.Results) != 4 {
		t.Fatalf("%d results, want 2 modes × 2 concurrency values", len(sum.Results))
	}
	for _, r := range sum.Results {
		if r.N != 20 || r.ThroughputPerS <= 0 {
			t.Errorf("%s c=%d: n %d, throughput %v", r.Mode, r.Concurrency, r.N, r.ThroughputPerS)
		}
	}
}

// TestClosedDuration: a closed group with a duration runs until it has passed, whatever the
// iteration count.
func TestClosedDuration(t *testing.T) {
	cfg := strings.Replace(loadConfig("{model: closed, concurrency: [2], duration: 30ms}"), "iterations: 20", "iterations: 1", 1)
	dir, _, err := runTiny(t, context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(measured(readRecords(t, dir))); n <= 2 {
		t.Fatalf("%d measured records in 30 ms of two workers: the duration did not replace iterations", n)
	}
}

// TestOpenLoop: arrivals are due on the schedule (a constant gap of 1/rate, or seeded
// exponential gaps that repeat run after run), latency counts from when an arrival was due,
// and every arrival is either issued or dropped.
func TestOpenLoop(t *testing.T) {
	for _, tc := range []struct{ name, load string }{
		{"constant", "{model: open, concurrency: [2], rate: 2000}"},
		{"poisson", "{model: open, concurrency: [2], rate: 2000, arrivals: poisson, seed: 7}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gaps [2][]int64
			for run := range 2 {
				dir, sum, err := runTiny(t, context.Background(), loadConfig(tc.load))
				if err != nil {
					t.Fatal(err)
				}
				for _, mode := range []string{"warm", "rewind"} {
					var group []results.Record
					for _, r := range measured(readRecords(t, dir)) {
						if r.Mode == mode {
							group = append(group, r)
						}
					}
					if len(group) != 20 {
						t.Fatalf("%s: %d arrivals recorded, want 20 (issued or dropped)", mode, len(group))
					}
					slices.SortFunc(group, func(a, b results.Record) int { return int(a.IntendedStartNs - b.IntendedStartNs) })
					for i, r := range group {
						if r.Load != LoadOpen {
							t.Fatalf("load %q", r.Load)
						}
						if i > 0 && mode == "rewind" {
							gaps[run] = append(gaps[run], r.IntendedStartNs-group[i-1].IntendedStartNs)
						}
						if r.Dropped {
							continue
						}
						if late := r.StartNs - r.IntendedStartNs; late < 0 || r.LatencyNs < late {
							t.Fatalf("started %d ns after it was due, latency %d: latency must count from when it was due", late, r.LatencyNs)
						}
					}
				}
				for _, r := range sum.Results {
					if r.N+r.Dropped != 20 {
						t.Errorf("%s: n %d + dropped %d, want 20 arrivals", r.Mode, r.N, r.Dropped)
					}
				}
			}
			if tc.name == "constant" {
				for _, g := range gaps[0] {
					if g != int64(time.Second/2000) {
						t.Fatalf("gaps %v, want 500 µs each", gaps[0])
					}
				}
			} else if !slices.Equal(gaps[0], gaps[1]) || slices.Min(gaps[0]) == slices.Max(gaps[0]) {
				t.Fatalf("poisson gaps do not repeat with the seed or are constant:\n%v\n%v", gaps[0], gaps[1])
			}
		})
	}
}

// TestBurstDrops: a burst larger than the workers available drops the arrivals beyond them;
// drops are counted, not errors.
func TestBurstDrops(t *testing.T) {
	// json-stats at size large runs for milliseconds: a burst's five arrivals are all issued
	// before its first invocation ends.
	cfg := `schema_version: 1
name: burst
workloads: [json-stats]
modes: [rewind]
size: large
iterations: 10
warmup: 0
enclave: {memory_mib: 16, measure_runtime: false, attestation: none}
load: {model: burst, concurrency: [2], burst_size: 5, burst_interval: 200ms}
`
	dir, sum, err := runTiny(t, context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	recs := measured(readRecords(t, dir))
	dropped := 0
	for _, r := range recs {
		if r.Dropped {
			dropped++
			if r.Error != "" || r.LatencyNs != 0 || r.Worker != -1 {
				t.Fatalf("dropped arrival recorded as %+v", r)
			}
		}
	}
	// Two bursts of five on two workers: three of the first find no free worker, and three to
	// five of the second (when the first burst's invocations still run).
	if len(recs) != 10 || dropped < 6 || dropped > 8 {
		t.Fatalf("%d arrivals, %d dropped; want 10 arrivals, 6 to 8 dropped", len(recs), dropped)
	}
	if r := sum.Results[0]; r.Dropped != dropped || r.Errors != 0 || r.N != 10-dropped {
		t.Fatalf("summary n %d, dropped %d, errors %d; want dropped %d", r.N, r.Dropped, r.Errors, dropped)
	}
}

// TestRunValidatesOutputs: records carry valid when the workload has an expectation for the
// size; an expectation the output does not meet makes valid false.
func TestRunValidatesOutputs(t *testing.T) {
	wl := t.TempDir()
	dst := filepath.Join(wl, "noop")
	if err := os.CopyFS(dst, os.DirFS("../workloads/noop")); err != nil {
		t.Fatal(err)
	}
	cfg := "schema_version: 1\nname: v\nworkloads_dir: " + wl + "\nsize: test\niterations: 3\nwarmup: 0\nmodes: [warm, rewind]\nenclave: {memory_mib: 4, measure_runtime: false, attestation: none}\n"
	for _, tc := range []struct {
		expect string
		valid  bool
	}{{`{json: '{}'}`, true}, {`{json: '{"a":1}'}`, false}} {
		m, err := os.ReadFile("../workloads/noop/workload.yaml")
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(m, []byte("  test:"))
		j := bytes.IndexByte(m[i:], '\n')
		m = slices.Concat(m[:i], []byte("  test: {json: '{}', expect: "+tc.expect+"}"), m[i+j:])
		if err := os.WriteFile(filepath.Join(dst, "workload.yaml"), m, 0o644); err != nil {
			t.Fatal(err)
		}
		dir, _, err := runTiny(t, context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range readRecords(t, dir) {
			if r.Valid == nil || *r.Valid != tc.valid {
				t.Fatalf("expect %s: %s/%d: valid %v, want %v", tc.expect, r.Mode, r.Seq, r.Valid, tc.valid)
			}
		}
	}
}

// TestRunInterruptedUnderLoad: cancelling a run with concurrent workers stops it; the records
// already written decode and the summary covers them.
func TestRunInterruptedUnderLoad(t *testing.T) {
	cfg, err := ParseConfig([]byte(strings.Replace(loadConfig("{model: closed, concurrency: [2], duration: 1h}"), "iterations: 20", "iterations: 1", 1)), "load.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // interrupt once records are on disk, as Ctrl-C in the middle of a run
		for ctx.Err() == nil {
			if fi, err := os.Stat(filepath.Join(dir, RecordsFile)); err == nil && fi.Size() > 0 {
				time.Sleep(20 * time.Millisecond)
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	sum, err := Run(ctx, cfg, dir, nil)
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("error %v, want interrupted", err)
	}
	recs := readRecords(t, dir)
	if len(recs) == 0 {
		t.Fatal("no records written before the interruption")
	}
	onDisk, err := results.ReadSummary(filepath.Join(dir, SummaryFile))
	if err != nil || len(onDisk.Results) == 0 || len(sum.Warnings) == 0 {
		t.Fatalf("summary after interruption: %v results, warnings %v, %v", len(onDisk.Results), sum.Warnings, err)
	}
	for _, r := range recs {
		if r.ErrorKind != "" {
			t.Fatalf("interruption recorded as an invocation error: %+v", r)
		}
	}
}

// TestConsole: the progress bar is redrawn in place and log lines clear it first.
func TestConsole(t *testing.T) {
	var log, bar bytes.Buffer
	c := &console{log: &log, bar: &bar}
	c.start(4)
	c.status("counter/warm")
	c.done(2)
	c.logf("line\n")
	c.stop()
	if log.String() != "line\n" {
		t.Fatalf("log %q", log.String())
	}
	out := bar.String()
	for _, want := range []string{"\r\033[K", "2/4", "50%", "counter/warm", "\n"} {
		if !strings.Contains(out, want) {
			t.Fatalf("bar output %q lacks %q", out, want)
		}
	}
	// A result line shows p99 only where n supports it (100 successful invocations).
	for _, tc := range []struct {
		n, errs int
		wantP99 string
	}{{n: 100, errs: 0, wantP99: "p99=2 ms"}, {n: 100, errs: 1, wantP99: "p99=" + results.NoValue}, {n: 4, wantP99: "p99=" + results.NoValue}} {
		var line bytes.Buffer
		c = &console{log: &line}
		c.result(results.Result{Key: results.Key{Workload: "w", Mode: "warm", Load: LoadClosed}, N: tc.n, Errors: tc.errs,
			LatencyNs: results.Dist{P50: 1e6, P99: 2e6}})
		if !strings.Contains(line.String(), tc.wantP99) || !strings.Contains(line.String(), "p50=1 ms") {
			t.Errorf("n=%d errors=%d: %q, want %q and p50=1 ms", tc.n, tc.errs, line.String(), tc.wantP99)
		}
	}
	// Validated outputs: the invalid ones are counted beside the errors; none checked, none shown.
	for _, tc := range []struct {
		valid, invalid int
		want           string
	}{{3, 0, "errors=0   invalid=0/3 p50="}, {1, 2, "errors=0   invalid=2/3 p50="}, {0, 0, "errors=0   p50="}} {
		var line bytes.Buffer
		c = &console{log: &line}
		c.result(results.Result{Key: results.Key{Workload: "w", Mode: "cold", Load: LoadClosed}, N: 3, Valid: tc.valid, Invalid: tc.invalid})
		if !strings.Contains(line.String(), tc.want) {
			t.Errorf("valid %d invalid %d: %q, want %q", tc.valid, tc.invalid, line.String(), tc.want)
		}
	}
	var quiet bytes.Buffer
	c = &console{log: &quiet}
	c.start(1)
	c.done(1)
	c.stop()
	if quiet.Len() != 0 {
		t.Fatalf("no bar requested, got %q", quiet.String())
	}
}
