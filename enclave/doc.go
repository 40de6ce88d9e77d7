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
//   - einit: the measurement is finalised into MRENCLAVE;
//   - runtime_init: the Wasm runtime and its WASI host start;
//   - compile: the module is checked, rewritten so every mutable global can be saved and
//     restored, and compiled;
//   - instantiate: the module is instantiated, its linear memory placed in the enclave heap;
//   - fn_init: the function's initialisation runs (_initialize, reclave_init);
//   - snapshot (rewinding enclaves only): the guest state is saved.
//
// The SGX instructions are simulated, and [Enclave.Simulated] says so; the work they do —
// copying and hashing every page — is done for real, so the cost of a cold start scales with
// the enclave size as it does on hardware. Later versions add EINIT's signature check and
// attestation.
//
// # Resets
//
// After each invocation, [Enclave.Invoke] resets the enclave as [Config.Reset] says, and the
// reset's cost is part of the invocation ([Invocation.Total]); [Invocation.Response] is the
// time until the output was ready. The modes reclave compares map onto resets:
//
//	cold           a fresh enclave per invocation (Config.OneShot), destroyed after it
//	warm           ResetNone: nothing is reset; the next caller sees this one's state
//	reinstantiate  ResetReinstantiate: a new Wasm instance, the function's init run again
//	rewind         ResetRewind: memory and globals restored from the snapshot
//
// A rewind restores, byte for byte, linear memory (its contents with [StrategyFull] or only
// the 4 KiB pages that differ with [StrategyDiff]) and every mutable global, exported or not.
// State the configured reset cannot repair is detected and the instance is re-created
// ([ResetRecycle]), never silently reused:
//
//   - linear memory that grew: wazero cannot shrink a memory, so the instance is re-created and
//     the snapshot copied into it, which restores the size too;
//   - an exit or an expired deadline: wazero closes the module;
//   - a trap in a mode that does not reset (warm): the instance's state is unknown.
//
// Host-side state — the input on stdin, the output and log buffers — is emptied after every
// invocation. Not yet restored (and therefore not yet claimed): tables, which the function
// could change with table.set or table.grow, and WASI state beyond the standard streams (the
// functions get no files, arguments or environment).
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
