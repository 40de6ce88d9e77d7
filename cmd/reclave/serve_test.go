package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reclave/reclave/actionproxy"
	"github.com/reclave/reclave/workloads"
)

// serveBuffer is a bytes.Buffer safe for the server's goroutines and the test's.
type serveBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *serveBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *serveBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown mode", []string{"serve", "--mode", "lukewarm"}, 2, `mode "lukewarm"`},
		{"unknown strategy", []string{"serve", "--strategy", "magic"}, 2, `--strategy "magic"`},
		{"tiny memory", []string{"serve", "--memory-mib", "1"}, 2, "--memory-mib 1"},
		{"zero read timeout", []string{"serve", "--read-timeout", "0s"}, 2, "--read-timeout 0s"},
		{"bad read timeout", []string{"serve", "--read-timeout", "soon"}, 2, "read-timeout"},
		{"arguments", []string{"serve", "counter"}, 2, "no arguments"},
		{"generic cold", []string{"serve", "--generic", "--mode", "cold"}, 2, "--generic"},
		{"generic function point", []string{"serve", "--generic", "--snapshot-point", "function"}, 2, "--snapshot-point function"},
		{"missing signer key", []string{"serve", "--signer-key", filepath.Join(dir, "none.pem")}, 2, "--signer-key"},
		{"unusable address", []string{"serve", "--addr", "256.0.0.1:http"}, 1, "listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := reclave(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, want %d; stderr %q, want it to contain %q", code, tt.code, stderr, tt.want)
			}
		})
	}
}

// TestServe runs reclave serve on a loopback port, initialises it with a workload and runs it,
// then cancels the context (what SIGINT or SIGTERM do) while an activation is in flight: the
// activation completes, and the command exits 0.
func TestServe(t *testing.T) {
	all, err := workloads.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var wasm []byte
	for _, w := range all {
		if w.Name == "counter" {
			if wasm, err = w.Wasm(); err != nil {
				t.Fatal(err)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr serveBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--memory-mib", "8", "--mode", "warm"}, &stdout, &stderr)
	}()
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == ""; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q line; stderr: %s", actionproxy.ListeningPrefix, stderr.String())
		}
		for line := range strings.Lines(stderr.String()) {
			if a, ok := strings.CutPrefix(strings.TrimSpace(line), actionproxy.ListeningPrefix); ok {
				addr = a
			}
		}
	}
	post := func(path, body string) (int, string) {
		resp, err := http.Post("http://"+addr+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	initReq, _ := json.Marshal(map[string]any{"value": map[string]any{
		"name": "counter", "binary": true, "code": base64.StdEncoding.EncodeToString(wasm),
		"env": map[string]string{"RECLAVE_DEADLINE": "500ms"},
	}})
	if code, body := post("/init", string(initReq)); code != 200 {
		t.Fatalf("init: %d %s", code, body)
	}
	for i, want := range []string{`{"count":1,"previous_input":""}`, `{"count":2,"previous_input":"{\"user\":\"alice\"}"}`} {
		if code, body := post("/run", `{"value":{"user":"alice"}}`); code != 200 || body != want {
			t.Fatalf("run %d: %d %s, want 200 %s (mode warm keeps state)", i, code, body, want)
		}
	}

	// An activation in flight when the context ends still gets its response.
	inflight := make(chan string, 1)
	go func() {
		code, body := post("/run", `{"value":{"loop":true}}`)
		inflight <- fmt.Sprint(code, " ", body)
	}()
	time.Sleep(200 * time.Millisecond) // let the request reach the function (its deadline is 500 ms)
	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("serve exited %d after its context was cancelled; stderr: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after its context was cancelled")
	}
	if got := <-inflight; !strings.HasPrefix(got, "502 ") || !strings.Contains(got, "deadline") {
		t.Errorf("in-flight activation: %s, want 502 with a deadline error", got)
	}
	if n := strings.Count(stdout.String(), actionproxy.Sentinel+"\n"); n != 3 {
		t.Errorf("%d sentinel lines on stdout after 3 runs: %q", n, stdout.String())
	}
	if !strings.Contains(stderr.String(), "SIMULATED") {
		t.Errorf("stderr does not say the platform is simulated: %s", stderr.String())
	}
}
