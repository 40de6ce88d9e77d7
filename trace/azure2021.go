package trace

import (
	"context"
	"math"
)

// The Azure Functions 2021 invocation trace: one row per invocation, app,func,end_timestamp,
// duration (seconds; start = end − duration). Rows are in order of end, not start, so a
// stream sorted by start holds back the rows that may still be overtaken: a heap bounded by
// the invocations that start within the longest duration plus the largest disorder of the
// ends, both found by the first pass.

type azure21Row struct {
	k               fnKey
	start, dur, end int64
}

// azure21Reader reads the rows of Azure 2021 files one after the other.
type azure21Reader struct {
	files []string
	c     *csvFile
}

// next returns the next row, or ok false after the last.
func (r *azure21Reader) next(ctx context.Context) (row azure21Row, ok bool, err error) {
	for {
		if r.c == nil {
			if len(r.files) == 0 {
				return row, false, nil
			}
			if r.c, err = openCSV(r.files[0]); err != nil {
				return row, false, err
			}
			r.files = r.files[1:]
		}
		rec, err := r.c.row()
		if err != nil {
			return row, false, err
		}
		if rec == nil {
			r.c.Close()
			r.c = nil
			continue
		}
		c := r.c
		if c.line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return row, false, err
			}
		}
		end, err := c.float(rec, "end_timestamp")
		if err != nil {
			return row, false, err
		}
		dur, err := c.float(rec, "duration")
		if err != nil {
			return row, false, err
		}
		if dur < 0 || end < 0 || math.IsInf(end, 0) || math.IsInf(dur, 0) {
			return row, false, c.errorf("end_timestamp %v, duration %v: want non-negative finite seconds", end, dur)
		}
		app, fn := rec[c.col["app"]], rec[c.col["func"]]
		if app == "" || fn == "" {
			return row, false, c.errorf("empty app or func")
		}
		e, d := int64(end*1e9), int64(dur*1e9)
		return azure21Row{k: fnKey{app: app, name: fn}, start: e - d, dur: d, end: e}, true, nil
	}
}

func (r *azure21Reader) Close() error {
	if r.c == nil {
		return nil
	}
	return r.c.Close()
}

func loadAzure2021(ctx context.Context, files []string, opts LoadOptions) (*Trace, error) {
	index := map[fnKey]int{}
	var fns []Function
	var counts []int64
	var sums []float64
	var maxEnd, horizon int64
	from, to := int64(opts.From), int64(opts.To)
	in := func(start int64) bool { return start >= from && (to == 0 || start < to) }
	r := &azure21Reader{files: files}
	defer r.Close()
	for {
		row, ok, err := r.next(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		i, seen := index[row.k]
		if !seen {
			i = len(fns)
			index[row.k] = i
			fns = append(fns, Function{App: row.k.app, Name: row.k.name})
			counts = append(counts, 0)
			sums = append(sums, 0)
		}
		if in(row.start) {
			counts[i]++
			sums[i] += float64(row.dur)
		}
		horizon = max(horizon, row.dur+max(maxEnd-row.end, 0))
		maxEnd = max(maxEnd, row.end)
	}
	keep := selectFunctions(counts, opts)
	newIdx := map[fnKey]int32{}
	t := &Trace{Format: FormatAzure2021, Files: files}
	for j, i := range keep {
		f := fns[i]
		newIdx[fnKey{app: f.App, name: f.Name}] = int32(j)
		f.Invocations = counts[i]
		f.MeanDurationNs = sums[i] / float64(counts[i])
		t.Functions = append(t.Functions, f)
	}
	t.Length = windowLength(maxEnd, opts)
	t.open = func(ctx context.Context) (Source, error) {
		return &reorderSource{ctx: ctx, r: &azure21Reader{files: files}, idx: newIdx, in: in,
			from: from, horizon: horizon}, nil
	}
	return t, nil
}

// reorderSource streams Azure 2021 rows in order of start.
type reorderSource struct {
	ctx     context.Context
	r       *azure21Reader
	idx     map[fnKey]int32
	in      func(start int64) bool
	from    int64
	horizon int64
	hiEnd   int64
	eof     bool
	heap    []Invocation
	err     error
}

func (s *reorderSource) Err() error   { return s.err }
func (s *reorderSource) Close() error { return s.r.Close() }

func (s *reorderSource) Next(inv *Invocation) bool {
	// A row read later ends at hiEnd − disorder or later and starts at most the longest
	// duration before its end: the heap's first is final once it starts before hiEnd − horizon.
	for !s.eof && (len(s.heap) == 0 || s.heap[0].Arrival+s.from >= s.hiEnd-s.horizon) {
		row, ok, err := s.r.next(s.ctx)
		if err != nil {
			s.err = err
			return false
		}
		if !ok {
			s.eof = true
			break
		}
		s.hiEnd = max(s.hiEnd, row.end)
		j, sel := s.idx[row.k]
		if !sel || !s.in(row.start) {
			continue
		}
		s.push(Invocation{Func: j, Arrival: row.start - s.from, Duration: row.dur})
	}
	if len(s.heap) == 0 {
		return false
	}
	*inv = s.pop()
	return true
}

func (s *reorderSource) less(a, b int) bool {
	x, y := &s.heap[a], &s.heap[b]
	return x.Arrival < y.Arrival || x.Arrival == y.Arrival && x.Func < y.Func
}

func (s *reorderSource) push(v Invocation) {
	s.heap = append(s.heap, v)
	i := len(s.heap) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s.heap[i], s.heap[p] = s.heap[p], s.heap[i]
		i = p
	}
}

func (s *reorderSource) pop() Invocation {
	h := s.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	s.heap = h[:last]
	h = s.heap
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return top
}
