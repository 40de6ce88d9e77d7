package trace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/reclave/reclave/internal/tracespec"
)

// Minute is the resolution of the per-minute traces (Azure 2019, Huawei), in nanoseconds.
const Minute = int64(time.Minute)

// Formats a trace may have; [Load] tells them apart by their column headers.
const (
	FormatAzure2019 = "azure2019"
	FormatAzure2021 = "azure2021"
	FormatHuawei    = "huawei"
)

// Function is one function of a trace.
type Function struct {
	// Owner, App and Name identify the function as the trace does (hashes in Azure's
	// traces, a column number in Huawei's).
	Owner, App, Name string
	// Trigger is the trigger Azure 2019 gives (http, timer, queue, ...); empty otherwise.
	Trigger string
	// Invocations is the number of invocations in the trace (within the selected window).
	Invocations int64
	// Duration is the distribution of the function's execution time; nil when the trace
	// gives none (the [LoadOptions] DefaultDuration is used).
	Duration *DurationDist
	// MeanDurationNs is the function's mean execution time when the trace gives one or its
	// invocations do (Azure 2019's Average, Azure 2021's mean duration); 0 unknown.
	MeanDurationNs float64
	// MemoryMiB is the memory the trace gives for the function (Azure 2019: its app's
	// average allocated memory, or the function's in the per-function variant); 0 unknown.
	MemoryMiB float64
}

// ID is the function's identifier: app/name, or owner/app/name when the owner is known.
func (f *Function) ID() string {
	if f.Owner != "" {
		return f.Owner + "/" + f.App + "/" + f.Name
	}
	if f.App != "" {
		return f.App + "/" + f.Name
	}
	return f.Name
}

// DurationDist is a distribution of execution times given by percentiles: Azure 2019's
// percentile_Average_{0,1,25,50,75,99,100}. A sample is drawn by inverting the piecewise
// linear CDF through the percentiles.
type DurationDist struct {
	// P are the probabilities (increasing, from 0 to 1) and Ns the durations at them.
	P  []float64
	Ns []float64
}

// Sample returns the duration at probability u in [0, 1).
func (d *DurationDist) Sample(u float64) int64 {
	i, _ := slices.BinarySearch(d.P, u)
	switch {
	case i == 0:
		return int64(d.Ns[0])
	case i >= len(d.P):
		return int64(d.Ns[len(d.Ns)-1])
	}
	f := (u - d.P[i-1]) / (d.P[i] - d.P[i-1])
	return int64(d.Ns[i-1] + f*(d.Ns[i]-d.Ns[i-1]))
}

// Median returns the 50th percentile of the distribution.
func (d *DurationDist) Median() int64 { return d.Sample(0.5) }

// Invocation is one invocation of a trace: which function, when it arrived and how long the
// function ran, both in nanoseconds (arrival from the start of the selected window).
type Invocation struct {
	Func     int32
	Arrival  int64
	Duration int64
}

// Source streams a trace's invocations in order of arrival.
type Source interface {
	// Next fills inv with the next invocation; it returns false at the end of the trace or
	// on an error (see Err).
	Next(inv *Invocation) bool
	// Err returns the error that ended the stream, if any.
	Err() error
	// Close releases the files the source reads.
	Close() error
}

// Arrivals is how the invocations counted in a minute are spread over the minute.
type Arrivals string

// Arrival patterns within a minute (per-minute traces). Each keeps the minute's count.
const (
	// ArrivalsUniform draws the gaps between the n arrivals (and the minute's edges) from a
	// uniform distribution and scales them to fill the minute.
	ArrivalsUniform Arrivals = tracespec.ArrivalsUniform
	// ArrivalsPoisson draws the gaps from an exponential distribution (those of a Poisson
	// process) and scales them to fill the minute: n uniform order statistics.
	ArrivalsPoisson Arrivals = tracespec.ArrivalsPoisson
	// ArrivalsEven spaces the n arrivals evenly, at (k + ½)·60 s / n: deterministic.
	ArrivalsEven Arrivals = tracespec.ArrivalsEven
)

// LoadOptions select what of a trace is read and how it is turned into invocations.
type LoadOptions struct {
	// Arrivals spreads a minute's invocations; zero means ArrivalsPoisson.
	Arrivals Arrivals
	// Seed seeds every random choice: arrivals, durations, random selection.
	Seed uint64
	// Top keeps the Top functions with the most invocations (0: all).
	Top int
	// Random keeps Random functions drawn uniformly, seeded (0: all). Applied after Top.
	Random int
	// From and To select a time window of the trace (To 0: to the end); arrivals are then
	// counted from From.
	From, To time.Duration
	// SpeedUp divides arrival times and durations (replay); 0 or 1 leaves them.
	SpeedUp float64
	// DefaultDuration is the duration of the invocations of a function whose duration the
	// trace does not give (Huawei's public requests trace); zero means 100 ms.
	DefaultDuration time.Duration
}

func (o LoadOptions) withDefaults() (LoadOptions, error) {
	if o.Arrivals == "" {
		o.Arrivals = ArrivalsPoisson
	}
	switch o.Arrivals {
	case ArrivalsUniform, ArrivalsPoisson, ArrivalsEven:
	default:
		return o, fmt.Errorf("arrivals %q: want uniform, poisson or even", o.Arrivals)
	}
	if o.SpeedUp == 0 {
		o.SpeedUp = 1
	}
	if o.SpeedUp < 0 || math.IsNaN(o.SpeedUp) || math.IsInf(o.SpeedUp, 0) {
		return o, fmt.Errorf("speed-up %v: want a positive factor", o.SpeedUp)
	}
	if o.DefaultDuration <= 0 {
		o.DefaultDuration = 100 * time.Millisecond
	}
	if o.Top < 0 || o.Random < 0 || o.From < 0 || o.To < 0 || (o.To > 0 && o.To <= o.From) {
		return o, fmt.Errorf("selection: top %d, random %d, window [%v, %v): want non-negative numbers and from < to", o.Top, o.Random, o.From, o.To)
	}
	return o, nil
}

// Trace is a trace read by [Load]: its functions (those selected) and a way to stream its
// invocations, as many times as wanted.
type Trace struct {
	// Format is the trace's format (FormatAzure2019, ...); Files the files it is read from.
	Format string
	Files  []string
	// Functions are the selected functions; Invocation.Func indexes them.
	Functions []Function
	// Length is the length of the selected window in nanoseconds (after the speed-up).
	Length int64
	// Options are the options it was loaded with (defaults filled in).
	Options LoadOptions

	open func(ctx context.Context) (Source, error)
}

// Open returns a new stream of the trace's invocations, in order of arrival.
func (t *Trace) Open(ctx context.Context) (Source, error) {
	src, err := t.open(ctx)
	if err != nil {
		return nil, err
	}
	if t.Options.SpeedUp != 1 {
		src = &speedUp{Source: src, f: t.Options.SpeedUp}
	}
	return src, nil
}

// Invocations returns the number of invocations of the selected functions.
func (t *Trace) Invocations() int64 {
	var n int64
	for i := range t.Functions {
		n += t.Functions[i].Invocations
	}
	return n
}

// speedUp divides arrivals and durations by f.
type speedUp struct {
	Source
	f float64
}

func (s *speedUp) Next(inv *Invocation) bool {
	if !s.Source.Next(inv) {
		return false
	}
	inv.Arrival = int64(float64(inv.Arrival) / s.f)
	inv.Duration = int64(float64(inv.Duration) / s.f)
	return true
}

// Load reads the trace at path: a folder holding the files of one format, or one file. The
// format is told by the files' column headers, not their names (see the package doc). Load
// reads the files once to learn the functions and their invocation counts, applies the
// selection of opts, and returns a [Trace] whose invocations [Trace.Open] streams.
func Load(ctx context.Context, path string, opts LoadOptions) (*Trace, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("load trace %s: %w", path, err)
	}
	files, err := listFiles(path)
	if err != nil {
		return nil, fmt.Errorf("load trace: %w", err)
	}
	kinds := map[string][]string{}
	for _, f := range files {
		k, err := classify(f)
		if err != nil {
			return nil, fmt.Errorf("load trace: %w", err)
		}
		if k != "" {
			kinds[k] = append(kinds[k], f)
		}
	}
	var t *Trace
	switch {
	case len(kinds[kindAzure19Invocations]) > 0:
		t, err = loadAzure2019(ctx, kinds, opts)
	case len(kinds[kindAzure21]) > 0:
		t, err = loadAzure2021(ctx, kinds[kindAzure21], opts)
	case len(kinds[kindHuawei]) > 0:
		t, err = loadHuawei(ctx, kinds[kindHuawei], opts)
	default:
		return nil, fmt.Errorf("load trace %s: no file with a known column header (Azure 2019 invocations_per_function, Azure 2021 app,func,end_timestamp,duration, Huawei requests_minute day,time,...)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("load trace %s: %w", path, err)
	}
	t.Options = opts
	t.Length = int64(float64(t.Length) / opts.SpeedUp)
	return t, nil
}

// listFiles returns path, or the CSV and text files of the folder path, sorted by name.
func listFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if !e.IsDir() && (ext == ".csv" || ext == ".txt") {
			files = append(files, filepath.Join(path, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no .csv or .txt file", path)
	}
	return files, nil
}

// selectFunctions applies opts' Top and Random to counts (invocations per function, in the
// trace's order) and returns the indexes kept, in the trace's order.
func selectFunctions(counts []int64, opts LoadOptions) []int {
	var idx []int
	for i, n := range counts {
		if n > 0 {
			idx = append(idx, i)
		}
	}
	if opts.Top > 0 && opts.Top < len(idx) {
		slices.SortStableFunc(idx, func(a, b int) int {
			switch {
			case counts[a] > counts[b]:
				return -1
			case counts[a] < counts[b]:
				return 1
			}
			return 0
		})
		idx = idx[:opts.Top]
		slices.Sort(idx)
	}
	if opts.Random > 0 && opts.Random < len(idx) {
		rng := rand.New(rand.NewPCG(opts.Seed, 0x5e1ec7))
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		idx = idx[:opts.Random]
		slices.Sort(idx)
	}
	return idx
}

// errAt is an error at a line of a file.
func errAt(file string, line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, args...))
}

// closeAll closes cs, joining their errors.
func closeAll(cs ...io.Closer) error {
	var errs []error
	for _, c := range cs {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}
