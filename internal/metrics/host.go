package metrics

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Host describes the machine, for percentages and `tend info`-style output.
type Host struct {
	CPUs     int   // CPUs this process may run on (affinity mask), as runtime.NumCPU
	MemTotal int64 // bytes of RAM, MemTotal in /proc/meminfo
}

// HostInfo reads the CPU count and total memory.
func HostInfo() (Host, error) {
	b, err := os.ReadFile(procRoot + "/meminfo")
	if err != nil {
		return Host{}, fmt.Errorf("host info: %w; is /proc mounted?", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		// "MemTotal:       24594356 kB"
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				break
			}
			return Host{CPUs: runtime.NumCPU(), MemTotal: kb << 10}, nil
		}
	}
	return Host{}, fmt.Errorf("host info: /proc/meminfo has no MemTotal")
}
