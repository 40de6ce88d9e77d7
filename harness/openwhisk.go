package harness

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/openwhisk"
	"github.com/reclave/reclave/results"
)

// ModePlatform is the mode of the groups of target openwhisk: the platform decides whether an
// activation is cold or warm, and each record says which (from the activation's initTime
// annotation, never from a latency).
const ModePlatform = "platform"

// whisk is the run's connection to an OpenWhisk deployment (target openwhisk): one client
// target, safe for concurrent use, and the actions deployed so far.
type whisk struct {
	t *openwhisk.Target

	mu       sync.Mutex
	deployed map[string]bool
}

// newWhisk connects to the deployment that ~/.wskprops (or WSK_CONFIG_FILE) and the __OW_*
// environment variables name.
func newWhisk() (*whisk, error) {
	cfg, err := openwhisk.LoadConfig()
	if err != nil {
		return nil, fmt.Errorf("target openwhisk: %w", err)
	}
	t, err := openwhisk.NewTarget(cfg)
	if err != nil {
		return nil, fmt.Errorf("target openwhisk: %w", err)
	}
	return &whisk{t: t, deployed: map[string]bool{}}, nil
}

// deploy creates or updates the workload's action once per run and returns its name.
func (wh *whisk) deploy(ctx context.Context, spec OpenWhiskSpec, t *target) (string, error) {
	name := spec.ActionPrefix + t.w.Name
	wh.mu.Lock()
	defer wh.mu.Unlock()
	if wh.deployed[name] {
		return name, nil
	}
	opts := openwhisk.DeployOptions{Image: spec.Image, MemoryMB: spec.MemoryMB, Timeout: spec.Timeout}
	if t.fn.Kind == enclave.KindCommand {
		opts.Main = "_start"
	}
	if err := wh.t.Deploy(ctx, name, t.fn.Wasm, opts); err != nil {
		return "", err
	}
	wh.deployed[name] = true
	return name, nil
}

// whiskWorker is a worker of target openwhisk: it invokes the workload's action, blocking.
type whiskWorker struct {
	t      *openwhisk.Target
	action string
}

// Prepare does nothing: the platform starts containers when it needs them.
func (w *whiskWorker) Prepare(context.Context) error { return nil }

// Close does nothing: the platform owns the containers.
func (w *whiskWorker) Close(context.Context) error { return nil }

// Invoke invokes the action blocking and reads its activation record. An invocation that
// produced no activation (the network, the key) is recorded as an internal error; the
// worker goes on.
func (w *whiskWorker) Invoke(ctx context.Context, input []byte, _ *[32]byte) (*Call, error) {
	c := &Call{Start: time.Now(), Clean: true}
	act, err := w.t.Invoke(ctx, w.action, input)
	c.Latency = time.Since(c.Start)
	c.Response = c.Latency
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted: %w", ctx.Err())
		}
		c.Err = err
		c.Remote = func(rec results.Record) results.Record {
			rec.Target = openwhisk.TargetName
			rec.LatencyNs, rec.ResponseNs = c.Latency.Nanoseconds(), c.Latency.Nanoseconds()
			rec.PhasesNs = map[string]int64{}
			rec.Error, rec.ErrorKind = err.Error(), string(enclave.KindInternal)
			return rec
		}
		return c, nil
	}
	if !act.Success {
		c.Err = errors.New(act.Error)
	}
	// The result as the controller returns it may be re-encoded: it is not checked against
	// the workload's expected output (Output stays nil), only recorded by its hash.
	c.Remote = act.Record
	return c, nil
}
