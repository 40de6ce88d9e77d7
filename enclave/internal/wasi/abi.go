package wasi

import "strconv"

// ModuleName is the import module name of WASI preview1.
const ModuleName = "wasi_snapshot_preview1"

// errno is a WASI preview1 error number (witx type errno, u16; returned as i32).
type errno uint16

// The errnos this host returns (numbers from wasi_snapshot_preview1.witx).
const (
	errSuccess    errno = 0
	errBadf       errno = 8
	errFault      errno = 21
	errFbig       errno = 22
	errInval      errno = 28
	errIO         errno = 29
	errNosys      errno = 52
	errNotdir     errno = 54
	errNotsock    errno = 57
	errSpipe      errno = 70
	errNotcapable errno = 76
)

var errnoNames = map[errno]string{
	errSuccess: "ESUCCESS", errBadf: "EBADF", errFault: "EFAULT",
	errFbig: "EFBIG", errInval: "EINVAL", errIO: "EIO", errNosys: "ENOSYS",
	errNotdir: "ENOTDIR", errNotsock: "ENOTSOCK", errSpipe: "ESPIPE",
	errNotcapable: "ENOTCAPABLE",
}

func (e errno) String() string {
	if s, ok := errnoNames[e]; ok {
		return s
	}
	return "errno(" + strconv.Itoa(int(e)) + ")"
}

// Clock ids (witx clockid).
const (
	clockRealtime         = 0
	clockMonotonic        = 1
	clockProcessCputimeID = 2
	clockThreadCputimeID  = 3
)

// File types (witx filetype).
const filetypeCharacterDevice = 2

// File descriptor flags (witx fdflags): append, dsync, nonblock, rsync, sync.
const fdflagsAll = 1<<5 - 1

// Rights (witx rights), those the standard streams may have.
const (
	rightFdDatasync       = 1 << 0
	rightFdRead           = 1 << 1
	rightFdSeek           = 1 << 2
	rightFdFdstatSetFlags = 1 << 3
	rightFdSync           = 1 << 4
	rightFdTell           = 1 << 5
	rightFdWrite          = 1 << 6
	rightFdFilestatGet    = 1 << 21
	rightPollFdReadwrite  = 1 << 27
)

// Rights every standard stream has when opened. Deliberately without fd_seek and fd_tell:
// wasi-libc's isatty() takes a character device without them for a terminal.
const streamRights = rightFdDatasync | rightFdFdstatSetFlags | rightFdSync | rightFdFilestatGet | rightPollFdReadwrite

// Advice values (witx advice) run from normal (0) to noreuse (5).
const adviceMax = 5

// Whence values (witx whence) run from set (0) to end (2).
const whenceMax = 2

// fstflags (witx): atim, atim_now, mtim, mtim_now.
const (
	fstflagsAtim    = 1 << 0
	fstflagsAtimNow = 1 << 1
	fstflagsMtim    = 1 << 2
	fstflagsMtimNow = 1 << 3
)

// Layouts (witx, wasm32): sizes of the structs the host reads or writes.
const (
	iovecSize        = 8  // iovec / ciovec: buf u32 @0, buf_len u32 @4
	fdstatSize       = 24 // filetype u8 @0, flags u16 @2, rights_base u64 @8, rights_inheriting u64 @16
	filestatSize     = 64 // dev @0, ino @8, filetype u8 @16, nlink @24, size @32, atim @40, mtim @48, ctim @56
	subscriptionSize = 48 // userdata u64 @0, tag u8 @8, union @16 (clock: id u32 @16, timeout u64 @24, precision u64 @32, flags u16 @40; fd_readwrite: fd u32 @16)
	eventSize        = 32 // userdata u64 @0, error u16 @8, type u8 @10, fd_readwrite: nbytes u64 @16, flags u16 @24
)

// Event types (witx eventtype), subclockflags and eventrwflags.
const (
	eventtypeClock       = 0
	eventtypeFdRead      = 1
	eventtypeFdWrite     = 2
	subclockflagsAbstime = 1 << 0
	eventrwflagsFdHangup = 1 << 0
)

// Limits and defaults of this host.
const (
	maxIOBytes             = 1<<31 - 1 // ssize_t on wasm32: a larger read or write total is EINVAL
	defaultMaxOutputBytes  = 1 << 20
	defaultMaxLogBytes     = 64 << 10
	randomChunk            = 512           // random_get reads its source (and writes) in chunks of this size
	monotonicClockBaseNsec = 1_000_000_000 // the monotonic clock's value when the Host is created
)
