package openwhisk_test

// A TEST DOUBLE of OpenWhisk: a stand-in for the controller and the invoker, speaking the
// subset of OpenWhisk's REST API that openwhisk-client-go uses here (PUT an action, POST a
// blocking invocation, GET an activation), and running actions as an invoker runs blackbox
// actions: each container is a `reclave serve` process (this test binary re-executed, see
// TestMain), started — and sent /init — exactly when the action has no idle warm container;
// an idle container is reused; concurrent activations beyond the warm pool start new ones.
// initTime is the duration of the /init call, waitTime the time from the request's arrival
// until a container was ready, duration the time from the start of /init (cold) or /run
// (warm) until /run answered; all in milliseconds, as OpenWhisk records them. Logs are read
// from the container's stdout and stderr up to the activation sentinels.

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/reclave/reclave/actionproxy"
	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/harness"
)

// Environment of a re-executed test binary that is to be `reclave serve`.
const (
	serveEnv     = "RECLAVE_OPENWHISK_TEST_SERVE" // "1": run the action proxy, not the tests
	serveModeEnv = "RECLAVE_OPENWHISK_TEST_MODE"  // its --mode
)

// containerMemory is the enclave size of the containers: small, for quick cold starts.
const containerMemory = 8 << 20

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		os.Exit(serveMain())
	}
	os.Exit(m.Run())
}

// serveMain is what `reclave serve --addr 127.0.0.1:0 --mode $RECLAVE_OPENWHISK_TEST_MODE
// --memory-mib 8` does: the same server (actionproxy.ListenAndServe), stopped by SIGINT or
// SIGTERM, with the activation logs on stdout and stderr.
func serveMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	reset, oneShot, err := harness.ResetFor(os.Getenv(serveModeEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	platform, err := attest.NewSimulatedPlatform()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	opts := actionproxy.Options{
		Enclave: enclave.Config{MemoryBytes: containerMemory, Reset: reset, OneShot: oneShot, Quoter: platform},
		Stdout:  os.Stdout, Stderr: os.Stderr,
	}
	if err := actionproxy.ListenAndServe(ctx, "127.0.0.1:0", opts, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// action is an action as the controller stores it.
type action struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Exec      struct {
		Kind   string `json:"kind"`
		Image  string `json:"image"`
		Code   string `json:"code"`
		Main   string `json:"main,omitempty"`
		Binary bool   `json:"binary"`
	} `json:"exec"`
	Limits map[string]int `json:"limits,omitempty"`
}

// container is one `reclave serve` process.
type container struct {
	cmd            *exec.Cmd
	url            string
	stdout, stderr chan string // lines, closed at EOF
	stopOnce       sync.Once
}

// controller is the test double.
type controller struct {
	t       testing.TB
	auth    string // "uuid:key"
	mode    string // the containers' --mode
	srv     *httptest.Server
	timeout time.Duration // the actions' time limit

	mu              sync.Mutex
	actions         map[string]*action
	idle            map[string][]*container // warm containers by action
	containers      []*container
	inits           int               // /init calls
	activations     map[string][]byte // records by id
	cold            map[string]bool   // the truth: did the activation get a fresh container?
	namespaces      []string          // namespace of every invocation's path
	gets            int               // GET activation requests
	barrier         *barrier          // if set, invocations wait there before taking a container
	blockingTimeout time.Duration     // if set, a blocking invocation that takes longer gets 202
}

// barrier holds the first n arrivals until all n have arrived.
type barrier struct {
	n    int
	mu   sync.Mutex
	all  chan struct{}
	seen int
}

func newBarrier(n int) *barrier { return &barrier{n: n, all: make(chan struct{})} }

func (b *barrier) wait() {
	b.mu.Lock()
	b.seen++
	if b.seen == b.n {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
	case <-time.After(20 * time.Second):
	}
}

// newController starts the test double; its containers run in mode. It stops them when the
// test ends and checks that each shut down gracefully (exit status 0 after SIGTERM).
func newController(t testing.TB, mode string) *controller {
	d := &controller{
		t: t, auth: "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:test-key", mode: mode, timeout: time.Minute,
		actions: map[string]*action{}, idle: map[string][]*container{},
		activations: map[string][]byte{}, cold: map[string]bool{},
	}
	d.srv = httptest.NewServer(d)
	t.Cleanup(d.close)
	return d
}

var (
	actionPath     = regexp.MustCompile(`^/api/v1/namespaces/([^/]+)/actions/([^/]+)$`)
	activationPath = regexp.MustCompile(`^/api/v1/namespaces/([^/]+)/activations/([^/]+)$`)
)

// ServeHTTP is the controller's REST API.
func (d *controller) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte(d.auth)) {
		apiError(w, http.StatusUnauthorized, "The supplied authentication is invalid.")
		return
	}
	if m := actionPath.FindStringSubmatch(r.URL.Path); m != nil {
		switch r.Method {
		case http.MethodPut:
			d.putAction(w, r, m[1], m[2])
			return
		case http.MethodPost:
			d.invoke(w, r, m[1], m[2])
			return
		}
	}
	if m := activationPath.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodGet {
		d.mu.Lock()
		d.gets++
		rec, ok := d.activations[m[2]]
		d.mu.Unlock()
		if !ok {
			apiError(w, http.StatusNotFound, "The requested resource does not exist.")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(rec)
		return
	}
	apiError(w, http.StatusNotFound, "The requested resource does not exist.")
}

// apiError answers as the controller does: {"error": ..., "code": <transaction id>}.
func apiError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg, "code": "tid-test"})
}

func (d *controller) putAction(w http.ResponseWriter, r *http.Request, ns, name string) {
	var a action
	if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
		apiError(w, http.StatusBadRequest, "The request content was malformed: "+err.Error())
		return
	}
	if r.URL.Query().Get("overwrite") != "true" && d.actions[name] != nil {
		apiError(w, http.StatusConflict, "resource already exists")
		return
	}
	// The controller decides whether code is binary: base64 is.
	_, err := base64.StdEncoding.DecodeString(a.Exec.Code)
	a.Exec.Binary = a.Exec.Code != "" && err == nil
	a.Namespace, a.Name = ns, name
	d.mu.Lock()
	d.actions[name] = &a
	old := d.idle[name]
	delete(d.idle, name) // an update retires the warm containers
	d.mu.Unlock()
	for _, c := range old {
		d.stop(c)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(a)
}

// invoke runs an activation; a blocking one is answered with its record (200 on success, 502
// on failure) or, past blockingTimeout, with 202 and its id.
func (d *controller) invoke(w http.ResponseWriter, r *http.Request, ns, name string) {
	received := time.Now()
	d.mu.Lock()
	a := d.actions[name]
	d.namespaces = append(d.namespaces, ns)
	wait, bar := d.blockingTimeout, d.barrier
	d.mu.Unlock()
	if a == nil {
		apiError(w, http.StatusNotFound, "The requested resource does not exist.")
		return
	}
	params, err := io.ReadAll(r.Body)
	if err != nil || !json.Valid(params) || !bytes.HasPrefix(bytes.TrimSpace(params), []byte("{")) {
		apiError(w, http.StatusBadRequest, "The request content was malformed.")
		return
	}
	if r.URL.Query().Get("blocking") != "true" {
		apiError(w, http.StatusBadRequest, "this test double serves blocking invocations only")
		return
	}
	var idb [16]byte
	rand.Read(idb[:])
	id := hex.EncodeToString(idb[:])
	done := make(chan *activationRecord, 1)
	go func() {
		if bar != nil {
			bar.wait()
		}
		rec := d.activate(a, id, params, received)
		b, err := json.Marshal(rec)
		if err != nil {
			d.t.Error(err)
		}
		d.mu.Lock()
		d.activations[id] = b
		d.mu.Unlock()
		done <- rec
	}()
	var timeout <-chan time.Time
	if wait > 0 {
		timeout = time.After(wait)
	}
	w.Header().Set("Content-Type", "application/json")
	select {
	case rec := <-done:
		if !rec.Response.Success {
			w.WriteHeader(http.StatusBadGateway)
		}
		json.NewEncoder(w).Encode(rec)
	case <-timeout:
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"activationId":%q}`+"\n", id)
	}
}

// activationRecord is an activation as OpenWhisk records it.
type activationRecord struct {
	Namespace    string     `json:"namespace"`
	Name         string     `json:"name"`
	Version      string     `json:"version"`
	Subject      string     `json:"subject"`
	ActivationID string     `json:"activationId"`
	Start        int64      `json:"start"`
	End          int64      `json:"end"`
	Duration     int64      `json:"duration"`
	StatusCode   int        `json:"statusCode"`
	Response     response   `json:"response"`
	Logs         []string   `json:"logs"`
	Annotations  []keyValue `json:"annotations"`
	Publish      bool       `json:"publish"`
}

type response struct {
	Status     string          `json:"status"`
	StatusCode int             `json:"statusCode"`
	Success    bool            `json:"success"`
	Result     json.RawMessage `json:"result"`
}

type keyValue struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

// activate runs one activation as an invoker does.
func (d *controller) activate(a *action, id string, params []byte, received time.Time) *activationRecord {
	rec := &activationRecord{
		Namespace: a.Namespace, Name: a.Name, Version: "0.0.1", Subject: "guest", ActivationID: id,
		Logs: []string{},
		Annotations: []keyValue{
			{"path", a.Namespace + "/" + a.Name}, {"kind", a.Exec.Kind},
			{"limits", map[string]int{"timeout": int(d.timeout.Milliseconds()), "memory": 256, "logs": 10}},
		},
	}
	fail := func(status string, code int, msg string) *activationRecord {
		rec.Response = response{Status: status, StatusCode: code, Result: json.RawMessage(fmt.Sprintf(`{"error":%q}`, msg))}
		return rec
	}
	c, cold, err := d.acquire(a)
	if err != nil {
		return fail("whisk internal error", 3, err.Error())
	}
	rec.Annotations = append(rec.Annotations, keyValue{"waitTime", time.Since(received).Milliseconds()})
	start := time.Now()
	rec.Start = start.UnixMilli()
	if cold {
		d.mu.Lock()
		d.inits++
		d.mu.Unlock()
		init, _ := json.Marshal(map[string]any{"value": map[string]any{
			"name": a.Name, "main": cmp.Or(a.Exec.Main, "main"), "binary": a.Exec.Binary, "code": a.Exec.Code,
		}})
		status, body, err := post(c.url+"/init", init)
		rec.Annotations = append(rec.Annotations, keyValue{"initTime", time.Since(start).Milliseconds()})
		if err != nil || status != http.StatusOK {
			d.stop(c)
			return fail("action developer error", 2, fmt.Sprintf("Initialization has failed due to: %s %v", body, err))
		}
	}
	run, _ := json.Marshal(map[string]any{
		"value": json.RawMessage(params), "namespace": a.Namespace, "action_name": "/" + a.Namespace + "/" + a.Name,
		"activation_id": id, "api_key": d.auth, "deadline": time.Now().Add(d.timeout).UnixMilli(),
	})
	status, body, err := post(c.url+"/run", run)
	end := time.Now()
	rec.End, rec.Duration = end.UnixMilli(), end.Sub(start).Milliseconds()
	logs, complete := c.logs()
	rec.Logs = logs
	if !complete {
		d.t.Errorf("activation %s: the container's logs did not end with the sentinels", id)
	}
	d.mu.Lock()
	d.cold[id] = cold
	d.mu.Unlock()
	var obj map[string]json.RawMessage
	switch {
	case err != nil || json.Unmarshal(body, &obj) != nil:
		d.stop(c) // the container is broken
		return fail("action developer error", 2, fmt.Sprintf("The action did not produce a valid response: %s %v", body, err))
	case status == http.StatusOK && obj["error"] == nil:
		rec.Response = response{Status: "success", Result: body, Success: true}
	default: // an error result, from the proxy or the function: an application error
		rec.Response = response{Status: "application error", StatusCode: 1, Result: body}
	}
	rec.StatusCode = rec.Response.StatusCode
	d.release(a.Name, c)
	return rec
}

// acquire takes an idle container of a, or starts one (cold).
func (d *controller) acquire(a *action) (*container, bool, error) {
	d.mu.Lock()
	if n := len(d.idle[a.Name]); n > 0 {
		c := d.idle[a.Name][n-1]
		d.idle[a.Name] = d.idle[a.Name][:n-1]
		d.mu.Unlock()
		return c, false, nil
	}
	d.mu.Unlock()
	c, err := d.start()
	return c, true, err
}

// release makes c an idle warm container of the action.
func (d *controller) release(name string, c *container) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.idle[name] = append(d.idle[name], c)
}

// start runs a container: this test binary as `reclave serve`, and waits for its address.
func (d *controller) start() (*container, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveEnv+"=1", serveModeEnv+"="+d.mode)
	dieWithParent(cmd)
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start container: %w", err)
	}
	c := &container{cmd: cmd, stdout: lines(outPipe), stderr: lines(errPipe)}
	d.mu.Lock()
	d.containers = append(d.containers, c)
	d.mu.Unlock()
	timeout := time.After(20 * time.Second)
	for c.url == "" {
		select {
		case line, ok := <-c.stderr:
			if !ok {
				return nil, fmt.Errorf("container exited before listening")
			}
			if addr, found := strings.CutPrefix(line, actionproxy.ListeningPrefix); found {
				c.url = "http://" + addr
			}
		case <-timeout:
			return nil, fmt.Errorf("container did not listen within 20 s")
		}
	}
	return c, nil
}

// lines reads r line by line into a channel (buffered generously: the double reads the logs
// only after each activation).
func lines(r io.Reader) chan string {
	ch := make(chan string, 1<<16)
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			ch <- s.Text()
		}
		close(ch)
	}()
	return ch
}

// logs reads the activation's log lines of both streams up to their sentinels, as the invoker
// does, and reports whether both sentinels came.
func (c *container) logs() ([]string, bool) {
	var out []string
	complete := true
	for _, s := range []struct {
		name string
		ch   chan string
	}{{"stdout", c.stdout}, {"stderr", c.stderr}} {
		timeout := time.After(10 * time.Second)
	read:
		for {
			select {
			case line, ok := <-s.ch:
				if !ok {
					complete = false
					break read
				}
				if line == actionproxy.Sentinel {
					break read
				}
				out = append(out, time.Now().UTC().Format(time.RFC3339Nano)+" "+s.name+": "+line)
			case <-timeout:
				complete = false
				break read
			}
		}
	}
	return out, complete
}

// stop sends SIGTERM to a container and checks that it exits cleanly.
func (d *controller) stop(c *container) { c.stopOnce.Do(func() { d.stopNow(c) }) }

func (d *controller) stopNow(c *container) {
	c.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() {
		for range c.stdout {
		}
		for range c.stderr {
		}
		exited <- c.cmd.Wait()
	}()
	select {
	case err := <-exited:
		if err != nil {
			d.t.Errorf("container %s: %v after SIGTERM, want a graceful exit (status 0)", c.url, err)
		}
	case <-time.After(20 * time.Second):
		c.cmd.Process.Kill()
		d.t.Errorf("container %s did not stop within 20 s of SIGTERM", c.url)
	}
}

// close stops the controller and every container.
func (d *controller) close() {
	d.srv.Close()
	d.mu.Lock()
	all := d.containers
	d.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range all {
		wg.Go(func() { d.stop(c) })
	}
	wg.Wait()
}

// post sends a JSON body and returns the status and the body.
func post(url string, body []byte) (int, []byte, error) {
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// stats returns how many containers were started and /init calls made.
func (d *controller) stats() (containers, inits int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.containers), d.inits
}

// wasCold returns the truth about activation id.
func (d *controller) wasCold(id string) (cold, known bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cold, known = d.cold[id]
	return cold, known
}
