package harness

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/reclave/reclave/results"
)

// machine returns a resource reader of a machine with the given free disk and available
// memory, and 2 CPUs.
func machine(disk, memory int64) ResourceReader {
	return func(dir string) Resources {
		return Resources{DiskFree: disk, DiskPath: dir, MemoryAvailable: memory, Cores: 2}
	}
}

const (
	mib = int64(1) << 20
	gib = int64(1) << 30
	tib = int64(1) << 40
)

// TestConfigRefusesWhatCannotRun: every input the red team found silently misread or able to
// eat the machine is refused with its key and line; a plan is judged by its estimate against
// the machine (injected here), not by a fixed maximum.
func TestConfigRefusesWhatCannotRun(t *testing.T) {
	const head = "schema_version: 1\nname: x\n"
	roomy := machine(tib, 64*gib) // a large machine: what it refuses, no machine can run
	tests := []struct {
		name string
		yaml string
		res  ResourceReader
		want string // "" for a config that is accepted
	}{
		// Each of these was accepted, or misread, before (see the report of the red team).
		{"billions of repetitions", head + "workloads: [noop]\nrepetitions: 2000000000\n", roomy,
			"x.yaml:4: repetitions: 2000000000: the run would hold about"},
		{"huge iterations", head + "workloads: [noop]\niterations: 1000000000000\n", roomy,
			"x.yaml:4: iterations: 1000000000000: the run would write about"},
		{"fractional iterations", head + "iterations: 3.5\n", roomy,
			`bad value "3.5" for key "iterations" (line 3): want an integer`},
		{"overflowing iterations", head + "iterations: 99999999999999999999\n", roomy,
			`bad value "99999999999999999999" for key "iterations" (line 3): out of range`},
		{"missing workloads_dir", head + "workloads_dir: /nonexistent\n", roomy,
			"x.yaml:3: workloads_dir: folder /nonexistent: "},
		{"empty workloads", head + "workloads: []\n", roomy,
			"x.yaml:3: workloads: an empty list: name at least one item, or leave the key out for every workload"},

		// The same classes, further.
		{"exponent iterations", head + "iterations: 1e3\n", roomy, `bad value "1e3" for key "iterations" (line 3): want an integer`},
		{"quoted iterations", head + "iterations: \"3\"\n", roomy, `bad value "3" for key "iterations" (line 3): want an integer, not a quoted string`},
		{"fractional concurrency", head + "load: {concurrency: [1, 2.5]}\n", roomy, `bad value "2.5" for key "load.concurrency[1]" (line 3)`},
		{"overflowing repetitions in an experiment", head + "experiments:\n  - name: a\n    repetitions: 99999999999999999999\n", roomy,
			`bad value "99999999999999999999" for key "repetitions" (line 5): out of range`},
		{"negative seed", head + "load: {model: open, rate: 5, seed: -1}\n", roomy, `bad value "-1" for key "load.seed" (line 3): out of range: want an integer from 0`},
		{"empty modes", head + "modes: []\n", roomy, "x.yaml:3: modes: an empty list"},
		{"empty concurrency", head + "load:\n  concurrency: []\n", roomy, "x.yaml:4: load.concurrency: an empty list"},
		{"empty experiments", head + "experiments: []\n", roomy, "x.yaml:3: experiments: an empty list"},
		{"empty modes in an experiment", head + "experiments:\n  - name: a\n    modes: []\n", roomy, "x.yaml:5: modes: an empty list"},
		{"null workloads", head + "workloads:\n", roomy, "x.yaml:3: workloads: no value"},
		{"empty mapping", head + "enclave: {}\n", roomy, "x.yaml:3: enclave: an empty mapping"},
		{"workloads_dir a file", head + "workloads_dir: x.yaml\n", roomy, "is not a folder"},

		// The estimate against the machine.
		{"records beyond the free disk", head + "workloads: [noop]\nmodes: [warm]\niterations: 100000\n", machine(10*mib, 64*gib),
			"x.yaml:5: iterations: 100000: the run would write about"},
		{"the same on a larger disk", head + "workloads: [noop]\nmodes: [warm]\niterations: 100000\n", machine(tib, 64*gib), ""},
		{"the same without records", head + "workloads: [noop]\nmodes: [warm]\niterations: 100000\nrecords: none\n", machine(10*mib, 64*gib), ""},
		{"the same compressed, still too large", head + "workloads: [noop]\nmodes: [warm]\niterations: 1000000\nrecords: gzip\n", machine(10*mib, 64*gib),
			"records: none writes none"},
		{"a soak for a duration", head + "workloads: [noop]\nmodes: [warm]\nload: {duration: 1h}\n", machine(100*gib, 64*gib),
			"x.yaml:5: load.duration: 1h0m0s: the run would write about"},
		{"enclaves beyond the memory", head + "workloads: [noop]\nmodes: [rewind]\nload: {concurrency: [64]}\n", machine(tib, 4*gib),
			"x.yaml:5: load.concurrency: [64]: the run would hold about"},
		{"large enclaves beyond the memory", head + "workloads: [noop]\nenclave: {memory_mib: 8192}\n", machine(tib, 4*gib),
			"x.yaml:4: enclave.memory_mib: 8192: the run would hold about"},
		{"an experiment's key", head + "workloads: [noop]\nexperiments:\n  - name: small\n  - name: big\n    iterations: 1000000000\n", machine(tib, 64*gib),
			"x.yaml:7: experiment big: iterations: 1000000000: the run would write"},
		{"unknown resources are not checked", head + "workloads: [noop]\nrepetitions: 2000000000\n", machine(-1, -1), ""},
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.yaml"), []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := parseAndCheck(tt.yaml, filepath.Join(dir, "x.yaml"), filepath.Join(dir, "out"), tt.res)
			if time.Since(start) > 5*time.Second {
				t.Errorf("took %v: a plan must be judged without being built", time.Since(start))
			}
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("accepted; want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q\ndoes not contain %q", err, tt.want)
			}
		})
	}
}

// parseAndCheck is what reclave run does with a config before running it.
func parseAndCheck(doc, file, out string, res ResourceReader) error {
	c, err := ParseConfig([]byte(doc), file)
	if err != nil {
		return err
	}
	return c.CheckResources(out, res)
}

// TestEstimate: the estimate's formula on plans whose numbers are known.
func TestEstimate(t *testing.T) {
	const head = "schema_version: 1\nname: x\nworkloads: [noop]\nenclave: {memory_mib: 16, measure_runtime: false, attestation: none}\n"
	tests := []struct {
		name                                   string
		yaml                                   string
		invocations, enclaves, groups, summary float64
	}{
		{"iterations and warm-up per worker", head + "modes: [warm]\niterations: 1000\nwarmup: 10\nload: {concurrency: [1, 4]}\nrepetitions: 3\n",
			3 * (1000 + 10 + 1000 + 40), 4 * 16 * float64(mib), 6, 2 * results.SummarizerBytes(3*1000, 2)},
		{"per-mode iterations; rewind and cold keep a snapshot", head + "modes: [cold, rewind]\niterations: 100\nmode_iterations: {cold: 5}\nwarmup: 0\n",
			105, 2 * 16 * float64(mib), 2, results.SummarizerBytes(5, 11) + results.SummarizerBytes(100, 2)},
		{"compartments both", strings.Replace(head, "attestation: none", "attestation: none, compartments: both", 1) + "modes: [warm]\niterations: 10\nwarmup: 0\n",
			20, 16 * float64(mib), 2, 2 * results.SummarizerBytes(10, 2)},
		{"a duration: as fast as a worker can, on the cores", head + "modes: [warm]\nwarmup: 0\nload: {concurrency: [4], duration: 10s}\n",
			2 * maxInvocationRate * 10, 4 * 16 * float64(mib), 1, results.SummarizerBytes(2*maxInvocationRate*10, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tt.yaml), "x.yaml")
			if err != nil {
				t.Fatal(err)
			}
			est, err := c.Estimate(2)
			if err != nil {
				t.Fatal(err)
			}
			if est.Invocations != tt.invocations || est.EnclaveBytes != tt.enclaves || est.PlanBytes != tt.groups*float64(planEntryBytes) {
				t.Errorf("invocations %v, enclaves %v, plan %v; want %v, %v, %v",
					est.Invocations, est.EnclaveBytes, est.PlanBytes, tt.invocations, tt.enclaves, tt.groups*float64(planEntryBytes))
			}
			// A record of these plans is a line of 500 to 1000 bytes: phases, output hash,
			// enclave identifier, host calls and the configuration's fields.
			if est.RecordBytes < 500 || est.RecordBytes > 1000 {
				t.Errorf("%.0f bytes per record", est.RecordBytes)
			}
			// Summarising holds every configuration of the experiment at once (its rounds
			// interleave): the sum of their bounded summaries.
			if est.SummaryBytes != tt.summary {
				t.Errorf("summaries %v, want %v", est.SummaryBytes, tt.summary)
			}
			if est.DiskBytes != est.Invocations*est.RecordBytes || est.MemoryBytes != est.EnclaveBytes+est.PlanBytes+est.ImageBytes+est.SummaryBytes {
				t.Errorf("disk %v, memory %v: not the sums", est.DiskBytes, est.MemoryBytes)
			}
		})
	}
	// Runs with the runtime image measure it in every enclave, and hold it once.
	c, err := ParseConfig([]byte("schema_version: 1\nname: x\nworkloads: [noop]\nmodes: [warm]\nenclave: {memory_mib: 16}\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer func(f func(*Config) int64) { runtimeImageBytes = f }(runtimeImageBytes)
	runtimeImageBytes = func(*Config) int64 { return 8 * mib }
	est, err := c.Estimate(1)
	if err != nil {
		t.Fatal(err)
	}
	if est.ImageBytes != float64(8*mib) || est.EnclaveBytes != float64(24*mib) {
		t.Errorf("image %v, enclaves %v; want 8 MiB and 24 MiB", est.ImageBytes, est.EnclaveBytes)
	}
	// A plan too large for an int64 is estimated, not wrapped around.
	c, err = ParseConfig([]byte("schema_version: 1\nname: x\nworkloads: [noop]\niterations: 9223372036854775807\nrepetitions: 9223372036854775807\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if est, err = c.Estimate(1); err != nil || est.Invocations < math.MaxInt64 || math.IsInf(est.DiskBytes, 0) {
		t.Errorf("estimate %+v, %v", est, err)
	}
}

func TestMemAvailable(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"MemTotal:       16384000 kB\nMemFree:  100 kB\nMemAvailable:    8192000 kB\n", 8192000 << 10},
		{"MemTotal: 1 kB\n", -1},
		{"MemAvailable: lots\n", -1},
	}
	for _, tt := range tests {
		if got := memAvailable([]byte(tt.in)); got != tt.want {
			t.Errorf("%q: %d, want %d", tt.in, got, tt.want)
		}
	}
	dir := t.TempDir()
	r := MachineResources(filepath.Join(dir, "not", "yet"))
	if r.DiskPath != dir || r.Cores < 1 {
		t.Errorf("this machine: %+v, want the disk of %s", r, dir)
	}
	if known := runtime.GOOS == "linux"; known != (r.DiskFree > 0 && r.MemoryAvailable > 0) {
		t.Errorf("this machine (%s): %+v", runtime.GOOS, r)
	}
}

// TestEstimateBoundsARun: the estimate of a run's records is at least what the run writes,
// and not far above it; the number of records is exact.
func TestEstimateBoundsARun(t *testing.T) {
	for _, records := range []string{RecordsFull, RecordsGzip} {
		t.Run(records, func(t *testing.T) {
			doc := strings.Replace(tinyConfig, "enclave: {memory_mib: 4}", "enclave: {memory_mib: 4, measure_runtime: false}", 1) +
				"load: {concurrency: [1, 2]}\nrecords: " + records + "\n"
			cfg, err := ParseConfig([]byte(doc), filepath.Join(t.TempDir(), "tiny.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			est, err := cfg.Estimate(2)
			if err != nil {
				t.Fatal(err)
			}
			dir, _, err := runTiny(t, t.Context(), doc)
			if err != nil {
				t.Fatal(err)
			}
			path, err := results.FindRecords(dir)
			if err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := results.ScanRecords(f, func(*results.Record) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
			got := float64(st.Size())
			t.Logf("%s: %d records, %.0f bytes written (%.0f per record), estimated %.0f (%.0f per record)", records, n, got, got/float64(n), est.DiskBytes, est.RecordBytes)
			if est.Invocations != float64(n) {
				t.Errorf("estimated %v records, the run wrote %d", est.Invocations, n)
			}
			if est.DiskBytes < got || est.DiskBytes > 3*got {
				t.Errorf("estimated %.0f bytes of records, the run wrote %.0f", est.DiskBytes, got)
			}
		})
	}
}
