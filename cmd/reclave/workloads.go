package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"

	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/results"
	"github.com/reclave/reclave/workloads"
)

// checkSize, checkIterations are what reclave workloads check runs: every workload's test
// input, three measured invocations per mode, no warm-up.
const (
	checkSize       = "test"
	checkIterations = 3
)

// workloadsUsage is the help of reclave workloads.
const workloadsUsage = `usage:
  reclave workloads list [--json] [--workloads DIR] [NAME...]
                                          the workloads (built in, or those of DIR): language,
                                          kind, module size, input sizes, expected outputs
  reclave workloads build [--workloads DIR] [NAME...]
                                          rebuild the modules from source: with workloads/build.sh
                                          of the source checkout, or, with --workloads, run the
                                          build script of each workload of DIR with the build
                                          library built into reclave (RECLAVE_BUILDLIB); installs
                                          the Debian toolchain when run as root
  reclave workloads check [--workloads DIR] [NAME...]
                                          run every workload at size test in every mode and
                                          validate every output: exit 0 all valid, 1 otherwise
  reclave workloads input NAME [--size S] [--workloads DIR]
                                          write the input of size S (default test) to stdout
  reclave workloads import DIR [--out DIR] [--deadline D] [--force]
                                          make a workload folder with a manifest of each .wasm
                                          of DIR (and its NAME.stdout.expected, NAME.stdin),
                                          stubbing imports outside WASI that return nothing;
                                          then: reclave workloads check --workloads OUT
`

// cmdWorkloads is reclave workloads list|build|check|input.
func cmdWorkloads(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, workloadsUsage)
		return fmt.Errorf("%w: workloads needs a subcommand: list, build, check, input or import", errUsage)
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, workloadsUsage)
		return nil
	case "list":
		return cmdWorkloadsList(args[1:], stdout, stderr)
	case "build":
		return cmdWorkloadsBuild(ctx, args[1:], stdout, stderr)
	case "check":
		return cmdWorkloadsCheck(ctx, args[1:], stdout, stderr)
	case "input":
		return cmdWorkloadsInput(args[1:], stdout, stderr)
	case "import":
		return cmdWorkloadsImport(args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: workloads %q: want list, build, check, input or import", errUsage, args[0])
}

// loadWorkloads returns the workloads of dir, or the built-in ones when dir is "". When it
// skipped broken manifests, it returns the other workloads with a *workloads.SkippedError.
func loadWorkloads(dir string) ([]*workloads.Workload, error) {
	if dir == "" {
		return workloads.Builtin()
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: --workloads %s: not a folder", errInput, dir)
	}
	return workloads.LoadDir(dir)
}

// loadReporting is loadWorkloads that reports each skipped manifest on log and returns them;
// a named workload whose folder was skipped is an error, its manifest's.
func loadReporting(dir string, names []string, log io.Writer) ([]*workloads.Workload, []workloads.Skipped, error) {
	all, err := loadWorkloads(dir)
	var skipped *workloads.SkippedError
	if !errors.As(err, &skipped) {
		return all, nil, err
	}
	for _, name := range names {
		if e := skipped.Find(name); e != nil {
			return nil, nil, e
		}
	}
	for _, s := range skipped.Skipped {
		fmt.Fprintf(log, "reclave: skipped workload folder %s: %v\n", s.Folder, s.Err)
	}
	return all, skipped.Skipped, nil
}

// pickWorkloads returns the workloads named (all of them when names is empty), in the order
// given; an unknown name is a usage error listing the known ones.
func pickWorkloads(all []*workloads.Workload, names []string) ([]*workloads.Workload, error) {
	if len(names) == 0 {
		return all, nil
	}
	var out []*workloads.Workload
	for _, name := range names {
		i := slices.IndexFunc(all, func(w *workloads.Workload) bool { return w.Name == name })
		if i < 0 {
			var have []string
			for _, w := range all {
				have = append(have, w.Name)
			}
			return nil, fmt.Errorf("%w: no workload %q (have %s)", errUsage, name, strings.Join(have, ", "))
		}
		if !slices.Contains(out, all[i]) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// listEntry is one workload in the output of reclave workloads list --json, a JSON array of:
//
//	{"name": "json-stats", "description": "...", "language": "c", "kind": "reactor",
//	 "module": "json-stats.wasm",
//	 "module_bytes": 50401,          // the module's size; absent, with module_error, if unreadable
//	 "module_error": "...",
//	 "stateful": false, "stub_imports": ["env.now"],   // stub_imports absent when none
//	 "build": "build.sh",            // absent when the folder has no build script
//	 "sizes": [{"size": "test", "input": "json", "expect": "json"}, ...]}
//
// sizes lists the sizes with an input, smallest first; input is how the manifest gives it
// (json, file, generate, or empty when it names none) and expect the kind of expected output
// (json, file, lines or sha256), absent when there is none.
type listEntry struct {
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Language    string      `json:"language"`
	Kind        string      `json:"kind"`
	Module      string      `json:"module"`
	ModuleBytes *int        `json:"module_bytes,omitempty"`
	ModuleError string      `json:"module_error,omitempty"`
	Stateful    bool        `json:"stateful"`
	StubImports []string    `json:"stub_imports,omitempty"`
	Build       string      `json:"build,omitempty"`
	Sizes       []listInput `json:"sizes"`
}

// listInput is one input size of a listEntry.
type listInput struct {
	Size   string `json:"size"`
	Input  string `json:"input"`
	Expect string `json:"expect,omitempty"`
}

func newListEntry(w *workloads.Workload) listEntry {
	e := listEntry{
		Name: w.Name, Description: w.Description, Language: w.Language, Kind: w.Kind,
		Module: w.Module, Stateful: w.Stateful, StubImports: w.StubImports, Build: w.Build,
		Sizes: []listInput{},
	}
	if wasm, err := w.Wasm(); err != nil {
		e.ModuleError = err.Error()
	} else {
		n := len(wasm)
		e.ModuleBytes = &n
	}
	for _, size := range workloads.Sizes {
		in, ok := w.Inputs[size]
		if !ok {
			continue
		}
		li := listInput{Size: size}
		switch {
		case in.JSON != "":
			li.Input = "json"
		case in.File != "":
			li.Input = "file"
		case in.Generate != "":
			li.Input = "generate"
		default:
			li.Input = "empty"
		}
		if x := in.Expect; x != nil {
			li.Expect = x.Kind()
		}
		e.Sizes = append(e.Sizes, li)
	}
	return e
}

func cmdWorkloadsList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("workloads list", stderr)
	asJSON := fs.Bool("json", false, "print a JSON array (see listEntry in cmd/reclave/workloads.go)")
	dir := fs.String("workloads", "", "list the workloads of `DIR` instead of the built-in ones")
	if err := parse(fs, splitArgs(fs, args)); err != nil {
		return err
	}
	all, _, err := loadReporting(*dir, fs.Args(), stderr)
	if err != nil {
		return err
	}
	ws, err := pickWorkloads(all, fs.Args())
	if err != nil {
		return err
	}
	entries := make([]listEntry, 0, len(ws))
	for _, w := range ws {
		entries = append(entries, newListEntry(w))
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKLOAD\tLANGUAGE\tKIND\tMODULE\tINPUTS\tEXPECTED OUTPUTS\tSTATEFUL")
	for _, e := range entries {
		size := "missing"
		if e.ModuleBytes != nil {
			size = fmt.Sprintf("%d B", *e.ModuleBytes)
		}
		var sizes, expects []string
		for _, s := range e.Sizes {
			sizes = append(sizes, s.Size)
			if s.Expect != "" {
				expects = append(expects, s.Size+":"+s.Expect)
			}
		}
		exp := strings.Join(expects, " ")
		if exp == "" {
			exp = "none"
		}
		stateful := "no"
		if e.Stateful {
			stateful = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, orDash(e.Language), e.Kind, size,
			strings.Join(sizes, " "), exp, stateful)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cmdWorkloadsInput(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("workloads input", stderr)
	size := fs.String("size", checkSize, "input `SIZE`: test, small or large")
	dir := fs.String("workloads", "", "look the workload up in `DIR` instead of the built-in workloads")
	if err := parse(fs, splitArgs(fs, args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: workloads input needs one workload name", errUsage)
	}
	if !slices.Contains(workloads.Sizes, *size) {
		return fmt.Errorf("%w: --size %q: want one of %v", errUsage, *size, workloads.Sizes)
	}
	all, _, err := loadReporting(*dir, fs.Args(), stderr)
	if err != nil {
		return err
	}
	ws, err := pickWorkloads(all, fs.Args())
	if err != nil {
		return err
	}
	in, err := ws[0].Input(*size)
	if err != nil {
		return fmt.Errorf("%w: %v", errInput, err)
	}
	if _, err := stdout.Write(in); err != nil {
		return fmt.Errorf("write input: %w", err)
	}
	return nil
}

// moduleID is this module's path, which a source checkout's go.mod declares.
const moduleID = "github.com/reclave/reclave"

// findCheckout returns the root of the reclave source checkout holding start or one of its
// parents: the first folder with a go.mod of this module and workloads/build.sh; "" if none.
func findCheckout(start string) string {
	for dir := start; ; {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && goModule(mod) == moduleID {
			if st, err := os.Stat(filepath.Join(dir, "workloads", "build.sh")); err == nil && !st.IsDir() {
				return dir
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// goModule returns the module path a go.mod declares.
func goModule(mod []byte) string {
	for _, line := range bytes.Split(mod, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("module")); ok {
			return strings.Trim(strings.TrimSpace(string(rest)), `"`)
		}
	}
	return ""
}

func cmdWorkloadsBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("workloads build", stderr)
	dir := fs.String("workloads", "", "build the workloads of `DIR` (any folder) instead of the checkout's, with the build library built into reclave")
	if err := parse(fs, splitArgs(fs, args)); err != nil {
		return err
	}
	if *dir != "" {
		return buildFolder(ctx, *dir, fs.Args(), stdout, stderr)
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		starts = append(starts, filepath.Dir(exe))
	}
	root := ""
	for _, s := range starts {
		if root = findCheckout(s); root != "" {
			break
		}
	}
	if root == "" {
		return fmt.Errorf("%w: workloads build needs a source checkout of reclave (a folder with its go.mod and workloads/build.sh): none found above the current directory or the reclave executable", errInput)
	}
	script := filepath.Join(root, "workloads", "build.sh")
	fmt.Fprintf(stderr, "reclave: running %s\n", script)
	cmd := exec.CommandContext(ctx, "bash", append([]string{script}, fs.Args()...)...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("workloads build: %s: %w", script, err)
	}
	return nil
}

// checkResult is the outcome of one (workload, mode) of reclave workloads check.
type checkResult struct {
	cell    string   // ok, FAIL, no expectation, ...
	reasons []string // why it failed
	failed  bool
}

func cmdWorkloadsCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("workloads check", stderr)
	dir := fs.String("workloads", "", "check the workloads of `DIR` instead of the built-in ones")
	if err := parse(fs, splitArgs(fs, args)); err != nil {
		return err
	}
	all, broken, err := loadReporting(*dir, fs.Args(), io.Discard) // reported below the table
	if err != nil {
		return err
	}
	ws, err := pickWorkloads(all, fs.Args())
	if err != nil {
		return err
	}
	if len(fs.Args()) > 0 {
		broken = nil // the names given were all found
	}
	absDir := ""
	if *dir != "" {
		if absDir, err = filepath.Abs(*dir); err != nil {
			return fmt.Errorf("--workloads: %w", err)
		}
	}
	tmp, err := os.MkdirTemp("", "reclave-check-")
	if err != nil {
		return fmt.Errorf("workloads check: %w", err)
	}
	defer os.RemoveAll(tmp)

	table := map[string]map[string]checkResult{}
	var skipped []string
	failures := 0
	for _, w := range ws {
		if _, ok := w.Inputs[checkSize]; !ok {
			skipped = append(skipped, w.Name)
			continue
		}
		res, err := checkWorkload(ctx, w, absDir, filepath.Join(tmp, w.Name), stderr)
		if err != nil {
			return err
		}
		table[w.Name] = res
		for _, r := range res {
			if r.failed {
				failures++
			}
		}
	}

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "WORKLOAD")
	for _, m := range harness.Modes {
		fmt.Fprintf(tw, "\t%s", m)
	}
	fmt.Fprintln(tw)
	var reasons []string
	for _, w := range ws {
		res, ok := table[w.Name]
		if !ok {
			continue
		}
		fmt.Fprint(tw, w.Name)
		for _, m := range harness.Modes {
			fmt.Fprintf(tw, "\t%s", res[m].cell)
			for _, r := range res[m].reasons {
				reasons = append(reasons, fmt.Sprintf("%s/%s: %s", w.Name, m, r))
			}
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range reasons {
		fmt.Fprintf(stdout, "FAIL %s\n", r)
	}
	for _, name := range skipped {
		fmt.Fprintf(stdout, "skipped %s: no input of size %s\n", name, checkSize)
	}
	for _, b := range broken {
		fmt.Fprintf(stdout, "FAIL workload folder %s skipped: %v\n", b.Folder, b.Err)
	}
	switch {
	case failures > 0 && len(broken) > 0:
		return fmt.Errorf("workloads check: %d of %d (workload, mode) pairs failed, and %d workload folder(s) have a broken manifest", failures, len(table)*len(harness.Modes), len(broken))
	case failures > 0:
		return fmt.Errorf("workloads check: %d of %d (workload, mode) pairs failed", failures, len(table)*len(harness.Modes))
	case len(broken) > 0:
		return fmt.Errorf("workloads check: %d workload folder(s) have a broken manifest", len(broken))
	}
	return nil
}

// checkConfig is the experiment config reclave workloads check runs for one workload and the
// given modes: size test, checkIterations measured invocations, no warm-up, no attestation,
// no runtime image, and cold starts that reuse compiled code (the outputs do not depend on
// these; a Go module takes seconds to compile). dir is the absolute folder of workloads, ""
// for the built-in ones.
func checkConfig(name string, modes []string, dir string) (*harness.Config, error) {
	doc := map[string]any{
		"schema_version": harness.ConfigSchemaVersion,
		"name":           "workloads-check-" + name,
		"description":    "reclave workloads check: size " + checkSize + ", outputs validated",
		"workloads":      []string{name},
		"modes":          modes,
		"size":           checkSize,
		"iterations":     checkIterations,
		"warmup":         0,
		"enclave":        map[string]any{"measure_runtime": false, "attestation": "none", "compile_cache": true},
	}
	if dir != "" {
		doc["workloads_dir"] = dir
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("check config: %w", err)
	}
	return harness.ParseConfig(b, "(reclave workloads check)")
}

// checkRun runs one workload in the given modes into runDir and returns the measured records
// per mode, and the run's error (a run stops at the first enclave that cannot be created).
func checkRun(ctx context.Context, w *workloads.Workload, modes []string, dir, runDir string, log io.Writer) (map[string][]results.Record, error) {
	cfg, err := checkConfig(w.Name, modes, dir)
	if err != nil {
		return nil, err
	}
	_, runErr := harness.Run(ctx, cfg, runDir, log)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("workloads check: interrupted: %w", ctx.Err())
	}
	var recs []results.Record
	if f, err := os.Open(filepath.Join(runDir, harness.RecordsFile)); err == nil {
		recs, err = results.DecodeRecords(f)
		f.Close()
		if err != nil && runErr == nil {
			runErr = err
		}
	} else if runErr == nil {
		runErr = fmt.Errorf("records: %w", err)
	}
	byMode := map[string][]results.Record{}
	for _, r := range recs {
		if !r.Warmup {
			byMode[r.Mode] = append(byMode[r.Mode], r)
		}
	}
	return byMode, runErr
}

// checkWorkload runs one workload through the harness in every mode, in one run into folders
// under out, and judges the records of each mode. When that run stops early, each mode it did
// not complete is run again on its own, so that an enclave that cannot be created in one mode
// neither hides the others nor is blamed on them. An error is returned only when the check
// itself cannot run (a bad config, an interrupt); the workload's failures are in the results.
func checkWorkload(ctx context.Context, w *workloads.Workload, dir, out string, log io.Writer) (map[string]checkResult, error) {
	expect, expErr := w.Expectation(checkSize)
	wasm, _ := w.Wasm() // an unreadable module fails the run, which says why
	looksC := looksLikeC(w, wasm)
	byMode, runErr := checkRun(ctx, w, harness.Modes, dir, filepath.Join(out, "all"), log)
	if byMode == nil {
		return nil, runErr
	}
	res := map[string]checkResult{}
	for _, mode := range harness.Modes {
		recs, modeErr := byMode[mode], error(nil)
		if runErr != nil && len(recs) < checkIterations {
			alone, err := checkRun(ctx, w, []string{mode}, dir, filepath.Join(out, mode), log)
			if alone == nil {
				return nil, err
			}
			recs, modeErr = alone[mode], err
		}
		if modeErr != nil { // the harness prefixes workload/mode, which the table shows
			modeErr = errors.New(strings.TrimPrefix(modeErr.Error(), w.Name+"/"+mode+": "))
		}
		res[mode] = judge(recs, expect != nil, expErr, modeErr)
		if r := res[mode]; r.failed && looksC && emptyOutputs(recs) {
			r.reasons = append(r.reasons, "hint: "+emptyOutputHint)
			res[mode] = r
		}
	}
	return res, nil
}

// emptyOutputs says whether an invocation that ran gave an empty output.
func emptyOutputs(recs []results.Record) bool {
	for _, r := range recs {
		if r.OutputBytes == 0 && r.OutputSHA256 != "" {
			return true
		}
	}
	return false
}

// judge decides one mode's cell from its measured records. hasExpect says the workload
// expects an output for the test input; expErr is an error reading that expectation and
// runErr the run's error (which may have cut the records short).
func judge(recs []results.Record, hasExpect bool, expErr, runErr error) checkResult {
	var r checkResult
	fail := func(format string, args ...any) {
		r.failed = true
		r.reasons = append(r.reasons, fmt.Sprintf(format, args...))
	}
	if expErr != nil {
		fail("expectation: %v", expErr)
	}
	validated := 0
	for _, rec := range recs {
		switch {
		case rec.Error != "":
			fail("invocation %d: %s", rec.Seq+1, rec.Error)
		case rec.Valid != nil && !*rec.Valid:
			fail("invocation %d: invalid output (%d bytes, sha256 %s): %s", rec.Seq+1, rec.OutputBytes, rec.OutputSHA256, rec.Invalid)
		}
		if rec.Valid != nil {
			validated++
		}
	}
	if len(recs) < checkIterations {
		if runErr != nil {
			fail("%d of %d invocations ran: %v", len(recs), checkIterations, runErr)
		} else {
			fail("%d of %d invocations ran", len(recs), checkIterations)
		}
	}
	if hasExpect && validated == 0 && len(recs) > 0 && !r.failed {
		fail("no output was validated (the harness set no valid field)")
	}
	switch {
	case r.failed:
		r.cell = "FAIL"
	case !hasExpect:
		r.cell = "no expectation"
	default:
		r.cell = fmt.Sprintf("ok (%d/%d validated)", validated, len(recs))
	}
	return r
}
