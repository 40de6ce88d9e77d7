package attest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"

	"github.com/reclave/reclave/internal/jsonstrict"
)

// SchemaVersion is the version of the bundle format this package writes and reads.
const SchemaVersion = 1

// Bundle is what an enclave returns for an attested invocation: its outer evidence, its L0
// public key, the inner report and the output. Its JSON form is documented in the package
// documentation; binary fields are base64 (standard alphabet, padded).
type Bundle struct {
	SchemaVersion int         `json:"schema_version"`
	Evidence      Evidence    `json:"evidence"`
	L0PublicKey   []byte      `json:"l0_public_key"`
	Inner         InnerReport `json:"inner"`
	Output        []byte      `json:"output"`
}

// NewBundle assembles a bundle of schema version 1.
func NewBundle(ev *Evidence, l0PublicKeyDER []byte, inner InnerReport, output []byte) *Bundle {
	b := &Bundle{SchemaVersion: SchemaVersion, L0PublicKey: l0PublicKeyDER, Inner: inner, Output: output}
	if ev != nil {
		b.Evidence = *ev
	}
	if b.Output == nil {
		b.Output = []byte{}
	}
	return b
}

// clone returns a deep copy of the bundle.
func (b *Bundle) clone() *Bundle {
	c := *b
	c.Evidence.Report = bytes.Clone(b.Evidence.Report)
	c.Evidence.QuotingCert = bytes.Clone(b.Evidence.QuotingCert)
	c.Evidence.Signature = bytes.Clone(b.Evidence.Signature)
	c.L0PublicKey = bytes.Clone(b.L0PublicKey)
	c.Inner.Report = bytes.Clone(b.Inner.Report)
	c.Inner.Signature = bytes.Clone(b.Inner.Signature)
	c.Output = bytes.Clone(b.Output)
	return &c
}

// Marshal returns the bundle's JSON.
func (b *Bundle) Marshal() ([]byte, error) { return json.Marshal(b) }

// maxJSONDepth bounds the nesting of bundles and policies, whose documented forms are two
// levels deep.
const maxJSONDepth = 16

// ParseBundle parses a bundle's JSON strictly. Refused, in this order: a document with a
// duplicate or case-variant key anywhere (ErrDuplicateKey, also ErrMalformedBundle), that is
// not one JSON value (trailing data) or is nested deeper than 16 levels (ErrMalformedBundle);
// a schema_version other than 1 (ErrSchemaVersion); unknown fields, values of the wrong type,
// bad or non-canonical base64, missing binary parts (ErrMalformedBundle).
//
// Every value of the returned Bundle comes from this one parse of data: show a verified
// bundle's output from it (or from Result.Output), never from data read again by another
// parser.
func ParseBundle(data []byte) (*Bundle, error) {
	// First, the document must have one meaning whichever parser reads it: no key twice in
	// an object, not even in another case (encoding/json below would match "Output" with
	// the output field and keep the last; another parser might keep the first).
	if err := jsonstrict.Check(data, jsonstrict.Options{MaxDepth: maxJSONDepth}); err != nil {
		return nil, jsonRefusal(ErrMalformedBundle, err)
	}
	var v struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, jsonRefusal(ErrMalformedBundle, err)
	}
	if v.SchemaVersion == nil {
		return nil, refuse(ErrMalformedBundle, "no schema_version")
	}
	if *v.SchemaVersion != SchemaVersion {
		return nil, refuse(ErrSchemaVersion, "schema_version %d, this verifier reads %d", *v.SchemaVersion, SchemaVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Bundle
	if err := dec.Decode(&b); err != nil {
		return nil, jsonRefusal(ErrMalformedBundle, err)
	}
	// jsonstrict.Check refused data after the bundle.
	if err := checkCanonicalBase64(data, &b); err != nil {
		return nil, err
	}
	parts := map[string][]byte{
		"evidence.report": b.Evidence.Report,
		"l0_public_key":   b.L0PublicKey,
		"inner.report":    b.Inner.Report,
		"inner.signature": b.Inner.Signature,
	}
	switch b.Evidence.Format {
	case "", FormatSimulated:
		parts["evidence.quoting_cert"] = b.Evidence.QuotingCert
		parts["evidence.signature"] = b.Evidence.Signature
	case FormatEGo:
		if len(b.Evidence.QuotingCert) > 0 || len(b.Evidence.Signature) > 0 {
			return nil, refuse(ErrMalformedBundle, "evidence of format %s has no quoting_cert or signature", FormatEGo)
		}
	default:
		return nil, refuse(ErrMalformedBundle, "evidence.format %q: want %q or %q", b.Evidence.Format, FormatSimulated, FormatEGo)
	}
	for name, f := range parts {
		if len(f) == 0 {
			return nil, refuse(ErrMalformedBundle, "%s is missing", name)
		}
	}
	return &b, nil
}

// bundleText is a bundle's JSON with its binary values as the strings they are in the
// document.
type bundleText struct {
	Evidence struct {
		Report      string `json:"report"`
		QuotingCert string `json:"quoting_cert"`
		Signature   string `json:"signature"`
	} `json:"evidence"`
	L0PublicKey string `json:"l0_public_key"`
	Inner       struct {
		Report    string `json:"report"`
		Signature string `json:"signature"`
	} `json:"inner"`
	Output string `json:"output"`
}

// checkCanonicalBase64 refuses binary values that are not in canonical base64 (standard
// alphabet, padded, no line breaks, zero padding bits), the form Marshal writes:
// encoding/json's decoder skips line breaks and ignores padding bits, other decoders refuse
// them or not, so only one spelling of each value is accepted. data has passed
// jsonstrict.Check and decodes as b.
func checkCanonicalBase64(data []byte, b *Bundle) error {
	var t bundleText
	if err := json.Unmarshal(data, &t); err != nil {
		return jsonRefusal(ErrMalformedBundle, err)
	}
	for _, f := range []struct {
		name string
		text string
		raw  []byte
	}{
		{"evidence.report", t.Evidence.Report, b.Evidence.Report},
		{"evidence.quoting_cert", t.Evidence.QuotingCert, b.Evidence.QuotingCert},
		{"evidence.signature", t.Evidence.Signature, b.Evidence.Signature},
		{"l0_public_key", t.L0PublicKey, b.L0PublicKey},
		{"inner.report", t.Inner.Report, b.Inner.Report},
		{"inner.signature", t.Inner.Signature, b.Inner.Signature},
		{"output", t.Output, b.Output},
	} {
		if base64.StdEncoding.EncodeToString(f.raw) != f.text {
			return refuse(ErrMalformedBundle, "%s: base64 not in canonical form (standard alphabet, padded, no line breaks, zero padding bits)", f.name)
		}
	}
	return nil
}
