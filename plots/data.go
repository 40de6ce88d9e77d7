package plots

import "github.com/reclave/reclave/results"

// This file holds how the figures choose, among the results of a run, the ones they compare.
// A run may measure one workload and mode under several parameters (load models, concurrency
// levels, compartments on and off, ...); a figure that compares modes takes one result per
// workload and mode, the same in every figure: the reference result.

// closedLoad reports whether load is the closed loop model. Runs made before the load
// models were recorded (load "") ran closed loops.
func closedLoad(load string) bool { return load == "" || load == "closed" }

// concurrencyOf returns the concurrency of k; runs made before concurrency was recorded
// (0) ran one invocation at a time.
func concurrencyOf(k results.Key) int { return max(k.Concurrency, 1) }

// preferred reports whether a is a better reference configuration than b: a closed loop
// rather than an open or burst load, then the lower concurrency. Between two equally good
// configurations the first one of the summary is kept.
func preferred(a, b results.Key) bool {
	if ca, cb := closedLoad(a.Load), closedLoad(b.Load); ca != cb {
		return ca
	}
	return concurrencyOf(a) < concurrencyOf(b)
}

// reference returns the reference result of workload w in mode m among the results of s
// that keep accepts (all of them when keep is nil): the closed loop at the lowest
// concurrency, the first of those in the summary. It returns nil when there is none.
func reference(s *results.Summary, w, m string, keep func(*results.Result) bool) *results.Result {
	var best *results.Result
	for i := range s.Results {
		r := &s.Results[i]
		if r.Workload != w || r.Mode != m || (keep != nil && !keep(r)) {
			continue
		}
		if best == nil || preferred(r.Key, best.Key) {
			best = r
		}
	}
	return best
}
