package trace

import "math"

// Predictive is a HotC-style live pool (HotC: Suo et al., "Tackling Cold Start of Serverless
// Applications by Efficient and Adaptive Container Runtime Reusing", IEEE CLUSTER 2021):
// every minute it forecasts the number of enclaves a pool will need in the next minute and
// pre-warms up to it, destroying idle enclaves beyond it. The demand of a minute is the most invocations of
// the pool in flight at once during it. The forecast is exponential smoothing (weight Alpha
// on the latest minute) corrected by a Markov chain over its error: the error of each
// minute (demand − forecast) falls into one of the ErrorEdges states; the chain's
// transitions between consecutive states are counted, and the correction is the expected
// error of the next state given the current one (each state's error the mean of the errors
// seen in it). The pool's target is ⌈forecast + correction⌉, at least 0. Between ticks idle
// enclaves are kept; under memory pressure the least recently used is evicted.
type Predictive struct {
	// Alpha is the smoothing weight (0.5).
	Alpha float64
	// ErrorEdges are the upper edges of the error states but the last (−2, −0.5, 0.5, 2).
	ErrorEdges []float64

	env   PolicyEnv
	pools []predPool
}

type predPool struct {
	forecast float64
	peak     int
	state    int // the last error state; -1 none yet
	trans    []uint32
	errSum   []float64
	errN     []uint32
}

// NewPredictive returns the policy with its default parameters.
func NewPredictive() *Predictive {
	return &Predictive{Alpha: 0.5, ErrorEdges: []float64{-2, -0.5, 0.5, 2}}
}

// Name implements Policy.
func (*Predictive) Name() string { return PolicyPredictive }

// Start implements Policy.
func (p *Predictive) Start(env PolicyEnv) {
	p.env = env
	p.pools = make([]predPool, env.Pools)
	for i := range p.pools {
		p.pools[i].state = -1
	}
}

// Arrive updates the minute's demand.
func (p *Predictive) Arrive(pool int, _ int64) {
	busy := 1
	if p.env.View != nil {
		busy += p.env.View.Busy(pool)
	}
	p.pools[pool].peak = max(p.pools[pool].peak, busy)
}

// Idle keeps the enclave until the next tick decides.
func (*Predictive) Idle(_ int, t int64) Keep { return Keep{Until: Forever, Priority: float64(t)} }

// Evicted implements Policy.
func (*Predictive) Evicted(int, float64) {}

func (p *Predictive) stateOf(e float64) int {
	for i, edge := range p.ErrorEdges {
		if e < edge {
			return i
		}
	}
	return len(p.ErrorEdges)
}

// Tick closes the minute ending at t and returns the pool's target for the next one.
func (p *Predictive) Tick(pool int, _ int64) int {
	q := &p.pools[pool]
	if q.peak == 0 && q.forecast < 1e-3 && q.state <= 0 && q.trans == nil {
		return 0 // a pool never used: nothing to learn
	}
	k := len(p.ErrorEdges) + 1
	if q.trans == nil {
		q.trans = make([]uint32, k*k)
		q.errSum = make([]float64, k)
		q.errN = make([]uint32, k)
	}
	demand := float64(q.peak)
	e := demand - q.forecast
	s := p.stateOf(e)
	q.errSum[s] += e
	q.errN[s]++
	if q.state >= 0 {
		q.trans[q.state*k+s]++
	}
	q.state = s
	q.forecast = p.Alpha*demand + (1-p.Alpha)*q.forecast
	var corr float64
	var row uint32
	for j := 0; j < k; j++ {
		row += q.trans[s*k+j]
	}
	if row > 0 {
		for j := 0; j < k; j++ {
			if c := q.trans[s*k+j]; c > 0 {
				corr += float64(c) / float64(row) * q.errSum[j] / float64(q.errN[j])
			}
		}
	}
	q.peak = 0
	if p.env.View != nil {
		q.peak = p.env.View.Busy(pool)
	}
	return max(int(math.Ceil(q.forecast+corr-1e-9)), 0)
}
