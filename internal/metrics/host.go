package metrics

import (
	"fmt"
	"runtime"

	"github.com/prometheus/procfs"
)

// Host describes the machine, for percentages and `tend info`-style output.
type Host struct {
	CPUs     int   // CPUs this process may run on (affinity mask), as runtime.NumCPU
	MemTotal int64 // bytes of RAM, MemTotal in /proc/meminfo
}

// HostInfo reads the CPU count and total memory.
func HostInfo() (Host, error) {
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return Host{}, fmt.Errorf("host info: %w; is /proc mounted?", err)
	}
	mi, err := fs.Meminfo()
	if err != nil {
		return Host{}, fmt.Errorf("host info: read /proc/meminfo: %w", err)
	}
	if mi.MemTotalBytes == nil {
		return Host{}, fmt.Errorf("host info: /proc/meminfo has no MemTotal")
	}
	return Host{CPUs: runtime.NumCPU(), MemTotal: int64(*mi.MemTotalBytes)}, nil
}
