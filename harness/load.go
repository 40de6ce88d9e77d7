package harness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/results"
)

// invoker serves one worker's invocations: an embedded [Session] (target embedded), or a
// connection to enclaves outside the driver's process (targets process and openwhisk).
type invoker interface {
	// Prepare readies the worker before its first invocation (creates a kept enclave).
	Prepare(ctx context.Context) error
	// Invoke runs one invocation; the error is the worker's (it cannot go on), the
	// invocation's own failure is in Call.Err.
	Invoke(ctx context.Context, input []byte, nonce *[32]byte) (*Call, error)
	// Close releases the worker's enclaves.
	Close(ctx context.Context) error
}

// groupRun is one group being run: its workers (each with its own enclave), the
// record fields every record of the group shares, and the group's sequence counter.
type groupRun struct {
	r       *runner
	g       group
	base    results.Record
	workers []invoker
	seq     atomic.Int64
	out     chan<- []pending
	// bufs batch the records of each worker (the last one: of dropped arrivals) before they
	// go to the stream: sending each alone would wake the encoder for every invocation, which
	// costs microseconds on the invocation's path. A buffer is used by one goroutine at a time.
	bufs []recordBuffer
}

// recordBuffer batches records on their way to the stream.
type recordBuffer struct {
	recs []pending
	sent time.Time
}

// emit queues rec in buffer i and sends the batch when it is full or has waited 50 ms (so that
// progress stays live when invocations are slow).
func (gr *groupRun) emit(i int, p pending) {
	b := &gr.bufs[i]
	b.recs = append(b.recs, p)
	// The invocation's end, from its own timing: reading the clock again would cost the
	// invocation's path another tenth of a microsecond.
	now := p.intended
	if c := p.call; c != nil {
		now = c.Start.Add(c.Latency)
	}
	if len(b.recs) >= 64 || now.Sub(b.sent) >= 50*time.Millisecond {
		gr.flush(i)
	}
}

func (gr *groupRun) flush(i int) {
	b := &gr.bufs[i]
	if len(b.recs) > 0 {
		gr.r.sent.Add(int64(len(b.recs)))
		gr.out <- b.recs
		b.recs = make([]pending, 0, 64)
	}
	b.sent = time.Now()
}

// group runs one group: it prepares a session per worker, warms each up, then issues the
// measured invocations as the load model says.
func (r *runner) group(ctx context.Context, g group, out chan<- []pending) error {
	ecfg := r.enclaveConfig(g.cfg, g.mode, g.compartments)
	gr := &groupRun{r: r, g: g, out: out, bufs: make([]recordBuffer, g.concurrency+1)}
	defer func() { // every record reaches the stream, however the group ends
		for i := range gr.bufs {
			gr.flush(i)
		}
	}()
	gr.base = results.Record{
		SchemaVersion: results.SchemaVersion,
		Target:        g.cfg.Target,
		Experiment:    g.cfg.Experiment,
		Workload:      g.workload(), // a mix's records name the function that ran (pending.record)
		Mode:          g.mode,
		Size:          g.cfg.Size,
		MemoryBytes:   ecfg.MemoryBytes,
		Compartments:  g.compartments,
		Attestation:   g.cfg.Enclave.Attestation,
		CompileCache:  g.cfg.Enclave.CompileCache,
		Load:          g.cfg.Load.Model,
		Concurrency:   g.concurrency,
		Repetition:    g.round,
		Round:         g.round,
		InputBytes:    len(g.t.input),
	}
	if g.mix != nil {
		gr.base.Mix = g.mix.name
	}
	if g.mode == "rewind" || g.mode == ModeGeneric {
		gr.base.Strategy = string(ecfg.Strategy) // what ran, when the enclave says (Call.Fill)
		gr.base.StrategyConfigured = string(ecfg.Strategy)
		gr.base.SnapshotPoint = string(ecfg.SnapshotPoint)
	}
	defer func() {
		for _, s := range gr.workers {
			s.Close(context.WithoutCancel(ctx))
		}
	}()
	for w := range g.concurrency {
		s, err := r.newInvoker(ctx, g, ecfg, w)
		if err != nil {
			return err
		}
		gr.workers = append(gr.workers, s)
		if err := s.Prepare(ctx); err != nil {
			return fmt.Errorf("create enclave: %w", err)
		}
	}
	for w, s := range gr.workers {
		for range *g.cfg.Warmup {
			if err := gr.invoke(ctx, s, w, true, time.Time{}); err != nil {
				return err
			}
		}
	}
	n := g.cfg.IterationsFor(g.mode)
	switch g.cfg.Load.Model {
	case LoadOpen:
		return gr.open(ctx, n)
	case LoadBurst:
		return gr.burst(ctx, n)
	}
	return gr.closed(ctx, n, g.cfg.Load.Duration)
}

// invoke runs one invocation on session s (worker w) and emits its record. intended is when
// the invocation was due (open and burst models); zero means now. The error is fatal for the
// group: an enclave could not be created or destroyed, or the run was interrupted.
func (gr *groupRun) invoke(ctx context.Context, s invoker, w int, warmup bool, intended time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	var nonce *[32]byte
	if gr.g.cfg.Enclave.Attestation == "inner" {
		n := attest.NewNonce()
		nonce = &n
	}
	seq := int(gr.seq.Add(1) - 1)
	t := gr.g.t
	if d, ok := s.(drawer); ok { // a mix, or mode generic: the worker draws the function
		t = d.draw()
	}
	c, err := s.Invoke(ctx, t.input, nonce)
	if err != nil {
		return err
	}
	if c.Err != nil && ctx.Err() != nil && enclave.KindOf(c.Err) == enclave.KindCanceled {
		return fmt.Errorf("interrupted: %w", ctx.Err()) // not an outcome of the function
	}
	gr.emit(w, pending{gr: gr, t: t, call: c, seq: seq, worker: w, warmup: warmup, intended: intended})
	return nil
}

// pending is an invocation on its way to the stream: the record's configuration fields with
// the call it describes. The rest of the record (phases, output hash, validation) is filled
// in by the stream's consumer ([pending.record]), off the invocation's path: building a map
// and hashing and checking the output cost microseconds, more than the driver may add to an
// invocation.
type pending struct {
	gr       *groupRun
	t        *target // the workload that ran; nil for a dropped arrival
	call     *Call   // nil for a dropped arrival
	seq      int
	worker   int
	warmup   bool
	intended time.Time // when an open or burst arrival was due; zero otherwise
}

// record makes the record.
func (p *pending) record() results.Record {
	c, gr := p.call, p.gr
	rec := gr.base
	rec.Seq, rec.Worker, rec.Warmup = p.seq, p.worker, p.warmup
	if c == nil { // a dropped arrival
		rec.Dropped = true
		rec.IntendedStartNs = p.intended.Sub(gr.r.start).Nanoseconds()
		rec.StartNs = rec.IntendedStartNs
		return rec
	}
	t := p.t
	if gr.g.mix != nil {
		rec.Workload, rec.InputBytes = t.w.Name, len(t.input)
	}
	if c.Remote != nil {
		rec = c.Remote(rec)
	} else {
		c.Fill(&rec, gr.g.mode)
	}
	rec.StartNs = c.Start.Sub(gr.r.start).Nanoseconds()
	rec.IntendedStartNs = rec.StartNs
	if !p.intended.IsZero() {
		// Latency counts from when the invocation was due, so that an overloaded system's
		// queueing is not hidden (coordinated omission).
		rec.IntendedStartNs = p.intended.Sub(gr.r.start).Nanoseconds()
		if late := c.Start.Sub(p.intended); late > 0 {
			rec.LatencyNs += late.Nanoseconds()
			if c.Invocation != nil {
				rec.ResponseNs += late.Nanoseconds()
			}
		}
	}
	if exp := t.expect; exp != nil && (c.Clean || !t.w.Stateful) {
		err := c.Err
		if err == nil {
			err = exp.Check(c.output())
		} else {
			err = fmt.Errorf("the invocation failed: %w", err)
		}
		ok := err == nil
		rec.Valid = &ok
		if err != nil {
			rec.Invalid = err.Error()
		}
	}
	return rec
}

// drop emits the record of an arrival that was not issued because every worker was busy.
func (gr *groupRun) drop(intended time.Time) {
	gr.emit(len(gr.bufs)-1, pending{gr: gr, seq: int(gr.seq.Add(1) - 1), worker: -1, intended: intended})
}

// closed runs the closed model: every worker starts its next invocation as soon as its last
// one ended, until n measured invocations have been issued in all or, when d > 0, until d
// has passed.
func (gr *groupRun) closed(ctx context.Context, n int, d time.Duration) error {
	var issued atomic.Int64
	var end time.Time
	if d > 0 {
		end = time.Now().Add(d)
	}
	return gr.run(ctx, func(ctx context.Context, w int, s invoker) error {
		for {
			if d > 0 {
				if !time.Now().Before(end) {
					return nil
				}
			} else if issued.Add(1) > int64(n) {
				return nil
			}
			if err := gr.invoke(ctx, s, w, false, time.Time{}); err != nil {
				return err
			}
		}
	})
}

// run runs fn once per worker, concurrently, and returns the first error; a failing
// worker cancels the others through the group's context.
func (gr *groupRun) run(parent context.Context, fn func(ctx context.Context, w int, s invoker) error) error {
	if len(gr.workers) == 1 {
		return fn(parent, 0, gr.workers[0])
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	errs := make([]error, len(gr.workers))
	var wg sync.WaitGroup
	for w, s := range gr.workers {
		wg.Go(func() {
			if errs[w] = fn(ctx, w, s); errs[w] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	if err := parent.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	return firstError(errs)
}

// firstError returns the first error that is not a consequence of another worker's failure
// (an interruption by the group's own cancellation), or the first error at all.
func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(errs...)
}

// open runs the open model: n arrivals at the configured rate, constant or Poisson, each
// issued at its time to a free worker whether or not earlier ones have finished; an arrival
// that finds every worker busy is dropped (and recorded as such).
func (gr *groupRun) open(ctx context.Context, n int) error {
	l := gr.g.cfg.Load
	gap := time.Duration(float64(time.Second) / l.Rate)
	rng := rand.New(rand.NewPCG(l.Seed, uint64(gr.g.round)))
	var offset time.Duration
	return gr.schedule(ctx, n, func(i int) (time.Duration, int) {
		if i > 0 {
			if l.Arrivals == "poisson" {
				offset += time.Duration(rng.ExpFloat64() * float64(time.Second) / l.Rate)
			} else {
				offset = time.Duration(i) * gap
			}
		}
		return offset, 1
	})
}

// burst runs the burst model: n arrivals in bursts of burst_size, one burst every
// burst_interval; arrivals beyond the free workers are dropped.
func (gr *groupRun) burst(ctx context.Context, n int) error {
	l := gr.g.cfg.Load
	return gr.schedule(ctx, n, func(i int) (time.Duration, int) {
		return time.Duration(i) * l.BurstInterval, l.BurstSize
	})
}

// schedule issues n arrivals: next(i) gives the offset from the start of the i-th batch of
// arrivals and how many arrive together. Each arrival takes a free worker or is dropped.
func (gr *groupRun) schedule(parent context.Context, n int, next func(i int) (time.Duration, int)) error {
	free := make(chan int, len(gr.workers))
	for w := range gr.workers {
		free <- w
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	t0 := time.Now()
	issued := 0
	for batch := 0; issued < n; batch++ {
		offset, k := next(batch)
		due := t0.Add(offset)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		for ; k > 0 && issued < n; k-- {
			issued++
			select {
			case w := <-free:
				wg.Go(func() {
					if err := gr.invoke(ctx, gr.workers[w], w, false, due); err != nil {
						fail(err)
					}
					free <- w
				})
			default:
				gr.drop(due)
			}
		}
	}
	wg.Wait()
	if err := parent.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	return firstErr
}
