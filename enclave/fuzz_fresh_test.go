package enclave

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/reclave/reclave/enclave/internal/wasi"
	"github.com/reclave/reclave/internal/wasmgen"
)

// The differential fuzzer of the isolation guarantee: every output of a reused enclave equals
// the output a fresh enclave gives for the same input.
//
//	go test -run XXX -fuzz FuzzRewindEqualsFresh -fuzztime 60s ./enclave/
//	RECLAVE_FUZZ_STRATEGY=cow go test -run XXX -fuzz FuzzRewindEqualsFresh ./enclave/
//
// Each execution builds a hostile module from the fuzzer's seed (wasmgen.Hostile: start
// functions, _initialize and reclave_init that read memory, globals and tables and write what
// they read elsewhere; every store width across page boundaries; bulk memory and table
// operations, also in loops; passive segments and their drops; traps after partial writes;
// WASI calls that change host state; proc_exit; and an observation of all of that in the
// output before and after), splits the fuzzer's input bytes into a sequence of invocation
// inputs, and compares, for one reused configuration the selector byte picks (every strategy
// and snapshot point, compartments on and off, reinstantiate), each invocation's outcome with
// that of a fresh enclave given the same input. Both sides get the same deterministic WASI
// host (seeded random bytes replayed from the clean state, fixed clocks), so only leaked state
// can make them differ.

// fuzzCase is one reused configuration of the fuzzer.
type fuzzCase struct {
	name string
	cfg  Config
}

// fuzzCases returns the reused configurations, restricted to one strategy by
// RECLAVE_FUZZ_STRATEGY (for a long run per strategy).
func fuzzCases() []fuzzCase {
	only := Strategy(os.Getenv("RECLAVE_FUZZ_STRATEGY"))
	var out []fuzzCase
	for _, comp := range []Compartments{CompartmentsOn, CompartmentsOff} {
		if only == "" {
			out = append(out, fuzzCase{"reinstantiate/comp=" + string(comp), Config{Reset: ResetReinstantiate, Compartments: comp}})
		}
		for _, s := range Strategies() {
			if only != "" && s != only {
				continue
			}
			for _, p := range []SnapshotPoint{PointFunction, PointRuntime, PointWarmed} {
				cfg := Config{Reset: ResetRewind, Strategy: s, SnapshotPoint: p, Compartments: comp}
				if p == PointWarmed {
					cfg.WarmupInvocations = 2
				}
				if s == StrategyAuto {
					// Switch module variants after every second invocation, whatever they cost:
					// each variant's rewind and each switch's rebuild run within one input
					// sequence (the measured choice switches a few times only).
					cfg.autoSwitchEvery = 2
				}
				out = append(out, fuzzCase{fmt.Sprintf("rewind/%s/%s/comp=%s", s, p, comp), cfg})
			}
		}
	}
	return out
}

// fuzzMemory is the fuzzer's enclave: small, without a runtime image, so that creating one
// costs little more than compiling the module.
const fuzzMemory = 2 << 20

// outcome is what a caller sees of an invocation: its output, and how it failed.
type outcome struct {
	output string
	kind   ErrorKind
	exit   int64 // proc_exit's code; -1 without exit
}

func (o outcome) String() string {
	return fmt.Sprintf("output %x, error kind %q, exit %d", o.output, o.kind, o.exit)
}

func outcomeOf(inv *Invocation, err error) outcome {
	o := outcome{kind: KindOf(err), exit: -1}
	if inv != nil {
		o.output = string(inv.Output)
	}
	var exit *wasi.ExitError
	if errors.As(err, &exit) {
		o.exit = int64(exit.Code)
	}
	return o
}

// fuzzRig holds what the executions share: a compilation cache (compiling dominates the
// cost of a small enclave, and a reused enclave compiles the same module).
type fuzzRig struct {
	cache *CompilationCache
	cases []fuzzCase
}

func newFuzzRig(tb testing.TB) *fuzzRig {
	r := &fuzzRig{cache: NewCompilationCache(), cases: fuzzCases()}
	if len(r.cases) == 0 {
		tb.Fatalf("RECLAVE_FUZZ_STRATEGY=%q names no strategy (have %v)", os.Getenv("RECLAVE_FUZZ_STRATEGY"), Strategies())
	}
	tb.Cleanup(func() { r.cache.Close(context.Background()) })
	return r
}

// splitInputs cuts the fuzzer's bytes into at most 6 invocation inputs at 0xFF bytes.
func splitInputs(b []byte) [][]byte {
	parts := strings.Split(string(b), "\xff")
	if len(parts) > 6 {
		parts = parts[:6]
	}
	out := make([][]byte, len(parts))
	for i, p := range parts {
		out[i] = []byte(p)
	}
	return out
}

// check runs one execution: the module of seed, the inputs, the configuration sel picks.
func (r *fuzzRig) check(t *testing.T, seed, inputs []byte, sel uint8) {
	wasm, feats := wasmgen.Hostile(seed)
	sum := sha256.Sum256(seed)
	det := &wasi.Deterministic{Seed: binary.LittleEndian.Uint64(sum[:]), Time: 1_700_000_000_000_000_000}
	fn := Function{Name: "hostile", Wasm: wasm, MemoryPages: 16, Deadline: 5 * time.Second}
	ins := splitInputs(inputs)
	rc := r.cases[int(sel)%len(r.cases)]
	ctx := context.Background()
	freshCfg := Config{MemoryBytes: fuzzMemory, Reset: ResetNone, OneShot: true, Cache: r.cache, deterministic: det}
	if rc.cfg.SnapshotPoint == PointWarmed {
		// The clean state is that after the warm-up: a fresh enclave runs the same warm-up,
		// with the first input as the public warm-up input, before the caller's input.
		fn.WarmupInput = ins[0]
		freshCfg.SnapshotPoint, freshCfg.WarmupInvocations = PointWarmed, rc.cfg.WarmupInvocations
	}

	fresh := func(in []byte) (outcome, error) {
		e, err := Create(ctx, freshCfg, fn)
		if err != nil {
			return outcome{}, err
		}
		defer e.Close(ctx)
		return outcomeOf(e.Invoke(ctx, in)), nil
	}
	cfg := rc.cfg
	cfg.MemoryBytes, cfg.Cache, cfg.deterministic = fuzzMemory, r.cache, det
	create := func() *Enclave {
		e, err := Create(ctx, cfg, fn)
		if err != nil {
			// A module whose creation fails must fail fresh too, with the same kind.
			if _, ferr := fresh(nil); ferr == nil || KindOf(ferr) != KindOf(err) {
				t.Fatalf("%s (%s): creating the reused enclave failed (%v), a fresh one: %v", rc.name, feats, err, ferr)
			}
			return nil
		}
		return e
	}
	e := create()
	if e == nil {
		return
	}
	defer func() { e.Close(ctx) }()
	for i, in := range ins {
		want, err := fresh(in)
		if err != nil {
			t.Fatalf("%s (%s): a fresh enclave for input %d failed to create: %v", rc.name, feats, i, err)
		}
		inv, err := e.Invoke(ctx, in)
		got := outcomeOf(inv, err)
		if inv == nil {
			t.Fatalf("%s (%s): invocation %d: %v", rc.name, feats, i, err)
		}
		retired := inv.Reset == ResetRetire
		if retired {
			// The one state a rebuild cannot reproduce: the enclave retires, as documented,
			// and the caller's outcome must still be the fresh one.
			if !errors.Is(e.Unusable(), errNotRebuildable) {
				t.Fatalf("%s (%s): invocation %d retired the enclave: %v", rc.name, feats, i, e.Unusable())
			}
			e.Close(ctx)
			if e = create(); e == nil {
				t.Fatalf("%s (%s): re-creating the enclave failed", rc.name, feats)
			}
		}
		if got.kind == KindInternal && retired {
			got.kind = KindOf(errors.Unwrap(err)) // the invocation's own error, joined first
		}
		if got.output != want.output || got.exit != want.exit || got.kind != want.kind {
			t.Fatalf("%s (%s): invocation %d of %d, input %x:\nreused: %v (reset %s, err %v)\nfresh:  %v",
				rc.name, feats, i, len(ins), in, got, inv.Reset, err, want)
		}
	}
}

func FuzzRewindEqualsFresh(f *testing.F) {
	r := newFuzzRig(f)
	// Seeds beside the committed corpus (testdata/fuzz/FuzzRewindEqualsFresh): every
	// configuration with a few modules and input sequences.
	for sel := 0; sel < len(r.cases); sel++ {
		f.Add([]byte(fmt.Sprintf("seed %d", sel)), []byte("\x01\x02\xff\x80\x7f\xffhello\xff\xff\x00"), uint8(sel))
	}
	f.Fuzz(func(t *testing.T, seed, inputs []byte, sel uint8) {
		r.check(t, seed, inputs, sel)
	})
}

// TestRewindEqualsFreshMatrix runs the oracle over many generated modules for every
// configuration, deterministically: what CI runs beside the fuzzer's bounded time.
func TestRewindEqualsFreshMatrix(t *testing.T) {
	r := newFuzzRig(t)
	n := 6
	if testing.Short() {
		n = 2
	}
	for sel := range r.cases {
		for m := 0; m < n; m++ {
			seed := []byte(fmt.Sprintf("matrix module %d", m))
			inputs := []byte(fmt.Sprintf("in%d\xff\x00\x01\xff%c%c\xff\xffabc", m, byte(m*37), byte(m*91)))
			r.check(t, seed, inputs, uint8(sel))
		}
	}
}
