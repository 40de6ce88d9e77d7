//go:build !linux

package harness

import "runtime"

// MachineResources reads this machine's resources for a run writing into dir. Outside Linux
// neither the free disk nor the available memory is read (statfs(2) and /proc/meminfo
// differ or are missing): both are unknown (-1), so a run is not refused for them; the
// number of CPUs is known.
func MachineResources(dir string) Resources {
	return Resources{DiskFree: -1, MemoryAvailable: -1, Cores: runtime.NumCPU(), DiskPath: nearestDir(dir)}
}
