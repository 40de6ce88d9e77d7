package actionproxy_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reclave/reclave/actionproxy"
	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/workloads"
)

// testMemory keeps the enclaves of these tests small, so that cold starts are quick.
const testMemory = 8 << 20

// syncBuffer is a bytes.Buffer safe for the server's goroutines and the test's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// wasmOf returns the module of a built-in workload.
func wasmOf(t testing.TB, name string) []byte {
	t.Helper()
	all, err := workloads.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range all {
		if w.Name == name {
			wasm, err := w.Wasm()
			if err != nil {
				t.Fatal(err)
			}
			return wasm
		}
	}
	t.Fatalf("no workload %s", name)
	return nil
}

// proxy is a Server serving real HTTP on a loopback port.
type proxy struct {
	url            string
	stdout, stderr *syncBuffer
	runs           int // /run requests sent
}

// startProxy serves a new Server in mode on 127.0.0.1:0 until the test ends, and checks
// that it then shuts down cleanly.
func startProxy(t testing.TB, mode string, quoter attest.Quoter) *proxy {
	t.Helper()
	reset, oneShot, err := actionproxy.ResetFor(mode)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	startProxyWith(t, p, actionproxy.Options{
		Enclave: enclave.Config{MemoryBytes: testMemory, Reset: reset, OneShot: oneShot, Quoter: quoter},
		Stdout:  p.stdout, Stderr: p.stderr,
	})
	return p
}

// startProxyWith serves a new Server with opts as p.
func startProxyWith(t testing.TB, p *proxy, opts actionproxy.Options) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.url = "http://" + l.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- actionproxy.New(opts).Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve after cancel: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Serve did not return after its context was cancelled")
		}
	})
}

// post sends body to path and returns the status and the decoded JSON body.
func (p *proxy) post(t testing.TB, path string, body []byte) (int, map[string]any, []byte) {
	t.Helper()
	if path == "/run" {
		p.runs++
	}
	resp, err := http.Post(p.url+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("POST %s: Content-Type %q", path, ct)
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("POST %s: status %d, body %q is not a JSON object: %v", path, resp.StatusCode, raw, err)
	}
	return resp.StatusCode, v, raw
}

// initBody is an /init request for a module given as code.
func initBody(name, main string, code []byte, env map[string]string) []byte {
	v := map[string]any{"name": name, "main": main, "binary": true, "code": base64.StdEncoding.EncodeToString(code)}
	if env != nil {
		v["env"] = env
	}
	b, _ := json.Marshal(map[string]any{"value": v})
	return b
}

// runBody is a /run request with value and the activation context OpenWhisk sends.
func runBody(value string, deadline time.Time) []byte {
	return fmt.Appendf(nil, `{"value":%s,"namespace":"guest","action_name":"/guest/fn","activation_id":"0123456789abcdef","api_key":"u:k","deadline":%d}`,
		value, deadline.UnixMilli())
}

// zipOf returns a zip archive holding files.
func zipOf(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, data := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// step is one request of a protocol scenario and what must come back.
type step struct {
	name   string
	path   string
	body   func() []byte
	status int
	check  func(t *testing.T, v map[string]any, raw []byte)
}

func errorContains(s string) func(*testing.T, map[string]any, []byte) {
	return func(t *testing.T, v map[string]any, raw []byte) {
		t.Helper()
		msg, ok := v["error"].(string)
		if !ok || len(v) != 1 || !strings.Contains(msg, s) {
			t.Errorf("body %s: want exactly {\"error\": \"...%s...\"}", raw, s)
		}
	}
}

func counterOutput(count float64, previous string) func(*testing.T, map[string]any, []byte) {
	return func(t *testing.T, v map[string]any, raw []byte) {
		t.Helper()
		if v["count"] != count || v["previous_input"] != previous {
			t.Errorf("body %s: want count %v, previous_input %q", raw, count, previous)
		}
	}
}

func fixed(b string) func() []byte { return func() []byte { return []byte(b) } }

// withKey inserts keys (ending with a comma) at the start of body's top-level object.
func withKey(body []byte, keys string) []byte {
	return append([]byte("{"+keys), body[1:]...)
}

// TestProtocol drives reclave's action proxy over real HTTP on loopback through every status
// path of the protocol, and checks the activation log sentinels.
func TestProtocol(t *testing.T) {
	counter, jsonStats := wasmOf(t, "counter"), wasmOf(t, "json-stats")
	later := func() time.Time { return time.Now().Add(time.Minute) }
	run := func(value string) func() []byte { return func() []byte { return runBody(value, later()) } }
	initCounter := step{"init", "/init", func() []byte { return initBody("counter", "", counter, nil) }, 200,
		func(t *testing.T, v map[string]any, raw []byte) {
			if v["ok"] != true {
				t.Errorf("init: %s, want {\"ok\":true}", raw)
			}
		}}
	ok := func(t *testing.T, v map[string]any, raw []byte) {
		if v["ok"] != true {
			t.Errorf("init: %s, want {\"ok\":true}", raw)
		}
	}
	scenarios := []struct {
		name  string
		mode  string
		steps []step
	}{
		{"rewind", "rewind", []step{
			{"run before init", "/run", run(`{"user":"alice"}`), 500, errorContains("no action defined yet")},
			{"init malformed JSON", "/init", fixed(`{"value":`), 400, errorContains("unmarshal")},
			{"init without code", "/init", fixed(`{"value":{"name":"x","binary":true}}`), 403, errorContains("no code")},
			{"init code not base64", "/init", fixed(`{"value":{"name":"x","binary":true,"code":"%%%"}}`), 400, errorContains("base64")},
			{"init code not a module", "/init", func() []byte { return initBody("x", "", []byte("#!/bin/sh\necho hi\n"), nil) }, 400, errorContains("neither a WebAssembly module nor a zip")},
			{"init text code", "/init", fixed(`{"value":{"name":"x","binary":false,"code":"function main(){}"}}`), 400, errorContains("not binary")},
			{"init bad main", "/init", func() []byte { return initBody("x", "handler", counter, nil) }, 400, errorContains("main")},
			{"init bad env", "/init", func() []byte {
				return initBody("x", "", counter, map[string]string{"RECLAVE_DEADLINE": "soon"})
			}, 400, errorContains("RECLAVE_DEADLINE")},
			{"init unknown env", "/init", func() []byte {
				return initBody("x", "", counter, map[string]string{"RECLAVE_DEADLIN": "1s"})
			}, 400, errorContains("unknown")},
			{"init negative output limit", "/init", func() []byte {
				return initBody("x", "", counter, map[string]string{"RECLAVE_MAX_OUTPUT_BYTES": "-5"})
			}, 400, errorContains("RECLAVE_MAX_OUTPUT_BYTES")},
			{"init zero output limit", "/init", func() []byte {
				return initBody("x", "", counter, map[string]string{"RECLAVE_MAX_OUTPUT_BYTES": "0"})
			}, 400, errorContains("RECLAVE_MAX_OUTPUT_BYTES")},
			{"init too many memory pages", "/init", func() []byte {
				return initBody("x", "", counter, map[string]string{"RECLAVE_MEMORY_PAGES": "70000"})
			}, 400, errorContains("RECLAVE_MEMORY_PAGES")},
			{"init zero memory pages", "/init", func() []byte {
				return initBody("x", "", counter, map[string]string{"RECLAVE_MEMORY_PAGES": "0"})
			}, 400, errorContains("RECLAVE_MEMORY_PAGES")},
			{"init negative deadline", "/init", func() []byte {
				return initBody("x", "", counter, map[string]string{"RECLAVE_DEADLINE": "-1s"})
			}, 400, errorContains("RECLAVE_DEADLINE")},
			{"init malformed import", "/init", func() []byte {
				return initBody("x", "", counter, map[string]string{"RECLAVE_IMPORTS": "wasi_snapshot_preview1.path_open, nodot"})
			}, 400, errorContains("RECLAVE_IMPORTS")},
			{"init value twice", "/init", func() []byte {
				return withKey(initBody("x", "", counter, nil), `"value":{"name":"x","binary":true,"code":"AGFzbQEAAAA="},`)
			}, 400, errorContains(`duplicate key "value"`)},
			{"init Value beside value", "/init", func() []byte {
				return withKey(initBody("x", "", counter, nil), `"Value":{"name":"x","binary":true,"code":"AGFzbQEAAAA="},`)
			}, 400, errorContains(`differs only in case`)},
			{"init code twice in value", "/init", func() []byte {
				return bytes.Replace(initBody("x", "", counter, nil), []byte(`{"value":{`), []byte(`{"value":{"code":"AGFzbQEAAAA=",`), 1)
			}, 400, errorContains(`duplicate key "code" in $.value`)},
			{"init env key twice", "/init", func() []byte {
				return bytes.Replace(initBody("x", "", counter, map[string]string{"RECLAVE_DEADLINE": "1s"}),
					[]byte(`"env":{`), []byte(`"env":{"RECLAVE_DEADLINE":"1h",`), 1)
			}, 400, errorContains(`duplicate key "RECLAVE_DEADLINE" in $.value.env`)},
			{"init module that does not load", "/init", func() []byte { return initBody("x", "_start", counter, nil) }, 502, errorContains("cannot start action")},
			{"run still before init", "/run", run(`{"user":"alice"}`), 500, errorContains("no action defined yet")},
			{"init, with unknown keys", "/init", func() []byte {
				b := initBody("counter", "", counter, map[string]string{"RECLAVE_DEADLINE": "300ms", "__OW_API_HOST": "https://whisk"})
				b = withKey(b, `"activation_id":"x","transaction_id":"y","extra":{"a":[1,{"b":2}]},`)
				return bytes.Replace(b, []byte(`{"value":{`), []byte(`{"value":{"unknown":true,`), 1)
			}, 200, ok},
			{"second init", "/init", func() []byte { return initBody("counter", "", counter, nil) }, 403, errorContains("more than once")},
			{"run malformed JSON", "/run", fixed(`{"value":{"user":`), 400, errorContains("unmarshal")},
			{"run trailing data", "/run", func() []byte { return append(runBody(`{"user":"alice"}`, later()), "{}"...) }, 400, errorContains("data after")},
			{"run value twice", "/run", fixed(`{"value":{"user":"alice"},"value":{"user":"mallory"}}`), 400, errorContains(`duplicate key "value"`)},
			{"run Value beside value", "/run", fixed(`{"value":{"user":"alice"},"Value":{"user":"mallory"}}`), 400, errorContains(`key "Value" in $ differs only in case from key "value"`)},
			{"run escaped value key", "/run", fixed(`{"value":{"user":"alice"},"v\u0061lue":{"user":"mallory"}}`), 400, errorContains(`duplicate key "value"`)},
			{"run unknown key twice", "/run", fixed(`{"value":{},"activation_id":"a","activation_id":"b"}`), 400, errorContains(`duplicate key "activation_id"`)},
			{"run key twice in value", "/run", run(`{"user":"alice","user":"mallory"}`), 400, errorContains(`value: jsonstrict: duplicate key "user" in $`)},
			{"run case variant in value", "/run", run(`{"user":"alice","User":"mallory"}`), 400, errorContains(`differs only in case`)},
			{"run attestation request twice", "/run", run(`{"__reclave_attest":{"nonce":"` + strings.Repeat("ab", 32) + `"},"__reclave_attest":{"nonce":"` + strings.Repeat("cd", 32) + `"}}`), 400, errorContains(`duplicate key "__reclave_attest"`)},
			{"run nonce twice", "/run", run(`{"__reclave_attest":{"nonce":"` + strings.Repeat("ab", 32) + `","nonce":"` + strings.Repeat("cd", 32) + `"}}`), 400, errorContains(`duplicate key "nonce"`)},
			{"run Nonce beside nonce", "/run", run(`{"__reclave_attest":{"nonce":"` + strings.Repeat("ab", 32) + `","Nonce":"` + strings.Repeat("cd", 32) + `"}}`), 400, errorContains(`differs only in case`)},
			{"run with unknown keys", "/run", fixed(`{"value":{"user":"alice"},"env":{"a":1},"activation_id":"x","transaction_id":"y","api_key":"u:k"}`), 200, counterOutput(1, "")},
			{"run with a duplicate inside the function's input", "/run", run(`{"user":"alice","deep":{"a":1,"a":2,"A":3},"list":[{"b":1,"b":2}]}`), 200, counterOutput(1, "")},
			{"run value not an object", "/run", run(`[1,2]`), 400, errorContains("JSON object")},
			{"run", "/run", run(`{"user":"alice"}`), 200, counterOutput(1, "")},
			{"run again: rewound", "/run", run(`{"user":"bob"}`), 200, counterOutput(1, "")},
			{"run without value", "/run", fixed(`{"activation_id":"x"}`), 200, counterOutput(1, "")},
			{"trap", "/run", run(`{"trap":true}`), 502, errorContains("trap: ")},
			{"run after a trap", "/run", run(`{"user":"carol"}`), 200, counterOutput(1, "")},
			{"endless loop past the function's deadline", "/run", run(`{"loop":true}`), 502, errorContains("deadline: ")},
			{"run after a deadline", "/run", run(`{"user":"dave"}`), 200, counterOutput(1, "")},
			{"bad nonce", "/run", run(`{"__reclave_attest":{"nonce":"00"}}`), 400, errorContains("64 hex digits")},
			{"attested run without a platform", "/run", run(`{"__reclave_attest":{"nonce":"` + strings.Repeat("ab", 32) + `"}}`), 400, errorContains("no attestation platform")},
			{"GET /run", "", nil, 405, errorContains("want POST")},
			{"other path", "/health", fixed(`{}`), 404, errorContains("no route")},
		}},
		{"request deadline", "rewind", []step{
			initCounter,
			{"endless loop past the request's deadline", "/run", func() []byte {
				return runBody(`{"loop":true}`, time.Now().Add(300*time.Millisecond))
			}, 502, errorContains("deadline: ")},
			{"run after it", "/run", run(`{"user":"erin"}`), 200, counterOutput(1, "")},
		}},
		{"warm keeps state", "warm", []step{
			initCounter,
			{"run", "/run", run(`{"user":"alice"}`), 200, counterOutput(1, "")},
			{"run sees the previous input", "/run", run(`{"user":"bob"}`), 200, counterOutput(2, `{"user":"alice"}`)},
		}},
		{"cold: a fresh enclave per run", "cold", []step{
			initCounter,
			{"run", "/run", run(`{"user":"alice"}`), 200, counterOutput(1, "")},
			{"run", "/run", run(`{"user":"bob"}`), 200, counterOutput(1, "")},
			{"trap", "/run", run(`{"trap":true}`), 502, errorContains("trap: ")},
			{"run", "/run", run(`{"user":"carol"}`), 200, counterOutput(1, "")},
		}},
		{"zip archive, the function's own error result", "rewind", []step{
			{"init from a zip", "/init", func() []byte {
				return initBody("json-stats", "", zipOf(t, map[string][]byte{"README": []byte("x"), "lib/json-stats.wasm": jsonStats}), nil)
			}, 200, ok},
			{"run", "/run", run(`{"values":[3,1,2]}`), 200, func(t *testing.T, v map[string]any, raw []byte) {
				if v["count"] != 3.0 || v["median"] != 2.0 {
					t.Errorf("json-stats: %s", raw)
				}
			}},
			{"the function's {\"error\"} result passes through with 200", "/run", run(`{"values":"none"}`), 200, func(t *testing.T, v map[string]any, raw []byte) {
				if _, ok := v["error"].(string); !ok || len(v) != 1 {
					t.Errorf("body %s: want the function's own {\"error\": ...}", raw)
				}
			}},
			{"run after it", "/run", run(`{"values":[5]}`), 200, func(t *testing.T, v map[string]any, raw []byte) {
				if v["count"] != 1.0 {
					t.Errorf("json-stats: %s", raw)
				}
			}},
		}},
		{"command module (main _start)", "rewind", []step{
			{"init", "/init", func() []byte { return initBody("wc-c", "_start", wasmOf(t, "wc-c"), nil) }, 200, ok},
			{"run", "/run", run(`{"text":"a b"}`), 200, func(t *testing.T, v map[string]any, raw []byte) {
				if v["bytes"] != 14.0 || v["unique"] != 3.0 { // wc-c counts the words of the input's bytes
					t.Errorf("wc-c: %s", raw)
				}
			}},
		}},
		{"zip archive with several modules", "rewind", []step{
			{"init: ambiguous", "/init", func() []byte {
				return initBody("x", "", zipOf(t, map[string][]byte{"a.wasm": counter, "b.wasm": jsonStats}), nil)
			}, 400, errorContains("exactly one .wasm")},
			{"init: main names one", "/init", func() []byte {
				return initBody("x", "reclave_handle", zipOf(t, map[string][]byte{"reclave_handle.wasm": counter, "b.wasm": jsonStats}), nil)
			}, 200, ok},
			{"run", "/run", run(`{"user":"alice"}`), 200, counterOutput(1, "")},
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			p := startProxy(t, sc.mode, nil)
			for _, st := range sc.steps {
				if st.path == "" { // GET /run
					resp, err := http.Get(p.url + "/run")
					if err != nil {
						t.Fatal(err)
					}
					raw, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					var v map[string]any
					json.Unmarshal(raw, &v)
					if resp.StatusCode != st.status {
						t.Errorf("%s: status %d, want %d (%s)", st.name, resp.StatusCode, st.status, raw)
					}
					st.check(t, v, raw)
					continue
				}
				status, v, raw := p.post(t, st.path, st.body())
				if status != st.status {
					t.Errorf("%s: status %d, want %d (body %s)", st.name, status, st.status, raw)
					continue
				}
				st.check(t, v, raw)
			}
			// Every /run, whatever its outcome, ends its logs with a sentinel on both streams.
			for stream, buf := range map[string]*syncBuffer{"stdout": p.stdout, "stderr": p.stderr} {
				if got := strings.Count(buf.String(), actionproxy.Sentinel+"\n"); got != p.runs {
					t.Errorf("%s: %d sentinel lines after %d runs:\n%s", stream, got, p.runs, buf.String())
				}
			}
		})
	}
}

// TestLogs: the function's stderr goes to the activation's log, before its sentinel.
func TestLogs(t *testing.T) {
	p := startProxy(t, "rewind", nil)
	p.post(t, "/init", initBody("counter", "", wasmOf(t, "counter"), nil))
	p.post(t, "/run", runBody(`{"user":"alice"}`, time.Now().Add(time.Minute)))
	if status, _, raw := p.post(t, "/run", runBody(`{"trap":true}`, time.Now().Add(time.Minute))); status != 502 {
		t.Fatalf("trap: %d %s", status, raw)
	}
	want := actionproxy.Sentinel + "\n" + `counter: "trap":true, trapping` + "\n" + actionproxy.Sentinel + "\n"
	if got := p.stderr.String(); !strings.HasSuffix(got, want) {
		t.Errorf("stderr:\n%s\nwant it to end with:\n%s", got, want)
	}
	if got, want := p.stdout.String(), strings.Repeat(actionproxy.Sentinel+"\n", 2); got != want {
		t.Errorf("stdout %q, want %q (the function's stdout is its result, not a log)", got, want)
	}
}

// TestAttestedRun: a /run that asks for attestation returns, beside the result, a bundle that
// attest.Verify accepts against the platform's root and a policy computed independently (an
// enclave created here with the same function and configuration), bound to the nonce and the
// exact input the function saw; a wrong nonce or input is refused.
func TestAttestedRun(t *testing.T) {
	platform, err := attest.NewSimulatedPlatform()
	if err != nil {
		t.Fatal(err)
	}
	counter := wasmOf(t, "counter")
	local, err := enclave.Create(context.Background(),
		enclave.Config{MemoryBytes: testMemory, Reset: enclave.ResetRewind, Quoter: platform},
		enclave.Function{Name: "counter", Wasm: counter, Kind: enclave.KindReactor})
	if err != nil {
		t.Fatal(err)
	}
	policy := &attest.Policy{
		MRENCLAVE:      []attest.Digest{local.MREnclave()},
		MRSIGNER:       []attest.Digest{enclave.TestSigner().MRSigner()},
		ModuleHash:     []attest.Digest{local.ModuleSHA256()},
		CleanStateHash: []attest.Digest{local.CleanStateHash()},
		AllowSimulated: true,
	}
	local.Close(context.Background())

	p := startProxy(t, "rewind", platform)
	if status, _, raw := p.post(t, "/init", initBody("counter", "", counter, nil)); status != 200 {
		t.Fatalf("init: %d %s", status, raw)
	}
	seq := attest.NewSequence()
	for i, value := range []string{`{"user":"alice","__reclave_attest":{"nonce":"%s"}}`, `{"__reclave_attest":{"nonce":"%s"},"b":[1, 2],"a":"x"}`} {
		nonce := attest.NewNonce()
		status, v, raw := p.post(t, "/run", runBody(fmt.Sprintf(value, hex.EncodeToString(nonce[:])), time.Now().Add(time.Minute)))
		if status != 200 {
			t.Fatalf("attested run %d: %d %s", i, status, raw)
		}
		if v["count"] != 1.0 {
			t.Errorf("attested run %d: result %s", i, raw)
		}
		attRaw, err := json.Marshal(v[actionproxy.AttestationKey])
		if err != nil {
			t.Fatal(err)
		}
		var att actionproxy.Attestation
		if err := json.Unmarshal(attRaw, &att); err != nil || !att.Simulated {
			t.Fatalf("attested run %d: %s: %v", i, attRaw, err)
		}
		if want := []string{`{"user":"alice"}`, `{"a":"x","b":[1,2]}`}[i]; string(att.Input) != want {
			t.Errorf("attested run %d: input %s, want %s", i, att.Input, want)
		}
		opts := attest.VerifyOptions{Root: platform.Root(), Policy: policy, Nonce: nonce, Input: att.Input, Sequence: seq}
		res, err := attest.Verify(att.Bundle, opts)
		if err != nil {
			t.Fatalf("attested run %d: %v", i, err)
		}
		if !strings.Contains(string(raw), string(res.Output[1:len(res.Output)-1])) {
			t.Errorf("attested run %d: verified output %s is not the result %s", i, res.Output, raw)
		}
		// The bundle does not verify for another nonce or another input.
		other := opts
		other.Sequence, other.Nonce = nil, attest.NewNonce()
		if _, err := attest.Verify(att.Bundle, other); err == nil {
			t.Errorf("attested run %d: accepted with another nonce", i)
		}
		other.Nonce, other.Input = nonce, []byte(`{"user":"mallory"}`)
		if _, err := attest.Verify(att.Bundle, other); err == nil {
			t.Errorf("attested run %d: accepted with another input", i)
		}
	}
}

// TestConcurrentRuns: OpenWhisk never overlaps activations in a container, but a server that
// gets overlapping /run requests serves them one at a time, each log followed by its own
// sentinel.
func TestConcurrentRuns(t *testing.T) {
	p := startProxy(t, "rewind", nil)
	if status, _, raw := p.post(t, "/init", initBody("counter", "", wasmOf(t, "counter"), nil)); status != 200 {
		t.Fatalf("init: %d %s", status, raw)
	}
	const workers, each = 4, 6
	var wg sync.WaitGroup
	errs := make(chan string, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				value, want := fmt.Sprintf(`{"user":"w%d-%d"}`, w, i), 200
				if i%2 == 1 {
					value, want = `{"trap":true}`, 502
				}
				resp, err := http.Post(p.url+"/run", "application/json", bytes.NewReader(runBody(value, time.Now().Add(time.Minute))))
				if err != nil {
					errs <- err.Error()
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want || (want == 200 && string(body) != `{"count":1,"previous_input":""}`) {
					errs <- fmt.Sprintf("%s: %d %s", value, resp.StatusCode, body)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	lines := strings.Split(strings.TrimSuffix(p.stderr.String(), "\n"), "\n")
	traps, sentinels := 0, 0
	for i, l := range lines {
		switch l {
		case actionproxy.Sentinel:
			sentinels++
		case `counter: "trap":true, trapping`:
			traps++
			if i+1 >= len(lines) || lines[i+1] != actionproxy.Sentinel {
				t.Errorf("stderr line %d: a trap's log not followed by its sentinel", i)
			}
		default:
			t.Errorf("stderr line %d: unexpected %q", i, l)
		}
	}
	if traps != workers*each/2 || sentinels != workers*each {
		t.Errorf("stderr: %d trap logs, %d sentinels; want %d and %d", traps, sentinels, workers*each/2, workers*each)
	}
}

// stall opens a connection to p and sends the headers of a POST to path announcing a body of
// 100 bytes, and only the first 5 of them; the connection stays open until the test ends.
func (p *proxy) stall(t *testing.T, path string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if path == "/run" {
		p.runs++
	}
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: reclave\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"val", path)
	return conn
}

// postWithin sends body to path with a client that gives up after 10 s, and returns the
// status and body, or an error.
func (p *proxy) postWithin(path string, body []byte) (int, string, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(p.url+path, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), err
}

// TestSlowClient: a client that sends part of its body and stalls delays no other caller —
// the server reads a whole body before it takes any lock — and is answered 408 once the read
// timeout passes.
func TestSlowClient(t *testing.T) {
	counter := wasmOf(t, "counter")
	newProxy := func(t *testing.T, readTimeout time.Duration) *proxy {
		p := &proxy{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
		startProxyWith(t, p, actionproxy.Options{
			Enclave:     enclave.Config{MemoryBytes: testMemory, Reset: enclave.ResetRewind},
			Stdout:      p.stdout,
			Stderr:      p.stderr,
			ReadTimeout: readTimeout,
		})
		return p
	}
	// settle lets the server start reading a stalled request, so that a server that locked
	// before reading would hold its lock when the next request arrives. The test does not
	// depend on it to pass, only to catch that regression.
	settle := func() { time.Sleep(100 * time.Millisecond) }

	t.Run("others are served meanwhile", func(t *testing.T) {
		p := newProxy(t, time.Minute) // the stalled clients stay stalled through this test
		p.stall(t, "/init")
		settle()
		if status, body, err := p.postWithin("/init", initBody("counter", "", counter, nil)); err != nil || status != 200 {
			t.Fatalf("/init while another /init stalls: %d %s %v", status, body, err)
		}
		p.stall(t, "/run")
		p.stall(t, "/run")
		settle()
		for i := range 3 {
			p.runs++
			status, body, err := p.postWithin("/run", runBody(`{"user":"alice"}`, time.Now().Add(time.Minute)))
			if err != nil || status != 200 || body != `{"count":1,"previous_input":""}` {
				t.Fatalf("/run %d while two others stall: %d %s %v", i, status, body, err)
			}
		}
	})

	t.Run("stalled clients are refused", func(t *testing.T) {
		const readTimeout = 200 * time.Millisecond
		p := newProxy(t, readTimeout)
		refused := func(conn net.Conn) {
			t.Helper()
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no response to a stalled request: %v", err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var v map[string]string
			if resp.StatusCode != http.StatusRequestTimeout || json.Unmarshal(raw, &v) != nil || !strings.Contains(v["error"], "did not arrive within "+readTimeout.String()) {
				t.Fatalf("stalled request: %d %s, want 408 with an error naming the timeout", resp.StatusCode, raw)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		}
		refused(p.stall(t, "/init"))
		if status, body, err := p.postWithin("/init", initBody("counter", "", counter, nil)); err != nil || status != 200 {
			t.Fatalf("/init after a refused one: %d %s %v", status, body, err)
		}
		refused(p.stall(t, "/run"))
		p.runs++
		if status, body, err := p.postWithin("/run", runBody(`{"user":"alice"}`, time.Now().Add(time.Minute))); err != nil || status != 200 {
			t.Fatalf("/run after a refused one: %d %s %v", status, body, err)
		}
		// The refused /run is an activation too: its sentinels are written.
		if got := strings.Count(p.stdout.String(), actionproxy.Sentinel+"\n"); got != p.runs {
			t.Errorf("%d sentinels after %d runs", got, p.runs)
		}
	})
}

// TestAttestedRunKeyCollision: the function is an adversary; an attested run whose result
// already holds the attestation's key (in any case) would be a response with that key twice,
// whose meaning depends on the client's JSON parser: refused with 502. Without attestation
// the result passes through as it is.
func TestAttestedRunKeyCollision(t *testing.T) {
	echo, err := os.ReadFile("testdata/echo.wasm") // returns its input
	if err != nil {
		t.Fatal(err)
	}
	platform, err := attest.NewSimulatedPlatform()
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, "rewind", platform)
	if status, _, raw := p.post(t, "/init", initBody("echo", "", echo, nil)); status != 200 {
		t.Fatalf("init: %d %s", status, raw)
	}
	nonce := `"__reclave_attest":{"nonce":"` + strings.Repeat("ab", 32) + `"}`
	tests := []struct {
		name   string
		value  string
		status int
		check  func(t *testing.T, v map[string]any, raw []byte)
	}{
		{"attested, the result holds the key", `{"a":1,"__reclave_attestation":{"bundle":"forged"},` + nonce + `}`, 502, errorContains("holds the key " + actionproxy.AttestationKey)},
		{"attested, the result holds a case variant", `{"a":1,"__Reclave_Attestation":{"bundle":"forged"},` + nonce + `}`, 502, errorContains("case variant")},
		{"attested, an ordinary result", `{"a":1,` + nonce + `}`, 200, func(t *testing.T, v map[string]any, raw []byte) {
			if _, ok := v[actionproxy.AttestationKey]; !ok || v["a"] != 1.0 || len(v) != 2 {
				t.Errorf("body %s", raw)
			}
		}},
		{"not attested: passed through", `{"a":1,"__reclave_attestation":{"bundle":"forged"}}`, 200, func(t *testing.T, v map[string]any, raw []byte) {
			if string(raw) != `{"a":1,"__reclave_attestation":{"bundle":"forged"}}` {
				t.Errorf("body %s", raw)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, v, raw := p.post(t, "/run", runBody(tt.value, time.Now().Add(time.Minute)))
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, raw)
			}
			tt.check(t, v, raw)
		})
	}
}
