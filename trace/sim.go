package trace

import (
	"context"
	"fmt"
	"math"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// SimOptions configure [Simulate].
type SimOptions struct {
	// Nodes is the number of nodes of the cluster; 0 means 1.
	Nodes int
	// CapacityBytes is the enclave memory of each node; 0 means unbounded (no eviction, no
	// queueing).
	CapacityBytes int64
	// TraceMemory sizes each function's enclaves by the trace's memory (when larger than
	// the measured enclave), scaling the cold start's EADD/EEXTEND phase with the size.
	// Off, every enclave has the size of its workload's measured enclave.
	TraceMemory bool
	// Mapping maps functions onto measured workloads.
	Mapping Mapping
	// Policy parameterises the policies built by name.
	Policy PolicyOptions
	// OnServe, when set, is called for every invocation when it starts to be served, with
	// whether it is a cold start (tests; a replay's agreement check).
	OnServe func(inv Invocation, cold bool)
	// BusyNs, when set, is asked for every invocation served: when ok, the enclave is busy
	// for busyNs after the invocation's start of service and the trace's duration (its start
	// and reset: what a replay observed), instead of the measured costs. A replay's agreement
	// check replays its own timings through the simulator with it.
	BusyNs func(inv Invocation, cold bool) (busyNs int64, ok bool)
	// TimelineBinNs is the timeline's bin; 0 means a minute, or the trace's length / 2880
	// (whole minutes) when that is longer. A replay sets it to sample its short slice.
	TimelineBinNs int64
}

// Enclave states.
const (
	stFree uint8 = iota
	stCreating
	stBusy
	stIdle
)

type simEnclave struct {
	pool, fn, node int32
	state          uint8
	gen            uint32
	bytes          int64
	since          int64
	until          int64 // a pre-warmed enclave's keep-alive
	prio           float64
	prev, next     int32 // the pool's idle list (most recently used first)
	hidx           int32 // index in the node's eviction heap; -1 none
}

type simPool struct {
	head, tail       int32
	idle, busy, live int32
	prewarmGen       uint32
	prewarmUntil     int64
	lastFn           int32
}

type simNode struct {
	used, idleBytes int64
	heap            []int32 // idle enclaves by priority (bounded capacity only)
}

type simEvent struct {
	t    int64
	seq  uint64
	kind uint8
	id   int32
	gen  uint32
}

// Event kinds.
const (
	evDone    uint8 = iota // an enclave finished an invocation and its reset
	evReady                // a pre-warmed enclave finished its creation
	evExpire               // an idle enclave's keep-alive ended
	evPrewarm              // a pool's pre-warm time came
)

// sim is one simulation: one policy × one reuse technique over one trace.
type sim struct {
	ctx     context.Context
	tr      *Trace
	costs   *Costs
	policy  Policy
	ticker  Ticker
	reuse   string
	opts    SimOptions
	generic bool

	wl      []int   // per function: index into costs.Workloads
	fnBytes []int64 // per function: enclave size
	fnCold  []float64
	encl    []simEnclave
	free    []int32
	pools   []simPool
	nodes   []simNode
	events  eventQueue
	seq     uint64
	queue   []Invocation
	qhead   int

	now         int64
	liveBytes   int64
	liveEncl    int64
	busyEncl    int64
	busyByteNs  float64
	idleByteNs  float64
	res         PolicyResult
	lat         *hdrhistogram.Histogram
	startup     *hdrhistogram.Histogram
	nextTick    int64
	nextBin     int64
	bin         int64
	policyNs    int64
	policyCalls uint64
}

// maxLatencyNs is the largest latency the histogram holds (a week); longer ones count as it.
const maxLatencyNs = int64(7 * 24 * time.Hour)

// Simulate runs policy with reuse technique reuse over the trace on a simulated cluster whose
// costs are c, and returns its result. See the package doc for the model.
func Simulate(ctx context.Context, t *Trace, c *Costs, policy Policy, reuse string, opts SimOptions) (*PolicyResult, error) {
	s, err := newSim(ctx, t, c, policy, reuse, opts)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := s.run(); err != nil {
		return nil, err
	}
	s.res.SimWallNs = time.Since(start).Nanoseconds()
	s.finish()
	return &s.res, nil
}

func newSim(ctx context.Context, t *Trace, c *Costs, policy Policy, reuse string, opts SimOptions) (*sim, error) {
	if opts.Nodes <= 0 {
		opts.Nodes = 1
	}
	if policy.Name() == PolicyNone {
		reuse = ReuseNone
	}
	s := &sim{ctx: ctx, tr: t, costs: c, policy: policy, reuse: reuse, opts: opts, generic: reuse == ReuseGeneric}
	s.ticker, _ = policy.(Ticker)
	wl, err := opts.Mapping.Map(t, c)
	if err != nil {
		return nil, err
	}
	s.wl = wl
	for fn := range t.Functions {
		w := &c.Workloads[wl[fn]]
		if reuse != ReuseNone {
			if _, ok := w.Reuse[reuse]; !ok {
				return nil, fmt.Errorf("simulate %s/%s: no costs of reuse %s for workload %s (run it in mode %s, or reinstantiate for generic)",
					policy.Name(), reuse, reuse, w.Workload, reuse)
			}
		}
		b := w.MemoryBytes
		if opts.TraceMemory {
			b = max(b, (int64(t.Functions[fn].MemoryMiB*(1<<20))+4095)&^4095)
		}
		s.fnBytes = append(s.fnBytes, b)
		s.fnCold = append(s.fnCold, s.createNs(fn, b))
	}
	npools := len(t.Functions)
	if s.generic {
		npools = 1
	}
	s.pools = make([]simPool, npools)
	env := PolicyEnv{Pools: npools, View: s}
	for p := range s.pools {
		s.pools[p] = simPool{head: -1, tail: -1, lastFn: int32(p)}
		if s.generic {
			var big int64
			var cold float64
			for fn := range t.Functions {
				big = max(big, s.fnBytes[fn])
				cold = max(cold, s.fnCold[fn])
			}
			env.Bytes, env.ColdNs = append(env.Bytes, big), append(env.ColdNs, cold)
		} else {
			env.Bytes, env.ColdNs = append(env.Bytes, s.fnBytes[p]), append(env.ColdNs, s.fnCold[p])
		}
	}
	if opts.CapacityBytes > 0 {
		for p := range env.Bytes {
			if env.Bytes[p] > opts.CapacityBytes {
				return nil, fmt.Errorf("simulate: an enclave of %d bytes does not fit a node of %d bytes", env.Bytes[p], opts.CapacityBytes)
			}
		}
	}
	s.nodes = make([]simNode, opts.Nodes)
	policy.Start(env)
	s.lat = hdrhistogram.New(1, maxLatencyNs, 3)
	s.startup = hdrhistogram.New(1, maxLatencyNs, 3)
	s.nextTick = Minute
	s.bin = max(Minute, (t.Length/2880+Minute-1)/Minute*Minute)
	if opts.TimelineBinNs > 0 {
		s.bin = opts.TimelineBinNs
	}
	s.res = PolicyResult{Policy: policy.Name(), Reuse: reuse, Insecure: Insecure(reuse)}
	s.res.Timeline.BinNs = s.bin
	return s, nil
}

// createNs is the cold start of function fn's enclave of b bytes: the measured one, its
// EADD/EEXTEND phase scaled by the size.
func (s *sim) createNs(fn int, b int64) float64 {
	w := &s.costs.Workloads[s.wl[fn]]
	return w.CreateNs + w.EaddEextendNs*(float64(b)/float64(w.MemoryBytes)-1)
}

// Busy implements View.
func (s *sim) Busy(pool int) int { return int(s.pools[pool].busy) }

// Live implements View.
func (s *sim) Live(pool int) int { return int(s.pools[pool].live) }

func (s *sim) poolOf(fn int32) int32 {
	if s.generic {
		return 0
	}
	return fn
}

func (s *sim) run() error {
	src, err := s.tr.Open(s.ctx)
	if err != nil {
		return err
	}
	defer src.Close()
	var inv Invocation
	for n := 0; src.Next(&inv); n++ {
		if n&0xffff == 0 {
			if err := s.ctx.Err(); err != nil {
				return err
			}
		}
		s.advance(inv.Arrival)
		s.arrive(inv)
	}
	if err := src.Err(); err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	end := max(s.tr.Length, s.now)
	s.advance(end)
	// Let what is running or waiting finish.
	for len(s.events) > 0 && (s.busyEncl > 0 || s.qhead < len(s.queue)) {
		s.handle(s.pop())
	}
	end = max(end, s.now)
	for len(s.events) > 0 && s.events[0].t <= end {
		s.handle(s.pop())
	}
	s.now = end
	for i := range s.encl {
		if s.encl[i].state != stFree {
			s.acct(int32(i))
		}
	}
	return nil
}

// advance handles everything due up to and including t: events, minute ticks and timeline
// samples (ticks and samples only within the trace).
func (s *sim) advance(t int64) {
	for {
		next := int64(math.MaxInt64)
		if len(s.events) > 0 {
			next = s.events[0].t
		}
		if s.nextBin <= s.tr.Length && s.nextBin <= next && s.nextBin <= t {
			s.sample()
			continue
		}
		if s.ticker != nil && s.nextTick <= s.tr.Length && s.nextTick <= next && s.nextTick <= t {
			s.now = s.nextTick
			s.tick()
			s.nextTick += Minute
			continue
		}
		if next > t {
			break
		}
		s.handle(s.pop())
	}
	s.now = max(s.now, t)
}

func (s *sim) sample() {
	tl := &s.res.Timeline
	tl.LiveEnclaves = append(tl.LiveEnclaves, s.liveEncl)
	tl.BusyEnclaves = append(tl.BusyEnclaves, s.busyEncl)
	tl.MemoryBytes = append(tl.MemoryBytes, s.liveBytes)
	s.nextBin += s.bin
}

func (s *sim) handle(ev simEvent) {
	s.now = ev.t
	switch ev.kind {
	case evDone:
		s.done(ev.id)
	case evReady:
		e := &s.encl[ev.id]
		s.acct(ev.id)
		s.makeIdle(ev.id, Keep{Until: e.until, Priority: float64(s.now)})
		s.drain()
	case evExpire:
		if e := &s.encl[ev.id]; e.state == stIdle && e.gen == ev.gen {
			s.destroy(ev.id)
			s.drain()
		}
	case evPrewarm:
		p := &s.pools[ev.id]
		if ev.gen == p.prewarmGen && p.idle == 0 {
			s.prewarm(ev.id, p.prewarmUntil)
		}
	}
}

func (s *sim) arrive(inv Invocation) {
	p := s.poolOf(inv.Func)
	s.pools[p].lastFn = inv.Func
	s.timed(func() { s.policy.Arrive(int(p), inv.Arrival) })
	s.res.Invocations++
	if s.qhead < len(s.queue) || !s.tryServe(inv) {
		s.queue = append(s.queue, inv)
		s.res.Queued++
	}
}

// timed runs a policy call, timing one call in 64 (the clock costs as much as a call).
func (s *sim) timed(f func()) {
	s.policyCalls++
	if s.policyCalls&63 != 0 {
		f()
		return
	}
	t0 := time.Now()
	f()
	s.policyNs += 64 * time.Since(t0).Nanoseconds()
}

// tryServe serves inv now on an idle enclave of its pool, else on a new one; false when
// there is no room for one.
func (s *sim) tryServe(inv Invocation) bool {
	p := s.poolOf(inv.Func)
	if ps := &s.pools[p]; ps.idle > 0 {
		id := ps.head
		s.unlinkIdle(id)
		s.acct(id)
		s.serve(id, inv, false)
		return true
	}
	id := s.create(p, inv.Func, true)
	if id < 0 {
		return false
	}
	s.serve(id, inv, true)
	return true
}

// serve runs inv on enclave id (a new one when cold) from now.
func (s *sim) serve(id int32, inv Invocation, cold bool) {
	e := &s.encl[id]
	w := &s.costs.Workloads[s.wl[inv.Func]]
	var startNs, resetNs float64
	if cold {
		startNs = s.createNs(int(inv.Func), e.bytes)
		s.res.ColdStarts++
	} else {
		rc := w.Reuse[s.reuse]
		startNs = rc.StartNs
		if s.generic && e.fn != inv.Func {
			startNs += w.CompileNs
		}
	}
	if s.reuse == ReuseNone {
		resetNs = w.DestroyNs
	} else {
		resetNs = w.Reuse[s.reuse].ResetNs
	}
	if s.opts.OnServe != nil {
		s.opts.OnServe(inv, cold)
	}
	if s.opts.BusyNs != nil {
		if b, ok := s.opts.BusyNs(inv, cold); ok {
			startNs, resetNs = float64(b), 0
		}
	}
	resp := s.now + int64(startNs) + inv.Duration
	lat := resp - inv.Arrival
	s.lat.RecordValue(min(max(lat, 1), maxLatencyNs))
	s.startup.RecordValue(min(max(lat-inv.Duration, 1), maxLatencyNs))
	e.fn = inv.Func
	if e.state != stBusy {
		e.state = stBusy
		s.pools[e.pool].busy++
		s.busyEncl++
	}
	e.since = s.now
	s.push(resp+int64(resetNs), evDone, id, 0)
}

// done: enclave id finished an invocation and its reset.
func (s *sim) done(id int32) {
	e := &s.encl[id]
	s.acct(id)
	p := e.pool
	// An invocation of the same pool waiting at the head of the queue takes it at once
	// (unless enclaves are never reused).
	if s.reuse != ReuseNone && s.qhead < len(s.queue) && s.poolOf(s.queue[s.qhead].Func) == p {
		inv := s.queue[s.qhead]
		s.popQueue()
		s.serve(id, inv, false)
		s.drain()
		return
	}
	e.state = stIdle // for the policy's view: no longer busy
	s.pools[p].busy--
	s.busyEncl--
	var k Keep
	s.timed(func() { k = s.policy.Idle(int(p), s.now) })
	if k.Until <= s.now {
		s.destroy(id)
	} else {
		s.makeIdle(id, k)
	}
	if k.PrewarmAt > 0 {
		ps := &s.pools[p]
		ps.prewarmGen++
		ps.prewarmUntil = k.PrewarmUntil
		s.push(k.PrewarmAt, evPrewarm, p, ps.prewarmGen)
	}
	s.drain()
}

func (s *sim) popQueue() {
	s.qhead++
	if s.qhead == len(s.queue) {
		s.queue, s.qhead = s.queue[:0], 0
	}
}

// drain serves the queue in order while there is room.
func (s *sim) drain() {
	for s.qhead < len(s.queue) && s.tryServe(s.queue[s.qhead]) {
		s.popQueue()
	}
}

// acct adds the enclave's memory-time since its last change to busy or idle.
func (s *sim) acct(id int32) {
	e := &s.encl[id]
	if dt := s.now - e.since; dt > 0 {
		if e.state == stIdle {
			s.idleByteNs += float64(e.bytes) * float64(dt)
		} else {
			s.busyByteNs += float64(e.bytes) * float64(dt)
		}
	}
	e.since = s.now
}

// create makes a new enclave of pool for fn on a node with room, evicting idle enclaves
// when evict says so; -1 when there is no room. The new enclave is creating.
func (s *sim) create(p, fn int32, evict bool) int32 {
	b := s.fnBytes[fn]
	if s.generic {
		b = 0
		for _, x := range s.fnBytes {
			b = max(b, x)
		}
	}
	node := s.place(b, evict)
	if node < 0 {
		return -1
	}
	var id int32
	if n := len(s.free); n > 0 {
		id = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		id = int32(len(s.encl))
		s.encl = append(s.encl, simEnclave{})
	}
	e := &s.encl[id]
	*e = simEnclave{pool: p, fn: fn, node: node, state: stCreating, gen: e.gen + 1, bytes: b, since: s.now,
		prev: -1, next: -1, hidx: -1}
	s.nodes[node].used += b
	s.pools[p].live++
	s.liveEncl++
	s.liveBytes += b
	s.res.PeakMemoryBytes = max(s.res.PeakMemoryBytes, s.liveBytes)
	s.res.EnclavesCreated++
	return id
}

// place returns a node with room for b bytes, evicting when allowed; -1 if none.
func (s *sim) place(b int64, evict bool) int32 {
	capa := s.opts.CapacityBytes
	best := int32(0)
	for i := range s.nodes {
		if s.nodes[i].used < s.nodes[best].used {
			best = int32(i)
		}
	}
	if capa == 0 || capa-s.nodes[best].used >= b {
		return best
	}
	if !evict {
		return -1
	}
	best = -1
	for i := range s.nodes {
		n := &s.nodes[i]
		if capa-n.used+n.idleBytes >= b && (best < 0 || n.idleBytes-n.used > s.nodes[best].idleBytes-s.nodes[best].used) {
			best = int32(i)
		}
	}
	if best < 0 {
		return -1
	}
	n := &s.nodes[best]
	for capa-n.used < b {
		id := n.heap[0]
		e := &s.encl[id]
		p, prio := e.pool, e.prio
		s.destroy(id)
		s.res.Evictions++
		s.timed(func() { s.policy.Evicted(int(p), prio) })
	}
	return best
}

// makeIdle puts enclave id in its pool's idle list as k says.
func (s *sim) makeIdle(id int32, k Keep) {
	e := &s.encl[id]
	e.state = stIdle
	e.prio = k.Priority
	e.since = s.now
	ps := &s.pools[e.pool]
	e.prev, e.next = -1, ps.head
	if ps.head >= 0 {
		s.encl[ps.head].prev = id
	} else {
		ps.tail = id
	}
	ps.head = id
	ps.idle++
	if s.opts.CapacityBytes > 0 {
		n := &s.nodes[e.node]
		n.idleBytes += e.bytes
		e.hidx = int32(len(n.heap))
		n.heap = append(n.heap, id)
		s.heapUp(n, int(e.hidx))
	}
	e.gen++
	if k.Until != Forever {
		s.push(k.Until, evExpire, id, e.gen)
	}
}

// unlinkIdle takes idle enclave id out of its pool's list and its node's heap.
func (s *sim) unlinkIdle(id int32) {
	e := &s.encl[id]
	ps := &s.pools[e.pool]
	if e.prev >= 0 {
		s.encl[e.prev].next = e.next
	} else {
		ps.head = e.next
	}
	if e.next >= 0 {
		s.encl[e.next].prev = e.prev
	} else {
		ps.tail = e.prev
	}
	e.prev, e.next = -1, -1
	ps.idle--
	if e.hidx >= 0 {
		n := &s.nodes[e.node]
		n.idleBytes -= e.bytes
		i := int(e.hidx)
		last := len(n.heap) - 1
		if i != last {
			n.heap[i] = n.heap[last]
			s.encl[n.heap[i]].hidx = int32(i)
		}
		n.heap = n.heap[:last]
		if i < last {
			s.heapDown(n, i)
			s.heapUp(n, i)
		}
		e.hidx = -1
	}
	e.gen++ // cancels its expiry
}

// destroy removes enclave id (idle, or just done).
func (s *sim) destroy(id int32) {
	e := &s.encl[id]
	s.acct(id)
	if e.state == stIdle && (e.prev >= 0 || s.pools[e.pool].head == id) {
		s.unlinkIdle(id)
	}
	s.nodes[e.node].used -= e.bytes
	s.pools[e.pool].live--
	s.liveEncl--
	s.liveBytes -= e.bytes
	e.state = stFree
	e.gen++
	s.free = append(s.free, id)
}

// prewarm creates an enclave of pool p ahead of demand (no eviction), idle until until once
// created.
func (s *sim) prewarm(p int32, until int64) bool {
	fn := s.pools[p].lastFn
	id := s.create(p, fn, false)
	if id < 0 {
		s.res.PrewarmsSkipped++
		return false
	}
	s.res.Prewarmed++
	s.encl[id].until = until
	s.push(s.now+int64(s.createNs(int(fn), s.encl[id].bytes)), evReady, id, 0)
	return true
}

// tick sizes every pool to the ticker's target.
func (s *sim) tick() {
	for p := range s.pools {
		var target int
		s.timed(func() { target = s.ticker.Tick(p, s.now) })
		ps := &s.pools[p]
		for int(ps.live) < target {
			if !s.prewarm(int32(p), Forever) {
				break
			}
		}
		for int(ps.live) > target && ps.idle > 0 {
			s.destroy(ps.tail) // the least recently used first
		}
	}
}

func (s *sim) push(t int64, kind uint8, id int32, gen uint32) {
	s.seq++
	s.events.push(simEvent{t: t, seq: s.seq, kind: kind, id: id, gen: gen})
}

func (s *sim) pop() simEvent { return s.events.pop() }

// eventQueue is a min-heap of events: by time, then in the order they were scheduled (seq).
// The simulator and the replay share it.
type eventQueue []simEvent

func (q *eventQueue) push(ev simEvent) {
	*q = append(*q, ev)
	h := *q
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h[p].t < h[i].t || h[p].t == h[i].t && h[p].seq < h[i].seq {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *eventQueue) pop() simEvent {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	*q = h
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && (h[r].t < h[l].t || h[r].t == h[l].t && h[r].seq < h[l].seq) {
			m = r
		}
		if h[i].t < h[m].t || h[i].t == h[m].t && h[i].seq < h[m].seq {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return top
}

func (s *sim) lessPrio(a, b int32) bool {
	x, y := &s.encl[a], &s.encl[b]
	return x.prio < y.prio || x.prio == y.prio && a < b
}

func (s *sim) heapUp(n *simNode, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !s.lessPrio(n.heap[i], n.heap[p]) {
			break
		}
		s.swap(n, i, p)
		i = p
	}
}

func (s *sim) heapDown(n *simNode, i int) {
	for {
		l := 2*i + 1
		if l >= len(n.heap) {
			return
		}
		m := l
		if r := l + 1; r < len(n.heap) && s.lessPrio(n.heap[r], n.heap[l]) {
			m = r
		}
		if !s.lessPrio(n.heap[m], n.heap[i]) {
			return
		}
		s.swap(n, i, m)
		i = m
	}
}

func (s *sim) swap(n *simNode, i, j int) {
	n.heap[i], n.heap[j] = n.heap[j], n.heap[i]
	s.encl[n.heap[i]].hidx = int32(i)
	s.encl[n.heap[j]].hidx = int32(j)
}

// finish fills the result's statistics.
func (s *sim) finish() {
	r := &s.res
	if r.Invocations > 0 {
		r.ColdFraction = float64(r.ColdStarts) / float64(r.Invocations)
		r.PolicyNsPerInvocation = float64(s.policyNs) / float64(r.Invocations)
	}
	if r.SimWallNs > 0 {
		r.SimInvocationsPerS = float64(r.Invocations) / (float64(r.SimWallNs) / 1e9)
	}
	const gbNs = float64(1<<30) * 1e9 // GB-s: GiB × seconds
	r.MemoryGBs = MemoryGBs{Busy: s.busyByteNs / gbNs, Idle: s.idleByteNs / gbNs}
	r.LatencyNs, r.LatencyCDF = describe(s.lat)
	r.StartupNs, r.StartupCDF = describe(s.startup)
}

// describe returns the summary and the CDF of a histogram.
func describe(h *hdrhistogram.Histogram) (Latency, []CDFPoint) {
	if h.TotalCount() == 0 {
		return Latency{}, nil
	}
	l := Latency{P50: h.ValueAtQuantile(50), P99: h.ValueAtQuantile(99), P999: h.ValueAtQuantile(99.9),
		Mean: h.Mean(), Max: h.Max()}
	var cdf []CDFPoint
	for _, q := range cdfQuantiles() {
		cdf = append(cdf, CDFPoint{Q: q / 100, Ns: h.ValueAtQuantile(q)})
	}
	return l, cdf
}

// cdfQuantiles are the percentiles the latency CDF is given at.
func cdfQuantiles() []float64 {
	var qs []float64
	for q := 0.0; q < 90; q += 2 {
		qs = append(qs, q)
	}
	for q := 90.0; q < 99; q += 0.5 {
		qs = append(qs, q)
	}
	for q := 99.0; q < 99.9; q += 0.1 {
		qs = append(qs, math.Round(q*10)/10)
	}
	return append(qs, 99.9, 99.95, 99.99, 100)
}
