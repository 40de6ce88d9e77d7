package enclave_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
)

// TestInvocationTimes checks the bookkeeping of an invocation's times, which every record
// and figure is made of, across the ways an invocation can run: its phases follow one
// another from the start (one clock reading ends a phase and starts the next), the
// function's execution lies inside the invoke phase, the response inside the total, and the
// start is a reading of the wall clock.
func TestInvocationTimes(t *testing.T) {
	platform, err := attest.NewSimulatedPlatform()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cases := []struct {
		name   string
		cfg    enclave.Config
		attest bool
		phases []string
	}{
		{"warm", enclave.Config{Reset: enclave.ResetNone}, false, []string{"invoke"}},
		{"rewind tracked", enclave.Config{Reset: enclave.ResetRewind, Strategy: enclave.StrategyTracked}, false, []string{"invoke", "rewind"}},
		{"rewind diff", enclave.Config{Reset: enclave.ResetRewind, Strategy: enclave.StrategyDiff}, false, []string{"invoke", "rewind"}},
		{"rewind at the runtime point", enclave.Config{Reset: enclave.ResetRewind, SnapshotPoint: enclave.PointRuntime}, false,
			[]string{"invoke", "rewind", "instantiate", "fn_init"}},
		{"reinstantiate", enclave.Config{Reset: enclave.ResetReinstantiate}, false, []string{"invoke", "reinstantiate"}},
		{"rewind attested", enclave.Config{Reset: enclave.ResetRewind, Signer: enclave.TestSigner(), Quoter: platform}, true,
			[]string{"invoke", "attest", "rewind"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.MemoryBytes = testMemory
			e, err := enclave.Create(ctx, c.cfg, counter(t))
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close(ctx)
			for i := range 3 {
				before := time.Now()
				var inv *enclave.Invocation
				if c.attest {
					inv, err = e.InvokeAttested(ctx, []byte(`{"user":"u"}`), [32]byte{byte(i)})
				} else {
					inv, err = e.Invoke(ctx, []byte(`{"user":"u"}`))
				}
				after := time.Now()
				if err != nil {
					t.Fatal(err)
				}
				checkTimes(t, inv, before, after, c.phases)
			}
		})
	}
	t.Run("generic", func(t *testing.T) {
		e := createGeneric(t, enclave.Config{})
		fn := counter(t)
		for range 2 {
			before := time.Now()
			inv, err := e.InvokeFunction(ctx, fn, []byte(`{"user":"u"}`))
			after := time.Now()
			if err != nil {
				t.Fatal(err)
			}
			checkTimes(t, inv, before, after, []string{"load", "instantiate", "fn_init", "invoke", "rewind"})
		}
	})
}

// checkTimes checks inv's times (see TestInvocationTimes); before and after are wall-clock
// readings around the call.
func checkTimes(t *testing.T, inv *enclave.Invocation, before, after time.Time, phases []string) {
	t.Helper()
	var names []string
	var sum time.Duration
	for _, p := range inv.Phases {
		names = append(names, p.Name)
		if p.Duration < 0 {
			t.Errorf("phase %s: %v", p.Name, p.Duration)
		}
		sum += p.Duration
	}
	if !slices.Equal(names, phases) {
		t.Fatalf("phases %v, want %v", names, phases)
	}
	var invoke, toInvoke time.Duration // the invoke phase, and what ends with it
	for _, p := range inv.Phases {
		toInvoke += p.Duration
		if p.Name == "invoke" {
			invoke = p.Duration
			break
		}
	}
	if inv.Start.Before(before) || inv.Start.After(after) {
		t.Errorf("start %v, not between %v and %v", inv.Start, before, after)
	}
	if inv.Exec <= 0 || inv.Exec > invoke {
		t.Errorf("exec %v, not in (0, invoke phase %v]", inv.Exec, invoke)
	}
	if inv.Response < toInvoke || inv.Response > inv.Total {
		t.Errorf("response %v, not in [phases to invoke %v, total %v]", inv.Response, toInvoke, inv.Total)
	}
	if sum > inv.Total || inv.Total > after.Sub(before) {
		t.Errorf("total %v, not in [sum of phases %v, %v the caller measured]", inv.Total, sum, after.Sub(before))
	}
}
