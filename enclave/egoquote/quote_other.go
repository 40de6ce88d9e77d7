//go:build !ego

package egoquote

import (
	"errors"

	"github.com/reclave/reclave/enclave/attest"
)

// ErrNotBuilt is NewQuoter's error in a build without the ego tag.
var ErrNotBuilt = errors.New("egoquote: this reclave was built without -tags ego (build it with ego-go build -tags ego and run it under ego run)")

// NewQuoter returns the EGo quoter; without the ego tag there is none, and it returns
// ErrNotBuilt.
func NewQuoter() (attest.Quoter, error) { return nil, ErrNotBuilt }
