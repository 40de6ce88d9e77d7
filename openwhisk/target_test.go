package openwhisk_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reclave/reclave/openwhisk"
	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/workloads"
)

func wasmOf(t testing.TB, name string) []byte {
	t.Helper()
	all, err := workloads.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range all {
		if w.Name == name {
			wasm, err := w.Wasm()
			if err != nil {
				t.Fatal(err)
			}
			return wasm
		}
	}
	t.Fatalf("no workload %s", name)
	return nil
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	props := filepath.Join(dir, "wskprops")
	os.WriteFile(props, []byte("APIHOST=whisk.example:443\nAUTH=uuid:key\nNAMESPACE=ns1\n# a comment\n"), 0o644)
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o755)
	os.WriteFile(filepath.Join(home, ".wskprops"), []byte("APIHOST=https://home.example\nAUTH=home:key\n"), 0o644)
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(empty, 0o755)

	tests := []struct {
		name    string
		env     map[string]string
		want    openwhisk.Config
		wantErr string
	}{
		{"WSK_CONFIG_FILE", map[string]string{"WSK_CONFIG_FILE": props, "HOME": home},
			openwhisk.Config{APIHost: "whisk.example:443", AuthKey: "uuid:key", Namespace: "ns1"}, ""},
		{"~/.wskprops", map[string]string{"HOME": home},
			openwhisk.Config{APIHost: "https://home.example", AuthKey: "home:key"}, ""},
		{"environment overrides the file", map[string]string{"HOME": home, "__OW_API_HOST": "10.0.0.1:31001", "__OW_NAMESPACE": "ns2", "__OW_IGNORE_CERTS": "TRUE"},
			openwhisk.Config{APIHost: "10.0.0.1:31001", AuthKey: "home:key", Namespace: "ns2", Insecure: true}, ""},
		{"environment only", map[string]string{"HOME": empty, "__OW_API_HOST": "h", "__OW_API_KEY": "u:k"},
			openwhisk.Config{APIHost: "h", AuthKey: "u:k"}, ""},
		{"missing WSK_CONFIG_FILE", map[string]string{"WSK_CONFIG_FILE": filepath.Join(dir, "none"), "__OW_API_HOST": "h", "__OW_API_KEY": "u:k"},
			openwhisk.Config{}, "WSK_CONFIG_FILE"},
		{"no host", map[string]string{"HOME": empty, "__OW_API_KEY": "u:k"}, openwhisk.Config{}, "__OW_API_HOST"},
		{"no key", map[string]string{"HOME": empty, "__OW_API_HOST": "h"}, openwhisk.Config{}, "__OW_API_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := openwhisk.LoadConfigFrom(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// invokeAndCheck invokes and checks the activation against the test double's truth and the
// record the target makes of it.
func invokeAndCheck(t *testing.T, d *controller, tgt *openwhisk.Target, action, input string) *openwhisk.Activation {
	t.Helper()
	a, err := tgt.Invoke(context.Background(), action, []byte(input))
	if err != nil {
		t.Fatalf("invoke %s %s: %v", action, input, err)
	}
	cold, known := d.wasCold(a.ID)
	if !known {
		t.Fatalf("activation %s unknown to the controller", a.ID)
	}
	if a.Cold != cold {
		t.Errorf("activation %s: classified cold=%v, the controller started a container: %v", a.ID, a.Cold, cold)
	}
	base := results.Record{Workload: action, Size: "test", Load: "closed", Concurrency: 1, InputBytes: len(input)}
	r := a.Record(base)
	want := map[bool]string{true: "cold", false: "warm"}[cold]
	switch {
	case r.Target != "openwhisk" || r.Mode != want || r.SchemaVersion != results.SchemaVersion:
		t.Errorf("record target %q mode %q schema %d, want openwhisk %s %d", r.Target, r.Mode, r.SchemaVersion, want, results.SchemaVersion)
	case r.Workload != action || r.InputBytes != len(input) || r.Load != "closed":
		t.Errorf("record lost the driver's fields: %+v", r)
	case !cold && r.InitNs != 0:
		t.Errorf("warm record with init_ns %d", r.InitNs)
	case r.ProviderNs != a.Duration.Nanoseconds() || r.WaitNs != a.WaitTime.Nanoseconds():
		t.Errorf("record provider_ns %d wait_ns %d, activation %v %v", r.ProviderNs, r.WaitNs, a.Duration, a.WaitTime)
	case r.LatencyNs <= 0 || r.LatencyNs < r.ProviderNs || r.ResponseNs != r.LatencyNs:
		// The platform's duration lies within the client's round trip.
		t.Errorf("record latency_ns %d response_ns %d provider_ns %d", r.LatencyNs, r.ResponseNs, r.ProviderNs)
	case r.OutputBytes != len(a.Result) || r.OutputSHA256 != sha(string(a.Result)):
		t.Errorf("record output %d bytes %s, result %s", r.OutputBytes, r.OutputSHA256, a.Result)
	case r.Error != a.Error || r.ErrorKind != a.ErrorKind:
		t.Errorf("record error %q (%s), activation %q (%s)", r.Error, r.ErrorKind, a.Error, a.ErrorKind)
	case a.Cold && a.Duration < a.InitTime:
		t.Errorf("cold activation: duration %v shorter than its init %v", a.Duration, a.InitTime)
	}
	return a
}

// TestTargetAgainstTestDouble deploys and invokes reclave functions through openwhisk-client-go
// against the test double of an OpenWhisk deployment, whose containers are `reclave serve`
// processes: the target must classify every activation as the double ran it (a fresh container
// and /init, or a warm one), sequentially, after failures, under concurrency, and when the
// platform answers 202 before the activation ends.
func TestTargetAgainstTestDouble(t *testing.T) {
	d := newController(t, "rewind")
	ctx := context.Background()
	tgt, err := openwhisk.NewTarget(openwhisk.Config{APIHost: d.srv.URL, AuthKey: d.auth, Namespace: "guest"})
	if err != nil {
		t.Fatal(err)
	}
	counter := wasmOf(t, "counter")
	opts := openwhisk.DeployOptions{Image: "reclave/serve:test", MemoryMB: 256, Timeout: time.Minute}
	if err := tgt.Deploy(ctx, "counter", counter, opts); err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	a := d.actions["counter"]
	d.mu.Unlock()
	if got, _ := base64.StdEncoding.DecodeString(a.Exec.Code); a.Exec.Kind != "blackbox" || a.Exec.Image != opts.Image || !a.Exec.Binary || string(got) != string(counter) {
		t.Fatalf("deployed action: kind %q image %q binary %v, code intact %v", a.Exec.Kind, a.Exec.Image, a.Exec.Binary, string(got) == string(counter))
	}
	if a.Limits["memory"] != 256 || a.Limits["timeout"] != 60000 {
		t.Errorf("deployed limits %v", a.Limits)
	}

	t.Run("errors without an activation", func(t *testing.T) {
		bad, err := openwhisk.NewTarget(openwhisk.Config{APIHost: d.srv.URL, AuthKey: "someone:else"})
		if err != nil {
			t.Fatal(err)
		}
		if err := bad.Deploy(ctx, "x", counter, opts); err == nil || !strings.Contains(err.Error(), "authentication") {
			t.Errorf("deploy with a wrong key: %v", err)
		}
		for _, tc := range []struct{ action, input, want string }{
			{"nothing", `{}`, "does not exist"},
			{"counter", `[1]`, "JSON object"},
			{"counter", `{"user":`, "JSON object"},
		} {
			if a, err := tgt.Invoke(ctx, tc.action, []byte(tc.input)); err == nil || a != nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("invoke %s %s: %v, %v; want an error naming %q", tc.action, tc.input, a, err, tc.want)
			}
		}
		for _, o := range []openwhisk.DeployOptions{{}, {Image: "i", MemoryMB: -1}} {
			if err := tgt.Deploy(ctx, "y", counter, o); err == nil {
				t.Errorf("deploy with %+v: no error", o)
			}
		}
		if err := tgt.Deploy(ctx, "y", []byte("not wasm"), opts); err == nil {
			t.Error("deploy of a non-module: no error")
		}
	})

	t.Run("sequential", func(t *testing.T) {
		steps := []struct {
			input, result, errKind string
			cold                   bool
		}{
			{`{"user":"alice"}`, `{"count":1,"previous_input":""}`, "", true},
			{`{"user":"bob"}`, `{"count":1,"previous_input":""}`, "", false},
			{`{"trap":true}`, "", "trap", false},
			{`{"user":"carol"}`, `{"count":1,"previous_input":""}`, "", false},
		}
		for i, st := range steps {
			a := invokeAndCheck(t, d, tgt, "counter", st.input)
			if a.Cold != st.cold || a.ErrorKind != st.errKind || (st.result != "" && string(a.Result) != st.result) {
				t.Errorf("step %d %s: cold %v, error %q (%s), result %s", i, st.input, a.Cold, a.Error, a.ErrorKind, a.Result)
			}
			if st.errKind != "" {
				if a.Success || a.Status != openwhisk.StatusApplicationError {
					t.Errorf("step %d: status %q success %v", i, a.Status, a.Success)
				}
				if !slices.ContainsFunc(a.Logs, func(l string) bool { return strings.HasSuffix(l, `stderr: counter: "trap":true, trapping`) }) {
					t.Errorf("step %d: the function's log is not in the activation's logs: %q", i, a.Logs)
				}
			}
		}
		if n, inits := d.stats(); n != 1 || inits != 1 {
			t.Errorf("%d containers started, %d /init calls; want 1 and 1", n, inits)
		}
	})

	t.Run("the function's own error result", func(t *testing.T) {
		if err := tgt.Deploy(ctx, "json-stats", wasmOf(t, "json-stats"), opts); err != nil {
			t.Fatal(err)
		}
		a := invokeAndCheck(t, d, tgt, "json-stats", `{"values":"none"}`)
		if !a.Cold || a.Success || a.ErrorKind != "function" || a.Status != openwhisk.StatusApplicationError {
			t.Errorf("activation: cold %v success %v %s %q (%s)", a.Cold, a.Success, a.Status, a.Error, a.ErrorKind)
		}
		if a := invokeAndCheck(t, d, tgt, "json-stats", `{"values":[1,2,3]}`); a.Cold || !a.Success {
			t.Errorf("next activation: cold %v success %v", a.Cold, a.Success)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		const workers, each = 4, 5
		if err := tgt.Deploy(ctx, "noop", wasmOf(t, "noop"), opts); err != nil {
			t.Fatal(err)
		}
		before, _ := d.stats()
		// Four arrivals at once find no warm container: four containers start, four cold starts.
		d.mu.Lock()
		d.barrier = newBarrier(workers)
		d.mu.Unlock()
		var wg sync.WaitGroup
		colds := make(chan bool, workers*each)
		for range workers {
			wg.Go(func() { colds <- invokeAndCheck(t, d, tgt, "noop", `{}`).Cold })
		}
		wg.Wait()
		d.mu.Lock()
		d.barrier = nil
		d.mu.Unlock()
		if after, _ := d.stats(); after-before != workers {
			t.Errorf("%d containers started for %d simultaneous arrivals", after-before, workers)
		}
		for range workers {
			if !<-colds {
				t.Error("a simultaneous arrival was not a cold start")
			}
		}
		// Four workers at a time never outnumber the warm pool: every activation is warm.
		for range workers {
			wg.Go(func() {
				for range each {
					colds <- invokeAndCheck(t, d, tgt, "noop", `{}`).Cold
				}
			})
		}
		wg.Wait()
		close(colds)
		for cold := range colds {
			if cold {
				t.Error("a cold start although a warm container was idle")
			}
		}
		if after, _ := d.stats(); after-before != workers {
			t.Errorf("%d containers for the action after the warm phase, want %d", after-before, workers)
		}
	})

	t.Run("202: the activation outlives the blocking wait", func(t *testing.T) {
		d.mu.Lock()
		d.blockingTimeout, d.gets = time.Nanosecond, 0
		d.mu.Unlock()
		defer func() {
			d.mu.Lock()
			d.blockingTimeout = 0
			d.mu.Unlock()
		}()
		a := invokeAndCheck(t, d, tgt, "counter", `{"user":"dave"}`)
		if string(a.Result) != `{"count":1,"previous_input":""}` || a.Cold {
			t.Errorf("activation: cold %v result %s", a.Cold, a.Result)
		}
		d.mu.Lock()
		gets := d.gets
		d.mu.Unlock()
		if gets == 0 {
			t.Error("the target did not read the activation record")
		}
		// The client that read the record (namespace "_" since) invokes next: in "guest".
		d.mu.Lock()
		d.blockingTimeout = 0
		d.mu.Unlock()
		invokeAndCheck(t, d, tgt, "counter", `{"user":"erin"}`)
	})

	// Activations.Get switches a client to namespace "_": every invocation still used "guest".
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ns := range d.namespaces {
		if ns != "guest" {
			t.Fatalf("an invocation went to namespace %q, not the configured guest: %v", ns, d.namespaces)
		}
	}
	if len(d.namespaces) == 0 {
		t.Fatal("no invocation reached the controller")
	}
}
