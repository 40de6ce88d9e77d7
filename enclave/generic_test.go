package enclave_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/workloads"
)

// genericMemory is the generic enclaves' size in the tests that run the Go workloads.
const genericMemory = 64 << 20

// createGeneric creates a generic enclave with the tests' shared compilation cache, closed
// when the test ends.
func createGeneric(tb testing.TB, cfg enclave.Config) *enclave.Enclave {
	tb.Helper()
	if cfg.MemoryBytes == 0 {
		cfg.MemoryBytes = testMemory
	}
	cfg.Cache = cache
	e, err := enclave.CreateGeneric(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// testdataFunction is a reactor of enclave/testdata.
func testdataFunction(tb testing.TB, name string) enclave.Function {
	tb.Helper()
	wasm, err := os.ReadFile("testdata/" + name + ".wasm")
	if err != nil {
		tb.Fatal(err)
	}
	return enclave.Function{Name: name, Wasm: wasm, Deadline: 2 * time.Second}
}

// builtinCase is a built-in workload as the generic tests run it: its function, its test
// input and the output the manifest expects for it (nil when it names none).
type builtinCase struct {
	w      *workloads.Workload
	fn     enclave.Function
	input  []byte
	expect *workloads.Expect
}

// builtinCases returns every built-in workload, reactors and commands, in name order.
func builtinCases(tb testing.TB) []builtinCase {
	tb.Helper()
	all, err := workloads.Builtin()
	if err != nil {
		tb.Fatal(err)
	}
	var out []builtinCase
	for _, w := range all {
		fn, err := harness.FunctionOf(w)
		if err != nil {
			tb.Fatal(err)
		}
		in, err := w.Input("test")
		if err != nil {
			tb.Fatal(err)
		}
		exp, err := w.Expectation("test")
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, builtinCase{w: w, fn: fn, input: in, expect: exp})
	}
	slices.SortFunc(out, func(a, b builtinCase) int { return strings.Compare(a.w.Name, b.w.Name) })
	return out
}

// checkBuiltinOutput checks a built-in workload's output on clean state: the manifest's
// expectation, or for the two workloads that name none (their outputs are random) their own
// invariants — leak-probe found nothing of an earlier invocation, session-go gave a session.
func checkBuiltinOutput(c builtinCase, out []byte) error {
	if c.expect != nil {
		return c.expect.Check(out)
	}
	switch c.w.Name {
	case "leak-probe":
		var p probeOut
		if err := json.Unmarshal(out, &p); err != nil {
			return fmt.Errorf("%q: %w", out, err)
		}
		if p.Found != 0 || p.Planted != 3 {
			return fmt.Errorf("found %d secrets of earlier invocations, planted %d", p.Found, p.Planted)
		}
	default:
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil || len(v) == 0 {
			return fmt.Errorf("output %q: not a JSON object (%v)", out, err)
		}
	}
	return nil
}

// TestGenericMeasurement: a generic enclave's MRENCLAVE and clean-state hash depend on its
// configuration only — the same for two enclaves, unchanged by the functions they serve,
// different from any per-function enclave's — and the inner reports of different functions
// carry them both.
func TestGenericMeasurement(t *testing.T) {
	platform, err := attest.NewSimulatedPlatform()
	if err != nil {
		t.Fatal(err)
	}
	cfg := enclave.Config{Quoter: platform}
	a, b := createGeneric(t, cfg), createGeneric(t, cfg)
	if a.MREnclave() != b.MREnclave() {
		t.Fatalf("two generic enclaves of one configuration: MRENCLAVE %x and %x", a.MREnclave(), b.MREnclave())
	}
	if a.CleanStateHash() != enclave.GenericCleanStateHash() || b.CleanStateHash() != a.CleanStateHash() {
		t.Fatalf("clean-state hashes %x, %x, want %x", a.CleanStateHash(), b.CleanStateHash(), enclave.GenericCleanStateHash())
	}
	if !a.Generic() || a.ModuleSHA256() != [32]byte{} {
		t.Fatalf("Generic() %v, module hash %x before any function", a.Generic(), a.ModuleSHA256())
	}
	if other := createGeneric(t, enclave.Config{MemoryBytes: 2 * testMemory}); other.MREnclave() == a.MREnclave() {
		t.Fatal("generic enclaves of different sizes share a measurement")
	}
	mr := a.MREnclave()
	fns := []enclave.Function{counter(t), module(t, "json-stats"), module(t, "wc-c"), counter(t)}
	for i, fn := range fns {
		nonce := attest.NewNonce()
		inv, err := a.InvokeFunctionAttested(context.Background(), fn, []byte(`{"values":[1]}`), nonce)
		if err != nil {
			t.Fatalf("%s: %v", fn.Name, err)
		}
		in, err := attest.ParseInnerFields(inv.Bundle.Inner.Report)
		if err != nil {
			t.Fatal(err)
		}
		if in.MRENCLAVE != mr || in.CleanStateHash != enclave.GenericCleanStateHash() || in.ModuleHash != inv.Load.ModuleHash {
			t.Fatalf("invocation %d (%s): inner report %x / %x / module %x", i, fn.Name, in.MRENCLAVE, in.CleanStateHash, in.ModuleHash)
		}
		pf := createWith(t, enclave.Config{MemoryBytes: testMemory}, fn)
		if pf.MREnclave() == mr {
			t.Fatalf("%s: a per-function enclave has the generic runtime's MRENCLAVE", fn.Name)
		}
		if inv.Load.ModuleHash != pf.ModuleSHA256() {
			t.Fatalf("%s: load hashed the module as %x, want %x", fn.Name, inv.Load.ModuleHash, pf.ModuleSHA256())
		}
	}
	if a.MREnclave() != mr {
		t.Fatal("MRENCLAVE changed while serving functions")
	}
}

// TestGenericServesBuiltins is the goal: one generic enclave serves every built-in
// workload, reactors and commands, three times each in a seeded random order, every output
// valid — the manifest's expectation, which a stateful workload (counter) meets only on
// clean state — and the compile cache compiles each module once.
func TestGenericServesBuiltins(t *testing.T) {
	cases := builtinCases(t)
	e := createGeneric(t, enclave.Config{MemoryBytes: genericMemory})
	var order []int
	for range 3 {
		for i := range cases {
			order = append(order, i)
		}
	}
	rng := rand.New(rand.NewPCG(16, 1))
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	seen := map[string]bool{}
	for n, i := range order {
		c := cases[i]
		inv, err := e.InvokeFunction(context.Background(), c.fn, c.input)
		if err != nil {
			t.Fatalf("invocation %d, %s: %v", n, c.w.Name, err)
		}
		if err := checkBuiltinOutput(c, inv.Output); err != nil {
			t.Fatalf("invocation %d, %s (after %d others): %v", n, c.w.Name, n, err)
		}
		if inv.Load == nil || inv.Load.Function != c.w.Name || inv.Load.CacheHit != seen[c.w.Name] {
			t.Fatalf("invocation %d, %s: load %+v, want a cache hit: %v", n, c.w.Name, inv.Load, seen[c.w.Name])
		}
		seen[c.w.Name] = true
		var names []string
		for _, p := range inv.Phases {
			names = append(names, p.Name)
		}
		if want := []string{"load", "instantiate", "fn_init", "invoke", "rewind"}; !slices.Equal(names, want) || inv.Reset != enclave.ResetRewind {
			t.Fatalf("invocation %d, %s: phases %v, reset %s; want %v, rewind", n, c.w.Name, names, inv.Reset, want)
		}
	}
	hits, misses, modules := e.CompileCacheStats()
	if misses != uint64(len(cases)) || hits != uint64(len(order)-len(cases)) || modules != len(cases) {
		t.Fatalf("compile cache: %d hits, %d misses, %d modules; want %d, %d, %d", hits, misses, modules, len(order)-len(cases), len(cases), len(cases))
	}
}

// TestGenericLeakProbe: the leak probe, served between other functions, never finds a secret
// an earlier invocation of it planted.
func TestGenericLeakProbe(t *testing.T) {
	e := createGeneric(t, enclave.Config{})
	probe, other := module(t, "leak-probe"), module(t, "json-stats")
	for i := range 40 {
		fn, in := probe, []byte(`{}`)
		if i%3 == 2 {
			fn, in = other, []byte(`{"values":[1,2]}`)
		}
		inv, err := e.InvokeFunction(context.Background(), fn, in)
		if err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
		if fn.Name != "leak-probe" {
			continue
		}
		var out probeOut
		if err := json.Unmarshal(inv.Output, &out); err != nil || out.Found != 0 || out.Planted != 3 {
			t.Fatalf("invocation %d: %s (%v)", i, inv.Output, err)
		}
	}
}

// TestGenericStubs: two functions stub the same import names with different types; each
// gets its own stubs, whatever ran before.
func TestGenericStubs(t *testing.T) {
	a := testdataFunction(t, "stubs")
	a.Stubs = []string{"env.get_time", "bench.start", "bench.end"}
	b := testdataFunction(t, "stubs_other")
	b.Stubs = []string{"env.get_time", "bench.start"}
	e := createGeneric(t, enclave.Config{})
	for i, fn := range []enclave.Function{a, b, b, a, b} {
		inv, err := e.InvokeFunction(context.Background(), fn, nil)
		if err != nil {
			t.Fatalf("invocation %d, %s: %v", i, fn.Name, err)
		}
		want := string(make([]byte, 12))
		if fn.Name == "stubs_other" {
			want = "\x00\x00\x00\x00ok"
		}
		if string(inv.Output) != want {
			t.Fatalf("invocation %d, %s: output %q, want %q", i, fn.Name, inv.Output, want)
		}
	}
	// Without its stubs, the module is refused, even though the same bytes are compiled.
	b.Stubs = nil
	var ie *enclave.ImportError
	if _, err := e.InvokeFunction(context.Background(), b, nil); !errors.As(err, &ie) {
		t.Fatalf("stubs_other without stubs: %v, want an *ImportError", err)
	}
}

// TestGenericChecksEveryLoad: a compile-cache hit is checked against the function that
// brings the module — its allow-list, its memory cap, its kind — as a miss is; a function
// refused, or failing in its init, fails its own invocation and leaves the enclave serving.
func TestGenericChecksEveryLoad(t *testing.T) {
	e := createGeneric(t, enclave.Config{})
	ctx := context.Background()
	c := counter(t)
	ok := func(step string) {
		t.Helper()
		inv, err := e.InvokeFunction(ctx, c, []byte(`{"user":"u"}`))
		if err != nil {
			t.Fatalf("%s: counter: %v", step, err)
		}
		var out counterOut
		if err := json.Unmarshal(inv.Output, &out); err != nil || out.Count != 1 {
			t.Fatalf("%s: counter output %s (%v), want count 1", step, inv.Output, err)
		}
	}
	ok("first")
	initLoop := testdataFunction(t, "init_loop")
	initLoop.Deadline = 50 * time.Millisecond
	garbage := enclave.Function{Name: "garbage", Wasm: []byte("\x00asm\x01\x00\x00\x00\xff")}
	tests := []struct {
		name string
		fn   func() enclave.Function
		kind enclave.ErrorKind
		want string // in the error
	}{
		{"allow-list", func() enclave.Function {
			f := c
			f.Imports = []string{"wasi_snapshot_preview1.proc_exit"}
			return f
		}, enclave.KindInternal, "not allowed"},
		{"memory cap", func() enclave.Function {
			f := c
			f.MemoryPages = 1
			return f
		}, enclave.KindInternal, "pages of linear memory at start"},
		{"kind", func() enclave.Function {
			f := c
			f.Kind = enclave.KindCommand
			return f
		}, enclave.KindInternal, "does not export _start"},
		{"init deadline", func() enclave.Function { return initLoop }, enclave.KindDeadline, "deadline"},
		{"not a module", func() enclave.Function { return garbage }, enclave.KindInternal, "load"},
	}
	for _, tt := range tests {
		for round := range 2 { // a miss, then a hit
			inv, err := e.InvokeFunction(ctx, tt.fn(), nil)
			if err == nil || enclave.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%s (round %d): %v; want kind %s, containing %q", tt.name, round, err, tt.kind, tt.want)
			}
			if inv == nil || inv.Reset != enclave.ResetRewind || e.Unusable() != nil {
				t.Fatalf("%s (round %d): invocation %+v, unusable %v", tt.name, round, inv, e.Unusable())
			}
			ok(tt.name)
		}
	}
	if _, err := e.Invoke(ctx, nil); err == nil {
		t.Fatal("Invoke on a generic enclave: no error")
	}
	pf := createWith(t, enclave.Config{MemoryBytes: testMemory}, c)
	if _, err := pf.InvokeFunction(ctx, c, nil); err == nil {
		t.Fatal("InvokeFunction on a per-function enclave: no error")
	}
}

// TestCreateGenericConfig: a generic enclave rewinds to its runtime snapshot, or is refused;
// strategy auto becomes diff.
func TestCreateGenericConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     enclave.Config
		want    enclave.Strategy
		wantErr string
	}{
		{"defaults", enclave.Config{}, enclave.StrategyDiff, ""},
		{"auto", enclave.Config{Strategy: enclave.StrategyAuto}, enclave.StrategyDiff, ""},
		{"tracked", enclave.Config{Strategy: enclave.StrategyTracked, SnapshotPoint: enclave.PointRuntime}, enclave.StrategyTracked, ""},
		{"full", enclave.Config{Strategy: enclave.StrategyFull, Reset: enclave.ResetRewind}, enclave.StrategyFull, ""},
		{"warm", enclave.Config{Reset: enclave.ResetNone}, "", "want rewind"},
		{"reinstantiate", enclave.Config{Reset: enclave.ResetReinstantiate}, "", "want rewind"},
		{"function point", enclave.Config{SnapshotPoint: enclave.PointFunction}, "", "want runtime"},
		{"one shot", enclave.Config{OneShot: true}, "", "OneShot"},
		{"bad strategy", enclave.Config{Strategy: "nope"}, "", "strategy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.MemoryBytes = testMemory
			e, err := enclave.CreateGeneric(context.Background(), cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close(context.Background())
			if e.Strategy() != tt.want {
				t.Fatalf("strategy %s, want %s", e.Strategy(), tt.want)
			}
			var names []string
			for _, p := range e.CreationPhases() {
				names = append(names, p.Name)
			}
			if want := []string{"ecreate", "eadd_eextend", "einit", "runtime_init", "snapshot"}; !slices.Equal(slices.DeleteFunc(names, func(n string) bool { return n == "sign" }), want) {
				t.Fatalf("creation phases %v, want %v (and sign when new)", names, want)
			}
			inv, err := e.InvokeFunction(context.Background(), counter(t), []byte(`{}`))
			if err != nil || inv.Strategy != tt.want || !bytes.Contains(inv.Output, []byte(`"count":1`)) {
				t.Fatalf("invocation: %v, strategy %s, output %s", err, inv.Strategy, inv.Output)
			}
		})
	}
}

// TestGenericAttestedAllowList: a verifier pins the generic runtime's MRENCLAVE and clean
// state once and lists the functions it accepts by module hash: an invocation of a listed
// function verifies, one of any other function served by the same enclave is refused with
// attest.ErrPolicyModule.
func TestGenericAttestedAllowList(t *testing.T) {
	platform, err := attest.NewSimulatedPlatform()
	if err != nil {
		t.Fatal(err)
	}
	e := createGeneric(t, enclave.Config{Quoter: platform})
	allowed, other := counter(t), module(t, "json-stats")
	policy := &attest.Policy{
		MRENCLAVE:      []attest.Digest{e.MREnclave()},
		MRSIGNER:       []attest.Digest{e.MRSigner()},
		ModuleHash:     []attest.Digest{attest.Digest(sha256.Sum256(allowed.Wasm))},
		CleanStateHash: []attest.Digest{enclave.GenericCleanStateHash()},
		AllowSimulated: true,
	}
	seq := attest.NewSequence()
	tests := []struct {
		fn   enclave.Function
		want error // nil: accepted
	}{
		{allowed, nil},
		{other, attest.ErrPolicyModule},
		{allowed, nil},
		{other, attest.ErrPolicyModule},
	}
	for i, tt := range tests {
		input := []byte(`{"values":[2,1]}`)
		nonce := attest.NewNonce()
		inv, err := e.InvokeFunctionAttested(context.Background(), tt.fn, input, nonce)
		if err != nil {
			t.Fatalf("invocation %d (%s): %v", i, tt.fn.Name, err)
		}
		raw, err := inv.Bundle.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		res, err := attest.Verify(raw, attest.VerifyOptions{Root: platform.Root(), Policy: policy, Nonce: nonce, Input: input, Sequence: seq})
		switch {
		case tt.want == nil && err != nil:
			t.Fatalf("invocation %d (%s): refused: %v", i, tt.fn.Name, err)
		case tt.want == nil && !bytes.Equal(res.Output, inv.Output):
			t.Fatalf("invocation %d: verified output %q, invocation's %q", i, res.Output, inv.Output)
		case tt.want != nil && !errors.Is(err, tt.want):
			t.Fatalf("invocation %d (%s): %v, want %v", i, tt.fn.Name, err, tt.want)
		}
	}
}
