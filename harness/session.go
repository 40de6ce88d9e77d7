package harness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/results"
)

// Session serves a sequence of invocations of one function in one mode: the invocation life
// cycle that the driver's workers and `reclave invoke` share. In mode cold every invocation
// creates a one-shot enclave and destroys it; in the other modes one enclave serves them all,
// reset after each as the mode says (see [ResetFor]), and is re-created when an invocation left
// it unusable ([enclave.ErrUnusable]). The session of a worker of mode generic holds a
// generic enclave instead, which loads the function of each invocation (see genericWorker).
// A Session is used by one goroutine at a time.
type Session struct {
	mode string
	cfg  enclave.Config
	fn   enclave.Function
	enc  *enclave.Enclave
	used bool // the enclave's state is not clean: it served an invocation and was not reset
	// generic: the enclave is generic (mode generic, [enclave.CreateGeneric]) and fn is the
	// function of the next invocation, loaded into it (see genericWorker).
	generic bool

	// OnWarning, when set, receives each warning of an enclave the session creates (for
	// example the init randomness hazard).
	OnWarning func(string)
}

// NewSession returns a session serving fn's invocations in mode (cold, warm, reinstantiate or
// rewind) with enclaves configured by cfg; cfg's Reset and OneShot are set from mode.
func NewSession(mode string, cfg enclave.Config, fn enclave.Function) (*Session, error) {
	var err error
	if cfg.Reset, cfg.OneShot, err = ResetFor(mode); err != nil {
		return nil, err
	}
	return &Session{mode: mode, cfg: cfg, fn: fn}, nil
}

// Mode returns the session's mode.
func (s *Session) Mode() string { return s.mode }

// Prepare creates the enclave of a session whose mode keeps one (every mode but cold), so that
// its creation is not counted in an invocation. It is a no-op when the enclave exists or the
// mode is cold.
func (s *Session) Prepare(ctx context.Context) error {
	if s.cfg.OneShot || s.enc != nil {
		return nil
	}
	_, err := s.create(ctx)
	return err
}

func (s *Session) create(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	var enc *enclave.Enclave
	var err error
	if s.generic {
		enc, err = enclave.CreateGeneric(ctx, s.cfg)
	} else {
		enc, err = enclave.Create(ctx, s.cfg, s.fn)
	}
	if err != nil {
		return 0, err
	}
	d := time.Since(start)
	s.enc, s.used = enc, false
	if s.OnWarning != nil {
		for _, w := range enc.Warnings() {
			s.OnWarning(w)
		}
	}
	return d, nil
}

// Call is the outcome of one invocation served by a [Session].
type Call struct {
	// Invocation is the enclave's account of the invocation; nil when the function did not
	// run (Err says why).
	Invocation *enclave.Invocation
	// Err is the invocation's error (see [enclave.InvokeError]); nil on success.
	Err error
	// Enclave is the enclave that served the invocation. In mode cold it is already
	// destroyed, but its identity, measurements and evidence can still be read.
	Enclave *enclave.Enclave
	// Creation holds the phases of the enclave's creation when this invocation created it (mode
	// cold, or a re-creation after an unusable enclave), and Created their total.
	Creation []enclave.Phase
	Created  time.Duration
	// Destroy is the time destroying the enclave took (mode cold).
	Destroy time.Duration
	// Start is when the invocation started; Latency the service time from Start until the
	// session was ready for the next invocation; Response from Start until the output was
	// available.
	Start    time.Time
	Latency  time.Duration
	Response time.Duration
	// Clean is true when the invocation ran on clean state: a new enclave, or one reset since
	// its last invocation (false for the second and later invocations of mode warm).
	Clean bool

	// Output is the output of an invocation served outside the driver's process (targets
	// process and openwhisk); nil for an embedded one, whose output is in Invocation.
	Output []byte
	// Remote, for an invocation served outside the driver's process, fills a record from
	// what the target reported (it replaces [Call.Fill]); nil for an embedded one.
	Remote func(base results.Record) results.Record
}

// output returns the invocation's output.
func (c *Call) output() []byte {
	if c.Invocation != nil {
		return c.Invocation.Output
	}
	return c.Output
}

// Invoke runs one invocation with input (attested with nonce when nonce is not nil). The
// returned error is the session's: an enclave could not be created or destroyed, and the
// session cannot go on. The invocation's own failure is in Call.Err.
func (s *Session) Invoke(ctx context.Context, input []byte, nonce *[32]byte) (*Call, error) {
	c := &Call{}
	// The invocation's own clock (Invocation.Start and Total) times it when nothing else
	// happens around it; reading the clock costs a tenth of a microsecond or more here, and
	// the driver must add little to an invocation.
	var start time.Time
	if s.enc == nil {
		start = time.Now()
		d, err := s.create(ctx)
		if err != nil {
			return nil, fmt.Errorf("create enclave: %w", err)
		}
		c.Created, c.Creation = d, s.enc.CreationPhases()
	}
	enc := s.enc
	c.Enclave, c.Clean = enc, !s.used
	switch {
	case s.generic && nonce != nil:
		c.Invocation, c.Err = enc.InvokeFunctionAttested(ctx, s.fn, input, *nonce)
	case s.generic:
		c.Invocation, c.Err = enc.InvokeFunction(ctx, s.fn, input)
	case nonce != nil:
		c.Invocation, c.Err = enc.InvokeAttested(ctx, input, *nonce)
	default:
		c.Invocation, c.Err = enc.Invoke(ctx, input)
	}
	inv := c.Invocation
	switch {
	case start.IsZero() && inv != nil:
		c.Start = inv.Start
	case start.IsZero():
		c.Start = time.Now() // the function did not run: nothing to time
	default:
		c.Start = start
	}
	closed := false
	switch {
	case s.cfg.OneShot:
		d := time.Now()
		err := enc.Close(context.WithoutCancel(ctx))
		c.Destroy = time.Since(d)
		s.enc, closed = nil, true
		if err != nil {
			return nil, fmt.Errorf("destroy enclave: %w", err)
		}
	case errors.Is(c.Err, enclave.ErrUnusable) || inv != nil && inv.Reset == enclave.ResetRetire:
		enc.Close(context.WithoutCancel(ctx))
		s.enc, closed = nil, true // the next invocation creates a new one
	}
	if inv != nil && start.IsZero() && !closed {
		c.Latency = inv.Total
	} else {
		c.Latency = time.Since(c.Start)
	}
	// The state is left unclean when nothing reset it: only after an invocation of mode warm
	// that the enclave did not have to recycle.
	s.used = inv == nil || inv.Reset == enclave.ResetNone
	if inv != nil {
		c.Response = c.Created + inv.Response
	}
	return c, nil
}

// Close destroys the session's enclave, if it has one.
func (s *Session) Close(ctx context.Context) error {
	if s.enc == nil {
		return nil
	}
	err := s.enc.Close(ctx)
	s.enc = nil
	return err
}

// Fill writes the call's timings and outcome into rec: latency, response, reset and execution
// times, the phases (creation phases first when the call created the enclave: in mode cold,
// or "recreate" for a re-creation after an unusable enclave), the reset, the memory figures,
// the output's size and hash, the host calls (those of the creation count with the reset's)
// and the error. Fields that describe the run's configuration are
// the caller's.
func (c *Call) Fill(rec *results.Record, mode string) {
	rec.LatencyNs = c.Latency.Nanoseconds()
	rec.PhasesNs = make(map[string]int64, 12)
	if c.Creation != nil {
		if mode == "cold" {
			for _, p := range c.Creation {
				rec.PhasesNs[p.Name] = p.Duration.Nanoseconds()
			}
		} else {
			rec.PhasesNs["recreate"] = c.Created.Nanoseconds()
		}
	}
	if c.Enclave != nil {
		rec.EnclaveID = c.Enclave.ID()
	}
	if inv := c.Invocation; inv != nil {
		rec.ResponseNs = c.Response.Nanoseconds()
		rec.RewindNs = rec.LatencyNs - rec.ResponseNs
		rec.ExecNs = inv.Exec.Nanoseconds()
		for _, p := range inv.Phases {
			rec.PhasesNs[p.Name] = p.Duration.Nanoseconds()
		}
		rec.Reset = string(inv.Reset)
		if inv.Strategy != "" {
			rec.Strategy = string(inv.Strategy)
		}
		rec.StrategyNote = inv.StrategyNote
		rec.Epoch = inv.Epoch
		rec.MemoryPages = inv.MemoryPages
		rec.PagesRestored = inv.PagesRestored
		rec.BytesRestored = inv.BytesRestored
		rec.OutputBytes = len(inv.Output)
		rec.OutputSHA256 = sha256Hex(inv.Output)
		if inv.Load != nil { // a generic enclave's invocation
			hit := inv.Load.CacheHit
			rec.CompileCacheHit = &hit
		}
		c.fillHostCalls(rec)
	}
	if mode == "cold" {
		rec.PhasesNs["destroy"] = c.Destroy.Nanoseconds()
		rec.Reset = string(enclave.ResetCreate)
	}
	if c.Err != nil {
		rec.Error = c.Err.Error()
		rec.ErrorKind = string(enclave.KindOf(c.Err))
	}
}

// sha256Hex is the hex SHA-256 of b, as records carry output hashes.
func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
