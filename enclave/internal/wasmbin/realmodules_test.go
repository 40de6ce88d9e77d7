package wasmbin

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

var realModules = []string{"../../../workloads/counter/counter.wasm", "../../../workloads/json-stats/json-stats.wasm"}

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
	mod       api.Module
	in        *Instrumented // nil for the original module
	stdin     bytes.Reader
	stdout    bytes.Buffer
	mk        *marks
	hw        *hostWrites
	clearAll  bool              // clear the dirty table with the clear-all export
	state     api.MutableGlobal // nil for the original module
	interrupt api.MutableGlobal // nil without Options.Interrupt
	clear     api.Function      // the clear export, nil without tracking
	clearAllF api.Function
	stack     []uint64
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
		if in.InterruptGlobal != "" {
			ri.interrupt = mod.ExportedGlobal(in.InterruptGlobal).(api.MutableGlobal)
		}
		if in.ClearExport != "" {
			ri.clear, ri.clearAllF = mod.ExportedFunction(in.ClearExport), mod.ExportedFunction(in.ClearAllExport)
		}
	}
	if _, err := mod.ExportedFunction("_initialize").Call(ctx); err != nil {
		tb.Fatal(err)
	}
	return ri
}

// reset does what the host does between invocations: it clears the dirty table (entry by entry
// for the pages marked since the last reset, or all of it), forgets the marked pages and
// resets the state and interrupt globals.
func (ri *realInstance) reset(tb testing.TB) {
	ctx := context.Background()
	if ri.clear != nil {
		if ri.clearAll {
			if err := ri.clearAllF.CallWithStack(ctx, ri.stack); err != nil {
				tb.Fatal(err)
			}
		} else {
			for _, p := range ri.mk.list {
				ri.stack[0] = uint64(p)
				if err := ri.clear.CallWithStack(ctx, ri.stack); err != nil {
					tb.Fatal(err)
				}
			}
		}
	}
	ri.mk.reset()
	if ri.state != nil {
		ri.state.Set(0)
	}
	if ri.interrupt != nil {
		ri.interrupt.Set(0)
	}
}

// invoke runs reclave_handle on input as the host would, and returns its result, its output
// and how long the call took (the reset before it excluded).
func (ri *realInstance) invoke(tb testing.TB, input []byte) (uint64, string, time.Duration) {
	ri.stdin.Reset(input)
	ri.stdout.Reset()
	ri.reset(tb)
	clear(ri.hw.pages)
	start := time.Now()
	res, err := ri.mod.ExportedFunction("reclave_handle").Call(context.Background())
	d := time.Since(start)
	if err != nil {
		tb.Fatal(err)
	}
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
				t.Logf("code %d -> %d bytes (%+.1f%%), module %d -> %d bytes; %d store, %d bulk, %d state, %d interrupt sites",
					codeSize(t, wasm), codeSize(t, in.Module), 100*float64(codeSize(t, in.Module)-codeSize(t, wasm))/float64(codeSize(t, wasm)),
					len(wasm), len(in.Module), in.StoreSites, in.BulkSites, in.StateSites, in.InterruptSites)

				plain := newRealInstance(t, wasm, nil, false)
				inst := newRealInstance(t, wasm, in, true)
				if !bytes.Equal(memCopy(plain.mod), memCopy(inst.mod)) {
					t.Fatal("memories differ after _initialize")
				}
				for i, input := range inputs {
					inst.clearAll = i%2 == 1
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
					// The host hears of each page once, plus once per page-crossing store: the
					// workloads are compiled C, whose stores are aligned, so there are none.
					if inst.mk.calls != len(inst.mk.list) {
						t.Fatalf("%s: %d mark_dirty calls for %d pages", label, inst.mk.calls, len(inst.mk.list))
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
// called in turn on the same input, each call reset as the host would (the reset is timed
// apart). It reports the time per call of each, the slowdowns, the mark_dirty calls and dirty
// pages per call, the cost of clearing the dirty table entry by entry and all at once
// (TrackedPages for 64 MiB), and the growth of the code section.
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
	for i, v := range variants {
		in, err := Instrument(wasm, v.opts)
		if err != nil {
			b.Fatal(err)
		}
		insts[i] = newRealInstance(b, wasm, in, false)
		if _, got, _ := insts[i].invoke(b, input); got != want {
			b.Fatalf("%s: output %q, want %q", v.name, got, want)
		}
		b.ReportMetric(100*float64(codeSize(b, in.Module)-codeSize(b, wasm))/float64(codeSize(b, wasm)), v.name+"-code-growth-%")
	}
	tPlain, tInst := time.Duration(0), make([]time.Duration, len(variants))
	var tClear, tClearAll time.Duration
	calls, marks, pages := 0, 0, 0
	for b.Loop() {
		_, _, d := plain.invoke(b, input)
		tPlain += d
		for i, ri := range insts {
			if ri.clear != nil && calls%2 == 0 { // time the two ways of clearing the table
				ri.clearAll = i == 0
				start := time.Now()
				ri.reset(b)
				if ri.clearAll {
					tClearAll += time.Since(start)
				} else {
					tClear += time.Since(start)
				}
			}
			_, _, d := ri.invoke(b, input)
			tInst[i] += d
		}
		calls++
		marks += insts[0].mk.calls
		pages += len(insts[0].mk.list)
	}
	n := float64(calls)
	b.ReportMetric(float64(tPlain.Nanoseconds())/n, "plain-ns/call")
	for i, v := range variants {
		b.ReportMetric(float64(tInst[i].Nanoseconds())/n, v.name+"-ns/call")
		b.ReportMetric(100*(float64(tInst[i])/float64(tPlain)-1), v.name+"-slowdown-%")
	}
	b.ReportMetric(float64(marks)/n, "marks/call")
	b.ReportMetric(float64(pages)/n, "dirty-pages/call")
	if half := float64((calls + 1) / 2); half > 0 {
		b.ReportMetric(float64(tClearAll.Nanoseconds())/half, "clear-all-ns")
		b.ReportMetric(float64(tClear.Nanoseconds())/half, "clear-pages-ns")
	}
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
