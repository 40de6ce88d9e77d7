package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/results"
)

func TestExport(t *testing.T) {
	dir := t.TempDir()
	run := writeRun(t, filepath.Join(dir, "run"), 1, nil)
	f, err := os.Open(filepath.Join(run, harness.RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := results.DecodeRecords(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "records.csv")

	for name, args := range map[string][]string{
		"to a file, flags after": {run, "--csv", "--out", out},
		"to stdout, flags first": {"--csv", run},
	} {
		t.Run(name, func(t *testing.T) {
			os.Remove(out)
			code, stdout, stderr := reclave(t, append([]string{"export"}, args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			text := stdout
			if slices.Contains(args, "--out") {
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				text = string(b)
				if stdout != "" {
					t.Errorf("stdout %q, want nothing with --out", stdout)
				}
			}
			rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
			if err != nil {
				t.Fatalf("not CSV: %v", err)
			}
			if len(rows) != len(recs)+1 {
				t.Fatalf("%d rows, want a header and %d records", len(rows), len(recs))
			}
			if !slices.Equal(rows[0], results.CSVHeader([]string{"invoke", "rewind"})) {
				t.Fatalf("header %v", rows[0])
			}
			col := func(name string) int { return slices.Index(rows[0], name) }
			for i, r := range recs {
				row := rows[i+1]
				if row[col("workload")] != r.Workload || row[col("latency_ns")] != strconv.FormatInt(r.LatencyNs, 10) ||
					row[col("phase_rewind_ns")] != strconv.FormatInt(r.PhasesNs["rewind"], 10) ||
					row[col("warmup")] != strconv.FormatBool(r.Warmup) || row[col("valid")] != validCell(r.Valid) {
					t.Fatalf("row %d %v does not match record %+v", i+1, row, r)
				}
			}
		})
	}
}

func TestExportErrors(t *testing.T) {
	dir := t.TempDir()
	run := writeRun(t, filepath.Join(dir, "run"), 1, nil)
	bad := filepath.Join(dir, "bad")
	write(t, bad, harness.RecordsFile, `{"schema_version":2,"workload":"noop","mode":"warm"}`+"\n{oops\n")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no format", []string{run}, 2, "--csv"},
		{"no folder", []string{"--csv"}, 2, "one run folder"},
		{"missing folder", []string{"--csv", filepath.Join(dir, "nowhere")}, 2, "nowhere"},
		{"malformed records", []string{"--csv", bad, "--out", filepath.Join(dir, "x.csv")}, 2, "line 2"},
		{"unwritable output", []string{"--csv", run, "--out", filepath.Join(dir, "no", "such", "x.csv")}, 1, "export"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := reclave(t, append([]string{"export"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "x.csv")); err == nil {
		t.Error("a failed export left its output file")
	}
}

// validCell is how the CSV writes a record's valid: empty when it was not checked.
func validCell(v *bool) string {
	if v == nil {
		return ""
	}
	return strconv.FormatBool(*v)
}
