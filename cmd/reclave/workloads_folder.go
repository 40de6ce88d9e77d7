package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/workloads"
)

// buildFolder is reclave workloads build --workloads DIR: it runs the build script of each
// workload of dir (of those named, when names are given) from the workload's folder, with
// RECLAVE_BUILDLIB naming a copy of the build library built into reclave, so that a folder
// outside the checkout builds as the checkout's do. A broken manifest, a workload without a
// build script (unless named) or a failed build does not stop the others; each is reported
// and the command fails at the end.
func buildFolder(ctx context.Context, dir string, names []string, stdout, stderr io.Writer) error {
	all, broken, err := loadReporting(dir, names, stderr)
	if err != nil {
		return err
	}
	ws, err := pickWorkloads(all, names)
	if err != nil {
		return err
	}
	lib, err := workloads.BuildLib()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "reclave-build-")
	if err != nil {
		return fmt.Errorf("workloads build: %w", err)
	}
	defer os.RemoveAll(tmp)
	libPath := filepath.Join(tmp, workloads.BuildLibFile)
	if err := os.WriteFile(libPath, lib, 0o644); err != nil {
		return fmt.Errorf("workloads build: %w", err)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("workloads build: %w", err)
	}
	var failed []string
	built := 0
	for _, w := range ws {
		if w.Build == "" {
			if len(names) > 0 {
				failed = append(failed, w.Name)
				fmt.Fprintf(stderr, "reclave: %s has no build script (build.sh, or the manifest's build key)\n", w.Name)
			}
			continue
		}
		script := filepath.Join(w.Path(), filepath.FromSlash(w.Build))
		if err := checkBuildScript(script, dir); err != nil {
			failed = append(failed, w.Name)
			fmt.Fprintf(stderr, "reclave: %s: %v\n", w.Name, err)
			continue
		}
		fmt.Fprintf(stderr, "reclave: building %s: (cd %s && bash %s)\n", w.Name, w.Path(), w.Build)
		cmd := exec.CommandContext(ctx, "bash", filepath.FromSlash(w.Build))
		cmd.Dir = w.Path()
		cmd.Env = append(os.Environ(), "RECLAVE_BUILDLIB="+libPath, "RECLAVE_WORKLOADS="+absDir)
		cmd.Stdout, cmd.Stderr = stdout, stderr
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("workloads build: interrupted: %w", ctx.Err())
			}
			failed = append(failed, w.Name)
			fmt.Fprintf(stderr, "reclave: %s: %s failed: %v\n", w.Name, script, err)
			continue
		}
		built++
	}
	switch {
	case len(failed) > 0:
		return fmt.Errorf("workloads build: %d of %d failed: %s", len(failed), len(ws), strings.Join(failed, ", "))
	case len(broken) > 0:
		return fmt.Errorf("workloads build: %d workload folder(s) skipped: a broken manifest", len(broken))
	case built == 0:
		fmt.Fprintf(stderr, "reclave: no workload of %s has a build script\n", dir)
	}
	return nil
}

// checkBuildScript refuses a build script that sources ../buildlib.sh literally, outside the
// checkout where that file does not exist, and says how to write the line.
func checkBuildScript(script, dir string) error {
	b, err := os.ReadFile(script)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, workloads.BuildLibFile)); err == nil {
		return nil // the folder has a build library of its own
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && (f[0] == "source" || f[0] == ".") && strings.Trim(f[1], `"'`) == "../"+workloads.BuildLibFile {
			return fmt.Errorf(`%s sources ../%s, which exists only in reclave's checkout: write the line as
    source "${RECLAVE_BUILDLIB:-../%s}"
  (reclave workloads build --workloads sets RECLAVE_BUILDLIB to the build library built into reclave)`,
				script, workloads.BuildLibFile, workloads.BuildLibFile)
		}
	}
	return nil
}

// cmdWorkloadsImport is reclave workloads import DIR: a workload folder with a manifest for
// each module of DIR (see workloads.Import).
func cmdWorkloadsImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("workloads import", stderr)
	out := fs.String("out", "", "write the workload folders under `DIR` (default: the source folder)")
	deadline := fs.Duration("deadline", 0, "write limits.deadline `D` into every manifest (default: none, the runtime's 10s)")
	force := fs.Bool("force", false, "overwrite the files of workload folders that exist")
	if err := parse(fs, splitArgs(fs, args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: workloads import needs one folder of .wasm modules", errUsage)
	}
	if *deadline < 0 {
		return fmt.Errorf("%w: --deadline %v: must not be negative", errUsage, *deadline)
	}
	src := fs.Arg(0)
	if st, err := os.Stat(src); err != nil || !st.IsDir() {
		return fmt.Errorf("%w: %s: not a folder", errInput, src)
	}
	res, err := workloads.Import(src, workloads.ImportOptions{Out: *out, Allowed: enclave.DefaultImports, Deadline: *deadline, Force: *force})
	if err != nil {
		return err
	}
	if len(res) == 0 {
		return fmt.Errorf("%w: %s holds no .wasm file", errInput, src)
	}
	var b bytes.Buffer
	skipped, refused := 0, 0
	for _, r := range res {
		if r.Skipped != nil {
			skipped++
			fmt.Fprintf(&b, "skipped %s: %v\n", r.Source, r.Skipped)
			continue
		}
		fmt.Fprintf(&b, "%s: %s %s -> %s\n", r.Name, r.Kind, r.Source, r.Folder)
		if len(r.Stubbed) > 0 {
			fmt.Fprintf(&b, "  stubbed:  %s\n", strings.Join(r.Stubbed, ", "))
		}
		if len(r.Granted) > 0 {
			fmt.Fprintf(&b, "  allowed:  %s\n", strings.Join(r.Granted, ", "))
		}
		switch {
		case r.Expected != "":
			fmt.Fprintf(&b, "  expected: %s (compared line by line)\n", r.Expected)
		default:
			fmt.Fprintf(&b, "  expected: none (no %s.stdout.expected): its outputs are not validated\n", strings.TrimSuffix(filepath.Base(r.Source), ".wasm"))
		}
		if r.Input != "" {
			fmt.Fprintf(&b, "  input:    %s\n", r.Input)
		}
		for _, u := range r.Unresolved {
			fmt.Fprintf(&b, "  NOT PROVIDED: %s\n", u)
		}
		if len(r.Unresolved) > 0 {
			refused++
		}
	}
	dest := *out
	if dest == "" {
		dest = src
	}
	imported := len(res) - skipped
	fmt.Fprintf(&b, "imported %d of %d modules into %s", imported, len(res), dest)
	if refused > 0 {
		fmt.Fprintf(&b, " (%d refused at load until the imports NOT PROVIDED are stubbed in their manifests)", refused)
	}
	fmt.Fprintf(&b, "; check them with:\n  reclave workloads check --workloads %s\n", dest)
	if _, err := stdout.Write(b.Bytes()); err != nil {
		return err
	}
	if skipped > 0 {
		return errors.New(plural(skipped, "1 module was skipped", fmt.Sprintf("%d modules were skipped", skipped)))
	}
	return nil
}
