package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/reclave/reclave/results"
)

// cmdCompare is reclave compare BASE_DIR NEW_DIR: the comparison table on stdout; exit 1 when
// a configuration regressed, 2 on unusable flags or runs.
func cmdCompare(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare", stderr)
	alpha := fs.Float64("alpha", 0.05, "significance `LEVEL` of the Mann–Whitney U test: a change with p below it is significant")
	threshold := fs.String("threshold", "5%", "slow-down of the median, as a `PERCENT` such as 5%, beyond which a significant change fails")
	metric := fs.String("metric", "latency", "record field compared: latency (latency_ns), response (response_ns) or exec (exec_ns)")
	unit := fs.String("unit", "invocation", "what one sample is: invocation, or repetition (the median of each of the config's repetitions; robust to a shared machine's drift between runs, needs ≥ 4 repetitions per side)")
	if err := parse(fs, splitArgs(fs, args)); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("%w: compare needs two run folders, BASE_DIR NEW_DIR", errUsage)
	}
	if !(*alpha > 0 && *alpha < 1) {
		return fmt.Errorf("%w: --alpha %v: want a level between 0 and 1, such as 0.05", errUsage, *alpha)
	}
	th, err := parsePercent(*threshold)
	if err != nil {
		return fmt.Errorf("%w: --threshold %v", errUsage, err)
	}
	cmp, err := results.NewComparer(results.CompareOptions{Alpha: *alpha, Threshold: th, Metric: *metric, Unit: *unit})
	if err != nil {
		return fmt.Errorf("%w: %v", errInput, err)
	}
	// Streamed: runs of any length compare in bounded memory.
	if err := scanRunRecords(fs.Arg(0), cmp.AddBase); err != nil {
		return err
	}
	if err := scanRunRecords(fs.Arg(1), cmp.AddNew); err != nil {
		return err
	}
	c, err := cmp.Comparison()
	if err != nil {
		return fmt.Errorf("%w: %v", errInput, err)
	}
	if err := results.WriteComparison(stdout, c); err != nil {
		return err
	}
	if regs := c.Regressions(); len(regs) > 0 {
		return fmt.Errorf("%d of %d configurations regressed (significantly slower by more than %s, or failing)", len(regs), len(c.Rows), *threshold)
	}
	return nil
}

// parsePercent parses a percentage written with its sign, "5%" or "2.5%", into a fraction.
func parsePercent(s string) (float64, error) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return 0, fmt.Errorf("%q: write a percentage such as 5%%", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v < 0 || v > 1e6 {
		return 0, fmt.Errorf("%q: want a non-negative percentage such as 5%%", s)
	}
	return v / 100, nil
}

// runRecordsPath returns the records file of a run folder (records.jsonl, or
// records.jsonl.gz); a path to a file is taken as the records file itself. A missing folder
// or file is unusable input.
func runRecordsPath(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%w: run %v", errInput, err)
	}
	if st.IsDir() {
		if path, err = results.FindRecords(path); err != nil {
			return "", fmt.Errorf("%w: run %v", errInput, err)
		}
	}
	return path, nil
}

// scanRunRecords calls fn with every record of a run folder (or of a records file, plain or
// compressed) in turn. A missing file or a malformed record is unusable input.
func scanRunRecords(path string, fn func(*results.Record)) error {
	p, err := runRecordsPath(path)
	if err != nil {
		return err
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("%w: %v", errInput, err)
	}
	defer f.Close()
	if err := results.ScanRecords(f, func(r *results.Record) error { fn(r); return nil }); err != nil {
		return fmt.Errorf("%w: %s: %v", errInput, p, err)
	}
	return nil
}
