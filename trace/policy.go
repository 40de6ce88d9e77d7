package trace

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/reclave/reclave/internal/tracespec"
)

// Forever is an expiry that never comes.
const Forever = int64(math.MaxInt64)

// Keep is a policy's decision for an enclave that has just become idle.
type Keep struct {
	// Until is when the enclave is destroyed if it is still idle: at or before the present
	// it is destroyed at once; Forever keeps it (until evicted under memory pressure). An
	// arrival at exactly Until finds it gone.
	Until int64
	// Priority orders eviction under memory pressure: the idle enclave with the lowest is
	// evicted first.
	Priority float64
	// PrewarmAt, when positive, asks for a new enclave of the pool to be created at
	// PrewarmAt (unless one is idle then) and kept idle until PrewarmUntil.
	PrewarmAt, PrewarmUntil int64
}

// View is what a policy may ask the simulator about a pool of enclaves.
type View interface {
	// Busy returns the enclaves of the pool serving an invocation (or being reset).
	Busy(pool int) int
	// Live returns the enclaves of the pool that exist: busy, idle or being created.
	Live(pool int) int
}

// PolicyEnv is what a policy knows of a simulation when it starts.
type PolicyEnv struct {
	// Pools is the number of pools: one per function, or one with reuse generic.
	Pools int
	// ColdNs and Bytes are, per pool, the cost of a cold start and the size of an enclave.
	ColdNs []float64
	Bytes  []int64
	View   View
}

// Policy decides how many enclaves a platform keeps or pre-warms per pool. One value
// serves one simulation at a time; [Policy.Start] resets it.
type Policy interface {
	// Name is the policy's name, as --policies takes it.
	Name() string
	// Start prepares the policy for a simulation.
	Start(env PolicyEnv)
	// Arrive is told of an invocation of pool at t, before it is served.
	Arrive(pool int, t int64)
	// Idle decides what becomes of an enclave of pool that became idle at t.
	Idle(pool int, t int64) Keep
	// Evicted is told that an idle enclave of pool, of the given priority, was evicted to
	// make room.
	Evicted(pool int, priority float64)
}

// Ticker is a Policy that sizes its pools at every minute of the trace: the simulator
// pre-warms enclaves up to the returned target and destroys idle ones beyond it.
type Ticker interface {
	Policy
	Tick(pool int, t int64) (target int)
}

// Policy names (internal/tracespec's, which configs are validated against; a new policy is
// named there and in NewPolicy).
const (
	PolicyNone       = tracespec.PolicyNone
	PolicyKeepAlive  = tracespec.PolicyKeepAlive
	PolicyHistogram  = tracespec.PolicyHistogram
	PolicyGreedyDual = tracespec.PolicyGreedyDual
	PolicyPredictive = tracespec.PolicyPredictive
)

// Policies are the policies, in the order reported.
var Policies = tracespec.Policies

// PolicyOptions parameterise the policies.
type PolicyOptions struct {
	// KeepAlive is the TTL of keepalive; 0 means 10 minutes, negative never expires.
	KeepAlive time.Duration
}

// NewPolicy returns the named policy.
func NewPolicy(name string, opts PolicyOptions) (Policy, error) {
	switch name {
	case PolicyNone:
		return &None{}, nil
	case PolicyKeepAlive:
		ttl := int64(opts.KeepAlive)
		switch {
		case ttl == 0:
			ttl = int64(10 * time.Minute)
		case ttl < 0:
			ttl = Forever
		}
		return &KeepAlive{TTL: ttl}, nil
	case PolicyHistogram:
		return NewHybridHistogram(), nil
	case PolicyGreedyDual:
		return &GreedyDual{}, nil
	case PolicyPredictive:
		return NewPredictive(), nil
	}
	return nil, fmt.Errorf("policy %q: want one of %s", name, strings.Join(Policies, ", "))
}
