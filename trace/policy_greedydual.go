package trace

// GreedyDual is FaasCache's keep-alive (Fuerst & Sharma, ASPLOS'21), Greedy-Dual-Size-
// Frequency caching of enclaves: an idle enclave has priority clock + frequency × cold-start
// cost / size, is kept as long as memory allows, and under pressure the lowest priority is
// evicted first, the clock advancing to its priority (so that enclaves not used for long
// age out). Frequency counts the pool's invocations since it last had no enclave (it
// restarts at 0 when its last enclave is evicted). Sizes are in MiB, costs in ms. With
// unbounded capacity nothing is ever evicted.
type GreedyDual struct {
	env   PolicyEnv
	clock float64
	freq  []float64
}

// Name implements Policy.
func (*GreedyDual) Name() string { return PolicyGreedyDual }

// Start implements Policy.
func (g *GreedyDual) Start(env PolicyEnv) {
	g.env, g.clock, g.freq = env, 0, make([]float64, env.Pools)
}

// Arrive counts the invocation.
func (g *GreedyDual) Arrive(pool int, _ int64) { g.freq[pool]++ }

// Idle keeps the enclave with its priority.
func (g *GreedyDual) Idle(pool int, _ int64) Keep {
	return Keep{Until: Forever, Priority: g.Priority(pool)}
}

// Priority is the priority an enclave of pool gets now.
func (g *GreedyDual) Priority(pool int) float64 {
	mib := float64(g.env.Bytes[pool]) / (1 << 20)
	return g.clock + g.freq[pool]*(g.env.ColdNs[pool]/1e6)/mib
}

// Evicted advances the clock to the evicted enclave's priority.
func (g *GreedyDual) Evicted(pool int, priority float64) {
	g.clock = max(g.clock, priority)
	if g.env.View != nil && g.env.View.Live(pool) == 0 {
		g.freq[pool] = 0
	}
}
