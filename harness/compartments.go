package harness

import "github.com/reclave/reclave/enclave"

// setCompartments turns the enclave's compartments (L0's protection and the import
// allow-list) on or off; per-function caps and deadlines stay on either way.
func setCompartments(c *enclave.Config, on bool) {
	c.Compartments = enclave.CompartmentsOff
	if on {
		c.Compartments = enclave.CompartmentsOn
	}
}
