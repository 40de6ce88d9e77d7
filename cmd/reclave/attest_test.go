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

	// Parser differentials: a fake output beside the real one, which encoding/json alone
	// would have verified (it keeps the last key and matches case-insensitively), while
	// another parser reading the accepted file would show the fake.
	fake := base64.StdEncoding.EncodeToString([]byte(`{"count":1000000}`))
	edit := func(name, old, new string) string {
		t.Helper()
		if !strings.Contains(string(data), old) {
			t.Fatalf("bundle has no %s: %s", old, data)
		}
		return write(t, dir, name, strings.Replace(string(data), old, new, 1))
	}
	dupFirst := edit("dup-first.json", `{"schema_version":1`, `{"output":"`+fake+`","schema_version":1`)
	dupCase := edit("dup-case.json", `"output":"`, `"output":"`+fake+`","Output":"`)
	dupEscaped := edit("dup-escaped.json", `{"schema_version":1`, `{"out\u0070ut":"`+fake+`","schema_version":1`)
	dupInner := edit("dup-inner.json", `"inner":{`, `"inner":{"Report":"AAAA",`)
	dupEvidence := edit("dup-evidence.json", `"evidence":{`, `"evidence":{"signature":"AAAA",`)
	policyData, err := os.ReadFile(policy)
	if err != nil {
		t.Fatal(err)
	}
	policyEdit := func(name, old, new string) string {
		t.Helper()
		if !strings.Contains(string(policyData), old) {
			t.Fatalf("policy has no %s: %s", old, policyData)
		}
		return write(t, dir, name, strings.Replace(string(policyData), old, new, 1))
	}
	zeros := `["` + strings.Repeat("0", 64) + `"]`
	policyCase := policyEdit("policy-case.json", `"mrenclave":`, `"MRENCLAVE":`+zeros+`,"mrenclave":`)
	policyTwice := policyEdit("policy-twice.json", `"mrenclave":`, `"mrenclave":`+zeros+`,"mrenclave":`)
	policyTrailing := write(t, dir, "policy-trailing.json", string(policyData)+"{}")
	var orig struct {
		Output []byte `json:"output"`
	}
	if err := json.Unmarshal(data, &orig); err != nil {
		t.Fatal(err)
	}
	realOutput := orig.Output

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
		{"the verified output is shown", verify(bundle, "--root", root, "--nonce", nonce), 0, "  output:      " + strings.TrimRight(string(realOutput), "\n") + "\n"},
		{"output twice, fake first", verify(dupFirst, "--root", root, "--nonce", nonce), 1, `duplicate key "output" in $`},
		{"output twice, fake first, no nonce", verify(dupFirst, "--root", root), 1, "(duplicate_key)"},
		{"output beside Output", verify(dupCase, "--root", root, "--nonce", nonce), 1, `key "Output" in $ differs only in case from key "output"`},
		{"escaped output key", verify(dupEscaped, "--root", root, "--nonce", nonce), 1, "(duplicate_key)"},
		{"case variant inside inner", verify(dupInner, "--root", root, "--nonce", nonce), 1, `in $.inner`},
		{"duplicate inside evidence", verify(dupEvidence, "--root", root, "--nonce", nonce), 1, `duplicate key "signature" in $.evidence`},
		{"refused bundle, missing policy", []string{"attest", "verify", dupFirst, "--root", root, "--policy", filepath.Join(dir, "none.policy.json")}, 2, "none.policy.json"},
		{"policy with MRENCLAVE beside mrenclave", []string{"attest", "verify", bundle, "--root", root, "--policy", policyCase, "--allow-simulated", "--input", input}, 2, `key "mrenclave" in $ differs only in case from key "MRENCLAVE"`},
		{"policy with mrenclave twice", []string{"attest", "verify", bundle, "--root", root, "--policy", policyTwice, "--allow-simulated", "--input", input}, 2, `duplicate key "mrenclave"`},
		{"policy with trailing data", []string{"attest", "verify", bundle, "--root", root, "--policy", policyTrailing, "--allow-simulated", "--input", input}, 2, "data after"},
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

// TestAttestDisplayText: attest verify prints a verified output as it is when it is plain
// text, and quoted when it could rewrite the terminal.
func TestAttestDisplayText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"JSON", `{"count":1}`, `{"count":1}`},
		{"unicode", `{"greeting":"grüß dich 👋"}`, `{"greeting":"grüß dich 👋"}`},
		{"tab", "a\tb", "a\tb"},
		{"lines indented under the first", "line 1\n  simulated:   no", "line 1\n" + outputIndent + "  simulated:   no"},
		{"carriage return", "ok\r  simulated:   no", `"ok\r  simulated:   no"`},
		{"escape sequence", "\x1b[1A\x1b[2K  simulated:   no", `"\x1b[1A\x1b[2K  simulated:   no"`},
		{"bidi override", "abc\u202edef", `"abc\u202edef"`},
		{"invalid UTF-8", "a\xffb", `"a\xffb"`},
		{"NUL", "a\x00b", `"a\x00b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := displayText([]byte(tt.in)); got != tt.want {
				t.Errorf("displayText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
