package results

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Encoder writes records as JSON lines, one per invocation, flushing each line so that a
// crash or an interrupt leaves every record written so far complete and readable.
type Encoder struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder {
	bw := bufio.NewWriter(w)
	return &Encoder{w: bw, enc: json.NewEncoder(bw)}
}

// Encode writes r as one line and flushes it.
func (e *Encoder) Encode(r *Record) error {
	if err := e.enc.Encode(r); err != nil {
		return fmt.Errorf("encode record %d of %s/%s: %w", r.Seq, r.Workload, r.Mode, err)
	}
	if err := e.w.Flush(); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	return nil
}

// DecodeRecords reads JSON lines of records. Blank lines are skipped. A malformed line is an
// error naming its line number; a final line without its newline (a run that was killed while
// writing) is reported the same way, so the caller can decide to keep what came before.
func DecodeRecords(r io.Reader) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(r)
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
			return out, fmt.Errorf("records line %d: %w", line, err)
		}
		if rec.SchemaVersion < 1 || rec.SchemaVersion > SchemaVersion {
			return out, fmt.Errorf("records line %d: schema_version %d not supported (this build reads 1..%d)", line, rec.SchemaVersion, SchemaVersion)
		}
		rec.Migrate()
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return out, fmt.Errorf("records line %d: line longer than 16 MiB", line+1)
		}
		return out, fmt.Errorf("read records: %w", err)
	}
	return out, nil
}
