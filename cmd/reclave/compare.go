package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/workloads"
)

// cmdCompare is reclave compare BASE_DIR NEW_DIR: the comparison table on stdout; exit 1 when
// a configuration regressed (slower, failing or answering wrongly more often, a new output
// where outputs must repeat, missing), 2 on unusable flags or runs.
func cmdCompare(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare", stderr)
	alpha := fs.Float64("alpha", 0.05, "significance `LEVEL` of the Mann–Whitney U test: a change with p below it is significant")
	threshold := fs.String("threshold", "5%", "slow-down of the median, as a `PERCENT` such as 5%, beyond which a significant change fails")
	metric := fs.String("metric", "latency", "record field compared: latency (latency_ns), response (response_ns) or exec (exec_ns)")
	unit := fs.String("unit", "invocation", "what one sample is: invocation, or repetition (the median of each of the config's repetitions; robust to a shared machine's drift between runs, needs ≥ 4 repetitions per side)")
	wdir := fs.String("workloads", "", "folder `DIR` of workloads not built in, whose manifests say whether their outputs must repeat (deterministic)")
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
	expected, err := runExpectedErrors(fs.Arg(1))
	if err != nil {
		return err
	}
	repeats, err := outputsRepeat(*wdir)
	if err != nil {
		return err
	}
	cmp, err := results.NewComparer(results.CompareOptions{Alpha: *alpha, Threshold: th, Metric: *metric, Unit: *unit,
		ExpectedErrors: func(k results.Key) []string { return expected[k.Experiment] },
		RepeatsOutput:  repeats})
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
		count := map[string]int{}
		var reasons []string
		for _, r := range regs {
			for _, reason := range r.Reasons {
				if count[reason] == 0 {
					reasons = append(reasons, reason)
				}
				count[reason]++
			}
		}
		parts := make([]string, len(reasons))
		for i, reason := range reasons {
			parts[i] = fmt.Sprintf("%s %d", reason, count[reason])
			if reason == results.ReasonSlower {
				parts[i] += " (slower by more than " + *threshold + ")"
			}
		}
		return fmt.Errorf("%d of %d configurations regressed: %s", len(regs), len(c.Rows), strings.Join(parts, ", "))
	}
	return nil
}

// runExpectedErrors reads what a run's config declares expected (expected_errors) from the
// copy of the config in the run's folder (config.yaml; for a records file, the folder that
// holds it), by experiment: "" for a config without experiments; an experiment's own list,
// or the document's when it gives none. A run without config.yaml expects nothing. The file
// is read leniently (only these keys), so a config whose workloads_dir or signer_key is
// relative to where it was read from still reads here.
func runExpectedErrors(run string) (map[string][]string, error) {
	dir := run
	if st, err := os.Stat(run); err == nil && !st.IsDir() {
		dir = filepath.Dir(run)
	}
	path := filepath.Join(dir, harness.ConfigFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: run config: %v", errInput, err)
	}
	var doc struct {
		ExpectedErrors []string `yaml:"expected_errors"`
		Experiments    []struct {
			Name           string    `yaml:"name"`
			ExpectedErrors *[]string `yaml:"expected_errors"`
		} `yaml:"experiments"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%w: run config %s: %v", errInput, path, err)
	}
	out := map[string][]string{"": doc.ExpectedErrors}
	for _, e := range doc.Experiments {
		out[e.Name] = doc.ExpectedErrors
		if e.ExpectedErrors != nil {
			out[e.Name] = *e.ExpectedErrors
		}
	}
	return out, nil
}

// outputsRepeat returns whether a configuration's outputs must repeat, from the manifest of
// its workload (workloads.Manifest.RepeatsOutput): the built-in workloads, and those of dir
// when given (which take precedence). A workload found in neither is not judged.
func outputsRepeat(dir string) (func(results.Key) bool, error) {
	byName := map[string]*workloads.Workload{}
	ws, err := workloads.Builtin()
	if err != nil {
		return nil, fmt.Errorf("built-in workloads: %w", err)
	}
	if dir != "" {
		more, err := loadWorkloads(dir)
		if err != nil {
			return nil, err
		}
		ws = append(ws, more...)
	}
	for _, w := range ws {
		byName[w.Name] = w
	}
	return func(k results.Key) bool {
		w := byName[k.Workload]
		return w != nil && w.RepeatsOutput(k.Mode)
	}, nil
}

// exitError is an error that ends reclave with its own exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitFailures is the exit code of a run whose invocations failed, or gave invalid outputs,
// in ways its config does not expect.
const exitFailures = 3

// runVerdict returns an error with exit code 3 naming the configurations of a finished run
// that had failures its experiment does not expect (expected_errors) or invalid outputs,
// and how many; nil when there are none.
func runVerdict(cfg *harness.Config, sum *results.Summary) error {
	expected := map[string][]string{}
	for _, exp := range cfg.Runs() {
		expected[exp.Experiment] = exp.ExpectedErrors
	}
	failures := results.RunFailures(sum, func(k results.Key) []string { return expected[k.Experiment] })
	if len(failures) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d configurations had unexpected failures or invalid outputs (records and summary written; exit %d; an experiment lists the error kinds it produces by design in expected_errors):",
		len(failures), len(sum.Results), exitFailures)
	for _, f := range failures {
		b.WriteString("\n  " + f.String())
	}
	return &exitError{code: exitFailures, err: errors.New(b.String())}
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
