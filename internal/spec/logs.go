package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/dayjs"
	"github.com/tendpm/tend/internal/rotation"
)

// resolveLogs checks and completes what an app says about its logs: PM2's
// `time` (which sets log_date_format, over one given with it, as PM2
// does), the date format, the log type, the rotation and the paths.
func (c *Resolver) resolveLogs(s *api.AppSpec) error {
	if s.Time {
		s.LogDateFormat = api.TimeLogDateFormat
	}
	if s.LogDateFormat != "" {
		if _, err := dayjs.Compile(s.LogDateFormat); err != nil {
			return fmt.Errorf("log_date_format: %v: %w", err, api.ErrInvalid)
		}
	}
	switch s.LogType {
	case "", api.LogTypeRaw, api.LogTypeJSON:
	default:
		return fmt.Errorf("log_type %q is unknown; use json (one JSON object per line) or raw: %w", s.LogType, api.ErrInvalid)
	}
	if err := rotation.Check(s.LogRotate); err != nil {
		return err
	}
	for _, f := range []struct{ attr, path string }{{"out_file", s.OutFile}, {"error_file", s.ErrorFile}, {"log_file", s.LogFile}} {
		if err := c.checkLogPath(f.path); err != nil {
			return fmt.Errorf("%s %q %v: %w", f.attr, f.path, err, api.ErrInvalid)
		}
	}
	return nil
}

// kernelDirs hold files that are not logs: writing an app's output to
// /proc/sysrq-trigger or a disk under /dev, as root, would be a disaster.
var kernelDirs = []string{"/proc", "/sys", "/dev"}

// checkLogPath refuses a log path that cannot be a log file: a directory,
// or a file of the kernel's (through a symlink too). Whether the daemon
// may write it shows when it opens it.
func (c *Resolver) checkLogPath(p string) error {
	if p == "" || p == CombinedLogDefault || api.LogDisabled(p) {
		return nil
	}
	if strings.HasSuffix(p, "/") || c.isDir(p) {
		return fmt.Errorf("is a directory; name a file in it, like %s", filepath.Join(p, "app.log"))
	}
	for _, q := range []string{p, realPath(p, 8)} {
		for _, d := range kernelDirs {
			if q == d || strings.HasPrefix(q, d+"/") {
				return fmt.Errorf("is under %s, which holds the kernel's files, not logs; name a file elsewhere (or NULL for none)", d)
			}
		}
	}
	return nil
}

// realPath is where p leads through symlinks, also when the last one
// points at nothing that exists (yet).
func realPath(p string, depth int) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	dir := filepath.Dir(p)
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		dir = r
	}
	target, err := os.Readlink(p)
	if err != nil || depth == 0 {
		return filepath.Join(dir, filepath.Base(p))
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(dir, target)
	}
	return realPath(target, depth-1)
}
