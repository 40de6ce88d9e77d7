package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/reclave/reclave/results"
)

// cmdExport is reclave export DIR --csv [--out FILE]: the run's records as CSV (columns: see
// results.CSVWriter and results/doc.go), read twice from disk (once for the phase names of
// the header, once for the rows) so that a run of any length exports in constant memory.
func cmdExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	asCSV := fs.Bool("csv", false, "write CSV with a header row (the only format)")
	out := fs.String("out", "", "write to `FILE` instead of standard output")
	if err := parse(fs, splitArgs(fs, args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: export needs one run folder", errUsage)
	}
	if !*asCSV {
		return fmt.Errorf("%w: export needs a format: --csv", errUsage)
	}
	path, err := runRecordsPath(fs.Arg(0))
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %v", errInput, err)
	}
	defer f.Close()

	phases, err := results.ScanPhaseNames(f)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", errInput, path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("export: %w", err)
	}

	w, commit := stdout, func() error { return nil }
	if *out != "" {
		// Through a temporary file and a rename: a failed export leaves no half file.
		tmp, err := os.CreateTemp(filepath.Dir(*out), filepath.Base(*out)+".*.tmp")
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		w = tmp
		commit = func() error {
			if err := tmp.Close(); err != nil {
				return err
			}
			return os.Rename(tmp.Name(), *out)
		}
	}
	cw, err := results.NewCSVWriter(w, phases)
	if err != nil {
		return err
	}
	err = results.ScanRecords(f, func(r *results.Record) error { return cw.Write(r) })
	if err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	if err := errors.Join(cw.Flush(), commit()); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
