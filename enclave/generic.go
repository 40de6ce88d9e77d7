package enclave

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/reclave/reclave/enclave/internal/wasmbin"
)

// Generic enclaves: one enclave, measured without any function, that serves any function
// brought to it with each invocation. See the package documentation, "Generic enclaves".

// GenericCacheModules is how many compiled modules a generic enclave keeps in its compile
// cache; loading another evicts the least recently used.
const GenericCacheModules = 64

// genericName is the function name a generic enclave reports while no function is loaded.
const genericName = "generic runtime"

// errNoFunction is the error of Invoke on a generic enclave, which has no function of its own.
var errNoFunction = errors.New("a generic enclave serves the function each invocation brings: use InvokeFunction")

// genericState is what a generic enclave keeps across invocations: nothing of any function
// but its compiled code, which no guest can change.
type genericState struct {
	heapCap      uint64 // the heap's limit when no function is loaded
	cache        map[[32]byte]*cachedModule
	tick         uint64 // a clock for the cache's least recently used
	hits, misses uint64
}

// cachedModule is a module compiled by a generic enclave: instrumented for the enclave (its
// whole heap tracked, when the strategy tracks), not for one function, so that any function
// with the same module bytes may use it.
type cachedModule struct {
	compiled wazero.CompiledModule
	track    *wasmbin.Instrumented
	used     uint64 // genericState.tick of the last use
}

// ModuleLoad is how a generic enclave's invocation brought its function in ([Invocation.Load]).
type ModuleLoad struct {
	// Function is the function's name.
	Function string
	// ModuleHash is SHA-256 of the module as given: what the inner report binds.
	ModuleHash [32]byte
	// CacheHit says the compiled module came from the enclave's compile cache (phase load
	// then only looks it up and checks it against the function); false: it was compiled.
	CacheHit bool
	// CacheHits and CacheMisses are the enclave's totals, this load included.
	CacheHits, CacheMisses uint64
}

// CreateGeneric creates a generic enclave: as [Create] does, but without a function. Its
// layout and so its MRENCLAVE cover the TCS and SSA pages, the stack, the runtime image and
// the heap, and no module: every generic enclave of the same configuration has the same
// measurement, whatever functions it serves. The snapshot is taken at the runtime point
// (before any module), the only clean state that belongs to no function; its clean-state hash
// ([Enclave.CleanStateHash]) is the same for every function, see [GenericCleanStateHash].
//
// The configuration must rewind (Reset zero or ResetRewind) at snapshot point runtime (or
// zero) and may not be OneShot. Strategy auto, which chooses per function between diff and a
// tracked module variant, becomes diff: at the runtime point the instantiation writes every
// page of linear memory (zeros and data segments), so tracking the pages an invocation writes
// would save nothing over a scan, and the untracked module runs at full speed. Any other
// strategy is used as configured.
//
// Serve functions with [Enclave.InvokeFunction]; [Enclave.Invoke] refuses.
func CreateGeneric(ctx context.Context, cfg Config) (_ *Enclave, err error) {
	switch {
	case cfg.Reset != "" && cfg.Reset != ResetRewind:
		return nil, fmt.Errorf("generic enclave: reset %q: a generic enclave rewinds to its runtime snapshot after every invocation (want rewind)", cfg.Reset)
	case cfg.SnapshotPoint != "" && cfg.SnapshotPoint != PointRuntime:
		return nil, fmt.Errorf("generic enclave: snapshot point %q: the clean state of a generic enclave is the runtime's, before any module (want runtime)", cfg.SnapshotPoint)
	case cfg.OneShot:
		return nil, errors.New("generic enclave: OneShot: a generic enclave exists to serve many invocations; create a fresh enclave per invocation with Create")
	}
	cfg.SnapshotPoint = PointRuntime
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.Strategy == StrategyAuto {
		cfg.Strategy = StrategyDiff
	}
	// MemoryPages of the whole address space: the heap is limited by the region only, until a
	// function brings its own cap.
	e, err := newEnclave(cfg, Function{Name: genericName, MemoryPages: 65536})
	if err != nil {
		return nil, err
	}
	e.generic = &genericState{cache: map[[32]byte]*cachedModule{}}
	defer func() {
		if err != nil {
			e.Close(context.WithoutCancel(ctx))
		}
	}()
	steps := append(e.launchSteps(ctx), createStep{"snapshot", e.takeSnapshot})
	if cfg.Quoter != nil {
		steps = append(steps, createStep{"quote", e.quote})
	}
	if err := e.runSteps(steps); err != nil {
		return nil, err
	}
	e.generic.heapCap = e.heap.limit
	e.clean = GenericCleanStateHash()
	e.finishCreation()
	return e, nil
}

// GenericCleanStateHash is the clean-state hash of every generic enclave, which its inner
// reports carry: SHA-256 of "reclave clean state v1", "generic" and "runtime". The state it
// names is the runtime before any module — no linear memory, no instance, the WASI host as it
// started — the same for every function and every generic enclave, so a verifier pins it
// once. Which runtime holds that state is MRENCLAVE's to say.
func GenericCleanStateHash() [32]byte {
	return sha256.Sum256([]byte("reclave clean state v1\x00generic\x00" + string(PointRuntime) + "\x00"))
}

// Generic reports whether the enclave is generic ([CreateGeneric]).
func (e *Enclave) Generic() bool { return e.generic != nil }

// CompileCacheStats returns a generic enclave's compile-cache counts: hits, misses and the
// modules held now (zeros for an enclave created for one function).
func (e *Enclave) CompileCacheStats() (hits, misses uint64, modules int) {
	if e.generic == nil {
		return 0, 0, 0
	}
	return e.generic.hits, e.generic.misses, len(e.generic.cache)
}

// InvokeFunction runs fn once, with input on its stdin, in a generic enclave rewound to its
// runtime snapshot, and rewinds it again afterwards: phase load (the module is hashed, its
// imports checked against fn's allow-list, and it is compiled, or found compiled in the
// enclave's cache by its SHA-256), instantiate (on a zeroed heap, within fn's memory cap),
// fn_init (_initialize, reclave_init), invoke, then rewind: the instance, its memory, the WASI
// host's state and fn's stub host modules are dropped, and only the compiled module is kept,
// which holds no guest state. The next invocation may bring any function.
//
// The module is data the runtime verifies after EINIT, not code the measurement covers: the
// enclave's evidence attests the runtime only, and an attested invocation
// ([Enclave.InvokeFunctionAttested]) binds the module's hash in its inner report.
//
// Errors are as for [Enclave.Invoke]; a module the runtime refuses (bad imports, no memory,
// an entry point of the wrong type), or whose start function or init fails, fails the
// invocation with the enclave rewound and still usable: a function's failure is its own.
// [Invocation.Load] says which function ran and whether its compiled code was cached.
func (e *Enclave) InvokeFunction(ctx context.Context, fn Function, input []byte) (*Invocation, error) {
	return e.invokeFunction(ctx, fn, input, nil)
}

// InvokeFunctionAttested is InvokeFunction with an inner attestation report, as
// [Enclave.InvokeAttested]: it binds the generic runtime's MRENCLAVE, fn's module hash, the
// generic clean-state hash ([GenericCleanStateHash]), the epoch, the nonce and the hashes of
// input and output. A verifier pins the runtime (MRENCLAVE) once and lists the functions it
// accepts (attest.Policy.ModuleHash); a report for any other module is refused
// (attest.ErrPolicyModule). The enclave must have been created with a Quoter.
func (e *Enclave) InvokeFunctionAttested(ctx context.Context, fn Function, input []byte, nonce [32]byte) (*Invocation, error) {
	if e.l0 == nil {
		return nil, fmt.Errorf("invoke %s attested: the enclave has no attestation key (create it with a Quoter)", fn.Name)
	}
	return e.invokeFunction(ctx, fn, input, &nonce)
}

func (e *Enclave) invokeFunction(ctx context.Context, fn Function, input []byte, nonce *[32]byte) (*Invocation, error) {
	if e.generic == nil {
		return nil, fmt.Errorf("invoke %s: the enclave serves its own function %s: create a generic enclave (CreateGeneric) to bring one per invocation", fn.Name, e.fn.Name)
	}
	if e.unusable != nil {
		return nil, fmt.Errorf("invoke %s: %w: %v", fn.Name, ErrUnusable, e.unusable)
	}
	fn, err := fn.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", fn.Name, err)
	}
	start := time.Now()
	inv := &Invocation{Epoch: e.epoch, Start: start, Load: &ModuleLoad{Function: fn.Name}}
	inv.Phases = inv.phases[:0]
	if err := e.loadFunction(ctx, fn, inv); err != nil {
		return e.abortLoad(ctx, inv, err)
	}
	// Instantiate and initialise from the runtime's clean state (phases instantiate, fn_init).
	if err := e.rebuild(ctx, inv, true); err != nil {
		return e.abortLoad(ctx, inv, err)
	}
	if e.inst == nil { // the caller stopped it
		return e.abortLoad(ctx, inv, &InvokeError{Kind: KindCanceled, Err: context.Cause(ctx)})
	}
	return e.invokeFrom(ctx, inv, e.cc.now(), input, nonce)
}

// loadFunction makes fn the enclave's function (phase load): its limits applied, its module
// hashed, checked against its allow-list and compiled or found in the compile cache.
func (e *Enclave) loadFunction(ctx context.Context, fn Function, inv *Invocation) error {
	start := e.cc.now()
	g := e.generic
	e.fn, e.moduleSum = fn, sha256.Sum256(fn.Wasm)
	e.heap.limit = min(uint64(fn.MemoryPages)*wasmPageSize, g.heapCap)
	e.host.SetMaxOutputBytes(fn.MaxOutputBytes)
	inv.Load.ModuleHash = e.moduleSum
	err := e.compileCached(ctx, inv.Load)
	inv.Load.CacheHits, inv.Load.CacheMisses = g.hits, g.misses
	inv.timedPhase("load", start, e.cc.now())
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	return nil
}

// compileCached gives the loaded function its compiled module: from the cache when its
// module's hash is there, else compiled — for the whole heap, so that the compiled code
// serves any function with these bytes — and cached. Either way every check that depends on
// the function (allow-list, stubs, memory cap, entry point of its kind) is made for it.
func (e *Enclave) compileCached(ctx context.Context, load *ModuleLoad) error {
	g := e.generic
	g.tick++
	if c, ok := g.cache[e.moduleSum]; ok {
		g.hits++
		load.CacheHit = true
		c.used = g.tick
		if err := e.checkImports(); err != nil {
			return err
		}
		e.compiled, e.track, e.info = c.compiled, c.track, c.track.Info
		if err := e.checkModule(); err != nil {
			return err
		}
		return e.bindModule(ctx)
	}
	g.misses++
	limit := e.heap.limit
	e.heap.limit = g.heapCap
	err := e.compile(ctx)
	e.heap.limit = limit
	if e.compiled != nil { // compiled: valid for any function with these bytes
		if cerr := e.cacheModule(ctx); cerr != nil {
			return errors.Join(err, cerr)
		}
	}
	if err != nil {
		return err
	}
	return e.checkModule() // against the function's own memory cap
}

// cacheModule adds the compiled module to the cache, evicting the least recently used one
// when the cache is full.
func (e *Enclave) cacheModule(ctx context.Context) error {
	g := e.generic
	var err error
	if len(g.cache) >= GenericCacheModules {
		var oldest [32]byte
		first := true
		for k, c := range g.cache {
			if first || c.used < g.cache[oldest].used {
				oldest, first = k, false
			}
		}
		err = g.cache[oldest].compiled.Close(context.WithoutCancel(ctx))
		delete(g.cache, oldest)
	}
	g.cache[e.moduleSum] = &cachedModule{compiled: e.compiled, track: e.track, used: g.tick}
	return err
}

// unloadFunction forgets the function of a generic enclave once its instance is gone and the
// heap rewound: its stub host modules are closed (another function may stub the same module
// names with other types), its limits, hashes and module handles dropped. The compiled
// module stays in the cache.
func (e *Enclave) unloadFunction(ctx context.Context) error {
	var errs []error
	for _, m := range e.stubMods {
		errs = append(errs, m.Close(context.WithoutCancel(ctx)))
	}
	clear(e.stubMods)
	e.stubMods = e.stubMods[:0]
	e.fn = Function{Name: genericName, MemoryPages: 65536}
	e.compiled, e.track, e.info = nil, nil, nil
	e.moduleSum = [32]byte{}
	e.heap.limit = e.generic.heapCap
	e.initRandom = 0
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("unload: %w", err)
	}
	return nil
}

// abortLoad ends an invocation whose function could not be loaded, instantiated or
// initialised: the enclave is rewound to its runtime snapshot (which unloads the function)
// and stays usable unless that fails.
func (e *Enclave) abortLoad(ctx context.Context, inv *Invocation, err error) (*Invocation, error) {
	name := e.fn.Name
	inv.Response = time.Since(inv.Start)
	rerr := e.rewindToRuntime(ctx, inv)
	e.epoch++
	inv.Reset = ResetRewind
	inv.ResetHostCalls = e.takeHostCalls(nil)
	inv.HostCallTrace = e.takeHostCallTrace(inv.HostCallTrace, "reset")
	inv.Total = time.Since(inv.Start)
	err = fmt.Errorf("invoke %s: %w", name, err)
	if rerr != nil {
		e.unusable = fmt.Errorf("rewind after a failed load: %w", rerr)
		inv.Reset = ResetRetire
		return inv, errors.Join(err, &InvokeError{Kind: KindInternal, Err: fmt.Errorf("%w: %w", ErrUnusable, e.unusable)})
	}
	return inv, err
}
