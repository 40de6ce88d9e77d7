package harness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reclave/reclave/internal/runtimeimage"
	"github.com/reclave/reclave/results"
)

// TestMain builds the runtime image (cmd/reclave-enclave) beside the test binary, once: the
// default runtime image of a run is the one beside the running executable, so the tests' runs
// measure a fresh build of it.
func TestMain(m *testing.M) {
	if _, err := runtimeimage.BuildBesideExecutable(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// TestRuntimeImage: the enclaves of a run measure reclave-enclave — not the harness's own
// executable — and the summary names its size and hash; memory_bytes is memory_mib plus the
// image in whole pages. enclave.runtime_image names another, relative to the config file.
func TestRuntimeImage(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	image, err := os.ReadFile(runtimeimage.Beside(exe))
	if err != nil {
		t.Fatal(err)
	}
	const cfg = "schema_version: 1\nname: img\nworkloads: [noop]\nmodes: [cold, rewind]\nsize: test\niterations: 2\nwarmup: 0\nenclave: {memory_mib: 4, attestation: none}\n"
	dir, sum, err := runTiny(t, context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(image)
	if sum.Env.RuntimeImageBytes != int64(len(image)) || sum.Env.RuntimeImageSHA256 != hex.EncodeToString(h[:]) {
		t.Errorf("env: runtime image %d bytes, %s; want reclave-enclave's %d bytes", sum.Env.RuntimeImageBytes, sum.Env.RuntimeImageSHA256, len(image))
	}
	want := int64(4<<20) + int64(len(image)+4095)&^4095
	for _, r := range readRecords(t, dir) {
		if r.MemoryBytes != want || r.Error != "" {
			t.Fatalf("record %s/%d: memory_bytes %d, want %d; error %q", r.Mode, r.Seq, r.MemoryBytes, want, r.Error)
		}
	}
	if st, err := os.Stat(exe); err == nil && st.Size() <= int64(len(image)) {
		t.Errorf("the runtime image (%d bytes) is not smaller than the harness's test binary (%d bytes)", len(image), st.Size())
	}

	// measure_runtime: false measures nothing, and needs no image.
	_, sum, err = runTiny(t, context.Background(), strings.Replace(cfg, "attestation: none", "attestation: none, measure_runtime: false, runtime_image: missing", 1))
	if err != nil || sum.Env.RuntimeImageBytes != 0 || sum.Env.RuntimeImageSHA256 != "" {
		t.Errorf("measure_runtime false: %v, runtime image %d bytes", err, sum.Env.RuntimeImageBytes)
	}

	// A given path is relative to the config file.
	cdir := t.TempDir()
	if err := os.WriteFile(filepath.Join(cdir, "image"), []byte("a runtime image"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ParseConfig([]byte(strings.Replace(cfg, "attestation: none", "attestation: none, runtime_image: image", 1)), filepath.Join(cdir, "c.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := c.RuntimeImagePath(); err != nil || p != filepath.Join(cdir, "image") {
		t.Errorf("runtime image %q, %v; want %s", p, err, filepath.Join(cdir, "image"))
	}
	_, sum, err = runTinyIn(t, c)
	if err != nil || sum.Env.RuntimeImageBytes != int64(len("a runtime image")) {
		t.Errorf("runtime_image given: %v, %d bytes", err, sum.Env.RuntimeImageBytes)
	}
}

// runTinyIn runs cfg into a temporary folder.
func runTinyIn(t *testing.T, cfg *Config) (string, *results.Summary, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	sum, err := Run(context.Background(), cfg, dir, nil)
	return dir, sum, err
}

// TestRuntimeImageMissing: a run whose runtime image is missing fails before it starts, and
// the error names the path and how to build it; target process the same for its command.
// An experiment cannot set its own image.
func TestRuntimeImageMissing(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ name, doc, want string }{
		{"measured", "modes: [rewind]\n", "measure_runtime: false"},
		{"process", "target: process\nmodes: [rewind]\nenclave: {measure_runtime: false, runtime_image: none/reclave-enclave}\n", "process.command"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc := "schema_version: 1\nname: x\nworkloads: [noop]\nsize: test\niterations: 1\nwarmup: 0\n" + tt.doc
			if !strings.Contains(tt.doc, "runtime_image") {
				doc += "enclave: {runtime_image: none/reclave-enclave}\n"
			}
			cfg, err := ParseConfig([]byte(doc), filepath.Join(dir, "x.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = runTinyIn(t, cfg)
			path := filepath.Join(dir, "none", "reclave-enclave")
			if err == nil {
				t.Fatal("ran without its runtime image")
			}
			for _, w := range []string{path, "no such file", runtimeimage.BuildCommandFor(path), tt.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	_, err := ParseConfig([]byte("schema_version: 1\nname: x\nexperiments:\n  - name: a\n  - name: b\n    enclave: {runtime_image: other}\n"), filepath.Join(dir, "x.yaml"))
	if err == nil || !strings.Contains(err.Error(), "experiment b: enclave.runtime_image") {
		t.Errorf("an experiment's own runtime image: %v", err)
	}
}
