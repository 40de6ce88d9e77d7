//go:build !linux

package enclave

import (
	"errors"
	"fmt"
)

func newCOWRewinder(bool) Rewinder { return cowUnavailable{} }

type cowUnavailable struct{}

var errNoCOW = errors.New("strategy cow needs Linux (memfd_create and madvise)")

func (cowUnavailable) Tracking() bool             { return false }
func (cowUnavailable) Snapshot([]byte, int) error { return errNoCOW }
func (cowUnavailable) Close() error               { return nil }
func (cowUnavailable) Restore([]byte, int, []uint32) (Restored, error) {
	return Restored{}, fmt.Errorf("restore: %w", errNoCOW)
}
