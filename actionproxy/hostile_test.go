package actionproxy_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/reclave/reclave/actionproxy"
	"github.com/reclave/reclave/enclave"
)

// TestHostileFunction: the red team's findings through reclave serve. A /run that forces the
// instance to be re-created must not let the next caller learn what it sent (the leak
// through the recycle path: one caller's input came back to another), and a function that
// loops must not wedge the server: its /run fails at the deadline, and a caller waiting
// meanwhile is served after it.
func TestHostileFunction(t *testing.T) {
	code, err := os.ReadFile("testdata/hostile.wasm")
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"rewind", "reinstantiate"} {
		t.Run(mode, func(t *testing.T) {
			reset, oneShot, err := actionproxy.ResetFor(mode)
			if err != nil {
				t.Fatal(err)
			}
			p := &proxy{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
			startProxyWith(t, p, actionproxy.Options{
				Enclave: enclave.Config{MemoryBytes: testMemory, Reset: reset, OneShot: oneShot},
				Stdout:  p.stdout, Stderr: p.stderr,
			})
			env := map[string]string{actionproxy.EnvDeadline: "300ms"}
			if status, _, raw := p.post(t, "/init", initBody("hostile", "", code, env)); status != 200 {
				t.Fatalf("init: %d %s", status, raw)
			}
			deadline := time.Now().Add(time.Minute)
			for i, value := range []string{`{"T":1}`, `{"o":1}`, `{"T":2}`, `{"T":3}`, `{"o":2}`} {
				status, _, raw := p.post(t, "/run", runBody(value, deadline))
				if status != 200 || string(raw) != `{"t":0}` {
					t.Fatalf("run %d (%s): %d %s, want 200 {\"t\":0} as from a fresh enclave", i, value, status, raw)
				}
			}

			// A looping function and a caller waiting behind it.
			looped := make(chan string, 1)
			go func() {
				resp, err := http.Post(p.url+"/run", "application/json", bytes.NewReader(runBody(`{"L":1}`, deadline)))
				if err != nil {
					looped <- err.Error()
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				looped <- fmt.Sprintf("%d %s", resp.StatusCode, body)
			}()
			time.Sleep(50 * time.Millisecond) // the loop most likely runs now
			client := &http.Client{Timeout: 10 * time.Second}
			resp, err := client.Post(p.url+"/run", "application/json", bytes.NewReader(runBody(`{"o":3}`, deadline)))
			if err != nil {
				t.Fatalf("a caller behind a looping function: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != `{"t":0}` {
				t.Fatalf("a caller behind a looping function: %d %s", resp.StatusCode, body)
			}
			select {
			case got := <-looped:
				if !bytes.Contains([]byte(got), []byte("deadline")) || got[:3] == "200" {
					t.Fatalf("the looping run: %s, want an error naming the deadline", got)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the looping run did not end within 10 s of a 300 ms deadline")
			}
		})
	}
}
