package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reclave/reclave/actionproxy"
	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/results"
)

// processWorker is a worker of target process: its enclaves live in reclave-enclave processes
// it starts (the runtime image, cmd/reclave-enclave: the server of `reclave serve` and nothing
// of the harness) — under EGo, `ego run reclave-enclave`, so that every cold start is a real
// enclave launch — and it speaks the OpenWhisk action proxy protocol to them over loopback
// HTTP (see package actionproxy). In mode cold every invocation starts a process, calls
// /init (the enclave's creation) and /run, and stops it; in the other modes one process,
// started with --mode, serves the worker's invocations.
type processWorker struct {
	command []string // the enclave's command line but for its flags
	mode    string
	fn      enclave.Function
	imports []string // the imports the workload's manifest grants beyond the default
	ecfg    enclave.Config
	quoter  string // reclave-enclave's --quoter: simulated or ego
	client  *http.Client

	proc *serveProcess // the kept process (modes other than cold)
	used bool          // the kept process served an invocation it did not reset (mode warm)
}

func newProcessWorker(cfg *Config, mode string, t *target, ecfg enclave.Config) (*processWorker, error) {
	if _, _, err := ResetFor(mode); err != nil {
		return nil, err
	}
	command := cfg.Process.Command
	if len(command) == 0 {
		image, err := cfg.processImage()
		if err != nil {
			return nil, err
		}
		command = []string{image}
	}
	if len(t.fn.Stubs) > 0 {
		return nil, fmt.Errorf("target process: workload %s stubs imports (%v), which reclave-enclave cannot", t.w.Name, t.fn.Stubs)
	}
	return &processWorker{command: command, mode: mode, fn: t.fn, imports: t.w.Imports, ecfg: ecfg, quoter: cfg.Enclave.Quoter, client: &http.Client{}}, nil
}

// processImage returns the runtime image that target process starts when process.command
// is not given, or an error naming its path and how to build it.
func (c *Config) processImage() (string, error) {
	image, err := c.RuntimeImagePath()
	if err != nil {
		return "", fmt.Errorf("target process: %w", err)
	}
	if st, err := os.Stat(image); err != nil || !st.Mode().IsRegular() {
		if err == nil {
			err = errors.New("not a regular file")
		}
		return "", fmt.Errorf("target process: %w", c.runtimeImageError(image, err, "name the enclave's command with process.command"))
	}
	return image, nil
}

// checkProcessImages checks, before a run starts, that the experiments of target process
// without a process.command have their runtime image to start.
func (c *Config) checkProcessImages() error {
	for _, e := range c.Runs() {
		if e.Target == TargetProcess && len(e.Process.Command) == 0 {
			if _, err := e.processImage(); err != nil {
				return err
			}
		}
	}
	return nil
}

// ResetFor returns how an enclave serving invocations of mode resets after each; it is
// [actionproxy.ResetFor], which documents the modes (the mapping lives there so that
// reclave-enclave needs none of the harness).
func ResetFor(mode string) (reset enclave.Reset, oneShot bool, err error) {
	return actionproxy.ResetFor(mode)
}

// Prepare starts the worker's enclave process and initialises its function (every mode but
// cold).
func (w *processWorker) Prepare(ctx context.Context) error {
	if w.mode == "cold" || w.proc != nil {
		return nil
	}
	p, _, err := w.start(ctx)
	w.proc, w.used = p, false
	return err
}

// start launches an enclave process and calls /init; it returns the phases it timed: launch
// (until the process listens) and init (the enclave's creation).
func (w *processWorker) start(ctx context.Context) (*serveProcess, []enclave.Phase, error) {
	t0 := time.Now()
	p, err := launchServe(ctx, w.command, w.serveFlags())
	if err != nil {
		return nil, nil, err
	}
	t1 := time.Now()
	if err := w.init(ctx, p); err != nil {
		p.stop()
		return nil, nil, err
	}
	return p, []enclave.Phase{{Name: "launch", Duration: t1.Sub(t0)}, {Name: "init", Duration: time.Since(t1)}}, nil
}

func (w *processWorker) serveFlags() []string {
	mode := w.mode
	if mode == "cold" {
		mode = "warm" // the process serves one invocation and is stopped
	}
	mib := max(w.ecfg.MemoryBytes>>20, 2)
	flags := []string{"--addr", "127.0.0.1:0", "--mode", mode, "--memory-mib", strconv.FormatInt(mib, 10)}
	if w.ecfg.Strategy != "" {
		flags = append(flags, "--strategy", string(w.ecfg.Strategy))
	}
	if w.ecfg.SnapshotPoint != "" {
		flags = append(flags, "--snapshot-point", string(w.ecfg.SnapshotPoint))
	}
	if w.quoter != "" {
		flags = append(flags, "--quoter", w.quoter)
	}
	return flags
}

func (w *processWorker) init(ctx context.Context, p *serveProcess) error {
	env := map[string]string{}
	if w.fn.MemoryPages > 0 {
		env["RECLAVE_MEMORY_PAGES"] = strconv.FormatUint(uint64(w.fn.MemoryPages), 10)
	}
	if w.fn.MaxOutputBytes > 0 {
		env["RECLAVE_MAX_OUTPUT_BYTES"] = strconv.Itoa(w.fn.MaxOutputBytes)
	}
	if w.fn.Deadline > 0 {
		env["RECLAVE_DEADLINE"] = w.fn.Deadline.String()
	}
	if len(w.imports) > 0 {
		env["RECLAVE_IMPORTS"] = strings.Join(w.imports, ",")
	}
	main := "reclave_handle"
	if w.fn.Kind == enclave.KindCommand {
		main = "_start"
	}
	body, err := json.Marshal(map[string]any{"value": map[string]any{
		"name": w.fn.Name, "main": main, "binary": true, "env": env,
		"code": base64.StdEncoding.EncodeToString(w.fn.Wasm),
	}})
	if err != nil {
		return fmt.Errorf("init %s: %w", w.fn.Name, err)
	}
	status, resp, err := w.post(ctx, p, "/init", body)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("init %s: %d %s", w.fn.Name, status, bytes.TrimSpace(resp))
	}
	return nil
}

func (w *processWorker) post(ctx context.Context, p *serveProcess, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w (enclave process: %s)", path, err, p.lastLog())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: read response: %w", path, err)
	}
	return resp.StatusCode, b, nil
}

// Invoke runs one invocation: POST /run to the kept process, or, in mode cold, to a process
// started for it (its launch and /init timed as phases launch and init) and stopped after it
// (phase destroy).
func (w *processWorker) Invoke(ctx context.Context, input []byte, nonce *[32]byte) (*Call, error) {
	c := &Call{Start: time.Now(), Clean: w.mode != "warm" || !w.used}
	w.used = w.mode == "warm"
	p := w.proc
	var phases []enclave.Phase
	if w.mode == "cold" {
		var err error
		if p, phases, err = w.start(ctx); err != nil {
			return nil, fmt.Errorf("cold start: %w", err)
		}
	} else if p == nil {
		return nil, errors.New("target process: the worker has no enclave process (Prepare failed)")
	}
	value := bytes.TrimSpace(input)
	if len(value) == 0 {
		value = []byte("{}")
	}
	if nonce != nil {
		// The nonce rides in the value, as actionproxy.AttestKey documents.
		v := map[string]json.RawMessage{}
		if err := json.Unmarshal(value, &v); err != nil {
			return nil, fmt.Errorf("attested invocation: the input must be a JSON object: %w", err)
		}
		v[actionproxy.AttestKey] = json.RawMessage(`{"nonce":"` + hex.EncodeToString(nonce[:]) + `"}`)
		var err error
		if value, err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	body := append(append([]byte(`{"value":`), value...), '}')
	run := time.Now()
	status, out, err := w.post(ctx, p, "/run", body)
	runD := time.Since(run)
	c.Response = time.Since(c.Start)
	if w.mode == "cold" {
		d := time.Now()
		stopErr := p.stop()
		phases = append(phases, enclave.Phase{Name: "run", Duration: runD}, enclave.Phase{Name: "destroy", Duration: time.Since(d)})
		if err == nil && stopErr != nil {
			err = stopErr
		}
	} else {
		phases = append(phases, enclave.Phase{Name: "run", Duration: runD})
	}
	c.Latency = time.Since(c.Start)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted: %w", ctx.Err())
		}
		return nil, err
	}
	var kind string
	if status != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(out, &e) != nil || e.Error == "" {
			e.Error = fmt.Sprintf("status %d: %s", status, bytes.TrimSpace(out))
		}
		c.Err = errors.New(e.Error)
		kind = string(enclave.KindFunction)
		if k, _, ok := strings.Cut(e.Error, ":"); ok && !strings.Contains(k, " ") {
			kind = k // the error kind the server's message starts with
		}
		if status == http.StatusInternalServerError {
			kind = string(enclave.KindInternal)
		}
	} else {
		c.Output = out
	}
	mode := w.mode
	c.Remote = func(rec results.Record) results.Record {
		rec.LatencyNs = c.Latency.Nanoseconds()
		rec.ResponseNs = c.Response.Nanoseconds()
		rec.RewindNs = rec.LatencyNs - rec.ResponseNs
		rec.PhasesNs = make(map[string]int64, len(phases))
		for _, ph := range phases {
			rec.PhasesNs[ph.Name] = ph.Duration.Nanoseconds()
		}
		rec.Reset = "process"
		if mode == "cold" {
			rec.Reset = string(enclave.ResetCreate)
		}
		rec.EnclaveID = p.url
		rec.OutputBytes = len(c.Output)
		if c.Output != nil {
			rec.OutputSHA256 = sha256Hex(c.Output)
		}
		if c.Err != nil {
			rec.Error, rec.ErrorKind = c.Err.Error(), kind
		}
		return rec
	}
	return c, nil
}

// Close stops the kept process.
func (w *processWorker) Close(ctx context.Context) error {
	if w.proc == nil {
		return nil
	}
	err := w.proc.stop()
	w.proc = nil
	return err
}

// serveProcess is a running enclave process: reclave-enclave, or what process.command starts.
type serveProcess struct {
	cmd  *exec.Cmd
	url  string
	done chan error

	mu  sync.Mutex
	log []string // the last lines of its stderr, for errors
}

// launchServe starts command with args and waits until it listens (its stderr's
// actionproxy.ListeningPrefix line), at most 60 s.
func launchServe(ctx context.Context, command, args []string) (*serveProcess, error) {
	cmd := exec.Command(command[0], append(command[1:len(command):len(command)], args...)...)
	cmd.Stdout = io.Discard // the activation logs
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("enclave process: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("enclave process %q: %w", command[0], err)
	}
	p := &serveProcess{cmd: cmd, done: make(chan error, 1)}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if addr, ok := strings.CutPrefix(line, actionproxy.ListeningPrefix); ok {
				select {
				case listening <- addr:
				default:
				}
			}
			p.mu.Lock()
			p.log = append(p.log, line)
			if len(p.log) > 20 {
				p.log = p.log[1:]
			}
			p.mu.Unlock()
		}
		p.done <- cmd.Wait()
	}()
	timer := time.NewTimer(60 * time.Second)
	defer timer.Stop()
	select {
	case addr := <-listening:
		p.url = "http://" + addr
		return p, nil
	case err := <-p.done:
		p.done <- err
		return nil, fmt.Errorf("enclave process %s exited before listening (%v): %s", command[0], err, p.lastLog())
	case <-timer.C:
		p.stop()
		return nil, fmt.Errorf("enclave process %s did not listen within 60 s: %s", command[0], p.lastLog())
	case <-ctx.Done():
		p.stop()
		return nil, fmt.Errorf("interrupted: %w", ctx.Err())
	}
}

func (p *serveProcess) lastLog() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.log, " | ")
}

// stop ends the process (SIGINT, which reclave-enclave handles as it handles SIGTERM: it
// stops serving and exits; SIGKILL after 5 s) and waits for it.
func (p *serveProcess) stop() error {
	if p.cmd.Process == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
		return nil // it was asked to stop: its exit status says nothing
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("enclave process did not stop within 5 s; killed")
	}
}
