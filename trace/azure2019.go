package trace

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// The Azure Functions 2019 trace (see the package doc): per day, invocations per function
// per minute, durations per function, memory per app.

// azure19Percentiles are the duration percentiles of function_durations_percentiles.
var azure19Percentiles = []struct {
	col string
	p   float64
}{
	{"percentile_Average_0", 0}, {"percentile_Average_1", 0.01}, {"percentile_Average_25", 0.25},
	{"percentile_Average_50", 0.5}, {"percentile_Average_75", 0.75}, {"percentile_Average_99", 0.99},
	{"percentile_Average_100", 1},
}

type fnKey struct{ owner, app, name string }

// minuteColumns returns the column of each minute 1..1440 of an invocations file.
func minuteColumns(c *csvFile) ([]int, error) {
	cols := make([]int, 1440)
	for m := 1; m <= 1440; m++ {
		i, ok := c.col[strconv.Itoa(m)]
		if !ok {
			return nil, errAt(c.path, 1, "header lacks minute column %d (want 1..1440)", m)
		}
		cols[m-1] = i
	}
	return cols, nil
}

// readAzure19Day calls fn for every row of an invocations file with the function's key,
// trigger and per-minute counts (counts is reused between rows).
func readAzure19Day(ctx context.Context, path string, fn func(k fnKey, trigger string, counts []uint32) error) error {
	c, err := openCSV(path)
	if err != nil {
		return err
	}
	defer c.Close()
	cols, err := minuteColumns(c)
	if err != nil {
		return err
	}
	counts := make([]uint32, 1440)
	seen := map[fnKey]int{}
	io, ia, ifn, it := c.col["HashOwner"], c.col["HashApp"], c.col["HashFunction"], c.col["Trigger"]
	for {
		rec, err := c.row()
		if err != nil || rec == nil {
			return err
		}
		if c.line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		k := fnKey{rec[io], rec[ia], rec[ifn]}
		if k.app == "" || k.name == "" {
			return c.errorf("empty HashApp or HashFunction")
		}
		if l, dup := seen[k]; dup {
			return c.errorf("function %s/%s/%s already on line %d", k.owner, k.app, k.name, l)
		}
		seen[k] = c.line
		for m, col := range cols {
			if counts[m], err = c.count(rec[col], strconv.Itoa(m+1)); err != nil {
				return err
			}
		}
		if err := fn(k, rec[it], counts); err != nil {
			return err
		}
	}
}

// dayWindow returns the minutes of day d inside the window [from, to) (to 0: open), as a
// half-open range of minutes of the day.
func dayWindow(d int, opts LoadOptions) (lo, hi int) {
	start := int64(d) * 1440 * Minute
	lo, hi = 0, 1440
	if f := int64(opts.From); f > start {
		lo = int(min((f-start+Minute-1)/Minute, 1440))
	}
	if t := int64(opts.To); t > 0 && t < start+1440*Minute {
		hi = int(max((t-start+Minute-1)/Minute, 0))
	}
	return lo, max(lo, hi)
}

func loadAzure2019(ctx context.Context, kinds map[string][]string, opts LoadOptions) (*Trace, error) {
	days := kinds[kindAzure19Invocations]
	index := map[fnKey]int{}
	var fns []Function
	var counts []int64
	for d, path := range days {
		lo, hi := dayWindow(d, opts)
		err := readAzure19Day(ctx, path, func(k fnKey, trigger string, cs []uint32) error {
			i, ok := index[k]
			if !ok {
				i = len(fns)
				index[k] = i
				fns = append(fns, Function{Owner: k.owner, App: k.app, Name: k.name, Trigger: trigger})
				counts = append(counts, 0)
			}
			for m := lo; m < hi; m++ {
				counts[i] += int64(cs[m])
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, path := range kinds[kindAzure19Durations] {
		if err := readAzure19Durations(path, index, fns); err != nil {
			return nil, err
		}
	}
	for _, path := range kinds[kindAzure19Memory] {
		if err := readAzure19Memory(path, fns); err != nil {
			return nil, err
		}
	}
	keep := selectFunctions(counts, opts)
	newIdx := make([]int32, len(fns))
	for i := range newIdx {
		newIdx[i] = -1
	}
	t := &Trace{Format: FormatAzure2019, Files: append(append(append([]string(nil), days...),
		kinds[kindAzure19Durations]...), kinds[kindAzure19Memory]...)}
	for j, i := range keep {
		newIdx[i] = int32(j)
		f := fns[i]
		f.Invocations = counts[i]
		t.Functions = append(t.Functions, f)
	}
	t.Length = windowLength(int64(len(days))*1440*Minute, opts)
	t.open = func(ctx context.Context) (Source, error) {
		d := 0
		load := func(ctx context.Context) (int, []minuteCounts, bool, error) {
			for ; d < len(days); d++ {
				lo, hi := dayWindow(d, opts)
				if lo >= hi {
					continue
				}
				var rows []minuteCounts
				err := readAzure19Day(ctx, days[d], func(k fnKey, _ string, cs []uint32) error {
					i, ok := index[k]
					if !ok || newIdx[i] < 0 {
						return nil
					}
					mc := minuteCounts{fn: newIdx[i]}
					for m := lo; m < hi; m++ {
						if cs[m] > 0 {
							mc.mins = append(mc.mins, uint16(m))
							mc.counts = append(mc.counts, cs[m])
						}
					}
					if len(mc.mins) > 0 {
						rows = append(rows, mc)
					}
					return nil
				})
				if err != nil {
					return 0, nil, false, err
				}
				day := d
				d++
				return day, rows, true, nil
			}
			return 0, nil, false, nil
		}
		return newCountSource(ctx, t, opts, load, nil), nil
	}
	return t, nil
}

// windowLength is the length of the window opts select in a trace of length total.
func windowLength(total int64, opts LoadOptions) int64 {
	end := total
	if to := int64(opts.To); to > 0 && to < end {
		end = to
	}
	return max(end-int64(opts.From), 0)
}

// readAzure19Durations sets the duration distribution of the functions of index that have
// none yet from a function_durations_percentiles file (milliseconds).
func readAzure19Durations(path string, index map[fnKey]int, fns []Function) error {
	c, err := openCSV(path)
	if err != nil {
		return err
	}
	defer c.Close()
	io, ia, ifn := c.col["HashOwner"], c.col["HashApp"], c.col["HashFunction"]
	for {
		rec, err := c.row()
		if err != nil || rec == nil {
			return err
		}
		i, ok := index[fnKey{rec[io], rec[ia], rec[ifn]}]
		if !ok || fns[i].Duration != nil {
			continue
		}
		d := &DurationDist{}
		prev := 0.0
		for _, pc := range azure19Percentiles {
			ms, err := c.float(rec, pc.col)
			if err != nil {
				return err
			}
			if ms < 0 {
				return c.errorf("column %s: negative duration %v", pc.col, ms)
			}
			prev = max(prev, ms*1e6) // a percentile below the one before it is read as that one
			d.P = append(d.P, pc.p)
			d.Ns = append(d.Ns, prev)
		}
		fns[i].Duration = d
		if avg, err := c.float(rec, "Average"); err == nil && avg >= 0 {
			fns[i].MeanDurationNs = avg * 1e6
		} else if err != nil {
			return err
		}
	}
}

// readAzure19Memory sets MemoryMiB of the functions that have none yet from an
// app_memory_percentiles file: per app (every function of the app gets the app's average
// allocated memory), or per function when the file has a HashFunction column.
func readAzure19Memory(path string, fns []Function) error {
	c, err := openCSV(path)
	if err != nil {
		return err
	}
	defer c.Close()
	perFn := c.has("HashFunction")
	type appKey struct{ owner, app string }
	apps := map[appKey]float64{}
	byFn := map[fnKey]float64{}
	for {
		rec, err := c.row()
		if err != nil {
			return err
		}
		if rec == nil {
			break
		}
		mb, err := c.float(rec, "AverageAllocatedMb")
		if err != nil {
			return err
		}
		if mb < 0 {
			return c.errorf("column AverageAllocatedMb: negative memory %v", mb)
		}
		if perFn {
			byFn[fnKey{rec[c.col["HashOwner"]], rec[c.col["HashApp"]], rec[c.col["HashFunction"]]}] = mb
		} else {
			apps[appKey{rec[c.col["HashOwner"]], rec[c.col["HashApp"]]}] = mb
		}
	}
	for i := range fns {
		if fns[i].MemoryMiB > 0 {
			continue
		}
		if perFn {
			fns[i].MemoryMiB = byFn[fnKey{fns[i].Owner, fns[i].App, fns[i].Name}]
		} else {
			fns[i].MemoryMiB = apps[appKey{fns[i].Owner, fns[i].App}]
		}
	}
	return nil
}

// String describes the trace in a line.
func (t *Trace) String() string {
	return fmt.Sprintf("%s trace, %d functions, %d invocations over %s", t.Format, len(t.Functions),
		t.Invocations(), time.Duration(t.Length))
}
