package harness

import (
	"os"
	"runtime"
	"syscall"
)

// MachineResources reads this machine's resources for a run writing into dir: the space
// free to this user on the file system of dir (or of its nearest existing parent) from
// statfs(2), the memory available from MemAvailable in /proc/meminfo, and the number of
// CPUs. What cannot be read is unknown (-1) and not checked.
func MachineResources(dir string) Resources {
	r := Resources{DiskFree: -1, MemoryAvailable: -1, Cores: runtime.NumCPU(), DiskPath: nearestDir(dir)}
	var st syscall.Statfs_t
	if err := syscall.Statfs(r.DiskPath, &st); err == nil {
		r.DiskFree = int64(min(st.Bavail, uint64(1<<62)/max(uint64(st.Bsize), 1))) * int64(st.Bsize)
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		r.MemoryAvailable = memAvailable(b)
	}
	return r
}
