package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// subcommands are reclave's commands, as the usage text and the README name them.
var subcommands = []string{"run", "plot", "report", "compare", "export", "bench rewind", "invoke",
	"attest verify", "attest root", "serve", "workloads list", "workloads check", "workloads input",
	"workloads build", "workloads import"}

// flagsOf returns the flags a subcommand defines, as its -h prints them.
func flagsOf(t *testing.T, sub string) []string {
	t.Helper()
	_, _, stderr := reclave(t, append(strings.Fields(sub), "-h")...)
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z][a-z0-9-]*)`).FindAllStringSubmatch(stderr, -1) {
		flags = append(flags, m[1])
	}
	return flags
}

// TestDocsNameRealFlags: the docs cannot drift from the code silently. Every flag of every
// subcommand appears in the usage text, and every --flag the README or docs/ give a reclave
// command on the same line is one that command defines.
func TestDocsNameRealFlags(t *testing.T) {
	defined := map[string][]string{}
	for _, sub := range subcommands {
		defined[sub] = flagsOf(t, sub)
		// The usage text's entry for sub runs from its line to the next "  reclave " line.
		i := strings.Index(usage, "  reclave "+sub)
		if i < 0 {
			t.Errorf("usage text lacks reclave %s", sub)
			continue
		}
		entry := usage[i+2:]
		if j := strings.Index(entry, "\n  reclave "); j >= 0 {
			entry = entry[:j]
		}
		for _, f := range defined[sub] {
			if !strings.Contains(entry, "--"+f) && !strings.Contains(entry, " -"+f+" ") {
				t.Errorf("usage text of reclave %s does not mention --%s", sub, f)
			}
		}
	}
	// Longest names first, so that "reclave attest verify" is not taken for "reclave attest".
	subs := slices.Clone(subcommands)
	slices.SortFunc(subs, func(a, b string) int { return len(b) - len(a) })
	flagRe := regexp.MustCompile(`(?:^|[\s\[(` + "`" + `])--([a-z][a-z0-9-]*)`)
	for _, doc := range []string{"../../README.md", "../../docs/design.md", "../../docs/openwhisk.md"} {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for n, line := range strings.Split(string(text), "\n") {
			for _, sub := range subs {
				i := strings.Index(line, "reclave "+sub)
				if i < 0 {
					continue
				}
				rest := line[i+len("reclave "+sub):]
				if k := strings.Index(rest, "reclave "); k >= 0 {
					rest = rest[:k] // another command on the same line
				}
				for _, m := range flagRe.FindAllStringSubmatch(rest, -1) {
					if !slices.Contains(defined[sub], m[1]) {
						t.Errorf("%s:%d: reclave %s --%s: no such flag (it has %v)", doc, n+1, sub, m[1], defined[sub])
					}
				}
				break
			}
		}
	}
}
