package trace

import "context"

// Huawei's public requests_minute files (day_NN.csv): one row per minute, columns day, time
// (seconds from the start of the trace) and one column per function, named by the
// function's number, holding its requests in that minute (empty, or NaN, for none). The
// files give no durations: every invocation runs LoadOptions.DefaultDuration.

// readHuaweiDay calls fn for every row of a requests_minute file with the minute of the
// trace (time / 60) and the counts of the file's function columns (reused between rows;
// fnCols names the columns).
// fn's errorf makes an error at the row's line.
func readHuaweiDay(ctx context.Context, path string, fn func(fnCols []string, minute int64, counts []uint32, errorf func(string, ...any) error) error) error {
	c, err := openCSV(path)
	if err != nil {
		return err
	}
	defer c.Close()
	var cols []int
	var names []string
	for i, h := range c.header {
		if h != "day" && h != "time" {
			cols = append(cols, i)
			names = append(names, h)
		}
	}
	counts := make([]uint32, len(cols))
	for {
		rec, err := c.row()
		if err != nil || rec == nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		secs, err := c.float(rec, "time")
		if err != nil {
			return err
		}
		if secs < 0 {
			return c.errorf("column time: negative time %v", secs)
		}
		for j, col := range cols {
			if counts[j], err = c.count(rec[col], names[j]); err != nil {
				return err
			}
		}
		if err := fn(names, int64(secs)/60, counts, c.errorf); err != nil {
			return err
		}
	}
}

func loadHuawei(ctx context.Context, files []string, opts LoadOptions) (*Trace, error) {
	index := map[string]int{}
	var fns []Function
	var counts []int64
	var maxMinute int64 = -1
	from, to := int64(opts.From)/Minute, int64(opts.To)/Minute
	for _, path := range files {
		err := readHuaweiDay(ctx, path, func(names []string, minute int64, cs []uint32, errorf func(string, ...any) error) error {
			maxMinute = max(maxMinute, minute)
			in := minute >= from && (to == 0 || minute < to)
			for j, n := range cs {
				i, ok := index[names[j]]
				if !ok {
					i = len(fns)
					index[names[j]] = i
					fns = append(fns, Function{Name: names[j]})
					counts = append(counts, 0)
				}
				if in {
					counts[i] += int64(n)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	keep := selectFunctions(counts, opts)
	newIdx := map[string]int32{}
	t := &Trace{Format: FormatHuawei, Files: files}
	for j, i := range keep {
		newIdx[fns[i].Name] = int32(j)
		f := fns[i]
		f.Invocations = counts[i]
		t.Functions = append(t.Functions, f)
	}
	t.Length = windowLength((maxMinute+1)*Minute, opts)
	t.open = func(ctx context.Context) (Source, error) {
		next := 0
		load := func(ctx context.Context) (int, []minuteCounts, bool, error) {
			if next >= len(files) {
				return 0, nil, false, nil
			}
			path := files[next]
			next++
			byFn := map[int32]*minuteCounts{}
			var order []int32
			day := int64(-1)
			err := readHuaweiDay(ctx, path, func(names []string, minute int64, cs []uint32, errorf func(string, ...any) error) error {
				if day < 0 {
					day = minute / 1440
				}
				if minute/1440 != day {
					return errorf("minute %d is not of day %d, as the file's first row: a requests_minute file holds one day", minute, day)
				}
				for j, n := range cs {
					fi, ok := newIdx[names[j]]
					if !ok || n == 0 {
						continue
					}
					mc := byFn[fi]
					if mc == nil {
						mc = &minuteCounts{fn: fi}
						byFn[fi] = mc
						order = append(order, fi)
					}
					if k := len(mc.mins); k > 0 && int64(mc.mins[k-1]) >= minute%1440 {
						return errorf("function %s: minutes out of order (time must increase row by row)", names[j])
					}
					mc.mins = append(mc.mins, uint16(minute%1440))
					mc.counts = append(mc.counts, n)
				}
				return nil
			})
			if err != nil {
				return 0, nil, false, err
			}
			rows := make([]minuteCounts, 0, len(order))
			for _, fi := range order {
				rows = append(rows, *byFn[fi])
			}
			return int(max(day, 0)), rows, true, nil
		}
		return newCountSource(ctx, t, opts, load, nil), nil
	}
	return t, nil
}
