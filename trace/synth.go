package trace

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/reclave/reclave/internal/tracespec"
)

// Synthetic traces in the Azure Functions 2019 format, for tests, CI and ./run.sh (the real
// datasets are not shipped). See the package doc, "Synthetic traces", for their properties.

// Function classes of a synthetic trace.
const (
	ClassPeriodic    = "periodic"     // timer-triggered, every P minutes
	ClassDiurnal     = "diurnal"      // steady Poisson traffic with a daily cycle
	ClassBursty      = "bursty"       // on/off: silent for hours, then a burst of minutes
	ClassRare        = "rare"         // a few invocations a day at random minutes
	ClassHeavyTailed = "heavy-tailed" // Pareto inter-arrival times, long-tailed durations
)

// synthClasses is the mix of classes, as shares of the functions.
var synthClasses = []struct {
	class string
	share float64
}{
	{ClassPeriodic, 0.25}, {ClassDiurnal, 0.15}, {ClassBursty, 0.15}, {ClassRare, 0.30}, {ClassHeavyTailed, 0.15},
}

// SynthOptions configure [Synthesize] (the options of `reclave trace synth` and of a trace experiment's synth key): the number of
// functions (0 means 1000), of days (0 means 1), and the seed (the same seed gives the same
// files).
type SynthOptions = tracespec.Synth

// SynthFunction is one function of a synthetic trace and how it was generated.
type SynthFunction struct {
	Owner, App, Name, Trigger, Class string
	// RatePerMin is the mean rate of a diurnal or bursty function (during a burst), per
	// minute; PeriodMin the period of a periodic one.
	RatePerMin float64
	PeriodMin  int
	// DurationMs are the duration percentiles 0, 1, 25, 50, 75, 99, 100 in ms, AverageMs
	// their mean; MemoryMB the app's allocated memory.
	DurationMs [7]float64
	AverageMs  float64
	MemoryMB   float64

	// generator state carried from day to day
	phase     float64 // diurnal phase, minutes
	on        bool    // bursty: in a burst
	switchAt  float64 // bursty: minute of the next switch; heavy-tailed: next arrival
	paretoXm  float64 // heavy-tailed: scale of the gaps, minutes
	paretoAlp float64
}

// Synthesizer generates a synthetic trace day by day.
type Synthesizer struct {
	Functions []SynthFunction
	rng       *rand.Rand
	day       int
}

// NewSynthesizer draws the functions of a synthetic trace.
func NewSynthesizer(opts SynthOptions) *Synthesizer {
	if opts.Functions <= 0 {
		opts.Functions = 1000
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5717e))
	s := &Synthesizer{rng: rng}
	hexID := func() string {
		var b [32]byte
		for i := 0; i < 32; i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8; j++ {
				b[i+j] = byte(v >> (8 * j))
			}
		}
		return hex.EncodeToString(b[:])
	}
	owner, app, appLeft, appMem := "", "", 0, 0.0
	for i := 0; i < opts.Functions; i++ {
		if appLeft == 0 {
			// Apps hold 1 function in about half the cases, rarely more than 10 (geometric).
			appLeft = 1
			for rng.Float64() < 0.45 && appLeft < 50 {
				appLeft++
			}
			if owner == "" || rng.Float64() < 0.7 {
				owner = hexID()
			}
			app = hexID()
			// Allocated memory per app: log-normal, median 150 MB, within [32, 2048] MB.
			appMem = math.Round(clamp(150*math.Exp(0.6*rng.NormFloat64()), 32, 2048))
		}
		appLeft--
		f := SynthFunction{Owner: owner, App: app, Name: hexID(), MemoryMB: appMem}
		f.Class = synthClasses[len(synthClasses)-1].class
		u, acc := float64(i)/float64(opts.Functions), 0.0 // classes in fixed shares, shuffled below
		for _, c := range synthClasses {
			if acc += c.share; u < acc {
				f.Class = c.class
				break
			}
		}
		s.Functions = append(s.Functions, f)
	}
	rng.Shuffle(len(s.Functions), func(i, j int) {
		s.Functions[i].Class, s.Functions[j].Class = s.Functions[j].Class, s.Functions[i].Class
	})
	for i := range s.Functions {
		s.initFunction(&s.Functions[i])
	}
	return s
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

// initFunction draws a function's rate, trigger and durations for its class.
func (s *Synthesizer) initFunction(f *SynthFunction) {
	rng := s.rng
	triggers := []string{"http", "http", "http", "queue", "event", "storage", "orchestration"}
	f.Trigger = triggers[rng.IntN(len(triggers))]
	// Popularity: log-normal rates spanning orders of magnitude, as Azure's.
	popular := math.Exp(math.Log(2) + 2*rng.NormFloat64())
	spread := 2.0 // p99 / median of the duration
	switch f.Class {
	case ClassPeriodic:
		f.Trigger = "timer"
		periods := []int{1, 5, 5, 10, 15, 30, 60, 60, 120, 240, 1440}
		f.PeriodMin = periods[rng.IntN(len(periods))]
		f.phase = float64(rng.IntN(f.PeriodMin))
	case ClassDiurnal:
		f.RatePerMin = clamp(popular, 0.05, 2000)
		f.phase = rng.Float64() * 1440
	case ClassBursty:
		f.RatePerMin = clamp(5*popular, 1, 5000)
		f.switchAt = rng.ExpFloat64() * 120
	case ClassRare:
		f.RatePerMin = (1 + 4*rng.Float64()) / 1440 // 1 to 5 a day
	case ClassHeavyTailed:
		f.paretoAlp = 1.2 + 0.6*rng.Float64()
		f.paretoXm = 0.1 + 2*rng.Float64()
		f.switchAt = f.paretoXm * rng.Float64()
		spread = 30
	}
	// Durations: log-normal medians around 300 ms; every percentile within Azure's 10-minute
	// limit of a function's execution.
	med := clamp(300*math.Exp(1.5*rng.NormFloat64()), 1, 60_000)
	f.DurationMs = [7]float64{med * 0.1, med * 0.3, med * 0.7, med, med * 1.5, med * 1.5 * spread, med * 3 * spread}
	for i := range f.DurationMs {
		f.DurationMs[i] = math.Min(f.DurationMs[i], 600_000)
	}
	// The mean of the piecewise linear distribution through the percentiles.
	ps := []float64{0, 0.01, 0.25, 0.5, 0.75, 0.99, 1}
	for i := 1; i < len(ps); i++ {
		f.AverageMs += (ps[i] - ps[i-1]) * (f.DurationMs[i] + f.DurationMs[i-1]) / 2
	}
	for i := range f.DurationMs {
		f.DurationMs[i] = math.Round(f.DurationMs[i])
	}
	f.AverageMs = math.Round(f.AverageMs)
}

// poisson draws a Poisson count of mean mu.
func poisson(rng *rand.Rand, mu float64) uint32 {
	if mu <= 0 {
		return 0
	}
	if mu > 50 { // normal approximation
		return uint32(math.Max(0, math.Round(mu+math.Sqrt(mu)*rng.NormFloat64())))
	}
	l, k, p := math.Exp(-mu), uint32(0), 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// NextDay fills counts[i][m] with the invocations of function i in minute m of the next day.
func (s *Synthesizer) NextDay(counts [][]uint32) {
	rng := s.rng
	day := float64(s.day * 1440)
	for i := range s.Functions {
		f := &s.Functions[i]
		c := counts[i]
		clear(c)
		switch f.Class {
		case ClassPeriodic:
			for m := 0; m < 1440; m++ {
				if (s.day*1440+m)%f.PeriodMin == int(f.phase) {
					c[m] = 1
				}
			}
		case ClassDiurnal:
			for m := 0; m < 1440; m++ {
				cyc := 1 + 0.6*math.Sin(2*math.Pi*(float64(m)-f.phase)/1440)
				c[m] = poisson(rng, f.RatePerMin*cyc)
			}
		case ClassBursty:
			for m := 0; m < 1440; m++ {
				now := day + float64(m)
				for now >= f.switchAt {
					f.on = !f.on
					if f.on {
						f.switchAt += 1 + rng.ExpFloat64()*10 // bursts of about 10 minutes
					} else {
						f.switchAt += rng.ExpFloat64() * 180 // silences of about 3 hours
					}
				}
				if f.on {
					c[m] = poisson(rng, f.RatePerMin)
				}
			}
		case ClassRare:
			for k := poisson(rng, f.RatePerMin*1440); k > 0; k-- {
				c[rng.IntN(1440)]++
			}
		case ClassHeavyTailed:
			for f.switchAt < day+1440 {
				if m := int(f.switchAt - day); m >= 0 {
					c[m]++
				}
				// Pareto gaps: mostly short, now and then hours.
				f.switchAt += f.paretoXm / math.Pow(1-rng.Float64(), 1/f.paretoAlp)
			}
		}
	}
	s.day++
}

// Synthesize writes a synthetic trace of opts in the Azure Functions 2019 format into dir:
// per day d (01, 02, ...) invocations_per_function_md.anon.dNN.csv,
// function_durations_percentiles.anon.dNN.csv and app_memory_percentiles.anon.dNN.csv. It
// returns the files written and the functions.
func Synthesize(ctx context.Context, dir string, opts SynthOptions) ([]string, []SynthFunction, error) {
	if opts.Days <= 0 {
		opts.Days = 1
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("synthesize: %w", err)
	}
	s := NewSynthesizer(opts)
	counts := make([][]uint32, len(s.Functions))
	for i := range counts {
		counts[i] = make([]uint32, 1440)
	}
	var files []string
	for d := 1; d <= opts.Days; d++ {
		if err := ctx.Err(); err != nil {
			return files, nil, err
		}
		s.NextDay(counts)
		totals := make([]uint64, len(counts))
		for i := range counts {
			for _, n := range counts[i] {
				totals[i] += uint64(n)
			}
		}
		inv := filepath.Join(dir, fmt.Sprintf("invocations_per_function_md.anon.d%02d.csv", d))
		err := writeFile(inv, func(w *bufio.Writer) {
			w.WriteString("HashOwner,HashApp,HashFunction,Trigger")
			for m := 1; m <= 1440; m++ {
				w.WriteByte(',')
				w.WriteString(strconv.Itoa(m))
			}
			w.WriteByte('\n')
			for i, f := range s.Functions {
				if totals[i] == 0 {
					continue // as in Azure's files, a function appears on the days it ran
				}
				fmt.Fprintf(w, "%s,%s,%s,%s", f.Owner, f.App, f.Name, f.Trigger)
				for _, n := range counts[i] {
					w.WriteByte(',')
					w.WriteString(strconv.FormatUint(uint64(n), 10))
				}
				w.WriteByte('\n')
			}
		})
		if err != nil {
			return files, nil, err
		}
		files = append(files, inv)
		dur := filepath.Join(dir, fmt.Sprintf("function_durations_percentiles.anon.d%02d.csv", d))
		err = writeFile(dur, func(w *bufio.Writer) {
			w.WriteString("HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0," +
				"percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75," +
				"percentile_Average_99,percentile_Average_100\n")
			for i, f := range s.Functions {
				total := totals[i]
				if total == 0 {
					continue
				}
				p := f.DurationMs
				fmt.Fprintf(w, "%s,%s,%s,%g,%d,%g,%g,%g,%g,%g,%g,%g,%g,%g\n", f.Owner, f.App, f.Name,
					f.AverageMs, total, p[0], p[6], p[0], p[1], p[2], p[3], p[4], p[5], p[6])
			}
		})
		if err != nil {
			return files, nil, err
		}
		files = append(files, dur)
		mem := filepath.Join(dir, fmt.Sprintf("app_memory_percentiles.anon.d%02d.csv", d))
		err = writeFile(mem, func(w *bufio.Writer) {
			w.WriteString("HashOwner,HashApp,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1," +
				"AverageAllocatedMb_pct5,AverageAllocatedMb_pct25,AverageAllocatedMb_pct50," +
				"AverageAllocatedMb_pct75,AverageAllocatedMb_pct95,AverageAllocatedMb_pct99,AverageAllocatedMb_pct100\n")
			seen := map[string]bool{}
			for _, f := range s.Functions {
				if seen[f.App] {
					continue
				}
				seen[f.App] = true
				m := f.MemoryMB
				fmt.Fprintf(w, "%s,%s,%d,%g,%g,%g,%g,%g,%g,%g,%g,%g\n", f.Owner, f.App, 1440, m,
					m*0.8, m*0.85, m*0.95, m, m*1.05, m*1.15, m*1.2, m*1.3)
			}
		})
		if err != nil {
			return files, nil, err
		}
		files = append(files, mem)
	}
	return files, s.Functions, nil
}

// writeFile writes path through a buffered writer, then closes it.
func writeFile(path string, fill func(w *bufio.Writer)) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("synthesize: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	fill(w)
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("synthesize %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("synthesize %s: %w", path, err)
	}
	return nil
}
