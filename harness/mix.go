package harness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/workloads"
)

// MixItem is one workload of a config's mix and its weight: the workload is drawn with
// probability weight / Σ weights.
type MixItem struct {
	Workload string `yaml:"workload"`
	Weight   int    `yaml:"weight"`
}

// defaultMixSeed seeds a mix's draws when the config gives no mix_seed.
const defaultMixSeed = 1

// validMode reports whether a config may name mode in modes or mode_iterations.
func validMode(mode string) bool {
	return slices.Contains(Modes, mode) || mode == ModeGeneric
}

// validateMix checks the config's mix and mode generic, fills in their defaults and makes the
// mix's workloads the config's workloads (in the mix's order), so that they load as any
// workloads do.
func (c *Config) validateMix(bad func(key, format string, args ...any) error) error {
	if c.Target != TargetEmbedded {
		if i := slices.Index(c.Modes, ModeGeneric); i >= 0 {
			return bad(fmt.Sprintf("modes[%d]", i), "target %s: mode generic runs the driver's own generic enclaves (target embedded only)", c.Target)
		}
		if len(c.Mix) > 0 {
			return bad("mix", "target %s: a mix is drawn by the driver's own workers (target embedded only)", c.Target)
		}
	}
	if len(c.Mix) == 0 {
		if c.MixSeed != 0 {
			return bad("mix_seed", "only a mix is drawn from: give mix, or leave mix_seed out")
		}
		return nil
	}
	if len(c.Workloads) > 0 {
		return bad("workloads", "a config with a mix names its workloads in the mix: leave workloads out")
	}
	if c.MixSeed == 0 {
		c.MixSeed = defaultMixSeed
	}
	for i := range c.Mix {
		it := &c.Mix[i]
		key := fmt.Sprintf("mix[%d]", i)
		if it.Workload == "" {
			return bad(key+".workload", "missing: name a workload")
		}
		if it.Weight == 0 {
			it.Weight = 1
		}
		if it.Weight < 1 || it.Weight > 1_000_000 {
			return bad(key+".weight", "%d: want 1 to 1000000", it.Weight)
		}
		if slices.IndexFunc(c.Mix, func(o MixItem) bool { return o.Workload == it.Workload }) != i {
			return bad(key+".workload", "%q listed twice", it.Workload)
		}
		c.Workloads = append(c.Workloads, it.Workload)
	}
	return nil
}

// mix is a config's mix, ready to draw from: its targets (in the mix's order) and the
// cumulative weights.
type mix struct {
	name    string // "W1:weight,W2:weight", as records carry it
	targets []*target
	cum     []int // cum[i] = Σ weights of targets[:i+1]
	seed    uint64
}

// newMix returns the mix of cfg over targets (the mix's workloads, in its order), or nil when
// cfg has no mix.
func newMix(cfg *Config, targets []*target) *mix {
	if len(cfg.Mix) == 0 || len(targets) != len(cfg.Mix) {
		return nil
	}
	m := &mix{targets: targets, seed: cfg.MixSeed}
	var names []string
	total := 0
	for _, it := range cfg.Mix {
		total += it.Weight
		m.cum = append(m.cum, total)
		names = append(names, it.Workload+":"+strconv.Itoa(it.Weight))
	}
	m.name = strings.Join(names, ",")
	return m
}

// rng returns the generator of one worker's draws in one round.
func (m *mix) rng(round, worker int) *rand.Rand {
	return rand.New(rand.NewPCG(m.seed, uint64(round)<<32|uint64(worker)))
}

// pick draws a target's index.
func (m *mix) pick(rng *rand.Rand) int {
	x := rng.IntN(m.cum[len(m.cum)-1])
	i, _ := slices.BinarySearch(m.cum, x+1)
	return i
}

// drawer is a worker that chooses the function of its next invocation itself: a worker of a
// mix, or of mode generic. The group asks it before each invocation and passes the drawn
// target's input.
type drawer interface {
	draw() *target
}

// workload is what the group's progress, errors and records call it: its workload, or its mix.
func (g *group) workload() string {
	if g.mix != nil {
		return g.mix.name
	}
	return g.t.w.Name
}

// newMixInvoker returns worker w of group g when the group is a mix or of mode generic: a
// generic worker (mode generic), or one session per workload of the mix (the other modes).
func (r *runner) newMixInvoker(g group, ecfg enclave.Config, w int) (invoker, error) {
	targets, pick := []*target{g.t}, func() int { return 0 }
	if g.mix != nil {
		rng := g.mix.rng(g.round, w)
		targets, pick = g.mix.targets, func() int { return g.mix.pick(rng) }
	}
	if g.mode == ModeGeneric {
		return newGenericWorker(ecfg, targets, pick, r.warn), nil
	}
	mw := &mixWorker{targets: targets, pick: pick}
	for _, t := range targets {
		s, err := NewSession(g.mode, ecfg, t.fn)
		if err != nil {
			return nil, err
		}
		s.OnWarning = r.warn
		mw.sessions = append(mw.sessions, s)
	}
	return mw, nil
}

// mixWorker serves a mix with one session (so, but in mode cold, one enclave) per workload:
// the per-function pool of one worker.
type mixWorker struct {
	targets  []*target
	sessions []*Session
	pick     func() int
	cur      int
}

func (w *mixWorker) draw() *target {
	w.cur = w.pick()
	return w.targets[w.cur]
}

// Prepare creates every workload's enclave.
func (w *mixWorker) Prepare(ctx context.Context) error {
	for i, s := range w.sessions {
		if err := s.Prepare(ctx); err != nil {
			return fmt.Errorf("%s: %w", w.targets[i].w.Name, err)
		}
	}
	return nil
}

// Invoke runs the drawn workload in its own session.
func (w *mixWorker) Invoke(ctx context.Context, input []byte, nonce *[32]byte) (*Call, error) {
	return w.sessions[w.cur].Invoke(ctx, input, nonce)
}

// Close destroys every workload's enclave.
func (w *mixWorker) Close(ctx context.Context) error {
	var errs []error
	for _, s := range w.sessions {
		errs = append(errs, s.Close(ctx))
	}
	return errors.Join(errs...)
}

// planWorkloads returns the workloads the plan has configurations of: wls, or for a mix its
// first workload only (a mix is one configuration per mode), for [Config.Estimate].
func (c *Config) planWorkloads(wls []*workloads.Workload) []*workloads.Workload {
	if len(c.Mix) > 0 && len(wls) > 0 {
		return wls[:1]
	}
	return wls
}

// enclavesPerWorker is how many enclaves a worker of mode holds at once: one per workload of
// the mix in the modes other than generic (the per-function pool), else one.
func (c *Config) enclavesPerWorker(mode string) int {
	if len(c.Mix) > 0 && mode != ModeGeneric {
		return len(c.Mix)
	}
	return 1
}
