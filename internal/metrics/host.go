package metrics

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
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
	total, _ := meminfo(b)
	if total == 0 {
		return Host{}, fmt.Errorf("host info: /proc/meminfo has no MemTotal")
	}
	return Host{CPUs: runtime.NumCPU(), MemTotal: total}, nil
}

// HostUsage is what the machine as a whole is doing: the line PM2 7 prints
// under its process table ("host metrics"), and tend's host gauges.
type HostUsage struct {
	At   time.Time
	CPUs int
	// Rates is false for the first reading of a HostSampler: CPU and the
	// disk rates are measured between two readings.
	Rates bool
	// CPU is busy time in percent of all CPUs (0-100, one decimal) since the
	// previous reading: 100 minus idle and iowait.
	CPU float64
	// MemTotal and MemAvailable are /proc/meminfo's (bytes); the memory in
	// use is their difference, as PM2 counts it.
	MemTotal, MemAvailable int64
	Load                   [3]float64 // 1, 5 and 15 minute load averages
	// DiskRead and DiskWrite are bytes per second read from and written to
	// the block devices (not partitions, loop, RAM or device-mapper
	// devices, as PM2 counts them) since the previous reading.
	DiskRead, DiskWrite float64
}

// MemUsedPercent is the memory in use in percent of the total (one decimal).
func (h HostUsage) MemUsedPercent() float64 {
	if h.MemTotal <= 0 {
		return 0
	}
	return math.Round(float64(h.MemTotal-h.MemAvailable)/float64(h.MemTotal)*1000) / 10
}

// HostSampler reads the machine's counters and keeps the last reading, so
// CPU and disk figures are rates between two readings.
type HostSampler struct {
	mu   sync.Mutex
	buf  []byte
	prev hostCounters
	last HostUsage
}

// hostCounters are the cumulative counters a rate is computed from.
type hostCounters struct {
	at          time.Time
	busy, total uint64 // CPU ticks
	read, write uint64 // disk sectors
}

// NewHostSampler returns a HostSampler with no reading yet.
func NewHostSampler() *HostSampler { return &HostSampler{} }

// Sample reads the machine's counters now, unless the last reading is
// younger than maxAge. A counter that cannot be read leaves its figures at
// zero: a container without /sys/block has no disk rates, not an error.
func (h *HostSampler) Sample(maxAge time.Duration) HostUsage {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if maxAge > 0 && !h.last.At.IsZero() && now.Sub(h.last.At) < maxAge {
		return h.last
	}
	u := HostUsage{At: now, CPUs: runtime.NumCPU()}
	c := hostCounters{at: now}
	var err error
	if h.buf, err = readFile(procRoot+"/stat", h.buf); err == nil {
		c.busy, c.total = cpuTicks(h.buf)
	}
	if h.buf, err = readFile(procRoot+"/meminfo", h.buf); err == nil {
		u.MemTotal, u.MemAvailable = meminfo(h.buf)
	}
	if h.buf, err = readFile(procRoot+"/loadavg", h.buf); err == nil {
		u.Load = loadavg(h.buf)
	}
	c.read, c.write = h.diskSectors()
	if p := h.prev; !p.at.IsZero() {
		u.Rates = true
		if dt := c.total - p.total; c.total > p.total && c.busy >= p.busy {
			u.CPU = math.Round(float64(c.busy-p.busy)/float64(dt)*1000) / 10
		}
		if secs := now.Sub(p.at).Seconds(); secs > 0 {
			if c.read >= p.read {
				u.DiskRead = float64(c.read-p.read) * 512 / secs
			}
			if c.write >= p.write {
				u.DiskWrite = float64(c.write-p.write) * 512 / secs
			}
		}
	}
	h.prev, h.last = c, u
	return u
}

// cpuTicks reads the first ("cpu ") line of /proc/stat: busy and total
// ticks over all CPUs. Idle and iowait are not busy; guest time is already
// in user and nice.
func cpuTicks(b []byte) (busy, total uint64) {
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return 0, 0
	}
	var idle uint64
	for i, v := range f[1:] {
		if i >= 8 { // guest and guest_nice are counted in user and nice
			break
		}
		n := uint64(max(atoi(v), 0))
		total += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	return total - idle, total
}

// meminfo reads MemTotal and MemAvailable (bytes) from /proc/meminfo.
// Kernels before 3.14 lack MemAvailable: free memory stands in.
func meminfo(b []byte) (total, available int64) {
	var free int64 = -1
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		name, rest, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		kb := atoi(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("kB"))))
		switch string(name) {
		case "MemTotal":
			total = kb << 10
		case "MemAvailable":
			available = kb << 10
			free = -2
		case "MemFree":
			if free == -1 {
				free = kb << 10
			}
		}
	}
	if free >= 0 {
		available = free
	}
	return total, available
}

// loadavg reads the three load averages of /proc/loadavg.
func loadavg(b []byte) (l [3]float64) {
	f := bytes.Fields(b)
	for i := 0; i < 3 && i < len(f); i++ {
		l[i], _ = strconv.ParseFloat(string(f[i]), 64)
	}
	return l
}

// diskSectors sums the sectors read and written by the machine's disks.
func (h *HostSampler) diskSectors() (read, write uint64) {
	d, err := os.Open("/sys/block")
	if err != nil {
		return 0, 0
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	for _, name := range names {
		if skipDisk(name) {
			continue
		}
		var err error
		if h.buf, err = readFile("/sys/block/"+name+"/stat", h.buf); err != nil {
			continue
		}
		f := bytes.Fields(h.buf)
		if len(f) < 7 {
			continue
		}
		read += uint64(max(atoi(f[2]), 0))
		write += uint64(max(atoi(f[6]), 0))
	}
	return read, write
}

// skipDisk leaves out devices whose I/O is counted again on a real disk or
// is not I/O at all, as PM2 does.
func skipDisk(name string) bool {
	for _, p := range []string{"loop", "ram", "dm-", "fd", "zram"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
