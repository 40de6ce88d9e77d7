package wasi

// SetMaxOutputBytes changes the cap of [Config.MaxOutputBytes] (0 means 1 MiB) for the
// invocations that follow: a runtime that serves one function after another (a generic
// enclave) applies each function's own cap. Negative values are ignored.
func (h *Host) SetMaxOutputBytes(n int) {
	if n >= 0 {
		h.maxOut = cmpOr(n, defaultMaxOutputBytes)
	}
}
