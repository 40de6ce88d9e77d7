package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadWorkloadsBrokenManifest: in a config's workloads_dir, a broken manifest blocks only
// the runs that need it (every workload, or the one named after its folder), and errors name
// the folder's files by their paths.
func TestLoadWorkloadsBrokenManifest(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"good/workload.yaml":   "name: good\nkind: reactor\nmodule: good.wasm\ninputs:\n  small: {json: '{}'}\n",
		"broken/workload.yaml": "name: broken\nkind: daemon\nmodule: b.wasm\ninputs:\n  small: {}\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	manifest := filepath.Join(dir, "broken", "workload.yaml")
	tests := []struct {
		name, workloads, wantErr string // wantErr "" for success
	}{
		{"the good one", "[good]", ""},
		{"the broken one", "[broken]", "workloads[0]: broken: manifest " + manifest + `: kind: "daemon"`},
		{"every workload", "", "workload folder(s) skipped: manifest " + manifest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "schema_version: 1\nname: x\nworkloads_dir: " + dir + "\n"
			if tt.workloads != "" {
				doc += "workloads: " + tt.workloads + "\n"
			}
			cfg, err := ParseConfig([]byte(doc), "x.yaml")
			if err != nil {
				t.Fatal(err)
			}
			ws, err := cfg.LoadWorkloads()
			switch {
			case tt.wantErr == "" && (err != nil || len(ws) != 1 || ws[0].Name != "good"):
				t.Fatalf("workloads %v, %v", ws, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}
