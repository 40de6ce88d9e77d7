package workloads

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// WASIModule is the import module of WASI preview1, the host functions reclave implements.
const WASIModule = "wasi_snapshot_preview1"

// ImportOptions configure [Import].
type ImportOptions struct {
	// Out is the folder the workload folders are written to; "" means the source folder.
	Out string
	// Allowed are the imports ("module.name") every function may make without the manifest
	// granting them: the enclave's default allow-list (enclave.DefaultImports). A WASI import
	// outside it is granted in the manifest's imports.
	Allowed []string
	// Deadline, when not zero, is written as every manifest's limits.deadline.
	Deadline time.Duration
	// Force overwrites a workload folder's files that exist; without it such a module is
	// skipped.
	Force bool
}

// Imported is the outcome of [Import] for one module of the source folder.
type Imported struct {
	// Source is the module's path in the source folder.
	Source string
	// Name is the workload's name (from the file name), and Folder its folder; both "" when
	// the module was skipped before a name was settled.
	Name, Folder string
	// Kind is command or reactor.
	Kind string
	// Stubbed are the imports written to stub_imports: functions outside WASI that return
	// nothing (timing hooks such as bench.start), so that a stub doing nothing is harmless.
	Stubbed []string
	// Granted are the WASI imports outside the default allow-list, written to imports.
	Granted []string
	// Unresolved are the imports left out, each with the reason: a function outside WASI
	// that returns a value (a stub would return zeros; stub it by hand if that is harmless),
	// or an import that is not a function. The module is refused at load until they are
	// dealt with.
	Unresolved []string
	// Expected is the expected-output file copied beside the module ("" for none), and Input
	// the input file ("" for an empty input).
	Expected, Input string
	// Skipped, when not nil, says why no workload was written for the module.
	Skipped error
}

// Import turns a folder of WebAssembly modules into workload folders: for each file
// NAME.wasm of src (not its subfolders) it writes, under opts.Out, a folder NAME holding a
// copy of the module, a manifest (workload.yaml) and, when src has them, copies of
// NAME.stdout.expected (the expected stdout, compared line by line: an expectation of kind
// lines) and NAME.stdin (the input; without it the input is empty). The workload's name is
// the file name, lower-cased, with every run of characters other than letters and digits
// replaced by '-'. The manifest gives one input, of size test; the kind is command when the
// module exports _start, reactor when it exports reclave_handle (modules exporting neither
// are skipped); imports outside WASI that return nothing are stubbed, WASI imports outside
// opts.Allowed are granted, and anything else is left out and reported (see [Imported]).
// Every manifest written is parsed back. The error is for a source folder that cannot be
// read; each module's own failure is in its Imported.Skipped.
func Import(src string, opts ImportOptions) ([]Imported, error) {
	out := opts.Out
	if out == "" {
		out = src
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return nil, fmt.Errorf("import: read folder %s: %w", src, err)
	}
	var res []Imported
	taken := map[string]string{} // workload name -> source
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".wasm") {
			continue
		}
		r := Imported{Source: filepath.Join(src, e.Name())}
		r.Name = importName(strings.TrimSuffix(e.Name(), ".wasm"))
		switch prev, dup := taken[r.Name]; {
		case r.Name == "":
			r.Skipped = fmt.Errorf("no workload name can be made of %q: want letters or digits", e.Name())
		case dup:
			r.Skipped = fmt.Errorf("workload name %s is taken by %s", r.Name, prev)
		default:
			taken[r.Name] = r.Source
			r.Folder = filepath.Join(out, r.Name)
			r.Skipped = importModule(&r, src, strings.TrimSuffix(e.Name(), ".wasm"), opts)
		}
		res = append(res, r)
	}
	return res, nil
}

// importName makes a workload name of a file's base name.
func importName(base string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(base) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// importModule writes the workload folder of the module src/base.wasm into r.Folder.
func importModule(r *Imported, src, base string, opts ImportOptions) error {
	wasm, err := os.ReadFile(r.Source)
	if err != nil {
		return err
	}
	info, err := Inspect(wasm)
	if err != nil {
		return fmt.Errorf("not a WebAssembly module: %w", err)
	}
	switch {
	case slices.Contains(info.Exports, "reclave_handle"):
		r.Kind = "reactor"
	case slices.Contains(info.Exports, "_start"):
		r.Kind = "command"
	default:
		return errors.New("exports neither _start (a WASI command) nor reclave_handle (a reclave reactor)")
	}
	for _, imp := range info.Imports {
		name := imp.String()
		switch {
		case imp.Kind != "func":
			r.Unresolved = append(r.Unresolved, fmt.Sprintf("%s: a %s import (only functions can be provided)", name, imp.Kind))
		case imp.Module == WASIModule:
			if !slices.Contains(opts.Allowed, name) && !slices.Contains(r.Granted, name) {
				r.Granted = append(r.Granted, name)
			}
		case len(imp.Results) > 0:
			r.Unresolved = append(r.Unresolved, fmt.Sprintf("%s: returns %s, which a stub would answer with zero: add it to stub_imports if that is harmless", name, strings.Join(imp.Results, ", ")))
		case !slices.Contains(r.Stubbed, name):
			r.Stubbed = append(r.Stubbed, name)
		}
	}

	files := map[string][]byte{r.Name + ".wasm": wasm} // name in the folder -> content
	for _, f := range []struct {
		suffix string
		dst    *string
	}{{".stdout.expected", &r.Expected}, {".stdin", &r.Input}} {
		b, err := os.ReadFile(filepath.Join(src, base+f.suffix))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		*f.dst = r.Name + f.suffix
		files[*f.dst] = b
	}
	manifest := importManifest(r, base+".wasm", info, opts)
	if _, err := Parse(manifest, filepath.Join(r.Folder, ManifestFile), os.DirFS(r.Folder)); err != nil {
		return fmt.Errorf("the manifest written for it does not parse (a bug): %w", err)
	}
	files[ManifestFile] = manifest

	if !opts.Force {
		for name := range files {
			if _, err := os.Stat(filepath.Join(r.Folder, name)); err == nil {
				return fmt.Errorf("%s exists (overwrite with --force)", filepath.Join(r.Folder, name))
			}
		}
	}
	if err := os.MkdirAll(r.Folder, 0o755); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := os.WriteFile(filepath.Join(r.Folder, name), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// importManifest writes the manifest of an imported module.
func importManifest(r *Imported, source string, info *ModuleInfo, opts ImportOptions) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by reclave workloads import from %s; edit freely.\n", source)
	fmt.Fprintf(&b, "name: %s\n", r.Name)
	desc := fmt.Sprintf("%s, imported from %s", r.Kind, source)
	fmt.Fprintf(&b, "description: '%s'\n", strings.ReplaceAll(desc, "'", "''"))
	fmt.Fprintf(&b, "language: %s\n", info.Language())
	fmt.Fprintf(&b, "kind: %s\n", r.Kind)
	fmt.Fprintf(&b, "module: %s.wasm\n", r.Name)
	if opts.Deadline > 0 {
		fmt.Fprintf(&b, "limits:\n  deadline: %s\n", opts.Deadline)
	}
	if len(r.Granted) > 0 {
		b.WriteString("# WASI functions beyond the default allow-list (reclave has no file system: file\n# calls fail with an error).\n")
		fmt.Fprintf(&b, "imports: [%s]\n", strings.Join(r.Granted, ", "))
	}
	if len(r.Stubbed) > 0 {
		b.WriteString("# Imports outside WASI that return nothing (timing hooks): stubs that do nothing.\n")
		fmt.Fprintf(&b, "stub_imports: [%s]\n", strings.Join(r.Stubbed, ", "))
	}
	for _, u := range r.Unresolved {
		fmt.Fprintf(&b, "# not provided: %s\n", u)
	}
	b.WriteString("inputs:\n")
	var in []string
	if r.Input != "" {
		in = append(in, "file: "+r.Input)
	}
	if r.Expected != "" {
		in = append(in, "expect: {lines: "+r.Expected+"}")
	}
	fmt.Fprintf(&b, "  test: {%s}\n", strings.Join(in, ", "))
	return b.Bytes()
}
