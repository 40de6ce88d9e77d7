package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reclave/reclave/actionproxy"
)

// startMain starts the test binary as reclave with args (see TestMain), its stderr piped to
// lines, and stops it when the test ends.
func startMain(t *testing.T, args ...string) (*exec.Cmd, chan string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, lines
}

// waitExit waits for cmd to end within limit and returns how it ended.
func waitExit(t *testing.T, cmd *exec.Cmd, limit time.Duration) *os.ProcessState {
	t.Helper()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
		return cmd.ProcessState
	case <-time.After(limit):
		t.Fatalf("%s did not end within %v of the signal", strings.Join(cmd.Args[1:], " "), limit)
		return nil
	}
}

// TestSignalsEndCommands: SIGTERM (or SIGINT) ends invoke and run while a function loops
// under a deadline of a minute — the invocation stops at once, and run keeps its records —
// and serve lets an activation in flight finish within its grace, unless a second signal
// comes: then it ends at once.
func TestSignalsEndCommands(t *testing.T) {
	dir := t.TempDir()
	hostile, err := os.ReadFile("../../enclave/testdata/hostile.wasm") // input "L…" loops forever
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "loop-in", "LZ")
	write(t, dir, "wl/loop/hostile.wasm", string(hostile))
	write(t, dir, "wl/loop/inputs/loop", "LZ")
	write(t, dir, "wl/loop/workload.yaml", `name: loop
description: 'a function that loops forever (enclave/testdata/hostile.wat, input L)'
language: wat
kind: reactor
module: hostile.wasm
limits:
  deadline: 60s
inputs:
  test: {file: inputs/loop}
  small: {file: inputs/loop}
`)
	cfg := write(t, dir, "loop.yaml", `schema_version: 1
name: loop
workloads_dir: wl
workloads: [loop]
modes: [rewind]
size: test
iterations: 3
warmup: 0
enclave: {memory_mib: 8, measure_runtime: false}
`)
	for _, tt := range []struct {
		name string
		args []string
		sig  syscall.Signal
	}{
		{"invoke", []string{"invoke", filepath.Join(dir, "wl/loop/hostile.wasm"), "--input", "@" + filepath.Join(dir, "loop-in"), "--memory-mib", "8"}, syscall.SIGTERM},
		{"run", []string{"run", "--config", cfg, "--out", filepath.Join(dir, "run"), "--quiet"}, syscall.SIGINT},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd, _ := startMain(t, tt.args...)
			time.Sleep(700 * time.Millisecond) // creating the enclave, then looping
			start := time.Now()
			cmd.Process.Signal(tt.sig)
			st := waitExit(t, cmd, 10*time.Second)
			if st.ExitCode() < 1 {
				t.Fatalf("exit %v after %v, want a failed invocation reported", st, time.Since(start))
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "run", "summary.json")); err != nil {
		t.Errorf("run interrupted: %v, want the summary of what it recorded", err)
	}

	t.Run("serve", func(t *testing.T) {
		cmd, lines := startMain(t, "serve", "--addr", "127.0.0.1:0", "--memory-mib", "8")
		var addr string
		for line := range lines {
			if a, ok := strings.CutPrefix(strings.TrimSpace(line), actionproxy.ListeningPrefix); ok {
				addr = a
				break
			}
		}
		code, err := os.ReadFile("../../actionproxy/testdata/hostile.wasm") // {"L":1} loops forever
		if err != nil {
			t.Fatal(err)
		}
		init, _ := json.Marshal(map[string]any{"value": map[string]any{"name": "loop", "binary": true,
			"code": base64.StdEncoding.EncodeToString(code), "env": map[string]string{actionproxy.EnvDeadline: "60s"}}})
		resp, err := http.Post("http://"+addr+"/init", "application/json", bytes.NewReader(init))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("init: %v %v", resp, err)
		}
		resp.Body.Close()
		go func() {
			if resp, err := http.Post("http://"+addr+"/run", "application/json", strings.NewReader(`{"value":{"L":1}}`)); err == nil {
				resp.Body.Close()
			}
		}()
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGTERM) // graceful: the activation may take its grace
		time.Sleep(300 * time.Millisecond)
		if cmd.ProcessState != nil {
			t.Fatal("serve ended before its activation's grace")
		}
		cmd.Process.Signal(syscall.SIGTERM) // the second ends it at once
		st := waitExit(t, cmd, 10*time.Second)
		var ws syscall.WaitStatus
		if w, ok := st.Sys().(syscall.WaitStatus); ok {
			ws = w
		}
		if !ws.Signaled() && st.ExitCode() == 0 {
			t.Fatalf("serve: %v, want it ended by the second signal", st)
		}
		if errors.Is(err, os.ErrProcessDone) {
			t.Fatal(err)
		}
	})
}
