package harness

import (
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/reclave/reclave/results"
)

// What a run writes of its records: a config's records key.
const (
	// RecordsFull writes records.jsonl, one JSON line per invocation (the default).
	RecordsFull = "full"
	// RecordsGzip writes the same lines compressed with gzip (fastest level) to
	// records.jsonl.gz, for long runs: every reader of records opens it as it opens
	// records.jsonl.
	RecordsGzip = "gzip"
	// RecordsNone writes no records; summary.json is written all the same.
	RecordsNone = "none"
)

// RecordsModes are the values of a config's records key.
var RecordsModes = []string{RecordsFull, RecordsGzip, RecordsNone}

// gzipSyncInterval is how often compressed records are flushed through to the file: a run
// killed in between loses at most this much of its records (and the stream's end, which
// readers report as a stream cut short). A gzip flush ends a compressed block, so flushing
// every batch would cost compression.
const gzipSyncInterval = time.Second

// recordsWriter writes a run's records as its config's records key says.
type recordsWriter struct {
	path   string
	f      *os.File
	zw     *gzip.Writer     // records: gzip
	enc    *results.Encoder // nil for records: none
	synced time.Time
}

// createRecords creates the records file of a run in outDir for the records mode (full, gzip
// or none; "" is full). With none it creates nothing and the writer discards every record.
func createRecords(outDir, mode string) (*recordsWriter, error) {
	w := &recordsWriter{}
	switch mode {
	case RecordsNone:
		return w, nil
	case RecordsGzip:
		w.path = filepath.Join(outDir, RecordsGzipFile)
	case RecordsFull, "":
		w.path = filepath.Join(outDir, RecordsFile)
	default:
		return nil, fmt.Errorf("records %q: want one of %v", mode, RecordsModes)
	}
	f, err := os.Create(w.path)
	if err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	w.f = f
	if mode == RecordsGzip {
		w.zw, _ = gzip.NewWriterLevel(f, gzip.BestSpeed) // a valid level: no error
		w.enc = results.NewEncoder(w.zw)
		w.synced = time.Now()
		return w, nil
	}
	w.enc = results.NewEncoder(f)
	return w, nil
}

// append encodes r into the writer's buffer; flush writes it.
func (w *recordsWriter) append(r *results.Record) {
	if w.enc != nil {
		w.enc.Append(r)
	}
}

// flush writes the appended records: to the file (records: full), or into the compressor,
// which reaches the file at least every gzipSyncInterval (records: gzip).
func (w *recordsWriter) flush() error {
	if w.enc == nil {
		return nil
	}
	if err := w.enc.Flush(); err != nil {
		return err
	}
	if w.zw != nil && time.Since(w.synced) >= gzipSyncInterval {
		w.synced = time.Now()
		if err := w.zw.Flush(); err != nil {
			return fmt.Errorf("records: %w", err)
		}
	}
	return nil
}

// close ends the compressed stream, if any, and closes the file.
func (w *recordsWriter) close() error {
	var err error
	if w.zw != nil {
		err = w.zw.Close()
	}
	if w.f != nil {
		err = errors.Join(err, w.f.Close())
	}
	if err != nil {
		return fmt.Errorf("records: %w", err)
	}
	return nil
}
