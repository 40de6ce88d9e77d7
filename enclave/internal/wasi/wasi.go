// Package wasi is reclave's WASI preview1 host: the module "wasi_snapshot_preview1" that a
// WebAssembly function imports, written for instances that are reused across invocations and
// rewound to a snapshot after each one.
//
// wazero's own WASI (imports/wasi_snapshot_preview1) does not fit that life cycle: its
// proc_exit closes the module, its file descriptor table is not reachable from outside, and
// what it writes into guest memory is invisible to a dirty-page tracker. This package owns
// all three, and accounts for every call across the boundary:
//
//   - proc_exit ends the call with an [*ExitError] and leaves the module open, so the instance
//     can be rewound and called again;
//   - the host-side state a guest can change — which of the descriptors 0, 1, 2 are open, what
//     they refer to, their flags and rights — is a value ([State]) taken with [Host.Snapshot]
//     and put back with [Host.Restore];
//   - every byte the host writes into guest memory is reported to [Config.OnWrite];
//   - every host call is counted, by function, with the bytes it moved into and out of guest
//     memory ([Host.TakeCalls]), traced when asked ([Config.Trace], [Host.TakeTrace]) and
//     capped by a per-invocation budget ([Host.Budget]).
//
// The guest sees the function ABI (workloads/README.md): descriptor 0 yields the invocation's
// input and then end-of-file, 1 collects the output, 2 the log. Nothing else exists: no
// preopened directories (so no files), no sockets, the arguments and environment of
// [Config.Args] and [Config.Env] (none by default), real clocks and a cryptographic
// random_get. Every pointer the guest passes is checked against the current size of its
// memory; a bad one is answered with EFAULT, never a host panic.
//
// Typical use, one Host per wazero.Runtime:
//
//	rt := wazero.NewRuntime(ctx)
//	h, err := wasi.Instantiate(ctx, rt, wasi.Config{MaxOutputBytes: 1 << 20})
//	if err != nil { ... }
//	mod, err := rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithStartFunctions())
//	...
//	h.Begin(input)
//	_, err = mod.ExportedFunction("reclave_handle").Call(ctx)
//	out := bytes.Clone(h.Output()) // also h.Log(), h.OutputOverflow()
//	h.End()
//
//	var exit *wasi.ExitError
//	if errors.As(err, &exit) { ... exit.Code; mod is still open ... }
//
// A rewinding runtime saves the host state next to the guest's memory and globals:
//
//	snap := h.Snapshot() // after the function's init
//	...                  // an invocation, which may fd_close(1) or set flags
//	h.Restore(snap)      // with the rewind of memory and globals
//
// # Errnos
//
// A descriptor that is not open is EBADF everywhere, checked before any pointer; a pointer
// or length outside memory is EFAULT, checked before anything is written or consumed. On the
// open standard streams, which are character devices without the seek and tell rights (what
// wasi-libc's isatty() takes for a terminal):
//
//	fd_seek, fd_tell, fd_pread, fd_pwrite,
//	fd_advise, fd_allocate                  ESPIPE, as on a pipe (EBADF in the wrong direction,
//	                                        EINVAL for a bad whence or advice)
//	fd_read on 1, 2; fd_write on 0          EBADF (not open for that direction)
//	fd_write past Config.MaxOutputBytes     a short write, then EFBIG
//	fd_sync, fd_datasync                    success: nothing is buffered
//	fd_fdstat_set_flags                     recorded in State (EINVAL for unknown bits)
//	fd_fdstat_set_rights                    may only remove rights, then enforced; else ENOTCAPABLE
//	fd_filestat_set_size                    EINVAL, as ftruncate on a non-regular file
//	fd_filestat_set_times                   ENOTCAPABLE (EINVAL for contradictory flags)
//	fd_readdir                              ENOTDIR
//	fd_prestat_get, fd_prestat_dir_name     EBADF for every descriptor: there are no preopens
//	path_* (a stream as the directory)      ENOTCAPABLE; any other descriptor EBADF
//	sock_* (a stream as the socket)         ENOTSOCK; any other descriptor EBADF
//	proc_raise                              ENOSYS
//
// poll_oneoff sleeps for clock subscriptions unless a stream subscription is ready (they
// always are); if the call's context ends first, the call fails with an error wrapping the
// context's cause (the module stays open).
package wasi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
)

// Config configures a Host. The zero Config is usable: 1 MiB of output, 64 KiB of log, no
// arguments, no environment, crypto/rand.
type Config struct {
	// MaxOutputBytes caps what the guest may write to stdout (descriptor 1) in one invocation;
	// 0 means 1 MiB. A write that does not fit writes what fits (a short write, as POSIX does
	// at a file size limit); a write of which nothing fits fails with EFBIG. Either sets
	// [Host.OutputOverflow].
	MaxOutputBytes int
	// MaxLogBytes caps what is kept of stderr (descriptor 2) per invocation; 0 means 64 KiB.
	// The excess is dropped silently (the guest's write succeeds) and [Host.LogTruncated]
	// reports it.
	MaxLogBytes int
	// Args and Env are what args_get and environ_get return (Env entries as "KEY=value").
	// None may contain a NUL byte. Default: none.
	Args, Env []string
	// Rand is the source of random_get; default crypto/rand.Reader. It must never repeat
	// itself: functions seed hash tables and keys from it.
	Rand io.Reader
	// Deterministic, if not nil, replaces the sources of nondeterminism for differential
	// testing (never for serving): see [Deterministic].
	Deterministic *Deterministic
	// OnWrite, if not nil, is called after every write the host makes into guest memory — the
	// data of fd_read, result counts and offsets, random_get, clock values, fdstat, filestat,
	// arguments, environment, poll_oneoff events — with the range written. It is how a
	// dirty-page tracker sees the host's writes. It must not call back into the Host.
	OnWrite func(offset, length uint32)
	// Trace makes every host call an [Event], with its duration, for [Host.TakeTrace]. The
	// calls are counted either way ([Host.TakeCalls]); tracing adds two clock reads and an
	// event per call.
	Trace bool
}

// Deterministic makes a Host reproducible, for differential tests that compare two hosts
// given the same inputs (a reused enclave and a fresh one): random_get returns the bytes of a
// fixed stream seeded by Seed, and the position in that stream is part of [State], so a
// Restore replays it as a fresh Host would; every clock reads Time (nanoseconds). It breaks
// the promise that random_get never repeats itself: for tests only.
type Deterministic struct {
	Seed uint64
	Time uint64
}

// Host is the WASI preview1 host of one wazero.Runtime: the instantiated host module and the
// state behind it (the standard streams of the current invocation and the descriptor table).
// Every module instantiated in that runtime shares it, so the runtime should run one
// invocation at a time; a Host is not safe for concurrent use.
type Host struct {
	maxOut, maxLog int
	rand           io.Reader
	onWrite        func(offset, length uint32)
	det            *Deterministic
	args, env      strs
	ptrs           []byte // scratch for the pointer arrays of args_get and environ_get
	epoch          time.Time

	// The invocation.
	in           []byte
	inPos        int
	eofReads     uint64 // reads of stdin that returned end-of-file (ReadsAtEOF)
	out, log     []byte
	outOverflow  bool
	logTruncated bool

	fds         State
	randomBytes uint64

	scratch [filestatSize]byte // results are composed here, then written with put
	randBuf [randomChunk]byte

	// Host-call accounting (calls.go).
	counts  [numFunctions]counter // the current window's account, by function id
	touched uint64                // bit i: function i was called in the window
	cur     *counter              // the account of the function being called
	trace   bool                  // Config.Trace
	slow    bool                  // trace or budgeted: calls go through slowCall
	events  []Event               // the window's events, with trace
	dropped uint64                // events beyond MaxTraceEvents
	// The invocation's budget (Host.Budget), until End.
	budgeted                 bool
	maxCalls, maxBytes       uint64
	budgetCalls, budgetBytes uint64
}

// strs is a list of NUL-terminated strings laid out as args_get and environ_get return them.
type strs struct {
	buf  []byte   // the strings, each followed by NUL
	offs []uint32 // where each starts in buf
}

func newStrs(kind string, list []string) (strs, error) {
	var s strs
	for i, v := range list {
		if strings.IndexByte(v, 0) >= 0 {
			return strs{}, fmt.Errorf("wasi: %s[%d] contains a NUL byte", kind, i)
		}
		s.offs = append(s.offs, uint32(len(s.buf)))
		s.buf = append(append(s.buf, v...), 0)
	}
	if uint64(len(s.buf))+4*uint64(len(s.offs)) > maxIOBytes {
		return strs{}, fmt.Errorf("wasi: %s too large", kind)
	}
	return s, nil
}

// State is the host-side state a guest can change and a rewind must put back: for each of
// the descriptors 0, 1 and 2, whether it is open, which stream it refers to (fd_renumber can
// move them), its fdflags and the rights fd_fdstat_set_rights removed. It is a comparable
// value; the zero State is the state after Instantiate (0, 1, 2 open as stdin, stdout and
// stderr, no flags, all their rights).
//
//	snap := h.Snapshot()
//	changed := h.Snapshot() != snap // did the invocation touch the descriptor table?
type State struct {
	fds [3]fdSlot
	// randPos is the position in a deterministic random stream (Config.Deterministic); 0
	// otherwise, since real random bytes are never replayed.
	randPos uint64
}

// fdSlot is one entry of the descriptor table. Its zero value is the descriptor's own stream,
// open, with no flags and all its rights.
type fdSlot struct {
	closed  bool
	moved   uint8  // 0: the stream numbered like the descriptor; s+1: stream s (fd_renumber)
	flags   uint16 // fdflags, as fd_fdstat_set_flags set them
	dropped uint64 // rights fd_fdstat_set_rights removed
}

// The streams a descriptor can refer to.
const (
	streamStdin = iota
	streamStdout
	streamStderr
)

func (s *fdSlot) stream(fd uint32) int {
	if s.moved != 0 {
		return int(s.moved - 1)
	}
	return int(fd)
}

func streamDefaultRights(stream int) uint64 {
	if stream == streamStdin {
		return streamRights | rightFdRead
	}
	return streamRights | rightFdWrite
}

func (s *fdSlot) rights(fd uint32) uint64 {
	return streamDefaultRights(s.stream(fd)) &^ s.dropped
}

// ExitError is the error, wrapped, that api.Function.Call returns when the guest called
// proc_exit. Unlike wazero's WASI, the module is not closed: only the call ends (the guest's
// stack unwinds), so the instance can be rewound and used again. Find it with errors.As:
//
//	var exit *wasi.ExitError
//	if errors.As(err, &exit) && exit.Code == 0 { ... a command that exited successfully ... }
type ExitError struct {
	Code uint32
}

func (e *ExitError) Error() string {
	return "wasi: proc_exit(" + strconv.FormatUint(uint64(e.Code), 10) + ")"
}

// Instantiate registers the module "wasi_snapshot_preview1" in rt with every function of WASI
// preview1 (see [Functions]), so any preview1 module instantiates against it — C with
// wasi-libc, Go's GOOS=wasip1 runtime, Rust, TinyGo. It returns the Host that serves them.
// Closing rt closes the host module too.
//
//	h, err := wasi.Instantiate(ctx, rt, wasi.Config{MaxOutputBytes: 64 << 10, Args: []string{"fn"}})
func Instantiate(ctx context.Context, rt wazero.Runtime, cfg Config) (*Host, error) {
	if cfg.MaxOutputBytes < 0 || cfg.MaxLogBytes < 0 {
		return nil, errors.New("wasi: negative MaxOutputBytes or MaxLogBytes")
	}
	h := &Host{
		maxOut:  cmpOr(cfg.MaxOutputBytes, defaultMaxOutputBytes),
		maxLog:  cmpOr(cfg.MaxLogBytes, defaultMaxLogBytes),
		rand:    cfg.Rand,
		onWrite: cfg.OnWrite,
		det:     cfg.Deterministic,
		epoch:   time.Now(),
		trace:   cfg.Trace,
		slow:    cfg.Trace,
	}
	h.cur = &h.counts[0] // replaced at every call: put and read count only within calls
	if h.rand == nil {
		h.rand = rand.Reader
	}
	var err error
	if h.args, err = newStrs("Args", cfg.Args); err != nil {
		return nil, err
	}
	if h.env, err = newStrs("Env", cfg.Env); err != nil {
		return nil, err
	}
	h.ptrs = make([]byte, 4*max(len(h.args.offs), len(h.env.offs)))

	b := rt.NewHostModuleBuilder(ModuleName)
	for i := range functions {
		f := &functions[i]
		fb := b.NewFunctionBuilder().WithGoModuleFunction(h.wrap(i), f.params, f.results()).WithParameterNames(f.paramNames...)
		if !f.noResult {
			fb = fb.WithResultNames("errno")
		}
		fb.Export(f.name)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return nil, fmt.Errorf("wasi: instantiate %s: %w", ModuleName, err)
	}
	return h, nil
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Functions returns the names of the functions the host module exports, sorted: all of WASI
// preview1, 46 with sock_accept (added to wasi_snapshot_preview1 after the original 45).
func Functions() []string {
	names := make([]string, len(functions))
	for i, f := range functions {
		names[i] = f.name
	}
	slices.Sort(names)
	return names
}

// Begin starts an invocation: stdin yields input and then end-of-file, the output and log
// buffers are empty. The Host keeps input (no copy) until End; the caller must not change it
// meanwhile.
func (h *Host) Begin(input []byte) {
	h.in, h.inPos, h.eofReads = input, 0, 0
	h.resetBuffers()
}

// End ends an invocation: stdin is emptied and the output and log buffers are zeroed, so
// nothing of this invocation reaches the next one through the host, and its budget
// ([Host.Budget]) is lifted. The buffers' memory is kept for the next invocation. It does not
// touch the descriptor table (see [Host.Restore]) or the host-call account
// ([Host.TakeCalls]).
func (h *Host) End() {
	h.in, h.inPos = nil, 0
	h.resetBuffers()
	h.Budget(0, 0)
}

func (h *Host) resetBuffers() {
	clear(h.out)
	clear(h.log)
	h.out, h.log = h.out[:0], h.log[:0]
	h.outOverflow, h.logTruncated = false, false
}

// Output returns what the guest wrote to stdout in this invocation. The slice is the Host's
// buffer: valid until End or Begin, which zero it.
func (h *Host) Output() []byte { return h.out }

// Log returns what was kept of the guest's stderr in this invocation (at most
// Config.MaxLogBytes), valid until End or Begin.
func (h *Host) Log() []byte { return h.log }

// ReadsAtEOF returns how many reads of stdin in this invocation (since Begin) returned
// end-of-file (0 bytes). A function that reads its input once reads end-of-file once or
// twice; one that keeps reading after it (a loop waiting for more input, or for a negative
// result) reads it again and again.
func (h *Host) ReadsAtEOF() uint64 { return h.eofReads }

// OutputOverflow reports whether the guest tried to write more than Config.MaxOutputBytes to
// stdout in this invocation.
func (h *Host) OutputOverflow() bool { return h.outOverflow }

// LogTruncated reports whether stderr output was dropped in this invocation because it passed
// Config.MaxLogBytes.
func (h *Host) LogTruncated() bool { return h.logTruncated }

// Snapshot returns the host-side state a rewind must restore (the descriptor table).
func (h *Host) Snapshot() State { return h.fds }

// Restore puts back a State from Snapshot: descriptors the guest closed, moved or changed
// since are as they were. Restore(State{}) returns to the state after Instantiate.
func (h *Host) Restore(s State) { h.fds = s }

// RandomBytes returns how many bytes random_get has returned in total, for every module of
// the runtime. A runtime can compare it across a function's init to tell whether state was
// seeded from randomness (which a snapshot would then freeze for every invocation).
func (h *Host) RandomBytes() uint64 { return h.randomBytes }
