package trace

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reclave/reclave/internal/tracespec"
	"github.com/reclave/reclave/results"
)

// TestRunReplayInterrupted: a replay cancelled midway keeps valid records of what it served
// and writes no summary; an unusable trace is an *InputError.
func TestRunReplayInterrupted(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Synthesize(context.Background(), dir, SynthOptions{Functions: 20, Days: 1, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	o := tracespec.DefaultReplay()
	o.Top, o.To, o.SpeedUp, o.Arrivals = 4, 4*time.Minute, 40, tracespec.ArrivalsEven
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second) // the slice lasts 6 s
	defer cancel()
	if _, err := RunReplay(ctx, dir, o, out, nil, nil); !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want the context's", err)
	}
	recs, err := readRecordsFile(filepath.Join(out, results.RecordsFile))
	if err != nil || len(recs) == 0 {
		t.Fatalf("%d records: %v", len(recs), err)
	}
	if _, err := os.Stat(filepath.Join(out, results.SummaryFile)); !os.IsNotExist(err) {
		t.Errorf("summary of an interrupted replay: %v", err)
	}

	var in *InputError
	if _, err := RunSimulate(context.Background(), filepath.Join(dir, "nope"), tracespec.DefaultSimulate(), t.TempDir(), nil, nil); !errors.As(err, &in) {
		t.Errorf("missing trace: %v, want an InputError", err)
	}
}
