package results

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Names of the files of a run folder that this package reads and describes (doc.go).
const (
	// RecordsFile holds the records, one JSON line per invocation (records: full, the default).
	RecordsFile = "records.jsonl"
	// RecordsGzipFile holds the same lines compressed with gzip (a config's records: gzip).
	RecordsGzipFile = "records.jsonl.gz"
	// SummaryFile holds the [Summary].
	SummaryFile = "summary.json"
	// ResourcesFile holds the run's resource samples ([ResourceSample]), one JSON line each.
	ResourcesFile = "resources.jsonl"
)

// Folders of a run folder's trace experiments (a config's experiments of kind trace):
// RUN/TraceDir/<experiment>/TraceSimulateDir holds the summary.json of the policies simulated
// over the trace, RUN/TraceDir/<experiment>/TraceReplayDir the records.jsonl and summary.json
// of its replay on real enclaves (trace/doc.go describes both), TraceSynthDir the synthetic
// trace written, TraceReplaySynthDir a replay's own.
const (
	TraceDir            = "trace"
	TraceSimulateDir    = "simulate"
	TraceReplayDir      = "replay"
	TraceSynthDir       = "synth"
	TraceReplaySynthDir = "synth-replay"
)

// FindRecords returns the path of the records of a run folder: records.jsonl, or else
// records.jsonl.gz. A run made with records: none has neither: the error then wraps
// fs.ErrNotExist and says so.
func FindRecords(dir string) (string, error) {
	for _, name := range []string{RecordsFile, RecordsGzipFile} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("records: %w", err)
		}
	}
	return "", fmt.Errorf("records: no %s or %s in %s (a run with records: none writes none): %w",
		RecordsFile, RecordsGzipFile, dir, fs.ErrNotExist)
}

// Encoder writes records as JSON lines, one per invocation. [Encoder.Encode] writes each line
// at once, so that a crash or an interrupt leaves every record written so far complete and
// readable; [Encoder.Append] and [Encoder.Flush] batch lines into fewer writes (a write(2) per
// record costs more than encoding it) while every write still ends at the end of a line. Lines
// are [AppendRecord]'s bytes: those of json.Marshal.
type Encoder struct {
	w       io.Writer
	buf     []byte
	pending int  // records in buf
	fast    bool // AppendRecord knows every field of Record
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: w, buf: make([]byte, 0, 4096), fast: appendRecordCurrent()}
}

// Encode writes r as one line, with any lines appended before it, in one write.
func (e *Encoder) Encode(r *Record) error {
	e.Append(r)
	return e.Flush()
}

// Append encodes r as one line into the encoder's buffer without writing it; [Encoder.Flush]
// writes it. A writer that receives records from a queue can Append while more are queued and
// Flush when the queue is empty: records reach the file as soon as the driver pauses, in
// large writes when it does not.
func (e *Encoder) Append(r *Record) {
	if e.fast {
		e.buf = AppendRecord(e.buf, r)
	} else {
		b, _ := json.Marshal(r) // a Record has no value json cannot encode
		e.buf = append(e.buf, b...)
	}
	e.buf = append(e.buf, '\n')
	e.pending++
}

// Flush writes the appended lines in one write. After an error the lines are dropped and the
// error says how many.
func (e *Encoder) Flush() error {
	if len(e.buf) == 0 {
		return nil
	}
	_, err := e.w.Write(e.buf)
	n := e.pending
	e.buf, e.pending = e.buf[:0], 0
	if cap(e.buf) > 1<<20 {
		e.buf = make([]byte, 0, 4096) // do not keep a burst's buffer
	}
	if err != nil {
		return fmt.Errorf("write %d records: %w", n, err)
	}
	return nil
}

// DecodeRecords reads JSON lines of records into memory; see [ScanRecords] for the rules and
// the errors. On an error it returns the records before the bad line with it, so the caller
// can decide to keep them.
func DecodeRecords(r io.Reader) ([]Record, error) {
	var out []Record
	err := ScanRecords(r, func(rec *Record) error {
		out = append(out, *rec)
		return nil
	})
	return out, err
}

// ScanRecords reads JSON lines of records and calls fn with each one in turn (the record is
// fn's to keep), so a run of any length can be read in constant memory. Lines compressed with
// gzip (records.jsonl.gz) are recognised by their first bytes and read the same way. Blank
// lines are skipped; records of an older schema version are migrated ([Record.Migrate]). A
// malformed line, a record of an unknown schema version or a final line cut short (a run that
// was killed while writing; for a compressed file, a stream cut short) is an error naming
// its line number; so is an error from fn, which stops the scan.
func ScanRecords(r io.Reader, fn func(*Record) error) error {
	br := bufio.NewReaderSize(r, 64*1024)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("read compressed records: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			if serr := sc.Err(); serr != nil && src != io.Reader(br) && errors.Is(serr, io.ErrUnexpectedEOF) {
				// The scanner hands out what it had when the compressed stream broke off.
				return fmt.Errorf("records line %d: compressed records cut short (a run killed while writing): %w", line, serr)
			}
			return fmt.Errorf("records line %d: %w", line, err)
		}
		if rec.SchemaVersion < 1 || rec.SchemaVersion > SchemaVersion {
			return fmt.Errorf("records line %d: schema_version %d not supported (this build reads 1..%d)", line, rec.SchemaVersion, SchemaVersion)
		}
		rec.Migrate()
		if err := fn(&rec); err != nil {
			return fmt.Errorf("records line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("records line %d: line longer than 16 MiB", line+1)
		}
		if src != io.Reader(br) && errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("records line %d: compressed records cut short (a run killed while writing): %w", line+1, err)
		}
		return fmt.Errorf("read records: %w", err)
	}
	return nil
}
