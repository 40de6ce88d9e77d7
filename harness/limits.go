package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/reclave/reclave/results"
)

// Resources are what a machine has for a run. A negative amount is unknown and not checked.
type Resources struct {
	// DiskFree is the space free to this user, in bytes, on the file system of DiskPath: the
	// run's output folder, or its nearest existing parent when it does not exist yet.
	DiskFree int64
	DiskPath string
	// MemoryAvailable is the memory that new work can take without swapping, in bytes
	// (Linux's MemAvailable in /proc/meminfo).
	MemoryAvailable int64
	// Cores is the number of CPUs the run's workers share: it bounds how many invocations a
	// run for a duration can make. Zero or less counts as one.
	Cores int
}

// ResourceReader returns the resources a run writing into dir has. [MachineResources] reads
// this machine's; tests pass their own.
type ResourceReader func(dir string) Resources

// Ceilings the estimate of a run for a duration assumes (a closed load with load.duration
// makes as many invocations as it can): an upper bound of what a worker does per second.
const (
	// maxInvocationRate is the fastest a worker can issue invocations that reuse an enclave:
	// a no-op invocation costs a microsecond or more (DESIGN.md: a bare syscall, two clock
	// reads; warm noop ≈ 2 µs).
	maxInvocationRate = 1e6
	// maxMeasureRate is the fastest a cold start measures its enclave (SHA-256 with SHA-NI
	// ≈ 1.5 GB/s here), over measuredPerPage bytes per 4 KiB page: a cold start costs at
	// least memory_bytes × measuredPerPage / 4096 / maxMeasureRate.
	maxMeasureRate  = 2e9
	measuredPerPage = 5184
	// gzipRatio is how much records: gzip shrinks the records at the least: the lines of a
	// run repeat their keys and most of their values (gzip's fastest level shrank a small
	// run's 9 times here: TestEstimateBoundsARun); the estimate assumes 4.
	gzipRatio = 4
)

// PlanEstimate is what a run of a config needs, estimated from the config before the run
// starts (see [Config.Estimate]). Amounts are float64: a plan can need more than fits an
// int64, and such a plan is refused, not wrapped around.
type PlanEstimate struct {
	// Invocations is the number of records the run writes: measured invocations and warm-up
	// invocations (warmup per worker) of every group of every experiment.
	Invocations float64
	// RecordBytes is the average size of a record as written: its JSON line (records:
	// full), a gzipRatio-th of it (records: gzip), or 0 (records: none).
	RecordBytes float64
	// DiskBytes is the size of the run's records on disk: Invocations × RecordBytes.
	DiskBytes float64
	// MemoryBytes is the most the run holds at once: EnclaveBytes + PlanBytes + ImageBytes +
	// SummaryBytes.
	MemoryBytes float64
	// EnclaveBytes is the memory of the enclaves of the largest group (groups run one after
	// another): concurrency × (memory_bytes + its snapshot), where memory_bytes is
	// enclave.memory_mib plus the runtime image when it is measured, and the snapshot (modes
	// cold and rewind) is at most memory_mib. Each worker holds one enclave at a time (in mode
	// cold it creates and destroys one per invocation). Target openwhisk holds none here.
	EnclaveBytes float64
	// PlanBytes is the run's plan: an entry per group, that is per repetition of every
	// configuration, held for the whole run (twice over while the list grows).
	PlanBytes float64
	// ImageBytes is the runtime image read once for every enclave to measure
	// (enclave.measure_runtime).
	ImageBytes float64
	// SummaryBytes is what summarising the largest experiment holds: its configurations run
	// in interleaved rounds, so all of them are summarised at once, each within the bounds of
	// results.Summarizer ([results.SummarizerBytes] of its measured invocations).
	SummaryBytes float64

	// Cores is the number of CPUs the estimate assumed for runs for a duration.
	Cores int

	disk, memory culprit // the keys that weigh most in each, for errors
}

// culprit is the key of an experiment that weighs most in an amount of an estimate.
type culprit struct {
	exp   *Config
	key   string
	value string
}

// planEntryBytes is the memory of one entry of the run's plan, twice over (the list grows by
// appending: the old array and the new one are both alive while it grows).
const planEntryBytes = 2 * unsafe.Sizeof(group{})

// runtimeImageBytes returns the size of the runtime image the config's enclaves measure
// (reclave-enclave, [Config.RuntimeImagePath]), rounded up to whole pages, or 0 when it cannot
// be read (the run then fails on it itself, naming the path and how to build it).
var runtimeImageBytes = func(c *Config) int64 {
	path, err := c.RuntimeImagePath()
	if err != nil {
		return 0
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return (st.Size() + 4095) &^ 4095
}

// Estimate estimates what a run of the config (as [ParseConfig] returns it) needs: the
// records it writes and the memory it holds at once (see [PlanEstimate]). cores bounds the invocations of a run for a duration
// (load.duration; zero or less counts as one). It loads the workloads (their names size the
// records; the count multiplies the plan) but allocates nothing per repetition or
// invocation: a plan of any size is estimated in a few loops over workloads, modes,
// compartment settings and concurrency levels.
//
// Not counted: the compiled code of each workload (shared by the enclaves of a run; a few
// MiB for the Go workloads), the Go runtime, summary.json and resources.jsonl (small beside
// the records).
func (c *Config) Estimate(cores int) (*PlanEstimate, error) {
	cores = max(cores, 1)
	est := &PlanEstimate{Cores: cores}
	var image int64
	if slices.ContainsFunc(c.Runs(), func(e *Config) bool { return *e.Enclave.MeasureRuntime && e.Target != TargetOpenWhisk }) {
		image = runtimeImageBytes(c)
		est.ImageBytes = float64(image)
	}
	var maxDisk, maxPlan float64
	var rawBytes float64 // records as JSON lines, before compression
	var plan, summ culprit
	for _, exp := range c.Runs() {
		wls, err := exp.LoadWorkloads()
		if err != nil {
			return nil, err
		}
		memBytes := int64(exp.Enclave.MemoryMiB) << 20
		if *exp.Enclave.MeasureRuntime {
			memBytes += image
		}
		reps := float64(exp.Repetitions)
		var expDisk, expGroups, expSumm float64
		for _, w := range exp.planWorkloads(wls) {
			for _, mode := range exp.Modes {
				for _, comp := range exp.CompartmentSettings() {
					for _, conc := range exp.Load.Concurrency {
						perRep := exp.invocationsPerRepetition(mode, conc, memBytes, cores)
						n := perRep * reps
						b := n * float64(exp.recordLen(w.Name, mode, comp, conc, memBytes, perRep))
						est.Invocations += n
						rawBytes += b
						expDisk += b
						expGroups += reps
						measured := max(perRep-float64(conc)*float64(*exp.Warmup), 0) * reps
						expSumm += results.SummarizerBytes(int64(min(measured, math.MaxInt64/2)), len(exp.phaseNames(mode)))
						if enc := float64(conc*exp.enclavesPerWorker(mode)) * exp.enclaveBytes(mode, memBytes); enc > est.EnclaveBytes {
							est.EnclaveBytes, est.memory = enc, exp.enclaveCulprit()
						}
					}
				}
			}
		}
		est.PlanBytes += expGroups * float64(planEntryBytes)
		if expSumm > est.SummaryBytes {
			est.SummaryBytes = expSumm
			if expSumm > est.EnclaveBytes {
				summ = culprit{exp: exp, key: "repetitions", value: fmt.Sprint(exp.Repetitions)}
			}
		}
		if expDisk > maxDisk {
			maxDisk, est.disk = expDisk, exp.diskCulprit()
		}
		if expGroups > maxPlan {
			maxPlan, plan = expGroups, culprit{exp: exp, key: "repetitions", value: fmt.Sprint(exp.Repetitions)}
		}
	}
	if est.Invocations > 0 {
		est.RecordBytes = rawBytes / est.Invocations
	}
	switch c.Records {
	case RecordsNone:
		est.RecordBytes = 0
	case RecordsGzip:
		est.RecordBytes /= gzipRatio
	}
	est.DiskBytes = est.Invocations * est.RecordBytes
	est.MemoryBytes = est.EnclaveBytes + est.PlanBytes + est.ImageBytes + est.SummaryBytes
	switch {
	case est.SummaryBytes > max(est.EnclaveBytes, est.PlanBytes) && summ.exp != nil:
		// Summarising weighs most: name the repetitions of the experiment that holds most.
		est.memory = summ
	case est.PlanBytes > est.EnclaveBytes || est.memory.exp == nil:
		// The plan's entries weigh more than the enclaves: name the repetitions of the
		// experiment with the most groups.
		est.memory = plan
	}
	if est.disk.exp == nil {
		est.disk = plan
	}
	return est, nil
}

// invocationsPerRepetition is the number of records one repetition of a group of mode with
// conc workers writes: its measured invocations (or, for a run for a duration, as many as
// the ceilings allow on cores CPUs) and its warm-up.
func (c *Config) invocationsPerRepetition(mode string, conc int, memBytes int64, cores int) float64 {
	n := float64(conc) * float64(*c.Warmup)
	if c.Load.Duration <= 0 {
		return n + float64(c.IterationsFor(mode))
	}
	rate := maxInvocationRate
	if mode == "cold" {
		rate = maxMeasureRate / (float64(memBytes) * measuredPerPage / 4096)
	}
	return n + rate*float64(min(conc, cores))*c.Load.Duration.Seconds()
}

// enclaveBytes is the memory one enclave of mode holds: its region (memBytes, populated
// when created) and, for the modes that take a snapshot (cold, rewind), a snapshot of at
// most its heap. Enclaves of target openwhisk live on the platform's machines.
func (c *Config) enclaveBytes(mode string, memBytes int64) float64 {
	if c.Target == TargetOpenWhisk {
		return 0
	}
	b := float64(memBytes)
	if mode == "cold" || mode == "rewind" {
		b += float64(int64(c.Enclave.MemoryMiB) << 20)
	}
	return b
}

// recordLen is the length of the JSON line of a record of the experiment: a record of the
// group's workload, mode, compartment setting and concurrency with every field the run fills
// in (phases of the mode, output hash, enclave identifier, validation) at the widest its
// numbers get (latencies and phases up to 1000 s, the run's clock up to 11 days, sequence
// numbers up to perRep), encoded as records.jsonl has it. Errors and invalid outputs, rare,
// are not counted.
func (c *Config) recordLen(workload, mode string, comp bool, conc int, memBytes int64, perRep float64) int {
	const (
		wideNs  = int64(1e12) // 1000 s: any latency or phase
		clockNs = int64(1e15) // 11.6 days into the run
	)
	seq := int(min(perRep, math.MaxInt32))
	valid := true
	rec := results.Record{
		SchemaVersion: results.SchemaVersion, Target: c.Target, Experiment: c.Experiment,
		Workload: workload, Mode: mode, Size: c.Size, MemoryBytes: memBytes, Compartments: comp,
		Attestation: c.Enclave.Attestation, CompileCache: c.Enclave.CompileCache,
		Load: c.Load.Model, Concurrency: conc, Worker: conc - 1, Repetition: c.Repetitions - 1, Seq: seq,
		IntendedStartNs: clockNs, StartNs: clockNs, LatencyNs: wideNs, ResponseNs: wideNs,
		RewindNs: wideNs, ExecNs: wideNs, PhasesNs: map[string]int64{},
		Reset:       string(resetName(mode)),
		EnclaveID:   strings.Repeat("f", 16),
		Epoch:       uint64(seq),
		MemoryPages: uint32(min(memBytes>>16, math.MaxUint32)), PagesRestored: int(memBytes >> 12),
		BytesRestored: memBytes, InputBytes: 1 << 24, OutputBytes: 1 << 24,
		OutputSHA256: strings.Repeat("f", 64), Valid: &valid,
	}
	if mode == "rewind" {
		rec.Strategy, rec.StrategyConfigured, rec.SnapshotPoint = c.Enclave.Strategy, c.Enclave.Strategy, c.Enclave.SnapshotPoint
	}
	switch c.Target {
	case TargetEmbedded:
		// A reactor's host calls: reading its input, writing its output (a Go runtime's
		// start-up adds a few hundred bytes to a cold start's reset_host_calls).
		rec.HostCalls = results.HostCalls{{Function: "fd_read", N: 9, In: 1<<24 + 40, Out: 72}, {Function: "fd_write", N: 1, In: 4, Out: 1<<24 + 8}}
	case TargetProcess:
		rec.EnclaveID = "http://127.0.0.1:65535" // the serve process's address
	case TargetOpenWhisk:
		rec.EnclaveID = strings.Repeat("f", 32) // the activation
		rec.ProviderNs, rec.InitNs, rec.WaitNs = wideNs, wideNs, wideNs
	}
	for _, p := range c.phaseNames(mode) {
		rec.PhasesNs[p] = wideNs
	}
	b, err := json.Marshal(&rec)
	if err != nil { // plain strings and numbers: cannot fail
		return 1024
	}
	return len(b) + 1 // and its newline
}

// resetName is what a record of mode says in reset (the longest it can say).
func resetName(mode string) string {
	switch mode {
	case "cold":
		return "create"
	case "warm", "rewind":
		return "recycle"
	}
	return "reinstantiate"
}

// phaseNames are the phases a record of mode carries (results/doc.go, phases_ns): a cold
// start's creation phases (those of target openwhisk's cold starts being at most as many),
// or the invocation and the reset after it.
func (c *Config) phaseNames(mode string) []string {
	var p []string
	switch mode {
	case "warm":
		p = []string{"invoke", "recycle"}
	case "reinstantiate":
		p = []string{"invoke", "reinstantiate"}
	case "rewind":
		p = []string{"invoke", "rewind"}
		if c.Enclave.SnapshotPoint == "runtime" {
			p = append(p, "instantiate", "fn_init")
		}
	default: // cold, platform
		p = []string{"ecreate", "eadd_eextend", "sign", "einit", "runtime_init", "compile",
			"instantiate", "fn_init", "snapshot", "invoke", "destroy"}
		if c.Enclave.Attestation != "none" {
			p = append(p, "quote")
		}
	}
	if c.Enclave.Attestation == "inner" {
		p = append(p, "attest")
	}
	return p
}

// diskCulprit is the key of the experiment that multiplies its records the most, measured
// against its default: repetitions (1), the largest of iterations and mode_iterations (100),
// warmup (5 per worker), or, for a run for a duration, load.duration (per second) and
// load.concurrency.
func (c *Config) diskCulprit() culprit {
	best := culprit{exp: c, key: "repetitions", value: fmt.Sprint(c.Repetitions)}
	weight := float64(c.Repetitions)
	consider := func(key, value string, w float64) {
		if w > weight {
			best, weight = culprit{exp: c, key: key, value: value}, w
		}
	}
	if c.Load.Duration > 0 {
		consider("load.duration", c.Load.Duration.String(), c.Load.Duration.Seconds())
		consider("load.concurrency", fmt.Sprint(c.Load.Concurrency), float64(slices.Max(c.Load.Concurrency)))
	} else {
		// The mode with the most iterations: its override, or iterations.
		key, most := "iterations", 0
		for _, m := range c.Modes {
			if n := c.IterationsFor(m); n > most {
				key, most = "iterations", n
				if _, over := c.ModeIterations[m]; over {
					key = "mode_iterations." + m
				}
			}
		}
		consider(key, fmt.Sprint(most), float64(most)/100)
	}
	consider("warmup", fmt.Sprint(*c.Warmup), float64(*c.Warmup)*float64(slices.Max(c.Load.Concurrency))/5)
	return best
}

// enclaveCulprit is the key of the experiment that weighs most in its enclaves' memory,
// measured against its default: enclave.memory_mib (64) or load.concurrency (1).
func (c *Config) enclaveCulprit() culprit {
	conc := slices.Max(c.Load.Concurrency)
	if float64(c.Enclave.MemoryMiB)/64 > float64(conc) {
		return culprit{exp: c, key: "enclave.memory_mib", value: fmt.Sprint(c.Enclave.MemoryMiB)}
	}
	return culprit{exp: c, key: "load.concurrency", value: fmt.Sprint(c.Load.Concurrency)}
}

// CheckResources refuses a run of the config into outDir that cannot fit the machine: one
// whose records need more disk than the file system of outDir has free, or that holds more
// memory at once than the machine has available, by the config's [Config.Estimate] against
// what read returns (nil: [MachineResources]). The error names the key that weighs most,
// with its line. An amount read returns as unknown (negative) is not checked. Call it
// before the run: planning a run allocates per repetition.
func (c *Config) CheckResources(outDir string, read ResourceReader) error {
	if read == nil {
		read = MachineResources
	}
	res := read(outDir)
	est, err := c.Estimate(res.Cores)
	if err != nil {
		return err
	}
	var errs []error
	if res.MemoryAvailable >= 0 && est.MemoryBytes > float64(res.MemoryAvailable) {
		what := fmt.Sprintf("%s of it enclaves (the largest group's workers × (enclave memory + runtime image + snapshot))", humanBytes(est.EnclaveBytes))
		switch {
		case est.SummaryBytes > max(est.EnclaveBytes, est.PlanBytes):
			what = fmt.Sprintf("%s of it summarising the largest experiment (its configurations' samples, held at once while its rounds interleave)",
				humanBytes(est.SummaryBytes))
		case est.PlanBytes > est.EnclaveBytes:
			what = fmt.Sprintf("%s of it the plan (%d bytes for each of its %.3g repetitions of a configuration)",
				humanBytes(est.PlanBytes), planEntryBytes, est.PlanBytes/float64(planEntryBytes))
		}
		errs = append(errs, est.memory.errorf("the run would hold about %s of memory at once, %s, but the machine has %s available; lower it",
			humanBytes(est.MemoryBytes), what, humanBytes(float64(res.MemoryAvailable))))
	}
	if res.DiskFree >= 0 && est.DiskBytes > float64(res.DiskFree) {
		where := res.DiskPath
		if where == "" {
			where = outDir
		}
		hint := "records: gzip compresses them (about 4× smaller or better), records: none writes none (a soak keeps its summary)"
		switch c.Records {
		case RecordsGzip:
			hint = "records: none writes none (a soak keeps its summary)"
		case RecordsNone: // no records: nothing to write (unreachable: they need no disk)
			hint = ""
		}
		errs = append(errs, est.disk.errorf("the run would write about %s of records (%.3g invocations × about %.0f bytes per record) but the file system of %s has %s free; lower it, write the run elsewhere (--out), or write fewer records: %s",
			humanBytes(est.DiskBytes), est.Invocations, est.RecordBytes, where, humanBytes(float64(res.DiskFree)), hint))
	}
	return errors.Join(errs...)
}

// errorf returns the culprit's error: "config FILE:LINE: [experiment NAME: ]KEY: VALUE: ...".
func (k culprit) errorf(format string, args ...any) error {
	c, exp := k.exp, ""
	if c.Experiment != "" {
		exp = "experiment " + c.Experiment + ": "
	}
	return fmt.Errorf("config %s: %s%s: %s: %s", c.fileAt(k.key), exp, k.key, k.value, fmt.Sprintf(format, args...))
}

// humanBytes formats n bytes with a binary unit: "1.5 GiB".
func humanBytes(n float64) string {
	const units = "KMGTPEZY"
	if n < 1024 {
		return fmt.Sprintf("%.0f B", n)
	}
	i := -1
	for n >= 1024 && i+1 < len(units) {
		n /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %ciB", n, units[i])
}

// nearestDir returns dir or, when it does not exist yet, its nearest existing parent.
func nearestDir(dir string) string {
	if dir == "" {
		dir = "."
	}
	for {
		if _, err := os.Stat(dir); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir
		}
		dir = parent
	}
}

// memAvailable returns MemAvailable of /proc/meminfo's content b, in bytes, or -1.
func memAvailable(b []byte) int64 { return procKB(b, "MemAvailable:") }

// procKB returns the value of the line "key N kB" of a /proc file's content b (meminfo,
// status), in bytes, or -1 when there is no such line or it does not read so.
func procKB(b []byte, key string) int64 {
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte(key))
		if !ok {
			continue
		}
		f := bytes.Fields(rest) // "123456 kB"
		if len(f) != 2 || string(f[1]) != "kB" {
			return -1
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return -1
		}
		return kb << 10
	}
	return -1
}
