package wasmbin

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

var realModules = []string{"../../../workloads/counter/counter.wasm", "../../../workloads/json-stats/json-stats.wasm",
	"../../../workloads/heapsort/heapsort.wasm", "../../../workloads/hello-go/hello-go.wasm"}

// hostWrites records the pages of guest memory that WASI functions write: a host must mark
// those itself, since no instrumented guest code runs for them. It is a function listener on
// the WASI host module.
type hostWrites struct {
	pages   map[uint32]bool
	params  []uint64
	unknown []string // host functions called that it does not know
}

func (h *hostWrites) NewFunctionListener(api.FunctionDefinition) experimental.FunctionListener {
	return h
}

func (h *hostWrites) Before(_ context.Context, _ api.Module, _ api.FunctionDefinition, params []uint64, _ experimental.StackIterator) {
	h.params = slices.Clone(params)
}

func (h *hostWrites) After(_ context.Context, mod api.Module, def api.FunctionDefinition, results []uint64) {
	mem := mod.Memory()
	add := func(addr, n uint32) {
		for _, p := range pagesOf(uint64(addr), uint64(n)) {
			h.pages[p] = true
		}
	}
	p := h.params
	switch def.Name() {
	case "fd_read": // (fd, iovs, iovs_len, nread_ptr): the buffers up to nread, and nread
		nread, _ := mem.ReadUint32Le(uint32(p[3]))
		for i := uint32(0); i < uint32(p[2]) && nread > 0; i++ {
			iov, _ := mem.Read(uint32(p[1])+8*i, 8)
			buf, n := binary.LittleEndian.Uint32(iov), binary.LittleEndian.Uint32(iov[4:])
			add(buf, min(n, nread))
			nread -= min(n, nread)
		}
		add(uint32(p[3]), 4)
	case "fd_write": // (fd, iovs, iovs_len, nwritten_ptr)
		add(uint32(p[3]), 4)
	case "fd_seek": // (fd, offset, whence, newoffset_ptr)
		add(uint32(p[3]), 8)
	case "clock_time_get": // (id, precision, time_ptr)
		add(uint32(p[2]), 8)
	case "random_get": // (buf, len)
		add(uint32(p[0]), uint32(p[1]))
	case "fd_fdstat_get": // (fd, stat_ptr)
		add(uint32(p[1]), 24)
	case "args_sizes_get", "environ_sizes_get": // (count_ptr, size_ptr)
		add(uint32(p[0]), 4)
		add(uint32(p[1]), 4)
	case "poll_oneoff": // (in, out, nsubscriptions, nevents_ptr)
		add(uint32(p[1]), 32*uint32(p[2]))
		add(uint32(p[3]), 4)
	case "fd_close", "proc_exit", "sched_yield", "args_get", "environ_get", "fd_fdstat_set_flags", "fd_prestat_get":
		// Nothing written (no arguments, environment or preopened directories here).
	default:
		h.unknown = append(h.unknown, def.Name())
	}
}

func (h *hostWrites) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}

// realInstance is an instance of a workload with stdin and stdout it controls.
type realInstance struct {
	mod     api.Module
	in      *Instrumented // nil for the original module
	stdin   bytes.Reader
	stdout  bytes.Buffer
	mk      *marks
	hw      *hostWrites
	state   api.MutableGlobal // nil for the original module
	collect api.Function      // nil without tracking
	stack   []uint64
}

// newRealInstance instantiates a workload (the instrumented one when in is not nil) and runs
// its _initialize. With listen, WASI's writes to memory are recorded.
func newRealInstance(tb testing.TB, wasm []byte, in *Instrumented, listen bool) *realInstance {
	ctx := context.Background()
	ri := &realInstance{in: in, mk: &marks{}, hw: &hostWrites{pages: map[uint32]bool{}}, stack: make([]uint64, 1)}
	rt := wazero.NewRuntime(ctx)
	tb.Cleanup(func() { rt.Close(ctx) })
	wctx := ctx
	if listen {
		wctx = experimental.WithFunctionListenerFactory(ctx, ri.hw)
	}
	if _, err := wasi_snapshot_preview1.Instantiate(wctx, rt); err != nil {
		tb.Fatal(err)
	}
	if in != nil {
		if err := ri.mk.instantiate(ctx, rt); err != nil {
			tb.Fatal(err)
		}
		wasm = in.Module
	}
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().
		WithStdin(&ri.stdin).WithStdout(&ri.stdout).WithStderr(io.Discard).WithName(""))
	if err != nil {
		tb.Fatal(err)
	}
	ri.mod = mod
	if in != nil {
		ri.state = mod.ExportedGlobal(in.StateGlobal).(api.MutableGlobal)
		if in.CollectExport != "" {
			ri.collect = mod.ExportedFunction(in.CollectExport)
		}
	}
	if _, err := mod.ExportedFunction("_initialize").Call(ctx); err != nil {
		tb.Fatal(err)
	}
	ri.collectDirty(tb) // the pages _initialize wrote
	return ri
}

// reset does what the host does before an invocation: it forgets the pages marked and resets
// the state global. (The budget global needs no reset.)
func (ri *realInstance) reset() {
	ri.mk.reset()
	if ri.in != nil {
		if name := ri.in.StackGlobalExport(); name != "" {
			ri.mk.markRange(0, 1)
			ri.mk.markRange(uint32(ri.mod.ExportedGlobal(name).Get()), ri.in.StackSpan)
		}
	}
	if ri.state != nil {
		ri.state.Set(0)
	}
}

// collectDirty does what the host does after an invocation: it has the module report the
// pages it wrote (and empty its tables).
func (ri *realInstance) collectDirty(tb testing.TB) {
	if ri.collect != nil {
		if err := ri.collect.CallWithStack(context.Background(), ri.stack); err != nil {
			tb.Fatal(err)
		}
	}
}

// invoke runs reclave_handle on input as the host would, and returns its result, its output
// and how long the call took (the reset before it and the collection after it excluded).
func (ri *realInstance) invoke(tb testing.TB, input []byte) (uint64, string, time.Duration) {
	ri.stdin.Reset(input)
	ri.stdout.Reset()
	ri.reset()
	clear(ri.hw.pages)
	start := time.Now()
	res, err := ri.mod.ExportedFunction("reclave_handle").Call(context.Background())
	d := time.Since(start)
	if err != nil {
		tb.Fatal(err)
	}
	ri.collectDirty(tb)
	return res[0], ri.stdout.String(), d
}

// codeSize returns the size of a module's code section.
func codeSize(tb testing.TB, mod []byte) int {
	secs, err := sections(mod)
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range secs {
		if s.id == secCode {
			return len(s.payload)
		}
	}
	return 0
}

func TestInstrumentRealModules(t *testing.T) {
	inputs := []string{`{"values":[3,1,2]}`, `{"user":"x"}`, numbersInput(300), numbersInput(3000), `{"values":[]}`}
	for _, path := range realModules {
		wasm, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, want, _ := ExportMutableGlobals(wasm)
		for _, v := range trackingVariants {
			t.Run(path[strings.LastIndex(path, "/")+1:]+"/"+v.name, func(t *testing.T) {
				opts := v.opts
				if opts.TrackStores {
					opts.TrackedPages = 1 << 14 // 64 MiB, the runtime's default memory_pages
				}
				in, err := Instrument(wasm, opts)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(in.Info.MutableGlobals, want.MutableGlobals) {
					t.Fatalf("mutable globals %+v, want %+v", in.Info.MutableGlobals, want.MutableGlobals)
				}
				t.Logf("code %d -> %d bytes (%+.1f%%), module %d -> %d bytes; %d store (%d grouped, %d hoisted, %d on the stack, span %d), %d stack, %d bulk, %d state, %d interrupt sites",
					codeSize(t, wasm), codeSize(t, in.Module), 100*float64(codeSize(t, in.Module)-codeSize(t, wasm))/float64(codeSize(t, wasm)),
					len(wasm), len(in.Module), in.StoreSites, in.GroupedStores, in.HoistedStores, in.StackStores, in.StackSpan,
					in.StackSites, in.BulkSites, in.StateSites, in.InterruptSites)

				plain := newRealInstance(t, wasm, nil, false)
				inst := newRealInstance(t, wasm, in, true)
				if !bytes.Equal(memCopy(plain.mod), memCopy(inst.mod)) {
					t.Fatal("memories differ after _initialize")
				}
				for _, input := range inputs {
					before := memCopy(plain.mod)
					wantRes, wantOut, _ := plain.invoke(t, []byte(input))
					changed := changedPages(before, memCopy(plain.mod))
					res, out, _ := inst.invoke(t, []byte(input))
					label := fmt.Sprintf("input %.30q", input)
					if res != wantRes || out != wantOut {
						t.Fatalf("%s: instrumented returns %d %q, original %d %q", label, res, out, wantRes, wantOut)
					}
					if !bytes.Equal(memCopy(inst.mod), memCopy(plain.mod)) {
						t.Fatalf("%s: memories differ", label)
					}
					if inst.state.Get() != 0 {
						t.Fatalf("%s: the state global is set", label)
					}
					if !opts.TrackStores {
						continue
					}
					if len(inst.hw.unknown) > 0 {
						t.Fatalf("%s: WASI functions %q write memory the test does not account for", label, inst.hw.unknown)
					}
					hostOnly := 0
					for _, p := range changed {
						if !inst.mk.has(p) {
							if !inst.hw.pages[p] {
								t.Fatalf("%s: page %d changed but was not marked (host %v, marked %v)", label, p, inst.hw.pages, inst.mk.sorted())
							}
							hostOnly++
						}
					}
					// The host hears of each group of 64 pages once at most.
					groups := map[uint32]bool{}
					for _, p := range inst.mk.list {
						groups[p/GroupPages] = true
					}
					if inst.mk.calls > len(groups) {
						t.Fatalf("%s: %d mark_dirty calls for %d pages in %d groups", label, inst.mk.calls, len(inst.mk.list), len(groups))
					}
					t.Logf("%s: output %.40q; memory %d -> %d KiB, %d pages changed (%d written only by WASI), %d marked in %d mark_dirty calls",
						label, out, len(before)/1024, inst.mod.Memory().Size()/1024, len(changed), hostOnly, len(inst.mk.list), inst.mk.calls)
				}
			})
		}
	}
}

// numbersInput returns a json-stats input of n numbers.
func numbersInput(n int) string {
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString(`{"values":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%.3f", rng.NormFloat64()*1000)
	}
	b.WriteString("]}")
	return b.String()
}

// BenchmarkJSONStats measures what the instrumentation costs a function's execution: json-stats
// on 10000 numbers, the original module and the module instrumented with each option set
// called in turn on the same input, as the host would (the reset before a call and the
// collection of dirty pages after it timed apart), with the garbage collector off so that it
// does not stop the world in the middle of one call and not another. It reports, for each
// variant, the median over the rounds of its time divided by the original's in the same round
// (the "slowdown", robust to the noise of a shared machine) and the growth of the code
// section; and, for tracking, the mark_dirty calls and dirty pages per call and the cost of
// the collect and clear-all exports (TrackedPages for 64 MiB).
func BenchmarkJSONStats(b *testing.B) {
	wasm, err := os.ReadFile(realModules[1])
	if err != nil {
		b.Fatal(err)
	}
	const trackedPages = 1 << 14
	variants := []struct {
		name string
		opts Options
	}{
		{"track", Options{TrackStores: true, TrackedPages: trackedPages}},
		{"interrupt", Options{Interrupt: true}},
		{"both", Options{TrackStores: true, TrackedPages: trackedPages, Interrupt: true}},
	}
	input := []byte(numbersInput(10000))
	plain := newRealInstance(b, wasm, nil, false)
	_, want, _ := plain.invoke(b, input)
	insts := make([]*realInstance, len(variants))
	growth := make([]float64, len(variants))
	for i, v := range variants {
		in, err := Instrument(wasm, v.opts)
		if err != nil {
			b.Fatal(err)
		}
		insts[i] = newRealInstance(b, wasm, in, false)
		if _, got, _ := insts[i].invoke(b, input); got != want {
			b.Fatalf("%s: output %q, want %q", v.name, got, want)
		}
		growth[i] = 100 * float64(codeSize(b, in.Module)-codeSize(b, wasm)) / float64(codeSize(b, wasm))
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.GC()
	ratios := make([][]float64, len(variants))
	var tPlain time.Duration
	tInst := make([]time.Duration, len(variants))
	rounds, marks, pages := 0, 0, 0
	for b.Loop() {
		_, _, dp := plain.invoke(b, input)
		tPlain += dp
		for k := range insts {
			i := (k + rounds) % len(insts) // rotate the order
			_, _, d := insts[i].invoke(b, input)
			tInst[i] += d
			ratios[i] = append(ratios[i], float64(d)/float64(dp))
		}
		rounds++
		marks += insts[0].mk.calls
		pages += len(insts[0].mk.list)
	}
	n := float64(rounds)
	b.ReportMetric(float64(tPlain.Nanoseconds())/n, "plain-ns/call")
	for i, v := range variants {
		slices.Sort(ratios[i])
		b.ReportMetric(100*(ratios[i][len(ratios[i])/2]-1), v.name+"-slowdown-%")
		b.ReportMetric(float64(tInst[i].Nanoseconds())/n, v.name+"-ns/call")
		b.ReportMetric(growth[i], v.name+"-code-growth-%")
	}
	b.ReportMetric(float64(marks)/n, "marks/call")
	b.ReportMetric(float64(pages)/n, "dirty-pages/call")

	// The host's side of tracking: collecting after a call, and clearing.
	ri := insts[0]
	var tCollect, tClear time.Duration
	clearAll := ri.mod.ExportedFunction(ri.in.ClearAllExport)
	for range 20 {
		ri.invoke(b, input) // collects already; run again without collecting
		ri.stdin.Reset(input)
		if _, err := ri.mod.ExportedFunction("reclave_handle").Call(context.Background()); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		ri.collectDirty(b)
		tCollect += time.Since(start)
		start = time.Now()
		if err := clearAll.CallWithStack(context.Background(), ri.stack); err != nil {
			b.Fatal(err)
		}
		tClear += time.Since(start)
	}
	b.ReportMetric(float64(tCollect.Nanoseconds())/20, "collect-ns")
	b.ReportMetric(float64(tClear.Nanoseconds())/20, "clear-all-ns")
}

// BenchmarkInstrument measures the rewrite itself, a step of every cold start.
func BenchmarkInstrument(b *testing.B) {
	wasm, err := os.ReadFile(realModules[1])
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(wasm)))
	for b.Loop() {
		if _, err := Instrument(wasm, Options{TrackStores: true, TrackedPages: 1 << 14, Interrupt: true}); err != nil {
			b.Fatal(err)
		}
	}
}
