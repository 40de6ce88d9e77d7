package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
)

// TestInvokeGeneric: invoke --generic serves the named workloads round-robin in one generic
// enclave; every record names its function and module, the MRENCLAVE is the same for all,
// the compile cache misses once per module and hits after, every output matches.
func TestInvokeGeneric(t *testing.T) {
	code, stdout, stderr := reclave(t, "invoke", "--generic", "counter,json-stats,wc-c", "-n", "2", "--json", "--memory-mib", "8")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	type rec struct {
		Seq          int    `json:"seq"`
		Function     string `json:"function"`
		Mode         string `json:"mode"`
		Reset        string `json:"reset"`
		Valid        *bool  `json:"valid"`
		ModuleHash   string `json:"module_hash"`
		CompileCache string `json:"compile_cache"`
		MRENCLAVE    string `json:"mrenclave"`
	}
	var recs []rec
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var r rec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	want := []string{"counter", "json-stats", "wc-c", "counter", "json-stats", "wc-c"}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d:\n%s", len(recs), len(want), stdout)
	}
	hashes := map[string]string{}
	for i, r := range recs {
		cache := "miss"
		if i >= 3 {
			cache = "hit"
		}
		if r.Seq != i+1 || r.Function != want[i] || r.Mode != "generic" || r.Reset != "rewind" || r.Valid == nil || !*r.Valid ||
			r.CompileCache != cache || len(r.ModuleHash) != 64 || r.MRENCLAVE != recs[0].MRENCLAVE {
			t.Fatalf("record %d: %+v (want %s, cache %s, mrenclave %s)", i, r, want[i], cache, recs[0].MRENCLAVE)
		}
		if h, ok := hashes[r.Function]; ok && h != r.ModuleHash {
			t.Fatalf("%s: module hash %s, then %s", r.Function, h, r.ModuleHash)
		}
		hashes[r.Function] = r.ModuleHash
	}
	if len(hashes) != 3 {
		t.Fatalf("module hashes %v", hashes)
	}

	for _, args := range [][]string{
		{"invoke", "--generic", "counter", "--mode", "warm"},
		{"invoke", "--generic", "counter", "--input", "{}"},
		{"invoke", "--generic", "counter", "json-stats"},
		{"invoke", "--generic", "counter,,wc-c"},
		{"invoke", "--generic", "counter", "--snapshot-point", "function"},
	} {
		if code, _, _ := reclave(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", args, code)
		}
	}
}
