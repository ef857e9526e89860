package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/cgroup"
	"github.com/tendpm/tend/internal/sockets"
)

// MaxInstances bounds an app's instance count: a typo like -i 100000 must
// not fork the machine to death.
const MaxInstances = 1024

// ParseInstances turns PM2's -i value into a count: "max" or 0 is the
// number of CPUs, a negative n is CPUs+n, and the result is at least 1.
// The CPUs are those this process may use: in a container, its CPU limit
// (cgroup.CPUs), not the host's count (PM2 #4347).
func ParseInstances(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "max" || s == "" {
		return cgroup.CPUs(), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("instances %q is not a number; use a count like 4, 0 or max for one per CPU, or -1 for all CPUs but one: %w", s, api.ErrInvalid)
	}
	return InstancesFromInt(n), nil
}

// InstancesFromInt applies PM2's rules to a numeric instance count.
func InstancesFromInt(n int) int {
	cpus := cgroup.CPUs()
	switch {
	case n == 0:
		n = cpus
	case n < 0:
		n = cpus + n
	}
	return max(n, 1)
}

// ValidateName checks an app name: it becomes part of log and pid file
// names and is used as a selector, so it must not be empty, hold a path
// separator, "..", or a control character, or look like a pm_id or "all".
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("app name is empty; pass --name NAME: %w", api.ErrInvalid)
	case strings.TrimSpace(name) == "":
		return fmt.Errorf("app name %q is blank; pass --name NAME: %w", name, api.ErrInvalid)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("app name %q begins or ends with a space; choose a name without: %w", name, api.ErrInvalid)
	case strings.HasPrefix(name, "-"):
		return fmt.Errorf("app name %q begins with \"-\" and would be read as a flag; choose a name that begins with a letter: %w", name, api.ErrInvalid)
	case strings.ContainsAny(name, "/\\"):
		return fmt.Errorf("app name %q holds a path separator; choose a name without \"/\": %w", name, api.ErrInvalid)
	case strings.Contains(name, ".."):
		return fmt.Errorf("app name %q holds \"..\"; choose another name: %w", name, api.ErrInvalid)
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("app name %q holds a newline or control character; choose a printable name: %w", name, api.ErrInvalid)
	case len(name) > 200:
		return fmt.Errorf("app name is %d bytes long; the limit is 200: %w", len(name), api.ErrInvalid)
	case name == "all":
		return fmt.Errorf("app name \"all\" is reserved (it selects every app); choose another name: %w", api.ErrInvalid)
	}
	if _, err := strconv.Atoi(name); err == nil {
		return fmt.Errorf("app name %q is a number and would be mistaken for a pm_id; choose a name with a letter: %w", name, api.ErrInvalid)
	}
	return nil
}

// Resolve turns a spec as the user wrote it into the spec the daemon runs:
// an absolute cwd and script, an interpreter chosen and checked, a name,
// absolute log, pid and watch paths, listen addresses checked, and every
// default filled. s.Env is the environment the app will get (its PATH is
// used to find commands and interpreters, its HOME to expand "~/").
// Resolve is idempotent: the daemon calls it again on every spec it
// receives, through Prepare.
func Resolve(s *api.AppSpec) error {
	var r Resolver
	return r.Resolve(s)
}

// A Resolver resolves specs, remembering which directories exist and where
// programs are on PATH: the apps of one file of 1,000 apps mostly repeat
// them. The zero Resolver is ready to use; it is not safe for concurrent
// use.
type Resolver struct {
	dirs  map[string]bool
	progs map[[2]string]string // (file, PATH) -> absolute path, "" when missing
}

func (c *Resolver) isDir(p string) bool {
	if ok, seen := c.dirs[p]; seen {
		return ok
	}
	fi, err := os.Stat(p)
	ok := err == nil && fi.IsDir()
	if c.dirs == nil {
		c.dirs = map[string]bool{}
	}
	c.dirs[p] = ok
	return ok
}

// lookPath is LookPath, remembered.
func (c *Resolver) lookPath(file, path string) (string, bool) {
	key := [2]string{file, path}
	if found, seen := c.progs[key]; seen {
		return found, found != ""
	}
	found, err := LookPath(file, path)
	if err != nil {
		found = ""
	}
	if c.progs == nil {
		c.progs = map[[2]string]string{}
	}
	c.progs[key] = found
	return found, found != ""
}

// Resolve resolves s in place (see the package function Resolve).
func (c *Resolver) Resolve(s *api.AppSpec) error {
	_, err := c.resolve(s)
	return err
}

// resolve resolves s and returns its listen addresses, parsed.
func (c *Resolver) resolve(s *api.AppSpec) ([]sockets.Addr, error) {
	if s.Env == nil {
		s.Env = map[string]string{}
	}
	if s.Cwd == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("no working directory: %v", err)
		}
		s.Cwd = wd
	}
	if !filepath.IsAbs(s.Cwd) {
		abs, err := filepath.Abs(s.Cwd)
		if err != nil {
			return nil, fmt.Errorf("cwd %q: %v: %w", s.Cwd, err, api.ErrInvalid)
		}
		s.Cwd = abs
	}
	if !c.isDir(s.Cwd) {
		return nil, fmt.Errorf("cwd %q is not a directory; pass an existing --cwd: %w", s.Cwd, api.ErrInvalid)
	}
	if err := c.resolveScript(s); err != nil {
		return nil, err
	}
	if s.Name == "" {
		s.Name = DefaultName(s.Script)
	}
	if err := ValidateName(s.Name); err != nil {
		return nil, err
	}
	if s.Namespace == "" {
		s.Namespace = api.DefaultNamespace
	}
	if strings.ContainsAny(s.Namespace, "/\\\n\r\x00") {
		return nil, fmt.Errorf("namespace %q holds a path separator or newline: %w", s.Namespace, api.ErrInvalid)
	}
	if err := checkLimits(s.Limits); err != nil {
		return nil, fmt.Errorf("app %q: %w", s.Name, err)
	}
	if s.Umask != "" {
		m, err := ParseUmask(s.Umask)
		if err != nil {
			return nil, err
		}
		s.Umask = FormatUmask(m)
	}
	resolvePaths(s)
	if err := c.resolveLogs(s); err != nil {
		return nil, err
	}
	if strings.Contains(s.Interpreter, "python") {
		if _, ok := s.Env["PYTHONUNBUFFERED"]; !ok {
			s.Env["PYTHONUNBUFFERED"] = "1"
		}
	}
	return fillDefaults(s)
}

// FileName is an app name as it appears in log and pid file names: PM2
// replaces everything but ASCII letters, digits, dots and dashes with "-".
func FileName(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, name)
}

// CombinedLogDefault as log_file asks for the daemon's default combined
// log, <home>/logs/<name>.log (PM2's log_file: true, -l without a path).
const CombinedLogDefault = "true"

// resolvePaths makes log and pid paths absolute the way PM2 does: "~/" is
// the app's HOME, a relative path is relative to the app's cwd, and "NULL"
// (no file) stays as it is. Watch paths stay as written, as PM2 records
// them; they are relative to the app's cwd.
func resolvePaths(s *api.AppSpec) {
	abs := func(p string) string {
		switch {
		case p == "" || p == api.LogNull || p == CombinedLogDefault || filepath.IsAbs(p):
			return p
		case p == "~" || strings.HasPrefix(p, "~/"):
			if home := s.Env["HOME"]; home != "" {
				return filepath.Join(home, p[1:])
			}
		}
		return filepath.Join(s.Cwd, p)
	}
	s.OutFile = abs(s.OutFile)
	s.ErrorFile = abs(s.ErrorFile)
	s.LogFile = abs(s.LogFile)
	s.PidFile = abs(s.PidFile)
}

func fillDefaults(s *api.AppSpec) ([]sockets.Addr, error) {
	instancesGiven := s.Instances != 0
	if s.Instances < 0 {
		s.Instances = InstancesFromInt(s.Instances)
	}
	if s.Instances == 0 {
		s.Instances = 1
	}
	if s.Instances > MaxInstances {
		return nil, fmt.Errorf("instances %d is more than tend runs for one app (%d); use fewer: %w", s.Instances, MaxInstances, api.ErrInvalid)
	}
	if s.ExecMode == "" || s.ExecMode == "fork" || s.ExecMode == "cluster" {
		switch {
		case s.ExecMode == "cluster":
			s.ExecMode = api.ClusterMode
		case s.ExecMode == "fork":
			s.ExecMode = api.ForkMode
		case instancesGiven && IsNode(s.Interpreter):
			// PM2's rule: instances given (-i 1 too) and the interpreter is
			// node.
			s.ExecMode = api.ClusterMode
		default:
			s.ExecMode = api.ForkMode
		}
	}
	if s.ExecMode != api.ForkMode && s.ExecMode != api.ClusterMode {
		return nil, fmt.Errorf("exec_mode %q is unknown; use fork_mode or cluster_mode: %w", s.ExecMode, api.ErrInvalid)
	}
	if s.InstanceVar == "" {
		s.InstanceVar = api.DefaultInstanceVar
	}
	setBool(&s.Autorestart, true)
	setBool(&s.Autostart, true)
	setBool(&s.Treekill, true)
	setInt(&s.MaxRestarts, api.DefaultMaxRestarts)
	setInt(&s.MinUptime, api.DefaultMinUptime)
	setInt(&s.KillTimeout, api.DefaultKillTimeout)
	setInt(&s.ListenTimeout, api.DefaultListenTimeout)
	addrs := make([]sockets.Addr, 0, len(s.Listen))
	for _, l := range s.Listen {
		a, err := sockets.ParseAddr(l)
		if err != nil {
			return nil, fmt.Errorf("app %q: %w", s.Name, err)
		}
		addrs = append(addrs, a)
	}
	if s.KillSignal == "" {
		s.KillSignal = api.DefaultKillSignal
	}
	if _, err := ParseSignal(s.KillSignal); err != nil {
		return nil, err
	}
	s.KillSignal = canonicalSignal(s.KillSignal)
	for _, c := range []struct {
		name string
		v    int
	}{
		{"kill_timeout", *s.KillTimeout},
		{"min_uptime", *s.MinUptime},
		{"max_restarts", *s.MaxRestarts},
		{"listen_timeout", *s.ListenTimeout},
		{"restart_delay", s.RestartDelay},
		{"exp_backoff_restart_delay", s.ExpBackoffRestartDelay},
	} {
		if c.v < 0 {
			return nil, fmt.Errorf("%s is %d; it must be 0 or more: %w", c.name, c.v, api.ErrInvalid)
		}
	}
	if s.MaxMemoryRestart < 0 {
		return nil, fmt.Errorf("max_memory_restart is %d; it must be 0 or more: %w", s.MaxMemoryRestart, api.ErrInvalid)
	}
	if s.MergeLogs == nil && s.ExecMode == api.ForkMode && !instancesGiven {
		// PM2's rule (Common.verifyConfs), recorded as PM2 records it: an
		// app not in cluster mode and without instances merges its logs;
		// any other app writes one file per instance (a -<pm_id> suffix)
		// unless merge_logs says otherwise.
		setBool(&s.MergeLogs, true)
	}
	if s.InterpreterArgs == nil {
		s.InterpreterArgs = []string{} // PM2's jlist always has node_args
	}
	if err := checkRestarts(s); err != nil {
		return nil, err
	}
	if err := checkDepends(s); err != nil {
		return nil, err
	}
	return addrs, nil
}

func setBool(p **bool, v bool) {
	if *p == nil {
		*p = &v
	}
}

func setInt(p **int, v int) {
	if *p == nil {
		*p = &v
	}
}

// DefaultName is the name of an app started without one: the script's
// base name without its extension, or a whole command line (PM2's rule).
func DefaultName(script string) string {
	if strings.ContainsAny(script, " \t") {
		// A command line: PM2 names the app after the whole string.
		return strings.Join(strings.Fields(script), " ")
	}
	base := filepath.Base(script)
	if ext := filepath.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	return base
}
