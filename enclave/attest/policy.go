package attest

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/reclave/reclave/internal/jsonstrict"
)

// Digest is a SHA-256 value; in JSON, 64 hex digits.
type Digest [32]byte

// MarshalText encodes the digest as lower-case hex.
func (d Digest) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(d[:])), nil }

// UnmarshalText decodes exactly 64 hex digits.
func (d *Digest) UnmarshalText(b []byte) error {
	if len(b) != 64 {
		return fmt.Errorf("digest %q: want 64 hex digits", b)
	}
	_, err := hex.Decode(d[:], b)
	return err
}

func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// MarshalText encodes the status by its name.
func (s TCBStatus) MarshalText() ([]byte, error) {
	if int(s) >= len(tcbNames) {
		return nil, fmt.Errorf("unknown TCB status %d", s)
	}
	return []byte(s.String()), nil
}

// UnmarshalText decodes a status name.
func (s *TCBStatus) UnmarshalText(b []byte) error {
	v, err := ParseTCBStatus(string(b))
	*s = v
	return err
}

// Policy is what a client accepts. Lists accept any of their values. A policy file is its
// JSON form, read strictly (unknown keys, and keys given twice or in two cases, are errors):
//
//	{
//	  "mrenclave":        ["<hex>", ...],  required: accepted runtime measurements
//	  "mrsigner":         ["<hex>", ...],  optional: accepted signers (MRSIGNER)
//	  "isv_prod_id":      0,               optional: required ISVPRODID
//	  "min_isvsvn":       0,               optional: minimum ISVSVN (default 0)
//	  "module_hash":      ["<hex>", ...],  required: accepted functions (SHA-256 of the module)
//	  "clean_state_hash": ["<hex>", ...],  required: published clean states (snapshot hashes)
//	  "allow_debug":      false,           optional: accept debug enclaves
//	  "allow_simulated":  false,           optional: accept simulated evidence
//	  "tcb_status":       ["UpToDate"]     optional: accepted TCB statuses (ego's names);
//	                                       default ["UpToDate"]; not checked for simulated
//	                                       evidence, which has none
//	}
//
// For a generic enclave (enclave.CreateGeneric: one runtime measured without any function,
// which loads the function each invocation brings), mrenclave pins the runtime once for every
// function, clean_state_hash is the generic runtime's clean state (the same for every
// function), and module_hash is the allow-list of the functions the client accepts: an inner
// report for any other module is refused with [ErrPolicyModule], whatever runtime ran it.
type Policy struct {
	MRENCLAVE      []Digest    `json:"mrenclave"`
	MRSIGNER       []Digest    `json:"mrsigner,omitempty"`
	ISVProdID      *uint16     `json:"isv_prod_id,omitempty"`
	MinISVSVN      uint16      `json:"min_isvsvn,omitempty"`
	ModuleHash     []Digest    `json:"module_hash"`
	CleanStateHash []Digest    `json:"clean_state_hash"`
	AllowDebug     bool        `json:"allow_debug,omitempty"`
	AllowSimulated bool        `json:"allow_simulated,omitempty"`
	TCBStatus      []TCBStatus `json:"tcb_status,omitempty"`
}

// Validate checks that the policy pins the runtime, the function and the clean state
// (ErrPolicyInvalid otherwise).
func (p *Policy) Validate() error {
	switch {
	case p == nil:
		return refuse(ErrPolicyInvalid, "no policy")
	case len(p.MRENCLAVE) == 0:
		return refuse(ErrPolicyInvalid, "mrenclave is empty: the policy must name the runtime")
	case len(p.ModuleHash) == 0:
		return refuse(ErrPolicyInvalid, "module_hash is empty: the policy must name the function")
	case len(p.CleanStateHash) == 0:
		return refuse(ErrPolicyInvalid, "clean_state_hash is empty: the policy must name the clean state")
	}
	return nil
}

// LoadPolicy reads a policy file (JSON, see Policy).
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", path, err)
	}
	return p, nil
}

// ParsePolicy parses a policy's JSON strictly and validates it. Refused (ErrPolicyInvalid): a
// duplicate or case-variant key anywhere ("mrenclave" beside "MRENCLAVE": also
// ErrDuplicateKey), unknown keys, values of the wrong type, bad hex, trailing data, nesting
// deeper than 16 levels, a missing required field.
func ParsePolicy(data []byte) (*Policy, error) {
	var p Policy
	opts := jsonstrict.Options{DisallowUnknownFields: true, MaxDepth: maxJSONDepth}
	if err := jsonstrict.Unmarshal(data, &p, opts); err != nil {
		return nil, jsonRefusal(ErrPolicyInvalid, err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Marshal returns the policy's JSON, indented.
func (p *Policy) Marshal() ([]byte, error) { return json.MarshalIndent(p, "", "  ") }

// check applies the policy to verified evidence.
func (p *Policy) check(r Report, in InnerFields, simulated bool) error {
	if !slices.Contains(p.MRENCLAVE, Digest(r.MRENCLAVE)) {
		return refuse(ErrPolicyMRENCLAVE, "%x", r.MRENCLAVE)
	}
	if len(p.MRSIGNER) > 0 && !slices.Contains(p.MRSIGNER, Digest(r.MRSIGNER)) {
		return refuse(ErrPolicyMRSIGNER, "%x", r.MRSIGNER)
	}
	if p.ISVProdID != nil && *p.ISVProdID != r.ISVProdID {
		return refuse(ErrPolicyProductID, "ISVPRODID %d, want %d", r.ISVProdID, *p.ISVProdID)
	}
	if r.ISVSVN < p.MinISVSVN {
		return refuse(ErrPolicyISVSVN, "ISVSVN %d < %d", r.ISVSVN, p.MinISVSVN)
	}
	if !simulated {
		accepted := p.TCBStatus
		if len(accepted) == 0 {
			accepted = []TCBStatus{TCBUpToDate}
		}
		if !slices.Contains(accepted, r.TCBStatus) {
			return refuse(ErrPolicyTCBStatus, "%s, accepted %v", r.TCBStatus, accepted)
		}
	}
	if !slices.Contains(p.ModuleHash, Digest(in.ModuleHash)) {
		return refuse(ErrPolicyModule, "%x", in.ModuleHash)
	}
	if !slices.Contains(p.CleanStateHash, Digest(in.CleanStateHash)) {
		return refuse(ErrPolicyCleanState, "%x", in.CleanStateHash)
	}
	return nil
}
