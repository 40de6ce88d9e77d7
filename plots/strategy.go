package plots

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/reclave/reclave/results"
)

// strategyCaption says which rewind strategy the rewind results of rs ran under, for a
// figure's caption: "rewind strategy tracked", or under auto the share of the invocations each
// variant served, "rewind strategy auto: diff 40%, tracked 60% of invocations". Empty when rs
// holds no rewind result.
func strategyCaption(rs []results.Result) string {
	configured := map[string]bool{}
	ran := map[string]int{}
	total := 0
	for _, r := range rs {
		if r.Mode != "rewind" || r.Strategy == "" {
			continue
		}
		configured[r.Strategy] = true
		for s, n := range r.Strategies {
			ran[s] += n
			total += n
		}
	}
	if len(configured) == 0 {
		return ""
	}
	text := "rewind strategy " + strings.Join(slices.Sorted(maps.Keys(configured)), ", ")
	if !configured[string(autoStrategy)] || total == 0 {
		return text
	}
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(ran)) {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", s, 100*float64(ran[s])/float64(total)))
	}
	return text + ": " + strings.Join(parts, ", ") + " of invocations"
}

// autoStrategy is the name of the strategy that chooses per function (enclave.StrategyAuto;
// plots reads summaries, not enclaves).
const autoStrategy = "auto"

// writeStrategies writes report.md's section on the rewind strategies: per configuration of
// mode rewind, the strategy configured, the invocations each strategy served and, under auto,
// the enclave's reason for its choice. Nothing when the run has no rewind result.
func writeStrategies(b *bytes.Buffer, s *results.Summary) {
	var rows []results.Result
	for _, r := range s.Results {
		if r.Mode == "rewind" && r.Strategy != "" {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## Rewind strategy\n\n")
	b.WriteString("Per configuration of mode rewind: the strategy configured, the measured invocations each " +
		"strategy served, and for `auto` the enclave's reason for its last choice (it measures `diff` and " +
		"`tracked` on the function's own invocations and keeps the cheaper, execution plus reset; with several " +
		"workers each enclave chooses for itself).\n\n")
	b.WriteString("| experiment | workload | snapshot point | configured | served by | choice |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		var served []string
		for _, st := range slices.Sorted(maps.Keys(r.Strategies)) {
			served = append(served, fmt.Sprintf("%s %d", st, r.Strategies[st]))
		}
		choice := r.StrategyChoice
		if choice == "" {
			choice = "configured"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", mdCell(r.Experiment), mdCell(r.Workload), mdCell(r.SnapshotPoint),
			mdCell(r.Strategy), mdCell(strings.Join(served, ", ")), mdCell(choice))
	}
	b.WriteString("\n")
}
