//go:build !linux

package harness

import "os"

// IsTerminal reports whether f is a terminal. Outside Linux it always reports false, so the
// progress bar is off and the per-configuration log lines remain.
func IsTerminal(f *os.File) bool { return false }
