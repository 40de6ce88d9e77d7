package plots

import (
	"bytes"
	"strings"
	"testing"

	"github.com/reclave/reclave/results"
)

// TestStrategyCaption: figures say which strategy rewinds ran under, and under auto how the
// invocations were shared.
func TestStrategyCaption(t *testing.T) {
	rewind := func(configured string, served map[string]int) results.Result {
		return results.Result{Key: results.Key{Workload: "w", Mode: "rewind", Strategy: configured}, Strategies: served}
	}
	for _, tc := range []struct {
		name string
		rs   []results.Result
		want string
	}{
		{"no rewind", []results.Result{{Key: results.Key{Mode: "warm"}}}, ""},
		{"configured", []results.Result{rewind("tracked", map[string]int{"tracked": 10})}, "rewind strategy tracked"},
		{"auto", []results.Result{rewind("auto", map[string]int{"diff": 30, "tracked": 10}), rewind("auto", map[string]int{"tracked": 60})},
			"rewind strategy auto: diff 30%, tracked 70% of invocations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strategyCaption(tc.rs); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	var b bytes.Buffer
	r := rewind("auto", map[string]int{"tracked": 60})
	r.StrategyChoice = "tracked: execution 1 ms + reset 2 µs = 1 ms, below diff: …"
	writeStrategies(&b, &results.Summary{Results: []results.Result{r, {Key: results.Key{Workload: "w", Mode: "warm"}}}})
	for _, want := range []string{"## Rewind strategy", "| w | ", "| auto | tracked 60 | tracked: execution 1 ms"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report section lacks %q:\n%s", want, b.String())
		}
	}
}
