package enclave

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/reclave/reclave/enclave/internal/sgx"
	"github.com/reclave/reclave/enclave/internal/wasmbin"
)

// Export names of the function ABI (see workloads/README.md).
const (
	exportInitialize = "_initialize"
	exportInit       = "reclave_init"
	exportHandle     = "reclave_handle"
	exportStart      = "_start"
)

const wasmPageSize = 65536

// Phase is a named, timed step of an enclave's creation or of an invocation.
type Phase struct {
	Name     string
	Duration time.Duration
}

// Enclave is one simulated SGX enclave serving one WebAssembly function. It is not safe for
// concurrent use: like an enclave with one thread control structure, it serves one invocation
// at a time.
type Enclave struct {
	cfg Config
	fn  Function
	id  string

	region    *sgx.Region
	mrenclave [32]byte
	moduleSum [32]byte
	heap      *heapMemory
	phases    []Phase

	rt       wazero.Runtime
	compiled wazero.CompiledModule
	info     *wasmbin.Info
	modCfg   wazero.ModuleConfig
	stdio    *stdio

	inst *instance
	snap *snapshot

	epoch    uint64
	unusable error
}

// instance is one instantiation of the function's module and the handles reclave needs.
type instance struct {
	mod       api.Module
	entry     api.Function // reclave_handle or _start
	hasStatus bool         // entry returns an i32 status
	globals   []api.MutableGlobal
}

// snapshot is the guest-visible state after the function's init.
type snapshot struct {
	memory  []byte
	globals []uint64
}

// Create creates an enclave for fn as SGX would — ECREATE, EADD and EEXTEND of every page of
// the region, EINIT — then starts the Wasm runtime inside it, compiles and instantiates the
// function, runs its init and, when cfg.Reset is ResetRewind, takes the snapshot. Each step is
// timed; see [Enclave.CreationPhases]. The SGX instructions are simulated; their work (copying
// and measuring every page) is real.
func Create(ctx context.Context, cfg Config, fn Function) (_ *Enclave, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	fn, err = fn.withDefaults()
	if err != nil {
		return nil, err
	}
	var idb [8]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return nil, fmt.Errorf("enclave id: %w", err)
	}
	e := &Enclave{cfg: cfg, fn: fn, id: hex.EncodeToString(idb[:]), moduleSum: sha256.Sum256(fn.Wasm)}
	defer func() {
		if err != nil {
			e.Close(context.WithoutCancel(ctx))
		}
	}()
	timed := func(name string, f func() error) error {
		start := time.Now()
		err := f()
		e.phases = append(e.phases, Phase{name, time.Since(start)})
		if err != nil {
			return fmt.Errorf("create enclave for %s: %s: %w", fn.Name, name, err)
		}
		return nil
	}

	var m *sgx.Measurement
	if err := timed("ecreate", func() (err error) {
		e.region, err = sgx.NewRegion(int(cfg.MemoryBytes))
		m = sgx.ECreate(1, sgx.SECSSize(uint64(cfg.MemoryBytes)))
		return err
	}); err != nil {
		return nil, err
	}
	if err := timed("eadd_eextend", func() error { return e.load(m) }); err != nil {
		return nil, err
	}
	if err := timed("einit", func() error { e.mrenclave = m.Finalize(); return nil }); err != nil {
		return nil, err
	}
	if err := timed("runtime_init", func() error { return e.startRuntime(ctx) }); err != nil {
		return nil, err
	}
	if err := timed("compile", func() error { return e.compile(ctx) }); err != nil {
		return nil, err
	}
	if err := timed("instantiate", func() (err error) { e.inst, err = e.instantiate(ctx); return err }); err != nil {
		return nil, err
	}
	if err := timed("fn_init", func() error { return e.initFunction(ctx, e.inst) }); err != nil {
		return nil, err
	}
	if cfg.Reset == ResetRewind {
		if err := timed("snapshot", func() error { e.snap = e.takeSnapshot(); return nil }); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// load lays the enclave out — one TCS page, one SSA page, the module's bytes as code, and
// the heap that holds linear memory — and adds and measures every page.
func (e *Enclave) load(m *sgx.Measurement) error {
	codePages := (len(e.fn.Wasm) + sgx.PageSize - 1) / sgx.PageSize
	total := int(e.cfg.MemoryBytes) / sgx.PageSize
	heapPages := total - 2 - codePages
	if heapPages*sgx.PageSize < minHeapBytes {
		return fmt.Errorf("enclave of %d bytes leaves %d bytes of heap for a %d-byte module", e.cfg.MemoryBytes, heapPages*sgx.PageSize, len(e.fn.Wasm))
	}
	segs := []sgx.Segment{
		{Name: "tcs", Flags: sgx.PageTypeTCS, Pages: 1},
		{Name: "ssa", Flags: sgx.PageTypeREG | sgx.PermR | sgx.PermW, Pages: 1},
		{Name: "code", Flags: sgx.PageTypeREG | sgx.PermR | sgx.PermX, Data: e.fn.Wasm, Pages: codePages},
		{Name: "heap", Flags: sgx.PageTypeREG | sgx.PermR | sgx.PermW, Pages: heapPages},
	}
	offs, err := sgx.Load(m, e.region.Bytes(), segs)
	if err != nil {
		return err
	}
	heap := e.region.Bytes()[offs[3]:]
	limit := min(uint64(e.fn.MemoryPages)*wasmPageSize, uint64(len(heap)))
	e.heap = &heapMemory{buf: heap, limit: limit}
	return nil
}

func (e *Enclave) startRuntime(ctx context.Context) error {
	e.rt = wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, e.rt); err != nil {
		return fmt.Errorf("wasi: %w", err)
	}
	e.stdio = newStdio(e.fn.MaxOutputBytes)
	e.modCfg = wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions().
		WithStdin(&e.stdio.in).
		WithStdout(&e.stdio.out).
		WithStderr(&e.stdio.log).
		WithSysWalltime().
		WithSysNanotime().
		WithSysNanosleep().
		WithRandSource(rand.Reader)
	return nil
}

func (e *Enclave) compile(ctx context.Context) error {
	rewritten, info, err := wasmbin.ExportMutableGlobals(e.fn.Wasm)
	if err != nil {
		return err
	}
	switch {
	case info.ImportsMemory:
		return errors.New("module imports its linear memory; the function ABI requires it to define one")
	case !info.HasMemory:
		return errors.New("module defines no linear memory; the function ABI requires one")
	case info.ImportedMutableGlobals > 0:
		return fmt.Errorf("module imports %d mutable globals, whose state the runtime cannot rewind", info.ImportedMutableGlobals)
	case info.MemoryMinPages*wasmPageSize > e.heap.limit:
		return fmt.Errorf("module needs %d pages of linear memory at start; its limit is %d pages (memory_pages and the enclave's heap)", info.MemoryMinPages, e.heap.limit/wasmPageSize)
	}
	for _, g := range info.MutableGlobals {
		if g.ValType == 0x7B {
			return fmt.Errorf("mutable v128 global %d cannot be saved through wazero's API", g.Index)
		}
	}
	e.info = info
	e.compiled, err = e.rt.CompileModule(ctx, rewritten)
	if err != nil {
		return err
	}
	entry := exportHandle
	if e.fn.Kind == KindCommand {
		entry = exportStart
	}
	def, ok := e.compiled.ExportedFunctions()[entry]
	if !ok {
		return fmt.Errorf("%s module does not export %s (see the function ABI)", e.fn.Kind, entry)
	}
	if len(def.ParamTypes()) != 0 || len(def.ResultTypes()) > 1 || (len(def.ResultTypes()) == 1 && def.ResultTypes()[0] != api.ValueTypeI32) {
		return fmt.Errorf("export %s must have type () -> () or () -> i32", entry)
	}
	return nil
}

// instantiate creates an instance whose linear memory lives in the enclave's heap.
func (e *Enclave) instantiate(ctx context.Context) (_ *instance, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("instantiate: %v", p)
		}
	}()
	e.heap.reset()
	mod, err := e.rt.InstantiateModule(experimental.WithMemoryAllocator(ctx, e.heap), e.compiled, e.modCfg)
	if err != nil {
		return nil, err
	}
	inst := &instance{mod: mod}
	name := exportHandle
	if e.fn.Kind == KindCommand {
		name = exportStart
	}
	inst.entry = mod.ExportedFunction(name)
	inst.hasStatus = len(inst.entry.Definition().ResultTypes()) == 1
	for _, g := range e.info.MutableGlobals {
		mg, ok := mod.ExportedGlobal(g.Export).(api.MutableGlobal)
		if !ok {
			mod.Close(ctx)
			return nil, fmt.Errorf("global %d (export %s) is not reachable as a mutable global", g.Index, g.Export)
		}
		inst.globals = append(inst.globals, mg)
	}
	return inst, nil
}

// initFunction runs the language runtime's and the function's init (reactors only).
func (e *Enclave) initFunction(ctx context.Context, inst *instance) error {
	if e.fn.Kind != KindReactor {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, e.fn.Deadline)
	defer cancel()
	e.stdio.begin(nil)
	defer e.stdio.end()
	for _, name := range []string{exportInitialize, exportInit} {
		f := inst.mod.ExportedFunction(name)
		if f == nil {
			continue
		}
		if _, err := f.Call(ctx); err != nil {
			return fmt.Errorf("%s: %w", name, classify(ctx, err))
		}
	}
	return nil
}

func (e *Enclave) takeSnapshot() *snapshot {
	s := &snapshot{memory: bytes.Clone(e.heap.bytes())}
	for _, g := range e.inst.globals {
		s.globals = append(s.globals, g.Get())
	}
	return s
}

// ID returns the enclave's random identifier.
func (e *Enclave) ID() string { return e.id }

// MREnclave returns the enclave's measurement, computed as SGX's EINIT would.
func (e *Enclave) MREnclave() [32]byte { return e.mrenclave }

// ModuleSHA256 returns the SHA-256 of the function's module as given (before any rewriting).
func (e *Enclave) ModuleSHA256() [32]byte { return e.moduleSum }

// CreationPhases returns the timed steps of the enclave's creation, in order: ecreate,
// eadd_eextend, einit, runtime_init, compile, instantiate, fn_init and, for a rewinding
// enclave, snapshot.
func (e *Enclave) CreationPhases() []Phase { return e.phases }

// Epoch returns the number of resets the enclave has done (rewinds, re-instantiations and
// recycles).
func (e *Enclave) Epoch() uint64 { return e.epoch }

// Simulated reports whether the enclave's SGX instructions are simulated. It is true for
// this (embedded) backend.
func (e *Enclave) Simulated() bool { return true }

// Close destroys the enclave: the runtime and its instances are closed and the region is
// unmapped. It is safe to call more than once.
func (e *Enclave) Close(ctx context.Context) error {
	var errs []error
	if e.rt != nil {
		errs = append(errs, e.rt.Close(ctx))
		e.rt = nil
	}
	if e.region != nil {
		errs = append(errs, e.region.Free())
		e.region = nil
	}
	e.inst, e.snap, e.heap = nil, nil, nil
	if e.unusable == nil {
		e.unusable = errors.New("enclave closed")
	}
	return errors.Join(errs...)
}

// classify turns a call's error into an *InvokeError.
func classify(ctx context.Context, err error) error {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return &InvokeError{Kind: KindDeadline, Err: fmt.Errorf("deadline exceeded: %w", context.DeadlineExceeded)}
		case sys.ExitCodeContextCanceled:
			if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
				return &InvokeError{Kind: KindDeadline, Err: fmt.Errorf("deadline exceeded: %w", context.DeadlineExceeded)}
			}
			return &InvokeError{Kind: KindCanceled, Err: context.Canceled}
		default:
			return &InvokeError{Kind: KindExit, Err: err}
		}
	}
	return &InvokeError{Kind: KindTrap, Err: err}
}
