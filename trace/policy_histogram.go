package trace

import "math"

// HybridHistogram is the hybrid histogram policy of "Serverless in the Wild" (Shahrad et
// al., ATC'20), per pool (the paper's unit is the application; here it is the function, or
// the one pool of generic enclaves). It records the idle times (ITs) between the end of an
// invocation and the next arrival, when none was running, in a histogram of 1-minute bins
// over a 4-hour range, and after each invocation:
//
//   - when the histogram is representative (the coefficient of variation of its bin counts
//     is above CVThreshold, 2): pre-warm window = the 5th percentile of the ITs less a 10%
//     margin, keep-alive window = the 99th percentile plus a 10% margin, less the pre-warm
//     window. The enclave is destroyed at once and a new one is pre-warmed after the
//     pre-warm window and kept for the keep-alive window; with a pre-warm window of 0 the
//     enclave is simply kept for the keep-alive window.
//   - when it is not (few or spread-out ITs): no pre-warming, keep alive for the whole range
//     (4 hours), the paper's conservative fallback.
//   - when more than half of the ITs fell out of the range (OOB), the paper forecasts the
//     next IT with ARIMA. This implementation diverges: it forecasts it as the mean of the
//     last OOBWindow (5) OOB ITs, and pre-warms at 85% of it for 30% of it (the paper's
//     ±15% margin). ARIMA needs a fitted model per pool; a recent-mean forecast keeps the
//     simulator at a few nanoseconds per decision.
//
// Also a divergence: the paper's bins are per minute of an IT measured in whole minutes;
// here ITs are in nanoseconds, binned by floor(IT / 1 min), and the windows are bin edges
// (the 5th percentile's lower edge, the 99th's upper edge).
type HybridHistogram struct {
	// Range and Bin are the histogram's range and bin width; Head and Tail the percentiles
	// (0.05, 0.99); Margin the margin (0.10); CVThreshold the representativeness threshold.
	Range, Bin              int64
	Head, Tail, Margin      float64
	CVThreshold, OOBMaxFrac float64

	env     PolicyEnv
	pools   []histPool
	nbins   int
	scratch []uint32
}

// OOBWindow is the number of out-of-bounds idle times the OOB forecast averages.
const OOBWindow = 5

type histPool struct {
	bins    []uint32 // allocated on the first IT
	total   uint32   // ITs in range
	sumSq   float64  // sum of the squared bin counts (for the CV)
	dirty   bool     // ITs recorded since the windows were computed
	pw, ka  int64    // the windows last computed
	oob     uint32   // ITs out of range
	lastEnd int64    // end of the last invocation; -1 none yet
	recent  [OOBWindow]int64
	nrecent int
}

// NewHybridHistogram returns the policy with the paper's parameters.
func NewHybridHistogram() *HybridHistogram {
	return &HybridHistogram{Range: 240 * Minute, Bin: Minute, Head: 0.05, Tail: 0.99, Margin: 0.10,
		CVThreshold: 2, OOBMaxFrac: 0.5}
}

// Name implements Policy.
func (*HybridHistogram) Name() string { return PolicyHistogram }

// Start implements Policy.
func (h *HybridHistogram) Start(env PolicyEnv) {
	h.env = env
	h.nbins = int(h.Range / h.Bin)
	h.pools = make([]histPool, env.Pools)
	for i := range h.pools {
		h.pools[i].lastEnd = -1
	}
}

// Arrive records the idle time since the pool's last invocation ended, when none is
// running.
func (h *HybridHistogram) Arrive(pool int, t int64) {
	p := &h.pools[pool]
	if p.lastEnd < 0 || (h.env.View != nil && h.env.View.Busy(pool) > 0) {
		return
	}
	it := max(t-p.lastEnd, 0)
	if it >= h.Range {
		p.oob++
		p.recent[p.nrecent%OOBWindow] = it
		p.nrecent++
		p.dirty = true
		return
	}
	if p.bins == nil {
		p.bins = make([]uint32, h.nbins)
	}
	c := &p.bins[it/h.Bin]
	p.sumSq += float64(2**c + 1)
	*c++
	p.total++
	p.dirty = true
}

// Windows returns the pool's pre-warm and keep-alive windows now, in ns.
func (h *HybridHistogram) Windows(pool int) (prewarm, keepAlive int64) {
	p := &h.pools[pool]
	if p.dirty || p.ka == 0 {
		p.pw, p.ka = h.windows(p)
		p.dirty = false
	}
	return p.pw, p.ka
}

func (h *HybridHistogram) windows(p *histPool) (prewarm, keepAlive int64) {
	all := p.total + p.oob
	if all > 0 && float64(p.oob) > h.OOBMaxFrac*float64(all) {
		n := min(p.nrecent, OOBWindow)
		var sum int64
		for i := 0; i < n; i++ {
			sum += p.recent[i]
		}
		pred := float64(sum) / float64(n)
		return int64(0.85 * pred), int64(0.30 * pred)
	}
	if p.total == 0 || h.cv(p) <= h.CVThreshold {
		return 0, h.Range
	}
	head, tail := -1, -1
	var cum uint32
	for b, c := range p.bins {
		cum += c
		if head < 0 && float64(cum) >= h.Head*float64(p.total) {
			head = b
		}
		if float64(cum) >= h.Tail*float64(p.total) {
			tail = b
			break
		}
	}
	pw := int64(float64(int64(head)*h.Bin) * (1 - h.Margin))
	ka := int64(float64(int64(tail+1)*h.Bin)*(1+h.Margin)) - pw
	return pw, ka
}

// cv is the coefficient of variation of the bin counts (population standard deviation over
// the mean).
func (h *HybridHistogram) cv(p *histPool) float64 {
	n := float64(len(p.bins))
	mean := float64(p.total) / n
	return math.Sqrt(max(p.sumSq/n-mean*mean, 0)) / mean
}

// Idle applies the windows.
func (h *HybridHistogram) Idle(pool int, t int64) Keep {
	h.pools[pool].lastEnd = t
	pw, ka := h.Windows(pool)
	if pw <= 0 {
		return Keep{Until: t + ka, Priority: float64(t)}
	}
	return Keep{Until: t, PrewarmAt: t + pw, PrewarmUntil: t + pw + ka, Priority: float64(t)}
}

// Evicted implements Policy.
func (*HybridHistogram) Evicted(int, float64) {}
