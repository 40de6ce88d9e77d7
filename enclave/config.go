package enclave

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/enclave/internal/wasi"
	"github.com/reclave/reclave/enclave/internal/wasmbin"
)

// CompilationCache holds compiled modules for reuse by several enclaves; see Config.Cache.
// It is safe for concurrent use.
type CompilationCache struct {
	c wazero.CompilationCache
}

// NewCompilationCache returns an empty in-memory cache.
func NewCompilationCache() *CompilationCache {
	return &CompilationCache{c: wazero.NewCompilationCache()}
}

// Close releases the cache's compiled code.
func (c *CompilationCache) Close(ctx context.Context) error { return c.c.Close(ctx) }

// Reset says how an enclave's state is brought back to a clean state after an invocation.
// The same words describe, in every result record, what was actually done.
type Reset string

// Reset kinds. Configure one of ResetNone, ResetRewind or ResetReinstantiate; ResetRecycle and
// ResetCreate are only ever reported.
const (
	// ResetNone keeps the instance as the invocation left it (mode warm): fast and insecure,
	// the next invocation sees this one's state. A command module is the exception: it runs
	// once per instance (its _start runs the constructors, main and the destructors, and
	// upstream wasi-libc traps when _start runs a second time), so after each of its
	// invocations the instance is re-created (reported as ResetRecycle) while the enclave and
	// the compiled module are kept.
	ResetNone Reset = "none"
	// ResetRewind restores the instance to the snapshot taken after the function's init.
	ResetRewind Reset = "rewind"
	// ResetReinstantiate throws the Wasm instance away and instantiates the compiled module
	// again, running the function's init (what Faasm's SGX-WAMR does).
	ResetReinstantiate Reset = "reinstantiate"
	// ResetRecycle is reported when the instance was in a state the configured reset cannot
	// repair — a trap without rewinding, a deadline or an exit (wazero closes the instance),
	// memory that grew under rewind (wazero memory never shrinks), a command's instance
	// without a reset (see ResetNone) — and was re-created.
	ResetRecycle Reset = "recycle"
	// ResetCreate is reported for an invocation served by a fresh enclave (mode cold).
	ResetCreate Reset = "create"
	// ResetRetire is reported when the reset after an invocation failed: the enclave could
	// not be brought back to its clean state (a re-created instance's start function or init
	// overran its deadline, or a function-point recycle could not rebuild the instance from
	// the snapshot). The enclave is unusable and must be closed; the invocation's own outcome
	// stands, since it ran on a clean state.
	ResetRetire Reset = "retire"
)

// Strategy is how a rewind restores linear memory.
type Strategy string

// Rewind strategies.
const (
	// StrategyFull copies the whole snapshot back over linear memory.
	StrategyFull Strategy = "full"
	// StrategyDiff compares linear memory with the snapshot page by page (4 KiB) and copies
	// back only the pages that changed. A page that is all zero in the snapshot (a third or
	// more of a Go reactor's heap) is checked for zeros instead, reading linear memory only.
	StrategyDiff Strategy = "diff"
	// StrategyCOW maps the snapshot copy-on-write (a private mapping of a memfd) under linear
	// memory and drops the written pages with madvise(MADV_DONTNEED). Linux only.
	StrategyCOW Strategy = "cow"
	// StrategyTracked instruments the module's stores so every write reports its page, and
	// copies back exactly those pages: no scan and no page fault.
	StrategyTracked Strategy = "tracked"
	// StrategyAuto measures diff and tracked on the function's own invocations and keeps the
	// cheaper (execution + reset), exploring again when the cost drifts; see auto.go. The
	// default.
	StrategyAuto Strategy = "auto"
)

// DefaultStrategy is the rewind strategy of an enclave, a config and the CLI that name none.
const DefaultStrategy = StrategyAuto

// SnapshotPoint is where in an enclave's life the clean state is taken.
type SnapshotPoint string

// Snapshot points.
const (
	// PointFunction snapshots after the function's init (proto-function style): a rewind skips
	// the init. State the init seeded from randomness repeats after every rewind.
	PointFunction SnapshotPoint = "function"
	// PointRuntime snapshots the runtime before any module is instantiated, as the paper's
	// artifact does: every rewind drops the instance, and the function is instantiated and
	// initialised again for the next invocation, so nothing of one function's init survives
	// and the enclave could load another function.
	PointRuntime SnapshotPoint = "runtime"
	// PointWarmed snapshots after the function's init and Config.WarmupInvocations
	// invocations with Function.WarmupInput, a public input the workload designates: state a
	// language runtime initialises lazily on its first calls (the Go runtime's) is then part
	// of the clean state, so that a rewind does not undo it. The warm-up input must be public:
	// nothing of a caller ever enters a snapshot. The warm-up then settles: of the state it
	// leaves and the states after up to [SettleCandidates] more warm-up invocations, the
	// snapshot is the first whose next warm-up invocation does the least work (the interrupt
	// checks' charges, so the choice depends on the guest's state, never on timing): not one
	// whose next call starts a collection cycle or refills an allocator cache, which every
	// rewound invocation would repeat. [Enclave.WarmupInvocations] says how many invocations
	// the clean state has seen. State seeded from randomness during the
	// warm-up repeats after every rewind, as after the init ([Enclave.Warnings]). An enclave
	// that does not rewind (mode cold, warm, reinstantiate) runs the same warm-up at creation,
	// so that a fresh enclave is comparable with a rewound one.
	PointWarmed SnapshotPoint = "warmed"
)

// DefaultWarmupInvocations is the number of warm-up invocations of snapshot point warmed.
const DefaultWarmupInvocations = 3

// afterInit reports whether the snapshot holds an instance (function or warmed), rather than
// the runtime before any.
func (p SnapshotPoint) afterInit() bool { return p == PointFunction || p == PointWarmed }

// Kind is the kind of a function's module; see the function ABI in workloads/README.md.
type Kind string

// Module kinds.
const (
	// KindReactor exports reclave_handle (and optionally _initialize and reclave_init).
	KindReactor Kind = "reactor"
	// KindCommand exports _start, run once per invocation.
	KindCommand Kind = "command"
)

// Defaults.
const (
	DefaultMemoryBytes    = 64 << 20
	DefaultMemoryPages    = 1024
	DefaultMaxOutputBytes = 1 << 20
	DefaultDeadline       = 10 * time.Second
	// minHeapBytes is the least heap (the part of the region that holds linear memory) an
	// enclave may have.
	minHeapBytes = 1 << 20
)

// Config configures an enclave.
type Config struct {
	// MemoryBytes is the size of the enclave's memory region; every page of it is added and
	// measured at creation. It must be a multiple of 4096. Zero means DefaultMemoryBytes.
	MemoryBytes int64
	// Reset is what is done after each invocation: ResetNone, ResetRewind or
	// ResetReinstantiate. Zero means ResetRewind.
	Reset Reset
	// Strategy is how a rewind restores memory. Zero means DefaultStrategy (auto).
	Strategy Strategy
	// SnapshotPoint is where the clean state is taken. Zero means PointFunction.
	SnapshotPoint SnapshotPoint
	// WarmupInvocations is the number of warm-up invocations of snapshot point warmed (see
	// [PointWarmed]). Zero means DefaultWarmupInvocations; other snapshot points run none.
	WarmupInvocations int
	// RuntimeImage is the runtime's code as the enclave loads and measures it (the harness
	// passes the reclave-enclave binary, cmd/reclave-enclave, as an EGo enclave measures its
	// whole signed binary). Nil leaves it out of the layout: the measurement then covers the
	// module, stacks and heap only.
	RuntimeImage []byte
	// Signer signs the enclave for EINIT. Zero means TestSigner().
	Signer *Signer
	// Quoter produces the outer attestation evidence, once per enclave, in the phase "quote"
	// (for example an attest.SimulatedPlatform). Nil means no attestation: no quote phase.
	Quoter attest.Quoter
	// Cache, when set, shares compiled code between the enclaves that use it, as an
	// ahead-of-time compiled module would be: the compile phase then mostly looks the module up.
	// Measurements of cold starts should leave it nil, so every cold start compiles.
	Cache *CompilationCache
	// OneShot marks an enclave that serves a single invocation and is then destroyed (mode
	// cold): Invoke does no reset after it, and the enclave refuses further invocations.
	OneShot bool
	// Compartments switches the walls between the layers: CompartmentsOn (the zero value
	// means on) or CompartmentsOff, to measure what they cost. See [Compartments].
	Compartments Compartments
	// TraceHostCalls makes every host call an event with its duration
	// ([Invocation.HostCallTrace], [Enclave.CreationHostCallTrace]). The calls are counted
	// either way ([Invocation.HostCalls]); tracing adds two clock reads and an event per call.
	TraceHostCalls bool

	// deterministic makes the WASI host reproducible (seeded random, fixed clocks) for the
	// differential fuzzer, which compares a reused enclave with fresh ones; never for serving.
	deterministic *wasi.Deterministic
	// autoSwitchEvery makes strategy auto switch variants after every n invocations whatever
	// they cost, for the differential fuzzer; zero for the measured choice.
	autoSwitchEvery int
}

// Compartments says whether an enclave enforces its inner walls. With them on, L0's snapshot
// is read-only and its key and epoch are unreadable outside its gates (package doc, "Layers"),
// and a module may import only what its allow-list grants. With them off, L0's memory is
// ordinary memory and any host function reclave implements may be imported. The per-function
// caps — linear memory, output size, deadline — and the Wasm sandbox hold either way.
type Compartments string

// Compartment settings.
const (
	// CompartmentsOn enforces the walls; the zero Compartments means the same.
	CompartmentsOn Compartments = "on"
	// CompartmentsOff drops L0's memory protection and the import allow-list.
	CompartmentsOff Compartments = "off"
)

// Function is the WebAssembly function an enclave serves, with its limits.
type Function struct {
	// Name identifies the function in errors and reports.
	Name string
	// Wasm is the module's binary.
	Wasm []byte
	// Kind is the module kind. Zero means KindReactor.
	Kind Kind
	// MemoryPages caps linear memory, in 64 KiB pages. Zero means DefaultMemoryPages.
	MemoryPages uint32
	// MaxOutputBytes caps the output of one invocation. Zero means DefaultMaxOutputBytes.
	MaxOutputBytes int
	// Deadline bounds one invocation (and the function's init). Zero means DefaultDeadline.
	Deadline time.Duration
	// Imports are the host functions ("module.name") the function may import. Nil means
	// DefaultImports. A module importing anything else is refused at load (with compartments
	// on).
	Imports []string
	// MaxHostCalls caps the host calls of one invocation (calls of the function to
	// wasi_snapshot_preview1), MaxHostBytes the bytes they move into and out of linear memory
	// (see [HostCallCount]); zero means no cap. The call past MaxHostCalls is refused before
	// it runs; the call that takes the bytes past MaxHostBytes runs and then ends the
	// invocation. Either way the invocation fails with an *InvokeError of kind
	// KindHostCallLimit and the enclave is reset as after a trap. The function's init and
	// start function are not capped.
	MaxHostCalls, MaxHostBytes int64
	// Stubs are imports ("module.name") the runtime satisfies with harmless host functions of
	// whatever type the module declares: the parameters are ignored and the results are zero.
	// They are allowed in addition to Imports — for instance a benchmark's timing hooks
	// ("bench.start") or a clock a toolchain imports outside WASI ("env.get_time"). A stub may
	// not name a function reclave implements (any of wasi_snapshot_preview1) or the runtime's
	// own module; a stub the module does not import is ignored.
	Stubs []string
	// WarmupInput is the public input of the warm-up invocations of snapshot point warmed (a
	// workload's manifest names it: warmup_input). Required for that snapshot point.
	WarmupInput []byte
}

// DefaultImports are the host functions every function may import: the function ABI (the
// standard streams), clocks, randomness, exiting and yielding, and what WASI language runtimes
// call while they start (descriptor status, the preopen probe that finds none, empty
// arguments and environment). No file system, no network.
var DefaultImports = []string{
	"wasi_snapshot_preview1.args_get",
	"wasi_snapshot_preview1.args_sizes_get",
	"wasi_snapshot_preview1.clock_res_get",
	"wasi_snapshot_preview1.clock_time_get",
	"wasi_snapshot_preview1.environ_get",
	"wasi_snapshot_preview1.environ_sizes_get",
	"wasi_snapshot_preview1.fd_close",
	"wasi_snapshot_preview1.fd_fdstat_get",
	"wasi_snapshot_preview1.fd_fdstat_set_flags",
	"wasi_snapshot_preview1.fd_filestat_get",
	"wasi_snapshot_preview1.fd_prestat_dir_name",
	"wasi_snapshot_preview1.fd_prestat_get",
	"wasi_snapshot_preview1.fd_read",
	"wasi_snapshot_preview1.fd_seek",
	"wasi_snapshot_preview1.fd_write",
	"wasi_snapshot_preview1.poll_oneoff",
	"wasi_snapshot_preview1.proc_exit",
	"wasi_snapshot_preview1.random_get",
	"wasi_snapshot_preview1.sched_yield",
}

func (c Config) withDefaults() (Config, error) {
	if c.MemoryBytes == 0 {
		c.MemoryBytes = DefaultMemoryBytes
	}
	if c.Reset == "" {
		c.Reset = ResetRewind
	}
	if c.Strategy == "" {
		c.Strategy = DefaultStrategy
	}
	if c.SnapshotPoint == "" {
		c.SnapshotPoint = PointFunction
	}
	if c.Signer == nil {
		c.Signer = TestSigner()
	}
	if c.MemoryBytes < 2*minHeapBytes || c.MemoryBytes%4096 != 0 {
		return c, fmt.Errorf("enclave memory_bytes %d: must be a multiple of 4096 and at least %d", c.MemoryBytes, 2*minHeapBytes)
	}
	switch c.Reset {
	case ResetNone, ResetRewind, ResetReinstantiate:
	default:
		return c, fmt.Errorf("enclave reset %q: want none, rewind or reinstantiate", c.Reset)
	}
	if _, ok := rewinders[c.Strategy]; !ok {
		return c, fmt.Errorf("enclave strategy %q: want one of %v", c.Strategy, Strategies())
	}
	if c.SnapshotPoint != PointFunction && c.SnapshotPoint != PointRuntime && c.SnapshotPoint != PointWarmed {
		return c, fmt.Errorf("enclave snapshot point %q: want function, runtime or warmed", c.SnapshotPoint)
	}
	if c.WarmupInvocations == 0 {
		c.WarmupInvocations = DefaultWarmupInvocations
	}
	if c.WarmupInvocations < 0 {
		return c, fmt.Errorf("enclave warmup_invocations %d: must not be negative", c.WarmupInvocations)
	}
	if c.Compartments == "" {
		c.Compartments = CompartmentsOn
	}
	if c.Compartments != CompartmentsOn && c.Compartments != CompartmentsOff {
		return c, fmt.Errorf("enclave compartments %q: want on or off", c.Compartments)
	}
	return c, nil
}

func (f Function) withDefaults() (Function, error) {
	if f.Kind == "" {
		f.Kind = KindReactor
	}
	if f.MemoryPages == 0 {
		f.MemoryPages = DefaultMemoryPages
	}
	if f.MaxOutputBytes == 0 {
		f.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if f.Deadline == 0 {
		f.Deadline = DefaultDeadline
	}
	switch {
	case f.Kind != KindReactor && f.Kind != KindCommand:
		return f, fmt.Errorf("function %s: kind %q: want reactor or command", f.Name, f.Kind)
	case f.MemoryPages > 65536:
		return f, fmt.Errorf("function %s: memory_pages %d: at most 65536 (4 GiB)", f.Name, f.MemoryPages)
	case f.MaxOutputBytes < 0:
		return f, fmt.Errorf("function %s: max_output_bytes %d: must not be negative", f.Name, f.MaxOutputBytes)
	case f.Deadline < 0:
		return f, fmt.Errorf("function %s: deadline %v: must not be negative", f.Name, f.Deadline)
	case f.MaxHostCalls < 0 || f.MaxHostBytes < 0:
		return f, fmt.Errorf("function %s: host-call budget of %d calls and %d bytes: must not be negative", f.Name, f.MaxHostCalls, f.MaxHostBytes)
	case len(f.Wasm) == 0:
		return f, fmt.Errorf("function %s: empty module", f.Name)
	}
	for _, s := range f.Stubs {
		if err := checkStub(s); err != nil {
			return f, fmt.Errorf("function %s: stub %q: %w", f.Name, s, err)
		}
	}
	return f, nil
}

// checkStub refuses a stub that is not "module.name" or that would shadow a host function
// reclave implements.
func checkStub(s string) error {
	mod, name, ok := strings.Cut(s, ".")
	switch {
	case !ok || mod == "" || name == "":
		return errors.New(`want "module.name"`)
	case mod == wasi.ModuleName && slices.Contains(wasi.Functions(), name):
		return fmt.Errorf("%s is a host function reclave implements; grant it with imports instead of stubbing it", s)
	case mod == wasi.ModuleName:
		return fmt.Errorf("module %s is reclave's WASI host, which has no function %s; stubs need a module of their own", mod, name)
	case mod == wasmbin.MarkModule:
		return fmt.Errorf("module %s is the runtime's own", mod)
	}
	return nil
}
