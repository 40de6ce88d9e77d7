package enclave_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/reclave/reclave/enclave"
)

func module(t *testing.T, name string) enclave.Function {
	t.Helper()
	kind := enclave.KindReactor
	if name == "wc-c" || name == "hello-go-cmd" {
		kind = enclave.KindCommand
	}
	return enclave.Function{Name: name, Wasm: readModule(t, name), Kind: kind}
}

// cache shares compiled code between the tests' enclaves: the Go modules take a second each
// to compile.
var cache = enclave.NewCompilationCache()

func createWith(t *testing.T, cfg enclave.Config, fn enclave.Function) *enclave.Enclave {
	t.Helper()
	if cfg.MemoryBytes == 0 {
		cfg.MemoryBytes = 16 << 20
	}
	cfg.Cache = cache
	e, err := enclave.Create(context.Background(), cfg, fn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

type probeOut struct {
	Found   int    `json:"found"`
	Planted int    `json:"planted"`
	Secret  string `json:"secret"`
}

func invokeProbe(t *testing.T, e *enclave.Enclave) probeOut {
	t.Helper()
	inv, err := e.Invoke(context.Background(), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var out probeOut
	if err := json.Unmarshal(inv.Output, &out); err != nil {
		t.Fatalf("%q: %v", inv.Output, err)
	}
	return out
}

// TestLeakProbe: the probe plants a fresh random secret in static data, the heap and a newly
// grown page on every call, after scanning the whole linear memory for earlier ones. Rewound
// invocations must never find one; warm invocations must (so the probe can fail).
func TestLeakProbe(t *testing.T) {
	fn := module(t, "leak-probe")
	t.Run("warm finds leaks", func(t *testing.T) {
		e := createWith(t, enclave.Config{Reset: enclave.ResetNone}, fn)
		invokeProbe(t, e)
		if out := invokeProbe(t, e); out.Found < 3 {
			t.Fatalf("second warm call found %d secrets, want at least 3 (the probe cannot detect leaks?)", out.Found)
		}
	})
	n := map[enclave.Strategy]int{enclave.StrategyTracked: 10000, enclave.StrategyDiff: 1000, enclave.StrategyFull: 1000, enclave.StrategyCOW: 300, enclave.StrategyAuto: 1000}
	if testing.Short() {
		n = map[enclave.Strategy]int{enclave.StrategyTracked: 500, enclave.StrategyDiff: 100, enclave.StrategyFull: 100, enclave.StrategyCOW: 100, enclave.StrategyAuto: 500}
	}
	for _, s := range enclave.Strategies() {
		for _, point := range []enclave.SnapshotPoint{enclave.PointFunction, enclave.PointRuntime} {
			t.Run(string(s)+"/"+string(point), func(t *testing.T) {
				e := createWith(t, enclave.Config{Reset: enclave.ResetRewind, Strategy: s, SnapshotPoint: point}, fn)
				calls := n[s]
				if calls == 0 {
					t.Fatalf("no call count for strategy %s: add it to n", s) // a new strategy must not pass by running nothing
				}
				if point == enclave.PointRuntime {
					calls = min(calls, 300)
				}
				seen := map[string]bool{}
				for i := 0; i < calls; i++ {
					out := invokeProbe(t, e)
					if out.Found != 0 {
						t.Fatalf("call %d found %d secrets of earlier calls", i, out.Found)
					}
					if out.Planted != 3 || seen[out.Secret] {
						t.Fatalf("call %d: planted %d, secret %q repeated=%v", i, out.Planted, out.Secret, seen[out.Secret])
					}
					seen[out.Secret] = true
				}
			})
		}
	}
}

// TestRandomnessHazard: the Go runtime seeds math/rand from random_get during init. Rewinding
// to a function-point snapshot replays that seed (and reclave warns); the runtime point runs
// the init per invocation and does not. crypto/rand is fresh either way.
func TestRandomnessHazard(t *testing.T) {
	type sessionOut struct{ Session, Nonce string }
	for _, point := range []enclave.SnapshotPoint{enclave.PointFunction, enclave.PointRuntime} {
		t.Run(string(point), func(t *testing.T) {
			e := createWith(t, enclave.Config{Reset: enclave.ResetRewind, SnapshotPoint: point, MemoryBytes: 64 << 20}, module(t, "session-go"))
			if e.InitRandomBytes() == 0 {
				t.Fatal("the Go runtime drew no random bytes during init")
			}
			sessions, nonces := map[string]bool{}, map[string]bool{}
			for i := 0; i < 5; i++ {
				inv, err := e.Invoke(context.Background(), []byte(`{"user":"u"}`))
				if err != nil {
					t.Fatal(err)
				}
				var out sessionOut
				if err := json.Unmarshal(inv.Output, &out); err != nil {
					t.Fatalf("%q: %v", inv.Output, err)
				}
				sessions[out.Session], nonces[out.Nonce] = true, true
			}
			if len(nonces) != 5 {
				t.Fatalf("crypto/rand nonces repeated: %v", nonces)
			}
			warned := len(e.Warnings()) > 0
			switch point {
			case enclave.PointFunction:
				if len(sessions) != 1 || !warned {
					t.Fatalf("function point: %d distinct sessions (want 1: the seed repeats), warned=%v (want true)", len(sessions), warned)
				}
			case enclave.PointRuntime:
				if len(sessions) != 5 || warned {
					t.Fatalf("runtime point: %d distinct sessions (want 5), warned=%v (want false)", len(sessions), warned)
				}
			}
		})
	}
}

// TestModuleKindsInEveryMode runs C and Go reactors and commands under every reset and checks
// that each output equals the first invocation's output on a fresh enclave.
func TestModuleKindsInEveryMode(t *testing.T) {
	inputs := map[string]string{
		"hello-go":     `{"name":"x","items":["b","a"]}`,
		"hello-go-cmd": `{"name":"x","items":["b","a"]}`,
		"wc-c":         `"one two two"`,
		"json-stats":   `{"values":[1,2,3]}`,
	}
	cfgs := map[string]enclave.Config{
		"warm":           {Reset: enclave.ResetNone},
		"reinstantiate":  {Reset: enclave.ResetReinstantiate},
		"rewind":         {Reset: enclave.ResetRewind},
		"rewind/runtime": {Reset: enclave.ResetRewind, SnapshotPoint: enclave.PointRuntime},
		"rewind/diff":    {Reset: enclave.ResetRewind, Strategy: enclave.StrategyDiff},
	}
	for name, in := range inputs {
		for mode, cfg := range cfgs {
			t.Run(name+"/"+mode, func(t *testing.T) {
				cfg.MemoryBytes = 64 << 20
				e := createWith(t, cfg, module(t, name))
				var first string
				for i := 0; i < 3; i++ {
					inv, err := e.Invoke(context.Background(), []byte(in))
					if err != nil {
						t.Fatalf("call %d: %v", i, err)
					}
					if i == 0 {
						first = string(inv.Output)
					} else if string(inv.Output) != first {
						t.Fatalf("call %d output %s differs from the first %s", i, inv.Output, first)
					}
					if mode != "warm" && cfg.Reset == enclave.ResetRewind && inv.Reset != enclave.ResetRewind {
						t.Fatalf("call %d was reset by %s, want a rewind (an exit must not close the instance)", i, inv.Reset)
					}
				}
				if first == "" || first[0] != '{' {
					t.Fatalf("output %q", first)
				}
			})
		}
	}
}
