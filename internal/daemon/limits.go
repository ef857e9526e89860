package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/spec"
)

// cgroupName is the name of the daemon's cgroups: one per home, so
// daemons of different homes (users, tests) never share one.
func cgroupName(home string) string {
	sum := sha256.Sum256([]byte(home))
	return "tend-" + hex.EncodeToString(sum[:4])
}

// checkLimits refuses the limits of s this daemon cannot apply: those
// that need a cgroup it cannot make, and, for a daemon that is not root,
// rlimits above its own hard limits (only root may raise them).
func (d *Daemon) checkLimits(s *api.AppSpec) error {
	l := s.Limits
	if l == nil {
		return nil
	}
	if spec.NeedsCgroup(l) {
		if err := d.cgroups.Check(l.Memory > 0, l.CPU > 0, l.Tasks > 0); err != nil {
			return fmt.Errorf("app %q: %v: %w", s.Name, err, api.ErrInvalid)
		}
	}
	if os.Geteuid() == 0 {
		return nil
	}
	for _, c := range []struct {
		name string
		res  int
		v    int64
	}{{"nofile", unix.RLIMIT_NOFILE, l.NoFile}, {"nproc", unix.RLIMIT_NPROC, l.NProc}} {
		var cur unix.Rlimit
		if c.v == 0 || unix.Getrlimit(c.res, &cur) != nil {
			continue
		}
		if c.v < 0 && cur.Max != unix.RLIM_INFINITY || c.v > 0 && uint64(c.v) > cur.Max {
			return fmt.Errorf("app %q: limits.%s %d is above this daemon's hard limit %d, which only root can raise: %w", s.Name, c.name, c.v, cur.Max, api.ErrInvalid)
		}
	}
	return nil
}
