package attest_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reclave/reclave/enclave/attest"
)

const enclaveID = "9f2c4e1a7b3d5f60"

var (
	runtimeMR  = sha256.Sum256([]byte("reclave runtime"))
	signerMR   = sha256.Sum256([]byte("reclave signer"))
	moduleHash = sha256.Sum256([]byte("module: hello.wasm"))
	cleanState = sha256.Sum256([]byte("snapshot of hello.wasm after init"))
)

var sharedPlatform = sync.OnceValues(attest.NewSimulatedPlatform)

// fixture is an enclave with its L0 key and outer evidence, and a client's policy.
type fixture struct {
	platform *attest.SimulatedPlatform
	root     *x509.Certificate
	quoter   attest.Quoter
	l0       *attest.L0Key
	outer    attest.OuterFields
	ev       *attest.Evidence
	policy   *attest.Policy
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	p, err := sharedPlatform()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{platform: p, root: p.Root(), quoter: p}
	f.init(t)
	return f
}

func (f *fixture) init(t testing.TB) {
	t.Helper()
	var err error
	if f.l0, err = attest.NewL0Key(); err != nil {
		t.Fatal(err)
	}
	f.outer = attest.OuterFields{MRENCLAVE: runtimeMR, MRSIGNER: signerMR, ISVProdID: 1, ISVSVN: 2, EnclaveID: enclaveID}
	if f.ev, err = f.l0.OuterEvidence(f.quoter, f.outer); err != nil {
		t.Fatal(err)
	}
	prod := uint16(1)
	f.policy = &attest.Policy{
		MRENCLAVE:      []attest.Digest{runtimeMR},
		MRSIGNER:       []attest.Digest{signerMR},
		ISVProdID:      &prod,
		MinISVSVN:      2,
		ModuleHash:     []attest.Digest{moduleHash},
		CleanStateHash: []attest.Digest{cleanState},
		AllowSimulated: true,
	}
}

// invocation is one attested invocation: its fields, input and output.
type invocation struct {
	fields attest.InnerFields
	input  []byte
	output []byte
}

func (f *fixture) invocation(epoch uint64, nonce [32]byte) invocation {
	in, out := []byte(`{"user":"alice"}`), []byte(`{"greeting":"hello alice"}`)
	return invocation{
		fields: attest.InnerFields{
			MRENCLAVE:      runtimeMR,
			ModuleHash:     moduleHash,
			CleanStateHash: cleanState,
			Epoch:          epoch,
			Nonce:          nonce,
			InputHash:      sha256.Sum256(in),
			OutputHash:     sha256.Sum256(out),
			EnclaveID:      enclaveID,
		},
		input: in, output: out,
	}
}

func (f *fixture) bundle(t testing.TB, inv invocation) *attest.Bundle {
	t.Helper()
	inner, err := f.l0.SignInner(inv.fields)
	if err != nil {
		t.Fatal(err)
	}
	return attest.NewBundle(f.ev, f.l0.PublicKeyDER(), inner, inv.output)
}

func (f *fixture) opts(nonce [32]byte, input []byte) attest.VerifyOptions {
	return attest.VerifyOptions{Root: f.root, Policy: f.policy, Nonce: nonce, Input: input}
}

func marshal(t testing.TB, b *attest.Bundle) []byte {
	t.Helper()
	raw, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestValidBundle(t *testing.T) {
	f := newFixture(t)
	nonce := attest.NewNonce()
	inv := f.invocation(5, nonce)
	raw := marshal(t, f.bundle(t, inv))
	res, err := attest.Verify(raw, f.opts(nonce, inv.input))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Simulated || !res.Report.Simulated || res.Report.TCBStatus != attest.TCBUnknown {
		t.Errorf("simulated evidence not reported as simulated: %+v", res.Report)
	}
	if res.Report.MRENCLAVE != runtimeMR || res.Report.MRSIGNER != signerMR || res.Report.ISVProdID != 1 || res.Report.ISVSVN != 2 || res.Report.Debug {
		t.Errorf("outer report %+v", res.Report)
	}
	if res.Inner != inv.fields || !bytes.Equal(res.Output, inv.output) {
		t.Errorf("inner %+v, output %q", res.Inner, res.Output)
	}
	if want := attest.ReportDataFor(f.l0.PublicKeyDER(), enclaveID); res.Report.ReportData != want {
		t.Error("REPORTDATA is not SHA-256(L0 key) ‖ SHA-256(enclave id)")
	}
	// The JSON is the documented one.
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema_version", "evidence", "l0_public_key", "inner", "output"} {
		if _, ok := m[k]; !ok {
			t.Errorf("bundle JSON lacks %q", k)
		}
	}
	if m["schema_version"] != float64(1) {
		t.Errorf("schema_version %v", m["schema_version"])
	}
	// Empty output and input.
	inv.output, inv.input = nil, nil
	inv.fields.OutputHash, inv.fields.InputHash = sha256.Sum256(nil), sha256.Sum256(nil)
	if _, err := attest.Verify(marshal(t, f.bundle(t, inv)), f.opts(nonce, nil)); err != nil {
		t.Fatalf("empty output: %v", err)
	}
}

// hwQuoter is a stand-in for hardware in tests: a root that is not marked simulated, whose
// quoting key signs reports as given (Simulated false, the TCB status it is told).
type hwQuoter struct {
	root *x509.Certificate
	key  *ecdsa.PrivateKey
	cert []byte
	tcb  attest.TCBStatus
}

func newHWQuoter(t testing.TB) *hwQuoter {
	t.Helper()
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	qk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	rt := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test hardware root"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rder, err := x509.CreateCertificate(rand.Reader, rt, rt, &rk.PublicKey, rk)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rder)
	qt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "test hardware quoting key"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	qder, err := x509.CreateCertificate(rand.Reader, qt, root, &qk.PublicKey, rk)
	if err != nil {
		t.Fatal(err)
	}
	return &hwQuoter{root: root, key: qk, cert: qder}
}

func (q *hwQuoter) Quote(r attest.Report) (*attest.Evidence, error) {
	r.TCBStatus = q.tcb
	raw := r.Marshal()
	d := sha256.Sum256(raw)
	sig, err := ecdsa.SignASN1(rand.Reader, q.key, d[:])
	return &attest.Evidence{Report: raw, QuotingCert: q.cert, Signature: sig}, err
}

// resign has the platform quote a modified outer report (what a quoting enclave would sign
// for an enclave that asked for it): returns the new evidence.
func resign(t testing.TB, q attest.Quoter, ev *attest.Evidence, change func(*attest.Report)) *attest.Evidence {
	t.Helper()
	r, err := attest.ParseReport(ev.Report)
	if err != nil {
		t.Fatal(err)
	}
	change(&r)
	out, err := q.Quote(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

// TestRefusals is the table of every way a bundle is refused, each with its specific error.
func TestRefusals(t *testing.T) {
	f := newFixture(t)
	other, err := attest.NewSimulatedPlatform()
	if err != nil {
		t.Fatal(err)
	}
	otherL0, err := attest.NewL0Key()
	if err != nil {
		t.Fatal(err)
	}
	nonce := attest.NewNonce()
	base := f.invocation(7, nonce)

	type tc struct {
		name string
		// build returns the bundle's JSON; opts may be adjusted.
		build func(o *attest.VerifyOptions) []byte
		want  error
	}
	valid := func() *attest.Bundle { return f.bundle(t, base) }
	withBundle := func(change func(b *attest.Bundle)) func(*attest.VerifyOptions) []byte {
		return func(*attest.VerifyOptions) []byte {
			b := valid()
			change(b)
			return marshal(t, b)
		}
	}
	withInner := func(change func(*attest.InnerFields)) func(*attest.VerifyOptions) []byte {
		return func(*attest.VerifyOptions) []byte {
			inv := base
			change(&inv.fields)
			return marshal(t, f.bundle(t, inv))
		}
	}
	withOuter := func(change func(*attest.Report)) func(*attest.VerifyOptions) []byte {
		return withBundle(func(b *attest.Bundle) { b.Evidence = *resign(t, f.quoter, f.ev, change) })
	}
	var cases []tc

	// Outer report: every field changed after signing.
	for _, field := range []struct {
		name string
		off  int
	}{{"tag", 0}, {"mrenclave", 16}, {"mrsigner", 48}, {"isvprodid", 80}, {"isvsvn", 82}, {"flags", 84}, {"tcb_status", 85}, {"padding", 86}, {"reportdata_key", 88}, {"reportdata_id", 120}, {"reportdata_last", 151}} {
		cases = append(cases, tc{"outer_tampered_" + field.name, withBundle(func(b *attest.Bundle) { b.Evidence.Report = flip(b.Evidence.Report, field.off) }), attest.ErrBadQuoteSignature})
	}
	// Outer report: every field changed and quoted again by the platform.
	cases = append(cases,
		tc{"outer_mrenclave_other_runtime", withOuter(func(r *attest.Report) { r.MRENCLAVE[0] ^= 1 }), attest.ErrInnerMeasurement},
		tc{"outer_mrsigner", withOuter(func(r *attest.Report) { r.MRSIGNER[0] ^= 1 }), attest.ErrPolicyMRSIGNER},
		tc{"outer_isvprodid", withOuter(func(r *attest.Report) { r.ISVProdID = 9 }), attest.ErrPolicyProductID},
		tc{"outer_isvsvn_below_minimum", withOuter(func(r *attest.Report) { r.ISVSVN = 1 }), attest.ErrPolicyISVSVN},
		tc{"outer_debug", withOuter(func(r *attest.Report) { r.Debug = true }), attest.ErrDebugRefused},
		tc{"outer_reportdata_other_l0_key", withOuter(func(r *attest.Report) { r.ReportData = attest.ReportDataFor(otherL0.PublicKeyDER(), enclaveID) }), attest.ErrReportDataMismatch},
		tc{"outer_reportdata_other_enclave", withOuter(func(r *attest.Report) { r.ReportData = attest.ReportDataFor(f.l0.PublicKeyDER(), "another-enclave") }), attest.ErrEnclaveIDMismatch},
		tc{"outer_reportdata_zero", withOuter(func(r *attest.Report) { r.ReportData = [64]byte{} }), attest.ErrReportDataMismatch},
	)
	// Runtime and function both other than the policy's.
	cases = append(cases, tc{"other_runtime_both_reports", func(*attest.VerifyOptions) []byte {
		inv := base
		inv.fields.MRENCLAVE[0] ^= 1
		inner, _ := f.l0.SignInner(inv.fields)
		ev := resign(t, f.quoter, f.ev, func(r *attest.Report) { r.MRENCLAVE[0] ^= 1 })
		return marshal(t, attest.NewBundle(ev, f.l0.PublicKeyDER(), inner, inv.output))
	}, attest.ErrPolicyMRENCLAVE})

	// Inner report: every field changed after signing.
	for _, field := range []struct {
		name string
		off  int
	}{{"tag", 0}, {"mrenclave", 16}, {"module_hash", 48}, {"clean_state", 80}, {"epoch", 112}, {"nonce", 120}, {"input_hash", 152}, {"output_hash", 184}, {"id_length", 216}, {"enclave_id", 218}} {
		cases = append(cases, tc{"inner_tampered_" + field.name, withBundle(func(b *attest.Bundle) { b.Inner.Report = flip(b.Inner.Report, field.off) }), attest.ErrBadInnerSignature})
	}
	// Inner report: every field changed and signed by the L0 key.
	cases = append(cases,
		tc{"inner_mrenclave", withInner(func(x *attest.InnerFields) { x.MRENCLAVE[5] ^= 1 }), attest.ErrInnerMeasurement},
		tc{"inner_other_module", withInner(func(x *attest.InnerFields) { x.ModuleHash = sha256.Sum256([]byte("module: evil.wasm")) }), attest.ErrPolicyModule},
		tc{"inner_not_clean_state", withInner(func(x *attest.InnerFields) { x.CleanStateHash[0] ^= 1 }), attest.ErrPolicyCleanState},
		tc{"inner_nonce", withInner(func(x *attest.InnerFields) { x.Nonce[0] ^= 1 }), attest.ErrNonceMismatch},
		tc{"inner_input_hash", withInner(func(x *attest.InnerFields) { x.InputHash[0] ^= 1 }), attest.ErrInputMismatch},
		tc{"inner_output_hash", withInner(func(x *attest.InnerFields) { x.OutputHash[0] ^= 1 }), attest.ErrOutputMismatch},
		tc{"inner_enclave_id", withInner(func(x *attest.InnerFields) { x.EnclaveID = "another-enclave" }), attest.ErrEnclaveIDMismatch},
		tc{"output_changed", withBundle(func(b *attest.Bundle) { b.Output = []byte(`{"greeting":"hello mallory"}`) }), attest.ErrOutputMismatch},
		tc{"output_dropped", withBundle(func(b *attest.Bundle) { b.Output = nil }), attest.ErrOutputMismatch},
		tc{"client_input_differs", func(o *attest.VerifyOptions) []byte { o.Input = []byte(`{"user":"bob"}`); return marshal(t, valid()) }, attest.ErrInputMismatch},
		tc{"client_nonce_differs", func(o *attest.VerifyOptions) []byte { o.Nonce = attest.NewNonce(); return marshal(t, valid()) }, attest.ErrNonceMismatch},
	)

	// Signatures and keys swapped.
	cases = append(cases,
		tc{"quote_signature_is_inner_signature", withBundle(func(b *attest.Bundle) { b.Evidence.Signature = b.Inner.Signature }), attest.ErrBadQuoteSignature},
		tc{"inner_signature_is_quote_signature", withBundle(func(b *attest.Bundle) { b.Inner.Signature = b.Evidence.Signature }), attest.ErrBadInnerSignature},
		tc{"inner_signature_of_another_report", withBundle(func(b *attest.Bundle) {
			inv := base
			inv.fields.Epoch++
			o, _ := f.l0.SignInner(inv.fields)
			b.Inner.Signature = o.Signature
		}), attest.ErrBadInnerSignature},
		tc{"inner_signed_by_another_l0_key", withBundle(func(b *attest.Bundle) {
			o, _ := otherL0.SignInner(base.fields)
			b.Inner = o
		}), attest.ErrBadInnerSignature},
		tc{"l0_key_swapped", withBundle(func(b *attest.Bundle) {
			o, _ := otherL0.SignInner(base.fields)
			b.Inner, b.L0PublicKey = o, otherL0.PublicKeyDER()
		}), attest.ErrReportDataMismatch},
		tc{"quote_signature_truncated", withBundle(func(b *attest.Bundle) { b.Evidence.Signature = b.Evidence.Signature[:10] }), attest.ErrBadQuoteSignature},
	)

	// Roots.
	cases = append(cases,
		tc{"chained_to_another_root", withBundle(func(b *attest.Bundle) {
			ev, err := f.l0.OuterEvidence(other, f.outer)
			if err != nil {
				t.Fatal(err)
			}
			b.Evidence = *ev
		}), attest.ErrUntrustedRoot},
		tc{"trusting_another_root", func(o *attest.VerifyOptions) []byte { o.Root = other.Root(); return marshal(t, valid()) }, attest.ErrUntrustedRoot},
		tc{"quoting_cert_is_the_root", withBundle(func(b *attest.Bundle) { b.Evidence.QuotingCert = f.root.Raw }), attest.ErrUntrustedRoot},
		tc{"quoting_cert_of_another_platform", withBundle(func(b *attest.Bundle) { b.Evidence.QuotingCert = other.QuotingCert().Raw }), attest.ErrUntrustedRoot},
		tc{"expired", func(o *attest.VerifyOptions) []byte { o.Now = time.Now().AddDate(20, 0, 0); return marshal(t, valid()) }, attest.ErrUntrustedRoot},
		tc{"no_root", func(o *attest.VerifyOptions) []byte { o.Root = nil; return marshal(t, valid()) }, attest.ErrNoTrustedRoot},
	)

	// Simulated and debug evidence under a policy that refuses it.
	cases = append(cases,
		tc{"simulated_refused", func(o *attest.VerifyOptions) []byte {
			p := *f.policy
			p.AllowSimulated = false
			o.Policy = &p
			return marshal(t, valid())
		}, attest.ErrSimulatedRefused},
	)

	// Malformed bundles.
	good := marshal(t, valid())
	for _, n := range []int{0, 1, 10, len(good) / 2, len(good) - 1} {
		cases = append(cases, tc{"truncated_" + itoa(n), func(*attest.VerifyOptions) []byte { return good[:n] }, attest.ErrMalformedBundle})
	}
	cases = append(cases,
		tc{"garbage", func(*attest.VerifyOptions) []byte { return []byte("\x00\xff garbage \x13") }, attest.ErrMalformedBundle},
		tc{"json_array", func(*attest.VerifyOptions) []byte { return []byte(`[1,2,3]`) }, attest.ErrMalformedBundle},
		tc{"empty_object", func(*attest.VerifyOptions) []byte { return []byte(`{}`) }, attest.ErrMalformedBundle},
		tc{"schema_version_2", func(*attest.VerifyOptions) []byte {
			return bytes.Replace(good, []byte(`"schema_version":1`), []byte(`"schema_version":2`), 1)
		}, attest.ErrSchemaVersion},
		tc{"unknown_field", func(*attest.VerifyOptions) []byte {
			return bytes.Replace(good, []byte(`"schema_version":1`), []byte(`"schema_version":1,"trust_me":true`), 1)
		}, attest.ErrMalformedBundle},
		tc{"unknown_nested_field", func(*attest.VerifyOptions) []byte {
			return bytes.Replace(good, []byte(`"inner":{`), []byte(`"inner":{"extra":"x",`), 1)
		}, attest.ErrMalformedBundle},
		tc{"trailing_data", func(*attest.VerifyOptions) []byte { return append(bytes.Clone(good), []byte(` {}`)...) }, attest.ErrMalformedBundle},
		tc{"bad_base64", func(*attest.VerifyOptions) []byte {
			return bytes.Replace(good, []byte(`"output":"`), []byte(`"output":"!!!`), 1)
		}, attest.ErrMalformedBundle},
		tc{"missing_inner_signature", withBundle(func(b *attest.Bundle) { b.Inner.Signature = nil }), attest.ErrMalformedBundle},
		tc{"missing_quoting_cert", withBundle(func(b *attest.Bundle) { b.Evidence.QuotingCert = nil }), attest.ErrMalformedBundle},
		tc{"quoting_cert_garbage", withBundle(func(b *attest.Bundle) { b.Evidence.QuotingCert = []byte("not a certificate") }), attest.ErrMalformedBundle},
		tc{"l0_key_garbage", withBundle(func(b *attest.Bundle) { b.L0PublicKey = []byte("not a key") }), attest.ErrMalformedBundle},
		tc{"inner_report_replaced_by_garbage", withBundle(func(b *attest.Bundle) { b.Inner.Report = []byte("short") }), attest.ErrBadInnerSignature},
		tc{"output_base64_line_break", func(*attest.VerifyOptions) []byte {
			return bytes.Replace(good, []byte(`"output":"eyJn`), []byte(`"output":"eyJn\n`), 1)
		}, attest.ErrMalformedBundle},
		tc{"output_base64_padding_bits", func(*attest.VerifyOptions) []byte { return withPaddingBits(t, good, "output") }, attest.ErrMalformedBundle},
		tc{"nested_too_deep", func(*attest.VerifyOptions) []byte {
			return bytes.Replace(good, []byte(`"schema_version":1`), []byte(`"schema_version":1,"x":`+strings.Repeat("[", 20)+strings.Repeat("]", 20)), 1)
		}, attest.ErrMalformedBundle},
	)
	// Duplicate and case-variant keys, at every level: refused before anything else,
	// whichever copy is real (see TestDuplicateKeys for the details of the error).
	for _, d := range duplicateKeyCases(t, good) {
		cases = append(cases, tc{"duplicate_key_" + d.name, func(*attest.VerifyOptions) []byte { return d.doc }, attest.ErrDuplicateKey})
	}
	// Policy missing.
	cases = append(cases, tc{"no_policy", func(o *attest.VerifyOptions) []byte { o.Policy = nil; return marshal(t, valid()) }, attest.ErrPolicyInvalid})
	// Hardware evidence (an EGo remote report) without a hardware verifier, refused by it,
	// or carrying a quoting certificate it has no use for.
	hardware := func(b *attest.Bundle) {
		b.Evidence = attest.Evidence{Format: attest.FormatEGo, Report: []byte("an SGX quote")}
	}
	cases = append(cases,
		tc{"hardware_no_verifier", withBundle(hardware), attest.ErrNoHardwareVerifier},
		tc{"hardware_refused", func(o *attest.VerifyOptions) []byte {
			o.Hardware = func([]byte) (attest.Report, error) {
				return attest.Report{}, errors.New("quote signature does not chain to Intel")
			}
			return withBundle(hardware)(o)
		}, attest.ErrBadHardwareEvidence},
		tc{"hardware_with_quoting_cert", withBundle(func(b *attest.Bundle) {
			cert := b.Evidence.QuotingCert
			hardware(b)
			b.Evidence.QuotingCert = cert
		}), attest.ErrMalformedBundle},
		tc{"evidence_format_unknown", withBundle(func(b *attest.Bundle) { b.Evidence.Format = "tdx/1" }), attest.ErrMalformedBundle},
	)

	seen := map[*attest.Refusal]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := f.opts(nonce, base.input)
			raw := c.build(&o)
			_, err := attest.Verify(raw, o)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			var r *attest.Refusal
			if !errors.As(err, &r) || r != c.want {
				t.Fatalf("%v: errors.As gives %v", err, r)
			}
			seen[r] = true
		})
	}
	// The baseline of the table verifies.
	if _, err := attest.Verify(good, f.opts(nonce, base.input)); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	t.Run("coverage", func(t *testing.T) {
		// Refusals exercised by other tests: replays (TestSequence), TCB (TestHardwareQuoter).
		for _, r := range []*attest.Refusal{attest.ErrNonceReplay, attest.ErrEpochReplay, attest.ErrPolicyTCBStatus} {
			seen[r] = true
		}
		for _, r := range attest.Refusals {
			if !seen[r] {
				t.Errorf("refusal %s not exercised", r.Code)
			}
		}
	})
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// TestSequence: replayed nonces and reused epochs are refused; epochs are per enclave.
func TestSequence(t *testing.T) {
	f := newFixture(t)
	seq := attest.NewSequence()
	verify := func(epoch uint64, nonce [32]byte) error {
		inv := f.invocation(epoch, nonce)
		o := f.opts(nonce, inv.input)
		o.Sequence = seq
		_, err := attest.Verify(marshal(t, f.bundle(t, inv)), o)
		return err
	}
	n1, n2, n3, n4 := attest.NewNonce(), attest.NewNonce(), attest.NewNonce(), attest.NewNonce()
	steps := []struct {
		name  string
		epoch uint64
		nonce [32]byte
		want  error
	}{
		{"first_epoch_0", 0, n1, nil},
		{"same_bundle_replayed", 0, n1, attest.ErrNonceReplay},
		{"nonce_replayed_new_epoch", 1, n1, attest.ErrNonceReplay},
		{"epoch_reused_new_nonce", 0, n2, attest.ErrEpochReplay},
		{"next_epoch", 1, n2, nil},
		{"epoch_goes_back", 0, n3, attest.ErrEpochReplay},
		{"epoch_skips_ahead", 5, n3, nil},
		{"epoch_reused_after_skip", 5, n4, attest.ErrEpochReplay},
	}
	for _, s := range steps {
		if err := verify(s.epoch, s.nonce); !errors.Is(err, s.want) {
			t.Fatalf("%s: got %v, want %v", s.name, err, s.want)
		}
	}
	if last, ok := seq.Last(enclaveID); !ok || last != 5 {
		t.Fatalf("Last = %d, %v", last, ok)
	}
	// A refused report is not recorded: n4 is still fresh.
	if err := verify(6, n4); err != nil {
		t.Fatal(err)
	}

	// Another enclave has its own epochs.
	g := newFixture(t)
	g.outer.EnclaveID = "another-enclave"
	var err error
	if g.ev, err = g.l0.OuterEvidence(g.quoter, g.outer); err != nil {
		t.Fatal(err)
	}
	nonce := attest.NewNonce()
	inv := g.invocation(0, nonce)
	inv.fields.EnclaveID = "another-enclave"
	o := g.opts(nonce, inv.input)
	o.Sequence = seq
	if _, err := attest.Verify(marshal(t, g.bundle(t, inv)), o); err != nil {
		t.Fatalf("another enclave at epoch 0: %v", err)
	}

	// The sequence survives JSON.
	raw, err := json.Marshal(seq)
	if err != nil {
		t.Fatal(err)
	}
	var back attest.Sequence
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if last, _ := back.Last(enclaveID); last != 6 {
		t.Fatalf("restored Last = %d", last)
	}
	seq = &back
	if err := verify(7, n1); !errors.Is(err, attest.ErrNonceReplay) {
		t.Fatalf("restored sequence forgot a nonce: %v", err)
	}
	if err := verify(6, attest.NewNonce()); !errors.Is(err, attest.ErrEpochReplay) {
		t.Fatalf("restored sequence forgot an epoch: %v", err)
	}
}

// TestHardwareQuoter verifies evidence from a root that is not simulated: it is accepted
// without AllowSimulated, and its TCB status is checked.
func TestHardwareQuoter(t *testing.T) {
	hw := newHWQuoter(t)
	f := &fixture{root: hw.root, quoter: hw}
	f.init(t)
	f.policy.AllowSimulated = false
	nonce := attest.NewNonce()
	inv := f.invocation(1, nonce)
	res, err := attest.Verify(marshal(t, f.bundle(t, inv)), f.opts(nonce, inv.input))
	if err != nil {
		t.Fatal(err)
	}
	if res.Simulated {
		t.Fatal("hardware evidence reported as simulated")
	}
	// A report claiming to be simulated is simulated.
	f.ev = resign(t, hw, f.ev, func(r *attest.Report) { r.Simulated = true })
	if _, err := attest.Verify(marshal(t, f.bundle(t, inv)), f.opts(nonce, inv.input)); !errors.Is(err, attest.ErrSimulatedRefused) {
		t.Fatalf("simulated flag: %v", err)
	}
	// TCB status.
	hw.tcb = attest.TCBOutOfDate
	f.ev = resign(t, hw, f.ev, func(r *attest.Report) { r.Simulated = false })
	if _, err := attest.Verify(marshal(t, f.bundle(t, inv)), f.opts(nonce, inv.input)); !errors.Is(err, attest.ErrPolicyTCBStatus) {
		t.Fatalf("out-of-date TCB: %v", err)
	}
	f.policy.TCBStatus = []attest.TCBStatus{attest.TCBUpToDate, attest.TCBOutOfDate}
	if _, err := attest.Verify(marshal(t, f.bundle(t, inv)), f.opts(nonce, inv.input)); err != nil {
		t.Fatalf("out-of-date TCB allowed by the policy: %v", err)
	}
	// Debug allowed by the policy.
	f.ev = resign(t, hw, f.ev, func(r *attest.Report) { r.Debug = true })
	if _, err := attest.Verify(marshal(t, f.bundle(t, inv)), f.opts(nonce, inv.input)); !errors.Is(err, attest.ErrDebugRefused) {
		t.Fatalf("debug: %v", err)
	}
	f.policy.AllowDebug = true
	if _, err := attest.Verify(marshal(t, f.bundle(t, inv)), f.opts(nonce, inv.input)); err != nil {
		t.Fatalf("debug allowed: %v", err)
	}
}

func TestAllowSimulatedOption(t *testing.T) {
	f := newFixture(t)
	f.policy.AllowSimulated = false
	nonce := attest.NewNonce()
	inv := f.invocation(1, nonce)
	o := f.opts(nonce, inv.input)
	o.AllowSimulated = true
	if _, err := attest.Verify(marshal(t, f.bundle(t, inv)), o); err != nil {
		t.Fatal(err)
	}
}

func TestSimulatedPlatformDir(t *testing.T) {
	dir := t.TempDir()
	p1, err := attest.LoadSimulatedPlatform(dir)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := attest.LoadSimulatedPlatform(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !p1.Root().Equal(p2.Root()) {
		t.Fatal("the root changed between loads")
	}
	if p1.QuotingCert().Equal(p2.QuotingCert()) {
		t.Fatal("the quoting key did not change between loads")
	}
	var buf bytes.Buffer
	if err := attest.WriteSimulatedRoot(&buf, p1); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "PRIVATE KEY") || !strings.Contains(buf.String(), "SIMULATED") {
		t.Fatalf("root PEM:\n%s", buf.String())
	}
	path := dir + "/client-root.pem"
	if err := writeFile(path, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	root, err := attest.LoadRoot(path)
	if err != nil {
		t.Fatal(err)
	}
	// Evidence from the second load verifies against the root the first one wrote.
	f := &fixture{root: root, quoter: p2}
	f.init(t)
	nonce := attest.NewNonce()
	inv := f.invocation(0, nonce)
	if _, err := attest.Verify(marshal(t, f.bundle(t, inv)), f.opts(nonce, inv.input)); err != nil {
		t.Fatal(err)
	}
	// LoadRoot refuses a file without a CA certificate.
	if err := writeFile(dir+"/bad.pem", []byte("nothing")); err != nil {
		t.Fatal(err)
	}
	if _, err := attest.LoadRoot(dir + "/bad.pem"); err == nil {
		t.Fatal("LoadRoot accepted a file without a certificate")
	}
	if _, err := attest.ParseRoot(append([]byte("x\n"), pemCert(p1.QuotingCert().Raw)...)); err == nil {
		t.Fatal("ParseRoot accepted a leaf certificate")
	}
	// A directory whose key does not match its certificate is refused.
	other := t.TempDir()
	if _, err := attest.LoadSimulatedPlatform(other); err != nil {
		t.Fatal(err)
	}
	key, _ := readFile(other + "/" + attest.RootKeyFile)
	if err := writeFile(dir+"/"+attest.RootKeyFile, key); err != nil {
		t.Fatal(err)
	}
	if _, err := attest.LoadSimulatedPlatform(dir); err == nil {
		t.Fatal("mismatched root key accepted")
	}
}

func TestQuoteIsAlwaysSimulated(t *testing.T) {
	p, _ := sharedPlatform()
	ev, err := p.Quote(attest.Report{TCBStatus: attest.TCBUpToDate})
	if err != nil {
		t.Fatal(err)
	}
	r, err := attest.ParseReport(ev.Report)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Simulated || r.TCBStatus != attest.TCBUnknown {
		t.Fatalf("simulated platform quoted %+v", r)
	}
}

func TestEncodings(t *testing.T) {
	r := attest.Report{MRENCLAVE: runtimeMR, MRSIGNER: signerMR, ISVProdID: 0xBEEF, ISVSVN: 0x1234, Debug: true, Simulated: true, TCBStatus: attest.TCBSWHardeningNeeded}
	r.ReportData[63] = 9
	raw := r.Marshal()
	if len(raw) != attest.ReportSize || !bytes.Equal(raw, r.Marshal()) {
		t.Fatal("outer encoding not fixed-size or not deterministic")
	}
	back, err := attest.ParseReport(raw)
	if err != nil || back != r {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	for name, b := range map[string][]byte{
		"short":   raw[:100],
		"long":    append(bytes.Clone(raw), 0),
		"tag":     flip(raw, 3),
		"flags":   func() []byte { c := bytes.Clone(raw); c[84] |= 0x80; return c }(),
		"tcb":     func() []byte { c := bytes.Clone(raw); c[85] = 200; return c }(),
		"padding": flip(raw, 87),
	} {
		if _, err := attest.ParseReport(b); err == nil {
			t.Errorf("ParseReport accepted %s", name)
		}
	}

	f := attest.InnerFields{MRENCLAVE: runtimeMR, ModuleHash: moduleHash, CleanStateHash: cleanState, Epoch: 1<<63 + 5, Nonce: attest.NewNonce(), EnclaveID: enclaveID}
	ib, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if len(ib) != 218+len(enclaveID) {
		t.Fatalf("inner encoding of %d bytes", len(ib))
	}
	ib2, _ := f.Marshal()
	if !bytes.Equal(ib, ib2) {
		t.Fatal("inner encoding not deterministic")
	}
	fb, err := attest.ParseInnerFields(ib)
	if err != nil || fb != f {
		t.Fatalf("inner round trip: %+v, %v", fb, err)
	}
	for name, b := range map[string][]byte{
		"short":      ib[:217],
		"long":       append(bytes.Clone(ib), 'x'),
		"truncated":  ib[:len(ib)-1],
		"tag":        flip(ib, 0),
		"zero_id":    func() []byte { c := bytes.Clone(ib[:218]); c[216], c[217] = 0, 0; return c }(),
		"length_big": flip(ib, 217),
	} {
		if _, err := attest.ParseInnerFields(b); err == nil {
			t.Errorf("ParseInnerFields accepted %s", name)
		}
	}
	for _, id := range []string{"", strings.Repeat("x", 257)} {
		f.EnclaveID = id
		if _, err := f.Marshal(); err == nil {
			t.Errorf("enclave id of %d bytes accepted", len(id))
		}
	}
	f.EnclaveID = strings.Repeat("x", 256)
	if _, err := f.Marshal(); err != nil {
		t.Errorf("enclave id of 256 bytes: %v", err)
	}
}

func TestTCBStatusNames(t *testing.T) {
	for s := attest.TCBUpToDate; s <= attest.TCBUnknown; s++ {
		back, err := attest.ParseTCBStatus(s.String())
		if err != nil || back != s {
			t.Errorf("%d: %v", s, err)
		}
	}
	if _, err := attest.ParseTCBStatus("Fine"); err == nil {
		t.Error("unknown status parsed")
	}
}

func TestRefusalCodesDistinct(t *testing.T) {
	codes := map[string]bool{}
	for _, r := range attest.Refusals {
		if codes[r.Code] {
			t.Errorf("code %s used twice", r.Code)
		}
		codes[r.Code] = true
		if !strings.HasPrefix(r.Error(), "attest: ") {
			t.Errorf("%s: %q", r.Code, r.Error())
		}
	}
}

// TestHardwareEvidence: a bundle whose outer evidence is an SGX remote report is verified by
// the hardware verifier the client passes (ego's VerifyRemoteReport under -tags egoclient;
// here a stand-in returning what ego would), needs no root, and is not simulated: a policy
// that refuses simulated evidence accepts it. Its fields go through ReportFromEGo.
func TestHardwareEvidence(t *testing.T) {
	f := newFixture(t)
	nonce := attest.NewNonce()
	inv := f.invocation(1, nonce)
	b := f.bundle(t, inv)
	raw := []byte("an SGX quote in Open Enclave's format")
	b.Evidence = attest.Evidence{Format: attest.FormatEGo, Report: raw}
	data := attest.ReportDataFor(f.l0.PublicKeyDER(), enclaveID)
	verifier := func(got []byte) (attest.Report, error) {
		if !bytes.Equal(got, raw) {
			return attest.Report{}, errors.New("not the bundled quote")
		}
		// What ego's attestation.Report holds for this enclave: 16-byte ProductID.
		return attest.ReportFromEGo(runtimeMR[:], signerMR[:], []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 2, false, data[:], 0)
	}
	pol := *f.policy
	pol.AllowSimulated = false
	res, err := attest.Verify(marshal(t, b), attest.VerifyOptions{Policy: &pol, Nonce: nonce, Input: inv.input, Hardware: verifier})
	if err != nil {
		t.Fatal(err)
	}
	if res.Simulated || res.Report.MRENCLAVE != runtimeMR || res.Report.ISVProdID != 1 || res.Report.ISVSVN != 2 {
		t.Fatalf("result %+v", res.Report)
	}
}

// TestReportFromEGo: ego's report fields map onto a Report, and values that do not fit SGX's
// fields are refused.
func TestReportFromEGo(t *testing.T) {
	id := bytes.Repeat([]byte{7}, 32)
	signer := bytes.Repeat([]byte{9}, 32)
	prod := []byte{0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	data := bytes.Repeat([]byte{5}, 64)
	r, err := attest.ReportFromEGo(id, signer, prod, 7, true, data, 3)
	if err != nil {
		t.Fatal(err)
	}
	if r.MRENCLAVE[0] != 7 || r.MRSIGNER[31] != 9 || r.ISVProdID != 0x1234 || r.ISVSVN != 7 || !r.Debug ||
		r.ReportData[63] != 5 || r.TCBStatus != attest.TCBStatus(3) || r.Simulated {
		t.Fatalf("mapped %+v", r)
	}
	for _, tc := range []struct {
		name                   string
		id, signer, prod, data []byte
		svn, tcb               uint
		want                   string
	}{
		{"short unique id", id[:31], signer, prod, data, 1, 0, "UniqueID"},
		{"long signer id", id, append(signer, 0), prod, data, 1, 0, "SignerID"},
		{"product id beyond 16 bits", id, signer, []byte{1, 2, 3}, data, 1, 0, "ProductID"},
		{"product id too short", id, signer, []byte{1}, data, 1, 0, "ProductID"},
		{"svn beyond 16 bits", id, signer, prod, data, 1 << 16, 0, "SecurityVersion"},
		{"data too long", id, signer, prod, append(data, 1), 1, 0, "Data"},
		{"tcb status out of range", id, signer, prod, data, 1, 300, "TCBStatus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := attest.ReportFromEGo(tc.id, tc.signer, tc.prod, tc.svn, false, tc.data, tc.tcb)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s", err, tc.want)
			}
		})
	}
}
