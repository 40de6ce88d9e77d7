package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"github.com/reclave/reclave/actionproxy"
	"github.com/reclave/reclave/enclave"
)

// fakeWhisk is a minimal stand-in for an OpenWhisk controller, enough to test the harness's
// wiring of target openwhisk: it stores actions (PUT) and answers blocking invocations (POST)
// from an action proxy in this process — the first activation of an action cold (it calls
// /init and records initTime), the later ones warm. The openwhisk package's own tests use a
// fuller test double with reclave serve processes.
type fakeWhisk struct {
	mu          sync.Mutex
	servers     map[string]*httptest.Server // per action: its one container
	pendingInit map[string][]byte           // per action: the /init its container still needs
	n           int
}

var fakeActionPath = regexp.MustCompile(`^/api/v1/namespaces/[^/]+/actions/([^/]+)$`)

func (f *fakeWhisk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := fakeActionPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method {
	case http.MethodPut:
		var a struct {
			Exec struct {
				Code string `json:"code"`
				Main string `json:"main"`
			} `json:"exec"`
		}
		if err := json.Unmarshal(body, &a); err != nil {
			http.Error(w, `{"error":"bad action"}`, http.StatusBadRequest)
			return
		}
		srv := httptest.NewServer(actionproxy.New(actionproxy.Options{Enclave: enclave.Config{MemoryBytes: 8 << 20, Reset: enclave.ResetRewind}}))
		init, _ := json.Marshal(map[string]any{"value": map[string]any{"code": a.Exec.Code, "binary": true, "main": a.Exec.Main}})
		if old := f.servers[m[1]]; old != nil {
			old.Close()
		}
		f.servers[m[1]], f.pendingInit[m[1]] = srv, init
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	case http.MethodPost:
		srv := f.servers[m[1]]
		var annotations []map[string]any
		if init, ok := f.pendingInit[m[1]]; ok {
			delete(f.pendingInit, m[1])
			resp, err := http.Post(srv.URL+"/init", "application/json", bytes.NewReader(init))
			if err != nil || resp.StatusCode != 200 {
				http.Error(w, `{"error":"init failed"}`, http.StatusBadGateway)
				return
			}
			resp.Body.Close()
			annotations = append(annotations, map[string]any{"key": "initTime", "value": 7})
		}
		annotations = append(annotations, map[string]any{"key": "waitTime", "value": 2})
		resp, err := http.Post(srv.URL+"/run", "application/json", bytes.NewReader(append(append([]byte(`{"value":`), body...), '}')))
		if err != nil {
			http.Error(w, `{"error":"run failed"}`, http.StatusBadGateway)
			return
		}
		result, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		f.n++
		status, ok := "success", resp.StatusCode == 200
		if !ok {
			status = "action developer error"
		}
		json.NewEncoder(w).Encode(map[string]any{
			"activationId": fmt.Sprintf("act%d", f.n), "duration": 3, "annotations": annotations,
			"response": map[string]any{"status": status, "success": ok, "result": json.RawMessage(result)},
		})
	}
}

func (f *fakeWhisk) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.servers {
		s.Close()
	}
}

// TestTargetOpenWhisk: with target openwhisk the driver deploys each workload as an action,
// invokes it blocking and records what the platform reported: cold for the activation that
// initialised a container (initTime), warm after, the platform's duration and wait.
func TestTargetOpenWhisk(t *testing.T) {
	f := &fakeWhisk{servers: map[string]*httptest.Server{}, pendingInit: map[string][]byte{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	defer f.close()
	t.Setenv("WSK_CONFIG_FILE", filepath.Join(t.TempDir(), "wskprops"))
	os.WriteFile(os.Getenv("WSK_CONFIG_FILE"), nil, 0o600)
	t.Setenv("__OW_API_HOST", srv.URL)
	t.Setenv("__OW_API_KEY", "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secret")
	cfg := `schema_version: 1
name: whisk
target: openwhisk
openwhisk: {image: example/reclave-serve}
workloads: [counter, noop]
size: test
iterations: 4
warmup: 0
`
	dir, sum, err := runTiny(t, context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, dir)
	if len(recs) != 8 {
		t.Fatalf("%d records, want 8", len(recs))
	}
	for _, r := range recs {
		wantMode := "warm"
		if r.Seq == 0 {
			wantMode = "cold"
		}
		if r.Target != "openwhisk" || r.Mode != wantMode || r.Error != "" || r.ProviderNs != 3e6 || r.WaitNs != 2e6 || r.LatencyNs <= 0 {
			t.Fatalf("record %d of %s: %+v", r.Seq, r.Workload, r)
		}
		if (r.InitNs == 7e6) != (wantMode == "cold") {
			t.Fatalf("record %d of %s: init_ns %d in mode %s", r.Seq, r.Workload, r.InitNs, r.Mode)
		}
	}
	if len(sum.Results) != 4 || sum.Env.Backend != "openwhisk" {
		t.Fatalf("%d results (want cold and warm per workload), backend %q", len(sum.Results), sum.Env.Backend)
	}
	if r := sum.Find("counter", "warm"); r == nil || r.N != 3 || r.DistinctOutput != 1 {
		t.Fatalf("counter warm: %+v (a rewinding container gives the same output every time)", r)
	}
}
