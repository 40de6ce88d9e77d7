package enclave

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/reclave/reclave/enclave/internal/wasi"
	"github.com/reclave/reclave/internal/wasmgen"
)

// The isolation oracle across functions: one generic enclave serves a seeded random sequence
// of different generated hostile modules (wasmgen.Hostile, see fuzz_fresh_test.go) and
// inputs, and every outcome — output, error kind, exit code — equals that of a fresh enclave
// created for that module and given that input. Both sides get the same deterministic WASI
// host, so only state left behind by an earlier function (or an earlier invocation of the
// same one) can make them differ.
//
//	go test -run XXX -fuzz FuzzGenericEqualsFresh -fuzztime 60s ./enclave/

// genericFuzzCases are the generic configurations the selector byte picks from: every
// strategy (auto is diff in a generic enclave), compartments on and off.
func genericFuzzCases() []Config {
	var out []Config
	for _, comp := range []Compartments{CompartmentsOn, CompartmentsOff} {
		for _, s := range Strategies() {
			if s != StrategyAuto {
				out = append(out, Config{Strategy: s, Compartments: comp})
			}
		}
	}
	return out
}

// genericModules is how many different modules one sequence draws from, genericSteps how many
// invocations it makes per input part.
const (
	genericModules = 4
	genericSteps   = 2
)

// checkGeneric runs one sequence: modules generated from seed, the inputs split from inputs,
// in an order seeded by seed, in the generic configuration sel picks.
func (r *fuzzRig) checkGeneric(t *testing.T, seed, inputs []byte, sel uint8) {
	cases := genericFuzzCases()
	cfg := cases[int(sel)%len(cases)]
	sum := sha256.Sum256(seed)
	det := &wasi.Deterministic{Seed: binary.LittleEndian.Uint64(sum[:]), Time: 1_700_000_000_000_000_000}
	ctx := context.Background()
	fns := make([]Function, genericModules)
	feats := make([]wasmgen.Features, genericModules)
	for i := range fns {
		var wasm []byte
		wasm, feats[i] = wasmgen.Hostile(append([]byte(fmt.Sprintf("generic %d/", i)), seed...))
		fns[i] = Function{Name: fmt.Sprintf("hostile%d", i), Wasm: wasm, MemoryPages: 16, Deadline: 5 * time.Second}
	}
	ins := splitInputs(inputs)
	freshCfg := Config{MemoryBytes: fuzzMemory, Reset: ResetNone, OneShot: true, Cache: r.cache, deterministic: det}
	fresh := func(fn Function, in []byte) outcome {
		e, err := Create(ctx, freshCfg, fn)
		if err != nil {
			return outcome{kind: KindOf(err), exit: -1}
		}
		defer e.Close(ctx)
		return outcomeOf(e.Invoke(ctx, in))
	}
	cfg.MemoryBytes, cfg.Cache, cfg.deterministic = fuzzMemory, r.cache, det
	e, err := CreateGeneric(ctx, cfg)
	if err != nil {
		t.Fatalf("generic %s/comp=%s: %v", cfg.Strategy, cfg.Compartments, err)
	}
	defer e.Close(ctx)
	rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[8:]), uint64(sel)))
	for step := range genericSteps * len(ins) {
		m, in := rng.IntN(len(fns)), ins[rng.IntN(len(ins))]
		want := fresh(fns[m], in)
		inv, err := e.InvokeFunction(ctx, fns[m], in)
		got := outcomeOf(inv, err)
		if inv == nil || inv.Reset != ResetRewind || e.Unusable() != nil {
			t.Fatalf("generic %s/comp=%s: step %d, %s (%s): invocation %v, error %v, unusable %v",
				cfg.Strategy, cfg.Compartments, step, fns[m].Name, feats[m], inv != nil, err, e.Unusable())
		}
		if got != want {
			t.Fatalf("generic %s/comp=%s: step %d of %d, %s (%s), input %x:\ngeneric: %v (err %v)\nfresh:   %v",
				cfg.Strategy, cfg.Compartments, step, genericSteps*len(ins), fns[m].Name, feats[m], in, got, err, want)
		}
	}
}

func FuzzGenericEqualsFresh(f *testing.F) {
	r := newFuzzRig(f)
	for sel := range genericFuzzCases() {
		f.Add([]byte(fmt.Sprintf("seed %d", sel)), []byte("\x01\x02\xff\x80\x7f\xffhello\xff\xff\x00"), uint8(sel))
	}
	f.Fuzz(func(t *testing.T, seed, inputs []byte, sel uint8) {
		r.checkGeneric(t, seed, inputs, sel)
	})
}

// TestGenericEqualsFreshMatrix runs the cross-function oracle over several module sets for
// every generic configuration, deterministically: what CI runs beside the fuzzer.
func TestGenericEqualsFreshMatrix(t *testing.T) {
	r := newFuzzRig(t)
	n := 4
	if testing.Short() {
		n = 1
	}
	for sel := range genericFuzzCases() {
		for m := range n {
			seed := []byte(fmt.Sprintf("generic matrix %d", m))
			inputs := []byte(fmt.Sprintf("in%d\xff\x00\x01\xff%c%c\xff\xffabc", m, byte(m*37), byte(m*91)))
			r.checkGeneric(t, seed, inputs, uint8(sel))
		}
	}
}
