package wasmbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/reclave/reclave/internal/wasmgen"
)

// hostileInstance is an instance of a hostile module (wasmgen.Hostile), original or
// instrumented, with a deterministic WASI host: seeded random bytes, fixed clocks.
type hostileInstance struct {
	ri     *realInstance
	handle api.Function
}

// newHostileInstance instantiates wasm (in.Module when in is not nil) and runs its inits;
// it returns the error of the instantiation or an init, which ends the module's run.
func newHostileInstance(tb testing.TB, wasm []byte, in *Instrumented, seed uint64) (*hostileInstance, error) {
	ctx := context.Background()
	ri := &realInstance{in: in, mk: &marks{}, hw: &hostWrites{pages: map[uint32]bool{}}, stack: make([]uint64, 1)}
	rt := wazero.NewRuntime(ctx)
	tb.Cleanup(func() { rt.Close(ctx) })
	if _, err := wasi_snapshot_preview1.Instantiate(experimental.WithFunctionListenerFactory(ctx, ri.hw), rt); err != nil {
		tb.Fatal(err)
	}
	if in != nil {
		if err := ri.mk.instantiate(ctx, rt); err != nil {
			tb.Fatal(err)
		}
		wasm = in.Module
	}
	wall := func() (int64, int32) { return 1_700_000_000, 0 }
	mono := func() int64 { return 42 }
	cfg := wazero.NewModuleConfig().WithStdin(&ri.stdin).WithStdout(&ri.stdout).WithStderr(io.Discard).
		WithName("").WithRandSource(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})).
		WithWalltime(wall, 1).WithNanotime(mono, 1)
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		tb.Fatalf("compile: %v", err)
	}
	mod, err := rt.InstantiateModule(ctx, cm, cfg)
	if err != nil {
		return nil, err // the start function trapped or exited
	}
	ri.mod = mod
	if in != nil {
		ri.state = mod.ExportedGlobal(in.StateGlobal).(api.MutableGlobal)
		ri.collect = mod.ExportedFunction(in.CollectExport)
	}
	for _, name := range []string{"_initialize", "reclave_init"} { // after the start section
		if f := mod.ExportedFunction(name); f != nil {
			if _, err := f.Call(ctx); err != nil {
				return nil, err
			}
		}
	}
	ri.collectDirty(tb)
	return &hostileInstance{ri: ri, handle: mod.ExportedFunction("reclave_handle")}, nil
}

// call runs reclave_handle on input as the host would (see realInstance.invoke) and returns
// what a caller sees: its results, its output and how it ended.
func (h *hostileInstance) call(tb testing.TB, input []byte) (res []uint64, out string, end string) {
	ri := h.ri
	ri.stdin.Reset(input)
	ri.stdout.Reset()
	ri.reset()
	clear(ri.hw.pages)
	res, err := h.handle.Call(context.Background())
	if end := endOf(err); strings.HasPrefix(end, "exit") {
		return res, ri.stdout.String(), end // proc_exit closed the module: the host recycles it
	}
	ri.collectDirty(tb)
	return res, ri.stdout.String(), endOf(err)
}

// endOf names how a call ended: "ok", "exit N", or the first line of a trap's message (its
// stack trace names functions, whose indices the instrumentation changes).
func endOf(err error) string {
	var exit *sys.ExitError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &exit):
		return fmt.Sprintf("exit %d", exit.ExitCode())
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// TestInstrumentHostileModules is the instrumentation's own oracle over the modules of the
// enclave's differential fuzzer (wasmgen.Hostile: stores of every width across pages, runs of
// stores off one local, in loops, frames off the stack global at hostile values, traps after
// partial writes): for each module and input the instrumented module behaves as the original
// (same results, output, way of ending and memory), and every page the call changed is one
// the guest marked, the host marked at the call's start (the stack: see Instrument) or a WASI
// function wrote. A store the instrumentation fails to record shows here directly, where the
// enclave's oracle (reused ≡ fresh) needs the next invocation to observe it.
func TestInstrumentHostileModules(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 100
	}
	var calls, stackStores, stackModules int
	ends := map[string]int{}
	for i := range n {
		seed := []byte(fmt.Sprintf("instrument hostile %d", i))
		wasm, feats := wasmgen.Hostile(seed)
		in, err := Instrument(wasm, Options{TrackStores: true, TrackedPages: 8 * 16, Interrupt: true}) // the most memory a module may have
		if err != nil {
			t.Fatalf("seed %q: %v", seed, err)
		}
		stackStores += in.StackStores
		if in.StackSpan > 0 {
			stackModules++
		}
		plain, perr := newHostileInstance(t, wasm, nil, uint64(i))
		inst, ierr := newHostileInstance(t, wasm, in, uint64(i))
		if endOf(perr) != endOf(ierr) {
			t.Fatalf("seed %q (%v): the inits end %q instrumented, %q original", seed, feats, endOf(ierr), endOf(perr))
		}
		if perr != nil {
			continue
		}
		r := rand.New(rand.NewPCG(uint64(i), 3))
		for c := range 3 {
			input := make([]byte, r.IntN(80))
			for j := range input {
				input[j] = byte(r.Uint32())
			}
			before := memCopy(plain.ri.mod)
			wantRes, wantOut, wantEnd := plain.call(t, input)
			changed := changedPages(before, memCopy(plain.ri.mod))
			res, out, end := inst.call(t, input)
			calls++
			ends[end]++
			label := fmt.Sprintf("seed %q (%v), call %d, input %x", seed, feats, c, input)
			if end != wantEnd || out != wantOut || fmt.Sprint(res) != fmt.Sprint(wantRes) {
				t.Fatalf("%s: instrumented %v %q %q, original %v %q %q", label, res, out, end, wantRes, wantOut, wantEnd)
			}
			if strings.HasPrefix(end, "exit") {
				break // proc_exit closed the module: nothing to compare or collect
			}
			if !bytes.Equal(memCopy(inst.ri.mod), memCopy(plain.ri.mod)) {
				t.Fatalf("%s: memories differ", label)
			}
			if len(inst.ri.hw.unknown) > 0 {
				t.Fatalf("%s: WASI functions %q write memory the test does not account for", label, inst.ri.hw.unknown)
			}
			for _, p := range changed {
				if !inst.ri.mk.has(p) && !inst.ri.hw.pages[p] {
					t.Fatalf("%s (ended %s): page %d changed but was not marked (marked %v)", label, end, p, inst.ri.mk.sorted())
				}
			}
		}
	}
	t.Logf("%d modules, %d calls (%v); %d modules with stores on the stack, %d such stores", n, calls, ends, stackModules, stackStores)
	if stackModules < n/3 {
		t.Errorf("only %d of %d modules have stores on the stack: the generator's frames no longer reach the stack path", stackModules, n)
	}
}
