package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/harness"
	"github.com/reclave/reclave/workloads"
)

// importList is a flag of host functions, MODULE.NAME, comma-separated; it may be repeated.
type importList []string

func (l *importList) String() string { return strings.Join(*l, ",") }

func (l *importList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if mod, name, ok := strings.Cut(s, "."); !ok || mod == "" || name == "" {
			return fmt.Errorf("%q: want MODULE.NAME (for example bench.start)", s)
		}
		if !slices.Contains(*l, s) {
			*l = append(*l, s)
		}
	}
	return nil
}

// invokeTarget is what reclave invoke runs: the function, its input and, for a workload, the
// workload and the output its input size expects.
type invokeTarget struct {
	fn    enclave.Function
	input []byte
	// w is the workload (nil for a bare module); expect the expected output of the input,
	// nil when there is none or the input came from --input.
	w      *workloads.Workload
	expect *workloads.Expect
	// looksC says the module was written in C (its manifest or its producers section), for
	// the hint about unflushed stdio on an empty output.
	looksC bool
}

// applyDropIn adds --stub and --allow-import to the function and sets --deadline.
func applyDropIn(fn *enclave.Function, o invokeOpts) {
	for _, s := range o.stubs {
		if !slices.Contains(fn.Stubs, s) {
			fn.Stubs = append(fn.Stubs, s)
		}
	}
	if len(o.allow) > 0 {
		if fn.Imports == nil {
			fn.Imports = slices.Clone(enclave.DefaultImports)
		}
		for _, s := range o.allow {
			if !slices.Contains(fn.Imports, s) {
				fn.Imports = append(fn.Imports, s)
			}
		}
	}
	if o.deadline > 0 {
		fn.Deadline = o.deadline
	}
}

// withImportHint adds to an error refusing a module's imports (an *enclave.ImportError) how
// to provide all of them at once, with invoke's flags and in a manifest: stubs for the
// functions outside WASI, the allow-list for those of WASI.
func withImportHint(err error, workload bool) error {
	var ie *enclave.ImportError
	if !errors.As(err, &ie) || len(ie.Refused) == 0 {
		return err
	}
	var stub, allow []string
	for _, name := range ie.Refused {
		if strings.HasPrefix(name, workloads.WASIModule+".") {
			allow = append(allow, name)
		} else {
			stub = append(stub, name)
		}
	}
	where := "in a manifest (reclave workloads import writes one)"
	if workload {
		where = "in the workload's manifest"
	}
	var hints []string
	if len(stub) > 0 {
		hints = append(hints, fmt.Sprintf("stub %s (host functions that do nothing and return zeros): --stub %s, or %s stub_imports: [%s]",
			plural(len(stub), "it", "them"), strings.Join(stub, ","), where, strings.Join(stub, ", ")))
	}
	if len(allow) > 0 {
		hints = append(hints, fmt.Sprintf("allow %s (reclave implements every WASI function; there is no file system): --allow-import %s, or %s imports: [%s]",
			plural(len(allow), "it", "them"), strings.Join(allow, ","), where, strings.Join(allow, ", ")))
	}
	return fmt.Errorf("%w\n  to run it, %s", err, strings.Join(hints, ";\n  and "))
}

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// loadWorkloadTarget finds the workload o.target names: a folder holding a workload.yaml, or
// a workload's name among those of --workloads DIR (or the built-in ones). Manifests of DIR
// that it had to skip are reported on warn.
func loadWorkloadTarget(o invokeOpts, warn io.Writer) (*workloads.Workload, error) {
	if st, err := os.Stat(o.target); err == nil && st.IsDir() {
		if _, err := os.Stat(filepath.Join(o.target, workloads.ManifestFile)); err == nil {
			return workloads.LoadFolder(o.target)
		}
	}
	all, err := loadWorkloads(o.dir)
	var skipped *workloads.SkippedError
	if errors.As(err, &skipped) {
		if e := skipped.Find(o.target); e != nil {
			return nil, e
		}
		for _, s := range skipped.Skipped {
			fmt.Fprintf(warn, "warning: skipped a workload: %v\n", s.Err)
		}
	} else if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(all, func(w *workloads.Workload) bool { return w.Name == o.target })
	if i < 0 {
		var names []string
		for _, w := range all {
			names = append(names, w.Name)
		}
		return nil, fmt.Errorf("%w: no workload %q (have %s; or give a workload folder or a .wasm path)", errUsage, o.target, strings.Join(names, ", "))
	}
	return all[i], nil
}

// checkExpected validates an invocation's output against the workload's expectation as the
// harness does (only outputs produced on clean state, for a stateful workload) and records
// the verdict; it reports whether the output was found invalid.
func (r *invocationRecord) checkExpected(t invokeTarget, c *harness.Call) (invalid bool) {
	if t.expect == nil {
		return false
	}
	r.expectKind = t.expect.Kind()
	if !c.Clean && t.w != nil && t.w.Stateful {
		r.expectNote = "not checked: a stateful workload's output is validated only on clean state"
		return false
	}
	err := c.Err
	if err == nil {
		var out []byte
		if c.Invocation != nil {
			out = c.Invocation.Output
		}
		err = t.expect.Check(out)
	} else {
		err = fmt.Errorf("the invocation failed: %w", err)
	}
	ok := err == nil
	r.Valid = &ok
	if err != nil {
		r.Invalid = err.Error()
	}
	return !ok
}

// emptyOutputHint is the hint for an invocation of a C function that wrote nothing: stdio
// buffers what printf writes, and nothing flushes a reactor's stdout for it.
const emptyOutputHint = "the output is empty: if the function writes with printf or puts (C stdio), call fflush(stdout) before it returns: stdout is buffered and nothing flushes it for a reactor (or write with write(1, ...))"

// looksLikeC says whether a module was written in C: its manifest says so, or its producers
// section does.
func looksLikeC(w *workloads.Workload, wasm []byte) bool {
	if w != nil && w.Language == "c" {
		return true
	}
	info, err := workloads.Inspect(wasm)
	return err == nil && info.LooksLikeC()
}
