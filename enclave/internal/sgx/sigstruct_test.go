package sgx

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testMRENCLAVE is the measurement the SIGSTRUCTs below sign.
var testMRENCLAVE = sha256.Sum256([]byte("reclave sigstruct test enclave"))

func testFields() SigFields {
	return SigFields{
		Vendor:        VendorOther,
		Date:          DateBCD(time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)),
		SwDefined:     0,
		MiscSelect:    0,
		MiscMask:      0xFFFFFFFF,
		Attributes:    Attributes{Flags: AttrMode64Bit, XFRM: 0x3},
		AttributeMask: Attributes{Flags: ^uint64(0) &^ AttrInit, XFRM: ^uint64(0)},
		EnclaveHash:   testMRENCLAVE,
		ISVProdID:     7,
		ISVSVN:        3,
	}
}

// testAttrs are the attributes of the enclave the SIGSTRUCTs are checked against.
var testAttrs = Attributes{Flags: AttrMode64Bit | AttrInit, XFRM: 0x3}

func TestTestSignerKeyMRSIGNER(t *testing.T) {
	k := TestSignerKey()
	if k.E != 3 || k.N.BitLen() != 3072 {
		t.Fatalf("test key: e=%d, %d bits", k.E, k.N.BitLen())
	}
	// Hard-coded: changing the test key changes every published MRSIGNER. Computed
	// independently as sha256(n.to_bytes(384, "little")) with openssl and Python.
	const want = "79c3c0116c7968bb55626378c7a465c410e1c3a4d75c72532a63232d5ada2b6a"
	if got := MRSigner(&k.PublicKey); hex.EncodeToString(got[:]) != want {
		t.Fatalf("MRSIGNER of the test key %x, want %s", got, want)
	}
	if TestSignerMRSIGNER != want {
		t.Fatalf("TestSignerMRSIGNER %s, want %s", TestSignerMRSIGNER, want)
	}
	if !bytes.Contains(testSignerKeyPEM, []byte("TEST KEY, NOT FOR PRODUCTION")) {
		t.Fatal("the test key file does not say it is a test key")
	}
}

func TestSignEInitRoundTrip(t *testing.T) {
	sig, err := Sign(TestSignerKey(), testFields())
	if err != nil {
		t.Fatal(err)
	}
	raw := sig.Marshal()
	if len(raw) != SigStructSize {
		t.Fatalf("%d bytes", len(raw))
	}
	// Spot-check the SDM offsets.
	if !bytes.Equal(raw[:16], Header[:]) || !bytes.Equal(raw[24:40], Header2[:]) ||
		binary.LittleEndian.Uint32(raw[512:]) != 3 || !bytes.Equal(raw[960:992], testMRENCLAVE[:]) ||
		binary.LittleEndian.Uint16(raw[1024:]) != 7 || binary.LittleEndian.Uint16(raw[1026:]) != 3 ||
		binary.LittleEndian.Uint32(raw[20:]) != 0x20260115 {
		t.Fatalf("fields not at the SDM's offsets")
	}
	var back SigStruct
	if err := back.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	if back != *sig {
		t.Fatal("unmarshal(marshal(s)) != s")
	}
	mrsigner, err := EInit(&back, testMRENCLAVE, testAttrs)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(mrsigner[:]) != TestSignerMRSIGNER {
		t.Fatalf("EINIT's MRSIGNER %x, want the test key's %s", mrsigner, TestSignerMRSIGNER)
	}
	// Signing is deterministic (PKCS #1 v1.5).
	again, err := Sign(TestSignerKey(), testFields())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Marshal(), raw) {
		t.Fatal("two signatures of the same fields differ")
	}
}

// TestSigStructTampering changes every field of a marshalled SIGSTRUCT in turn and checks
// that Unmarshal or EInit refuses it, with the expected error.
func TestSigStructTampering(t *testing.T) {
	good, err := Sign(TestSignerKey(), testFields())
	if err != nil {
		t.Fatal(err)
	}
	raw := good.Marshal()
	flip := func(off int) func([]byte) { return func(b []byte) { b[off] ^= 0x01 } }
	cases := []struct {
		name   string
		off    int
		change func([]byte)
		want   error
	}{
		{"header", offHeader, flip(offHeader), ErrInvalidSigStruct},
		{"header_last_byte", 15, flip(15), ErrInvalidSigStruct},
		{"vendor_unknown", offVendor, flip(offVendor), ErrInvalidSigStruct},
		{"vendor_intel", offVendor, func(b []byte) { binary.LittleEndian.PutUint32(b[offVendor:], VendorIntel) }, ErrInvalidSignature},
		{"date", offDate, flip(offDate), ErrInvalidSignature},
		{"header2", offHeader2, flip(offHeader2 + 4), ErrInvalidSigStruct},
		{"swdefined", offSwDefined, flip(offSwDefined), ErrInvalidSignature},
		{"reserved1", offReserved1, flip(offReserved1 + 10), ErrInvalidSigStruct},
		{"modulus_low", offModulus, flip(offModulus), ErrInvalidSignature},
		{"modulus_high", offModulus + 383, func(b []byte) { b[offModulus+383] ^= 0x80 }, ErrInvalidSignature},
		{"exponent", offExponent, func(b []byte) { binary.LittleEndian.PutUint32(b[offExponent:], 65537) }, ErrInvalidExponent},
		{"signature", offSignature, flip(offSignature + 100), ErrInvalidSignature},
		{"miscselect", offMiscSelect, flip(offMiscSelect), ErrInvalidSignature},
		{"miscmask", offMiscMask, flip(offMiscMask), ErrInvalidSignature},
		{"reserved2", offReserved2, flip(offReserved2 + 5), ErrInvalidSigStruct},
		{"attributes_debug", offAttributes, func(b []byte) { b[offAttributes] |= byte(AttrDebug) }, ErrInvalidSignature},
		{"attributes_xfrm", offAttributes + 8, flip(offAttributes + 8), ErrInvalidSignature},
		{"attributemask", offAttributeMask, flip(offAttributeMask + 1), ErrInvalidSignature},
		{"enclavehash", offEnclaveHash, flip(offEnclaveHash + 31), ErrInvalidSignature},
		{"reserved3", offReserved3, flip(offReserved3), ErrInvalidSigStruct},
		{"isvprodid", offISVProdID, flip(offISVProdID), ErrInvalidSignature},
		{"isvsvn", offISVSVN, flip(offISVSVN), ErrInvalidSignature},
		{"reserved4", offReserved4, flip(offReserved4 + 11), ErrInvalidSigStruct},
		{"q1", offQ1, flip(offQ1 + 7), ErrInvalidSignature},
		{"q2", offQ2, flip(offQ2 + 383), ErrInvalidSignature},
		{"truncated", 0, nil, ErrInvalidSigStruct},
	}
	covered := map[int]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(raw)
			if c.change == nil {
				b = b[:SigStructSize-1]
			} else {
				c.change(b)
				covered[c.off] = true
			}
			var s SigStruct
			err := s.Unmarshal(b)
			if err == nil {
				_, err = EInit(&s, testMRENCLAVE, testAttrs)
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			var ee *EInitError
			if !errors.As(err, &ee) || ee.Code == "" {
				t.Fatalf("%v is not an *EInitError with a code", err)
			}
		})
	}
	// Every field (by its starting offset) was tampered with.
	for _, off := range []int{offHeader, offVendor, offDate, offHeader2, offSwDefined, offReserved1, offModulus, offExponent, offSignature, offMiscSelect, offMiscMask, offReserved2, offAttributes, offAttributeMask, offEnclaveHash, offReserved3, offISVProdID, offISVSVN, offReserved4, offQ1, offQ2} {
		if !covered[off] {
			t.Errorf("field at offset %d not tampered with", off)
		}
	}
}

// TestEInitChecks covers what EINIT compares with the enclave rather than with the signature.
func TestEInitChecks(t *testing.T) {
	sign := func(f func(*SigFields)) *SigStruct {
		fields := testFields()
		if f != nil {
			f(&fields)
		}
		s, err := Sign(TestSignerKey(), fields)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	other := testMRENCLAVE
	other[0] ^= 1
	debugOK := func(f *SigFields) { f.AttributeMask.Flags &^= AttrDebug } // signer allows DEBUG either way
	cases := []struct {
		name  string
		sig   *SigStruct
		mr    [32]byte
		attrs Attributes
		want  error
	}{
		{"valid", sign(nil), testMRENCLAVE, testAttrs, nil},
		{"measurement", sign(nil), other, testAttrs, ErrInvalidMeasurement},
		{"debug_not_allowed", sign(nil), testMRENCLAVE, Attributes{testAttrs.Flags | AttrDebug, testAttrs.XFRM}, ErrInvalidAttribute},
		{"debug_allowed_by_mask", sign(debugOK), testMRENCLAVE, Attributes{testAttrs.Flags | AttrDebug, testAttrs.XFRM}, nil},
		{"debug_required", sign(func(f *SigFields) { f.Attributes.Flags |= AttrDebug }), testMRENCLAVE, testAttrs, ErrInvalidAttribute},
		{"mode64_missing", sign(nil), testMRENCLAVE, Attributes{AttrInit, testAttrs.XFRM}, ErrInvalidAttribute},
		{"xfrm", sign(nil), testMRENCLAVE, Attributes{testAttrs.Flags, 0x7}, ErrInvalidAttribute},
		{"xfrm_unmasked", sign(func(f *SigFields) { f.AttributeMask.XFRM = 0x3 }), testMRENCLAVE, Attributes{testAttrs.Flags, 0x7}, nil},
		{"miscselect", sign(func(f *SigFields) { f.MiscSelect = 1 }), testMRENCLAVE, testAttrs, ErrInvalidMiscSelect},
		{"miscselect_unmasked", sign(func(f *SigFields) { f.MiscSelect, f.MiscMask = 1, 0 }), testMRENCLAVE, testAttrs, nil},
		{"nil", nil, testMRENCLAVE, testAttrs, ErrInvalidSigStruct},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := EInit(c.sig, c.mr, c.attrs)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

var otherKey = sync.OnceValues(GenerateSignerKey)

// TestOtherSigner: a SIGSTRUCT re-signed with another key passes EINIT but yields another
// MRSIGNER; the other key's modulus with the test key's signature does not.
func TestOtherSigner(t *testing.T) {
	k, err := otherKey()
	if err != nil {
		t.Fatal(err)
	}
	if k.E != 3 || k.N.BitLen() != 3072 {
		t.Fatalf("generated key: e=%d, %d bits", k.E, k.N.BitLen())
	}
	s, err := Sign(k, testFields())
	if err != nil {
		t.Fatal(err)
	}
	mrsigner, err := EInit(s, testMRENCLAVE, testAttrs)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(mrsigner[:]) == TestSignerMRSIGNER || mrsigner != MRSigner(&k.PublicKey) {
		t.Fatalf("MRSIGNER %x", mrsigner)
	}
	good, _ := Sign(TestSignerKey(), testFields())
	good.Modulus = s.Modulus
	if _, err := EInit(good, testMRENCLAVE, testAttrs); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("swapped modulus: %v", err)
	}
}

func TestLoadSignerKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	k, err := otherKey()
	if err != nil {
		t.Fatal(err)
	}
	// PKCS #1 and PKCS #8 round trips.
	loaded, err := LoadSignerKey(write("pkcs1.pem", MarshalSignerKey(k)))
	if err != nil || !loaded.Equal(k) {
		t.Fatalf("pkcs1: %v", err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	loaded, err = LoadSignerKey(write("pkcs8.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	if err != nil || !loaded.Equal(k) {
		t.Fatalf("pkcs8: %v", err)
	}
	// The test key round-trips through its file too.
	loaded, err = LoadSignerKey("testdata/test_signer_key.pem")
	if err != nil || !loaded.Equal(TestSignerKey()) {
		t.Fatalf("test key file: %v", err)
	}
	if !strings.Contains(string(MarshalSignerKey(loaded)), "RSA PRIVATE KEY") {
		t.Fatal("MarshalSignerKey is not PKCS #1")
	}

	e65537, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"exponent_65537": MarshalSignerKey(e65537),
		"2048_bits":      MarshalSignerKey(small),
		"no_key":         []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
		"garbage":        []byte("not a key"),
		"bad_der":        pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{1, 2, 3}}),
	} {
		if _, err := LoadSignerKey(write(name+".pem", data)); !errors.Is(err, ErrSignerKey) {
			t.Errorf("%s: %v, want ErrSignerKey", name, err)
		}
		if _, err := Sign(nil, testFields()); !errors.Is(err, ErrSignerKey) {
			t.Errorf("Sign(nil): %v", err)
		}
	}
	if _, err := Sign(e65537, testFields()); !errors.Is(err, ErrSignerKey) {
		t.Errorf("Sign with e=65537: %v", err)
	}
	if _, err := LoadSignerKey(filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestDateBCD(t *testing.T) {
	if got := DateBCD(time.Date(1999, 12, 31, 23, 0, 0, 0, time.UTC)); got != 0x19991231 {
		t.Fatalf("%#x", got)
	}
}

func BenchmarkEInit(b *testing.B) {
	s, err := Sign(TestSignerKey(), testFields())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := EInit(s, testMRENCLAVE, testAttrs); err != nil {
			b.Fatal(err)
		}
	}
}
