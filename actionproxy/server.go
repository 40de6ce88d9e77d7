package actionproxy

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/internal/jsonstrict"
)

// Sentinel is the line written to stdout and to stderr after every activation (every /run),
// which tells OpenWhisk's invoker that the activation's logs are complete.
const Sentinel = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"

// AttestKey is the key of a /run value that asks for an attested invocation:
// "__reclave_attest": {"nonce": "<64 hex digits>"}. It is removed from the function's input.
const AttestKey = "__reclave_attest"

// AttestationKey is the key of the response object that carries the attestation of an attested
// invocation; see [Attestation].
const AttestationKey = "__reclave_attestation"

// ListeningPrefix starts the line [ListenAndServe] writes to its log once it accepts
// connections; the address follows it.
const ListeningPrefix = "reclave serve: listening on "

// Request body limits.
const (
	maxInitBytes = 512 << 20 // a base64 module (OpenWhisk's own code limit is 48 MiB)
	maxRunBytes  = 64 << 20
)

// shutdownGrace bounds how long Serve waits for in-flight requests after its context ends.
const shutdownGrace = 30 * time.Second

// DefaultReadTimeout is how long a client has to send a request's body when
// Options.ReadTimeout is zero: OpenWhisk's invoker sends a body at once, and even /init's
// largest (a 48 MiB action, 64 MiB in base64) takes about half a second on a gigabit network.
const DefaultReadTimeout = 30 * time.Second

// Attestation is the value of [AttestationKey] in the response of an attested /run.
type Attestation struct {
	// Bundle is the attestation bundle (package enclave/attest, schema version 1): outer
	// evidence, L0 key, inner report and output. Verify it with attest.Verify.
	Bundle json.RawMessage `json:"bundle"`
	// Input is the exact input the function received (the request's value without AttestKey,
	// re-encoded compactly with sorted keys), which the inner report binds: pass it as
	// attest.VerifyOptions.Input.
	Input []byte `json:"input"`
	// Simulated is true: the platform that quoted the enclave is simulated.
	Simulated bool `json:"simulated"`
}

// Options configure a Server.
type Options struct {
	// Enclave configures every enclave the server creates. Its Reset and OneShot come from the
	// mode ([ResetFor]): with OneShot (mode cold) each /run gets a fresh enclave, the
	// first one the enclave /init created. A Quoter is needed for attested runs.
	Enclave enclave.Config
	// Stdout and Stderr receive the activation logs: the function's stderr, enclave warnings,
	// and the Sentinel lines. Nil discards them.
	Stdout, Stderr io.Writer
	// ReadTimeout bounds how long a client may take to send the body of a request, from the
	// moment the server starts reading it (its headers have been read; Serve bounds those
	// by 30 s); a client that is slower is answered 408. Zero means DefaultReadTimeout;
	// negative means no limit.
	//
	// The server reads and parses a request's whole body before it takes any lock, so a
	// slow or stalled client never delays another caller's activation; the timeout bounds
	// what such a client holds (a goroutine, a connection, its buffer). It is set per
	// request on the connection (http.ResponseController.SetReadDeadline) rather than as
	// http.Server.ReadTimeout, so that it holds wherever the Server is mounted (Serve, or
	// another http.Server or test server serving it as a handler), and is cleared once the
	// body is read: it never touches a running activation.
	ReadTimeout time.Duration
	// Generic serves generic enclaves ([enclave.CreateGeneric]; Enclave must rewind at the
	// runtime snapshot point): /init creates one enclave measured without any function, and
	// each /run brings its function under FunctionKey in its value (the code the platform
	// sends with every activation), or runs the function of /init's code when it brings none.
	// After every activation the enclave is rewound to its runtime snapshot.
	Generic bool
}

// Server is an OpenWhisk action proxy serving one WebAssembly function from a reclave enclave.
// It is safe for concurrent use; invocations are served one at a time, as OpenWhisk sends them.
// No lock is held while a request's body is read or its response written: a slow client
// delays nobody else (see Options.ReadTimeout).
type Server struct {
	opts Options

	runMu sync.Mutex        // held through a /run's activation, its log and its sentinels; never while reading a request
	mu    sync.Mutex        // guards fn and enc; never held while reading a request
	fn    *enclave.Function // nil until a successful /init (Generic: nil without /init code)
	enc   *enclave.Enclave  // nil between the invocations of mode cold, and after Close
	ready bool              // Generic: /init created the generic enclave
}

// New returns a server that has not been initialised: its first /init loads the function.
func New(opts Options) *Server {
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	return &Server{opts: opts}
}

// ServeHTTP serves POST /init and POST /run.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/init", "/run":
	default:
		sendError(w, http.StatusNotFound, fmt.Sprintf("no route %s: this action proxy serves POST /init and POST /run", r.URL.Path))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		sendError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: want POST", r.Method, r.URL.Path))
		return
	}
	if r.URL.Path == "/init" {
		s.init(w, r)
		return
	}
	s.run(w, r)
}

// init handles /init: read and decode the request (no lock held), then create (and attest)
// the enclave.
func (s *Server) init(w http.ResponseWriter, r *http.Request) {
	if s.initialised() { // refused before reading a body of up to 512 MiB
		sendError(w, http.StatusForbidden, "Cannot initialize the action more than once.")
		return
	}
	body, status, err := s.readBody(w, r, maxInitBytes)
	if err != nil {
		sendError(w, status, err.Error())
		return
	}
	// Every level of the body is reclave's to read (value, its env): one meaning each, no key
	// twice or in two cases. Unknown keys are allowed: invokers add their own.
	var req struct {
		Value *initValue `json:"value"`
	}
	if err := jsonstrict.Unmarshal(body, &req, jsonstrict.Options{}); err != nil {
		sendError(w, http.StatusBadRequest, "Error unmarshaling request: "+err.Error())
		return
	}
	if s.opts.Generic {
		s.initGeneric(w, r, req.Value)
		return
	}
	if req.Value == nil || req.Value.Code == "" {
		if s.initialised() {
			sendError(w, http.StatusForbidden, "Cannot initialize the action more than once.")
			return
		}
		sendError(w, http.StatusForbidden, "Missing main/no code to execute.")
		return
	}
	fn, err := req.Value.function()
	if err != nil {
		sendError(w, http.StatusBadRequest, "invalid action: "+err.Error())
		return
	}
	if status, msg := s.load(r.Context(), fn); status != http.StatusOK {
		sendError(w, status, msg)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"ok":true}`+"\n")
}

// initialised reports whether a /init has loaded the function.
func (s *Server) initialised() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fn != nil || s.ready
}

// load creates the enclave for fn, unless a function is loaded already, and returns the
// status of the /init.
func (s *Server) load(ctx context.Context, fn enclave.Function) (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fn != nil {
		return http.StatusForbidden, "Cannot initialize the action more than once."
	}
	enc, err := s.create(ctx, fn)
	if err != nil {
		return http.StatusBadGateway, "cannot start action: " + err.Error()
	}
	s.fn, s.enc = &fn, enc
	return http.StatusOK, ""
}

// readBody reads a request's whole body, at most limit bytes, within the read timeout
// (Options.ReadTimeout). It holds no lock. On error it returns the status to answer: 408 for
// a client that was too slow, 400 otherwise (too large, cut off).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, int, error) {
	timeout := s.opts.ReadTimeout
	if timeout == 0 {
		timeout = DefaultReadTimeout
	}
	rc := http.NewResponseController(w)
	deadline := timeout > 0 && r.ContentLength != 0
	if deadline {
		// A ResponseWriter without deadlines (http.ErrNotSupported) reads without one: no
		// lock is held meanwhile, so only this request waits.
		_ = rc.SetReadDeadline(time.Now().Add(timeout))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err == nil {
		if deadline {
			// Cleared at once: net/http's read that watches for the client going away (and
			// cancels the request's context, hence the activation, when it fails) must not
			// inherit it.
			_ = rc.SetReadDeadline(time.Time{})
		}
		return body, http.StatusOK, nil
	}
	// What is left of the body on the wire is unknown: close the connection after the
	// answer, rather than let net/http read the rest first (with no deadline, from a
	// client that may never send it).
	w.Header().Set("Connection", "close")
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, http.StatusRequestTimeout, fmt.Errorf("reading the request: the body did not arrive within %v", timeout)
	}
	return nil, http.StatusBadRequest, fmt.Errorf("reading the request: %w", err)
}

// create creates an enclave for fn and logs its warnings.
func (s *Server) create(ctx context.Context, fn enclave.Function) (*enclave.Enclave, error) {
	var enc *enclave.Enclave
	var err error
	if s.opts.Generic {
		enc, err = enclave.CreateGeneric(ctx, s.opts.Enclave)
	} else {
		enc, err = enclave.Create(ctx, s.opts.Enclave, fn)
	}
	if err != nil {
		return nil, err
	}
	for _, warn := range enc.Warnings() {
		fmt.Fprintf(s.opts.Stderr, "reclave: warning: %s\n", warn)
	}
	return enc, nil
}

// runRequest is the body of /run: the function's parameters and the activation context.
type runRequest struct {
	Value        json.RawMessage `json:"value"`
	Namespace    string          `json:"namespace"`
	ActionName   string          `json:"action_name"`
	ActivationID string          `json:"activation_id"`
	Deadline     json.Number     `json:"deadline"`
}

// activation is a /run request, read and checked: what the invocation needs.
type activation struct {
	input    []byte            // the function's input
	nonce    *[32]byte         // the client's nonce, for an attested run
	deadline time.Time         // the request's deadline; zero: none
	fn       *enclave.Function // Generic: the function the activation brought (FunctionKey); nil: none
}

// run handles /run: read and parse the request (no lock held), then invoke the function,
// reset the enclave per the mode, write the log and the sentinels (one activation at a
// time), and answer (no lock held).
func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	act, status, resp := s.parseRun(w, r)
	// One activation at a time, its log and sentinels together: logs never interleave.
	s.runMu.Lock()
	if act != nil {
		status, resp = s.activate(r.Context(), act)
	}
	// The invoker reads the logs up to the sentinels once it has the response: write them
	// first, on both streams, whatever the outcome (a refused request included).
	fmt.Fprintln(s.opts.Stdout, Sentinel)
	fmt.Fprintln(s.opts.Stderr, Sentinel)
	s.runMu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(resp)
}

// parseRun reads and parses a /run request; on failure it returns nil and the status and
// body of the response.
func (s *Server) parseRun(w http.ResponseWriter, r *http.Request) (*activation, int, []byte) {
	body, status, err := s.readBody(w, r, maxRunBytes)
	if err != nil {
		status, resp := errorBody(status, err.Error())
		return nil, status, resp
	}
	// The levels the server reads have one meaning each: the body's own keys here, value's
	// in parseValue. Unknown keys are allowed (invokers add activation fields); deeper
	// levels of value are the function's input, passed on as bytes.
	var req runRequest
	if err := jsonstrict.Unmarshal(body, &req, jsonstrict.Options{KeyDepth: 1}); err != nil {
		status, resp := errorBody(http.StatusBadRequest, "Error unmarshaling request: "+err.Error())
		return nil, status, resp
	}
	act := &activation{}
	if act.input, act.nonce, err = parseValue(req.Value); err != nil {
		status, resp := errorBody(http.StatusBadRequest, err.Error())
		return nil, status, resp
	}
	if s.opts.Generic {
		if act.input, act.fn, err = takeFunction(act.input); err != nil {
			status, resp := errorBody(http.StatusBadRequest, err.Error())
			return nil, status, resp
		}
	}
	if req.Deadline != "" {
		ms, err := req.Deadline.Int64()
		if err != nil {
			status, resp := errorBody(http.StatusBadRequest, fmt.Sprintf("deadline %s: want milliseconds since the epoch", req.Deadline))
			return nil, status, resp
		}
		if ms > 0 {
			act.deadline = time.UnixMilli(ms)
		}
	}
	return act, 0, nil
}

// activate serves one parsed /run and returns the status and body of the response.
func (s *Server) activate(ctx context.Context, act *activation) (int, []byte) {
	if !act.deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, act.deadline)
		defer cancel()
	}
	input, nonce := act.input, act.nonce

	s.mu.Lock()
	defer s.mu.Unlock()
	fn := s.fn
	if act.fn != nil {
		fn = act.fn
	}
	switch {
	case fn == nil && !s.ready, s.opts.Generic && !s.ready:
		return errorBody(http.StatusInternalServerError, "no action defined yet")
	case fn == nil:
		return errorBody(http.StatusBadRequest, "no function: a server of generic enclaves runs the function a /run brings in value."+FunctionKey+", or /init's code")
	}
	if nonce != nil && s.opts.Enclave.Quoter == nil {
		return errorBody(http.StatusBadRequest, AttestKey+": this server has no attestation platform")
	}
	var err error
	if s.enc == nil { // mode cold after the first run, or after an unusable enclave
		if s.enc, err = s.create(ctx, *fn); err != nil {
			return errorBody(http.StatusBadGateway, "cannot start action: "+err.Error())
		}
	}
	var inv *enclave.Invocation
	switch {
	case s.opts.Generic && nonce != nil:
		inv, err = s.enc.InvokeFunctionAttested(ctx, *fn, input, *nonce)
	case s.opts.Generic:
		inv, err = s.enc.InvokeFunction(ctx, *fn, input)
	case nonce != nil:
		inv, err = s.enc.InvokeAttested(ctx, input, *nonce)
	default:
		inv, err = s.enc.Invoke(ctx, input)
	}
	if inv != nil && len(inv.Log) > 0 {
		s.opts.Stderr.Write(inv.Log)
		if !bytes.HasSuffix(inv.Log, []byte("\n")) {
			io.WriteString(s.opts.Stderr, "\n")
		}
	}
	if inv != nil && inv.Reset == enclave.ResetRetire {
		fmt.Fprintf(s.opts.Stderr, "reclave: enclave retired after the activation: %v\n", s.enc.Unusable())
	}
	if s.opts.Enclave.OneShot || errors.Is(err, enclave.ErrUnusable) || inv == nil || inv.Reset == enclave.ResetRetire {
		if cerr := s.enc.Close(context.WithoutCancel(ctx)); cerr != nil {
			fmt.Fprintf(s.opts.Stderr, "reclave: destroy enclave: %v\n", cerr)
		}
		s.enc = nil // the next run creates a fresh one
	}
	return respond(inv, input, err)
}

// parseValue returns the function's input — the request's value (an empty object when it is
// absent) — and the nonce of an attested run, taking AttestKey out of the input.
func parseValue(v json.RawMessage) ([]byte, *[32]byte, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || bytes.Equal(v, []byte("null")) {
		return []byte("{}"), nil, nil
	}
	// value's own keys have one meaning: no key twice, none in two cases (the attestation
	// request among them). Its values are the function's input, passed on as they are.
	if err := jsonstrict.Check(v, jsonstrict.Options{KeyDepth: 1}); err != nil {
		return nil, nil, fmt.Errorf("value: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(v, &fields); err != nil {
		return nil, nil, fmt.Errorf("value: want a JSON object (the action's parameters): %v", err)
	}
	at, ok := fields[AttestKey]
	if !ok {
		return v, nil, nil
	}
	var req struct {
		Nonce string `json:"nonce"`
	}
	if err := jsonstrict.Unmarshal(at, &req, jsonstrict.Options{}); err != nil {
		return nil, nil, fmt.Errorf("%s: want {\"nonce\": \"<64 hex digits>\"}: %v", AttestKey, err)
	}
	b, err := hex.DecodeString(req.Nonce)
	if err != nil || len(b) != 32 {
		return nil, nil, fmt.Errorf("%s: nonce %q: want 64 hex digits", AttestKey, req.Nonce)
	}
	var nonce [32]byte
	copy(nonce[:], b)
	delete(fields, AttestKey)
	input, err := json.Marshal(fields)
	if err != nil {
		return nil, nil, fmt.Errorf("value: %w", err)
	}
	return input, &nonce, nil
}

// respond turns an invocation into the /run response.
func respond(inv *enclave.Invocation, input []byte, err error) (int, []byte) {
	if err != nil {
		var ie *enclave.InvokeError
		if inv != nil && errors.As(err, &ie) && ie.Kind == enclave.KindFunction && !errors.Is(err, enclave.ErrUnusable) && hasErrorKey(inv.Output) {
			// The function's own {"error": …} result: passed through, as OpenWhisk runtimes do
			// (the platform records it as an application error).
			return http.StatusOK, inv.Output
		}
		return errorBody(errorStatus(err), errorMessage(err))
	}
	out := bytes.TrimSpace(inv.Output)
	if !isObjectOrArray(out) {
		return errorBody(http.StatusBadGateway, "The action did not return a dictionary or array.")
	}
	if inv.Bundle == nil {
		return http.StatusOK, inv.Output
	}
	if holdsAttestationKey(out) {
		// The response would hold the key twice (ours first, the function's after it), and a
		// client's JSON parser might take the function's: one meaning per response.
		return errorBody(http.StatusBadGateway, fmt.Sprintf("The action's result holds the key %s (or a case variant of it), which the attestation of an attested run is returned under.", AttestationKey))
	}
	bundle, merr := inv.Bundle.Marshal()
	if merr != nil {
		return errorBody(http.StatusInternalServerError, fmt.Sprintf("attestation bundle: %v", merr))
	}
	att, merr := json.Marshal(Attestation{Bundle: bundle, Input: input, Simulated: true})
	if merr != nil {
		return errorBody(http.StatusInternalServerError, fmt.Sprintf("attestation: %v", merr))
	}
	return http.StatusOK, withAttestation(out, att)
}

// withAttestation adds AttestationKey to the function's output: as the first key of an object
// (the function's bytes follow unchanged), or beside an array as {"result": [...]}.
func withAttestation(out, att []byte) []byte {
	var b bytes.Buffer
	if out[0] == '[' {
		fmt.Fprintf(&b, `{"result":%s,%q:%s}`, out, AttestationKey, att)
		return b.Bytes()
	}
	fmt.Fprintf(&b, `{%q:%s`, AttestationKey, att)
	if rest := bytes.TrimSpace(out[1:]); len(rest) > 0 && rest[0] != '}' {
		b.WriteByte(',')
	}
	b.Write(out[1:])
	return b.Bytes()
}

// errorStatus is the status of a failed invocation: 500 when the runtime failed, 502 when the
// function did (trap, deadline, exit, output limit, a failure status without an error result).
func errorStatus(err error) int {
	if errors.Is(err, enclave.ErrUnusable) || enclave.KindOf(err) == enclave.KindInternal {
		return http.StatusInternalServerError
	}
	return http.StatusBadGateway
}

// errorMessage is the error of a failed invocation, starting with its kind: "trap: …",
// "deadline: …" (the enclave's error kinds, as in result records).
func errorMessage(err error) string {
	kind := enclave.KindOf(err)
	var ie *enclave.InvokeError
	if errors.As(err, &ie) && !errors.Is(err, enclave.ErrUnusable) {
		return ie.Error() // "<kind>: <cause>"
	}
	return fmt.Sprintf("%s: %v", kind, err)
}

// holdsAttestationKey reports whether out is a JSON object with AttestationKey, in any case,
// among its own keys.
func holdsAttestationKey(out []byte) bool {
	var v map[string]json.RawMessage
	if out[0] != '{' || json.Unmarshal(out, &v) != nil {
		return false
	}
	for k := range v {
		if strings.EqualFold(k, AttestationKey) {
			return true
		}
	}
	return false
}

// hasErrorKey reports whether out is a JSON object with an "error" key.
func hasErrorKey(out []byte) bool {
	var v map[string]json.RawMessage
	if json.Unmarshal(out, &v) != nil {
		return false
	}
	_, ok := v["error"]
	return ok
}

// isObjectOrArray reports whether out is one JSON object or array.
func isObjectOrArray(out []byte) bool {
	if len(out) == 0 || (out[0] != '{' && out[0] != '[') {
		return false
	}
	return json.Valid(out)
}

// errorBody returns status and {"error": msg}.
func errorBody(status int, msg string) (int, []byte) {
	b, _ := json.Marshal(map[string]string{"error": msg}) // a string map always marshals
	return status, append(b, '\n')
}

// sendError writes status and {"error": msg}.
func sendError(w http.ResponseWriter, status int, msg string) {
	status, body := errorBody(status, msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// Close destroys the server's enclave (Serve calls it when it stops). The function stays
// loaded: a later /run would create a fresh enclave.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.enc == nil {
		return nil
	}
	err := s.enc.Close(ctx)
	s.enc = nil
	if err != nil {
		return fmt.Errorf("destroy enclave: %w", err)
	}
	return nil
}

// Serve serves HTTP on l until ctx is done, then shuts down gracefully: it stops accepting
// connections, lets the requests in flight finish (for at most 30 s) and destroys the enclave.
// It returns nil after a shutdown that ctx asked for.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	var err error
	select {
	case err = <-errc:
		err = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		if serr := hs.Shutdown(sctx); serr != nil {
			hs.Close()
			err = fmt.Errorf("shutdown: %w", serr)
		}
		cancel()
		<-errc // http.ErrServerClosed
	}
	return errors.Join(err, s.Close(context.WithoutCancel(ctx)))
}

// ListenAndServe listens on addr (host:port; port 0 picks one), writes ListeningPrefix and
// the address to log, and serves a new Server with opts until ctx is done (see Server.Serve).
func ListenAndServe(ctx context.Context, addr string, opts Options, log io.Writer) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Fprintf(log, "%s%s\n", ListeningPrefix, l.Addr())
	return New(opts).Serve(ctx, l)
}
