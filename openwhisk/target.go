package openwhisk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/apache/openwhisk-client-go/whisk"

	"github.com/reclave/reclave/results"
)

// TargetName is the target of the records this package makes.
const TargetName = "openwhisk"

// Activation statuses OpenWhisk records (response.status).
const (
	StatusSuccess          = "success"
	StatusApplicationError = "application error"
	StatusDeveloperError   = "action developer error"
	StatusInternalError    = "whisk internal error"
)

// errorKinds are the error kinds reclave serve starts its error messages with.
var errorKinds = []string{"trap", "deadline", "canceled", "exit", "function", "output_limit", "internal"}

// Target deploys actions to an OpenWhisk deployment and invokes them. It is safe for
// concurrent use: every call uses a client of its own (the client library's clients are not:
// Activations.Get overwrites the client's namespace), taken from a pool of idle ones.
type Target struct {
	cfg       Config
	transport *http.Transport

	mu   sync.Mutex
	idle []*conn
}

// conn is one client of the client library, used by one call at a time.
type conn struct {
	client *whisk.Client
	rt     *ctxTransport
}

// ctxTransport gives the library's requests, which carry no context, the context of the call
// that uses the client.
type ctxTransport struct {
	base http.RoundTripper
	ctx  context.Context
}

// RoundTrip sends r under the current call's context.
func (t *ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(r.WithContext(t.ctx))
}

// NewTarget returns a target for the deployment cfg describes.
func NewTarget(cfg Config) (*Target, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Namespace == "" {
		cfg.Namespace = whisk.DEFAULT_NAMESPACE
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256 // one per concurrent worker, kept alive
	if cfg.Insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	t := &Target{cfg: cfg, transport: tr}
	c, err := t.newConn()
	if err != nil {
		return nil, err
	}
	t.idle = append(t.idle, c)
	return t, nil
}

// newConn makes a client with its own context-carrying transport.
func (t *Target) newConn() (*conn, error) {
	hc := &http.Client{}
	wc, err := whisk.NewClient(hc, &whisk.Config{
		Host:      t.cfg.APIHost,
		AuthToken: t.cfg.AuthKey,
		Namespace: t.cfg.Namespace,
		UserAgent: "reclave (openwhisk-client-go)",
		// TLS is configured on our transport; set here, the library would replace it.
		Insecure: false,
	})
	if err != nil {
		return nil, fmt.Errorf("openwhisk client for %s: %w", t.cfg.APIHost, err)
	}
	rt := &ctxTransport{base: t.transport, ctx: context.Background()}
	hc.Transport = rt // after NewClient, which may set its own transport
	return &conn{client: wc, rt: rt}, nil
}

// get takes an idle client, or makes one.
func (t *Target) get() (*conn, error) {
	t.mu.Lock()
	if n := len(t.idle); n > 0 {
		c := t.idle[n-1]
		t.idle = t.idle[:n-1]
		t.mu.Unlock()
		return c, nil
	}
	t.mu.Unlock()
	return t.newConn()
}

// put returns a client to the pool.
func (t *Target) put(c *conn) {
	t.mu.Lock()
	t.idle = append(t.idle, c)
	t.mu.Unlock()
}

// call runs f with c under ctx, bounded by the configured timeout, in the configured namespace
// (which Activations.Get changes), and returns the response body that the library kept.
func (t *Target) call(ctx context.Context, c *conn, f func() (*http.Response, error)) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	c.rt.ctx = ctx
	c.client.Namespace = t.cfg.Namespace
	resp, err := f()
	c.rt.ctx = context.Background()
	c.client.Namespace = t.cfg.Namespace
	if resp == nil {
		if err == nil {
			err = errors.New("no response")
		}
		return nil, nil, err
	}
	body, rerr := io.ReadAll(resp.Body) // the library read it and put it back
	if rerr != nil {
		return resp, nil, errors.Join(err, rerr)
	}
	return resp, body, err
}

// DeployOptions configure an action.
type DeployOptions struct {
	// Image is the blackbox Docker image that runs reclave serve (see the Dockerfile). Required.
	Image string
	// Main is the module's entry: "" (a reactor, reclave_handle) or "_start" (a command).
	Main string
	// MemoryMB is the action's memory limit in MB; zero leaves the platform's default.
	MemoryMB int
	// Timeout is the action's time limit; zero leaves the platform's default.
	Timeout time.Duration
}

// Deploy creates or updates the action name: a blackbox (Docker) action of opts.Image whose
// code is the WebAssembly module, base64-encoded, which OpenWhisk passes to reclave serve's
// /init (binary: true).
func (t *Target) Deploy(ctx context.Context, name string, wasm []byte, opts DeployOptions) error {
	switch {
	case name == "":
		return errors.New("openwhisk deploy: no action name")
	case opts.Image == "":
		return fmt.Errorf("openwhisk deploy %s: no image (the blackbox image running reclave serve)", name)
	case !bytes.HasPrefix(wasm, []byte("\x00asm")):
		return fmt.Errorf("openwhisk deploy %s: the code is not a WebAssembly module", name)
	case opts.MemoryMB < 0 || opts.Timeout < 0:
		return fmt.Errorf("openwhisk deploy %s: negative limits", name)
	}
	code, binary := base64.StdEncoding.EncodeToString(wasm), true
	action := &whisk.Action{
		Name: name,
		Exec: &whisk.Exec{Kind: "blackbox", Image: opts.Image, Code: &code, Binary: &binary, Main: opts.Main},
	}
	if opts.MemoryMB > 0 || opts.Timeout > 0 {
		action.Limits = &whisk.Limits{}
		if opts.MemoryMB > 0 {
			action.Limits.Memory = &opts.MemoryMB
		}
		if opts.Timeout > 0 {
			ms := int(opts.Timeout.Milliseconds())
			action.Limits.Timeout = &ms
		}
	}
	c, err := t.get()
	if err != nil {
		return err
	}
	defer t.put(c)
	_, _, err = t.call(ctx, c, func() (*http.Response, error) {
		_, resp, err := c.client.Actions.Insert(action, true)
		return resp, err
	})
	if err != nil {
		return fmt.Errorf("openwhisk deploy %s: %w", name, err)
	}
	return nil
}

// Activation is one invocation as the platform recorded it, and as the client saw it.
type Activation struct {
	// ID is the activation id.
	ID string
	// Cold is true when the activation has an initTime annotation: the platform initialised
	// a container for it (a cold start). It is never inferred from a latency.
	Cold bool
	// Latency is the client-observed time of the blocking invocation: from sending the request
	// until the activation's record was received (including, for an invocation the platform
	// answered with 202, the polling until the record could be read).
	Latency time.Duration
	// Duration, InitTime and WaitTime are the activation's duration and its initTime and
	// waitTime annotations (OpenWhisk records milliseconds; zero when absent). For a cold
	// activation the duration includes the initialisation.
	Duration, InitTime, WaitTime time.Duration
	// Status is response.status: success, application error, action developer error or whisk
	// internal error.
	Status string
	// Success is response.success.
	Success bool
	// Result is response.result as the platform returned it (JSON).
	Result json.RawMessage
	// Error is the failure of an unsuccessful activation (the result's error, else the
	// status); empty on success.
	Error string
	// ErrorKind classifies Error: the kind reclave serve's message starts with (trap,
	// deadline, exit, output_limit, internal, ...); otherwise function, or internal for a whisk
	// internal error. Empty on success.
	ErrorKind string
	// Logs are the activation's log lines.
	Logs []string
}

// Mode is the mode the platform reported: cold (Cold) or warm.
func (a *Activation) Mode() string {
	if a.Cold {
		return "cold"
	}
	return "warm"
}

// Record fills a result record from the activation: base carries what the driver knows
// (workload, size, load model, worker, seq, start, input bytes); Record sets the target
// (openwhisk), the mode the platform reported, latency_ns and response_ns (both the
// client-observed latency), provider_ns (duration), init_ns, wait_ns, the output's size and
// SHA-256 (of the result's JSON as returned), and the error.
func (a *Activation) Record(base results.Record) results.Record {
	r := base
	r.SchemaVersion = results.SchemaVersion
	r.Target = TargetName
	r.Mode = a.Mode()
	r.LatencyNs = a.Latency.Nanoseconds()
	r.ResponseNs = r.LatencyNs
	r.ProviderNs = a.Duration.Nanoseconds()
	r.InitNs = a.InitTime.Nanoseconds()
	r.WaitNs = a.WaitTime.Nanoseconds()
	r.OutputBytes = len(a.Result)
	r.OutputSHA256 = ""
	if len(a.Result) > 0 {
		sum := sha256.Sum256(a.Result)
		r.OutputSHA256 = hex.EncodeToString(sum[:])
	}
	r.Error, r.ErrorKind = a.Error, a.ErrorKind
	if r.PhasesNs == nil {
		r.PhasesNs = map[string]int64{}
	}
	return r
}

// activationJSON is the part of an activation record this package reads.
type activationJSON struct {
	ActivationID string `json:"activationId"`
	Duration     int64  `json:"duration"`
	Response     *struct {
		Status  string          `json:"status"`
		Success bool            `json:"success"`
		Result  json.RawMessage `json:"result"`
	} `json:"response"`
	Logs        []string          `json:"logs"`
	Annotations whisk.KeyValueArr `json:"annotations"`
}

// pollInterval bounds the wait between two reads of an activation that is not yet recorded.
const pollInterval = 250 * time.Millisecond

// Invoke invokes action blocking with input (a JSON object: the action's parameters; empty
// means {}) and returns its activation, successful or not. When the platform answers 202 (the
// activation outlived the blocking wait), Invoke reads the activation record until it is
// there. An invocation that produced no activation (the network, the key, an unknown action)
// returns an error and no Activation.
func (t *Target) Invoke(ctx context.Context, action string, input []byte) (*Activation, error) {
	params := json.RawMessage(bytes.TrimSpace(input))
	if len(params) == 0 {
		params = json.RawMessage("{}")
	}
	if params[0] != '{' || !json.Valid(params) {
		return nil, fmt.Errorf("openwhisk invoke %s: the input must be a JSON object (the action's parameters)", action)
	}
	c, err := t.get()
	if err != nil {
		return nil, err
	}
	defer t.put(c)
	start := time.Now()
	resp, body, err := t.call(ctx, c, func() (*http.Response, error) {
		_, resp, err := c.client.Actions.Invoke(action, params, true, false)
		return resp, err
	})
	if resp == nil {
		return nil, fmt.Errorf("openwhisk invoke %s: %w", action, err)
	}
	var rec activationJSON
	if jerr := json.Unmarshal(body, &rec); jerr != nil || rec.ActivationID == "" {
		return nil, fmt.Errorf("openwhisk invoke %s: HTTP %d, no activation: %w", action, resp.StatusCode, errors.Join(err, jerr))
	}
	if resp.StatusCode == http.StatusAccepted || rec.Response == nil {
		if body, err = t.poll(ctx, c, rec.ActivationID); err != nil {
			return nil, fmt.Errorf("openwhisk invoke %s: %w", action, err)
		}
		if err := json.Unmarshal(body, &rec); err != nil || rec.Response == nil {
			return nil, fmt.Errorf("openwhisk invoke %s: activation %s: no response in its record: %v", action, rec.ActivationID, err)
		}
	}
	a := rec.activation()
	a.Latency = time.Since(start)
	return a, nil
}

// poll reads activation id until the platform has recorded it.
func (t *Target) poll(ctx context.Context, c *conn, id string) ([]byte, error) {
	wait := 10 * time.Millisecond
	for {
		resp, body, err := t.call(ctx, c, func() (*http.Response, error) {
			_, resp, err := c.client.Activations.Get(id)
			return resp, err
		})
		switch {
		case resp != nil && resp.StatusCode == http.StatusNotFound:
		case err != nil:
			return nil, fmt.Errorf("activation %s: %w", id, err)
		default:
			return body, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("activation %s: not recorded yet: %w", id, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, pollInterval)
	}
}

// activation interprets a record.
func (rec *activationJSON) activation() *Activation {
	a := &Activation{
		ID:       rec.ActivationID,
		Duration: time.Duration(rec.Duration) * time.Millisecond,
		Status:   rec.Response.Status,
		Success:  rec.Response.Success,
		Result:   rec.Response.Result,
		Logs:     rec.Logs,
	}
	var init bool
	a.InitTime, init = millis(rec.Annotations, "initTime")
	a.WaitTime, _ = millis(rec.Annotations, "waitTime")
	a.Cold = init
	if !a.Success {
		a.Error, a.ErrorKind = classify(a.Status, a.Result)
	}
	return a
}

// millis returns the annotation key, in milliseconds, and whether it is present.
func millis(anns whisk.KeyValueArr, key string) (time.Duration, bool) {
	if anns.FindKeyValue(key) < 0 {
		return 0, false
	}
	switch v := anns.GetValue(key).(type) {
	case float64:
		return time.Duration(v * float64(time.Millisecond)), true
	case json.Number:
		f, _ := v.Float64()
		return time.Duration(f * float64(time.Millisecond)), true
	}
	return 0, true
}

// classify returns the error of a failed activation and its kind.
func classify(status string, result json.RawMessage) (msg, kind string) {
	var r struct {
		Error json.RawMessage `json:"error"`
	}
	msg = status
	if json.Unmarshal(result, &r) == nil && len(r.Error) > 0 {
		if json.Unmarshal(r.Error, &msg) != nil {
			msg = string(r.Error)
		}
	}
	if msg == "" {
		msg = "activation failed"
	}
	for _, k := range errorKinds {
		if strings.HasPrefix(msg, k+": ") {
			return msg, k
		}
	}
	if status == StatusInternalError {
		return msg, "internal"
	}
	return msg, "function"
}
