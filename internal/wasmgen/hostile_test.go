package wasmgen

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// fakeWASI is a minimal, deterministic wasi_snapshot_preview1 for the tests: stdin is the
// input, stdout is collected, random_get restarts at each invocation, the clock is fixed.
// Descriptor state (closed descriptors, flags) belongs to the instance and survives from one
// invocation to the next, like guest state in a reused instance that is not reset.
type fakeWASI struct {
	fds  map[string]*fdState // per instance, by module name
	call *callState          // the current invocation
}

type fdState struct {
	closed [3]bool
	flags  [3]uint32
}

type callState struct {
	in  []byte
	out []byte
	rnd uint64
}

const (
	errBadf  = 8
	errFault = 21
	errInval = 28
)

func newFakeWASI(ctx context.Context, rt wazero.Runtime) (*fakeWASI, error) {
	h := &fakeWASI{fds: map[string]*fdState{}, call: &callState{}}
	b := rt.NewHostModuleBuilder("wasi_snapshot_preview1")
	def := func(name string, nparams int, fn func(mod api.Module, st *fdState, p []uint64) uint32) {
		params := slices.Repeat([]api.ValueType{api.ValueTypeI32}, nparams)
		results := []api.ValueType{api.ValueTypeI32}
		if name == "clock_time_get" {
			params[1] = api.ValueTypeI64
		}
		if name == "proc_exit" {
			results = nil
		}
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, mod api.Module, stack []uint64) {
			st := h.fds[mod.Name()]
			if st == nil {
				st = &fdState{}
				h.fds[mod.Name()] = st
			}
			errno := fn(mod, st, stack)
			if len(results) > 0 {
				stack[0] = uint64(errno)
			}
		}), params, results).Export(name)
	}
	open := func(st *fdState, fd uint32) bool { return fd < 3 && !st.closed[fd] }
	iovecs := func(mem api.Memory, iovs, n uint32, each func(ptr, size uint32) bool) bool {
		for i := range n {
			ptr, ok1 := mem.ReadUint32Le(iovs + 8*i)
			size, ok2 := mem.ReadUint32Le(iovs + 8*i + 4)
			if !ok1 || !ok2 || !each(ptr, size) {
				return false
			}
		}
		return true
	}
	def("fd_read", 4, func(mod api.Module, st *fdState, p []uint64) uint32 {
		fd, iovs, n, nread := uint32(p[0]), uint32(p[1]), uint32(p[2]), uint32(p[3])
		if fd != 0 || !open(st, 0) {
			return errBadf
		}
		total := uint32(0)
		ok := iovecs(mod.Memory(), iovs, n, func(ptr, size uint32) bool {
			k := min(int(size), len(h.call.in))
			if !mod.Memory().Write(ptr, h.call.in[:k]) {
				return false
			}
			h.call.in = h.call.in[k:]
			total += uint32(k)
			return true
		})
		if !ok || !mod.Memory().WriteUint32Le(nread, total) {
			return errFault
		}
		return 0
	})
	def("fd_write", 4, func(mod api.Module, st *fdState, p []uint64) uint32 {
		fd, iovs, n, nwritten := uint32(p[0]), uint32(p[1]), uint32(p[2]), uint32(p[3])
		if (fd != 1 && fd != 2) || !open(st, fd) {
			return errBadf
		}
		total := uint32(0)
		ok := iovecs(mod.Memory(), iovs, n, func(ptr, size uint32) bool {
			b, ok := mod.Memory().Read(ptr, size)
			if fd == 1 && len(h.call.out) < 1<<20 {
				h.call.out = append(h.call.out, b...)
			}
			total += size
			return ok
		})
		if !ok || !mod.Memory().WriteUint32Le(nwritten, total) {
			return errFault
		}
		return 0
	})
	def("fd_fdstat_get", 2, func(mod api.Module, st *fdState, p []uint64) uint32 {
		fd := uint32(p[0])
		if !open(st, fd) {
			return errBadf
		}
		var b [24]byte
		b[0] = 2 // character device
		binary.LittleEndian.PutUint16(b[2:], uint16(st.flags[fd]))
		binary.LittleEndian.PutUint64(b[8:], 0x0820004A+uint64(fd))
		if !mod.Memory().Write(uint32(p[1]), b[:]) {
			return errFault
		}
		return 0
	})
	def("fd_fdstat_set_flags", 2, func(mod api.Module, st *fdState, p []uint64) uint32 {
		fd, flags := uint32(p[0]), uint32(p[1])
		switch {
		case !open(st, fd):
			return errBadf
		case flags > 0x1F:
			return errInval
		}
		st.flags[fd] = flags
		return 0
	})
	def("fd_close", 1, func(mod api.Module, st *fdState, p []uint64) uint32 {
		fd := uint32(p[0])
		if !open(st, fd) {
			return errBadf
		}
		st.closed[fd] = true
		return 0
	})
	def("random_get", 2, func(mod api.Module, st *fdState, p []uint64) uint32 {
		b := make([]byte, uint32(p[1]))
		for i := range b {
			h.call.rnd = h.call.rnd*6364136223846793005 + 1442695040888963407
			b[i] = byte(h.call.rnd >> 56)
		}
		if !mod.Memory().Write(uint32(p[0]), b) {
			return errFault
		}
		return 0
	})
	def("clock_time_get", 3, func(mod api.Module, st *fdState, p []uint64) uint32 {
		if uint32(p[0]) > 3 {
			return errInval
		}
		if !mod.Memory().WriteUint64Le(uint32(p[2]), 1_700_000_000_000_000_000+p[0]) {
			return errFault
		}
		return 0
	})
	def("proc_exit", 1, func(mod api.Module, st *fdState, p []uint64) uint32 {
		panic(sys.NewExitError(uint32(p[0]))) // ends the call, not the instance
	})
	for _, name := range []string{"args_sizes_get", "environ_sizes_get"} {
		def(name, 2, func(mod api.Module, st *fdState, p []uint64) uint32 {
			if !mod.Memory().WriteUint32Le(uint32(p[0]), 0) || !mod.Memory().WriteUint32Le(uint32(p[1]), 0) {
				return errFault
			}
			return 0
		})
	}
	_, err := b.Instantiate(ctx)
	return h, err
}

// callTimeout bounds every call into a module: far more than any hostile module needs, so
// that only an unbounded loop exceeds it.
const callTimeout = 10 * time.Second

// instantiate makes a fresh instance named name and runs its initialisation as reclave
// would: the start function, _initialize, reclave_init.
func (h *fakeWASI) instantiate(ctx context.Context, rt wazero.Runtime, cm wazero.CompiledModule, name string) (api.Module, error) {
	delete(h.fds, name)
	h.call = &callState{rnd: 1}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	mod, err := rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName(name).WithStartFunctions())
	if err != nil {
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	for _, fn := range []string{"_initialize", "reclave_init"} {
		if f := mod.ExportedFunction(fn); f != nil {
			if _, err := f.Call(ctx); err != nil {
				mod.Close(context.Background())
				return nil, fmt.Errorf("%s: %w", fn, err)
			}
		}
	}
	return mod, nil
}

// result is what an invocation returned.
type result struct {
	out    []byte
	status uint64
	err    error
}

func (r result) String() string {
	return fmt.Sprintf("output %q status %d error %v", r.out, r.status, r.err)
}

func (r result) equal(s result) bool {
	return bytes.Equal(r.out, s.out) && r.status == s.status && fmt.Sprint(r.err) == fmt.Sprint(s.err)
}

// invoke calls reclave_handle with input. An error other than a trap or an exit (a timeout,
// a host panic) is returned as fatal.
func (h *fakeWASI) invoke(ctx context.Context, mod api.Module, input []byte) (result, error) {
	h.call = &callState{in: input, rnd: 1}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	res, err := mod.ExportedFunction("reclave_handle").Call(ctx)
	r := result{out: h.call.out, err: err}
	if len(res) > 0 {
		r.status = res[0]
	}
	var exit *sys.ExitError
	switch {
	case ctx.Err() != nil:
		return r, fmt.Errorf("reclave_handle did not finish in %v (an unbounded loop?): %v", callTimeout, err)
	case err == nil, strings.HasPrefix(err.Error(), "wasm error: "):
	case errors.As(err, &exit) && exit.ExitCode() < 256:
	default:
		return r, fmt.Errorf("reclave_handle: unexpected error: %w", err)
	}
	return r, nil
}

// observations returns the first observation line of an output and the last one, if the
// output ends with one.
func observations(out []byte) (first, last string) {
	if len(out) >= lineLen {
		first = string(out[:lineLen])
		if l := out[len(out)-lineLen:]; bytes.HasPrefix(l, []byte("o1 ")) {
			last = string(l)
		}
	}
	return first, last
}

// validLine reports whether s is an observation line of phase p.
func validLine(s string, p byte) bool {
	if len(s) != lineLen || s[0] != 'o' || s[1] != p {
		return false
	}
	for i := range lineLen {
		switch c := lineTemplate[i]; c {
		case '?':
		case '#':
			if !strings.ContainsRune("0123456789abcdef", rune(s[i])) {
				return false
			}
		default:
			if s[i] != c {
				return false
			}
		}
	}
	return true
}

// allowedImports is enclave.DefaultImports.
var allowedImports = map[string]bool{}

func init() {
	for _, n := range []string{"args_get", "args_sizes_get", "clock_res_get", "clock_time_get", "environ_get",
		"environ_sizes_get", "fd_close", "fd_fdstat_get", "fd_fdstat_set_flags", "fd_filestat_get",
		"fd_prestat_dir_name", "fd_prestat_get", "fd_read", "fd_seek", "fd_write", "poll_oneoff", "proc_exit",
		"random_get", "sched_yield"} {
		allowedImports["wasi_snapshot_preview1."+n] = true
	}
}

// seedReport is what checkSeed learnt about one module.
type seedReport struct {
	leaked     bool            // a second call's observations differ from a fresh instance's first call
	leakedIn   map[string]bool // which digests of the first observation differed: m, g, t, f; or "trap"
	sensitive  bool            // two inputs give different outputs on fresh instances
	firstTraps bool            // the fresh instance's first call trapped or exited
	ends       map[string]int  // how the calls ended: "ok", the trap's message, "exit N"
	slowest    time.Duration   // the longest call
}

// ending classifies how a call ended.
func ending(err error) string {
	var exit *sys.ExitError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &exit):
		return fmt.Sprintf("exit %d", exit.ExitCode())
	}
	msg, _, _ := strings.Cut(strings.TrimPrefix(err.Error(), "wasm error: "), "\n")
	return msg
}

// checkSeed compiles Hostile(seed) and checks it: imports, memory and exports as the ABI
// requires; the first call on a fresh instance starts with a valid observation and equals the
// first call on another fresh instance; every call ends in time, with a trap, an exit or
// success. inputs must not be empty.
func checkSeed(ctx context.Context, rt wazero.Runtime, h *fakeWASI, seed []byte, inputs [][]byte) (rep seedReport, err error) {
	wasm, f := Hostile(seed)
	defer func() {
		if err != nil {
			err = fmt.Errorf("seed %x (features %v): %w", seed, f, err)
		}
	}()
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return rep, fmt.Errorf("invalid module: %w", err)
	}
	defer cm.Close(ctx)
	for _, fn := range cm.ImportedFunctions() {
		mod, name, _ := fn.Import()
		if !allowedImports[mod+"."+name] {
			return rep, fmt.Errorf("imports %s.%s", mod, name)
		}
	}
	mem := cm.ExportedMemories()["memory"]
	if len(cm.ImportedMemories()) != 0 || mem == nil {
		return rep, errors.New("memory imported or not exported")
	}
	if max, ok := mem.Max(); !ok || mem.Min() < 1 || mem.Min() > 2 || max > maxPages {
		return rep, fmt.Errorf("memory limits %d..%d", mem.Min(), max)
	}
	handle := cm.ExportedFunctions()["reclave_handle"]
	if handle == nil || len(handle.ParamTypes()) != 0 || len(handle.ResultTypes()) > 1 || f.StatusResult != (len(handle.ResultTypes()) == 1) {
		return rep, errors.New("reclave_handle missing or of the wrong type")
	}

	rep.ends = map[string]int{}
	rep.leakedIn = map[string]bool{}
	invoke := func(mod api.Module, in []byte) (result, error) {
		start := time.Now()
		r, err := h.invoke(ctx, mod, in)
		rep.slowest = max(rep.slowest, time.Since(start))
		rep.ends[ending(r.err)]++
		return r, err
	}
	a, err := h.instantiate(ctx, rt, cm, "a")
	if err != nil {
		return rep, err
	}
	defer a.Close(ctx)
	b, err := h.instantiate(ctx, rt, cm, "b")
	if err != nil {
		return rep, err
	}
	defer b.Close(ctx)

	first, err := invoke(a, inputs[0])
	if err != nil {
		return rep, err
	}
	if o, _ := observations(first.out); !validLine(o, '0') {
		return rep, fmt.Errorf("first call on a fresh instance: no observation: %v", first)
	}
	rep.firstTraps = first.err != nil
	fresh, err := invoke(b, inputs[0])
	if err != nil {
		return rep, err
	}
	if !fresh.equal(first) {
		return rep, fmt.Errorf("two fresh instances differ:\n%v\n%v", first, fresh)
	}
	second, err := invoke(a, inputs[0])
	if err != nil {
		return rep, err
	}
	o0, o1 := observations(fresh.out)
	s0, s1 := observations(second.out)
	rep.leaked = o0 != s0 || o1 != s1
	if len(s0) < lineLen {
		rep.leakedIn["trap"] = true
	} else {
		for k, name := range []string{"m", "g", "t", "f"} {
			at := 3 + k*19
			rep.leakedIn[name] = o0[at:at+18] != s0[at:at+18]
		}
	}
	for i, in := range inputs[1:] {
		r, err := invoke(a, in)
		if err != nil {
			return rep, fmt.Errorf("input %d: %w", i+1, err)
		}
		if i == 0 { // on a fresh instance, for input sensitivity
			c, err := h.instantiate(ctx, rt, cm, "c")
			if err != nil {
				return rep, err
			}
			r, err = h.invoke(ctx, c, in)
			c.Close(ctx)
			if err != nil {
				return rep, fmt.Errorf("input %d: %w", i+1, err)
			}
			rep.sensitive = !r.equal(fresh)
		}
	}
	return rep, nil
}

// testSeeds returns n seeds: empty, tiny and uniform ones, then random ones of up to 40 bytes.
func testSeeds(n int) [][]byte {
	seeds := [][]byte{nil, {0}, {1}, {0xFF}, {0, 0}, {0x80, 0x7F}, {0xFF, 0xFF, 0xFF, 0xFF},
		bytes.Repeat([]byte{0}, 300), bytes.Repeat([]byte{0xFF}, 300), bytes.Repeat([]byte{0x55, 0xAA}, 150)}
	r := rand.New(rand.NewPCG(1, 2))
	for len(seeds) < n {
		b := make([]byte, r.IntN(41))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		seeds = append(seeds, b)
	}
	return seeds[:n]
}

// testInputs returns the inputs checkSeed runs for seed number i: two random ones, then an
// empty one, a JSON one and a long one.
func testInputs(i int) [][]byte {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	return [][]byte{random(1 + r.IntN(64)), random(1 + r.IntN(64)), nil, []byte(`{"values":[1,2,3]}`), random(300)}
}

func newTestRuntime(t testing.TB) (context.Context, wazero.Runtime, *fakeWASI) {
	ctx := context.Background()
	// Close on a context's end, so that a call that runs too long is stopped and reported.
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	t.Cleanup(func() { rt.Close(ctx) })
	h, err := newFakeWASI(ctx, rt)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, rt, h
}

// TestHostileRuns compiles and runs the modules of many seeds, and checks that they leave
// state behind and observe it, and that their behaviour depends on the input.
func TestHostileRuns(t *testing.T) {
	n := 800
	if testing.Short() {
		n = 150
	}
	ctx, rt, h := newTestRuntime(t)
	var leaked, sensitive, traps int
	var slowest time.Duration
	leakedIn, ends := map[string]int{}, map[string]int{}
	start := time.Now()
	for i, seed := range testSeeds(n) {
		rep, err := checkSeed(ctx, rt, h, seed, testInputs(i))
		if err != nil {
			t.Fatal(err)
		}
		leaked += b2i(rep.leaked)
		sensitive += b2i(rep.sensitive)
		traps += b2i(rep.firstTraps)
		slowest = max(slowest, rep.slowest)
		for k, v := range rep.leakedIn {
			leakedIn[k] += b2i(v)
		}
		for k, v := range rep.ends {
			ends[k] += v
		}
	}
	el := time.Since(start)
	t.Logf("%d seeds in %v (%.0f seeds/s, 5 inputs, 3 instances each), slowest call %v", n, el.Round(time.Millisecond), float64(n)/el.Seconds(), slowest)
	t.Logf("second call observes state left by the first in %.0f%% of modules (first observation: memory %.0f%%, globals %.0f%%, tables %.0f%%, descriptors %.0f%%, trapped %.0f%%)",
		pct(leaked, n), pct(leakedIn["m"], n), pct(leakedIn["g"], n), pct(leakedIn["t"], n), pct(leakedIn["f"], n), pct(leakedIn["trap"], n))
	t.Logf("outputs depend on the input in %.0f%%, the first call traps or exits in %.0f%%", pct(sensitive, n), pct(traps, n))
	t.Logf("how the calls ended: %v", ends)
	if pct(leaked, n) < 50 {
		t.Errorf("a second call observes leftover state for only %.0f%% of seeds, want >= 50%%", pct(leaked, n))
	}
	if pct(sensitive, n) < 50 {
		t.Errorf("outputs depend on the input for only %.0f%% of seeds, want >= 50%%", pct(sensitive, n))
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func pct(k, n int) float64 { return 100 * float64(k) / float64(n) }

func TestHostileDeterministic(t *testing.T) {
	for _, seed := range testSeeds(300) {
		a, fa := Hostile(seed)
		b, fb := Hostile(slices.Clone(seed))
		if !bytes.Equal(a, b) || fa != fb {
			t.Fatalf("seed %x: two different modules", seed)
		}
	}
	a, _ := Hostile(nil)
	b, _ := Hostile([]byte{})
	if !bytes.Equal(a, b) {
		t.Fatal("nil and empty seeds differ")
	}
}

// TestHostileCoverage checks that every feature appears in a good fraction of modules.
func TestHostileCoverage(t *testing.T) {
	const n = 2000
	const minPct = 15
	counts := map[string]int{}
	distinct := map[string]bool{}
	for _, seed := range testSeeds(n) {
		wasm, f := Hostile(seed)
		distinct[string(wasm)] = true
		for _, name := range f.List() {
			counts[name]++
		}
	}
	typ := reflect.TypeFor[Features]()
	var lines []string
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		p := pct(counts[name], n)
		lines = append(lines, fmt.Sprintf("%-18s %5.1f%%", name, p))
		if p < minPct {
			t.Errorf("feature %s in %.1f%% of %d modules, want >= %d%%", name, p, n, minPct)
		}
	}
	sort.Strings(lines)
	t.Logf("feature coverage over %d seeds:\n%s", n, strings.Join(lines, "\n"))
	if len(distinct) < n*95/100 {
		t.Errorf("%d distinct modules of %d", len(distinct), n)
	}
}

func TestFeaturesString(t *testing.T) {
	f := Features{StartFunc: true, TableGrow: true}
	if got := f.String(); got != "StartFunc,TableGrow" {
		t.Errorf("String() = %q", got)
	}
	if got := (Features{}).String(); got != "" {
		t.Errorf("String() = %q", got)
	}
}

// TestHostileObservesDrop checks, on modules that probe their segments, that a data.drop or
// elem.drop left by one call makes the next call's first observation trap.
func TestHostileObservesDrop(t *testing.T) {
	ctx, rt, h := newTestRuntime(t)
	found := 0
	for i, seed := range testSeeds(400) {
		_, f := Hostile(seed)
		if !f.ObserveDrops || !(f.DataDrop || f.ElemDrop) {
			continue
		}
		cm, err := rt.CompileModule(ctx, func() []byte { w, _ := Hostile(seed); return w }())
		if err != nil {
			t.Fatal(err)
		}
		mod, err := h.instantiate(ctx, rt, cm, "a")
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range testInputs(i) {
			r, err := h.invoke(ctx, mod, in)
			if err != nil {
				t.Fatal(err)
			}
			if r.err != nil && len(r.out) == 0 {
				found++ // the first observation trapped: it saw a dropped segment
				break
			}
		}
		mod.Close(ctx)
		cm.Close(ctx)
	}
	t.Logf("%d modules saw a segment dropped by an earlier call", found)
	if found == 0 {
		t.Error("no module observed a dropped segment")
	}
}

var fuzzRuntime = sync.OnceValues(func() (wazero.Runtime, *fakeWASI) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	h, err := newFakeWASI(ctx, rt)
	if err != nil {
		panic(err)
	}
	return rt, h
})

// FuzzHostile runs checkSeed on fuzzer-made seeds and inputs.
func FuzzHostile(f *testing.F) {
	for i, seed := range testSeeds(20) {
		f.Add(seed, testInputs(i)[0])
	}
	f.Fuzz(func(t *testing.T, seed, input []byte) {
		rt, h := fuzzRuntime()
		if _, err := checkSeed(context.Background(), rt, h, seed, [][]byte{input, nil, []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkHostile measures what a fuzzer pays per seed: generate, compile, instantiate
// (with initialisation) and invoke twice, on a runtime without WithCloseOnContextDone (which
// makes every loop iteration call into Go; reclave's enclave does not use it either).
func BenchmarkHostile(b *testing.B) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	h, err := newFakeWASI(ctx, rt)
	if err != nil {
		b.Fatal(err)
	}
	seeds := testSeeds(500)
	i := 0
	for b.Loop() {
		seed := seeds[i%len(seeds)]
		wasm, _ := Hostile(seed)
		cm, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			b.Fatal(err)
		}
		mod, err := h.instantiate(ctx, rt, cm, "a")
		if err != nil {
			b.Fatal(err)
		}
		for _, in := range testInputs(i)[:2] {
			if _, err := h.invoke(ctx, mod, in); err != nil {
				b.Fatal(err)
			}
		}
		mod.Close(ctx)
		cm.Close(ctx)
		i++
	}
}

// BenchmarkHostileGenerate measures Hostile alone.
func BenchmarkHostileGenerate(b *testing.B) {
	seeds := testSeeds(500)
	i := 0
	for b.Loop() {
		Hostile(seeds[i%len(seeds)])
		i++
	}
}
