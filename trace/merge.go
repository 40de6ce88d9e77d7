package trace

import (
	"context"
	"io"
	"math/rand/v2"
)

// minuteCounts are one function's non-zero invocation counts per minute of one day.
type minuteCounts struct {
	fn     int32
	mins   []uint16 // minute of the day, increasing
	counts []uint32
}

// dayLoader returns the counts of the next day of the trace and the day's index (its
// minutes start at day·1440), or ok false at the end.
type dayLoader func(ctx context.Context) (day int, rows []minuteCounts, ok bool, err error)

// fnRand is a function's random streams: arrivals within minutes, and durations. Each is
// seeded from the trace's seed and the function's identity, so that a function's arrivals
// do not change when other functions are selected or not.
type fnRand struct {
	arrSrc rand.PCG
	arr    *rand.Rand
	durSrc rand.PCG
	dur    *rand.Rand
}

func newFnRands(fns []Function, seed uint64) []fnRand {
	rs := make([]fnRand, len(fns))
	for i := range fns {
		h := hashString(fns[i].ID())
		rs[i].arrSrc = *rand.NewPCG(seed, h)
		rs[i].durSrc = *rand.NewPCG(seed^0x9e3779b97f4a7c15, h)
		rs[i].arr = rand.New(&rs[i].arrSrc)
		rs[i].dur = rand.New(&rs[i].durSrc)
	}
	return rs
}

// hashString is FNV-1a of s.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// cursor walks one function's arrivals through a day, minute by minute.
type cursor struct {
	mc   *minuteCounts
	i    int    // index into mc.mins
	k, n uint32 // arrival k of n in the current minute
	day  int64  // start of the cursor's day
	base int64  // start of the current minute
	acc  float64
	sum  float64
	next int64 // time of the next arrival
}

// countSource turns per-minute counts into arrivals: a k-way merge of the functions'
// cursors by their next arrival, so that memory holds one cursor per function, not the
// invocations of a minute.
type countSource struct {
	ctx      context.Context
	load     dayLoader
	closer   io.Closer
	arrivals Arrivals
	fns      []Function
	rands    []fnRand
	defDur   int64
	from, to int64 // window, ns of trace time (to 0: none)

	rows []minuteCounts
	heap []*cursor
	err  error
	done bool
}

func newCountSource(ctx context.Context, t *Trace, opts LoadOptions, load dayLoader, closer io.Closer) *countSource {
	return &countSource{
		ctx: ctx, load: load, closer: closer, arrivals: opts.Arrivals, fns: t.Functions,
		rands: newFnRands(t.Functions, opts.Seed), defDur: int64(opts.DefaultDuration),
		from: int64(opts.From), to: int64(opts.To),
	}
}

func (s *countSource) Err() error   { return s.err }
func (s *countSource) Close() error { return closeAll(s.closer) }

// gap draws the gap before an arrival of function fn.
func (s *countSource) gap(r *rand.Rand) float64 {
	if s.arrivals == ArrivalsUniform {
		return r.Float64()
	}
	return r.ExpFloat64()
}

// startMinute sets c to the first arrival of its minute i.
func (s *countSource) startMinute(c *cursor) {
	c.k, c.n = 0, c.mc.counts[c.i]
	c.base = c.day + int64(c.mc.mins[c.i])*Minute
	if s.arrivals != ArrivalsEven {
		// The n arrivals split the minute by n+1 gaps scaled to sum to a minute: draw them
		// once for their sum, then again (the same numbers) one arrival at a time.
		r := &s.rands[c.mc.fn]
		saved := r.arrSrc
		c.sum, c.acc = 0, 0
		for j := uint32(0); j <= c.n; j++ {
			c.sum += s.gap(r.arr)
		}
		r.arrSrc = saved
	}
	s.place(c)
}

// place computes the time of c's arrival k.
func (s *countSource) place(c *cursor) {
	if s.arrivals == ArrivalsEven {
		c.next = c.base + (2*int64(c.k)+1)*Minute/(2*int64(c.n))
		return
	}
	c.acc += s.gap(s.rands[c.mc.fn].arr)
	c.next = c.base + int64(c.acc/c.sum*float64(Minute))
}

func (s *countSource) loadDay() bool {
	for {
		if err := s.ctx.Err(); err != nil {
			s.err = err
			return false
		}
		day, rows, ok, err := s.load(s.ctx)
		if err != nil {
			s.err = err
			return false
		}
		if !ok {
			return false
		}
		dayBase := int64(day) * 1440 * Minute
		s.rows = rows
		s.heap = s.heap[:0]
		for i := range rows {
			if len(rows[i].mins) == 0 {
				continue
			}
			c := &cursor{mc: &rows[i], day: dayBase}
			s.startMinute(c)
			s.heap = append(s.heap, c)
		}
		for i := len(s.heap)/2 - 1; i >= 0; i-- {
			s.down(i)
		}
		if len(s.heap) > 0 {
			return true
		}
	}
}

// Next returns the next arrival in the window.
func (s *countSource) Next(inv *Invocation) bool {
	for {
		if s.done {
			return false
		}
		if len(s.heap) == 0 && !s.loadDay() {
			s.done = true
			return false
		}
		c := s.heap[0]
		t, fn := c.next, c.mc.fn
		// advance c
		c.k++
		if c.k < c.n {
			s.place(c)
			s.down(0)
		} else if c.i+1 < len(c.mc.mins) {
			c.i++
			s.startMinute(c)
			s.down(0)
		} else {
			last := len(s.heap) - 1
			s.heap[0] = s.heap[last]
			s.heap = s.heap[:last]
			if last > 0 {
				s.down(0)
			}
		}
		if t < s.from {
			continue
		}
		if s.to > 0 && t >= s.to {
			s.done = true
			return false
		}
		inv.Func, inv.Arrival = fn, t-s.from
		inv.Duration = s.duration(fn)
		return true
	}
}

// duration draws a duration of function fn.
func (s *countSource) duration(fn int32) int64 {
	d := s.fns[fn].Duration
	if d == nil {
		return s.defDur
	}
	return d.Sample(s.rands[fn].dur.Float64())
}

func (s *countSource) down(i int) {
	h := s.heap
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h[r].next < h[l].next {
			m = r
		}
		if h[i].next <= h[m].next {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
