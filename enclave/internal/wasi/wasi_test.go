package wasi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// ---- harness -------------------------------------------------------------------------------

var (
	cacheOnce sync.Once
	cache     wazero.CompilationCache
)

// newRuntime returns a wazero runtime sharing one compilation cache across the tests.
func newRuntime(t testing.TB) (context.Context, wazero.Runtime) {
	cacheOnce.Do(func() { cache = wazero.NewCompilationCache() })
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache))
	t.Cleanup(func() { rt.Close(ctx) })
	return ctx, rt
}

type span struct{ off, n uint32 }

// env is a runtime with the host and one guest module; writes records Config.OnWrite.
type env struct {
	t      testing.TB
	ctx    context.Context
	rt     wazero.Runtime
	h      *Host
	mod    api.Module
	writes []span
}

func newEnv(t testing.TB, cfg Config, wasm []byte) *env {
	t.Helper()
	ctx, rt := newRuntime(t)
	e := &env{t: t, ctx: ctx, rt: rt}
	if cfg.OnWrite == nil {
		cfg.OnWrite = func(off, n uint32) { e.writes = append(e.writes, span{off, n}) }
	}
	h, err := Instantiate(ctx, rt, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	e.mod, err = rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName("guest").WithStartFunctions())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var probeWasm = sync.OnceValue(func() []byte { return probeModule(Functions(), 1) })

// newProbe returns an env whose guest exports call_<name> for every WASI function and one
// page (64 KiB) of memory.
func newProbe(t testing.TB, cfg Config) *env { return newEnv(t, cfg, probeWasm()) }

const memSize = 65536

// call calls call_<name> and returns the errno.
func (e *env) call(name string, args ...uint64) errno {
	e.t.Helper()
	f := e.mod.ExportedFunction("call_" + name)
	if f == nil {
		e.t.Fatalf("no export call_%s", name)
	}
	res, err := f.Call(e.ctx, args...)
	if err != nil {
		e.t.Fatalf("%s%v: %v", name, args, err)
	}
	return errno(res[0])
}

func (e *env) poke(off uint32, data []byte) {
	e.t.Helper()
	if !e.mod.Memory().Write(off, data) {
		e.t.Fatalf("poke %d+%d out of range", off, len(data))
	}
}

func (e *env) peek(off, n uint32) []byte {
	e.t.Helper()
	b, ok := e.mod.Memory().Read(off, n)
	if !ok {
		e.t.Fatalf("peek %d+%d out of range", off, n)
	}
	return bytes.Clone(b)
}

func (e *env) u32(off uint32) uint32 { return le.Uint32(e.peek(off, 4)) }
func (e *env) u64(off uint32) uint64 { return le.Uint64(e.peek(off, 8)) }

// iovecs writes an iovec array at off: pairs of buf, len.
func (e *env) iovecs(off uint32, pairs ...uint32) {
	b := make([]byte, 4*len(pairs))
	for i, v := range pairs {
		le.PutUint32(b[4*i:], v)
	}
	e.poke(off, b)
}

func (e *env) takeWrites() []span {
	w := e.writes
	e.writes = nil
	return w
}

func wantErrno(t testing.TB, what string, got, want errno) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func wantWrites(t testing.TB, what string, got []span, want ...span) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: OnWrite calls %v, want %v", what, got, want)
	}
}

// Addresses in the probe's memory used by the tests.
const (
	resPtr  = 512  // results (counts, offsets, structs)
	res2Ptr = 768  // a second result
	iovPtr  = 1024 // iovec arrays
	bufPtr  = 2048 // data buffers
	subPtr  = 8192 // poll_oneoff subscriptions
	evPtr   = 12288
	oob     = memSize - 2 // straddles the end of memory
	wrap    = math.MaxUint32 - 3
)

// ---- the function list ---------------------------------------------------------------------

func TestFunctions(t *testing.T) {
	names := Functions()
	want := make([]string, 0, len(witxSignatures))
	for n := range witxSignatures {
		want = append(want, n)
	}
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Fatalf("Functions() = %v\nwant %v", names, want)
	}
	if len(names) != 46 { // the original 45 and sock_accept
		t.Errorf("%d functions, want 46", len(names))
	}

	// The host module exports exactly these, with the witx signatures.
	ctx, rt := newRuntime(t)
	if _, err := Instantiate(ctx, rt, Config{}); err != nil {
		t.Fatal(err)
	}
	defs := rt.Module(ModuleName).ExportedFunctionDefinitions()
	if len(defs) != len(want) {
		t.Errorf("host module exports %d functions, want %d", len(defs), len(want))
	}
	for _, name := range want {
		d, ok := defs[name]
		if !ok {
			t.Errorf("%s not exported", name)
			continue
		}
		params, results := witxSig(name)
		if !slices.Equal(d.ParamTypes(), params) || !slices.Equal(d.ResultTypes(), results) {
			t.Errorf("%s: %v -> %v, want %v -> %v", name, d.ParamTypes(), d.ResultTypes(), params, results)
		}
	}

	// Functions returns a copy.
	names[0] = "x"
	if Functions()[0] == "x" {
		t.Error("Functions() shares its slice")
	}
}

func TestInstantiateErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"negative output cap", Config{MaxOutputBytes: -1}},
		{"negative log cap", Config{MaxLogBytes: -1}},
		{"NUL in arg", Config{Args: []string{"a\x00b"}}},
		{"NUL in env", Config{Env: []string{"A=\x00"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, rt := newRuntime(t)
			if _, err := Instantiate(ctx, rt, tc.cfg); err == nil {
				t.Error("no error")
			}
		})
	}
	ctx, rt := newRuntime(t)
	if _, err := Instantiate(ctx, rt, Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Instantiate(ctx, rt, Config{}); err == nil {
		t.Error("second Instantiate in one runtime: no error")
	}
}

// ---- errnos of every function --------------------------------------------------------------

// TestBadDescriptors calls every function that takes a descriptor with descriptors that do not
// exist (3, -1) and with a closed one; all answer EBADF and write nothing.
func TestBadDescriptors(t *testing.T) {
	e := newProbe(t, Config{})
	e.iovecs(iovPtr, bufPtr, 16)
	// Arguments per function, with the descriptor as FD.
	const FD = math.MaxUint64
	calls := map[string][]uint64{
		"fd_advise":               {FD, 0, 0, 0},
		"fd_allocate":             {FD, 0, 1},
		"fd_close":                {FD},
		"fd_datasync":             {FD},
		"fd_fdstat_get":           {FD, resPtr},
		"fd_fdstat_set_flags":     {FD, 0},
		"fd_fdstat_set_rights":    {FD, 0, 0},
		"fd_filestat_get":         {FD, resPtr},
		"fd_filestat_set_size":    {FD, 0},
		"fd_filestat_set_times":   {FD, 0, 0, 0},
		"fd_pread":                {FD, iovPtr, 1, 0, resPtr},
		"fd_prestat_get":          {FD, resPtr},
		"fd_prestat_dir_name":     {FD, bufPtr, 16},
		"fd_pwrite":               {FD, iovPtr, 1, 0, resPtr},
		"fd_read":                 {FD, iovPtr, 1, resPtr},
		"fd_readdir":              {FD, bufPtr, 16, 0, resPtr},
		"fd_renumber":             {FD, 1},
		"fd_seek":                 {FD, 0, 0, resPtr},
		"fd_sync":                 {FD},
		"fd_tell":                 {FD, resPtr},
		"fd_write":                {FD, iovPtr, 1, resPtr},
		"path_create_directory":   {FD, bufPtr, 1},
		"path_filestat_get":       {FD, 0, bufPtr, 1, resPtr},
		"path_filestat_set_times": {FD, 0, bufPtr, 1, 0, 0, 0},
		"path_link":               {FD, 0, bufPtr, 1, 1, bufPtr, 1},
		"path_open":               {FD, 0, bufPtr, 1, 0, 0, 0, 0, resPtr},
		"path_readlink":           {FD, bufPtr, 1, bufPtr, 16, resPtr},
		"path_remove_directory":   {FD, bufPtr, 1},
		"path_rename":             {FD, bufPtr, 1, 1, bufPtr, 1},
		"path_symlink":            {bufPtr, 1, FD, bufPtr, 1},
		"path_unlink_file":        {FD, bufPtr, 1},
		"sock_accept":             {FD, 0, resPtr},
		"sock_recv":               {FD, iovPtr, 1, 0, resPtr, res2Ptr},
		"sock_send":               {FD, iovPtr, 1, 0, resPtr},
		"sock_shutdown":           {FD, 3},
	}
	// The second descriptor of two-descriptor functions.
	second := map[string]int{"fd_renumber": 1, "path_link": 4, "path_rename": 3}

	// Every function that takes a descriptor is here.
	for _, f := range functions {
		if (strings.HasPrefix(f.name, "fd_") || strings.HasPrefix(f.name, "path_") || strings.HasPrefix(f.name, "sock_")) && calls[f.name] == nil {
			t.Errorf("%s is not tested", f.name)
		}
	}

	e.h.Begin([]byte("input"))
	e.call("fd_close", 2) // a closed descriptor
	for name, args := range calls {
		for _, fd := range []uint64{3, 0xFFFFFFFF /* -1 */, 2 /* closed */} {
			a := slices.Clone(args)
			a[slices.Index(a, FD)] = fd
			wantErrno(t, name+"(fd "+uitoa(fd)+")", e.call(name, a...), errBadf)
			if i, ok := second[name]; ok {
				// A valid first descriptor and a bad second one.
				b := slices.Clone(args)
				b[slices.Index(b, FD)] = 0
				b[i] = fd
				wantErrno(t, name+"(0, bad "+uitoa(fd)+")", e.call(name, b...), errBadf)
			}
		}
	}
	wantWrites(t, "bad descriptors", e.takeWrites())
	if len(e.h.Output()) != 0 || len(e.h.Log()) != 0 {
		t.Error("bad descriptors produced output")
	}
	// fd 0 is still open with all its input.
	e.iovecs(iovPtr, bufPtr, 16)
	wantErrno(t, "fd_read(0)", e.call("fd_read", 0, iovPtr, 1, resPtr), errSuccess)
	if got := string(e.peek(bufPtr, e.u32(resPtr))); got != "input" {
		t.Errorf("read %q after the bad calls, want %q", got, "input")
	}
}

func uitoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}

// TestBadPointers calls every function that writes or reads guest memory with pointers
// that are out of bounds (straddling the end, or wrapping around 2^32): each answers EFAULT,
// writes nothing and changes no state.
func TestBadPointers(t *testing.T) {
	e := newProbe(t, Config{Args: []string{"fn", "arg"}, Env: []string{"A=1"}})
	e.h.Begin([]byte("the input"))
	e.iovecs(iovPtr, bufPtr, 16)   // a good iovec
	e.iovecs(iovPtr+64, oob, 16)   // an iovec whose buffer straddles the end
	e.iovecs(iovPtr+128, wrap, 16) // ... wraps around
	e.iovecs(iovPtr+192, bufPtr, 4, oob-4, 8)
	sub := make([]byte, subscriptionSize) // a 0 ns clock subscription
	sub[8] = eventtypeClock
	e.poke(subPtr, sub)

	for _, tc := range []struct {
		name string
		args []uint64
	}{
		{"args_get", []uint64{oob, bufPtr}},
		{"args_get", []uint64{resPtr, memSize - 4}},
		{"args_get", []uint64{resPtr, wrap}},
		{"args_sizes_get", []uint64{oob, res2Ptr}},
		{"args_sizes_get", []uint64{resPtr, wrap}},
		{"environ_get", []uint64{oob, bufPtr}},
		{"environ_get", []uint64{resPtr, memSize - 2}},
		{"environ_sizes_get", []uint64{wrap, res2Ptr}},
		{"environ_sizes_get", []uint64{resPtr, oob}},
		{"clock_res_get", []uint64{1, oob}},
		{"clock_time_get", []uint64{0, 0, oob}},
		{"clock_time_get", []uint64{1, 0, wrap}},
		{"fd_fdstat_get", []uint64{1, memSize - 20}},
		{"fd_fdstat_get", []uint64{1, wrap}},
		{"fd_filestat_get", []uint64{0, memSize - 60}},
		{"fd_filestat_get", []uint64{0, wrap}},
		{"fd_read", []uint64{0, oob, 1, resPtr}},             // the iovec array
		{"fd_read", []uint64{0, iovPtr, 0x20000001, resPtr}}, // its length overflows 32 bits
		{"fd_read", []uint64{0, iovPtr + 64, 1, resPtr}},     // a buffer
		{"fd_read", []uint64{0, iovPtr + 128, 1, resPtr}},
		{"fd_read", []uint64{0, iovPtr + 192, 2, resPtr}}, // the second buffer only
		{"fd_read", []uint64{0, iovPtr, 1, oob}},          // nread
		{"fd_write", []uint64{1, wrap, 1, resPtr}},
		{"fd_write", []uint64{1, iovPtr + 64, 1, resPtr}},
		{"fd_write", []uint64{2, iovPtr + 128, 1, resPtr}},
		{"fd_write", []uint64{1, iovPtr + 192, 2, resPtr}},
		{"fd_write", []uint64{1, iovPtr, 1, wrap}},
		{"poll_oneoff", []uint64{oob, evPtr, 1, resPtr}},
		{"poll_oneoff", []uint64{subPtr, memSize - 31, 1, resPtr}},
		{"poll_oneoff", []uint64{subPtr, evPtr, 1, oob}},
		{"poll_oneoff", []uint64{subPtr, evPtr, 0x10000000, resPtr}},
		{"random_get", []uint64{oob, 16}},
		{"random_get", []uint64{wrap, 16}},
		{"random_get", []uint64{0, memSize + 1}},
	} {
		wantErrno(t, tc.name+itoaList(tc.args), e.call(tc.name, tc.args...), errFault)
	}
	wantWrites(t, "bad pointers", e.takeWrites())
	if len(e.h.Output()) != 0 || len(e.h.Log()) != 0 || e.h.RandomBytes() != 0 {
		t.Error("bad pointers changed state")
	}
	// Nothing of the input was consumed.
	wantErrno(t, "fd_read", e.call("fd_read", 0, iovPtr, 1, resPtr), errSuccess)
	if got := string(e.peek(bufPtr, e.u32(resPtr))); got != "the input" {
		t.Errorf("read %q, want the whole input", got)
	}
}

func itoaList(v []uint64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = uitoa(x)
	}
	return "(" + strings.Join(s, ",") + ")"
}

// TestStreamErrnos pins the answer of every function on the open standard streams.
func TestStreamErrnos(t *testing.T) {
	e := newProbe(t, Config{})
	e.h.Begin(nil)
	e.iovecs(iovPtr, bufPtr, 4)
	const fdflagsNonblock = 4
	for _, tc := range []struct {
		name string
		args []uint64
		want errno
	}{
		{"fd_advise", []uint64{0, 0, 100, 1}, errSpipe},
		{"fd_advise", []uint64{1, 0, 100, 6}, errInval},
		{"fd_allocate", []uint64{1, 0, 100}, errSpipe},
		{"fd_datasync", []uint64{1}, errSuccess},
		{"fd_sync", []uint64{2}, errSuccess},
		{"fd_sync", []uint64{0}, errSuccess},
		{"fd_fdstat_set_flags", []uint64{1, fdflagsNonblock}, errSuccess},
		{"fd_fdstat_set_flags", []uint64{1, 1 << 5}, errInval},
		{"fd_fdstat_set_rights", []uint64{1, rightFdSeek, 0}, errNotcapable}, // not a subset
		{"fd_fdstat_set_rights", []uint64{1, 0, rightFdRead}, errNotcapable},
		{"fd_filestat_set_size", []uint64{1, 0}, errInval},
		{"fd_filestat_set_times", []uint64{1, 0, 0, fstflagsAtimNow}, errNotcapable},
		{"fd_filestat_set_times", []uint64{1, 0, 0, fstflagsAtim | fstflagsAtimNow}, errInval},
		{"fd_filestat_set_times", []uint64{1, 0, 0, fstflagsMtim | fstflagsMtimNow}, errInval},
		{"fd_filestat_set_times", []uint64{1, 0, 0, 1 << 4}, errInval},
		{"fd_pread", []uint64{0, iovPtr, 1, 0, resPtr}, errSpipe},
		{"fd_pread", []uint64{1, iovPtr, 1, 0, resPtr}, errBadf},
		{"fd_pwrite", []uint64{1, iovPtr, 1, 0, resPtr}, errSpipe},
		{"fd_pwrite", []uint64{0, iovPtr, 1, 0, resPtr}, errBadf},
		{"fd_prestat_get", []uint64{0, resPtr}, errBadf},
		{"fd_prestat_get", []uint64{3, resPtr}, errBadf},
		{"fd_prestat_dir_name", []uint64{1, bufPtr, 4}, errBadf},
		{"fd_read", []uint64{1, iovPtr, 1, resPtr}, errBadf},
		{"fd_read", []uint64{2, iovPtr, 1, resPtr}, errBadf},
		{"fd_write", []uint64{0, iovPtr, 1, resPtr}, errBadf},
		{"fd_readdir", []uint64{0, bufPtr, 64, 0, resPtr}, errNotdir},
		{"fd_renumber", []uint64{1, 1}, errSuccess},
		{"fd_seek", []uint64{0, 0, 0, resPtr}, errSpipe},
		{"fd_seek", []uint64{1, 0, 3, resPtr}, errInval},
		{"fd_tell", []uint64{1, resPtr}, errSpipe},
		{"path_create_directory", []uint64{0, bufPtr, 1}, errNotcapable},
		{"path_filestat_get", []uint64{1, 0, bufPtr, 1, resPtr}, errNotcapable},
		{"path_filestat_set_times", []uint64{1, 0, bufPtr, 1, 0, 0, 0}, errNotcapable},
		{"path_link", []uint64{0, 0, bufPtr, 1, 1, bufPtr, 1}, errNotcapable},
		{"path_open", []uint64{0, 0, bufPtr, 1, 0, 0, 0, 0, resPtr}, errNotcapable},
		{"path_open", []uint64{3, 0, bufPtr, 1, 0, 0, 0, 0, resPtr}, errBadf},
		{"path_readlink", []uint64{2, bufPtr, 1, bufPtr, 16, resPtr}, errNotcapable},
		{"path_remove_directory", []uint64{0, bufPtr, 1}, errNotcapable},
		{"path_rename", []uint64{0, bufPtr, 1, 2, bufPtr, 1}, errNotcapable},
		{"path_symlink", []uint64{bufPtr, 1, 1, bufPtr, 1}, errNotcapable},
		{"path_unlink_file", []uint64{0, bufPtr, 1}, errNotcapable},
		{"poll_oneoff", []uint64{subPtr, evPtr, 0, resPtr}, errInval},
		{"proc_raise", []uint64{9}, errNosys},
		{"sched_yield", nil, errSuccess},
		{"sock_accept", []uint64{0, 0, resPtr}, errNotsock},
		{"sock_recv", []uint64{0, iovPtr, 1, 0, resPtr, res2Ptr}, errNotsock},
		{"sock_send", []uint64{1, iovPtr, 1, 0, resPtr}, errNotsock},
		{"sock_shutdown", []uint64{1, 3}, errNotsock},
		{"clock_res_get", []uint64{4, resPtr}, errInval},
		{"clock_time_get", []uint64{4, 0, resPtr}, errInval},
	} {
		wantErrno(t, tc.name+itoaList(tc.args), e.call(tc.name, tc.args...), tc.want)
	}
	wantWrites(t, "errno-only calls", e.takeWrites())
}

// ---- stdio ---------------------------------------------------------------------------------

func TestFdRead(t *testing.T) {
	e := newProbe(t, Config{})
	const input = "hello, wasi world" // 17 bytes
	e.h.Begin([]byte(input))
	// Four iovecs, one empty: 3 + 0 + 5 + 4 bytes per read.
	e.iovecs(iovPtr, bufPtr, 3, 0 /* anywhere */, 0, bufPtr+100, 5, bufPtr+200, 4)
	reads := []struct {
		chunks []string
		writes []span
	}{
		{[]string{"hel", "lo, w", "asi "}, []span{{bufPtr, 3}, {bufPtr + 100, 5}, {bufPtr + 200, 4}, {resPtr, 4}}},
		{[]string{"wor", "ld"}, []span{{bufPtr, 3}, {bufPtr + 100, 2}, {resPtr, 4}}},
		{nil, []span{{resPtr, 4}}}, // end of input
		{nil, []span{{resPtr, 4}}},
	}
	for i, r := range reads {
		wantErrno(t, "fd_read", e.call("fd_read", 0, iovPtr, 4, resPtr), errSuccess)
		want := strings.Join(r.chunks, "")
		if n := e.u32(resPtr); n != uint32(len(want)) {
			t.Fatalf("read %d: nread %d, want %d", i, n, len(want))
		}
		var got string
		for j, buf := range []uint32{bufPtr, bufPtr + 100, bufPtr + 200} {
			if j < len(r.chunks) {
				got += string(e.peek(buf, uint32(len(r.chunks[j]))))
			}
		}
		if got != want {
			t.Errorf("read %d: %q, want %q", i, got, want)
		}
		wantWrites(t, "fd_read", e.takeWrites(), r.writes...)
	}

	// No iovecs at all: nread 0, nothing consumed.
	e.h.Begin([]byte("x"))
	wantErrno(t, "fd_read(no iovecs)", e.call("fd_read", 0, 0, 0, resPtr), errSuccess)
	if e.u32(resPtr) != 0 {
		t.Error("nread != 0 with no iovecs")
	}
	// After End, stdin is empty.
	e.h.End()
	e.iovecs(iovPtr, bufPtr, 8)
	wantErrno(t, "fd_read after End", e.call("fd_read", 0, iovPtr, 1, resPtr), errSuccess)
	if e.u32(resPtr) != 0 {
		t.Error("input left after End")
	}
}

func TestFdWrite(t *testing.T) {
	e := newProbe(t, Config{MaxOutputBytes: 10, MaxLogBytes: 4})
	e.h.Begin(nil)
	e.poke(bufPtr, []byte(`{"a":`))
	e.poke(bufPtr+100, []byte(`1}`))
	e.iovecs(iovPtr, bufPtr, 5, 0, 0, bufPtr+100, 2)

	wantErrno(t, "fd_write", e.call("fd_write", 1, iovPtr, 3, resPtr), errSuccess)
	if n := e.u32(resPtr); n != 7 {
		t.Errorf("nwritten %d, want 7", n)
	}
	if got := string(e.h.Output()); got != `{"a":1}` || e.h.OutputOverflow() {
		t.Errorf("output %q overflow %v", got, e.h.OutputOverflow())
	}
	wantWrites(t, "fd_write", e.takeWrites(), span{resPtr, 4})

	// Past the cap: a short write of what fits, then EFBIG.
	wantErrno(t, "fd_write over the cap", e.call("fd_write", 1, iovPtr, 3, resPtr), errSuccess)
	if n := e.u32(resPtr); n != 3 {
		t.Errorf("short write: nwritten %d, want 3", n)
	}
	if got := string(e.h.Output()); got != `{"a":1}{"a` || !e.h.OutputOverflow() {
		t.Errorf("output %q overflow %v", got, e.h.OutputOverflow())
	}
	wantErrno(t, "fd_write at the cap", e.call("fd_write", 1, iovPtr, 3, resPtr), errFbig)
	wantErrno(t, "empty fd_write at the cap", e.call("fd_write", 1, iovPtr, 0, resPtr), errSuccess)

	// stderr: the excess is dropped silently.
	wantErrno(t, "fd_write(2)", e.call("fd_write", 2, iovPtr, 3, resPtr), errSuccess)
	if n := e.u32(resPtr); n != 7 {
		t.Errorf("stderr nwritten %d, want 7", n)
	}
	if got := string(e.h.Log()); got != `{"a"` || !e.h.LogTruncated() {
		t.Errorf("log %q truncated %v", got, e.h.LogTruncated())
	}
	if got := string(e.h.Output()); got != `{"a":1}{"a` {
		t.Errorf("stderr reached stdout: %q", got)
	}

	// End zeroes the buffers, in place.
	out, log := e.h.Output(), e.h.Log()
	e.h.End()
	if !allZero(out) || !allZero(log) {
		t.Errorf("End left output %q, log %q", out, log)
	}
	if len(e.h.Output()) != 0 || len(e.h.Log()) != 0 || e.h.OutputOverflow() || e.h.LogTruncated() {
		t.Error("End did not reset the buffers and flags")
	}
	// The next invocation writes again from the start.
	e.h.Begin(nil)
	wantErrno(t, "fd_write", e.call("fd_write", 1, iovPtr, 3, resPtr), errSuccess)
	if got := string(e.h.Output()); got != `{"a":1}` {
		t.Errorf("second invocation output %q", got)
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func TestFdstatFilestat(t *testing.T) {
	e := newProbe(t, Config{})
	for fd := uint64(0); fd < 3; fd++ {
		wantErrno(t, "fd_fdstat_get", e.call("fd_fdstat_get", fd, resPtr), errSuccess)
		st := e.peek(resPtr, fdstatSize)
		base := le.Uint64(st[8:])
		if st[0] != filetypeCharacterDevice || le.Uint16(st[2:]) != 0 || le.Uint64(st[16:]) != 0 {
			t.Errorf("fd %d: fdstat %x", fd, st)
		}
		if base&(rightFdSeek|rightFdTell) != 0 {
			t.Errorf("fd %d: rights %#x include seek or tell", fd, base)
		}
		if wantRW := uint64(rightFdWrite); fd == 0 && base&rightFdRead == 0 || fd != 0 && base&wantRW == 0 {
			t.Errorf("fd %d: rights %#x lack read/write", fd, base)
		}
		wantWrites(t, "fd_fdstat_get", e.takeWrites(), span{resPtr, fdstatSize})

		e.poke(res2Ptr, bytes.Repeat([]byte{0xAA}, filestatSize))
		wantErrno(t, "fd_filestat_get", e.call("fd_filestat_get", fd, res2Ptr), errSuccess)
		fs := e.peek(res2Ptr, filestatSize)
		if fs[16] != filetypeCharacterDevice || le.Uint64(fs[24:]) != 1 || le.Uint64(fs[32:]) != 0 {
			t.Errorf("fd %d: filestat %x", fd, fs)
		}
		wantWrites(t, "fd_filestat_get", e.takeWrites(), span{res2Ptr, filestatSize})
	}
}

// ---- state: close, renumber, flags, rights; Snapshot and Restore ---------------------------

func TestSnapshotRestore(t *testing.T) {
	e := newProbe(t, Config{})
	e.h.Begin([]byte("in"))
	e.poke(bufPtr, []byte("out"))
	e.iovecs(iovPtr, bufPtr, 3)
	initial := e.h.Snapshot()
	if initial != (State{}) {
		t.Fatal("the state after Instantiate is not the zero State")
	}

	// fd_close(1): writes fail until Restore.
	wantErrno(t, "fd_close(1)", e.call("fd_close", 1), errSuccess)
	wantErrno(t, "fd_write(1) closed", e.call("fd_write", 1, iovPtr, 1, resPtr), errBadf)
	wantErrno(t, "fd_close(1) again", e.call("fd_close", 1), errBadf)
	wantErrno(t, "fd_fdstat_get(1) closed", e.call("fd_fdstat_get", 1, resPtr), errBadf)
	if e.h.Snapshot() == initial {
		t.Error("Snapshot did not change after fd_close")
	}
	e.h.Restore(initial)
	wantErrno(t, "fd_write(1) restored", e.call("fd_write", 1, iovPtr, 1, resPtr), errSuccess)
	if string(e.h.Output()) != "out" {
		t.Errorf("output %q", e.h.Output())
	}

	// fd_renumber(2, 1): fd 1 now writes the log; fd 2 is closed.
	wantErrno(t, "fd_renumber(2, 1)", e.call("fd_renumber", 2, 1), errSuccess)
	wantErrno(t, "fd_write(2)", e.call("fd_write", 2, iovPtr, 1, resPtr), errBadf)
	wantErrno(t, "fd_write(1)", e.call("fd_write", 1, iovPtr, 1, resPtr), errSuccess)
	if string(e.h.Log()) != "out" || string(e.h.Output()) != "out" {
		t.Errorf("after renumber: output %q log %q", e.h.Output(), e.h.Log())
	}
	wantErrno(t, "fd_renumber(1, 2) to a closed fd", e.call("fd_renumber", 1, 2), errBadf)
	// fd_renumber(0, 1): reads on 1, writes on 1 fail.
	wantErrno(t, "fd_renumber(0, 1)", e.call("fd_renumber", 0, 1), errSuccess)
	wantErrno(t, "fd_write(1) now stdin", e.call("fd_write", 1, iovPtr, 1, resPtr), errBadf)
	wantErrno(t, "fd_read(1) now stdin", e.call("fd_read", 1, iovPtr, 1, resPtr), errSuccess)
	if string(e.peek(bufPtr, e.u32(resPtr))) != "in" {
		t.Error("fd 1 did not read stdin")
	}
	e.h.Restore(initial)

	// Flags are recorded, reported and restored.
	wantErrno(t, "set_flags", e.call("fd_fdstat_set_flags", 0, 4|1), errSuccess)
	e.call("fd_fdstat_get", 0, resPtr)
	if f := le.Uint16(e.peek(resPtr+2, 2)); f != 5 {
		t.Errorf("flags %d, want 5", f)
	}
	flagged := e.h.Snapshot()
	e.h.Restore(initial)
	e.call("fd_fdstat_get", 0, resPtr)
	if f := le.Uint16(e.peek(resPtr+2, 2)); f != 0 {
		t.Errorf("flags %d after Restore, want 0", f)
	}
	e.h.Restore(flagged)
	e.call("fd_fdstat_get", 0, resPtr)
	if f := le.Uint16(e.peek(resPtr+2, 2)); f != 5 {
		t.Errorf("flags %d after Restore(flagged), want 5", f)
	}
	e.h.Restore(initial)

	// Rights can be dropped, not regained; fdstat shows them; operations need them.
	e.call("fd_fdstat_get", 1, resPtr)
	rights := e.u64(resPtr + 8)
	wantErrno(t, "drop fd_write", e.call("fd_fdstat_set_rights", 1, rights&^rightFdWrite, 0), errSuccess)
	wantErrno(t, "fd_write without the right", e.call("fd_write", 1, iovPtr, 1, resPtr), errNotcapable)
	wantErrno(t, "regain fd_write", e.call("fd_fdstat_set_rights", 1, rights, 0), errNotcapable)
	e.call("fd_fdstat_get", 1, resPtr)
	if got := e.u64(resPtr + 8); got != rights&^rightFdWrite {
		t.Errorf("rights %#x, want %#x", got, rights&^rightFdWrite)
	}
	wantErrno(t, "drop everything", e.call("fd_fdstat_set_rights", 1, 0, 0), errSuccess)
	wantErrno(t, "fd_sync without the right", e.call("fd_sync", 1), errNotcapable)
	wantErrno(t, "set_flags without the right", e.call("fd_fdstat_set_flags", 1, 0), errNotcapable)
	wantErrno(t, "filestat without the right", e.call("fd_filestat_get", 1, resPtr), errNotcapable)
	e.h.Restore(initial)
	wantErrno(t, "fd_write restored", e.call("fd_write", 1, iovPtr, 1, resPtr), errSuccess)
	if e.h.Snapshot() != initial {
		t.Error("state differs from the initial one after Restore")
	}
}

// ---- proc_exit -----------------------------------------------------------------------------

func TestProcExit(t *testing.T) {
	e := newProbe(t, Config{Args: []string{"x"}})
	for _, code := range []uint32{7, 0, math.MaxUint32} {
		_, err := e.mod.ExportedFunction("call_proc_exit").Call(e.ctx, uint64(code))
		var exit *ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("proc_exit(%d): error %v, want an *ExitError", code, err)
		}
		if exit.Code != code {
			t.Errorf("exit code %d, want %d", exit.Code, code)
		}
		if e.mod.IsClosed() {
			t.Fatal("proc_exit closed the module")
		}
		// The module is still usable.
		wantErrno(t, "args_sizes_get after proc_exit", e.call("args_sizes_get", resPtr, res2Ptr), errSuccess)
		if e.u32(resPtr) != 1 {
			t.Error("args_sizes_get after proc_exit returned garbage")
		}
	}
}

// ---- random_get ----------------------------------------------------------------------------

func TestRandomGet(t *testing.T) {
	e := newProbe(t, Config{})
	wantErrno(t, "random_get", e.call("random_get", bufPtr, 32), errSuccess)
	a := e.peek(bufPtr, 32)
	wantErrno(t, "random_get", e.call("random_get", bufPtr, 32), errSuccess)
	b := e.peek(bufPtr, 32)
	if bytes.Equal(a, b) || allZero(a) || allZero(b) {
		t.Errorf("random_get repeated itself: %x, %x", a, b)
	}
	wantWrites(t, "random_get", e.takeWrites(), span{bufPtr, 32}, span{bufPtr, 32})
	if e.h.RandomBytes() != 64 {
		t.Errorf("RandomBytes() = %d, want 64", e.h.RandomBytes())
	}

	// A large request is written in chunks that cover it exactly.
	wantErrno(t, "random_get(2000)", e.call("random_get", bufPtr, 2000), errSuccess)
	next := uint32(bufPtr)
	for _, w := range e.takeWrites() {
		if w.off != next {
			t.Fatalf("random_get chunks not contiguous: %v", w)
		}
		next += w.n
	}
	if next != bufPtr+2000 || e.h.RandomBytes() != 2064 {
		t.Errorf("random_get(2000) covered up to %d, RandomBytes %d", next, e.h.RandomBytes())
	}
	if wantErrno(t, "random_get(0)", e.call("random_get", memSize+5, 0), errSuccess); len(e.writes) != 0 {
		t.Error("random_get(0) wrote")
	}

	// A failing source: EIO.
	f := newProbe(t, Config{Rand: iotest.ErrReader(errors.New("broken"))})
	wantErrno(t, "random_get from a broken source", f.call("random_get", bufPtr, 16), errIO)
	if f.h.RandomBytes() != 0 || len(f.writes) != 0 {
		t.Error("a failed random_get counted or wrote")
	}
}

// TestDeterministic: with Config.Deterministic, random_get replays the same stream after a
// Restore (as a fresh host would give it), two hosts with the same seed agree, and clocks
// read the fixed time.
func TestDeterministic(t *testing.T) {
	det := &Deterministic{Seed: 7, Time: 123456789}
	a, b := newProbe(t, Config{Deterministic: det}), newProbe(t, Config{Deterministic: det})
	snap := a.h.Snapshot()
	wantErrno(t, "random_get", a.call("random_get", bufPtr, 700), errSuccess)
	first := a.peek(bufPtr, 700)
	if allZero(first) {
		t.Fatal("deterministic random_get wrote zeros")
	}
	wantErrno(t, "random_get", a.call("random_get", bufPtr, 16), errSuccess)
	if bytes.Equal(a.peek(bufPtr, 16), first[:16]) {
		t.Error("the stream repeated itself without a Restore")
	}
	a.h.Restore(snap)
	wantErrno(t, "random_get after Restore", a.call("random_get", bufPtr, 700), errSuccess)
	if !bytes.Equal(a.peek(bufPtr, 700), first) {
		t.Error("after Restore the stream differs from the first draw")
	}
	wantErrno(t, "random_get", b.call("random_get", bufPtr, 300), errSuccess) // in two draws
	wantErrno(t, "random_get", b.call("random_get", bufPtr+300, 400), errSuccess)
	if !bytes.Equal(b.peek(bufPtr, 700), first) {
		t.Error("two hosts with the same seed disagree")
	}
	for _, id := range []uint64{clockRealtime, clockMonotonic, clockProcessCputimeID, clockThreadCputimeID} {
		wantErrno(t, "clock_time_get", a.call("clock_time_get", id, 1, resPtr), errSuccess)
		if got := a.u64(resPtr); got != det.Time {
			t.Errorf("clock %d reads %d, want %d", id, got, det.Time)
		}
	}
}

// ---- clocks --------------------------------------------------------------------------------

func TestClocks(t *testing.T) {
	e := newProbe(t, Config{})
	before := time.Now().UnixNano()
	wantErrno(t, "clock_time_get(realtime)", e.call("clock_time_get", clockRealtime, 1, resPtr), errSuccess)
	after := time.Now().UnixNano()
	if rt := int64(e.u64(resPtr)); rt < before || rt > after {
		t.Errorf("realtime %d not in [%d, %d]", rt, before, after)
	}
	wantWrites(t, "clock_time_get", e.takeWrites(), span{resPtr, 8})

	var last uint64
	for _, id := range []uint64{clockMonotonic, clockProcessCputimeID, clockThreadCputimeID, clockMonotonic} {
		wantErrno(t, "clock_time_get", e.call("clock_time_get", id, 0, resPtr), errSuccess)
		v := e.u64(resPtr)
		if v == 0 || v < last {
			t.Errorf("clock %d: %d after %d", id, v, last)
		}
		last = v
		wantErrno(t, "clock_res_get", e.call("clock_res_get", id, res2Ptr), errSuccess)
		if e.u64(res2Ptr) != 1 {
			t.Errorf("resolution %d", e.u64(res2Ptr))
		}
		wantWrites(t, "clock_*_get", e.takeWrites(), span{resPtr, 8}, span{res2Ptr, 8})
	}
}

// ---- args, environ -------------------------------------------------------------------------

func TestArgsEnviron(t *testing.T) {
	e := newProbe(t, Config{Args: []string{"fn", "x=1"}, Env: []string{"A=b", "", "LONG=" + strings.Repeat("v", 100)}})
	wantErrno(t, "args_sizes_get", e.call("args_sizes_get", resPtr, res2Ptr), errSuccess)
	if e.u32(resPtr) != 2 || e.u32(res2Ptr) != 7 {
		t.Errorf("args sizes %d, %d; want 2, 7", e.u32(resPtr), e.u32(res2Ptr))
	}
	wantWrites(t, "args_sizes_get", e.takeWrites(), span{resPtr, 4}, span{res2Ptr, 4})

	wantErrno(t, "args_get", e.call("args_get", resPtr, bufPtr), errSuccess)
	if p0, p1 := e.u32(resPtr), e.u32(resPtr+4); p0 != bufPtr || p1 != bufPtr+3 {
		t.Errorf("argv %d, %d", p0, p1)
	}
	if got := string(e.peek(bufPtr, 7)); got != "fn\x00x=1\x00" {
		t.Errorf("argv_buf %q", got)
	}
	wantWrites(t, "args_get", e.takeWrites(), span{resPtr, 8}, span{bufPtr, 7})

	wantErrno(t, "environ_sizes_get", e.call("environ_sizes_get", resPtr, res2Ptr), errSuccess)
	if e.u32(resPtr) != 3 || e.u32(res2Ptr) != 4+1+106 {
		t.Errorf("environ sizes %d, %d", e.u32(resPtr), e.u32(res2Ptr))
	}
	wantErrno(t, "environ_get", e.call("environ_get", resPtr, bufPtr), errSuccess)
	if got := string(e.peek(e.u32(resPtr+8), 6)); got != "LONG=v" {
		t.Errorf("environ[2] %q", got)
	}

	// No arguments (the default): sizes 0, nothing written by args_get even at a bad pointer.
	f := newProbe(t, Config{})
	wantErrno(t, "args_sizes_get", f.call("args_sizes_get", resPtr, res2Ptr), errSuccess)
	if f.u32(resPtr) != 0 || f.u32(res2Ptr) != 0 {
		t.Error("default args not empty")
	}
	f.takeWrites()
	wantErrno(t, "args_get with no args", f.call("args_get", wrap, wrap), errSuccess)
	wantWrites(t, "args_get with no args", f.takeWrites())
}

// ---- poll_oneoff ---------------------------------------------------------------------------

func subscription(userdata uint64, tag byte, a uint32, timeout uint64, flags uint16) []byte {
	s := make([]byte, subscriptionSize)
	le.PutUint64(s[0:], userdata)
	s[8] = tag
	le.PutUint32(s[16:], a) // clock id or fd
	le.PutUint64(s[24:], timeout)
	le.PutUint16(s[40:], flags)
	return s
}

type event struct {
	userdata uint64
	err      errno
	typ      byte
	nbytes   uint64
	flags    uint16
}

func (e *env) events(n uint32) []event {
	var evs []event
	for i := range n {
		b := e.peek(evPtr+i*eventSize, eventSize)
		evs = append(evs, event{le.Uint64(b), errno(le.Uint16(b[8:])), b[10], le.Uint64(b[16:]), le.Uint16(b[24:])})
	}
	return evs
}

func TestPollOneoff(t *testing.T) {
	e := newProbe(t, Config{MaxOutputBytes: 100})
	e.h.Begin([]byte("12345"))

	// One 1 ms clock: sleeps, one event.
	e.poke(subPtr, subscription(0xDEADBEEF01020304, eventtypeClock, clockMonotonic, 1e6, 0))
	start := time.Now()
	wantErrno(t, "poll_oneoff(1 ms)", e.call("poll_oneoff", subPtr, evPtr, 1, resPtr), errSuccess)
	if d := time.Since(start); d < time.Millisecond {
		t.Errorf("poll_oneoff(1 ms) returned after %v", d)
	}
	if n := e.u32(resPtr); n != 1 {
		t.Fatalf("nevents %d, want 1", n)
	}
	if got := e.events(1)[0]; got != (event{userdata: 0xDEADBEEF01020304, typ: eventtypeClock}) {
		t.Errorf("event %+v", got)
	}
	wantWrites(t, "poll_oneoff", e.takeWrites(), span{evPtr, eventSize}, span{resPtr, 4})

	// Ready descriptors end the poll at once; the clock (an hour) is not reported.
	var subs []byte
	subs = append(subs, subscription(1, eventtypeClock, clockMonotonic, uint64(time.Hour), 0)...)
	subs = append(subs, subscription(2, eventtypeFdRead, 0, 0, 0)...)
	subs = append(subs, subscription(3, eventtypeFdWrite, 1, 0, 0)...)
	subs = append(subs, subscription(4, eventtypeFdWrite, 0, 0, 0)...) // stdin is not writable
	subs = append(subs, subscription(5, eventtypeFdRead, 7, 0, 0)...)  // no such fd
	subs = append(subs, subscription(6, 9, 0, 0, 0)...)                // no such event type
	subs = append(subs, subscription(7, eventtypeClock, 99, 0, 0)...)  // no such clock
	e.poke(subPtr, subs)
	start = time.Now()
	wantErrno(t, "poll_oneoff(fds)", e.call("poll_oneoff", subPtr, evPtr, 7, resPtr), errSuccess)
	if d := time.Since(start); d > time.Second {
		t.Errorf("poll_oneoff with ready fds took %v", d)
	}
	want := []event{
		{userdata: 2, typ: eventtypeFdRead, nbytes: 5},
		{userdata: 3, typ: eventtypeFdWrite, nbytes: 100},
		{userdata: 4, typ: eventtypeFdWrite, err: errBadf},
		{userdata: 5, typ: eventtypeFdRead, err: errBadf},
		{userdata: 6, typ: 9, err: errInval},
		{userdata: 7, typ: eventtypeClock, err: errInval},
	}
	if n := e.u32(resPtr); n != uint32(len(want)) {
		t.Fatalf("nevents %d, want %d", n, len(want))
	}
	if got := e.events(uint32(len(want))); !slices.Equal(got, want) {
		t.Errorf("events\n%+v\nwant\n%+v", got, want)
	}
	wantWrites(t, "poll_oneoff(fds)", e.takeWrites(),
		span{evPtr, 32}, span{evPtr + 32, 32}, span{evPtr + 64, 32}, span{evPtr + 96, 32}, span{evPtr + 128, 32}, span{evPtr + 160, 32}, span{resPtr, 4})

	// At end of input, fd_read reports hangup.
	e.h.Begin(nil)
	e.poke(subPtr, subscription(8, eventtypeFdRead, 0, 0, 0))
	e.call("poll_oneoff", subPtr, evPtr, 1, resPtr)
	if got := e.events(1)[0]; got != (event{userdata: 8, typ: eventtypeFdRead, flags: eventrwflagsFdHangup}) {
		t.Errorf("event at EOF %+v", got)
	}

	// Absolute clocks in the past are due at once; the earliest of two relative clocks is
	// the one reported.
	subs = subs[:0]
	subs = append(subs, subscription(10, eventtypeClock, clockRealtime, uint64(time.Now().UnixNano())-1, subclockflagsAbstime)...)
	subs = append(subs, subscription(11, eventtypeClock, clockMonotonic, 1, subclockflagsAbstime)...)
	e.poke(subPtr, subs)
	wantErrno(t, "poll_oneoff(abstime)", e.call("poll_oneoff", subPtr, evPtr, 2, resPtr), errSuccess)
	if n := e.u32(resPtr); n != 2 {
		t.Errorf("nevents %d, want 2", n)
	}
	subs = subs[:0]
	subs = append(subs, subscription(12, eventtypeClock, clockMonotonic, uint64(time.Hour), 0)...)
	subs = append(subs, subscription(13, eventtypeClock, clockRealtime, uint64(2*time.Millisecond), 0)...)
	e.poke(subPtr, subs)
	wantErrno(t, "poll_oneoff(two clocks)", e.call("poll_oneoff", subPtr, evPtr, 2, resPtr), errSuccess)
	if n, ev := e.u32(resPtr), e.events(1)[0]; n != 1 || ev.userdata != 13 {
		t.Errorf("nevents %d, first %+v; want the 2 ms clock alone", n, ev)
	}
}

func TestPollOneoffCancel(t *testing.T) {
	e := newProbe(t, Config{})
	e.poke(subPtr, subscription(1, eventtypeClock, clockMonotonic, uint64(time.Hour), 0))
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.mod.ExportedFunction("call_poll_oneoff").Call(ctx, subPtr, evPtr, 1, resPtr)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want one wrapping context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled poll_oneoff took %v", d)
	}
	if e.mod.IsClosed() {
		t.Error("module closed")
	}
	wantErrno(t, "sched_yield after", e.call("sched_yield"), errSuccess)
}

// ---- real modules --------------------------------------------------------------------------

func readWorkload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "workloads", name, name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newReactor instantiates a workload with the host, checks that it imports only functions
// the host provides and runs _initialize.
func newReactor(t testing.TB, name string, cfg Config) *env {
	t.Helper()
	wasm := readWorkload(t, name)
	e := newEnv(t, cfg, wasm)
	compiled, err := e.rt.CompileModule(e.ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	provided := Functions()
	for _, imp := range compiled.ImportedFunctions() {
		mod, fn, _ := imp.Import()
		if _, found := slices.BinarySearch(provided, fn); mod != ModuleName || !found {
			t.Errorf("%s imports %s.%s, which the host lacks", name, mod, fn)
		}
	}
	if _, err := e.mod.ExportedFunction("_initialize").Call(e.ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// handle runs one invocation of reclave_handle.
func (e *env) handle(input string) (status uint32, output string) {
	e.t.Helper()
	e.h.Begin([]byte(input))
	defer e.h.End()
	res, err := e.mod.ExportedFunction("reclave_handle").Call(e.ctx)
	if err != nil {
		e.t.Fatalf("reclave_handle(%s): %v", input, err)
	}
	return uint32(res[0]), string(e.h.Output())
}

func TestCounter(t *testing.T) {
	e := newReactor(t, "counter", Config{})
	for i, tc := range []struct{ input, want string }{
		{`{"user":"alice"}`, `{"count":1,"previous_input":""}`},
		{`{"user":"bob"}`, `{"count":2,"previous_input":"{\"user\":\"alice\"}"}`},
		{``, `{"count":3,"previous_input":"{\"user\":\"bob\"}"}`},
		{strings.Repeat("x", 100000), `{"count":4,"previous_input":""}`},
	} {
		e.writes = nil
		status, out := e.handle(tc.input)
		if status != 0 || out != tc.want {
			t.Errorf("invocation %d: status %d, output %s; want %s", i, status, out, tc.want)
		}
		// The host's writes: the input (in read-sized pieces) and the counts.
		var data uint32
		for _, w := range e.writes {
			if w.n != 4 {
				data += w.n
			}
		}
		if data != uint32(len(tc.input)) {
			t.Errorf("invocation %d: OnWrite reported %d bytes of data, input has %d", i, data, len(tc.input))
		}
	}
	// The output cap.
	f := newReactor(t, "counter", Config{MaxOutputBytes: 10})
	f.h.Begin([]byte(`{}`))
	if _, err := f.mod.ExportedFunction("reclave_handle").Call(f.ctx); err != nil {
		t.Fatal(err)
	}
	if got := string(f.h.Output()); got != `{"count":1` || !f.h.OutputOverflow() {
		t.Errorf("capped output %q, overflow %v", got, f.h.OutputOverflow())
	}
	f.h.End()
}

func TestJSONStats(t *testing.T) {
	e := newReactor(t, "json-stats", Config{})
	status, out := e.handle(`{"values":[1,2,3,4]}`)
	var got map[string]float64
	if err := json.Unmarshal([]byte(out), &got); status != 0 || err != nil {
		t.Fatalf("status %d, output %q (%v)", status, out, err)
	}
	want := map[string]float64{"count": 4, "sum": 10, "mean": 2.5, "min": 1, "max": 4, "median": 2.5, "stddev": math.Sqrt(1.25)}
	for k, v := range want {
		if math.Abs(got[k]-v) > 1e-12 {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if status, out := e.handle(`{"values":[1,`); status != 1 || !strings.Contains(out, `"error"`) {
		t.Errorf("malformed input: status %d, output %s", status, out)
	}
	// A large input, read in many pieces.
	var sb strings.Builder
	sb.WriteString(`{"values":[`)
	for i := range 50000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(uitoa(uint64(i)))
	}
	sb.WriteString(`]}`)
	if status, out := e.handle(sb.String()); status != 0 || !strings.HasPrefix(out, `{"count":50000,"sum":1249975000,`) {
		t.Errorf("large input: status %d, output %s", status, out)
	}
}

// ---- a Go (GOOS=wasip1) command ------------------------------------------------------------

const goCommand = `package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "read:", err)
		os.Exit(1)
	}
	time.Sleep(time.Millisecond) // poll_oneoff
	fmt.Fprintf(os.Stderr, "args %d\n", len(os.Args))
	fmt.Printf("{\"got\":%q}", in)
	os.Exit(3)
}
`

func TestGoCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(goCommand), 0o644); err != nil {
		t.Fatal(err)
	}
	wasmPath := filepath.Join(dir, "cmd.wasm")
	if out, err := goBuild(dir, wasmPath); err != nil {
		t.Skipf("GOOS=wasip1 GOARCH=wasm go build failed: %v\n%s", err, out)
	}
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, Config{Args: []string{"cmd"}}, wasm)
	e.h.Begin([]byte(`{"hi":1}`))
	_, err = e.mod.ExportedFunction("_start").Call(e.ctx)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 3 {
		t.Fatalf("_start: %v, want exit code 3; log %q", err, e.h.Log())
	}
	if got, want := string(e.h.Output()), `{"got":"{\"hi\":1}"}`; got != want {
		t.Errorf("output %s, want %s", got, want)
	}
	if got := string(e.h.Log()); got != "args 1\n" {
		t.Errorf("log %q", got)
	}
	if e.mod.IsClosed() {
		t.Error("the module was closed by proc_exit")
	}
	// The Go runtime set stdio non-blocking at init; that is host state a snapshot holds.
	if e.h.Snapshot() == (State{}) {
		t.Error("the Go runtime's fd_fdstat_set_flags left no trace in the state")
	}
}
