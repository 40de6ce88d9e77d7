package trace

// None is the policy without reuse: every invocation gets a fresh enclave, destroyed after
// it (the confidential baseline the paper starts from).
type None struct{}

// Name implements Policy.
func (*None) Name() string { return PolicyNone }

// Start implements Policy.
func (*None) Start(PolicyEnv) {}

// Arrive implements Policy.
func (*None) Arrive(int, int64) {}

// Idle destroys the enclave at once.
func (*None) Idle(_ int, t int64) Keep { return Keep{Until: t} }

// Evicted implements Policy.
func (*None) Evicted(int, float64) {}
