package actionproxy_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reclave/reclave/actionproxy"
	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/harness"
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
	reset, oneShot, err := harness.ResetFor(mode)
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
			{"init module that does not load", "/init", func() []byte { return initBody("x", "_start", counter, nil) }, 502, errorContains("cannot start action")},
			{"run still before init", "/run", run(`{"user":"alice"}`), 500, errorContains("no action defined yet")},
			{"init", "/init", func() []byte {
				return initBody("counter", "", counter, map[string]string{"RECLAVE_DEADLINE": "300ms", "__OW_API_HOST": "https://whisk"})
			}, 200, ok},
			{"second init", "/init", func() []byte { return initBody("counter", "", counter, nil) }, 403, errorContains("more than once")},
			{"run malformed JSON", "/run", fixed(`{"value":{"user":`), 400, errorContains("unmarshal")},
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
