package trace

// KeepAlive keeps an idle enclave for a fixed TTL after its last invocation ended
// (OpenWhisk's 10 minutes by default), and evicts the least recently used one under memory
// pressure.
type KeepAlive struct {
	// TTL is how long an idle enclave is kept, in ns; Forever keeps it.
	TTL int64
}

// Name implements Policy.
func (*KeepAlive) Name() string { return PolicyKeepAlive }

// Start implements Policy.
func (*KeepAlive) Start(PolicyEnv) {}

// Arrive implements Policy.
func (*KeepAlive) Arrive(int, int64) {}

// Idle keeps the enclave until t + TTL; an arrival before then reuses it, one at t + TTL
// or later finds it gone.
func (k *KeepAlive) Idle(_ int, t int64) Keep {
	until := Forever
	if k.TTL != Forever {
		until = t + k.TTL
	}
	return Keep{Until: until, Priority: float64(t)}
}

// Evicted implements Policy.
func (*KeepAlive) Evicted(int, float64) {}
