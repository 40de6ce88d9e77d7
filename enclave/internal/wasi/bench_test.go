package wasi

import (
	"context"
	"io"
	"testing"

	"github.com/tetratelabs/wazero"
	wazerowasi "github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

var benchInput = []byte(`{"user":"alice","values":[1,2,3]}`)

// BenchmarkBeginEnd is the host's own per-invocation cost: start (input on stdin, empty
// buffers) and end (zero what was written) an invocation with a small output.
func BenchmarkBeginEnd(b *testing.B) {
	ctx, rt := newRuntime(b)
	h, err := Instantiate(ctx, rt, Config{})
	if err != nil {
		b.Fatal(err)
	}
	out := []byte(`{"count":1,"previous_input":""}`)
	b.ReportAllocs()
	for b.Loop() {
		h.Begin(benchInput)
		h.out = append(h.out, out...) // what one fd_write would leave
		h.End()
	}
}

// BenchmarkFdReadWrite is one invocation's host round trips from a guest: fd_read of the
// input, fd_read at end-of-input and one fd_write, each a call from Go into the probe's
// wrapper and from there into the host, between Begin and End.
func BenchmarkFdReadWrite(b *testing.B) {
	for _, tc := range []struct {
		name    string
		onWrite func(uint32, uint32)
	}{
		{"OnWrite=nil", func(uint32, uint32) {}},
		{"OnWrite=set", func(off, n uint32) { benchSink += off + n }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e := newProbe(b, Config{OnWrite: tc.onWrite})
			if tc.name == "OnWrite=nil" {
				e.h.onWrite = nil // newProbe would otherwise record every write
			}
			e.iovecs(iovPtr, bufPtr, 256)
			e.iovecs(iovPtr+64, bufPtr+512, 32)
			read, write := e.mod.ExportedFunction("call_fd_read"), e.mod.ExportedFunction("call_fd_write")
			stack := make([]uint64, 4)
			call := func(f interface {
				CallWithStack(context.Context, []uint64) error
			}, fd, iov uint64) {
				stack[0], stack[1], stack[2], stack[3] = fd, iov, 1, resPtr
				if err := f.CallWithStack(e.ctx, stack); err != nil || stack[0] != 0 {
					b.Fatal(err, stack[0])
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				e.h.Begin(benchInput)
				call(read, 0, iovPtr)
				call(read, 0, iovPtr)
				call(write, 1, iovPtr+64)
				e.h.End()
			}
		})
	}
}

var benchSink uint32

// BenchmarkCounterHandle is one invocation of the counter workload's reclave_handle (read
// stdin to EOF, format, write stdout) with this host, and for comparison with wazero's WASI
// and the io.Reader/io.Writer standard streams the enclave used before.
func BenchmarkCounterHandle(b *testing.B) {
	wasm := readWorkload(b, "counter")
	b.Run("host=reclave", func(b *testing.B) {
		e := newReactor(b, "counter", Config{OnWrite: func(off, n uint32) { benchSink += off + n }})
		handle := e.mod.ExportedFunction("reclave_handle")
		stack := make([]uint64, 1)
		b.ReportAllocs()
		for b.Loop() {
			e.h.Begin(benchInput)
			if err := handle.CallWithStack(e.ctx, stack); err != nil || stack[0] != 0 {
				b.Fatal(err)
			}
			if len(e.h.Output()) == 0 {
				b.Fatal("no output")
			}
			e.h.End()
		}
	})
	b.Run("host=wazero", func(b *testing.B) {
		ctx, rt := newRuntime(b)
		wazerowasi.MustInstantiate(ctx, rt)
		in := &benchReader{}
		out := &benchWriter{}
		mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions().
			WithStdin(in).WithStdout(out).WithStderr(io.Discard))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := mod.ExportedFunction("_initialize").Call(ctx); err != nil {
			b.Fatal(err)
		}
		handle := mod.ExportedFunction("reclave_handle")
		stack := make([]uint64, 1)
		b.ReportAllocs()
		for b.Loop() {
			in.data, in.off = benchInput, 0
			if err := handle.CallWithStack(ctx, stack); err != nil || stack[0] != 0 {
				b.Fatal(err)
			}
			if len(out.buf) == 0 {
				b.Fatal("no output")
			}
			clear(out.buf)
			out.buf = out.buf[:0]
		}
	})
}

type benchReader struct {
	data []byte
	off  int
}

func (r *benchReader) Read(p []byte) (int, error) {
	if r.off >= len(r.data) {
		return 0, io.EOF
	}
	n := copy(p, r.data[r.off:])
	r.off += n
	return n, nil
}

type benchWriter struct{ buf []byte }

func (w *benchWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}
