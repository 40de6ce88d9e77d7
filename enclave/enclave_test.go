package enclave_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
)

// Small enclaves keep the tests fast; the size does not change the behaviour under test.
const testMemory = 4 << 20

func readModule(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../workloads/" + name + "/" + name + ".wasm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func counter(t *testing.T) enclave.Function {
	return enclave.Function{Name: "counter", Wasm: readModule(t, "counter"), Deadline: 2 * time.Second}
}

func create(t *testing.T, reset enclave.Reset, strategy enclave.Strategy, fn enclave.Function) *enclave.Enclave {
	t.Helper()
	e, err := enclave.Create(context.Background(), enclave.Config{MemoryBytes: testMemory, Reset: reset, Strategy: strategy}, fn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

type counterOut struct {
	Count         int    `json:"count"`
	PreviousInput string `json:"previous_input"`
	Pages         int    `json:"pages"`
}

func invokeCounter(t *testing.T, e *enclave.Enclave, input string) (counterOut, *enclave.Invocation) {
	t.Helper()
	inv, err := e.Invoke(context.Background(), []byte(input))
	if err != nil {
		t.Fatalf("invoke %s: %v", input, err)
	}
	var out counterOut
	if err := json.Unmarshal(inv.Output, &out); err != nil {
		t.Fatalf("output %q: %v", inv.Output, err)
	}
	return out, inv
}

func TestCounterByReset(t *testing.T) {
	tests := []struct {
		reset    enclave.Reset
		strategy enclave.Strategy
		want     []int // counts returned by three calls
		wantPrev bool  // the previous caller's input leaks into the output
	}{
		{enclave.ResetNone, "", []int{1, 2, 3}, true},
		{enclave.ResetRewind, enclave.StrategyDiff, []int{1, 1, 1}, false},
		{enclave.ResetRewind, enclave.StrategyFull, []int{1, 1, 1}, false},
		{enclave.ResetReinstantiate, "", []int{1, 1, 1}, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.reset)+"/"+string(tt.strategy), func(t *testing.T) {
			e := create(t, tt.reset, tt.strategy, counter(t))
			for i, want := range tt.want {
				out, inv := invokeCounter(t, e, `{"user":"u`+string(rune('0'+i))+`"}`)
				if out.Count != want {
					t.Errorf("call %d: count %d, want %d", i, out.Count, want)
				}
				if leaked := out.PreviousInput != ""; i > 0 && leaked != tt.wantPrev {
					t.Errorf("call %d: previous_input %q, want leak=%v", i, out.PreviousInput, tt.wantPrev)
				}
				if inv.Reset != tt.reset {
					t.Errorf("call %d: reset %q, want %q", i, inv.Reset, tt.reset)
				}
				if tt.reset == enclave.ResetRewind && inv.PagesRestored == 0 {
					t.Errorf("call %d: rewind restored no page, but the call wrote memory", i)
				}
			}
		})
	}
}

func TestTrapDoesNotAffectNextRewoundCall(t *testing.T) {
	e := create(t, enclave.ResetRewind, enclave.StrategyDiff, counter(t))
	inv, err := e.Invoke(context.Background(), []byte(`{"user":"mallory","trap":true}`))
	if kind := enclave.KindOf(err); kind != enclave.KindTrap {
		t.Fatalf("trap call: error %v (kind %q), want a trap", err, kind)
	}
	if inv == nil || inv.Reset != enclave.ResetRewind {
		t.Fatalf("trap call: invocation %+v, want it rewound", inv)
	}
	for i := 0; i < 3; i++ {
		out, _ := invokeCounter(t, e, `{"user":"alice"}`)
		if out.Count != 1 || out.PreviousInput != "" {
			t.Fatalf("call %d after the trap: %+v, want count 1 and no previous input", i, out)
		}
	}
}

func TestTrapInWarmModeRecycles(t *testing.T) {
	e := create(t, enclave.ResetNone, "", counter(t))
	invokeCounter(t, e, `{"user":"alice"}`)
	inv, err := e.Invoke(context.Background(), []byte(`{"trap":true}`))
	if enclave.KindOf(err) != enclave.KindTrap || inv.Reset != enclave.ResetRecycle {
		t.Fatalf("trap in warm mode: err %v, reset %q; want a trap and a recycle", err, inv.Reset)
	}
	out, _ := invokeCounter(t, e, `{}`)
	if out.Count != 1 {
		t.Fatalf("after the recycle count is %d, want 1 (a fresh instance)", out.Count)
	}
}

// TestDeadlineAndEnclaveStaysUsable: an endless loop is stopped at its deadline; a rewinding
// enclave rewinds it (the interrupt does not close the instance), a warm one, whose state is
// then unknown, re-creates the instance.
func TestDeadlineAndEnclaveStaysUsable(t *testing.T) {
	fn := counter(t)
	fn.Deadline = 100 * time.Millisecond
	for reset, want := range map[enclave.Reset]enclave.Reset{enclave.ResetRewind: enclave.ResetRewind, enclave.ResetNone: enclave.ResetRecycle, enclave.ResetReinstantiate: enclave.ResetReinstantiate} {
		t.Run(string(reset), func(t *testing.T) {
			e := create(t, reset, "", fn)
			inv, err := e.Invoke(context.Background(), []byte(`{"loop":true}`))
			if enclave.KindOf(err) != enclave.KindDeadline {
				t.Fatalf("endless loop: error %v, want a deadline", err)
			}
			if inv.Reset != want {
				t.Fatalf("endless loop: reset %q, want %q", inv.Reset, want)
			}
			out, _ := invokeCounter(t, e, `{"user":"bob"}`)
			if out.Count != 1 || out.PreviousInput != "" {
				t.Fatalf("after the deadline: %+v, want a clean instance", out)
			}
		})
	}
}

func TestRewindRestoresMemorySize(t *testing.T) {
	e := create(t, enclave.ResetRewind, enclave.StrategyDiff, counter(t))
	_, first := invokeCounter(t, e, `{}`)
	grown, inv := invokeCounter(t, e, `{"grow":5}`)
	if grown.Pages != int(first.MemoryPages)+5 {
		t.Fatalf("grow by 5 from %d pages: %d pages", first.MemoryPages, grown.Pages)
	}
	if inv.Reset != enclave.ResetRewind {
		t.Fatalf("after memory.grow the reset was %q, want a rewind that shrinks memory in place", inv.Reset)
	}
	again, inv := invokeCounter(t, e, `{"grow":0}`)
	if again.Count != 1 || again.Pages == grown.Pages {
		t.Fatalf("after rewinding a grown memory: %+v (grown had %d pages), want count 1 and the snapshot's size", again, grown.Pages)
	}
	if inv.MemoryPages != uint32(again.Pages) {
		t.Fatalf("invocation reports %d pages, the guest saw %d", inv.MemoryPages, again.Pages)
	}
}

func TestOutputLimit(t *testing.T) {
	fn := counter(t)
	fn.MaxOutputBytes = 10
	e := create(t, enclave.ResetRewind, "", fn)
	_, err := e.Invoke(context.Background(), []byte(`{"user":"alice"}`))
	if enclave.KindOf(err) != enclave.KindOutputLimit {
		t.Fatalf("error %v, want output_limit", err)
	}
}

func TestCreateErrors(t *testing.T) {
	good := readModule(t, "counter")
	tests := []struct {
		name string
		cfg  enclave.Config
		fn   enclave.Function
		want string
	}{
		{"malformed wasm", enclave.Config{MemoryBytes: testMemory}, enclave.Function{Name: "x", Wasm: []byte("\x00asm\x01\x00\x00\x00\x01\x05")}, "malformed"},
		{"not wasm", enclave.Config{MemoryBytes: testMemory}, enclave.Function{Name: "x", Wasm: []byte("hello")}, "magic"},
		{"empty", enclave.Config{MemoryBytes: testMemory}, enclave.Function{Name: "x"}, "empty module"},
		{"command without _start", enclave.Config{MemoryBytes: testMemory}, enclave.Function{Name: "x", Wasm: good, Kind: enclave.KindCommand}, "_start"},
		{"memory not page aligned", enclave.Config{MemoryBytes: testMemory + 1}, enclave.Function{Name: "x", Wasm: good}, "memory_bytes"},
		{"memory cap below the module's minimum", enclave.Config{MemoryBytes: testMemory}, enclave.Function{Name: "x", Wasm: good, MemoryPages: 1}, "pages of linear memory"},
		{"bad reset", enclave.Config{MemoryBytes: testMemory, Reset: "sometimes"}, enclave.Function{Name: "x", Wasm: good}, "reset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := enclave.Create(context.Background(), tt.cfg, tt.fn)
			if err == nil {
				e.Close(context.Background())
				t.Fatal("created; want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestCreationPhasesAndMeasurement(t *testing.T) {
	signer := enclave.TestSigner()
	platform, err := attest.NewSimulatedPlatform()
	if err != nil {
		t.Fatal(err)
	}
	newEnclave := func(fn enclave.Function) *enclave.Enclave {
		e, err := enclave.Create(context.Background(), enclave.Config{MemoryBytes: testMemory, Reset: enclave.ResetRewind, Signer: signer, Quoter: platform}, fn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close(context.Background()) })
		return e
	}
	phases := func(e *enclave.Enclave) string {
		var names []string
		for _, p := range e.CreationPhases() {
			names = append(names, p.Name)
		}
		return strings.Join(names, " ")
	}
	// The first enclave of a measurement is signed (the author's build step, recorded); the
	// next one reuses the SIGSTRUCT.
	e := newEnclave(counter(t))
	if got, want := phases(e), "ecreate eadd_eextend sign einit runtime_init compile instantiate fn_init snapshot quote"; got != want {
		t.Fatalf("phases %q, want %q", got, want)
	}
	f := newEnclave(counter(t))
	if got, want := phases(f), "ecreate eadd_eextend einit runtime_init compile instantiate fn_init snapshot quote"; got != want {
		t.Fatalf("phases %q, want %q", got, want)
	}
	if e.MREnclave() != f.MREnclave() {
		t.Fatal("two enclaves of the same module and size have different MRENCLAVEs")
	}
	if e.MRSigner() != signer.MRSigner() {
		t.Fatal("MRSIGNER is not the signer's")
	}
	g := newEnclave(enclave.Function{Name: "json-stats", Wasm: readModule(t, "json-stats")})
	if e.MREnclave() == g.MREnclave() {
		t.Fatal("enclaves of different modules have the same MRENCLAVE")
	}
	// The outer evidence verifies against the platform's root and binds the measurement.
	report, simulated, err := attest.VerifyEvidence(e.Evidence(), platform.Root(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !simulated || report.MRENCLAVE != e.MREnclave() || report.MRSIGNER != e.MRSigner() {
		t.Fatalf("report %+v (simulated %v) does not bind the enclave", report, simulated)
	}
}

func TestOneShot(t *testing.T) {
	e, err := enclave.Create(context.Background(), enclave.Config{MemoryBytes: testMemory, Reset: enclave.ResetNone, OneShot: true}, counter(t))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	if _, err := e.Invoke(context.Background(), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Invoke(context.Background(), []byte(`{}`)); !errors.Is(err, enclave.ErrUnusable) {
		t.Fatalf("second call on a one-shot enclave: %v, want ErrUnusable", err)
	}
}

// TestCancelStopsInvocation: cancelling the caller's context stops a running invocation with
// KindCanceled, and the enclave serves the next one cleanly.
func TestCancelStopsInvocation(t *testing.T) {
	e := create(t, enclave.ResetRewind, "", counter(t))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	inv, err := e.Invoke(ctx, []byte(`{"loop":true}`))
	if enclave.KindOf(err) != enclave.KindCanceled {
		t.Fatalf("error %v (kind %q), want canceled", err, enclave.KindOf(err))
	}
	if inv.Reset != enclave.ResetRewind {
		t.Fatalf("reset %q, want rewind", inv.Reset)
	}
	if out, _ := invokeCounter(t, e, `{}`); out.Count != 1 {
		t.Fatalf("after the cancelled call: %+v", out)
	}
}

// TestImportAllowList: a module importing a host function its allow-list does not grant is
// refused at load with an error naming the import; granting it lets the module load.
func TestImportAllowList(t *testing.T) {
	wasm, err := os.ReadFile("testdata/opens_file.wasm")
	if err != nil {
		t.Fatal(err)
	}
	fn := enclave.Function{Name: "opens-file", Wasm: wasm}
	_, err = enclave.Create(context.Background(), enclave.Config{MemoryBytes: testMemory}, fn)
	if err == nil || !strings.Contains(err.Error(), "wasi_snapshot_preview1.path_open") {
		t.Fatalf("error %v, want a refusal naming wasi_snapshot_preview1.path_open", err)
	}
	fn.Imports = append(slices.Clone(enclave.DefaultImports), "wasi_snapshot_preview1.path_open")
	e, err := enclave.Create(context.Background(), enclave.Config{MemoryBytes: testMemory}, fn)
	if err != nil {
		t.Fatalf("with path_open granted: %v", err)
	}
	defer e.Close(context.Background())
	if _, err := e.Invoke(context.Background(), nil); enclave.KindOf(err) != enclave.KindFunction {
		t.Fatalf("path_open without preopens: %v, want a non-zero status (the host has no file system)", err)
	}
}
