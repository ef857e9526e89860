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
// package doc); a measurement less than 250 ms after the previous one of the
// same root repeats that one's CPU figure, as 10 ms ticks make shorter
// intervals meaningless.
type Usage struct {
	Memory int64     // resident bytes (RSS) summed over the tree
	CPU    float64   // percent of one core over the interval since the previous measurement of this root (one decimal); for a root seen the first time: its tree's CPU time divided by the root's age
	Pids   []int     // the tree, root first (used by tests and by kill diagnostics); shared, do not change
	At     time.Time // when the tree was measured
}

// Sampler measures process trees and keeps each root's last reading, so
// that CPU is a rate over the interval between two measurements and callers
// that need no fresher figure than one already taken (a listing right after
// the daemon's periodic sample) read no /proc at all. One Sampler serves
// every caller: they share the readings and the CPU baselines.
type Sampler struct {
	// children is false on kernels without /proc/<pid>/task/<tid>/children.
	children bool

	mu   sync.Mutex // held for a whole Sample: keeps baselines in order
	prev map[int]reading
	walk walker
}

// reading is the last measurement of one root.
type reading struct {
	start uint64 // root's start time in ticks since boot: a changed value means the pid was reused
	// The CPU baseline: the tree's CPU time at a moment, and the figure
	// reported then. It moves only once minInterval has passed.
	ticks uint64
	at    time.Time
	cpu   float64
	usage Usage // the last measurement, reused by callers that allow its age
}

// NewSampler returns a Sampler reading /proc.
func NewSampler() *Sampler {
	self := strconv.Itoa(os.Getpid())
	_, err := os.Stat(procRoot + "/" + self + "/task/" + self + "/children")
	return &Sampler{children: err == nil, prev: map[int]reading{}}
}

// Sample returns the usage of each root pid's tree: the last reading of a
// root when it is younger than maxAge, else a new measurement. Roots that
// do not exist are absent from the result. Safe for concurrent use (calls
// run one at a time; each is a few reads per process measured). Readings
// are kept until Retain drops them.
func (s *Sampler) Sample(roots []int, maxAge time.Duration) map[int]Usage {
	s.mu.Lock()
	defer s.mu.Unlock()

	out := make(map[int]Usage, len(roots))
	now := time.Now()
	s.walk.index = nil
	var uptime float64 // seconds since boot, read once if a new root needs it
	for _, root := range roots {
		if _, dup := out[root]; dup {
			continue
		}
		prev, known := s.prev[root]
		if known && maxAge > 0 && now.Sub(prev.usage.At) < maxAge {
			out[root] = prev.usage
			continue
		}
		if !s.children && s.walk.index == nil {
			s.walk.index = indexByParent()
		}
		t, ok := s.walk.tree(root)
		if !ok {
			delete(s.prev, root)
			continue
		}
		r := reading{start: t.start, ticks: t.ticks, at: now}
		known = known && prev.start == t.start
		switch {
		case known && now.Sub(prev.at) < minInterval:
			r = prev
		case known:
			var used uint64
			if t.ticks > prev.ticks { // less when a child exited unreaped
				used = t.ticks - prev.ticks
			}
			r.cpu = percent(used, now.Sub(prev.at).Seconds())
		default:
			if uptime == 0 {
				uptime = bootSeconds()
			}
			r.cpu = percent(t.ticks, uptime-float64(t.start)/userHZ)
		}
		r.usage = Usage{Memory: t.rss * int64(pageSize), CPU: r.cpu, Pids: t.pids, At: now}
		s.prev[root] = r
		out[root] = r.usage
	}
	return out
}

// Retain forgets the readings of every root not in roots: the daemon's
// periodic sample passes the roots of every running app, so readings of
// processes that ended do not pile up.
func (s *Sampler) Retain(roots []int) {
	keep := make(map[int]struct{}, len(roots))
	for _, r := range roots {
		keep[r] = struct{}{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for root := range s.prev {
		if _, ok := keep[root]; !ok {
			delete(s.prev, root)
		}
	}
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
