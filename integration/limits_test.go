package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// needCgroups skips a test that needs the daemon to make cgroups (root
// and a cgroup hierarchy), except in CI, where it must run.
func needCgroups(t *testing.T) {
	t.Helper()
	why := ""
	switch {
	case os.Geteuid() != 0:
		why = "needs root to make cgroups"
	default:
		if _, err := os.Stat("/sys/fs/cgroup"); err != nil {
			why = "needs /sys/fs/cgroup"
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal(why + " (CI runs these tests as root)")
	}
	t.Skip(why)
}

// TestMemoryLimitKillsAndRestarts: an app that outgrows limits.memory is
// killed by the kernel and restarted by the restart policy; describe,
// jlist and tend.log say it ran out of memory.
func TestMemoryLimitKillsAndRestarts(t *testing.T) {
	t.Parallel()
	needCgroups(t)
	h := newHarness(t)
	hog := filepath.Join(h.dir, "hog.py")
	must(t, os.WriteFile(hog, []byte(`import time
print("start", flush=True)
held = []
for i in range(100):
    held.append(bytearray(8 << 20))
    time.sleep(0.005)
print("survived", flush=True)
time.sleep(100)
`), 0o644))
	h.ok("start", hog, "--name", "hog", "--limit", "memory=48M", "--restart-delay", "200")
	var p api.Process
	h.waitFor("hog to be killed and restarted", 20*time.Second, func() bool {
		p = h.proc("hog")
		return p.Env.RestartTime >= 1 && p.Env.ExitReason != ""
	})
	if !strings.Contains(p.Env.ExitReason, "out of memory") || !strings.Contains(p.Env.ExitReason, "48 MiB") || p.Env.ExitSignal != "SIGKILL" {
		t.Errorf("exit: signal %q, reason %q", p.Env.ExitSignal, p.Env.ExitReason)
	}
	if out := h.ok("describe", "hog"); !strings.Contains(out, "killed by SIGKILL (out of memory") {
		t.Errorf("describe does not say why:\n%s", out)
	}
	if log, _ := os.ReadFile(filepath.Join(h.home, api.LogFile)); !strings.Contains(string(log), "out of memory") {
		t.Errorf("tend.log does not say why:\n%s", log)
	}
	if strings.Contains(h.readLog("hog", "out"), "survived") {
		t.Error("the app outgrew its limit and survived")
	}
}

// TestDoubleForkLeavesNothing: descendants that leave the app's process
// group and session (a double fork, setsid) are in its cgroup, and
// delete leaves none of them, nor do crashes leave them running.
func TestDoubleForkLeavesNothing(t *testing.T) {
	t.Parallel()
	needCgroups(t)
	h := newHarness(t)
	script := h.writeScript("dfork.sh", `setsid sh -c 'sleep 1000 & exec sleep 1001' </dev/null >/dev/null 2>&1 &
echo forked
exec sleep 1002
`)
	h.ok("start", script, "--name", "dfork")
	h.waitLog("dfork", "forked", 10*time.Second)
	var pids []int
	h.waitFor("the double-forked processes", 10*time.Second, func() bool {
		pids = processesWithEnv("TEND_HOME=" + h.home)
		return len(pids) >= 5 // keeper, daemon, app, the setsid shell's two sleeps
	})
	h.ok("delete", "dfork")
	for _, pid := range pids {
		if pid != h.daemonPid() && pid != h.keeperPid() && alive(pid) {
			t.Errorf("after delete, %s is alive", describePid(pid))
		}
	}
}

// TestRlimits: nofile, nproc and core are set in the app, soft and hard.
func TestRlimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	script := h.writeScript("ulimit.sh", `echo "nofile=$(ulimit -n) nofile_hard=$(ulimit -Hn) core=$(ulimit -c) nproc=$(ulimit -u)"
exec sleep 1000
`)
	h.ok("start", script, "--name", "lim", "--limit", "nofile=777", "--limit", "core=0", "--limit", "nproc=4000")
	h.waitLog("lim", "nofile=777 nofile_hard=777 core=0 nproc=4000", 10*time.Second)
}

// TestCgroupLimitsAreSet: cpu and tasks land in the app's cgroup (v2, or
// the v1 controller's hierarchy), where the kernel holds the whole tree to
// them.
func TestCgroupLimitsAreSet(t *testing.T) {
	t.Parallel()
	needCgroups(t)
	h := newHarness(t)
	script := h.writeScript("capped.sh", `echo "started"
exec sleep 1000
`)
	h.ok("start", script, "--name", "capped", "--limit", "tasks=4", "--limit", "cpu=50%")
	h.waitLog("capped", "started", 10*time.Second)
	pid := h.proc("capped").PID
	got := cgroupFiles(t, pid, map[string]string{"pids.max": "pids", "cpu.max": "", "cpu.cfs_quota_us": "cpu"})
	if got["pids.max"] != "4" {
		t.Errorf("pids.max = %q, want 4", got["pids.max"])
	}
	if got["cpu.max"] != "50000 100000" && got["cpu.cfs_quota_us"] != "50000" {
		t.Errorf("cpu quota: cpu.max %q, cpu.cfs_quota_us %q; want half a CPU", got["cpu.max"], got["cpu.cfs_quota_us"])
	}
}

// cgroupFiles reads files from pid's cgroups: names mapped to "" are read
// from its v2 group, others from its group in that v1 controller's
// hierarchy. Missing files read as "".
func cgroupFiles(t *testing.T, pid int, names map[string]string) map[string]string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" {
			for _, root := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
				if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
					dirs[""] = filepath.Join(root, parts[2])
					break
				}
			}
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			dirs[c] = filepath.Join("/sys/fs/cgroup", c, parts[2])
		}
	}
	out := map[string]string{}
	for name, ctl := range names {
		if b, err := os.ReadFile(filepath.Join(dirs[ctl], name)); err == nil {
			out[name] = strings.TrimSpace(string(b))
		}
	}
	return out
}

// TestBadLimits: limits no app could run under, or that mean nothing,
// are refused with one clear error each.
func TestBadLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for limit, want := range map[string]string{
		"memory=0":   "memory: 0 would leave the app no room",
		"memory=-1":  `memory: size "-1" is not a size`,
		"memory=1Q":  `size "1Q" has an unknown unit`,
		"memory=100": "less than 1M",
		"nofile=0":   "nofile: 0 is not a count of 1 or more",
		"nofile=-1":  "nofile: -1 is not a count",
		"cpu=0":      "cpu: 0% is not a CPU share",
		"cpu=1Q":     `"1Q" is not a percentage`,
		"tasks=-1":   "tasks: -1 is not a count",
		"bogus=1":    `"bogus=1" is not a limit`,
		"nproc=1.5":  "nproc: 1.5 is not a count",
	} {
		h.fail(want, "start", app("sleeper.sh"), "--name", "x", "--limit", limit)
	}
	if n := len(h.jlist()); n != 0 {
		t.Fatalf("%d apps started", n)
	}
}

// TestMemoryFromTheCgroup: an app with a memory limit shows the memory its
// cgroup counts, descendants that left its process group included.
func TestMemoryFromTheCgroup(t *testing.T) {
	t.Parallel()
	needCgroups(t)
	h := newHarness(t)
	// A double fork: the python process's parent exits, so it leaves the
	// app's process tree (the daemon, a subreaper, inherits it).
	script := h.writeScript("escapee.sh", `setsid sh -c 'python3 -c "import time; x = bytearray(40 << 20); print(\"held\", flush=True); time.sleep(1000)" &'
exec sleep 1000
`)
	h.ok("start", script, "--name", "escapee", "--limit", "memory=256M")
	h.waitLog("escapee", "held", 10*time.Second)
	h.waitFor("the escaped child's memory in monit", 10*time.Second, func() bool {
		return h.proc("escapee").Monit.Memory >= 40<<20
	})
}
