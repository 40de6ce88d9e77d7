package enclave

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
