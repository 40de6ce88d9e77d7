package l0

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// FreezeFile copies data into a new memfd and, when protect is true, seals it against any
// change (F_SEAL_WRITE, F_SEAL_SHRINK, F_SEAL_GROW, then F_SEAL_SEAL): a write() to it fails
// with EPERM and it can no longer be mapped shared and writable. Private (copy-on-write)
// mappings still work: their writes never reach the file. The caller owns the descriptor.
func FreezeFile(name string, data []byte, protect bool) (fd int, err error) {
	flags := unix.MFD_CLOEXEC
	if protect {
		flags |= unix.MFD_ALLOW_SEALING
	}
	fd, err = unix.MemfdCreate(name, flags)
	if err != nil {
		return -1, fmt.Errorf("l0 freeze file: memfd_create: %w", err)
	}
	defer func() {
		if err != nil {
			unix.Close(fd)
		}
	}()
	for off := 0; off < len(data); {
		n, err := unix.Pwrite(fd, data[off:], int64(off))
		if err != nil {
			return -1, fmt.Errorf("l0 freeze file: write: %w", err)
		}
		off += n
	}
	if protect {
		seals := unix.F_SEAL_WRITE | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_SEAL
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
			return -1, fmt.Errorf("l0 freeze file: seal: %w", err)
		}
	}
	return fd, nil
}

// FileSealed reports whether fd carries FreezeFile's write seal.
func FileSealed(fd int) bool {
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	return err == nil && seals&unix.F_SEAL_WRITE != 0
}
