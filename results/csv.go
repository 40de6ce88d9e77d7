package results

import (
	"encoding/csv"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// CSVWriter writes records as CSV (RFC 4180, as encoding/csv writes it), one row per record
// under a header row; see doc.go for the columns. The columns are the record's fields, named
// and ordered as in records.jsonl, except phases_ns, which becomes one column per phase,
// phase_<name>_ns, in the order of the phase names given to [NewCSVWriter]. Every value is
// written as in JSON without quotes: integers in decimal, booleans as true or false; a string
// or a number absent from the JSON line (strategy outside mode rewind, error on success,
// provider_ns outside OpenWhisk), valid when unknown and a phase the invocation did not have
// are empty cells; host_calls and reset_host_calls hold their JSON object, as in the line.
type CSVWriter struct {
	w         *csv.Writer
	phases    []string
	names     []string // JSON names of Record's fields
	omitEmpty []bool
	row       []string
}

// NewCSVWriter writes the header row for records whose phases are among phases (see
// [ScanPhaseNames]) and returns a writer for the rows.
func NewCSVWriter(w io.Writer, phases []string) (*CSVWriter, error) {
	c := &CSVWriter{w: csv.NewWriter(w), phases: phases}
	c.names, c.omitEmpty = recordFields()
	if err := c.w.Write(CSVHeader(phases)); err != nil {
		return nil, fmt.Errorf("write csv header: %w", err)
	}
	return c, nil
}

// recordFields are the JSON names of Record's fields, in order, with whether each is
// omitempty; phases_ns stands for the phase columns.
func recordFields() (names []string, omitEmpty []bool) {
	t := reflect.TypeFor[Record]()
	for i := range t.NumField() {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names = append(names, name)
		omitEmpty = append(omitEmpty, strings.Contains(opts, "omitempty"))
	}
	return names, omitEmpty
}

// CSVHeader returns the column names of [CSVWriter] for the given phase names.
func CSVHeader(phases []string) []string {
	names, _ := recordFields()
	var out []string
	for _, n := range names {
		if n != "phases_ns" {
			out = append(out, n)
			continue
		}
		for _, p := range phases {
			out = append(out, "phase_"+p+"_ns")
		}
	}
	return out
}

// ScanPhaseNames reads JSON lines of records (see [ScanRecords]) and returns the sorted names
// of their phases, for the header of a [CSVWriter] written in a second pass.
func ScanPhaseNames(r io.Reader) ([]string, error) {
	seen := map[string]bool{}
	err := ScanRecords(r, func(rec *Record) error {
		for p := range rec.PhasesNs {
			seen[p] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out, nil
}

// Write writes r as one row. A phase of r missing from the writer's phase names is an error.
func (c *CSVWriter) Write(r *Record) error {
	for p := range r.PhasesNs {
		if !slices.Contains(c.phases, p) {
			return fmt.Errorf("csv: record %d of %s/%s has phase %q, not among the columns", r.Seq, r.Workload, r.Mode, p)
		}
	}
	c.row = c.row[:0]
	v := reflect.ValueOf(r).Elem()
	for i, name := range c.names {
		f := v.Field(i)
		if name == "phases_ns" {
			for _, p := range c.phases {
				cell := ""
				if d, ok := r.PhasesNs[p]; ok {
					cell = strconv.FormatInt(d, 10)
				}
				c.row = append(c.row, cell)
			}
			continue
		}
		if c.omitEmpty[i] && f.IsZero() && f.Kind() != reflect.Bool {
			c.row = append(c.row, "")
			continue
		}
		if hc, ok := f.Interface().(HostCalls); ok { // its JSON object, as in records.jsonl
			cell := ""
			if hc != nil && (len(hc) > 0 || !c.omitEmpty[i]) {
				cell = string(appendHostCalls(nil, hc))
			}
			c.row = append(c.row, cell)
			continue
		}
		if f.Kind() == reflect.Pointer {
			f = f.Elem()
		}
		switch f.Kind() {
		case reflect.String:
			c.row = append(c.row, f.String())
		case reflect.Bool:
			c.row = append(c.row, strconv.FormatBool(f.Bool()))
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			c.row = append(c.row, strconv.FormatInt(f.Int(), 10))
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			c.row = append(c.row, strconv.FormatUint(f.Uint(), 10))
		default:
			return fmt.Errorf("csv: field %s of kind %s has no column format", name, f.Kind())
		}
	}
	if err := c.w.Write(c.row); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// Flush writes any buffered rows and reports a write error.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
