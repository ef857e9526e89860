package cgroup

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// CPUs is the number of CPUs this process may use: those its affinity
// mask allows (runtime.NumCPU, which sees a cpuset), or fewer when a CPU
// quota of its cgroup, or of any cgroup above it, allows less (a
// container's --cpus, Kubernetes' CPU limit). A quota of 1.5 CPUs counts
// as 2: PM2's -i max then runs one instance per CPU the app can keep busy.
// Go's own GOMAXPROCS default reads the same quota, but GOMAXPROCS can be
// set by the user, so it is not used here.
func CPUs() int {
	n := runtime.NumCPU()
	if q, ok := quota(); ok {
		n = min(n, max(1, int(math.Ceil(q))))
	}
	return n
}

// quota returns the smallest CPU quota, in CPUs, on the way from this
// process's cgroups to their roots, in both hierarchies.
func quota() (float64, bool) {
	l, err := Detect()
	if err != nil {
		return 0, false
	}
	best, found := math.Inf(1), false
	take := func(q float64, ok bool) {
		if ok && q < best {
			best, found = q, true
		}
	}
	if l.Unified != "" {
		walkUp(l.Unified, func(dir string) bool {
			q, ok, present := quotaV2File(filepath.Join(dir, "cpu.max"))
			take(q, ok)
			return present
		})
	}
	if dir := l.V1[CPU]; dir != "" {
		walkUp(dir, func(dir string) bool {
			q, ok, present := quotaV1Files(dir)
			take(q, ok)
			return present
		})
	}
	return best, found
}

// walkUp calls f on dir and each parent until f says the files are gone
// (past the hierarchy's root) or the file system's root.
func walkUp(dir string, f func(string) bool) {
	for {
		if !f(dir) {
			return
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return
		}
		dir = parent
	}
}

// quotaV2File reads a cgroup v2 cpu.max ("max 100000" or "150000 100000").
func quotaV2File(path string) (q float64, ok, present bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false, false
	}
	q, ok = parseCPUMax(string(b))
	return q, ok, true
}

func parseCPUMax(s string) (float64, bool) {
	f := strings.Fields(s)
	if len(f) != 2 || f[0] == "max" {
		return 0, false
	}
	quota, err1 := strconv.ParseFloat(f[0], 64)
	period, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil || quota <= 0 || period <= 0 {
		return 0, false
	}
	return quota / period, true
}

// quotaV1Files reads a cgroup v1 cpu controller's cfs quota and period (a
// quota of -1 is none).
func quotaV1Files(dir string) (q float64, ok, present bool) {
	qb, err := os.ReadFile(filepath.Join(dir, "cpu.cfs_quota_us"))
	if err != nil {
		return 0, false, false
	}
	pb, err := os.ReadFile(filepath.Join(dir, "cpu.cfs_period_us"))
	if err != nil {
		return 0, false, true
	}
	q, ok = parseCPUMax(strings.TrimSpace(string(qb)) + " " + strings.TrimSpace(string(pb)))
	return q, ok, true
}
