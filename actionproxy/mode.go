package actionproxy

import (
	"fmt"

	"github.com/reclave/reclave/enclave"
)

// Modes are the modes a server (and the harness) serves invocations in, in the harness's
// order: cold, warm, reinstantiate, rewind.
var Modes = []string{"cold", "warm", "reinstantiate", "rewind"}

// ResetFor returns how an enclave serving invocations of mode resets after each: cold uses a
// one-shot enclave (created for one invocation and destroyed), warm none, reinstantiate a new
// instance, rewind the snapshot. A cold start is that of a reusable-enclave platform: the
// one-shot enclave is created as a rewinding one, so its creation takes the snapshot (phase
// snapshot) that later requests would be rewound to, then serves its one invocation.
//
// It lives here, not in the harness, so that what runs inside an enclave (cmd/reclave-enclave)
// needs none of the harness; harness.ResetFor calls it.
func ResetFor(mode string) (reset enclave.Reset, oneShot bool, err error) {
	switch mode {
	case "cold":
		return enclave.ResetRewind, true, nil
	case "warm":
		return enclave.ResetNone, false, nil
	case "reinstantiate":
		return enclave.ResetReinstantiate, false, nil
	case "rewind":
		return enclave.ResetRewind, false, nil
	}
	return "", false, fmt.Errorf("mode %q: want one of %v", mode, Modes)
}
