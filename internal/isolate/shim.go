// Package isolate applies what the daemon asks of an app's process between
// the fork and the app's exec, beyond what the fork itself can set (the
// user, through SysProcAttr.Credential, and the v2 cgroup, through
// clone3): the umask, resource limits (rlimits), membership of cgroup v1
// controllers, and then, last, the drop to the app's user.
//
// These need code in the child, so the daemon starts the tend binary
// itself as a shim (tend __tend_isolate PLAN -- ARGV...), which applies
// the Plan and execs the app: same pid, same descriptors, same
// environment. An app that needs none of it is started directly (the shim
// costs an exec, about 2 ms).
package isolate

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/internal/sockets"
)

// ShimArg is argv[1] of the tend binary when it runs as this shim.
const ShimArg = "__tend_isolate"

// Plan is what the shim applies, in this order: Umask, Rlimits, Cgroups,
// then Cred.
type Plan struct {
	// Umask is the app's umask; -1 keeps the one inherited.
	Umask int `json:"umask"`
	// Rlimits are set as given (soft and hard).
	Rlimits []Rlimit `json:"rlimits,omitempty"`
	// Cgroups are cgroup.procs files the process joins: the app's cgroup
	// in each cgroup v1 hierarchy with a controller it needs.
	Cgroups []string `json:"cgroups,omitempty"`
	// Cred, when set, is the user the app runs as; the shim, started as
	// root, drops to it after everything else.
	Cred *Cred `json:"cred,omitempty"`
}

// Rlimit is one resource limit (unix.RLIMIT_NOFILE, ...).
type Rlimit struct {
	Resource int    `json:"resource"`
	Cur      uint64 `json:"cur"`
	Max      uint64 `json:"max"`
}

// Cred is a user and its groups.
type Cred struct {
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups,omitempty"`
}

// Argv is the argv that runs appArgv through the shim in self (the tend
// binary) with plan. An appArgv that is already the sockets shim's (for
// LISTEN_PID) is unwrapped: this shim does that part too.
func (p Plan) Argv(self string, appArgv []string) []string {
	if len(appArgv) > 1 && appArgv[0] == self && appArgv[1] == sockets.ShimArg {
		appArgv = appArgv[2:]
	}
	b, _ := json.Marshal(p)
	return append([]string{self, ShimArg, string(b), "--"}, appArgv...)
}

// RunShim applies the plan in args (what follows ShimArg) and becomes the
// app. It never returns: a step that fails prints why on stderr (the app's
// error log) and exits 126, and the restart policy takes it from there.
func RunShim(args []string) {
	if len(args) < 3 || args[1] != "--" {
		fail("usage: tend %s PLAN -- PROGRAM [ARGS...]", ShimArg)
	}
	var p Plan
	if err := json.Unmarshal([]byte(args[0]), &p); err != nil {
		fail("bad plan: %v", err)
	}
	if err := p.apply(); err != nil {
		fail("%v", err)
	}
	sockets.RunShim(args[2:])
}

func (p *Plan) apply() error {
	if p.Umask >= 0 {
		unix.Umask(p.Umask)
	}
	for _, r := range p.Rlimits {
		if err := unix.Setrlimit(r.Resource, &unix.Rlimit{Cur: r.Cur, Max: r.Max}); err != nil {
			return fmt.Errorf("set limit %s to %d: %v", rlimitName(r.Resource), r.Cur, err)
		}
	}
	pid := []byte(strconv.Itoa(os.Getpid()))
	for _, procs := range p.Cgroups {
		if err := os.WriteFile(procs, pid, 0); err != nil {
			return fmt.Errorf("join cgroup %s: %v", procs, err)
		}
	}
	if p.Cred == nil {
		return nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("no working directory: %v", err)
	}
	groups := make([]int, len(p.Cred.Groups))
	for i, g := range p.Cred.Groups {
		groups[i] = int(g)
	}
	// The syscall package's calls change every thread of the process.
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("set groups %v: %v", groups, err)
	}
	if err := syscall.Setgid(int(p.Cred.GID)); err != nil {
		return fmt.Errorf("set gid %d: %v", p.Cred.GID, err)
	}
	if err := syscall.Setuid(int(p.Cred.UID)); err != nil {
		return fmt.Errorf("set uid %d: %v", p.Cred.UID, err)
	}
	// The working directory was entered as root; the app must be able to
	// enter it as itself.
	if err := os.Chdir(wd); err != nil {
		return fmt.Errorf("enter the working directory as uid %d: %v", p.Cred.UID, err)
	}
	return nil
}

func rlimitName(r int) string {
	switch r {
	case unix.RLIMIT_NOFILE:
		return "nofile"
	case unix.RLIMIT_NPROC:
		return "nproc"
	case unix.RLIMIT_CORE:
		return "core"
	}
	return strconv.Itoa(r)
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "tend: cannot start the app: "+format+"\n", a...)
	os.Exit(126)
}
