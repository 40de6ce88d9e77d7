package actionproxy_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/reclave/reclave/actionproxy"
	"github.com/reclave/reclave/enclave"
)

// benchConfig is the enclave both benchmarks use: reclave serve's defaults, mode rewind.
var benchConfig = enclave.Config{Reset: enclave.ResetRewind, Strategy: enclave.StrategyTracked}

// BenchmarkEmbeddedInvoke is one rewound invocation of the no-op function, called directly:
// the embedded target's cost per invocation.
func BenchmarkEmbeddedInvoke(b *testing.B) {
	ctx := context.Background()
	e, err := enclave.Create(ctx, benchConfig, enclave.Function{Name: "noop", Wasm: wasmOf(b, "noop"), Kind: enclave.KindReactor})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close(ctx)
	input := []byte(`{}`)
	for b.Loop() {
		if _, err := e.Invoke(ctx, input); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServeRun is one activation of the same function through reclave serve: an HTTP
// POST /run on loopback (keep-alive), JSON decoding, the same rewound invocation, the log
// sentinels and the response. The difference to BenchmarkEmbeddedInvoke is the action proxy's
// overhead per activation.
func BenchmarkServeRun(b *testing.B) {
	// The logs go where reclave serve's go: to files (here /dev/null), one write per line.
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devNull.Close()
	p := &proxy{}
	startProxyWith(b, p, actionproxy.Options{Enclave: benchConfig, Stdout: devNull, Stderr: devNull})
	if status, _, raw := p.post(b, "/init", initBody("noop", "", wasmOf(b, "noop"), nil)); status != 200 {
		b.Fatalf("init: %d %s", status, raw)
	}
	body := runBody(`{}`, time.Now().Add(time.Hour))
	client := &http.Client{}
	for b.Loop() {
		resp, err := client.Post(p.url+"/run", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		out, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || string(out) != "{}" {
			b.Fatalf("run: %d %q %v", resp.StatusCode, out, err)
		}
	}
}

// BenchmarkLoopbackHTTP is the floor under BenchmarkServeRun: the same POST on loopback to a
// handler that only reads the body and answers {}.
func BenchmarkLoopbackHTTP(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
	})}
	go srv.Serve(l)
	defer srv.Close()
	body := runBody(`{}`, time.Now().Add(time.Hour))
	client := &http.Client{}
	for b.Loop() {
		resp, err := client.Post("http://"+l.Addr().String()+"/run", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		out, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(out) != "{}" {
			b.Fatalf("run: %q %v", out, err)
		}
	}
}
