package spec

import (
	"fmt"

	"github.com/tendpm/tend/api"
)

// NeedsCgroup reports whether l sets a limit that needs a cgroup.
func NeedsCgroup(l *api.Limits) bool {
	return l != nil && (l.Memory > 0 || l.CPU > 0 || l.Tasks > 0)
}

// MinMemoryLimit is the smallest memory limit tend sets: below it no
// program starts, and a typo (256 for 256M) is the likelier story.
const MinMemoryLimit = 1 << 20

// checkLimits refuses limits no app could run under, or that mean
// nothing: what the config and the CLI check, again for API clients.
func checkLimits(l *api.Limits) error {
	if l == nil {
		return nil
	}
	for _, c := range []struct {
		name string
		v    int64
		min  int64
	}{
		{"nofile", l.NoFile, 0}, {"memory", l.Memory, 0}, {"cpu", l.CPU, 0}, {"tasks", l.Tasks, 0}, {"nproc", l.NProc, -1},
	} {
		if c.v < c.min {
			return fmt.Errorf("limits.%s is %d; give a positive number (or leave it out for no limit): %w", c.name, c.v, api.ErrInvalid)
		}
	}
	if l.Core != nil && *l.Core < -1 {
		return fmt.Errorf("limits.core is %d; give a size, 0 for no core files, or unlimited: %w", *l.Core, api.ErrInvalid)
	}
	if l.NoFile > 0 && l.NoFile < 3 {
		return fmt.Errorf("limits.nofile is %d; an app needs at least its 3 standard descriptors: %w", l.NoFile, api.ErrInvalid)
	}
	if l.Memory > 0 && l.Memory < MinMemoryLimit {
		return fmt.Errorf("limits.memory is %d bytes; give at least 1M (did you mean %dM?): %w", l.Memory, l.Memory, api.ErrInvalid)
	}
	return nil
}
