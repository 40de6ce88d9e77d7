package enclave_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/reclave/reclave/enclave"
)

// resetCase is one way an enclave is reused: every mode that resets, every strategy and
// snapshot point, compartments on and off.
type resetCase struct {
	name string
	cfg  enclave.Config
}

// resetCases returns every configuration of a reused enclave that promises a clean state.
func resetCases() []resetCase {
	var out []resetCase
	for _, comp := range []enclave.Compartments{enclave.CompartmentsOn, enclave.CompartmentsOff} {
		out = append(out, resetCase{fmt.Sprintf("reinstantiate/comp=%s", comp),
			enclave.Config{MemoryBytes: testMemory, Reset: enclave.ResetReinstantiate, Compartments: comp}})
		for _, s := range enclave.Strategies() {
			for _, p := range []enclave.SnapshotPoint{enclave.PointFunction, enclave.PointRuntime} {
				out = append(out, resetCase{fmt.Sprintf("rewind/%s/%s/comp=%s", s, p, comp),
					enclave.Config{MemoryBytes: testMemory, Reset: enclave.ResetRewind, Strategy: s, SnapshotPoint: p, Compartments: comp}})
			}
		}
	}
	return out
}

func hostileFn(t testing.TB, name string, deadline time.Duration) enclave.Function {
	t.Helper()
	wasm, err := os.ReadFile("testdata/" + name + ".wasm")
	if err != nil {
		t.Fatal(err)
	}
	return enclave.Function{Name: name, Wasm: wasm, Deadline: deadline}
}

// freshOutput is what a fresh enclave answers to input: the oracle.
func freshOutput(t *testing.T, fn enclave.Function, input string) (string, enclave.ErrorKind) {
	t.Helper()
	ctx := context.Background()
	e, err := enclave.Create(ctx, enclave.Config{MemoryBytes: testMemory, Reset: enclave.ResetNone, OneShot: true}, fn)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	inv, err := e.Invoke(ctx, []byte(input))
	if inv == nil {
		t.Fatalf("fresh enclave, input %q: %v", input, err)
	}
	return string(inv.Output), enclave.KindOf(err)
}

// TestRecycleDoesNotLeak is the red team's first finding: an invocation that forces the
// instance to be re-created (table.set, or memory.grow plus table.set, a trap, an exit) left
// its memory in the heap the new instance was created on, and the start function carried the
// marker it found there into a table's size, which the next caller saw. Every reused enclave
// must answer every input as a fresh enclave does. hostile's start function changes a table
// (table.grow), which a rebuild from a function-point snapshot cannot reproduce without
// running it again: such an enclave retires itself (ErrUnusable) at its first recycle, and a
// new one serves the rest, as the harness and reclave serve do.
func TestRecycleDoesNotLeak(t *testing.T) {
	fn := hostileFn(t, "hostile", 5*time.Second)
	sequences := [][]string{
		{"TA", "o"},       // table.set: recycle
		{"GB", "o"},       // grown memory and table.set
		{"UC", "o"},       // trap after writing the marker
		{"XD", "o"},       // proc_exit after writing the marker
		{"TA", "TB", "o"}, // two recycles in a row
		{"oE", "o"},       // a plain rewind
	}
	fresh := map[string]string{}
	for _, seq := range sequences {
		for _, in := range seq {
			if _, ok := fresh[in]; !ok {
				fresh[in], _ = freshOutput(t, fn, in)
			}
		}
	}
	ctx := context.Background()
	for _, rc := range resetCases() {
		t.Run(rc.name, func(t *testing.T) {
			retired := 0
			for _, seq := range sequences {
				e, err := enclave.Create(ctx, rc.cfg, fn)
				if err != nil {
					t.Fatal(err)
				}
				for i, in := range seq {
					inv, err := e.Invoke(ctx, []byte(in))
					if inv == nil {
						t.Fatalf("sequence %q, invocation %d: %v", seq, i, err)
					}
					if got := string(inv.Output); got != fresh[in] {
						t.Fatalf("sequence %q, invocation %d (reset %s): output %x, a fresh enclave's %x", seq, i, inv.Reset, got, fresh[in])
					}
					if inv.Reset == enclave.ResetRetire {
						retired++
						e.Close(ctx)
						if e, err = enclave.Create(ctx, rc.cfg, fn); err != nil {
							t.Fatal(err)
						}
					}
				}
				e.Close(ctx)
			}
			if want := rc.cfg.Reset == enclave.ResetRewind && rc.cfg.SnapshotPoint == enclave.PointFunction; (retired > 0) != want {
				t.Errorf("%d enclaves retired; want some only for a function-point rewind", retired)
			}
		})
	}
}

// deadlineCases are the reused configurations the deadline tests run: every way of
// resetting (a stopped invocation's reset is what differs), with the strategies and
// compartments spread over them rather than multiplied (the isolation tests take the full
// product).
func deadlineCases() []resetCase {
	c := func(name string, reset enclave.Reset, s enclave.Strategy, p enclave.SnapshotPoint, comp enclave.Compartments) resetCase {
		return resetCase{name, enclave.Config{MemoryBytes: testMemory, Reset: reset, Strategy: s, SnapshotPoint: p, Compartments: comp}}
	}
	return []resetCase{
		c("reinstantiate", enclave.ResetReinstantiate, "", "", enclave.CompartmentsOn),
		c("rewind/tracked/function", enclave.ResetRewind, enclave.StrategyTracked, enclave.PointFunction, enclave.CompartmentsOn),
		c("rewind/diff/function/comp=off", enclave.ResetRewind, enclave.StrategyDiff, enclave.PointFunction, enclave.CompartmentsOff),
		c("rewind/cow/function", enclave.ResetRewind, enclave.StrategyCOW, enclave.PointFunction, enclave.CompartmentsOn),
		c("rewind/full/runtime", enclave.ResetRewind, enclave.StrategyFull, enclave.PointRuntime, enclave.CompartmentsOn),
		c("rewind/tracked/runtime/comp=off", enclave.ResetRewind, enclave.StrategyTracked, enclave.PointRuntime, enclave.CompartmentsOff),
	}
}

// deadlineBound is how long a stopped invocation may take: generous, since the machines are
// shared; what matters is that it ends, not how fast.
func deadlineBound(d time.Duration) time.Duration { return 5*d + 2*time.Second }

// TestDeadlineEndsEveryPath: an infinite loop, a loop of memory.fill over the whole memory
// (charged by size now), a loop of calls that fill, and a host call that blocks for an hour
// all end at the deadline in every mode, with kind deadline, and the next invocation answers as
// a fresh enclave does.
func TestDeadlineEndsEveryPath(t *testing.T) {
	const deadline = 150 * time.Millisecond
	fn := hostileFn(t, "hostile", deadline)
	want, _ := freshOutput(t, fn, "o")
	cases := append(deadlineCases(), resetCase{"warm", enclave.Config{MemoryBytes: testMemory, Reset: enclave.ResetNone}},
		resetCase{"cold", enclave.Config{MemoryBytes: testMemory, Reset: enclave.ResetNone, OneShot: true}})
	ctx := context.Background()
	for _, rc := range cases {
		t.Run(rc.name, func(t *testing.T) {
			for _, op := range []string{"LZ", "FZ", "CZ", "SZ"} {
				e, err := enclave.Create(ctx, rc.cfg, fn)
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				_, err = e.Invoke(ctx, []byte(op))
				took := time.Since(start)
				if enclave.KindOf(err) != enclave.KindDeadline || errors.Is(err, enclave.ErrUnusable) {
					t.Fatalf("op %c: err %v (kind %q), want a deadline with a usable enclave", op[0], err, enclave.KindOf(err))
				}
				if took > deadlineBound(deadline) {
					t.Errorf("op %c: stopped after %v, deadline %v", op[0], took, deadline)
				}
				if rc.cfg.OneShot {
					e.Close(ctx)
					continue
				}
				inv, err := e.Invoke(ctx, []byte("o"))
				if err != nil {
					t.Fatalf("op %c: the next invocation: %v", op[0], err)
				}
				if rc.cfg.Reset != enclave.ResetNone && string(inv.Output) != want {
					t.Fatalf("op %c: the next invocation answers %x, a fresh enclave %x", op[0], inv.Output, want)
				}
				e.Close(ctx)
			}
		})
	}
}

// TestStartFunctionDeadline: a start function or an _initialize that never returns is guest
// code like any other; creating the enclave fails at the deadline, in every mode.
func TestStartFunctionDeadline(t *testing.T) {
	const deadline = 150 * time.Millisecond
	cases := append(deadlineCases(), resetCase{"warm", enclave.Config{MemoryBytes: testMemory, Reset: enclave.ResetNone}})
	for _, module := range []string{"start_loop", "init_loop"} {
		fn := hostileFn(t, module, deadline)
		for _, rc := range cases {
			t.Run(module+"/"+rc.name, func(t *testing.T) {
				start := time.Now()
				e, err := enclave.Create(context.Background(), rc.cfg, fn)
				if err == nil {
					e.Close(context.Background())
					t.Fatal("created an enclave whose start function never returns")
				}
				if enclave.KindOf(err) != enclave.KindDeadline {
					t.Fatalf("err %v (kind %q), want a deadline", err, enclave.KindOf(err))
				}
				if took := time.Since(start); took > deadlineBound(deadline) {
					t.Errorf("stopped after %v, deadline %v", took, deadline)
				}
			})
		}
	}
}

// TestRecreateUnderDeadline: the instance a reset re-creates runs its start function under
// the deadline too. start_coin's start function loops forever at about half of its
// instantiations: the enclave is created when it does not, and the invocation whose reset hits
// a looping start ends within the bound, succeeds itself, retires the enclave (reset retire,
// Unusable names the deadline), and every later invocation is refused at once.
func TestRecreateUnderDeadline(t *testing.T) {
	const deadline = 150 * time.Millisecond
	fn := hostileFn(t, "start_coin", deadline)
	ctx := context.Background()
	for _, rc := range deadlineCases() {
		t.Run(rc.name, func(t *testing.T) {
			var e *enclave.Enclave
			for try := 0; e == nil; try++ {
				var err error
				if e, err = enclave.Create(ctx, rc.cfg, fn); err != nil && (enclave.KindOf(err) != enclave.KindDeadline || try == 40) {
					t.Fatalf("create: %v", err)
				}
			}
			defer e.Close(ctx)
			// P(no looping start in 60 re-creations) = 2^-60; at the runtime point (or when
			// reinstantiating) every invocation re-creates, at the function point 'T' does.
			for i := 0; ; i++ {
				if i == 60 {
					t.Fatal("60 re-creations without a looping start function")
				}
				start := time.Now()
				inv, err := e.Invoke(ctx, []byte("T"))
				if took := time.Since(start); took > deadlineBound(deadline) {
					t.Fatalf("invocation %d took %v, deadline %v", i, took, deadline)
				}
				if err != nil || inv == nil {
					t.Fatalf("invocation %d: %v", i, err)
				}
				if inv.Reset != enclave.ResetRetire {
					continue
				}
				// The invocation itself succeeded; its reset could not finish in time.
				if u := e.Unusable(); u == nil || enclave.KindOf(u) != enclave.KindDeadline {
					t.Fatalf("invocation %d retired the enclave: %v, want a deadline", i, u)
				}
				break
			}
			if _, err := e.Invoke(ctx, []byte("o")); !errors.Is(err, enclave.ErrUnusable) {
				t.Fatalf("an unusable enclave served again: %v", err)
			}
		})
	}
}

// TestCanceledResetRebuildsLater: when the caller's context ends while a reset runs guest
// code (start_coin's looping start function, at the runtime point), the enclave is not
// retired: it is left clean and without an instance, and the next invocation re-creates it
// first (its phases start with instantiate).
func TestCanceledResetRebuildsLater(t *testing.T) {
	// The function's deadline is longer than the caller's contexts below, so that the caller,
	// not the function's deadline, stops a looping start.
	fn := hostileFn(t, "start_coin", 5*time.Second)
	cfg := enclave.Config{MemoryBytes: testMemory, Reset: enclave.ResetRewind, SnapshotPoint: enclave.PointRuntime}
	var e *enclave.Enclave
	for try := 0; e == nil; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		var err error
		e, err = enclave.Create(ctx, cfg, fn)
		cancel()
		if err != nil && try == 40 {
			t.Fatal(err)
		}
	}
	defer e.Close(context.Background())
	phases := func(inv *enclave.Invocation) string {
		var names []string
		for _, p := range inv.Phases {
			names = append(names, p.Name)
		}
		return strings.Join(names, ",")
	}
	interrupted := 0
	for i := 0; i < 60 && interrupted == 0; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		inv, err := e.Invoke(ctx, []byte("o"))
		cancel()
		if err != nil {
			// The caller's deadline hit a start function that looped in a lazy re-creation.
			if errors.Is(err, enclave.ErrUnusable) || inv != nil {
				t.Fatalf("invocation %d: %v, want a usable enclave", i, err)
			}
			continue
		}
		p := phases(inv)
		if strings.HasPrefix(p, "instantiate,fn_init,invoke,") {
			interrupted++ // re-created lazily after an interrupted reset
		}
		if !strings.HasSuffix(p, "rewind,instantiate,fn_init") && !strings.HasSuffix(p, ",rewind") {
			t.Fatalf("invocation %d: phases %s", i, p)
		}
		if strings.HasSuffix(p, ",rewind") { // the reset's start looped and was cut off
			continue
		}
	}
	if interrupted == 0 {
		t.Fatal("no interrupted reset was rebuilt by the next invocation in 60 invocations")
	}
}
