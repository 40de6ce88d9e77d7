// Package wasmgen generates WebAssembly modules without a toolchain.
//
// [PageToucher] makes modules for reclave's benchmarks, whose shape (memory size, pages
// written per call) is a parameter, so a benchmark can sweep it.
//
// [Hostile] makes modules for a differential fuzzer whose oracle is reclave's isolation
// guarantee: every output of a reused (rewound, recycled) enclave equals the output a fresh
// enclave gives for the same input. A hostile module is a valid reactor (see the function ABI
// in workloads/README.md) that plays the adversary of DESIGN.md's threat model: it tries to
// leave state for the next invocation everywhere it can, and it observes, in its output, any
// state that an earlier invocation may have left.
//
// # What a hostile module holds
//
// Imports: functions of wasi_snapshot_preview1 only, all in enclave.DefaultImports (fd_read,
// fd_write and fd_fdstat_get always; random_get, clock_time_get, fd_close,
// fd_fdstat_set_flags, proc_exit, args_sizes_get and environ_sizes_get when used). It defines
// (and exports as "memory") exactly one memory of 1 or 2 pages with a maximum of at most 8
// pages; one or two funcref tables of 1 to 4 slots (a maximum up to 12 more, or none); 1 to 8
// globals of every numeric type, mutable or not, exported or not, and sometimes a mutable
// funcref global; 2 to 7 element functions of type () -> i32, each returning a distinct
// constant; active, passive and declarative element segments; active data segments (some
// over 4 KiB boundaries, some over the input buffer) and passive ones.
//
// # What it does
//
// Code outside the invocation proper — a start function, _initialize, reclave_init, each
// present in about half the modules — reads state (memory at fixed addresses, including the
// input buffer and data segments; globals; table sizes and slots; the memory size) and writes
// what it read into other state: memory, globals, a table's size through table.grow (the
// pattern of a bug the earlier property tests missed), table slots, the memory's size, and
// whether a segment survives (data.drop or elem.drop when a value is odd).
//
// reclave_handle (() -> () or () -> i32) first writes an observation to stdout, then reads
// its input (fd_read into a 256-byte buffer; some modules read only a few bytes), then runs a
// sequence of generated operations whose operands — addresses, values, lengths, counts,
// branch conditions — come from the input bytes and from state, then writes a second
// observation and, when it has a status result, returns a status that is non-zero on some
// inputs. The operations: stores of every width, at addresses anywhere or straddling 4 KiB
// and 64 KiB boundaries; runs of stores off one base local (at offsets up to a page and a bit
// apart, often across a 4 KiB boundary; the base sometimes changes between them, an input
// byte may trap between them, another statement may run between them; in a loop, often off
// a base defined before the loop, which the loop sometimes moves; and, as a trap, a run off a
// base near the end of memory whose last store is out of bounds) — the patterns whose
// checks the instrumentation of the tracked strategy shares; memory.grow (also past the maximum, where it returns -1),
// memory.size, memory.fill, memory.copy, memory.init, data.drop; global.set of every type;
// table.get, table.set, table.grow, table.fill, table.copy, table.init, table.size,
// elem.drop, call_indirect; bounded loops (at most 16 iterations, two deep) that favour bulk
// operations; if/else on the input; WASI calls that change host state or write it into
// memory (fd_close of 0, 1 or 2, fd_fdstat_set_flags, random_get, clock_time_get, fd_write
// of a memory region, args and environ sizes); proc_exit and traps (unreachable,
// out-of-bounds store, memory.fill and load, division by zero or overflow, call_indirect of a
// null slot, past the table's end or of the wrong type), each under a condition on the input
// and so after whatever the invocation wrote before. Every operation other than the traps
// stays in bounds by construction, except memory.init and table.init of a segment dropped
// before, which is the point. Float values are made from bits, never by arithmetic, so the
// output is a function of the state and the input alone.
//
// # The observation
//
// One line, "o<phase> m=<hex> g=<hex> t=<hex> f=<hex>\n" (phase 0 before the operations, 1
// after), of four 64-bit digests computed in Wasm:
//
//   - m: the memory size and every byte of memory;
//   - g: every global (for the funcref global: null, or its function's result);
//   - t: per table, its size, and per slot null or the result of call_indirect on it;
//   - f: fd_fdstat_get of descriptors 0, 1 and 2 (errno and contents), and the errno of an
//     empty fd_write to 1 and 2 and an empty fd_read from 0.
//
// In half the modules (Features.ObserveDrops) the observation also probes every passive
// segment with a memory.init or table.init of 0 bytes at the segment's end, which traps if
// and only if the segment was dropped: a trap is an observation too. The memory digest is
// taken before the observation writes its own scratch area. A fresh instance's first
// observation never traps, and since the digests cover random_get and clock results only
// through memory, a host whose randomness and clock restart at each invocation makes the
// whole output a function of the input and the state the invocation found.
//
// Generation is deterministic: the seed's bytes drive the first decisions (so a fuzzer's
// mutations of a seed change its module a little), a SplitMix64 stream seeded with a hash of
// the whole seed the rest. [Features] lists what a module contains.
package wasmgen
