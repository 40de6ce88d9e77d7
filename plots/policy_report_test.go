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

// TestWriteAgreement: a replay's report has the simulator/replay table, the verdict of the
// cold-start check and the CPU queueing; a simulation's has none.
func TestWriteAgreement(t *testing.T) {
	for _, tc := range []struct {
		name   string
		diff   float64
		ok     bool
		replay bool
		want   []string
	}{
		{"agree", -1.5, true, true, []string{"## Simulator vs. replay", "| simulator | 100 | 10% |", "| replay | 100 | 8.5% |",
			"-1.50 percentage points (bound ±2): **agree**", "p50 1.2 ms, p99 45 ms", "3 invocations failed"}},
		{"disagree", 12, false, true, []string{"+12.00 percentage points (bound ±2): **disagree**"}},
		{"simulation", 0, true, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &policySummary{Kind: policyKind, Policies: []policyEntry{{Policy: "keepalive", Reuse: "rewind",
				Invocations: 100, ColdFraction: 0.1}}}
			if tc.replay {
				r := &replaySummary{Policy: "keepalive", Reuse: "rewind", SpeedUp: 80, WallNs: 3e9, Cores: 2, Errors: 3}
				r.Result = policyEntry{Invocations: 100, ColdFraction: 0.1 + tc.diff/100}
				r.Agreement.ColdDiffPP, r.Agreement.BoundPP, r.Agreement.ColdOK = tc.diff, 2, tc.ok
				r.Agreement.CPUQueueingNs.P50, r.Agreement.CPUQueueingNs.P99 = 1.2e6, 45e6
				s.Replay = r
			}
			var b bytes.Buffer
			writeAgreement(&b, s)
			if !tc.replay && b.Len() > 0 {
				t.Fatalf("a simulation has an agreement section:\n%s", b.String())
			}
			for _, want := range tc.want {
				if !strings.Contains(b.String(), want) {
					t.Errorf("section lacks %q:\n%s", want, b.String())
				}
			}
		})
	}
}
