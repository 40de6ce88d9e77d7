//go:build !unix

package l0

// Without mprotect, L0's memory is ordinary memory: Supported is false, and vaults and frozen
// copies are never protected (Protected reports false), whatever the caller asked.

const (
	protNone = iota
	protRead
	protRW
)

// Supported reports whether this build enforces L0's protection: false without mprotect.
func Supported() bool { return false }

func pageSize() int { return 4096 }

func mapPages(n int) ([]byte, error) { return make([]byte, n), nil }

func unmapPages([]byte) error { return nil }

func setProt([]byte, int) error { return nil }
