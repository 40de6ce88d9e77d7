// Package jsonstrict reads JSON so that a document has one meaning for every parser. It
// refuses, at every nesting level (objects inside arrays too), an object that holds a key
// twice or two keys that differ only in case, and it refuses trailing data after the value.
//
// # Why
//
// RFC 8259 only says that an object's names SHOULD be unique, and parsers disagree about
// the rest: encoding/json keeps the last of duplicate keys and matches keys to struct fields
// case-insensitively, other parsers keep the first, or match exactly. A verifier that
// decodes {"output":"fake","output":"real"} (or "output" beside "Output") with
// encoding/json checks "real", while another program reading the same accepted bytes
// shows "fake": a parser differential. I-JSON (RFC 7493) makes unique names a MUST; this
// package goes one step further and refuses case variants too, since encoding/json cannot
// tell them apart.
//
// # Which keys collide
//
// Keys are compared after unescaping, exactly as encoding/json unescapes them (the key's
// quoted bytes go through json.Unmarshal), so "out\u0070ut" is "output". Unescaping turns
// invalid UTF-8 and lone surrogates into U+FFFD, so two keys that differ only there collide
// too. Two keys differ only in case when they are equal under Unicode simple case folding —
// strings.EqualFold — which is the folding encoding/json uses to match a key with a struct
// field (foldName in encoding/json's fold.go): "k", "K" and U+212A KELVIN SIGN all collide,
// as do "s", "S" and U+017F LATIN SMALL LETTER LONG S, while "ß" and "ss" do not. Built
// with GOEXPERIMENT=jsonv2, encoding/json's v1 API keeps this matching; encoding/json/v2's
// own case-insensitive matching (MatchCaseInsensitiveNames, `case:ignore`) also ignores '_'
// and '-', which this package does not.
//
// # Use
//
// [Check] only checks; [Unmarshal] checks, then decodes with encoding/json:
//
//	var b Bundle
//	err := jsonstrict.Unmarshal(data, &b, jsonstrict.Options{DisallowUnknownFields: true})
//	var dup *jsonstrict.DuplicateKeyError
//	if errors.As(err, &dup) {
//		log.Printf("key %q (also %q) twice in %s", dup.Key, dup.Other, dup.Path)
//	}
//
// Check first validates the document with json.Valid (encoding/json's own scanner, so a
// document is JSON here exactly when it is for encoding/json), then walks it once, without
// decoding values: a long string costs a memchr, not an allocation.
package jsonstrict

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultMaxDepth is the nesting limit when Options.MaxDepth is zero: encoding/json's own
// (a document nested deeper is not valid for json.Valid either).
const DefaultMaxDepth = 10000

// Options configure Check and Unmarshal.
type Options struct {
	// DisallowUnknownFields makes Unmarshal refuse an object key that matches no field of
	// the destination struct, as json.Decoder.DisallowUnknownFields does. Check ignores it.
	DisallowUnknownFields bool
	// MaxDepth refuses (with a *DepthError) arrays and objects nested deeper than this: the
	// top-level value, if an array or object, is at depth 1. Zero means DefaultMaxDepth.
	MaxDepth int
	// KeyDepth, if positive, checks the keys of objects at depth 1 to KeyDepth only (1: the
	// top-level object's own keys); deeper values are skipped (but still count for
	// MaxDepth). It is for a reader that decodes the outer levels of a document and passes
	// the rest on as bytes, whose meaning is another reader's business. Zero checks every
	// object.
	KeyDepth int
}

func (o Options) maxDepth() int {
	if o.MaxDepth <= 0 {
		return DefaultMaxDepth
	}
	return o.MaxDepth
}

// DuplicateKeyError is the error for an object that holds a key twice, or two keys that
// differ only in case. Test for it with errors.As:
//
//	var dup *jsonstrict.DuplicateKeyError
//	if errors.As(err, &dup) && dup.CaseVariant() { ... }
type DuplicateKeyError struct {
	// Key is the later of the two keys, unescaped.
	Key string
	// Other is the earlier key Key collides with: equal to Key for an exact duplicate,
	// a case variant of it otherwise.
	Other string
	// Path names the object that holds both, JSONPath-style: "$" is the top-level value,
	// then .name or ["name"] per key and [i] per array index, as in $.evidence or
	// $.items[2].
	Path string
	// Offset is the byte offset, in the document, of the later key's opening quote.
	Offset int64
}

func (e *DuplicateKeyError) Error() string {
	if e.Key == e.Other {
		return fmt.Sprintf("jsonstrict: duplicate key %q in %s (offset %d)", e.Key, e.Path, e.Offset)
	}
	return fmt.Sprintf("jsonstrict: key %q in %s differs only in case from key %q (offset %d)", e.Key, e.Path, e.Other, e.Offset)
}

// CaseVariant reports whether the two keys differ (only in case); false for an exact
// duplicate.
func (e *DuplicateKeyError) CaseVariant() bool { return e.Key != e.Other }

// DepthError is the error for a document nested deeper than Options.MaxDepth.
type DepthError struct {
	// MaxDepth is the limit that was exceeded.
	MaxDepth int
	// Path names the array or object nested one level too deep (in a part of the document
	// Check skips, see Options.KeyDepth: the outermost skipped value that holds it).
	Path string
	// Offset is the byte offset of its opening bracket.
	Offset int64
}

func (e *DepthError) Error() string {
	return fmt.Sprintf("jsonstrict: nested deeper than %d levels in %s (offset %d)", e.MaxDepth, e.Path, e.Offset)
}

// TrailingDataError is the error for a document with more than whitespace after its value.
type TrailingDataError struct {
	// Offset is the byte offset of the first byte after the value that is not whitespace.
	Offset int64
}

func (e *TrailingDataError) Error() string {
	return fmt.Sprintf("jsonstrict: data after the JSON value (offset %d)", e.Offset)
}

// Check checks that data is exactly one JSON value (surrounding whitespace allowed) in which
// no object holds two keys that are equal or differ only in case, nested at most
// opts.MaxDepth deep. It returns nil, or a *DuplicateKeyError, a *DepthError, a
// *TrailingDataError, or encoding/json's error for a document that is not JSON (a
// *json.SyntaxError, or io.ErrUnexpectedEOF for a truncated one), wrapped.
func Check(data []byte, opts Options) error {
	if !json.Valid(data) {
		return invalid(data)
	}
	s := scanner{data: data, max: opts.maxDepth(), keyDepth: opts.KeyDepth}
	s.ws()
	return s.value(0)
}

// Unmarshal checks data with Check, then decodes it into v with encoding/json, refusing
// unknown fields if opts.DisallowUnknownFields. Errors are Check's, or encoding/json's
// decoding error (a *json.UnmarshalTypeError, an unknown field), wrapped.
func Unmarshal(data []byte, v any, opts Options) error {
	if err := Check(data, opts); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if opts.DisallowUnknownFields {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("jsonstrict: decode: %w", err)
	}
	// Check established that nothing but whitespace follows the value.
	return nil
}

// invalid explains why json.Valid refused data: encoding/json's syntax error, or data after
// a valid value.
func invalid(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("jsonstrict: no JSON value: %w", io.ErrUnexpectedEOF)
		}
		return fmt.Errorf("jsonstrict: %w", err)
	}
	off := int(dec.InputOffset())
	for off < len(data) && isSpace(data[off]) {
		off++
	}
	return &TrailingDataError{Offset: int64(off)}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// scanner walks a document json.Valid accepted; it never sees invalid JSON, so it checks
// no syntax.
type scanner struct {
	data     []byte
	pos      int
	max      int // nesting limit
	keyDepth int // check keys of objects at depth <= keyDepth; 0: all
	path     []segment
}

// segment is one step of the path to the value being scanned: an object key or an index.
type segment struct {
	key   string
	index int
	isKey bool
}

func (s *scanner) ws() {
	for s.pos < len(s.data) && isSpace(s.data[s.pos]) {
		s.pos++
	}
}

// value scans the value at s.pos, inside an array or object at depth (0: the top level).
func (s *scanner) value(depth int) error {
	switch s.data[s.pos] {
	case '{', '[':
		if depth+1 > s.max {
			return &DepthError{MaxDepth: s.max, Path: s.pathString(), Offset: int64(s.pos)}
		}
		if s.keyDepth > 0 && depth+1 > s.keyDepth {
			return s.skipComposite(depth + 1)
		}
		if s.data[s.pos] == '{' {
			return s.object(depth + 1)
		}
		return s.array(depth + 1)
	case '"':
		s.skipString()
	default: // number, true, false, null
		for s.pos < len(s.data) {
			switch s.data[s.pos] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				return nil
			}
			s.pos++
		}
	}
	return nil
}

// object scans the object at s.pos, at depth, checking its keys.
func (s *scanner) object(depth int) error {
	s.pos++ // '{'
	s.ws()
	if s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	var keys keySet
	for {
		start := s.pos
		s.skipString()
		key := unquote(s.data[start:s.pos])
		if other, dup := keys.add(key); dup {
			return &DuplicateKeyError{Key: key, Other: other, Path: s.pathString(), Offset: int64(start)}
		}
		s.ws()
		s.pos++ // ':'
		s.ws()
		s.path = append(s.path, segment{key: key, isKey: true})
		if err := s.value(depth); err != nil {
			return err
		}
		s.path = s.path[:len(s.path)-1]
		s.ws()
		if s.data[s.pos] == '}' {
			s.pos++
			return nil
		}
		s.pos++ // ','
		s.ws()
	}
}

// array scans the array at s.pos, at depth.
func (s *scanner) array(depth int) error {
	s.pos++ // '['
	s.ws()
	if s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		s.path = append(s.path, segment{index: i})
		if err := s.value(depth); err != nil {
			return err
		}
		s.path = s.path[:len(s.path)-1]
		s.ws()
		if s.data[s.pos] == ']' {
			s.pos++
			return nil
		}
		s.pos++ // ','
		s.ws()
	}
}

// skipComposite skips the array or object at s.pos, at depth, without checking keys but
// enforcing the nesting limit.
func (s *scanner) skipComposite(depth int) error {
	level := 0
	for {
		switch s.data[s.pos] {
		case '{', '[':
			if depth+level > s.max {
				return &DepthError{MaxDepth: s.max, Path: s.pathString(), Offset: int64(s.pos)}
			}
			level++
			s.pos++
		case '}', ']':
			level--
			s.pos++
			if level == 0 {
				return nil
			}
		case '"':
			s.skipString()
		default:
			s.pos++
		}
	}
}

// skipString moves past the string whose opening quote is at s.pos.
func (s *scanner) skipString() {
	from := s.pos + 1
	for {
		q := from + bytes.IndexByte(s.data[from:], '"')
		backslashes := 0
		for k := q - 1; s.data[k] == '\\'; k-- {
			backslashes++
		}
		if backslashes%2 == 0 { // the quote is not escaped
			s.pos = q + 1
			return
		}
		from = q + 1
	}
}

// unquote returns the key whose quoted bytes are raw, unescaped as encoding/json does.
func unquote(raw []byte) string {
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var key string
	if err := json.Unmarshal(raw, &key); err != nil {
		// Unreachable: json.Valid accepted the document this key is part of.
		return string(inner)
	}
	return key
}

// pathString formats the path to the value being scanned.
func (s *scanner) pathString() string {
	var b strings.Builder
	b.WriteByte('$')
	for _, seg := range s.path {
		switch {
		case !seg.isKey:
			fmt.Fprintf(&b, "[%d]", seg.index)
		case isIdentifier(seg.key):
			b.WriteByte('.')
			b.WriteString(seg.key)
		default:
			b.WriteByte('[')
			b.WriteString(strconv.Quote(seg.key))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// isIdentifier reports whether a key can be written .key in a path: [A-Za-z_][A-Za-z0-9_]*.
func isIdentifier(s string) bool {
	for i, r := range s {
		letter := r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		digit := '0' <= r && r <= '9'
		if !letter && !(digit && i > 0) {
			return false
		}
	}
	return s != ""
}

// keySet holds the keys of one object.
type keySet struct {
	few  [fewKeys]string   // the first keys, compared with strings.EqualFold: no allocation
	n    int               // how many of few are used
	many map[string]string // fold(key) → key, once there are more than fewKeys
}

const fewKeys = 16

// add adds key; if a key equal to it under case folding is already there, it returns that
// key and true instead.
func (ks *keySet) add(key string) (other string, dup bool) {
	if ks.many == nil {
		for _, k := range ks.few[:ks.n] {
			if strings.EqualFold(k, key) {
				return k, true
			}
		}
		if ks.n < fewKeys {
			ks.few[ks.n] = key
			ks.n++
			return "", false
		}
		ks.many = make(map[string]string, 2*fewKeys)
		for _, k := range ks.few {
			ks.many[fold(k)] = k
		}
	}
	f := fold(key)
	if other, ok := ks.many[f]; ok {
		return other, true
	}
	ks.many[f] = key
	return "", false
}

// fold returns a string such that fold(a) == fold(b) exactly when strings.EqualFold(a, b)
// (TestFoldIsEqualFold, FuzzCheck):
// ASCII letters upper-cased, every other rune replaced by the smallest rune of its simple
// case-folding orbit. This is encoding/json's foldName (fold.go), the folding it matches
// keys with struct fields by.
func fold(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf && (s[i] < 'a' || s[i] > 'z') {
		i++
	}
	if i == len(s) {
		return s // already folded: no allocation
	}
	out := make([]byte, i, len(s)+4)
	copy(out, s[:i])
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}
	return string(out)
}

// foldRune returns the smallest rune of r's simple case-folding orbit.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}
