package trace

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeFiles writes name → content into a new folder and returns it.
func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// azure19Row is a row of an invocations file with counts at the given minutes (1-based).
func azure19Row(owner, app, fn, trigger string, at map[int]int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s,%s,%s,%s", owner, app, fn, trigger)
	for m := 1; m <= 1440; m++ {
		fmt.Fprintf(&b, ",%d", at[m])
	}
	return b.String() + "\n"
}

func azure19Header() string {
	var b strings.Builder
	b.WriteString("HashOwner,HashApp,HashFunction,Trigger")
	for m := 1; m <= 1440; m++ {
		fmt.Fprintf(&b, ",%d", m)
	}
	return b.String() + "\n"
}

const durHeader = "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\n"

// collect streams a trace's invocations.
func collect(t testing.TB, tr *Trace) []Invocation {
	t.Helper()
	src, err := tr.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []Invocation
	var inv Invocation
	for src.Next(&inv) {
		out = append(out, inv)
	}
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReaders(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		files  map[string]string
		opts   LoadOptions
		format string
		// want: per function ID, the number of invocations and, for even arrivals, the arrivals
		want     map[string]int64
		arrivals []int64 // all arrivals in order (checked when set)
		memory   map[string]float64
	}{
		{
			name: "azure2019 two days, per-app memory",
			files: map[string]string{
				"invocations_per_function_md.anon.d01.csv": azure19Header() + azure19Row("o", "a", "f", "http", map[int]int{1: 2, 3: 1}) +
					azure19Row("o", "a", "g", "timer", map[int]int{2: 1}),
				"invocations_per_function_md.anon.d02.csv":    azure19Header() + azure19Row("o", "a", "f", "http", map[int]int{1: 1}),
				"function_durations_percentiles.anon.d01.csv": durHeader + "o,a,f,10,3,1,20,1,2,5,10,15,19,20\n",
				"app_memory_percentiles.anon.d01.csv":         "HashOwner,HashApp,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1\no,a,5,128,100\n",
			},
			opts:     LoadOptions{Arrivals: ArrivalsEven},
			format:   FormatAzure2019,
			want:     map[string]int64{"o/a/f": 4, "o/a/g": 1},
			arrivals: []int64{15e9, 45e9, 90e9, 150e9, 1440*60e9 + 30e9},
			memory:   map[string]float64{"o/a/f": 128, "o/a/g": 128},
		},
		{
			name: "azure2019 per-function memory, window",
			files: map[string]string{
				"inv.csv": azure19Header() + azure19Row("o", "a", "f", "http", map[int]int{1: 1, 2: 1, 3: 1}),
				"mem.csv": "HashOwner,HashApp,HashFunction,SampleCount,AverageAllocatedMb\no,a,f,5,64\n",
			},
			opts:     LoadOptions{Arrivals: ArrivalsEven, From: time.Minute, To: 2 * time.Minute},
			format:   FormatAzure2019,
			want:     map[string]int64{"o/a/f": 1},
			arrivals: []int64{30e9},
			memory:   map[string]float64{"o/a/f": 64},
		},
		{
			name: "azure2021 out of order ends",
			files: map[string]string{
				"trace.txt": "app,func,end_timestamp,duration\na,f,10,1\na,g,10.5,9\na,f,12,0.5\n",
			},
			format:   FormatAzure2021,
			want:     map[string]int64{"a/f": 2, "a/g": 1},
			arrivals: []int64{1.5e9, 9e9, 11.5e9},
		},
		{
			name: "huawei requests_minute",
			files: map[string]string{
				"day_00.csv": "day,time,0,1\n0,0,2,\n0,60,NaN,1.0\n",
			},
			opts:     LoadOptions{Arrivals: ArrivalsEven},
			format:   FormatHuawei,
			want:     map[string]int64{"0": 2, "1": 1},
			arrivals: []int64{15e9, 45e9, 90e9},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			tr, err := Load(ctx, dir, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Format != tc.format {
				t.Errorf("format %s, want %s", tr.Format, tc.format)
			}
			got := map[string]int64{}
			for _, f := range tr.Functions {
				got[f.ID()] = f.Invocations
				if m, ok := tc.memory[f.ID()]; ok && f.MemoryMiB != m {
					t.Errorf("%s: memory %v, want %v", f.ID(), f.MemoryMiB, m)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("invocations %v, want %v", got, tc.want)
			}
			invs := collect(t, tr)
			var arr []int64
			counted := map[string]int64{}
			for _, inv := range invs {
				arr = append(arr, inv.Arrival)
				counted[tr.Functions[inv.Func].ID()]++
			}
			if fmt.Sprint(counted) != fmt.Sprint(tc.want) {
				t.Errorf("streamed %v, want %v", counted, tc.want)
			}
			if tc.arrivals != nil && !slices.Equal(arr, tc.arrivals) {
				t.Errorf("arrivals %v, want %v", arr, tc.arrivals)
			}
		})
	}
}

func TestMalformedRows(t *testing.T) {
	bad := strings.Replace(azure19Row("o", "a", "f", "http", nil), ",0,0,", ",x,0,", 1)
	tests := []struct {
		name  string
		files map[string]string
		want  string // regexp of the error
	}{
		{"azure2019 count not a number", map[string]string{"d01.csv": azure19Header() + azure19Row("o", "a", "g", "http", nil) + bad},
			`d01.csv:3: column \d+: "x" is not an invocation count`},
		{"azure2019 short row", map[string]string{"d01.csv": azure19Header() + "o,a,f,http,1,2\n"},
			`d01.csv:2: 6 fields, the header has 1444`},
		{"azure2019 duplicate function", map[string]string{"d01.csv": azure19Header() + azure19Row("o", "a", "f", "http", nil) + azure19Row("o", "a", "f", "http", nil)},
			`d01.csv:3: function o/a/f already on line 2`},
		{"azure2019 negative duration", map[string]string{"d01.csv": azure19Header() + azure19Row("o", "a", "f", "http", map[int]int{1: 1}),
			"dur.csv": durHeader + "o,a,f,1,1,1,1,-1,1,1,1,1,1,1\n"}, `dur.csv:2: column percentile_Average_0: negative duration`},
		{"azure2021 bad timestamp", map[string]string{"t.txt": "app,func,end_timestamp,duration\na,f,1,1\na,f,oops,1\n"},
			`t.txt:3: column end_timestamp: "oops" is not a number`},
		{"azure2021 negative duration", map[string]string{"t.txt": "app,func,end_timestamp,duration\na,f,1,-1\n"},
			`t.txt:2: end_timestamp 1, duration -1`},
		{"huawei fractional count", map[string]string{"day_00.csv": "day,time,0\n0,0,1.5\n"},
			`day_00.csv:2: column 0: "1.5" is not an invocation count`},
		{"huawei bad header", map[string]string{"day_00.csv": "day,time,fnA\n0,0,1\n"},
			`day_00.csv:1: header has day and time but column "fnA"`},
		{"no known header", map[string]string{"x.csv": "a,b\n1,2\n"}, `no file with a known column header`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			_, err := Load(context.Background(), dir, LoadOptions{})
			if err == nil || !regexp.MustCompile(tc.want).MatchString(err.Error()) {
				t.Fatalf("error %v, want %s", err, tc.want)
			}
		})
	}
}

func TestArrivalsWithinMinute(t *testing.T) {
	files := map[string]string{"d01.csv": azure19Header() + azure19Row("o", "a", "f", "http", map[int]int{1: 50, 2: 7}) +
		azure19Row("o", "a", "g", "http", map[int]int{2: 30})}
	dir := writeFiles(t, files)
	for _, arr := range []Arrivals{ArrivalsUniform, ArrivalsPoisson, ArrivalsEven} {
		t.Run(string(arr), func(t *testing.T) {
			load := func(seed uint64) []Invocation {
				tr, err := Load(context.Background(), dir, LoadOptions{Arrivals: arr, Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				return collect(t, tr)
			}
			a, b, c := load(1), load(1), load(2)
			if !slices.Equal(a, b) {
				t.Error("same seed, different arrivals")
			}
			if arr != ArrivalsEven && slices.Equal(a, c) {
				t.Error("different seeds, same arrivals")
			}
			perMinute := map[[2]int64]int{}
			for i, inv := range a {
				if i > 0 && inv.Arrival < a[i-1].Arrival {
					t.Fatalf("arrival %d before the one before it", i)
				}
				perMinute[[2]int64{int64(inv.Func), inv.Arrival / Minute}]++
			}
			want := map[[2]int64]int{{0, 0}: 50, {0, 1}: 7, {1, 1}: 30}
			if fmt.Sprint(perMinute) != fmt.Sprint(want) {
				t.Errorf("per minute %v, want %v", perMinute, want)
			}
		})
	}
}

func TestSelection(t *testing.T) {
	files := map[string]string{"d01.csv": azure19Header() + azure19Row("o", "a", "f1", "http", map[int]int{1: 5}) +
		azure19Row("o", "a", "f2", "http", map[int]int{1: 9}) + azure19Row("o", "a", "f3", "http", map[int]int{1: 1, 5: 2}) +
		azure19Row("o", "a", "f4", "http", map[int]int{3: 4})}
	dir := writeFiles(t, files)
	ids := func(opts LoadOptions) []string {
		tr, err := Load(context.Background(), dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range tr.Functions {
			out = append(out, f.Name)
		}
		return out
	}
	if got := ids(LoadOptions{Top: 2}); !slices.Equal(got, []string{"f1", "f2"}) {
		t.Errorf("top 2: %v", got)
	}
	if got := ids(LoadOptions{Top: 2, From: 2 * time.Minute}); !slices.Equal(got, []string{"f3", "f4"}) {
		t.Errorf("top 2 from minute 2: %v", got)
	}
	r1, r2 := ids(LoadOptions{Random: 2, Seed: 7}), ids(LoadOptions{Random: 2, Seed: 7})
	if len(r1) != 2 || !slices.Equal(r1, r2) {
		t.Errorf("random 2 seeded: %v then %v", r1, r2)
	}
	tr, err := Load(context.Background(), dir, LoadOptions{SpeedUp: 60, Arrivals: ArrivalsEven, Top: 1})
	if err != nil {
		t.Fatal(err)
	}
	invs := collect(t, tr)
	if len(invs) != 9 || invs[0].Arrival != int64(time.Minute/18/60) || tr.Length != int64(24*time.Minute) {
		t.Errorf("speed-up 60: %d invocations, first at %d, length %d", len(invs), invs[0].Arrival, tr.Length)
	}
}

func TestSynthProperties(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, fns, err := Synthesize(ctx, dir, SynthOptions{Functions: 500, Days: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	classes := map[string]int{}
	for _, f := range fns {
		classes[f.Class]++
	}
	for _, c := range synthClasses {
		if want := int(c.share * 500); classes[c.class] < want-1 || classes[c.class] > want+1 {
			t.Errorf("class %s: %d functions, want %d", c.class, classes[c.class], want)
		}
	}
	tr, err := Load(ctx, dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var counts []int64
	var total int64
	for _, f := range tr.Functions {
		counts = append(counts, f.Invocations)
		total += f.Invocations
		if f.Duration == nil || f.MemoryMiB == 0 {
			t.Fatalf("%s: no duration or memory", f.ID())
		}
	}
	slices.Sort(counts)
	slices.Reverse(counts)
	var top int64
	for _, c := range counts[:len(counts)/5] {
		top += c
	}
	// Azure 2019: the most popular 18.6% of functions make 99.6% of the invocations.
	if share := float64(top) / float64(total); share < 0.9 {
		t.Errorf("the top 20%% of functions make %.3f of the invocations, want ≥ 0.9", share)
	}
	if tr.Length != 2*1440*Minute {
		t.Errorf("length %d, want two days", tr.Length)
	}
	// The same seed writes the same files.
	dir2 := t.TempDir()
	if _, _, err := Synthesize(ctx, dir2, SynthOptions{Functions: 500, Days: 2, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"invocations_per_function_md.anon.d02.csv", "function_durations_percentiles.anon.d01.csv"} {
		a, _ := os.ReadFile(filepath.Join(dir, name))
		b, _ := os.ReadFile(filepath.Join(dir2, name))
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("%s differs between two syntheses with one seed", name)
		}
	}
}
