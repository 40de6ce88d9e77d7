package results

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fromCSV parses rows written by CSVWriter back into records, by the header's column names,
// independently of CSVWriter's code: the inverse the documentation promises.
func fromCSV(t *testing.T, rows [][]string) []Record {
	t.Helper()
	header := rows[0]
	typ := reflect.TypeFor[Record]()
	byName := map[string]int{}
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		byName[name] = i
	}
	var out []Record
	for _, row := range rows[1:] {
		var r Record
		v := reflect.ValueOf(&r).Elem()
		for col, name := range header {
			cell := row[col]
			if phase, ok := strings.CutPrefix(name, "phase_"); ok {
				if cell == "" {
					continue
				}
				d, err := strconv.ParseInt(cell, 10, 64)
				if err != nil {
					t.Fatalf("column %s: %v", name, err)
				}
				if r.PhasesNs == nil {
					r.PhasesNs = map[string]int64{}
				}
				r.PhasesNs[strings.TrimSuffix(phase, "_ns")] = d
				continue
			}
			i, ok := byName[name]
			if !ok {
				t.Fatalf("column %q is no record field", name)
			}
			f := v.Field(i)
			if cell == "" {
				continue // absent: the zero value (nil for valid)
			}
			if f.Kind() == reflect.Pointer {
				f.Set(reflect.New(f.Type().Elem()))
				f = f.Elem()
			}
			var err error
			switch f.Kind() {
			case reflect.String:
				f.SetString(cell)
			case reflect.Bool:
				var b bool
				b, err = strconv.ParseBool(cell)
				f.SetBool(b)
			case reflect.Int, reflect.Int64:
				var n int64
				n, err = strconv.ParseInt(cell, 10, 64)
				f.SetInt(n)
			case reflect.Uint32, reflect.Uint64:
				var n uint64
				n, err = strconv.ParseUint(cell, 10, 64)
				f.SetUint(n)
			case reflect.Slice: // host_calls, reset_host_calls: their JSON object
				err = json.Unmarshal([]byte(cell), f.Addr().Interface())
			default:
				t.Fatalf("column %s: kind %s", name, f.Kind())
			}
			if err != nil {
				t.Fatalf("column %s: %v", name, err)
			}
		}
		out = append(out, r)
	}
	return out
}

func TestCSVRoundTrip(t *testing.T) {
	yes, no := true, false
	odd := rec("comma, \"quote\"\nnew line", "warm", 2, 10, 20)
	odd.Error, odd.ErrorKind, odd.Valid = "trap: \xff invalid utf-8, 漢字", "trap", &no
	empty := rec("w", "warm", 3, 10, 20)
	empty.PhasesNs = map[string]int64{}
	cold := benchRecord()
	cold.Valid = &yes
	full := fullRecord(t)
	full.SchemaVersion = SchemaVersion // a record ScanRecords accepts
	tests := map[string][]Record{
		"every field":      {full},
		"mixed phases":     {cold, rec("w", "rewind", 1, 5, 6), odd, empty},
		"no phases at all": {{SchemaVersion: 2, Workload: "w", Mode: "cold"}},
	}
	wantPhases := map[string][]string{
		"every field":      {"ecreate", "invoke"},
		"mixed phases":     {"compile", "destroy", "eadd_eextend", "ecreate", "einit", "fn_init", "instantiate", "invoke", "quote", "rewind", "runtime_init"},
		"no phases at all": {},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			var jsonl bytes.Buffer
			enc := NewEncoder(&jsonl)
			for i := range in {
				if err := enc.Encode(&in[i]); err != nil {
					t.Fatal(err)
				}
			}
			phases, err := ScanPhaseNames(&jsonl)
			if err != nil {
				t.Fatal(err)
			}
			w, err := NewCSVWriter(&buf, phases)
			if want := wantPhases[name]; !slices.Equal(phases, want) {
				t.Fatalf("phases %v, want %v", phases, want)
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range in {
				if err := w.Write(&in[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatalf("the output is not CSV: %v", err)
			}
			if len(rows) != len(in)+1 {
				t.Fatalf("%d rows, want a header and %d", len(rows), len(in))
			}
			if !slices.Equal(rows[0], CSVHeader(phases)) {
				t.Fatalf("header %v", rows[0])
			}
			out := fromCSV(t, rows)
			for i := range in {
				want := in[i]
				if len(want.PhasesNs) == 0 {
					want.PhasesNs = nil // no phase cells either way
				}
				if !reflect.DeepEqual(out[i], want) {
					t.Errorf("record %d:\n got %+v\nwant %+v", i, out[i], want)
				}
			}
		})
	}
}

func TestCSVHeader(t *testing.T) {
	h := CSVHeader([]string{"compile", "invoke"})
	names, _ := recordFields()
	i := slices.Index(names, "phases_ns") // the phase columns take its place
	if i < 0 || h[i] != "phase_compile_ns" || h[i+1] != "phase_invoke_ns" || h[i+2] != names[i+1] || len(h) != len(names)+1 {
		t.Fatalf("phase columns misplaced: %v", h)
	}
	for _, want := range []string{"schema_version", "workload", "latency_ns", "valid", "error_kind"} {
		if !slices.Contains(h, want) {
			t.Errorf("header lacks %s: %v", want, h)
		}
	}
	if slices.Contains(h, "phases_ns") {
		t.Errorf("header has phases_ns: %v", h)
	}
	r := rec("w", "warm", 0, 1, 2) // phases invoke and rewind
	w, _ := NewCSVWriter(&bytes.Buffer{}, []string{"invoke"})
	if err := w.Write(&r); err == nil || !strings.Contains(err.Error(), `phase "rewind"`) {
		t.Fatalf("a phase outside the header: error %v", err)
	}
}
