package enclave

import "time"

// StateHash hashes the enclave's current linear memory and mutable globals the way
// CleanStateHash hashes the snapshot's: right after a rewind to a function-point snapshot
// the two are equal. For tests.
func (e *Enclave) StateHash() [32]byte {
	var globals []uint64
	for _, g := range e.inst.globals {
		globals = append(globals, g.Get())
	}
	return e.stateHash(e.heap.bytes(), globals)
}

// TimeDiffScan writes one byte in every 64th page of linear memory and times the scan of
// strategy diff that restores them, with the map of the snapshot's zero pages or, when
// zeroMap is false, as if no page were known to be zero. It also returns the fraction of the
// snapshot's pages that are zero. The enclave must be of strategy diff and have rewound once.
// For BenchmarkDiffZeroPages.
func (e *Enclave) TimeDiffScan(zeroMap bool) (time.Duration, float64, error) {
	r := e.rew.(*diffRewinder)
	known, err := r.zeroPages()
	if err != nil {
		return 0, 0, err
	}
	zeros := 0
	for _, z := range known {
		zeros += int(z)
	}
	if !zeroMap {
		r.zero = make([]byte, len(known))
		defer func() { r.zero = known }()
	}
	heap := e.heap.bytes()
	for p := 0; p < len(heap); p += 64 * snapshotPage {
		heap[p]++
	}
	start := time.Now()
	_, err = r.restoreDiff(heap, len(heap))
	return time.Since(start), float64(zeros) / float64(len(known)), err
}
