package attest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/reclave/reclave/enclave/attest"
)

func TestPolicyFile(t *testing.T) {
	p, err := attest.LoadPolicy("testdata/policy_example.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.MRENCLAVE) != 1 || p.MRSIGNER[0].String() != "79c3c0116c7968bb55626378c7a465c410e1c3a4d75c72532a63232d5ada2b6a" ||
		p.ISVProdID == nil || *p.ISVProdID != 0 || !p.AllowSimulated || p.AllowDebug ||
		len(p.TCBStatus) != 2 || p.TCBStatus[1] != attest.TCBSWHardeningNeeded {
		t.Fatalf("%+v", p)
	}
	raw, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := attest.ParsePolicy(raw)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := back.Marshal()
	if string(again) != string(raw) {
		t.Fatalf("policy round trip:\n%s\n%s", raw, again)
	}
}

func TestPolicyStrict(t *testing.T) {
	const h = `"0000000000000000000000000000000000000000000000000000000000000000"`
	valid := `{"mrenclave":[` + h + `],"module_hash":[` + h + `],"clean_state_hash":[` + h + `]}`
	if _, err := attest.ParsePolicy([]byte(valid)); err != nil {
		t.Fatalf("minimal policy: %v", err)
	}
	for name, doc := range map[string]string{
		"unknown_key":      strings.Replace(valid, `{`, `{"mrenclaves":[],`, 1),
		"typo_allow_debug": strings.Replace(valid, `{`, `{"allowdebug":true,`, 1),
		"short_hex":        strings.Replace(valid, h, `"abcd"`, 1),
		"bad_hex":          strings.Replace(valid, h, `"zz00000000000000000000000000000000000000000000000000000000000000"`, 1),
		"no_mrenclave":     `{"module_hash":[` + h + `],"clean_state_hash":[` + h + `]}`,
		"no_module":        `{"mrenclave":[` + h + `],"clean_state_hash":[` + h + `]}`,
		"no_clean_state":   `{"mrenclave":[` + h + `],"module_hash":[` + h + `]}`,
		"empty":            ``,
		"not_json":         `mrenclave: abc`,
		"trailing":         valid + `{}`,
		"bad_tcb":          strings.Replace(valid, `{`, `{"tcb_status":["Fine"],`, 1),
		"negative_svn":     strings.Replace(valid, `{`, `{"min_isvsvn":-1,`, 1),
		"prod_id_too_big":  strings.Replace(valid, `{`, `{"isv_prod_id":70000,`, 1),
	} {
		_, err := attest.ParsePolicy([]byte(doc))
		if !errors.Is(err, attest.ErrPolicyInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := attest.LoadPolicy("testdata/missing.json"); err == nil {
		t.Error("missing policy file accepted")
	}
}
