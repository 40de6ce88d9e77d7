//go:build unix

package l0

import (
	"fmt"

	"golang.org/x/sys/unix"
)

const (
	protNone = unix.PROT_NONE
	protRead = unix.PROT_READ
	protRW   = unix.PROT_READ | unix.PROT_WRITE
)

// Supported reports whether this build enforces L0's protection (mprotect): true on unix.
func Supported() bool { return true }

func pageSize() int { return unix.Getpagesize() }

// mapPages maps n bytes (a multiple of the page size) of zeroed, readable and writable
// private memory outside the Go heap.
func mapPages(n int) ([]byte, error) {
	m, err := unix.Mmap(-1, 0, n, protRW, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("mmap %d bytes: %w", n, err)
	}
	return m, nil
}

func unmapPages(b []byte) error {
	if err := unix.Munmap(b); err != nil {
		return fmt.Errorf("munmap: %w", err)
	}
	return nil
}

func setProt(b []byte, prot int) error {
	if err := unix.Mprotect(b, prot); err != nil {
		return fmt.Errorf("mprotect: %w", err)
	}
	return nil
}
