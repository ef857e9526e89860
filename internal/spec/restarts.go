package spec

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/tendpm/tend/api"
)

// WatchRoots are the absolute paths an app watches: its watch paths,
// relative to its cwd unless absolute, or its cwd.
func WatchRoots(s *api.AppSpec) []string {
	if len(s.Watch.Paths) == 0 {
		return []string{s.Cwd}
	}
	roots := make([]string, len(s.Watch.Paths))
	for i, p := range s.Watch.Paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(s.Cwd, p)
		}
		roots[i] = filepath.Clean(p)
	}
	return roots
}

// checkRestarts checks what restarts an app besides a crash: watch,
// cron_restart, health; and fills the health check's defaults.
func checkRestarts(s *api.AppSpec) error {
	if s.Watch.Enabled {
		for _, root := range WatchRoots(s) {
			if _, err := os.Stat(root); err != nil {
				return fmt.Errorf("watch path %s does not exist; create it, or fix watch: %w", root, api.ErrInvalid)
			}
		}
	}
	for _, p := range s.IgnoreWatch {
		for _, part := range strings.Split(strings.TrimSpace(p), "/") {
			if _, err := path.Match(part, ""); err != nil {
				return fmt.Errorf("ignore_watch %q is not a valid pattern (%v); write a glob such as \"*.log\" or \"logs/**\": %w", p, err, api.ErrInvalid)
			}
		}
	}
	if s.WatchDelay < 0 {
		return fmt.Errorf("watch_delay is %d; it must be 0 or more: %w", s.WatchDelay, api.ErrInvalid)
	}
	if s.CronRestart != "" {
		if _, err := ParseCron(s.CronRestart); err != nil {
			return err
		}
	}
	return checkHealth(s)
}

// checkHealth checks a health check and fills its defaults.
func checkHealth(s *api.AppSpec) error {
	h := s.Health
	if h == nil {
		return nil
	}
	probes := 0
	for _, p := range []string{h.HTTP, h.TCP, h.Exec} {
		if p != "" {
			probes++
		}
	}
	if probes != 1 {
		return fmt.Errorf("health needs one probe of http, tcp or exec, and has %d: %w", probes, api.ErrInvalid)
	}
	if h.HTTP != "" && !strings.HasPrefix(h.HTTP, "http://") && !strings.HasPrefix(h.HTTP, "https://") {
		return fmt.Errorf("health http %q is not an http:// or https:// URL: %w", h.HTTP, api.ErrInvalid)
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"interval", h.Interval}, {"timeout", h.Timeout}, {"failures", h.Failures}, {"start_period", h.StartPeriod}} {
		if c.v < 0 {
			return fmt.Errorf("health %s is %d; it must be 0 or more: %w", c.name, c.v, api.ErrInvalid)
		}
	}
	c := *h
	if c.Interval == 0 {
		c.Interval = api.DefaultHealthInterval
	}
	if c.Timeout == 0 {
		c.Timeout = min(api.DefaultHealthTimeout, c.Interval)
	}
	if c.Failures == 0 {
		c.Failures = api.DefaultHealthFailures
	}
	s.Health = &c
	return nil
}
