package supervise

import (
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/cgroup"
	"github.com/tendpm/tend/internal/isolate"
	"github.com/tendpm/tend/internal/spec"
)

// isolation keeps run r apart as its spec asks. It fills sys (the user,
// through Credential; the run's cgroup, through clone3) and returns the
// program and argv to start: the isolate shim's around the app's when
// something must be done in the child before the app's exec (a umask other
// than the daemon's, rlimits, joining cgroup v1 groups).
func (p *Proc) isolation(r *run, cfg *cfgInfo, sys *syscall.SysProcAttr, argv0 string, argv []string) (string, []string, error) {
	app := &cfg.App
	s := &app.Spec
	plan := isolate.Plan{Umask: -1}
	if s.Umask != "" {
		m, err := spec.ParseUmask(s.Umask)
		if err != nil {
			return "", nil, err
		}
		if m != spec.ProcessUmask() {
			plan.Umask = m
		}
	}
	if l := s.Limits; l != nil {
		plan.Rlimits = rlimits(l)
	}
	if g := p.o.Cgroups.Group(fmt.Sprintf("%s-%d-%d", spec.FileName(s.Name), p.o.PMID, p.st.spawns)); g != nil {
		r.cg = g
		var l cgroup.Limits
		if s.Limits != nil {
			l = cgroup.Limits{Memory: s.Limits.Memory, CPU: s.Limits.CPU, Tasks: s.Limits.Tasks}
		}
		join, err := g.SetLimits(l)
		if err != nil {
			return "", nil, fmt.Errorf("cgroup: %v", err)
		}
		plan.Cgroups = join
		if fd := g.FD(); fd >= 0 {
			sys.UseCgroupFD, sys.CgroupFD = true, fd
		}
		if l.Memory > 0 {
			r.oomBase = g.OOMKills()
		}
	} else if spec.NeedsCgroup(s.Limits) {
		return "", nil, fmt.Errorf("limits.memory, limits.cpu and limits.tasks need a cgroup, and this daemon has none")
	}
	var cred *isolate.Cred
	if u := app.User; u != nil {
		cred = &isolate.Cred{UID: u.UID, GID: u.GID, Groups: u.Groups}
	}
	if plan.Umask < 0 && len(plan.Rlimits) == 0 && len(plan.Cgroups) == 0 {
		if cred != nil {
			sys.Credential = &syscall.Credential{Uid: cred.UID, Gid: cred.GID, Groups: cred.Groups}
		}
		return argv0, argv, nil
	}
	if p.o.Self == "" {
		return "", nil, fmt.Errorf("no tend binary to start the app through (for its umask, limits or cgroups)")
	}
	// The shim starts as the daemon's user (root may raise limits and join
	// groups) and drops to the app's last.
	plan.Cred = cred
	return p.o.Self, plan.Argv(p.o.Self, argv), nil
}

// rlimits are the rlimits l sets, soft and hard alike (systemd's
// LimitNOFILE=N).
func rlimits(l *api.Limits) []isolate.Rlimit {
	var out []isolate.Rlimit
	add := func(res int, v int64) {
		n := uint64(v)
		if v < 0 {
			n = unix.RLIM_INFINITY
		}
		out = append(out, isolate.Rlimit{Resource: res, Cur: n, Max: n})
	}
	if l.NoFile > 0 {
		add(unix.RLIMIT_NOFILE, l.NoFile)
	}
	if l.NProc != 0 {
		add(unix.RLIMIT_NPROC, l.NProc)
	}
	if l.Core != nil {
		add(unix.RLIMIT_CORE, *l.Core)
	}
	return out
}

// exitReason says why r ended when its cgroup knows more than its exit
// status: the kernel killed something of it at its memory limit.
func (r *run) exitReason() string {
	l := r.cfg.App.Spec.Limits
	if r.cg == nil || l == nil || l.Memory <= 0 || r.cg.OOMKills() <= r.oomBase {
		return ""
	}
	return "out of memory: the kernel killed it at its memory limit (" + humanSize(l.Memory) + ")"
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// chownForApp makes path (a socket the daemon made for the run) the
// app's alone: mode 0600 whatever the daemon's umask, so no other app can
// claim readiness for it, and owned by the app's user, who must connect.
func chownForApp(app *spec.App, path string) error {
	if err := os.Chmod(path, 0o600); err != nil {
		return err
	}
	if app.User == nil || os.Geteuid() != 0 {
		return nil
	}
	return os.Lchown(path, int(app.User.UID), int(app.User.GID))
}
