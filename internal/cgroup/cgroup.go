// Package cgroup gives each app instance a control group of its own under
// the daemon's: so that stopping it leaves no descendant behind (a process
// that double-forks into its own session leaves the process group, never
// its cgroup), and so that memory, CPU and task limits hold for its whole
// process tree.
//
// Both cgroup versions are used as the system offers them. The unified
// (v2) hierarchy, where there is one, holds every instance: the fork puts
// the child there (clone3 with CLONE_INTO_CGROUP), and cgroup.kill ends
// everything in it at once. Limits use the v2 controllers where tend can
// enable them, else the v1 hierarchies of the memory, cpu and pids
// controllers; hybrid systems (v2 for membership, v1 controllers
// writable) are common. A process joins its v1 groups itself, before the
// app's exec (package isolate). Where tend can make no group (no root and
// no delegated subtree), Manager.Check refuses the limits that need one.
package cgroup

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Controllers tend uses for limits.
const (
	Memory = "memory"
	CPU    = "cpu"
	Pids   = "pids"
)

var limitControllers = []string{Memory, CPU, Pids}

// Layout is where this process sits in each mounted cgroup hierarchy.
type Layout struct {
	// Unified is the directory of this process's cgroup in the v2
	// hierarchy, "" when there is none.
	Unified string
	// V1 maps a v1 controller to the directory of this process's cgroup
	// in the hierarchy that has it.
	V1 map[string]string
}

// Detect reads the layout of the calling process from /proc/self.
func Detect() (Layout, error) {
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return Layout{}, err
	}
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return Layout{}, err
	}
	return parseLayout(string(mounts), string(own)), nil
}

// parseLayout joins the mount table and the process's memberships.
func parseLayout(mountinfo, cgroups string) Layout {
	type mount struct{ root, dir string }
	var v2 *mount
	v1 := map[string]mount{}
	for _, line := range strings.Split(mountinfo, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 {
			continue
		}
		m := mount{root: unescape(f[3]), dir: unescape(f[4])}
		switch g[0] {
		case "cgroup2":
			if v2 == nil {
				v2 = &m
			}
		case "cgroup":
			for _, opt := range strings.Split(g[2], ",") {
				if slices.Contains(limitControllers, opt) {
					if _, seen := v1[opt]; !seen {
						v1[opt] = m
					}
				}
			}
		}
	}
	l := Layout{V1: map[string]string{}}
	under := func(m mount, path string) string {
		rel, ok := strings.CutPrefix(path, m.root)
		if !ok {
			return "" // the process sits outside what is mounted here
		}
		return filepath.Join(m.dir, rel)
	}
	for _, line := range strings.Split(cgroups, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			if v2 != nil {
				l.Unified = under(*v2, parts[2])
			}
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if m, ok := v1[c]; ok {
				if dir := under(m, parts[2]); dir != "" {
					l.V1[c] = dir
				}
			}
		}
	}
	return l
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Manager is the daemon's cgroup: one directory per hierarchy, named after
// the daemon, holding a group per app instance.
type Manager struct {
	unified string            // tend's v2 directory, "" for none
	v2ctl   map[string]bool   // controllers the v2 groups have
	v1      map[string]string // controller -> tend's v1 directory
	why     string            // why there is no v2 group, for messages
}

// Open makes (or takes over) the daemon's groups, named name, under the
// process's own in every hierarchy it can write. It never fails: what it
// could not make, Check reports when a limit needs it.
func Open(name string) *Manager {
	m := &Manager{v2ctl: map[string]bool{}, v1: map[string]string{}}
	l, err := Detect()
	if err != nil {
		m.why = fmt.Sprintf("cannot read this process's cgroups: %v", err)
		return m
	}
	if l.Unified == "" {
		m.why = "this system has no cgroup v2 hierarchy"
	} else if dir, err := makeDir(filepath.Join(l.Unified, name)); err != nil {
		m.why = fmt.Sprintf("cannot make %s: %v (tend needs root, or a delegated cgroup subtree)", filepath.Join(l.Unified, name), err)
	} else {
		m.unified = dir
		m.enableV2(l.Unified)
	}
	for c, own := range l.V1 {
		if m.v2ctl[c] {
			continue
		}
		if dir, err := makeDir(filepath.Join(own, name)); err == nil {
			m.v1[c] = dir
		}
	}
	return m
}

func makeDir(dir string) (string, error) {
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return "", err
	}
	return dir, nil
}

// enableV2 enables the limit controllers for tend's groups where it can:
// in the parent's subtree (refused while the parent holds processes,
// unless it is the root) and in tend's own.
func (m *Manager) enableV2(parent string) {
	avail, _ := os.ReadFile(filepath.Join(parent, "cgroup.controllers"))
	for _, c := range limitControllers {
		if !slices.Contains(strings.Fields(string(avail)), c) {
			continue
		}
		_ = os.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), []byte("+"+c), 0)
		if os.WriteFile(filepath.Join(m.unified, "cgroup.subtree_control"), []byte("+"+c), 0) == nil {
			m.v2ctl[c] = true
		}
	}
}

// Check refuses limits the groups cannot hold, saying why.
func (m *Manager) Check(memory, cpu, tasks bool) error {
	if m == nil {
		m = &Manager{why: "this daemon makes no cgroups"}
	}
	for _, c := range []struct {
		need bool
		ctl  string
		name string
	}{{memory, Memory, "memory"}, {cpu, CPU, "cpu"}, {tasks, Pids, "tasks"}} {
		if !c.need || m.v2ctl[c.ctl] || m.v1[c.ctl] != "" {
			continue
		}
		why := m.why
		if why == "" {
			why = fmt.Sprintf("the %s controller is neither enabled for tend in cgroup v2 nor mounted writable as cgroup v1", c.ctl)
		}
		return fmt.Errorf("limits.%s needs a cgroup with the %s controller, and %s; leave the limit out, or run tend as root (or under systemd with Delegate=yes)", c.name, c.ctl, why)
	}
	return nil
}

// Close removes the daemon's groups; those of instances still running
// stay.
func (m *Manager) Close() {
	if m == nil {
		return
	}
	if m.unified != "" {
		_ = unix.Rmdir(m.unified)
	}
	for _, d := range m.v1 {
		_ = unix.Rmdir(d)
	}
}

// Group is the cgroup of one app instance, in each hierarchy.
type Group struct {
	m       *Manager
	name    string
	unified string            // "" when there is no v2 group
	v1      map[string]string // controller -> directory, made when a limit needs it
	fd      int               // the v2 directory, for clone3; -1 when none
}

// Group makes (or takes over) the group name of one instance: in v2 now,
// in v1 hierarchies when a limit needs them. nil when the daemon has no
// groups at all.
func (m *Manager) Group(name string) *Group {
	if m == nil || m.unified == "" && len(m.v1) == 0 {
		return nil
	}
	g := &Group{m: m, name: name, v1: map[string]string{}, fd: -1}
	if m.unified == "" {
		return g
	}
	dir, err := makeDir(filepath.Join(m.unified, name))
	if err != nil {
		return nil
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		_ = unix.Rmdir(dir)
		return nil
	}
	g.unified, g.fd = dir, fd
	return g
}

// FD is the group's v2 directory, to start a process in it (clone3); -1
// when there is none.
func (g *Group) FD() int { return g.fd }

// Limits are what SetLimits writes; zero is none.
type Limits struct {
	Memory int64 // bytes
	CPU    int64 // percent of one CPU
	Tasks  int64
}

// SetLimits writes l to the group (and lifts the limits l does not set),
// in v2 where tend has the controller, else in the controller's v1 group,
// made now. It returns the cgroup.procs files a process must join itself
// (the v1 groups).
func (g *Group) SetLimits(l Limits) (join []string, err error) {
	type file struct{ name, value string }
	const period = 100000 // µs, the kernel's default
	// Swap is part of the memory limit, as v1's memsw makes it: an app at
	// its limit is killed, not swapped out.
	swap := "max"
	if l.Memory > 0 {
		swap = "0"
	}
	v2 := map[string][]file{
		Memory: {{"memory.max", maxOr(l.Memory)}, {"memory.swap.max", swap}},
		CPU:    {{"cpu.max", quotaV2(l.CPU, period)}},
		Pids:   {{"pids.max", maxOr(l.Tasks)}},
	}
	v1 := map[string][]file{
		// memsw must stay at least memory: lift it, set memory, set it.
		Memory: {{"memory.memsw.limit_in_bytes", "-1"}, {"memory.limit_in_bytes", v1Size(l.Memory)}, {"memory.memsw.limit_in_bytes", v1Size(l.Memory)}},
		CPU:    {{"cpu.cfs_period_us", strconv.Itoa(period)}, {"cpu.cfs_quota_us", quotaV1(l.CPU, period)}},
		Pids:   {{"pids.max", maxOr(l.Tasks)}},
	}
	set := map[string]bool{Memory: l.Memory > 0, CPU: l.CPU > 0, Pids: l.Tasks > 0}
	for _, c := range limitControllers {
		switch {
		case g.m.v2ctl[c]:
			for _, f := range v2[c] {
				if err := writeFile(filepath.Join(g.unified, f.name), f.value); err != nil && !(f.name == "memory.swap.max" && errors.Is(err, os.ErrNotExist)) {
					return nil, err
				}
			}
		case g.m.v1[c] != "" && (set[c] || g.v1[c] != ""):
			dir := g.v1[c]
			if dir == "" {
				if dir, err = makeDir(filepath.Join(g.m.v1[c], g.name)); err != nil {
					return nil, fmt.Errorf("make the %s cgroup: %w", c, err)
				}
				g.v1[c] = dir
			}
			for _, f := range v1[c] {
				if err := writeFile(filepath.Join(dir, f.name), f.value); err != nil && !(strings.Contains(f.name, "memsw") && errors.Is(err, os.ErrNotExist)) {
					return nil, err
				}
			}
			if set[c] {
				join = append(join, filepath.Join(dir, "cgroup.procs"))
			}
		case set[c]:
			return nil, g.m.Check(c == Memory, c == CPU, c == Pids)
		}
	}
	return join, nil
}

func writeFile(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0); err != nil {
		return fmt.Errorf("set %s to %s: %w", path, value, err)
	}
	return nil
}

func maxOr(n int64) string {
	if n <= 0 {
		return "max"
	}
	return strconv.FormatInt(n, 10)
}

func v1Size(n int64) string {
	if n <= 0 {
		return "-1"
	}
	return strconv.FormatInt(n, 10)
}

func quotaV2(percent int64, period int) string {
	if percent <= 0 {
		return "max " + strconv.Itoa(period)
	}
	return strconv.FormatInt(percent*int64(period)/100, 10) + " " + strconv.Itoa(period)
}

func quotaV1(percent int64, period int) string {
	if percent <= 0 {
		return "-1"
	}
	return strconv.FormatInt(percent*int64(period)/100, 10)
}

// Pids lists the processes in the group (v2, else any v1 group).
func (g *Group) Pids() []int {
	dir := g.unified
	for _, d := range g.v1 {
		if dir == "" {
			dir = d
		}
	}
	if dir == "" {
		return nil
	}
	f, err := os.Open(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var pids []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if pid, err := strconv.Atoi(sc.Text()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Populated reports whether any process is in the group.
func (g *Group) Populated() bool {
	if g.unified != "" {
		if b, err := os.ReadFile(filepath.Join(g.unified, "cgroup.events")); err == nil {
			return strings.Contains(string(b), "populated 1")
		}
	}
	return len(g.Pids()) > 0
}

// Holds reports whether the group has somewhere to hold processes (a v2
// group, or a v1 group a limit made).
func (g *Group) Holds() bool { return g.unified != "" || len(g.v1) > 0 }

// Signal sends sig to every process in the group.
func (g *Group) Signal(sig syscall.Signal) {
	for _, pid := range g.Pids() {
		_ = unix.Kill(pid, sig)
	}
}

// Kill ends every process in the group at once (cgroup.kill, Linux 5.14),
// or with SIGKILL to each, again while new ones appear.
func (g *Group) Kill() {
	if g.unified != "" && writeFile(filepath.Join(g.unified, "cgroup.kill"), "1") == nil {
		return
	}
	for i := 0; i < 10; i++ {
		pids := g.Pids()
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		time.Sleep(time.Millisecond)
	}
}

// OOMKills is how many processes of the group the kernel killed for
// memory so far (memory.events in v2, memory.oom_control in v1).
func (g *Group) OOMKills() int {
	read := func(path, key string) int {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, key+" "); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(v))
				return n
			}
		}
		return 0
	}
	if g.m.v2ctl[Memory] {
		return read(filepath.Join(g.unified, "memory.events"), "oom_kill")
	}
	if d := g.v1[Memory]; d != "" {
		return read(filepath.Join(d, "memory.oom_control"), "oom_kill")
	}
	return 0
}

// Memory is the memory the group uses in bytes, when a memory controller
// counts it; ok is false otherwise.
func (g *Group) Memory() (n int64, ok bool) {
	path := ""
	switch {
	case g.m.v2ctl[Memory]:
		path = filepath.Join(g.unified, "memory.current")
	case g.v1[Memory] != "":
		path = filepath.Join(g.v1[Memory], "memory.usage_in_bytes")
	default:
		return 0, false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil
}

// Remove removes the group; it must be empty.
func (g *Group) Remove() {
	if g.fd >= 0 {
		unix.Close(g.fd)
		g.fd = -1
	}
	for _, d := range g.v1 {
		_ = unix.Rmdir(d)
	}
	if g.unified != "" {
		_ = unix.Rmdir(g.unified)
	}
}

// Name is the group's name, to take it over with Manager.Group (after
// tend update).
func (g *Group) Name() string { return g.name }
