//go:build wasip1

// Command regex is a reclave workload (reactor kind, function ABI version 1, see ../README.md)
// written in Go: text processing with package regexp (RE2 syntax, leftmost-first matching).
// Built as a WASI preview1 reactor with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false \
//	    -ldflags="-s -w" -o regex.wasm .
//
// (see build.sh). Exports, besides _initialize (the Go runtime):
//
//   - reclave_init: () -> (): compiles the regular expressions;
//   - reclave_handle: () -> i32: one invocation.
//
// Input: {"text":"..."} (the `generate: text` input of the manifest; unknown fields ignored).
//
// One invocation works like grep over a text file: it word-wraps the text into lines of at
// most lineWidth bytes (words are the runs of bytes other than space, tab, CR and LF; a line
// takes words, joined by single spaces, while they fit; a longer word is a line of its own) and
// processes line by line (the patterns are the contract shared with expected/gen.py; every one
// matches at least one byte, so "all matches" means the same in every leftmost-first engine):
//
//  1. counts the words (wordPattern) and the 10 most frequent;
//  2. finds all non-overlapping matches of each pattern in each line, in order;
//  3. rewrites every "X at Y" into an e-mail-like token "X@Y.example" (rewritePattern,
//     rewriteTemplate) and finds all matches of emailPattern in the rewritten line.
//
// Output: {"bytes":<text length>,"lines":<line count>,"words":<word count>,
// "distinct_words":<count>,"top_words":[{"match":w,"count":c},...],"patterns":[{"name":...,
// "pattern":...,"matches":<count>,"distinct":<count>,"top":[{"match":m,"count":c},...]},...],
// "rewritten_bytes":<length>,"rewritten_sha256":"<hex>"} where the rewritten text is the
// rewritten lines, each followed by "\n". The pattern entries come in the order of the patterns
// table, the e-mail pattern last; top lists hold the most frequent matches, count descending
// then match ascending (byte order): 10 for top_words, 5 per pattern. Bad input gives
// {"error":"..."} and the result 1.
//
// Matching line by line keeps the work linear in the text: Go's regexp searches inputs of up
// to a few kilobytes with a backtracker that clears a bitmap the size of the whole input on
// every call, so FindAll over one long line costs time quadratic in its length.
//
// The file name ends in _wasip1.go and carries a wasip1 build constraint so that the host
// build (go build/vet/test ./... in the reclave module) ignores this package.
package main

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

const (
	wordPattern     = `[A-Za-z]+`
	rewritePattern  = `\b([a-z]+) at ([a-z]+)\b`
	rewriteTemplate = `${1}@${2}.example`
	emailPattern    = `[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}`
	topWords        = 10
	topMatches      = 5
	lineWidth       = 80
)

// patterns are matched against the input text, in this order.
var patterns = [...]struct{ name, expr string }{
	{"th-words", `\bth[a-z]*`},
	{"vowel-initial", `\b[aeiou][a-z]*`},
	{"long-words", `\b[a-z]{5,}\b`},
	{"the-phrase", `\bthe [a-z]+`},
	{"pronoun-verb", `\b(?:i|you|he|she|it|we|they) (?:is|are|was|were|has|have|had|can|will|would|could)\b`},
	{"question", `\b(?:what|when|which|how) [a-z]+ [a-z]+\b`},
}

// compiled are the regular expressions, built once by reclave_init (or on first use).
type compiled struct {
	words, rewrite, email *regexp.Regexp
	patterns              []*regexp.Regexp
}

var prepared *compiled

func compile() (*compiled, error) {
	c := &compiled{}
	var err error
	for _, p := range []struct {
		dst  **regexp.Regexp
		expr string
	}{{&c.words, wordPattern}, {&c.rewrite, rewritePattern}, {&c.email, emailPattern}} {
		if *p.dst, err = regexp.Compile(p.expr); err != nil {
			return nil, fmt.Errorf("compile %q: %w", p.expr, err)
		}
	}
	for _, p := range patterns {
		re, err := regexp.Compile(p.expr)
		if err != nil {
			return nil, fmt.Errorf("compile %s %q: %w", p.name, p.expr, err)
		}
		c.patterns = append(c.patterns, re)
	}
	return c, nil
}

//go:wasmexport reclave_init
func reclaveInit() {
	if c, err := compile(); err == nil {
		prepared = c
	} // else left nil: handle compiles again and reports the error
}

type request struct {
	Text string `json:"text"`
}

type count struct {
	Match string `json:"match"`
	Count int    `json:"count"`
}

type patternResult struct {
	Name     string  `json:"name"`
	Pattern  string  `json:"pattern"`
	Matches  int     `json:"matches"`
	Distinct int     `json:"distinct"`
	Top      []count `json:"top"`
}

type response struct {
	Bytes           int             `json:"bytes"`
	Lines           int             `json:"lines"`
	Words           int             `json:"words"`
	DistinctWords   int             `json:"distinct_words"`
	TopWords        []count         `json:"top_words"`
	Patterns        []patternResult `json:"patterns"`
	RewrittenBytes  int             `json:"rewritten_bytes"`
	RewrittenSHA256 string          `json:"rewritten_sha256"`
}

// counter counts the matches of one regular expression over many lines.
type counter struct {
	re     *regexp.Regexp
	total  int
	counts map[string]int
}

func newCounter(re *regexp.Regexp) *counter { return &counter{re: re, counts: map[string]int{}} }

// add counts every match in line.
func (c *counter) add(line string) {
	for _, loc := range c.re.FindAllStringIndex(line, -1) {
		c.counts[line[loc[0]:loc[1]]]++
		c.total++
	}
}

// top returns the n most frequent matches, count descending, then match ascending.
func (c *counter) top(n int) []count {
	all := make([]count, 0, len(c.counts))
	for m, k := range c.counts {
		all = append(all, count{m, k})
	}
	slices.SortFunc(all, func(a, b count) int {
		if a.Count != b.Count {
			return cmp.Compare(b.Count, a.Count)
		}
		return cmp.Compare(a.Match, b.Match)
	})
	return all[:min(n, len(all))]
}

func (c *counter) result(name, pattern string) patternResult {
	return patternResult{Name: name, Pattern: pattern, Matches: c.total, Distinct: len(c.counts), Top: c.top(topMatches)}
}

// wrap word-wraps text into lines of at most width bytes (see the package comment).
func wrap(text string, width int) []string {
	words := strings.FieldsFunc(text, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\r' || r == '\n'
	})
	var lines []string
	var line strings.Builder
	for _, w := range words {
		if line.Len() > 0 && line.Len()+1+len(w) > width {
			lines = append(lines, line.String())
			line.Reset()
		}
		if line.Len() > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(w)
	}
	if line.Len() > 0 {
		lines = append(lines, line.String())
	}
	return lines
}

func handle(in []byte) (response, error) {
	var req request
	if err := json.Unmarshal(in, &req); err != nil {
		return response{}, fmt.Errorf("input: %w", err)
	}
	c := prepared
	if c == nil {
		var err error
		if c, err = compile(); err != nil {
			return response{}, err
		}
	}
	lines := wrap(req.Text, lineWidth)
	words, email := newCounter(c.words), newCounter(c.email)
	pats := make([]*counter, len(c.patterns))
	for i, re := range c.patterns {
		pats[i] = newCounter(re)
	}
	h := sha256.New()
	rewrittenBytes := 0
	for _, line := range lines {
		words.add(line)
		for _, p := range pats {
			p.add(line)
		}
		rewritten := c.rewrite.ReplaceAllString(line, rewriteTemplate) + "\n"
		email.add(rewritten)
		h.Write([]byte(rewritten))
		rewrittenBytes += len(rewritten)
	}
	out := response{
		Bytes:           len(req.Text),
		Lines:           len(lines),
		Words:           words.total,
		DistinctWords:   len(words.counts),
		TopWords:        words.top(topWords),
		RewrittenBytes:  rewrittenBytes,
		RewrittenSHA256: hex.EncodeToString(h.Sum(nil)),
	}
	for i, p := range pats {
		out.Patterns = append(out.Patterns, p.result(patterns[i].name, patterns[i].expr))
	}
	out.Patterns = append(out.Patterns, email.result("e-mail", emailPattern))
	return out, nil
}

func writeJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error":"encoding the output failed"}`)
	}
	os.Stdout.Write(b)
}

//go:wasmexport reclave_handle
func reclaveHandle() int32 {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		writeJSON(map[string]string{"error": "read from stdin: " + err.Error()})
		return 1
	}
	out, err := handle(in)
	if err != nil {
		writeJSON(map[string]string{"error": err.Error()})
		return 1
	}
	writeJSON(out)
	return 0
}

// main is not called in a c-shared (reactor) build; it must exist for package main.
func main() {}
