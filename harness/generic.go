package harness

import (
	"context"
	"fmt"

	"github.com/reclave/reclave/enclave"
)

// ModeGeneric is the mode of generic enclaves: each worker keeps one enclave measured without
// any function ([enclave.CreateGeneric]), which loads the function each invocation brings and
// is rewound to its runtime snapshot afterwards. With a mix, the workers are a shared pool
// serving every function of the mix; without one, each serves the group's workload.
const ModeGeneric = "generic"

// genericWorker is one worker of mode generic: a [Session] whose one generic enclave serves
// whatever function the worker's draws name (re-created, as a session's enclave is, when an
// invocation left it unusable). It is used by one goroutine at a time.
type genericWorker struct {
	*Session
	targets []*target
	pick    func() int
}

func newGenericWorker(cfg enclave.Config, targets []*target, pick func() int, warn func(string)) *genericWorker {
	cfg.Reset, cfg.OneShot = enclave.ResetRewind, false
	cfg.SnapshotPoint = enclave.PointRuntime
	s := &Session{mode: ModeGeneric, cfg: cfg, fn: targets[0].fn, generic: true, OnWarning: warn}
	return &genericWorker{Session: s, targets: targets, pick: pick}
}

// draw chooses the function of the next invocation.
func (w *genericWorker) draw() *target {
	t := w.targets[w.pick()]
	w.fn = t.fn
	return t
}

// Prepare creates the generic enclave and invokes every function the worker may serve once,
// unrecorded, so that the enclave's compile cache holds each: the other modes' enclaves compile
// their function at creation, which is not measured either. A function that fails there fails
// again, recorded, when drawn.
func (w *genericWorker) Prepare(ctx context.Context) error {
	if w.enc != nil {
		return nil
	}
	if _, err := w.create(ctx); err != nil {
		return err
	}
	for _, t := range w.targets {
		if _, err := w.enc.InvokeFunction(ctx, t.fn, t.input); err != nil && w.enc.Unusable() != nil {
			return fmt.Errorf("load %s: %w", t.w.Name, err)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
	}
	return nil
}
