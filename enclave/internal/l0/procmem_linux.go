package l0

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"unsafe"
)

// openProcMem opens /proc/self/mem and checks that it reaches page although the page is
// PROT_NONE (the kernel may forbid it: proc_mem.force_override=never).
func openProcMem(page []byte) (*os.File, error) {
	f, err := os.OpenFile("/proc/self/mem", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("procmem: %w", err)
	}
	probe := []byte("reclave l0 probe")
	got := make([]byte, len(probe))
	err = procMemWrite(f, page, probe)
	if err == nil {
		err = procMemRead(f, page, got)
	}
	if err == nil && !bytes.Equal(got, probe) {
		err = errors.New("read back other bytes than written")
	}
	if err == nil {
		err = procMemWrite(f, page, make([]byte, len(probe)))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("procmem: a protected page is out of reach: %w", err)
	}
	return f, nil
}

func procMemRead(f *os.File, page, dst []byte) error {
	if _, err := f.ReadAt(dst, int64(uintptr(unsafe.Pointer(&page[0])))); err != nil {
		return fmt.Errorf("procmem read: %w", err)
	}
	return nil
}

func procMemWrite(f *os.File, page, src []byte) error {
	if _, err := f.WriteAt(src, int64(uintptr(unsafe.Pointer(&page[0])))); err != nil {
		return fmt.Errorf("procmem write: %w", err)
	}
	return nil
}
