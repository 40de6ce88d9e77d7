package jsonstrict_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/reclave/reclave/internal/jsonstrict"
)

// dup is the *DuplicateKeyError a case expects.
func dup(key, other, path string) *jsonstrict.DuplicateKeyError {
	return &jsonstrict.DuplicateKeyError{Key: key, Other: other, Path: path, Offset: -1}
}

// TestCheck is the table of documents Check accepts and refuses.
func TestCheck(t *testing.T) {
	var (
		syntax   = errors.New("syntax")   // a wrapped *json.SyntaxError
		eof      = io.ErrUnexpectedEOF    // truncated or empty
		trailing = errors.New("trailing") // a *TrailingDataError
		depth    = errors.New("depth")    // a *DepthError
	)
	tests := []struct {
		name string
		doc  string
		opts jsonstrict.Options
		want any // nil, *DuplicateKeyError (Offset -1: not checked), or one of the sentinels above
	}{
		// Accepted.
		{"empty object", `{}`, jsonstrict.Options{}, nil},
		{"scalar", ` 42 `, jsonstrict.Options{}, nil},
		{"string", `"a\"b"`, jsonstrict.Options{}, nil},
		{"distinct keys", `{"a":1,"b":2,"ab":3,"a b":4}`, jsonstrict.Options{}, nil},
		{"same key in sibling objects", `{"a":{"k":1},"b":{"k":2}}`, jsonstrict.Options{}, nil},
		{"same key in array elements", `[{"a":1},{"a":2},{"a":3}]`, jsonstrict.Options{}, nil},
		{"same key in parent and child", `{"a":{"a":{"a":1}}}`, jsonstrict.Options{}, nil},
		{"key text inside a value", `{"a":"\"a\":1","b":"}{\\","c":"\\\"a\\\""}`, jsonstrict.Options{}, nil},
		{"trailing whitespace", "{\"a\":1}\n\t ", jsonstrict.Options{}, nil},
		{"SS and ss collide, ß does not", `{"ß":1,"SS":2,"ss":3}`, jsonstrict.Options{}, want(dup("ss", "SS", "$"))},
		{"ß and ss do not collide", `{"ß":1,"ss":2}`, jsonstrict.Options{}, nil},
		{"ligature ff and ff do not collide", `{"ﬀ":1,"ff":2}`, jsonstrict.Options{}, nil},
		{"dotless i and I do not collide", `{"ı":1,"I":2}`, jsonstrict.Options{}, nil},

		// Exact duplicates.
		{"top level, fake first", `{"output":"fake","output":"real"}`, jsonstrict.Options{}, dupAt("output", "output", "$", 17)},
		{"empty key", `{"":1,"":2}`, jsonstrict.Options{}, dupAt("", "", "$", 6)},
		{"after many keys", `{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18,"s":19,"a":20}`, jsonstrict.Options{}, dup("a", "a", "$")},
		{"escaped key", `{"output":"fake","out\u0070ut":"real"}`, jsonstrict.Options{}, dup("output", "output", "$")},
		{"both escaped differently", `{"\u006futput":1,"o\u0075tput":2}`, jsonstrict.Options{}, dup("output", "output", "$")},
		{"escaped slash", `{"a/b":1,"a\/b":2}`, jsonstrict.Options{}, dup("a/b", "a/b", "$")},
		{"surrogate pair vs raw UTF-8", `{"😀":1,"\ud83d\ude00":2}`, jsonstrict.Options{}, dup("😀", "😀", "$")},
		{"invalid UTF-8 becomes U+FFFD", "{\"a\xff\":1,\"a\xfe\":2}", jsonstrict.Options{}, dup("a\uFFFD", "a\uFFFD", "$")},
		{"lone surrogates become U+FFFD", `{"\ud800":1,"\udc00":2}`, jsonstrict.Options{}, dup("\uFFFD", "\uFFFD", "$")},
		{"nested object", `{"evidence":{"report":"a","report":"b"}}`, jsonstrict.Options{}, dup("report", "report", "$.evidence")},
		{"array of objects", `[{"a":1},{"a":1,"a":2}]`, jsonstrict.Options{}, dup("a", "a", "$[1]")},
		{"deep path", `{"items":[{"x":[{"k":1}]},{"x":[{"k":1,"k":2}]}]}`, jsonstrict.Options{}, dup("k", "k", "$.items[1].x[0]")},
		{"path with a quoted key", `{"a b":{"c":1,"c":2}}`, jsonstrict.Options{}, dup("c", "c", `$["a b"]`)},
		{"duplicate after a nested value", `{"a":{"b":[1,{"c":2}]},"a":3}`, jsonstrict.Options{}, dup("a", "a", "$")},
		{"strings with escapes before it", `{"x":"\\","y":"\"}","x":1}`, jsonstrict.Options{}, dup("x", "x", "$")},

		// Case variants.
		{"Output beside output", `{"output":"fake","Output":"real"}`, jsonstrict.Options{}, dupAt("Output", "output", "$", 17)},
		{"all caps", `{"mrenclave":[],"MRENCLAVE":[]}`, jsonstrict.Options{}, dup("MRENCLAVE", "mrenclave", "$")},
		{"escaped case variant", `{"Output":1,"\u006futput":2}`, jsonstrict.Options{}, dup("output", "Output", "$")},
		{"Kelvin sign and k", `{"k":1,"\u212a":2}`, jsonstrict.Options{}, dup("\u212a", "k", "$")},
		{"Kelvin sign raw and K", "{\"key\":1,\"\u212aEY\":2}", jsonstrict.Options{}, dup("\u212aEY", "key", "$")},
		{"long s and S", `{"S":1,"ſ":2}`, jsonstrict.Options{}, dup("ſ", "S", "$")},
		{"Greek final sigma", `{"Σ":1,"ς":2}`, jsonstrict.Options{}, dup("ς", "Σ", "$")},
		{"case variant in an array element", `[[{"ID":1,"id":2}]]`, jsonstrict.Options{}, dup("id", "ID", "$[0][0]")},

		// KeyDepth.
		{"key depth 1: top-level duplicate", `{"a":1,"a":2}`, jsonstrict.Options{KeyDepth: 1}, dup("a", "a", "$")},
		{"key depth 1: nested duplicate not checked", `{"a":{"b":1,"b":2}}`, jsonstrict.Options{KeyDepth: 1}, nil},
		{"key depth 1: duplicate after a skipped value", `{"a":{"b":1,"b":2},"A":3}`, jsonstrict.Options{KeyDepth: 1}, dup("A", "a", "$")},
		{"key depth 1: objects in a top-level array not checked", `[{"a":1,"a":2}]`, jsonstrict.Options{KeyDepth: 1}, nil},
		{"key depth 2: nested duplicate", `{"a":{"b":1,"b":2}}`, jsonstrict.Options{KeyDepth: 2}, dup("b", "b", "$.a")},
		{"key depth 2: third level not checked", `{"a":{"b":{"c":1,"c":2}}}`, jsonstrict.Options{KeyDepth: 2}, nil},

		// Nesting limits.
		{"max depth reached", `[[[]]]`, jsonstrict.Options{MaxDepth: 3}, nil},
		{"max depth exceeded", `[[[]]]`, jsonstrict.Options{MaxDepth: 2}, depth},
		{"max depth exceeded in objects", `{"a":{"b":{}}}`, jsonstrict.Options{MaxDepth: 2}, depth},
		{"max depth exceeded in a skipped value", `{"a":[[1]]}`, jsonstrict.Options{MaxDepth: 2, KeyDepth: 1}, depth},
		{"max depth reached in a skipped value", `{"a":[[1]]}`, jsonstrict.Options{MaxDepth: 3, KeyDepth: 1}, nil},

		// Not one JSON value.
		{"empty", ``, jsonstrict.Options{}, eof},
		{"only whitespace", " \n", jsonstrict.Options{}, eof},
		{"truncated", `{"a":`, jsonstrict.Options{}, eof},
		{"trailing comma", `{"a":1,}`, jsonstrict.Options{}, syntax},
		{"single quotes", `{'a':1}`, jsonstrict.Options{}, syntax},
		{"NaN", `NaN`, jsonstrict.Options{}, syntax},
		{"control character in a key", "{\"a\x01\":1}", jsonstrict.Options{}, syntax},
		{"byte order mark", "\ufeff{}", jsonstrict.Options{}, syntax},
		{"second object", `{} {}`, jsonstrict.Options{}, trailing},
		{"garbage after", `{"a":1}x`, jsonstrict.Options{}, trailing},
		{"second scalar", `1 2`, jsonstrict.Options{}, trailing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := jsonstrict.Check([]byte(tt.doc), tt.opts)
			switch want := tt.want.(type) {
			case nil:
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			case *jsonstrict.DuplicateKeyError:
				var got *jsonstrict.DuplicateKeyError
				if !errors.As(err, &got) {
					t.Fatalf("got %v, want a *DuplicateKeyError", err)
				}
				if got.Key != want.Key || got.Other != want.Other || got.Path != want.Path {
					t.Fatalf("got key %q, other %q, path %s; want %q, %q, %s", got.Key, got.Other, got.Path, want.Key, want.Other, want.Path)
				}
				if want.Offset >= 0 && got.Offset != want.Offset {
					t.Fatalf("offset %d, want %d", got.Offset, want.Offset)
				}
				// The offset points at the later key's opening quote.
				if got.Offset < 0 || got.Offset >= int64(len(tt.doc)) || tt.doc[got.Offset] != '"' {
					t.Fatalf("offset %d is not a key's opening quote", got.Offset)
				}
				if got.CaseVariant() != (got.Key != got.Other) {
					t.Fatal("CaseVariant wrong")
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("%q", got.Key)) {
					t.Fatalf("message %q does not name the key", err)
				}
			case error:
				checkKind(t, err, want, syntax, eof, trailing, depth)
			}
		})
	}
}

// want returns its argument as the table's want (an any).
func want(d *jsonstrict.DuplicateKeyError) any { return d }

// dupAt is dup with an exact offset.
func dupAt(key, other, path string, offset int64) *jsonstrict.DuplicateKeyError {
	d := dup(key, other, path)
	d.Offset = offset
	return d
}

// checkKind checks that err is the kind of error the sentinel names.
func checkKind(t *testing.T, err, want, syntax, eof, trailing, depth error) {
	t.Helper()
	var se *json.SyntaxError
	var te *jsonstrict.TrailingDataError
	var de *jsonstrict.DepthError
	var ok bool
	switch want {
	case syntax:
		ok = errors.As(err, &se)
	case eof:
		ok = errors.Is(err, io.ErrUnexpectedEOF)
	case trailing:
		ok = errors.As(err, &te)
	case depth:
		ok = errors.As(err, &de)
	}
	if !ok {
		t.Fatalf("got %v (%T), want a %v error", err, err, want)
	}
	var d *jsonstrict.DuplicateKeyError
	if errors.As(err, &d) {
		t.Fatalf("%v is also a duplicate-key error", err)
	}
}

// TestEncodingJSONIsAmbiguous documents why the package exists: encoding/json accepts these
// documents and picks the last key, case-insensitively.
func TestEncodingJSONIsAmbiguous(t *testing.T) {
	for _, doc := range []string{
		`{"output":"fake","output":"real"}`,
		`{"output":"fake","Output":"real"}`,
		`{"output":"fake","OUTPUT":"real"}`,
		`{"output":"fake","out\u0070ut":"real"}`,
	} {
		var v struct {
			Output string `json:"output"`
		}
		if err := json.Unmarshal([]byte(doc), &v); err != nil || v.Output != "real" {
			t.Errorf("%s: encoding/json gives %q, %v (this test documents its behaviour)", doc, v.Output, err)
		}
		if err := jsonstrict.Unmarshal([]byte(doc), &v, jsonstrict.Options{}); err == nil {
			t.Errorf("%s: accepted", doc)
		}
	}
}

// TestUnmarshal: Check's refusals, then encoding/json's decoding with or without unknown
// fields.
func TestUnmarshal(t *testing.T) {
	type inner struct {
		Report []byte `json:"report"`
	}
	type doc struct {
		Version int   `json:"version"`
		Inner   inner `json:"inner"`
	}
	tests := []struct {
		name    string
		doc     string
		strict  bool
		want    doc
		wantErr func(error) bool
	}{
		{"decodes", `{"version":1,"inner":{"report":"AQI="}}`, true, doc{1, inner{[]byte{1, 2}}}, nil},
		{"unknown field allowed", `{"version":1,"extra":{"a":1}}`, false, doc{Version: 1}, nil},
		{"unknown field refused", `{"version":1,"extra":true}`, true, doc{}, func(err error) bool { return strings.Contains(err.Error(), "unknown field") }},
		{"unknown nested field refused", `{"inner":{"x":1}}`, true, doc{}, func(err error) bool { return strings.Contains(err.Error(), "unknown field") }},
		{"duplicate in an unknown field", `{"version":1,"extra":{"a":1,"a":2}}`, false, doc{}, isDup},
		{"case variant", `{"version":1,"Version":2}`, false, doc{}, isDup},
		{"nested duplicate", `{"inner":{"report":"AQI=","report":"AwQ="}}`, true, doc{}, isDup},
		{"wrong type", `{"version":"1"}`, true, doc{}, func(err error) bool {
			var te *json.UnmarshalTypeError
			return errors.As(err, &te)
		}},
		{"trailing data", `{"version":1}{"version":2}`, true, doc{}, func(err error) bool {
			var te *jsonstrict.TrailingDataError
			return errors.As(err, &te) && te.Offset == 13
		}},
		{"empty", ``, true, doc{}, func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got doc
			err := jsonstrict.Unmarshal([]byte(tt.doc), &got, jsonstrict.Options{DisallowUnknownFields: tt.strict})
			if tt.wantErr != nil {
				if err == nil || !tt.wantErr(err) {
					t.Fatalf("got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// quote returns s as a JSON string.
func quote(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func isDup(err error) bool {
	var d *jsonstrict.DuplicateKeyError
	return errors.As(err, &d)
}

// TestDeepNesting: the default limit is encoding/json's (10000); a lower MaxDepth is a
// *DepthError, at any depth, in arrays and objects.
func TestDeepNesting(t *testing.T) {
	arrays := func(n int) []byte {
		return []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
	}
	objects := func(n int) []byte {
		return []byte(strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n))
	}
	if err := jsonstrict.Check(arrays(jsonstrict.DefaultMaxDepth), jsonstrict.Options{}); err != nil {
		t.Errorf("%d nested arrays: %v", jsonstrict.DefaultMaxDepth, err)
	}
	if err := jsonstrict.Check(objects(jsonstrict.DefaultMaxDepth), jsonstrict.Options{}); err != nil {
		t.Errorf("%d nested objects: %v", jsonstrict.DefaultMaxDepth, err)
	}
	var se *json.SyntaxError
	if err := jsonstrict.Check(arrays(jsonstrict.DefaultMaxDepth+1), jsonstrict.Options{}); !errors.As(err, &se) {
		t.Errorf("%d nested arrays: %v, want encoding/json's depth error", jsonstrict.DefaultMaxDepth+1, err)
	}
	for _, n := range []int{1, 2, 64, 1000} {
		for name, doc := range map[string]func(int) []byte{"arrays": arrays, "objects": objects} {
			if err := jsonstrict.Check(doc(n), jsonstrict.Options{MaxDepth: n}); err != nil {
				t.Errorf("%d nested %s, limit %d: %v", n, name, n, err)
			}
			for _, keyDepth := range []int{0, 1} {
				err := jsonstrict.Check(doc(n+1), jsonstrict.Options{MaxDepth: n, KeyDepth: keyDepth})
				var de *jsonstrict.DepthError
				if !errors.As(err, &de) || de.MaxDepth != n {
					t.Errorf("%d nested %s, limit %d, key depth %d: %v", n+1, name, n, keyDepth, err)
				}
			}
		}
	}
	// A duplicate deep down is found, with its path.
	doc := strings.Repeat(`{"a":`, 500) + `{"b":1,"B":2}` + strings.Repeat("}", 500)
	var d *jsonstrict.DuplicateKeyError
	if err := jsonstrict.Check([]byte(doc), jsonstrict.Options{}); !errors.As(err, &d) || d.Path != "$"+strings.Repeat(".a", 500) {
		t.Errorf("deep duplicate: %v", err)
	}
}

// TestLargeInputs: long strings, many keys, many objects.
func TestLargeInputs(t *testing.T) {
	long := strings.Repeat("QUJD", 8<<20) // 32 MiB of base64
	escaped := strings.Repeat(`\\\"`, 1<<20)
	var manyKeys strings.Builder
	manyKeys.WriteByte('{')
	for i := range 100_000 {
		fmt.Fprintf(&manyKeys, `"key%d":%d,`, i, i)
	}
	var manyObjects strings.Builder
	manyObjects.WriteByte('[')
	for i := range 200_000 {
		fmt.Fprintf(&manyObjects, `{"id":%d,"name":"n%d","tags":["a","b"]},`, i, i)
	}
	tests := []struct {
		name string
		doc  string
		want *jsonstrict.DuplicateKeyError
	}{
		{"long string", `{"code":"` + long + `","name":"x"}`, nil},
		{"long string, then its key again", `{"code":"` + long + `","code":"x"}`, dup("code", "code", "$")},
		{"long escaped string", `{"a":"` + escaped + `","b":"` + escaped + `"}`, nil},
		{"long escaped string, then its key again", `{"a":"` + escaped + `","A":1}`, dup("A", "a", "$")},
		{"100000 keys", manyKeys.String() + `"last":0}`, nil},
		{"100000 keys, then the first again", manyKeys.String() + `"key0":0}`, dup("key0", "key0", "$")},
		{"100000 keys, then a case variant", manyKeys.String() + `"KEY99999":0}`, dup("KEY99999", "key99999", "$")},
		{"200000 objects", manyObjects.String() + `{}]`, nil},
		{"200000 objects, the last with a duplicate", manyObjects.String() + `{"id":1,"Id":2}]`, dup("Id", "id", "$[200000]")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := jsonstrict.Check([]byte(tt.doc), jsonstrict.Options{})
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var d *jsonstrict.DuplicateKeyError
			if !errors.As(err, &d) || d.Key != tt.want.Key || d.Other != tt.want.Other || d.Path != tt.want.Path {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(tt.doc[d.Offset:], quote(d.Key)) {
				t.Fatalf("offset %d does not point at %q", d.Offset, d.Key)
			}
		})
	}
}

// TestFoldIsEqualFold: two one-rune keys collide exactly when strings.EqualFold says they
// are equal, for every rune with a case-folding orbit.
func TestFoldIsEqualFold(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		f := unicode.SimpleFold(r)
		if f == r {
			continue // no other case
		}
		a, b := string(r), string(f)
		doc := fmt.Sprintf(`{%s:1,%s:2}`, quote(a), quote(b))
		var d *jsonstrict.DuplicateKeyError
		if err := jsonstrict.Check([]byte(doc), jsonstrict.Options{}); !errors.As(err, &d) || !strings.EqualFold(a, b) {
			t.Fatalf("%U and %U: Check says %v, EqualFold %v", r, f, err, strings.EqualFold(a, b))
		}
	}
}

// TestFoldAgreesWithEncodingJSON: a key encoding/json matches with a struct field collides
// with the field's name, and a key it does not match does not.
func TestFoldAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range []struct{ field, key string }{
		{"key", "KEY"}, {"key", "\u212aey"}, {"key", "kEy"}, {"key", "keys"}, {"sum", "ſum"},
		{"sum", "SUM"}, {"σ", "ς"}, {"σ", "Σ"}, {"ß", "ẞ"}, {"ß", "ss"}, {"i", "ı"}, {"i", "İ"},
		{"ǆ", "ǅ"}, {"ǆ", "Ǆ"}, {"ω", "Ω"}, {"ω", "\u2126"}, {"å", "\u212b"}, {"a_b", "A_B"},
		{"a_b", "ab"}, {"a-b", "A-B"}, {"aΣ", "AΣ"}, {"ꭰ", "Ꭰ"},
	} {
		typ := reflect.StructOf([]reflect.StructField{{
			Name: "F", Type: reflect.TypeFor[int](), Tag: reflect.StructTag(fmt.Sprintf(`json:%q`, c.field)),
		}})
		v := reflect.New(typ)
		if err := json.Unmarshal(fmt.Appendf(nil, `{%s:7}`, quote(c.key)), v.Interface()); err != nil {
			t.Fatal(err)
		}
		matched := v.Elem().Field(0).Int() == 7
		err := jsonstrict.Check(fmt.Appendf(nil, `{%s:1,%s:2}`, quote(c.field), quote(c.key)), jsonstrict.Options{})
		if collides := isDup(err); collides != matched {
			t.Errorf("field %q, key %q: encoding/json matches: %v; jsonstrict collides: %v (%v)", c.field, c.key, matched, collides, err)
		}
	}
}

// reference finds the first duplicate or case-variant key in a valid document the naive way:
// encoding/json's tokens, a map of each object's keys and strings.EqualFold against each
// earlier key.
func reference(data []byte) (key, other string, found bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var walk func() error
	errFound := errors.New("found")
	walk = func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			var keys []string
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k := kt.(string)
				if seen[k] {
					key, other = k, k
					return errFound
				}
				for _, o := range keys {
					if strings.EqualFold(o, k) {
						key, other = k, o
						return errFound
					}
				}
				seen[k] = true
				keys = append(keys, k)
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for dec.More() {
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	switch err := walk(); {
	case errors.Is(err, errFound):
		return key, other, true, nil
	case err != nil:
		return "", "", false, err
	}
	return "", "", false, nil
}

// FuzzCheck compares Check with the naive reference on every valid document, and checks
// that an invalid one is never reported as a duplicate.
func FuzzCheck(f *testing.F) {
	for _, seed := range []string{
		`{}`, `[]`, `{"a":1,"b":[{"c":1,"C":2}]}`, `{"output":"x","out\u0070ut":"y"}`,
		`{"k":1,"\u212a":2}`, `[{"a":{"b":{"a":1}}},{"a":1,"a":2}]`, `{"a":"\\\"","b":"}"}`,
		`{"ß":1,"ss":2}`, "{\"\xff\":1,\"\xfe\":2}", `{"a":1} x`, `{"a":`, `1e999`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := jsonstrict.Check(data, jsonstrict.Options{})
		var d *jsonstrict.DuplicateKeyError
		if !json.Valid(data) {
			if err == nil || errors.As(err, &d) {
				t.Fatalf("invalid JSON %q: %v", data, err)
			}
			return
		}
		key, other, found, rerr := reference(data)
		if rerr != nil {
			t.Fatalf("reference failed on valid JSON %q: %v", data, rerr)
		}
		if !found {
			if err != nil {
				t.Fatalf("%q: Check says %v, the reference finds no duplicate", data, err)
			}
			return
		}
		if !errors.As(err, &d) || d.Key != key || d.Other != other {
			t.Fatalf("%q: Check says %v, the reference finds %q / %q", data, err, key, other)
		}
		// Unmarshal refuses what Check refuses.
		var v any
		if uerr := jsonstrict.Unmarshal(data, &v, jsonstrict.Options{}); !errors.As(uerr, &d) {
			t.Fatalf("%q: Unmarshal says %v", data, uerr)
		}
	})
}

// BenchmarkCheck measures Check on a bundle-sized document and on a large one.
func BenchmarkCheck(b *testing.B) {
	small := []byte(`{"schema_version":1,"evidence":{"report":"` + strings.Repeat("QUJD", 51) + `","quoting_cert":"` +
		strings.Repeat("QUJD", 200) + `","signature":"` + strings.Repeat("QUJD", 24) + `"},"l0_public_key":"` +
		strings.Repeat("QUJD", 30) + `","inner":{"report":"` + strings.Repeat("QUJD", 80) + `","signature":"` +
		strings.Repeat("QUJD", 24) + `"},"output":"eyJjb3VudCI6MX0="}`)
	var big bytes.Buffer
	big.WriteByte('[')
	for i := range 10_000 {
		fmt.Fprintf(&big, `{"id":%d,"name":"n%d","tags":["a","b"],"nested":{"x":1,"y":[1,2,3]}},`, i, i)
	}
	big.WriteString(`{}]`)
	for _, c := range []struct {
		name string
		doc  []byte
	}{{"bundle", small}, {"10000_objects", big.Bytes()}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.doc)))
			for b.Loop() {
				if err := jsonstrict.Check(c.doc, jsonstrict.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
