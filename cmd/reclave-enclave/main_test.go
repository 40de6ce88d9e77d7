package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reclave/reclave/actionproxy"
	"github.com/reclave/reclave/internal/runtimeimage"
	"github.com/reclave/reclave/workloads"
)

// image builds the runtime image once per test binary (beside it) and returns its path.
func image(t *testing.T) string {
	t.Helper()
	path, err := runtimeimage.BuildBesideExecutable()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// forbidden are the packages (import path prefixes) the enclave binary must not contain:
// the harness and what only the harness needs, statistics, plots, YAML, the OpenWhisk client.
var forbidden = []string{
	"github.com/reclave/reclave/harness",
	"github.com/reclave/reclave/plots",
	"github.com/reclave/reclave/results",
	"github.com/reclave/reclave/workloads",
	"github.com/reclave/reclave/openwhisk",
	"github.com/reclave/reclave/internal/strictyaml",
	"github.com/reclave/reclave/internal/wasmgen",
	"github.com/montanaflynn/stats",
	"golang.org/x/perf",
	"github.com/HdrHistogram/",
	"go.yaml.in/yaml",
	"gopkg.in/yaml",
	"gonum.org/",
	"github.com/apache/openwhisk-client-go",
	"github.com/schollz/progressbar",
	"golang.org/x/text",
}

// allowedModules are the only modules whose packages the enclave binary may contain besides
// the standard library. A new one is a deliberate change of the enclave's trusted computing
// base: add it here with a reason.
var allowedModules = []string{
	"github.com/reclave/reclave",    // the enclave packages, actionproxy, internal/servecmd
	"github.com/tetratelabs/wazero", // the Wasm runtime
	"golang.org/x/sys",              // wazero's
	"github.com/edgelesssys/ego",    // -tags ego: the SGX quoter (enclave/egoquote)
	"github.com/go-jose/go-jose/v4", // -tags ego: ego/enclave's own
	"golang.org/x/crypto",           // -tags ego: go-jose's own
}

// TestDependencies: the enclave binary holds nothing of the harness — no harness, plots,
// results or statistics, YAML, gonum or OpenWhisk client package — in the default build and
// in EGo's (-tags ego), by go list -deps.
func TestDependencies(t *testing.T) {
	for _, tags := range []string{"", "ego"} {
		args := []string{"list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}} {{with .Module}}{{.Path}}{{end}}{{end}}"}
		cmd := exec.Command("go", append(args, "-tags="+tags, ".")...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1") // -tags ego needs cgo; go list compiles nothing
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps -tags=%q: %v: %s", tags, err, stderr.Bytes())
		}
		n := 0
		for line := range strings.Lines(string(out)) {
			pkg, mod, _ := strings.Cut(strings.TrimSpace(line), " ")
			if pkg == "" {
				continue
			}
			n++
			for _, f := range forbidden {
				if strings.HasPrefix(pkg, f) {
					t.Errorf("-tags=%q: the enclave binary imports %s (%s): the harness's, not the enclave's", tags, pkg, f)
				}
			}
			if !slices.Contains(allowedModules, mod) {
				t.Errorf("-tags=%q: the enclave binary imports %s of module %s, which is not among its allowed modules %v", tags, pkg, mod, allowedModules)
			}
		}
		if n == 0 {
			t.Fatalf("-tags=%q: go list printed no package", tags)
		}
	}
}

// TestReproducibleBuild: two builds of the runtime image are byte-identical, hold no path of
// the checkout (-trimpath) and no build ID.
func TestReproducibleBuild(t *testing.T) {
	first := image(t)
	second := filepath.Join(t.TempDir(), runtimeimage.Name)
	if err := runtimeimage.Build(context.Background(), "", second); err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("two builds differ: %d and %d bytes", len(a), len(b))
	}
	t.Logf("%s: %d bytes", runtimeimage.Name, len(a))
	if wd, err := filepath.Abs("../.."); err == nil && bytes.Contains(a, []byte(wd+"/")) {
		t.Errorf("the image holds the checkout's path %s: built without -trimpath?", wd)
	}
	info, err := exec.Command("go", "version", "-m", first).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	if strings.Contains(string(info), "vcs.") || !strings.Contains(string(info), "CGO_ENABLED=0") {
		t.Errorf("build settings:\n%s\nwant CGO_ENABLED=0 and no VCS stamp (-buildvcs=false)", info)
	}
	out, err := exec.Command("go", "tool", "buildid", first).Output()
	if err != nil {
		t.Fatalf("go tool buildid: %v", err)
	}
	if id := strings.TrimSpace(string(out)); id != "" {
		t.Errorf("build ID %q, want none (-ldflags=-buildid=)", id)
	}
}

// TestBuildCommandsAgree: ./run.sh, the Dockerfile and CI build the runtime image with the
// flags the tests build it with (runtimeimage.BuildCommand), so that all make the same bytes.
func TestBuildCommandsAgree(t *testing.T) {
	for file, want := range map[string]string{
		"../../run.sh":     runtimeimage.BuildCommand,
		"../../Dockerfile": runtimeimage.BuildCommandFor("/out/reclave-enclave"),
		"../../.ci/run":    `CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o "$tmp/reclave-enclave" ./cmd/reclave-enclave`,
		"main.go":          runtimeimage.BuildCommand,
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s does not build the runtime image with %s", file, want)
		}
	}
}

// TestUsage: unusable flags exit 2 naming the flag, -h exits 0 listing the flags, which are
// those of reclave serve.
func TestUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--mode", "lukewarm"}, 2, `--mode: mode "lukewarm"`},
		{[]string{"--memory-mib", "1"}, 2, "--memory-mib 1"},
		{[]string{"serve"}, 2, "no arguments"},
		{[]string{"--signer-key", filepath.Join(t.TempDir(), "none.pem")}, 2, "--signer-key"},
		{[]string{"--quoter", "ego"}, 1, "attestation platform"},
		{[]string{"-h"}, 0, "-read-timeout"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: exit %d, want %d; stderr %q, want it to say %q", tt.args, code, tt.code, stderr.String(), tt.want)
		}
	}
}

// TestServeAndSignals runs the built image: it serves a function over the action proxy
// protocol; SIGTERM stops it gracefully (exit 0) when idle, and with an activation in flight
// a second signal ends it at once.
func TestServeAndSignals(t *testing.T) {
	bin := image(t)
	var counter []byte
	all, err := workloads.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range all {
		if w.Name == "counter" {
			if counter, err = w.Wasm(); err != nil {
				t.Fatal(err)
			}
		}
	}
	hostile, err := os.ReadFile("../../actionproxy/testdata/hostile.wasm") // {"L":1} loops forever
	if err != nil {
		t.Fatal(err)
	}
	start := func(t *testing.T, code []byte, mode string) (*exec.Cmd, string) {
		t.Helper()
		cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--memory-mib", "8", "--mode", mode)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
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
		var addr string
		timeout := time.After(30 * time.Second)
		for addr == "" {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatal("reclave-enclave ended before listening")
				}
				if a, ok := strings.CutPrefix(line, actionproxy.ListeningPrefix); ok {
					addr = a
				}
			case <-timeout:
				t.Fatal("reclave-enclave did not listen within 30 s")
			}
		}
		init, _ := json.Marshal(map[string]any{"value": map[string]any{"name": "f", "binary": true,
			"code": base64.StdEncoding.EncodeToString(code), "env": map[string]string{actionproxy.EnvDeadline: "60s"}}})
		resp, err := http.Post("http://"+addr+"/init", "application/json", bytes.NewReader(init))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("/init: %s", resp.Status)
		}
		return cmd, "http://" + addr
	}
	wait := func(t *testing.T, cmd *exec.Cmd) *os.ProcessState {
		t.Helper()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
			return cmd.ProcessState
		case <-time.After(10 * time.Second):
			t.Fatal("reclave-enclave did not end within 10 s of the signal")
			return nil
		}
	}

	t.Run("serve", func(t *testing.T) {
		cmd, url := start(t, counter, "rewind")
		for range 2 {
			resp, err := http.Post(url+"/run", "application/json", strings.NewReader(`{"value":{"user":"alice"}}`))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := `{"count":1,"previous_input":""}`; resp.StatusCode != 200 || string(body) != want {
				t.Fatalf("/run: %s %s, want 200 %s (rewound)", resp.Status, body, want)
			}
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if st := wait(t, cmd); st.ExitCode() != 0 {
			t.Fatalf("after SIGTERM: %v, want exit 0", st)
		}
	})

	t.Run("second signal", func(t *testing.T) {
		cmd, url := start(t, hostile, "rewind")
		go func() {
			if resp, err := http.Post(url+"/run", "application/json", strings.NewReader(`{"value":{"L":1}}`)); err == nil {
				resp.Body.Close()
			}
		}()
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGTERM) // graceful: the activation may take its grace
		time.Sleep(300 * time.Millisecond)
		if cmd.ProcessState != nil {
			t.Fatal("ended before its activation's grace")
		}
		cmd.Process.Signal(syscall.SIGTERM) // the second ends it at once
		st := wait(t, cmd)
		if ws, ok := st.Sys().(syscall.WaitStatus); !(ok && ws.Signaled()) && st.ExitCode() == 0 {
			t.Fatalf("%v, want it ended by the second signal", st)
		}
	})
}
