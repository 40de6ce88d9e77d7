package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
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

// Marshal returns the bundle's JSON.
func (b *Bundle) Marshal() ([]byte, error) { return json.Marshal(b) }

// ParseBundle parses a bundle's JSON strictly: schema_version must be 1 (ErrSchemaVersion);
// unknown fields, missing binary parts, bad base64 and trailing data are refused
// (ErrMalformedBundle).
func ParseBundle(data []byte) (*Bundle, error) {
	var v struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, refuse(ErrMalformedBundle, "%v", err)
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
		return nil, refuse(ErrMalformedBundle, "%v", err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return nil, refuse(ErrMalformedBundle, "data after the bundle")
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
