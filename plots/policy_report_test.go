package plots

import (
	"bytes"
	"strings"
	"testing"
)

// TestWritePolicies: a trace simulation's report has its policy table, in 3 significant digits.
func TestWritePolicies(t *testing.T) {
	s := &policySummary{Kind: policyKind, Policies: []policyEntry{
		{Policy: "none", Reuse: "none", ColdFraction: 1, Invocations: 10, Enclaves: 10},
		{Policy: "keepalive", Reuse: "warm", Insecure: true, ColdFraction: 0.001234, Invocations: 10, Enclaves: 1},
	}}
	s.Policies[1].LatencyNs.P50 = 1234567
	s.Policies[1].MemoryGBs.Idle = 187654.3
	var b bytes.Buffer
	writePolicies(&b, s)
	for _, want := range []string{"## Policies", "| none | none | 10 | 100% |", "| keepalive | warm (insecure) | 10 | 0.123% | 1.23 ms |", "| 188000 |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}
