package wasi

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// function is one export of the host module. Parameters are i32 unless their name ends in
// ":i64"; the result is an errno (i32), except for proc_exit, which does not return.
type function struct {
	name       string
	params     []api.ValueType
	paramNames []string
	noResult   bool
	fn         func(h *Host, ctx context.Context, mod api.Module, stack []uint64) errno
}

func (f *function) results() []api.ValueType {
	if f.noResult {
		return nil
	}
	return []api.ValueType{api.ValueTypeI32}
}

func fn(name string, impl func(*Host, context.Context, api.Module, []uint64) errno, params ...string) function {
	f := function{name: name, fn: impl, params: []api.ValueType{}, paramNames: []string{}}
	for _, p := range params {
		t := api.ValueTypeI32
		if n, ok := strings.CutSuffix(p, ":i64"); ok {
			p, t = n, api.ValueTypeI64
		}
		f.params = append(f.params, t)
		f.paramNames = append(f.paramNames, p)
	}
	return f
}

// functions is WASI preview1 (wasi_snapshot_preview1.witx), sorted by name: a function's
// index is its id in the host-call accounting ([Count]), so that accounts come out in name
// order. Pointer parameters to results are named result.*.
var functions = [numFunctions]function{
	fn("args_get", (*Host).argsGet, "argv", "argv_buf"),
	fn("args_sizes_get", (*Host).argsSizesGet, "result.argc", "result.argv_buf_size"),
	fn("clock_res_get", (*Host).clockResGet, "id", "result.resolution"),
	fn("clock_time_get", (*Host).clockTimeGet, "id", "precision:i64", "result.timestamp"),
	fn("environ_get", (*Host).environGet, "environ", "environ_buf"),
	fn("environ_sizes_get", (*Host).environSizesGet, "result.environc", "result.environ_buf_size"),
	fn("fd_advise", (*Host).fdAdvise, "fd", "offset:i64", "len:i64", "advice"),
	fn("fd_allocate", (*Host).fdAllocate, "fd", "offset:i64", "len:i64"),
	fn("fd_close", (*Host).fdClose, "fd"),
	fn("fd_datasync", (*Host).fdDatasync, "fd"),
	fn("fd_fdstat_get", (*Host).fdFdstatGet, "fd", "result.stat"),
	fn("fd_fdstat_set_flags", (*Host).fdFdstatSetFlags, "fd", "flags"),
	fn("fd_fdstat_set_rights", (*Host).fdFdstatSetRights, "fd", "fs_rights_base:i64", "fs_rights_inheriting:i64"),
	fn("fd_filestat_get", (*Host).fdFilestatGet, "fd", "result.filestat"),
	fn("fd_filestat_set_size", (*Host).fdFilestatSetSize, "fd", "size:i64"),
	fn("fd_filestat_set_times", (*Host).fdFilestatSetTimes, "fd", "atim:i64", "mtim:i64", "fst_flags"),
	fn("fd_pread", (*Host).fdPread, "fd", "iovs", "iovs_len", "offset:i64", "result.nread"),
	fn("fd_prestat_dir_name", (*Host).fdPrestatDirName, "fd", "path", "path_len"),
	fn("fd_prestat_get", (*Host).fdPrestatGet, "fd", "result.prestat"),
	fn("fd_pwrite", (*Host).fdPwrite, "fd", "iovs", "iovs_len", "offset:i64", "result.nwritten"),
	fn("fd_read", (*Host).fdRead, "fd", "iovs", "iovs_len", "result.nread"),
	fn("fd_readdir", (*Host).fdReaddir, "fd", "buf", "buf_len", "cookie:i64", "result.bufused"),
	fn("fd_renumber", (*Host).fdRenumber, "fd", "to"),
	fn("fd_seek", (*Host).fdSeek, "fd", "offset:i64", "whence", "result.newoffset"),
	fn("fd_sync", (*Host).fdSync, "fd"),
	fn("fd_tell", (*Host).fdTell, "fd", "result.offset"),
	fn("fd_write", (*Host).fdWrite, "fd", "iovs", "iovs_len", "result.nwritten"),
	fn("path_create_directory", (*Host).pathAt0, "fd", "path", "path_len"),
	fn("path_filestat_get", (*Host).pathAt0, "fd", "flags", "path", "path_len", "result.filestat"),
	fn("path_filestat_set_times", (*Host).pathAt0, "fd", "flags", "path", "path_len", "atim:i64", "mtim:i64", "fst_flags"),
	fn("path_link", (*Host).pathLink, "old_fd", "old_flags", "old_path", "old_path_len", "new_fd", "new_path", "new_path_len"),
	fn("path_open", (*Host).pathAt0, "fd", "dirflags", "path", "path_len", "oflags", "fs_rights_base:i64", "fs_rights_inheriting:i64", "fdflags", "result.opened_fd"),
	fn("path_readlink", (*Host).pathAt0, "fd", "path", "path_len", "buf", "buf_len", "result.bufused"),
	fn("path_remove_directory", (*Host).pathAt0, "fd", "path", "path_len"),
	fn("path_rename", (*Host).pathRename, "fd", "old_path", "old_path_len", "new_fd", "new_path", "new_path_len"),
	fn("path_symlink", (*Host).pathSymlink, "old_path", "old_path_len", "fd", "new_path", "new_path_len"),
	fn("path_unlink_file", (*Host).pathAt0, "fd", "path", "path_len"),
	fn("poll_oneoff", (*Host).pollOneoff, "in", "out", "nsubscriptions", "result.nevents"),
	{name: "proc_exit", fn: (*Host).procExit, params: []api.ValueType{api.ValueTypeI32}, paramNames: []string{"rval"}, noResult: true},
	fn("proc_raise", (*Host).procRaise, "sig"),
	fn("random_get", (*Host).randomGet, "buf", "buf_len"),
	fn("sched_yield", (*Host).schedYield),
	fn("sock_accept", (*Host).sockFd0, "fd", "flags", "result.fd"),
	fn("sock_recv", (*Host).sockFd0, "fd", "ri_data", "ri_data_len", "ri_flags", "result.ro_datalen", "result.ro_flags"),
	fn("sock_send", (*Host).sockFd0, "fd", "si_data", "si_data_len", "si_flags", "result.so_datalen"),
	fn("sock_shutdown", (*Host).sockFd0, "fd", "how"),
}

// ---- descriptors ---------------------------------------------------------------------------

// lookup returns the slot of an open descriptor and the stream it refers to, or EBADF.
func (h *Host) lookup(fd uint32) (*fdSlot, int, errno) {
	if fd >= uint32(len(h.fds.fds)) {
		return nil, 0, errBadf
	}
	s := &h.fds.fds[fd]
	if s.closed {
		return nil, 0, errBadf
	}
	return s, s.stream(fd), errSuccess
}

// lookupRight is lookup for an operation that needs right: ENOTCAPABLE if
// fd_fdstat_set_rights removed it.
func (h *Host) lookupRight(fd uint32, right uint64) (*fdSlot, int, errno) {
	s, st, e := h.lookup(fd)
	if e == errSuccess && s.rights(fd)&right == 0 {
		e = errNotcapable
	}
	return s, st, e
}

// openOr returns EBADF for a descriptor that is not open and e for one that is.
func (h *Host) openOr(fd uint32, e errno) errno {
	if _, _, err := h.lookup(fd); err != errSuccess {
		return err
	}
	return e
}

// ---- args, environ -------------------------------------------------------------------------

func (h *Host) argsGet(_ context.Context, mod api.Module, stack []uint64) errno {
	return h.putStrs(mod.Memory(), &h.args, uint32(stack[0]), uint32(stack[1]))
}

func (h *Host) argsSizesGet(_ context.Context, mod api.Module, stack []uint64) errno {
	return h.putSizes(mod.Memory(), &h.args, uint32(stack[0]), uint32(stack[1]))
}

func (h *Host) environGet(_ context.Context, mod api.Module, stack []uint64) errno {
	return h.putStrs(mod.Memory(), &h.env, uint32(stack[0]), uint32(stack[1]))
}

func (h *Host) environSizesGet(_ context.Context, mod api.Module, stack []uint64) errno {
	return h.putSizes(mod.Memory(), &h.env, uint32(stack[0]), uint32(stack[1]))
}

// putStrs writes the pointer array of s to ptrs and its NUL-terminated strings to buf.
func (h *Host) putStrs(mem api.Memory, s *strs, ptrs, buf uint32) errno {
	n := len(s.offs)
	if !inBounds(mem, ptrs, 4*uint64(n)) || !inBounds(mem, buf, uint64(len(s.buf))) {
		return errFault
	}
	p := h.ptrs[:4*n]
	for i, off := range s.offs {
		le.PutUint32(p[4*i:], buf+off) // buf+len(s.buf) is within memory: no overflow
	}
	h.put(mem, ptrs, p)
	h.put(mem, buf, s.buf)
	return errSuccess
}

func (h *Host) putSizes(mem api.Memory, s *strs, count, size uint32) errno {
	if !inBounds(mem, count, 4) || !inBounds(mem, size, 4) {
		return errFault
	}
	h.putU32(mem, count, uint32(len(s.offs)))
	h.putU32(mem, size, uint32(len(s.buf)))
	return errSuccess
}

// ---- clocks --------------------------------------------------------------------------------

// monotonic is the monotonic clock (also used for the CPU-time clocks): nanoseconds since
// the Host was created plus one second, so that it is never zero.
func (h *Host) monotonic() uint64 {
	return monotonicClockBaseNsec + uint64(time.Since(h.epoch))
}

func realtime() uint64 {
	return uint64(max(time.Now().UnixNano(), 0))
}

func (h *Host) clock(id uint32) (uint64, bool) {
	if h.det != nil && id <= clockThreadCputimeID {
		return h.det.Time, true
	}
	switch id {
	case clockRealtime:
		return realtime(), true
	case clockMonotonic, clockProcessCputimeID, clockThreadCputimeID:
		return h.monotonic(), true
	}
	return 0, false
}

func (h *Host) clockResGet(_ context.Context, mod api.Module, stack []uint64) errno {
	if id := uint32(stack[0]); id > clockThreadCputimeID {
		return errInval
	}
	if !h.putU64(mod.Memory(), uint32(stack[1]), 1) { // nanosecond resolution
		return errFault
	}
	return errSuccess
}

func (h *Host) clockTimeGet(_ context.Context, mod api.Module, stack []uint64) errno {
	t, ok := h.clock(uint32(stack[0])) // the precision (stack[1]) is a hint, ignored
	if !ok {
		return errInval
	}
	if !h.putU64(mod.Memory(), uint32(stack[2]), t) {
		return errFault
	}
	return errSuccess
}

// ---- fd_* ----------------------------------------------------------------------------------

// The standard streams are streams: operations with an offset (seek, tell, pread, pwrite,
// advise, allocate) fail with ESPIPE as on a pipe.

func (h *Host) fdAdvise(_ context.Context, _ api.Module, stack []uint64) errno {
	if _, _, e := h.lookup(uint32(stack[0])); e != errSuccess {
		return e
	}
	if uint32(stack[3]) > adviceMax {
		return errInval
	}
	return errSpipe
}

func (h *Host) fdAllocate(_ context.Context, _ api.Module, stack []uint64) errno {
	return h.openOr(uint32(stack[0]), errSpipe)
}

func (h *Host) fdClose(_ context.Context, _ api.Module, stack []uint64) errno {
	s, _, e := h.lookup(uint32(stack[0]))
	if e != errSuccess {
		return e
	}
	*s = fdSlot{closed: true}
	return errSuccess
}

// fd_sync and fd_datasync succeed: what fd_write accepted is already in the host's buffer,
// there is nothing to flush. (Linux answers EINVAL for a pipe or terminal, which makes Go's
// os.Stdout.Sync() and C's fsync(1) fail for no benefit.)
func (h *Host) fdDatasync(_ context.Context, _ api.Module, stack []uint64) errno {
	_, _, e := h.lookupRight(uint32(stack[0]), rightFdDatasync)
	return e
}

func (h *Host) fdSync(_ context.Context, _ api.Module, stack []uint64) errno {
	_, _, e := h.lookupRight(uint32(stack[0]), rightFdSync)
	return e
}

func (h *Host) fdFdstatGet(_ context.Context, mod api.Module, stack []uint64) errno {
	fd := uint32(stack[0])
	s, _, e := h.lookup(fd)
	if e != errSuccess {
		return e
	}
	b := h.scratch[:fdstatSize]
	clear(b)
	b[0] = filetypeCharacterDevice
	le.PutUint16(b[2:], s.flags)
	le.PutUint64(b[8:], s.rights(fd))
	// rights_inheriting (b[16:]) is 0: nothing can be opened through a stream.
	if !h.put(mod.Memory(), uint32(stack[1]), b) {
		return errFault
	}
	return errSuccess
}

// fd_fdstat_set_flags records any valid fdflags (append, dsync, nonblock, rsync, sync): none
// changes what the streams do (reads never block: the input is in memory).
func (h *Host) fdFdstatSetFlags(_ context.Context, _ api.Module, stack []uint64) errno {
	s, _, e := h.lookupRight(uint32(stack[0]), rightFdFdstatSetFlags)
	if e != errSuccess {
		return e
	}
	flags := uint32(stack[1])
	if flags&^fdflagsAll != 0 {
		return errInval
	}
	s.flags = uint16(flags)
	return errSuccess
}

// fd_fdstat_set_rights can only remove rights, as the witx says; asking for more is
// ENOTCAPABLE.
func (h *Host) fdFdstatSetRights(_ context.Context, _ api.Module, stack []uint64) errno {
	fd := uint32(stack[0])
	s, st, e := h.lookup(fd)
	if e != errSuccess {
		return e
	}
	base, inheriting := stack[1], stack[2]
	if base&^s.rights(fd) != 0 || inheriting != 0 {
		return errNotcapable
	}
	s.dropped = streamDefaultRights(st) &^ base
	return errSuccess
}

func (h *Host) fdFilestatGet(_ context.Context, mod api.Module, stack []uint64) errno {
	if _, _, e := h.lookupRight(uint32(stack[0]), rightFdFilestatGet); e != errSuccess {
		return e
	}
	b := h.scratch[:filestatSize]
	clear(b) // dev, ino, size and times 0
	b[16] = filetypeCharacterDevice
	le.PutUint64(b[24:], 1) // nlink
	if !h.put(mod.Memory(), uint32(stack[1]), b) {
		return errFault
	}
	return errSuccess
}

// fd_filestat_set_size: EINVAL, as ftruncate on something that is not a regular file.
func (h *Host) fdFilestatSetSize(_ context.Context, _ api.Module, stack []uint64) errno {
	return h.openOr(uint32(stack[0]), errInval)
}

// fd_filestat_set_times: EINVAL for contradictory flags, else ENOTCAPABLE (the streams do
// not have the fd_filestat_set_times right; their times are always 0).
func (h *Host) fdFilestatSetTimes(_ context.Context, _ api.Module, stack []uint64) errno {
	if _, _, e := h.lookup(uint32(stack[0])); e != errSuccess {
		return e
	}
	f := uint32(stack[3])
	if f&^(fstflagsAtim|fstflagsAtimNow|fstflagsMtim|fstflagsMtimNow) != 0 ||
		f&(fstflagsAtim|fstflagsAtimNow) == fstflagsAtim|fstflagsAtimNow ||
		f&(fstflagsMtim|fstflagsMtimNow) == fstflagsMtim|fstflagsMtimNow {
		return errInval
	}
	return errNotcapable
}

func (h *Host) fdPread(_ context.Context, _ api.Module, stack []uint64) errno {
	_, st, e := h.lookup(uint32(stack[0]))
	switch {
	case e != errSuccess:
		return e
	case st != streamStdin:
		return errBadf // not open for reading
	}
	return errSpipe
}

func (h *Host) fdPwrite(_ context.Context, _ api.Module, stack []uint64) errno {
	_, st, e := h.lookup(uint32(stack[0]))
	switch {
	case e != errSuccess:
		return e
	case st == streamStdin:
		return errBadf // not open for writing
	}
	return errSpipe
}

// fd_prestat_get and fd_prestat_dir_name: there are no preopened directories, so every
// descriptor answers EBADF, which is how wasi-libc and Go end their preopen scan at fd 3.
func (h *Host) fdPrestatGet(context.Context, api.Module, []uint64) errno     { return errBadf }
func (h *Host) fdPrestatDirName(context.Context, api.Module, []uint64) errno { return errBadf }

// iovecs checks an iovec array and every buffer it names, and returns the array (a view of
// guest memory, read: counted as bytes out) and the sum of the lengths.
func (h *Host) iovecs(mem api.Memory, iovs, n uint32) ([]byte, uint64, errno) {
	vec, ok := h.read(mem, iovs, uint64(n)*iovecSize)
	if !ok {
		return nil, 0, errFault
	}
	var total uint64
	for i := 0; i < len(vec); i += iovecSize {
		buf, l := le.Uint32(vec[i:]), le.Uint32(vec[i+4:])
		if !inBounds(mem, buf, uint64(l)) {
			return nil, 0, errFault
		}
		total += uint64(l)
	}
	if total > maxIOBytes {
		return nil, 0, errInval
	}
	return vec, total, errSuccess
}

// fd_read on stdin copies the input into the iovecs, in order, and returns 0 bytes at its end.
func (h *Host) fdRead(_ context.Context, mod api.Module, stack []uint64) errno {
	fd, nreadPtr := uint32(stack[0]), uint32(stack[3])
	s, st, e := h.lookup(fd)
	switch {
	case e != errSuccess:
		return e
	case st != streamStdin:
		return errBadf
	case s.rights(fd)&rightFdRead == 0:
		return errNotcapable
	}
	mem := mod.Memory()
	vec, _, e := h.iovecs(mem, uint32(stack[1]), uint32(stack[2]))
	if e != errSuccess {
		return e
	}
	if !inBounds(mem, nreadPtr, 4) {
		return errFault
	}
	var nread uint32
	for i := 0; i < len(vec) && h.inPos < len(h.in); i += iovecSize {
		buf, l := le.Uint32(vec[i:]), le.Uint32(vec[i+4:])
		k := min(int(l), len(h.in)-h.inPos)
		if !h.put(mem, buf, h.in[h.inPos:h.inPos+k]) {
			return errFault // only if the data just read overwrote a later iovec
		}
		h.inPos += k
		nread += uint32(k)
	}
	if nread == 0 && h.inPos >= len(h.in) {
		h.eofReads++
	}
	h.putU32(mem, nreadPtr, nread)
	return errSuccess
}

func (h *Host) fdReaddir(_ context.Context, _ api.Module, stack []uint64) errno {
	return h.openOr(uint32(stack[0]), errNotdir)
}

// fd_renumber moves descriptor fd to to (which must be open, as in every preview1 host),
// closing fd.
func (h *Host) fdRenumber(_ context.Context, _ api.Module, stack []uint64) errno {
	from, to := uint32(stack[0]), uint32(stack[1])
	src, st, e := h.lookup(from)
	if e != errSuccess {
		return e
	}
	dst, _, e := h.lookup(to)
	if e != errSuccess {
		return e
	}
	if from == to {
		return errSuccess
	}
	moved := fdSlot{flags: src.flags, dropped: src.dropped}
	if st != int(to) {
		moved.moved = uint8(st + 1)
	}
	*dst = moved
	*src = fdSlot{closed: true}
	return errSuccess
}

func (h *Host) fdSeek(_ context.Context, _ api.Module, stack []uint64) errno {
	if _, _, e := h.lookup(uint32(stack[0])); e != errSuccess {
		return e
	}
	if uint32(stack[2]) > whenceMax {
		return errInval
	}
	return errSpipe
}

func (h *Host) fdTell(_ context.Context, _ api.Module, stack []uint64) errno {
	return h.openOr(uint32(stack[0]), errSpipe)
}

// fd_write appends to stdout, up to Config.MaxOutputBytes, or to stderr, of which what passes
// Config.MaxLogBytes is dropped silently.
func (h *Host) fdWrite(_ context.Context, mod api.Module, stack []uint64) errno {
	fd, nwrittenPtr := uint32(stack[0]), uint32(stack[3])
	s, st, e := h.lookup(fd)
	switch {
	case e != errSuccess:
		return e
	case st == streamStdin:
		return errBadf
	case s.rights(fd)&rightFdWrite == 0:
		return errNotcapable
	}
	mem := mod.Memory()
	vec, total, e := h.iovecs(mem, uint32(stack[1]), uint32(stack[2]))
	if e != errSuccess {
		return e
	}
	if !inBounds(mem, nwrittenPtr, 4) {
		return errFault
	}
	var nwritten uint64
	if st == streamStdout {
		n := total
		if room := uint64(max(h.maxOut-len(h.out), 0)); n > room {
			h.outOverflow = true
			if room == 0 {
				return errFbig
			}
			n = room // a short write, as at a file size limit; the next one fails
		}
		h.out = h.appendIovecs(h.out, mem, vec, n)
		nwritten = n
	} else {
		n := total
		if room := uint64(max(h.maxLog-len(h.log), 0)); n > room {
			h.logTruncated = true
			n = room
		}
		h.log = h.appendIovecs(h.log, mem, vec, n)
		nwritten = total
	}
	h.putU32(mem, nwrittenPtr, uint32(nwritten))
	return errSuccess
}

// appendIovecs appends the first n bytes the (checked) iovecs name to dst (bytes out).
func (h *Host) appendIovecs(dst []byte, mem api.Memory, vec []byte, n uint64) []byte {
	for i := 0; i < len(vec) && n > 0; i += iovecSize {
		buf, l := le.Uint32(vec[i:]), le.Uint32(vec[i+4:])
		k := min(uint64(l), n)
		data, _ := h.read(mem, buf, k)
		dst = append(dst, data...)
		n -= k
	}
	return dst
}

// ---- path_* --------------------------------------------------------------------------------

// Path operations need a directory descriptor, and there is none: a standard stream as the
// directory is ENOTCAPABLE (it lacks every path_* right), anything else EBADF. Paths are never
// read.
func (h *Host) pathAt0(_ context.Context, _ api.Module, stack []uint64) errno {
	return h.openOr(uint32(stack[0]), errNotcapable)
}

func (h *Host) pathAt2(fd1, fd2 uint32) errno {
	if _, _, e := h.lookup(fd1); e != errSuccess {
		return e
	}
	return h.openOr(fd2, errNotcapable)
}

func (h *Host) pathLink(_ context.Context, _ api.Module, stack []uint64) errno {
	return h.pathAt2(uint32(stack[0]), uint32(stack[4]))
}

func (h *Host) pathRename(_ context.Context, _ api.Module, stack []uint64) errno {
	return h.pathAt2(uint32(stack[0]), uint32(stack[3]))
}

func (h *Host) pathSymlink(_ context.Context, _ api.Module, stack []uint64) errno {
	return h.openOr(uint32(stack[2]), errNotcapable)
}

// ---- poll_oneoff ---------------------------------------------------------------------------

// poll_oneoff: stdio subscriptions are always ready (stdin's input is in memory, the output
// buffers accept writes or fail them at once); a clock subscription, relative or absolute, is
// due when its time has come. If nothing is ready, it sleeps until the earliest clock is due,
// unless ctx ends first: then the call is aborted (the host function panics with an error
// wrapping the context's cause). Errors of a single subscription (a bad descriptor, clock or
// type) are reported in its event.
func (h *Host) pollOneoff(ctx context.Context, mod api.Module, stack []uint64) errno {
	in, out, nsubs, neventsPtr := uint32(stack[0]), uint32(stack[1]), uint32(stack[2]), uint32(stack[3])
	if nsubs == 0 {
		return errInval
	}
	mem := mod.Memory()
	subs, ok := h.read(mem, in, uint64(nsubs)*subscriptionSize)
	if !ok || !inBounds(mem, out, uint64(nsubs)*eventSize) || !inBounds(mem, neventsPtr, 4) {
		return errFault
	}
	start := h.monotonic()
	for {
		mono, wall := h.monotonic(), realtime()
		if n, wait := h.pollEvents(nil, subs, 0, start, mono, wall); n == 0 {
			sleep(ctx, wait)
			continue
		}
		n, _ := h.pollEvents(mem, subs, out, start, mono, wall)
		h.putU32(mem, neventsPtr, n)
		return errSuccess
	}
}

// pollEvents goes through the subscriptions at the clock readings given. It returns how many
// events are due and, if none is, how long until the first clock is; with mem, it writes the
// events due to out.
func (h *Host) pollEvents(mem api.Memory, subs []byte, out uint32, start, mono, wall uint64) (n uint32, wait int64) {
	wait = math.MaxInt64
	for i := 0; i < len(subs); i += subscriptionSize {
		s := subs[i : i+subscriptionSize]
		tag := s[8]
		var (
			err    errno
			nbytes uint64
			flags  uint16
		)
		switch tag {
		case eventtypeClock:
			id, timeout, cflags := le.Uint32(s[16:]), le.Uint64(s[24:]), le.Uint16(s[40:])
			if id > clockThreadCputimeID || cflags&^subclockflagsAbstime != 0 {
				err = errInval
				break
			}
			var remaining int64
			switch {
			case cflags&subclockflagsAbstime == 0:
				remaining = until(satAdd(start, timeout), mono)
			case id == clockRealtime:
				remaining = until(timeout, wall)
			default:
				remaining = until(timeout, mono)
			}
			if remaining > 0 {
				wait = min(wait, remaining)
				continue // not due
			}
		case eventtypeFdRead, eventtypeFdWrite:
			err, nbytes, flags = h.pollFd(le.Uint32(s[16:]), tag)
		default:
			err = errInval
		}
		if mem != nil {
			b := h.scratch[:eventSize]
			clear(b)
			copy(b[0:8], s[0:8]) // userdata
			le.PutUint16(b[8:], uint16(err))
			b[10] = tag
			le.PutUint64(b[16:], nbytes)
			le.PutUint16(b[24:], flags)
			h.put(mem, out+n*eventSize, b) // within the range checked by pollOneoff
		}
		n++
	}
	return n, wait
}

// pollFd answers an fd_read or fd_write subscription: the bytes that can be read (and hangup
// at end-of-input) or written without failing.
func (h *Host) pollFd(fd uint32, tag byte) (errno, uint64, uint16) {
	_, st, e := h.lookupRight(fd, rightPollFdReadwrite)
	switch {
	case e != errSuccess:
		return e, 0, 0
	case tag == eventtypeFdRead && st != streamStdin, tag == eventtypeFdWrite && st == streamStdin:
		return errBadf, 0, 0
	case tag == eventtypeFdRead:
		left := len(h.in) - h.inPos
		if left == 0 {
			return errSuccess, 0, eventrwflagsFdHangup
		}
		return errSuccess, uint64(left), 0
	case st == streamStdout:
		return errSuccess, uint64(max(h.maxOut-len(h.out), 0)), 0
	default:
		return errSuccess, uint64(max(h.maxLog-len(h.log), 0)), 0
	}
}

// until returns deadline-now in nanoseconds, at most MaxInt64.
func until(deadline, now uint64) int64 {
	if deadline <= now {
		return 0
	}
	return int64(min(deadline-now, math.MaxInt64))
}

func satAdd(a, b uint64) uint64 {
	if a+b < a {
		return math.MaxUint64
	}
	return a + b
}

// sleep waits d nanoseconds or until ctx ends, in which case it aborts the guest's call. It
// waits no longer than ctx's deadline, without relying on Done to close then: the enclave's
// call context closes Done only when its caller's context ends (see enclave's callContext).
func sleep(ctx context.Context, d int64) {
	if ctx.Err() != nil {
		panic(interrupted(ctx))
	}
	wait, cut := time.Duration(d), false
	if dl, ok := ctx.Deadline(); ok {
		if rem := time.Until(dl); rem < wait {
			wait, cut = max(rem, 0), true
		}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		if cut {
			panic(interrupted(ctx))
		}
	case <-ctx.Done(): // nil (never) for a context that cannot be cancelled
		panic(interrupted(ctx))
	}
}

func interrupted(ctx context.Context) error {
	cause := context.Cause(ctx)
	if cause == nil { // a context whose deadline is not its parent's cancellation
		cause = ctx.Err()
	}
	if cause == nil {
		cause = context.DeadlineExceeded // the deadline passed as the sleep ended
	}
	return fmt.Errorf("wasi: poll_oneoff interrupted: %w", cause)
}

// ---- proc_*, sched_yield, random_get -------------------------------------------------------

// proc_exit ends the call, not the module: see ExitError.
func (h *Host) procExit(_ context.Context, _ api.Module, stack []uint64) errno {
	panic(&ExitError{Code: uint32(stack[0])})
}

// proc_raise: ENOSYS; signals were removed from WASI, and no libc raises through it.
func (h *Host) procRaise(context.Context, api.Module, []uint64) errno { return errNosys }

// sched_yield: the guest has one thread; nothing to yield to.
func (h *Host) schedYield(context.Context, api.Module, []uint64) errno { return errSuccess }

// random_get fills the buffer from Config.Rand, in chunks of 512 bytes (one OnWrite each);
// EIO if the source fails.
func (h *Host) randomGet(_ context.Context, mod api.Module, stack []uint64) errno {
	buf, n := uint32(stack[0]), uint32(stack[1])
	mem := mod.Memory()
	if !inBounds(mem, buf, uint64(n)) {
		return errFault
	}
	for n > 0 {
		chunk := h.randBuf[:min(n, randomChunk)]
		var err error
		if h.det != nil {
			h.fds.randPos = h.det.fill(chunk, h.fds.randPos)
		} else {
			_, err = io.ReadFull(h.rand, chunk)
		}
		if err == nil {
			h.put(mem, buf, chunk)
		}
		clear(chunk) // random bytes do not linger in the host
		if err != nil {
			return errIO
		}
		h.randomBytes += uint64(len(chunk))
		buf += uint32(len(chunk))
		n -= uint32(len(chunk))
	}
	return errSuccess
}

// ---- sock_* --------------------------------------------------------------------------------

// Sockets: there are none. A standard stream is not a socket (ENOTSOCK), anything else is
// not a descriptor (EBADF).
func (h *Host) sockFd0(_ context.Context, _ api.Module, stack []uint64) errno {
	return h.openOr(uint32(stack[0]), errNotsock)
}

// fill fills b with the deterministic stream's bytes from position pos and returns the
// position after them: byte p is byte p%8 of splitmix64 of the seed and p/8.
func (d *Deterministic) fill(b []byte, pos uint64) uint64 {
	for i := range b {
		p := pos + uint64(i)
		z := d.Seed + (p/8+1)*0x9E3779B97F4A7C15
		z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
		z = (z ^ z>>27) * 0x94D049BB133111EB
		z ^= z >> 31
		b[i] = byte(z >> (8 * (p % 8)))
	}
	return pos + uint64(len(b))
}
