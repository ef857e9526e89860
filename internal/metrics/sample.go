package metrics

import (
	"math"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// userHZ is USER_HZ, the unit of the times in /proc/<pid>/stat. It is 100 on
// every Linux architecture tend supports; procfs hard-codes it too.
const userHZ = 100

// minInterval is the shortest interval over which CPU is measured. Times in
// /proc move in 10 ms ticks, so a `tend jlist` right after a `tend ls` would
// otherwise see 0 % or 100 %; closer samples repeat the last figure.
const minInterval = 250 * time.Millisecond

var pageSize = os.Getpagesize()

// PageSize returns the size in bytes of a memory page, the unit of rss in
// /proc/<pid>/stat.
func PageSize() int { return pageSize }

// Usage is what one app's process tree uses. CPU time is utime+stime of the
// tree's processes plus the time of children they have reaped (see the
// package doc); a sample less than 250 ms after the previous one of the same
// root repeats that one's CPU figure, as 10 ms ticks make shorter intervals
// meaningless.
type Usage struct {
	Memory int64   // resident bytes (RSS) summed over the tree
	CPU    float64 // percent of one core over the interval since the previous sample of this root (one decimal); for a root seen the first time: its tree's CPU time divided by the root's age
	Pids   []int   // the tree, root first (used by tests and by kill diagnostics)
}

// Sampler measures process trees and remembers each root's CPU time between
// calls, so that CPU is a rate over the interval between two samples.
type Sampler struct {
	// children is false on kernels without /proc/<pid>/task/<tid>/children.
	children bool

	mu   sync.Mutex // held for a whole Sample: keeps baselines in order
	prev map[int]baseline
	walk walker
}

// baseline is the previous sample of one root.
type baseline struct {
	start uint64 // root's start time in ticks since boot: a changed value means the pid was reused
	ticks uint64 // CPU time of the tree
	at    time.Time
	cpu   float64 // the figure reported then
}

// NewSampler returns a Sampler reading /proc.
func NewSampler() *Sampler {
	self := strconv.Itoa(os.Getpid())
	_, err := os.Stat(procRoot + "/" + self + "/task/" + self + "/children")
	return &Sampler{children: err == nil, prev: map[int]baseline{}}
}

// Sample measures each root pid's tree. Roots that do not exist are absent
// from the result. Safe for concurrent use (calls run one at a time; each is
// a few reads per process). Forgets roots not asked for in this call (no
// unbounded growth), so one Sampler should serve one caller's set of roots.
func (s *Sampler) Sample(roots []int) map[int]Usage {
	s.mu.Lock()
	defer s.mu.Unlock()

	out := make(map[int]Usage, len(roots))
	next := make(map[int]baseline, len(roots))
	s.walk.index = nil
	if !s.children && len(roots) > 0 {
		s.walk.index = indexByParent()
	}
	now := time.Now()
	var uptime float64 // seconds since boot, read once if a new root needs it
	for _, root := range roots {
		if _, dup := out[root]; dup {
			continue
		}
		t, ok := s.walk.tree(root)
		if !ok {
			continue
		}
		b := baseline{start: t.start, ticks: t.ticks, at: now}
		prev, known := s.prev[root]
		known = known && prev.start == t.start
		switch {
		case known && now.Sub(prev.at) < minInterval:
			b = prev
		case known:
			var used uint64
			if t.ticks > prev.ticks { // less when a child exited unreaped
				used = t.ticks - prev.ticks
			}
			b.cpu = percent(used, now.Sub(prev.at).Seconds())
		default:
			if uptime == 0 {
				uptime = bootSeconds()
			}
			b.cpu = percent(t.ticks, uptime-float64(t.start)/userHZ)
		}
		next[root] = b
		out[root] = Usage{Memory: t.rss * int64(pageSize), CPU: b.cpu, Pids: t.pids}
	}
	s.prev = next
	return out
}

// percent turns CPU ticks used over seconds of wall time into percent of one
// core with one decimal.
func percent(ticks uint64, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return math.Round(float64(ticks)/userHZ/seconds*100*10) / 10
}

// bootSeconds is the time since boot on the clock /proc start times use
// (CLOCK_BOOTTIME, which counts suspend).
func bootSeconds() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)/1e9
}
