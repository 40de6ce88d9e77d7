package workloads

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// Expect is the output expected for one input (the manifest key inputs.SIZE.expect): exactly
// one of File (the output equals the file's bytes), Lines (the output, as text, has the same
// lines as the file: CRLF and a final newline ignored, see [TextLines]), SHA256 (the SHA-256
// of the output, in hex) or JSON (the output is JSON equal to this text: key order and
// whitespace ignored, numbers compared by value, see sameNumber). See README.md.
type Expect struct {
	File   string `yaml:"file"`
	Lines  string `yaml:"lines"`
	SHA256 string `yaml:"sha256"`
	JSON   string `yaml:"json"`

	want []byte // the file's bytes (File or Lines), set by Expectation
}

// Kind returns the kind of the expectation: file, lines, sha256 or json.
func (e *Expect) Kind() string {
	switch {
	case e.File != "":
		return "file"
	case e.Lines != "":
		return "lines"
	case e.SHA256 != "":
		return "sha256"
	}
	return "json"
}

// path returns the expected-output file the expectation names, "" for none.
func (e *Expect) path() string { return e.File + e.Lines }

// validate checks the expectation as a manifest gives it. An expected-output file need not
// exist yet (it is read by Expectation): its path must only stay inside the workload's folder,
// so that `reclave workloads input` can print the inputs it is computed from first.
func (e *Expect) validate() error {
	n := 0
	for _, set := range []bool{e.File != "", e.Lines != "", e.SHA256 != "", e.JSON != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("give exactly one of file, lines, sha256 or json")
	}
	switch {
	case e.path() != "":
		if p := e.path(); !fs.ValidPath(p) || p == "." {
			return fmt.Errorf("%s: %q: want a path inside the workload folder, with '/'", e.Kind(), p)
		}
	case e.SHA256 != "":
		if b, err := hex.DecodeString(e.SHA256); err != nil || len(b) != sha256.Size {
			return fmt.Errorf("sha256: %q: want 64 hex digits", e.SHA256)
		}
	default:
		if _, err := decodeJSON([]byte(e.JSON)); err != nil {
			return fmt.Errorf("json: %w", err)
		}
	}
	return nil
}

// Expectation returns the output expected for the input of the given size, or nil, nil when
// the manifest gives none. An expected file is read here.
func (w *Workload) Expectation(size string) (*Expect, error) {
	in, ok := w.Inputs[size]
	if !ok {
		return nil, fmt.Errorf("workload %s has no input of size %q", w.Name, size)
	}
	if in.Expect == nil {
		return nil, nil
	}
	e := *in.Expect
	if p := e.path(); p != "" {
		b, err := fs.ReadFile(w.fsys, p)
		if err != nil {
			return nil, fmt.Errorf("workload %s: inputs.%s.expect.%s: %w", w.Name, size, e.Kind(), w.pathError(err))
		}
		e.want = b
	}
	return &e, nil
}

// Check returns nil when output is what e expects, else an error saying what differs: for
// file the sizes and the first differing byte, for lines the first differing line, for
// sha256 the hashes, for json the first differing path ($ is the whole value, $.key a member,
// $[i] an element), in key order.
func (e *Expect) Check(output []byte) error {
	if p := e.path(); p != "" && e.want == nil && len(output) > 0 {
		return fmt.Errorf("expected file %s was not read (use Workload.Expectation)", p)
	}
	switch {
	case e.Lines != "":
		return diffLines(output, e.want, e.Lines)
	case e.File != "":
		if bytes.Equal(output, e.want) {
			return nil
		}
		i := 0
		for i < len(output) && i < len(e.want) && output[i] == e.want[i] {
			i++
		}
		return fmt.Errorf("output (%d bytes) differs from %s (%d bytes) at byte %d", len(output), e.File, len(e.want), i)
	case e.SHA256 != "":
		h := sha256.Sum256(output)
		if got := hex.EncodeToString(h[:]); got != strings.ToLower(e.SHA256) {
			return fmt.Errorf("output sha256 %s (%d bytes), want %s", got, len(output), strings.ToLower(e.SHA256))
		}
		return nil
	case e.JSON != "":
		want, err := decodeJSON([]byte(e.JSON))
		if err != nil {
			return fmt.Errorf("expected json: %w", err)
		}
		got, err := decodeJSON(output)
		if err != nil {
			return fmt.Errorf("output is not JSON: %w", err)
		}
		return diffJSON("$", got, want)
	}
	return errors.New("empty expectation")
}

// decodeJSON decodes exactly one JSON value (surrounding whitespace allowed), numbers as
// json.Number. A duplicate key in an object is an error, since key order is ignored.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the first JSON value (offset %d)", dec.InputOffset())
	}
	return v, nil
}

// decodeValue reads one value token by token, so that duplicate keys are seen.
func decodeValue(dec *json.Decoder) (any, error) {
	t, err := dec.Token()
	if err == io.EOF {
		return nil, errors.New("no JSON value")
	}
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := map[string]any{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string) // the decoder only yields string keys inside an object
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("duplicate key %q", k)
				}
				if m[k], err = decodeValue(dec); err != nil {
					return nil, err
				}
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return m, nil
		case '[':
			a := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return a, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil // string, json.Number, bool or nil
	}
}

// diffJSON returns an error naming the first path where got and want differ, nil if equal.
func diffJSON(path string, got, want any) error {
	if kindOf(got) != kindOf(want) {
		return fmt.Errorf("at %s: got %s %s, want %s %s", path, kindOf(got), short(got), kindOf(want), short(want))
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(w)) {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("at %s: missing key %q", path, k)
			}
			if err := diffJSON(memberPath(path, k), gv, w[k]); err != nil {
				return err
			}
		}
		for _, k := range slices.Sorted(maps.Keys(g)) {
			if _, ok := w[k]; !ok {
				return fmt.Errorf("at %s: unexpected key %q", path, k)
			}
		}
	case []any:
		g := got.([]any)
		for i := 0; i < len(w) && i < len(g); i++ {
			if err := diffJSON(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); err != nil {
				return err
			}
		}
		if len(g) != len(w) {
			return fmt.Errorf("at %s: got %d elements, want %d", path, len(g), len(w))
		}
	case json.Number:
		if !sameNumber(got.(json.Number), w) {
			return fmt.Errorf("at %s: got %s, want %s", path, got, w)
		}
	default: // string, bool, null
		if got != want {
			return fmt.Errorf("at %s: got %s, want %s", path, short(got), short(want))
		}
	}
	return nil
}

// sameNumber says whether two JSON numbers are equal: the same integer when both are written
// as integers (compared exactly, at any size), else the same value once rounded to the
// nearest IEEE-754 double (so 1.5, 1.50 and 15e-1 are equal, and so are 0.1 and
// 0.10000000000000001, the "%.17g" rendering of the same double).
func sameNumber(a, b json.Number) bool {
	ai, aok := new(big.Int).SetString(string(a), 10)
	bi, bok := new(big.Int).SetString(string(b), 10)
	if aok && bok {
		return ai.Cmp(bi) == 0
	}
	af, aerr := strconv.ParseFloat(string(a), 64)
	bf, berr := strconv.ParseFloat(string(b), 64)
	if aerr != nil || berr != nil { // out of range: compare the exact values
		ar, ok1 := new(big.Rat).SetString(string(a))
		br, ok2 := new(big.Rat).SetString(string(b))
		return ok1 && ok2 && ar.Cmp(br) == 0
	}
	return af == bf
}

// memberPath is path.key, or path["key"] when the key is not a plain identifier.
func memberPath(path, k string) string {
	plain := k != ""
	for i, c := range k {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			plain = false
			break
		}
	}
	if plain {
		return path + "." + k
	}
	return path + "[" + strconv.Quote(k) + "]"
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case json.Number:
		return "number"
	case string:
		return "string"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// short renders a JSON value for an error message, cut to 60 bytes.
func short(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 60 {
		return string(b[:57]) + "..."
	}
	return string(b)
}

// TextLines splits text into lines the way an expectation of kind lines compares them: CRLF
// ends a line as LF does, and one final line ending does not start another line. So "a\nb",
// "a\nb\n" and "a\r\nb\r\n" all have the two lines "a" and "b"; "" and "\n" have none;
// "a\n\n" has two, the second empty.
func TextLines(text []byte) []string {
	s := strings.ReplaceAll(string(text), "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// diffLines returns nil when output has the lines of want (see [TextLines]), else an error
// naming the first line that differs, or the line counts.
func diffLines(output, want []byte, file string) error {
	got, exp := TextLines(output), TextLines(want)
	for i := 0; i < len(got) && i < len(exp); i++ {
		if got[i] != exp[i] {
			return fmt.Errorf("output differs from %s at line %d: got %s, want %s", file, i+1, shortText(got[i]), shortText(exp[i]))
		}
	}
	switch {
	case len(got) > len(exp):
		return fmt.Errorf("output has %d lines, %s %d: line %d is extra: %s", len(got), file, len(exp), len(exp)+1, shortText(got[len(exp)]))
	case len(got) < len(exp):
		return fmt.Errorf("output has %d lines, %s %d: line %d is missing: %s", len(got), file, len(exp), len(got)+1, shortText(exp[len(got)]))
	}
	return nil
}

// shortText quotes a line of text for an error message, cut to 60 bytes.
func shortText(s string) string {
	if len(s) > 60 {
		return strconv.Quote(s[:57]) + "..."
	}
	return strconv.Quote(s)
}
