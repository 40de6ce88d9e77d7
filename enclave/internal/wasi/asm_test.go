package wasi

import (
	"strings"

	"github.com/tetratelabs/wazero/api"
)

// A minimal WebAssembly binary assembler for test modules.

// witxSignatures is WASI preview1 as wasi_snapshot_preview1.witx defines it, lowered to
// wasm32 core types (pointers, sizes, fds, u8/u16 flags: i32; u64, timestamps, filesizes,
// rights: i64). Every function returns an errno (i32) except proc_exit. Written out
// independently of the host's table so that the two are checked against each other.
var witxSignatures = map[string]string{
	"args_get":                "i32 i32",
	"args_sizes_get":          "i32 i32",
	"environ_get":             "i32 i32",
	"environ_sizes_get":       "i32 i32",
	"clock_res_get":           "i32 i32",
	"clock_time_get":          "i32 i64 i32",
	"fd_advise":               "i32 i64 i64 i32",
	"fd_allocate":             "i32 i64 i64",
	"fd_close":                "i32",
	"fd_datasync":             "i32",
	"fd_fdstat_get":           "i32 i32",
	"fd_fdstat_set_flags":     "i32 i32",
	"fd_fdstat_set_rights":    "i32 i64 i64",
	"fd_filestat_get":         "i32 i32",
	"fd_filestat_set_size":    "i32 i64",
	"fd_filestat_set_times":   "i32 i64 i64 i32",
	"fd_pread":                "i32 i32 i32 i64 i32",
	"fd_prestat_get":          "i32 i32",
	"fd_prestat_dir_name":     "i32 i32 i32",
	"fd_pwrite":               "i32 i32 i32 i64 i32",
	"fd_read":                 "i32 i32 i32 i32",
	"fd_readdir":              "i32 i32 i32 i64 i32",
	"fd_renumber":             "i32 i32",
	"fd_seek":                 "i32 i64 i32 i32",
	"fd_sync":                 "i32",
	"fd_tell":                 "i32 i32",
	"fd_write":                "i32 i32 i32 i32",
	"path_create_directory":   "i32 i32 i32",
	"path_filestat_get":       "i32 i32 i32 i32 i32",
	"path_filestat_set_times": "i32 i32 i32 i32 i64 i64 i32",
	"path_link":               "i32 i32 i32 i32 i32 i32 i32",
	"path_open":               "i32 i32 i32 i32 i32 i64 i64 i32 i32",
	"path_readlink":           "i32 i32 i32 i32 i32 i32",
	"path_remove_directory":   "i32 i32 i32",
	"path_rename":             "i32 i32 i32 i32 i32 i32",
	"path_symlink":            "i32 i32 i32 i32 i32",
	"path_unlink_file":        "i32 i32 i32",
	"poll_oneoff":             "i32 i32 i32 i32",
	"proc_exit":               "i32 -> ",
	"proc_raise":              "i32",
	"sched_yield":             "",
	"random_get":              "i32 i32",
	"sock_accept":             "i32 i32 i32",
	"sock_recv":               "i32 i32 i32 i32 i32 i32",
	"sock_send":               "i32 i32 i32 i32 i32",
	"sock_shutdown":           "i32 i32",
}

// witxSig returns the parameter and result types of a WASI function.
func witxSig(name string) (params, results []api.ValueType) {
	s := witxSignatures[name]
	results = []api.ValueType{api.ValueTypeI32}
	if p, _, ok := strings.Cut(s, "->"); ok {
		s, results = p, nil
	}
	for _, f := range strings.Fields(s) {
		t := api.ValueTypeI32
		if f == "i64" {
			t = api.ValueTypeI64
		}
		params = append(params, t)
	}
	return params, results
}

func uleb(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func wasmName(b []byte, s string) []byte { return append(uleb(b, uint64(len(s))), s...) }

func wasmSection(m []byte, id byte, body []byte) []byte {
	m = append(m, id)
	m = uleb(m, uint64(len(body)))
	return append(m, body...)
}

func wasmVec(b []byte, n int) []byte { return uleb(b, uint64(n)) }

func wasmFuncType(b []byte, params, results []api.ValueType) []byte {
	b = append(b, 0x60)
	b = wasmVec(b, len(params))
	b = append(b, params...)
	b = wasmVec(b, len(results))
	return append(b, results...)
}

// probeModule returns a module that imports each named function of wasi_snapshot_preview1
// with its witx signature and exports "call_<name>", which passes its arguments to the
// import and returns its result, and its memory ("memory", pages 64 KiB pages).
func probeModule(names []string, pages uint32) []byte {
	m := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	n := len(names)

	var types, imports, funcs, exports, code []byte
	types = wasmVec(types, n)
	imports = wasmVec(imports, n)
	funcs = wasmVec(funcs, n)
	exports = wasmVec(exports, n+1)
	code = wasmVec(code, n)
	for i, name := range names {
		params, results := witxSig(name)
		types = wasmFuncType(types, params, results)

		imports = wasmName(imports, ModuleName)
		imports = wasmName(imports, name)
		imports = append(imports, 0x00) // func
		imports = uleb(imports, uint64(i))

		funcs = uleb(funcs, uint64(i))

		exports = wasmName(exports, "call_"+name)
		exports = append(exports, 0x00)
		exports = uleb(exports, uint64(n+i)) // after the n imported functions

		var body []byte
		body = wasmVec(body, 0) // no locals
		for p := range params {
			body = append(body, 0x20) // local.get
			body = uleb(body, uint64(p))
		}
		body = append(body, 0x10) // call
		body = uleb(body, uint64(i))
		body = append(body, 0x0b) // end
		code = uleb(code, uint64(len(body)))
		code = append(code, body...)
	}
	exports = wasmName(exports, "memory")
	exports = append(exports, 0x02, 0x00)

	mem := wasmVec(nil, 1)
	mem = append(mem, 0x00) // limits: min only
	mem = uleb(mem, uint64(pages))

	m = wasmSection(m, 1, types)
	m = wasmSection(m, 2, imports)
	m = wasmSection(m, 3, funcs)
	m = wasmSection(m, 5, mem)
	m = wasmSection(m, 7, exports)
	m = wasmSection(m, 10, code)
	return m
}
