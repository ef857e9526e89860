package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/sockets"
)

// interpreters maps a script's extension to the program that runs it, as
// PM2 does (lib/API/interpreter.json).
var interpreters = map[string]string{
	".js":  "node",
	".mjs": "node",
	".cjs": "node",
	".py":  "python3",
	".sh":  "bash",
	".rb":  "ruby",
	".php": "php",
	".pl":  "perl",
}

// MaxInstances bounds an app's instance count: a typo like -i 100000 must
// not fork the machine to death.
const MaxInstances = 1024

// ParseInstances turns PM2's -i value into a count: "max" or 0 is the
// number of CPUs, a negative n is CPUs+n, and the result is at least 1.
func ParseInstances(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "max" || s == "" {
		return runtime.NumCPU(), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("instances %q is not a number; use a count like 4, 0 or max for one per CPU, or -1 for all CPUs but one: %w", s, api.ErrInvalid)
	}
	return InstancesFromInt(n), nil
}

// InstancesFromInt applies PM2's rules to a numeric instance count.
func InstancesFromInt(n int) int {
	cpus := runtime.NumCPU()
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
// absolute log, pid and watch paths, and every default filled. s.Env is the
// environment the app will get (its PATH is used to find commands and
// interpreters, its HOME to expand "~/"). Resolve is idempotent: the daemon
// calls it again on every spec it receives.
func Resolve(s *api.AppSpec) error {
	return resolve(s, nil)
}

// resolveCache remembers, for the apps of one file, which directories
// exist and which interpreters are on PATH: a file of 1,000 apps mostly
// repeats them.
type resolveCache struct {
	dirs   map[string]bool
	interp map[[2]string]bool
}

func newResolveCache() *resolveCache {
	return &resolveCache{dirs: map[string]bool{}, interp: map[[2]string]bool{}}
}

func (c *resolveCache) isDir(p string) bool {
	if c != nil {
		if ok, seen := c.dirs[p]; seen {
			return ok
		}
	}
	fi, err := os.Stat(p)
	ok := err == nil && fi.IsDir()
	if c != nil {
		c.dirs[p] = ok
	}
	return ok
}

func (c *resolveCache) onPath(file, path string) bool {
	key := [2]string{file, path}
	if c != nil {
		if ok, seen := c.interp[key]; seen {
			return ok
		}
	}
	_, err := LookPath(file, path)
	if c != nil {
		c.interp[key] = err == nil
	}
	return err == nil
}

func resolve(s *api.AppSpec, c *resolveCache) error {
	if s.Env == nil {
		s.Env = map[string]string{}
	}
	if s.Cwd == "" {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("no working directory: %v", err)
		}
		s.Cwd = wd
	}
	if !filepath.IsAbs(s.Cwd) {
		abs, err := filepath.Abs(s.Cwd)
		if err != nil {
			return fmt.Errorf("cwd %q: %v: %w", s.Cwd, err, api.ErrInvalid)
		}
		s.Cwd = abs
	}
	if !c.isDir(s.Cwd) {
		return fmt.Errorf("cwd %q is not a directory; pass an existing --cwd: %w", s.Cwd, api.ErrInvalid)
	}
	if err := resolveScript(s, c); err != nil {
		return err
	}
	if s.Name == "" {
		s.Name = defaultName(s.Script)
	}
	if err := ValidateName(s.Name); err != nil {
		return err
	}
	if s.Namespace == "" {
		s.Namespace = api.DefaultNamespace
	}
	if strings.ContainsAny(s.Namespace, "/\\\n\r\x00") {
		return fmt.Errorf("namespace %q holds a path separator or newline: %w", s.Namespace, api.ErrInvalid)
	}
	resolvePaths(s)
	if strings.Contains(s.Interpreter, "python") {
		if _, ok := s.Env["PYTHONUNBUFFERED"]; !ok {
			s.Env["PYTHONUNBUFFERED"] = "1"
		}
	}
	return fillDefaults(s)
}

// resolvePaths makes log, pid and watch paths absolute the way PM2 does:
// "~/" is the app's HOME, a relative path is relative to the app's cwd, and
// "NULL" or "/dev/null" (no file) stays as it is.
// IsNode reports whether an interpreter is Node.js (node, nodejs, or nvm's
// node@VERSION).
func IsNode(interpreter string) bool {
	base := filepath.Base(interpreter)
	return base == "node" || base == "nodejs" || strings.HasPrefix(base, "node@")
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

func resolvePaths(s *api.AppSpec) {
	abs := func(p string) string {
		switch {
		case p == "" || p == "NULL" || p == CombinedLogDefault || filepath.IsAbs(p):
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
	for i, w := range s.Watch {
		s.Watch[i] = abs(w)
	}
}

func fillDefaults(s *api.AppSpec) error {
	instancesGiven := s.Instances != 0
	if s.Instances < 0 {
		s.Instances = InstancesFromInt(s.Instances)
	}
	if s.Instances == 0 {
		s.Instances = 1
	}
	if s.Instances > MaxInstances {
		return fmt.Errorf("instances %d is more than tend runs for one app (%d); use fewer: %w", s.Instances, MaxInstances, api.ErrInvalid)
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
		return fmt.Errorf("exec_mode %q is unknown; use fork_mode or cluster_mode: %w", s.ExecMode, api.ErrInvalid)
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
	for _, l := range s.Listen {
		if _, err := sockets.ParseAddr(l); err != nil {
			return fmt.Errorf("app %q: %w", s.Name, err)
		}
	}
	if s.KillSignal == "" {
		s.KillSignal = api.DefaultKillSignal
	}
	if _, err := ParseSignal(s.KillSignal); err != nil {
		return err
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
			return fmt.Errorf("%s is %d; it must be 0 or more: %w", c.name, c.v, api.ErrInvalid)
		}
	}
	if s.MaxMemoryRestart < 0 {
		return fmt.Errorf("max_memory_restart is %d; it must be 0 or more: %w", s.MaxMemoryRestart, api.ErrInvalid)
	}
	if s.MergeLogs == nil {
		// PM2: one file per instance (a -<pm_id> suffix) unless the app is a
		// single fork-mode instance.
		setBool(&s.MergeLogs, s.Instances == 1 && s.ExecMode == api.ForkMode)
	}
	return nil
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

func defaultName(script string) string {
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

// resolveScript finds what Script names: a file (relative to Cwd), a
// command on PATH, or a command line run with bash -c.
func resolveScript(s *api.AppSpec, c *resolveCache) error {
	if strings.TrimSpace(s.Script) == "" {
		return fmt.Errorf("no script given; pass a file or a command, e.g. tend start app.js: %w", api.ErrInvalid)
	}
	if strings.ContainsRune(s.Script, 0) {
		return fmt.Errorf("script holds a NUL byte: %w", api.ErrInvalid)
	}
	path := s.Script
	if strings.HasPrefix(path, "~/") {
		if home := s.Env["HOME"]; home != "" {
			path = filepath.Join(home, path[2:])
		}
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(s.Cwd, path)
	}
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("script %q is a directory; name the file to run: %w", s.Script, api.ErrInvalid)
	case err == nil:
		s.Script = path
		return resolveInterpreter(s, c)
	}
	if s.Interpreter == "bash" && slices.Equal(s.InterpreterArgs, []string{"-c"}) {
		return lookInterpreter(s, c) // already resolved as a command line
	}
	if strings.ContainsAny(s.Script, " \t") {
		// A command line: run it with bash -c, as PM2 does.
		s.Interpreter = "bash"
		s.InterpreterArgs = []string{"-c"}
		return lookInterpreter(s, c)
	}
	if !strings.Contains(s.Script, "/") {
		if found, err := LookPath(s.Script, s.Env["PATH"]); err == nil {
			s.Script = found
			if s.Interpreter == "" {
				s.Interpreter = "none"
			}
			return resolveInterpreter(s, c)
		}
	}
	return fmt.Errorf("script %q not found (looked in %s and on PATH); check the path: %w", s.Script, s.Cwd, api.ErrInvalid)
}

func resolveInterpreter(s *api.AppSpec, c *resolveCache) error {
	if s.Interpreter == "" {
		s.Interpreter = detectInterpreter(s.Script)
	}
	return lookInterpreter(s, c)
}

func lookInterpreter(s *api.AppSpec, c *resolveCache) error {
	if s.Interpreter == "none" {
		return nil
	}
	if !c.onPath(s.Interpreter, s.Env["PATH"]) {
		return fmt.Errorf("interpreter %q for %q is not installed (not found on PATH); install it or pass --interpreter: %w", s.Interpreter, s.Script, api.ErrInvalid)
	}
	return nil
}

// detectInterpreter picks the interpreter of a file: by extension first,
// then a file with a shebang or a binary runs itself ("none"), and anything
// else runs under node (PM2's fallback).
func detectInterpreter(path string) string {
	if in, ok := interpreters[strings.ToLower(filepath.Ext(path))]; ok {
		return in
	}
	head := make([]byte, 512)
	f, err := os.Open(path)
	if err != nil {
		return "none"
	}
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("#!")):
		return shebangInterpreter(path, head)
	case isBinary(head):
		return "none"
	}
	return "node"
}

// shebangInterpreter runs an executable file with a shebang directly; a
// file without the execute bit would fail with EACCES, so it runs under the
// shebang's program instead.
func shebangInterpreter(path string, head []byte) string {
	if fi, err := os.Stat(path); err == nil && fi.Mode()&0o111 != 0 {
		return "none"
	}
	line, _, _ := bytes.Cut(head[2:], []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) == 0 {
		return "none"
	}
	if filepath.Base(fields[0]) == "env" && len(fields) > 1 {
		return fields[1]
	}
	return fields[0]
}

func isBinary(head []byte) bool {
	return bytes.HasPrefix(head, []byte("\x7fELF")) || bytes.IndexByte(head, 0) >= 0
}

// LookPath finds a program like exec.LookPath does, but on the given PATH
// (the app's, not the daemon's). A name with a slash is checked as is.
func LookPath(file, path string) (string, error) {
	if strings.Contains(file, "/") {
		if isExecutable(file) {
			return file, nil
		}
		return "", errors.New("not executable")
	}
	if path == "" {
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if isExecutable(p) {
			if !filepath.IsAbs(p) {
				if abs, err := filepath.Abs(p); err == nil {
					p = abs
				}
			}
			return p, nil
		}
	}
	return "", errors.New("not found")
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Argv is the command line that runs a resolved spec.
func Argv(s *api.AppSpec) []string {
	if s.Interpreter == "none" || s.Interpreter == "" {
		return append([]string{s.Script}, s.Args...)
	}
	argv := make([]string, 0, 2+len(s.InterpreterArgs)+len(s.Args))
	argv = append(argv, s.Interpreter)
	argv = append(argv, s.InterpreterArgs...)
	argv = append(argv, s.Script)
	return append(argv, s.Args...)
}
