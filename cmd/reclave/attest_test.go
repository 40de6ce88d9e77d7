package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAttestRoundTrip runs invoke --attest, attest root and attest verify as a user would, then
// checks that tampered or mismatched evidence is refused.
func TestAttestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	platform := filepath.Join(dir, "platform")
	bundle := filepath.Join(dir, "bundle.json")
	policy := bundle + ".policy.json"
	nonce := strings.Repeat("5a", 32)
	input := `{"user":"alice"}`

	code, stdout, stderr := reclave(t, "invoke", "counter", "--attest", "--nonce", nonce, "--bundle", bundle,
		"--platform", platform, "--input", input, "--memory-mib", "4")
	if code != 0 {
		t.Fatalf("invoke --attest: exit %d: %s", code, stderr)
	}
	for _, w := range []string{"mrenclave:", "mrsigner:", "module hash:", "clean-state hash:", "reclave attest verify " + bundle} {
		if !strings.Contains(stdout, w) {
			t.Fatalf("invoke --attest output lacks %q:\n%s", w, stdout)
		}
	}
	root := filepath.Join(dir, "root.pem")
	if code, _, stderr := reclave(t, "attest", "root", "--platform", platform, "--out", root); code != 0 {
		t.Fatalf("attest root: exit %d: %s", code, stderr)
	}
	code, stdout, stderr = reclave(t, "attest", "root", "--platform", platform)
	if pem, _ := os.ReadFile(root); code != 0 || stdout != string(pem) {
		t.Fatalf("attest root to stdout: exit %d, %q differs from --out's; stderr %s", code, stdout, stderr)
	}
	otherRoot := filepath.Join(dir, "other.pem")
	if code, _, stderr := reclave(t, "attest", "root", "--platform", filepath.Join(dir, "other"), "--out", otherRoot); code != 0 {
		t.Fatalf("attest root (other platform): exit %d: %s", code, stderr)
	}

	data, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	out, err := base64.StdEncoding.DecodeString(m["output"].(string))
	if err != nil {
		t.Fatal(err)
	}
	out[0] ^= 1
	m["output"] = base64.StdEncoding.EncodeToString(out)
	edited, _ := json.Marshal(m)
	tampered := write(t, dir, "tampered.json", string(edited))
	garbage := write(t, dir, "garbage.json", "not a bundle")

	verify := func(b string, extra ...string) []string {
		return append([]string{"attest", "verify", b, "--policy", policy, "--allow-simulated", "--input", input}, extra...)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"accepted", verify(bundle, "--root", root, "--nonce", nonce), 0, "accepted"},
		{"accepted, flags first", []string{"attest", "verify", "--root", root, "--nonce", nonce, "--policy", policy,
			"--allow-simulated", "--input", "@" + bundle + ".input", bundle}, 0, "simulated:   yes"},
		{"without nonce", verify(bundle, "--root", root), 0, "NOT CHECKED"},
		{"another nonce", verify(bundle, "--root", root, "--nonce", strings.Repeat("00", 32)), 1, "nonce_mismatch"},
		{"another input", append(verify(bundle, "--root", root, "--nonce", nonce), "--input", `{"user":"mallory"}`), 1, "input_mismatch"},
		{"edited output", verify(tampered, "--root", root, "--nonce", nonce), 1, "output_mismatch"},
		{"another platform's root", verify(bundle, "--root", otherRoot, "--nonce", nonce), 1, "untrusted_root"},
		{"garbage bundle", verify(garbage, "--root", root, "--nonce", nonce), 1, "malformed_bundle"},
		{"simulated not allowed", []string{"attest", "verify", bundle, "--root", root, "--policy", policy, "--nonce", nonce, "--input", input}, 1, "simulated_refused"},
		{"missing root file", verify(bundle, "--root", filepath.Join(dir, "none.pem"), "--nonce", nonce), 2, "none.pem"},
		{"missing bundle", verify(filepath.Join(dir, "none.json"), "--root", root), 2, "none.json"},
		{"bad nonce hex", verify(bundle, "--root", root, "--nonce", "zz"), 2, "64 hex digits"},
		{"no policy", []string{"attest", "verify", bundle, "--root", root}, 2, ".policy.json"},
		{"no root", []string{"attest", "verify", bundle, "--policy", policy}, 2, "--root"},
		{"no subcommand", []string{"attest"}, 2, "root or verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := reclave(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %s; stderr: %s", code, tt.code, stdout, stderr)
			}
			got := stderr
			if code == 0 {
				got = stdout
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("output %q does not contain %q", got, tt.want)
			}
			if code == 1 && !strings.Contains(stderr, "refused: ") {
				t.Fatalf("refusal without \"refused: \": %s", stderr)
			}
		})
	}
}
