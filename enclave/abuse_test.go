package enclave_test

import (
	"context"
	"encoding/binary"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reclave/reclave/enclave"
)

// WASI errnos the host answers abuse with (wasi_snapshot_preview1.witx).
const (
	errnoSuccess = 0
	errnoBadf    = 8
	errnoFault   = 21
	errnoSpipe   = 70
)

// abuseCase is one attack of testdata/abuse.wat, picked by the first input byte.
type abuseCase struct {
	id   byte
	fn   string // the host function attacked; "" for attacks on the sandbox itself
	what string
	// The outcome: the invocation's error kind, "" when it succeeds; then the result the guest
	// saw (an errno, or memory.grow's result) and whether its output write could succeed.
	kind     enclave.ErrorKind
	result   int32
	noOutput bool
	errMatch string // a substring of the error, for failed invocations
	// slow cases (unbounded recursion grows wazero's stack to 400 MB) run with one strategy.
	slow bool
}

// abuseCases: a pointer or length out of bounds is EFAULT, checked before anything is written
// or consumed; where a function has nothing to write (no arguments, no environment) an empty
// range is valid wherever it points (ESUCCESS); a check that comes first by the WASI
// convention (a descriptor that is not open: EBADF; a stream cannot seek: ESPIPE) wins over
// the pointer; functions without pointers get the nearest abuse, a descriptor that does not
// exist.
var abuseCases = []abuseCase{
	{1, "args_get", "pointers out of bounds, no arguments to write", "", errnoSuccess, false, "", false},
	{2, "args_sizes_get", "count pointer out of bounds", "", errnoFault, false, "", false},
	{3, "args_sizes_get", "size pointer across the end of memory", "", errnoFault, false, "", false},
	{4, "clock_res_get", "result pointer out of bounds", "", errnoFault, false, "", false},
	{5, "clock_res_get", "result across the end of memory", "", errnoFault, false, "", false},
	{6, "clock_time_get", "result pointer out of bounds", "", errnoFault, false, "", false},
	{7, "clock_time_get", "result across the end of memory", "", errnoFault, false, "", false},
	{8, "environ_get", "pointers out of bounds, no environment to write", "", errnoSuccess, false, "", false},
	{9, "environ_sizes_get", "size pointer out of bounds", "", errnoFault, false, "", false},
	{10, "fd_close", "a descriptor that does not exist", "", errnoBadf, false, "", false},
	{11, "fd_fdstat_get", "result pointer out of bounds", "", errnoFault, false, "", false},
	{12, "fd_fdstat_get", "result across the end of memory", "", errnoFault, false, "", false},
	{13, "fd_fdstat_set_flags", "a descriptor that does not exist", "", errnoBadf, false, "", false},
	{14, "fd_filestat_get", "result pointer out of bounds", "", errnoFault, false, "", false},
	{15, "fd_filestat_get", "result across the end of memory", "", errnoFault, false, "", false},
	{16, "fd_prestat_dir_name", "buffer out of bounds (no preopens: EBADF first)", "", errnoBadf, false, "", false},
	{17, "fd_prestat_get", "result out of bounds (no preopens: EBADF first)", "", errnoBadf, false, "", false},
	{18, "fd_read", "iovec array out of bounds", "", errnoFault, false, "", false},
	{19, "fd_read", "iovec buffer out of bounds", "", errnoFault, false, "", false},
	{20, "fd_read", "iovec length out of bounds", "", errnoFault, false, "", false},
	{21, "fd_read", "iovec buffer across the end of memory", "", errnoFault, false, "", false},
	{22, "fd_read", "iovec count out of bounds", "", errnoFault, false, "", false},
	{23, "fd_read", "nread pointer out of bounds", "", errnoFault, false, "", false},
	{24, "fd_seek", "result pointer out of bounds (a stream: ESPIPE first)", "", errnoSpipe, false, "", false},
	{25, "fd_write", "iovec array out of bounds", "", errnoFault, false, "", false},
	{26, "fd_write", "iovec buffer out of bounds", "", errnoFault, false, "", false},
	{27, "fd_write", "iovec length out of bounds", "", errnoFault, false, "", false},
	{28, "fd_write", "iovec buffer across the end of memory", "", errnoFault, false, "", false},
	{29, "fd_write", "nwritten pointer out of bounds", "", errnoFault, false, "", false},
	{30, "poll_oneoff", "subscriptions out of bounds", "", errnoFault, false, "", false},
	{31, "poll_oneoff", "events out of bounds", "", errnoFault, false, "", false},
	{32, "poll_oneoff", "subscription count out of bounds", "", errnoFault, false, "", false},
	{33, "poll_oneoff", "nevents pointer out of bounds", "", errnoFault, false, "", false},
	{34, "proc_exit", "exit in the middle of a handler", enclave.KindExit, 0, true, "proc_exit(7)", false},
	{35, "random_get", "buffer out of bounds", "", errnoFault, false, "", false},
	{36, "random_get", "buffer across the end of memory", "", errnoFault, false, "", false},
	{37, "random_get", "length out of bounds", "", errnoFault, false, "", false},
	{38, "sched_yield", "no parameters to abuse", "", errnoSuccess, false, "", false},
	{39, "", "memory.grow within the cap", "", 1, false, "", false},
	{40, "", "memory.grow past the cap", "", -1, false, "", false},
	{41, "", "store past the end of memory", enclave.KindTrap, 0, true, "out of bounds memory access", false},
	{42, "", "unreachable", enclave.KindTrap, 0, true, "unreachable", false},
	{43, "", "unbounded recursion", enclave.KindTrap, 0, true, "stack overflow", true},
	{44, "fd_close", "close stdout", "", 0, true, "", false},
}

// TestAbuse: every attack of testdata/abuse.wat — out-of-bounds pointers and lengths passed
// to every host function the default allow-list grants, memory.grow past the function's cap,
// a store out of bounds, unreachable, stack exhaustion, closing stdout — ends as the table
// says: an errno the guest sees or an invocation error of the right kind. After each, the
// enclave is in its clean state (its state hash is the clean-state hash) and the next
// invocation's output is a fresh enclave's. With compartments on and off, every strategy.
func TestAbuse(t *testing.T) {
	for _, imp := range enclave.DefaultImports {
		name := strings.TrimPrefix(imp, "wasi_snapshot_preview1.")
		if !slices.ContainsFunc(abuseCases, func(c abuseCase) bool { return c.fn == name }) {
			t.Errorf("no abuse case for %s, which the default allow-list grants", imp)
		}
	}
	for i, c := range abuseCases {
		if int(c.id) != i+1 {
			t.Fatalf("abuse case %d has id %d: abuse.wat numbers them 1, 2, ...", i, c.id)
		}
	}
	wasm, err := os.ReadFile("testdata/abuse.wasm")
	if err != nil {
		t.Fatal(err)
	}
	// The deadline is not under test: generous, for loaded machines.
	fn := enclave.Function{Name: "abuse", Wasm: wasm, MemoryPages: 2, Deadline: time.Minute}
	ctx := context.Background()
	for _, comp := range []enclave.Compartments{enclave.CompartmentsOn, enclave.CompartmentsOff} {
		for _, s := range enclave.Strategies() {
			t.Run(string(comp)+"/"+string(s), func(t *testing.T) {
				e, err := enclave.Create(ctx, enclave.Config{MemoryBytes: testMemory, Reset: enclave.ResetRewind, Strategy: s, Compartments: comp}, fn)
				if err != nil {
					t.Fatal(err)
				}
				defer e.Close(ctx)
				// What a fresh enclave answers: first invocation, no attack.
				fresh, err := e.Invoke(ctx, []byte{0})
				if err != nil {
					t.Fatal(err)
				}
				if want := abuseOutput(1, 0); string(fresh.Output) != string(want) {
					t.Fatalf("fresh output %x, want %x", fresh.Output, want)
				}
				for _, c := range abuseCases {
					if c.slow && s != enclave.StrategyDiff {
						continue
					}
					inv, err := e.Invoke(ctx, []byte{c.id})
					name := c.fn + ": " + c.what
					if got := enclave.KindOf(err); got != c.kind {
						t.Fatalf("%s: error %v (kind %q), want kind %q", name, err, got, c.kind)
					}
					if err != nil && !strings.Contains(err.Error(), c.errMatch) {
						t.Fatalf("%s: error %v, want it to mention %q", name, err, c.errMatch)
					}
					switch {
					case c.noOutput && len(inv.Output) != 0:
						t.Fatalf("%s: output %x, want none", name, inv.Output)
					case !c.noOutput && string(inv.Output) != string(abuseOutput(1, c.result)):
						t.Fatalf("%s: output %x, want count 1 and result %d", name, inv.Output, c.result)
					}
					if e.StateHash() != e.CleanStateHash() {
						t.Fatalf("%s: after the reset (%s) the state is not the clean state", name, inv.Reset)
					}
					next, err := e.Invoke(ctx, []byte{0})
					if err != nil || string(next.Output) != string(fresh.Output) {
						t.Fatalf("%s: the next invocation: %v, output %x, want a fresh enclave's %x", name, err, next.Output, fresh.Output)
					}
					if next.MemoryPages != 1 || e.StateHash() != e.CleanStateHash() {
						t.Fatalf("%s: the next invocation saw %d pages of memory / left an unclean state", name, next.MemoryPages)
					}

				}
			})
		}
	}
}

func abuseOutput(count uint32, result int32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, count)
	return binary.LittleEndian.AppendUint32(b, uint32(result))
}
