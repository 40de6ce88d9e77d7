package harness

import (
	"bytes"
	"crypto/sha256"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/reclave/reclave/results"
)

// The calibration loop: SHA-256 of a fixed buffer, the same work every time, a few
// milliseconds of one core (192 passes over 64 KiB, 12 MiB: about 6 ms at 2 GB/s with SHA-NI).
// How long it takes says how much of a core the run got at that moment. It is longer than a
// scheduler time slice (0.75 to 3 ms), so that a process competing for the core shows in it.
const (
	calibrationBufferBytes = 64 << 10
	calibrationPasses      = 192
)

// calibrationBuffer is the loop's input: fixed bytes, so every timing hashes the same data.
var calibrationBuffer = func() []byte {
	b := make([]byte, calibrationBufferBytes)
	for i := range b {
		b[i] = byte(i*131 + i>>8)
	}
	return b
}()

// calibrationSink keeps the loop's result alive so that the work is not optimised away.
var calibrationSink byte

// calibrationLoop runs the calibration work once and returns how long it took.
func calibrationLoop() time.Duration {
	start := time.Now()
	h := sha256.New()
	for range calibrationPasses {
		h.Write(calibrationBuffer)
	}
	var sum [sha256.Size]byte
	calibrationSink ^= h.Sum(sum[:0])[0]
	return time.Since(start)
}

// noiseMeter measures a run's noise indicator ([results.Noise]): the calibration loop timed
// at the start of every round and at the end of the run, and the machine's CPU time split
// between the run, other processes and the hypervisor's steal, from /proc/stat and
// /proc/self/stat at the start and the end. Its methods are called by the goroutine that runs
// the groups; a nil noiseMeter does nothing.
type noiseMeter struct {
	start   time.Time // the run's clock
	cpu     cpuTimes  // at the start
	samples []results.CalibrationSample
}

// startNoise starts measuring the noise of a run whose clock started at start. It runs the
// calibration loop once untimed: the first pass pays for cold caches.
func startNoise(start time.Time) *noiseMeter {
	m := &noiseMeter{start: start, cpu: readCPUTimes()}
	calibrationLoop()
	return m
}

// calibrationTries is how many times calibrate runs the loop back to back; it keeps the
// fastest. A transient interruption (the kernel freeing the last round's enclave memory, a
// timer) then does not count, while a process competing for the core for longer than the
// tries slows all of them.
const calibrationTries = 3

// calibrate times the calibration loop, the fastest of calibrationTries runs, after a
// garbage collection: the run's own garbage (a round's enclaves) is collected then rather
// than during the loop, or during the next round's first configuration.
func (m *noiseMeter) calibrate() {
	if m == nil {
		return
	}
	runtime.GC()
	t := time.Now()
	d := calibrationLoop()
	for range calibrationTries - 1 {
		d = min(d, calibrationLoop())
	}
	m.samples = append(m.samples, results.CalibrationSample{TNs: t.Sub(m.start).Nanoseconds(), Ns: d.Nanoseconds()})
}

// finish returns the noise indicator of the run so far; nil for a nil noiseMeter.
func (m *noiseMeter) finish() *results.Noise {
	if m == nil {
		return nil
	}
	steal, other := m.cpu.fractions(readCPUTimes())
	return results.NewNoise(m.samples, steal, other)
}

// cpuTimes is a reading of the machine's CPU time (all cores, in clock ticks) and of this
// process's; ok is false where /proc cannot be read (outside Linux).
type cpuTimes struct {
	ok bool
	// busy: user, nice, system, irq and softirq (guest time is inside user); total: busy,
	// idle, iowait and steal; steal: time the hypervisor ran other guests on our CPUs.
	busy, total, steal uint64
	// self: this process's user and system time, and that of its children once reaped (the
	// serve processes of target process).
	self uint64
}

// readCPUTimes reads /proc/stat's cpu line and /proc/self/stat.
func readCPUTimes() cpuTimes {
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	self, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return cpuTimes{}
	}
	return parseCPUTimes(stat, self)
}

// parseCPUTimes parses the contents of /proc/stat and /proc/self/stat (see proc(5)).
func parseCPUTimes(stat, self []byte) cpuTimes {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTimes{}
	}
	var v [8]uint64 // user nice system idle iowait irq softirq steal
	for i := range v {
		n, err := strconv.ParseUint(f[1+i], 10, 64)
		if err != nil {
			return cpuTimes{}
		}
		v[i] = n
	}
	t := cpuTimes{ok: true, steal: v[7]}
	t.busy = v[0] + v[1] + v[2] + v[5] + v[6]
	t.total = t.busy + v[3] + v[4] + v[7]
	// /proc/self/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses,
	// so the fields are counted from the last ')'. utime, stime, cutime, cstime are fields
	// 14 to 17, that is 12 to 15 after the state (field 3).
	i := bytes.LastIndexByte(self, ')')
	if i < 0 {
		return cpuTimes{}
	}
	sf := strings.Fields(string(self[i+1:]))
	if len(sf) < 15 {
		return cpuTimes{}
	}
	for _, s := range sf[11:15] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return cpuTimes{}
		}
		t.self += uint64(max(n, 0))
	}
	return t
}

// fractions returns, from reading a to reading b, the share of the machine's CPU time stolen
// by the hypervisor and the share other processes were busy (busy time less this process's);
// nil where a reading failed or no time passed.
func (a cpuTimes) fractions(b cpuTimes) (steal, other *float64) {
	if !a.ok || !b.ok || b.total <= a.total {
		return nil, nil
	}
	total := float64(b.total - a.total)
	s := float64(b.steal-a.steal) / total
	busy := float64(b.busy-a.busy) - float64(b.self-a.self)
	o := max(busy, 0) / total
	return &s, &o
}
