//go:build !linux

package l0

import (
	"errors"
	"os"
)

// Without /proc/self/mem, vaults use MechanismMprotect.

func openProcMem([]byte) (*os.File, error) {
	return nil, errors.New("procmem: /proc/self/mem is Linux only")
}

func procMemRead(*os.File, []byte, []byte) error  { return errors.New("procmem: unavailable") }
func procMemWrite(*os.File, []byte, []byte) error { return errors.New("procmem: unavailable") }
