package enclave

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/enclave/internal/l0"
	"github.com/reclave/reclave/enclave/internal/sgx"
	"github.com/reclave/reclave/enclave/internal/wasi"
	"github.com/reclave/reclave/enclave/internal/wasmbin"
	"github.com/reclave/reclave/enclave/internal/wzmem"
)

// Export names of the function ABI (see workloads/README.md).
const (
	exportInitialize = "_initialize"
	exportInit       = "reclave_init"
	exportHandle     = "reclave_handle"
	exportStart      = "_start"
)

const (
	wasmPageSize = 65536
	maxLogBytes  = 64 << 10
)

// MaxTableEntries caps the entries of a function's tables together (8 bytes each in the
// runtime, outside linear memory): a table without a maximum gets one, so table.grow fails
// (returns -1) past it, as memory.grow does past the memory cap; a module whose tables start
// larger is refused at load. Compilers size their function tables to the functions they hold:
// a large Go module has some ten thousand entries.
const MaxTableEntries = 1 << 20

// Phase is a named, timed step of an enclave's creation or of an invocation.
type Phase struct {
	Name     string
	Duration time.Duration
}

// Enclave is one simulated SGX enclave serving one WebAssembly function ([Create]), or any
// function each invocation brings ([CreateGeneric]). It is not safe for
// concurrent use: like an enclave with one thread control structure, it serves one invocation
// at a time.
type Enclave struct {
	cfg Config
	fn  Function
	id  string

	region    *sgx.Region
	mrenclave [32]byte
	mrsigner  [32]byte
	sig       *sgx.SigStruct
	signed    bool             // this creation signed the enclave (a new measurement)
	l0        *l0.Monitor      // the L0 key and epoch; nil without a quoter
	evidence  *attest.Evidence // the outer evidence; nil without a quoter
	clean     [32]byte         // the clean-state hash inner reports carry
	moduleSum [32]byte
	heap      *heapMemory
	phases    []Phase

	rt       wazero.Runtime
	host     *wasi.Host
	compiled wazero.CompiledModule // the module variant instances are made of
	info     *wasmbin.Info
	track    *wasmbin.Instrumented // how compiled was instrumented
	dirty    *dirtySet             // nil unless the strategy tracks writes
	modCfg   wazero.ModuleConfig
	stubMods []api.Module // the stub host modules of the function (instantiateStubs)

	// Generic enclaves only (CreateGeneric, generic.go): the compile cache, the heap's cap;
	// nil for an enclave created for one function.
	generic *genericState

	// Strategy auto only (see auto.go): both module variants, variantDiff and variantTracked,
	// and the picker that chooses; compiled and track are those of variants[auto.cur].
	variants [2]moduleVariant
	auto     *autoPicker

	inst *instance

	// Rewinding enclaves only.
	rew         Rewinder
	snapSize    int        // bytes of linear memory in the snapshot (0 at the runtime point)
	snapGlobals []uint64   // mutable globals at the snapshot (function point)
	snapHost    wasi.State // host state at the snapshot
	hostInitial wasi.State // host state before any instance ran
	canShrink   bool       // linear memory can be shrunk in place (wzmem)
	initRandom  uint64     // random bytes the function drew during its init
	warmups     int        // warm-up invocations before the clean state (see settle)
	// initState: the start function or the init changed a table or dropped a segment, which
	// only running them again reproduces; a function-point recycle cannot then rebuild the
	// clean instance from the snapshot, and the enclave is retired instead.
	initState bool
	// initRefs: the start function or the init changed a mutable funcref or externref global.
	// Its value is a reference into this instance, meaningless in a new one, so a
	// function-point recycle cannot restore it either (see initState).
	initRefs bool
	// refInit holds the reference-typed globals' values right after the instantiation, to
	// tell whether the init changed them.
	refInit []uint64

	epoch    uint64
	unusable error
	cc       *callContext // what guest code runs under, reused by every call

	// Host calls of the creation (CreationHostCalls), and traced events dropped so far.
	creationCalls []HostCallCount
	creationTrace []HostCallEvent
	traceDropped  uint64
}

// moduleVariant is a compiled module variant and how it was instrumented.
type moduleVariant struct {
	compiled wazero.CompiledModule
	track    *wasmbin.Instrumented
}

// instance is one instantiation of the function's module and the handles reclave needs.
type instance struct {
	mod       api.Module
	entry     api.Function // reclave_handle or _start
	hasStatus bool         // entry returns an i32 status
	globals   []api.MutableGlobal
	state     api.MutableGlobal // set by instrumented code when it changed unrestorable state
	budget    api.MutableGlobal // the interrupt checks' budget: 0 makes the guest poll now
	budgetRef *budgetRef        // budget, for the deadline timer
	cc        *callContext      // the enclave's, which every call runs under
	collect   api.Function      // () -> (): report the dirty pages to mark_dirty, empty the tables
	clearAll  api.Function      // () -> (): empty the dirty tables without reporting
	// stack is the stack global when stores rely on the host marking its pages at the start of
	// every invocation, stackSpan how far (see wasmbin.Instrumented.StackGlobalExport).
	stack     api.Global
	stackSpan uint32
}

// Create creates an enclave for fn as SGX would — ECREATE, EADD and EEXTEND of every page of
// the region, EINIT — then starts the Wasm runtime inside it, compiles and instantiates the
// function and runs its init. A rewinding enclave also takes its snapshot: after the init
// (PointFunction) or before the instantiation (PointRuntime). Each step is timed; see
// [Enclave.CreationPhases]. The SGX instructions are simulated; their work (copying and
// measuring every page) is real.
func Create(ctx context.Context, cfg Config, fn Function) (_ *Enclave, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	fn, err = fn.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.SnapshotPoint == PointWarmed && fn.Kind == KindCommand {
		return nil, fmt.Errorf("function %s: snapshot point warmed needs a reactor: a command's _start is its whole life, with nothing to keep warm", fn.Name)
	}
	if cfg.SnapshotPoint == PointWarmed && fn.WarmupInput == nil {
		return nil, fmt.Errorf("function %s: snapshot point warmed needs a public warm-up input (a workload manifest's warmup_input)", fn.Name)
	}
	e, err := newEnclave(cfg, fn)
	if err != nil {
		return nil, err
	}
	e.moduleSum = sha256.Sum256(fn.Wasm)
	if e.rew != nil && cfg.Strategy == StrategyAuto {
		e.auto = newAutoPicker(cfg.autoSwitchEvery)
	}
	defer func() {
		if err != nil {
			e.Close(context.WithoutCancel(ctx))
		}
	}()

	steps := append(e.launchSteps(ctx), createStep{"compile", func() error { return e.compile(ctx) }})
	snapshot := createStep{"snapshot", e.takeSnapshot}
	if e.rew != nil && cfg.SnapshotPoint == PointRuntime {
		steps = append(steps, snapshot)
	}
	steps = append(steps,
		createStep{"instantiate", func() (err error) {
			if e.inst, err = e.instantiate(ctx); err != nil {
				return err
			}
			e.refInit = e.refGlobals(e.inst)
			return nil
		}},
		createStep{"fn_init", func() error {
			if err := e.initFunction(ctx, e.inst); err != nil {
				return err
			}
			e.initState = e.inst.state.Get() != 0
			e.initRefs = !slices.Equal(e.refInit, e.refGlobals(e.inst))
			return nil
		}},
	)
	if cfg.SnapshotPoint == PointWarmed {
		steps = append(steps, createStep{"warmup", func() error {
			if err := e.warmUp(ctx); err != nil {
				return err
			}
			e.initState = e.initState || e.inst.state.Get() != 0
			e.initRefs = e.initRefs || !slices.Equal(e.refInit, e.refGlobals(e.inst))
			return nil
		}})
	}
	if e.rew != nil && cfg.SnapshotPoint.afterInit() {
		steps = append(steps, snapshot)
	}
	if cfg.Quoter != nil {
		steps = append(steps, createStep{"quote", e.quote})
	}
	if err := e.runSteps(steps); err != nil {
		return nil, err
	}
	if e.rew == nil {
		e.clean = e.cleanStateHash()
	}
	if e.auto != nil && cfg.SnapshotPoint.afterInit() && (e.initState || e.initRefs) {
		e.auto.lock("no switch is possible: the start function or init changed a table, a segment or a reference global, which only running them again reproduces, so the instance cannot be rebuilt from the snapshot")
	}
	e.finishCreation()
	return e, nil
}

// newEnclave returns an enclave of cfg serving fn, not created yet: its random id, its call
// context and, when it rewinds, its rewind strategy.
func newEnclave(cfg Config, fn Function) (*Enclave, error) {
	var idb [8]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return nil, fmt.Errorf("enclave id: %w", err)
	}
	e := &Enclave{cfg: cfg, fn: fn, id: hex.EncodeToString(idb[:]), cc: newCallContext()}
	if cfg.Reset == ResetRewind {
		e.rew = rewinders[cfg.Strategy](e.Compartments())
	}
	return e, nil
}

// createStep is a step of an enclave's creation, timed as a phase of the same name.
type createStep struct {
	name string
	run  func() error
}

// launchSteps are the steps every creation starts with: the SGX life cycle (ecreate,
// eadd_eextend, sign, einit) and the start of the Wasm runtime (runtime_init).
func (e *Enclave) launchSteps(ctx context.Context) []createStep {
	var m *sgx.Measurement
	return []createStep{
		{"ecreate", func() (err error) {
			e.region, err = sgx.NewRegion(int(e.cfg.MemoryBytes))
			m = sgx.ECreate(1, sgx.SECSSize(uint64(e.cfg.MemoryBytes)))
			return err
		}},
		{"eadd_eextend", func() error { return e.load(m) }},
		{"sign", func() error { return e.sign(m) }},
		{"einit", func() (err error) {
			e.mrsigner, err = sgx.EInit(e.sig, e.mrenclave, e.cfg.Signer.attributes())
			return err
		}},
		{"runtime_init", func() error { return e.startRuntime(ctx) }},
	}
}

// runSteps runs the steps of a creation in order, each timed as a phase, and stops at the
// first that fails.
func (e *Enclave) runSteps(steps []createStep) error {
	for _, s := range steps {
		start := time.Now()
		err := s.run()
		e.phases = append(e.phases, Phase{s.name, time.Since(start)})
		if err != nil {
			return fmt.Errorf("create enclave for %s: %s: %w", e.fn.Name, s.name, err)
		}
	}
	return nil
}

// finishCreation keeps the host calls the creation made and drops its sign phase when it
// did not sign.
func (e *Enclave) finishCreation() {
	e.creationCalls = e.takeHostCalls(nil)
	e.creationTrace = e.takeHostCallTrace(nil, "create")
	if !e.signed { // signing is the author's build step, recorded only when it happened
		e.phases = slices.DeleteFunc(e.phases, func(p Phase) bool { return p.Name == "sign" })
	}
}

// cleanStateHash identifies the state every invocation of the enclave starts from, for inner
// reports: SHA-256 over "reclave clean state v1", the reset, the snapshot point, the module's
// hash, for a warmed snapshot the number of warm-up invocations and the SHA-256 of their input,
// and for a function-point or warmed snapshot its memory and globals. An enclave that does not
// reset (warm) has no clean state: all zero.
func (e *Enclave) cleanStateHash() [32]byte {
	return e.stateHash(e.heap.buf[:e.snapSize], e.snapGlobals)
}

// stateHash is cleanStateHash over the given memory and globals (used at the function point).
func (e *Enclave) stateHash(mem []byte, globals []uint64) [32]byte {
	if e.cfg.Reset == ResetNone {
		return [32]byte{}
	}
	h := sha256.New()
	fmt.Fprintf(h, "reclave clean state v1\x00%s\x00%s\x00", e.cfg.Reset, e.cfg.SnapshotPoint)
	h.Write(e.moduleSum[:])
	if e.cfg.SnapshotPoint == PointWarmed {
		in := sha256.Sum256(e.fn.WarmupInput)
		fmt.Fprintf(h, "warmup\x00%d\x00", e.warmups)
		h.Write(in[:])
	}
	if e.cfg.Reset == ResetRewind && e.cfg.SnapshotPoint.afterInit() {
		h.Write(mem)
		for i, g := range globals {
			if isRef(e.info.MutableGlobals[i].ValType) && g != 0 {
				g = 1 // a reference is an address in this process: only null or not is state
			}
			h.Write(binary.LittleEndian.AppendUint64(nil, g))
		}
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// CleanStateHash returns the hash of the published clean state that inner reports carry
// (see attest.InnerFields); a verifier's policy pins it.
func (e *Enclave) CleanStateHash() [32]byte { return e.clean }

// sign finishes the measurement (MRENCLAVE) and gets the signer's SIGSTRUCT for it.
func (e *Enclave) sign(m *sgx.Measurement) (err error) {
	e.mrenclave = m.Finalize()
	e.sig, e.signed, err = e.cfg.Signer.sigstruct(e.mrenclave)
	return err
}

// quote makes the enclave's L0 monitor — its attestation key, sealed in L0's vault — and has
// the platform quote a report binding the key to the enclave's measurement, signer and id.
func (e *Enclave) quote() error {
	mon, err := l0.NewMonitor(e.Compartments(), e.cfg.Reset != ResetNone)
	if err != nil {
		return err
	}
	e.l0 = mon // closed with the enclave
	if hw, ok := e.cfg.Quoter.(attest.IdentityQuoter); ok {
		// Real hardware writes the identity of the enclave this process runs in (the signed
		// EGo binary) into its evidence, not that of the simulated layout measured above:
		// inner reports must carry the same MRENCLAVE as the evidence, so the enclave takes
		// its identity from the platform. The simulated measurement still times the phases.
		id, err := hw.Identity()
		if err != nil {
			return fmt.Errorf("hardware identity: %w", err)
		}
		e.mrenclave, e.mrsigner = id.MRENCLAVE, id.MRSIGNER
	}
	ev, err := mon.Key().OuterEvidence(e.cfg.Quoter, attest.OuterFields{
		MRENCLAVE: e.mrenclave,
		MRSIGNER:  e.mrsigner,
		ISVProdID: e.cfg.Signer.ISVProdID,
		ISVSVN:    e.cfg.Signer.ISVSVN,
		Debug:     e.cfg.Signer.Debug,
		EnclaveID: e.id,
	})
	if err != nil {
		return err
	}
	e.evidence = ev
	return nil
}

// stackPages is the size of the enclave thread's stack, in 4 KiB pages.
const stackPages = 64

// load lays the enclave out — one TCS page, one SSA page, the thread's stack, the runtime
// image (if configured) and the module's bytes as code, and the heap that holds linear
// memory — and adds and measures every page.
func (e *Enclave) load(m *sgx.Measurement) error {
	pages := func(b []byte) int { return (len(b) + sgx.PageSize - 1) / sgx.PageSize }
	rw := sgx.PageTypeREG | sgx.PermR | sgx.PermW
	rx := sgx.PageTypeREG | sgx.PermR | sgx.PermX
	segs := []sgx.Segment{
		{Name: "tcs", Flags: sgx.PageTypeTCS, Pages: 1},
		{Name: "ssa", Flags: rw, Pages: 1},
		{Name: "stack", Flags: rw, Pages: stackPages},
		{Name: "runtime", Flags: rx, Data: e.cfg.RuntimeImage, Pages: pages(e.cfg.RuntimeImage)},
		{Name: "code", Flags: rx, Data: e.fn.Wasm, Pages: pages(e.fn.Wasm)},
	}
	used := 0
	for _, s := range segs {
		used += s.Pages
	}
	heapPages := int(e.cfg.MemoryBytes)/sgx.PageSize - used
	if heapPages*sgx.PageSize < minHeapBytes {
		return fmt.Errorf("enclave of %d bytes leaves %d bytes of heap for %d bytes of runtime and module", e.cfg.MemoryBytes, max(heapPages, 0)*sgx.PageSize, used*sgx.PageSize)
	}
	segs = append(segs, sgx.Segment{Name: "heap", Flags: rw, Pages: heapPages})
	offs, err := sgx.Load(m, e.region.Bytes(), segs)
	if err != nil {
		return err
	}
	heap := e.region.Bytes()[offs[len(offs)-1]:]
	limit := min(uint64(e.fn.MemoryPages)*wasmPageSize, uint64(len(heap))/wasmPageSize*wasmPageSize)
	e.heap = &heapMemory{buf: heap, limit: limit}
	return nil
}

func (e *Enclave) startRuntime(ctx context.Context) error {
	// Deadlines are enforced by the interrupt checks the rewriter adds, not by wazero's
	// WithCloseOnContextDone: that calls into Go on every loop iteration (~30x slower loops)
	// and closes the module.
	rc := wazero.NewRuntimeConfig()
	if e.cfg.Cache != nil {
		rc = rc.WithCompilationCache(e.cfg.Cache.c)
	}
	e.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	hcfg := wasi.Config{MaxOutputBytes: e.fn.MaxOutputBytes, MaxLogBytes: maxLogBytes, Deterministic: e.cfg.deterministic,
		Trace: e.cfg.TraceHostCalls}
	mark := func(context.Context, []uint64) {}
	if e.rew != nil && e.rew.Tracking() {
		e.heap.limit = min(e.heap.limit, uint64(wasmbin.MaxTrackedPages)*snapshotPage)
	}
	// A one-shot enclave (mode cold) takes its snapshot but never restores it: its stores are
	// not instrumented, so that a cold start costs what creating any enclave costs, whatever
	// the strategy (its memory cap is the same as a rewinding enclave's).
	if e.rew != nil && e.rew.Tracking() && !e.cfg.OneShot {
		e.dirty = newDirtySet(e.heap.limit)
		hcfg.OnWrite = e.dirty.onWrite
		mark = e.dirty.markFn
	}
	i32 := api.ValueTypeI32
	_, err := e.rt.NewHostModuleBuilder(wasmbin.MarkModule).
		NewFunctionBuilder().WithGoFunction(api.GoFunc(mark), []api.ValueType{i32, api.ValueTypeI64}, nil).Export(wasmbin.MarkName).
		NewFunctionBuilder().WithGoFunction(api.GoFunc(poll), nil, []api.ValueType{i32}).Export(wasmbin.PollName).
		Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("runtime host functions: %w", err)
	}
	if e.host, err = wasi.Instantiate(ctx, e.rt, hcfg); err != nil {
		return fmt.Errorf("wasi: %w", err)
	}
	e.hostInitial = e.host.Snapshot()
	e.modCfg = wazero.NewModuleConfig().WithName("").WithStartFunctions()
	return nil
}

func (e *Enclave) compile(ctx context.Context) error {
	if err := e.checkImports(); err != nil {
		return err
	}
	opts := wasmbin.Options{Interrupt: true, MaxTableEntries: MaxTableEntries}
	if e.dirty != nil && e.auto == nil {
		opts.TrackStores, opts.TrackedPages = true, uint32(e.heap.limit/snapshotPage)
	}
	tr, err := wasmbin.Instrument(e.fn.Wasm, opts)
	if err != nil {
		return err
	}
	e.track, e.info = tr, tr.Info
	if err := e.checkModule(); err != nil {
		return err
	}
	if e.compiled, err = e.rt.CompileModule(ctx, tr.Module); err != nil {
		return err
	}
	if e.auto != nil {
		// The enclave starts with the diff variant. A reusable enclave compiles the tracked one
		// now, so that no invocation pays for it; a one-shot enclave (mode cold) never resets
		// and compiles the module once, as under any other strategy.
		e.variants[variantDiff] = moduleVariant{e.compiled, tr}
		if e.cfg.OneShot {
			e.auto.lock("a one-shot enclave never resets") // and has no tracked variant to switch to
		} else if err := e.compileTracked(ctx); err != nil {
			return err
		}
	}
	return e.bindModule(ctx)
}

// compileTracked compiles strategy auto's tracked variant, if it is not compiled yet: the
// module instrumented to report the pages its stores write, on top of the interrupt checks.
func (e *Enclave) compileTracked(ctx context.Context) error {
	if e.variants[variantTracked].compiled != nil {
		return nil
	}
	opts := wasmbin.Options{Interrupt: true, MaxTableEntries: MaxTableEntries,
		TrackStores: true, TrackedPages: uint32(e.heap.limit / snapshotPage)}
	tr, err := wasmbin.Instrument(e.fn.Wasm, opts)
	if err != nil {
		return fmt.Errorf("tracked variant: %w", err)
	}
	c, err := e.rt.CompileModule(ctx, tr.Module)
	if err != nil {
		return fmt.Errorf("tracked variant: %w", err)
	}
	e.variants[variantTracked] = moduleVariant{c, tr}
	return nil
}

// checkModule refuses a module (e.info) that breaks the function ABI or that the runtime
// cannot rewind, or that needs more linear memory at start than the function may have.
func (e *Enclave) checkModule() error {
	info := e.info
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
	return nil
}

// bindModule makes the compiled module (e.compiled) ready to instantiate for the function:
// its stubs provided, its entry point checked against the function's kind.
func (e *Enclave) bindModule(ctx context.Context) error {
	if err := e.instantiateStubs(ctx); err != nil {
		return err
	}
	entry := e.entryName()
	def, ok := e.compiled.ExportedFunctions()[entry]
	if !ok {
		return fmt.Errorf("%s module does not export %s (see the function ABI)", e.fn.Kind, entry)
	}
	if len(def.ParamTypes()) != 0 || len(def.ResultTypes()) > 1 || (len(def.ResultTypes()) == 1 && def.ResultTypes()[0] != api.ValueTypeI32) {
		return fmt.Errorf("export %s must have type () -> () or () -> i32", entry)
	}
	return nil
}

// ImportError is the error of [Create] for a module whose imports the function may not make.
// It names every refused import at once, so that all of them can be granted or stubbed in one
// go.
type ImportError struct {
	// Function is the function's name.
	Function string
	// Refused are the refused function imports, as "module.name", in the module's order.
	Refused []string
	// Other are the refused imports that are not functions (a memory, table, global or
	// tag), as "module.name (kind)": the runtime provides none.
	Other []string
	// Unprovided is true with compartments off, where there is no allow-list: nothing
	// provides the refused functions (reclave's WASI host has no such function).
	Unprovided bool
	// Allowed and Stubs are how many host functions the function may import and how many it
	// has stubbed.
	Allowed, Stubs int
}

func (e *ImportError) Error() string {
	var b strings.Builder
	all := append(slices.Clone(e.Refused), e.Other...)
	if e.Unprovided {
		fmt.Fprintf(&b, "module imports %d host function(s) that nothing provides (reclave's WASI host has no such function): %s", len(all), strings.Join(all, ", "))
	} else {
		fmt.Fprintf(&b, "module imports %d host function(s) the function is not allowed: %s (allowed: %d host functions: the function ABI, clocks, random and what the manifest's imports add; %d stubs)",
			len(all), strings.Join(all, ", "), e.Allowed, e.Stubs)
	}
	if len(e.Refused) > 0 {
		b.WriteString("; stub them (Function.Stubs, a manifest's stub_imports: host functions that do nothing and return zeros)")
		if !e.Unprovided {
			b.WriteString(", or allow those of " + wasi.ModuleName + " (Function.Imports, a manifest's imports)")
		}
	}
	if len(e.Other) > 0 {
		b.WriteString("; imports other than functions cannot be provided")
	}
	return b.String()
}

// checkImports refuses a module that imports a host function its allow-list does not grant,
// naming every such import (an *ImportError): the first wall between the function and the
// runtime. With compartments off there is no allow-list: it only names the imports nothing
// provides (neither reclave's WASI host nor a stub), which would fail at instantiation anyway.
func (e *Enclave) checkImports() error {
	imps, err := wasmbin.Imports(e.fn.Wasm)
	if err != nil {
		return err
	}
	allowed := e.fn.Imports
	if allowed == nil {
		allowed = DefaultImports
	}
	ie := &ImportError{Function: e.fn.Name, Unprovided: !e.Compartments(), Allowed: len(allowed), Stubs: len(e.fn.Stubs)}
	kinds := []string{1: "table", 2: "memory", 3: "global", 4: "tag"}
	for _, imp := range imps {
		name := imp.String()
		switch {
		case imp.Kind == 0 && slices.Contains(e.fn.Stubs, name):
		case imp.Kind != 0:
			kind := "kind " + strconv.Itoa(int(imp.Kind))
			if int(imp.Kind) < len(kinds) {
				kind = kinds[imp.Kind]
			}
			ie.Other = append(ie.Other, name+" ("+kind+")")
		case !e.Compartments():
			if imp.Module != wasi.ModuleName || !slices.Contains(wasi.Functions(), imp.Name) {
				ie.Refused = append(ie.Refused, name)
			}
		case !slices.Contains(allowed, name):
			ie.Refused = append(ie.Refused, name)
		}
	}
	if len(ie.Refused)+len(ie.Other) > 0 {
		return ie
	}
	return nil
}

// instantiateStubs provides the function's stubs that the module imports: host functions of
// the imported type that ignore their parameters and return zeros. One host module per
// import module.
func (e *Enclave) instantiateStubs(ctx context.Context) error {
	if len(e.fn.Stubs) == 0 {
		return nil
	}
	type stub struct {
		name            string
		params, results []api.ValueType
	}
	byModule := map[string][]stub{}
	var order []string
	for _, def := range e.compiled.ImportedFunctions() {
		mod, name, _ := def.Import()
		if !slices.Contains(e.fn.Stubs, mod+"."+name) {
			continue
		}
		s := stub{name, def.ParamTypes(), def.ResultTypes()}
		i := slices.IndexFunc(byModule[mod], func(o stub) bool { return o.name == name })
		switch {
		case i < 0:
			if byModule[mod] == nil {
				order = append(order, mod)
			}
			byModule[mod] = append(byModule[mod], s)
		case !slices.Equal(byModule[mod][i].params, s.params) || !slices.Equal(byModule[mod][i].results, s.results):
			return fmt.Errorf("stub %s.%s: the module imports it twice with different types", mod, name)
		}
	}
	for _, mod := range order {
		b := e.rt.NewHostModuleBuilder(mod)
		for _, s := range byModule[mod] {
			b.NewFunctionBuilder().WithGoFunction(api.GoFunc(zeroResults), s.params, s.results).Export(s.name)
		}
		m, err := b.Instantiate(ctx)
		if err != nil {
			return fmt.Errorf("stubs of module %s: %w", mod, err)
		}
		e.stubMods = append(e.stubMods, m)
	}
	return nil
}

// zeroResults is every stub's body: the results (the first values of the stack) are zero.
func zeroResults(_ context.Context, stack []uint64) { clear(stack) }

func (e *Enclave) entryName() string {
	if e.fn.Kind == KindCommand {
		return exportStart
	}
	return exportHandle
}

// instantiate creates an instance whose linear memory lives in the enclave heap, which must
// hold nothing but zeros: the module's start function runs during the instantiation and may
// read any byte of its memory. The start function is guest code like any other: it runs under
// ctx and the function's deadline, and an instantiation it does not finish in time fails with
// an *InvokeError of kind deadline (or canceled).
func (e *Enclave) instantiate(ctx context.Context) (_ *instance, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("instantiate: %v", p)
		}
	}()
	ictx, cancel := context.WithTimeout(ctx, e.fn.Deadline)
	defer cancel()
	mod, err := e.rt.InstantiateModule(experimental.WithMemoryAllocator(ictx, e.heap), e.compiled, e.modCfg)
	if err != nil {
		if ictx.Err() != nil {
			return nil, stopped(ctx, context.Cause(ictx), e.fn.Deadline, fmt.Errorf("start function: %w", err))
		}
		return nil, fmt.Errorf("instantiate: %w", classify(err))
	}
	inst := &instance{mod: mod, entry: mod.ExportedFunction(e.entryName())}
	inst.hasStatus = len(inst.entry.Definition().ResultTypes()) == 1
	mutable := func(name string) (api.MutableGlobal, error) {
		g, ok := mod.ExportedGlobal(name).(api.MutableGlobal)
		if !ok {
			return nil, fmt.Errorf("global %s is not reachable as a mutable global", name)
		}
		return g, nil
	}
	for _, g := range e.info.MutableGlobals {
		mg, err := mutable(g.Export)
		if err != nil {
			mod.Close(ctx)
			return nil, err
		}
		inst.globals = append(inst.globals, mg)
	}
	if inst.state, err = mutable(e.track.StateGlobal); err != nil {
		mod.Close(ctx)
		return nil, err
	}
	if inst.budget, err = mutable(e.track.InterruptGlobal); err != nil {
		mod.Close(ctx)
		return nil, err
	}
	inst.budgetRef, inst.cc = &budgetRef{inst.budget}, e.cc
	if e.dirty != nil && e.track.CollectExport != "" {
		inst.collect = mod.ExportedFunction(e.track.CollectExport)
		inst.clearAll = mod.ExportedFunction(e.track.ClearAllExport)
		if inst.collect == nil || inst.clearAll == nil {
			mod.Close(ctx)
			return nil, errors.New("instrumented module lacks its dirty-table exports")
		}
		if name := e.track.StackGlobalExport(); name != "" {
			if inst.stack = mod.ExportedGlobal(name); inst.stack == nil {
				mod.Close(ctx)
				return nil, fmt.Errorf("instrumented module lacks its stack global %s", name)
			}
			inst.stackSpan = e.track.StackSpan
		}
	}
	if e.rew != nil && !e.canShrink {
		e.canShrink = wzmem.Supported(mod.Memory())
	}
	if e.dirty != nil {
		e.dirty.mark(0, uint32(e.heap.n)) // the data segments wazero just wrote
	}
	return inst, nil
}

// isRef reports whether a value type is a reference (funcref, externref).
func isRef(vt byte) bool { return vt == 0x70 || vt == 0x6F }

// refGlobals returns the values of inst's mutable reference-typed globals.
func (e *Enclave) refGlobals(inst *instance) []uint64 {
	var out []uint64
	for i, g := range e.info.MutableGlobals {
		if isRef(g.ValType) {
			out = append(out, inst.globals[i].Get())
		}
	}
	return out
}

// initFunction runs the language runtime's and the function's init (reactors only) and
// counts the random bytes drawn meanwhile.
func (e *Enclave) initFunction(ctx context.Context, inst *instance) error {
	if e.fn.Kind != KindReactor {
		return nil
	}
	before := e.host.RandomBytes()
	e.host.Begin(nil)
	defer e.host.End()
	for _, name := range []string{exportInitialize, exportInit} {
		f := inst.mod.ExportedFunction(name)
		if f == nil {
			continue
		}
		if _, err := inst.call(ctx, f, e.fn.Deadline, e.cc.now()); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	e.initRandom = e.host.RandomBytes() - before
	return nil
}

// takeSnapshot records the clean state: at the function point the instance's memory, globals
// and the host state; at the runtime point, before any instance, an empty memory and the
// initial host state.
func (e *Enclave) takeSnapshot() error {
	e.snapSize = 0
	e.snapGlobals = e.snapGlobals[:0]
	if e.inst != nil {
		e.snapSize = int(e.heap.n)
		for _, g := range e.inst.globals {
			e.snapGlobals = append(e.snapGlobals, g.Get())
		}
	}
	if err := e.rew.Snapshot(e.heap.buf, e.snapSize); err != nil {
		return err
	}
	e.clean = e.cleanStateHash()
	e.snapHost = e.host.Snapshot()
	return e.resetTracking(context.Background())
}

// resetTracking forgets the pages written so far, in the host's set and in the instance's
// dirty tables, and clears the state flag.
func (e *Enclave) resetTracking(ctx context.Context) error {
	if e.inst != nil {
		e.inst.state.Set(0)
	}
	if e.dirty == nil {
		return nil
	}
	if e.inst != nil && e.inst.clearAll != nil {
		if _, err := e.inst.clearAll.Call(ctx); err != nil {
			return fmt.Errorf("clear dirty tables: %w", err)
		}
	}
	e.newEpoch()
	return nil
}

// newEpoch empties the host's dirty set for the next invocation and marks in it what the
// instrumented code relies on the host to mark: page 0 and the pages of the stack global's
// value at the start of the invocation, which is its value now (see wasmbin's Instrument, "the
// stack").
func (e *Enclave) newEpoch() {
	e.dirty.clear()
	if e.inst != nil && e.inst.stack != nil {
		e.dirty.mark(0, 1)
		e.dirty.mark(uint32(e.inst.stack.Get()), e.inst.stackSpan)
	}
}

// collectDirty adds the pages the instrumented code recorded during the invocation to the
// host's dirty set (which already holds the pages the host wrote) and empties the tables.
func (e *Enclave) collectDirty(ctx context.Context) error {
	if e.dirty == nil || e.inst == nil || e.inst.collect == nil {
		return nil
	}
	if _, err := e.inst.collect.Call(ctx); err != nil {
		return fmt.Errorf("collect dirty pages: %w", err)
	}
	return nil
}

// poll is the host function the interrupt checks of instrumented code call every million
// instructions or so: non-zero stops the invocation (the guest traps), which happens once
// the call's context is done (its deadline passed or the caller cancelled). The call into Go
// also lets the Go runtime preempt a long-running invocation.
func poll(ctx context.Context, stack []uint64) {
	stack[0] = 0
	if c, ok := ctx.(*callContext); ok {
		c.polls++
	}
	if ctx.Err() != nil {
		stack[0] = 1
	}
}

// call runs f under a deadline, enforced by the interrupt checks the rewriter added (poll),
// and returns its results, or an *InvokeError.
//
// The deadline counts from start, the caller's reading of the clock right before the call
// (so that one reading times the call and arms its deadline).
func (inst *instance) call(parent context.Context, f api.Function, deadline time.Duration, start time.Time) ([]uint64, error) {
	// At the deadline the guest's budget is zeroed, so that it polls at its next check instead
	// of when its budget runs out (see callContext). Late, this only makes the next invocation
	// poll once early.
	if err := parent.Err(); err != nil {
		// Stopped before it started: no guest code runs (the call context would notice only
		// at the guest's first poll).
		return nil, stopped(parent, err, deadline, err)
	}
	ctx := inst.cc
	ctx.arm(parent, deadline, inst.budgetRef, start)
	res, err := f.Call(ctx)
	var ctxErr error
	if err != nil {
		ctxErr = ctx.Err()
	}
	ctx.disarm()
	if err == nil {
		return res, nil
	}
	if ctxErr != nil {
		return nil, stopped(parent, ctxErr, deadline, err)
	}
	return nil, classify(err)
}

// stopped is the *InvokeError of guest code that its call's context, derived from the caller's
// parent with the function's deadline, stopped with ctxErr: the function's deadline or the
// caller's passed (kind deadline), or the caller cancelled (kind canceled). err is what the
// guest's call returned (the trap the interrupt caused).
func stopped(parent context.Context, ctxErr error, deadline time.Duration, err error) error {
	switch {
	case parent.Err() == nil: // the function's own deadline
		return &InvokeError{Kind: KindDeadline, Err: fmt.Errorf("deadline of %v exceeded: %w", deadline, ctxErr)}
	case errors.Is(parent.Err(), context.DeadlineExceeded):
		return &InvokeError{Kind: KindDeadline, Err: fmt.Errorf("the caller's deadline passed: %w", context.Cause(parent))}
	}
	return &InvokeError{Kind: KindCanceled, Err: fmt.Errorf("%w (%v)", context.Cause(parent), err)}
}

// ID returns the enclave's random identifier.
func (e *Enclave) ID() string { return e.id }

// MREnclave returns the enclave's measurement, computed as SGX's EINIT would.
func (e *Enclave) MREnclave() [32]byte { return e.mrenclave }

// MRSigner returns the identity of the enclave's signer, as EINIT established it.
func (e *Enclave) MRSigner() [32]byte { return e.mrsigner }

// Evidence returns the enclave's outer attestation evidence (simulated with a simulated
// platform), or nil when the enclave was created without a quoter.
func (e *Enclave) Evidence() *attest.Evidence { return e.evidence }

// ModuleSHA256 returns the SHA-256 of the function's module as given (before any rewriting).
// A generic enclave has no function between invocations: zero (see [Invocation.Load]).
func (e *Enclave) ModuleSHA256() [32]byte { return e.moduleSum }

// CreationPhases returns the timed steps of the enclave's creation, in order: ecreate,
// eadd_eextend, einit, runtime_init, compile, instantiate, fn_init, and for a rewinding
// enclave snapshot (before instantiate at the runtime point, after fn_init at the function
// point).
func (e *Enclave) CreationPhases() []Phase { return e.phases }

// Epoch returns the number of resets the enclave has done (rewinds, re-instantiations and
// recycles).
func (e *Enclave) Epoch() uint64 { return e.epoch }

// Compartments reports whether the enclave enforces its inner walls (see [Compartments]):
// L0's protection and the import allow-list.
func (e *Enclave) Compartments() bool { return e.cfg.Compartments != CompartmentsOff }

// GateCrossings returns how many of L0's gates the enclave has crossed: one when it made its
// attestation key, then one per attested invocation (to sign the inner report); a plain
// invocation and a rewind cross none. Without a quoter it is zero.
func (e *Enclave) GateCrossings() uint64 {
	if e.l0 == nil {
		return 0
	}
	return e.l0.Crossings()
}

// Simulated reports whether the enclave's SGX instructions are simulated. It is true for
// this (embedded) backend.
func (e *Enclave) Simulated() bool { return true }

// InitRandomBytes returns how many random bytes the function drew during its init. When it
// is not zero and the snapshot is taken at the function point, every rewound invocation starts
// from the same random-seeded state; see [Enclave.Warnings].
func (e *Enclave) InitRandomBytes() uint64 { return e.initRandom }

// Warnings returns the hazards the enclave detected in its configuration, as text.
func (e *Enclave) Warnings() []string {
	var w []string
	if e.rew != nil && e.cfg.SnapshotPoint.afterInit() && e.initRandom > 0 {
		w = append(w, fmt.Sprintf("%s drew %d random bytes during its init%s, before the %s snapshot: every rewound invocation starts from the state seeded from them, so what it derives from that state (random numbers, hash seeds, map order) repeats across invocations. Language runtimes draw such bytes while they start even when the function uses no randomness (the Go runtime seeds math/rand and its map hashing in every Go module). Use snapshot point runtime to draw fresh ones for every invocation", e.fn.Name, e.initRandom, e.warmupNote(), e.cfg.SnapshotPoint))
	}
	return w
}

// warmupNote is " and warm-up" for a warmed snapshot, whose warm-up invocations count in
// initRandom, and empty otherwise.
func (e *Enclave) warmupNote() string {
	if e.cfg.SnapshotPoint == PointWarmed {
		return fmt.Sprintf(" and its %d warm-up invocations", e.warmups)
	}
	return ""
}

// warmUp runs the warm-up invocations of snapshot point warmed: the function's entry with
// its public warm-up input, under its deadline, the outputs discarded; the random bytes they
// draw count as the init's. Any failure fails the enclave's creation: a warm-up input the
// function does not accept is the workload's error.
func (e *Enclave) warmUp(ctx context.Context) error {
	before := e.host.RandomBytes()
	for i := range e.cfg.WarmupInvocations {
		if err := e.warmupCall(ctx, i+1, fmt.Sprintf("of %d", e.cfg.WarmupInvocations)); err != nil {
			return err
		}
	}
	e.warmups = e.cfg.WarmupInvocations
	drawn, err := e.settle(ctx)
	e.initRandom += drawn - before
	return err
}

// warmupCall runs warm-up invocation n (of says of how many) and fails on anything but a
// successful return.
func (e *Enclave) warmupCall(ctx context.Context, n int, of string) error {
	e.host.Begin(e.fn.WarmupInput)
	res, err := e.inst.call(ctx, e.inst.entry, e.fn.Deadline, e.cc.now())
	overflow := e.host.OutputOverflow()
	e.host.End()
	var exit *wasi.ExitError
	switch {
	case err != nil && !(errors.As(err, &exit) && exit.Code == 0 && e.fn.Kind == KindCommand):
		return fmt.Errorf("warm-up invocation %d %s: %w", n, of, err)
	case overflow:
		return fmt.Errorf("warm-up invocation %d %s: output exceeds max_output_bytes (%d)", n, of, e.fn.MaxOutputBytes)
	case e.inst.hasStatus && uint32(res[0]) != 0:
		return fmt.Errorf("warm-up invocation %d %s: %s returned status %d", n, of, exportHandle, int32(uint32(res[0])))
	case e.inst.mod.IsClosed():
		return fmt.Errorf("warm-up invocation %d %s closed the instance", n, of)
	}
	return nil
}

// Settling (see settle).
const (
	// SettleCandidates is how many states after the warm-up invocations settling compares.
	SettleCandidates = 8
	// settleCopyBudget bounds the bytes of linear memory settling copies (one copy per
	// candidate): a large memory gets fewer candidates.
	settleCopyBudget = 256 << 20
	// settleWorkBudget bounds the work (interrupt budget units, see wasmbin.PollBudget: about
	// a millisecond each million) settling spends on its invocations; it stops after the one
	// that passes it.
	settleWorkBudget = 256 << 20
)

// settle chooses the state a warmed snapshot is taken in. The state the warm-up invocations
// leave may be one whose next invocation does much more work than those around it — a Go
// runtime's next call may refill its allocator's span caches or start a collection cycle —
// and every rewound invocation would repeat that work. Settling runs up to SettleCandidates
// more invocations with the warm-up input, measures the work each does (the interrupt
// checks' charges, from the budget global and the number of polls, the budget and the
// deadline working as in any call: the same code on the same input charges the same, so
// the choice depends on the guest's state only, never on timing) and goes back to the state
// before the one of least work, the first such. The invocations before that state count as
// warm-up invocations (WarmupInvocations, and the clean-state hash). It goes back by copying
// memory, globals and the host state; it stops without going back when an invocation
// changes what a copy cannot restore (a table, a dropped segment) or grows memory it cannot
// shrink. It returns the host's count of random bytes drawn (wasi.Host.RandomBytes) as of the
// state it keeps.
func (e *Enclave) settle(ctx context.Context) (uint64, error) {
	inst := e.inst
	size := int(e.heap.n)
	k := SettleCandidates
	if size > 0 {
		k = min(k, settleCopyBudget/size)
	}
	if k < 2 || inst.budget == nil {
		return e.host.RandomBytes(), nil
	}
	type state struct {
		mem     []byte
		globals []uint64
		host    wasi.State
		at      int    // warm-up invocations before it
		random  uint64 // random bytes drawn before it
	}
	save := func(s *state) {
		s.mem = append(s.mem[:0], e.heap.buf[:e.heap.n]...)
		s.globals = s.globals[:0]
		for _, g := range inst.globals {
			s.globals = append(s.globals, g.Get())
		}
		s.host, s.at, s.random = e.host.Snapshot(), e.warmups, e.host.RandomBytes()
	}
	canShrink := wzmem.Supported(inst.mod.Memory())
	flag := inst.state.Get()
	defer func() { inst.state.Set(flag) }()
	var cur, best state
	bestWork, spent := uint64(math.MaxUint64), uint64(0)
	budget := func() int64 { return int64(int32(uint32(inst.budget.Get()))) }
	for range k {
		save(&cur)
		inst.state.Set(0)
		before := budget()
		inst.cc.polls = 0
		err := e.warmupCall(ctx, e.warmups+1, "(settling)")
		if err != nil {
			return 0, err
		}
		e.warmups++
		// Each poll set the budget back to PollBudget, from 0 or a little below (by one charge
		// at most, which this leaves out): deterministic all the same.
		work := uint64(before - budget() + inst.cc.polls*wasmbin.PollBudget)
		if work < bestWork {
			bestWork, cur, best = work, best, cur
		}
		if inst.state.Get() != 0 {
			flag = 1
			return e.host.RandomBytes(), nil // a table or segment changed: no way back
		}
		if spent += work; spent > settleWorkBudget {
			break
		}
	}
	n := uint64(len(best.mem))
	if e.heap.n > n {
		if !canShrink {
			return e.host.RandomBytes(), nil
		}
		clear(e.heap.buf[n:e.heap.n]) // a later memory.grow must find zeros, as a fresh instance's
		if err := wzmem.Shrink(inst.mod.Memory(), uint32(n/wasmPageSize)); err != nil {
			return 0, fmt.Errorf("settle: %w", err)
		}
		e.heap.n = n
	}
	copy(e.heap.buf, best.mem)
	for i, g := range inst.globals {
		g.Set(best.globals[i])
	}
	e.host.Restore(best.host)
	e.warmups = best.at
	return best.random, nil
}

// WarmupInvocations returns how many warm-up invocations ran before the clean state of
// snapshot point warmed: Config.WarmupInvocations, plus those settling kept (see
// [PointWarmed]); 0 at the other snapshot points.
func (e *Enclave) WarmupInvocations() int { return e.warmups }

// Unusable returns why the enclave can no longer serve (it was closed, or retired after an
// invocation whose reset failed: see [ResetRetire]), or nil while it can.
func (e *Enclave) Unusable() error { return e.unusable }

// Close destroys the enclave: the runtime and its instances are closed and the region is
// unmapped. It is safe to call more than once.
func (e *Enclave) Close(ctx context.Context) error {
	var errs []error
	if e.rt != nil {
		errs = append(errs, e.rt.Close(ctx))
		e.rt = nil
	}
	if e.rew != nil {
		errs = append(errs, e.rew.Close())
		e.rew = nil
	}
	if e.l0 != nil {
		errs = append(errs, e.l0.Close()) // kept: it says the enclave had a key
	}
	if e.region != nil {
		errs = append(errs, e.region.Free())
		e.region = nil
	}
	e.inst, e.heap = nil, nil
	if e.unusable == nil {
		e.unusable = errors.New("enclave closed")
	}
	return errors.Join(errs...)
}

// classify turns the error of a call that the host did not stop into an *InvokeError.
func classify(err error) error {
	var exit *wasi.ExitError
	if errors.As(err, &exit) {
		return &InvokeError{Kind: KindExit, Err: exit}
	}
	var budget *wasi.BudgetError
	if errors.As(err, &budget) {
		return &InvokeError{Kind: KindHostCallLimit, Err: budget}
	}
	var sysExit *sys.ExitError
	if errors.As(err, &sysExit) {
		return &InvokeError{Kind: KindExit, Err: err}
	}
	return &InvokeError{Kind: KindTrap, Err: err}
}
