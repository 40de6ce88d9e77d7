package actionproxy_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/reclave/reclave/actionproxy"
	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
)

// genericRun is a /run whose value brings the function's module (FunctionKey) with input, a
// JSON object's keys (without braces; may be empty).
func genericRun(t *testing.T, name string, wasm []byte, input string) func() []byte {
	fn, err := json.Marshal(map[string]any{"name": name, "binary": true, "code": base64.StdEncoding.EncodeToString(wasm)})
	if err != nil {
		t.Fatal(err)
	}
	value := `{"` + actionproxy.FunctionKey + `":` + string(fn)
	if input != "" {
		value += "," + input
	}
	return func() []byte { return runBody(value+"}", time.Now().Add(time.Minute)) }
}

// TestGenericServer: a server of generic enclaves serves the function each /run brings, in
// one enclave rewound to its runtime snapshot after every activation, so that another
// function (or the same again) starts clean; a /run without one runs /init's code, if any.
func TestGenericServer(t *testing.T) {
	platform, err := attest.NewSimulatedPlatform()
	if err != nil {
		t.Fatal(err)
	}
	counter, noop := wasmOf(t, "counter"), wasmOf(t, "noop")
	fixed := func(s string) func() []byte { return func() []byte { return []byte(s) } }
	tests := []struct {
		name  string
		steps []step
	}{
		{"functions per run", []step{
			{"run before init", "/run", genericRun(t, "counter", counter, ""), 500, errorContains("no action defined yet")},
			{"init without code", "/init", fixed(`{"value":{}}`), 200, nil},
			{"init again", "/init", fixed(`{"value":{}}`), 403, errorContains("more than once")},
			{"run without a function", "/run", fixed(`{"value":{"user":"alice"}}`), 400, errorContains("no function")},
			{"counter", "/run", genericRun(t, "counter", counter, `"user":"alice"`), 200, counterOutput(1, "")},
			{"counter again: clean", "/run", genericRun(t, "counter", counter, `"user":"bob"`), 200, counterOutput(1, "")},
			{"another function", "/run", genericRun(t, "noop", noop, ""), 200, nil},
			{"counter after it: clean", "/run", genericRun(t, "counter", counter, `"user":"carol"`), 200, counterOutput(1, "")},
			{"attested", "/run", genericRun(t, "noop", noop, `"`+actionproxy.AttestKey+`":{"nonce":"`+strings.Repeat("ab", 32)+`"}`), 200,
				func(t *testing.T, v map[string]any, raw []byte) {
					if _, ok := v[actionproxy.AttestationKey]; !ok {
						t.Errorf("attested run without %s: %s", actionproxy.AttestationKey, raw)
					}
				}},
			{"function without code", "/run", fixed(`{"value":{"` + actionproxy.FunctionKey + `":{"name":"x"}}}`), 400, errorContains("no code")},
			{"function not a module", "/run", fixed(`{"value":{"` + actionproxy.FunctionKey + `":{"binary":true,"code":"aGk="}}}`), 400, errorContains(actionproxy.FunctionKey)},
		}},
		{"init code as the default", []step{
			{"init with code", "/init", func() []byte { return initBody("counter", "", counter, nil) }, 200, nil},
			{"run without a function", "/run", fixed(`{"value":{"user":"alice"}}`), 200, counterOutput(1, "")},
			{"run another function", "/run", genericRun(t, "noop", noop, ""), 200, nil},
			{"run the default again", "/run", fixed(`{"value":{"user":"bob"}}`), 200, counterOutput(1, "")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &proxy{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
			startProxyWith(t, p, actionproxy.Options{
				Enclave: enclave.Config{MemoryBytes: testMemory, Reset: enclave.ResetRewind, SnapshotPoint: enclave.PointRuntime, Quoter: platform},
				Stdout:  p.stdout, Stderr: p.stderr, Generic: true,
			})
			for _, st := range tt.steps {
				status, v, raw := p.post(t, st.path, st.body())
				if status != st.status {
					t.Fatalf("%s: status %d, want %d: %s", st.name, status, st.status, raw)
				}
				if st.check != nil {
					st.check(t, v, raw)
				}
			}
		})
	}
}
