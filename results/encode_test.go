package results

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fullRecord returns a record with every field set to a non-zero value, found by reflection, so
// that a field added to Record and forgotten by AppendRecord fails TestAppendRecord.
func fullRecord(t testing.TB) Record {
	var r Record
	v := reflect.ValueOf(&r).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("s" + v.Type().Field(i).Name)
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(1000 + i))
		case reflect.Uint32, reflect.Uint64:
			f.SetUint(uint64(2000 + i))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Map:
			f.Set(reflect.ValueOf(map[string]int64{"invoke": 7, "ecreate": 9}))
		case reflect.Pointer:
			p := reflect.New(f.Type().Elem())
			p.Elem().SetBool(true)
			f.Set(p)
		case reflect.Slice:
			if f.Type() != reflect.TypeFor[HostCalls]() {
				t.Fatalf("Record.%s: slice type %s not covered by this test", v.Type().Field(i).Name, f.Type())
			}
			f.Set(reflect.ValueOf(HostCalls{{"fd_read", int64(i), 15, 16}, {"fd_write\"<odd>", 1, 4, 39}}))
		default:
			t.Fatalf("Record.%s: kind %s not covered by this test", v.Type().Field(i).Name, f.Kind())
		}
	}
	return r
}

func TestAppendRecord(t *testing.T) {
	no := false
	odd := []string{
		`quote " and backslash \ and slash /`,
		"controls \x00\x01\b\f\n\r\t\x1f\x7f",
		"html <script>&amp;</script>",
		"unicode é ü 漢字 🙂 \u2028 \u2029",
		"invalid utf-8 \xff\xfe and cut \xe6\x97",
		"",
	}
	tests := map[string]Record{
		"zero":        {},
		"every field": fullRecord(t),
		"typical":     rec("json-stats", "rewind", 3, 1234, 56789),
		"empty phases, valid false": {SchemaVersion: 2, Workload: "w", PhasesNs: map[string]int64{}, Valid: &no,
			Epoch: ^uint64(0), MemoryPages: ^uint32(0), StartNs: -5, LatencyNs: 1 << 62},
	}
	for i, s := range odd {
		r := rec(s, s, i, 1, 2)
		r.Error, r.ErrorKind, r.EnclaveID, r.Target = s, s, s, s
		r.PhasesNs = map[string]int64{s: 1, "b" + s: 2, "a": 3}
		tests["odd string "+strings.ToValidUTF8(s[:min(len(s), 12)], "?")] = r
	}
	for name, r := range tests {
		t.Run(name, func(t *testing.T) {
			want, err := json.Marshal(&r)
			if err != nil {
				t.Fatal(err)
			}
			got := AppendRecord(nil, &r)
			if !bytes.Equal(got, want) {
				t.Fatalf("AppendRecord differs from json.Marshal:\n got %s\nwant %s", got, want)
			}
			var a, b Record
			if err := json.Unmarshal(got, &a); err != nil {
				t.Fatalf("output does not decode: %v\n%s", err, got)
			}
			if err := json.Unmarshal(want, &b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("decoded records differ:\n got %+v\nwant %+v", a, b)
			}
		})
	}
}

func TestEncoderLines(t *testing.T) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	in := []Record{fullRecord(t), rec("a\nb", "warm", 1, 2, 3)}
	for i := range in {
		if err := enc.Encode(&in[i]); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(in) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(in), buf.String())
	}
	if err := NewEncoder(failWriter{}).Encode(&in[0]); err == nil || !strings.Contains(err.Error(), "write 1 records") {
		t.Fatalf("write error %v, want one naming the record", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

// benchRecord is a typical record of mode cold: the largest phase map.
func benchRecord() Record {
	r := rec("json-stats", "cold", 42, 123_456_789, 98_765_432)
	r.Target, r.Load, r.Concurrency, r.Attestation, r.Size, r.MemoryBytes = "embedded", "closed", 1, "outer", "small", 80<<20
	r.EnclaveID, r.OutputSHA256 = "e-000042", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	r.PhasesNs = map[string]int64{"ecreate": 1000, "eadd_eextend": 54_000_000, "einit": 90_000, "runtime_init": 5000,
		"compile": 700_000, "instantiate": 70_000, "fn_init": 20_000, "quote": 95_000, "invoke": 40_000, "destroy": 300_000}
	v := true
	r.Valid = &v
	return r
}

// BenchmarkEncode measures records encoded per second: with encoding/json (as the encoder did
// before AppendRecord) and with AppendRecord into io.Discard, and through Encoder into a file,
// with one write(2) per record (Encode) and with one per 64 records (Append, Flush).
func BenchmarkEncode(b *testing.B) {
	r := benchRecord()
	perSecond := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	}
	b.Run("encoding-json", func(b *testing.B) {
		enc := json.NewEncoder(io.Discard)
		b.ReportAllocs()
		for b.Loop() {
			if err := enc.Encode(&r); err != nil {
				b.Fatal(err)
			}
		}
		perSecond(b)
	})
	b.Run("append", func(b *testing.B) {
		enc := NewEncoder(io.Discard)
		b.ReportAllocs()
		for b.Loop() {
			if err := enc.Encode(&r); err != nil {
				b.Fatal(err)
			}
		}
		perSecond(b)
	})
	b.Run("append-file", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "records.jsonl"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		enc := NewEncoder(f)
		b.ReportAllocs()
		for b.Loop() {
			if err := enc.Encode(&r); err != nil {
				b.Fatal(err)
			}
		}
		perSecond(b)
	})
	b.Run("append-file-batched", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "records.jsonl"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		enc := NewEncoder(f)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			enc.Append(&r)
			if i++; i%64 == 0 {
				if err := enc.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := enc.Flush(); err != nil {
			b.Fatal(err)
		}
		perSecond(b)
	})
}

// TestAppendRecordKnowsRecord fails when Record gained or lost a field that AppendRecord and
// appendRecordFields were not updated for (the Encoder then falls back to encoding/json).
func TestAppendRecordKnowsRecord(t *testing.T) {
	if !appendRecordCurrent() {
		t.Fatalf("Record has %d fields, AppendRecord writes %d: teach AppendRecord the new field",
			reflect.TypeFor[Record]().NumField(), appendRecordFields)
	}
	slow := &Encoder{w: io.Discard, fast: false}
	fast := NewEncoder(io.Discard)
	r := fullRecord(t)
	slow.Append(&r)
	fast.Append(&r)
	if !bytes.Equal(slow.buf, fast.buf) {
		t.Fatalf("fallback and AppendRecord differ:\n%s\n%s", slow.buf, fast.buf)
	}
}
