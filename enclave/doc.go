// Package enclave is reclave's embedded enclave runtime: a simulated SGX enclave that runs one
// WebAssembly function (wazero inside) and can be reused across invocations by resetting it —
// rewinding it to a snapshot or re-instantiating the function — instead of creating a fresh
// enclave for every invocation.
//
// It is usable as a library on its own: it imports nothing of reclave's harness, results,
// plots or command line.
//
//	e, err := enclave.Create(ctx, enclave.Config{Reset: enclave.ResetRewind}, enclave.Function{Name: "f", Wasm: wasm})
//	if err != nil { ... }
//	defer e.Close(ctx)
//	inv, err := e.Invoke(ctx, []byte(`{"user":"alice"}`)) // inv.Output, inv.Response, inv.Reset, ...
//
// # Life cycle
//
// [Create] performs, and times, the steps of a cold start:
//
//   - ecreate: the enclave's memory region is mapped (the stand-in for EPC pages) and the
//     measurement started as ECREATE does;
//   - eadd_eextend: every page of the region is added — its initial content copied in — and
//     measured with EADD and 16 EEXTENDs, exactly as the Intel SDM specifies (SHA-256). The
//     layout is one TCS page, one SSA page, the module's bytes as code pages, and the heap,
//     which holds the function's linear memory;
//   - sign (only when a measurement is new to the [Signer]): the measurement is finalised into
//     MRENCLAVE and the signer makes a SIGSTRUCT for it (RSA-3072, exponent 3) — the author's
//     build step, recorded so that it is never hidden in another phase;
//   - einit: EINIT checks the SIGSTRUCT against the measurement and the attributes and
//     establishes MRSIGNER; a mismatch refuses to start the enclave;
//   - runtime_init: the Wasm runtime and its WASI host start;
//   - compile: the module is checked, rewritten so every mutable global can be saved and
//     restored, and compiled;
//   - instantiate: the module is instantiated, its linear memory placed in the enclave heap;
//   - fn_init: the function's initialisation runs (_initialize, reclave_init);
//   - snapshot (rewinding enclaves only): the guest state is saved;
//   - quote (with a [Config.Quoter]): the enclave makes its L0 attestation key and the platform
//     quotes a report binding it to MRENCLAVE, MRSIGNER and the enclave id (outer evidence).
//
// The SGX instructions are simulated, and [Enclave.Simulated] says so; the work they do —
// copying and hashing every page, checking the RSA signature, signing the evidence — is done
// for real, so the cost of a cold start scales with the enclave size as it does on hardware.
//
// # Nested attestation
//
// The outer evidence ([Enclave.Evidence]) is made once per enclave. [Enclave.InvokeAttested]
// adds an inner report to an invocation, signed by the enclave's L0 key: runtime measurement,
// module hash, clean-state hash ([Enclave.CleanStateHash]), the epoch (the number of resets
// before the invocation, so it never repeats), the client's nonce, and the hashes of input
// and output. A client checks the whole chain with package attest; simulated evidence says
// so and is refused unless the client allows it.
//
// # Generic enclaves
//
// [Create] makes an enclave for one function: its layout holds the module's bytes as code
// pages, so its MRENCLAVE names the function, and its clean state is that function's.
// [CreateGeneric] makes an enclave for none: the layout is the TCS and SSA pages, the stack,
// the runtime image and the heap, so MRENCLAVE is the same for every function (and for every
// generic enclave of the same configuration), and the snapshot is taken at the runtime point,
// before any module. Each [Enclave.InvokeFunction] brings a [Function]: the module is data the
// runtime loads after EINIT, as an enclave loads code it did not measure — hashed (SHA-256),
// checked against the function's allow-list, compiled (or found compiled in the enclave's
// compile cache, keyed by that hash, [GenericCacheModules] at most), instantiated on the
// zeroed heap within the function's own memory cap and initialised; then it is invoked, and
// the enclave is rewound to the runtime snapshot: the instance, linear memory, the WASI host's
// state and the function's stub host modules are gone, and only the compiled code, which no
// guest can write, is kept. Phases: load, instantiate, fn_init, invoke, rewind;
// [Invocation.Load] names the function, its module hash and whether the cache hit. A function
// refused at load, or failing in its start function or init, fails its own invocation; the
// enclave is rewound and serves the next. Strategy auto is diff in a generic enclave (see
// [CreateGeneric]).
//
// What the outer evidence proves in this mode: that a genuine enclave runs the generic runtime
// — its runtime image, layout and signer — with an L0 key only it holds. It says nothing
// about which functions that runtime will load: no module is measured. The inner report of
// each attested invocation ([Enclave.InvokeFunctionAttested]) closes the gap: signed by the L0
// key the outer evidence binds, it names the module that ran (its SHA-256, which the runtime
// computed over the bytes it compiled), the clean state it ran on ([GenericCleanStateHash]:
// the runtime before any module, the same for every function), the epoch (a rewind before
// every invocation) and the hashes of input and output. A verifier pins the runtime's
// MRENCLAVE and that clean state once, and lists the functions it accepts in its policy's
// module hashes (attest.Policy.ModuleHash): a report of any other function is refused
// (attest.ErrPolicyModule). The trust in the runtime's loader — that it hashes what it runs
// and rewinds before every invocation — is trust in the runtime MRENCLAVE measures.
//
// # Resets
//
// After each invocation, [Enclave.Invoke] resets the enclave as [Config.Reset] says, and the
// reset's cost is part of the invocation ([Invocation.Total]); [Invocation.Response] is the
// time until the output was ready. The modes reclave compares map onto resets:
//
//	cold           a fresh enclave per invocation (Config.OneShot), destroyed after it; the
//	               harness creates it as a rewinding one, so that a cold start includes the
//	               snapshot a reusable-enclave platform takes on its first request
//	warm           ResetNone: nothing is reset; the next caller sees this one's state
//	reinstantiate  ResetReinstantiate: a new Wasm instance, the function's init run again
//	rewind         ResetRewind: the state restored from the snapshot
//
// # What a rewind restores
//
// Everything the guest can observe, byte for byte:
//
//   - linear memory: its contents, by the configured [Strategy] (see [Rewinder]), and its size:
//     memory that grew is shrunk back in place (internal/wzmem reaches into wazero, which
//     cannot shrink a memory) and the bytes past the snapshot's size are zeroed;
//   - every mutable global, exported or not: the module is rewritten at load so that each is
//     exported to the host (internal/wasmbin);
//   - host state: the WASI layer is reclave's own (internal/wasi), so its file-descriptor
//     table is saved and restored, stdin/stdout/stderr buffers are emptied after every
//     invocation, and proc_exit ends the call without closing the instance;
//   - tables and data/element segments cannot be read or written through wazero's API, so the
//     rewriter flags every instruction that changes them (table.set, table.grow, table.fill,
//     table.copy, table.init, elem.drop, data.drop): when one ran, the instance is re-created
//     from the snapshot ([ResetRecycle]) instead.
//
// State that cannot be restored is detected and the instance re-created, never silently
// reused: the flagged instructions above; a trap, an exit or a deadline in a mode that does
// not reset (warm), which leaves the instance's state unknown.
//
// # Re-creating an instance
//
// A new instance (mode reinstantiate, a recycle, every rewind to a runtime-point snapshot)
// runs guest code before any invocation: the module's start function during the
// instantiation, then _initialize and reclave_init. That code is as hostile as the function
// itself, so the old instance's memory is zeroed (or restored to the empty runtime snapshot)
// before the new one is instantiated: a start function reads what a fresh enclave's would,
// zeros and the data segments, never a byte of an earlier invocation. A recycle from a
// function-point snapshot then overwrites memory, its size, the globals and the host state
// with the snapshot's; the init does not run again. Tables and dropped segments are the
// exception: a start function or init that changed them ran into state only running them
// again reproduces, so such an enclave retires at its first recycle ([ErrUnusable]: the
// harness and reclave serve create a new one) rather than serve from a state no fresh enclave
// would have.
//
// # Deadlines
//
// Every piece of guest code — the start function, _initialize, reclave_init, the handler, in
// a cold start, an invocation or a reset's re-creation — runs under a deadline
// ([Function.Deadline], each) and the caller's context. wazero's own mechanism
// (WithCloseOnContextDone) calls into Go on every loop iteration, which makes loops some 30
// times slower, and closes the module. Instead the rewriter adds interrupt checks at loop
// headers and function entries that, about every million instructions, call the host's poll:
// it stops the invocation (a trap) once the context is done; when the context ends, the host
// also sets the check's budget to zero, and every check reads it afresh, so the guest polls at
// its next loop iteration. An instruction whose work grows with an operand (memory.fill,
// memory.copy, memory.init, table.grow, table.fill, table.copy, table.init) is charged by
// that size, before the work: a loop of 58 MB fills stops at the deadline like any other loop.
// Host calls that block (poll_oneoff's sleep) return when the context ends. The module stays
// open, so a rewinding enclave rewinds it like any other failed invocation. The poll is also
// what lets the Go runtime preempt a long invocation; native code alone would hold up the
// garbage collector and with it the whole process.
//
// A reset that must run guest code (a re-creation) and overruns the deadline leaves the
// enclave unusable ([ErrUnusable]): the function cannot be brought to its clean state in time.
// If the caller's context ends instead, the enclave is left clean without an instance, and
// the next invocation re-creates it first.
//
// Tables live outside linear memory, in the runtime: [MaxTableEntries] caps them, so that
// table.grow cannot make the host allocate gigabytes.
//
// Randomness: random_get always draws fresh bytes. But state the function seeds from
// randomness during its init (the Go runtime seeds math/rand there) is part of a
// function-point snapshot, so every rewound invocation repeats it. The enclave counts the
// random bytes drawn during init and reports the hazard ([Enclave.Warnings]); the runtime
// snapshot point ([PointRuntime]), which runs the init for every invocation, avoids it.
//
// # Strategies
//
//	full     copy the whole snapshot back
//	diff     compare every 4 KiB page with the snapshot, copy back those that differ
//	cow      map the snapshot copy-on-write (memfd, MAP_PRIVATE) under linear memory; drop the
//	         written pages with madvise(MADV_DONTNEED). Each first write faults and copies; the
//	         madvise also costs TLB shootdowns, expensive in a virtual machine
//	tracked  the module's stores are instrumented to report the pages they write; copy back
//	         exactly those. No scan, no fault; the cost moves into the function's execution.
//	         Stores off the stack pointer (clang's __stack_pointer, Go's SP: the first
//	         mutable i32 global) are covered by checks where it is set instead, and the host
//	         marks the pages at its value, and page 0, at each invocation's start
//	auto     the default: measure diff and tracked on the function's own invocations and keep
//	         the cheaper (execution + reset), exploring again now and then; see auto.go,
//	         [Enclave.Strategy] and [Enclave.StrategyChoice]
//
// Snapshot points: [PointFunction] (after the init), [PointRuntime] (before the module is
// instantiated) and [PointWarmed] (after the init and [Config.WarmupInvocations] invocations
// with the function's public [Function.WarmupInput]).
//
// # Compartments
//
// Three layers share the enclave: L0, the monitor (snapshot, attestation key, epoch);
// L1, the Wasm runtime and host functions (Go); L2, the function (Wasm). [Config.Compartments]
// switches the walls between them on (the default) or off, to measure what they cost; the
// per-function caps hold either way ([Enclave.Compartments] says which an enclave has).
//
// L2 → L1: the Wasm sandbox; the import allow-list ([Function.Imports], else
// [DefaultImports]: no file system, no network), checked at load, naming a refused import;
// [Function.Stubs], imports the runtime answers with host functions that do nothing and
// return zeros (never one reclave implements); caps on linear memory, output and time; host
// functions check every guest pointer and length against the memory's current size
// (EFAULT) and keep none across calls. With compartments off there is no allow-list: any
// WASI function reclave implements may be imported.
//
// L1 → L0 (internal/l0): this CPU has no memory protection keys, and changing a page's
// protection costs ≈ 5–8 µs — many times more, with the TLB shootdown, once the page was
// touched. So the rewind path crosses no gate and an invocation at most one:
//
//   - the snapshot is L0's and read-only: every strategy takes it into memory that becomes
//     PROT_READ once taken (cow: a memfd sealed against writes). Rewinds only read it, with
//     no gate; a write to it from anywhere faults.
//   - the L0 key's private scalar and the last attested epoch live in a vault page that is
//     PROT_NONE: a read from anywhere faults. The one gate, which signs an inner report,
//     reaches it through /proc/self/mem where Linux allows it (the page never becomes
//     readable: ≈ 4–5 µs a crossing on a quiet machine, BenchmarkSignInner in
//     internal/l0), else by two mprotects. [Enclave.GateCrossings] counts
//     the gates: one to seal the key when the enclave is created, one per attested
//     invocation, none otherwise.
//   - the epoch: L1 counts resets in ordinary memory (a gate per rewind would cost more than
//     the rewind); L0 keeps the last epoch it signed and refuses, inside the signing gate, an
//     epoch lower than it or — for an enclave that resets — equal to it. So attested epochs
//     strictly increase whatever L1's memory holds. That a counted reset really restored the
//     state rests on the read-only snapshot and on L1's code, which MRENCLAVE measures. When
//     L0 refuses to sign, the enclave is unusable (ErrUnusable).
//
// These walls stop stray and overrunning memory accesses by L1 code, the bugs a
// compromised function would exploit; they do not stop L1 code that calls mprotect (or
// reads /proc/self/mem) on purpose: only hardware or another address space would. The mutable
// globals and host descriptor state saved with the snapshot are small Go values, not in L0's
// memory. With compartments off, the snapshot is writable, the vault an ordinary page.
//
// # Why is linear memory inside the enclave region?
//
// Because on SGX it would be: the region is what cold starts add and measure, and what the
// rewind restores. wazero's experimental.WithMemoryAllocator places the instance's memory in
// the region's heap, and the runtime, not the guest, decides how far it may grow.
//
// # Why export the globals instead of re-instantiating?
//
// wazero can set only exported mutable globals; C keeps its stack pointer in a global it does
// not export. Rewriting the module's export section (internal/wasmbin) makes every mutable
// global reachable at the cost of one Get per global per rewind, far cheaper than a new
// instance.
package enclave
