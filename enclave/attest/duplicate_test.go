package attest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/internal/jsonstrict"
)

// fakeOutput is what a forger wants a reader of an accepted bundle to see.
var fakeOutput = base64.StdEncoding.EncodeToString([]byte(`{"greeting":"hello mallory"}`))

// duplicateKeyCase is a valid bundle's JSON with a key given twice or in two cases.
type duplicateKeyCase struct {
	name       string
	doc        []byte
	key, other string // the DuplicateKeyError's Key and Other
	path       string // and its Path
}

// duplicateKeyCases derives them from good, a valid bundle as Bundle.Marshal writes it.
func duplicateKeyCases(t testing.TB, good []byte) []duplicateKeyCase {
	t.Helper()
	edit := func(old, new string) []byte {
		t.Helper()
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("bundle %s has no %s", good, old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	return []duplicateKeyCase{
		{"output_fake_first", edit(`{"schema_version":1`, `{"output":"`+fakeOutput+`","schema_version":1`), "output", "output", "$"},
		{"output_fake_last", append(bytes.Clone(good[:len(good)-1]), `,"output":"`+fakeOutput+`"}`...), "output", "output", "$"},
		{"Output_case_variant", edit(`{"schema_version":1`, `{"Output":"`+fakeOutput+`","schema_version":1`), "output", "Output", "$"},
		{"OUTPUT_real_fake_lower", edit(`"output":"`, `"output":"`+fakeOutput+`","OUTPUT":"`), "OUTPUT", "output", "$"},
		{"escaped_output_key", edit(`{"schema_version":1`, `{"out\u0070ut":"`+fakeOutput+`","schema_version":1`), "output", "output", "$"},
		{"schema_version_twice", edit(`"schema_version":1`, `"schema_version":2,"schema_version":1`), "schema_version", "schema_version", "$"},
		{"kelvin_sign_key", edit(`"l0_public_key":`, `"l0_public_\u212aey":"AAAA","l0_public_key":`), "l0_public_key", "l0_public_\u212aey", "$"},
		{"evidence_report_twice", edit(`"evidence":{`, `"evidence":{"report":"AAAA",`), "report", "report", "$.evidence"},
		{"evidence_Signature_case_variant", edit(`"evidence":{`, `"evidence":{"Signature":"AAAA",`), "signature", "Signature", "$.evidence"},
		{"inner_report_twice", edit(`"inner":{`, `"inner":{"report":"AAAA",`), "report", "report", "$.inner"},
		{"inner_REPORT_case_variant", edit(`"inner":{`, `"inner":{"REPORT":"AAAA",`), "report", "REPORT", "$.inner"},
		{"inside_an_unknown_array", edit(`{"schema_version":1`, `{"x":[{},{"a":1,"A":2}],"schema_version":1`), "A", "a", "$.x[1]"},
	}
}

// withPaddingBits returns doc with the base64 value of key spelled with non-zero padding bits:
// encoding/json decodes it to the same bytes, a strict decoder refuses it.
func withPaddingBits(t testing.TB, doc []byte, key string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	s := m[key].(string)
	if !strings.HasSuffix(s, "=") {
		t.Fatalf("%s %q has no padding", key, s)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	i := len(strings.TrimRight(s, "=")) - 1
	spelt := s[:i] + string(alphabet[strings.IndexByte(alphabet, s[i])|1]) + s[i+1:]
	if a, b := mustDecode(t, s), mustDecode(t, spelt); !bytes.Equal(a, b) || spelt == s {
		t.Fatalf("%q and %q", s, spelt)
	}
	return bytes.Replace(doc, []byte(`"`+s+`"`), []byte(`"`+spelt+`"`), 1)
}

func mustDecode(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDuplicateKeys: a bundle with a key twice or in two cases, at any level, is refused
// with ErrDuplicateKey (also ErrMalformedBundle), naming the key, its other spelling and the
// object, by Verify and ParseBundle alike — even when the real output is the one
// encoding/json would have verified.
func TestDuplicateKeys(t *testing.T) {
	f := newFixture(t)
	nonce := attest.NewNonce()
	inv := f.invocation(3, nonce)
	good := marshal(t, f.bundle(t, inv))
	if _, err := attest.Verify(good, f.opts(nonce, inv.input)); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	for _, c := range duplicateKeyCases(t, good) {
		t.Run(c.name, func(t *testing.T) {
			_, err := attest.Verify(c.doc, f.opts(nonce, inv.input))
			_, perr := attest.ParseBundle(c.doc)
			for _, err := range []error{err, perr} {
				if !errors.Is(err, attest.ErrDuplicateKey) || !errors.Is(err, attest.ErrMalformedBundle) {
					t.Fatalf("got %v, want ErrDuplicateKey and ErrMalformedBundle", err)
				}
				var r *attest.Refusal
				if !errors.As(err, &r) || r.Code != "duplicate_key" {
					t.Fatalf("errors.As gives %v", r)
				}
				var d *jsonstrict.DuplicateKeyError
				if !errors.As(err, &d) || d.Key != c.key || d.Other != c.other || d.Path != c.path {
					t.Fatalf("got %v, want key %q, other %q in %s", err, c.key, c.other, c.path)
				}
				if msg := err.Error(); !strings.HasPrefix(msg, "attest: duplicate or case-variant JSON key") || !strings.Contains(msg, `"`+c.key+`"`) {
					t.Fatalf("message %q", msg)
				}
			}
		})
	}
}

// TestPolicyDuplicateKeys: a policy with a key twice or in two cases is invalid
// (ErrPolicyInvalid first, also ErrDuplicateKey); the existing refusals are unchanged
// (TestPolicyStrict).
func TestPolicyDuplicateKeys(t *testing.T) {
	const h0 = `"0000000000000000000000000000000000000000000000000000000000000000"`
	const h1 = `"1111111111111111111111111111111111111111111111111111111111111111"`
	rest := `"module_hash":[` + h0 + `],"clean_state_hash":[` + h0 + `]`
	tests := []struct {
		name       string
		doc        string
		key, other string
	}{
		{"mrenclave twice", `{"mrenclave":[` + h0 + `],"mrenclave":[` + h1 + `],` + rest + `}`, "mrenclave", "mrenclave"},
		{"MRENCLAVE beside mrenclave", `{"mrenclave":[` + h0 + `],"MRENCLAVE":[` + h1 + `],` + rest + `}`, "MRENCLAVE", "mrenclave"},
		{"escaped key", `{"mrenclave":[` + h0 + `],"mr\u0065nclave":[` + h1 + `],` + rest + `}`, "mrenclave", "mrenclave"},
		{"allow_simulated in two cases", `{"mrenclave":[` + h0 + `],` + rest + `,"allow_simulated":false,"Allow_Simulated":true}`, "Allow_Simulated", "allow_simulated"},
		{"long s", `{"mrenclave":[` + h0 + `],` + rest + `,"allow_simulated":false,"allow_\u017fimulated":true}`, "allow_\u017fimulated", "allow_simulated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v map[string]any
			if err := json.Unmarshal([]byte(tt.doc), &v); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			_, err := attest.ParsePolicy([]byte(tt.doc))
			if !errors.Is(err, attest.ErrPolicyInvalid) || !errors.Is(err, attest.ErrDuplicateKey) {
				t.Fatalf("got %v, want ErrPolicyInvalid and ErrDuplicateKey", err)
			}
			var r *attest.Refusal
			if !errors.As(err, &r) || r != attest.ErrPolicyInvalid {
				t.Fatalf("errors.As gives %v, want policy_invalid", r)
			}
			var d *jsonstrict.DuplicateKeyError
			if !errors.As(err, &d) || d.Key != tt.key || d.Other != tt.other {
				t.Fatalf("got %v, want key %q, other %q", err, tt.key, tt.other)
			}
		})
	}
	// In a file, too.
	path := t.TempDir() + "/policy.json"
	if err := writeFile(path, []byte(tests[1].doc)); err != nil {
		t.Fatal(err)
	}
	if _, err := attest.LoadPolicy(path); !errors.Is(err, attest.ErrDuplicateKey) || !strings.Contains(err.Error(), path) {
		t.Fatalf("LoadPolicy: %v", err)
	}
}

// TestVerifiedOutputIsShown: the Result's output is the bundle's, as verified, and stays so
// when the Bundle is changed afterwards.
func TestVerifiedOutputIsShown(t *testing.T) {
	f := newFixture(t)
	nonce := attest.NewNonce()
	inv := f.invocation(4, nonce)
	b := f.bundle(t, inv)
	verified := bytes.Clone(b.Output)
	res, err := attest.VerifyBundle(b, f.opts(nonce, inv.input))
	if err != nil {
		t.Fatal(err)
	}
	b.Output[0] ^= 1
	if !bytes.Equal(res.Output, verified) {
		t.Fatalf("Result.Output %q changed with the bundle; verified %q", res.Output, verified)
	}
	inv = f.invocation(5, nonce)
	res, err = attest.Verify(marshal(t, f.bundle(t, inv)), f.opts(nonce, inv.input))
	if err != nil || !bytes.Equal(res.Output, verified) {
		t.Fatalf("Verify: %v, output %q", err, res.Output)
	}
}
