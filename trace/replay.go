package trace

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/workloads"
)

// ColdBoundPP is the agreement check of a replay: the replay's cold-start fraction and the
// simulator's over the same slice differ by at most this many percentage points.
const ColdBoundPP = 2.0

// ReplayOptions configure [Replay].
type ReplayOptions struct {
	// Policy is the policy's name; Reuse the reuse technique (rewind, reinstantiate or
	// warm; none with policy none). Generic is not replayed (see the package doc).
	Policy, Reuse string
	// PolicyOptions parameterise the policy (their TTL is in the trace's time after the
	// speed-up, as every time of the replay).
	PolicyOptions PolicyOptions
	// CapacityBytes is the enclave memory the replay may hold (one node); 0 means unbounded.
	CapacityBytes int64
	// Mapping maps functions onto the workloads measured in the costs.
	Mapping Mapping
	// MemoryBytes is the size of every enclave; 0 means 16 MiB.
	MemoryBytes int64
	// Records receives every record, in order of completion; nil discards them.
	Records func(*results.Record) error
}

// ReplayReport is a replay's outcome and its agreement with the simulator over the same
// slice: summary.json's replay object (see the package doc, "Output").
type ReplayReport struct {
	Policy  string  `json:"policy"`
	Reuse   string  `json:"reuse"`
	SpeedUp float64 `json:"speed_up"`
	// WallNs is the replay's wall time; Cores the CPUs it ran on.
	WallNs int64 `json:"wall_ns"`
	Cores  int   `json:"cores"`
	// Errors counts invocations that failed.
	Errors int64 `json:"errors"`
	// Result is the replay's own outcome, in the fields of a simulated policy: memory-time
	// and timeline measured on the real enclaves in the replay's (sped-up, wall) time, as
	// the simulation of the slice has them; the simulator's own speed is not measured
	// (zero).
	Result PolicyResult `json:"result"`
	// Agreement compares it with the simulation of the same slice.
	Agreement Agreement `json:"agreement"`
}

// Agreement compares a replay with the simulation of the same slice, policy and costs.
type Agreement struct {
	// ColdFractionSim and ColdFractionReplay are the cold-start fractions; ColdDiffPP their
	// difference (replay − simulator) in percentage points, ColdOK whether |ColdDiffPP| is
	// at most BoundPP — the check.
	ColdFractionSim    float64 `json:"cold_fraction_sim"`
	ColdFractionReplay float64 `json:"cold_fraction_replay"`
	ColdDiffPP         float64 `json:"cold_diff_pp"`
	BoundPP            float64 `json:"bound_pp"`
	ColdOK             bool    `json:"cold_ok"`
	// DecisionsDiffer counts the invocations that one engine served cold and the other not.
	DecisionsDiffer int64 `json:"decisions_differ"`
	// ColdFractionObserved and DecisionsDifferObserved are those of the simulator run over
	// the slice a second time with each invocation's busy time (start of service to the
	// enclave free again, less the trace's duration) as the replay observed it, CPU
	// queueing included, where both engines decided alike: the same decisions given the
	// same timings, which no CPU contention changes. ColdObservedOK is |replay −
	// ColdFractionObserved| ≤ BoundPP.
	ColdFractionObserved    float64 `json:"cold_fraction_observed"`
	DecisionsDifferObserved int64   `json:"decisions_differ_observed"`
	ColdObservedOK          bool    `json:"cold_observed_ok"`
	// MemoryObservedGBs is the memory-time of that simulation: the replay's should match it.
	MemoryObservedGBs MemoryGBs `json:"memory_gb_s_observed"`
	// LatencySimNs, LatencyReplayNs, StartupSimNs and StartupReplayNs are the latency and
	// start-up latency of both engines: reported, not gated.
	LatencySimNs    Latency `json:"latency_sim_ns"`
	LatencyReplayNs Latency `json:"latency_replay_ns"`
	StartupSimNs    Latency `json:"startup_sim_ns"`
	StartupReplayNs Latency `json:"startup_replay_ns"`
	// DispatchLagNs is how late the replay issued its invocations (start less intended
	// start). CPUQueueingNs is, per invocation, the replay's start-up latency less its
	// wait for memory and less what the simulator charges for its decision (the measured
	// cold start or reuse cost): the CPU queueing (and dispatch lag) of real enclaves
	// sharing the machine's cores, which the simulator does not model.
	DispatchLagNs Latency `json:"dispatch_lag_ns"`
	CPUQueueingNs Latency `json:"cpu_queueing_ns"`
	// MemorySimGBs and MemoryReplayGBs are the memory-time of both engines (GiB × s of the
	// replay's time, busy and idle): reported, not gated.
	MemorySimGBs    MemoryGBs `json:"memory_gb_s_sim"`
	MemoryReplayGBs MemoryGBs `json:"memory_gb_s_replay"`
}

// replayEnclave is one enclave of the replay.
type replayEnclave struct {
	id    int32
	sess  *harness.Session
	pool  int
	state uint8
	gen   uint32
	prio  float64
	until int64 // a pre-warmed enclave's keep-alive
	since int64 // when its memory-time was last accounted (replay time)
}

type replayPool struct {
	idle         []*replayEnclave // most recently used last
	busy, live   int
	prewarmGen   uint32
	prewarmUntil int64
	lastFn       int32
}

// replayFn is what an invocation of a trace function runs.
type replayFn struct {
	workload string
	fn       enclave.Function
	input    []byte
}

// Replay events.
const (
	rvExpire uint8 = iota
	rvPrewarm
)

// replayDone is a worker's report to the replay's loop.
type replayDone struct {
	enc      *replayEnclave
	inv      Invocation
	seq      int
	served   int64 // when the loop served it (replay time)
	cold     bool
	queued   int64 // ns waited for room; -1 not queued
	prewarm  bool  // a pre-warmed enclave is ready (no invocation)
	err      error // the session's error
	call     *harness.Call
	dispatch time.Time
	end      time.Time
}

type replayWait struct {
	inv   Invocation
	seq   int
	since int64
}

// replayer is one replay: one policy × reuse technique over a trace on real enclaves.
type replayer struct {
	ctx    context.Context
	tr     *Trace
	costs  *Costs
	policy Policy
	ticker Ticker
	reuse  string
	mode   string // the sessions' mode
	opts   ReplayOptions

	wl    []int
	fns   []replayFn
	bytes int64
	pools []replayPool
	used  int64
	queue []replayWait

	events eventQueue
	encl   []*replayEnclave // by id, for the events
	free   []int32          // ids of destroyed enclaves
	evSeq  uint64
	t0     time.Time
	done   chan replayDone
	wg     sync.WaitGroup
	busy   int // invocations and pre-warms in flight

	rep          ReplayReport
	lat, startup *hdrhistogram.Histogram
	lag, cpu     *hdrhistogram.Histogram
	cold         map[[2]int64]bool
	// Per invocation (function, intended arrival): when the loop took its arrival, and how
	// long its enclave was busy from its start of service, less its duration.
	arrivedAt map[[2]int64]int64
	busyObs   map[[2]int64]int64
	recErr    error
	nextTick  int64

	// Memory-time of the enclaves held (bytes × ns of replay time, busy and idle), the
	// enclaves busy, and the timeline's next sample and bin.
	busyByteNs, idleByteNs float64
	busyEncl               int64
	nextBin, bin           int64
}

// Busy implements View.
func (r *replayer) Busy(pool int) int { return r.pools[pool].busy }

// Live implements View.
func (r *replayer) Live(pool int) int { return r.pools[pool].live }

func (r *replayer) now() int64 { return time.Since(r.t0).Nanoseconds() }

// Replay drives real enclaves of the embedded runtime with policy opts.Policy and reuse
// technique opts.Reuse over the trace t (already cut and sped up as loaded), then simulates
// the same trace with the same costs c and policy, and returns both outcomes and their
// agreement. See the package doc ("Replay") for the model. On cancellation it stops issuing
// arrivals, lets the invocations in flight finish, and returns ctx's error with what it has.
func Replay(ctx context.Context, t *Trace, c *Costs, opts ReplayOptions) (*ReplayReport, *PolicyResult, error) {
	r, err := newReplayer(ctx, t, c, opts)
	if err != nil {
		return nil, nil, err
	}
	runErr := r.run()
	r.finish()
	if runErr != nil {
		return &r.rep, nil, runErr
	}
	// The simulator over the same slice, policy and costs, with each decision kept.
	p, err := NewPolicy(opts.Policy, opts.PolicyOptions)
	if err != nil {
		return nil, nil, err
	}
	var differ int64
	sim, err := Simulate(ctx, t, c, p, r.reuse, SimOptions{CapacityBytes: opts.CapacityBytes, Mapping: opts.Mapping,
		Policy: opts.PolicyOptions, TimelineBinNs: r.bin, OnServe: func(inv Invocation, cold bool) {
			if rc, ok := r.cold[[2]int64{int64(inv.Func), inv.Arrival}]; ok && rc != cold {
				differ++
			}
		}})
	if err != nil {
		return &r.rep, nil, fmt.Errorf("replay: simulate the slice: %w", err)
	}
	a := &r.rep.Agreement
	a.ColdFractionSim, a.ColdFractionReplay = sim.ColdFraction, r.rep.Result.ColdFraction
	a.ColdDiffPP = 100 * (a.ColdFractionReplay - a.ColdFractionSim)
	a.BoundPP = ColdBoundPP
	a.ColdOK = math.Abs(a.ColdDiffPP) <= ColdBoundPP
	a.DecisionsDiffer = differ
	a.LatencySimNs, a.StartupSimNs = sim.LatencyNs, sim.StartupNs
	a.LatencyReplayNs, a.StartupReplayNs = r.rep.Result.LatencyNs, r.rep.Result.StartupNs
	a.MemorySimGBs, a.MemoryReplayGBs = sim.MemoryGBs, r.rep.Result.MemoryGBs

	// Again with the replay's own timings: each arrival when the replay's loop took it, each
	// enclave busy as long as the replay's was.
	if p, err = NewPolicy(opts.Policy, opts.PolicyOptions); err != nil {
		return nil, nil, err
	}
	var differObs int64
	byObserved := map[[2]int64][2]int64{} // (function, observed arrival) → (function, intended)
	for k, at := range r.arrivedAt {
		byObserved[[2]int64{k[0], at}] = k
	}
	obs, err := Simulate(ctx, observedArrivals(t, r.arrivedAt), c, p, r.reuse, SimOptions{CapacityBytes: opts.CapacityBytes,
		Mapping: opts.Mapping, Policy: opts.PolicyOptions, TimelineBinNs: r.bin,
		OnServe: func(inv Invocation, cold bool) {
			if rc, ok := r.cold[byObserved[[2]int64{int64(inv.Func), inv.Arrival}]]; ok && rc != cold {
				differObs++
			}
		},
		BusyNs: func(inv Invocation, cold bool) (int64, bool) {
			k := byObserved[[2]int64{int64(inv.Func), inv.Arrival}]
			if rc, ok := r.cold[k]; !ok || rc != cold {
				return 0, false
			}
			b, ok := r.busyObs[k]
			return b, ok
		}})
	if err != nil {
		return &r.rep, nil, fmt.Errorf("replay: simulate the slice with its timings: %w", err)
	}
	a.ColdFractionObserved, a.DecisionsDifferObserved = obs.ColdFraction, differObs
	a.MemoryObservedGBs = obs.MemoryGBs
	a.ColdObservedOK = math.Abs(100*(a.ColdFractionReplay-a.ColdFractionObserved)) <= ColdBoundPP
	return &r.rep, sim, nil
}

func newReplayer(ctx context.Context, t *Trace, c *Costs, opts ReplayOptions) (*replayer, error) {
	policy, err := NewPolicy(opts.Policy, opts.PolicyOptions)
	if err != nil {
		return nil, err
	}
	reuse := opts.Reuse
	mode := reuse
	switch {
	case policy.Name() == PolicyNone:
		reuse, mode = ReuseNone, "cold"
	case reuse == ReuseRewind || reuse == ReuseReinstantiate || reuse == ReuseWarm:
	default:
		return nil, fmt.Errorf("replay: reuse %q: want rewind, reinstantiate or warm (generic is simulated only)", reuse)
	}
	if opts.MemoryBytes == 0 {
		opts.MemoryBytes = 16 << 20
	}
	r := &replayer{ctx: ctx, tr: t, costs: c, policy: policy, reuse: reuse, mode: mode, opts: opts,
		done: make(chan replayDone, 64), cold: map[[2]int64]bool{},
		arrivedAt: map[[2]int64]int64{}, busyObs: map[[2]int64]int64{}}
	r.ticker, _ = policy.(Ticker)
	if r.wl, err = opts.Mapping.Map(t, c); err != nil {
		return nil, err
	}
	all, err := workloads.Builtin()
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	byName := map[string]replayFn{}
	for _, w := range c.Workloads {
		i := slices.IndexFunc(all, func(x *workloads.Workload) bool { return x.Name == w.Workload })
		if i < 0 {
			return nil, fmt.Errorf("replay: workload %q is not built in", w.Workload)
		}
		fn, err := harness.FunctionOf(all[i])
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		in, err := all[i].Input("test")
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		byName[w.Workload] = replayFn{workload: w.Workload, fn: fn, input: in}
		// The simulator charges every enclave the measured size; the replay holds the same.
		r.bytes = max(r.bytes, w.MemoryBytes)
	}
	if r.bytes == 0 {
		r.bytes = opts.MemoryBytes
	}
	if opts.CapacityBytes > 0 && r.bytes > opts.CapacityBytes {
		return nil, fmt.Errorf("replay: an enclave of %d bytes does not fit a capacity of %d bytes", r.bytes, opts.CapacityBytes)
	}
	for fn := range t.Functions {
		r.fns = append(r.fns, byName[c.Workloads[r.wl[fn]].Workload])
	}
	r.pools = make([]replayPool, len(t.Functions))
	env := PolicyEnv{Pools: len(r.pools), View: r}
	for p := range r.pools {
		r.pools[p].lastFn = int32(p)
		w := &c.Workloads[r.wl[p]]
		env.Bytes, env.ColdNs = append(env.Bytes, r.bytes), append(env.ColdNs, w.CreateNs)
	}
	policy.Start(env)
	r.lat = hdrhistogram.New(1, maxLatencyNs, 3)
	r.startup = hdrhistogram.New(1, maxLatencyNs, 3)
	r.lag = hdrhistogram.New(1, maxLatencyNs, 3)
	r.cpu = hdrhistogram.New(1, maxLatencyNs, 3)
	r.rep = ReplayReport{Policy: policy.Name(), Reuse: reuse, SpeedUp: t.Options.SpeedUp, Cores: runtime.NumCPU()}
	r.rep.Result = PolicyResult{Policy: policy.Name(), Reuse: reuse, Insecure: Insecure(reuse)}
	r.nextTick = Minute
	// The timeline samples the slice (seconds at a speed-up) in about 500 bins of at least 1 ms.
	r.bin = max(int64(time.Millisecond), t.Length/500)
	r.rep.Result.Timeline.BinNs = r.bin
	return r, nil
}

// run is the replay's loop: it alone touches the pools, the policy and the records.
func (r *replayer) run() (err error) {
	src, err := r.tr.Open(r.ctx)
	if err != nil {
		return err
	}
	defer src.Close()
	var next Invocation
	have := src.Next(&next)
	seq := 0
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	r.t0 = time.Now()
	start := r.t0
	defer func() {
		// Whatever ended the loop, let what runs finish and destroy what is left; invocations
		// still waiting for room when the replay was cancelled are not served.
		if r.ctx.Err() != nil {
			r.queue = nil
		}
		for r.busy > 0 {
			r.handleDone(<-r.done)
		}
		for p := range r.pools {
			for len(r.pools[p].idle) > 0 {
				r.destroy(r.pools[p].idle[0])
			}
		}
		r.wg.Wait()
		r.rep.WallNs = time.Since(start).Nanoseconds()
		if err == nil {
			err = r.recErr
		}
	}()
	for {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		now := r.now()
		r.dueEvents(now)
		for have && next.Arrival <= now {
			r.arrive(next, seq)
			seq++
			have = src.Next(&next)
		}
		if !have {
			if err := src.Err(); err != nil {
				return fmt.Errorf("replay: %w", err)
			}
			// Done once nothing runs or waits and the slice's time is over (as the simulator,
			// which holds what is kept until the trace's end).
			if r.busy == 0 && len(r.queue) == 0 && now >= r.tr.Length {
				return nil
			}
		}
		wake := int64(math.MaxInt64)
		if have {
			wake = next.Arrival
		} else if now < r.tr.Length {
			wake = r.tr.Length
		}
		if len(r.events) > 0 {
			wake = min(wake, r.events[0].t)
		}
		if r.ticker != nil && r.nextTick <= r.tr.Length {
			wake = min(wake, r.nextTick)
		}
		if r.nextBin <= r.tr.Length {
			wake = min(wake, r.nextBin)
		}
		if wake == math.MaxInt64 {
			wake = now + int64(time.Second)
		}
		timer.Reset(time.Duration(max(wake-r.now(), 0)))
		select {
		case d := <-r.done:
			r.handleDone(d)
		drain:
			for {
				select {
				case d := <-r.done:
					r.handleDone(d)
				default:
					break drain
				}
			}
		case <-timer.C:
		case <-r.ctx.Done():
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// dueEvents handles the keep-alive ends, pre-warms and minute ticks due by now.
func (r *replayer) dueEvents(now int64) {
	for r.nextBin <= r.tr.Length && r.nextBin <= now {
		r.sample()
	}
	for {
		if r.ticker != nil && r.nextTick <= r.tr.Length && r.nextTick <= now &&
			(len(r.events) == 0 || r.nextTick <= r.events[0].t) {
			r.tick(r.nextTick)
			r.nextTick += Minute
			continue
		}
		if len(r.events) == 0 || r.events[0].t > now {
			return
		}
		ev := r.events.pop()
		switch ev.kind {
		case rvExpire:
			if e := r.encl[ev.id]; e.state == stIdle && e.gen == ev.gen {
				r.destroy(e)
				r.drain(now)
			}
		case rvPrewarm:
			if p := &r.pools[ev.id]; ev.gen == p.prewarmGen && len(p.idle) == 0 {
				r.prewarm(int(ev.id), p.prewarmUntil)
			}
		}
	}
}

func (r *replayer) arrive(inv Invocation, seq int) {
	r.arrivedAt[[2]int64{int64(inv.Func), inv.Arrival}] = r.now()
	p := int(inv.Func)
	r.pools[p].lastFn = inv.Func
	r.policy.Arrive(p, inv.Arrival)
	r.rep.Result.Invocations++
	if len(r.queue) > 0 || !r.tryServe(inv, seq, -1) {
		r.queue = append(r.queue, replayWait{inv: inv, seq: seq, since: r.now()})
		r.rep.Result.Queued++
	}
}

// tryServe serves inv on an idle enclave of its pool, else on a new one; false when there is
// no room. queued is how long it waited (-1: it did not).
func (r *replayer) tryServe(inv Invocation, seq int, queued int64) bool {
	ps := &r.pools[inv.Func]
	if n := len(ps.idle); n > 0 {
		e := ps.idle[n-1]
		ps.idle = ps.idle[:n-1]
		e.gen++ // cancels its expiry
		r.serve(e, inv, seq, false, queued)
		return true
	}
	e := r.create(int(inv.Func), true)
	if e == nil {
		return false
	}
	r.serve(e, inv, seq, true, queued)
	return true
}

// create makes a new enclave of pool p (its session; the enclave itself is created by the
// worker that uses it), evicting idle ones when evict says so; nil when there is no room.
func (r *replayer) create(p int, evict bool) *replayEnclave {
	if c := r.opts.CapacityBytes; c > 0 && c-r.used < r.bytes {
		var idle int64
		for i := range r.pools {
			idle += int64(len(r.pools[i].idle)) * r.bytes
		}
		if !evict || c-r.used+idle < r.bytes {
			return nil
		}
		for c-r.used < r.bytes {
			var victim *replayEnclave
			for i := range r.pools {
				for _, e := range r.pools[i].idle {
					if victim == nil || e.prio < victim.prio {
						victim = e
					}
				}
			}
			pool, prio := victim.pool, victim.prio
			r.destroy(victim)
			r.rep.Result.Evictions++
			r.policy.Evicted(pool, prio)
		}
	}
	sess, err := harness.NewSession(r.mode, enclave.Config{MemoryBytes: r.opts.MemoryBytes}, r.fns[p].fn)
	if err != nil {
		// The mode was checked: a session cannot fail to be made.
		panic(fmt.Sprintf("replay: %v", err))
	}
	e := &replayEnclave{sess: sess, pool: p, state: stCreating, since: r.now()}
	r.busyEncl++
	if n := len(r.free); n > 0 {
		// A destroyed enclave's slot: its generation goes on, so that its events are stale.
		e.id, r.free = r.free[n-1], r.free[:n-1]
		e.gen = r.encl[e.id].gen + 1
		r.encl[e.id] = e
	} else {
		e.id = int32(len(r.encl))
		r.encl = append(r.encl, e)
	}
	r.used += r.bytes
	r.pools[p].live++
	r.rep.Result.EnclavesCreated++
	r.rep.Result.PeakMemoryBytes = max(r.rep.Result.PeakMemoryBytes, r.used)
	return e
}

// serve starts inv on enclave e in a worker.
func (r *replayer) serve(e *replayEnclave, inv Invocation, seq int, cold bool, queued int64) {
	if e.state != stBusy {
		r.setState(e, stBusy)
		r.pools[e.pool].busy++
	}
	if cold {
		r.rep.Result.ColdStarts++
	}
	r.cold[[2]int64{int64(inv.Func), inv.Arrival}] = cold
	r.busy++
	r.wg.Add(1)
	f := r.fns[inv.Func]
	served := r.now()
	go func() {
		defer r.wg.Done()
		d := replayDone{enc: e, inv: inv, seq: seq, cold: cold, queued: queued, dispatch: time.Now(), served: served}
		// An invocation started runs to its end, cancelled or not: Ctrl-C keeps it.
		ctx := context.WithoutCancel(r.ctx)
		d.call, d.err = e.sess.Invoke(ctx, f.input, nil)
		if inv.Duration > 0 {
			// The trace's duration (sped up) keeps the enclave busy, outside the function.
			t := time.NewTimer(time.Duration(inv.Duration))
			select {
			case <-t.C:
			case <-r.ctx.Done():
				t.Stop()
			}
		}
		d.end = time.Now()
		r.done <- d
	}()
}

// handleDone takes a worker's report.
func (r *replayer) handleDone(d replayDone) {
	r.busy--
	e := d.enc
	now := r.now()
	if d.prewarm {
		if d.err != nil {
			r.record(d) // a failed pre-warm is an error without invocation
			r.destroy(e)
			return
		}
		r.makeIdle(e, Keep{Until: e.until, Priority: float64(now)})
		r.drain(now)
		return
	}
	r.record(d)
	r.busyObs[[2]int64{int64(d.inv.Func), d.inv.Arrival}] = max(now-d.served-d.inv.Duration, 0)
	p := e.pool
	if d.err != nil {
		// The session cannot go on (its enclave could not be created or destroyed).
		r.setState(e, stIdle)
		r.pools[p].busy--
		r.destroy(e)
		r.drain(now)
		return
	}
	if r.reuse != ReuseNone && len(r.queue) > 0 && int(r.queue[0].inv.Func) == p {
		w := r.queue[0]
		r.queue = r.queue[1:]
		r.serve(e, w.inv, w.seq, false, now-w.since)
		r.drain(now)
		return
	}
	r.setState(e, stIdle)
	r.pools[p].busy--
	k := r.policy.Idle(p, now)
	if k.Until <= now {
		r.destroy(e)
	} else {
		r.makeIdle(e, k)
	}
	if k.PrewarmAt > 0 {
		ps := &r.pools[p]
		ps.prewarmGen++
		ps.prewarmUntil = k.PrewarmUntil
		r.push(k.PrewarmAt, rvPrewarm, nil, p, ps.prewarmGen)
	}
	r.drain(now)
}

// drain serves the queue in order while there is room.
func (r *replayer) drain(now int64) {
	for len(r.queue) > 0 && r.tryServe(r.queue[0].inv, r.queue[0].seq, now-r.queue[0].since) {
		r.queue = r.queue[1:]
	}
}

func (r *replayer) makeIdle(e *replayEnclave, k Keep) {
	r.setState(e, stIdle)
	e.prio = k.Priority
	e.gen++
	ps := &r.pools[e.pool]
	ps.idle = append(ps.idle, e)
	if k.Until != Forever {
		r.push(k.Until, rvExpire, e, e.pool, e.gen)
	}
}

// destroy removes enclave e (idle, or just done) and closes its session in the background.
func (r *replayer) destroy(e *replayEnclave) {
	ps := &r.pools[e.pool]
	if i := slices.Index(ps.idle, e); i >= 0 {
		ps.idle = slices.Delete(ps.idle, i, i+1)
	}
	r.setState(e, stFree)
	e.gen++
	r.free = append(r.free, e.id)
	ps.live--
	r.used -= r.bytes
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		e.sess.Close(context.WithoutCancel(r.ctx))
	}()
}

// prewarm creates an enclave of pool p ahead of demand (no eviction), idle until until once
// created.
func (r *replayer) prewarm(p int, until int64) bool {
	if r.mode == "cold" {
		return false
	}
	e := r.create(p, false)
	if e == nil {
		r.rep.Result.PrewarmsSkipped++
		return false
	}
	r.rep.Result.Prewarmed++
	e.until = until
	r.busy++
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		err := e.sess.Prepare(context.WithoutCancel(r.ctx))
		r.done <- replayDone{enc: e, prewarm: true, err: err}
	}()
	return true
}

// tick sizes every pool to the ticker's target.
func (r *replayer) tick(now int64) {
	for p := range r.pools {
		target := r.ticker.Tick(p, now)
		ps := &r.pools[p]
		for ps.live < target {
			if !r.prewarm(p, Forever) {
				break
			}
		}
		for ps.live > target && len(ps.idle) > 0 {
			r.destroy(ps.idle[0]) // the least recently used first
		}
	}
}

// record accounts for a finished invocation and writes its record.
func (r *replayer) record(d replayDone) {
	w := &r.costs.Workloads[r.wl[d.enc.pool]]
	rec := results.Record{SchemaVersion: results.SchemaVersion, Target: "embedded", Experiment: "trace-replay",
		Workload: r.fns[d.enc.pool].workload, Mode: r.mode, Size: "test", MemoryBytes: r.opts.MemoryBytes,
		Attestation: "none", Load: "open", Seq: d.seq, Policy: r.policy.Name(),
		TraceFunction: r.tr.Functions[d.enc.pool].ID(), InputBytes: len(r.fns[d.enc.pool].input)}
	if c := r.opts.CapacityBytes; c > 0 {
		rec.Concurrency = int(c / r.bytes)
	}
	if d.prewarm {
		rec.Decision = "prewarm"
		rec.Error = fmt.Sprintf("pre-warm: %v", d.err)
		rec.ErrorKind = string(enclave.KindOf(d.err))
		r.rep.Errors++
		r.write(&rec)
		return
	}
	rec.Decision = r.reuse
	if d.cold {
		rec.Decision = "cold"
	}
	rec.Queued = d.queued >= 0
	rec.IntendedStartNs = d.inv.Arrival
	if d.err != nil || d.call == nil {
		rec.StartNs = d.dispatch.Sub(r.t0).Nanoseconds()
		rec.Error = fmt.Sprint(d.err)
		rec.ErrorKind = string(enclave.KindInternal)
		r.rep.Errors++
		r.write(&rec)
		return
	}
	c := d.call
	c.Fill(&rec, r.mode)
	if d.cold && r.mode != "cold" && c.Creation != nil {
		// A cold start of a kept enclave: name its creation's phases as mode cold does.
		delete(rec.PhasesNs, "recreate")
		for _, p := range c.Creation {
			rec.PhasesNs[p.Name] = p.Duration.Nanoseconds()
		}
	}
	if rec.Error != "" {
		r.rep.Errors++
	}
	intended := r.t0.Add(time.Duration(d.inv.Arrival))
	rec.StartNs = c.Start.Sub(r.t0).Nanoseconds()
	busy := d.end.Sub(c.Start.Add(c.Latency)).Nanoseconds()
	rec.PhasesNs["trace_busy"] = busy
	if rec.Queued {
		rec.PhasesNs["queue_wait"] = d.queued
	}
	// From the intended start: the response is the real one plus the trace's duration
	// (the function "ran" that long); the latency ends when the enclave is ready again.
	resp := c.Start.Add(c.Response).Sub(intended).Nanoseconds() + d.inv.Duration
	rec.ResponseNs = resp
	rec.LatencyNs = d.end.Sub(intended).Nanoseconds()
	rec.RewindNs = c.Latency.Nanoseconds() - c.Response.Nanoseconds()
	r.write(&rec)

	r.lat.RecordValue(min(max(resp, 1), maxLatencyNs))
	startup := resp - d.inv.Duration
	r.startup.RecordValue(min(max(startup, 1), maxLatencyNs))
	r.lag.RecordValue(min(max(d.dispatch.Sub(intended).Nanoseconds()-max(d.queued, 0), 1), maxLatencyNs))
	model := w.CreateNs
	if !d.cold {
		model = w.Reuse[r.reuse].StartNs
	}
	r.cpu.RecordValue(min(max(startup-max(d.queued, 0)-int64(model), 1), maxLatencyNs))
}

func (r *replayer) write(rec *results.Record) {
	if r.opts.Records == nil || r.recErr != nil {
		return
	}
	if err := r.opts.Records(rec); err != nil {
		r.recErr = fmt.Errorf("replay: records: %w", err)
	}
}

func (r *replayer) finish() {
	res := &r.rep.Result
	const gbNs = float64(1<<30) * 1e9 // GB-s: GiB × seconds
	res.MemoryGBs = MemoryGBs{Busy: r.busyByteNs / gbNs, Idle: r.idleByteNs / gbNs}
	if res.Invocations > 0 {
		res.ColdFraction = float64(res.ColdStarts) / float64(res.Invocations)
	}
	res.LatencyNs, res.LatencyCDF = describe(r.lat)
	res.StartupNs, res.StartupCDF = describe(r.startup)
	r.rep.Agreement.DispatchLagNs, _ = describe(r.lag)
	r.rep.Agreement.CPUQueueingNs, _ = describe(r.cpu)
}

// setState moves enclave e to state, accounting its memory-time in the state it leaves:
// busy while created, pre-warmed or serving (the invocation, its reset and the trace's
// duration), idle while kept.
func (r *replayer) setState(e *replayEnclave, state uint8) {
	now := r.now()
	if dt := now - e.since; dt > 0 && e.state != stFree {
		if e.state == stIdle {
			r.idleByteNs += float64(r.bytes) * float64(dt)
		} else {
			r.busyByteNs += float64(r.bytes) * float64(dt)
		}
	}
	e.since = now
	busy := func(s uint8) bool { return s == stCreating || s == stBusy }
	switch {
	case busy(e.state) && !busy(state):
		r.busyEncl--
	case !busy(e.state) && busy(state):
		r.busyEncl++
	}
	e.state = state
}

// sample appends the enclaves live and busy and the memory held to the timeline, at the
// start of the bin due.
func (r *replayer) sample() {
	tl := &r.rep.Result.Timeline
	var live int64
	for p := range r.pools {
		live += int64(r.pools[p].live)
	}
	tl.LiveEnclaves = append(tl.LiveEnclaves, live)
	tl.BusyEnclaves = append(tl.BusyEnclaves, r.busyEncl)
	tl.MemoryBytes = append(tl.MemoryBytes, r.used)
	r.nextBin += r.bin
}

func (r *replayer) push(t int64, kind uint8, e *replayEnclave, pool int, gen uint32) {
	id := int32(pool)
	if e != nil {
		id = e.id
	}
	r.evSeq++
	r.events.push(simEvent{t: t, seq: r.evSeq, kind: kind, id: id, gen: gen})
}

// observedArrivals returns t with each invocation arriving when at says (by function and
// intended arrival; unchanged when at lacks it).
func observedArrivals(t *Trace, at map[[2]int64]int64) *Trace {
	o := *t
	o.Options.SpeedUp = 1 // t's source is sped up already
	o.open = func(ctx context.Context) (Source, error) {
		src, err := t.Open(ctx)
		if err != nil {
			return nil, err
		}
		return &observedSource{Source: src, at: at}, nil
	}
	return &o
}

// observedSource rewrites the arrivals of its source.
type observedSource struct {
	Source
	at map[[2]int64]int64
}

func (s *observedSource) Next(inv *Invocation) bool {
	if !s.Source.Next(inv) {
		return false
	}
	if a, ok := s.at[[2]int64{int64(inv.Func), inv.Arrival}]; ok {
		inv.Arrival = a
	}
	return true
}

// ReplayRecords opens DIR/records.jsonl for a replay and returns the function that writes a
// record to it (flushing every record, so that an interrupted replay keeps what it wrote)
// and the function that closes it.
func ReplayRecords(dir string) (write func(*results.Record) error, closeFn func() error, err error) {
	f, err := os.Create(filepath.Join(dir, results.RecordsFile))
	if err != nil {
		return nil, nil, fmt.Errorf("replay records: %w", err)
	}
	enc := results.NewEncoder(f)
	write = func(rec *results.Record) error { return enc.Encode(rec) }
	closeFn = func() error {
		return errors.Join(enc.Flush(), f.Close())
	}
	return write, closeFn, nil
}
