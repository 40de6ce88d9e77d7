package wasmgen

import (
	"crypto/sha256"
	"hash/fnv"
	"reflect"
	"strings"
)

// Features says which constructs a module made by [Hostile] contains. A flag is set when the
// module's code (or its sections) holds the construct; whether it executes depends on the
// input and on the state the module finds.
type Features struct {
	// Code that runs outside the invocation proper, at instantiation and initialisation: it
	// reads memory, globals and tables and writes what it read elsewhere.
	StartFunc     bool // a start section
	Initialize    bool // an exported _initialize
	ReclaveInit   bool // an exported reclave_init
	InitTableGrow bool // an init function encodes state it read into a table's size (table.grow)
	InitDrop      bool // an init function drops a segment, conditionally on state it read

	// reclave_handle.
	StatusResult bool // returns an i32 status, non-zero on some inputs
	PartialRead  bool // reads at most a few bytes of its input, leaving the rest unread
	Loop         bool // a bounded loop of operations
	BulkInLoop   bool // a bulk memory or table operation inside a loop
	ObserveDrops bool // the observations probe the passive segments (a dropped one traps)

	// Globals.
	GlobalI32       bool // a mutable i32 global
	GlobalI64       bool // a mutable i64 global
	GlobalF32       bool // a mutable f32 global
	GlobalF64       bool // a mutable f64 global
	ImmutableGlobal bool
	ExportedGlobal  bool
	FuncrefGlobal   bool // a mutable funcref global

	// Tables.
	TwoTables     bool
	TableNoMax    bool // a table without a maximum size
	ExportedTable bool
	ActiveElem    bool // an active element segment
	PassiveElem   bool // a passive element segment
	TableSet      bool
	TableGet      bool
	TableGrow     bool
	TableFill     bool
	TableCopy     bool
	TableInit     bool
	ElemDrop      bool
	TableSize     bool
	CallIndirect  bool

	// Linear memory.
	ActiveData        bool // an active data segment
	PassiveData       bool // a passive data segment
	MemoryInit        bool
	DataDrop          bool
	MemoryGrow        bool
	MemoryGrowPastMax bool // a memory.grow whose delta can exceed the maximum (it returns -1)
	MemorySize        bool
	MemoryFill        bool
	MemoryCopy        bool
	I32Store          bool
	I32Store8         bool
	I32Store16        bool
	I64Store          bool
	I64Store8         bool
	I64Store16        bool
	I64Store32        bool
	F32Store          bool
	F64Store          bool
	Straddle4K        bool // a store at an address that straddles a 4 KiB boundary
	Straddle64K       bool // a store at an address that straddles a 64 KiB page boundary
	BaseStores        bool // runs of stores whose address is a local, at offsets up to 4 KiB apart
	BaseInLoop        bool // stores in a loop whose address is a local defined before the loop
	BaseRedefined     bool // a base local changed between its stores, or by the loop around them
	BaseOOB           bool // a run of stores off a base whose last one is out of bounds (a trap)
	// Global 0, a mutable i32, used as compilers use their stack pointer (see stackFrame).
	StackFrames  bool // frames: stores off values global 0 held, plus a constant
	StackHostile bool // global 0 set near the end of memory or of the address space (sums wrap)
	StackNotOnly bool // a frame's local also written with a value global 0 never held
	StackEntry   bool // stores off global 0's value at the invocation's start, before any set

	// Traps, each conditional on the input, after whatever the invocation wrote before.
	TrapUnreachable bool
	TrapOOBStore    bool // an out-of-bounds store or memory.fill
	TrapOOBLoad     bool
	TrapDivZero     bool // integer division by zero or overflow
	TrapNullCall    bool // call_indirect to a null slot or past the table's end
	TrapWrongType   bool // call_indirect to a function of another type

	// WASI calls that change host state or write it into memory.
	FdClose      bool // fd_close of 0, 1 or 2
	FdSetFlags   bool // fd_fdstat_set_flags
	RandomGet    bool // random_get into memory
	ClockTimeGet bool // clock_time_get into memory
	FdWriteMem   bool // fd_write of a memory region to stdout
	ProcExit     bool // proc_exit with a code, conditional on the input
	ArgsEnvSizes bool // args_sizes_get or environ_sizes_get into memory
}

// List returns the names of the features set, in declaration order.
func (f Features) List() []string {
	var names []string
	v := reflect.ValueOf(f)
	for i := range v.NumField() {
		if v.Field(i).Bool() {
			names = append(names, v.Type().Field(i).Name)
		}
	}
	return names
}

// String returns the names of the features set, separated by commas.
func (f Features) String() string { return strings.Join(f.List(), ",") }

// Memory layout and limits of hostile modules.
const (
	maxPages    = 8   // the memory maximum never exceeds this
	inCap       = 256 // size of the input buffer
	scratchSize = 256 // scratch area for iovecs, WASI results and the observation line
	sIov        = 0   // offsets in the scratch area: an iovec (8 bytes)
	sNum        = 8   // nread / nwritten (4 bytes)
	sStat       = 16  // an fdstat (24 bytes)
	sLine       = 64  // the observation line (lineLen bytes)
	mixMul      = -0x61c8864680b583eb
	mixRot      = 29
)

// The observation line: "o" phase, then four 64-bit digests in hex.
const lineTemplate = "o? m=################ g=################ t=################ f=################\n"

const lineLen = len(lineTemplate)

// rng draws the generator's decisions: the seed's bytes first, one decision per byte, so that
// a fuzzer's small mutations change the module a little; then a SplitMix64 stream seeded with
// a hash of the whole seed.
type rng struct {
	seed  []byte
	pos   int
	state uint64
}

// stackRNG returns the stream of the stack frames' decisions: seeded with a hash of seed, so
// that its first decisions do not repeat the main stream's.
func stackRNG(seed []byte) *rng {
	h := sha256.Sum256(append([]byte("wasmgen stack frames\x00"), seed...))
	return newRNG(h[:])
}

func newRNG(seed []byte) *rng {
	h := fnv.New64a()
	h.Write(seed)
	return &rng{seed: seed, state: h.Sum64()}
}

func (r *rng) next() uint64 {
	r.state += 0x9E3779B97F4A7C15
	z := r.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func (r *rng) byte() byte {
	if r.pos < len(r.seed) {
		r.pos++
		return r.seed[r.pos-1]
	}
	return byte(r.next() >> 56)
}

// intn returns a number in [0, n), 0 when n <= 1.
func (r *rng) intn(n int) int {
	switch {
	case n <= 1:
		return 0
	case n <= 256:
		return int(r.byte()) % n
	}
	v := uint32(r.byte()) | uint32(r.byte())<<8 | uint32(r.byte())<<16 | uint32(r.byte())<<24
	return int(v % uint32(n))
}

// chance returns true with probability pct/100 (about).
func (r *rng) chance(pct int) bool { return r.intn(100) < pct }

func (r *rng) u32() uint32 { return uint32(r.intn(1<<16)) | uint32(r.intn(1<<16))<<16 }
func (r *rng) u64() uint64 { return uint64(r.u32()) | uint64(r.u32())<<32 }

// pick returns one of the items, chosen at random.
func pick[T any](r *rng, items ...T) T { return items[r.intn(len(items))] }

type globalInfo struct {
	t        valType
	mut      bool
	exported bool
}

type tableInfo struct {
	min, max uint32
	hasMax   bool
}

// dataSeg is a data segment: active at offset, or passive.
type dataSeg struct {
	passive bool
	offset  uint32
	bytes   []byte
}

// elemSeg is an element segment; funcs are ordinals of the element functions, -1 for null.
type elemSeg struct {
	flags  byte
	table  uint32
	offset uint32
	funcs  []int
}

func (s elemSeg) passive() bool { return s.flags == elemPassiveFuncs || s.flags == elemPassiveExprs }

// gen generates one hostile module.
type gen struct {
	r *rng
	f Features
	b builder
	// sr is the stream of the stack frames' decisions (see stackFrame), apart from r so that
	// a seed makes the module it made before they existed, plus its frames.
	sr      *rng
	stackOn bool
	// stackStart: global 0 starts in bounds and reclave_handle begins with stores off its
	// value, before anything sets it (see stackEntry).
	stackStart bool

	memMin, memMax uint32
	scratch, in    uint32 // addresses of the scratch area and the input buffer, in page 0
	readCap        uint32 // bytes of input read at most
	globals        []globalInfo
	fg             int // index of the funcref global, -1 when none
	tables         []tableInfo
	elemConsts     []int32 // the distinct result of each element function
	datas          []dataSeg
	elems          []elemSeg
	enabled        [numKinds]bool
	traps          []trapKind // the trap kinds this module may use
	initDropped    map[int]bool
	initDroppedE   map[int]bool

	// Function indices and types.
	wasi                    map[string]uint32 // import name -> function index
	wasiNames               []string          // in import order
	fnElem0, fnHex, fnObs   uint32
	fnHandle                uint32
	fnStart, fnInit, fnRini int // -1 when absent
	tyVoid, tyI32           uint32
	status                  bool
}

// Hostile returns a valid WebAssembly module built deterministically from seed (any bytes,
// empty included: the same seed always gives the same bytes) and the features it contains.
// See the package documentation for what the module does.
func Hostile(seed []byte) ([]byte, Features) {
	g := &gen{r: newRNG(seed), sr: stackRNG(seed), fg: -1, fnStart: -1, fnInit: -1, fnRini: -1,
		initDropped: map[int]bool{}, initDroppedE: map[int]bool{}}
	g.stackOn = g.sr.chance(70)
	g.stackStart = g.stackOn && g.sr.chance(60)
	g.plan()
	g.build()
	return g.b.encode(), g.f
}

// plan decides the module's shape: memory, globals, tables, segments, which operations and
// imports it uses, and its functions.
func (g *gen) plan() {
	r := g.r
	g.memMin = 1 + uint32(r.intn(2))
	g.memMax = g.memMin + uint32(r.intn(int(maxPages-g.memMin)+1))
	g.scratch = 8 * uint32(r.intn((65536-scratchSize-inCap)/8+1))
	g.in = g.scratch + scratchSize
	g.readCap = inCap
	if r.chance(20) {
		g.readCap = 1 + uint32(r.intn(24))
		g.f.PartialRead = true
	}

	// Globals: the first one is a mutable i32, so that there is always somewhere to put an i32.
	g.globals = append(g.globals, globalInfo{t: tI32, mut: true, exported: r.chance(35)})
	for n := r.intn(7); n > 0; n-- {
		g.globals = append(g.globals, globalInfo{t: pick(r, tI32, tI64, tF32, tF64), mut: r.chance(70), exported: r.chance(35)})
	}
	if r.chance(35) {
		g.fg = len(g.globals)
		g.globals = append(g.globals, globalInfo{t: tFuncref, mut: true, exported: r.chance(30)})
		g.f.FuncrefGlobal = true
	}
	for _, gl := range g.globals {
		switch {
		case !gl.mut:
			g.f.ImmutableGlobal = true
		case gl.t == tI32:
			g.f.GlobalI32 = true
		case gl.t == tI64:
			g.f.GlobalI64 = true
		case gl.t == tF32:
			g.f.GlobalF32 = true
		case gl.t == tF64:
			g.f.GlobalF64 = true
		}
		g.f.ExportedGlobal = g.f.ExportedGlobal || gl.exported
	}

	// Tables and the element functions.
	nt := 1
	if r.chance(45) {
		nt = 2
		g.f.TwoTables = true
	}
	for range nt {
		t := tableInfo{min: 1 + uint32(r.intn(4)), hasMax: r.chance(80)}
		t.max = t.min + uint32(r.intn(13))
		g.f.TableNoMax = g.f.TableNoMax || !t.hasMax
		g.tables = append(g.tables, t)
	}
	for i := range 2 + r.intn(6) {
		g.elemConsts = append(g.elemConsts, int32(uint32(i+1)<<24|r.u32()&0xFFFFFF))
	}

	// Data segments.
	minBytes := g.memMin * 65536
	for range 3 {
		if r.chance(45) {
			b := g.randBytes(1 + r.intn(64))
			n := uint32(len(b))
			var off uint32
			switch r.intn(4) {
			case 0: // straddling a 4 KiB boundary
				off = (1+uint32(r.intn(int(minBytes/4096-1))))*4096 - uint32(r.intn(int(n)))
			case 1: // over the scratch area and input buffer
				off = g.scratch + uint32(r.intn(scratchSize+inCap-int(n)+1))
			default:
				off = uint32(r.intn(int(minBytes - n + 1)))
			}
			g.datas = append(g.datas, dataSeg{offset: off, bytes: b})
			g.f.ActiveData = true
		}
		if r.chance(45) {
			g.datas = append(g.datas, dataSeg{passive: true, bytes: g.randBytes(1 + r.intn(48))})
			g.f.PassiveData = true
		}
	}

	// Element segments; the declarative one lets the code use ref.func on every element
	// function.
	for t, ti := range g.tables {
		if r.chance(60) {
			off := uint32(r.intn(int(ti.min)))
			s := elemSeg{flags: pick[byte](r, elemActiveFuncs, elemActiveExprs), table: uint32(t), offset: off}
			if t == 0 && r.chance(50) {
				s.flags = elemActive0Funcs
			}
			s.funcs = g.elemFuncs(1+r.intn(int(ti.min-off)), s.flags == elemActiveExprs)
			g.elems = append(g.elems, s)
			g.f.ActiveElem = true
		}
	}
	for range 2 {
		if r.chance(50) {
			s := elemSeg{flags: pick[byte](r, elemPassiveFuncs, elemPassiveExprs)}
			s.funcs = g.elemFuncs(1+r.intn(6), s.flags == elemPassiveExprs)
			g.elems = append(g.elems, s)
			g.f.PassiveElem = true
		}
	}
	all := make([]int, len(g.elemConsts))
	for i := range all {
		all[i] = i
	}
	g.elems = append(g.elems, elemSeg{flags: elemDeclaredFuncs, funcs: all})
	for i := len(g.elems) - 1; i > 0; i-- { // shuffle the segment indices
		j := r.intn(i + 1)
		g.elems[i], g.elems[j] = g.elems[j], g.elems[i]
	}

	// Operations and their imports.
	for k, info := range kinds {
		g.enabled[k] = r.chance(info.pct)
	}
	for _, tk := range allTraps {
		if r.chance(75) {
			g.traps = append(g.traps, tk)
		}
	}
	if len(g.traps) == 0 {
		g.enabled[kTrap] = false
	}
	names := []string{"fd_read", "fd_write", "fd_fdstat_get"}
	for _, kn := range []struct {
		k    kind
		name string
	}{{kRandom, "random_get"}, {kClock, "clock_time_get"}, {kFdClose, "fd_close"},
		{kSetFlags, "fd_fdstat_set_flags"}, {kProcExit, "proc_exit"}, {kArgsEnv, "args_sizes_get"}, {kArgsEnv, "environ_sizes_get"}} {
		if g.enabled[kn.k] {
			names = append(names, kn.name)
		}
	}
	for i := len(names) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		names[i], names[j] = names[j], names[i]
	}
	g.wasiNames = names
	g.wasi = map[string]uint32{}
	for i, name := range names {
		g.wasi[name] = uint32(i)
	}

	// Functions: imports, element functions, hex, observe, reclave_handle, then the init
	// functions.
	n := uint32(len(names))
	g.fnElem0 = n
	n += uint32(len(g.elemConsts))
	g.fnHex, g.fnObs, g.fnHandle = n, n+1, n+2
	n += 3
	for _, p := range []*int{&g.fnStart, &g.fnInit, &g.fnRini} {
		if r.chance(50) {
			*p = int(n)
			n++
		}
	}
	g.f.StartFunc, g.f.Initialize, g.f.ReclaveInit = g.fnStart >= 0, g.fnInit >= 0, g.fnRini >= 0
	g.status = r.chance(40)
	g.f.StatusResult = g.status
	g.f.ObserveDrops = r.chance(50)
}

func (g *gen) randBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.next())
	}
	return b
}

// elemFuncs returns n element function ordinals, with nulls when withNull.
func (g *gen) elemFuncs(n int, withNull bool) []int {
	fs := make([]int, n)
	for i := range fs {
		fs[i] = g.r.intn(len(g.elemConsts))
		if withNull && g.r.chance(25) {
			fs[i] = -1
		}
	}
	return fs
}

// wasiSigs are the signatures of the WASI functions a hostile module may import.
var wasiSigs = map[string]funcType{
	"fd_read":             {[]valType{tI32, tI32, tI32, tI32}, []valType{tI32}},
	"fd_write":            {[]valType{tI32, tI32, tI32, tI32}, []valType{tI32}},
	"fd_fdstat_get":       {[]valType{tI32, tI32}, []valType{tI32}},
	"fd_fdstat_set_flags": {[]valType{tI32, tI32}, []valType{tI32}},
	"fd_close":            {[]valType{tI32}, []valType{tI32}},
	"random_get":          {[]valType{tI32, tI32}, []valType{tI32}},
	"clock_time_get":      {[]valType{tI32, tI64, tI32}, []valType{tI32}},
	"proc_exit":           {[]valType{tI32}, nil},
	"args_sizes_get":      {[]valType{tI32, tI32}, []valType{tI32}},
	"environ_sizes_get":   {[]valType{tI32, tI32}, []valType{tI32}},
}

// build fills the builder: sections, then the functions' bodies.
func (g *gen) build() {
	b, r := &g.b, g.r
	b.start = -1
	b.useCount = true
	g.tyVoid = b.typeIdx(nil, nil)
	g.tyI32 = b.typeIdx(nil, []valType{tI32})
	for _, name := range g.wasiNames {
		s := wasiSigs[name]
		b.imports = append(b.imports, importDef{"wasi_snapshot_preview1", name, b.typeIdx(s.params, s.results)})
	}
	b.memory = &limits{min: g.memMin, max: g.memMax, hasMax: true}
	b.exports = append(b.exports, exportDef{"memory", extMemory, 0})
	for i, t := range g.tables {
		b.tables = append(b.tables, limits(t))
		if r.chance(25) {
			b.exports = append(b.exports, exportDef{"table" + string(rune('0'+i)), extTable, uint32(i)})
			g.f.ExportedTable = true
		}
	}
	for i, gl := range g.globals {
		e := emitter{}
		switch gl.t {
		case tI32:
			e.i32c(g.constI32())
			if i == 0 && g.stackStart {
				e = emitter{}
				e.u32c(stackRoom + uint32(g.sr.intn(int(g.memMin*65536-2*stackRoom-pastSpan))))
			}
		case tI64:
			e.i64c(int64(r.u64()))
		case tF32:
			e.f32c(r.u32())
		case tF64:
			e.f64c(r.u64())
		case tFuncref:
			if r.chance(30) {
				e.refNull()
			} else {
				e.refFunc(g.fnElem0 + uint32(r.intn(len(g.elemConsts))))
			}
		}
		b.globals = append(b.globals, globalDef{gl.t, gl.mut, e.b})
		if gl.exported {
			b.exports = append(b.exports, exportDef{"g" + itoa(i), extGlobal, uint32(i)})
		}
	}
	for _, s := range g.datas {
		if s.passive {
			b.datas = append(b.datas, dataSegment(dataPassive, 0, s.bytes))
		} else {
			b.datas = append(b.datas, dataSegment(pick[byte](r, dataActive0, dataActiveExplicit), s.offset, s.bytes))
		}
	}
	for _, s := range g.elems {
		fs := make([]uint32, len(s.funcs))
		for i, f := range s.funcs {
			fs[i] = nullFunc
			if f >= 0 {
				fs[i] = g.fnElem0 + uint32(f)
			}
		}
		b.elems = append(b.elems, elemSegment(s.flags, s.table, s.offset, fs))
	}

	// Bodies, in an order that lets later ones know what earlier ones may have dropped: the
	// init functions in the order they run, then reclave_handle, then the observation.
	type body struct {
		idx int
		def funcDef
	}
	var bodies []body
	for i, c := range g.elemConsts {
		e := emitter{}
		e.i32c(c)
		bodies = append(bodies, body{int(g.fnElem0) + i, funcDef{typ: g.tyI32, body: e.b}})
	}
	bodies = append(bodies, body{int(g.fnHex), g.hexFunc()})
	for _, p := range []struct {
		idx  int
		name string
	}{{g.fnStart, ""}, {g.fnInit, "_initialize"}, {g.fnRini, "reclave_init"}} {
		if p.idx < 0 {
			continue
		}
		bodies = append(bodies, body{p.idx, g.initFunc()})
		if p.name == "" {
			b.start = p.idx
		} else {
			b.exports = append(b.exports, exportDef{p.name, extFunc, uint32(p.idx)})
		}
	}
	bodies = append(bodies, body{int(g.fnHandle), g.handleFunc()})
	b.exports = append(b.exports, exportDef{"reclave_handle", extFunc, g.fnHandle})
	bodies = append(bodies, body{int(g.fnObs), g.observeFunc()})
	b.funcs = make([]funcDef, len(bodies))
	for _, bd := range bodies {
		b.funcs[bd.idx-len(b.imports)] = bd.def
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// constI32 returns an i32 constant, often one at an edge.
func (g *gen) constI32() int32 {
	r := g.r
	switch r.intn(4) {
	case 0:
		return pick[int32](r, 0, 1, -1, 2, 8, 0x7FFFFFFF, -0x80000000, 4095, 4096, 65535, 65536)
	case 1:
		return int32(r.intn(256))
	}
	return int32(r.u32())
}

// hexFunc returns hex(ptr i32, v i64): writes v as 16 lower-case hex digits at ptr.
func (g *gen) hexFunc() funcDef {
	const ptr, v, i, nib = 0, 1, 2, 3
	e := emitter{}
	e.op(opLoop, blockVoid)
	e.localGet(v)
	e.i64c(60)
	e.op(opI64ShrU, opI32WrapI64)
	e.localSet(nib)
	e.localGet(ptr)
	e.localGet(i)
	e.op(opI32Add)
	e.localGet(nib)
	e.i32c('0')
	e.op(opI32Add)
	e.localGet(nib)
	e.i32c(9)
	e.op(opI32GtU)
	e.i32c('a' - '0' - 10)
	e.op(opI32Mul, opI32Add)
	e.mem(opI32Store8, 0, 0)
	e.localGet(v)
	e.i64c(4)
	e.op(opI64Shl)
	e.localSet(v)
	e.localGet(i)
	e.i32c(1)
	e.op(opI32Add)
	e.localTee(i)
	e.i32c(16)
	e.op(opI32LtU)
	e.opIdx(opBrIf, 0)
	e.op(opEnd)
	return funcDef{typ: g.b.typeIdx([]valType{tI32, tI64}, nil), locals: []valType{tI32, tI32}, body: e.b}
}

// initFunc returns a start, _initialize or reclave_init function: it reads state and writes
// what it read into other state, starting with one such transfer for certain.
func (g *gen) initFunc() funcDef {
	fc := &fctx{g: g, init: true, budget: 2 + g.r.intn(9)}
	fc.transfer()
	fc.stmts(fc.budget)
	return funcDef{typ: g.tyVoid, locals: fc.locals, body: fc.e.b}
}

// handleFunc returns reclave_handle: observe, read the input, run the operations, observe
// again, and return a status when the module has one.
func (g *gen) handleFunc() funcDef {
	fc := &fctx{g: g, budget: 4 + g.r.intn(28)}
	e := &fc.e
	total, n, iter := fc.local(tI32), fc.local(tI32), fc.local(tI32)
	fc.inLen = total
	e.i32c(0)
	e.call(g.fnObs)

	// Read the input: at most readCap bytes, at most 16 reads.
	s := g.scratch
	e.op(opBlock, blockVoid, opLoop, blockVoid)
	e.u32c(s + sIov)
	e.u32c(g.in)
	e.localGet(total)
	e.op(opI32Add)
	e.mem(opI32Store, 2, 0)
	e.u32c(s + sIov)
	e.u32c(g.readCap)
	e.localGet(total)
	e.op(opI32Sub)
	e.mem(opI32Store, 2, 4)
	e.i32c(0)
	e.u32c(s + sIov)
	e.i32c(1)
	e.u32c(s + sNum)
	e.call(g.wasi["fd_read"])
	e.opIdx(opBrIf, 1)
	e.u32c(s + sNum)
	e.mem(opI32Load, 2, 0)
	e.localTee(n)
	e.op(opI32Eqz)
	e.opIdx(opBrIf, 1)
	e.localGet(total)
	e.localGet(n)
	e.op(opI32Add)
	e.localTee(total)
	e.u32c(g.readCap)
	e.op(opI32GeU)
	e.opIdx(opBrIf, 1)
	e.localGet(iter)
	e.i32c(1)
	e.op(opI32Add)
	e.localTee(iter)
	e.i32c(16)
	e.op(opI32GeU)
	e.opIdx(opBrIf, 1)
	e.opIdx(opBr, 0)
	e.op(opEnd, opEnd)

	if g.stackStart {
		r := g.r
		g.r = g.sr
		fc.stackEntry()
		g.r = r
	}
	fc.stmts(fc.budget)

	e.i32c(1)
	e.call(g.fnObs)
	typ := g.tyVoid
	if g.status {
		fc.cond()
		typ = g.tyI32
	}
	return funcDef{typ: typ, locals: fc.locals, body: e.b}
}

// observeFunc returns observe(phase i32): it digests memory (size and every byte), every
// global, every table (size, and per slot null or the element function's result), probes the
// passive segments when the module does, digests the state of descriptors 0, 1 and 2, and
// writes the line "o<phase> m=… g=… t=… f=…\n" to stdout.
func (g *gen) observeFunc() funcDef {
	fc := &fctx{g: g, nparam: 1}
	e := &fc.e
	const phase = 0
	hm, hg, ht, hf := fc.local(tI64), fc.local(tI64), fc.local(tI64), fc.local(tI64)
	i, n := fc.local(tI32), fc.local(tI32)
	mix := func(h uint32) {
		e.localGet(h)
		e.op(opI64Xor)
		e.i64c(mixMul)
		e.op(opI64Mul)
		e.i64c(mixRot)
		e.op(opI64Rotl)
		e.localSet(h)
	}
	// Memory: its size, then every byte, 64 bytes per iteration in four independent lanes,
	// folded at the end. (Few iterations: a runtime may check for interrupts at each.)
	e.memorySize()
	e.op(opI64ExtendI32U)
	mix(hm)
	lanes := [4]uint32{hm, fc.local(tI64), fc.local(tI64), fc.local(tI64)}
	e.memBytes()
	e.localSet(n)
	e.op(opBlock, blockVoid, opLoop, blockVoid)
	e.localGet(i)
	e.localGet(n)
	e.op(opI32GeU)
	e.opIdx(opBrIf, 1)
	for k := range 8 {
		e.localGet(i)
		e.mem(opI64Load, 3, uint32(8*k))
		mix(lanes[k%4])
	}
	e.localGet(i)
	e.i32c(64)
	e.op(opI32Add)
	e.localSet(i)
	e.opIdx(opBr, 0)
	e.op(opEnd, opEnd)
	for _, h := range lanes[1:] {
		e.localGet(h)
		mix(hm)
	}

	// Globals.
	for gi, gl := range g.globals {
		if gl.t == tFuncref {
			// Null, or the result of calling it (through slot 0 of table 0, restored after).
			r := fc.local(tFuncref)
			e.globalGet(uint32(gi))
			e.op(opRefIsNull, opIf, byte(tI64))
			e.i64c(-1)
			e.op(opElse)
			e.i32c(0)
			e.tableGet(0)
			e.localSet(r)
			e.i32c(0)
			e.globalGet(uint32(gi))
			e.tableSet(0)
			e.i32c(0)
			e.callIndirect(g.tyI32, 0)
			e.op(opI64ExtendI32U)
			e.i32c(0)
			e.localGet(r)
			e.tableSet(0)
			e.op(opEnd)
		} else {
			e.globalGet(uint32(gi))
			fc.toI64(gl.t)
		}
		mix(hg)
	}

	// Tables: size, then per slot -1 for null or the element function's result.
	for t := range g.tables {
		e.tableSize(uint32(t))
		e.localTee(n)
		e.op(opI64ExtendI32U)
		mix(ht)
		e.i32c(0)
		e.localSet(i)
		e.op(opBlock, blockVoid, opLoop, blockVoid)
		e.localGet(i)
		e.localGet(n)
		e.op(opI32GeU)
		e.opIdx(opBrIf, 1)
		e.localGet(i)
		e.tableGet(uint32(t))
		e.op(opRefIsNull, opIf, byte(tI64))
		e.i64c(-1)
		e.op(opElse)
		e.localGet(i)
		e.callIndirect(g.tyI32, uint32(t))
		e.op(opI64ExtendI32U)
		e.op(opEnd)
		mix(ht)
		e.localGet(i)
		e.i32c(1)
		e.op(opI32Add)
		e.localSet(i)
		e.opIdx(opBr, 0)
		e.op(opEnd, opEnd)
	}

	// Passive segments: an init of 0 bytes from the segment's end traps iff it was dropped.
	if g.f.ObserveDrops {
		probed := false
		for d, s := range g.datas {
			if s.passive && !g.initDropped[d] {
				e.i32c(0)
				e.i32c(int32(len(s.bytes)))
				e.i32c(0)
				e.memoryInit(uint32(d))
				probed = true
			}
		}
		for k, s := range g.elems {
			if s.passive() && !g.initDroppedE[k] {
				e.i32c(0)
				e.i32c(int32(len(s.funcs)))
				e.i32c(0)
				e.tableInit(uint32(k), 0)
				probed = true
			}
		}
		g.f.ObserveDrops = probed
	}

	// Descriptors: fdstat of 0, 1, 2 (errno and the 24 bytes), writes of nothing to 1 and 2,
	// a read of nothing from 0.
	s := g.scratch
	for fd := int32(0); fd < 3; fd++ {
		for off := uint32(0); off < 24; off += 8 {
			e.u32c(s + sStat)
			e.i64c(0)
			e.mem(opI64Store, 3, off)
		}
		e.i32c(fd)
		e.u32c(s + sStat)
		e.call(g.wasi["fd_fdstat_get"])
		e.op(opI64ExtendI32U)
		mix(hf)
		for off := uint32(0); off < 24; off += 8 {
			e.u32c(s + sStat)
			e.mem(opI64Load, 3, off)
			mix(hf)
		}
	}
	for _, c := range []struct {
		fd int32
		fn string
	}{{1, "fd_write"}, {2, "fd_write"}, {0, "fd_read"}} {
		e.i32c(c.fd)
		e.u32c(s + sIov)
		e.i32c(0)
		e.u32c(s + sNum)
		e.call(g.wasi[c.fn])
		e.op(opI64ExtendI32U)
		mix(hf)
	}

	// The line.
	line := s + sLine
	for k := 0; k < lineLen; k++ {
		if c := lineTemplate[k]; c != '#' && c != '?' {
			e.u32c(line + uint32(k))
			e.i32c(int32(c))
			e.mem(opI32Store8, 0, 0)
		}
	}
	e.u32c(line + 1)
	e.localGet(phase)
	e.i32c('0')
	e.op(opI32Add)
	e.mem(opI32Store8, 0, 0)
	for k, h := range []uint32{hm, hg, ht, hf} {
		e.u32c(line + 5 + uint32(k)*19)
		e.localGet(h)
		e.call(g.fnHex)
	}
	e.u32c(s + sIov)
	e.u32c(line)
	e.mem(opI32Store, 2, 0)
	e.u32c(s + sIov)
	e.i32c(int32(lineLen))
	e.mem(opI32Store, 2, 4)
	e.i32c(1)
	e.u32c(s + sIov)
	e.i32c(1)
	e.u32c(s + sNum)
	e.call(g.wasi["fd_write"])
	e.op(opDrop)
	return funcDef{typ: g.b.typeIdx([]valType{tI32}, nil), locals: fc.locals, body: e.b}
}
